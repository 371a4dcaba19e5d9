//! Cube channel grids given in frequency or velocity (rather than data channels): linear in
//! frequency or velocity, or equally spaced in optical velocity.

use super::optical_axis::{optical_channels, OpticalRequest};
use super::spectral::{FrameContext, FrameConversion, SpectralPlan, SpwSelection};
use crate::error::EngineError;
use pclean_core::frames::{FreqFrame, Observatory};
use pclean_core::params::{ImagingParams, SpectralValue, VelType};
use std::collections::BTreeMap;

/// A cube whose `start`/`width` are frequencies or velocities (in the output frame): channel `k`
/// is at `start + k width`; visibilities are interpolated onto it (`interpolation`), row by row,
/// through the frame conversion (an identity one when no frame change is asked for).
pub(super) fn defined_grid(
    params: &ImagingParams,
    first: &SpwSelection,
    conversion: Option<FrameConversion>,
    ctx: &FrameContext,
) -> Result<SpectralPlan, EngineError> {
    const C: f64 = pclean_core::SPEED_OF_LIGHT;
    let data_frame = first.frame.parse::<FreqFrame>().map_err(|_| {
        EngineError::param(
            "outframe",
            format!(
            "start/width as frequencies or velocities: the data's frame '{}' cannot be regridded",
            first.frame
        ),
        )
    })?;
    let conversion = conversion.unwrap_or(FrameConversion {
        from: data_frame,
        to: data_frame,
        observatory: Observatory {
            itrf_m: ctx.observatory_itrf_m,
        },
        direction: ctx.direction,
        interpolation: params.interpolation,
        epoch_mjd_s: ctx.first_time_mjd_s,
        identity: true,
        earth: ctx.earth.clone(),
        source: None,
        moving: None,
    });
    let fac0 = conversion.grid_factor(ctx.first_time_mjd_s)?;
    let optical = params.veltype == VelType::Optical;
    let rest = |what: &str| {
        // tclean's: the given one, else the SOURCE table's (FrameContext::source_restfreq_hz).
        params
            .restfreq_hz
            .or(ctx.source_restfreq_hz)
            .ok_or_else(|| {
                EngineError::param(
                    "restfreq",
                    format!(
                    "{what} is a velocity and the data's SOURCE table gives no rest frequency: \
                     give --restfreq to define it"
                ),
                )
            })
    };
    let vel_to_freq = |v: f64, f0: f64| {
        if optical {
            f0 / (1.0 + v / C)
        } else {
            f0 * (1.0 - v / C)
        }
    };
    let (fd, wd) = (&first.chan_freq_hz, &first.chan_width_hz);
    let sel = &first.channels;
    let (lo_c, hi_c) = (sel[0], sel[sel.len() - 1]);
    // The selected data range in the output frame at the reference epoch.
    let (dmin, dmax) = {
        let a = fd[lo_c] * fac0;
        let b = fd[hi_c] * fac0;
        (a.min(b), a.max(b))
    };
    let data_step = if sel.len() > 1 {
        (fd[sel[1]] - fd[sel[0]]) * fac0
    } else {
        wd[lo_c] * fac0
    };
    if optical
        && matches!(params.start, SpectralValue::VelocityMps(_))
        && params.width == SpectralValue::Default
    {
        return optical_grid(params, first, conversion, fac0, rest("start")?, None);
    }
    let width_hz = match params.width {
        // tclean's velocity mode without a width runs down in frequency from start (increasing
        // velocity), one data channel per step.
        SpectralValue::Default if matches!(params.start, SpectralValue::VelocityMps(_)) => {
            -data_step.abs()
        }
        SpectralValue::Default => data_step,
        SpectralValue::Channel(w) => w as f64 * data_step,
        SpectralValue::FrequencyHz(f) => f,
        SpectralValue::VelocityMps(dv) => {
            if optical {
                return optical_grid(params, first, conversion, fac0, rest("width")?, Some(dv));
            }
            -rest("width")? * dv / C
        }
    };
    if width_hz == 0.0 || !width_hz.is_finite() {
        return Err(EngineError::param(
            "width",
            "width: the channel width must not be zero",
        ));
    }
    // The selected data's band edges in the output frame (tclean tiles a default grid from them).
    let (lo_edge, hi_edge) = sel
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), c| {
            let half = wd[*c].abs() / 2.0;
            (a.min((fd[*c] - half) * fac0), b.max((fd[*c] + half) * fac0))
        });
    let w = width_hz.abs();
    // tclean (calcChanFreqs, frequency-equidistant grids): a default channel count is the
    // number of whole channels that fit, with 1% of a channel of slack.
    let fit = |span: f64| ((span + 0.01 * w) / w).floor().max(0.0) as usize;
    // A start moved to tclean's limit is said in the log (tclean: "Reset to minimum possible value").
    let moved = |given: f64, used: f64| {
        if used != given {
            tracing::warn!(
                "start={given:.3} Hz ({}) leaves the first channel (partly) outside the selected data \
                 ({lo_edge:.3} to {hi_edge:.3} Hz); the cube starts at {used:.3} Hz, as tclean's",
                conversion.to.casa_name()
            );
        }
        used
    };
    let start_hz = match params.start {
        SpectralValue::Default => {
            // Channels tile the band from its lower edge; a negative width lists them downwards.
            let n = params.nchan.unwrap_or_else(|| fit(hi_edge - lo_edge));
            if n == 0 {
                // tclean fails here with "Linear transformation matrix is singular".
                return Err(wider_than_data(params, width_hz, hi_edge - lo_edge));
            }
            if width_hz > 0.0 {
                lo_edge + w / 2.0
            } else {
                lo_edge + n as f64 * w - w / 2.0
            }
        }
        SpectralValue::Channel(c) => {
            let c = c as usize;
            if c >= fd.len() {
                return Err(EngineError::param(
                    "start",
                    format!("start={c}: spw {} has {} channels", first.spw_id, fd.len()),
                ));
            }
            fd[c] * fac0
        }
        // No channel of this width fits inside the band: tclean's rule below cannot place it.
        SpectralValue::FrequencyHz(_) if w > hi_edge - lo_edge => {
            return Err(wider_than_data(params, width_hz, hi_edge - lo_edge));
        }
        SpectralValue::FrequencyHz(f) => moved(f, frequency_start(f, width_hz, lo_edge, hi_edge)),
        SpectralValue::VelocityMps(v) => {
            let f = vel_to_freq(v, rest("start")?);
            moved(f, velocity_start(f, width_hz, lo_edge, hi_edge))
        }
    };
    // A start exactly on the last data channel still counts (1e-6 channel of rounding); a velocity
    // start up to one image channel beyond the data's edge on the side the grid runs from is
    // tclean's too (`velocity_start`), and so is a frequency start that `frequency_start` moved.
    let tol = 1e-6 * width_hz.abs();
    let (lo_ok, hi_ok) = match params.start {
        SpectralValue::VelocityMps(_) if width_hz > 0.0 => (lo_edge - w - tol, dmax + tol),
        SpectralValue::VelocityMps(_) => (dmin - tol, hi_edge + w + tol),
        // `frequency_start` has kept the first channel's outer edge inside the band.
        SpectralValue::FrequencyHz(_) if width_hz > 0.0 => (lo_edge - tol, dmax + tol),
        SpectralValue::FrequencyHz(_) => (dmin - tol, hi_edge + tol),
        _ => (dmin - tol, dmax + tol),
    };
    if start_hz < lo_ok || start_hz > hi_ok {
        return Err(EngineError::param("start", format!(
            "start={start_hz:.3} Hz lies outside the selected data ({dmin:.3} to {dmax:.3} Hz in {})",
            conversion.to.casa_name()
        )));
    }
    let nchan = match params.nchan {
        Some(n) => n,
        None if width_hz > 0.0 => fit(hi_edge - (start_hz - w / 2.0)),
        None => fit(start_hz + w / 2.0 - lo_edge),
    };
    if nchan == 0 {
        return Err(EngineError::param(
            "width",
            format!("width={width_hz:.3} Hz: no whole channel fits in the selected data"),
        ));
    }
    let freqs_hz: Vec<f64> = (0..nchan).map(|k| start_hz + k as f64 * width_hz).collect();
    let frame = conversion.to.casa_name().to_string();
    Ok(SpectralPlan {
        default_restfreq_hz: None,
        freqs_hz,
        cdelt_hz: width_hz,
        frame,
        mfs: false,
        chan_map: BTreeMap::new(),
        conversion: Some(conversion),
        mfs_doppler: None,
        mfs_band_hz: None,
    })
}

/// `width` wider than the selected band `band_hz`: no whole image channel fits in the data (tclean
/// fails with "Linear transformation matrix is singular"). The error shows the width as given.
fn wider_than_data(params: &ImagingParams, width_hz: f64, band_hz: f64) -> EngineError {
    let given = match params.width {
        SpectralValue::VelocityMps(v) => format!("{}km/s", v / 1e3),
        SpectralValue::FrequencyHz(f) if f.abs() >= 1e9 => format!("{}GHz", f / 1e9),
        SpectralValue::FrequencyHz(f) if f.abs() >= 1e6 => format!("{}MHz", f / 1e6),
        SpectralValue::FrequencyHz(f) if f.abs() >= 1e3 => format!("{}kHz", f / 1e3),
        SpectralValue::FrequencyHz(f) => format!("{f}Hz"),
        SpectralValue::Channel(c) => c.to_string(),
        SpectralValue::Default => format!("{width_hz}Hz"),
    };
    EngineError::param(
        "width",
        format!(
            "width={given} ({:.3} Hz) is wider than the selected data ({band_hz:.3} Hz): no whole \
             channel fits; give a narrower width, or nchan and start",
            width_hz.abs()
        ),
    )
}

/// A frequency `start` as tclean takes it (CASA's `calcChanFreqs` in frequency mode, measured
/// with tclean 6.7 on NGC5921, `docs/decisions.md (s8-ephem)`): the first channel's outer edge
/// (`start - width/2` for a grid running up) is kept inside the data's band: a start below
/// `lo_edge + width/2` is moved there (above `hi_edge - width/2` for a grid running down), also
/// when it lies inside the data; any other start is kept (and checked by the caller).
fn frequency_start(start_hz: f64, width_hz: f64, lo_edge: f64, hi_edge: f64) -> f64 {
    let half = width_hz.abs() / 2.0;
    if width_hz > 0.0 {
        start_hz.max(lo_edge + half)
    } else {
        start_hz.min(hi_edge - half)
    }
}

/// A velocity `start`'s frequency as tclean takes it (CASA's `calcChanFreqs` in velocity mode,
/// measured with tclean 6.7 on NGC5921, `docs/decisions.md (s8-ephem)`): when the grid runs from
/// `start` into the data, a start beyond the data is kept as long as it lies within one image
/// channel `width_hz` of the data's outer channel edge, and is moved onto that limit beyond it
/// (tclean: "Reset to minimum possible value"); any other start is kept (and checked against the
/// data by the caller).
fn velocity_start(start_hz: f64, width_hz: f64, lo_edge: f64, hi_edge: f64) -> f64 {
    let w = width_hz.abs();
    if width_hz > 0.0 && start_hz < lo_edge {
        start_hz.max(lo_edge - w)
    } else if width_hz < 0.0 && start_hz > hi_edge {
        start_hz.min(hi_edge + w)
    } else {
        start_hz
    }
}

/// `veltype='optical'` with a velocity width (or a velocity start and no width): channels
/// equally spaced in optical velocity, hence unequally in frequency, computed as tclean does
/// (`crate::optical_axis`). The plan holds every channel's exact frequency; CASA images get
/// them as a tabular axis (as tclean's), FITS headers channel 0 and the first step (what CASA's
/// `exportfits` writes for it).
fn optical_grid(
    params: &ImagingParams,
    first: &SpwSelection,
    conversion: FrameConversion,
    fac0: f64,
    restfreq_hz: f64,
    width_mps: Option<f64>,
) -> Result<SpectralPlan, EngineError> {
    let start_mps =
        match params.start {
            SpectralValue::Default => None,
            SpectralValue::VelocityMps(v) => Some(v),
            _ => return Err(EngineError::param(
                "start",
                "start: with an optical-velocity width give start as a velocity (e.g. 1500km/s) \
                 or leave it empty",
            )),
        };
    let mut chans: Vec<(f64, f64)> = first
        .channels
        .iter()
        .map(|c| {
            (
                first.chan_freq_hz[*c] * fac0,
                first.chan_width_hz[*c].abs() * fac0,
            )
        })
        .collect();
    chans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let req = OpticalRequest {
        data_hz: chans.iter().map(|c| c.0).collect(),
        data_width_hz: chans.iter().map(|c| c.1).collect(),
        restfreq_hz,
        start_mps,
        width_mps,
        nchan: params.nchan,
    };
    let freqs_hz = optical_channels(&req)
        .map_err(|e| EngineError::param_source("veltype", "veltype='optical' channels", e))?;
    let cdelt_hz = if freqs_hz.len() > 1 {
        freqs_hz[1] - freqs_hz[0]
    } else {
        // One channel: its width at its velocity.
        const C: f64 = pclean_core::SPEED_OF_LIGHT;
        let dv = width_mps.unwrap_or(0.0);
        let v = C * (restfreq_hz / freqs_hz[0] - 1.0);
        restfreq_hz / (1.0 + (v + dv / 2.0) / C) - restfreq_hz / (1.0 + (v - dv / 2.0) / C)
    };
    let frame = conversion.to.casa_name().to_string();
    Ok(SpectralPlan {
        default_restfreq_hz: None,
        freqs_hz,
        cdelt_hz,
        frame,
        mfs: false,
        chan_map: BTreeMap::new(),
        conversion: Some(conversion),
        mfs_doppler: None,
        mfs_band_hz: None,
    })
}

/// tclean's default cube (no `start`, `width`) over several selected windows: one grid of the first
/// window's channel step from the lowest selected data channel, `floor((f_max - f_min) / step) + 1`
/// channels (tclean 6.7: vla_wideband's 4 spw x 8 channels of 32 MHz give 32 channels;
/// evla_lband_pb's spws at 1.250/1.314 and 1.750/1.814 GHz, 64 MHz, give 9 channels from 1.250 GHz,
/// the second window interpolated onto channel 8). Returned as one virtual selection spanning the
/// grid; `None` when every selected channel lies within the first window's selected range (the
/// grid is then the first window's own). Windows of another channel width are refused, naming
/// `spw`: tclean's grid for them is not reproduced yet.
pub(super) fn spanning_selection(
    sels: &[SpwSelection],
) -> Result<Option<SpwSelection>, EngineError> {
    let first = &sels[0];
    let (Some(&c0), Some(&c1)) = (first.channels.first(), first.channels.last()) else {
        return Ok(None);
    };
    let f0 = first.chan_freq_hz[c0];
    let w = first.chan_width_hz[c0];
    let step = if first.channels.len() > 1 {
        (first.chan_freq_hz[c1] - f0) / (c1 - c0) as f64
    } else {
        w
    };
    if step == 0.0 {
        return Ok(None);
    }
    let k_of = |f: f64| (f - f0) / step;
    let k_last = k_of(first.chan_freq_hz[c1]);
    let (mut kmin, mut kmax) = (0.0f64, k_last);
    for s in &sels[1..] {
        for &c in &s.channels {
            let k = k_of(s.chan_freq_hz[c]);
            kmin = kmin.min(k);
            kmax = kmax.max(k);
        }
    }
    if kmin >= -1e-6 && kmax <= k_last + 1e-6 {
        return Ok(None);
    }
    let other_width = sels[1..].iter().find(|s| {
        s.channels
            .iter()
            .any(|&c| (s.chan_width_hz[c].abs() - w.abs()).abs() > 1e-6 * w.abs())
    });
    if let Some(s) = other_width {
        return Err(EngineError::param(
            "spw",
            format!(
                "a cube over several spectral windows with the default start/width: spw {} (MS {}) \
                 has channels of another width than spw {} ({} Hz); pclean makes tclean's default \
                 grid only for windows of one channel width: give start, width and nchan \
                 (e.g. start='{}Hz', width='{}Hz') or select windows of one width",
                s.spw_id, s.ms_index, first.spw_id, w, f0, w
            ),
        ));
    }
    // The grid starts at the lowest channel (a window below the first's moves it by whole steps
    // only when it lies on the grid; otherwise at that channel itself).
    let start = if kmin < -1e-6 { f0 + kmin * step } else { f0 };
    let n = ((kmax - kmin) + 1e-6).floor() as usize + 1;
    Ok(Some(SpwSelection {
        ms_index: first.ms_index,
        spw_id: first.spw_id,
        channels: (0..n).collect(),
        chan_freq_hz: (0..n).map(|i| start + i as f64 * step).collect(),
        chan_width_hz: vec![w; n],
        frame: first.frame.clone(),
        epochs: first.epochs.clone(),
    }))
}

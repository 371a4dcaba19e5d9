//! Planning an imaging run: the image phase centre, and the image spectral axis with the mapping
//! from every selected data channel to the image channel it is gridded into.

use super::channels::{defined_grid, spanning_selection};
pub use super::conversion::FrameConversion;
use super::ephemeris::Ephemerides;
use super::mfs_axis::{default_rest_frequency, mfs_lsrk_range};
use crate::error::EngineError;
use pclean_core::frames::{EarthOrientation, FreqFrame, Observatory};
use pclean_core::params::{ImagingParams, PhaseCenter, SpecMode, SpectralValue};
use pclean_core::Direction;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What the planner needs to know about one selected spectral window of one MS.
#[derive(Debug, Clone)]
pub struct SpwSelection {
    pub ms_index: usize,
    pub spw_id: usize,
    /// Selected data channels (indices into the spw), ascending.
    pub channels: Vec<usize>,
    /// Centre frequency of every channel of the spw, Hz.
    pub chan_freq_hz: Vec<f64>,
    /// Width of every channel of the spw, Hz.
    pub chan_width_hz: Vec<f64>,
    /// The spw's frequency frame name (casacore's, e.g. "LSRK", "TOPO").
    pub frame: String,
    /// The distinct (TIME, FIELD_ID) pairs of the window's selected rows: where and when tclean
    /// converts its band into the image frame (`super::mfs_axis`).
    pub epochs: Vec<(f64, usize)>,
}

/// The image spectral axis and the channel mapping.
#[derive(Debug, Clone)]
pub struct SpectralPlan {
    /// Image channel centre frequencies, Hz (one entry for mfs).
    pub freqs_hz: Vec<f64>,
    /// Image channel increment, Hz (the whole bandwidth for mfs).
    pub cdelt_hz: f64,
    /// The rest frequency the products get when `restfreq` is not given
    /// (`super::mfs_axis::default_rest_frequency`: tclean's rule).
    pub default_restfreq_hz: Option<f64>,
    /// Spectral frame of the image axis.
    pub frame: String,
    pub mfs: bool,
    /// (ms index, spw id) -> image channel of every data channel of that spw (`None`: not imaged).
    /// Unused when `conversion` is set.
    pub chan_map: BTreeMap<(usize, usize), Vec<Option<usize>>>,
    /// Set when the cube is made in another frame than the data's: every row's channel
    /// frequencies are converted with that row's time and interpolated onto the image channels.
    pub conversion: Option<FrameConversion>,
    /// mfs of data in a convertible frame other than LSRK: tclean grids every row at its
    /// channels' LSRK frequencies at the row's time, so the imaging scales each row's uvw by
    /// this conversion's factor at that time. `None` for cubes and for LSRK (or REST) data.
    pub mfs_doppler: Option<FrameConversion>,
    /// mfs: the selected band's lowest and highest channel edge in the image frame (before
    /// `reffreq` moves the image frequency; `specmode='mvc'` makes its cube over it).
    pub mfs_band_hz: Option<(f64, f64)>,
}

/// What frame conversion needs to know about the observation.
#[derive(Debug, Clone)]
pub struct FrameContext {
    pub observatory_itrf_m: [f64; 3],
    pub direction: Direction,
    /// The first integration's time (UTC, MJD seconds): tclean's reference for the output grid.
    pub first_time_mjd_s: f64,
    /// Every field's (reference) phase direction, per MS: tclean converts an mfs band with the
    /// direction of each row's field, not with the image centre.
    pub field_dirs: Vec<Vec<Direction>>,
    /// The first selected field's SOURCE rest frequency for the first selected window
    /// (`pclean_ms::MsMeta::source_rest_frequency_hz`), if any.
    pub source_restfreq_hz: Option<f64>,
    /// UT1 - UTC (the IERS tables when found).
    pub earth: Arc<EarthOrientation>,
    /// The first MS's ephemeris fields, when a selected one has an ephemeris (with
    /// `phasecenter='TRACKFIELD'` the tracked field, which `specmode='cubesource'` follows).
    pub ephemeris: Option<Arc<Ephemerides>>,
}

impl SpectralPlan {
    /// Whether every channel lies on the line through channel 0 with step `cdelt_hz`, to 1 mHz
    /// (an axis in equal optical-velocity steps does not: its image header is then tabular, as
    /// tclean writes it).
    pub fn is_linear(&self) -> bool {
        let f0 = self.freqs_hz[0];
        self.freqs_hz
            .iter()
            .enumerate()
            .all(|(k, f)| (f - (f0 + k as f64 * self.cdelt_hz)).abs() <= 1e-3)
    }

    pub fn nchan(&self) -> usize {
        self.freqs_hz.len()
    }
}

/// Choose the image phase centre. `fields(ms)` gives each MS's field phase directions and
/// `first_field` the first selected field (ms 0).
pub fn phase_centre(
    params: &ImagingParams,
    field_dirs_ms0: &[Direction],
    first_field: usize,
) -> Result<Direction, EngineError> {
    match &params.phasecenter {
        PhaseCenter::FirstField => Ok(field_dirs_ms0[first_field]),
        PhaseCenter::FieldId(id) => field_dirs_ms0.get(*id).copied().ok_or_else(|| {
            EngineError::param(
                "phasecenter",
                format!(
                    "phasecenter={id}: the first MS has fields 0..{} only",
                    field_dirs_ms0.len().saturating_sub(1)
                ),
            )
        }),
        PhaseCenter::Direction(d) => Ok(*d),
        PhaseCenter::TrackField | PhaseCenter::Body(_) => Err(EngineError::internal(
            "phasecenter='TRACKFIELD' or a body is resolved from the ephemeris by the setup",
        )),
    }
}

/// Build the spectral plan. The first selection defines the channel grid for cubes (with the
/// default start/width extended over every selected window, `super::channels::spanning_selection`);
/// channels of other windows and MSs map onto it by frequency (an image channel takes every data channel whose
/// centre lies within it). A cube in another frame carries the `conversion` that the imaging applies
/// row by row (`crate::spectral_regrid`).
pub fn spectral_plan(
    params: &ImagingParams,
    sels: &[SpwSelection],
    ctx: &FrameContext,
) -> Result<SpectralPlan, EngineError> {
    let mut plan = plan_axis(params, sels, ctx)?;
    // `reffreq` is the mfs image's frequency (tclean's CRVAL3); CDELT3 is the band widened to
    // stay centred on it, as tclean's `SynthesisParamsImage::getImFreq` (CAS-9518): the band
    // plus twice the shift of the reference from the band's centre.
    if let (true, Some(f)) = (plan.mfs, params.deconv.reffreq_hz) {
        plan.cdelt_hz += 2.0 * (f - plan.freqs_hz[0]).abs();
        plan.freqs_hz[0] = f;
    }
    plan.default_restfreq_hz = default_rest_frequency(params, sels, ctx, &plan);
    Ok(plan)
}

/// A per-row conversion from `from` to `to` at the run's observatory, direction and first time
/// (no source frame, no moving field: callers set those).
fn per_row_conversion(
    from: FreqFrame,
    to: FreqFrame,
    params: &ImagingParams,
    ctx: &FrameContext,
) -> FrameConversion {
    FrameConversion {
        from,
        to,
        observatory: Observatory {
            itrf_m: ctx.observatory_itrf_m,
        },
        direction: ctx.direction,
        interpolation: params.interpolation,
        epoch_mjd_s: ctx.first_time_mjd_s,
        identity: false,
        earth: ctx.earth.clone(),
        source: None,
        moving: None,
    }
}

fn plan_axis(
    params: &ImagingParams,
    sels: &[SpwSelection],
    ctx: &FrameContext,
) -> Result<SpectralPlan, EngineError> {
    let first = sels
        .first()
        .ok_or_else(|| EngineError::param("spw", "the selection contains no spectral window"))?;
    let frames: Vec<&str> = sels.iter().map(|s| s.frame.as_str()).collect();
    if frames.iter().any(|f| *f != first.frame) {
        return Err(EngineError::param("spw", format!(
            "the selected spectral windows are in different frames ({}); select windows of one frame",
            frames.join(", ")
        )));
    }
    if params.specmode == SpecMode::Mfs {
        let mut chan_map = BTreeMap::new();
        for s in sels {
            let mut m = vec![None; s.chan_freq_hz.len()];
            for &c in &s.channels {
                m[c] = Some(0);
            }
            chan_map.insert((s.ms_index, s.spw_id), m);
        }
        let (lo, hi, frame, mfs_doppler) = mfs_lsrk_range(sels, ctx)?;
        return Ok(SpectralPlan {
            default_restfreq_hz: None,
            freqs_hz: vec![(lo + hi) / 2.0],
            cdelt_hz: hi - lo,
            frame,
            mfs: true,
            chan_map,
            conversion: None,
            mfs_doppler,
            mfs_band_hz: Some((lo, hi)),
        });
    }
    let out = params.outframe.as_str();
    let data_frame = first.frame.as_str();
    let mut conversion = None;
    if params.specmode == SpecMode::Cube {
        let wanted = if out.is_empty() { "LSRK" } else { out };
        // Topocentric and geocentric frames move: tclean converts even TOPO data to a TOPO cube
        // (the frame at the first integration). Inertial frames need no work when they match.
        let moving = matches!(wanted, "TOPO" | "GEO");
        if wanted != data_frame || moving {
            let parse = |name: &str, what: &str| {
                name.parse::<FreqFrame>().map_err(|_| {
                    EngineError::param("outframe", format!(
                        "outframe={wanted}: cannot convert {what} frame '{name}'; use --specmode cubedata"
                    ))
                })
            };
            conversion = Some(FrameConversion {
                source: None,
                moving: ctx.ephemeris.clone(),
                ..per_row_conversion(
                    parse(data_frame, "the data's")?,
                    parse(wanted, "the output")?,
                    params,
                    ctx,
                )
            });
        }
    }
    if params.specmode == SpecMode::CubeSource {
        // tclean's cubesource axis: the data channels in the source's frame at the first
        // integration (labelled REST, below), every row shifted at its own time.
        let tracked = ctx
            .ephemeris
            .clone()
            .filter(|_| params.phasecenter == PhaseCenter::TrackField)
            .ok_or_else(|| {
                EngineError::param(
                    "specmode",
                    "specmode='cubesource' needs phasecenter='TRACKFIELD' on an ephemeris field",
                )
            })?;
        conversion = Some(FrameConversion {
            source: Some(tracked),
            moving: None,
            ..per_row_conversion(FreqFrame::Topo, FreqFrame::Topo, params, ctx)
        });
    }
    // Several windows with the default start/width: tclean's grid spans them all.
    let spanning = match (&params.start, &params.width) {
        (SpectralValue::Default, SpectralValue::Default) => spanning_selection(sels)?,
        _ => None,
    };
    let first = spanning.as_ref().unwrap_or(first);
    let freqs = &first.chan_freq_hz;
    let widths = &first.chan_width_hz;
    let sel_lo = *first.channels.first().unwrap_or(&0);
    let sel_hi = *first.channels.last().unwrap_or(&0);
    let by_value = |v: &SpectralValue| {
        matches!(
            v,
            SpectralValue::FrequencyHz(_) | SpectralValue::VelocityMps(_)
        )
    };
    if by_value(&params.start) || by_value(&params.width) {
        return defined_grid(params, first, conversion, ctx);
    }
    let start = match params.start {
        SpectralValue::Default => sel_lo,
        SpectralValue::Channel(c) => c as usize,
        SpectralValue::FrequencyHz(_) | SpectralValue::VelocityMps(_) => {
            unreachable_value("start")?
        }
    };
    let width = match params.width {
        SpectralValue::Default => 1,
        SpectralValue::Channel(w) => w as usize,
        SpectralValue::FrequencyHz(_) | SpectralValue::VelocityMps(_) => {
            unreachable_value("width")?
        }
    };
    if start >= freqs.len() || start < sel_lo || start > sel_hi {
        return Err(EngineError::param(
            "start",
            format!(
                "start={start}: outside the selected channels {sel_lo}~{sel_hi} of spw {}",
                first.spw_id
            ),
        ));
    }
    let available = (sel_hi + 1 - start) / width;
    let nchan = match params.nchan {
        None => available,
        Some(n) if n <= available => n,
        Some(n) => {
            return Err(EngineError::param(
                "nchan",
                format!(
            "nchan={n} with start={start} and width={width}: only {available} image channels fit \
                 in the selected channels {sel_lo}~{sel_hi}"
        ),
            ))
        }
    };
    if nchan == 0 {
        return Err(EngineError::param(
            "nchan",
            "the cube would have no channels",
        ));
    }
    // tclean's output grid in another frame: the data channels' frequencies at the first
    // integration, converted (channel 0 and the width both scale by that factor).
    let fac0 = match &conversion {
        Some(c) => c.grid_factor(ctx.first_time_mjd_s)?,
        None => 1.0,
    };
    let mut image_freqs = Vec::with_capacity(nchan);
    let mut edges = Vec::with_capacity(nchan);
    for k in 0..nchan {
        let chans = start + k * width..start + (k + 1) * width;
        let f: f64 = chans.clone().map(|c| freqs[c]).sum::<f64>() / width as f64;
        image_freqs.push(f * fac0);
        let a = freqs[chans.start] - widths[chans.start] / 2.0;
        let b = freqs[chans.end - 1] + widths[chans.end - 1] / 2.0;
        edges.push((a.min(b), a.max(b)));
    }
    let mut cdelt_hz = if nchan > 1 {
        image_freqs[1] - image_freqs[0]
    } else {
        widths[start] * width as f64 * fac0
    };
    // A conversion made as casacore makes it: tclean's grid to the bit (its regridding decides
    // the window-edge channels by comparing these frequencies strictly).
    let ascending = freqs[sel_lo..=sel_hi].windows(2).all(|w| w[1] > w[0]);
    if let Some(c) = conversion.as_ref().filter(|c| c.is_stepwise() && ascending) {
        let steps = c.steps_towards(ctx.first_time_mjd_s, &c.direction)?;
        (image_freqs, cdelt_hz) = tclean_channel_grid(
            |f| steps.apply(f),
            freqs,
            widths,
            [sel_lo, start],
            width,
            nchan,
        );
    }
    let mut chan_map = BTreeMap::new();
    for s in sels {
        let mut m = vec![None; s.chan_freq_hz.len()];
        for &c in &s.channels {
            let f = s.chan_freq_hz[c];
            // Half-open interval [lo, hi) with a tolerance of 1e-6 channel for rounding.
            let tol = 1e-6 * s.chan_width_hz[c].abs();
            m[c] = edges
                .iter()
                .position(|(lo, hi)| f >= lo - tol && f < hi - tol);
        }
        chan_map.insert((s.ms_index, s.spw_id), m);
    }
    let frame = match &conversion {
        Some(c) if c.source.is_some() => "REST".to_string(),
        Some(c) => c.to.casa_name().to_string(),
        None => data_frame.to_string(),
    };
    Ok(SpectralPlan {
        default_restfreq_hz: None,
        freqs_hz: image_freqs,
        cdelt_hz,
        frame,
        mfs: false,
        chan_map,
        conversion,
        mfs_doppler: None,
        mfs_band_hz: None,
    })
}

/// tclean's spectral axis for a channel-mode cube in another frame (CASA 6.7
/// `MSTransformRegridder::calcChanFreqs`, frequency branch, then `SpectralCoordinate`), from
/// the data channels converted at the first integration by `convert`:
/// - `x_i = convert(f_i)`, `w_i = convert(f_i + |dw_i| / 2) - convert(f_i - |dw_i| / 2)`;
/// - the new channels' edges `e_k = L + k s` with `L = x_start - w_start / 2` and
///   `s = width * w_first` (`w_first`: the first channel of the data list, as CASA takes
///   `transCHAN_WIDTH[0]`), computed in long double, where they are exact, then rounded;
/// - channel centres `(e_k + e_{k+1}) / 2`; `crval` the first, `cdelt` the difference of the
///   first two (one channel: `e_1 - e_0`); the image's channel `k` is `crval + k cdelt`.
///
/// Checked against `ms.cvelfreqs` (casatools 6.7) on vla_wideband (both MSs; 1-4 windows,
/// start 0-3, width 1-4): every channel equal.
///
/// `first_start` is (the first data channel of the list, the cube's first channel).
fn tclean_channel_grid(
    convert: impl Fn(f64) -> f64,
    freqs: &[f64],
    widths: &[f64],
    [first, start]: [usize; 2],
    width: usize,
    nchan: usize,
) -> (Vec<f64>, f64) {
    let conv_width = |i: usize| {
        let half = widths[i].abs() / 2.0;
        convert(freqs[i] + half) - convert(freqs[i] - half)
    };
    let lower = convert(freqs[start]) - conv_width(start) / 2.0;
    let step = width as f64 * conv_width(first);
    let edge: Vec<f64> = (0..=nchan).map(|k| exact_sum(lower, k, step)).collect();
    let centre = |k: usize| (edge[k] + edge[k + 1]) / 2.0;
    let crval = centre(0);
    let cdelt = if nchan > 1 {
        centre(1) - crval
    } else {
        edge[1] - edge[0]
    };
    let freqs_hz = (0..nchan).map(|k| crval + k as f64 * cdelt).collect();
    (freqs_hz, cdelt)
}

/// `a + k b` rounded once (as CASA's long-double channel edges, exact for these magnitudes,
/// rounded to a double): the sum in integers of the two operands' common binary scale.
fn exact_sum(a: f64, k: usize, b: f64) -> f64 {
    // x = m 2^e with an integer m (53 bits); None for 0, infinities and NaN.
    let split = |x: f64| -> Option<(i128, i32)> {
        if x == 0.0 || !x.is_finite() {
            return None;
        }
        let bits = x.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32;
        let frac = (bits & ((1u64 << 52) - 1)) as i128;
        let (m, e) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | (1i128 << 52), exp - 1075)
        };
        Some((if x < 0.0 { -m } else { m }, e))
    };
    let fallback = a + k as f64 * b;
    let (Some((ma, ea)), Some((mb, eb))) = (split(a), split(b)) else {
        return fallback;
    };
    let e = ea.min(eb);
    let (sa, sb) = (ea - e, eb - e);
    if sa > 60 || sb > 60 || k > (1 << 20) {
        return fallback;
    }
    let total = (ma << sa) + k as i128 * (mb << sb);
    // i128 -> f64 rounds to nearest (ties to even); scaling by a power of two is exact here.
    (total as f64) * 2f64.powi(e)
}

fn unreachable_value(param: &str) -> Result<usize, EngineError> {
    Err(EngineError::internal(format!(
        "{param} given as a frequency or velocity reached the channel-grid planner"
    )))
}

#[cfg(test)]
#[path = "spectral_tests.rs"]
mod tests;

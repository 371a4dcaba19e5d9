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
mod tests {
    use super::*;
    use pclean_core::params::RawParams;

    fn params(extra: impl FnOnce(&mut RawParams)) -> ImagingParams {
        let mut r = RawParams {
            vis: Some(vec!["x.ms".into()]),
            imagename: Some("o".into()),
            specmode: Some("cube".into()),
            outframe: Some("LSRK".into()),
            ..Default::default()
        };
        extra(&mut r);
        ImagingParams::from_raw(&r).unwrap()
    }

    fn ctx() -> FrameContext {
        FrameContext {
            observatory_itrf_m: [-1601185.365, -5041977.547, 3554875.87],
            direction: Direction::parse("J2000 15h22m00 +05d04m00").unwrap(),
            first_time_mjd_s: 4.3e9,
            field_dirs: vec![vec![Direction::parse("J2000 15h22m00 +05d04m00").unwrap()]],
            source_restfreq_hz: None,
            earth: Default::default(),
            ephemeris: None,
        }
    }

    fn sel() -> SpwSelection {
        SpwSelection {
            ms_index: 0,
            spw_id: 0,
            channels: (0..63).collect(),
            chan_freq_hz: (0..63)
                .map(|i| 1.412665e9 + i as f64 * 24414.0625)
                .collect(),
            chan_width_hz: vec![24414.0625; 63],
            frame: "LSRK".into(),
            epochs: vec![(4.3e9, 0), (4.3e9 + 1800.0, 0)],
        }
    }

    /// Four windows of 8 x 32 MHz channels from 1.000, 1.256, 1.512, 1.768 GHz (vla_wideband):
    /// the default cube spans them all (tclean 6.7: 32 channels), every window mapped onto it.
    fn wideband(spw: usize, f0: f64) -> SpwSelection {
        wideband_n(spw, f0, 32e6, 8)
    }

    fn wideband_n(spw: usize, f0: f64, w: f64, n: usize) -> SpwSelection {
        SpwSelection {
            spw_id: spw,
            channels: (0..n).collect(),
            chan_freq_hz: (0..n).map(|i| f0 + i as f64 * w).collect(),
            chan_width_hz: vec![w; n],
            frame: "TOPO".into(),
            ..sel()
        }
    }

    #[test]
    fn default_cube_spans_every_selected_window() {
        let p = params(|r| r.outframe = Some("TOPO".into()));
        let sels: Vec<_> = (0..4)
            .map(|s| wideband(s, 1.0e9 + s as f64 * 256e6))
            .collect();
        let plan = spectral_plan(&p, &sels, &ctx()).unwrap();
        assert_eq!(plan.nchan(), 32);
        assert!((plan.freqs_hz[31] - 1.992e9).abs() < 1e-3);
        assert_eq!(plan.chan_map[&(0, 3)][7], Some(31));
        assert_eq!(plan.chan_map[&(0, 1)][0], Some(8));
        // A window off that grid (evla_lband_pb, tclean 6.7: 9 channels from 1.250 GHz).
        let ev = vec![
            wideband_n(0, 1.250e9, 64e6, 2),
            wideband_n(1, 1.750e9, 64e6, 2),
        ];
        let plan = spectral_plan(&p, &ev, &ctx()).unwrap();
        assert_eq!(plan.nchan(), 9);
        assert!((plan.freqs_hz[8] - 1.762e9).abs() < 1e-3);
        // A window of another channel width is refused, naming spw.
        let other = vec![sels[0].clone(), wideband_n(1, 1.5e9, 16e6, 8)];
        let e = spectral_plan(&p, &other, &ctx()).unwrap_err().to_string();
        assert!(e.contains("spw"), "{e}");
        // Windows within the first's range (here the same channels, as a second MS's) leave the
        // first's grid as it was.
        let inner = vec![sels[0].clone(), wideband(1, 1.0e9)];
        assert_eq!(spectral_plan(&p, &inner, &ctx()).unwrap().nchan(), 8);
    }

    #[test]
    fn ngc5921_cube_plan() {
        let p = params(|r| {
            r.nchan = Some(46);
            r.start = Some("5".into());
            r.width = Some("1".into());
        });
        let plan = spectral_plan(&p, &[sel()], &ctx()).unwrap();
        assert_eq!(plan.nchan(), 46);
        assert_eq!(plan.freqs_hz[0], 1.412665e9 + 5.0 * 24414.0625);
        let m = &plan.chan_map[&(0, 0)];
        assert_eq!(m[4], None);
        assert_eq!(m[5], Some(0));
        assert_eq!(m[50], Some(45));
        assert_eq!(m[51], None);
    }

    #[test]
    fn velocity_start_without_width_runs_down_in_frequency() {
        // tclean 6.7.0 on NGC5921 (start='1500km/s', nchan=5, radio): 1413298806.607798 Hz, then
        // one data channel lower per channel.
        let p = params(|r| {
            r.restfreq = Some(vec!["1420.405752MHz".into()]);
            r.start = Some("1500km/s".into());
            r.nchan = Some(5);
        });
        let plan = spectral_plan(&p, &[sel()], &ctx()).unwrap();
        assert_eq!(plan.cdelt_hz, -24414.0625);
        let f0 = 1420.405752e6 * (1.0 - 1500e3 / pclean_core::SPEED_OF_LIGHT);
        assert!((plan.freqs_hz[0] - f0).abs() < 1e-6);
    }

    #[test]
    fn optical_velocity_widths_give_unequal_frequency_steps() {
        let p = params(|r| {
            r.restfreq = Some(vec!["1420.405752MHz".into()]);
            r.veltype = Some("optical".into());
            r.start = Some("1480km/s".into());
            r.width = Some("10km/s".into());
            r.nchan = Some(10);
        });
        let plan = spectral_plan(&p, &[sel()], &ctx()).unwrap();
        assert_eq!(plan.nchan(), 10);
        let f = &plan.freqs_hz;
        // Descending (positive velocity width), steps shrinking in magnitude.
        assert!(f.windows(2).all(|w| w[1] < w[0]));
        assert!((f[1] - f[0]).abs() > (f[9] - f[8]).abs() + 10.0);
        assert_eq!(plan.cdelt_hz, f[1] - f[0]);
        // Channel 4 is at exactly the optical velocity 1520 km/s (tclean's central channel).
        let c = pclean_core::SPEED_OF_LIGHT;
        let v4 = c * (1420.405752e6 / f[4] - 1.0);
        assert!((v4 - 1520e3).abs() < 1e-3, "{v4}");
        // A frequency start with an optical width is refused in one line.
        let p = params(|r| {
            r.restfreq = Some(vec!["1420.405752MHz".into()]);
            r.veltype = Some("optical".into());
            r.start = Some("1.4131GHz".into());
            r.width = Some("10km/s".into());
        });
        let e = spectral_plan(&p, &[sel()], &ctx()).unwrap_err().to_string();
        assert!(e.contains("start") && !e.contains('\n'), "{e}");
    }

    #[test]
    fn width_two_groups_channels_and_frames_are_checked() {
        let p = params(|r| r.width = Some("2".into()));
        let plan = spectral_plan(&p, &[sel()], &ctx()).unwrap();
        assert_eq!(plan.nchan(), 31);
        assert_eq!(plan.chan_map[&(0, 0)][3], Some(1));
        // Two channels into another frame: the pair's mean frequency at the first integration.
        let p = params(|r| {
            r.outframe = Some("BARY".into());
            r.width = Some("2".into());
        });
        let plan = spectral_plan(&p, &[sel()], &ctx()).unwrap();
        let conv = plan.conversion.as_ref().unwrap();
        let fac0 = conv.factor(ctx().first_time_mjd_s).unwrap();
        assert_eq!(plan.nchan(), 31);
        let f = &sel().chan_freq_hz;
        assert!((plan.freqs_hz[0] - (f[0] + f[1]) / 2.0 * fac0).abs() < 1e-6);
        assert!((plan.cdelt_hz - 2.0 * 24414.0625 * fac0).abs() < 1e-6);
        // LSRK data imaged in BARY: a converted grid.
        let p = params(|r| r.outframe = Some("BARY".into()));
        let plan = spectral_plan(&p, &[sel()], &ctx()).unwrap();
        assert!(plan.conversion.is_some() && plan.frame == "BARY");
        let p = params(|r| r.nchan = Some(100));
        assert!(spectral_plan(&p, &[sel()], &ctx()).is_err());
    }

    /// A width wider than the selected band with no start: no whole channel fits. tclean fails
    /// ("Linear transformation matrix is singular"); pclean names `width` and its value.
    #[test]
    fn width_wider_than_the_data_names_width() {
        // sel() spans 63 x 24.4 kHz = 1.54 MHz.
        let p = params(|r| r.width = Some("2MHz".into()));
        let e = spectral_plan(&p, &[sel()], &ctx()).unwrap_err();
        assert_eq!(e.param_name(), Some("width"));
        assert!(e.to_string().contains("width=2MHz"), "{e}");
    }

    /// tclean's LSRK axis of vla_wideband's 32-channel cube (4 windows x 8 x 32 MHz from 1 GHz),
    /// both MSs: crval and cdelt as tclean 6.7 wrote them (and `ms.cvelfreqs` gives them), bit
    /// for bit. The full MS's cdelt is the first channel's converted width, 1 ulp of the
    /// channel frequency (32 ulp of cdelt) above the difference of the first two converted
    /// channels, which the subset's happens to equal: the rule s12-wb could not pin down.
    #[test]
    fn vla_wideband_lsrk_axis_is_tcleans_to_the_bit() {
        use pclean_core::frames::{doppler_steps_with_dut1, FreqFrame, Observatory};
        let vla = Observatory {
            itrf_m: [-1601185.3650000016, -5041977.546999999, 3554875.8700000006],
        };
        let dir = Direction::new_j2000(-2.094395102393196, 0.5235987755982988);
        let freqs: Vec<f64> = (0..32).map(|i| 1e9 + 32e6 * i as f64).collect();
        let widths = vec![32e6; 32];
        // (first TIME, casacore's UT1 - UTC there, tclean's crval and cdelt).
        for (t, dut1, crval, cdelt) in [
            (
                5223938652.962216,
                -0.020582361838431595,
                999964147.8061167,
                31998852.729795694,
            ),
            (
                5223938592.962216,
                -0.020581938018990206,
                999964142.2603726,
                31998852.552331924,
            ),
        ] {
            let steps =
                doppler_steps_with_dut1(FreqFrame::Topo, FreqFrame::Lsrk, t, dut1, &vla, &dir)
                    .unwrap();
            let (img, d) = tclean_channel_grid(|f| steps.apply(f), &freqs, &widths, [0, 0], 1, 32);
            assert_eq!((img[0], d), (crval, cdelt), "epoch {t}");
            assert_eq!(img[31], crval + 31.0 * cdelt);
        }
    }

    /// `exact_sum` rounds `a + k b` once: against the two-step double sum where that rounds twice.
    #[test]
    fn edges_are_rounded_once() {
        let (a, b) = (983964715.9842067, 31998852.552331924);
        for k in 0..40 {
            let exact = exact_sum(a, k, b);
            // The exact value lies within half an ulp of the result.
            let err = (exact - a) - k as f64 * b;
            assert!(
                err.abs() <= exact.abs() * f64::EPSILON / 2.0 * 1.0001,
                "k {k}: {err}"
            );
        }
        assert_eq!(exact_sum(1.0, 3, 0.5), 2.5);
        assert_eq!(exact_sum(0.0, 3, 0.5), 1.5);
    }
}

//! tclean's mfs spectral axis (the selected band converted to LSRK) and the rest frequency the
//! products carry when `restfreq` is not given. Both rules were read from CASA 6.7's
//! `SynthesisParamsImage` (`buildCoordinateSystem`, `getImFreq`), casacore's `MSUtil` frequency
//! range and `MSDopplerUtil`, and checked against tclean's own products
//! (docs/decisions.md, "Issue 13: Decisions of the s7-gapspec helper").

use super::spectral::{FrameContext, FrameConversion, SpectralPlan, SpwSelection};
use crate::error::EngineError;
use pclean_core::frames::{FreqFrame, Observatory};
use pclean_core::params::{ImagingParams, Interpolation, SpecMode};
use std::collections::HashMap;

/// The lowest and highest channel edge of a window's selected channels, in its own frame.
fn band_edges(s: &SpwSelection) -> (f64, f64) {
    s.channels
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &c| {
            let half = s.chan_width_hz[c].abs() / 2.0;
            (
                lo.min(s.chan_freq_hz[c] - half),
                hi.max(s.chan_freq_hz[c] + half),
            )
        })
}

/// The lowest and highest channel edge over every selected window, in the data's frame.
fn selected_band(sels: &[SpwSelection]) -> (f64, f64) {
    sels.iter()
        .map(band_edges)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (a, b)| {
            (lo.min(a), hi.max(b))
        })
}

/// tclean labels an mfs image LSRK: every selected window's band `[lo, hi]` (its selected
/// channels' edges) converted to LSRK at every distinct time of its selected rows, towards the
/// phase direction of that row's field (whatever the phasecenter: checked against tclean with one
/// field other than the first, several fields imaged at one field's centre, and J2000, B1950 and
/// GALACTIC phase centres on B1950_VLA data); the image frequency is the centre of the widest
/// range and the width its extent. Data already in LSRK, or in a frame pclean cannot convert
/// (REST), keep their band and frame. Also returns the conversion the imaging applies to each row
/// (`SpectralPlan::mfs_doppler`, evaluated towards the row's field).
pub(super) fn mfs_lsrk_range(
    sels: &[SpwSelection],
    ctx: &FrameContext,
) -> Result<(f64, f64, String, Option<FrameConversion>), EngineError> {
    let first = &sels[0];
    let from = match first.frame.parse::<FreqFrame>() {
        Ok(f) if f != FreqFrame::Lsrk => f,
        _ => {
            let (lo, hi) = selected_band(sels);
            return Ok((lo, hi, first.frame.clone(), None));
        }
    };
    let conv = FrameConversion {
        from,
        to: FreqFrame::Lsrk,
        observatory: Observatory {
            itrf_m: ctx.observatory_itrf_m,
        },
        direction: ctx.direction,
        interpolation: Interpolation::Linear,
        epoch_mjd_s: ctx.first_time_mjd_s,
        identity: false,
        earth: ctx.earth.clone(),
        source: None,
        moving: None,
    };
    // One conversion per (MS, time, field): windows observed together share it.
    let mut factors: HashMap<(usize, u64, usize), f64> = HashMap::new();
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for s in sels {
        let (a, b) = band_edges(s);
        for &(t, field) in &s.epochs {
            let key = (s.ms_index, t.to_bits(), field);
            let k = match factors.get(&key) {
                Some(k) => *k,
                None => {
                    let dir = ctx
                        .field_dirs
                        .get(s.ms_index)
                        .and_then(|d| d.get(field))
                        .ok_or_else(|| {
                            EngineError::internal(format!(
                                "MS {} has selected rows of field {field}, which its FIELD table lacks",
                                s.ms_index
                            ))
                        })?;
                    *factors.entry(key).or_insert(conv.factor_towards(t, dir)?)
                }
            };
            lo = lo.min(a * k);
            hi = hi.max(b * k);
        }
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return Err(EngineError::internal(
            "the selected spectral windows have no selected rows to convert their band with",
        ));
    }
    Ok((lo, hi, FreqFrame::Lsrk.casa_name().to_string(), Some(conv)))
}

/// tclean's rest frequency when `restfreq` is not given: the first selected field's SOURCE rest
/// frequency for the first selected window (`FrameContext::source_restfreq_hz`); without one,
/// the mfs band centre in LSRK (the image frequency: `reffreq` is not supported), and for a cube
/// the centre of the selected channels' edges over every selected window, in the data's frame
/// (tclean's "No rest frequency info, using the center of the selected spw(s)"). A cube given in
/// velocities needs a rest frequency and has already been refused without one.
pub(super) fn default_rest_frequency(
    params: &ImagingParams,
    sels: &[SpwSelection],
    ctx: &FrameContext,
    plan: &SpectralPlan,
) -> Option<f64> {
    if ctx.source_restfreq_hz.is_some() {
        return ctx.source_restfreq_hz;
    }
    if params.specmode == SpecMode::Mfs {
        return plan.freqs_hz.first().copied();
    }
    let (lo, hi) = selected_band(sels);
    (lo.is_finite() && hi.is_finite()).then_some((lo + hi) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::super::spectral::spectral_plan;
    use super::*;
    use pclean_core::frames::EarthOrientation;
    use pclean_core::params::RawParams;
    use pclean_core::Direction;
    use std::sync::Arc;

    fn params(specmode: &str) -> ImagingParams {
        let r = RawParams {
            vis: Some(vec!["x.ms".into()]),
            imagename: Some("o".into()),
            specmode: Some(specmode.into()),
            ..Default::default()
        };
        ImagingParams::from_raw(&r).unwrap()
    }

    const T0: f64 = 5097695726.548836;
    const T1: f64 = 5097699266.548836;

    /// A simulated VLA MS (TOPO channels 1.400 and 1.416 GHz, 16 MHz wide, 2020-06-01, 1 h around
    /// transit, field J2000 (3.2837, 0.2105) rad; `mksim.py` in docs/decisions-i13-frames.md).
    fn vla_sel(epochs: Vec<(f64, usize)>) -> SpwSelection {
        SpwSelection {
            ms_index: 0,
            spw_id: 0,
            channels: vec![0, 1],
            chan_freq_hz: vec![1.4e9, 1.416e9],
            chan_width_hz: vec![16e6, 16e6],
            frame: "TOPO".into(),
            epochs,
        }
    }

    fn vla_ctx(field_dirs: Vec<Direction>) -> FrameContext {
        let earth = EarthOrientation {
            measured: Some(pclean_core::frames::Dut1Table {
                mjd0: 59000.0,
                // casacore's UT1 - UTC over the observation (-0.25472 .. -0.25475 s).
                values_s: vec![-0.25473; 3],
            }),
            predicted: None,
            source: "test".into(),
            ..Default::default()
        };
        FrameContext {
            observatory_itrf_m: [-1601185.3650000016, -5041977.546999999, 3554875.8700000006],
            direction: field_dirs[0],
            first_time_mjd_s: T0,
            field_dirs: vec![field_dirs],
            source_restfreq_hz: None,
            ephemeris: None,
            earth: Arc::new(earth),
        }
    }

    fn field0() -> Direction {
        Direction::new_j2000(3.2836915435229974, 0.21048185965370503)
    }

    /// tclean 6.7's mfs spectral axis of that MS: LSRK, crval 1408103852.403483 Hz, cdelt
    /// 32002850.41892147 Hz; the rest frequency (no SOURCE one) is the crval.
    #[test]
    fn mfs_axis_is_lsrk_over_the_observation_as_tclean() {
        let p = params("mfs");
        let epochs = (0..60).map(|i| (T0 + i as f64 * 60.0, 0)).collect();
        let ctx = vla_ctx(vec![field0()]);
        let plan = spectral_plan(&p, &[vla_sel(epochs)], &ctx).unwrap();
        assert_eq!(plan.frame, "LSRK");
        // 0.05 Hz: the bound for the LSRK axis (3.5e-11 relative at 1.4 GHz).
        let (dc, dw) = (
            plan.freqs_hz[0] - 1408103852.403483,
            plan.cdelt_hz - 32002850.41892147,
        );
        assert!(
            dc.abs() < 0.05 && dw.abs() < 0.05,
            "crval off by {dc} Hz, cdelt by {dw} Hz"
        );
        assert_eq!(plan.default_restfreq_hz, Some(plan.freqs_hz[0]));
        // The per-row gridding factor is the conversion that made that (tclean-checked) band:
        // its lower edge is the data's at the smallest factor over the rows.
        let conv = plan
            .mfs_doppler
            .as_ref()
            .expect("TOPO mfs converts per row");
        let k = [T0, T1].map(|t| conv.factor_towards(t, &field0()).unwrap());
        let lo = plan.freqs_hz[0] - plan.cdelt_hz / 2.0;
        assert!((lo - 1.392e9 * k[0].min(k[1])).abs() < 1e-3);
        // A SOURCE rest frequency wins.
        let ctx = FrameContext {
            source_restfreq_hz: Some(1.42e9),
            ..ctx
        };
        let plan = spectral_plan(&p, &[vla_sel(vec![(T0, 0)])], &ctx).unwrap();
        assert_eq!(plan.default_restfreq_hz, Some(1.42e9));
    }

    /// With `reffreq` the axis is centred on it and CDELT3 is the band plus twice the shift
    /// (tclean's getImFreq; tclean 6.7 on vla_wideband with reffreq='1.5GHz': CDELT3
    /// 1.03207e9 Hz for a 1.02396e9 Hz band centred 4.05 MHz below 1.5 GHz).
    #[test]
    fn reffreq_centres_the_mfs_axis_and_widens_its_width() {
        let mut p = params("mfs");
        let epochs: Vec<(f64, usize)> = (0..60).map(|i| (T0 + i as f64 * 60.0, 0)).collect();
        let ctx = vla_ctx(vec![field0()]);
        let band = spectral_plan(&p, &[vla_sel(epochs.clone())], &ctx).unwrap();
        p.deconv.reffreq_hz = Some(1.5e9);
        let plan = spectral_plan(&p, &[vla_sel(epochs)], &ctx).unwrap();
        assert_eq!(plan.freqs_hz[0], 1.5e9);
        let want = band.cdelt_hz + 2.0 * (1.5e9 - band.freqs_hz[0]).abs();
        // Exact arithmetic on the same numbers: rounding only.
        assert!(
            (plan.cdelt_hz - want).abs() < 1e-6,
            "{} vs {want}",
            plan.cdelt_hz
        );
    }

    /// The band is converted towards each row's own field at that row's time: a second field
    /// 10 degrees away observed at other times moves the axis, and only the rows' times count.
    #[test]
    fn each_rows_field_and_time_convert_the_band() {
        let p = params("mfs");
        let far = Direction::new_j2000(3.2836915435229974 + 0.2, 0.21048185965370503 + 0.1);
        let ctx = vla_ctx(vec![field0(), far]);
        let one = spectral_plan(&p, &[vla_sel(vec![(T0, 0)])], &ctx).unwrap();
        let both = spectral_plan(&p, &[vla_sel(vec![(T0, 0), (T1, 1)])], &ctx).unwrap();
        let conv = one.mfs_doppler.as_ref().unwrap();
        let (k0, k1) = (
            conv.factor_towards(T0, &field0()).unwrap(),
            conv.factor_towards(T1, &far).unwrap(),
        );
        // Exact arithmetic on the same factors: rounding only (1e-6 Hz).
        assert!((one.freqs_hz[0] - 1.408e9 * k0).abs() < 1e-6);
        let (lo, hi) = (
            (1.392e9 * k0).min(1.392e9 * k1),
            (1.424e9 * k0).max(1.424e9 * k1),
        );
        assert!((both.freqs_hz[0] - (lo + hi) / 2.0).abs() < 1e-6);
        assert!((both.cdelt_hz - (hi - lo)).abs() < 1e-6);
        // 10 degrees apart the two fields' LSRK factors differ by ~1e-6 (kHz at 1.4 GHz).
        assert!((k0 - k1).abs() > 1e-7);
        // A row of a field the FIELD table lacks is an internal error, not a panic.
        assert!(spectral_plan(&p, &[vla_sel(vec![(T0, 5)])], &ctx).is_err());
    }

    /// tclean 6.7 on evla_lband_pb.ms without a SOURCE rest frequency for the window: a cube
    /// takes the centre of the selected channels' edges (spw 1: 1.75 and 1.814 GHz, 64 MHz wide:
    /// 1.782 GHz); LSRK data are not converted for the mfs band.
    #[test]
    fn cube_rest_frequency_is_the_selected_band_centre() {
        let mut sel = vla_sel(vec![(T0, 0)]);
        sel.chan_freq_hz = vec![1.75e9, 1.814e9];
        sel.chan_width_hz = vec![64e6, 64e6];
        let ctx = vla_ctx(vec![field0()]);
        let plan = spectral_plan(&params("cube"), &[sel.clone()], &ctx).unwrap();
        assert_eq!(plan.default_restfreq_hz, Some(1.782e9));
        sel.frame = "LSRK".into();
        let plan = spectral_plan(&params("mfs"), &[sel], &ctx).unwrap();
        assert_eq!((plan.freqs_hz[0], plan.cdelt_hz), (1.782e9, 128e6));
        assert!(plan.mfs_doppler.is_none());
    }
}

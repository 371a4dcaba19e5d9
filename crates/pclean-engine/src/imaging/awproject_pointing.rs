//! `usepointing=True` for the awproject gridder: where tclean 6.7 centres each baseline's beams.
//!
//! CASA's `PhaseGrad` moves a baseline's convolution functions by `(g1 + g2) / 2`, `g1`, `g2` the
//! pointing offsets of the antenna *groups* of ANTENNA1 and ANTENNA2 (antennas grouped by
//! `pointingoffsetsigdev`). With the default `pointingoffsetsigdev=[]` tclean 6.7 puts every
//! antenna in one group: measured on the bundled mosaic with the even antennas' POINTING moved 3'
//! north (docs/decisions.md (s15-awp)), tclean's `.weight` is the unmoved one shifted by 7.78 px,
//! the mean of the 27 antennas' offsets (14/27 x 15 px), to 2e-4 of its peak, and not the sum of
//! the per-baseline shifts (0, 7.5, 15 px: 4.5e-3 off, its peak 0.4% lower). So every row of an
//! integration is centred on the mean of the POINTING directions, at that time, of the antennas
//! of the integration's selected rows.
//!
//! pclean's A-stacking grids each pointing's rows apart, so integrations whose centres agree within
//! [`MERGE_LAMBDA_OVER_D`] `lambda / D` share a grid set (the mosaic gridder's spread bound,
//! [`super::mosaic_pointing::MAX_SPREAD_LAMBDA_OVER_D`]: a beam moved by that much changes a pixel
//! by at most about 1.2% of the peak at the steepest point); more distinct centres than
//! [`MAX_POINTINGS`] are refused, naming the parameter (a grid set per pointing and bin). Other
//! `pointingoffsetsigdev` values (several groups) are refused in the parameters.

use crate::error::EngineError;
use pclean_core::direction::SkyContext;
use pclean_core::params::ImagingParams;
use pclean_core::Direction;
use pclean_grid::awproj::geometry::DISH_RADIUS_M;
use pclean_grid::awproj::gridder::{AwPointing, BaselinePointings};
use pclean_ms::{MeasurementSet, SelectedData};
use std::collections::HashMap;

/// Centres closer than this (in `lambda / D` at the image frequency) share a pointing.
pub const MERGE_LAMBDA_OVER_D: f64 = super::mosaic_pointing::MAX_SPREAD_LAMBDA_OVER_D;

/// The most distinct baseline pointings accepted (each a grid set per parallactic-angle bin).
pub const MAX_POINTINGS: usize = 64;

/// The pointings of `ms`'s selected rows with `usepointing=True` (module docs) and the table of
/// each `(TIME, ANTENNA1, ANTENNA2)`'s pointing, the centres in pixels of the image about
/// `centre`.
pub fn baseline_pointings(
    params: &ImagingParams,
    ms: &MeasurementSet,
    selected: &SelectedData,
    centre: &Direction,
    sky: &SkyContext,
    freq_hz: f64,
) -> Result<(Vec<AwPointing>, BaselinePointings), EngineError> {
    let bp = pclean_ms::baseline_pointings(ms, selected)?;
    let mut pixel: HashMap<(u64, i32), [f64; 2]> = HashMap::with_capacity(bp.directions.len());
    for (&(tbits, antenna), d) in &bp.directions {
        let d = d.to_frame(centre.frame, sky).map_err(|e| {
            EngineError::param(
                "usepointing",
                format!(
                    "the POINTING direction of antenna {antenna} cannot be converted to the \
                     image frame: {e}"
                ),
            )
        })?;
        let [l, m, _] = centre.lmn_of(&d);
        pixel.insert(
            (tbits, antenna),
            [
                (params.nx / 2) as f64 - l / params.cell_x_rad,
                (params.ny / 2) as f64 + m / params.cell_y_rad,
            ],
        );
    }
    // The mean pixel of each integration's antennas (tclean's one antenna group).
    let mut mean_of: HashMap<u64, ([f64; 2], usize)> = HashMap::new();
    for (&(tbits, _), px) in &pixel {
        let e = mean_of.entry(tbits).or_insert(([0.0; 2], 0));
        e.0[0] += px[0];
        e.0[1] += px[1];
        e.1 += 1;
    }
    let lambda_over_d = pclean_core::SPEED_OF_LIGHT / freq_hz / (2.0 * DISH_RADIUS_M);
    let tol_px = MERGE_LAMBDA_OVER_D * lambda_over_d / params.cell_x_rad.abs();
    let mut pointings: Vec<AwPointing> = Vec::new();
    let mut rows = Vec::with_capacity(bp.baselines.len());
    for &(t, a1, a2) in &bp.baselines {
        let (sum, n) = mean_of[&t.to_bits()];
        let c = [sum[0] / n as f64, sum[1] / n as f64];
        let near = |p: &AwPointing| (p.centre_px[0] - c[0]).hypot(p.centre_px[1] - c[1]) <= tol_px;
        let k = match pointings.iter().position(near) {
            Some(k) => k,
            None => {
                if pointings.len() == MAX_POINTINGS {
                    return Err(EngineError::param(
                        "usepointing",
                        format!(
                            "usepointing=True with gridder='awproject': the integrations' beam \
                             centres (the mean of their antennas' POINTING directions) take \
                             more than {MAX_POINTINGS} distinct positions \
                             {MERGE_LAMBDA_OVER_D} lambda/D apart; pclean grids each apart; use \
                             usepointing=False or select fewer integrations"
                        ),
                    ));
                }
                pointings.push(AwPointing {
                    field_id: -1,
                    centre_px: c,
                });
                pointings.len() - 1
            }
        };
        rows.push((t, a1, a2, k));
    }
    Ok((pointings, BaselinePointings::new(rows)))
}

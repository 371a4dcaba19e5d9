//! `usepointing=True` for the mosaic gridder: each field's beam centre from the POINTING table.
//!
//! tclean centres a visibility buffer's beams on the POINTING direction of its first row's
//! `ANTENNA1` at that time (measured: [`pclean_ms::field_pointings`]). pclean centres one beam
//! per field, at the row-weighted mean of those directions over the field's integrations. A beam
//! displaced by `d` changes a pixel by at most `|grad PB| d`, about `1.4 d / FWHM` of the peak for
//! a Gaussian-like beam; pclean therefore refuses a field whose directions lie farther than
//! [`MAX_SPREAD_LAMBDA_OVER_D`] `lambda / D` (about 0.9% of the FWHM, so at most about 1.2% of
//! the peak at the steepest point, and much less where the offsets average out) from their mean,
//! naming the field and the spread (a beam per integration is not modelled).

use crate::error::EngineError;
use pclean_core::direction::SkyContext;
use pclean_core::{Direction, DirectionFrame};
use pclean_ms::{MeasurementSet, SelectedData};
use std::collections::HashMap;

/// The largest distance of a field's pointing directions from their mean, in `lambda / D` of the
/// largest dish at the highest imaged frequency (see the module docs).
pub const MAX_SPREAD_LAMBDA_OVER_D: f64 = 0.01;

/// The beam centre of every selected field of `ms` with `usepointing=True`, in `frame`: the
/// row-weighted mean of the field's pointing samples. `lambda_over_d_rad`: the beam scale for the
/// spread check.
pub fn pointing_centres(
    ms: &MeasurementSet,
    selected: &SelectedData,
    frame: DirectionFrame,
    sky: &SkyContext,
    lambda_over_d_rad: f64,
) -> Result<HashMap<usize, Direction>, EngineError> {
    let name = |f: usize| {
        ms.meta()
            .fields
            .get(f)
            .map_or_else(|| f.to_string(), |x| format!("'{}' ({f})", x.name))
    };
    let mut out = HashMap::new();
    for fp in pclean_ms::field_pointings(ms, selected)? {
        let mut units = Vec::with_capacity(fp.samples.len());
        for s in &fp.samples {
            let d = s.direction.to_frame(frame, sky).map_err(|e| {
                EngineError::param(
                    "usepointing",
                    format!(
                        "the POINTING direction of antenna {} for field {} cannot be converted \
                         to the image frame: {e}",
                        s.antenna,
                        name(fp.field_id)
                    ),
                )
            })?;
            units.push((d.unit_vector(), s.n_rows as f64));
        }
        let mut sum = [0.0f64; 3];
        for (u, w) in &units {
            for k in 0..3 {
                sum[k] += w * u[k];
            }
        }
        let norm = (sum[0] * sum[0] + sum[1] * sum[1] + sum[2] * sum[2]).sqrt();
        if norm <= 0.0 {
            return Err(EngineError::internal(format!(
                "field {} has no pointing samples",
                name(fp.field_id)
            )));
        }
        let mean = sum.map(|v| v / norm);
        let spread = units
            .iter()
            .map(|(u, _)| {
                let c = u[0] * mean[0] + u[1] * mean[1] + u[2] * mean[2];
                c.clamp(-1.0, 1.0).acos()
            })
            .fold(0.0f64, f64::max);
        if spread > MAX_SPREAD_LAMBDA_OVER_D * lambda_over_d_rad {
            return Err(EngineError::param(
                "usepointing",
                format!(
                    "the POINTING directions of field {} lie up to {:.3} arcsec from their mean, \
                     more than {:.3} arcsec ({} lambda/D): pclean centres one beam per field and \
                     tclean would move the beam between integrations; use usepointing=False \
                     (beams on the FIELD's PHASE_DIR) or select fewer integrations",
                    name(fp.field_id),
                    spread.to_degrees() * 3600.0,
                    (MAX_SPREAD_LAMBDA_OVER_D * lambda_over_d_rad).to_degrees() * 3600.0,
                    MAX_SPREAD_LAMBDA_OVER_D
                ),
            ));
        }
        let lon = mean[1].atan2(mean[0]);
        let lat = mean[2].clamp(-1.0, 1.0).asin();
        out.insert(fp.field_id, Direction::new(frame, lon, lat));
    }
    Ok(out)
}

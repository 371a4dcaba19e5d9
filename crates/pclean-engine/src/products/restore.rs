//! Restoration, in one place: `.image` (model convolved with the restoring beam plus residual)
//! and `.image.pbcor`, for per-plane beams as each plane finishes ([`write_restored`], called by a
//! block) and for tclean's common beam once every plane is done ([`restoring_beams`], called by
//! the coordinator's finish).

use super::set::Products;
use crate::error::EngineError;
use ndarray::{Array2, ArrayView2};
use pclean_core::params::{ImagingParams, RestoringBeam};
use pclean_core::Beam;
use pclean_deconv::restore::{common_beam, convolve_to_beam, pbcor, restore_plane};

/// Where one plane's products go: `put(product, plane)`.
pub type PutProduct<'a> = dyn FnMut(&'static str, ArrayView2<f32>) -> Result<(), EngineError> + 'a;

/// `.image` = model convolved with the restoring beam + residual (the residual itself when the
/// model is empty, so niter=0 gives image == residual exactly). Model and residual are freed.
pub fn restored_image(
    model: Array2<f32>,
    residual: Array2<f32>,
    beam: &Beam,
    p: &ImagingParams,
) -> Result<Array2<f32>, EngineError> {
    if model.iter().all(|v| *v == 0.0) {
        return Ok(residual);
    }
    restore_plane(
        model.view(),
        residual.view(),
        beam,
        p.cell_x_rad,
        p.cell_y_rad,
    )
    .map_err(|e| EngineError::param_source("restoringbeam", "restoration", e))
}

/// `.image.pbcor`: image / pb inside the primary-beam limit, NaN (blanked) outside.
pub fn pbcor_plane(
    image: &Array2<f32>,
    pb: &Array2<f32>,
    pblimit: f64,
) -> Result<Array2<f32>, EngineError> {
    pbcor(image.view(), pb.view(), pblimit as f32)
        .map_err(|e| EngineError::param_source("pbcor", "pbcor", e))
}

/// Restore one plane with `beam` and hand `.image` to `put`, then, when `pb()` gives the plane's
/// primary beam, `.image.pbcor`. Returns that primary beam (for the `.pb`/`.weight` products).
pub fn write_restored(
    model: Array2<f32>,
    residual: Array2<f32>,
    beam: &Beam,
    p: &ImagingParams,
    pb: impl FnOnce() -> Result<Option<Array2<f32>>, EngineError>,
    put: &mut PutProduct,
) -> Result<Option<Array2<f32>>, EngineError> {
    let image = restored_image(model, residual, beam, p)?;
    put("image", image.view())?;
    let pb = pb()?;
    if let Some(b) = &pb {
        let corrected = pbcor_plane(&image, b, p.pblimit)?;
        drop(image);
        put("image.pbcor", corrected.view())?;
    }
    Ok(pb)
}

/// The restoring beams of every plane `k + nchan * s` from the fitted ones (`restoration=false`:
/// the fitted ones, nothing restored): the fitted beam, the
/// user's beam, or (`restoringbeam='common'`) the common beam, in which case every plane is
/// restored here: its residual (read back from the products) convolved from its fitted beam to
/// the common one, plus the model convolved with it.
pub fn restoring_beams(
    p: &ImagingParams,
    fitted: &[Beam],
    out: &mut Products,
    nchan: usize,
) -> Result<Vec<Beam>, EngineError> {
    let nst = p.stokes.0.len();
    if !p.deconv.restoration {
        return Ok(fitted.to_vec());
    }
    let common = match p.deconv.restoringbeam {
        RestoringBeam::Fitted => return Ok(fitted.to_vec()),
        RestoringBeam::User(b) => return Ok(vec![b; nchan * nst]),
        RestoringBeam::Common => {
            let valid: Vec<Beam> = fitted.iter().copied().filter(|b| b.is_valid()).collect();
            common_beam(&valid).map_err(|e| {
                EngineError::param_source("restoringbeam", "restoringbeam='common'", e)
            })?
        }
    };
    for k in 0..nchan {
        for s in 0..nst {
            let model = out.get("model", k, s)?;
            let residual = out.get("residual", k, s)?;
            let from = fitted[k + nchan * s];
            let residual = if from.is_valid() {
                convolve_to_beam(residual.view(), &from, &common, p.cell_x_rad, p.cell_y_rad)
                    .map_err(|e| {
                        EngineError::param_source("restoringbeam", "restoringbeam='common'", e)
                    })?
            } else {
                residual
            };
            let pb = if out.has("image.pbcor") {
                Some(out.get("pb", k, s)?)
            } else {
                None
            };
            write_restored(model, residual, &common, p, || Ok(pb), &mut |ext, plane| {
                out.put(ext, k, s, plane)
            })?;
        }
    }
    Ok(vec![common; nchan * nst])
}

//! The restoring beam fitted to each PSF plane, as tclean fits it.

use ndarray::Array2;
use pclean_core::params::ImagingParams;
use pclean_core::Beam;
use pclean_deconv::beamfit::fit_psf_beam;

/// Fit the restoring beam of one PSF plane; a failed fit or an empty plane falls back to
/// `fallback` with a warning.
pub fn fit_beam(
    p: &ImagingParams,
    psf: &Array2<f32>,
    sumwt: f64,
    chan: usize,
    stokes: usize,
    note: &mut impl FnMut(String),
    fallback: Beam,
) -> Beam {
    if sumwt <= 0.0 {
        note(format!(
            "channel {chan} stokes {stokes}: no unflagged visibilities; the plane is zero"
        ));
        return fallback;
    }
    match fit_psf_beam(psf.view(), p.cell_x_rad, p.cell_y_rad, p.psfcutoff) {
        Ok(b) => b,
        Err(e) => {
            note(format!(
                "channel {chan} stokes {stokes}: restoring beam fit failed: {e}"
            ));
            fallback
        }
    }
}

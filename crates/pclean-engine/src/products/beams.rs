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

/// The beam tclean gives a plane without one (an empty channel, or a failed fit with no good
/// beam before it): the largest-area fitted beam of the whole beam set (CASA's
/// `SIImageStore::getPSFGaussian`, `ImageBeamSet::getMaxAreaBeam`), or, when no plane has one,
/// a 1e-6 arcsec circular beam. casacore refuses to open an image whose beam set holds a null
/// beam, so every plane must have one.
pub fn fill_null_beams(beams: &mut [Beam]) {
    let area = |b: &Beam| b.major_rad * b.minor_rad;
    let largest = beams
        .iter()
        .filter(|b| b.is_valid())
        .copied()
        .reduce(|a, b| if area(&b) > area(&a) { b } else { a });
    let tiny = (1e-6 / 3600.0_f64).to_radians();
    let fill = largest.unwrap_or(Beam {
        major_rad: tiny,
        minor_rad: tiny,
        pa_rad: 0.0,
    });
    for b in beams.iter_mut().filter(|b| !b.is_valid()) {
        *b = fill;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beam(major: f64, minor: f64) -> Beam {
        Beam {
            major_rad: major,
            minor_rad: minor,
            pa_rad: 0.1,
        }
    }

    #[test]
    fn null_beams_take_the_largest_area_beam_as_tclean_does() {
        // Measured on tclean's TRACKFIELD cube (docs/decisions.md (s8-ephem)): the empty channel 0
        // carries channel 1's beam, the largest of the set.
        let mut b = vec![
            Beam::default(),
            beam(2.0, 1.0),
            beam(2.2, 0.8),
            beam(1.5, 1.4),
        ];
        fill_null_beams(&mut b);
        assert_eq!(b[0], beam(1.5, 1.4));
        assert_eq!(&b[1..], &[beam(2.0, 1.0), beam(2.2, 0.8), beam(1.5, 1.4)]);
    }

    #[test]
    fn all_null_beams_become_a_tiny_beam() {
        let mut b = vec![Beam::default(); 3];
        fill_null_beams(&mut b);
        let tiny = 1e-6_f64 / 3600.0 * std::f64::consts::PI / 180.0;
        for x in &b {
            assert!(x.is_valid());
            assert!((x.major_rad - tiny).abs() < 1e-20 && (x.minor_rad - tiny).abs() < 1e-20);
            assert_eq!(x.pa_rad, 0.0);
        }
    }
}

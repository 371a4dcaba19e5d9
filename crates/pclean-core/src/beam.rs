//! Elliptical Gaussian restoring beams.

use serde::{Deserialize, Serialize};

/// An elliptical Gaussian beam: full widths at half maximum and position angle.
///
/// `pa_rad` is measured from north through east (CASA and FITS `BPA` convention).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Beam {
    /// Major-axis FWHM, radians.
    pub major_rad: f64,
    /// Minor-axis FWHM, radians.
    pub minor_rad: f64,
    /// Position angle of the major axis, north through east, radians.
    pub pa_rad: f64,
}

impl Beam {
    /// Solid angle of the beam, steradians (pi * bmaj * bmin / (4 ln 2)).
    pub fn area_sr(&self) -> f64 {
        std::f64::consts::PI * self.major_rad * self.minor_rad / (4.0 * std::f64::consts::LN_2)
    }

    /// True when both axes are positive and finite.
    pub fn is_valid(&self) -> bool {
        self.major_rad.is_finite()
            && self.minor_rad.is_finite()
            && self.pa_rad.is_finite()
            && self.major_rad > 0.0
            && self.minor_rad > 0.0
    }
}

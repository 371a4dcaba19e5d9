//! tclean's Gaussian `uvtaper`, multiplied into the imaging weights after the weighting density.

use crate::weighting::each_positive_weight;
use ndarray::{ArrayView2, ArrayViewMut2};
use pclean_core::params::{parse_uvtaper, ParamError, TaperSizes, UvTaperSpec};
use pclean_core::SPEED_OF_LIGHT;
use std::f64::consts::LN_2;

/// tclean's `uvtaper`: a Gaussian multiplied into the imaging weights
/// (`VisImagingWeight::setFilter` and `VisImagingWeight::filter`).
///
/// CASA's conversion, reproduced exactly:
/// - angular units (image-plane FWHM `b` in radians): `exp(-4 ln2 (b_maj^2 r_u^2 + b_min^2 r_v^2))`;
/// - `lambda`/`klambda`/`Mlambda` (uv-plane size `B` in wavelengths):
///   `exp(-ln2 (r_u^2 / B_maj^2 + r_v^2 / B_min^2))`;
///
/// with `r_u = sin(pa) u + cos(pa) v`, `r_v = -cos(pa) u + sin(pa) v` (u, v in wavelengths, `pa`
/// north through east). Note that CASA's angular form is not the exact Fourier pair of an
/// image-plane Gaussian of FWHM `b` (that would be `exp(-pi^2 b^2 r^2 / (4 ln2))`): we follow CASA.
/// One value gives a circular taper; a missing PA is 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UvTaper {
    /// Coefficient multiplying `r_u^2` (wavelengths^-2).
    coef_maj: f64,
    /// Coefficient multiplying `r_v^2`.
    coef_min: f64,
    /// CASA's `cospa_p` (= sin(pa)) and `sinpa_p` (= cos(pa)).
    cospa: f64,
    sinpa: f64,
}

impl UvTaper {
    /// The taper of a validated `uvtaper` (CASA's coefficients: `4 ln2 a^2` for image-plane
    /// FWHM `a` in radians, `ln2 / b^2` for uv FWHM `b` in wavelengths).
    pub fn new(spec: &UvTaperSpec) -> Self {
        let (coef_maj, coef_min) = match spec.sizes {
            TaperSizes::Angle {
                major_rad: a,
                minor_rad: b,
            } => (4.0 * LN_2 * a * a, 4.0 * LN_2 * b * b),
            TaperSizes::Lambda { major: a, minor: b } => (LN_2 / (a * a), LN_2 / (b * b)),
        };
        let pa = spec.pa_rad;
        UvTaper {
            coef_maj,
            coef_min,
            cospa: pa.sin(),
            sinpa: pa.cos(),
        }
    }

    /// Parse tclean's `uvtaper` list (`pclean_core::params::parse_uvtaper`) into a taper.
    pub fn parse(values: &[String]) -> Result<Option<Self>, ParamError> {
        Ok(parse_uvtaper(values)?.as_ref().map(UvTaper::new))
    }

    /// The taper factor at `(u, v)` in wavelengths.
    pub fn factor(&self, u_lambda: f64, v_lambda: f64) -> f64 {
        let ru = self.cospa * u_lambda + self.sinpa * v_lambda;
        let rv = -self.sinpa * u_lambda + self.cospa * v_lambda;
        (-self.coef_maj * ru * ru - self.coef_min * rv * rv).exp()
    }

    /// Multiply the taper into imaging weights in place (flagged / non-positive samples -> 0).
    ///
    /// # Panics
    /// If the shapes disagree.
    pub fn apply(&self, uvw_m: ArrayView2<f64>, freq_hz: &[f64], weight_rc: ArrayViewMut2<f32>) {
        each_positive_weight(uvw_m, freq_hz, weight_rc, "UvTaper::apply", |w, uvw, c| {
            let k = freq_hz[c] / SPEED_OF_LIGHT;
            *w *= self.factor(uvw[0] * k, uvw[1] * k) as f32;
        });
    }
}

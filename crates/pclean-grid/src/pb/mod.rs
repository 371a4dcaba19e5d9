//! Primary-beam models and the `.pb` image as tclean's `standard` gridder writes it.
//!
//! # Where the rules come from (CASA / LibRA sources)
//! - Model choice: `SynthesisImager::makePBImage(telescope, useSymmetricBeam=False, dishDiam)`
//!   (`synthesis/ImagerObjects/SynthesisImager.cc`), see [`default_pb_model`]: CASA's default
//!   table ([`common`]: ALMA/ACA, VLA per band, EVLA per channel ([`evla`]), ATCA per band,
//!   WSRT, GMRT, OVRO, NRAO12M, NRAO140FT, GBT, HATCREEK/BIMA, IRAMPDB, IRAM30M, SMA, ATA,
//!   NGVLA), else an Airy pattern of the first antenna's dish diameter, else nothing (tclean
//!   then writes no `.pb`). A user `vptable` gives the models of [`PbModel`]'s constructors.
//! - Evaluation: each `PBMath1D*` class tabulates its voltage pattern at 10 000 radii up to the
//!   maximum radius, in arcmin * GHz ([`PbModel::vp_samples`]); `PBMath1D::apply` (Complex
//!   version, `applyXLine`) computes for each pixel the flat-sky offset
//!   `r^2 = (dx*cdelt1)^2 + (dy*cdelt2)^2` (degrees) from the pointing centre, scales it to
//!   `arcmin * GHz` at the plane's frequency, takes the table entry at the truncated index (no
//!   interpolation) and squares it (`ipower = 2`); pixels beyond the maximum radius, and entries
//!   that are 0 or NaN, give 0. Single-precision steps are reproduced. The beam squint is not
//!   used for the `.pb` (`SIMapper::addPB` applies the beam with `BeamSquint::NONE`).
//! - Frequency scaling (`PBMath1D`'s constructor): a model defined at reference frequency `f0`
//!   (GHz) has its maximum radius and Gaussian half width multiplied by `f0` and its cosine
//!   scales divided by `f0` (arcmin -> arcmin * GHz); polynomial coefficients are used as given
//!   (in powers of arcmin * GHz, whatever `f0`).
//! - `pblimit`: `SIImageStore::makePBImage` (`synthesis/ImagerObjects/SIImageStore.cc`)
//!   normalises each plane by its peak only if that exceeds 1, then sets pixels with
//!   `pb <= |pblimit|` to 0 and attaches a pixel mask `pb > |pblimit|` to the `.pb` image
//!   (regardless of the sign of `pblimit`). `SIImageStore::divideResidualByWeight` copies that mask
//!   to the residual (and hence the restored image) only when `pblimit >= 0`; a negative
//!   `pblimit` leaves the products unmasked. See [`pb_mask`] and [`pb_limit_in_place`].

pub mod common;
pub mod evla;
mod table;

pub use common::{common_pb_model, default_pb_model, diameter_pb_model, which_common_pb};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use table::N_SAMPLES;

/// The shape of a circularly symmetric voltage (or power) pattern, in CASA's internal units
/// (radii in arcmin * GHz, i.e. already scaled to 1 GHz).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum VpShape {
    /// `PBMath1DAiry`: a uniformly illuminated dish of diameter `D` with a central blockage `b`.
    Airy {
        dish_diameter_m: f64,
        blockage_diameter_m: f64,
    },
    /// `PBMath1DGauss`: `exp(-ln 2 (r / half_width)^2)`.
    Gauss { half_width_arcmin_ghz: f64 },
    /// `PBMath1DPoly`: `sum_j c_j r^(2j)`.
    Poly { coeffs: Vec<f64> },
    /// `PBMath1DIPoly`: `1 / sum_j c_j r^(2j)`.
    InversePoly { coeffs: Vec<f64> },
    /// `PBMath1DIPoly` with fits at several frequencies, interpolated linearly per plane.
    WideInversePoly {
        coeffs: Vec<Vec<f64>>,
        freqs_hz: Vec<f64>,
    },
    /// `PBMath1DCosPoly`: `sum_j c_j cos(s_j r)^(j+1)` (`scales` already per arcmin * GHz).
    CosPoly { coeffs: Vec<f64>, scales: Vec<f64> },
    /// `PBMath1DNumeric`: samples from the centre to the maximum radius, sinc-interpolated.
    Numeric { values: Vec<f32> },
    /// `PBMath1DEVLA`: the EVLA polynomial fit nearest the plane's frequency ([`evla`]).
    Evla,
}

/// A primary-beam model: a voltage pattern, cut at `max_radius_arcmin_ghz` (arcmin at 1 GHz;
/// it scales as 1 / frequency).
#[derive(Debug, Clone, PartialEq)]
pub struct PbModel {
    pub shape: VpShape,
    pub max_radius_arcmin_ghz: f64,
    /// Whether the shape gives the voltage pattern (else the power pattern).
    pub is_vp: bool,
    /// What the model is, for logs ("ALMA", "VLA_L", "vptable row 3 (AIRY)", ...).
    pub label: String,
}

impl PbModel {
    fn at_ref(shape: VpShape, max_radius_arcmin: f64, ref_ghz: f64, is_vp: bool) -> Self {
        PbModel {
            shape,
            max_radius_arcmin_ghz: max_radius_arcmin * ref_ghz,
            is_vp,
            label: String::new(),
        }
    }

    /// The same model with a description for logs.
    pub fn labelled(mut self, label: &str) -> Self {
        self.label = label.to_string();
        self
    }

    /// `PBMath1DAiry(dish, blockage, maxrad, reffreq)`: a voltage pattern.
    pub fn airy(dish_m: f64, blockage_m: f64, max_radius_arcmin: f64, ref_ghz: f64) -> Self {
        let shape = VpShape::Airy {
            dish_diameter_m: dish_m,
            blockage_diameter_m: blockage_m,
        };
        Self::at_ref(shape, max_radius_arcmin, ref_ghz, true)
    }

    /// `PBMath1DGauss(halfwidth, maxrad, reffreq, isThisVP)`.
    pub fn gauss(
        half_width_arcmin: f64,
        max_radius_arcmin: f64,
        ref_ghz: f64,
        is_vp: bool,
    ) -> Self {
        let shape = VpShape::Gauss {
            half_width_arcmin_ghz: half_width_arcmin * ref_ghz,
        };
        Self::at_ref(shape, max_radius_arcmin, ref_ghz, is_vp)
    }

    /// `PBMath1DPoly(coeff, maxrad, reffreq, isThisVP)`.
    pub fn poly(coeffs: Vec<f64>, max_radius_arcmin: f64, ref_ghz: f64, is_vp: bool) -> Self {
        Self::at_ref(VpShape::Poly { coeffs }, max_radius_arcmin, ref_ghz, is_vp)
    }

    /// `PBMath1DIPoly(coeff, maxrad, reffreq, isThisVP)`.
    pub fn inverse_poly(
        coeffs: Vec<f64>,
        max_radius_arcmin: f64,
        ref_ghz: f64,
        is_vp: bool,
    ) -> Self {
        Self::at_ref(
            VpShape::InversePoly { coeffs },
            max_radius_arcmin,
            ref_ghz,
            is_vp,
        )
    }

    /// `PBMath1DIPoly(coeff matrix, fit freqs, maxrad, reffreq, isThisVP)`: `coeffs[n]` are the
    /// coefficients fitted at `freqs_hz[n]` (ascending).
    pub fn wide_inverse_poly(
        coeffs: Vec<Vec<f64>>,
        freqs_hz: Vec<f64>,
        max_radius_arcmin: f64,
        ref_ghz: f64,
        is_vp: bool,
    ) -> Self {
        let shape = VpShape::WideInversePoly { coeffs, freqs_hz };
        Self::at_ref(shape, max_radius_arcmin, ref_ghz, is_vp)
    }

    /// `PBMath1DCosPoly(coeff, scale, maxrad, reffreq, isThisVP)`.
    pub fn cos_poly(
        coeffs: Vec<f64>,
        scales: Vec<f64>,
        max_radius_arcmin: f64,
        ref_ghz: f64,
        is_vp: bool,
    ) -> Self {
        let scales = scales.iter().map(|s| s / ref_ghz).collect();
        Self::at_ref(
            VpShape::CosPoly { coeffs, scales },
            max_radius_arcmin,
            ref_ghz,
            is_vp,
        )
    }

    /// `PBMath1DNumeric(vect, maxrad, reffreq, isThisVP)`: at least 2 samples.
    pub fn numeric(values: Vec<f32>, max_radius_arcmin: f64, ref_ghz: f64, is_vp: bool) -> Self {
        Self::at_ref(
            VpShape::Numeric { values },
            max_radius_arcmin,
            ref_ghz,
            is_vp,
        )
    }
}

/// CASA's default primary beam for an observatory (`OBSERVATION::TELESCOPE_NAME`), the dish
/// diameter of the first ANTENNA row and the frequency of image channel 0; see
/// [`default_pb_model`] (this is it).
pub fn pb_model_for(telescope: &str, dish_diameter_m: f64, freq_hz: f64) -> Option<PbModel> {
    default_pb_model(telescope, dish_diameter_m, freq_hz)
}

/// The primary beam (power pattern) on an image grid, `pb_yx[[y, x]]`, centred on the reference
/// pixel `(nx/2, ny/2)` where it is 1. `cell_x_rad`/`cell_y_rad` are absolute pixel sizes;
/// `freq_hz` is the plane's frequency. Pixels beyond the model's maximum radius are 0.
pub fn pb_image(
    model: &PbModel,
    nx: usize,
    ny: usize,
    cell_x_rad: f64,
    cell_y_rad: f64,
    freq_hz: f64,
) -> Array2<f32> {
    let centre = [(nx / 2) as f64, (ny / 2) as f64];
    pb_image_at(model, nx, ny, [cell_x_rad, cell_y_rad], freq_hz, centre)
}

/// [`pb_image`] centred on pixel `centre_xy` (fractional, 0-based; it may lie outside the image):
/// CASA's `PBMath1D::apply`, which takes the radius of pixel (x, y) from the pointing's pixel as
/// `|cell| * (x - x0)` and `|cell| * (y - y0)` (degrees), a flat offset on the image grid.
/// `cells_rad`: the x and y pixel sizes.
pub fn pb_image_at(
    model: &PbModel,
    nx: usize,
    ny: usize,
    cells_rad: [f64; 2],
    freq_hz: f64,
    centre_xy: [f64; 2],
) -> Array2<f32> {
    let mut pb = Array2::<f32>::zeros((ny, nx));
    pb_add_at(model, cells_rad, freq_hz, centre_xy, pb.view_mut());
    pb
}

/// Add the beam of [`pb_image_at`] into `pb_yx` (`(ny, nx)`) in place: tclean's `.pb` of several
/// fields is the sum of their beams (`SIMapper::addPB`), made here without a plane per field.
pub fn pb_add_at(
    model: &PbModel,
    cells_rad: [f64; 2],
    freq_hz: f64,
    centre_xy: [f64; 2],
    mut pb_yx: ArrayViewMut2<f32>,
) {
    let (ny, nx) = pb_yx.dim();
    let [cell_x_rad, cell_y_rad] = cells_rad;
    let vp = model.vp_samples(freq_hz);
    let maxrad = model.max_radius_arcmin_ghz;
    let inverse_increment_radius = (N_SAMPLES - 1) as f64 / maxrad;
    let factor = 60.0 * freq_hz / 1e9; // degrees -> arcmin * GHz
    let rmax2 = (maxrad / factor) * (maxrad / factor);
    let incr_x_deg = cell_x_rad.abs().to_degrees();
    let incr_y_deg = cell_y_rad.abs().to_degrees();
    let [xc, yc] = centre_xy;
    // PBMath1D::apply: Vector<Float> rx2, ry2 (double products stored as float).
    let rx2: Vec<f32> = (0..nx)
        .map(|ix| (incr_x_deg * (ix as f64 - xc)).powi(2) as f32)
        .collect();
    let ry2: Vec<f32> = (0..ny)
        .map(|iy| (incr_y_deg * (iy as f64 - yc)).powi(2) as f32)
        .collect();
    for (iy, mut row) in pb_yx.outer_iter_mut().enumerate() {
        for (ix, p) in row.iter_mut().enumerate() {
            let r2: f32 = rx2[ix] + ry2[iy];
            if r2 as f64 > rmax2 {
                continue;
            }
            let r: f32 = (r2.sqrt() as f64 * factor) as f32;
            let idx = (r as f64 * inverse_increment_radius) as usize;
            if let Some(&v) = vp.get(idx) {
                // `norm(vp) > 0` (false for 0 and NaN), then vp * conj(vp) in single precision.
                let power = v * v;
                if power > 0.0 {
                    *p += power;
                }
            }
        }
    }
}

/// tclean's treatment of a `.pb` plane (`SIImageStore::makePBImage`): divide by the peak if the
/// peak exceeds 1, then set every pixel with `pb <= |pblimit|` to 0.
pub fn pb_limit_in_place(mut pb_yx: ArrayViewMut2<f32>, pblimit: f64) {
    let peak = pb_yx.iter().fold(0f32, |m, &v| m.max(v.abs()));
    let lim = pblimit.abs() as f32;
    pb_yx.mapv_inplace(|v| {
        // `pb / max` as CASA's LatticeExpr (a division: the peak pixel becomes exactly 1).
        let v = if peak > 1.0 { v / peak } else { v };
        if v > lim {
            v
        } else {
            0.0
        }
    });
}

/// The primary-beam mask of tclean's products.
#[derive(Debug, Clone, PartialEq)]
pub struct PbMask {
    /// `pb > |pblimit|`, indexed `[[y, x]]`: the pixel mask tclean attaches to the `.pb` image
    /// (always) and to the residual / restored image (only when [`PbMask::applies_to_products`]).
    pub valid_yx: Array2<bool>,
    /// `pblimit >= 0`: products (residual, image) carry the mask; a negative `pblimit` writes the
    /// `.pb` (and its mask) but leaves the other products unmasked.
    pub applies_to_products: bool,
}

/// The mask defined by `pblimit` on a primary-beam plane (see [`PbMask`]).
pub fn pb_mask(pb_yx: ArrayView2<f32>, pblimit: f64) -> PbMask {
    let lim = pblimit.abs() as f32;
    PbMask {
        valid_yx: pb_yx.mapv(|v| v > lim),
        applies_to_products: pblimit >= 0.0,
    }
}

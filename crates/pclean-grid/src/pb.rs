//! Primary-beam models and the `.pb` image as tclean's `standard` gridder writes it.
//!
//! # Where the rules come from (CASA / LibRA sources)
//! - Model choice: `SynthesisImager::makePBImage(telescope, useSymmetricBeam=False, dishDiam)`
//!   (`synthesis/ImagerObjects/SynthesisImager.cc`): a telescope known to `PBMath::enumerateCommonPB`
//!   uses `PBMath(telescope, ..., freq of image channel 0)` ->
//!   `PBMath::whichCommonPBtoUse` + `PBMath::initByTelescope`
//!   (`synthesis/TransformMachines/PBMath.cc`); otherwise `PBMath(dishDiam)` (`initByDiameter`).
//!   - `ALMA` (12 m; CASA switches to `ACA` when the dish is < 12 m): `PBMath1DAiry(10.7 m, 0.75 m,
//!     maxrad 1.784 deg, 1 GHz)`; `ACA`: `PBMath1DAiry(6.25 m, 0.75 m, 3.568 deg, 1 GHz)`.
//!   - `VLA` at 1-2 GHz (band L): `PBMath1DAiry(25 m, 2.36 m, 0.8564 deg, 1 GHz)` (its beam squint
//!     is not used for the `.pb`: `SIMapper::addPB` applies the beam with `BeamSquint::NONE`).
//!     The other VLA bands use the same Airy parameters with their own maximum radius (see
//!     [`pb_model_for`]).
//!   - otherwise: `initByDiameter` builds a `PBMath1DNumeric` from a tabulated VLA-like Airy
//!     pattern scaled to the dish diameter; we use the closed-form Airy pattern of that diameter
//!     (no blockage), which is what that table approximates (see [`PbModel::Airy`]).
//! - Evaluation: `PBMath1DAiry::fillPBArray` tabulates the voltage pattern at 10 000 radii up to
//!   the maximum radius (in arcmin at 1 GHz); `PBMath1D::apply` (Complex version, `applyXLine`)
//!   computes for each pixel the flat-sky offset `r^2 = (dx*cdelt1)^2 + (dy*cdelt2)^2` (degrees)
//!   from the pointing centre, scales it to `arcmin * GHz`, takes the table entry at the
//!   truncated index (no interpolation) and squares it (`ipower = 2`); pixels beyond the maximum
//!   radius are 0. Single-precision steps are reproduced.
//! - `pblimit`: `SIImageStore::makePBImage` (`synthesis/ImagerObjects/SIImageStore.cc`)
//!   normalises each plane by its peak only if that exceeds 1, then sets pixels with
//!   `pb <= |pblimit|` to 0 and attaches a pixel mask `pb > |pblimit|` to the `.pb` image
//!   (regardless of the sign of `pblimit`). `SIImageStore::divideResidualByWeight` copies that mask
//!   to the residual (and hence the restored image) only when `pblimit >= 0`; a negative
//!   `pblimit` leaves the products unmasked. See [`pb_mask`] and [`pb_limit_in_place`].

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

/// Number of samples in CASA's voltage-pattern tables (`PBMath1DAiry::fillPBArray`).
const N_SAMPLES: usize = 10_000;

/// A primary-beam model (a circularly symmetric voltage pattern).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum PbModel {
    /// CASA's `PBMath1DAiry`: the voltage pattern of a uniformly illuminated dish of diameter `D`
    /// with a central blockage `b`. `max_radius_arcmin_ghz` is the radius (arcmin at 1 GHz; it
    /// scales as 1/frequency) beyond which the beam is 0.
    Airy {
        dish_diameter_m: f64,
        blockage_diameter_m: f64,
        max_radius_arcmin_ghz: f64,
    },
    /// No primary beam (`pb = 1` everywhere), for telescopes CASA does not know and no diameter.
    Unity,
}

/// `maxrad` of CASA's VLA Airy models, degrees at 1 GHz.
const VLA_L_MAXRAD_DEG: f64 = 0.8564;

/// CASA's default primary beam for an observatory (`OBSERVATION::TELESCOPE_NAME`), the dish
/// diameter from the ANTENNA table and the frequency of image channel 0 (used only to pick the
/// VLA band, as `PBMath::whichCommonPBtoUse` does).
///
/// - names starting with `ALMA` (or `ATF`): ALMA 12 m effective aperture 10.7 m, blockage 0.75 m,
///   maximum radius 1.784 deg; `ACA`, or ALMA with a dish < 12 m: 6.25 m / 0.75 m / 3.568 deg;
/// - names starting with `VLA`: Airy 25 m / 2.36 m, maximum radius 0.8564 deg (all VLA bands;
///   `VLA_NVSS`, 24.5 m unblocked, between bands). `EVLA` gets the same model here, but CASA's
///   `standard` gridder uses `PBMath1DEVLA` (band-wise polynomial beams) for it: not yet
///   implemented;
/// - anything else with a positive diameter: an unblocked Airy pattern of that diameter,
///   cut at CASA's `initByDiameter` radius (1.1998662' * 25 m / D at 43 GHz);
/// - otherwise [`PbModel::Unity`].
pub fn pb_model_for(telescope: &str, dish_diameter_m: f64) -> PbModel {
    pb_model_for_freq(telescope, dish_diameter_m, 1.4e9)
}

/// As [`pb_model_for`], choosing the VLA band from `freq_hz` (image channel 0).
pub fn pb_model_for_freq(telescope: &str, dish_diameter_m: f64, freq_hz: f64) -> PbModel {
    let name = telescope.trim().to_ascii_uppercase();
    let airy = |d: f64, b: f64, maxrad_deg: f64| PbModel::Airy {
        dish_diameter_m: d,
        blockage_diameter_m: b,
        max_radius_arcmin_ghz: maxrad_deg * 60.0,
    };
    let is_alma = name.starts_with("ALMA") || name.starts_with("ATF");
    if name.starts_with("ACA") || (is_alma && dish_diameter_m > 0.0 && dish_diameter_m < 12.0) {
        return airy(6.25, 0.75, 3.568);
    }
    if is_alma {
        return airy(10.7, 0.75, 1.784);
    }
    if name.starts_with("VLA") || name.starts_with("EVLA") {
        // PBMath::whichCommonPBtoUse band edges; every VLA_<band> in PBMath::initByTelescope is
        // Airy 25 m / 2.36 m / 0.8564 deg; frequencies outside the bands get VLA_NVSS.
        let ghz = freq_hz / 1e9;
        let in_band = (ghz > 1.0 && ghz < 2.0)
            || (ghz > 4.0 && ghz < 7.0)
            || (ghz > 7.0 && ghz < 11.0)
            || (ghz > 11.0 && ghz < 19.0)
            || (ghz > 19.0 && ghz < 35.0)
            || (ghz > 35.0 && ghz < 55.0)
            || (ghz > 0.2 && ghz < 0.4)
            || ghz < 0.1;
        return if in_band {
            airy(25.0, 2.36, VLA_L_MAXRAD_DEG)
        } else {
            airy(24.5, 0.0, VLA_L_MAXRAD_DEG)
        };
    }
    if dish_diameter_m > 0.0 {
        return PbModel::Airy {
            dish_diameter_m,
            blockage_diameter_m: 0.0,
            max_radius_arcmin_ghz: 1.1998662 * 25.0 / dish_diameter_m * 43.0,
        };
    }
    PbModel::Unity
}

/// CASA's tabulated voltage pattern (`PBMath1DAiry::fillPBArray`), single precision.
fn airy_vp_table(d: f64, b: f64, max_radius_arcmin_ghz: f64) -> Vec<f32> {
    // CASA maps the maximum radius (arcmin at 1 GHz) to the Bessel argument with the constant
    // 7.016 / (1.566 * 60) for a 24.5 m dish (7.016 is the second null of J1 x / x).
    let dimless_max = max_radius_arcmin_ghz * 7.016 / (1.566 * 60.0) * d / 24.5;
    let dimless_iir = (N_SAMPLES - 1) as f64 / dimless_max;
    let mut vp = vec![0f32; N_SAMPLES];
    vp[0] = 1.0;
    if b == 0.0 {
        for (i, v) in vp.iter_mut().enumerate().skip(1) {
            let x = i as f64 / dimless_iir;
            *v = (2.0 * libm::j1(x) / x) as f32;
        }
    } else {
        let area_ratio = (d / b) * (d / b);
        let area_norm = area_ratio - 1.0;
        // CASA scales the blockage term's argument by D/b (not b/D); reproduced as is.
        let length_ratio = d / b;
        for (i, v) in vp.iter_mut().enumerate().skip(1) {
            let x = i as f64 / dimless_iir;
            let xb = x * length_ratio;
            *v =
                ((area_ratio * 2.0 * libm::j1(x) / x - 2.0 * libm::j1(xb) / xb) / area_norm) as f32;
        }
    }
    vp
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
    let (d, b, maxrad) = match *model {
        PbModel::Unity => return Array2::ones((ny, nx)),
        PbModel::Airy {
            dish_diameter_m,
            blockage_diameter_m,
            max_radius_arcmin_ghz,
        } => (dish_diameter_m, blockage_diameter_m, max_radius_arcmin_ghz),
    };
    let vp = airy_vp_table(d, b, maxrad);
    let inverse_increment_radius = (N_SAMPLES - 1) as f64 / maxrad;
    let factor = 60.0 * freq_hz / 1e9; // degrees -> arcmin * GHz
    let rmax2 = (maxrad / factor) * (maxrad / factor);
    let incr_x_deg = cell_x_rad.abs().to_degrees();
    let incr_y_deg = cell_y_rad.abs().to_degrees();
    let (xc, yc) = ((nx / 2) as f64, (ny / 2) as f64);
    // PBMath1D::apply: Vector<Float> rx2, ry2 (double products stored as float).
    let rx2: Vec<f32> = (0..nx)
        .map(|ix| (incr_x_deg * (ix as f64 - xc)).powi(2) as f32)
        .collect();
    let ry2: Vec<f32> = (0..ny)
        .map(|iy| (incr_y_deg * (iy as f64 - yc)).powi(2) as f32)
        .collect();
    let mut pb = Array2::<f32>::zeros((ny, nx));
    for (iy, mut row) in pb.outer_iter_mut().enumerate() {
        for (ix, p) in row.iter_mut().enumerate() {
            let r2: f32 = rx2[ix] + ry2[iy];
            if r2 as f64 > rmax2 {
                continue;
            }
            let r: f32 = (r2.sqrt() as f64 * factor) as f32;
            let idx = (r as f64 * inverse_increment_radius) as usize;
            if let Some(&v) = vp.get(idx) {
                *p = v * v;
            }
        }
    }
    pb
}

/// tclean's treatment of a `.pb` plane (`SIImageStore::makePBImage`): divide by the peak if the
/// peak exceeds 1, then set every pixel with `pb <= |pblimit|` to 0.
pub fn pb_limit_in_place(mut pb_yx: ArrayViewMut2<f32>, pblimit: f64) {
    let peak = pb_yx.iter().fold(0f32, |m, &v| m.max(v.abs()));
    let lim = pblimit.abs() as f32;
    let scale = if peak > 1.0 { 1.0 / peak } else { 1.0 };
    pb_yx.mapv_inplace(|v| {
        let v = if peak > 1.0 { v * scale } else { v };
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

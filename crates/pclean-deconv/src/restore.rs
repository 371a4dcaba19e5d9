//! Restoration: model ⊛ restoring beam + residual, common beams, residual re-convolution and
//! primary-beam correction. Pure image math over `[[y, x]]` planes.
//!
//! # Conventions
//! - Planes are `plane_yx[[y, x]]`, `f32`, with `x` the RA pixel and RA increasing to the *left*:
//!   the east offset of pixel `x` from pixel `x0` is `-(x - x0) * cell_x`, the north offset of `y`
//!   from `y0` is `(y - y0) * cell_y`. Cell sizes are magnitudes (the sign of CASA's `cdelt1` is
//!   ignored: `|cell|` is used).
//! - [`Beam`] axes are FWHMs in radians; the position angle runs from north through east, so a
//!   PA of +30° tilts the major axis towards east, i.e. towards *decreasing* `x`.
//! - The model is in Jy/pixel, residuals and restored images in Jy/beam.
//!
//! # Source
//! tclean's restoration is `SIImageStore::restore` (LibRA/CASA `synthesis/ImagerObjects`):
//! 1. the model plane is convolved with the restoring beam by `StokesImageUtil::Convolve`, whose
//!    kernel (`MakeGaussianPSF`, `normalizeVolume = False`) is the Gaussian *sampled* at pixel
//!    offsets from the reference pixel, peak 1, set to 0 where `4 ln2 * r² > 20`
//!    ([`gaussian_kernel`] does the same, with separate x and y cells where CASA assumes equal
//!    ones). A 1 Jy model pixel therefore restores to exactly 1 Jy/beam at that pixel;
//! 2. the residual is added; with `restoringbeam='common'` (or an explicit beam) the residual is
//!    first convolved from its PSF beam to the restoring beam (`SIImageStore::rescaleResolution`,
//!    [`convolve_to_beam`]);
//! 3. the common beam is `CasaImageBeamSet::getCommonBeam` ([`common_beam`]), which uses
//!    `GaussianDeconvolver::deconvolve` ([`deconvolve_beam`]);
//! 4. `SIImageStore::pbcor` writes `.image.pbcor` ([`pbcor`], [`pbcor_masked`]).
//!
//! # Differences from CASA, on purpose
//! - CASA convolves by FFT *without* padding (circular convolution: flux within a beam of one
//!   edge wraps onto the opposite edge). Here planes are zero-padded by the kernel's extent, so
//!   the result is the linear convolution cropped to the image.
//! - CASA's `rescaleResolution` silently leaves the residual untouched (neither convolved nor
//!   rescaled) when the difference beam's minor axis is smaller than the pixel diagonal, which
//!   leaves it in the wrong Jy/beam. [`convolve_to_beam`] always convolves; sub-pixel difference
//!   beams are exact because the convolution uses the analytic Fourier transform of the
//!   difference Gaussian.
//!
//! Kernels run on the calling thread; callers parallelise over planes.

mod beams;
mod padded;

use beams::{casa_deconvolve, Cov, Deconvolved};
pub use beams::{common_beam, deconvolve_beam};
use ndarray::{Array2, ArrayView2};
use padded::PaddedFft;
use pclean_core::Beam;
use std::f64::consts::{LN_2, PI};

/// Why a restoration step could not be done.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// A beam has a zero, negative or non-finite axis or position angle.
    #[error(
        "{what} beam is not valid (major {major_rad} rad, minor {minor_rad} rad, pa {pa_rad} rad)"
    )]
    InvalidBeam {
        what: &'static str,
        major_rad: f64,
        minor_rad: f64,
        pa_rad: f64,
    },
    /// Two planes that must have the same shape do not.
    #[error("{what} has shape {got:?} (ny, nx), expected {expected:?}")]
    ShapeMismatch {
        what: &'static str,
        expected: (usize, usize),
        got: (usize, usize),
    },
    /// A cell size is zero or not finite.
    #[error("cell sizes must be non-zero and finite, got {cell_x_rad} x {cell_y_rad} rad")]
    InvalidCell { cell_x_rad: f64, cell_y_rad: f64 },
    /// The target beam does not enclose the source beam (CASA: "Source may be only (slightly)
    /// resolved in one direction").
    #[error("beam {to:?} does not enclose beam {from:?}: cannot convolve to it")]
    NotEnclosing { from: Beam, to: Beam },
    /// No valid beam was given to [`common_beam`].
    #[error("no valid beams to build a common beam from")]
    NoValidBeams,
    /// The common-beam iteration did not settle (should not happen for valid beams).
    #[error("common beam search did not converge")]
    CommonBeamNotConverged,
}

/// CASA's kernel truncation: `MakeGaussianPSF` sets pixels with `4 ln2 r²/fwhm² >= 20` to 0.
const KERNEL_EXPONENT_CUTOFF: f64 = 20.0;

fn check_beam(what: &'static str, b: &Beam) -> Result<(), RestoreError> {
    if b.is_valid() {
        Ok(())
    } else {
        Err(RestoreError::InvalidBeam {
            what,
            major_rad: b.major_rad,
            minor_rad: b.minor_rad,
            pa_rad: b.pa_rad,
        })
    }
}

fn check_cells(cell_x_rad: f64, cell_y_rad: f64) -> Result<(f64, f64), RestoreError> {
    let (cx, cy) = (cell_x_rad.abs(), cell_y_rad.abs());
    if cx.is_finite() && cy.is_finite() && cx > 0.0 && cy > 0.0 {
        Ok((cx, cy))
    } else {
        Err(RestoreError::InvalidCell {
            cell_x_rad,
            cell_y_rad,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Kernels.

/// Evaluates a peak-1 Gaussian beam at pixel offsets, truncated like CASA's `MakeGaussianPSF`.
struct GaussEval {
    inv: Cov,
    cx: f64,
    cy: f64,
}

impl GaussEval {
    fn new(beam: &Beam, cx: f64, cy: f64) -> Self {
        GaussEval {
            inv: Cov::from_beam(beam).inv(),
            cx,
            cy,
        }
    }

    /// Value at pixel offset (dx, dy) (x to the west, y to the north).
    #[inline]
    fn at(&self, dx: f64, dy: f64) -> f64 {
        let q = 4.0 * LN_2 * self.inv.quad(-dx * self.cx, dy * self.cy);
        if q < KERNEL_EXPONENT_CUTOFF {
            (-q).exp()
        } else {
            0.0
        }
    }

    /// Half-extents (hy, hx) in pixels of the truncated support, capped at `n - 1`.
    fn half_extent(beam: &Beam, cx: f64, cy: f64, ny: usize, nx: usize) -> (usize, usize) {
        half_extent_cov(Cov::from_beam(beam), cx, cy, ny, nx)
    }
}

/// Bounding box of the ellipse `4 ln2 rᵀ Σ⁻¹ r = 20`: `sqrt(20/(4 ln2) Σii)` per axis.
fn half_extent_cov(c: Cov, cx: f64, cy: f64, ny: usize, nx: usize) -> (usize, usize) {
    let k = KERNEL_EXPONENT_CUTOFF / (4.0 * LN_2);
    let hx = ((k * c.ee).sqrt() / cx).ceil() as usize;
    let hy = ((k * c.nn).sqrt() / cy).ceil() as usize;
    (hy.min(ny.saturating_sub(1)), hx.min(nx.saturating_sub(1)))
}

/// The restoring-beam kernel on an `ny x nx` grid: peak 1 at `[[ny/2, nx/2]]`, zero where
/// `4 ln2 r²/fwhm² >= 20` (CASA's `StokesImageUtil::MakeGaussianPSF` with
/// `normalizeVolume = False`, reference pixel at the image centre).
pub fn gaussian_kernel(
    beam: &Beam,
    cell_x_rad: f64,
    cell_y_rad: f64,
    nx: usize,
    ny: usize,
) -> Result<Array2<f32>, RestoreError> {
    check_beam("restoring", beam)?;
    let (cx, cy) = check_cells(cell_x_rad, cell_y_rad)?;
    let g = GaussEval::new(beam, cx, cy);
    let (x0, y0) = ((nx / 2) as f64, (ny / 2) as f64);
    Ok(Array2::from_shape_fn((ny, nx), |(y, x)| {
        g.at(x as f64 - x0, y as f64 - y0) as f32
    }))
}

/// `model ⊛ beam + residual`: the restored plane, Jy/beam.
///
/// The model (Jy/pixel) is convolved with the peak-1 restoring-beam kernel of
/// [`gaussian_kernel`] (so a 1 Jy model pixel gives 1 Jy/beam there), zero-padded so nothing wraps
/// around, and the residual (already in the restoring beam's Jy/beam; see [`convolve_to_beam`])
/// is added. An all-zero model skips the convolution (as tclean does for an empty model).
pub fn restore_plane(
    model: ArrayView2<f32>,
    residual: ArrayView2<f32>,
    beam: &Beam,
    cell_x_rad: f64,
    cell_y_rad: f64,
) -> Result<Array2<f32>, RestoreError> {
    check_beam("restoring", beam)?;
    let (cx, cy) = check_cells(cell_x_rad, cell_y_rad)?;
    let (ny, nx) = residual.dim();
    if model.dim() != (ny, nx) {
        return Err(RestoreError::ShapeMismatch {
            what: "model",
            expected: (ny, nx),
            got: model.dim(),
        });
    }
    if ny == 0 || nx == 0 || model.iter().all(|v| *v == 0.0) {
        return Ok(residual.to_owned());
    }
    let g = GaussEval::new(beam, cx, cy);
    let (hy, hx) = GaussEval::half_extent(beam, cx, cy, ny, nx);
    let fft = PaddedFft::new(ny, nx, hy, hx);
    let (pny, pnx) = (fft.pny, fft.pnx);
    // The kernel, centred on pixel (0, 0) and wrapped.
    let kernel = fft.forward(|y, row| {
        let dy = PaddedFft::signed(y, pny);
        if dy.abs() > hy as f64 {
            return false;
        }
        for (x, r) in row.iter_mut().enumerate() {
            let dx = PaddedFft::signed(x, pnx);
            if dx.abs() <= hx as f64 {
                *r = g.at(dx, dy) as f32;
            }
        }
        true
    });
    let mut spec = fft.forward_plane(model);
    for (s, k) in spec.iter_mut().zip(&kernel) {
        *s *= *k;
    }
    let mut out = fft.inverse(spec);
    out += &residual;
    Ok(out)
}

/// A plane in Jy/beam for beam `from`, convolved to the larger beam `to` and rescaled so it is
/// in Jy/beam for `to` (a point source of flux S peaks at S before and after). This is what
/// tclean does to the residual with `restoringbeam='common'` (`SIImageStore::rescaleResolution`:
/// convolve with the unit-volume difference Gaussian, multiply by `area(to)/area(from)`).
///
/// The difference Gaussian is applied as its analytic Fourier transform on the zero-padded plane
/// (exact for any size, including sub-pixel). When the beams agree within CASA's tolerance the
/// plane is returned unchanged (CASA: "Input and output beam sizes are the same"); when `to` does
/// not enclose `from` the result is [`RestoreError::NotEnclosing`] (CASA warns and leaves the
/// residual unconvolved).
pub fn convolve_to_beam(
    plane: ArrayView2<f32>,
    from: &Beam,
    to: &Beam,
    cell_x_rad: f64,
    cell_y_rad: f64,
) -> Result<Array2<f32>, RestoreError> {
    check_beam("source", from)?;
    check_beam("target", to)?;
    let (cx, cy) = check_cells(cell_x_rad, cell_y_rad)?;
    let diff = match casa_deconvolve(to, from) {
        // Identical beams deconvolve to a zero-size Gaussian: nothing to do.
        Deconvolved::Gaussian(b) if b.major_rad == 0.0 => return Ok(plane.to_owned()),
        Deconvolved::Gaussian(b) => b,
        Deconvolved::Point => return Ok(plane.to_owned()),
        Deconvolved::Fail => {
            return Err(RestoreError::NotEnclosing {
                from: *from,
                to: *to,
            })
        }
    };
    let (ny, nx) = plane.dim();
    if ny == 0 || nx == 0 {
        return Ok(plane.to_owned());
    }
    let cd = Cov::from_beam(&diff);
    let (hy, hx) = half_extent_cov(cd, cx, cy, ny, nx);
    let fft = PaddedFft::new(ny, nx, hy + 1, hx + 1);
    let scale = (to.major_rad * to.minor_rad) / (from.major_rad * from.minor_rad);
    // Unit-volume Gaussian with FWHM² matrix F has transform exp(-π² kᵀ F k / (4 ln2)), k in
    // cycles/radian (east, north). FFT bin (kx, ky) is f = k/n cycles/pixel; east = -x.
    let c = PI * PI / (4.0 * LN_2);
    let mut spec = fft.forward_plane(plane);
    for kx in 0..fft.nkx {
        let ke = -(kx as f64) / (fft.pnx as f64 * cx);
        for ky in 0..fft.pny {
            let kn = PaddedFft::signed(ky, fft.pny) / (fft.pny as f64 * cy);
            let t = scale * (-c * cd.quad(ke, kn)).exp();
            spec[kx * fft.pny + ky] *= t as f32;
        }
    }
    Ok(fft.inverse(spec))
}

// ---------------------------------------------------------------------------------------------
// Primary-beam correction.

fn check_same(image: &ArrayView2<f32>, pb: &ArrayView2<f32>) -> Result<(), RestoreError> {
    if image.dim() != pb.dim() {
        return Err(RestoreError::ShapeMismatch {
            what: "pb",
            expected: image.dim(),
            got: pb.dim(),
        });
    }
    Ok(())
}

/// Primary-beam corrected plane for display and FITS: `image / pb` where `pb > |pblimit|`
/// (and `pb > 0`), NaN elsewhere.
///
/// tclean (`SIImageStore::pbcor`) writes `iif(pb > 0, image/pb, 0)` into `.image.pbcor`, with the
/// `.pb` image already zeroed where `pb <= |pblimit|`, and copies the pb's mask (`pb > |pblimit|`)
/// as the image's default mask; `exportfits` then writes masked pixels as NaN. This function
/// returns that NaN-blanked view; [`pbcor_masked`] returns CASA's stored values and mask.
pub fn pbcor(
    image: ArrayView2<f32>,
    pb: ArrayView2<f32>,
    pblimit: f32,
) -> Result<Array2<f32>, RestoreError> {
    let (vals, mask) = pbcor_masked(image, pb, pblimit)?;
    Ok(ndarray::Zip::from(&vals)
        .and(&mask)
        .map_collect(|v, m| if *m { *v } else { f32::NAN }))
}

/// Primary-beam correction exactly as tclean stores it: values `image / pb` where
/// `pb > |pblimit|` and `pb > 0`, 0 elsewhere, and the mask (`true` = good) `pb > |pblimit|`.
/// The mask is made whatever the sign of `pblimit` (tclean's `makePBImage` always creates it).
pub fn pbcor_masked(
    image: ArrayView2<f32>,
    pb: ArrayView2<f32>,
    pblimit: f32,
) -> Result<(Array2<f32>, Array2<bool>), RestoreError> {
    check_same(&image, &pb)?;
    let lim = pblimit.abs();
    let mask = pb.mapv(|p| p > lim && p > 0.0);
    let vals = ndarray::Zip::from(&image)
        .and(&pb)
        .and(&mask)
        .map_collect(|i, p, m| if *m { *i / *p } else { 0.0 });
    Ok((vals, mask))
}

#[cfg(test)]
mod tests {
    use super::beams::fold_pa;
    use super::*;

    const AS: f64 = PI / 180.0 / 3600.0;

    #[test]
    fn cov_roundtrip_keeps_beam() {
        let b = Beam {
            major_rad: 5.0 * AS,
            minor_rad: 2.0 * AS,
            pa_rad: 30f64.to_radians(),
        };
        let r = Cov::from_beam(&b).to_beam();
        assert!((r.major_rad - b.major_rad).abs() < 1e-12 * AS.max(b.major_rad));
        assert!((r.minor_rad - b.minor_rad).abs() < 1e-12 * AS.max(b.major_rad));
        assert!((r.pa_rad - b.pa_rad).abs() < 1e-12);
    }

    #[test]
    fn cov_sqrt_squares_back() {
        let c = Cov::from_beam(&Beam {
            major_rad: 3.0,
            minor_rad: 1.0,
            pa_rad: 0.7,
        });
        let s = c.sqrt();
        let back = Cov {
            ee: 1.0,
            en: 0.0,
            nn: 1.0,
        }
        .congruence(s);
        for (a, b) in [(back.ee, c.ee), (back.en, c.en), (back.nn, c.nn)] {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    #[test]
    fn fold_pa_into_half_open_range() {
        assert!((fold_pa(100f64.to_radians()) - (-80f64).to_radians()).abs() < 1e-12);
        assert!((fold_pa(-90f64.to_radians()) - 90f64.to_radians()).abs() < 1e-12);
        assert!((fold_pa(270f64.to_radians()) - 90f64.to_radians()).abs() < 1e-12);
    }
}

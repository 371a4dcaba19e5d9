//! Smoothing masks with the beam: the Gaussian in pixel offsets and its zero-padded FFT
//! convolution.

use crate::masks;
use ndarray::{Array2, ArrayView2};
use pclean_core::Beam;
use pclean_fft::{smooth_len, RealFft2};

/// Smooth a mask and keep pixels above `cut x` the smoothed peak (never below 1e-6 x the peak).
pub(super) fn smooth_and_cut(
    smoother: &GaussianSmoother,
    mask_yx: ArrayView2<bool>,
    cut: f32,
) -> Array2<bool> {
    if masks::is_empty(mask_yx) {
        return Array2::from_elem(mask_yx.dim(), false);
    }
    let sm = smoother.smooth(mask_yx);
    let peak = sm.iter().cloned().fold(f32::MIN, f32::max);
    let level = (cut * peak).max(1e-6 * peak);
    sm.mapv(|v| v > level)
}

/// An elliptical Gaussian in pixel offsets: `exponent(dx, dy) = 4 ln2 (u²/maj² + v²/min²)` where
/// `u`, `v` are the offsets along the major and minor axes; east = `-dx` (RA increases to the
/// left), north = `+dy`, PA from north through east (as `StokesImageUtil::MakeGaussianPSF`).
pub(super) struct GaussianShape {
    a_xx: f64,
    a_xy: f64,
    a_yy: f64,
    /// Half-extent to 2.5 FWHM of the major axis, pixels (x, y).
    half_x: usize,
    half_y: usize,
}

impl GaussianShape {
    pub(super) fn new(beam: &Beam, cell_x_rad: f64, cell_y_rad: f64) -> Self {
        let (s, c) = beam.pa_rad.sin_cos();
        let k = 4.0 * std::f64::consts::LN_2;
        let (im2, in2) = (1.0 / beam.major_rad.powi(2), 1.0 / beam.minor_rad.powi(2));
        // E = -dx cx, N = dy cy; u = E s + N c, v = E c - N s.
        let (ex, ny_) = (-cell_x_rad.abs(), cell_y_rad.abs());
        let (ux, uy) = (ex * s, ny_ * c);
        let (vx, vy) = (ex * c, -ny_ * s);
        GaussianShape {
            a_xx: k * (ux * ux * im2 + vx * vx * in2),
            a_xy: k * 2.0 * (ux * uy * im2 + vx * vy * in2),
            a_yy: k * (uy * uy * im2 + vy * vy * in2),
            half_x: (2.5 * beam.major_rad / cell_x_rad.abs()).ceil() as usize + 1,
            half_y: (2.5 * beam.major_rad / cell_y_rad.abs()).ceil() as usize + 1,
        }
    }

    pub(super) fn exponent(&self, dx: f64, dy: f64) -> f64 {
        self.a_xx * dx * dx + self.a_xy * dx * dy + self.a_yy * dy * dy
    }
}

/// Linear (zero-padded) convolution of a mask with a Gaussian, by FFT (real FFT along rows,
/// complex FFT along columns) on a `py x px` plane of 7-smooth lengths.
pub(super) struct GaussianSmoother {
    pub(super) ny: usize,
    pub(super) nx: usize,
    pub(super) fft: RealFft2,
    /// The kernel's transform (real: the kernel is point-symmetric), laid out as a
    /// [`RealFft2`] spectrum.
    pub(super) kernel_ft: Vec<f32>,
}

impl GaussianSmoother {
    pub(super) fn new((ny, nx): (usize, usize), g: &GaussianShape) -> Self {
        let hx = g.half_x.min(nx);
        let hy = g.half_y.min(ny);
        let px = smooth_len(nx + hx, false);
        let py = smooth_len(ny + hy, false);
        let mut kernel = Array2::<f32>::zeros((py, px));
        let mut sum = 0.0f64;
        for dy in -(hy as isize)..=(hy as isize) {
            for dx in -(hx as isize)..=(hx as isize) {
                let v = (-g.exponent(dx as f64, dy as f64)).exp();
                let (iy, ix) = (
                    dy.rem_euclid(py as isize) as usize,
                    dx.rem_euclid(px as isize) as usize,
                );
                kernel[[iy, ix]] += v as f32;
                sum += v;
            }
        }
        kernel.mapv_inplace(|v| (v as f64 / sum) as f32);
        let fft = RealFft2::new(py, px);
        let spec = fft.forward(|y, row| {
            for (r, k) in row.iter_mut().zip(kernel.row(y)) {
                *r = *k;
            }
            true
        });
        GaussianSmoother {
            ny,
            nx,
            fft,
            kernel_ft: spec.iter().map(|c| c.re).collect(),
        }
    }

    pub(super) fn smooth(&self, mask_yx: ArrayView2<bool>) -> Array2<f32> {
        let (ny, nx) = (self.ny, self.nx);
        let mut spec = self.fft.forward(|y, row| {
            if y >= ny {
                return false;
            }
            for (r, &m) in row[..nx].iter_mut().zip(mask_yx.row(y)) {
                *r = if m { 1.0 } else { 0.0 };
            }
            true
        });
        for (c, &k) in spec.iter_mut().zip(&self.kernel_ft) {
            *c *= k;
        }
        let (py, px) = self.fft.shape();
        let norm = 1.0 / (px as f32 * py as f32);
        let mut res = Array2::<f32>::zeros((ny, nx));
        self.fft.inverse(&mut spec, ny, |y, out| {
            for (r, o) in res.row_mut(y).iter_mut().zip(&out[..nx]) {
                *r = o * norm;
            }
        });
        res
    }
}

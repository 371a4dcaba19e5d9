//! Where the w planes lie and what the image side of w-gridding needs: `n - 1` per pixel, the
//! planes' phase screens and the correction for the kernel in w.

use super::super::gridder::{GridError, FOURIER_SIGN};
use crate::kernel::EsKernel;
use num_complex::Complex64;
use std::f64::consts::PI;

/// Samples of the w-kernel's Fourier transform tabulated over `[0, f_max]`; 4-point Lagrange
/// interpolation between them is accurate to ~1e-12 relative (the transform is smooth on the
/// scale of `1 / W`, and the step is `f_max / 4096 <= 1.3e-4` cycles per plane).
const CORRECTION_SAMPLES: usize = 4096;

/// The w planes of a [`super::WGridder`]: plane `p` holds `w_p = w0 + p dw` wavelengths; a
/// visibility at `w` (made `>= 0` by conjugation) is spread over the planes within `W / 2`
/// spacings by the ES kernel of support `W`. The spacing makes `dw |n - 1 - eta0| <= 1 / (2
/// sigma)` over the image (the kernel's oversampling `sigma` in w as in u and v), so the
/// accuracy in w matches the 2-D kernel's.
#[derive(Clone, Debug, PartialEq)]
pub struct WLayout {
    /// w of plane 0, wavelengths.
    pub w0: f64,
    /// Spacing of the planes, wavelengths.
    pub dw: f64,
    /// Number of planes.
    pub nplanes: usize,
    /// Reference of the screens: the middle of the image's range of `n - 1` (`<= 0`).
    pub eta0: f64,
    /// Largest |w| gridded, wavelengths (larger: skipped and counted).
    pub wmax: f64,
    /// Kernel support in planes.
    pub support: usize,
}

impl WLayout {
    /// Planes for `|w| <= wmax` wavelengths over an image whose `n - 1` spans
    /// `[eta_min, 0]`, with kernel support `support` and oversampling `sigma`; at least
    /// `min_planes` planes (more planes: a finer spacing, never a coarser one).
    pub fn new(
        support: usize,
        sigma: f64,
        eta_min: f64,
        wmax: f64,
        min_planes: usize,
    ) -> Result<Self, GridError> {
        if !(wmax.is_finite() && wmax >= 0.0) {
            return Err(GridError::WRange { wmax });
        }
        let half_range = -0.5 * eta_min;
        let mut dw = 1.0 / (2.0 * sigma * half_range.max(1e-300));
        let w_planes = |dw: f64| (wmax / dw).floor() as usize + support + 1;
        let mut nplanes = w_planes(dw);
        if min_planes > nplanes {
            // min_planes > nplanes >= support + 1.
            if wmax > 0.0 {
                dw = wmax / (min_planes - support - 1) as f64;
            }
            nplanes = min_planes.max(w_planes(dw));
        }
        Ok(WLayout {
            w0: -0.5 * support as f64 * dw,
            dw,
            nplanes,
            eta0: 0.5 * eta_min,
            wmax,
            support,
        })
    }

    /// w of plane `p`, wavelengths.
    pub fn plane_w(&self, p: usize) -> f64 {
        self.w0 + p as f64 * self.dw
    }

    /// The planes `lo..=hi` a visibility at `w` (`0 <= w <= wmax`) touches.
    #[inline]
    pub fn planes_of(&self, w: f64) -> (usize, usize) {
        let t = (w - self.w0) / self.dw;
        let half = 0.5 * self.support as f64;
        let lo = (t - half).ceil().max(0.0) as usize;
        let hi = ((t + half).floor() as usize).min(self.nplanes - 1);
        (lo, hi)
    }

    /// The kernel's weight of a visibility at `w` on plane `p`.
    #[inline]
    pub fn weight(&self, kernel: &EsKernel, w: f64, p: usize) -> f64 {
        let x = ((w - self.w0) / self.dw - p as f64) / (0.5 * self.support as f64);
        kernel.eval(x)
    }
}

/// `n - 1` of pixel `(y, x)` of an `(ny, nx)` image of `cell_x x cell_y` radians (reference pixel
/// `(nx/2, ny/2)`), computed without cancellation.
#[inline]
pub fn n_minus_1(y: usize, x: usize, ny: usize, nx: usize, cell_x: f64, cell_y: f64) -> f64 {
    let l = (x as f64 - (nx / 2) as f64) * cell_x;
    let m = (y as f64 - (ny / 2) as f64) * cell_y;
    let r2 = l * l + m * m;
    -r2 / (1.0 + (1.0 - r2).sqrt())
}

/// The smallest `n - 1` of the image (at the corner farthest from the reference pixel), or the
/// error when a corner lies beyond the horizon.
pub fn eta_min(nx: usize, ny: usize, cell_x: f64, cell_y: f64) -> Result<f64, GridError> {
    let lx = (nx / 2).max(nx - 1 - nx / 2) as f64 * cell_x;
    let my = (ny / 2).max(ny - 1 - ny / 2) as f64 * cell_y;
    let r2 = lx * lx + my * my;
    if r2 >= 1.0 {
        return Err(GridError::Horizon { r2 });
    }
    Ok(-r2 / (1.0 + (1.0 - r2).sqrt()))
}

/// `exp(FOURIER_SIGN 2 pi i w eta)`: the phase of a visibility at `w` at `n - 1 = eta` in the
/// imaging direction (its conjugate predicts).
#[inline]
pub fn phase(w: f64, eta: f64) -> Complex64 {
    let (s, c) = (FOURIER_SIGN * 2.0 * PI * w * eta).sin_cos();
    Complex64::new(c, s)
}

/// `1 / psi(f)` of the kernel in w at `f = dw (eta - eta0)` cycles per plane, tabulated.
#[derive(Clone, Debug)]
pub struct WCorrection {
    step: f64,
    inv: Vec<f64>,
}

impl WCorrection {
    /// The table for `|f| <= f_max`.
    pub fn new(kernel: &EsKernel, f_max: f64) -> Self {
        let step = f_max.max(1e-12) / CORRECTION_SAMPLES as f64;
        let fs: Vec<f64> = (0..CORRECTION_SAMPLES + 4)
            .map(|i| (i as f64 - 1.0) * step)
            .collect();
        let inv = kernel.fourier_many(&fs).iter().map(|p| 1.0 / p).collect();
        WCorrection { step, inv }
    }

    /// `1 / psi(f)` (`|f| <= f_max`), by 4-point Lagrange interpolation.
    #[inline]
    pub fn at(&self, f: f64) -> f64 {
        // Sample i holds f = (i - 1) step; the stencil is i0 - 1 ..= i0 + 2 around t.
        let t = f.abs() / self.step + 1.0;
        let i0 = (t.floor() as usize).clamp(1, self.inv.len() - 3);
        let d = t - i0 as f64;
        let y = &self.inv[i0 - 1..i0 + 3];
        let (a, b, c, e) = (d + 1.0, d, d - 1.0, d - 2.0);
        -y[0] * b * c * e / 6.0 + y[1] * a * c * e / 2.0 - y[2] * a * b * e / 2.0
            + y[3] * a * b * c / 6.0
    }
}

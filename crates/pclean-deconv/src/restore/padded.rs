//! Zero-padded real 2-D FFTs for linear convolutions on an image plane.

use ndarray::{Array2, ArrayView2};
use pclean_fft::{smooth_len, Complex32, RealFft2};

// ---------------------------------------------------------------------------------------------
// Zero-padded FFT convolution.

/// Real 2-D FFTs of an `ny x nx` plane zero-padded to `pny x pnx` (even, 7-smooth lengths);
/// spectra as [`RealFft2`] stores them, `spec[kx * pny + ky]` with `kx` in `0..=pnx/2`.
pub(super) struct PaddedFft {
    ny: usize,
    nx: usize,
    pub(super) pny: usize,
    pub(super) pnx: usize,
    pub(super) nkx: usize,
    fft: RealFft2,
}

impl PaddedFft {
    /// Padding that makes circular convolution with a kernel of half-extent (hy, hx) linear on
    /// the `ny x nx` region: `pn >= n + h` (no output pixel receives wrapped contributions).
    pub(super) fn new(ny: usize, nx: usize, hy: usize, hx: usize) -> Self {
        let (pny, pnx) = (smooth_len(ny + hy, true), smooth_len(nx + hx, true));
        let fft = RealFft2::new(pny, pnx);
        PaddedFft {
            ny,
            nx,
            pny,
            pnx,
            nkx: fft.nkx(),
            fft,
        }
    }

    /// Forward transform of the padded plane whose rows are produced by `fill(y, row)`
    /// (`row` has length `pnx` and is zeroed; rows for which `fill` returns false are skipped
    /// as all-zero).
    pub(super) fn forward(&self, fill: impl FnMut(usize, &mut [f32]) -> bool) -> Vec<Complex32> {
        self.fft.forward(fill)
    }

    /// Inverse transform, cropped to `ny x nx` and normalised (`1/(pny pnx)`, applied in `f64`).
    pub(super) fn inverse(&self, mut spec: Vec<Complex32>) -> Array2<f32> {
        let norm = 1.0 / (self.pny as f64 * self.pnx as f64);
        let mut out = Array2::<f32>::zeros((self.ny, self.nx));
        self.fft.inverse(&mut spec, self.ny, |y, res| {
            for (o, r) in out.row_mut(y).iter_mut().zip(&res[..self.nx]) {
                *o = (*r as f64 * norm) as f32;
            }
        });
        out
    }

    /// Forward transform of `plane` (shape `ny x nx`).
    pub(super) fn forward_plane(&self, plane: ArrayView2<f32>) -> Vec<Complex32> {
        self.forward(|y, row| {
            if y >= self.ny {
                return false;
            }
            for (r, v) in row.iter_mut().zip(plane.row(y)) {
                *r = *v;
            }
            true
        })
    }

    /// Signed frequency index for FFT bin `k` of an `n`-point transform.
    pub(super) fn signed(k: usize, n: usize) -> f64 {
        if k <= n / 2 {
            k as f64
        } else {
            k as f64 - n as f64
        }
    }
}

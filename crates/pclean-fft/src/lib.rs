//! The one 2-D FFT layer of pclean, over `rustfft` (complex) and `realfft` (real input).
//!
//! - [`complex`]: in-place complex 2-D transforms of `ndarray` views, parallel over rows and
//!   blocks of columns, with column pruning (the gridder's uv grids; `f32` or `f64`);
//! - [`real`]: real <-> complex 2-D transforms of `f32` planes ([`RealFft2`]), for image-plane
//!   convolutions (restoration, mask smoothing, the minor cycles' PSF convolutions);
//! - [`plan`]: every transform length is planned once per process and the plan reused;
//! - [`smooth_len`]: fast transform lengths for zero-padded planes;
//! - [`with_pool`]: the rayon pool the parallel transforms (and the gridder) run on.
//!
//! Conventions (also in `docs/conventions.md`): transforms are unnormalised,
//! [`FftDirection::Forward`] computes `X_k = sum_j x_j exp(-2 pi i j k / n)`,
//! [`FftDirection::Backward`] the same with `exp(+2 pi i j k / n)`; index 0 is the zero
//! frequency (no fftshift). Arrays are row-major `(rows, cols)`.

pub mod complex;
pub mod plan;
mod pool;
pub mod real;
mod sizes;

pub use complex::{
    fft2_inplace, fft_cols, fft_cols_into, fft_cols_into_subset, fft_cols_subset, fft_rows,
    nonzero_cols,
};
pub use num_complex::Complex32;
pub use plan::FftDirection;
pub use pool::with_pool;
pub use real::{RealFft2, Spectrum};
pub use rustfft::{num_traits, FftNum};
pub use sizes::smooth_len;

//! Gridding, degridding (FFTs through `pclean_fft`), visibility weighting and primary-beam models.
//!
//! Kernels are pure functions over array views with explicit `epsilon` and `nthreads`. Conventions
//! (signs, axis order, units) are in `docs/conventions.md`.

pub mod gridder;
pub mod kernel;
pub mod pb;
pub mod weighting;

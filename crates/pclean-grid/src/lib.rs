//! Gridding, degridding, FFTs, visibility weighting and primary-beam models.
//!
//! Kernels are pure functions over array views with explicit `epsilon` and `nthreads`. Conventions
//! (signs, axis order, units) are in `docs/conventions.md`.

pub mod fft;
pub mod gridder;
pub mod kernel;
pub mod pb;
pub mod weighting;

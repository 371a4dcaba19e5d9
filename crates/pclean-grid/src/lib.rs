//! Gridding, degridding (FFTs through `pclean_fft`), visibility weighting and primary-beam models.
//!
//! The imaging stage reaches the gridders through [`VisGridder`] ([`seam`]); the 2-D ES gridder
//! ([`gridder::Gridder`], as [`StandardGridder`]) is its first implementation.
//!
//! Kernels are pure functions over array views with explicit `epsilon` and `nthreads`. Conventions
//! (signs, axis order, units) are in `docs/conventions.md`.

pub mod awproj;
pub mod casa;
pub mod gridder;
pub mod kernel;
pub mod mosaic;
pub mod pb;
pub mod seam;
pub mod uvtaper;
pub mod weighting;
pub mod wgrid;
pub mod wire;

pub use casa::CasaGridder;
pub use mosaic::{MosaicGridder, Pointing};
pub use seam::{GridPlanes, GridResult, Pass, StandardGridder, VisBatch, VisGridder};
pub use wgrid::WGridder;

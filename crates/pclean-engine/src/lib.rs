//! The imaging pipeline: validated parameters in, CASA/FITS products and a run summary out.
//!
//! The engine is laid out by stage (docs/architecture.md walks through the data flow):
//! - [`plan`]: the [`Setup`] every participant opens the same way (MSs, selections, phase centre,
//!   spectral axis, gridder), the memory model and the schedule;
//! - [`source`]: the visibilities (cache, per-block narrowing, preparation, frame regridding);
//! - [`imaging`]: weights and the PSF/residual passes through the gridder;
//! - [`cycles`]: the major/minor loop, iteration control and masks;
//! - [`products`]: creation, restoration, pbcor, reuse and summaries;
//! - [`exec`]: blocks, the coordinator and its checkpoint, the local executor and remote workers.

pub mod alloc_count;
pub mod cycles;
pub mod error;
pub mod exec;
pub mod imaging;
pub mod interrupt;
pub mod plan;
pub mod products;
pub mod source;
pub mod vptable;

pub use error::EngineError;
pub use exec::coordinator::{Coordinator, PendingBlock};
pub use exec::local::run_image;
pub use exec::worker::{run_block_cached, BlockWorker, WorkerCache};
pub use plan::memory;
pub use plan::Setup;
pub use products::RunSummary;
pub use source::visprep;

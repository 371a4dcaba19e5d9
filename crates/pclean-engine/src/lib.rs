//! The imaging pipeline: validated parameters in, CASA/FITS products and a run summary out.
//!
//! [`run_image`] opens the MeasurementSets, resolves selections, plans the spectral axis, checks the
//! products can be written, then images channel blocks (weight density pass, gridding pass, FFT)
//! and writes each block's planes straight into the pre-created products.

pub mod alloc_count;
pub mod block;
pub mod block_io;
pub mod checkpoint;
pub mod coordinator;
pub mod deconvolve;
pub mod error;
pub mod imaging;
pub mod iteration;
pub mod masking;
pub mod memory;
pub mod optical_axis;
pub mod plan;
pub mod products;
pub mod progress;
pub mod resources;
pub mod run;
pub mod savemodel;
pub mod spectral_regrid;
pub mod stages;
pub mod summary;
pub mod user_mask;
pub mod visprep;
pub mod visstore;
pub mod worker;

pub use coordinator::{Coordinator, PendingBlock};
pub use error::EngineError;
pub use run::run_image;
pub use summary::RunSummary;
pub use worker::{run_block_cached, BlockWorker};

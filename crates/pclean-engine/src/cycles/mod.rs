//! The cycles of a block: the major/minor loop ([`major_minor`]), tclean's iteration control and
//! stop reasons ([`iteration`]), clean masks ([`masking`], [`user_mask`]) and the per-block set-up
//! of deconvolvers, masks and start models ([`setup`]).

pub mod cycle_ckpt;
pub mod iteration;
pub mod major_minor;
pub mod masking;
pub mod mtmfs;
pub mod mvc;
pub mod paged;
pub mod plane_store;
pub mod setup;
pub mod user_mask;

pub use iteration::{IterationControl, PlaneProgress, StopReason};
pub use major_minor::{deconvolve_block, BlockSetup, FirstImages};
pub use setup::{block_setup, stop_text};

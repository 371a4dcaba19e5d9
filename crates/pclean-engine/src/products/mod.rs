//! Products: created complete-or-marked-incomplete before any imaging ([`set`], [`writer`]), with
//! tclean's coordinates ([`coords`]); restored in one place ([`restore`]) with the fitted beams
//! ([`beams`]); start models and reused products ([`reuse`]); the run summary ([`summary`]).

pub mod beams;
pub mod coords;
pub mod restore;
pub mod reuse;
pub mod set;
pub mod summary;
pub mod writer;

pub use beams::{fill_null_beams, fit_beam};
pub use coords::image_coords;
pub use restore::{pbcor_plane, restored_image, restoring_beams, write_restored};
pub use reuse::{read_start_model, PlaneSource, Reused, ReusedBlock, ReusedTerms, StartModel};
pub use set::{product_list, OpenMode, Products, PB_MASKED};
pub use summary::{write_side_files, ChannelSummary, RunSummary, TaskSummary};
pub use writer::{check_products_absent, fsync_tree, product_path, ProductLock, ProductWriter};

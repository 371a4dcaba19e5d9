//! MeasurementSet storage tools:
//!
//! - [`inspect_table`] / [`format_storage`] / [`storage_json`]: which storage manager (type and
//!   name) holds each main-table column, with cell shapes and tile shapes or bucket sizes, as
//!   python-casacore's `getdminfo()` reports them;
//! - [`check_adios2_support`], [`ms_uses_adios2`], [`convert_ms_to_adios2`],
//!   [`split_and_convert_ms_to_adios2`]: Adios2StMan, which the casacore in this build lacks (the
//!   conversions explain what build is needed), and [`copy_ms_with_storage_manager`], the copy they
//!   run, usable with any storage manager this build has.
//!
//! ```no_run
//! use std::path::Path;
//! let t = pclean_storage::inspect_table(Path::new("ngc5921.ms"))?;
//! print!("{}", pclean_storage::format_storage(&t));
//! let s = pclean_storage::check_adios2_support();
//! println!("Adios2StMan read {} write {}: {}", s.read, s.write, s.why);
//! # Ok::<(), pclean_storage::StorageError>(())
//! ```

pub mod adios2;
pub mod error;
pub mod inspect;

pub use adios2::{
    check_adios2_support, convert_ms_to_adios2, copy_ms_with_storage_manager, ms_uses_adios2,
    split_and_convert_ms_to_adios2, Adios2Support, ADIOS2_COLUMNS, ADIOS2_STMAN,
};
pub use error::StorageError;
pub use inspect::{format_storage, inspect_table, raw_storage_manager_types, storage_json};
pub use pclean_casacore::storage::{ColumnStorage, DataManagerStorage, TableStorage};

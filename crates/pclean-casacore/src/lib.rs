//! The only crate that touches casacore. It re-exports `rubbl_casatables` for ordinary table work and
//! adds our own C++ glue (in `cpp/`) for what rubbl lacks: bulk and sliced column reads for
//! MeasurementSets (`columns`) and sliced image-plane I/O plus table metadata for CASA images
//! (`image_table`), and storage-manager tools (`storage`). C++ exceptions never cross the boundary: they become [`GlueError`].

pub mod columns;
pub mod error;
mod handle;
pub mod image_table;
pub mod records;
pub mod storage;
mod tile_file;
pub mod write_columns;
pub use error::{GlueError, TableError};
pub use rubbl_casatables;
pub use tile_file::{TileLayout, TileWriter};

extern "C" {
    fn pc_glue_abi_version() -> std::os::raw::c_int;
}

/// Version of the C++ glue's ABI (bumped whenever an exported signature changes).
pub fn glue_abi_version() -> i32 {
    // SAFETY: a pure function without arguments.
    unsafe { pc_glue_abi_version() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn glue_links() {
        assert_eq!(super::glue_abi_version(), 1);
    }
}

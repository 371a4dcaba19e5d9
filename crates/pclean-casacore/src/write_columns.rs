//! Update handles for writing visibilities (`cpp/ms_write_glue.cc`): add a MeasurementSet's
//! `MODEL_DATA` column the way CASA does, write channel slices of Complex array cells for lists of
//! rows, remove columns.
//!
//! # Layout
//! As for reads ([`crate::columns`]): a block of `n` cells of casacore shape `[ncorr, nchan]` is
//! the C-order buffer `(row, chan, corr)`, i.e. `vis_rcp`.
//!
//! # Locking and the table cache
//! Every call takes the same per-path lock as [`crate::columns::ReadTable`], so a reader and a
//! writer of one table never run casacore code at the same time in this process. casacore shares
//! one `PlainTable` per table name: opening for update a table that a [`ReadTable`] holds makes the
//! shared table read/write (`PlainTable::reopenRW`), so the reader sees the written values at once.
//! A [`ReadTable`] opened *before* a column was added keeps its old column list; reopen it to see
//! the new column. Other processes are kept consistent by casacore's automatic table locking; a
//! writer that shares the table with processes that keep it open takes the lock explicitly and
//! releases it when done ([`UpdateTable::lock_for_write`], [`UpdateTable::unlock`]), as
//! `pclean_ms::ModelColumnWriter` does.
//!
//! [`ReadTable`]: crate::columns::ReadTable

use crate::error::{PcExc, TableError};
use crate::handle::{cstring, Handle};
use num_complex::Complex32;
use std::ffi::c_void;
use std::os::raw::{c_char, c_int};
use std::path::Path;

extern "C" {
    fn pc_tabw_open(path: *const c_char, exc: *mut PcExc) -> *mut c_void;
    fn pc_tabw_flush(t: *mut c_void, exc: *mut PcExc);
    fn pc_tabw_close(t: *mut c_void);
    fn pc_tabw_nrows(t: *mut c_void) -> u64;
    fn pc_tabw_lock(t: *mut c_void, nattempts: u32, got: *mut c_int, exc: *mut PcExc);
    fn pc_tabw_unlock(t: *mut c_void, exc: *mut PcExc);
    fn pc_tabw_has_column(t: *mut c_void, col: *const c_char) -> c_int;
    fn pc_ms_ensure_model_data(
        t: *mut c_void,
        spw_nchan: *const i32,
        nspw: u64,
        added: *mut c_int,
        exc: *mut PcExc,
    );
    #[allow(clippy::too_many_arguments)]
    fn pc_put_complex_cells(
        t: *mut c_void,
        col: *const c_char,
        rows: *const u64,
        n: u64,
        chan_start: i64,
        nchan: i64,
        ncorr: i64,
        data: *const Complex32,
        exc: *mut PcExc,
    );
    fn pc_tabw_remove_column(t: *mut c_void, col: *const c_char, exc: *mut PcExc);
}

/// The error of writing a table (the one of every table access).
pub type TableWriteError = TableError;

/// A table opened for update through our glue. `Send` and `Sync`: every call holds the table's
/// per-path lock (see the module docs).
#[derive(Debug)]
pub struct UpdateTable {
    handle: Handle,
}

impl UpdateTable {
    /// Open the table at `path` for update.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, TableError> {
        let path = path.as_ref();
        let handle = Handle::open(
            path,
            "open for update",
            pc_tabw_open,
            pc_tabw_nrows,
            pc_tabw_close,
        )
        .map_err(|source| TableError::Open {
            path: path.to_path_buf(),
            writable: true,
            source,
        })?;
        Ok(UpdateTable { handle })
    }

    /// Canonical path of the table.
    pub fn path(&self) -> &Path {
        self.handle.path()
    }

    /// Number of rows.
    pub fn n_rows(&self) -> u64 {
        self.handle.nrows()
    }

    /// Whether the column exists (now, not at open).
    pub fn has_column(&self, column: &str) -> bool {
        let c = cstring(column);
        // SAFETY: valid handle and column name; the call does not throw.
        self.handle
            .call_nothrow(|t| unsafe { pc_tabw_has_column(t, c.as_ptr()) != 0 })
    }

    /// Add a MeasurementSet's `MODEL_DATA` column if it is missing, as CASA's
    /// `VisSetUtil::addScrCols` does: Complex, ndim 2, comment "The model data column", in a
    /// `TiledShapeStMan` named `ModelTiled` whose tile shape is the one of DATA's largest
    /// hypercube (or CASA's canonical 1 MB tile when DATA is not tiled in 3-D), every cell shaped
    /// like DATA (or FLOAT_DATA) and set to **zero** (CASA's `initScrCols` writes 1 on the
    /// parallel hands instead), and the column keyword `CHANNEL_SELECTION = [[0, nchan], ...]`
    /// per spectral window that CASA's `VisSet` checks. `spw_nchan` is `NUM_CHAN` of the
    /// SPECTRAL_WINDOW subtable. Returns whether the column was added.
    pub fn ensure_model_data(&mut self, spw_nchan: &[i32]) -> Result<bool, TableError> {
        let mut added: c_int = 0;
        // SAFETY: valid handle; `spw_nchan` holds `len` values.
        self.handle
            .column_call("MODEL_DATA", "adding MODEL_DATA", |t, exc| unsafe {
                pc_ms_ensure_model_data(
                    t,
                    spw_nchan.as_ptr(),
                    spw_nchan.len() as u64,
                    &mut added,
                    exc,
                )
            })?;
        Ok(added != 0)
    }

    /// Write channels `chan_start .. chan_start + nchan` of all `ncorr` correlations of the cells
    /// of `rows` (strictly ascending) of the Complex array column `column`. `vis_rcp` is the C-order
    /// buffer `(row, chan, corr)` of `rows.len() * nchan * ncorr` values. Runs of consecutive rows
    /// are written with one `putColumnRange` each. Undefined cells are first defined as zeros with
    /// DATA's cell shape.
    pub fn put_complex_cells(
        &mut self,
        column: &str,
        rows: &[u64],
        chan_start: usize,
        nchan: usize,
        ncorr: usize,
        vis_rcp: &[Complex32],
    ) -> Result<(), TableError> {
        if !self.has_column(column) {
            return Err(self.handle.invalid(column, "no such column".into()));
        }
        let want = rows.len() * nchan * ncorr;
        if vis_rcp.len() != want {
            return Err(self.handle.invalid(
                column,
                format!(
                    "buffer holds {} values, expected {} rows x {nchan} channels x {ncorr} \
                     correlations = {want}",
                    vis_rcp.len(),
                    rows.len()
                ),
            ));
        }
        if let Some(w) = rows.windows(2).find(|w| w[1] <= w[0]) {
            return Err(self.handle.invalid(
                column,
                format!(
                    "rows must be strictly ascending (row {} follows {})",
                    w[1], w[0]
                ),
            ));
        }
        self.handle.check_row_list(column, rows)?;
        if rows.is_empty() || nchan == 0 || ncorr == 0 {
            return Ok(());
        }
        let c = cstring(column);
        // SAFETY: rows are in range and ascending; `vis_rcp` holds exactly the block written.
        self.handle
            .column_call(column, "writing cells", |t, exc| unsafe {
                pc_put_complex_cells(
                    t,
                    c.as_ptr(),
                    rows.as_ptr(),
                    rows.len() as u64,
                    chan_start as i64,
                    nchan as i64,
                    ncorr as i64,
                    vis_rcp.as_ptr(),
                    exc,
                )
            })
    }

    /// Remove a column (and its data manager when it held no other column).
    pub fn remove_column(&mut self, column: &str) -> Result<(), TableError> {
        if !self.has_column(column) {
            return Err(self.handle.invalid(column, "no such column".into()));
        }
        let c = cstring(column);
        // SAFETY: valid handle and column name.
        self.handle
            .column_call(column, "removing the column", |t, exc| unsafe {
                pc_tabw_remove_column(t, c.as_ptr(), exc)
            })
    }

    /// Take the table's write lock, waiting at most about `wait_s` seconds (casacore tries once a
    /// second) for another process to release it: [`TableError::Locked`] otherwise. Held until
    /// [`UpdateTable::unlock`] (or the handle is dropped), so that writers in several processes
    /// take turns instead of holding casacore's automatic lock while idle.
    pub fn lock_for_write(&mut self, wait_s: u32) -> Result<(), TableError> {
        let mut got: c_int = 0;
        let attempts = wait_s.max(1);
        // SAFETY: valid handle; `got` outlives the call.
        self.handle
            .column_call("<table>", "taking the write lock", |t, exc| unsafe {
                pc_tabw_lock(t, attempts, &mut got, exc)
            })?;
        if got == 0 {
            return Err(TableError::Locked {
                table: self.path().to_path_buf(),
                waited_s: attempts,
            });
        }
        Ok(())
    }

    /// Release the table's lock (casacore writes what is buffered first).
    pub fn unlock(&mut self) -> Result<(), TableError> {
        // SAFETY: valid handle.
        self.handle
            .column_call("<table>", "releasing the lock", |t, exc| unsafe {
                pc_tabw_unlock(t, exc)
            })
    }

    /// Write all buffered changes to disk.
    pub fn flush(&mut self) -> Result<(), TableError> {
        // SAFETY: valid handle.
        self.handle
            .column_call("<table>", "flushing", |t, exc| unsafe {
                pc_tabw_flush(t, exc)
            })
    }
}

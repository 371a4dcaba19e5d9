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
//! the new column. Other processes are kept consistent by casacore's automatic table locking.
//!
//! [`ReadTable`]: crate::columns::ReadTable

use crate::columns::{guard, open_handle, OpenedHandle};
use crate::error::{GlueError, PcExc};
use num_complex::Complex32;
use std::ffi::{c_void, CString};
use std::os::raw::{c_char, c_int};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

extern "C" {
    fn pc_tabw_open(path: *const c_char, exc: *mut PcExc) -> *mut c_void;
    fn pc_tabw_flush(t: *mut c_void, exc: *mut PcExc);
    fn pc_tabw_close(t: *mut c_void);
    fn pc_tabw_nrows(t: *mut c_void) -> u64;
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

/// An error while opening a table for update or writing to it. Every variant names the table.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TableWriteError {
    /// casacore could not open the table for update (missing, not a table, read-only files).
    #[error("cannot open table {} for writing: {message}", path.display())]
    Open { path: PathBuf, message: String },
    /// casacore failed while writing or changing the table.
    #[error("writing table {}, column {column}: {source}", table.display())]
    Write {
        table: PathBuf,
        column: String,
        #[source]
        source: GlueError,
    },
    /// The request was inconsistent (rows out of range or not ascending, buffer of the wrong size).
    #[error("table {}, column {column}: {message}", table.display())]
    Invalid {
        table: PathBuf,
        column: String,
        message: String,
    },
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "?")).unwrap_or_default()
}

/// A table opened for update through our glue. `Send` and `Sync`: every call holds the table's
/// per-path lock (see the module docs).
pub struct UpdateTable {
    ptr: NonNull<c_void>,
    path: PathBuf,
    lock: Arc<Mutex<()>>,
    nrows: u64,
}

// SAFETY: the handle is only used while holding the per-path lock.
unsafe impl Send for UpdateTable {}
// SAFETY: every method takes the per-path lock before touching the handle.
unsafe impl Sync for UpdateTable {}

impl std::fmt::Debug for UpdateTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateTable")
            .field("path", &self.path)
            .field("nrows", &self.nrows)
            .finish()
    }
}

impl Drop for UpdateTable {
    fn drop(&mut self) {
        let _g = guard(&self.lock);
        // SAFETY: the pointer came from pc_tabw_open and is closed exactly once.
        unsafe { pc_tabw_close(self.ptr.as_ptr()) };
    }
}

impl UpdateTable {
    /// Open the table at `path` for update.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, TableWriteError> {
        let path = path.as_ref();
        // SAFETY (both closures): a valid NUL-terminated path and exception record; a valid handle.
        let opened = open_handle(
            path,
            "open for update",
            |p, e| unsafe { pc_tabw_open(p, e) },
            |t| unsafe { pc_tabw_nrows(t) },
        )
        .map_err(|message| TableWriteError::Open {
            path: path.to_path_buf(),
            message,
        })?;
        let OpenedHandle {
            ptr,
            canon,
            lock,
            nrows,
        } = opened;
        Ok(UpdateTable {
            ptr,
            path: canon,
            lock,
            nrows,
        })
    }

    /// Canonical path of the table.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of rows.
    pub fn n_rows(&self) -> u64 {
        self.nrows
    }

    /// Whether the column exists (now, not at open).
    pub fn has_column(&self, column: &str) -> bool {
        let c = cstring(column);
        let _g = guard(&self.lock);
        // SAFETY: valid handle and column name; the call does not throw.
        unsafe { pc_tabw_has_column(self.ptr.as_ptr(), c.as_ptr()) != 0 }
    }

    fn write_err(&self, column: &str, source: GlueError) -> TableWriteError {
        TableWriteError::Write {
            table: self.path.clone(),
            column: column.to_string(),
            source,
        }
    }

    fn invalid(&self, column: &str, message: String) -> TableWriteError {
        TableWriteError::Invalid {
            table: self.path.clone(),
            column: column.to_string(),
            message,
        }
    }

    /// Add a MeasurementSet's `MODEL_DATA` column if it is missing, as CASA's
    /// `VisSetUtil::addScrCols` does: Complex, ndim 2, comment "The model data column", in a
    /// `TiledShapeStMan` named `ModelTiled` whose tile shape is the one of DATA's largest
    /// hypercube (or CASA's canonical 1 MB tile when DATA is not tiled in 3-D), every cell shaped
    /// like DATA (or FLOAT_DATA) and set to **zero** (CASA's `initScrCols` writes 1 on the
    /// parallel hands instead), and the column keyword `CHANNEL_SELECTION = [[0, nchan], ...]`
    /// per spectral window that CASA's `VisSet` checks. `spw_nchan` is `NUM_CHAN` of the
    /// SPECTRAL_WINDOW subtable. Returns whether the column was added.
    pub fn ensure_model_data(&mut self, spw_nchan: &[i32]) -> Result<bool, TableWriteError> {
        let mut added: c_int = 0;
        let mut exc = PcExc::default();
        {
            let _g = guard(&self.lock);
            // SAFETY: valid handle; `spw_nchan` holds `len` values.
            unsafe {
                pc_ms_ensure_model_data(
                    self.ptr.as_ptr(),
                    spw_nchan.as_ptr(),
                    spw_nchan.len() as u64,
                    &mut added,
                    &mut exc,
                )
            };
        }
        exc.check("adding MODEL_DATA")
            .map_err(|e| self.write_err("MODEL_DATA", e))?;
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
    ) -> Result<(), TableWriteError> {
        if !self.has_column(column) {
            return Err(self.invalid(column, "no such column".into()));
        }
        let want = rows.len() * nchan * ncorr;
        if vis_rcp.len() != want {
            return Err(self.invalid(
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
            return Err(self.invalid(
                column,
                format!(
                    "rows must be strictly ascending (row {} follows {})",
                    w[1], w[0]
                ),
            ));
        }
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.nrows) {
            return Err(self.invalid(
                column,
                format!(
                    "row {bad} is out of range (the table has {} rows)",
                    self.nrows
                ),
            ));
        }
        if rows.is_empty() || nchan == 0 || ncorr == 0 {
            return Ok(());
        }
        let c = cstring(column);
        let mut exc = PcExc::default();
        {
            let _g = guard(&self.lock);
            // SAFETY: rows are in range and ascending; `vis_rcp` holds exactly the block written.
            unsafe {
                pc_put_complex_cells(
                    self.ptr.as_ptr(),
                    c.as_ptr(),
                    rows.as_ptr(),
                    rows.len() as u64,
                    chan_start as i64,
                    nchan as i64,
                    ncorr as i64,
                    vis_rcp.as_ptr(),
                    &mut exc,
                )
            };
        }
        exc.check("put").map_err(|e| self.write_err(column, e))
    }

    /// Remove a column (and its data manager when it held no other column).
    pub fn remove_column(&mut self, column: &str) -> Result<(), TableWriteError> {
        if !self.has_column(column) {
            return Err(self.invalid(column, "no such column".into()));
        }
        let c = cstring(column);
        let mut exc = PcExc::default();
        {
            let _g = guard(&self.lock);
            // SAFETY: valid handle and column name.
            unsafe { pc_tabw_remove_column(self.ptr.as_ptr(), c.as_ptr(), &mut exc) };
        }
        exc.check("remove column")
            .map_err(|e| self.write_err(column, e))
    }

    /// Write all buffered changes to disk.
    pub fn flush(&mut self) -> Result<(), TableWriteError> {
        let mut exc = PcExc::default();
        {
            let _g = guard(&self.lock);
            // SAFETY: valid handle.
            unsafe { pc_tabw_flush(self.ptr.as_ptr(), &mut exc) };
        }
        exc.check("flush").map_err(|e| self.write_err("<table>", e))
    }
}

//! Writing model visibilities into `MODEL_DATA` (tclean's `savemodel='modelcolumn'`).
//!
//! [`ModelColumnWriter::open`] opens the MS for update and adds `MODEL_DATA` when it is missing
//! (like CASA's `VisSetUtil::addScrCols`: Complex, `TiledShapeStMan` with DATA's tile shape, every
//! cell shaped like DATA; see `pclean_casacore::write_columns::UpdateTable::ensure_model_data`).
//! Cells that are never written stay **zero**; CASA initialises a new column to 1 on the parallel
//! hands, so rows outside tclean's selection differ (zero is what a sky model predicts for them).
//! [`ModelColumnWriter::put`] writes a channel range of a list of rows.
//!
//! The writer holds the MS's write lock from [`ModelColumnWriter::open`] (waiting at most
//! [`LOCK_WAIT_S`] for another process to release it) to [`ModelColumnWriter::finish`] (or its
//! drop), so several processes writing their own rows of one MS (Dask row partitions) take turns.
//!
//! Reads and writes of one MS in one process are serialised by `pclean_casacore`'s per-path lock,
//! and an open [`MeasurementSet`](crate::MeasurementSet) shares casacore's table with the writer, so
//! it reads the written values at once. A `MeasurementSet` opened *before* `MODEL_DATA` was added
//! does not know the column: open it again to read `DataColumn::Model`.
//!
//! ```no_run
//! use ndarray::Array3;
//! use num_complex::Complex32;
//! let mut w = pclean_ms::ModelColumnWriter::open("ngc5921.ms")?;
//! let vis_rcp = Array3::<Complex32>::zeros((2, 10, 2)); // rows 100 and 101, channels 5..15
//! w.put(&[100, 101], 5, vis_rcp.view())?;
//! w.finish()?;
//! # Ok::<(), pclean_ms::MsError>(())
//! ```

use crate::error::MsError;
use crate::ms::{check_is_table, not_a_table};
use ndarray::ArrayView3;
use num_complex::Complex32;
use pclean_casacore::columns::ReadTable;
use pclean_casacore::write_columns::UpdateTable;
use pclean_casacore::TableError;
use std::path::{Path, PathBuf};

const MODEL_DATA: &str = "MODEL_DATA";

/// How long [`ModelColumnWriter::open`] waits for another process's write lock on the MS, in
/// seconds. Writers hold it only while they write (row partitions writing their own rows take
/// turns: seconds each); a lock held longer is a process that keeps the MS open for writing, named
/// in the error rather than waited for without end.
pub const LOCK_WAIT_S: u32 = 300;

fn open_update(path: &Path) -> Result<UpdateTable, MsError> {
    UpdateTable::open(path).map_err(|e| not_a_table(path, e))
}

/// Writes model visibilities into an MS's `MODEL_DATA` column; see the module docs.
#[derive(Debug)]
pub struct ModelColumnWriter {
    table: UpdateTable,
    path: PathBuf,
    added: bool,
}

impl ModelColumnWriter {
    /// Open the MS at `ms_path` for update, adding a zero-filled `MODEL_DATA` if it has none.
    pub fn open(ms_path: impl AsRef<Path>) -> Result<Self, MsError> {
        let path = ms_path.as_ref();
        check_is_table(path)?;
        let spw_path = path.join("SPECTRAL_WINDOW");
        let spw_nchan: Vec<i32> = {
            let spw = ReadTable::open(&spw_path).map_err(|e| match e {
                TableError::Open { .. } => MsError::NotAnMs {
                    path: path.to_path_buf(),
                    missing: "SPECTRAL_WINDOW subtable".into(),
                },
                other => MsError::Table(other),
            })?;
            spw.scalar_column("NUM_CHAN")?
        };
        let mut table = open_update(path)?;
        table.lock_for_write(LOCK_WAIT_S)?;
        if !table.has_column("DATA") && !table.has_column("FLOAT_DATA") {
            return Err(MsError::MissingColumn {
                path: path.to_path_buf(),
                column: "DATA".into(),
                hint: "MODEL_DATA takes its cell shapes from DATA (or FLOAT_DATA)".into(),
            });
        }
        let added = table.ensure_model_data(&spw_nchan)?;
        Ok(ModelColumnWriter {
            table,
            path: path.to_path_buf(),
            added,
        })
    }

    /// Whether [`ModelColumnWriter::open`] created the `MODEL_DATA` column.
    pub fn added_column(&self) -> bool {
        self.added
    }

    /// Number of rows of the main table.
    pub fn n_rows(&self) -> u64 {
        self.table.n_rows()
    }

    /// The MS path as given to [`ModelColumnWriter::open`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write `vis_rcp` (Jy, shape (row, chan, corr)) into channels
    /// `chan_start .. chan_start + nchan` of the `MODEL_DATA` cells of `rows` (strictly ascending
    /// main-table row numbers, one per first axis entry). Every correlation of the cell is
    /// written. Other channels and rows are left as they are.
    pub fn put(
        &mut self,
        rows: &[u64],
        chan_start: usize,
        vis_rcp: ArrayView3<Complex32>,
    ) -> Result<(), MsError> {
        let (nrow, nchan, ncorr) = vis_rcp.dim();
        if nrow != rows.len() {
            return Err(MsError::Table(TableError::Invalid {
                table: self.table.path().to_path_buf(),
                column: MODEL_DATA.into(),
                message: format!("{} row numbers for {nrow} rows of visibilities", rows.len()),
            }));
        }
        let vis = vis_rcp.as_standard_layout();
        let slice = vis
            .as_slice()
            .expect("as_standard_layout gives a contiguous array");
        self.table
            .put_complex_cells(MODEL_DATA, rows, chan_start, nchan, ncorr, slice)?;
        Ok(())
    }

    /// Flush everything to disk, release the MS's lock and close it.
    pub fn finish(mut self) -> Result<(), MsError> {
        self.table.flush()?;
        self.table.unlock()?;
        Ok(())
    }
}

/// Remove `MODEL_DATA` from the MS at `ms_path` (like CASA's `delmod(scr=True)` for the column).
/// Returns whether there was one.
pub fn remove_model_column(ms_path: impl AsRef<Path>) -> Result<bool, MsError> {
    let path = ms_path.as_ref();
    check_is_table(path)?;
    let mut table = open_update(path)?;
    if !table.has_column(MODEL_DATA) {
        return Ok(false);
    }
    table.remove_column(MODEL_DATA)?;
    table.flush()?;
    Ok(true)
}

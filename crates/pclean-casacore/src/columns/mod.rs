//! Read-only table handles with bulk column reads (`cpp/ms_glue.cc`): scalar column ranges, array
//! column ranges (`ArrayColumn::getColumnRange`) and row lists (`getColumnCells`), each with an
//! optional per-cell slice, written straight into caller-owned buffers.
//!
//! # Layout
//! casacore shapes are Fortran-ordered. [`CellShape`] and [`CellSlice`] keep casacore's axis order
//! (for `DATA`: `[corr, chan]`). A read of `n` cells of shape `[c0, c1]` fills a buffer whose C-order
//! layout is `(row, c1, c0)`: for `DATA` that is `(row, chan, corr)`, i.e. `vis_rcp`.
//!
//! # Thread safety
//! casacore shares one `PlainTable` per table name, so two handles on the same table used from two
//! threads crash (casacore issue #1163). Every handle holds the lock of its canonical path and takes
//! it for every call (open, read and close), so two threads never touch the same table at once.
//! Different tables proceed in parallel. [`ReadTable`] is therefore `Send` and `Sync`.

mod elem;
mod keywords;

pub use elem::{ArrayElem, ArrayReadFn, CellFn, ElemType, ScalarElem, ScalarRangeFn};
pub use keywords::KeywordValue;

use crate::error::{PcExc, TableError};
use crate::handle::{cstring, Handle};
use std::ffi::{c_void, CString};
use std::os::raw::{c_char, c_int};
use std::path::Path;

type StrSink = extern "C" fn(ctx: *mut c_void, s: *const c_char, len: usize);

#[repr(C)]
#[derive(Default)]
struct PcColInfo {
    exists: c_int,
    is_array: c_int,
    dtype: c_int,
    ndim: c_int,
    fixed_shape: c_int,
    row0_defined: c_int,
    shape_ndim: c_int,
    shape: [i64; 8],
}

extern "C" {
    fn pc_tab_open(path: *const c_char, exc: *mut PcExc) -> *mut c_void;
    fn pc_tab_close(t: *mut c_void);
    fn pc_tab_nrows(t: *mut c_void) -> u64;
    fn pc_tab_column_names(t: *mut c_void, sink: StrSink, ctx: *mut c_void, exc: *mut PcExc);
    fn pc_tab_keyword_names(t: *mut c_void, sink: StrSink, ctx: *mut c_void, exc: *mut PcExc);
    fn pc_record_cell_fields(
        t: *mut c_void,
        col: *const c_char,
        row: u64,
        sink: StrSink,
        ctx: *mut c_void,
        exc: *mut PcExc,
    );
    fn pc_tab_info_type(t: *mut c_void, sink: StrSink, ctx: *mut c_void, exc: *mut PcExc);
    fn pc_col_info(t: *mut c_void, col: *const c_char, out: *mut PcColInfo, exc: *mut PcExc);
    fn pc_cell_shape(
        t: *mut c_void,
        col: *const c_char,
        row: u64,
        shape: *mut i64,
        ndim: *mut c_int,
        exc: *mut PcExc,
    );
    fn pc_col_measinfo_ref(
        t: *mut c_void,
        col: *const c_char,
        sink: StrSink,
        ctx: *mut c_void,
        exc: *mut PcExc,
    );
    fn pc_get_scalar_range_string(
        t: *mut c_void,
        col: *const c_char,
        start: u64,
        n: u64,
        sink: StrSink,
        ctx: *mut c_void,
        exc: *mut PcExc,
    );
    fn pc_get_cell_string(
        t: *mut c_void,
        col: *const c_char,
        row: u64,
        sink: StrSink,
        ctx: *mut c_void,
        exc: *mut PcExc,
    );
}

/// Collects strings handed over by the glue.
extern "C" fn push_string(ctx: *mut c_void, s: *const c_char, len: usize) {
    // SAFETY: `ctx` is the `&mut Vec<String>` passed by `with_strings`; `s` points at `len` bytes
    // that stay valid for the duration of this call.
    let out = unsafe { &mut *(ctx as *mut Vec<String>) };
    let bytes = unsafe { std::slice::from_raw_parts(s as *const u8, len) };
    out.push(String::from_utf8_lossy(bytes).into_owned());
}

/// The error of reading a table (the one of every table access).
pub type TableReadError = TableError;

/// A cell shape in casacore (Fortran) axis order, e.g. `[ncorr, nchan]` for `DATA`.
pub type CellShape = Vec<usize>;

/// Description of a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    pub name: String,
    pub elem: ElemType,
    /// `true` for array columns.
    pub is_array: bool,
    /// Declared dimensionality of the cells (0 for scalars; 0 or -1 when not declared).
    pub ndim: i32,
    /// `true` when every cell has the same declared shape.
    pub fixed_shape: bool,
    /// The fixed shape, or else the shape of row 0, in casacore axis order; `None` for scalars and
    /// when row 0 is undefined and the shape is not fixed.
    pub shape: Option<CellShape>,
}

/// A rectangular part of every cell: `len[i]` elements from `blc[i]` on each cell axis (casacore
/// axis order, e.g. `[corr, chan]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellSlice {
    pub blc: Vec<usize>,
    pub len: Vec<usize>,
}

impl CellSlice {
    /// Number of elements of one sliced cell.
    pub fn n_elem(&self) -> usize {
        self.len.iter().product()
    }
}

/// A cell slice as the glue takes it: `blc` and `len` as `i64` (both empty for whole cells).
struct GlueSlice {
    blc: Vec<i64>,
    len: Vec<i64>,
}

impl GlueSlice {
    fn ndim(&self) -> c_int {
        self.blc.len() as c_int
    }
}

/// A table opened read-only through our glue. See the module docs for layout and thread safety.
#[derive(Debug)]
pub struct ReadTable {
    handle: Handle,
    columns: Vec<String>,
}

fn to_shape(dims: &[i64]) -> CellShape {
    dims.iter().map(|&s| s.max(0) as usize).collect()
}

impl ReadTable {
    /// Open the table at `path` read-only.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, TableError> {
        let path = path.as_ref();
        let handle = Handle::open(path, "open", pc_tab_open, pc_tab_nrows, pc_tab_close).map_err(
            |source| TableError::Open {
                path: path.to_path_buf(),
                writable: false,
                source,
            },
        )?;
        let mut t = ReadTable {
            handle,
            columns: Vec::new(),
        };
        // SAFETY (every `with_strings` closure): a valid handle, sink, context and record.
        t.columns = t.with_strings("", |t, sink, ctx, exc| unsafe {
            pc_tab_column_names(t, sink, ctx, exc)
        })?;
        Ok(t)
    }

    /// Canonical path of the table.
    pub fn path(&self) -> &Path {
        self.handle.path()
    }

    /// Number of rows.
    pub fn n_rows(&self) -> u64 {
        self.handle.nrows()
    }

    /// Names of all columns.
    pub fn column_names(&self) -> &[String] {
        &self.columns
    }

    /// Whether the column exists.
    pub fn has_column(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
    }

    /// Names of the table keywords (for an MS these include the subtables).
    pub fn keyword_names(&self) -> Result<Vec<String>, TableError> {
        self.with_strings("<keywords>", |t, sink, ctx, exc| unsafe {
            pc_tab_keyword_names(t, sink, ctx, exc)
        })
    }

    /// The `TableInfo` type (e.g. `"Measurement Set"`); empty when unset.
    pub fn info_type(&self) -> Result<String, TableError> {
        let v = self.with_strings("<table.info>", |t, sink, ctx, exc| unsafe {
            pc_tab_info_type(t, sink, ctx, exc)
        })?;
        Ok(v.into_iter().next().unwrap_or_default())
    }

    /// The fields of one cell of a record column, one text line each (see
    /// `cpp/record_glue.cc`; parsed by [`crate::records`]).
    pub(crate) fn record_cell_fields(
        &self,
        column: &str,
        row: u64,
    ) -> Result<Vec<String>, TableError> {
        let col = self.require(column)?;
        self.check_rows(column, row, 1)?;
        self.with_strings(column, |t, sink, ctx, exc| unsafe {
            pc_record_cell_fields(t, col.as_ptr(), row, sink, ctx, exc)
        })
    }

    /// Run a glue call that reports strings through a sink, under the table lock.
    fn with_strings(
        &self,
        column: &str,
        f: impl FnOnce(*mut c_void, StrSink, *mut c_void, *mut PcExc),
    ) -> Result<Vec<String>, TableError> {
        let mut out: Vec<String> = Vec::new();
        let ctx = &mut out as *mut Vec<String> as *mut c_void;
        self.handle
            .column_call(column, "read", |t, exc| f(t, push_string, ctx, exc))?;
        Ok(out)
    }

    fn require(&self, column: &str) -> Result<CString, TableError> {
        if !self.has_column(column) {
            return Err(TableError::NoSuchColumn {
                table: self.path().to_path_buf(),
                column: column.to_string(),
            });
        }
        Ok(cstring(column))
    }

    fn check_rows(&self, column: &str, start: u64, n: u64) -> Result<(), TableError> {
        let nrows = self.n_rows();
        match start.checked_add(n) {
            Some(end) if end <= nrows => Ok(()),
            _ => Err(self.handle.invalid(
                column,
                format!(
                    "rows {start}..{} are out of range (the table has {nrows} rows)",
                    start.saturating_add(n),
                ),
            )),
        }
    }

    /// Description of a column (error if it does not exist).
    pub fn column_info(&self, column: &str) -> Result<ColumnInfo, TableError> {
        let c = self.require(column)?;
        let mut info = PcColInfo::default();
        // SAFETY: valid handle, column name and output record.
        self.handle
            .column_call(column, "column description", |t, exc| unsafe {
                pc_col_info(t, c.as_ptr(), &mut info, exc)
            })?;
        let nd = info.shape_ndim.clamp(0, 8) as usize;
        let shape = (info.is_array != 0 && (info.row0_defined != 0 || info.fixed_shape != 0))
            .then(|| to_shape(&info.shape[..nd]));
        Ok(ColumnInfo {
            name: column.to_string(),
            elem: ElemType::from_code(info.dtype),
            is_array: info.is_array != 0,
            ndim: info.ndim,
            fixed_shape: info.fixed_shape != 0,
            shape,
        })
    }

    /// Shape of the cell in `row` of an array column (casacore axis order); `None` if undefined.
    pub fn cell_shape(&self, column: &str, row: u64) -> Result<Option<CellShape>, TableError> {
        let c = self.require(column)?;
        self.check_rows(column, row, 1)?;
        let mut shape = [0i64; 8];
        let mut nd: c_int = 0;
        // SAFETY: valid handle, row in range, 8-element shape buffer.
        self.handle
            .column_call(column, "cell shape", |t, exc| unsafe {
                pc_cell_shape(t, c.as_ptr(), row, shape.as_mut_ptr(), &mut nd, exc)
            })?;
        Ok((nd >= 0).then(|| to_shape(&shape[..nd as usize])))
    }

    /// The column's measure reference frame (`MEASINFO.Ref` keyword, e.g. `"J2000"`, `"ITRF"`).
    pub fn measure_ref(&self, column: &str) -> Result<Option<String>, TableError> {
        let c = self.require(column)?;
        let v = self.with_strings(column, |t, sink, ctx, exc| unsafe {
            pc_col_measinfo_ref(t, c.as_ptr(), sink, ctx, exc)
        })?;
        Ok(v.into_iter().next())
    }

    /// Read rows `[start, start + out.len())` of a scalar column into `out`.
    pub fn read_scalar_range<T: ScalarElem>(
        &self,
        column: &str,
        start: u64,
        out: &mut [T],
    ) -> Result<(), TableError> {
        let c = self.require(column)?;
        let n = out.len() as u64;
        self.check_rows(column, start, n)?;
        // SAFETY: `out` holds exactly `n` elements, rows are in range.
        self.handle
            .column_call(column, "scalar range read", |t, exc| unsafe {
                T::SCALAR_RANGE(t, c.as_ptr(), start, n, out.as_mut_ptr(), exc)
            })
    }

    /// A whole scalar column.
    pub fn scalar_column<T: ScalarElem>(&self, column: &str) -> Result<Vec<T>, TableError> {
        let mut v = vec![T::default(); self.n_rows() as usize];
        self.read_scalar_range(column, 0, &mut v)?;
        Ok(v)
    }

    /// Rows `[start, start + n)` of a scalar String column.
    pub fn read_string_range(
        &self,
        column: &str,
        start: u64,
        n: u64,
    ) -> Result<Vec<String>, TableError> {
        let c = self.require(column)?;
        self.check_rows(column, start, n)?;
        self.with_strings(column, |t, sink, ctx, exc| unsafe {
            pc_get_scalar_range_string(t, c.as_ptr(), start, n, sink, ctx, exc)
        })
    }

    /// A whole scalar String column.
    pub fn string_column(&self, column: &str) -> Result<Vec<String>, TableError> {
        self.read_string_range(column, 0, self.n_rows())
    }

    /// One whole cell of an array String column (elements in casacore order).
    pub fn read_cell_strings(&self, column: &str, row: u64) -> Result<Vec<String>, TableError> {
        let c = self.require(column)?;
        self.check_rows(column, row, 1)?;
        self.with_strings(column, |t, sink, ctx, exc| unsafe {
            pc_get_cell_string(t, c.as_ptr(), row, sink, ctx, exc)
        })
    }

    /// One whole cell of an array column: its shape (casacore order) and elements (Fortran order,
    /// i.e. the first shape axis varies fastest). An undefined cell gives an empty shape and vector.
    pub fn read_cell<T: ArrayElem>(
        &self,
        column: &str,
        row: u64,
    ) -> Result<(CellShape, Vec<T>), TableError> {
        let Some(shape) = self.cell_shape(column, row)? else {
            return Ok((Vec::new(), Vec::new()));
        };
        let c = cstring(column);
        let n: usize = shape.iter().product();
        let mut out = vec![T::default(); n];
        // SAFETY: `out` holds `n` elements; the glue checks the cell has that many.
        self.handle
            .column_call(column, "cell read", |t, exc| unsafe {
                T::CELL(t, c.as_ptr(), row, out.as_mut_ptr(), n as u64, exc)
            })?;
        Ok((shape, out))
    }

    fn slice_args(&self, column: &str, slice: Option<&CellSlice>) -> Result<GlueSlice, TableError> {
        let to_i64 = |v: &[usize]| v.iter().map(|&x| x as i64).collect();
        match slice {
            None => Ok(GlueSlice {
                blc: Vec::new(),
                len: Vec::new(),
            }),
            Some(s) if s.blc.len() != s.len.len() || s.blc.is_empty() || s.blc.len() > 8 => {
                Err(self.handle.invalid(
                    column,
                    format!("invalid cell slice blc={:?} len={:?}", s.blc, s.len),
                ))
            }
            Some(s) => Ok(GlueSlice {
                blc: to_i64(&s.blc),
                len: to_i64(&s.len),
            }),
        }
    }

    /// Read sliced cells of `rows` (a start row for [`ArrayElem::RANGE`], a row list for
    /// [`ArrayElem::CELLS`]) with the glue's `read` into `out`.
    #[allow(clippy::too_many_arguments)]
    fn read_array<T: ArrayElem, R>(
        &self,
        column: &str,
        context: &str,
        read: ArrayReadFn<T, R>,
        rows: R,
        n: u64,
        slice: Option<&CellSlice>,
        out: &mut [T],
    ) -> Result<(), TableError> {
        let c = self.require(column)?;
        let s = self.slice_args(column, slice)?;
        // SAFETY: rows are in range (checked by the callers); the glue checks that `out` has
        // exactly the result's size.
        self.handle.column_call(column, context, |t, exc| unsafe {
            read(
                t,
                c.as_ptr(),
                rows,
                n,
                s.ndim(),
                s.blc.as_ptr(),
                s.len.as_ptr(),
                out.as_mut_ptr(),
                out.len() as u64,
                exc,
            )
        })
    }

    /// Read cells of rows `[start, start + n)` of an array column (all of the same shape), optionally
    /// sliced, into `out`, which must hold `n * cell_elements` values. C-order layout of `out`:
    /// `(row, axis_{k-1}, ..., axis_0)` for a cell shape `[axis_0, ..., axis_{k-1}]`.
    pub fn read_array_range<T: ArrayElem>(
        &self,
        column: &str,
        start: u64,
        n: u64,
        slice: Option<&CellSlice>,
        out: &mut [T],
    ) -> Result<(), TableError> {
        self.require(column)?;
        self.check_rows(column, start, n)?;
        self.read_array(column, "array range read", T::RANGE, start, n, slice, out)
    }

    /// Like [`ReadTable::read_array_range`] for an arbitrary list of rows (ascending order reads
    /// fastest: runs of consecutive rows are read as ranges).
    pub fn read_array_cells<T: ArrayElem>(
        &self,
        column: &str,
        rows: &[u64],
        slice: Option<&CellSlice>,
        out: &mut [T],
    ) -> Result<(), TableError> {
        self.require(column)?;
        self.handle.check_row_list(column, rows)?;
        let n = rows.len() as u64;
        self.read_array(
            column,
            "array cells read",
            T::CELLS,
            rows.as_ptr(),
            n,
            slice,
            out,
        )
    }
}

#[cfg(test)]
mod tests;

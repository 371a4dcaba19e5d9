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

use crate::error::{GlueError, PcExc};
use num_complex::Complex32;
use std::collections::HashMap;
use std::ffi::{c_void, CString};
use std::os::raw::{c_char, c_int};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

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

macro_rules! decl_array_reads {
    ($($range:ident, $cells:ident, $cell:ident, $t:ty;)*) => {
        extern "C" {
            $(
            fn $range(t: *mut c_void, col: *const c_char, start: u64, n: u64, slice_ndim: c_int,
                      blc: *const i64, len: *const i64, out: *mut $t, nelem: u64, exc: *mut PcExc);
            fn $cells(t: *mut c_void, col: *const c_char, rows: *const u64, n: u64, slice_ndim: c_int,
                      blc: *const i64, len: *const i64, out: *mut $t, nelem: u64, exc: *mut PcExc);
            fn $cell(t: *mut c_void, col: *const c_char, row: u64, out: *mut $t, nelem: u64,
                     exc: *mut PcExc);
            )*
        }
    };
}

decl_array_reads! {
    pc_get_array_range_int, pc_get_array_cells_int, pc_get_cell_int, i32;
    pc_get_array_range_double, pc_get_array_cells_double, pc_get_cell_double, f64;
    pc_get_array_range_float, pc_get_array_cells_float, pc_get_cell_float, f32;
    pc_get_array_range_bool, pc_get_array_cells_bool, pc_get_cell_bool, bool;
    pc_get_array_range_complex, pc_get_array_cells_complex, pc_get_cell_complex, Complex32;
}

extern "C" {
    fn pc_tab_open(path: *const c_char, exc: *mut PcExc) -> *mut c_void;
    fn pc_tab_close(t: *mut c_void);
    fn pc_tab_nrows(t: *mut c_void) -> u64;
    fn pc_tab_column_names(t: *mut c_void, sink: StrSink, ctx: *mut c_void, exc: *mut PcExc);
    fn pc_tab_keyword_names(t: *mut c_void, sink: StrSink, ctx: *mut c_void, exc: *mut PcExc);
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
    fn pc_get_scalar_range_int(
        t: *mut c_void,
        col: *const c_char,
        start: u64,
        n: u64,
        out: *mut i32,
        exc: *mut PcExc,
    );
    fn pc_get_scalar_range_double(
        t: *mut c_void,
        col: *const c_char,
        start: u64,
        n: u64,
        out: *mut f64,
        exc: *mut PcExc,
    );
    fn pc_get_scalar_range_float(
        t: *mut c_void,
        col: *const c_char,
        start: u64,
        n: u64,
        out: *mut f32,
        exc: *mut PcExc,
    );
    fn pc_get_scalar_range_bool(
        t: *mut c_void,
        col: *const c_char,
        start: u64,
        n: u64,
        out: *mut bool,
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

/// An error while opening or reading a table. Every variant names the table.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TableReadError {
    /// casacore could not open the table.
    #[error("cannot open table {}: {message}", path.display())]
    Open { path: PathBuf, message: String },
    /// The column does not exist.
    #[error("table {} has no column {column}", table.display())]
    NoSuchColumn { table: PathBuf, column: String },
    /// casacore failed while reading a column.
    #[error("table {}, column {column}: {source}", table.display())]
    Read {
        table: PathBuf,
        column: String,
        #[source]
        source: GlueError,
    },
    /// The request was inconsistent (rows out of range, buffer of the wrong size, ...).
    #[error("table {}, column {column}: {message}", table.display())]
    Invalid {
        table: PathBuf,
        column: String,
        message: String,
    },
}

/// casacore element data types (`casacore::DataType`), as far as pclean needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElemType {
    Bool,
    UChar,
    Short,
    Int,
    UInt,
    Int64,
    Float,
    Double,
    Complex,
    DComplex,
    String,
    /// Any other casacore type code.
    Other(i32),
}

impl ElemType {
    fn from_code(code: i32) -> Self {
        match code {
            0 => ElemType::Bool,
            2 => ElemType::UChar,
            3 => ElemType::Short,
            5 => ElemType::Int,
            6 => ElemType::UInt,
            7 => ElemType::Float,
            8 => ElemType::Double,
            9 => ElemType::Complex,
            10 => ElemType::DComplex,
            11 => ElemType::String,
            32 => ElemType::Int64,
            c => ElemType::Other(c),
        }
    }
}

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

mod sealed {
    pub trait Sealed {}
}

/// Element types that array columns can be read into: `i32`, `f64`, `f32`, `bool`, `Complex32`.
pub trait ArrayElem: sealed::Sealed + Copy + Default {
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn ffi_range(
        t: *mut c_void,
        col: *const c_char,
        start: u64,
        n: u64,
        sl: (c_int, *const i64, *const i64),
        out: *mut Self,
        nelem: u64,
        exc: *mut PcExc,
    );
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn ffi_cells(
        t: *mut c_void,
        col: *const c_char,
        rows: *const u64,
        n: u64,
        sl: (c_int, *const i64, *const i64),
        out: *mut Self,
        nelem: u64,
        exc: *mut PcExc,
    );
    #[doc(hidden)]
    unsafe fn ffi_cell(
        t: *mut c_void,
        col: *const c_char,
        row: u64,
        out: *mut Self,
        nelem: u64,
        exc: *mut PcExc,
    );
}

macro_rules! impl_array_elem {
    ($t:ty, $range:ident, $cells:ident, $cell:ident) => {
        impl sealed::Sealed for $t {}
        impl ArrayElem for $t {
            unsafe fn ffi_range(
                t: *mut c_void,
                col: *const c_char,
                start: u64,
                n: u64,
                sl: (c_int, *const i64, *const i64),
                out: *mut Self,
                nelem: u64,
                exc: *mut PcExc,
            ) {
                $range(t, col, start, n, sl.0, sl.1, sl.2, out, nelem, exc)
            }
            unsafe fn ffi_cells(
                t: *mut c_void,
                col: *const c_char,
                rows: *const u64,
                n: u64,
                sl: (c_int, *const i64, *const i64),
                out: *mut Self,
                nelem: u64,
                exc: *mut PcExc,
            ) {
                $cells(t, col, rows, n, sl.0, sl.1, sl.2, out, nelem, exc)
            }
            unsafe fn ffi_cell(
                t: *mut c_void,
                col: *const c_char,
                row: u64,
                out: *mut Self,
                nelem: u64,
                exc: *mut PcExc,
            ) {
                $cell(t, col, row, out, nelem, exc)
            }
        }
    };
}

impl_array_elem!(
    i32,
    pc_get_array_range_int,
    pc_get_array_cells_int,
    pc_get_cell_int
);
impl_array_elem!(
    f64,
    pc_get_array_range_double,
    pc_get_array_cells_double,
    pc_get_cell_double
);
impl_array_elem!(
    f32,
    pc_get_array_range_float,
    pc_get_array_cells_float,
    pc_get_cell_float
);
impl_array_elem!(
    bool,
    pc_get_array_range_bool,
    pc_get_array_cells_bool,
    pc_get_cell_bool
);
impl_array_elem!(
    Complex32,
    pc_get_array_range_complex,
    pc_get_array_cells_complex,
    pc_get_cell_complex
);

/// Element types that scalar columns can be read into: `i32`, `f64`, `f32`, `bool`.
pub trait ScalarElem: sealed::Sealed + Copy + Default {
    #[doc(hidden)]
    unsafe fn ffi_scalar_range(
        t: *mut c_void,
        col: *const c_char,
        start: u64,
        n: u64,
        out: *mut Self,
        exc: *mut PcExc,
    );
}

macro_rules! impl_scalar_elem {
    ($t:ty, $f:ident) => {
        impl ScalarElem for $t {
            unsafe fn ffi_scalar_range(
                t: *mut c_void,
                col: *const c_char,
                start: u64,
                n: u64,
                out: *mut Self,
                exc: *mut PcExc,
            ) {
                $f(t, col, start, n, out, exc)
            }
        }
    };
}
impl_scalar_elem!(i32, pc_get_scalar_range_int);
impl_scalar_elem!(f64, pc_get_scalar_range_double);
impl_scalar_elem!(f32, pc_get_scalar_range_float);
impl_scalar_elem!(bool, pc_get_scalar_range_bool);

/// The lock of every table path ever opened in this process (keyed by canonical path).
pub(crate) fn path_lock(path: &Path) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    let mut map = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    map.entry(path.to_path_buf()).or_default().clone()
}

pub(crate) fn guard(lock: &Mutex<()>) -> MutexGuard<'_, ()> {
    // A panic while holding the lock leaves no casacore state half-updated that we rely on.
    lock.lock().unwrap_or_else(|e| e.into_inner())
}

/// A table opened read-only through our glue. See the module docs for layout and thread safety.
pub struct ReadTable {
    ptr: NonNull<c_void>,
    path: PathBuf,
    lock: Arc<Mutex<()>>,
    nrows: u64,
    columns: Vec<String>,
}

// SAFETY: the handle is only used while holding the per-path lock (see module docs).
unsafe impl Send for ReadTable {}
// SAFETY: every method takes the per-path lock before touching the handle.
unsafe impl Sync for ReadTable {}

impl std::fmt::Debug for ReadTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadTable")
            .field("path", &self.path)
            .field("nrows", &self.nrows)
            .finish()
    }
}

impl Drop for ReadTable {
    fn drop(&mut self) {
        let _g = guard(&self.lock);
        // SAFETY: the pointer came from pc_tab_open and is closed exactly once.
        unsafe { pc_tab_close(self.ptr.as_ptr()) };
    }
}

fn cstring(s: &str) -> CString {
    // Table paths and column names never contain NUL; replace defensively instead of panicking.
    CString::new(s.replace('\0', "?")).unwrap_or_default()
}

/// A table handle opened by [`open_handle`].
pub(crate) struct OpenedHandle {
    pub(crate) ptr: NonNull<c_void>,
    pub(crate) canon: PathBuf,
    pub(crate) lock: Arc<Mutex<()>>,
    pub(crate) nrows: u64,
}

/// Open a table through one of the glue's `open` functions: canonicalise the path, take its
/// per-path lock for the call, map a C++ exception or a null handle to a message, and read the
/// row count. Shared by read-only and update handles; the caller wraps the message in its error.
pub(crate) fn open_handle(
    path: &Path,
    context: &str,
    open: impl FnOnce(*const c_char, *mut PcExc) -> *mut c_void,
    nrows: impl FnOnce(*mut c_void) -> u64,
) -> Result<OpenedHandle, String> {
    let canon = path.canonicalize().map_err(|e| e.to_string())?;
    let lock = path_lock(&canon);
    let cpath = cstring(&canon.to_string_lossy());
    let mut exc = PcExc::default();
    let g = guard(&lock);
    let raw = open(cpath.as_ptr(), &mut exc);
    if let Err(e) = exc.check(context) {
        return Err(match e {
            GlueError::Casacore { message, .. } | GlueError::Invalid { message, .. } => message,
            other => other.to_string(),
        });
    }
    let ptr = NonNull::new(raw).ok_or_else(|| "the glue returned no table".to_string())?;
    let n = nrows(ptr.as_ptr());
    drop(g);
    Ok(OpenedHandle {
        ptr,
        canon,
        lock,
        nrows: n,
    })
}

impl ReadTable {
    /// Open the table at `path` read-only.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, TableReadError> {
        let path = path.as_ref();
        let opened = open_handle(
            path,
            "open",
            |p, e| unsafe { pc_tab_open(p, e) },
            |t| unsafe { pc_tab_nrows(t) },
        )
        .map_err(|message| TableReadError::Open {
            path: path.to_path_buf(),
            message,
        })?;
        let OpenedHandle {
            ptr,
            canon,
            lock,
            nrows,
        } = opened;
        let mut t = ReadTable {
            ptr,
            path: canon,
            lock,
            nrows,
            columns: Vec::new(),
        };
        t.columns = t.with_strings("", |t, sink, ctx, exc| unsafe {
            pc_tab_column_names(t, sink, ctx, exc)
        })?;
        Ok(t)
    }

    /// Canonical path of the table.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of rows.
    pub fn n_rows(&self) -> u64 {
        self.nrows
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
    pub fn keyword_names(&self) -> Result<Vec<String>, TableReadError> {
        self.with_strings("<keywords>", |t, sink, ctx, exc| unsafe {
            pc_tab_keyword_names(t, sink, ctx, exc)
        })
    }

    /// The `TableInfo` type (e.g. `"Measurement Set"`); empty when unset.
    pub fn info_type(&self) -> Result<String, TableReadError> {
        let v = self.with_strings("<table.info>", |t, sink, ctx, exc| unsafe {
            pc_tab_info_type(t, sink, ctx, exc)
        })?;
        Ok(v.into_iter().next().unwrap_or_default())
    }

    /// Run a glue call that reports strings through a sink, under the table lock.
    fn with_strings(
        &self,
        column: &str,
        f: impl FnOnce(*mut c_void, StrSink, *mut c_void, *mut PcExc),
    ) -> Result<Vec<String>, TableReadError> {
        let mut out: Vec<String> = Vec::new();
        let mut exc = PcExc::default();
        {
            let _g = guard(&self.lock);
            f(
                self.ptr.as_ptr(),
                push_string,
                &mut out as *mut Vec<String> as *mut c_void,
                &mut exc,
            );
        }
        exc.check("read").map_err(|e| self.read_err(column, e))?;
        Ok(out)
    }

    fn read_err(&self, column: &str, source: GlueError) -> TableReadError {
        TableReadError::Read {
            table: self.path.clone(),
            column: column.to_string(),
            source,
        }
    }

    fn invalid(&self, column: &str, message: String) -> TableReadError {
        TableReadError::Invalid {
            table: self.path.clone(),
            column: column.to_string(),
            message,
        }
    }

    fn require(&self, column: &str) -> Result<CString, TableReadError> {
        if !self.has_column(column) {
            return Err(TableReadError::NoSuchColumn {
                table: self.path.clone(),
                column: column.to_string(),
            });
        }
        Ok(cstring(column))
    }

    fn check_rows(&self, column: &str, start: u64, n: u64) -> Result<(), TableReadError> {
        match start.checked_add(n) {
            Some(end) if end <= self.nrows => Ok(()),
            _ => Err(self.invalid(
                column,
                format!(
                    "rows {start}..{} are out of range (the table has {} rows)",
                    start.saturating_add(n),
                    self.nrows
                ),
            )),
        }
    }

    /// Description of a column (error if it does not exist).
    pub fn column_info(&self, column: &str) -> Result<ColumnInfo, TableReadError> {
        let c = self.require(column)?;
        let mut info = PcColInfo::default();
        let mut exc = PcExc::default();
        {
            let _g = guard(&self.lock);
            // SAFETY: valid handle, column name and output record.
            unsafe { pc_col_info(self.ptr.as_ptr(), c.as_ptr(), &mut info, &mut exc) };
        }
        exc.check("column description")
            .map_err(|e| self.read_err(column, e))?;
        let nd = info.shape_ndim.clamp(0, 8) as usize;
        let shape =
            (info.is_array != 0 && (info.row0_defined != 0 || info.fixed_shape != 0)).then(|| {
                info.shape[..nd]
                    .iter()
                    .map(|&s| s.max(0) as usize)
                    .collect()
            });
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
    pub fn cell_shape(&self, column: &str, row: u64) -> Result<Option<CellShape>, TableReadError> {
        let c = self.require(column)?;
        self.check_rows(column, row, 1)?;
        let mut shape = [0i64; 8];
        let mut nd: c_int = 0;
        let mut exc = PcExc::default();
        {
            let _g = guard(&self.lock);
            // SAFETY: valid handle, row in range, 8-element shape buffer.
            unsafe {
                pc_cell_shape(
                    self.ptr.as_ptr(),
                    c.as_ptr(),
                    row,
                    shape.as_mut_ptr(),
                    &mut nd,
                    &mut exc,
                )
            };
        }
        exc.check("cell shape")
            .map_err(|e| self.read_err(column, e))?;
        if nd < 0 {
            return Ok(None);
        }
        Ok(Some(
            shape[..nd as usize]
                .iter()
                .map(|&s| s.max(0) as usize)
                .collect(),
        ))
    }

    /// The column's measure reference frame (`MEASINFO.Ref` keyword, e.g. `"J2000"`, `"ITRF"`).
    pub fn measure_ref(&self, column: &str) -> Result<Option<String>, TableReadError> {
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
    ) -> Result<(), TableReadError> {
        let c = self.require(column)?;
        let n = out.len() as u64;
        self.check_rows(column, start, n)?;
        let mut exc = PcExc::default();
        {
            let _g = guard(&self.lock);
            // SAFETY: `out` holds exactly `n` elements, rows are in range.
            unsafe {
                T::ffi_scalar_range(
                    self.ptr.as_ptr(),
                    c.as_ptr(),
                    start,
                    n,
                    out.as_mut_ptr(),
                    &mut exc,
                )
            };
        }
        exc.check("scalar range read")
            .map_err(|e| self.read_err(column, e))
    }

    /// A whole scalar column.
    pub fn scalar_column<T: ScalarElem>(&self, column: &str) -> Result<Vec<T>, TableReadError> {
        let mut v = vec![T::default(); self.nrows as usize];
        self.read_scalar_range(column, 0, &mut v)?;
        Ok(v)
    }

    /// Rows `[start, start + n)` of a scalar String column.
    pub fn read_string_range(
        &self,
        column: &str,
        start: u64,
        n: u64,
    ) -> Result<Vec<String>, TableReadError> {
        let c = self.require(column)?;
        self.check_rows(column, start, n)?;
        self.with_strings(column, |t, sink, ctx, exc| unsafe {
            pc_get_scalar_range_string(t, c.as_ptr(), start, n, sink, ctx, exc)
        })
    }

    /// A whole scalar String column.
    pub fn string_column(&self, column: &str) -> Result<Vec<String>, TableReadError> {
        self.read_string_range(column, 0, self.nrows)
    }

    /// One whole cell of an array String column (elements in casacore order).
    pub fn read_cell_strings(&self, column: &str, row: u64) -> Result<Vec<String>, TableReadError> {
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
    ) -> Result<(CellShape, Vec<T>), TableReadError> {
        let Some(shape) = self.cell_shape(column, row)? else {
            return Ok((Vec::new(), Vec::new()));
        };
        let c = cstring(column);
        let n: usize = shape.iter().product();
        let mut out = vec![T::default(); n];
        let mut exc = PcExc::default();
        {
            let _g = guard(&self.lock);
            // SAFETY: `out` holds `n` elements; the glue checks the cell has that many.
            unsafe {
                T::ffi_cell(
                    self.ptr.as_ptr(),
                    c.as_ptr(),
                    row,
                    out.as_mut_ptr(),
                    n as u64,
                    &mut exc,
                )
            };
        }
        exc.check("cell read")
            .map_err(|e| self.read_err(column, e))?;
        Ok((shape, out))
    }

    fn slice_args(
        &self,
        column: &str,
        slice: Option<&CellSlice>,
    ) -> Result<(Vec<i64>, Vec<i64>), TableReadError> {
        match slice {
            None => Ok((Vec::new(), Vec::new())),
            Some(s) => {
                if s.blc.len() != s.len.len() || s.blc.is_empty() || s.blc.len() > 8 {
                    return Err(self.invalid(
                        column,
                        format!("invalid cell slice blc={:?} len={:?}", s.blc, s.len),
                    ));
                }
                Ok((
                    s.blc.iter().map(|&v| v as i64).collect(),
                    s.len.iter().map(|&v| v as i64).collect(),
                ))
            }
        }
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
    ) -> Result<(), TableReadError> {
        let c = self.require(column)?;
        self.check_rows(column, start, n)?;
        let (blc, len) = self.slice_args(column, slice)?;
        let mut exc = PcExc::default();
        {
            let _g = guard(&self.lock);
            // SAFETY: rows are in range; the glue checks that `out` has exactly the result's size.
            unsafe {
                T::ffi_range(
                    self.ptr.as_ptr(),
                    c.as_ptr(),
                    start,
                    n,
                    (blc.len() as c_int, blc.as_ptr(), len.as_ptr()),
                    out.as_mut_ptr(),
                    out.len() as u64,
                    &mut exc,
                )
            };
        }
        exc.check("array range read")
            .map_err(|e| self.read_err(column, e))
    }

    /// Like [`ReadTable::read_array_range`] for an arbitrary list of rows (ascending order reads
    /// fastest: runs of consecutive rows are read as ranges).
    pub fn read_array_cells<T: ArrayElem>(
        &self,
        column: &str,
        rows: &[u64],
        slice: Option<&CellSlice>,
        out: &mut [T],
    ) -> Result<(), TableReadError> {
        let c = self.require(column)?;
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.nrows) {
            return Err(self.invalid(
                column,
                format!(
                    "row {bad} is out of range (the table has {} rows)",
                    self.nrows
                ),
            ));
        }
        let (blc, len) = self.slice_args(column, slice)?;
        let mut exc = PcExc::default();
        {
            let _g = guard(&self.lock);
            // SAFETY: rows are in range; the glue checks that `out` has exactly the result's size.
            unsafe {
                T::ffi_cells(
                    self.ptr.as_ptr(),
                    c.as_ptr(),
                    rows.as_ptr(),
                    rows.len() as u64,
                    (blc.len() as c_int, blc.as_ptr(), len.as_ptr()),
                    out.as_mut_ptr(),
                    out.len() as u64,
                    &mut exc,
                )
            };
        }
        exc.check("array cells read")
            .map_err(|e| self.read_err(column, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubbl_casatables::{GlueDataType, Table, TableCreateMode, TableDesc, TableDescCreateMode};

    /// A scratch directory removed on drop.
    struct Scratch(PathBuf);
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const NROW: u64 = 6;

    /// The FL column's value in (row, chan, corr).
    fn flag_pattern(r: usize, chan: usize, corr: usize) -> bool {
        matches!((r + chan + corr) % 3, 0)
    }

    fn vis(r: u64, chan: usize, corr: usize) -> Complex32 {
        Complex32::new(
            (r * 100 + chan as u64 * 10 + corr as u64) as f32,
            -(r as f32),
        )
    }

    /// A table with scalar columns I, D, B, S and variable-shape array columns C (Complex), F
    /// (Float), FL (Bool) whose cells have casacore shape [corr=2, chan=4].
    fn make_table(name: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "pclean-columns-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.tab");
        let mut desc = TableDesc::new("", TableDescCreateMode::TDM_SCRATCH).unwrap();
        for (t, n) in [
            (GlueDataType::TpInt, "I"),
            (GlueDataType::TpDouble, "D"),
            (GlueDataType::TpBool, "B"),
            (GlueDataType::TpString, "S"),
        ] {
            desc.add_scalar_column(t, n, None, false, false).unwrap();
        }
        for (t, n) in [
            (GlueDataType::TpComplex, "C"),
            (GlueDataType::TpFloat, "F"),
            (GlueDataType::TpBool, "FL"),
        ] {
            desc.add_array_column(t, n, None, None, false, false)
                .unwrap();
        }
        let mut t = Table::new(&path, desc, NROW as usize, TableCreateMode::New).unwrap();
        for r in 0..NROW {
            t.put_cell("I", r, &(r as i32 * 3)).unwrap();
            t.put_cell("D", r, &(r as f64 * 0.5)).unwrap();
            t.put_cell("B", r, &(r % 2 == 1)).unwrap();
            t.put_cell("S", r, &format!("row{r}")).unwrap();
            // rubbl shapes are C-ordered: (chan, corr) here is casacore's [corr, chan].
            let c = ndarray::Array2::from_shape_fn((4, 2), |(ch, p)| vis(r, ch, p));
            t.put_cell("C", r, &c).unwrap();
            let f = c.mapv(|z| z.re);
            t.put_cell("F", r, &f).unwrap();
            let fl =
                ndarray::Array2::from_shape_fn((4, 2), |(ch, p)| flag_pattern(r as usize, ch, p));
            t.put_cell("FL", r, &fl).unwrap();
        }
        drop(t);
        Scratch(dir)
    }

    #[test]
    fn scalar_and_string_reads() {
        let s = make_table("scalar");
        let t = ReadTable::open(s.0.join("t.tab")).unwrap();
        assert_eq!(t.n_rows(), NROW);
        assert!(t.has_column("C") && !t.has_column("X"));
        let mut i = [0i32; 3];
        t.read_scalar_range("I", 2, &mut i).unwrap();
        assert_eq!(i, [6, 9, 12]);
        assert_eq!(
            t.scalar_column::<f64>("D").unwrap(),
            vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
        );
        assert_eq!(
            t.scalar_column::<bool>("B").unwrap(),
            vec![false, true, false, true, false, true]
        );
        assert_eq!(
            t.read_string_range("S", 4, 2).unwrap(),
            vec!["row4", "row5"]
        );
        let info = t.column_info("I").unwrap();
        assert_eq!(
            (info.elem, info.is_array, info.shape),
            (ElemType::Int, false, None)
        );
    }

    #[test]
    fn array_range_cells_and_slices() {
        let s = make_table("array");
        let t = ReadTable::open(s.0.join("t.tab")).unwrap();
        let info = t.column_info("C").unwrap();
        assert_eq!(info.elem, ElemType::Complex);
        assert!(info.is_array && !info.fixed_shape);
        assert_eq!(info.shape, Some(vec![2, 4]));
        assert_eq!(t.cell_shape("F", 3).unwrap(), Some(vec![2, 4]));

        // Whole cells of rows 1..5: C order (row, chan, corr).
        let mut buf = vec![Complex32::default(); 4 * 8];
        t.read_array_range("C", 1, 4, None, &mut buf).unwrap();
        for r in 0..4 {
            for ch in 0..4 {
                for p in 0..2 {
                    assert_eq!(buf[(r * 4 + ch) * 2 + p], vis(r as u64 + 1, ch, p));
                }
            }
        }
        // Slice: corr 1 only, channels 1..3.
        let slice = CellSlice {
            blc: vec![1, 1],
            len: vec![1, 2],
        };
        let mut buf = vec![0f32; 2 * 2];
        t.read_array_range("F", 4, 2, Some(&slice), &mut buf)
            .unwrap();
        assert_eq!(buf, vec![411.0, 421.0, 511.0, 521.0]);
        // Row list with a slice (runs 0, 2..=3, 5).
        let rows = [0u64, 2, 3, 5];
        let slice = CellSlice {
            blc: vec![0, 2],
            len: vec![2, 2],
        };
        let mut buf = vec![Complex32::default(); rows.len() * 4];
        t.read_array_cells("C", &rows, Some(&slice), &mut buf)
            .unwrap();
        for (k, &r) in rows.iter().enumerate() {
            for ch in 0..2 {
                for p in 0..2 {
                    assert_eq!(buf[(k * 2 + ch) * 2 + p], vis(r, ch + 2, p));
                }
            }
        }
        let mut fl = vec![false; 2 * 8];
        t.read_array_cells("FL", &[1, 4], None, &mut fl).unwrap();
        for (k, r) in [1usize, 4].into_iter().enumerate() {
            for ch in 0..4 {
                for p in 0..2 {
                    assert_eq!(fl[(k * 4 + ch) * 2 + p], flag_pattern(r, ch, p));
                }
            }
        }
        let (shape, cell) = t.read_cell::<f32>("F", 2).unwrap();
        assert_eq!(shape, vec![2, 4]);
        assert_eq!(cell[..3], [200.0, 201.0, 210.0]);
    }

    #[test]
    fn errors_name_table_and_column() {
        let s = make_table("errors");
        let path = s.0.join("t.tab");
        let t = ReadTable::open(&path).unwrap();
        let e = t.column_info("NOPE").unwrap_err().to_string();
        assert!(
            e.contains("has no column NOPE") && e.contains("t.tab"),
            "{e}"
        );
        let mut b = [0i32; 3];
        let e = t.read_scalar_range("I", 5, &mut b).unwrap_err().to_string();
        assert!(e.contains("out of range"), "{e}");
        // Buffer of the wrong size: caught by the glue, reported with the column.
        let mut b = vec![0f32; 7];
        let e = t
            .read_array_range("F", 0, 1, None, &mut b)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column F") && e.contains("caller's buffer holds 7"),
            "{e}"
        );
        // Wrong element type: casacore's exception becomes an error.
        let mut b = vec![0f64; 8];
        assert!(t.read_array_range("F", 0, 1, None, &mut b).is_err());
        let bad = CellSlice {
            blc: vec![0],
            len: vec![1, 2],
        };
        assert!(t
            .read_array_range("F", 0, 1, Some(&bad), &mut [0f32; 2])
            .is_err());
        assert!(t.read_array_cells("F", &[9], None, &mut [0f32; 8]).is_err());
        let e = ReadTable::open(s.0.join("missing"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cannot open table") && e.contains("missing"),
            "{e}"
        );
        let e = ReadTable::open(&s.0).unwrap_err().to_string();
        assert!(e.contains("cannot open table"), "{e}");
    }

    #[test]
    fn same_table_from_several_threads() {
        let s = make_table("threads");
        let path = s.0.join("t.tab");
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..50 {
                        let t = ReadTable::open(&path).unwrap();
                        let mut buf = vec![Complex32::default(); 6 * 8];
                        t.read_array_range("C", 0, 6, None, &mut buf).unwrap();
                        assert_eq!(buf[47], vis(5, 3, 1));
                    }
                });
            }
        });
    }
}

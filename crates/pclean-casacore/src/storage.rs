//! Storage managers of a table (`cpp/storage_glue.cc`): which data manager holds each column and its
//! specification (tile shapes, bucket sizes), whether casacore can instantiate a storage-manager type
//! in this build, and a deep copy that rebinds columns to another storage manager.
//!
//! Every call on a path holds the per-path lock of [`columns`](crate::columns), so it never races
//! with a reader of the same table in another thread (casacore issue #1163).

use crate::error::{GlueError, PcExc};
use crate::handle::{canonical, locked_call, path_lock};
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int};
use std::path::{Path, PathBuf};

extern "C" {
    fn pc_free_string(s: *mut c_char);
    fn pc_table_storage_info(path: *const c_char, exc: *mut PcExc) -> *mut c_char;
    fn pc_data_manager_available(dm_type: *const c_char, why: *mut PcExc, exc: *mut PcExc)
        -> c_int;
    fn pc_table_copy_rebind(
        input: *const c_char,
        output: *const c_char,
        dm_type: *const c_char,
        dm_name: *const c_char,
        cols: *const *const c_char,
        ncols: c_int,
        row_start: i64,
        row_count: i64,
        exc: *mut PcExc,
    ) -> c_int;
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnStorage {
    /// Column name.
    pub name: String,
    /// casacore's type name in lower case, as python-casacore's `valueType` (`"float"`, `"complex"`,
    /// `"double"`, `"int"`, `"bool"`, `"string"`, …).
    pub data_type: String,
    /// Array (true) or scalar column.
    pub is_array: bool,
    /// Dimensions of an array column (`-1`: any).
    pub ndim: i32,
    /// Cell shape in casacore (Fortran) axis order, e.g. `[ncorr, nchan]` for `DATA`: from the
    /// column description when fixed, else from row 0; `None` when neither is available.
    pub shape: Option<Vec<usize>>,
    /// True when the shape is the column's fixed shape; false when read from row 0.
    pub fixed_shape: bool,
}

/// One data manager of a table (an entry of casacore's `Table::dataManagerInfo()`).
#[derive(Debug, Clone, PartialEq)]
pub struct DataManagerStorage {
    /// Type, e.g. `StandardStMan`, `IncrementalStMan`, `TiledShapeStMan`, `Adios2StMan`.
    pub dm_type: String,
    /// Name (the data-manager group), e.g. `TiledData`, `SSM`.
    pub name: String,
    /// Sequence number in the table.
    pub seqnr: u32,
    /// Columns bound to it.
    pub columns: Vec<String>,
    /// Leaves of its `SPEC` record as `(dotted key, value as text)`, e.g.
    /// `("DEFAULTTILESHAPE", "[4, 64, 1024]")`, `("HYPERCUBES.*1.TileShape", "[4, 64, 1024]")`,
    /// `("BUCKETSIZE", "32768")`.
    pub spec: Vec<(String, String)>,
}

impl DataManagerStorage {
    /// The value of `SPEC` leaf `key`, if present.
    pub fn spec_value(&self, key: &str) -> Option<&str> {
        self.spec
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Columns and data managers of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableStorage {
    /// The table's path as given.
    pub path: PathBuf,
    /// Number of rows.
    pub nrow: u64,
    /// Columns in the table description's order.
    pub columns: Vec<ColumnStorage>,
    /// Data managers in `dataManagerInfo()` order.
    pub data_managers: Vec<DataManagerStorage>,
}

impl TableStorage {
    /// The data manager a column is bound to.
    pub fn data_manager_of(&self, column: &str) -> Option<&DataManagerStorage> {
        self.data_managers
            .iter()
            .find(|d| d.columns.iter().any(|c| c == column))
    }
}

fn cstr(s: &str, what: &str) -> Result<CString, GlueError> {
    CString::new(s).map_err(|_| GlueError::Invalid {
        context: what.to_string(),
        message: format!("'{}' contains a NUL byte", s.replace('\0', "?")),
    })
}

fn utf8_path<'a>(path: &'a Path, what: &str) -> Result<&'a str, GlueError> {
    path.to_str().ok_or_else(|| GlueError::Invalid {
        context: what.to_string(),
        message: format!("{} is not valid UTF-8", path.display()),
    })
}

fn parse_shape(s: &str) -> Option<Vec<usize>> {
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    if inner.trim().is_empty() {
        return Some(Vec::new());
    }
    inner.split(',').map(|x| x.trim().parse().ok()).collect()
}

/// Parse the glue's line format (see `pc_table_storage_info`).
fn parse_storage(path: &Path, text: &str) -> Result<TableStorage, String> {
    let mut out = TableStorage {
        path: path.to_path_buf(),
        nrow: 0,
        columns: Vec::new(),
        data_managers: Vec::new(),
    };
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let bad = || format!("unexpected line from the storage glue: {line:?}");
        match f.as_slice() {
            ["nrow", n] => out.nrow = n.parse().map_err(|_| bad())?,
            ["col", name, dtype, kind, ndim, shape, source] => out.columns.push(ColumnStorage {
                name: name.to_string(),
                data_type: dtype.to_ascii_lowercase(),
                is_array: *kind == "array",
                ndim: ndim.parse().map_err(|_| bad())?,
                shape: if shape.is_empty() {
                    None
                } else {
                    Some(parse_shape(shape).ok_or_else(bad)?)
                },
                fixed_shape: *source == "fixed",
            }),
            ["dm", t, name, seq] => out.data_managers.push(DataManagerStorage {
                dm_type: t.to_string(),
                name: name.to_string(),
                seqnr: seq.parse().map_err(|_| bad())?,
                columns: Vec::new(),
                spec: Vec::new(),
            }),
            ["dmcol", c] => out
                .data_managers
                .last_mut()
                .ok_or_else(bad)?
                .columns
                .push(c.to_string()),
            ["spec", k, v] => out
                .data_managers
                .last_mut()
                .ok_or_else(bad)?
                .spec
                .push((k.to_string(), v.to_string())),
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

/// Columns and data managers of the table at `path` (opened read-only; no data is read, only the
/// shape of row 0 of variable-shape array columns).
pub fn table_storage(path: &Path) -> Result<TableStorage, GlueError> {
    let ctx = format!("describing the storage of {}", path.display());
    let canon = canonical(path, &ctx)?;
    let c = cstr(utf8_path(&canon, &ctx)?, &ctx)?;
    // SAFETY: valid NUL-terminated path and exception record.
    let raw = locked_call(&path_lock(&canon), &ctx, |exc| unsafe {
        pc_table_storage_info(c.as_ptr(), exc)
    })?;
    if raw.is_null() {
        return Err(GlueError::Casacore {
            context: ctx,
            message: "no description returned".into(),
        });
    }
    // SAFETY: the glue returns a NUL-terminated malloc'd string, freed exactly once here.
    let text = unsafe { CStr::from_ptr(raw) }
        .to_string_lossy()
        .into_owned();
    unsafe { pc_free_string(raw) };
    parse_storage(path, &text).map_err(|message| GlueError::Invalid {
        context: ctx,
        message,
    })
}

/// Whether casacore in this build can instantiate data managers of type `dm_type` (e.g.
/// `"Adios2StMan"`): registered at start-up, or loadable on demand from a plugin library named
/// `libcasa_<type>.so` (the lookup casacore makes when it opens a table that uses the type).
/// `Err(reason)` says why not (the first line of casacore's plugin-loader message).
pub fn data_manager_available(dm_type: &str) -> Result<Result<(), String>, GlueError> {
    let c = cstr(dm_type, "data manager type")?;
    let mut why = PcExc::default();
    let mut exc = PcExc::default();
    // SAFETY: valid NUL-terminated string and two exception records.
    let ok = unsafe { pc_data_manager_available(c.as_ptr(), &mut why, &mut exc) };
    exc.check("looking up a data manager")?;
    if ok != 0 {
        return Ok(Ok(()));
    }
    // SAFETY: the glue always NUL-terminates the message.
    let msg = unsafe { CStr::from_ptr(why.message.as_ptr()) }.to_string_lossy();
    // casacore's plugin loader lists every file name it tried; its first line says it all.
    let first = msg.lines().map(str::trim).find(|l| !l.is_empty());
    Ok(Err(first.unwrap_or("not available").to_string()))
}

/// Deep-copy the table at `input` (with its subtables) to `output`, which must not exist, binding
/// `columns` to one new data manager of type `dm_type` named `dm_name` (default specification) and
/// keeping every other column in its data manager. `rows`: copy only `start..end` (all if `None`).
pub fn copy_table_rebind(
    input: &Path,
    output: &Path,
    columns: &[&str],
    dm_type: &str,
    dm_name: &str,
    rows: Option<std::ops::Range<u64>>,
) -> Result<(), GlueError> {
    let ctx = format!("copying {} to {}", input.display(), output.display());
    if columns.is_empty() {
        return Err(GlueError::Invalid {
            context: ctx,
            message: "no columns to rebind".into(),
        });
    }
    let canon = canonical(input, &ctx)?;
    let cin = cstr(utf8_path(&canon, &ctx)?, &ctx)?;
    let cout = cstr(utf8_path(output, &ctx)?, &ctx)?;
    let ctype = cstr(dm_type, &ctx)?;
    let cname = cstr(dm_name, &ctx)?;
    let ccols = columns
        .iter()
        .map(|c| cstr(c, &ctx))
        .collect::<Result<Vec<_>, _>>()?;
    let ptrs: Vec<*const c_char> = ccols.iter().map(|c| c.as_ptr()).collect();
    let (start, count) = match rows {
        Some(r) if r.end >= r.start => (r.start as i64, (r.end - r.start) as i64),
        Some(r) => {
            return Err(GlueError::Invalid {
                context: ctx,
                message: format!("empty row range {r:?}"),
            })
        }
        None => (0, -1),
    };
    // SAFETY: valid NUL-terminated strings, `ptrs.len()` column names, an exception record.
    locked_call(&path_lock(&canon), &ctx, |exc| unsafe {
        pc_table_copy_rebind(
            cin.as_ptr(),
            cout.as_ptr(),
            ctype.as_ptr(),
            cname.as_ptr(),
            ptrs.as_ptr(),
            ptrs.len() as c_int,
            start,
            count,
            exc,
        )
    })
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_glue_format() {
        let text = "nrow\t10\ncol\tDATA\tcomplex\tarray\t2\t[4, 64]\trow0\ncol\tTIME\tdouble\tscalar\t0\t\t\n\
                    dm\tTiledShapeStMan\tTiledData\t1\ndmcol\tDATA\nspec\tDEFAULTTILESHAPE\t[4, 64, 1024]\n\
                    spec\tHYPERCUBES.*1.TileShape\t[4, 64, 1024]\n";
        let t = parse_storage(Path::new("x.ms"), text).unwrap();
        assert_eq!(t.nrow, 10);
        assert_eq!(t.columns[0].shape, Some(vec![4, 64]));
        assert!(!t.columns[0].fixed_shape);
        assert_eq!(t.columns[1].shape, None);
        let dm = t.data_manager_of("DATA").unwrap();
        assert_eq!(dm.dm_type, "TiledShapeStMan");
        assert_eq!(
            dm.spec_value("HYPERCUBES.*1.TileShape"),
            Some("[4, 64, 1024]")
        );
        assert!(parse_storage(Path::new("x"), "bogus\n").is_err());
    }

    #[test]
    fn standard_managers_are_available_adios2_is_not() {
        for t in ["StandardStMan", "IncrementalStMan", "TiledShapeStMan"] {
            assert_eq!(data_manager_available(t).unwrap(), Ok(()), "{t}");
        }
        let why = data_manager_available("Adios2StMan").unwrap().unwrap_err();
        assert!(why.contains("adios2stman"), "{why}");
        assert!(data_manager_available("NoSuchStMan").unwrap().is_err());
    }
}

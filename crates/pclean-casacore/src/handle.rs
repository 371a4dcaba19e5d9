//! The per-path table lock and the raw table handle shared by read-only ([`crate::columns`]),
//! update ([`crate::write_columns`]) and storage ([`crate::storage`]) calls.
//!
//! casacore shares one `PlainTable` per table name, so two handles on the same table used from two
//! threads crash (casacore issue #1163). Every glue call on a table runs under the lock of its
//! table tree: the outermost table directory holding it (an MS for its subtables, an image for its
//! mask and log tables). A table's subtables are shared too: opening an MS for update opens the
//! subtables it reaches for update, and closing it flushes every cached table below its path
//! (`pc_tables_write_all`), so a lock per path let a reader of `x.ms/FIELD` close that table while
//! the writer of `x.ms` flushed it (SIGSEGV in 1 run of 10 of `tests/write.rs`). Two threads never
//! touch the same tree at once; different trees proceed in parallel.

use crate::error::{GlueError, PcExc, TableError};
use std::collections::HashMap;
use std::ffi::{c_void, CString};
use std::os::raw::c_char;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// A glue function opening a table: `(path, exception record) -> handle`.
pub(crate) type OpenFn = unsafe extern "C" fn(*const c_char, *mut PcExc) -> *mut c_void;
/// A glue function returning a handle's row count.
pub(crate) type NrowsFn = unsafe extern "C" fn(*mut c_void) -> u64;
/// A glue function closing a handle.
pub(crate) type CloseFn = unsafe extern "C" fn(*mut c_void);

/// The lock of the table tree holding the table at `path` (a canonical path), one per tree in this
/// process, keyed by [`tree_root`].
pub(crate) fn path_lock(path: &Path) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    let root = tree_root(path);
    let mut map = guard(LOCKS.get_or_init(Default::default));
    map.entry(root).or_default().clone()
}

/// The outermost table directory holding `path`: `path` itself, or the highest of its enclosing
/// directories reached through directories that are tables (hold a `table.dat`). A subtable is a
/// table directory inside its parent's, so `x.ms/ANTENNA` gives `x.ms`.
pub(crate) fn tree_root(path: &Path) -> PathBuf {
    let mut root = path;
    while let Some(parent) = root.parent() {
        if !parent.join("table.dat").is_file() {
            break;
        }
        root = parent;
    }
    root.to_path_buf()
}

/// Lock `lock`, ignoring poisoning: a panic while holding it leaves no casacore state
/// half-updated that we rely on.
pub(crate) fn guard<T>(lock: &Mutex<T>) -> MutexGuard<'_, T> {
    lock.lock().unwrap_or_else(|e| e.into_inner())
}

/// A C string for a table path or column name. They never contain NUL; replace defensively
/// instead of panicking.
pub(crate) fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "?")).unwrap_or_default()
}

/// The canonical form of an existing table path.
pub(crate) fn canonical(path: &Path, context: &str) -> Result<PathBuf, GlueError> {
    path.canonicalize().map_err(|e| GlueError::io(context, e))
}

/// Run `f` with an exception record under `lock` and map a C++ exception to an error.
pub(crate) fn locked_call<R>(
    lock: &Mutex<()>,
    context: &str,
    f: impl FnOnce(*mut PcExc) -> R,
) -> Result<R, GlueError> {
    let mut exc = PcExc::default();
    let r = {
        let _g = guard(lock);
        f(&mut exc)
    };
    exc.check(context)?;
    Ok(r)
}

/// A table handle of the glue, with its canonical path, per-path lock and row count. Closed on
/// drop (under the lock). `Send` and `Sync`: every call goes through [`Handle::call`] or
/// [`Handle::call_nothrow`], which hold the lock.
pub(crate) struct Handle {
    ptr: NonNull<c_void>,
    path: PathBuf,
    lock: Arc<Mutex<()>>,
    nrows: u64,
    close: CloseFn,
}

// SAFETY: the handle is only used while holding the per-path lock (see the module docs).
unsafe impl Send for Handle {}
// SAFETY: every method takes the per-path lock before touching the handle.
unsafe impl Sync for Handle {}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("path", &self.path)
            .field("nrows", &self.nrows)
            .finish()
    }
}

impl Handle {
    /// Open the table at `path` with the glue's `open`: canonicalise the path, take its lock for
    /// the call, map a C++ exception or a null handle to an error, and read the row count.
    pub(crate) fn open(
        path: &Path,
        context: &str,
        open: OpenFn,
        nrows: NrowsFn,
        close: CloseFn,
    ) -> Result<Self, GlueError> {
        let canon = canonical(path, context)?;
        let lock = path_lock(&canon);
        let cpath = cstring(&canon.to_string_lossy());
        let (raw, n) = locked_call(&lock, context, |exc| {
            // SAFETY: a valid NUL-terminated path and exception record.
            let raw = unsafe { open(cpath.as_ptr(), exc) };
            // SAFETY: `exc` is the record just passed; `raw` a handle the glue just returned.
            let ok = !raw.is_null() && unsafe { (*exc).code } == 0;
            let n = ok.then(|| unsafe { nrows(raw) });
            (raw, n)
        })?;
        let ptr = NonNull::new(raw).ok_or_else(|| GlueError::Casacore {
            context: context.to_string(),
            message: "the glue returned no table".into(),
        })?;
        Ok(Handle {
            ptr,
            path: canon,
            lock,
            nrows: n.unwrap_or(0),
            close,
        })
    }

    /// Canonical path of the table.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Number of rows at open.
    pub(crate) fn nrows(&self) -> u64 {
        self.nrows
    }

    /// Run a glue call on the handle under the table lock, mapping a C++ exception to an error.
    pub(crate) fn call<R>(
        &self,
        context: &str,
        f: impl FnOnce(*mut c_void, *mut PcExc) -> R,
    ) -> Result<R, GlueError> {
        locked_call(&self.lock, context, |exc| f(self.ptr.as_ptr(), exc))
    }

    /// [`Handle::call`] on `column`, naming the table and column in an error.
    pub(crate) fn column_call<R>(
        &self,
        column: &str,
        context: &str,
        f: impl FnOnce(*mut c_void, *mut PcExc) -> R,
    ) -> Result<R, TableError> {
        self.call(context, f).map_err(|source| TableError::Column {
            table: self.path.clone(),
            column: column.to_string(),
            source,
        })
    }

    /// An inconsistent request on `column`.
    pub(crate) fn invalid(&self, column: &str, message: String) -> TableError {
        TableError::Invalid {
            table: self.path.clone(),
            column: column.to_string(),
            message,
        }
    }

    /// Check that every row of `rows` is in the table.
    pub(crate) fn check_row_list(&self, column: &str, rows: &[u64]) -> Result<(), TableError> {
        match rows.iter().find(|&&r| r >= self.nrows) {
            Some(&bad) => Err(self.invalid(
                column,
                format!(
                    "row {bad} is out of range (the table has {} rows)",
                    self.nrows
                ),
            )),
            None => Ok(()),
        }
    }

    /// Run a glue call that cannot throw on the handle under the table lock.
    pub(crate) fn call_nothrow<R>(&self, f: impl FnOnce(*mut c_void) -> R) -> R {
        let _g = guard(&self.lock);
        f(self.ptr.as_ptr())
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let close = self.close;
        // SAFETY: the pointer came from the matching open and is closed exactly once.
        self.call_nothrow(|t| unsafe { close(t) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subtable_shares_the_lock_of_its_outermost_table() {
        let dir = tempfile::tempdir().unwrap();
        let ms = dir.path().join("x.ms");
        let field = ms.join("FIELD");
        let other = dir.path().join("y.ms");
        for d in [&field, &other] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join("table.dat"), b"").unwrap();
        }
        std::fs::write(ms.join("table.dat"), b"").unwrap();
        // `dir` holds tables but is none: the tree stops below it.
        assert_eq!(tree_root(&field), ms);
        assert_eq!(tree_root(&ms), ms);
        assert!(Arc::ptr_eq(&path_lock(&field), &path_lock(&ms)));
        assert!(!Arc::ptr_eq(&path_lock(&other), &path_lock(&ms)));
    }
}

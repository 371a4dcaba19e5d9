//! Conversion of the glue's C exception record into a Rust error.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};
use std::path::PathBuf;

/// Mirror of `PcExc` in `cpp/glue_common.h`.
#[repr(C)]
pub struct PcExc {
    pub code: c_int,
    pub message: [c_char; 1024],
}

impl Default for PcExc {
    fn default() -> Self {
        PcExc {
            code: 0,
            message: [0; 1024],
        }
    }
}

/// An error raised inside casacore (or our glue) while working on a table.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum GlueError {
    /// casacore threw an exception.
    #[error("casacore error in {context}: {message}")]
    Casacore { context: String, message: String },
    /// Arguments were rejected before reaching casacore.
    #[error("invalid argument to {context}: {message}")]
    Invalid { context: String, message: String },
    /// Reading or writing a table file directly failed.
    #[error("I/O error {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::sync::Arc<std::io::Error>,
    },
}

/// An error while opening, reading or writing a table through
/// [`ReadTable`](crate::columns::ReadTable) or [`UpdateTable`](crate::write_columns::UpdateTable).
/// Every variant names the table.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// casacore could not open the table (missing, not a table, read-only files for writing).
    #[error("cannot open table {}{}: {source}", path.display(), if *writable { " for writing" } else { "" })]
    Open {
        path: PathBuf,
        /// Whether it was opened for update.
        writable: bool,
        #[source]
        source: GlueError,
    },
    /// The column does not exist.
    #[error("table {} has no column {column}", table.display())]
    NoSuchColumn { table: PathBuf, column: String },
    /// casacore failed while reading or changing a column (`<table>` for the whole table).
    #[error("table {}, column {column}: {source}", table.display())]
    Column {
        table: PathBuf,
        column: String,
        #[source]
        source: GlueError,
    },
    /// Another process held the table's write lock for longer than this process waits.
    #[error(
        "table {} is locked by another process: no write lock after {waited_s} s; a process \
         that has the table open for writing (another pclean, CASA, casacore's table browser) \
         holds it - close it, or wait for it to finish, and run again",
        table.display()
    )]
    Locked { table: PathBuf, waited_s: u32 },
    /// The request was inconsistent (rows out of range or not ascending, buffer of the wrong
    /// size, ...).
    #[error("table {}, column {column}: {message}", table.display())]
    Invalid {
        table: PathBuf,
        column: String,
        message: String,
    },
}

impl GlueError {
    /// An [`GlueError::Io`] for `source` while `context`.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        GlueError::Io {
            context: context.into(),
            source: std::sync::Arc::new(source),
        }
    }
}

impl PcExc {
    /// `Ok(())` when the glue call succeeded, otherwise the exception's message with `context`.
    pub fn check(&self, context: &str) -> Result<(), GlueError> {
        if self.code == 0 {
            return Ok(());
        }
        // SAFETY: the glue always NUL-terminates `message` (see pc_exc_set).
        let msg = unsafe { CStr::from_ptr(self.message.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        Err(GlueError::Casacore {
            context: context.to_string(),
            message: msg,
        })
    }
}

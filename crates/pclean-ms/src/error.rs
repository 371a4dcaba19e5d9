//! Errors of the MeasurementSet reader. Every message names the MS (or the selection parameter) and
//! says what to do.

use pclean_casacore::{GlueError, TableError};
use std::path::PathBuf;

/// An error while opening, selecting or reading a MeasurementSet.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum MsError {
    /// The path does not exist.
    #[error("measurement set {} does not exist: check the path given as `vis`", path.display())]
    NotFound { path: PathBuf },
    /// The path exists but casacore cannot open it as a table.
    #[error("{} is not a casacore table ({reason}): `vis` must be a MeasurementSet directory", path.display())]
    NotATable {
        path: PathBuf,
        #[source]
        reason: NotATableReason,
    },
    /// The path is a table but lacks what every MeasurementSet has.
    #[error("{} is a table but not a MeasurementSet: it has no {missing}; give a MeasurementSet as `vis`", path.display())]
    NotAnMs { path: PathBuf, missing: String },
    /// A column needed for the requested operation is absent.
    #[error("measurement set {} has no {column} column: {hint}", path.display())]
    MissingColumn {
        path: PathBuf,
        column: String,
        hint: String,
    },
    /// A subtable holds values we cannot interpret.
    #[error("measurement set {}: bad {what}: {why}", path.display())]
    BadMetadata {
        path: PathBuf,
        what: String,
        why: String,
    },
    /// A selection expression could not be parsed or selects nothing.
    #[error("measurement set {}: {source}", path.display())]
    Selection {
        path: PathBuf,
        #[source]
        source: SelectionError,
    },
    /// An internal invariant failed: a bug in pclean, not a problem of the MS.
    #[error("internal error {what}: {source}")]
    Internal {
        what: &'static str,
        #[source]
        source: ndarray::ShapeError,
    },
    /// casacore failed while reading or writing (e.g. MODEL_DATA).
    #[error(transparent)]
    Table(#[from] TableError),
    /// The solar-system ephemeris (JPL DE200 of casacore's measures data) is missing, does not
    /// cover the observation, or is not what casacore ships.
    #[error("{what}")]
    Ephemeris { what: String },
}

/// Why a path is not a casacore table.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum NotATableReason {
    /// The directory has no `table.dat`.
    #[error("no table.dat inside")]
    NoTableDat,
    /// casacore could not open it.
    #[error(transparent)]
    Casacore(GlueError),
}

/// A selection parameter that cannot be parsed, or that selects nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectionError {
    /// The expression does not follow CASA's selection syntax.
    #[error("cannot parse {param}='{text}': {why}")]
    Parse {
        param: &'static str,
        text: String,
        why: String,
    },
    /// A name pattern is not a valid glob (`glob::PatternError`'s position and message).
    #[error("cannot parse {param}='{text}': bad pattern '{pattern}': Pattern syntax error near position {pos}: {msg}")]
    BadPattern {
        param: &'static str,
        text: String,
        pattern: String,
        pos: usize,
        msg: &'static str,
    },
    /// The expression is valid but matches no data.
    #[error("{param} '{text}' selects nothing: {why}")]
    Empty {
        param: &'static str,
        text: String,
        why: String,
    },
}

impl SelectionError {
    /// The selection parameter (`"field"`, `"spw"`, ...) the error is about.
    pub fn param(&self) -> &'static str {
        match self {
            SelectionError::Parse { param, .. }
            | SelectionError::BadPattern { param, .. }
            | SelectionError::Empty { param, .. } => param,
        }
    }
}

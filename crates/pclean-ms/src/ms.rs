//! Opening a MeasurementSet and choosing the visibility column.

use crate::error::{MsError, NotATableReason};
use crate::meta::{self, MsMeta, REQUIRED_COLUMNS, REQUIRED_SUBTABLES};
use pclean_casacore::columns::ReadTable;
use pclean_casacore::TableError;
use std::path::Path;

/// Error unless `path` exists and holds a casacore table.
pub(crate) fn check_is_table(path: &Path) -> Result<(), MsError> {
    if !path.exists() {
        return Err(MsError::NotFound {
            path: path.to_path_buf(),
        });
    }
    if !path.join("table.dat").is_file() {
        return Err(MsError::NotATable {
            path: path.to_path_buf(),
            reason: NotATableReason::NoTableDat,
        });
    }
    Ok(())
}

/// A table that casacore could not open is not a table; other errors pass through.
pub(crate) fn not_a_table(path: &Path, e: TableError) -> MsError {
    match e {
        TableError::Open { source, .. } => MsError::NotATable {
            path: path.to_path_buf(),
            reason: NotATableReason::Casacore(source),
        },
        other => MsError::Table(other),
    }
}

/// Which visibilities to image (tclean's `datacolumn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataColumn {
    /// `DATA`.
    Data,
    /// `CORRECTED_DATA`; falls back to `DATA` (with a warning) when the MS has none, as tclean does.
    Corrected,
    /// `MODEL_DATA`; an error when absent.
    Model,
}

impl DataColumn {
    /// tclean's name of the choice (`"data"`, `"corrected"`, `"model"`).
    pub fn name(&self) -> &'static str {
        match self {
            DataColumn::Data => "data",
            DataColumn::Corrected => "corrected",
            DataColumn::Model => "model",
        }
    }
}

/// The main-table column to read for a [`DataColumn`], and the warning to log if it had to fall back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedColumn {
    /// Column name in the main table (`"DATA"`, `"CORRECTED_DATA"` or `"MODEL_DATA"`).
    pub name: &'static str,
    /// Set when `corrected` fell back to `DATA`.
    pub warning: Option<String>,
}

/// An open MeasurementSet: its main table (read-only) and its metadata.
///
/// Opening two MSs (or the same one twice) is fine; reads of one table are serialised by
/// `pclean_casacore`'s per-path lock. The type is `Send + Sync`.
#[derive(Debug)]
pub struct MeasurementSet {
    pub(crate) main: ReadTable,
    meta: MsMeta,
}

impl MeasurementSet {
    /// Open the MS at `path` and load its metadata.
    ///
    /// Errors: the path does not exist; it is not a table; it is a table but not an MS (a required
    /// subtable or main-table column is missing); a subtable is inconsistent.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MsError> {
        let path = path.as_ref();
        check_is_table(path)?;
        let main = ReadTable::open(path).map_err(|e| not_a_table(path, e))?;
        let keywords = main.keyword_names()?;
        for sub in REQUIRED_SUBTABLES {
            if !keywords.iter().any(|k| k == sub) || !path.join(sub).join("table.dat").is_file() {
                return Err(MsError::NotAnMs {
                    path: path.to_path_buf(),
                    missing: format!("{sub} subtable"),
                });
            }
        }
        let missing: Vec<&str> = REQUIRED_COLUMNS
            .iter()
            .copied()
            .filter(|c| !main.has_column(c))
            .collect();
        if !missing.is_empty() {
            return Err(MsError::NotAnMs {
                path: path.to_path_buf(),
                missing: format!("main-table column(s) {}", missing.join(", ")),
            });
        }
        let meta = meta::load(path, &main)?;
        Ok(MeasurementSet { main, meta })
    }

    /// The metadata loaded at open.
    pub fn meta(&self) -> &MsMeta {
        &self.meta
    }

    /// Path as given to [`MeasurementSet::open`].
    pub fn path(&self) -> &Path {
        &self.meta.path
    }

    /// The main-table column that holds `column`'s visibilities (tclean's rules: `corrected` falls back
    /// to `DATA` with a warning; a missing `MODEL_DATA` or `DATA` is an error).
    pub fn resolve_column(&self, column: DataColumn) -> Result<ResolvedColumn, MsError> {
        let c = &self.meta.columns;
        let missing = |name: &str, hint: &str| MsError::MissingColumn {
            path: self.meta.path.clone(),
            column: name.to_string(),
            hint: hint.to_string(),
        };
        let found = |name| {
            Ok(ResolvedColumn {
                name,
                warning: None,
            })
        };
        match column {
            DataColumn::Data if c.data => found("DATA"),
            DataColumn::Data => Err(missing(
                "DATA",
                "choose datacolumn='corrected' or 'model' if the MS has those",
            )),
            DataColumn::Corrected if c.corrected_data => found("CORRECTED_DATA"),
            DataColumn::Corrected if c.data => Ok(ResolvedColumn {
                name: "DATA",
                warning: Some(format!(
                    "{} has no CORRECTED_DATA column: imaging the DATA column instead \
                     (datacolumn='corrected' falls back to 'data', as in tclean)",
                    self.meta.path.display()
                )),
            }),
            DataColumn::Corrected => Err(missing(
                "CORRECTED_DATA",
                "and no DATA column to fall back to either",
            )),
            DataColumn::Model if c.model_data => found("MODEL_DATA"),
            DataColumn::Model => Err(missing(
                "MODEL_DATA",
                "datacolumn='model' needs a MODEL_DATA column (create one with CASA's ft or \
                 tclean savemodel='modelcolumn'), or choose datacolumn='data'/'corrected'",
            )),
        }
    }
}

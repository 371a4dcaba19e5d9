//! Opening a MeasurementSet and choosing the visibility column.

use crate::error::MsError;
use crate::meta::{self, MsMeta, REQUIRED_COLUMNS, REQUIRED_SUBTABLES};
use pclean_casacore::columns::{ReadTable, TableReadError};
use std::path::Path;

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
        if !path.exists() {
            return Err(MsError::NotFound {
                path: path.to_path_buf(),
            });
        }
        if !path.join("table.dat").is_file() {
            return Err(MsError::NotATable {
                path: path.to_path_buf(),
                message: "no table.dat inside".into(),
            });
        }
        let main = ReadTable::open(path).map_err(|e| match e {
            TableReadError::Open { message, .. } => MsError::NotATable {
                path: path.to_path_buf(),
                message,
            },
            other => MsError::Table(other),
        })?;
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
        match column {
            DataColumn::Data if c.data => Ok(ResolvedColumn {
                name: "DATA",
                warning: None,
            }),
            DataColumn::Data => Err(missing(
                "DATA",
                "choose datacolumn='corrected' or 'model' if the MS has those",
            )),
            DataColumn::Corrected if c.corrected_data => Ok(ResolvedColumn {
                name: "CORRECTED_DATA",
                warning: None,
            }),
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
            DataColumn::Model if c.model_data => Ok(ResolvedColumn {
                name: "MODEL_DATA",
                warning: None,
            }),
            DataColumn::Model => Err(missing(
                "MODEL_DATA",
                "datacolumn='model' needs a MODEL_DATA column (create one with CASA's ft or \
                 tclean savemodel='modelcolumn'), or choose datacolumn='data'/'corrected'",
            )),
        }
    }
}

//! Adios2StMan: detection, and conversion where the casacore in this build supports it.
//!
//! pclean's casacore (bundled by `rubbl_casatables`, casacore 3.5) registers Adios2StMan only when
//! compiled with `HAVE_ADIOS2` and `HAVE_MPI`, which rubbl does not define, and it cannot load
//! casacore's plugin library either (its symbols live in a renamed namespace). So
//! [`check_adios2_support`] answers at run time by asking casacore's data-manager registry, and the
//! conversions return [`StorageError::Adios2Unavailable`] explaining what build is needed. With a
//! casacore that has it, they deep-copy the MeasurementSet with the data columns rebound to
//! Adios2StMan ([`copy_ms_with_storage_manager`]).

use crate::error::StorageError;
use crate::inspect::{inspect_table, raw_storage_manager_types};
use pclean_casacore::storage::{copy_table_rebind, data_manager_available};
use std::path::{Path, PathBuf};

/// casacore's type name of the ADIOS2 storage manager.
pub const ADIOS2_STMAN: &str = "Adios2StMan";

/// Columns moved to Adios2StMan by the conversions (those present in the MS).
pub const ADIOS2_COLUMNS: [&str; 7] = [
    "DATA",
    "CORRECTED_DATA",
    "MODEL_DATA",
    "FLOAT_DATA",
    "FLAG",
    "WEIGHT_SPECTRUM",
    "SIGMA_SPECTRUM",
];

/// Whether this build can read and write Adios2StMan tables, and why (not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adios2Support {
    /// Tables using Adios2StMan can be opened.
    pub read: bool,
    /// Columns can be stored with Adios2StMan.
    pub write: bool,
    /// The reason, in words.
    pub why: String,
}

impl Adios2Support {
    /// `(read, write, why)`.
    pub fn as_tuple(&self) -> (bool, bool, String) {
        (self.read, self.write, self.why.clone())
    }
}

/// Ask casacore's data-manager registry whether Adios2StMan can be instantiated. One storage manager
/// class does both reading and writing, so `read == write`.
pub fn check_adios2_support() -> Adios2Support {
    match data_manager_available(ADIOS2_STMAN) {
        Ok(Ok(())) => Adios2Support {
            read: true,
            write: true,
            why: "Adios2StMan is registered in this build's casacore".into(),
        },
        Ok(Err(why)) => Adios2Support {
            read: false,
            write: false,
            why: format!(
                "Adios2StMan is not registered in this build's casacore (rubbl_casatables compiles \
                 casacore 3.5 without HAVE_ADIOS2/HAVE_MPI) and no plugin provides it: {why}"
            ),
        },
        Err(e) => Adios2Support {
            read: false,
            write: false,
            why: format!("the data-manager registry could not be queried: {e}"),
        },
    }
}

/// Whether any main-table column of `ms` is stored with Adios2StMan. Works in builds without
/// Adios2StMan too: when casacore cannot open the table, the storage-manager names recorded in its
/// `table.dat` are read directly.
pub fn ms_uses_adios2(ms: &Path) -> Result<bool, StorageError> {
    match inspect_table(ms) {
        Ok(t) => Ok(t.data_managers.iter().any(|d| d.dm_type == ADIOS2_STMAN)),
        Err(StorageError::UnavailableManager { .. }) => Ok(raw_storage_manager_types(ms)?
            .iter()
            .any(|t| t == ADIOS2_STMAN)),
        Err(e) => Err(e),
    }
}

fn require_adios2() -> Result<(), StorageError> {
    let s = check_adios2_support();
    if s.write {
        Ok(())
    } else {
        Err(StorageError::Adios2Unavailable { why: s.why })
    }
}

fn check_io(ms: &Path, output: &Path) -> Result<Vec<String>, StorageError> {
    let t = inspect_table(ms)?;
    if std::fs::symlink_metadata(output).is_ok() {
        return Err(StorageError::OutputExists {
            path: output.to_path_buf(),
        });
    }
    Ok(ADIOS2_COLUMNS
        .iter()
        .filter(|c| t.columns.iter().any(|x| x.name == **c))
        .map(|c| c.to_string())
        .collect())
}

/// Deep-copy MeasurementSet `ms` (with its subtables) to `output` with `columns` stored in one new
/// storage manager of type `dm_type` (named after it), the other columns as they were; `rows`
/// copies only that row range. This is the conversion the Adios2StMan functions run; any storage
/// manager of this build works (e.g. `TiledShapeStMan`, `StandardStMan`).
pub fn copy_ms_with_storage_manager(
    ms: &Path,
    output: &Path,
    columns: &[&str],
    dm_type: &str,
    rows: Option<std::ops::Range<u64>>,
) -> Result<(), StorageError> {
    let t = inspect_table(ms)?;
    if std::fs::symlink_metadata(output).is_ok() {
        return Err(StorageError::OutputExists {
            path: output.to_path_buf(),
        });
    }
    if let Some(c) = columns
        .iter()
        .find(|c| !t.columns.iter().any(|x| x.name == **c))
    {
        return Err(StorageError::BadOption {
            what: "columns".into(),
            why: format!("{} has no column {c}", ms.display()),
        });
    }
    if let Err(why) = data_manager_available(dm_type).map_err(|source| StorageError::Casacore {
        path: ms.to_path_buf(),
        source,
    })? {
        return Err(StorageError::BadOption {
            what: "storage manager".into(),
            why: format!("{dm_type} is not available in this build: {why}"),
        });
    }
    copy_table_rebind(ms, output, columns, dm_type, dm_type, rows).map_err(|source| {
        StorageError::Casacore {
            path: ms.to_path_buf(),
            source,
        }
    })
}

/// Copy `ms` to `output` with its visibility, flag and spectral-weight columns
/// ([`ADIOS2_COLUMNS`], those present) in Adios2StMan. Errors with
/// [`StorageError::Adios2Unavailable`] (what build is needed) in builds without Adios2StMan.
pub fn convert_ms_to_adios2(ms: &Path, output: &Path) -> Result<(), StorageError> {
    require_adios2()?;
    let cols = check_io(ms, output)?;
    let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
    copy_ms_with_storage_manager(ms, output, &cols, ADIOS2_STMAN, None)
}

/// Split `ms` into `nparts` MeasurementSets of consecutive rows, `<outdir>/<ms name>.part<i>` (so
/// separate processes can each read one), each converted as [`convert_ms_to_adios2`]. Returns the
/// parts' paths. Errors with [`StorageError::Adios2Unavailable`] in builds without Adios2StMan.
pub fn split_and_convert_ms_to_adios2(
    ms: &Path,
    outdir: &Path,
    nparts: usize,
) -> Result<Vec<PathBuf>, StorageError> {
    require_adios2()?;
    if nparts == 0 {
        return Err(StorageError::BadOption {
            what: "nparts".into(),
            why: "must be at least 1".into(),
        });
    }
    let t = inspect_table(ms)?;
    let name = ms
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ms".into());
    let parts: Vec<PathBuf> = (0..nparts)
        .map(|i| outdir.join(format!("{name}.part{i}")))
        .collect();
    let mut cols = Vec::new();
    for p in &parts {
        cols = check_io(ms, p)?;
    }
    let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
    let n = t.nrow;
    for (i, p) in parts.iter().enumerate() {
        let start = n * i as u64 / nparts as u64;
        let end = n * (i as u64 + 1) / nparts as u64;
        copy_ms_with_storage_manager(ms, p, &cols, ADIOS2_STMAN, Some(start..end))?;
    }
    Ok(parts)
}

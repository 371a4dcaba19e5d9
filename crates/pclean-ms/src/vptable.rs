//! Voltage-pattern tables: what CASA's vpmanager `saveastable` writes and tclean's `vptable`
//! reads (`VPManager::loadfromtable`). Main table: one row per user-defined pattern, its
//! description in the record column `pbdescription`; subtable `VPLIST_DEFAULTS`: for each
//! telescope (`tel_and_anttype`) the row used (`vplistnum`; -1 = CASA's built-in model).

use crate::error::MsError;
use pclean_casacore::columns::ReadTable;
pub use pclean_casacore::records::{FieldValue, Record};
use std::path::{Path, PathBuf};

/// A voltage-pattern table as read.
#[derive(Debug, Clone)]
pub struct VpTable {
    pub path: PathBuf,
    /// `pbdescription` of every row.
    pub descriptions: Vec<Record>,
    /// `(tel_and_anttype, vplistnum)` of every `VPLIST_DEFAULTS` row.
    pub defaults: Vec<(String, i32)>,
}

impl VpTable {
    /// The table's choice for a telescope (antenna type ""): `Some(-1)` for CASA's built-in
    /// model, `Some(row)` for a row of [`VpTable::descriptions`], `None` if the table has no entry.
    pub fn entry_for(&self, telescope: &str) -> Option<i32> {
        self.defaults
            .iter()
            .find(|(t, _)| t == telescope)
            .map(|(_, n)| *n)
    }
}

/// Read a voltage-pattern table (a directory made by `vp.saveastable`).
pub fn read_vptable(path: &Path) -> Result<VpTable, MsError> {
    let bad = |why: String| MsError::BadMetadata {
        path: path.to_path_buf(),
        what: "voltage-pattern table (vptable)".into(),
        why,
    };
    if !path.exists() {
        return Err(bad(
            "it does not exist: give the directory written by CASA's vp.saveastable".into(),
        ));
    }
    let descriptions = pclean_casacore::records::read_record_column(path, "pbdescription")?;
    let sub = path.join("VPLIST_DEFAULTS");
    if !sub.exists() {
        return Err(bad(
            "it has no VPLIST_DEFAULTS subtable (not written by vp.saveastable?)".into(),
        ));
    }
    let t = ReadTable::open(&sub)?;
    let names = t.string_column("tel_and_anttype")?;
    let nums: Vec<i32> = t.scalar_column("vplistnum")?;
    let defaults: Vec<(String, i32)> = names.into_iter().zip(nums).collect();
    if let Some((t, n)) = defaults
        .iter()
        .find(|(_, n)| *n < -1 || *n >= descriptions.len() as i32)
    {
        return Err(bad(format!(
            "VPLIST_DEFAULTS gives row {n} for {t}, but the table has {} rows",
            descriptions.len()
        )));
    }
    Ok(VpTable {
        path: path.to_path_buf(),
        descriptions,
        defaults,
    })
}

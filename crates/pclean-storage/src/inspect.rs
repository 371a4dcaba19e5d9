//! Which storage manager holds each column of a table, with its tile shape or bucket size.

use crate::error::StorageError;
use pclean_casacore::storage::{data_manager_available, table_storage, TableStorage};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::Path;

fn check_table(path: &Path) -> Result<(), StorageError> {
    if std::fs::symlink_metadata(path).is_err() {
        return Err(StorageError::NotFound {
            path: path.to_path_buf(),
        });
    }
    if !path.join("table.dat").is_file() {
        return Err(StorageError::NotATable {
            path: path.to_path_buf(),
            why: "no table.dat".into(),
        });
    }
    Ok(())
}

/// Storage-manager type names recorded in a table's `table.dat`, found without casacore: each is
/// stored as an AipsIO string (a 4-byte length, big- or little-endian, then the characters), so
/// every length-prefixed run of identifier characters ending in `StMan` is reported, in order,
/// without repeats. Used when casacore cannot open the table because a manager is missing.
pub fn raw_storage_manager_types(path: &Path) -> Result<Vec<String>, StorageError> {
    check_table(path)?;
    let file = path.join("table.dat");
    let bytes = std::fs::read(&file).map_err(|source| StorageError::Io { path: file, source })?;
    Ok(storage_manager_names(&bytes))
}

fn storage_manager_names(bytes: &[u8]) -> Vec<String> {
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out: Vec<String> = Vec::new();
    let needle = b"StMan";
    let mut i = 0;
    while i + needle.len() <= bytes.len() {
        if &bytes[i..i + needle.len()] != needle {
            i += 1;
            continue;
        }
        let end = i + needle.len();
        let mut start = i;
        while start > 0 && ident(bytes[start - 1]) {
            start -= 1;
        }
        // The 4 bytes before the name must hold its length; shorten the run from the left until
        // they do (the length's own bytes can look like identifier characters).
        let mut found = None;
        for s in start..i {
            if s >= 4 {
                let len = (end - s) as u32;
                let pre = [bytes[s - 4], bytes[s - 3], bytes[s - 2], bytes[s - 1]];
                if u32::from_be_bytes(pre) == len || u32::from_le_bytes(pre) == len {
                    found = Some(s);
                    break;
                }
            }
        }
        if let Some(s) = found {
            let name = String::from_utf8_lossy(&bytes[s..end]).into_owned();
            if !out.contains(&name) {
                out.push(name);
            }
        }
        i = end;
    }
    out
}

/// Columns and storage managers of the table at `path`. When casacore cannot open it because it
/// uses a storage manager this build lacks (Adios2StMan, DyscoStMan, ...), the error names them.
pub fn inspect_table(path: &Path) -> Result<TableStorage, StorageError> {
    check_table(path)?;
    match table_storage(path) {
        Ok(t) => Ok(t),
        Err(source) => {
            let missing: Vec<(String, String)> = raw_storage_manager_types(path)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|t| match data_manager_available(&t) {
                    Ok(Err(why)) => Some((t, why)),
                    _ => None,
                })
                .collect();
            if missing.is_empty() {
                Err(StorageError::Casacore {
                    path: path.to_path_buf(),
                    source,
                })
            } else {
                Err(StorageError::UnavailableManager {
                    path: path.to_path_buf(),
                    managers: missing
                        .iter()
                        .map(|(t, _)| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    why: missing[0].1.clone(),
                })
            }
        }
    }
}

/// The tile shape of a tiled storage manager (first hypercube's, else the default), or the bucket
/// size of a bucket-based one, as a short text.
fn layout_summary(spec_value: impl Fn(&str) -> Option<String>, nhyper: usize) -> String {
    if let Some(tile) = spec_value("HYPERCUBES.*1.TileShape") {
        let more = if nhyper > 1 {
            format!(" (+{} hypercubes)", nhyper - 1)
        } else {
            String::new()
        };
        return format!("tile {tile}{more}");
    }
    if let Some(tile) = spec_value("DEFAULTTILESHAPE") {
        return format!("default tile {tile}");
    }
    if let Some(b) = spec_value("BUCKETSIZE") {
        return format!("bucket {b} B");
    }
    String::new()
}

fn hypercubes(dm: &pclean_casacore::storage::DataManagerStorage) -> usize {
    let mut ids: Vec<&str> = dm
        .spec
        .iter()
        .filter_map(|(k, _)| k.strip_prefix("HYPERCUBES.")?.split('.').next())
        .collect();
    ids.dedup();
    ids.len()
}

/// A human-readable report: one line per column with its type, cell shape, storage manager (type and
/// name) and tile shape or bucket size.
pub fn format_storage(t: &TableStorage) -> String {
    let mut rows: Vec<[String; 5]> = vec![[
        "column".into(),
        "type".into(),
        "cell shape".into(),
        "data manager (type 'name')".into(),
        "layout".into(),
    ]];
    for c in &t.columns {
        let shape = match (&c.shape, c.is_array) {
            (_, false) => "scalar".to_string(),
            (Some(sh), true) => format!("{sh:?}{}", if c.fixed_shape { " fixed" } else { "" }),
            (None, true) => format!("ndim {}", c.ndim),
        };
        let (dm, layout) = match t.data_manager_of(&c.name) {
            Some(d) => (
                format!("{} '{}'", d.dm_type, d.name),
                layout_summary(|k| d.spec_value(k).map(str::to_string), hypercubes(d)),
            ),
            None => ("(none)".to_string(), String::new()),
        };
        rows.push([c.name.clone(), c.data_type.clone(), shape, dm, layout]);
    }
    let mut width = [0usize; 4];
    for r in &rows {
        for (w, cell) in width.iter_mut().zip(r.iter()) {
            *w = (*w).max(cell.len());
        }
    }
    let mut s = format!(
        "{}: {} rows, {} columns, {} data managers\n",
        t.path.display(),
        t.nrow,
        t.columns.len(),
        t.data_managers.len()
    );
    for r in &rows {
        let line = format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2],
            w3 = width[3]
        );
        let _ = writeln!(s, "{}", line.trim_end());
    }
    s
}

/// The report as JSON: `{path, nrow, columns: [{name, data_type, is_array, ndim, shape,
/// fixed_shape, dm_type, dm_name}], data_managers: [{type, name, seqnr, columns, spec: {key: value
/// text}}]}`.
pub fn storage_json(t: &TableStorage) -> Value {
    let cols: Vec<Value> = t
        .columns
        .iter()
        .map(|c| {
            let dm = t.data_manager_of(&c.name);
            json!({
                "name": c.name,
                "data_type": c.data_type,
                "is_array": c.is_array,
                "ndim": c.ndim,
                "shape": c.shape,
                "fixed_shape": c.fixed_shape,
                "dm_type": dm.map(|d| d.dm_type.clone()),
                "dm_name": dm.map(|d| d.name.clone()),
            })
        })
        .collect();
    let dms: Vec<Value> = t
        .data_managers
        .iter()
        .map(|d| {
            let spec: serde_json::Map<String, Value> = d
                .spec
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            json!({
                "type": d.dm_type,
                "name": d.name,
                "seqnr": d.seqnr,
                "columns": d.columns,
                "spec": spec,
            })
        })
        .collect();
    json!({
        "path": t.path,
        "nrow": t.nrow,
        "columns": cols,
        "data_managers": dms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aipsio_string(s: &str, big_endian: bool) -> Vec<u8> {
        let n = s.len() as u32;
        let mut v = if big_endian {
            n.to_be_bytes().to_vec()
        } else {
            n.to_le_bytes().to_vec()
        };
        v.extend_from_slice(s.as_bytes());
        v
    }

    #[test]
    fn finds_length_prefixed_manager_names() {
        let mut bytes = b"junk StMan x".to_vec();
        bytes.extend(aipsio_string("StandardStMan", true));
        bytes.extend(aipsio_string("Adios2StMan", false));
        bytes.extend(aipsio_string("StandardStMan", true));
        bytes.extend(aipsio_string("TiledShapeStMan", true));
        assert_eq!(
            storage_manager_names(&bytes),
            vec!["StandardStMan", "Adios2StMan", "TiledShapeStMan"]
        );
    }
}

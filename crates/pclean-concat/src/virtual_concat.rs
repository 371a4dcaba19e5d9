//! The virtual modes: casacore's persistent `ImageConcat`.
//!
//! casacore (since 2.2; `images/Images/ImageConcat.tcc`, `ImageConcat::save`) stores a virtual
//! concatenation as a **directory** holding one file, `imageconcat.json`:
//!
//! ```json
//! {"Version": 1, "DataType": "float", "Axis": 3, "TempClose": true,
//!  "Images": ["./cube.part0.image", "./cube.part1.image"], "MiscInfo": {}}
//! ```
//!
//! `ImageOpener::imageType` recognises a directory containing `imageconcat.json` as an
//! `IMAGECONCAT`; `ImageOpener::openImageConcat` reads the file and rebuilds the `ImageConcat`,
//! opening each member with `setImage(image, relax=True)`, so coordinates, units and image info come
//! from the first member, restoring beams are concatenated (`ImageInfo::combineBeams`) and the
//! spectral axis spans all members. Member names are relative as `Path::stripDirectory` makes them
//! (see [`member_name`](crate::output::member_name)); `MiscInfo`, when present, replaces the merged
//! `miscinfo` of the members. Nothing else is stored: pixels and beams stay in the members.

use crate::error::ConcatError;
use crate::mode::ConcatMode;
use crate::output::{absolute, member_name, move_dir, IMAGECONCAT_JSON};
use crate::plan::{Plan, SPECTRAL_AXIS};
use pclean_imageio::MiscValue;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// The `imageconcat.json` document for members named `names`.
pub(crate) fn imageconcat_json(names: &[String], misc: &[(String, MiscValue)]) -> Value {
    let misc: Map<String, Value> = misc
        .iter()
        .map(|(k, v)| {
            let v = match v {
                MiscValue::Bool(b) => json!(b),
                MiscValue::Int(i) => json!(i),
                MiscValue::Float(f) => json!(f),
                MiscValue::Str(s) => json!(s),
                MiscValue::FloatArray(a) => json!(a),
            };
            (k.clone(), v)
        })
        .collect();
    json!({
        "Version": 1,
        "DataType": "float",
        "Axis": SPECTRAL_AXIS,
        "TempClose": true,
        "Images": names,
        "MiscInfo": misc,
    })
}

/// Check that no two inputs of a movevirtual concatenation share a directory name.
pub(crate) fn check_unique_names(inputs: &[PathBuf]) -> Result<(), ConcatError> {
    for (i, a) in inputs.iter().enumerate() {
        for b in &inputs[..i] {
            if a.file_name() == b.file_name() {
                return Err(ConcatError::DuplicateName {
                    first: b.clone(),
                    second: a.clone(),
                    name: a
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                });
            }
        }
    }
    Ok(())
}

/// Write the virtual concatenation at `output` (which must not exist); for movevirtual, move the
/// inputs into it first. Returns the members' paths. On failure, moved inputs are moved back.
pub(crate) fn write_virtual(
    plan: &Plan,
    output: &Path,
    mode: ConcatMode,
) -> Result<Vec<PathBuf>, ConcatError> {
    std::fs::create_dir(output).map_err(ConcatError::io("cannot create", output))?;
    let out_abs = absolute(output);
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| {
        let mut members = Vec::with_capacity(plan.inputs.len());
        let mut names = Vec::with_capacity(plan.inputs.len());
        for img in &plan.inputs {
            let src = absolute(&img.path);
            let member = if mode == ConcatMode::MoveVirtual {
                let name = src.file_name().ok_or_else(|| ConcatError::BadOption {
                    what: "input".into(),
                    why: format!("{} has no directory name", img.path.display()),
                })?;
                let dst = out_abs.join(name);
                move_dir(&src, &dst)?;
                moved.push((src, dst.clone()));
                dst
            } else {
                src
            };
            names.push(member_name(&member, &out_abs)?);
            members.push(member);
        }
        let doc = imageconcat_json(&names, &plan.meta.misc);
        let text = serde_json::to_string_pretty(&doc).expect("JSON of strings and numbers");
        let tmp = output.join(format!("{IMAGECONCAT_JSON}.partial"));
        std::fs::write(&tmp, text + "\n").map_err(ConcatError::io("cannot write", &tmp))?;
        let dst = output.join(IMAGECONCAT_JSON);
        std::fs::rename(&tmp, &dst).map_err(ConcatError::io("cannot write", &dst))?;
        Ok(members)
    })();
    if result.is_err() {
        for (src, dst) in moved.iter().rev() {
            if let Err(e) = move_dir(dst, src) {
                tracing::error!(
                    "could not move {} back to {}: {e}",
                    dst.display(),
                    src.display()
                );
            }
        }
        let _ = std::fs::remove_dir_all(output);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_casacore_fields() {
        let doc = imageconcat_json(
            &["./a.image".into(), "./b.image".into()],
            &[("EXTRA".into(), MiscValue::Float(1.0))],
        );
        assert_eq!(doc["Version"], 1);
        assert_eq!(doc["DataType"], "float");
        assert_eq!(doc["Axis"], 3);
        assert_eq!(doc["TempClose"], true);
        assert_eq!(doc["Images"][1], "./b.image");
        assert_eq!(doc["MiscInfo"]["EXTRA"], 1.0);
    }
}

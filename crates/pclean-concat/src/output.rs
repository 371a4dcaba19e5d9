//! The output path: overwrite rules, paths of inputs relative to a virtual concatenation, and moving
//! image directories.

use crate::error::ConcatError;
use std::path::{Component, Path, PathBuf};

/// File that marks a directory as casacore's virtual concatenation (`ImageOpener::imageType`).
pub const IMAGECONCAT_JSON: &str = "imageconcat.json";

/// `path` made absolute without requiring it to exist: the current directory is prepended to a
/// relative path, `.` and `..` are resolved lexically, and the longest existing ancestor is
/// canonicalised (so symlinked directories compare equal).
pub(crate) fn absolute(path: &Path) -> PathBuf {
    let joined = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut lexical = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                lexical.pop();
            }
            other => lexical.push(other),
        }
    }
    // Canonicalise the longest existing prefix, keep the rest as written.
    let mut tail = Vec::new();
    let mut head = lexical.clone();
    loop {
        if let Ok(canon) = head.canonicalize() {
            let mut out = canon;
            for t in tail.iter().rev() {
                out.push(t);
            }
            return out;
        }
        match (head.file_name().map(|n| n.to_os_string()), head.parent()) {
            (Some(name), Some(parent)) => {
                tail.push(name);
                head = parent.to_path_buf();
            }
            _ => return lexical,
        }
    }
}

/// Check the output against the inputs and make room for it. The output may not be an input or lie
/// inside one, and no input may lie inside an output that `overwrite` would delete. An existing
/// output is an error without `overwrite`; with it, a CASA image (a directory holding `table.dat`), a
/// virtual concatenation (holding `imageconcat.json`) or a file is removed, any other directory is
/// refused.
pub(crate) fn prepare_output(
    output: &Path,
    inputs: &[PathBuf],
    overwrite: bool,
) -> Result<(), ConcatError> {
    let out_abs = absolute(output);
    for (i, inp) in inputs.iter().enumerate() {
        let in_abs = absolute(inp);
        if out_abs.starts_with(&in_abs) {
            return Err(ConcatError::BadOutput {
                output: output.to_path_buf(),
                why: format!("it is (or lies inside) input {} ({})", i + 1, inp.display()),
            });
        }
        if in_abs.starts_with(&out_abs) {
            return Err(ConcatError::BadOutput {
                output: output.to_path_buf(),
                why: format!(
                    "input {} ({}) lies inside it; replacing the output would delete that input",
                    i + 1,
                    inp.display()
                ),
            });
        }
    }
    let md = match std::fs::symlink_metadata(output) {
        Ok(md) => md,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(ConcatError::io("cannot inspect", output)(e)),
    };
    if !overwrite {
        return Err(ConcatError::OutputExists {
            path: output.to_path_buf(),
        });
    }
    if md.is_dir() {
        if !output.join("table.dat").exists() && !output.join(IMAGECONCAT_JSON).exists() {
            return Err(ConcatError::BadOutput {
                output: output.to_path_buf(),
                why: "it is a directory but neither a CASA image nor a virtual concatenation; \
                      refusing to delete it"
                    .into(),
            });
        }
        std::fs::remove_dir_all(output).map_err(ConcatError::io("cannot remove", output))
    } else {
        std::fs::remove_file(output).map_err(ConcatError::io("cannot remove", output))
    }
}

fn utf8(path: &Path) -> Result<&str, ConcatError> {
    path.to_str().ok_or_else(|| ConcatError::BadOption {
        what: "path".into(),
        why: format!("{} is not valid UTF-8", path.display()),
    })
}

/// How casacore's `ImageConcat::save` names a member image (`Path::stripDirectory`), so that
/// `ImageConcat`'s reader (`Path::addDirectory`) finds it again and the concatenation can be moved
/// together with its inputs: `././<rest>` for an image inside the output directory, `./<rest>` for an
/// image below the output's parent directory, otherwise the absolute path.
pub(crate) fn member_name(input_abs: &Path, out_abs: &Path) -> Result<String, ConcatError> {
    if let Ok(rest) = input_abs.strip_prefix(out_abs) {
        return Ok(format!("././{}", utf8(rest)?));
    }
    if let Some(parent) = out_abs.parent() {
        if let Ok(rest) = input_abs.strip_prefix(parent) {
            return Ok(format!("./{}", utf8(rest)?));
        }
    }
    Ok(utf8(input_abs)?.to_string())
}

/// Move directory `from` to `to` (rename; copy and delete when they are on different filesystems).
pub(crate) fn move_dir(from: &Path, to: &Path) -> Result<(), ConcatError> {
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
            copy_dir(from, to)?;
            std::fs::remove_dir_all(from).map_err(ConcatError::io("cannot remove", from))
        }
        Err(e) => Err(ConcatError::io(
            format!("cannot move to {}:", to.display()),
            from,
        )(e)),
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), ConcatError> {
    std::fs::create_dir(to).map_err(ConcatError::io("cannot create", to))?;
    for entry in std::fs::read_dir(from).map_err(ConcatError::io("cannot list", from))? {
        let entry = entry.map_err(ConcatError::io("cannot list", from))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry
            .file_type()
            .map_err(ConcatError::io("cannot inspect", &src))?
            .is_dir()
        {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(ConcatError::io("cannot copy", &src))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_follow_casacore_strip_directory() {
        let out = Path::new("/d/run/cube.image");
        assert_eq!(
            member_name(Path::new("/d/run/cube.image/p0.image"), out).unwrap(),
            "././p0.image"
        );
        assert_eq!(
            member_name(Path::new("/d/run/parts/p0.image"), out).unwrap(),
            "./parts/p0.image"
        );
        assert_eq!(
            member_name(Path::new("/elsewhere/p0.image"), out).unwrap(),
            "/elsewhere/p0.image"
        );
    }

    #[test]
    fn absolute_resolves_dots_without_existing() {
        let a = absolute(Path::new("/nonexistent_pclean/x/../y/./z"));
        assert_eq!(a, PathBuf::from("/nonexistent_pclean/y/z"));
    }
}

//! The registry of image-table paths open in this process: one lock per path (taken by every glue
//! call on it) and at most one writable handle per path.

use crate::error::GlueError;
use crate::handle::guard;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

struct PathState {
    lock: Arc<Mutex<()>>,
    handles: usize,
    writer: bool,
}

fn registry() -> &'static Mutex<HashMap<PathBuf, PathState>> {
    static REG: OnceLock<Mutex<HashMap<PathBuf, PathState>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The key under which a table path is locked: the absolute path with the parent canonicalised (the
/// table itself may not exist yet).
fn lock_key(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (abs.parent(), abs.file_name()) {
        (Some(parent), Some(name)) => parent
            .canonicalize()
            .map(|p| p.join(name))
            .unwrap_or(abs.clone()),
        _ => abs,
    }
}

/// Registers a handle on a path; removes it on drop.
pub(super) struct PathClaim {
    key: PathBuf,
    pub(super) lock: Arc<Mutex<()>>,
    writer: bool,
}

impl PathClaim {
    pub(super) fn acquire(path: &Path, writer: bool) -> Result<Self, GlueError> {
        let key = lock_key(path);
        let mut reg = guard(registry());
        let st = reg.entry(key.clone()).or_insert_with(|| PathState {
            lock: Arc::new(Mutex::new(())),
            handles: 0,
            writer: false,
        });
        if writer && st.writer {
            return Err(GlueError::Invalid {
                context: "image table".into(),
                message: format!(
                    "{} is already open for writing in this process (one writer per image)",
                    key.display()
                ),
            });
        }
        st.handles += 1;
        st.writer |= writer;
        Ok(PathClaim {
            key,
            lock: st.lock.clone(),
            writer,
        })
    }
}

impl Drop for PathClaim {
    fn drop(&mut self) {
        let mut reg = guard(registry());
        if let Some(st) = reg.get_mut(&self.key) {
            st.handles -= 1;
            if self.writer {
                st.writer = false;
            }
            if st.handles == 0 {
                reg.remove(&self.key);
            }
        }
    }
}

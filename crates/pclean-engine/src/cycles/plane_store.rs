//! A scratch file holding the image planes of a cube's deconvolution while they are not in use
//! (`cycles::paged`): a plane's residual, model, PSF, masks and imaging weights are written here
//! when its channel group is done with them and read back when the group's turn comes again. The
//! file lives next to the products and is removed when the store is dropped; its pages are the
//! kernel's page cache, not the process's resident memory.
//!
//! Arrays are stored as little-endian bytes; each (plane, field) has one slot, rewritten in place
//! when the size is unchanged (every field but the imaging weights keeps its size).

use crate::error::EngineError;
use ndarray::Array2;
use pclean_grid::wire::LeElement;
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What a slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Residual,
    Model,
    Psf,
    /// The clean mask the plane holds.
    Mask,
    /// The mask the last minor cycle used (auto-multithresh).
    UsedMask,
    /// The masker's statistics region.
    Stats,
    /// A fixed mask not yet moved into the plane.
    Fixed,
    /// auto-multithresh's primary beam, mask and positive mask.
    AutoPb,
    AutoMask,
    AutoPositive,
    /// The imaging weights: one slot per visibility chunk (`Weights(i)`).
    Weights(usize),
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    offset: u64,
    bytes: u64,
    shape: (usize, usize),
}

/// Elements converted per write or read (1 MiB of `f32`): the conversion buffer stays small.
const BUF_ELEMS: usize = 1 << 18;

/// Where each (plane, field) lies, and the file's end.
type Slots = (HashMap<(usize, Field), Slot>, u64);

/// The scratch file and where each (plane, field) lies in it.
pub struct PlaneStore {
    file: File,
    path: PathBuf,
    slots: Mutex<Slots>,
}

impl PlaneStore {
    /// Create (or replace) the scratch file `path`.
    pub fn create(path: &Path) -> Result<Self, EngineError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| io(path, "create", e))?;
        Ok(PlaneStore {
            file,
            path: path.to_path_buf(),
            slots: Mutex::new((HashMap::new(), 0)),
        })
    }

    /// Bytes the file holds (its slots, including those rewritten elsewhere).
    pub fn file_bytes(&self) -> u64 {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).1
    }

    fn slot_for(&self, key: (usize, Field), shape: (usize, usize), bytes: u64) -> Slot {
        let mut g = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let (slots, end) = &mut *g;
        match slots.get(&key) {
            Some(s) if s.bytes == bytes => Slot { shape, ..*s },
            _ => {
                let s = Slot {
                    offset: *end,
                    bytes,
                    shape,
                };
                *end += bytes;
                slots.insert(key, s);
                s
            }
        }
    }

    /// Write `a` as (`plane`, `field`).
    pub fn put<T: LeElement>(
        &self,
        plane: usize,
        field: Field,
        a: &Array2<T>,
    ) -> Result<(), EngineError> {
        let bytes = (a.len() * T::SIZE) as u64;
        let slot = self.slot_for((plane, field), a.dim(), bytes);
        let mut buf: Vec<u8> = Vec::with_capacity(BUF_ELEMS.min(a.len()) * T::SIZE);
        let mut at = slot.offset;
        let flush = |buf: &mut Vec<u8>, at: &mut u64| -> Result<(), EngineError> {
            self.file
                .write_all_at(buf, *at)
                .map_err(|e| io(&self.path, "write", e))?;
            *at += buf.len() as u64;
            buf.clear();
            Ok(())
        };
        for v in a.iter() {
            v.put(&mut buf);
            if buf.len() >= BUF_ELEMS * T::SIZE {
                flush(&mut buf, &mut at)?;
            }
        }
        if !buf.is_empty() {
            flush(&mut buf, &mut at)?;
        }
        Ok(())
    }

    /// Read (`plane`, `field`) back; `None` if it was never written.
    pub fn get<T: LeElement>(
        &self,
        plane: usize,
        field: Field,
    ) -> Result<Option<Array2<T>>, EngineError> {
        let slot = {
            let g = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            match g.0.get(&(plane, field)) {
                Some(s) => *s,
                None => return Ok(None),
            }
        };
        let n = slot.shape.0 * slot.shape.1;
        let mut out: Vec<T> = Vec::with_capacity(n);
        let mut buf = vec![0u8; BUF_ELEMS.min(n.max(1)) * T::SIZE];
        let mut at = slot.offset;
        while out.len() < n {
            let m = (n - out.len()).min(BUF_ELEMS);
            let b = &mut buf[..m * T::SIZE];
            self.file
                .read_exact_at(b, at)
                .map_err(|e| io(&self.path, "read", e))?;
            at += b.len() as u64;
            out.extend(b.chunks_exact(T::SIZE).map(T::get));
        }
        Array2::from_shape_vec(slot.shape, out)
            .map(Some)
            .map_err(|e| EngineError::protocol(format!("plane store slot shape: {e}")))
    }

    /// Forget (`plane`, `field`) (a `None` mask): [`PlaneStore::get`] then returns `None`.
    pub fn forget(&self, plane: usize, field: Field) {
        let mut g = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        g.0.remove(&(plane, field));
    }

    /// Write an optional array: `None` forgets the slot.
    pub fn put_opt<T: LeElement>(
        &self,
        plane: usize,
        field: Field,
        a: Option<&Array2<T>>,
    ) -> Result<(), EngineError> {
        match a {
            Some(a) => self.put(plane, field, a),
            None => {
                self.forget(plane, field);
                Ok(())
            }
        }
    }
}

impl Drop for PlaneStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn io(path: &Path, what: &str, source: std::io::Error) -> EngineError {
    EngineError::Io {
        context: format!(
            "cannot {what} the cube's plane scratch file '{}' (it needs free space next to the \
             products)",
            path.display()
        ),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_round_trip_and_slots_are_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("planes.tmp");
        let store = PlaneStore::create(&path).unwrap();
        // Larger than the conversion buffer, so the chunked write and read are exercised.
        let a = Array2::from_shape_fn((600, 700), |(y, x)| (y * 700 + x) as f32 * 0.5 - 3.0);
        let m = Array2::from_shape_fn((600, 700), |(y, x)| (y + x) % 3 == 0);
        store.put(3, Field::Residual, &a).unwrap();
        store.put(3, Field::Mask, &m).unwrap();
        assert_eq!(store.get::<f32>(3, Field::Residual).unwrap().unwrap(), a);
        assert_eq!(store.get::<bool>(3, Field::Mask).unwrap().unwrap(), m);
        assert!(store.get::<f32>(2, Field::Residual).unwrap().is_none());
        let before = store.file_bytes();
        let b = a.mapv(|v| -v);
        store.put(3, Field::Residual, &b).unwrap();
        // Same size: rewritten in place.
        assert_eq!(store.file_bytes(), before);
        assert_eq!(store.get::<f32>(3, Field::Residual).unwrap().unwrap(), b);
        store.put_opt::<bool>(3, Field::Mask, None).unwrap();
        assert!(store.get::<bool>(3, Field::Mask).unwrap().is_none());
        drop(store);
        assert!(!path.exists(), "the scratch file is removed");
    }
}

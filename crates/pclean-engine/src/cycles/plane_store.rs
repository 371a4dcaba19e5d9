//! A scratch file holding the image planes of a cube's deconvolution while they are not in use
//! (`cycles::paged`): a plane's residual, model, PSF, masks and imaging weights are written here
//! when its channel group is done with them and read back when the group's turn comes again. The
//! file lives next to the products and is removed when the store is dropped; its pages are the
//! kernel's page cache, not the process's resident memory.
//!
//! Arrays are stored as little-endian bytes; each (plane, field) has one slot, rewritten in place
//! when the size is unchanged (every field but the imaging weights keeps its size). Arrays are
//! converted a buffer at a time from their contiguous storage, and arrays handed back
//! ([`PlaneStore::recycle`]) are read into again instead of freshly allocated memory, until the
//! owner empties the pool ([`PlaneStore::empty_pool`]): a freshly allocated plane's pages are each
//! faulted in and zeroed by the kernel on first touch, which cost about as much as the reads
//! themselves (docs/decisions.md (s15-perf)).

use crate::error::EngineError;
use ndarray::Array2;
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

/// Arrays handed back, to be read into again.
type Pool<T> = Mutex<Vec<Vec<T>>>;

/// An element type a slot holds: its little-endian bytes, converted a slice at a time (the loops
/// below compile to plain copies on little-endian machines).
pub trait Stored: Copy + Default + Send + 'static {
    const SIZE: usize;
    /// `src` into `dst` (`dst.len() == src.len() * SIZE`).
    fn encode(src: &[Self], dst: &mut [u8]);
    /// `src` into `dst` (`src.len() == dst.len() * SIZE`).
    fn decode(src: &[u8], dst: &mut [Self]);
    /// The store's pool of arrays of this type.
    fn pool(store: &PlaneStore) -> &Pool<Self>;
}

impl Stored for f32 {
    const SIZE: usize = 4;
    fn encode(src: &[f32], dst: &mut [u8]) {
        for (d, v) in dst.chunks_exact_mut(4).zip(src) {
            d.copy_from_slice(&v.to_le_bytes());
        }
    }
    fn decode(src: &[u8], dst: &mut [f32]) {
        for (v, b) in dst.iter_mut().zip(src.chunks_exact(4)) {
            *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
    fn pool(store: &PlaneStore) -> &Pool<f32> {
        &store.pool_f32
    }
}

/// One byte per element (masks).
impl Stored for bool {
    const SIZE: usize = 1;
    fn encode(src: &[bool], dst: &mut [u8]) {
        for (d, v) in dst.iter_mut().zip(src) {
            *d = u8::from(*v);
        }
    }
    fn decode(src: &[u8], dst: &mut [bool]) {
        for (v, b) in dst.iter_mut().zip(src) {
            *v = *b != 0;
        }
    }
    fn pool(store: &PlaneStore) -> &Pool<bool> {
        &store.pool_bool
    }
}

/// The scratch file and where each (plane, field) lies in it.
pub struct PlaneStore {
    file: File,
    path: PathBuf,
    slots: Mutex<Slots>,
    pool_f32: Pool<f32>,
    pool_bool: Pool<bool>,
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
            pool_f32: Mutex::new(Vec::new()),
            pool_bool: Mutex::new(Vec::new()),
        })
    }

    /// Keep `a`'s memory to read into again (an array not in standard layout is dropped).
    pub fn recycle<T: Stored>(&self, a: Array2<T>) {
        if a.is_empty() || !a.is_standard_layout() {
            return;
        }
        let (v, offset) = a.into_raw_vec_and_offset();
        if offset == Some(0) {
            T::pool(self)
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(v);
        }
    }

    /// Free every array kept by [`PlaneStore::recycle`].
    pub fn empty_pool(&self) {
        self.pool_f32
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.pool_bool
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// A buffer of `n` elements: a recycled one of that length, else a new one.
    fn buffer<T: Stored>(&self, n: usize) -> Vec<T> {
        let mut pool = T::pool(self).lock().unwrap_or_else(|p| p.into_inner());
        match pool.iter().position(|v| v.len() == n) {
            Some(i) => pool.swap_remove(i),
            None => vec![T::default(); n],
        }
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
    pub fn put<T: Stored>(
        &self,
        plane: usize,
        field: Field,
        a: &Array2<T>,
    ) -> Result<(), EngineError> {
        let bytes = (a.len() * T::SIZE) as u64;
        let slot = self.slot_for((plane, field), a.dim(), bytes);
        let owned;
        let elems: &[T] = match a.as_slice() {
            Some(e) => e,
            None => {
                owned = a.iter().copied().collect::<Vec<T>>();
                &owned
            }
        };
        let mut buf = vec![0u8; BUF_ELEMS.min(elems.len()) * T::SIZE];
        let mut at = slot.offset;
        for part in elems.chunks(BUF_ELEMS) {
            let b = &mut buf[..part.len() * T::SIZE];
            T::encode(part, b);
            self.file
                .write_all_at(b, at)
                .map_err(|e| io(&self.path, "write", e))?;
            at += b.len() as u64;
        }
        Ok(())
    }

    /// Read (`plane`, `field`) back; `None` if it was never written.
    pub fn get<T: Stored>(
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
        let mut out: Vec<T> = self.buffer(n);
        let mut buf = vec![0u8; BUF_ELEMS.min(n) * T::SIZE];
        let mut at = slot.offset;
        for part in out.chunks_mut(BUF_ELEMS) {
            let b = &mut buf[..part.len() * T::SIZE];
            self.file
                .read_exact_at(b, at)
                .map_err(|e| io(&self.path, "read", e))?;
            at += b.len() as u64;
            T::decode(b, part);
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
    pub fn put_opt<T: Stored>(
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

    #[test]
    fn recycled_arrays_are_read_into_until_the_pool_is_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let store = PlaneStore::create(&dir.path().join("planes.tmp")).unwrap();
        let a = Array2::from_shape_fn((300, 500), |(y, x)| (y * 500 + x) as f32 - 7.5);
        let m = Array2::from_shape_fn((300, 500), |(y, x)| (y * x) % 5 == 1);
        store.put(0, Field::Residual, &a).unwrap();
        store.put(0, Field::Mask, &m).unwrap();
        // A handed-back array of the same size is read into (its memory reused), whatever it held.
        let old = Array2::from_elem((300, 500), 9.0f32);
        let at = old.as_ptr();
        store.recycle(old);
        let back = store.get::<f32>(0, Field::Residual).unwrap().unwrap();
        assert_eq!(back.as_ptr(), at);
        assert_eq!(back, a);
        let old_mask = Array2::from_elem((300, 500), true);
        let at_mask = old_mask.as_ptr();
        store.recycle(old_mask);
        let back_mask = store.get::<bool>(0, Field::Mask).unwrap().unwrap();
        assert_eq!(back_mask.as_ptr(), at_mask);
        assert_eq!(back_mask, m);
        // One of another size stays unused; emptying the pool frees it, and a read then
        // allocates.
        store.recycle(Array2::from_elem((10, 10), 1.0f32));
        assert_eq!(store.pool_f32.lock().unwrap().len(), 1);
        assert_eq!(store.get::<f32>(0, Field::Residual).unwrap().unwrap(), a);
        store.empty_pool();
        assert!(store.pool_f32.lock().unwrap().is_empty());
        assert!(store.pool_bool.lock().unwrap().is_empty());
    }
}

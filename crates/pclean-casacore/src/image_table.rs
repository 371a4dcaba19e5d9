//! CASA image tables (`PagedImage<Float>` layout) through our C++ glue (`cpp/image_glue.cc`).
//!
//! [`ImageTable::create`] makes the table exactly as casacore's `PagedImage` does: one row, column
//! `map` (`Float`, ndim 4, comment "version 4.0") in a hypercolumn bound to a `TiledCellStMan` named
//! `map`, `table.info` type `Image`, and a `logtable` subtable linked by a table keyword. The other
//! image keywords (`coords`, `imageinfo`, `units`, `miscinfo`) are records that callers write with
//! `rubbl_casatables` inside [`ImageTable::with_table_locked`].
//!
//! Pixel boxes are addressed in casacore's (Fortran) axis order `[x (RA), y (Dec), stokes, freq]`
//! with axis 0 fastest in memory, so a plane `plane_yx[[y, x]]` in standard (C) layout is exactly
//! the buffer for the box `blc = [0, 0, stokes, chan]`, `len = [nx, ny, 1, 1]`.
//!
//! Thread safety: casacore shares one `PlainTable` per table name (casacore issue #1163), so every
//! glue call on a path runs under a per-path mutex, and a path may have at most one writable handle
//! per process at a time.

use crate::error::{GlueError, PcExc};
use crate::tile_file::TileFile;
use std::collections::HashMap;
use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

#[repr(C)]
struct PcImageTable {
    _private: [u8; 0],
}

extern "C" {
    fn pc_image_create(
        path: *const c_char,
        shape: *const i64,
        tile: *const i64,
        exc: *mut PcExc,
    ) -> *mut PcImageTable;
    fn pc_image_open(path: *const c_char, writable: c_int, exc: *mut PcExc) -> *mut PcImageTable;
    fn pc_image_shape(img: *mut PcImageTable, shape_out: *mut i64, exc: *mut PcExc) -> c_int;
    fn pc_image_put_slice(
        img: *mut PcImageTable,
        blc: *const i64,
        len: *const i64,
        data: *const f32,
        exc: *mut PcExc,
    ) -> c_int;
    fn pc_image_get_slice(
        img: *mut PcImageTable,
        blc: *const i64,
        len: *const i64,
        data: *mut f32,
        exc: *mut PcExc,
    ) -> c_int;
    fn pc_image_tile_layout(
        img: *mut PcImageTable,
        path_out: *mut c_char,
        path_cap: i64,
        tile_out: *mut i64,
        bucket_out: *mut i64,
        big_endian_out: *mut c_int,
        exc: *mut PcExc,
    ) -> c_int;
    fn pc_image_make_mask(img: *mut PcImageTable, tile: *const i64, exc: *mut PcExc) -> c_int;
    fn pc_image_has_mask(img: *mut PcImageTable) -> c_int;
    fn pc_image_put_mask_slice(
        img: *mut PcImageTable,
        blc: *const i64,
        len: *const i64,
        data: *const bool,
        exc: *mut PcExc,
    ) -> c_int;
    fn pc_image_get_mask_slice(
        img: *mut PcImageTable,
        blc: *const i64,
        len: *const i64,
        data: *mut bool,
        exc: *mut PcExc,
    ) -> c_int;
    fn pc_image_flush(img: *mut PcImageTable, exc: *mut PcExc) -> c_int;
    fn pc_image_close(img: *mut PcImageTable, exc: *mut PcExc) -> c_int;
}

/// Largest tile edge (pixels) chosen by [`default_tile_shape`].
pub const MAX_TILE_EDGE: usize = 512;

/// Tile shape for a `[nx, ny, nstokes, nchan]` image so that writing one plane touches only whole
/// tiles of that plane: `[tx, ty, 1, 1]` with `tx <= MAX_TILE_EDGE` chosen to split `nx` into equal
/// parts with the least padding (e.g. 8000 -> 500, 1000 -> 500, 300 -> 300).
pub fn default_tile_shape(shape: [usize; 4]) -> [usize; 4] {
    let edge = |n: usize| {
        let n = n.max(1);
        let parts = n.div_ceil(MAX_TILE_EDGE);
        n.div_ceil(parts)
    };
    [edge(shape[0]), edge(shape[1]), 1, 1]
}

struct PathState {
    lock: Arc<Mutex<()>>,
    handles: usize,
    writer: bool,
}

fn registry() -> &'static Mutex<HashMap<PathBuf, PathState>> {
    static REG: OnceLock<Mutex<HashMap<PathBuf, PathState>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(HashMap::new()))
}

fn lock_poison_ok<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The key under which a table path is locked: the absolute path with the parent canonicalised (the
/// table itself may not exist yet).
fn lock_key(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    match (abs.parent(), abs.file_name()) {
        (Some(parent), Some(name)) => parent
            .canonicalize()
            .map(|p| p.join(name))
            .unwrap_or(abs.clone()),
        _ => abs,
    }
}

/// Registers a handle on a path; removes it on drop.
struct PathClaim {
    key: PathBuf,
    lock: Arc<Mutex<()>>,
    writer: bool,
}

impl PathClaim {
    fn acquire(path: &Path, writer: bool) -> Result<Self, GlueError> {
        let key = lock_key(path);
        let mut reg = lock_poison_ok(registry());
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
        let mut reg = lock_poison_ok(registry());
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

/// An open CASA image table (the `map` pixel column and its table). See the module docs for axis
/// order and locking.
pub struct ImageTable {
    ptr: NonNull<PcImageTable>,
    path: PathBuf,
    shape: [usize; 4],
    /// Direct pixel I/O (see [`crate::tile_file`]) when the table has pclean's layout; then every
    /// pixel access goes through it and casacore's bucket cache stays empty.
    tiles: Option<TileFile>,
    // Dropped after `ptr` is closed (see Drop).
    claim: PathClaim,
}

// SAFETY: the handle is only used through `&mut self` and every glue call on the path runs under the
// per-path mutex, so moving the handle to another thread cannot race with casacore's shared state.
unsafe impl Send for ImageTable {}

fn cpath(path: &Path) -> Result<CString, GlueError> {
    let s = path.to_str().ok_or_else(|| GlueError::Invalid {
        context: "image table path".into(),
        message: format!("{} is not valid UTF-8", path.display()),
    })?;
    CString::new(s).map_err(|_| GlueError::Invalid {
        context: "image table path".into(),
        message: format!("{} contains a NUL byte", path.display()),
    })
}

fn to_i64(v: [usize; 4]) -> [i64; 4] {
    v.map(|x| x as i64)
}

impl ImageTable {
    /// Create a new image table at `path` with `shape = [nx, ny, nstokes, nchan]` and tile shape
    /// `tile` (use [`default_tile_shape`]). Fails if anything exists at `path`. Unwritten pixels read
    /// as zero. The handle is writable.
    pub fn create(path: &Path, shape: [usize; 4], tile: [usize; 4]) -> Result<Self, GlueError> {
        let ctx = format!("creating image table {}", path.display());
        if shape.contains(&0) || tile.contains(&0) {
            return Err(GlueError::Invalid {
                context: ctx,
                message: format!("shape {shape:?} and tile {tile:?} must be positive"),
            });
        }
        let c = cpath(path)?;
        let claim = PathClaim::acquire(path, true)?;
        let mut exc = PcExc::default();
        let ptr = {
            let _g = lock_poison_ok(&claim.lock);
            // SAFETY: valid NUL-terminated path, 4-element arrays, and an exception record.
            unsafe {
                pc_image_create(
                    c.as_ptr(),
                    to_i64(shape).as_ptr(),
                    to_i64(tile).as_ptr(),
                    &mut exc,
                )
            }
        };
        exc.check(&ctx)?;
        let ptr = NonNull::new(ptr).ok_or_else(|| GlueError::Casacore {
            context: ctx,
            message: "null handle".into(),
        })?;
        let mut t = ImageTable {
            ptr,
            path: path.to_path_buf(),
            shape,
            tiles: None,
            claim,
        };
        t.tiles = t.direct_tiles(true, true)?;
        Ok(t)
    }

    /// Direct tile I/O for this table when its layout allows it (see [`crate::tile_file`]).
    fn direct_tiles(&mut self, writable: bool, fresh: bool) -> Result<Option<TileFile>, GlueError> {
        let mut path = vec![0 as c_char; 4096];
        let mut tile = [0i64; 4];
        let (mut bucket, mut big) = (0i64, 0 as c_int);
        let mut exc = PcExc::default();
        let ok = {
            let _g = lock_poison_ok(&self.claim.lock);
            // SAFETY: live handle; output buffers of the sizes passed.
            unsafe {
                pc_image_tile_layout(
                    self.ptr.as_ptr(),
                    path.as_mut_ptr(),
                    path.len() as i64,
                    tile.as_mut_ptr(),
                    &mut bucket,
                    &mut big,
                    &mut exc,
                )
            }
        };
        exc.check(&format!(
            "reading the tile layout of {}",
            self.path.display()
        ))?;
        if ok != 1 {
            return Ok(None);
        }
        // SAFETY: the glue wrote a NUL-terminated string into `path`.
        let file = unsafe { std::ffi::CStr::from_ptr(path.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        let tile = [tile[0] as usize, tile[1] as usize];
        TileFile::open(
            Path::new(&file),
            self.shape,
            tile,
            big != 0,
            writable,
            fresh,
        )
        .map(Some)
    }

    /// Open an existing image table, read-only or writable. Only 4-axis images are supported.
    pub fn open(path: &Path, writable: bool) -> Result<Self, GlueError> {
        let ctx = format!("opening image table {}", path.display());
        let c = cpath(path)?;
        let claim = PathClaim::acquire(path, writable)?;
        let mut exc = PcExc::default();
        let _g = lock_poison_ok(&claim.lock);
        // SAFETY: valid NUL-terminated path and an exception record.
        let ptr = unsafe { pc_image_open(c.as_ptr(), c_int::from(writable), &mut exc) };
        exc.check(&ctx)?;
        let ptr = NonNull::new(ptr).ok_or_else(|| GlueError::Casacore {
            context: ctx.clone(),
            message: "null handle".into(),
        })?;
        let mut shp = [0i64; 8];
        let mut exc = PcExc::default();
        // SAFETY: live handle, 8-element output buffer.
        let nd = unsafe { pc_image_shape(ptr.as_ptr(), shp.as_mut_ptr(), &mut exc) };
        let res = exc.check(&ctx).and_then(|_| {
            if nd == 4 {
                Ok([shp[0], shp[1], shp[2], shp[3]].map(|x| x as usize))
            } else {
                Err(GlueError::Invalid {
                    context: ctx.clone(),
                    message: format!("image has {nd} axes; only 4-axis images are supported"),
                })
            }
        });
        match res {
            Ok(shape) => {
                drop(_g);
                let mut t = ImageTable {
                    ptr,
                    path: path.to_path_buf(),
                    shape,
                    tiles: None,
                    claim,
                };
                // Writers only: a reader may share casacore's cache with another handle on the
                // same table, which direct reads would bypass.
                if writable {
                    t.tiles = t.direct_tiles(true, false)?;
                }
                Ok(t)
            }
            Err(e) => {
                let mut exc = PcExc::default();
                // SAFETY: live handle, closed exactly once here.
                unsafe { pc_image_close(ptr.as_ptr(), &mut exc) };
                Err(e)
            }
        }
    }

    /// Path the table was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Pixel shape `[nx, ny, nstokes, nchan]` (Fortran order).
    pub fn shape(&self) -> [usize; 4] {
        self.shape
    }

    fn check_box(
        &self,
        blc: [usize; 4],
        len: [usize; 4],
        n: usize,
        what: &str,
    ) -> Result<(), GlueError> {
        let ok = (0..4).all(|i| len[i] > 0 && blc[i] + len[i] <= self.shape[i]);
        let want: usize = len.iter().product();
        if !ok || n != want {
            return Err(GlueError::Invalid {
                context: format!("{what} {}", self.path.display()),
                message: format!(
                    "box blc={blc:?} len={len:?} (buffer {n} values) does not fit image shape {:?}",
                    self.shape
                ),
            });
        }
        Ok(())
    }

    /// Write the box at `blc` of lengths `len` from `data` (axis 0 fastest, `prod(len)` values).
    pub fn put_slice(
        &mut self,
        blc: [usize; 4],
        len: [usize; 4],
        data: &[f32],
    ) -> Result<(), GlueError> {
        self.check_box(blc, len, data.len(), "writing pixels of")?;
        if let Some(t) = &mut self.tiles {
            return t.put(blc, len, data);
        }
        let mut exc = PcExc::default();
        let _g = lock_poison_ok(&self.claim.lock);
        // SAFETY: live handle; box checked against the shape and buffer length.
        unsafe {
            pc_image_put_slice(
                self.ptr.as_ptr(),
                to_i64(blc).as_ptr(),
                to_i64(len).as_ptr(),
                data.as_ptr(),
                &mut exc,
            )
        };
        exc.check(&format!("writing pixels of {}", self.path.display()))
    }

    /// Read the box at `blc` of lengths `len` into `data` (axis 0 fastest, `prod(len)` values).
    pub fn get_slice(
        &mut self,
        blc: [usize; 4],
        len: [usize; 4],
        data: &mut [f32],
    ) -> Result<(), GlueError> {
        self.check_box(blc, len, data.len(), "reading pixels of")?;
        if let Some(t) = &self.tiles {
            return t.get(blc, len, data);
        }
        let mut exc = PcExc::default();
        let _g = lock_poison_ok(&self.claim.lock);
        // SAFETY: live handle; box checked against the shape and buffer length.
        unsafe {
            pc_image_get_slice(
                self.ptr.as_ptr(),
                to_i64(blc).as_ptr(),
                to_i64(len).as_ptr(),
                data.as_mut_ptr(),
                &mut exc,
            )
        };
        exc.check(&format!("reading pixels of {}", self.path.display()))
    }

    /// Give the image a default pixel mask (casacore's `mask0`, as `PagedImage::makeMask` +
    /// `setDefaultMask`), tiled as `tile`; every pixel starts masked until its plane's mask is
    /// written with [`put_mask_slice`](Self::put_mask_slice).
    pub fn make_mask(&mut self, tile: [usize; 4]) -> Result<(), GlueError> {
        let mut exc = PcExc::default();
        let _g = lock_poison_ok(&self.claim.lock);
        // SAFETY: live handle; `tile` has 4 entries.
        unsafe { pc_image_make_mask(self.ptr.as_ptr(), to_i64(tile).as_ptr(), &mut exc) };
        exc.check(&format!("making the pixel mask of {}", self.path.display()))
    }

    /// Whether the image has a default pixel mask (made by [`make_mask`](Self::make_mask), or
    /// pclean's `mask0` found when the image was opened; writable when the image is).
    pub fn has_mask(&self) -> bool {
        let _g = lock_poison_ok(&self.claim.lock);
        // SAFETY: live handle.
        unsafe { pc_image_has_mask(self.ptr.as_ptr()) != 0 }
    }

    /// Write the pixel-mask box at `blc` of lengths `len` from `data` (axis 0 fastest,
    /// `prod(len)` values; `true` = a valid pixel, as casacore).
    pub fn put_mask_slice(
        &mut self,
        blc: [usize; 4],
        len: [usize; 4],
        data: &[bool],
    ) -> Result<(), GlueError> {
        self.check_box(blc, len, data.len(), "writing the pixel mask of")?;
        let mut exc = PcExc::default();
        let _g = lock_poison_ok(&self.claim.lock);
        // SAFETY: live handle; box checked against the shape and buffer length.
        unsafe {
            pc_image_put_mask_slice(
                self.ptr.as_ptr(),
                to_i64(blc).as_ptr(),
                to_i64(len).as_ptr(),
                data.as_ptr(),
                &mut exc,
            )
        };
        exc.check(&format!(
            "writing the pixel mask of {}",
            self.path.display()
        ))
    }

    /// Read the pixel-mask box at `blc` of lengths `len` into `data` (`true` = valid).
    pub fn get_mask_slice(
        &mut self,
        blc: [usize; 4],
        len: [usize; 4],
        data: &mut [bool],
    ) -> Result<(), GlueError> {
        self.check_box(blc, len, data.len(), "reading the pixel mask of")?;
        let mut exc = PcExc::default();
        let _g = lock_poison_ok(&self.claim.lock);
        // SAFETY: live handle; box checked against the shape and buffer length.
        unsafe {
            pc_image_get_mask_slice(
                self.ptr.as_ptr(),
                to_i64(blc).as_ptr(),
                to_i64(len).as_ptr(),
                data.as_mut_ptr(),
                &mut exc,
            )
        };
        exc.check(&format!(
            "reading the pixel mask of {}",
            self.path.display()
        ))
    }

    /// Flush pixels and table metadata to disk.
    pub fn flush(&mut self) -> Result<(), GlueError> {
        let mut exc = PcExc::default();
        let _g = lock_poison_ok(&self.claim.lock);
        // SAFETY: live handle.
        unsafe { pc_image_flush(self.ptr.as_ptr(), &mut exc) };
        exc.check(&format!("flushing {}", self.path.display()))
    }

    /// Flush, then run `f` with the table's path while holding the per-path lock. Use it to read or
    /// write keywords through `rubbl_casatables::Table::open(path, …)`; casacore's table cache makes
    /// that handle share this one's state, so `f` must drop its handle before returning.
    pub fn with_table_locked<R>(&mut self, f: impl FnOnce(&Path) -> R) -> Result<R, GlueError> {
        self.flush()?;
        let _g = lock_poison_ok(&self.claim.lock);
        Ok(f(&self.path))
    }

    /// Close the table, flushing it when writable, and report any error.
    pub fn close(self) -> Result<(), GlueError> {
        let this = std::mem::ManuallyDrop::new(self);
        let mut exc = PcExc::default();
        {
            let _g = lock_poison_ok(&this.claim.lock);
            // SAFETY: live handle, closed exactly once (Drop is suppressed).
            unsafe { pc_image_close(this.ptr.as_ptr(), &mut exc) };
        }
        // SAFETY: `this` is never used again; move the fields out to drop them.
        let (path, claim) = unsafe { (std::ptr::read(&this.path), std::ptr::read(&this.claim)) };
        drop(claim);
        exc.check(&format!("closing {}", path.display()))
    }
}

impl Drop for ImageTable {
    fn drop(&mut self) {
        let mut exc = PcExc::default();
        let _g = lock_poison_ok(&self.claim.lock);
        // SAFETY: live handle, closed exactly once.
        unsafe { pc_image_close(self.ptr.as_ptr(), &mut exc) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_shapes_split_evenly() {
        assert_eq!(default_tile_shape([8000, 8000, 1, 1000]), [500, 500, 1, 1]);
        assert_eq!(default_tile_shape([300, 64, 4, 3]), [300, 64, 1, 1]);
        assert_eq!(default_tile_shape([1025, 512, 1, 1]), [342, 512, 1, 1]);
    }

    #[test]
    fn create_write_read_and_refuse_second_writer() {
        let dir = std::env::temp_dir().join(format!("pc_imgtab_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.image");
        let shape = [5, 3, 2, 4];
        let mut t = ImageTable::create(&path, shape, default_tile_shape(shape)).unwrap();
        assert!(
            ImageTable::open(&path, true).is_err(),
            "second writer must be refused"
        );
        let plane: Vec<f32> = (0..15).map(|i| i as f32).collect();
        t.put_slice([0, 0, 1, 2], [5, 3, 1, 1], &plane).unwrap();
        assert!(t.put_slice([0, 0, 2, 0], [5, 3, 1, 1], &plane).is_err());
        t.close().unwrap();
        assert!(
            ImageTable::create(&path, shape, [5, 3, 1, 1]).is_err(),
            "never replaces"
        );
        let mut r = ImageTable::open(&path, false).unwrap();
        assert_eq!(r.shape(), shape);
        let mut back = vec![0f32; 15];
        r.get_slice([0, 0, 1, 2], [5, 3, 1, 1], &mut back).unwrap();
        assert_eq!(back, plane);
        r.get_slice([0, 0, 0, 0], [5, 3, 1, 1], &mut back).unwrap();
        assert!(back.iter().all(|&v| v == 0.0));
        let mut one = [0f32; 1];
        r.get_slice([4, 2, 1, 2], [1, 1, 1, 1], &mut one).unwrap();
        assert_eq!(one[0], 14.0);
        drop(r);
        let info = std::fs::read_to_string(path.join("table.info")).unwrap();
        assert!(info.starts_with("Type = Image\n"), "{info}");
        let info = std::fs::read_to_string(path.join("logtable/table.info")).unwrap();
        assert!(info.starts_with("Type = Log message\n"), "{info}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Direct tile I/O (writers) and casacore's own (readers) agree on every pixel, for edge
    /// tiles with padding, partial boxes (read-modify-write), several planes at once, zero planes
    /// (skipped while unwritten, written over data), with `O_DIRECT` tiles (32 x 32 floats = 4096
    /// bytes) and ordinary ones.
    #[test]
    fn direct_tile_io_matches_casacore() {
        for (shape, tile) in [
            ([7, 5, 2, 3], [3, 2, 1, 1]),
            ([70, 50, 1, 3], [32, 32, 1, 1]),
        ] {
            direct_tile_io_case(shape, tile);
        }
    }

    fn direct_tile_io_case(shape: [usize; 4], tile: [usize; 4]) {
        let dir = std::env::temp_dir().join(format!(
            "pc_imgtab_direct_{}_{}",
            std::process::id(),
            tile[0]
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d.image");
        let [nx, ny, ns, _] = shape;
        let mut t = ImageTable::create(&path, shape, tile).unwrap();
        assert!(t.tiles.is_some(), "a new table uses direct tile I/O");
        assert_eq!(
            t.tiles.as_ref().unwrap().has_direct(),
            (tile[0] * tile[1] * 4).is_multiple_of(crate::tile_file::DIRECT_ALIGN)
        );
        let n: usize = shape.iter().product();
        let mut want = vec![0f32; n];
        let idx = |x: usize, y: usize, s: usize, c: usize| x + nx * (y + ny * (s + ns * c));
        let mut put = |t: &mut ImageTable, blc: [usize; 4], len: [usize; 4], v: &[f32]| {
            t.put_slice(blc, len, v).unwrap();
            for c in 0..len[3] {
                for s in 0..len[2] {
                    for y in 0..len[1] {
                        for x in 0..len[0] {
                            want[idx(blc[0] + x, blc[1] + y, blc[2] + s, blc[3] + c)] =
                                v[x + len[0] * (y + len[1] * (s + len[2] * c))];
                        }
                    }
                }
            }
        };
        let np = nx * ny;
        // A zero plane (skipped: holes), a whole plane, then a partial box over it and the next.
        put(&mut t, [0, 0, ns - 1, 2], [nx, ny, 1, 1], &vec![0.0; np]);
        let plane: Vec<f32> = (0..np).map(|i| 1.0 + i as f32).collect();
        put(&mut t, [0, 0, ns - 1, 0], [nx, ny, 1, 1], &plane);
        let (blc, len) = ([2, 1, ns - 1, 0], [nx - 3, ny - 2, 1, 2]);
        let part: Vec<f32> = (0..len.iter().product::<usize>())
            .map(|i| -(i as f32) - 0.5)
            .collect();
        put(&mut t, blc, len, &part);
        let mut back = vec![0f32; part.len()];
        t.get_slice(blc, len, &mut back).unwrap();
        assert_eq!(back, part);
        // Zeros over written data are written.
        put(&mut t, [0, 0, ns - 1, 1], [nx, ny, 1, 1], &vec![0.0; np]);
        t.close().unwrap();
        let mut r = ImageTable::open(&path, false).unwrap();
        assert!(r.tiles.is_none(), "readers use casacore");
        let mut all = vec![0f32; n];
        r.get_slice([0, 0, 0, 0], shape, &mut all).unwrap();
        assert_eq!(all, want);
        drop(r);
        // Reopened for writing (resume): direct again, and sees what was written.
        let mut w = ImageTable::open(&path, true).unwrap();
        assert!(w.tiles.is_some());
        let mut all2 = vec![0f32; n];
        w.get_slice([0, 0, 0, 0], shape, &mut all2).unwrap();
        assert_eq!(all2, want);
        drop(w);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

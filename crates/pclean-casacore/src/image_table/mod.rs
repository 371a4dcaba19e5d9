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

mod claim;

use crate::error::{GlueError, PcExc};
use crate::handle::locked_call;
use crate::tile_file::TileFile;
use claim::PathClaim;
use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

/// The glue's opaque image-table handle.
#[doc(hidden)]
#[repr(C)]
pub struct PcImageTable {
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

/// An open CASA image table (the `map` pixel column and its table). See the module docs for axis
/// order and locking.
pub struct ImageTable {
    ptr: NonNull<PcImageTable>,
    path: PathBuf,
    shape: [usize; 4],
    /// Direct pixel I/O (see [`crate::tile_file`]) when the table has pclean's layout; then every
    /// pixel access goes through it and casacore's bucket cache stays empty.
    tiles: Option<TileFile>,
    /// Whether `ptr` has been closed (by [`ImageTable::close`]).
    closed: bool,
    // Dropped after `ptr` is closed (see Drop).
    claim: PathClaim,
}

// SAFETY: the handle is only used through `&mut self` and every glue call on the path runs under the
// per-path mutex, so moving the handle to another thread cannot race with casacore's shared state.
unsafe impl Send for ImageTable {}

/// A glue function reading or writing a box of pixels or mask values (`P` points at them).
#[doc(hidden)]
pub type BoxFn<P> =
    unsafe extern "C" fn(*mut PcImageTable, *const i64, *const i64, P, *mut PcExc) -> c_int;

mod sealed {
    /// What an image table stores in boxes, with the glue functions that write and read them.
    pub trait BoxIo: Copy + Sized {
        const PUT: (&'static str, super::BoxFn<*const Self>);
        const GET: (&'static str, super::BoxFn<*mut Self>);
        /// The values as pixels, which direct tile I/O handles.
        fn pixels(_data: &[Self]) -> Option<&[f32]> {
            None
        }
        fn pixels_mut(_data: &mut [Self]) -> Option<&mut [f32]> {
            None
        }
    }
}

/// Values an image table stores: pixels (`f32`) and pixel-mask flags (`bool`).
pub trait BoxElem: sealed::BoxIo {}

impl sealed::BoxIo for f32 {
    const PUT: (&'static str, BoxFn<*const f32>) = ("writing pixels of", pc_image_put_slice);
    const GET: (&'static str, BoxFn<*mut f32>) = ("reading pixels of", pc_image_get_slice);
    fn pixels(data: &[f32]) -> Option<&[f32]> {
        Some(data)
    }
    fn pixels_mut(data: &mut [f32]) -> Option<&mut [f32]> {
        Some(data)
    }
}
impl BoxElem for f32 {}

impl sealed::BoxIo for bool {
    const PUT: (&'static str, BoxFn<*const bool>) =
        ("writing the pixel mask of", pc_image_put_mask_slice);
    const GET: (&'static str, BoxFn<*mut bool>) =
        ("reading the pixel mask of", pc_image_get_mask_slice);
}
impl BoxElem for bool {}

fn cpath(path: &Path) -> Result<CString, GlueError> {
    let invalid = |why: &str| GlueError::Invalid {
        context: "image table path".into(),
        message: format!("{} {why}", path.display()),
    };
    let s = path.to_str().ok_or_else(|| invalid("is not valid UTF-8"))?;
    CString::new(s).map_err(|_| invalid("contains a NUL byte"))
}

fn to_i64(v: [usize; 4]) -> [i64; 4] {
    v.map(|x| x as i64)
}

/// Open or create a table with the glue's `open` under the path's lock; a null handle is an error.
fn open_ptr(
    claim: &PathClaim,
    ctx: &str,
    open: impl FnOnce(*mut PcExc) -> *mut PcImageTable,
) -> Result<NonNull<PcImageTable>, GlueError> {
    let ptr = locked_call(&claim.lock, ctx, open)?;
    NonNull::new(ptr).ok_or_else(|| GlueError::Casacore {
        context: ctx.to_string(),
        message: "null handle".into(),
    })
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
        // SAFETY: valid NUL-terminated path, 4-element arrays, and an exception record.
        let ptr = open_ptr(&claim, &ctx, |exc| unsafe {
            pc_image_create(
                c.as_ptr(),
                to_i64(shape).as_ptr(),
                to_i64(tile).as_ptr(),
                exc,
            )
        })?;
        let mut t = ImageTable {
            ptr,
            path: path.to_path_buf(),
            shape,
            tiles: None,
            closed: false,
            claim,
        };
        t.tiles = t.direct_tiles(true, true)?;
        Ok(t)
    }

    /// Run a glue call on the table under the path's lock; an error names `what` and the path.
    fn call<R>(
        &self,
        what: &str,
        f: impl FnOnce(*mut PcImageTable, *mut PcExc) -> R,
    ) -> Result<R, GlueError> {
        let ctx = format!("{what} {}", self.path.display());
        locked_call(&self.claim.lock, &ctx, |exc| f(self.ptr.as_ptr(), exc))
    }

    /// Direct tile I/O for this table when its layout allows it (see [`crate::tile_file`]).
    fn direct_tiles(&mut self, writable: bool, fresh: bool) -> Result<Option<TileFile>, GlueError> {
        let mut path = vec![0 as c_char; 4096];
        let mut tile = [0i64; 4];
        let (mut bucket, mut big) = (0i64, 0 as c_int);
        // SAFETY: live handle; output buffers of the sizes passed.
        let ok = self.call("reading the tile layout of", |img, exc| unsafe {
            pc_image_tile_layout(
                img,
                path.as_mut_ptr(),
                path.len() as i64,
                tile.as_mut_ptr(),
                &mut bucket,
                &mut big,
                exc,
            )
        })?;
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
        // SAFETY: valid NUL-terminated path and an exception record.
        let ptr = open_ptr(&claim, &ctx, |exc| unsafe {
            pc_image_open(c.as_ptr(), c_int::from(writable), exc)
        })?;
        let mut t = ImageTable {
            ptr,
            path: path.to_path_buf(),
            shape: [0; 4],
            tiles: None,
            closed: false,
            claim,
        };
        // On error `t` is dropped, which closes the handle.
        let mut shp = [0i64; 8];
        // SAFETY: live handle, 8-element output buffer.
        let nd = locked_call(&t.claim.lock, &ctx, |exc| unsafe {
            pc_image_shape(t.ptr.as_ptr(), shp.as_mut_ptr(), exc)
        })?;
        if nd != 4 {
            return Err(GlueError::Invalid {
                context: ctx,
                message: format!("image has {nd} axes; only 4-axis images are supported"),
            });
        }
        t.shape = [shp[0], shp[1], shp[2], shp[3]].map(|x| x as usize);
        // Writers only: a reader may share casacore's cache with another handle on the same
        // table, which direct reads would bypass.
        if writable {
            t.tiles = t.direct_tiles(true, false)?;
        }
        Ok(t)
    }

    /// Path the table was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the pixels lie in the tile file, when they are written there directly (see
    /// [`crate::tile_file`]): another process may then write whole planes with a
    /// [`crate::TileWriter`]. `None`: pixels go through casacore.
    pub fn tile_layout(&self) -> Option<crate::TileLayout> {
        self.tiles.as_ref().map(|t| t.layout())
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

    /// Read or write the box at `blc` of lengths `len` through casacore with the glue's `f` on
    /// `data` (the box is checked against the shape and buffer length by the caller).
    fn glue_box<P>(
        &self,
        what: &str,
        f: BoxFn<P>,
        (blc, len): ([usize; 4], [usize; 4]),
        data: P,
    ) -> Result<(), GlueError> {
        // SAFETY: live handle; box checked against the shape and buffer length.
        self.call(what, |img, exc| unsafe {
            f(img, to_i64(blc).as_ptr(), to_i64(len).as_ptr(), data, exc)
        })
        .map(drop)
    }

    /// Write the box at `blc` of lengths `len` from `data` (axis 0 fastest, `prod(len)` values):
    /// pixels (`f32`) or the pixel mask (`bool`, `true` = a valid pixel, as casacore; see
    /// [`make_mask`](Self::make_mask)).
    pub fn put_slice<T: BoxElem>(
        &mut self,
        blc: [usize; 4],
        len: [usize; 4],
        data: &[T],
    ) -> Result<(), GlueError> {
        let (what, put) = T::PUT;
        self.check_box(blc, len, data.len(), what)?;
        if let (Some(t), Some(pixels)) = (&mut self.tiles, T::pixels(data)) {
            return t.put(blc, len, pixels);
        }
        self.glue_box(what, put, (blc, len), data.as_ptr())
    }

    /// Read the box at `blc` of lengths `len` into `data` (axis 0 fastest, `prod(len)` values):
    /// pixels (`f32`) or the pixel mask (`bool`, `true` = valid).
    pub fn get_slice<T: BoxElem>(
        &mut self,
        blc: [usize; 4],
        len: [usize; 4],
        data: &mut [T],
    ) -> Result<(), GlueError> {
        let (what, get) = T::GET;
        self.check_box(blc, len, data.len(), what)?;
        if let (Some(t), Some(pixels)) = (&self.tiles, T::pixels_mut(data)) {
            return t.get(blc, len, pixels);
        }
        self.glue_box(what, get, (blc, len), data.as_mut_ptr())
    }

    /// Give the image a default pixel mask (casacore's `mask0`, as `PagedImage::makeMask` +
    /// `setDefaultMask`), tiled as `tile`; every pixel starts masked until its plane's mask is
    /// written with [`put_slice`](Self::put_slice).
    pub fn make_mask(&mut self, tile: [usize; 4]) -> Result<(), GlueError> {
        // SAFETY: live handle; `tile` has 4 entries.
        self.call("making the pixel mask of", |img, exc| unsafe {
            pc_image_make_mask(img, to_i64(tile).as_ptr(), exc)
        })
        .map(drop)
    }

    /// Whether the image has a default pixel mask (made by [`make_mask`](Self::make_mask), or
    /// pclean's `mask0` found when the image was opened; writable when the image is).
    pub fn has_mask(&self) -> bool {
        let _g = crate::handle::guard(&self.claim.lock);
        // SAFETY: live handle.
        unsafe { pc_image_has_mask(self.ptr.as_ptr()) != 0 }
    }

    /// Flush pixels and table metadata to disk.
    pub fn flush(&mut self) -> Result<(), GlueError> {
        // SAFETY: live handle.
        self.call("flushing", |img, exc| unsafe { pc_image_flush(img, exc) })
            .map(drop)
    }

    /// Flush, then run `f` with the table's path while holding the per-path lock. Use it to read or
    /// write keywords through `rubbl_casatables::Table::open(path, …)`; casacore's table cache makes
    /// that handle share this one's state, so `f` must drop its handle before returning.
    pub fn with_table_locked<R>(&mut self, f: impl FnOnce(&Path) -> R) -> Result<R, GlueError> {
        self.flush()?;
        let _g = crate::handle::guard(&self.claim.lock);
        Ok(f(&self.path))
    }

    /// Close the glue's handle (once), flushing it when writable.
    fn close_handle(&mut self) -> Result<(), GlueError> {
        if std::mem::replace(&mut self.closed, true) {
            return Ok(());
        }
        // SAFETY: live handle, closed exactly once (guarded by `closed`).
        self.call("closing", |img, exc| unsafe { pc_image_close(img, exc) })
            .map(drop)
    }

    /// Close the table, flushing it when writable, and report any error.
    pub fn close(mut self) -> Result<(), GlueError> {
        self.close_handle()
    }
}

impl Drop for ImageTable {
    fn drop(&mut self) {
        // Errors on drop have nowhere to go; `close` reports them.
        let _ = self.close_handle();
    }
}

#[cfg(test)]
mod tests;

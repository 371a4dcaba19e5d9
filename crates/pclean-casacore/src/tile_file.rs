//! Pixel I/O straight to the tile file of a CASA image made by [`crate::image_table`], bypassing
//! casacore's bucket cache.
//!
//! Why: through casacore every tile written is first read (the cache loads a bucket before a put
//! replaces it), and the cache keeps up to a plane per image in memory. Here a whole plane costs one
//! write per row of tiles and no reads or cache memory. Measured on the 1024² x 64 channel benchmark
//! cube (seven products): the reads were 27% of the dirty run's CPU time.
//!
//! Whole tiles whose size is a multiple of [`DIRECT_ALIGN`] are written with `O_DIRECT` when the
//! file system allows it: the data go from our buffer to the disk without passing through the page
//! cache. On this project's VM, filling 1.6 GB of fresh page cache cost 2.4-4.0 s of system time
//! (the guest's free memory is given back to the host and faulted in again), `O_DIRECT` 0.1-0.2 s
//! (docs/decisions.md). Partial tiles, unaligned tile sizes and file systems without `O_DIRECT`
//! (tmpfs) use ordinary writes; Linux keeps the two coherent (a direct write drops cached pages).
//!
//! In a file created by this process, tiles never written are holes that read as zero, so an
//! all-zero run of tiles not yet written is skipped (a dirty run's `.model`).
//!
//! Layout (casacore's `TSMCube`, checked by the glue's `pc_image_tile_layout` before this is used):
//! the cube `[nx, ny, nstokes, nchan]` is cut into tiles `[tx, ty, 1, 1]`; tile number
//! `ix + tpx * (iy + tpy * (stokes + nstokes * chan))` (with `tpx = ceil(nx / tx)`,
//! `tpy = ceil(ny / ty)`) is the bucket at byte `tile * tx * ty * 4` of the file, its pixels in
//! Fortran order (`x` fastest) as 4-byte floats in the table's byte order. Pixels of edge tiles that
//! lie outside the image are padding. Tiles never written are holes and read as zero.

use crate::error::GlueError;
use std::alloc::Layout;
use std::fs::File;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Alignment (bytes) of `O_DIRECT` buffers, offsets and lengths: the largest logical block size
/// in common use.
pub const DIRECT_ALIGN: usize = 4096;

/// Largest write (bytes) of consecutive tiles gathered in one buffer.
const MAX_RUN_BYTES: usize = 4 << 20;

/// Where a CASA image's pixels lie in its tile file, and their geometry: what another process
/// needs to write whole planes straight into an image this one holds open ([`TileWriter`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileLayout {
    /// The tile file (casacore's `table.f0_TSM0` or the like).
    pub path: PathBuf,
    /// Image shape `[nx, ny, nstokes, nchan]`.
    pub shape: [usize; 4],
    /// Tile edge along x and y (tiles span one pixel along stokes and channel).
    pub tile: [usize; 2],
    /// Pixels are stored big-endian.
    pub big_endian: bool,
}

/// Whole planes written straight into the tile file of an image that another process (the run's
/// coordinator) holds open, e.g. by a Dask worker on the same file system.
///
/// Safe beside the holder because (a) tiles span one channel and one Stokes plane, so the planes
/// of different channels are disjoint byte ranges of the file, (b) the holder reads and writes
/// pixels through its own [`TileFile`] only (casacore's bucket cache of the pixel column stays
/// empty, so nothing it flushes or closes can overwrite these bytes), and (c) nothing here touches
/// the table's header, keywords or lock. The writer must make its planes durable
/// ([`TileWriter::sync`]) before the holder records them complete.
#[derive(Debug)]
pub struct TileWriter {
    inner: TileFile,
}

impl TileWriter {
    /// Open the tile file of `layout` for writing. `fresh`: the file was created by this run and
    /// none of its planes written yet (all-zero tiles may be left as holes).
    pub fn open(layout: &TileLayout, fresh: bool) -> Result<Self, GlueError> {
        let inner = TileFile::open(
            &layout.path,
            layout.shape,
            layout.tile,
            layout.big_endian,
            true,
            fresh,
        )?;
        Ok(TileWriter { inner })
    }

    /// Write plane `(chan, stokes)` from `plane` (`nx * ny` values, x fastest).
    pub fn put_plane(
        &mut self,
        chan: usize,
        stokes: usize,
        plane: &[f32],
    ) -> Result<(), GlueError> {
        let [nx, ny, nst, nchan] = self.inner.shape;
        if chan >= nchan || stokes >= nst || plane.len() != nx * ny {
            return Err(GlueError::Invalid {
                context: format!("writing tiles of {}", self.inner.path.display()),
                message: format!(
                    "plane (channel {chan}, stokes {stokes}) of {} values does not fit image \
                     shape {:?}",
                    plane.len(),
                    self.inner.shape
                ),
            });
        }
        self.inner.put([0, 0, stokes, chan], [nx, ny, 1, 1], plane)
    }

    /// Make every plane written so far durable (`fdatasync`).
    pub fn sync(&self) -> Result<(), GlueError> {
        self.inner
            .file
            .sync_data()
            .map_err(|e| io_err(&self.inner.path, "syncing tiles of", e))
    }

    /// Whether whole tiles go out with `O_DIRECT`.
    pub fn is_direct(&self) -> bool {
        self.inner.direct.is_some()
    }
}

/// An open tile file with its geometry.
#[derive(Debug)]
pub(crate) struct TileFile {
    file: File,
    /// The same file opened with `O_DIRECT` for writing whole aligned tiles, when possible.
    direct: Option<File>,
    /// For a file created by this process: which tiles were written (one bit per tile).
    written: Option<Vec<u64>>,
    path: PathBuf,
    /// Image shape `[nx, ny, nstokes, nchan]`.
    shape: [usize; 4],
    /// Tile edge along x and y (tiles span one pixel along stokes and channel).
    tx: usize,
    ty: usize,
    big_endian: bool,
}

impl TileFile {
    /// Open the tile file at `path` of an image of `shape` with tiles `[tx, ty, 1, 1]`. `fresh`:
    /// the file was just created (holes everywhere), so all-zero tiles need not be written.
    pub(crate) fn open(
        path: &Path,
        shape: [usize; 4],
        tile: [usize; 2],
        big_endian: bool,
        writable: bool,
        fresh: bool,
    ) -> Result<Self, GlueError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(writable)
            .open(path)
            .map_err(|e| io_err(path, "opening tile file", e))?;
        let tile_bytes = tile[0] * tile[1] * 4;
        let direct = (writable && tile_bytes.is_multiple_of(DIRECT_ALIGN))
            .then(|| {
                std::fs::OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_DIRECT)
                    .open(path)
                    .ok()
            })
            .flatten();
        let mut t = TileFile {
            file,
            direct,
            written: None,
            path: path.to_path_buf(),
            shape,
            tx: tile[0],
            ty: tile[1],
            big_endian,
        };
        if fresh && writable {
            let ntiles = t.tiles_x() * t.tiles_y() * shape[2] * shape[3];
            t.written = Some(vec![0u64; ntiles.div_ceil(64)]);
        }
        Ok(t)
    }

    /// Where the pixels lie, for a [`TileWriter`] in another process.
    pub(crate) fn layout(&self) -> TileLayout {
        TileLayout {
            path: self.path.clone(),
            shape: self.shape,
            tile: [self.tx, self.ty],
            big_endian: self.big_endian,
        }
    }

    /// Tile number of the run's first tile.
    fn tile_index(&self, run: &TileRun) -> usize {
        run.file_offset as usize / self.tile_bytes()
    }

    /// True when none of the run's tiles was written yet (in a fresh file).
    fn unwritten(&self, run: &TileRun) -> bool {
        let Some(bits) = &self.written else {
            return false;
        };
        let t0 = self.tile_index(run);
        (t0..t0 + run.ntiles).all(|t| bits[t / 64] & (1u64 << (t % 64)) == 0)
    }

    fn mark_written(&mut self, run: &TileRun) {
        let t0 = self.tile_index(run);
        if let Some(bits) = &mut self.written {
            for t in t0..t0 + run.ntiles {
                bits[t / 64] |= 1u64 << (t % 64);
            }
        }
    }

    /// True when whole tiles are written with `O_DIRECT`.
    #[cfg(test)]
    pub(crate) fn has_direct(&self) -> bool {
        self.direct.is_some()
    }

    fn tiles_x(&self) -> usize {
        self.shape[0].div_ceil(self.tx)
    }

    fn tiles_y(&self) -> usize {
        self.shape[1].div_ceil(self.ty)
    }

    fn tile_bytes(&self) -> usize {
        self.tx * self.ty * 4
    }

    /// Byte offset of tile `(ix, iy)` of plane `(stokes, chan)`.
    fn offset(&self, ix: usize, iy: usize, stokes: usize, chan: usize) -> u64 {
        let plane = stokes + self.shape[2] * chan;
        let tile = ix + self.tiles_x() * (iy + self.tiles_y() * plane);
        (tile * self.tile_bytes()) as u64
    }

    /// Write the box at `blc` of lengths `len` from `data` (axis 0 fastest). The box is checked
    /// by the caller.
    pub(crate) fn put(
        &mut self,
        blc: [usize; 4],
        len: [usize; 4],
        data: &[f32],
    ) -> Result<(), GlueError> {
        for run in self.runs(blc, len) {
            let mut buf = TileBuf::zeroed(run.ntiles * self.tx * self.ty);
            if !run.covers_whole_tiles {
                self.read_run(&run, buf.as_mut_slice())?;
            }
            run.box_to_tiles(buf.as_mut_slice(), data, self.tx, self.ty);
            if self.unwritten(&run) && buf.as_slice().iter().all(|v| *v == 0.0) {
                continue;
            }
            if self.big_endian {
                swap_bytes(buf.as_mut_slice());
            }
            self.write_run(&run, buf.as_bytes())?;
            self.mark_written(&run);
        }
        Ok(())
    }

    /// Write a run's bytes: `O_DIRECT` when available (the buffer and the offset are aligned,
    /// tiles being multiples of [`DIRECT_ALIGN`]), else an ordinary write. A file system that
    /// refuses a direct write (`EINVAL`) gets ordinary writes from then on.
    fn write_run(&mut self, run: &TileRun, bytes: &[u8]) -> Result<(), GlueError> {
        if let Some(d) = &self.direct {
            match d.write_all_at(bytes, run.file_offset) {
                Ok(()) => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => self.direct = None,
                Err(e) => return Err(io_err(&self.path, "writing tiles", e)),
            }
        }
        self.file
            .write_all_at(bytes, run.file_offset)
            .map_err(|e| io_err(&self.path, "writing tiles", e))
    }

    /// Read the box at `blc` of lengths `len` into `data` (axis 0 fastest).
    pub(crate) fn get(
        &self,
        blc: [usize; 4],
        len: [usize; 4],
        data: &mut [f32],
    ) -> Result<(), GlueError> {
        for run in self.runs(blc, len) {
            let mut buf = TileBuf::zeroed(run.ntiles * self.tx * self.ty);
            self.read_run(&run, buf.as_mut_slice())?;
            run.tiles_to_box(buf.as_slice(), data, self.tx, self.ty);
        }
        Ok(())
    }

    fn read_run(&self, run: &TileRun, buf: &mut [f32]) -> Result<(), GlueError> {
        self.file
            .read_exact_at(as_bytes_mut(buf), run.file_offset)
            .map_err(|e| io_err(&self.path, "reading tiles", e))?;
        if self.big_endian {
            swap_bytes(buf);
        }
        Ok(())
    }

    /// The runs of consecutive tiles (within one row of tiles of one plane, at most
    /// [`MAX_RUN_BYTES`] unless one tile is larger) that the box touches.
    fn runs(&self, blc: [usize; 4], len: [usize; 4]) -> Vec<TileRun> {
        let (x0, x1) = (blc[0], blc[0] + len[0]);
        let (y0, y1) = (blc[1], blc[1] + len[1]);
        let (ix0, ix1) = (x0 / self.tx, (x1 - 1) / self.tx);
        let (iy0, iy1) = (y0 / self.ty, (y1 - 1) / self.ty);
        let per_run = (MAX_RUN_BYTES / self.tile_bytes()).max(1);
        let mut runs = Vec::new();
        for c in 0..len[3] {
            for s in 0..len[2] {
                for iy in iy0..=iy1 {
                    let ty0 = iy * self.ty;
                    let ty1 = (ty0 + self.ty).min(self.shape[1]);
                    let whole_y = y0 <= ty0 && y1 >= ty1;
                    for ia in (ix0..=ix1).step_by(per_run) {
                        let ib = (ia + per_run - 1).min(ix1);
                        // The box spans these tiles' image pixels completely along x.
                        let cols = x0.max(ia * self.tx)..x1.min((ib + 1) * self.tx);
                        let whole_x = cols.start == ia * self.tx
                            && (cols.end == (ib + 1) * self.tx || cols.end == self.shape[0]);
                        runs.push(TileRun {
                            file_offset: self.offset(ia, iy, blc[2] + s, blc[3] + c),
                            ntiles: ib - ia + 1,
                            covers_whole_tiles: whole_x && whole_y,
                            tile_x0: ia * self.tx,
                            tile_y0: ty0,
                            rows: ty0.max(y0)..ty1.min(y1),
                            cols,
                            box_x0: x0,
                            box_y0: y0,
                            box_nx: len[0],
                            box_plane: (s + len[2] * c) * len[0] * len[1],
                        });
                    }
                }
            }
        }
        runs
    }
}

/// One row of consecutive tiles of one plane, and the part of a box inside it.
struct TileRun {
    file_offset: u64,
    ntiles: usize,
    covers_whole_tiles: bool,
    /// Image pixel of the run's first tile's first pixel.
    tile_x0: usize,
    tile_y0: usize,
    /// Image rows and columns of the box inside the run.
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    box_x0: usize,
    box_y0: usize,
    box_nx: usize,
    /// Index of the box plane's first value in the box buffer.
    box_plane: usize,
}

impl TileRun {
    /// The box's pixels inside the run as `(index in the run's tiles, index in the box buffer,
    /// count)`: one segment per image row and tile.
    fn segments(&self, tx: usize, ty: usize) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        self.rows.clone().flat_map(move |y| {
            let row_in_tile = y - self.tile_y0;
            let box_row = self.box_plane + (y - self.box_y0) * self.box_nx;
            let first = (self.cols.start - self.tile_x0) / tx;
            let last = (self.cols.end - 1 - self.tile_x0) / tx;
            (first..=last).map(move |tile| {
                let tile_x0 = self.tile_x0 + tile * tx;
                let x = self.cols.start.max(tile_x0);
                let end = self.cols.end.min(tile_x0 + tx);
                let t_idx = tile * tx * ty + row_in_tile * tx + (x - tile_x0);
                (t_idx, box_row + (x - self.box_x0), end - x)
            })
        })
    }

    fn box_to_tiles(&self, buf: &mut [f32], data: &[f32], tx: usize, ty: usize) {
        for (t, b, n) in self.segments(tx, ty) {
            buf[t..t + n].copy_from_slice(&data[b..b + n]);
        }
    }

    fn tiles_to_box(&self, buf: &[f32], data: &mut [f32], tx: usize, ty: usize) {
        for (t, b, n) in self.segments(tx, ty) {
            data[b..b + n].copy_from_slice(&buf[t..t + n]);
        }
    }
}

/// A zeroed buffer of `f32`s aligned to [`DIRECT_ALIGN`] (for `O_DIRECT`).
struct TileBuf {
    ptr: std::ptr::NonNull<f32>,
    len: usize,
    layout: Layout,
}

impl TileBuf {
    fn zeroed(len: usize) -> Self {
        let bytes = (len * 4).max(4).next_multiple_of(DIRECT_ALIGN);
        let layout = Layout::from_size_align(bytes, DIRECT_ALIGN).expect("tile buffer layout");
        // SAFETY: non-zero size.
        let raw = unsafe { std::alloc::alloc_zeroed(layout) } as *mut f32;
        let ptr =
            std::ptr::NonNull::new(raw).unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
        TileBuf { ptr, len, layout }
    }

    fn as_slice(&self) -> &[f32] {
        // SAFETY: `len` initialised (zeroed) f32s owned by this buffer.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    fn as_mut_slice(&mut self) -> &mut [f32] {
        // SAFETY: as above, uniquely borrowed.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    fn as_bytes(&self) -> &[u8] {
        as_bytes(self.as_slice())
    }
}

impl Drop for TileBuf {
    fn drop(&mut self) {
        // SAFETY: allocated in `zeroed` with this layout.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr() as *mut u8, self.layout) }
    }
}

fn swap_bytes(v: &mut [f32]) {
    for x in v.iter_mut() {
        *x = f32::from_bits(x.to_bits().swap_bytes());
    }
}

fn as_bytes(v: &[f32]) -> &[u8] {
    // SAFETY: f32 has no padding or invalid bit patterns as bytes; same memory, 4x the length.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

fn as_bytes_mut(v: &mut [f32]) -> &mut [u8] {
    // SAFETY: any byte pattern is a valid f32; same memory, 4x the length.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut u8, std::mem::size_of_val(v)) }
}

fn io_err(path: &Path, what: &str, e: std::io::Error) -> GlueError {
    GlueError::io(format!("{what} {}", path.display()), e)
}

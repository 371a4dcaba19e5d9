//! CASA images (`PagedImage<Float>` tables): a plane-by-plane writer into a pre-created cube and a
//! reader.
//!
//! Completeness: [`CasaImageWriter::create`] puts a marker file `<image>/pclean_incomplete` in the
//! image directory and [`CasaImageWriter::finish`] removes it. A writer dropped without `finish`
//! (crash, error, interruption) leaves the marker, so [`is_incomplete`] is true and
//! [`CasaImage::open`] refuses the image (use [`CasaImage::open_incomplete`] or
//! [`CasaImageWriter::reopen`] to inspect or resume it). casacore ignores the extra file.

use crate::error::{check_plane, ImageIoError};
use crate::meta::{Beams, ImageMeta, MiscValue};
use crate::records::{
    coords_record, get_rec, get_str_or_empty, has_field, imageinfo_record, miscinfo_record,
    parse_coords, parse_imageinfo, parse_miscinfo,
};
use ndarray::{Array2, Array4, ArrayView2};
use pclean_casacore::image_table::{default_tile_shape, BoxElem, ImageTable};
use pclean_casacore::rubbl_casatables::{Table, TableOpenMode};
use std::path::{Path, PathBuf};

/// Name of the marker file present while an image is being written.
pub const INCOMPLETE_MARKER: &str = "pclean_incomplete";

/// True when `image` carries the incomplete-product marker.
pub fn is_incomplete(image: &Path) -> bool {
    image.join(INCOMPLETE_MARKER).exists()
}

/// Whether `path` starts like a FITS file (`SIMPLE  =` in its first card).
fn is_fits_file(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 9];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|_| &head == b"SIMPLE  =")
}

/// Make room for a new product at `path`: error if it exists and `overwrite` is false; with
/// `overwrite`, remove a CASA image (a directory holding `table.dat`) or a plain file, but never
/// an unrelated directory. Then check that the parent directory is writable.
/// Whether `dir` may be replaced as an image product: an image table (table.info `Type = Image`),
/// or what a run killed while creating one leaves (only casacore's `table.*` files and the image's
/// `logtable`, no table.info yet). Another kind of table (a MeasurementSet, a calibration table) or a directory
/// holding anything else is not.
fn is_image_or_unfinished_table(dir: &Path) -> bool {
    match std::fs::read_to_string(dir.join("table.info")) {
        Ok(info) => {
            dir.join("table.dat").exists()
                && info
                    .lines()
                    .next()
                    .is_some_and(|l| l.trim() == "Type = Image")
        }
        Err(_) => std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.into_iter().all(|e| {
                e.is_ok_and(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    match e.file_type() {
                        Ok(t) if t.is_file() => name.starts_with("table."),
                        Ok(t) if t.is_dir() => name == "logtable",
                        _ => false,
                    }
                })
            })
        }),
    }
}

pub(crate) fn prepare_output(
    path: &Path,
    overwrite: bool,
    is_dir_product: bool,
) -> Result<(), ImageIoError> {
    match std::fs::symlink_metadata(path) {
        Ok(md) => {
            if !overwrite {
                return Err(ImageIoError::AlreadyExists {
                    path: path.to_path_buf(),
                });
            }
            let io = |source| ImageIoError::Io {
                path: path.to_path_buf(),
                source,
            };
            if md.is_dir() {
                // Only an image table (table.info `Type = Image`) is replaced: never an unrelated
                // directory, nor another kind of table (a MeasurementSet, a calibration table).
                if !is_image_or_unfinished_table(path) {
                    return Err(ImageIoError::Io {
                        path: path.to_path_buf(),
                        source: std::io::Error::other(
                            "exists and is not a CASA image (a directory or another kind of table); \
                             refusing to delete it: choose another imagename",
                        ),
                    });
                }
                std::fs::remove_dir_all(path).map_err(io)?;
            } else if is_dir_product || !is_fits_file(path) {
                return Err(ImageIoError::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::other(
                        "exists and is not a pclean product (a file where an image goes); \
                         refusing to delete it: choose another imagename",
                    ),
                });
            } else {
                std::fs::remove_file(path).map_err(io)?;
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(ImageIoError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    }
    // Probe writability of the parent with the product's own name.
    let unwritable = |source| ImageIoError::Unwritable {
        path: path.to_path_buf(),
        source,
    };
    if is_dir_product {
        std::fs::create_dir(path).map_err(unwritable)?;
        std::fs::remove_dir(path).map_err(unwritable)?;
    } else {
        std::fs::File::create(path).map_err(unwritable)?;
        std::fs::remove_file(path).map_err(unwritable)?;
    }
    Ok(())
}

/// Run `f` on the image's table opened through rubbl (`mode`) for its keywords, under the
/// image's lock.
fn with_keywords<R>(
    table: &mut ImageTable,
    mode: TableOpenMode,
    f: impl FnOnce(&mut Table, &Path) -> Result<R, ImageIoError>,
) -> Result<R, ImageIoError> {
    let path = table.path().to_path_buf();
    table
        .with_table_locked(|p| {
            let mut t =
                Table::open(p, mode).map_err(ImageIoError::table(&path, "opening for keywords"))?;
            f(&mut t, &path)
        })
        .map_err(ImageIoError::glue(&path))?
}

/// Write the `imageinfo` keyword (restoring beams, image type, object name).
fn put_imageinfo(t: &mut Table, path: &Path, meta: &ImageMeta) -> Result<(), ImageIoError> {
    let info = imageinfo_record(&meta.beams, &meta.image_type, &meta.object_name)
        .map_err(ImageIoError::table(path, "building imageinfo"))?;
    t.put_keyword("imageinfo", &info)
        .map_err(ImageIoError::table(path, "writing imageinfo"))
}

/// Write every image keyword except `logtable` (which the glue creates) through rubbl.
fn write_keywords(table: &mut ImageTable, meta: &ImageMeta) -> Result<(), ImageIoError> {
    with_keywords(table, TableOpenMode::ReadWrite, |t, path| {
        let coords =
            coords_record(&meta.coords).map_err(ImageIoError::table(path, "building coords"))?;
        t.put_keyword("coords", &coords)
            .map_err(ImageIoError::table(path, "writing coords"))?;
        put_imageinfo(t, path, meta)?;
        let misc =
            miscinfo_record(&meta.misc).map_err(ImageIoError::table(path, "building miscinfo"))?;
        t.put_keyword("miscinfo", &misc)
            .map_err(ImageIoError::table(path, "writing miscinfo"))?;
        t.put_keyword("units", &meta.units)
            .map_err(ImageIoError::table(path, "writing units"))
    })
}

fn write_imageinfo(table: &mut ImageTable, meta: &ImageMeta) -> Result<(), ImageIoError> {
    with_keywords(table, TableOpenMode::ReadWrite, |t, path| {
        put_imageinfo(t, path, meta)
    })
}

fn read_meta(table: &mut ImageTable) -> Result<ImageMeta, ImageIoError> {
    let shape = table.shape();
    with_keywords(table, TableOpenMode::Read, |t, path| {
        let mut kw = t
            .get_keyword_record()
            .map_err(ImageIoError::table(path, "reading keywords"))?;
        if !has_field(&mut kw, "coords") {
            return Err(ImageIoError::NotAnImage {
                path: path.to_path_buf(),
                why: "no 'coords' keyword".into(),
            });
        }
        let coords = get_rec(&mut kw, "coords")
            .and_then(|mut cs| parse_coords(&mut cs, shape))
            .map_err(ImageIoError::keyword(path, "coords"))?;
        let (beams, image_type, object_name) = if has_field(&mut kw, "imageinfo") {
            get_rec(&mut kw, "imageinfo")
                .and_then(|mut ii| parse_imageinfo(&mut ii))
                .map_err(ImageIoError::keyword(path, "imageinfo"))?
        } else {
            (Beams::None, String::new(), String::new())
        };
        let units =
            get_str_or_empty(&mut kw, "units").map_err(ImageIoError::keyword(path, "units"))?;
        let misc = if has_field(&mut kw, "miscinfo") {
            get_rec(&mut kw, "miscinfo")
                .and_then(|mut m| parse_miscinfo(&mut m))
                .map_err(ImageIoError::keyword(path, "miscinfo"))?
        } else {
            Vec::new()
        };
        Ok(ImageMeta {
            coords,
            units,
            beams,
            object_name,
            image_type,
            misc,
        })
    })
}

fn plane_box(
    path: &Path,
    shape: [usize; 4],
    chan: usize,
    stokes: usize,
    got: [usize; 2],
) -> Result<([usize; 4], [usize; 4]), ImageIoError> {
    check_plane(path, shape, chan, stokes, got)?;
    Ok(([0, 0, stokes, chan], [shape[0], shape[1], 1, 1]))
}

/// Plane `(chan, stokes)` of an image table's pixels (`f32`) or pixel mask (`bool`) as
/// `plane_yx[[y, x]]`.
fn read_plane<T: BoxElem + Default + Clone>(
    table: &mut ImageTable,
    chan: usize,
    stokes: usize,
) -> Result<Array2<T>, ImageIoError> {
    let [nx, ny, _, _] = table.shape();
    let (blc, len) = plane_box(table.path(), table.shape(), chan, stokes, [ny, nx])?;
    let mut out = Array2::<T>::from_elem((ny, nx), T::default());
    let path = table.path().to_path_buf();
    table
        .get_slice(blc, len, out.as_slice_mut().expect("standard layout"))
        .map_err(ImageIoError::glue(&path))?;
    Ok(out)
}

/// [`read_plane`] into `out` (reshaped when it is not `[ny, nx]` in standard layout): a caller
/// reading plane after plane reuses one buffer instead of faulting in a new one each time.
fn read_plane_into(
    table: &mut ImageTable,
    chan: usize,
    stokes: usize,
    out: &mut Array2<f32>,
) -> Result<(), ImageIoError> {
    let [nx, ny, _, _] = table.shape();
    let (blc, len) = plane_box(table.path(), table.shape(), chan, stokes, [ny, nx])?;
    if out.dim() != (ny, nx) || !out.is_standard_layout() {
        *out = Array2::zeros((ny, nx));
    }
    let path = table.path().to_path_buf();
    table
        .get_slice(blc, len, out.as_slice_mut().expect("standard layout"))
        .map_err(ImageIoError::glue(&path))
}

/// Write plane `(chan, stokes)` of an image table's pixels (`f32`) or pixel mask (`bool`) from
/// `plane_yx[[y, x]]` (shape `[ny, nx]`, any layout).
fn write_plane<T: BoxElem + Clone>(
    table: &mut ImageTable,
    chan: usize,
    stokes: usize,
    plane_yx: ArrayView2<T>,
) -> Result<(), ImageIoError> {
    let (ny, nx) = plane_yx.dim();
    let (blc, len) = plane_box(table.path(), table.shape(), chan, stokes, [ny, nx])?;
    let path = table.path().to_path_buf();
    let plane = plane_yx.as_standard_layout();
    table
        .put_slice(blc, len, plane.as_slice().expect("standard layout"))
        .map_err(ImageIoError::glue(&path))
}

/// Writes a CASA image plane by plane into a cube created up front (all pixels start at zero).
/// One writer per path per process; see the module docs for the incomplete marker.
pub struct CasaImageWriter {
    table: ImageTable,
    meta: ImageMeta,
    written: Vec<bool>,
}

impl CasaImageWriter {
    /// Create the image at `path` (shape `[nx, ny, nstokes, nchan]` from `meta.coords`) with all
    /// keywords. Errors: [`ImageIoError::AlreadyExists`] if `path` exists and `!overwrite`
    /// (nothing is touched), [`ImageIoError::Unwritable`] if the directory cannot be written,
    /// [`ImageIoError::InvalidMeta`] for bad metadata.
    pub fn create(
        path: impl AsRef<Path>,
        meta: &ImageMeta,
        overwrite: bool,
    ) -> Result<Self, ImageIoError> {
        let path = path.as_ref();
        meta.validate()?;
        prepare_output(path, overwrite, true)?;
        let shape = meta.coords.shape();
        let mut table = ImageTable::create(path, shape, default_tile_shape(shape))
            .map_err(ImageIoError::glue(path))?;
        let marker = path.join(INCOMPLETE_MARKER);
        std::fs::write(
            &marker,
            "pclean is writing this image; if this file remains, the image is incomplete.\n",
        )
        .map_err(|source| ImageIoError::Io {
            path: marker.clone(),
            source,
        })?;
        write_keywords(&mut table, meta)?;
        Ok(CasaImageWriter {
            table,
            meta: meta.clone(),
            written: vec![false; shape[2] * shape[3]],
        })
    }

    /// Reopen an existing (possibly incomplete) image for writing more planes, e.g. to resume. The
    /// marker is (re)created and removed again by [`finish`](Self::finish). Planes written before
    /// reopening are not tracked by [`planes_written`](Self::planes_written).
    pub fn reopen(path: impl AsRef<Path>) -> Result<Self, ImageIoError> {
        let path = path.as_ref();
        let mut table = ImageTable::open(path, true).map_err(ImageIoError::glue(path))?;
        let meta = read_meta(&mut table)?;
        let marker = path.join(INCOMPLETE_MARKER);
        std::fs::write(&marker, "pclean is writing this image.\n").map_err(|source| {
            ImageIoError::Io {
                path: marker.clone(),
                source,
            }
        })?;
        let shape = table.shape();
        Ok(CasaImageWriter {
            table,
            meta,
            written: vec![false; shape[2] * shape[3]],
        })
    }

    /// The image's metadata (beams as last set).
    pub fn meta(&self) -> &ImageMeta {
        &self.meta
    }

    /// Path of the image.
    pub fn path(&self) -> &Path {
        self.table.path()
    }

    /// Where the pixels lie in the image's tile file, when another process may write whole planes
    /// there (`pclean_casacore::TileWriter`); `None` when they go through casacore.
    pub fn tile_layout(&self) -> Option<pclean_casacore::TileLayout> {
        self.table.tile_layout()
    }

    /// Write plane `(chan, stokes)` from `plane_yx[[y, x]]` (shape `[ny, nx]`, any layout).
    pub fn put_plane(
        &mut self,
        chan: usize,
        stokes: usize,
        plane_yx: ArrayView2<f32>,
    ) -> Result<(), ImageIoError> {
        write_plane(&mut self.table, chan, stokes, plane_yx)?;
        let nchan = self.table.shape()[3];
        self.written[chan + nchan * stokes] = true;
        Ok(())
    }

    /// Read back plane `(chan, stokes)` as `plane_yx[[y, x]]` (zeros where nothing was written).
    pub fn get_plane(&mut self, chan: usize, stokes: usize) -> Result<Array2<f32>, ImageIoError> {
        read_plane(&mut self.table, chan, stokes)
    }

    /// Give the image a default pixel mask (casacore's `mask0`, which CASA tools apply: tclean's
    /// products beyond the primary-beam limit). Every pixel is masked until its plane's mask is
    /// written with [`put_mask_plane`](Self::put_mask_plane). An image reopened to resume keeps
    /// its mask.
    pub fn add_pixel_mask(&mut self) -> Result<(), ImageIoError> {
        if self.table.has_mask() {
            return Ok(());
        }
        let path = self.table.path().to_path_buf();
        let shape = self.table.shape();
        self.table
            .make_mask(default_tile_shape(shape))
            .map_err(ImageIoError::glue(&path))
    }

    /// Whether the image has a pixel mask (see [`add_pixel_mask`](Self::add_pixel_mask)).
    pub fn has_pixel_mask(&self) -> bool {
        self.table.has_mask()
    }

    /// Write plane `(chan, stokes)` of the pixel mask from `valid_yx[[y, x]]` (`true` = a valid
    /// pixel).
    pub fn put_mask_plane(
        &mut self,
        chan: usize,
        stokes: usize,
        valid_yx: ArrayView2<bool>,
    ) -> Result<(), ImageIoError> {
        write_plane(&mut self.table, chan, stokes, valid_yx)
    }

    /// Write everything buffered so far to the table files (the planes written survive a crash of
    /// this process after this; fsync the files under [`path`](Self::path) for power loss).
    pub fn flush(&mut self) -> Result<(), ImageIoError> {
        let path = self.table.path().to_path_buf();
        self.table.flush().map_err(ImageIoError::glue(&path))
    }

    /// Which planes this writer has written, indexed `chan + nchan * stokes`.
    pub fn planes_written(&self) -> &[bool] {
        &self.written
    }

    /// Replace the restoring beams (written to `imageinfo` immediately).
    pub fn set_beams(&mut self, beams: &Beams) -> Result<(), ImageIoError> {
        let [_, _, nstokes, nchan] = self.table.shape();
        beams.validate(nchan, nstokes)?;
        self.meta.beams = beams.clone();
        write_imageinfo(&mut self.table, &self.meta)
    }

    /// Replace the `miscinfo` entries (written immediately).
    pub fn set_misc(&mut self, misc: Vec<(String, MiscValue)>) -> Result<(), ImageIoError> {
        self.meta.misc = misc;
        write_keywords(&mut self.table, &self.meta)
    }

    /// Flush and close the image and remove the incomplete marker.
    pub fn finish(self) -> Result<(), ImageIoError> {
        let path = self.table.path().to_path_buf();
        self.table.close().map_err(ImageIoError::glue(&path))?;
        let marker = path.join(INCOMPLETE_MARKER);
        match std::fs::remove_file(&marker) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(ImageIoError::Io {
                path: marker,
                source,
            }),
        }
    }
}

/// A CASA image opened for reading.
pub struct CasaImage {
    table: ImageTable,
    meta: ImageMeta,
}

/// Why `path` (with no `table.dat`) is not a CASA image: a FITS file is named as such, with how to
/// convert it.
fn not_a_table_reason(path: &Path) -> String {
    let mut head = [0u8; 9];
    let fits = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && &head == b"SIMPLE  =";
    if fits {
        "it is a FITS file, and a CASA image table is read here (mask and startmodel accept \
         FITS files; elsewhere convert it with casatasks.importfits(fitsimage=..., \
         imagename=...) first)"
            .into()
    } else {
        "no table.dat (not a casacore table)".into()
    }
}

impl CasaImage {
    /// Open a complete image (error [`ImageIoError::Incomplete`] if the marker is present).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ImageIoError> {
        let path = path.as_ref();
        if is_incomplete(path) {
            return Err(ImageIoError::Incomplete {
                path: path.to_path_buf(),
                marker: path.join(INCOMPLETE_MARKER),
            });
        }
        Self::open_incomplete(path)
    }

    /// Open an image even if its writer did not finish.
    pub fn open_incomplete(path: impl AsRef<Path>) -> Result<Self, ImageIoError> {
        let path = path.as_ref();
        if !path.join("table.dat").exists() {
            return Err(ImageIoError::NotAnImage {
                path: path.to_path_buf(),
                why: not_a_table_reason(path),
            });
        }
        let mut table = ImageTable::open(path, false).map_err(ImageIoError::glue(path))?;
        let meta = read_meta(&mut table)?;
        Ok(CasaImage { table, meta })
    }

    pub fn meta(&self) -> &ImageMeta {
        &self.meta
    }

    pub fn path(&self) -> PathBuf {
        self.table.path().to_path_buf()
    }

    /// Shape `[nx, ny, nstokes, nchan]`.
    pub fn shape(&self) -> [usize; 4] {
        self.table.shape()
    }

    /// Plane `(chan, stokes)` as `plane_yx[[y, x]]`.
    pub fn get_plane(&mut self, chan: usize, stokes: usize) -> Result<Array2<f32>, ImageIoError> {
        read_plane(&mut self.table, chan, stokes)
    }

    /// Plane `(chan, stokes)` into `out` (`plane_yx`; reshaped if needed): one buffer for a
    /// pass over every plane (the quick-look report's scan).
    pub fn get_plane_into(
        &mut self,
        chan: usize,
        stokes: usize,
        out: &mut Array2<f32>,
    ) -> Result<(), ImageIoError> {
        read_plane_into(&mut self.table, chan, stokes, out)
    }

    /// The spectrum of pixel `(x, y)` in Stokes plane `stokes`: one value per channel, read in
    /// one slice (the quick-look report reads a cube's brightest pixel this way).
    pub fn get_spectrum(
        &mut self,
        x: usize,
        y: usize,
        stokes: usize,
    ) -> Result<Vec<f32>, ImageIoError> {
        let shape = self.table.shape();
        let [nx, ny, _, nchan] = shape;
        let path = self.table.path().to_path_buf();
        // The pixel is checked like a plane: `got` names the pixel asked for.
        let got = if x < nx && y < ny { [ny, nx] } else { [y, x] };
        crate::error::check_plane(&path, shape, 0, stokes, got)?;
        let mut out = vec![0f32; nchan];
        self.table
            .get_slice([x, y, stokes, 0], [1, 1, 1, nchan], &mut out)
            .map_err(ImageIoError::glue(&path))?;
        Ok(out)
    }

    /// Whether the image has pclean's default pixel mask (`mask0`).
    pub fn has_pixel_mask(&self) -> bool {
        self.table.has_mask()
    }

    /// Plane `(chan, stokes)` of the pixel mask as `valid_yx[[y, x]]` (`true` = valid), or
    /// `None` without a mask.
    pub fn get_mask_plane(
        &mut self,
        chan: usize,
        stokes: usize,
    ) -> Result<Option<Array2<bool>>, ImageIoError> {
        if !self.table.has_mask() {
            return Ok(None);
        }
        read_plane(&mut self.table, chan, stokes).map(Some)
    }

    /// The whole cube as `cube_csyx[[chan, stokes, y, x]]` (numpy order of a CASA image).
    pub fn read_all(&mut self) -> Result<Array4<f32>, ImageIoError> {
        let shape = self.table.shape();
        let [nx, ny, ns, nc] = shape;
        let mut out = Array4::<f32>::zeros((nc, ns, ny, nx));
        let path = self.table.path().to_path_buf();
        self.table
            .get_slice([0; 4], shape, out.as_slice_mut().expect("standard layout"))
            .map_err(ImageIoError::glue(&path))?;
        Ok(out)
    }
}

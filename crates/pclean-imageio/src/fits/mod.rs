//! FITS images written as CASA's `exportfits` (casacore `ImageFITSConverter`, default
//! `stokeslast=True`) writes them: a 4-D `BITPIX=-32` primary HDU with axes
//! `NAXIS1=RA, NAXIS2=DEC, NAXIS3=FREQ, NAXIS4=STOKES`, the same WCS cards (PC matrix, SIN with
//! `PV2_1/PV2_2`, `LONPOLE/LATPOLE`, 1-based `CRPIX`, degrees for directions, Hz for frequency,
//! `SPECSYS`, `RESTFRQ`, `ALTRVAL/ALTRPIX/VELREF`), the ObsInfo cards (`TELESCOP`, `OBSERVER`,
//! `DATE-OBS`, `TIMESYS`, `OBSRA/OBSDEC`, `OBSGEO-X/Y/Z`), the `miscinfo` cards, and the beam:
//! `BMAJ/BMIN/BPA` (degrees) for a single beam, or `CASAMBM = T` plus a `BEAMS` binary table
//! (`BMAJ`, `BMIN` arcsec, `BPA` deg as `1E`; `CHAN`, `POL` as `1J`; header `EXTVER`, `NCHAN`,
//! `NPOL`) for per-plane beams.
//!
//! Plane by plane: [`FitsWriter`] holds one plane at a time. It writes to `<path>.pclean_partial`
//! and renames it onto `path` in [`FitsWriter::finish`], so an unfinished write never appears at
//! (or destroys an existing file at) the final path.
//!
//! cfitsio is used through `fitsio::sys` for exact control of the card order and number format
//! (`E` with 12 decimals, as CASA).

mod header;
mod raw;
mod read;
mod wcs;

pub use header::fits_stokes_code;
pub use read::{is_fits_file, FitsImage};

use crate::casa::CasaImage;
use crate::error::{check_plane, ImageIoError};
use crate::meta::{Beams, ImageMeta, MiscValue};
use fitsio::sys as fs;
use header::{
    multi_beam_card, single_beam_cards, stokes_axis, write_beams_table, write_primary_header,
};
use ndarray::{Array2, ArrayView2};
use raw::{RawFits, TFLOAT};
use std::ffi::c_void;
use std::os::raw::c_int;
use std::path::{Path, PathBuf};

/// Writes a FITS image plane by plane (see the module docs for the layout).
pub struct FitsWriter {
    raw: RawFits,
    path: PathBuf,
    partial: PathBuf,
    meta: ImageMeta,
    overwrite: bool,
}

// SAFETY: the cfitsio handle is owned exclusively and used only through `&mut self`; cfitsio
// handles are not tied to the creating thread.
unsafe impl Send for FitsWriter {}

impl FitsWriter {
    /// Create the FITS file for `meta` (primary header written now; pixels start at zero).
    /// Errors as [`crate::CasaImageWriter::create`]; an existing `path` is only replaced by
    /// [`finish`](Self::finish), and only with `overwrite`.
    pub fn create(
        path: impl AsRef<Path>,
        meta: &ImageMeta,
        overwrite: bool,
    ) -> Result<Self, ImageIoError> {
        Self::start(path.as_ref(), meta, overwrite, |path, partial| {
            let stokes = stokes_axis(meta)?;
            prepare_partial(path, partial, overwrite)?;
            let mut raw = RawFits::create(partial)?;
            write_primary_header(&mut raw, meta, stokes)?;
            Ok(raw)
        })
    }

    /// Reopen the unfinished file of an interrupted writer of `path` (its `.pclean_partial`) to
    /// write the remaining planes; `meta` must describe the same image (it is what the interrupted
    /// writer was created with). Error [`ImageIoError::NotAnImage`] when there is no such file.
    pub fn reopen(
        path: impl AsRef<Path>,
        meta: &ImageMeta,
        overwrite: bool,
    ) -> Result<Self, ImageIoError> {
        Self::start(path.as_ref(), meta, overwrite, |_, partial| {
            if !partial.is_file() {
                return Err(ImageIoError::NotAnImage {
                    path: partial.to_path_buf(),
                    why: "no unfinished FITS file to resume".into(),
                });
            }
            let mut raw = RawFits::open_rw(partial)?;
            // The pixels are read and written at offsets computed from `meta`: a file whose
            // header describes another shape (damaged, or left by another run) is refused rather
            // than read at the wrong offsets.
            let (bitpix, naxes) = raw.image_params()?;
            let c = &meta.coords;
            let want = [c.nx, c.ny, c.spectral.nchan, c.stokes.len()].map(|v| v as i64);
            if bitpix != -32 || naxes != want {
                return Err(ImageIoError::NotAnImage {
                    path: partial.to_path_buf(),
                    why: format!(
                        "its header says BITPIX = {bitpix}, axes {naxes:?}, but this run's image \
                         is BITPIX = -32, axes {want:?} (x, y, channels, Stokes): it is damaged \
                         or not this run's; remove it to write the image anew"
                    ),
                });
            }
            Ok(raw)
        })
    }

    /// A writer of `path` for valid `meta` on the file `open(path, partial)` gives.
    fn start(
        path: &Path,
        meta: &ImageMeta,
        overwrite: bool,
        open: impl FnOnce(&Path, &Path) -> Result<RawFits, ImageIoError>,
    ) -> Result<Self, ImageIoError> {
        meta.validate()?;
        let partial = partial_path(path);
        let raw = open(path, &partial)?;
        Ok(FitsWriter {
            raw,
            path: path.to_path_buf(),
            partial,
            meta: meta.clone(),
            overwrite,
        })
    }

    /// Write everything buffered so far to the file (the planes written survive a crash of this
    /// process after this; fsync the file of [`file_path`](Self::file_path) for power loss).
    pub fn flush(&mut self) -> Result<(), ImageIoError> {
        self.raw.flush()
    }

    /// The file being written (the `.pclean_partial` until [`finish`](Self::finish)).
    pub fn file_path(&self) -> &Path {
        &self.partial
    }

    /// Read back plane `(chan, stokes)` as `plane_yx[[y, x]]`.
    pub fn get_plane(&mut self, chan: usize, stokes: usize) -> Result<Array2<f32>, ImageIoError> {
        let (nx, ny) = (self.meta.coords.nx, self.meta.coords.ny);
        let (first, npix, what) = self.plane_span("reading", chan, stokes, [ny, nx])?;
        let mut out = Array2::<f32>::zeros((ny, nx));
        let mut nul: f32 = 0.0;
        let mut anynul: c_int = 0;
        let nulval = &mut nul as *mut f32 as *mut c_void;
        let data = out.as_mut_ptr() as *mut c_void;
        // SAFETY: open file; `out` holds exactly nx*ny floats, filled in FITS (x fastest) order.
        self.raw.call(&what, |ptr, st| unsafe {
            fs::ffgpv(ptr, TFLOAT, first, npix, nulval, data, &mut anynul, st);
        })?;
        Ok(out)
    }

    /// The first pixel (1-based) and the number of pixels of plane `(chan, stokes)` of shape `got
    /// = [ny, nx]`, after checking that it fits, and what `verb`ing it is called in errors. A
    /// plane is contiguous in the file: axes `[x, y, freq, stokes]`, x fastest.
    fn plane_span(
        &self,
        verb: &str,
        chan: usize,
        stokes: usize,
        got: [usize; 2],
    ) -> Result<(i64, i64, String), ImageIoError> {
        let c = &self.meta.coords;
        check_plane(&self.path, c.shape(), chan, stokes, got)?;
        let npix = (c.nx * c.ny) as i64;
        let first = 1 + (chan + c.spectral.nchan * stokes) as i64 * npix;
        Ok((
            first,
            npix,
            format!("{verb} plane chan {chan} stokes {stokes}"),
        ))
    }

    /// Write plane `(chan, stokes)` from `plane_yx[[y, x]]` (shape `[ny, nx]`).
    pub fn put_plane(
        &mut self,
        chan: usize,
        stokes: usize,
        plane_yx: ArrayView2<f32>,
    ) -> Result<(), ImageIoError> {
        let (ny, nx) = plane_yx.dim();
        let (first, npix, what) = self.plane_span("writing", chan, stokes, [ny, nx])?;
        let plane = plane_yx.as_standard_layout();
        let data = plane.as_ptr() as *mut c_void;
        // SAFETY: open file; the buffer holds exactly nx*ny floats in FITS (x fastest) order and
        // cfitsio only reads it.
        self.raw.call(&what, |ptr, st| unsafe {
            fs::ffppr(ptr, TFLOAT, first, npix, data, st);
        })
    }

    /// Replace the beams (written by [`finish`](Self::finish); single-beam cards are updated now).
    pub fn set_beams(&mut self, beams: &Beams) -> Result<(), ImageIoError> {
        beams.validate(
            self.meta.coords.spectral.nchan,
            self.meta.coords.stokes.len(),
        )?;
        match beams {
            Beams::Single(b) => single_beam_cards(&mut self.raw, b)?,
            Beams::PerPlane { .. } => multi_beam_card(&mut self.raw)?,
            Beams::None => {}
        }
        self.meta.beams = beams.clone();
        Ok(())
    }

    /// Add `miscinfo` entries as header cards (written immediately; [`header::misc_cards`]).
    pub fn set_misc(&mut self, misc: Vec<(String, MiscValue)>) -> Result<(), ImageIoError> {
        header::misc_cards(&mut self.raw, &misc)?;
        self.meta.misc.extend(misc);
        Ok(())
    }

    /// Write the `BEAMS` table (per-plane beams), close, and move the file onto its final path.
    pub fn finish(mut self) -> Result<(), ImageIoError> {
        if let Beams::PerPlane {
            nchan,
            nstokes,
            beams,
        } = &self.meta.beams
        {
            write_beams_table(&mut self.raw, *nchan, *nstokes, beams)?;
        }
        let FitsWriter {
            raw,
            path,
            partial,
            overwrite,
            ..
        } = self;
        raw.close()?;
        if !overwrite && path.exists() {
            return Err(ImageIoError::AlreadyExists { path });
        }
        std::fs::rename(&partial, &path).map_err(|source| ImageIoError::Io { path, source })
    }
}

/// Make way for writing `path` through `partial`: refuse a directory at `path`, and an existing
/// file without `overwrite`; remove a stale `partial`; probe that the directory is writable.
fn prepare_partial(path: &Path, partial: &Path, overwrite: bool) -> Result<(), ImageIoError> {
    match std::fs::symlink_metadata(path) {
        Ok(md) if md.is_dir() => {
            return Err(ImageIoError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other(
                    "is a directory; refusing to replace it with a FITS file",
                ),
            })
        }
        Ok(_) if !overwrite => {
            return Err(ImageIoError::AlreadyExists {
                path: path.to_path_buf(),
            })
        }
        _ => {}
    }
    match std::fs::remove_file(partial) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(ImageIoError::Unwritable {
                path: partial.to_path_buf(),
                source,
            })
        }
    }
    // Probe writability so the error names the path and the OS reason.
    std::fs::File::create(partial)
        .and_then(|_| std::fs::remove_file(partial))
        .map_err(|source| ImageIoError::Unwritable {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(())
}

/// The file an unfinished writer of `path` writes to.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".pclean_partial");
    PathBuf::from(partial)
}

/// Write a whole FITS image, asking `plane(chan, stokes)` for each plane (`plane_yx[[y, x]]`) in
/// turn, so only one plane is in memory at a time.
pub fn write_fits(
    path: impl AsRef<Path>,
    meta: &ImageMeta,
    mut plane: impl FnMut(usize, usize) -> Result<Array2<f32>, ImageIoError>,
    overwrite: bool,
) -> Result<(), ImageIoError> {
    let mut w = FitsWriter::create(path, meta, overwrite)?;
    for s in 0..meta.coords.stokes.len() {
        for c in 0..meta.coords.spectral.nchan {
            let p = plane(c, s)?;
            w.put_plane(c, s, p.view())?;
        }
    }
    w.finish()
}

/// Convert a (complete) CASA image to FITS, plane by plane; pixels its mask marks invalid are NaN.
pub fn export_casa_to_fits(
    casa_path: impl AsRef<Path>,
    fits_path: impl AsRef<Path>,
    overwrite: bool,
) -> Result<(), ImageIoError> {
    let mut img = CasaImage::open(casa_path)?;
    let meta = img.meta().clone();
    // Masked pixels become NaN (FITS' blank for floats), as CASA's exportfits writes them.
    write_fits(
        fits_path,
        &meta,
        |c, s| {
            let mut plane = img.get_plane(c, s)?;
            if let Some(valid) = img.get_mask_plane(c, s)? {
                plane.zip_mut_with(&valid, |v, &ok| {
                    if !ok {
                        *v = f32::NAN;
                    }
                });
            }
            Ok(plane)
        },
        overwrite,
    )
}

//! The output products of a run: created complete-or-marked-incomplete, written plane by plane.

use crate::error::EngineError;
use ndarray::{Array2, ArrayView2};
use pclean_core::params::ImageFormat;
use pclean_imageio::{Beams, CasaImageWriter, FitsWriter, ImageMeta, MiscValue};
use std::path::{Path, PathBuf};

/// Path of product `ext` for prefix `imagename` (FITS products get a `.fits` suffix).
pub fn product_path(imagename: &str, ext: &str, format: ImageFormat) -> PathBuf {
    match format {
        ImageFormat::Casa => PathBuf::from(format!("{imagename}.{ext}")),
        ImageFormat::Fits => PathBuf::from(format!("{imagename}.{ext}.fits")),
    }
}

/// Fail when any product exists and `overwrite` is off (checked before any heavy work).
pub fn check_products_absent(
    imagename: &str,
    format: ImageFormat,
    overwrite: bool,
    exts: &[&str],
) -> Result<(), EngineError> {
    if overwrite {
        return Ok(());
    }
    for &ext in exts {
        let p = product_path(imagename, ext, format);
        if p.exists() {
            return Err(EngineError::ProductExists { path: p });
        }
    }
    Ok(())
}

/// A product being written in either format.
pub enum ProductWriter {
    Casa(CasaImageWriter),
    Fits(FitsWriter),
}

impl ProductWriter {
    /// Create product `path` (`resume`: reopen the unfinished product of an interrupted run).
    pub fn open(
        path: &Path,
        meta: &ImageMeta,
        format: ImageFormat,
        overwrite: bool,
        resume: bool,
    ) -> Result<Self, EngineError> {
        Ok(match (format, resume) {
            (ImageFormat::Casa, false) => {
                ProductWriter::Casa(CasaImageWriter::create(path, meta, overwrite)?)
            }
            (ImageFormat::Casa, true) => ProductWriter::Casa(CasaImageWriter::reopen(path)?),
            (ImageFormat::Fits, false) => {
                ProductWriter::Fits(FitsWriter::create(path, meta, overwrite)?)
            }
            (ImageFormat::Fits, true) => {
                ProductWriter::Fits(FitsWriter::reopen(path, meta, overwrite)?)
            }
        })
    }

    /// The file or directory holding the data written so far.
    pub fn data_path(&self) -> PathBuf {
        match self {
            ProductWriter::Casa(w) => w.path().to_path_buf(),
            ProductWriter::Fits(w) => w.file_path().to_path_buf(),
        }
    }

    /// Where a CASA product's pixels lie in its tile file, when another process may write whole
    /// planes there (`pclean_imageio::TileWriter`); `None` for FITS products and CASA products
    /// whose pixels go through casacore.
    pub fn tile_layout(&self) -> Option<pclean_imageio::TileLayout> {
        match self {
            ProductWriter::Casa(w) => w.tile_layout(),
            ProductWriter::Fits(_) => None,
        }
    }

    /// Hand every plane written so far to the operating system (see [`fsync_tree`]).
    pub fn flush(&mut self) -> Result<(), EngineError> {
        match self {
            ProductWriter::Casa(w) => w.flush()?,
            ProductWriter::Fits(w) => w.flush()?,
        }
        Ok(())
    }

    /// Read back a plane written earlier (in this run or the interrupted one being resumed).
    pub fn get_plane(&mut self, chan: usize, stokes: usize) -> Result<Array2<f32>, EngineError> {
        Ok(match self {
            ProductWriter::Casa(w) => w.get_plane(chan, stokes)?,
            ProductWriter::Fits(w) => w.get_plane(chan, stokes)?,
        })
    }

    pub fn put_plane(
        &mut self,
        chan: usize,
        stokes: usize,
        plane_yx: ArrayView2<f32>,
    ) -> Result<(), EngineError> {
        match self {
            ProductWriter::Casa(w) => w.put_plane(chan, stokes, plane_yx)?,
            ProductWriter::Fits(w) => w.put_plane(chan, stokes, plane_yx)?,
        }
        Ok(())
    }

    /// Give a CASA product a default pixel mask (see [`CasaImageWriter::add_pixel_mask`]); FITS
    /// products have none (no-op).
    pub fn add_pixel_mask(&mut self) -> Result<(), EngineError> {
        if let ProductWriter::Casa(w) = self {
            w.add_pixel_mask()?;
        }
        Ok(())
    }

    /// Write plane `(chan, stokes)` of the pixel mask (`true` = valid) if the product has one.
    pub fn put_mask_plane(
        &mut self,
        chan: usize,
        stokes: usize,
        valid_yx: ArrayView2<bool>,
    ) -> Result<(), EngineError> {
        if let ProductWriter::Casa(w) = self {
            if w.has_pixel_mask() {
                w.put_mask_plane(chan, stokes, valid_yx)?;
            }
        }
        Ok(())
    }

    pub fn set_beams(&mut self, beams: &Beams) -> Result<(), EngineError> {
        match self {
            ProductWriter::Casa(w) => w.set_beams(beams)?,
            ProductWriter::Fits(w) => w.set_beams(beams)?,
        }
        Ok(())
    }

    /// Replace (CASA) or add (FITS cards) the product's `miscinfo` entries.
    pub fn set_misc(&mut self, misc: Vec<(String, MiscValue)>) -> Result<(), EngineError> {
        match self {
            ProductWriter::Casa(w) => w.set_misc(misc)?,
            ProductWriter::Fits(w) => w.set_misc(misc)?,
        }
        Ok(())
    }

    pub fn finish(self) -> Result<(), EngineError> {
        match self {
            ProductWriter::Casa(w) => w.finish()?,
            ProductWriter::Fits(w) => w.finish()?,
        }
        Ok(())
    }
}

/// fsync a file, or every file under a directory and the directory itself, so that data handed to
/// the operating system survives a power loss.
pub fn fsync_tree(path: &Path) -> Result<(), EngineError> {
    let io = |source| EngineError::Io {
        context: format!("cannot sync '{}' to disk", path.display()),
        source,
    };
    let md = std::fs::metadata(path).map_err(io)?;
    if md.is_dir() {
        for entry in std::fs::read_dir(path).map_err(io)? {
            fsync_tree(&entry.map_err(io)?.path())?;
        }
        // Directories: their entries (new files) must be durable too.
        if let Ok(d) = std::fs::File::open(path) {
            let _ = d.sync_all();
        }
        Ok(())
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.sync_data())
            .map_err(io)
    }
}

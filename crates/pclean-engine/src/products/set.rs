//! The products of a run: which exist, created (or reopened) together, written plane by plane,
//! with tclean's pixel mask beyond the primary-beam limit.

use super::writer::{product_path, ProductWriter};
use crate::error::EngineError;
use ndarray::{Array2, ArrayView2};
use pclean_core::params::{ImageFormat, ImagingParams, UseMask};
use pclean_imageio::{Beams, ImageCoords, ImageMeta};

/// The products of this run, in writing order. As tclean's: `restoration=false` makes no `.image`
/// (nor `.image.pbcor`), and no `.model` when there is nothing to deconvolve.
pub fn product_list(p: &ImagingParams) -> Vec<&'static str> {
    let d = &p.deconv;
    let restore = d.restoration;
    let model = restore || p.niter > 0 || d.startmodel.is_some() || d.restart || d.savemodel_column;
    let mut v = vec!["psf", "residual"];
    v.extend(restore.then_some("image"));
    v.extend(model.then_some("model"));
    v.extend(["pb", "sumwt", "weight"]);
    let masked = match &p.deconv.usemask {
        UseMask::User { mask, .. } => !mask.trim().is_empty(),
        _ => true,
    };
    if p.niter > 0 && masked {
        v.push("mask");
    }
    if restore && d.pbcor {
        v.push("image.pbcor");
    }
    v
}

/// How [`Products::create`] opens the products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// New products; `overwrite` replaces existing ones.
    Create { overwrite: bool },
    /// The unfinished products of an interrupted run.
    Reopen,
}

/// Products that carry tclean's pixel mask beyond the primary-beam limit (`pblimit > 0`).
pub const PB_MASKED: [&str; 4] = ["residual", "image", "image.pbcor", "pb"];

/// Open writers of every product.
pub struct Products {
    writers: Vec<(&'static str, ProductWriter)>,
    imagename: String,
    format: ImageFormat,
    /// Products in [`PB_MASKED`] are masked where the primary beam is at or below `pblimit` (as
    /// tclean's): CASA products get a pixel mask, written with each plane of `.pb`; FITS products
    /// NaN there (what CASA's exportfits writes for masked pixels), set when they are finished.
    pb_mask: bool,
    /// `[nx, ny, nstokes, nchan]`.
    shape: [usize; 4],
}

impl Products {
    /// Create every product, or reopen the unfinished products of an interrupted run.
    pub fn create(
        p: &ImagingParams,
        exts: &[&'static str],
        coords: &ImageCoords,
        object: &str,
        mode: OpenMode,
    ) -> Result<Self, EngineError> {
        // tclean masks its products beyond a positive pblimit (a negative one only limits the pb).
        let pb_mask = p.pblimit > 0.0;
        let mut writers = Vec::new();
        for &ext in exts {
            let c = if ext == "sumwt" {
                sumwt_coords(coords)
            } else {
                coords.clone()
            };
            let mut meta = ImageMeta::new(c);
            meta.units = match ext {
                "residual" | "image" | "image.pbcor" => "Jy/beam",
                "model" => "Jy/pixel",
                _ => "",
            }
            .to_string();
            meta.object_name = object.to_string();
            let path = product_path(&p.imagename, ext, p.format);
            let (resume, overwrite) = match mode {
                OpenMode::Reopen => (true, p.overwrite),
                OpenMode::Create { overwrite } => (false, overwrite),
            };
            let w = if resume {
                ProductWriter::open(&path, &meta, p.format, overwrite, true).map_err(|e| {
                    EngineError::param(
                        "overwrite",
                        format!(
                        "cannot resume the interrupted run: product '{}': {e}; pass --overwrite \
                         to start again",
                        path.display()
                    ),
                    )
                })?
            } else {
                let mut w = ProductWriter::open(&path, &meta, p.format, overwrite, false)?;
                if pb_mask && PB_MASKED.contains(&ext) {
                    w.add_pixel_mask()?;
                }
                w
            };
            writers.push((ext, w));
        }
        Ok(Products {
            writers,
            imagename: p.imagename.clone(),
            format: p.format,
            pb_mask,
            shape: coords.shape(),
        })
    }

    /// Hand every plane written so far to the operating system (survives a crash of this
    /// process); [`Products::data_paths`] + `fsync_tree` make it survive a power loss.
    pub fn flush(&mut self) -> Result<(), EngineError> {
        for (_, w) in self.writers.iter_mut() {
            w.flush()?;
        }
        Ok(())
    }

    /// Files and directories holding the products' data.
    pub fn data_paths(&self) -> Vec<std::path::PathBuf> {
        self.writers.iter().map(|(_, w)| w.data_path()).collect()
    }

    /// Read back a plane of product `ext`.
    pub fn get(
        &mut self,
        ext: &str,
        chan: usize,
        stokes: usize,
    ) -> Result<Array2<f32>, EngineError> {
        let w = self
            .writers
            .iter_mut()
            .find(|(e, _)| *e == ext)
            .ok_or_else(|| EngineError::internal(format!("no product '{ext}'")))?;
        w.1.get_plane(chan, stokes)
    }

    pub fn has(&self, ext: &str) -> bool {
        self.writers.iter().any(|(e, _)| *e == ext)
    }

    pub fn put(
        &mut self,
        ext: &str,
        chan: usize,
        stokes: usize,
        plane: ArrayView2<f32>,
    ) -> Result<(), EngineError> {
        let w = self
            .writers
            .iter_mut()
            .find(|(e, _)| *e == ext)
            .ok_or_else(|| EngineError::internal(format!("no product '{ext}'")))?;
        w.1.put_plane(chan, stokes, plane)?;
        if self.pb_mask && ext == "pb" {
            // `.pb` is zero at and below pblimit (`pb_limit_in_place`): the valid pixels are the rest.
            let valid = plane.mapv(|v| v > 0.0);
            for (e, w) in self.writers.iter_mut() {
                if PB_MASKED.contains(e) {
                    w.put_mask_plane(chan, stokes, valid.view())?;
                }
            }
        }
        Ok(())
    }

    /// FITS products: NaN in every plane of the [`PB_MASKED`] products where `.pb` is zero (at or
    /// below pblimit). Run once all planes are final (`.pb` itself last).
    fn blank_beyond_pb(&mut self) -> Result<(), EngineError> {
        let [_, _, nstokes, nchan] = self.shape;
        for k in 0..nchan {
            for s in 0..nstokes {
                let pb = self.get("pb", k, s)?;
                for ext in PB_MASKED {
                    let Some((_, w)) = self.writers.iter_mut().find(|(e, _)| *e == ext) else {
                        continue;
                    };
                    let mut plane = if ext == "pb" {
                        pb.clone()
                    } else {
                        w.get_plane(k, s)?
                    };
                    plane.zip_mut_with(&pb, |v, &b| {
                        if b <= 0.0 {
                            *v = f32::NAN;
                        }
                    });
                    w.put_plane(k, s, plane.view())?;
                }
            }
        }
        Ok(())
    }

    /// Set beams (PSF/residual get the fitted ones, image products the restoring ones) and close
    /// every product; returns their paths.
    pub fn finish(mut self, fitted: &Beams, restoring: &Beams) -> Result<Vec<String>, EngineError> {
        if self.pb_mask && self.format == ImageFormat::Fits {
            self.blank_beyond_pb()?;
        }
        let mut paths = Vec::new();
        for (ext, mut w) in self.writers {
            match ext {
                "psf" | "residual" => w.set_beams(fitted)?,
                "image" | "image.pbcor" => w.set_beams(restoring)?,
                _ => {}
            }
            w.finish()?;
            paths.push(
                product_path(&self.imagename, ext, self.format)
                    .display()
                    .to_string(),
            );
        }
        Ok(paths)
    }
}

/// The `.sumwt` image: one pixel per plane, covering the whole field.
fn sumwt_coords(c: &ImageCoords) -> ImageCoords {
    let mut s = c.clone();
    s.nx = 1;
    s.ny = 1;
    s.crpix = [0.0, 0.0];
    s.cdelt_rad = [c.cdelt_rad[0] * c.nx as f64, c.cdelt_rad[1] * c.ny as f64];
    s
}

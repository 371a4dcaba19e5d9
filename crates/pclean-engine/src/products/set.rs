//! The products of a run: which exist, created (or reopened) together, written plane by plane,
//! with tclean's pixel mask beyond the primary-beam limit.

use super::quicklook::RunStats;
use super::writer::{product_path, ProductWriter};
use crate::error::EngineError;
use ndarray::{Array2, ArrayView2};
use pclean_core::params::{Gridder, ImageFormat, ImagingParams, UseMask, Weighting};
use pclean_imageio::{Beams, ImageCoords, ImageMeta};

/// The products of this run, in writing order. As tclean's: `restoration=false` makes no `.image`
/// (nor `.image.pbcor`), and no `.model` when there is nothing to deconvolve.
pub fn product_list(p: &ImagingParams) -> Vec<&'static str> {
    if p.deconv.deconvolver == pclean_core::params::Deconvolver::Mtmfs {
        return taylor_product_list(p);
    }
    let d = &p.deconv;
    let restore = d.restoration;
    let model =
        restore || p.niter > 0 || !d.startmodel.is_empty() || d.restart || d.savemodel_column;
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

/// The products of an mtmfs run, named as tclean's: `.psf.ttN` and `.sumwt.ttN` (2 nterms - 1),
/// `.residual.ttN`, `.image.ttN`, `.model.ttN` (nterms), `.pb.tt0`, `.weight.tt0` (a mosaic's
/// `.weight.ttN`, 2 nterms - 1), `.alpha` and
/// `.alpha.error` (nterms >= 2), `.beta` (nterms >= 3), with `pbcor` `.image.ttN.pbcor` and
/// `.pb.tt1..` (zeros, as tclean's). specmode='mvc' adds its cube products ([`MVC_CUBES`]).
fn taylor_product_list(p: &ImagingParams) -> Vec<&'static str> {
    use crate::cycles::mtmfs::{IMAGE, IMAGE_PBCOR, MODEL, PB, PSF, RESIDUAL, SUMWT, WEIGHT};
    let d = &p.deconv;
    let n = d.nterms;
    let restore = d.restoration;
    let mut v: Vec<&'static str> = PSF[..2 * n - 1].to_vec();
    v.extend(&RESIDUAL[..n]);
    if restore {
        v.extend(&IMAGE[..n]);
    }
    if restore || p.niter > 0 || d.savemodel_column {
        v.extend(&MODEL[..n]);
    }
    v.push("pb.tt0");
    // A mosaic's and awproject's weight image of every PSF term (tclean 6.7's `.weight.tt0 ..
    // tt(2n-2)`); an mvc mosaic's are its channels' (the `.weight` cube, [`mvc_cube_list`]), no
    // `.weight.ttN`.
    let nweight = match (p.gridder, d.mvc) {
        (Gridder::Mosaic, Some(_)) => 0,
        (Gridder::Mosaic | Gridder::AwProject, _) => 2 * n - 1,
        _ => 1,
    };
    v.extend(&WEIGHT[..nweight]);
    v.extend(&SUMWT[..2 * n - 1]);
    let masked = match &d.usemask {
        UseMask::User { mask, .. } => !mask.trim().is_empty(),
        _ => true,
    };
    if p.niter > 0 && masked {
        v.push("mask");
    }
    if restore && n >= 2 {
        v.extend(["alpha", "alpha.error"]);
    }
    if restore && n >= 3 {
        v.push("beta");
    }
    if restore && d.pbcor {
        v.extend(&IMAGE_PBCOR[..n]);
        v.extend(&PB[1..n]);
    }
    if d.mvc.is_some() {
        v.extend(mvc_cube_list(p));
    }
    v
}

/// specmode='mvc''s cube products, as tclean 6.7 writes them beside the Taylor terms (measured on
/// `vla_wideband_small.ms`, `docs/decisions.md (s13-mvc)`): the channels' `.psf`, `.residual`,
/// `.pb` and `.sumwt` always, `.model` (the model cube last predicted) when a model is predicted,
/// and a mosaic's `.weight` (its channels' weight images; measured on wideband_mosaic.ms,
/// `docs/decisions.md (s17-mvc)`).
pub const MVC_CUBES: [&str; 6] = ["psf", "residual", "pb", "sumwt", "model", "weight"];

fn mvc_cube_list(p: &ImagingParams) -> Vec<&'static str> {
    let d = &p.deconv;
    let predicted = p.niter > 0 || d.restart || !d.startmodel.is_empty();
    let model_tt = d.restoration || p.niter > 0 || d.savemodel_column;
    let mut v: Vec<&'static str> = MVC_CUBES
        .into_iter()
        .filter(|e| *e != "model" || (predicted && model_tt))
        .filter(|e| *e != "weight" || p.gridder == Gridder::Mosaic)
        .collect();
    if writes_gridwt(p) {
        v.push(GRIDWT);
    }
    v
}

/// specmode='mvc''s `.gridwt`: tclean's uv weight density (measured, `docs/decisions.md (s14-mvc)`):
/// the one density grid of a uniform-family weighting on the image's uv grid, one plane on the
/// cube's coordinates at its first channel, with `f2`, `d2` and the fields' map in `miscinfo`.
pub const GRIDWT: &str = "gridwt";

/// Whether an mvc run writes [`GRIDWT`]: tclean saves the density only for the uniform family
/// (natural weighting has none). pclean writes it when the density is one grid of the image's
/// size (not for `npixels` > 0, whose grid is `npixels` square, nor for a mosaic's per-field
/// densities, `mosweight`, which tclean stacks on a fifth axis).
pub fn writes_gridwt(p: &ImagingParams) -> bool {
    let density = match p.weighting {
        Weighting::Natural => false,
        Weighting::SuperUniform { .. } => true,
        _ => p.npixels == 0,
    };
    let per_field = p.gridder == Gridder::Mosaic && p.mosaic.mosweight;
    p.deconv.mvc.is_some() && density && !per_field
}

/// Whether product `ext` carries the pixel mask beyond the primary-beam limit ([`PB_MASKED`] and
/// their Taylor-term names, the spectral index images).
fn pb_masked(ext: &str) -> bool {
    PB_MASKED.contains(&ext)
        || ext.starts_with("residual.tt")
        || ext.starts_with("image.tt")
        || matches!(ext, "pb.tt0" | "alpha" | "alpha.error" | "beta")
}

/// Whether `ext` is the primary beam (`.pb`, mtmfs's `.pb.tt0`).
fn is_pb(ext: &str) -> bool {
    matches!(ext, "pb" | "pb.tt0")
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
    /// specmode='mvc''s cube products ([`MVC_CUBES`]) and their shape: a group of their own for
    /// the pixel mask (the `.pb` cube masks the `.residual` cube, channel by channel) and beams.
    cube: Vec<&'static str>,
    cube_shape: [usize; 4],
    /// The fitted beams of the `.psf` cube's channels ([`Products::set_cube_psf_beams`]).
    cube_psf_beams: Beams,
    /// The report's statistics, gathered as the planes are written (a new CASA cube).
    stats: Option<RunStats>,
}

impl Products {
    /// Create every product, or reopen the unfinished products of an interrupted run. `cube`:
    /// the coordinates of specmode='mvc''s cube products ([`MVC_CUBES`] in `exts`), whose
    /// spectral axis is mvc's channels rather than the image's.
    pub fn create(
        p: &ImagingParams,
        exts: &[&'static str],
        coords: &ImageCoords,
        cube: Option<&ImageCoords>,
        object: &str,
        mode: OpenMode,
    ) -> Result<Self, EngineError> {
        // tclean masks its products beyond a positive pblimit (a negative one only limits the pb).
        let pb_mask = p.pblimit > 0.0;
        let mut writers = Vec::new();
        let cube_exts: Vec<&'static str> = match cube {
            Some(_) => exts
                .iter()
                .copied()
                .filter(|e| MVC_CUBES.contains(e))
                .collect(),
            None => Vec::new(),
        };
        for &ext in exts {
            let (base, in_cube) = match cube {
                Some(c) if cube_exts.contains(&ext) => (c, true),
                _ => (coords, false),
            };
            let c = if ext == "sumwt" || ext.starts_with("sumwt.tt") {
                sumwt_coords(base)
            } else if ext == GRIDWT {
                gridwt_coords(cube.unwrap_or(coords))
            } else {
                base.clone()
            };
            let mut meta = ImageMeta::new(c);
            meta.units = match ext {
                // tclean's mvc `.residual` cube carries no unit (measured), its `.model` Jy/pixel.
                "residual" if in_cube => "",
                "residual" | "image" | "image.pbcor" => "Jy/beam",
                e if e.starts_with("image.tt") => "Jy/beam",
                e if e == "model" || e.starts_with("model.tt") => "Jy/pixel",
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
                if pb_mask && pb_masked(ext) {
                    w.add_pixel_mask()?;
                }
                w
            };
            writers.push((ext, w));
        }
        let fresh = matches!(mode, OpenMode::Create { .. });
        Ok(Products {
            stats: RunStats::start(&p.imagename, p.format, exts, coords, fresh),
            writers,
            imagename: p.imagename.clone(),
            format: p.format,
            pb_mask,
            shape: coords.shape(),
            cube_shape: cube.map_or([0; 4], |c| c.shape()),
            cube: cube_exts,
            cube_psf_beams: Beams::None,
        })
    }

    /// Whether `ext` is one of specmode='mvc''s cube products.
    fn in_cube(&self, ext: &str) -> bool {
        self.cube.contains(&ext)
    }

    /// The beams the `.psf` cube of specmode='mvc' gets when finished (one per channel).
    pub fn set_cube_psf_beams(&mut self, beams: Beams) {
        self.cube_psf_beams = beams;
    }

    /// The products whose planes another process may write straight into their tile files
    /// (`exec::direct`), with where their pixels lie: CASA products with direct tile I/O, less
    /// those whose planes this writer must see as they are written: `.pb` when it carries the
    /// pixel mask of the others ([`PB_MASKED`]), specmode='mvc''s cube products (their own
    /// spectral axis), and [`GRIDWT`] (read back when the products are finished). Planes written
    /// elsewhere miss the report's statistics: they are not gathered once this was asked.
    pub fn direct_layouts(&mut self) -> Vec<(&'static str, pclean_imageio::TileLayout)> {
        self.stats = None;
        let (pb_mask, cube) = (self.pb_mask, &self.cube);
        self.writers
            .iter()
            .filter(|(e, _)| *e != GRIDWT && !(cube.contains(e) || pb_mask && is_pb(e)))
            .filter_map(|(e, w)| w.tile_layout().map(|l| (*e, l)))
            .collect()
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

    /// Set the `miscinfo` entries of product `ext` (CASA: replaced; FITS: header cards added).
    pub fn set_misc(
        &mut self,
        ext: &str,
        misc: Vec<(String, pclean_imageio::MiscValue)>,
    ) -> Result<(), EngineError> {
        let w = self
            .writers
            .iter_mut()
            .find(|(e, _)| *e == ext)
            .ok_or_else(|| EngineError::internal(format!("no product '{ext}'")))?;
        w.1.set_misc(misc)
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
        if let Some(s) = self.stats.as_mut() {
            s.add(ext, chan, stokes, plane);
        }
        if self.pb_mask && is_pb(ext) {
            // `.pb` is zero at and below pblimit (`pb_limit_in_place`): the valid pixels are the rest.
            // (mvc: the `.pb` cube masks the cube products, `.pb.tt0` the Taylor terms.)
            let valid = plane.mapv(|v| v > 0.0);
            let group = self.in_cube(ext);
            let cube = &self.cube;
            for (e, w) in self.writers.iter_mut() {
                if pb_masked(e) && cube.contains(e) == group {
                    w.put_mask_plane(chan, stokes, valid.view())?;
                }
            }
        }
        Ok(())
    }

    /// FITS products: NaN in every plane of the [`PB_MASKED`] products where `.pb` is zero (at or
    /// below pblimit). Run once all planes are final (`.pb` itself last).
    fn blank_beyond_pb(&mut self) -> Result<(), EngineError> {
        self.blank_group_beyond_pb(false)?;
        if !self.cube.is_empty() {
            self.blank_group_beyond_pb(true)?;
        }
        Ok(())
    }

    /// [`Products::blank_beyond_pb`] of the image's products (`cube` false) or mvc's cube's.
    fn blank_group_beyond_pb(&mut self, cube: bool) -> Result<(), EngineError> {
        let [_, _, nstokes, nchan] = if cube { self.cube_shape } else { self.shape };
        let group: Vec<&'static str> = self
            .writers
            .iter()
            .map(|(e, _)| *e)
            .filter(|e| self.in_cube(e) == cube)
            .collect();
        let Some(pb_ext) = group.iter().copied().find(|e| is_pb(e)) else {
            return Ok(());
        };
        let masked: Vec<&'static str> = group.into_iter().filter(|e| pb_masked(e)).collect();
        for k in 0..nchan {
            for s in 0..nstokes {
                let pb = self.get(pb_ext, k, s)?;
                for &ext in &masked {
                    let Some((_, w)) = self.writers.iter_mut().find(|(e, _)| *e == ext) else {
                        continue;
                    };
                    let mut plane = if ext == pb_ext {
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
        let cube = self.cube;
        let cube_psf_beams = self.cube_psf_beams;
        for (ext, mut w) in self.writers {
            match ext {
                // mvc's cubes: only the `.psf` carries beams (tclean's `.residual` cube none).
                "psf" if cube.contains(&ext) => w.set_beams(&cube_psf_beams)?,
                e if cube.contains(&e) => {}
                "psf" | "residual" | "psf.tt0" => w.set_beams(fitted)?,
                "image" | "image.pbcor" | "alpha" | "alpha.error" | "beta" => {
                    w.set_beams(restoring)?
                }
                e if e.starts_with("image.tt") => w.set_beams(restoring)?,
                _ => {}
            }
            w.finish()?;
            paths.push(
                product_path(&self.imagename, ext, self.format)
                    .display()
                    .to_string(),
            );
        }
        if let Some(stats) = self.stats {
            stats.save(&self.imagename);
        }
        Ok(paths)
    }
}

/// The `.sumwt` image: one pixel per plane, covering the whole field.
/// [`GRIDWT`]'s coordinates (tclean's, measured): `c`'s (the mvc cube's) at its first Stokes
/// plane and first channel.
fn gridwt_coords(c: &ImageCoords) -> ImageCoords {
    let mut g = c.clone();
    g.stokes.truncate(1);
    g.spectral.nchan = 1;
    g.spectral.chan_freqs_hz = None;
    g
}

fn sumwt_coords(c: &ImageCoords) -> ImageCoords {
    let mut s = c.clone();
    s.nx = 1;
    s.ny = 1;
    s.crpix = [0.0, 0.0];
    s.cdelt_rad = [c.cdelt_rad[0] * c.nx as f64, c.cdelt_rad[1] * c.ny as f64];
    s
}

#[cfg(test)]
#[path = "set_tests.rs"]
mod tests;

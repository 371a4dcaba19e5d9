//! Pieces of a run between imaging and products: which products exist, per-plane outputs, beam
//! fits, the per-block deconvolution set-up, start models and restoration.

use crate::block::BlockInputs;
use crate::deconvolve::BlockSetup;
use crate::error::EngineError;
use crate::iteration::{IterationSettings, StopReason};
use crate::masking::{AutoMask, MaskKind, PlaneMasker};
use crate::products::{product_path, ProductWriter};
use ndarray::{Array2, ArrayView2};
use pclean_core::params::{ImageFormat, ImagingParams, UseMask};
use pclean_core::Beam;
use pclean_deconv::beamfit::fit_psf_beam;
use pclean_imageio::{Beams, CasaImage, ImageCoords, ImageMeta};

/// The products of this run, in writing order.
pub fn product_list(p: &ImagingParams) -> Vec<&'static str> {
    let mut v = vec!["psf", "residual", "image", "model", "pb", "sumwt", "weight"];
    let masked = match &p.deconv.usemask {
        UseMask::User { mask } => !mask.trim().is_empty(),
        _ => true,
    };
    if p.niter > 0 && masked {
        v.push("mask");
    }
    if p.deconv.pbcor {
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
                ProductWriter::reopen(&path, &meta, p.format, overwrite).map_err(|e| {
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
                let mut w = ProductWriter::create(&path, &meta, p.format, overwrite)?;
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

/// tclean's wording of a stop reason.
pub fn stop_text(s: StopReason) -> String {
    match s {
        StopReason::IterationLimit => "iteration limit (niter)",
        StopReason::Threshold => "threshold reached",
        StopReason::NoProgress => "no progress: peak residual unchanged",
        StopReason::Diverged => "diverging: peak residual rose above 3x its minimum",
        StopReason::ZeroMask => "zero mask",
        StopReason::NSigma => "n-sigma threshold reached",
        StopReason::NoData => "no unflagged data",
        StopReason::NMajor => "major cycle limit (nmajor)",
    }
    .to_string()
}

/// Fit the restoring beam of one PSF plane; a failed fit or an empty plane falls back to
/// `fallback` with a warning.
pub fn fit_beam(
    p: &ImagingParams,
    psf: &Array2<f32>,
    sumwt: f64,
    chan: usize,
    stokes: usize,
    note: &mut impl FnMut(String),
    fallback: Beam,
) -> Beam {
    if sumwt <= 0.0 {
        note(format!(
            "channel {chan} stokes {stokes}: no unflagged visibilities; the plane is zero"
        ));
        return fallback;
    }
    match fit_psf_beam(psf.view(), p.cell_x_rad, p.cell_y_rad, p.psfcutoff) {
        Ok(b) => b,
        Err(e) => {
            note(format!(
                "channel {chan} stokes {stokes}: restoring beam fit failed: {e}"
            ));
            fallback
        }
    }
}

/// tclean's iteration control from the validated parameters.
pub fn iteration_settings(p: &ImagingParams) -> IterationSettings {
    let d = &p.deconv;
    IterationSettings {
        niter: d.niter,
        gain: d.gain as f32,
        threshold: d.threshold_jy as f32,
        nsigma: d.nsigma as f32,
        cycleniter: d.cycleniter,
        cyclefactor: d.cyclefactor as f32,
        minpsffraction: d.minpsffraction as f32,
        maxpsffraction: d.maxpsffraction as f32,
        nmajor: d.nmajor,
    }
}

/// Deconvolvers, maskers and start models of the planes of block `chans`.
pub fn block_setup(
    p: &ImagingParams,
    chans: &std::ops::Range<usize>,
    inp: &BlockInputs,
    beams: &[Beam],
    start_models: Option<&[Array2<f32>]>,
    centre: &pclean_core::Direction,
) -> Result<BlockSetup, EngineError> {
    let nst = p.stokes.0.len();
    let d = &p.deconv;
    let scales: Vec<f32> = d.scales.iter().map(|s| *s as f32).collect();
    let mut deconvolvers = Vec::new();
    let mut maskers = Vec::new();
    let user_mask = match &d.usemask {
        UseMask::User { mask } if !mask.trim().is_empty() => {
            Some(crate::user_mask::load(p, centre, mask)?)
        }
        _ => None,
    };
    for k in chans.clone() {
        // Computed per channel and dropped once its masks exist.
        let pb = inp.pb(k);
        for s in 0..nst {
            let dec = pclean_deconv::factory::make_deconvolver(
                d.deconvolver.name(),
                &scales,
                d.smallscalebias as f32,
            )
            .map_err(|e| EngineError::param_source("deconvolver", "deconvolver", e))?;
            deconvolvers.push(dec);
            let lim = p.pblimit.abs() as f32;
            let stats = (lim > 0.0).then(|| pb.mapv(|v| v > lim));
            let kind = match &d.usemask {
                UseMask::User { .. } => match &user_mask {
                    Some(m) => MaskKind::Fixed(m.plane(k, s)),
                    None => MaskKind::Everywhere,
                },
                UseMask::Pb { pbmask } => {
                    MaskKind::Fixed(pclean_deconv::masks::pb_mask(pb.view(), *pbmask as f32))
                }
                UseMask::AutoMultiThresh(a) => MaskKind::Auto(Box::new(AutoMask::new(
                    a,
                    pb.clone(),
                    p.pblimit as f32,
                    p.cell_x_rad,
                    p.cell_y_rad,
                ))),
            };
            maskers.push(PlaneMasker::new(kind, stats));
        }
    }
    let start_models = start_models.map(|all| {
        chans
            .clone()
            .flat_map(|k| (0..nst).map(move |s| (k, s)))
            .map(|(k, s)| all[k * nst + s].clone())
            .collect()
    });
    Ok(BlockSetup {
        beams: beams.to_vec(),
        deconvolvers,
        maskers,
        start_models,
        residual_is_current: false,
    })
}

/// Read `startmodel` (a CASA image of the output's shape, Jy/pixel) into planes `k * nstokes + s`;
/// with `restart`, the existing `<imagename>.model` (if any) is the start model.
pub fn read_start_model(
    p: &ImagingParams,
    nchan: usize,
) -> Result<Option<Vec<Array2<f32>>>, EngineError> {
    if p.deconv.restart {
        let path = product_path(&p.imagename, "model", ImageFormat::Casa);
        if !path.exists() {
            return Ok(None);
        }
        return read_planes(
            p,
            &path.display().to_string(),
            "restart: existing model",
            nchan,
            false,
        )
        .map(Some);
    }
    let Some(path) = &p.deconv.startmodel else {
        return Ok(None);
    };
    read_planes(p, path, "startmodel", nchan, false).map(Some)
}

/// Planes `k * nstokes + s` of a CASA image of the run's shape (`single_pixel`: the `.sumwt` shape).
fn read_planes(
    p: &ImagingParams,
    path: &str,
    what: &str,
    nchan: usize,
    single_pixel: bool,
) -> Result<Vec<Array2<f32>>, EngineError> {
    if p.format != ImageFormat::Casa {
        return Err(EngineError::param(
            "format",
            format!("{what}: reusing products needs format='casa'"),
        ));
    }
    let mut img = CasaImage::open(path)
        .map_err(|e| EngineError::param_source("restart", format!("{what} '{path}'"), e))?;
    let nst = p.stokes.0.len();
    let want = if single_pixel {
        [1, 1, nst, nchan]
    } else {
        [p.nx, p.ny, nst, nchan]
    };
    let shape = img.shape();
    if shape != want {
        return Err(EngineError::param(
            "restart",
            format!(
            "{what} '{path}' has shape {shape:?} [nx, ny, nstokes, nchan]; this run needs {want:?}"
        ),
        ));
    }
    let mut v = Vec::with_capacity(nchan * nst);
    for k in 0..nchan {
        for s in 0..nst {
            v.push(img.get_plane(k, s)?);
        }
    }
    Ok(v)
}

/// Existing products reused instead of recomputed (`calcpsf=false`, `calcres=false`).
pub struct Reused {
    pub psf: Option<Vec<Array2<f32>>>,
    pub residual: Option<Vec<Array2<f32>>>,
    pub sumwt: Option<Vec<f64>>,
}

impl Reused {
    /// Read what the parameters say to reuse (before the products are rewritten).
    pub fn load(p: &ImagingParams, nchan: usize) -> Result<Self, EngineError> {
        let read = |ext: &str, what: &str, single: bool| {
            let path = product_path(&p.imagename, ext, ImageFormat::Casa)
                .display()
                .to_string();
            read_planes(p, &path, what, nchan, single)
        };
        let psf = (!p.deconv.calcpsf)
            .then(|| read("psf", "calcpsf=false", false))
            .transpose()?;
        let residual = (!p.deconv.calcres)
            .then(|| read("residual", "calcres=false", false))
            .transpose()?;
        let sumwt = (!p.deconv.calcres)
            .then(|| read("sumwt", "calcres=false", true))
            .transpose()?
            .map(|v| v.into_iter().map(|a| a[[0, 0]] as f64).collect());
        Ok(Reused {
            psf,
            residual,
            sumwt,
        })
    }
}

//! Existing images a run starts from: `startmodel` (or, with `restart`, the existing model) and
//! the products reused instead of recomputed (`calcpsf=false`, `calcres=false`).

use super::writer::product_path;
use crate::cycles::mtmfs::{MODEL, PSF, RESIDUAL, SUMWT};
use crate::error::EngineError;
use crate::plan::image_input::{InputImage, InputKind};
use crate::plan::SpectralPlan;
use ndarray::Array2;
use pclean_core::params::{Deconvolver, ImageFormat, ImagingParams};
use pclean_core::Direction;
use pclean_imageio::CasaImage;
use std::path::{Path, PathBuf};

/// The model a run starts from.
pub enum StartModel {
    /// `startmodel`: checked at set-up, each block reads (and regrids) only its own planes.
    Image(InputImage),
    /// `restart`: the existing `<imagename>.model`, checked at set-up; each block reads its own
    /// planes from the copy set aside before the run rewrites it ([`PlaneSource`]).
    Restart(PlaneSource),
    /// `restart` with `deconvolver='mtmfs'`: the existing `<imagename>.model.ttN`, one per Taylor
    /// term (the run's one mfs channel), read like [`StartModel::Restart`].
    TaylorRestart(Vec<PlaneSource>),
    /// `startmodel` with `deconvolver='mtmfs'`: one image per Taylor term (`None`: the term
    /// starts from 0), each checked and regridded as [`StartModel::Image`].
    TaylorImages(Vec<Option<InputImage>>),
}

impl StartModel {
    /// Planes `i * nstokes + s` of image channels `chans`.
    pub fn block(
        &self,
        chans: std::ops::Range<usize>,
        nstokes: usize,
        dim: (usize, usize),
    ) -> Result<Vec<Array2<f32>>, EngineError> {
        match self {
            StartModel::Image(img) => img.read_block(chans, dim),
            StartModel::Restart(src) => src.read(chans, nstokes),
            StartModel::TaylorRestart(srcs) => {
                let mut v = Vec::with_capacity(srcs.len());
                for src in srcs {
                    v.extend(src.read(chans.clone(), nstokes)?);
                }
                Ok(v)
            }
            StartModel::TaylorImages(imgs) => {
                let mut v = Vec::with_capacity(imgs.len());
                for img in imgs {
                    match img {
                        Some(img) => v.extend(img.read_block(chans.clone(), dim)?),
                        None => v.extend((0..chans.len() * nstokes).map(|_| Array2::zeros(dim))),
                    }
                }
                Ok(v)
            }
        }
    }

    /// The products copied aside before the run rewrites them (restart's models).
    pub fn sources(&self) -> &[PlaneSource] {
        match self {
            StartModel::Image(_) | StartModel::TaylorImages(_) => &[],
            StartModel::Restart(s) => std::slice::from_ref(s),
            StartModel::TaylorRestart(v) => v,
        }
    }
}

/// Suffix of the copy of a product a run reuses, set aside before the run rewrites the product.
const ASIDE: &str = "pclean-reuse";

/// An existing product a run reuses (`restart`'s model, `calcpsf=false`'s PSF, `calcres=false`'s
/// residual and sum of weights): its shape checked at set-up, its planes read per block, in the
/// process that runs the block (Dask workers included), from the copy the coordinator sets aside
/// ([`PlaneSource::set_aside`]) before it rewrites the product. Only one block's planes are ever
/// in memory: they are the block's own PSF, residual or model planes, which the memory model
/// counts per block.
#[derive(Debug, Clone)]
pub struct PlaneSource {
    /// The product's path (`<imagename>.<ext>`).
    path: PathBuf,
    /// What reuses it, for messages.
    what: &'static str,
    /// The image holds one value per plane (`.sumwt`).
    single_pixel: bool,
}

impl PlaneSource {
    /// The copy the blocks read.
    fn aside(&self) -> PathBuf {
        aside_of(&self.path)
    }

    /// Copy the product aside (replacing any copy a failed earlier run left), before the run
    /// rewrites it. Called once per run, by the coordinator.
    pub fn set_aside(&self) -> Result<(), EngineError> {
        let aside = self.aside();
        let io = |e: std::io::Error| {
            EngineError::param(
                "restart",
                format!(
                    "{}: cannot copy '{}' to '{}' before the run rewrites it: {e}",
                    self.what,
                    self.path.display(),
                    aside.display()
                ),
            )
        };
        if aside.exists() {
            std::fs::remove_dir_all(&aside).map_err(io)?;
        }
        copy_dir(&self.path, &aside).map_err(io)
    }

    /// A resumed run's copy (made by its first attempt): an error when it is missing.
    pub fn check_aside(&self) -> Result<(), EngineError> {
        let aside = self.aside();
        if aside.is_dir() {
            return Ok(());
        }
        Err(EngineError::param(
            "restart",
            format!(
                "{}: cannot resume: the copy '{}' of '{}' that the interrupted run set aside is \
                 missing (the product itself was already rewritten); run again with --overwrite \
                 from the products you want to reuse",
                self.what,
                aside.display(),
                self.path.display()
            ),
        ))
    }

    /// Remove the copy (after the run).
    pub fn remove_aside(&self) {
        let _ = std::fs::remove_dir_all(self.aside());
    }

    /// Planes `i * nstokes + s` of image channels `chans`, read from the copy set aside.
    pub fn read(
        &self,
        chans: std::ops::Range<usize>,
        nstokes: usize,
    ) -> Result<Vec<Array2<f32>>, EngineError> {
        let path = self.aside();
        let mut img = CasaImage::open(&path).map_err(|e| {
            EngineError::param_source(
                "restart",
                format!(
                    "{} '{}' (set aside from '{}')",
                    self.what,
                    path.display(),
                    self.path.display()
                ),
                e,
            )
        })?;
        let mut v = Vec::with_capacity(chans.len() * nstokes);
        for k in chans.clone() {
            for s in 0..nstokes {
                v.push(img.get_plane(k, s)?);
            }
        }
        tracing::debug!(
            planes = v.len(),
            "{}: read channels {}..{} of '{}'",
            self.what,
            chans.start,
            chans.end,
            path.display()
        );
        Ok(v)
    }
}

/// Copy directory `from` to `to` (a CASA image: a directory of table files).
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let dst = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &dst)?;
        } else {
            std::fs::copy(e.path(), dst)?;
        }
    }
    Ok(())
}

/// The copy of product `path` set aside for the blocks.
fn aside_of(path: &Path) -> PathBuf {
    let mut s = path.to_path_buf().into_os_string();
    s.push(format!(".{ASIDE}"));
    PathBuf::from(s)
}

/// `startmodel` (checked against the run's grid, read per block) or, with `restart`, the existing
/// `<imagename>.model` (if any; checked here, read per block).
pub fn read_start_model(
    p: &ImagingParams,
    centre: &Direction,
    plan: &SpectralPlan,
) -> Result<Option<StartModel>, EngineError> {
    let nchan = plan.nchan();
    if p.deconv.restart && p.deconv.deconvolver == Deconvolver::Mtmfs {
        return taylor_restart(p, nchan);
    }
    if p.deconv.restart {
        let path = product_path(&p.imagename, "model", ImageFormat::Casa);
        // No model, or (in a Dask worker) the model the coordinator is writing afresh because
        // there was none to continue from (no copy set aside): start from nothing.
        if !path.exists() || (pclean_imageio::is_incomplete(&path) && !aside_of(&path).is_dir()) {
            return Ok(None);
        }
        return check_product(p, path, "restart: existing model", nchan, false)
            .map(|s| Some(StartModel::Restart(s)));
    }
    let open = |path: &String| {
        InputImage::open(
            p,
            centre,
            &plan.freqs_hz,
            &plan.frame,
            path,
            InputKind::Model,
        )
    };
    let given = &p.deconv.startmodel;
    if given.is_empty() {
        return Ok(None);
    }
    if p.deconv.deconvolver != Deconvolver::Mtmfs {
        return open(&given[0]).map(|i| Some(StartModel::Image(i)));
    }
    // mtmfs: one image per Taylor term given (at most nterms, checked with the parameters); the
    // terms not given start from 0, as tclean's.
    let mut imgs = Vec::with_capacity(p.deconv.nterms);
    for t in 0..p.deconv.nterms {
        imgs.push(match given.get(t).filter(|s| !s.is_empty()) {
            Some(path) => Some(open(path)?),
            None => None,
        });
    }
    Ok(Some(StartModel::TaylorImages(imgs)))
}

/// `restart` with mtmfs: the existing `<imagename>.model.tt0 .. tt(nterms-1)`, each checked as a
/// single-term restart's model. None of them (or, in a Dask worker, none to continue from): start
/// from nothing, as a single-term restart. Only some of them (e.g. an nterms 2 run restarted with
/// nterms 3): refused, naming the missing term.
fn taylor_restart(p: &ImagingParams, nchan: usize) -> Result<Option<StartModel>, EngineError> {
    let paths: Vec<PathBuf> = MODEL[..p.deconv.nterms]
        .iter()
        .map(|ext| product_path(&p.imagename, ext, ImageFormat::Casa))
        .collect();
    let usable = |path: &PathBuf| {
        path.exists() && (!pclean_imageio::is_incomplete(path) || aside_of(path).is_dir())
    };
    if !paths.iter().any(usable) {
        return Ok(None);
    }
    if let Some(missing) = paths.iter().find(|path| !usable(path)) {
        return Err(EngineError::param(
            "restart",
            format!(
                "restart with deconvolver='mtmfs', nterms={}: '{}' is missing or incomplete while \
                 other Taylor models of '{}' exist; restart with the nterms of the earlier run, \
                 or start afresh (restart=false, overwrite=true)",
                p.deconv.nterms,
                missing.display(),
                p.imagename
            ),
        ));
    }
    paths
        .into_iter()
        .map(|path| check_product(p, path, "restart: existing Taylor model", nchan, false))
        .collect::<Result<Vec<_>, _>>()
        .map(|v| Some(StartModel::TaylorRestart(v)))
}

/// A CASA image of the run's shape (`single_pixel`: the `.sumwt` shape) to reuse: checked, not
/// read. A Dask worker's set-up runs after the coordinator has set the product aside and started
/// rewriting it (the product is then incomplete): it checks the copy set aside, which its blocks
/// read (tests/python/test_distributed.py::test_reused_products_under_dask_equal_local_run).
fn check_product(
    p: &ImagingParams,
    path: PathBuf,
    what: &'static str,
    nchan: usize,
    single_pixel: bool,
) -> Result<PlaneSource, EngineError> {
    if p.format != ImageFormat::Casa {
        return Err(EngineError::param(
            "format",
            format!("{what}: reusing products needs format='casa'"),
        ));
    }
    let src = PlaneSource {
        path,
        what,
        single_pixel,
    };
    let aside = src.aside();
    let path = if pclean_imageio::is_incomplete(&src.path) && aside.is_dir() {
        &aside
    } else {
        &src.path
    };
    let img = CasaImage::open(path).map_err(|e| {
        EngineError::param_source("restart", format!("{what} '{}'", path.display()), e)
    })?;
    let nst = p.stokes.0.len();
    let want = if src.single_pixel {
        [1, 1, nst, nchan]
    } else {
        [p.nx, p.ny, nst, nchan]
    };
    let shape = img.shape();
    if shape != want {
        return Err(EngineError::param(
            "restart",
            format!(
                "{what} '{}' has shape {shape:?} [nx, ny, nstokes, nchan]; this run needs {want:?}",
                path.display()
            ),
        ));
    }
    Ok(src)
}

/// Existing products reused instead of recomputed (`calcpsf=false`, `calcres=false`): checked at
/// set-up, read per block ([`PlaneSource`]). One product per field, or with `deconvolver='mtmfs'`
/// one per Taylor term: `.psf.ttN` and `.sumwt.ttN` (`2 nterms - 1`) with calcpsf=false,
/// `.residual.ttN` (`nterms`) with calcres=false (tclean reuses the same products: an mtmfs run
/// continued with calcpsf=false, calcres=false equals the uninterrupted run exactly).
pub struct Reused {
    pub psf: Vec<PlaneSource>,
    pub residual: Vec<PlaneSource>,
    pub sumwt: Vec<PlaneSource>,
}

/// One block's reused planes (`i * nstokes + s`), each taken once.
pub struct ReusedBlock {
    pub psf: Option<Vec<Option<Array2<f32>>>>,
    pub residual: Option<Vec<Option<Array2<f32>>>>,
    pub sumwt: Option<Vec<f64>>,
}

/// An mtmfs plane's reused Taylor terms.
pub struct ReusedTerms {
    /// calcpsf=false: the PSF terms and their sums of weights.
    pub psfs: Option<(Vec<Array2<f32>>, Vec<f64>)>,
    /// calcres=false: the residual terms.
    pub residuals: Option<Vec<Array2<f32>>>,
}

impl Reused {
    /// Check what the parameters say to reuse (before the products are rewritten).
    pub fn load(p: &ImagingParams, nchan: usize) -> Result<Self, EngineError> {
        let check = |ext: &str, what: &'static str, single: bool| {
            check_product(
                p,
                product_path(&p.imagename, ext, ImageFormat::Casa),
                what,
                nchan,
                single,
            )
        };
        let all = |exts: &[&str], what, single| -> Result<Vec<PlaneSource>, EngineError> {
            exts.iter().map(|e| check(e, what, single)).collect()
        };
        let d = &p.deconv;
        let n = d.nterms;
        let (psf, residual, sumwt): (&[&str], &[&str], &[&str]) = match d.deconvolver {
            Deconvolver::Mtmfs => (
                &PSF[..2 * n - 1],
                &RESIDUAL[..n],
                if d.calcpsf { &[] } else { &SUMWT[..2 * n - 1] },
            ),
            _ => (
                &["psf"],
                &["residual"],
                if d.calcres { &[] } else { &["sumwt"] },
            ),
        };
        Ok(Reused {
            psf: if d.calcpsf {
                Vec::new()
            } else {
                all(psf, "calcpsf=false", false)?
            },
            residual: if d.calcres {
                Vec::new()
            } else {
                all(residual, "calcres=false", false)?
            },
            sumwt: all(
                sumwt,
                if d.calcpsf {
                    "calcres=false"
                } else {
                    "calcpsf=false"
                },
                true,
            )?,
        })
    }

    /// Every product reused.
    pub fn sources(&self) -> impl Iterator<Item = &PlaneSource> {
        self.psf.iter().chain(&self.residual).chain(&self.sumwt)
    }

    /// The planes of image channels `chans` (one product per field).
    pub fn block(
        &self,
        chans: std::ops::Range<usize>,
        nstokes: usize,
    ) -> Result<ReusedBlock, EngineError> {
        let planes = |s: &[PlaneSource]| -> Result<_, EngineError> {
            s.first()
                .map(|s| s.read(chans.clone(), nstokes))
                .transpose()
                .map(|v| v.map(|v| v.into_iter().map(Some).collect()))
        };
        Ok(ReusedBlock {
            psf: planes(&self.psf)?,
            residual: planes(&self.residual)?,
            sumwt: self
                .sumwt
                .first()
                .map(|s| s.read(chans.clone(), nstokes))
                .transpose()?
                .map(|v| v.into_iter().map(|a| a[[0, 0]] as f64).collect()),
        })
    }

    /// mtmfs: the Taylor terms of the one mfs plane (`chans` is `0..1`, one Stokes).
    pub fn terms(&self, chans: std::ops::Range<usize>) -> Result<ReusedTerms, EngineError> {
        let read = |s: &PlaneSource| -> Result<Array2<f32>, EngineError> {
            s.read(chans.clone(), 1)?
                .pop()
                .ok_or_else(|| EngineError::internal("a reused Taylor product without its plane"))
        };
        let psfs = if self.psf.is_empty() {
            None
        } else {
            let psfs = self.psf.iter().map(read).collect::<Result<Vec<_>, _>>()?;
            let sumwt = self
                .sumwt
                .iter()
                .map(|s| read(s).map(|a| a[[0, 0]] as f64))
                .collect::<Result<Vec<_>, _>>()?;
            Some((psfs, sumwt))
        };
        let residuals = if self.residual.is_empty() {
            None
        } else {
            Some(
                self.residual
                    .iter()
                    .map(read)
                    .collect::<Result<Vec<_>, _>>()?,
            )
        };
        Ok(ReusedTerms { psfs, residuals })
    }
}

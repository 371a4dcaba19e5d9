//! Existing images a run starts from: `startmodel` (or, with `restart`, the existing model) and
//! the products reused instead of recomputed (`calcpsf=false`, `calcres=false`).

use super::writer::product_path;
use crate::error::EngineError;
use crate::plan::image_input::{InputImage, InputKind};
use crate::plan::SpectralPlan;
use ndarray::Array2;
use pclean_core::params::{ImageFormat, ImagingParams};
use pclean_core::Direction;
use pclean_imageio::CasaImage;

/// The model a run starts from.
pub enum StartModel {
    /// `startmodel`: checked at set-up, each block reads (and regrids) only its own planes.
    Image(InputImage),
    /// `restart`: the existing `<imagename>.model`, read whole at set-up because the run rewrites
    /// it (`Setup::resident_bytes` counts it against the memory budget).
    Loaded(Vec<Array2<f32>>),
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
            StartModel::Loaded(all) => Ok(chans
                .flat_map(|k| (0..nstokes).map(move |s| k * nstokes + s))
                .map(|i| all[i].clone())
                .collect()),
        }
    }

    /// Bytes held for the whole run.
    pub fn resident_bytes(&self) -> u64 {
        match self {
            StartModel::Image(_) => 0,
            StartModel::Loaded(v) => v.iter().map(|a| 4 * a.len() as u64).sum(),
        }
    }
}

/// `startmodel` (checked against the run's grid, read per block) or, with `restart`, the existing
/// `<imagename>.model` (if any).
pub fn read_start_model(
    p: &ImagingParams,
    centre: &Direction,
    plan: &SpectralPlan,
) -> Result<Option<StartModel>, EngineError> {
    let nchan = plan.nchan();
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
        .map(|v| Some(StartModel::Loaded(v)));
    }
    let Some(path) = &p.deconv.startmodel else {
        return Ok(None);
    };
    InputImage::open(
        p,
        centre,
        &plan.freqs_hz,
        &plan.frame,
        path,
        InputKind::Model,
    )
    .map(|i| Some(StartModel::Image(i)))
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

/// Existing products reused instead of recomputed (`calcpsf=false`, `calcres=false`), read whole
/// at set-up because the run rewrites them (`Setup::resident_bytes` counts them).
pub struct Reused {
    pub psf: Option<Vec<Array2<f32>>>,
    pub residual: Option<Vec<Array2<f32>>>,
    pub sumwt: Option<Vec<f64>>,
}

impl Reused {
    /// Bytes held for the whole run.
    pub fn resident_bytes(&self) -> u64 {
        let planes = |v: &Option<Vec<Array2<f32>>>| {
            v.iter().flatten().map(|a| 4 * a.len() as u64).sum::<u64>()
        };
        planes(&self.psf) + planes(&self.residual)
    }

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

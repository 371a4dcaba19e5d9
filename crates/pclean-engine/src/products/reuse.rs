//! Existing images a run starts from: `startmodel` (or, with `restart`, the existing model) and
//! the products reused instead of recomputed (`calcpsf=false`, `calcres=false`).

use super::writer::product_path;
use crate::error::EngineError;
use ndarray::Array2;
use pclean_core::params::{ImageFormat, ImagingParams};
use pclean_imageio::CasaImage;

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

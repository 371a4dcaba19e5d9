//! usemask='user': a mask image (CASA image, non-zero = clean) or CASA region text/file. Opened
//! and checked at set-up (region syntax, the mask image's grid, spectral axis, Stokes and units),
//! before any visibility is gridded; a mask image's planes are read per block.

use crate::error::EngineError;
use crate::plan::image_input::{InputImage, InputKind};
use crate::plan::SpectralPlan;
use ndarray::Array2;
use pclean_core::params::{ImagingParams, UseMask};

/// A user mask: an image read per block, or a rasterised region per Stokes plane.
pub enum UserMask {
    /// A mask image, regridded to the run's grid as tclean does.
    Image(InputImage),
    /// A rasterised region per image Stokes plane (CRTF `corr=` limits a region to some).
    Region(Vec<Array2<bool>>),
}

impl UserMask {
    /// Masks `i * nstokes + s` of image channels `chans`.
    pub fn block(
        &self,
        chans: std::ops::Range<usize>,
        nstokes: usize,
        dim: (usize, usize),
    ) -> Result<Vec<Array2<bool>>, EngineError> {
        match self {
            UserMask::Region(per_stokes) => Ok(chans
                .flat_map(|_| (0..nstokes).map(|s| per_stokes[s].clone()))
                .collect()),
            UserMask::Image(img) => Ok(img
                .read_block(chans, dim)?
                .into_iter()
                .map(|p| p.mapv(|v| v != 0.0))
                .collect()),
        }
    }
}

/// The run's user mask, if any: `mask` names an existing CASA image directory or FITS image, a
/// region file, or holds region text.
pub fn open(
    p: &ImagingParams,
    centre: &pclean_core::Direction,
    plan: &SpectralPlan,
) -> Result<Option<UserMask>, EngineError> {
    let UseMask::User { mask, .. } = &p.deconv.usemask else {
        return Ok(None);
    };
    if mask.trim().is_empty() {
        return Ok(None);
    }
    let path = std::path::Path::new(mask.trim());
    if path.join("table.dat").is_file() || pclean_imageio::is_fits_file(path) {
        return InputImage::open(
            p,
            centre,
            &plan.freqs_hz,
            &plan.frame,
            mask.trim(),
            InputKind::Mask,
        )
        .map(|i| Some(UserMask::Image(i)));
    }
    let geom = pclean_deconv::regions::SkyGeometry::for_image(
        *centre,
        p.nx,
        p.ny,
        p.cell_x_rad,
        p.cell_y_rad,
    );
    let names: Vec<&str> = p.stokes.0.iter().map(|s| s.name()).collect();
    let planes =
        pclean_deconv::regions::region_masks_per_stokes(mask, Some(&geom), (p.ny, p.nx), &names)
            .map_err(|e| EngineError::param_source("mask", "mask", e))?;
    Ok(Some(UserMask::Region(planes)))
}

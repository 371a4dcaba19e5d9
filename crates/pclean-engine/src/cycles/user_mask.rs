//! usemask='user': a mask image (CASA image, non-zero = clean) or CASA region text/file.

use crate::error::EngineError;
use ndarray::Array2;
use pclean_core::params::ImagingParams;
use pclean_imageio::CasaImage;

/// A user mask, per plane or one plane for all.
pub enum UserMask {
    /// A mask image with one plane per (channel, Stokes) — or one plane used everywhere.
    Image {
        planes: Vec<Array2<bool>>,
        nchan: usize,
        nst: usize,
    },
    /// A rasterised region: the same on every plane.
    Region(Array2<bool>),
}

impl UserMask {
    pub fn plane(&self, chan: usize, stokes: usize) -> Array2<bool> {
        match self {
            UserMask::Region(m) => m.clone(),
            UserMask::Image { planes, nchan, nst } => {
                let c = if *nchan == 1 { 0 } else { chan };
                let s = if *nst == 1 { 0 } else { stokes };
                planes[c * nst + s].clone()
            }
        }
    }
}

/// Load `mask`: an existing CASA image directory, a region file, or region text.
pub fn load(
    p: &ImagingParams,
    centre: &pclean_core::Direction,
    mask: &str,
) -> Result<UserMask, EngineError> {
    let path = std::path::Path::new(mask);
    if path.join("table.dat").is_file() {
        let mut img = CasaImage::open(path)
            .map_err(|e| EngineError::param_source("mask", format!("mask '{mask}'"), e))?;
        let [nx, ny, nst, nchan] = img.shape();
        if nx != p.nx || ny != p.ny {
            return Err(EngineError::param(
                "mask",
                format!(
                    "mask '{mask}' is {nx}x{ny} pixels; the image is {}x{}",
                    p.nx, p.ny
                ),
            ));
        }
        let mut planes = Vec::with_capacity(nchan * nst);
        for c in 0..nchan {
            for s in 0..nst {
                planes.push(img.get_plane(c, s)?.mapv(|v| v != 0.0));
            }
        }
        return Ok(UserMask::Image { planes, nchan, nst });
    }
    let geom = pclean_deconv::regions::SkyGeometry::for_image(
        *centre,
        p.nx,
        p.ny,
        p.cell_x_rad,
        p.cell_y_rad,
    );
    let region = pclean_deconv::regions::region_mask(mask, Some(&geom), (p.ny, p.nx))
        .map_err(|e| EngineError::param_source("mask", "mask", e))?;
    Ok(UserMask::Region(region))
}

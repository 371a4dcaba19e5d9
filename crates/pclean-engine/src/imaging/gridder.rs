//! The gridder choice: which gridder images this run's planes, with what kernel.

use crate::error::EngineError;
use pclean_core::params::ImagingParams;
use pclean_grid::gridder::{GridSpec, Gridder, GridderOptions};
use pclean_grid::seam::{StandardGridder, VisGridder};

/// Build the gridder for the image geometry and accuracy, for about `nvis_per_chan` visibilities
/// per image plane.
pub fn make_gridder(params: &ImagingParams, nvis_per_chan: usize) -> Result<Gridder, EngineError> {
    gridder_for(
        GridSpec {
            nx: params.nx,
            ny: params.ny,
            cell_x_rad: params.cell_x_rad,
            cell_y_rad: params.cell_y_rad,
            epsilon: params.epsilon,
        },
        nvis_per_chan,
    )
}

/// The gridder the engine uses (also for the memory estimate): the kernel (support,
/// oversampling) that reaches `epsilon` at the least cost for the number of visibilities per
/// plane, so a large image with few visibilities gets the least oversampling (the smallest grid).
pub fn gridder_for(spec: GridSpec, nvis_per_chan: usize) -> Result<Gridder, EngineError> {
    Gridder::with_options(
        spec,
        GridderOptions {
            nvis_hint: Some(nvis_per_chan.max(1)),
            ..Default::default()
        },
    )
    .map_err(EngineError::Grid)
}

/// The gridder the imaging stage calls, through the seam: `gridder='standard'` is the 2-D ES
/// gridder (w ignored), its calls run on `nthreads` threads. New gridders (w-gridding, mosaics,
/// Taylor terms) are chosen here.
pub fn vis_gridder(gridder: &Gridder, nthreads: usize) -> Box<dyn VisGridder> {
    Box::new(StandardGridder::new(gridder.clone(), nthreads))
}

//! The coordinates of a run's products, as tclean writes them.

use crate::plan::SpectralPlan;
use pclean_core::params::ImagingParams;
use pclean_core::Direction;
use pclean_imageio::{ImageCoords, SpectralAxis};

/// The image coordinates of the products (direction, Stokes, spectral axis, observation info).
pub fn image_coords(
    params: &ImagingParams,
    plan: &SpectralPlan,
    centre: &Direction,
    meta: &pclean_ms::MsMeta,
) -> ImageCoords {
    let crval = plan.freqs_hz[0];
    let restfreq = params
        .restfreq_hz
        .or(plan.default_restfreq_hz)
        .unwrap_or(plan.freqs_hz[plan.nchan() / 2]);
    ImageCoords {
        nx: params.nx,
        ny: params.ny,
        reference: *centre,
        crpix: [(params.nx / 2) as f64, (params.ny / 2) as f64],
        cdelt_rad: [-params.cell_x_rad, params.cell_y_rad],
        projection: "SIN".into(),
        stokes: params.stokes.0.clone(),
        spectral: SpectralAxis {
            frame: plan.frame.clone(),
            crval_hz: crval,
            cdelt_hz: plan.cdelt_hz,
            crpix: 0.0,
            restfreq_hz: restfreq,
            nchan: plan.nchan(),
            chan_freqs_hz: (!plan.is_linear()).then(|| plan.freqs_hz.clone()),
        },
        telescope: meta.observatory.name.clone(),
        observer: meta
            .observations
            .first()
            .map(|o| o.observer.clone())
            .unwrap_or_default(),
        obsdate_mjd_utc_days: meta.time_range_mjd_s.0 / 86400.0,
        telescope_position_itrf_m: Some(meta.observatory.position_itrf_m),
    }
}

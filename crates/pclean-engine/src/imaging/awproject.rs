//! The awproject gridder of a run (`gridder='awproject'`): the parallactic angle of every
//! selected integration, tclean's A-term bins (`computepastep`, `rotatepastep`), and the
//! A-stacking gridder over them (`pclean_grid::awproj::gridder`). Its images are normalised by
//! the weight image as a mosaic's (`super::mosaic`: `normtype`, `.pb`, `.weight`).

use super::gridder::RunGridder;
use crate::error::EngineError;
use crate::source::Source;
use pclean_core::direction::SkyContext;
use pclean_core::params::ImagingParams;
use pclean_grid::awproj::band_geometry;
use pclean_grid::awproj::gridder::{AwGridder, AwInner};
use pclean_grid::awproj::pa::{bin_parallactic_angles, parallactic_angle};

/// The widest fractional mfs band accepted with `wbawp=True`: the beam's width scales with
/// 1/frequency, so across 2% of band it changes by at most ~1% of the beam at half power, the
/// issue's bound, and the beam at the image frequency stands for every channel's.
const WBAWP_MAX_FRACTION: f64 = 0.02;

/// The A-stacking gridder for `sources` (one MS, one field), its bins' rows gridded by `base`
/// (the ES gridder, or the w-gridder with `wprojplanes` other than 1), the beams at `freq_hz`.
pub fn aw_gridder(
    params: &ImagingParams,
    base: RunGridder,
    sources: &[Source],
    sky: &SkyContext,
    freq_hz: f64,
) -> Result<AwGridder, EngineError> {
    if sources.len() > 1 {
        return Err(EngineError::param(
            "vis",
            "gridder='awproject' with several MeasurementSets is not supported by pclean yet; \
             concatenate them (CASA's concat) or image one MS",
        ));
    }
    let src = &sources[0];
    let meta = src.ms.meta();
    let fields = &src.selected.field_ids;
    if fields.len() > 1 {
        return Err(EngineError::param(
            "field",
            format!(
                "gridder='awproject' with {} fields (a mosaic with A-projection) is not \
                 supported by pclean yet; select one field, or use gridder='mosaic'",
                fields.len()
            ),
        ));
    }
    let freqs = src
        .selected
        .groups
        .iter()
        .flat_map(|g| g.chan_freq_hz.iter().copied());
    let (lo, hi) = freqs.fold((f64::MAX, 0.0f64), |(l, h), f| (l.min(f), h.max(f)));
    let mfs = params.specmode == pclean_core::params::SpecMode::Mfs;
    if params.awproject.wbawp && mfs && hi > lo && (hi - lo) / freq_hz > WBAWP_MAX_FRACTION {
        return Err(EngineError::param(
            "wbawp",
            format!(
                "wbawp=True with an mfs band of {:.1}% (A-terms per data channel) is not \
                 supported by pclean yet (its beams are evaluated at the image frequency); use \
                 wbawp=False (tclean's reference-frequency A-term) or a cube",
                100.0 * (hi - lo) / freq_hz
            ),
        ));
    }
    let telescope = meta.observatory.name.as_str();
    let geom = band_geometry(telescope, freq_hz).ok_or_else(|| {
        EngineError::param(
            "gridder",
            format!(
                "gridder='awproject' has aperture models for the VLA/EVLA only (as CASA's); \
                 telescope '{telescope}' at {:.4} GHz has none",
                freq_hz / 1e9
            ),
        )
    })?;
    let inner = match base {
        RunGridder::Es(g) => AwInner::Es(g),
        RunGridder::W(g) => AwInner::W(g),
        _ => {
            return Err(EngineError::param(
                "kernel",
                "gridder='awproject' uses kernel='es'",
            ))
        }
    };
    let field = fields
        .first()
        .and_then(|f| meta.fields.get(*f))
        .ok_or_else(|| EngineError::internal("awproject: no selected field"))?;
    // The antennas' mean position: tclean's angle is the mean of the antennas' feed angles.
    let ants: Vec<_> = meta.antennas.iter().filter(|a| !a.flag_row).collect();
    let mut itrf = [0.0; 3];
    for a in &ants {
        for (k, x) in itrf.iter_mut().enumerate() {
            *x += a.position_itrf_m[k] / ants.len().max(1) as f64;
        }
    }
    let mut times: Vec<f64> = src
        .selected
        .groups
        .iter()
        .flat_map(|g| g.epochs.iter().map(|(t, _)| *t))
        .collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    let pas = times
        .iter()
        .map(|t| parallactic_angle(&field.phase_dir, *t, itrf, sky.dut1_s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            EngineError::param(
                "gridder",
                format!(
                    "awproject: the parallactic angle of field '{}': {e}",
                    field.name
                ),
            )
        })?;
    let aw = &params.awproject;
    let bins = bin_parallactic_angles(&pas, aw.bin_step_deg().to_radians());
    let counts = bins.counts();
    tracing::info!(
        "gridder awproject: {} parallactic-angle bins (computepastep {} deg, rotatepastep {} \
         deg; A-term of the {telescope} at {:.4} GHz, ray-traced aperture): angles {} deg, \
         integrations per bin {:?}",
        bins.pa_rad.len(),
        aw.computepastep_deg,
        aw.rotatepastep_deg,
        freq_hz / 1e9,
        bins.pa_rad
            .iter()
            .map(|p| format!("{:.3}", p.to_degrees()))
            .collect::<Vec<_>>()
            .join(", "),
        counts
    );
    if !aw.cfcache.trim().is_empty() {
        tracing::info!(
            "cfcache '{}': pclean computes its beams at run time (image-domain A-stacking) and \
             neither reads nor writes convolution functions there",
            aw.cfcache
        );
    }
    tracing::info!(
        "awproject: wbawp={} (the A-term at each image plane's frequency), conjbeams={} (used by \
         wideband A-projection only: no effect here), psterm=False, aterm=True",
        aw.wbawp,
        aw.conjbeams
    );
    let time_bin = times
        .iter()
        .copied()
        .zip(bins.bin_of.iter().copied())
        .collect();
    let g = AwGridder::new(inner, 0, geom, bins.pa_rad, time_bin, freq_hz)
        .map_err(EngineError::Grid)?;
    tracing::info!(
        "awproject: tclean's convolution-function sum over the sub-cell phases, mean {:.4} \
         (per bin: the flux scale of tclean's awproject images, applied per visibility)",
        g.kernel_sum_means().iter().sum::<f64>() / g.nbins().max(1) as f64
    );
    Ok(g)
}

//! The gridder choice: which gridder images this run's planes, with what kernel.

use crate::error::EngineError;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use num_complex::Complex32;
use pclean_core::params::{GridKernel, Gridder as GridderChoice, ImagingParams};
use pclean_grid::awproj::gridder::AwGridder;
use pclean_grid::casa::spheroidal::DEFAULT_PADDING;
use pclean_grid::gridder::{GridError, GridSpec, GridStats, Gridder, GridderOptions};
use pclean_grid::seam::{StandardGridder, VisBatch, VisGridder};
use pclean_grid::wgrid::{precision_for, WGridder};
use pclean_grid::{CasaGridder, MosaicGridder};

/// The gridder of a run: `gridder='standard'` with the ES kernel at `epsilon` (`kernel='es'`,
/// the default) or with tclean's own kernel, padding and arithmetic (`kernel='casa'`).
#[derive(Clone, Debug)]
pub enum RunGridder {
    /// The 2-D ES gridder.
    Es(Gridder),
    /// tclean's standard gridder reproduced.
    Casa(CasaGridder),
    /// tclean's `mosaic` gridder: the ES gridder per pointing with its primary beam
    /// (`super::mosaic`).
    Mosaic(MosaicGridder),
    /// `wproject` / `widefield`: the ES kernel also in w (w-stacking).
    W(WGridder),
    /// `awproject`: A-stacking over parallactic-angle bins (`super::awproject`).
    Aw(AwGridder),
}

impl RunGridder {
    /// The uv grid shape `(nv, nu)` of one plane.
    pub fn grid_shape(&self) -> (usize, usize) {
        match self {
            RunGridder::Es(g) => g.grid_shape(),
            RunGridder::Casa(g) => g.grid_shape(),
            RunGridder::Mosaic(m) => m.gridder().grid_shape(),
            RunGridder::W(g) => g.base().grid_shape(),
            RunGridder::Aw(g) => g.inner().base().grid_shape(),
        }
    }

    /// Bytes per uv grid cell (8: single, 16: double precision).
    pub fn bytes_per_cell(&self) -> usize {
        match self {
            RunGridder::Es(g) => g.precision().bytes_per_cell(),
            RunGridder::Casa(_) => 16,
            RunGridder::Mosaic(m) => m.gridder().precision().bytes_per_cell(),
            RunGridder::W(g) => g.base().precision().bytes_per_cell(),
            RunGridder::Aw(g) => g.inner().base().precision().bytes_per_cell(),
        }
    }

    /// Grids of a residual pass or a model: a mosaic's pointings, awproject's parallactic-angle
    /// bins, else 1.
    pub fn pointings(&self) -> usize {
        match self {
            RunGridder::Mosaic(m) => m.pointings().len().max(1),
            RunGridder::Aw(g) => g.nsets().max(1),
            _ => 1,
        }
    }

    /// Grids per pointing: a wideband mfs mosaic's beam frequencies
    /// (`MosaicGridder::with_beam_frequencies`), else 1.
    pub fn beam_bands(&self) -> usize {
        match self {
            RunGridder::Mosaic(m) => m.nbands().max(1),
            _ => 1,
        }
    }

    /// Kernel support in cells.
    pub fn kernel_support(&self) -> usize {
        match self {
            RunGridder::Es(g) => g.kernel_support(),
            RunGridder::Casa(g) => g.kernel_support(),
            RunGridder::Mosaic(m) => m.gridder().kernel_support(),
            RunGridder::W(g) => g.base().kernel_support(),
            RunGridder::Aw(g) => g.inner().base().kernel_support(),
        }
    }

    /// uv grids per plane set: the w planes of `wproject`/`widefield`, else 1.
    pub fn grid_planes(&self) -> usize {
        match self {
            RunGridder::W(g) => g.nplanes(),
            RunGridder::Aw(g) => g.inner().grid_planes(),
            _ => 1,
        }
    }

    /// Grid size over image size (the ES kernel's oversampling, tclean's padding).
    pub fn oversampling(&self) -> f64 {
        match self {
            RunGridder::Es(g) => g.oversampling(),
            RunGridder::Casa(g) => g.oversampling(),
            RunGridder::Mosaic(m) => m.gridder().oversampling(),
            RunGridder::W(g) => g.base().oversampling(),
            RunGridder::Aw(g) => g.inner().base().oversampling(),
        }
    }

    /// The kernel's name (`es` or `casa`).
    pub fn kernel(&self) -> GridKernel {
        match self {
            RunGridder::Es(_) | RunGridder::Mosaic(_) => GridKernel::Es,
            RunGridder::Casa(_) => GridKernel::Casa,
            RunGridder::W(_) | RunGridder::Aw(_) => GridKernel::Es,
        }
    }

    /// Predict the visibilities of `image_yx` (`(ny, nx)`, Jy/pixel) at `uvw_m` (`(nrow, 3)`,
    /// metres) and `freq_hz` into `vis_rc` (`(nrow, nchan)`, overwritten): MODEL_DATA. The ES
    /// gridder predicts from the `f64` image; tclean's gridder from its single-precision model,
    /// as tclean.
    pub fn image_to_vis(
        &self,
        image_yx: ArrayView2<f64>,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        vis_rc: ArrayViewMut2<Complex32>,
        nthreads: usize,
    ) -> Result<GridStats, GridError> {
        match self {
            RunGridder::Es(g) => g.image_to_vis(image_yx, uvw_m, freq_hz, None, vis_rc, nthreads),
            // Refused up front (`Setup::open`): MODEL_DATA needs each row's pointing.
            RunGridder::Mosaic(_) | RunGridder::Aw(_) => Err(GridError::PlaneCount {
                expected: 0,
                got: 1,
            }),
            // Through the seam, from the single-precision model, as tclean.
            RunGridder::Casa(_) | RunGridder::W(_) => {
                let g = self.vis_gridder(nthreads);
                let model = image_yx.mapv(|v| v as f32);
                let planes = g.model_planes(&[model.view()])?;
                let all = Array2::from_elem(vis_rc.dim(), 1.0f32);
                let batch = VisBatch::new(uvw_m.view(), freq_hz, all.view());
                g.predict(&planes, &batch, vis_rc)
            }
        }
    }

    /// The gridder the imaging stage calls, through the seam, its calls on `nthreads` threads.
    /// New gridders (w-gridding, mosaics, Taylor terms) are chosen here.
    pub fn vis_gridder(&self, nthreads: usize) -> Box<dyn VisGridder> {
        match self {
            RunGridder::Es(g) => {
                let standard = StandardGridder::new(g.clone(), nthreads);
                // Grid only what tclean's standard gridder reaches (its padded grid, footprint
                // on the grid): tclean drops the rest after weighting, so they are not in its
                // images nor its .sumwt (uniform weighting of vla_wideband_small: .sumwt 2182
                // -> tclean's 2154). The ES grid itself reaches further. A geometry tclean's
                // grid cannot hold (CasaGridder::new fails: over 54 000 pixels a side) keeps
                // every sample.
                let spec = g.spec();
                match CasaGridder::new(
                    spec.nx,
                    spec.ny,
                    spec.cell_x_rad,
                    spec.cell_y_rad,
                    DEFAULT_PADDING,
                    nthreads,
                ) {
                    Ok(reach) => Box::new(standard.with_tclean_reach(reach)),
                    Err(_) => Box::new(standard),
                }
            }
            RunGridder::Casa(g) => Box::new(g.with_threads(nthreads)),
            RunGridder::Mosaic(m) => Box::new(m.with_threads(nthreads)),
            RunGridder::W(g) => Box::new(g.with_threads(nthreads)),
            RunGridder::Aw(g) => Box::new(g.with_threads(nthreads)),
        }
    }
}

/// Build the gridder for the image geometry, kernel and accuracy, for about `nvis_per_chan`
/// visibilities per image plane and baselines with `|w| <= wmax_lambda` wavelengths (read by the
/// w-correcting gridders only; [`max_w_lambda`]).
pub fn make_gridder(
    params: &ImagingParams,
    nvis_per_chan: usize,
    wmax_lambda: f64,
) -> Result<RunGridder, EngineError> {
    let spec = GridSpec {
        nx: params.nx,
        ny: params.ny,
        cell_x_rad: params.cell_x_rad,
        cell_y_rad: params.cell_y_rad,
        epsilon: params.epsilon,
    };
    let w_term = match params.gridder {
        GridderChoice::WProject | GridderChoice::WideField => true,
        // tclean's awproject with wprojplanes=1 has no w-term.
        GridderChoice::AwProject => params.wprojplanes != Some(1),
        _ => false,
    };
    if w_term {
        return w_gridder(params, spec, nvis_per_chan, wmax_lambda).map(RunGridder::W);
    }
    match params.kernel {
        GridKernel::Es => gridder_for(spec, nvis_per_chan).map(RunGridder::Es),
        GridKernel::Casa => CasaGridder::new(
            spec.nx,
            spec.ny,
            spec.cell_x_rad,
            spec.cell_y_rad,
            DEFAULT_PADDING,
            0,
        )
        .map(RunGridder::Casa)
        .map_err(EngineError::Grid),
    }
}

/// The ES gridder the engine uses (also for the memory estimate): the kernel (support,
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

/// The w-gridder of `wproject` / `widefield` (`kernel='es'` only): the ES gridder for the
/// geometry, in double precision below [`pclean_grid::wgrid::W_SINGLE_PRECISION_MIN_EPSILON`],
/// with at least `wprojplanes` w planes.
fn w_gridder(
    params: &ImagingParams,
    spec: GridSpec,
    nvis_per_chan: usize,
    wmax_lambda: f64,
) -> Result<WGridder, EngineError> {
    let name = params.gridder.name();
    if params.kernel != GridKernel::Es {
        return Err(EngineError::param(
            "kernel",
            format!(
                "kernel='{}' with gridder='{name}': the w-correction uses the ES kernel; use \
                 kernel='es'",
                params.kernel.name()
            ),
        ));
    }
    let base = Gridder::with_options(
        spec,
        GridderOptions {
            nvis_hint: Some(nvis_per_chan.max(1)),
            precision: Some(precision_for(spec.epsilon)),
            ..Default::default()
        },
    )
    .map_err(EngineError::Grid)?;
    let g = WGridder::new(base, wmax_lambda, params.wprojplanes.unwrap_or(0))
        .map_err(|e| EngineError::param_source("gridder", "gridder", e))?;
    let lay = g.layout();
    tracing::info!(
        "gridder {name}: {} w planes {:.1} wavelengths apart for |w| <= {:.1} wavelengths \
         (wprojplanes {})",
        lay.nplanes,
        lay.dw,
        lay.wmax,
        params
            .wprojplanes
            .map_or("-1: automatic".to_string(), |n| format!(
                "{n}: at least {n}"
            ))
    );
    Ok(g.named(params.gridder.name()))
}

/// Largest |w| of the selected data in wavelengths, bounded without reading any visibility: the
/// longest baseline between the antennas of each MS (|w| <= |uvw| = |baseline|) at the highest
/// selected channel frequency, plus 0.1% for frame conversions (<= 1e-4) and rounding. A
/// visibility beyond it is skipped and counted.
pub fn max_w_lambda(sources: &[crate::source::Source], spws: &[crate::plan::SpwSelection]) -> f64 {
    let fmax = spws
        .iter()
        .flat_map(|s| s.chan_freq_hz.iter().copied())
        .fold(0.0f64, f64::max);
    let bmax = sources
        .iter()
        .map(|s| {
            let ants = &s.ms.meta().antennas;
            let mut b = 0.0f64;
            for (i, a) in ants.iter().enumerate() {
                for c in &ants[i + 1..] {
                    let d: f64 = (0..3)
                        .map(|k| (a.position_itrf_m[k] - c.position_itrf_m[k]).powi(2))
                        .sum();
                    b = b.max(d.sqrt());
                }
            }
            b
        })
        .fold(0.0f64, f64::max);
    bmax * fmax / pclean_core::SPEED_OF_LIGHT * 1.001
}

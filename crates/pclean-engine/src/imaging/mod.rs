//! Imaging: a weight density pass over a block's visibilities for uniform/Briggs weighting
//! ([`weights`]), then, plane by plane, the gridding passes (PSF, residual with its model
//! prediction), in-place FFTs and normalisation, one oversampled grid alive at a time; the gridder
//! choice ([`gridder`]) and the model's visibilities written back ([`savemodel`]).

pub mod gridder;
pub mod savemodel;
pub mod weights;

pub use gridder::{gridder_for, make_gridder};
pub use weights::PlaneWeights;

use crate::error::EngineError;
use crate::plan::SpectralPlan;
use crate::source::{Source, VisPrep};
use ndarray::{Array2, Axis};
use num_complex::Complex32;
use pclean_core::params::ImagingParams;
use pclean_core::Direction;
use pclean_grid::gridder::{Gridder, UvGrid};
use pclean_grid::weighting::{ImagingWeighter, UvTaper};

/// Everything constant across blocks.
pub struct ImagingContext<'a> {
    pub params: &'a ImagingParams,
    pub plan: &'a SpectralPlan,
    pub phase_centre: Direction,
    pub gridder: Gridder,
    pub taper: Option<UvTaper>,
    pub nthreads: usize,
    /// Rows per chunk read from the MS.
    pub chunk_rows: usize,
}

impl ImagingContext<'_> {
    /// The visibility preparation of this context.
    pub fn vis(&self) -> VisPrep<'_> {
        VisPrep {
            params: self.params,
            plan: self.plan,
            phase_centre: self.phase_centre,
            chunk_rows: self.chunk_rows,
        }
    }

    /// The point-spread function of image channel `k`, Stokes plane `s`, and its imaging weights
    /// (see [`ImagingContext::plane_weights`]), made in the same pass: gridded, transformed in place
    /// and normalised by the sum of weights, which is returned with them. One oversampled grid is
    /// alive.
    pub fn psf_plane(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weighter: &ImagingWeighter,
    ) -> Result<(Array2<f32>, f64, PlaneWeights), EngineError> {
        let sources = &crate::source::restrict_sources(sources, self.plan, &(k..k + 1))?;
        let mut grid = self.gridder.new_grid();
        let mut sumwt = 0.0;
        let mut weights = Vec::new();
        self.vis().for_each_chunk(sources, &(k..k + 1), |prep| {
            let Some((cols, freqs)) = prep.columns(k) else {
                return Ok(());
            };
            let wgt = self.imaging_weights(prep, s, &cols, &freqs, weighter);
            let st = self
                .gridder
                .grid_psf(
                    &mut grid,
                    prep.uvw_m.view(),
                    &freqs,
                    wgt.view(),
                    self.nthreads,
                )
                .map_err(gerr)?;
            sumwt += st.sum_weights;
            weights.push(wgt);
            Ok(())
        })?;
        Ok((self.to_image(grid, sumwt)?, sumwt, weights))
    }

    /// The residual image of image channel `k`, Stokes plane `s` (the dirty image without a model):
    /// with `model` (Jy/pixel), the model's visibilities are predicted and subtracted first, and the
    /// residual visibilities gridded; normalised by the sum of weights, returned with it.
    ///
    /// Only one oversampled grid is alive at a time: with a model, a first pass over the
    /// visibilities predicts from the model's grid and keeps the residual visibilities of this plane
    /// (8 bytes per visibility), the model grid is freed, and a second pass grids them.
    pub fn residual_plane(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weights: &PlaneWeights,
        model: Option<&Array2<f32>>,
    ) -> Result<(Array2<f32>, f64), EngineError> {
        let sources = &crate::source::restrict_sources(sources, self.plan, &(k..k + 1))?;
        let mut residual_vis: Option<Vec<Array2<Complex32>>> = None;
        if let Some(m) = model {
            let mgrid = self
                .gridder
                .model_grid(m.view(), self.nthreads)
                .map_err(gerr)?;
            let mut kept = Vec::new();
            let mut wts = weights.iter();
            self.vis().for_each_chunk(sources, &(k..k + 1), |prep| {
                let Some((cols, freqs)) = prep.columns(k) else {
                    return Ok(());
                };
                let wgt = next_weights(&mut wts)?;
                let mut vis = prep.stokes[s].0.select(Axis(1), &cols);
                let mut pred = Array2::<Complex32>::zeros(vis.dim());
                self.gridder
                    .degrid(
                        &mgrid,
                        prep.uvw_m.view(),
                        &freqs,
                        Some(wgt.view()),
                        pred.view_mut(),
                        self.nthreads,
                    )
                    .map_err(gerr)?;
                vis -= &pred;
                kept.push(vis);
                Ok(())
            })?;
            residual_vis = Some(kept);
        }
        let mut grid = self.gridder.new_grid();
        let mut sumwt = 0.0;
        let mut kept = residual_vis.map(|v| v.into_iter());
        let mut wts = weights.iter();
        self.vis().for_each_chunk(sources, &(k..k + 1), |prep| {
            let Some((cols, freqs)) = prep.columns(k) else {
                return Ok(());
            };
            let wgt = next_weights(&mut wts)?;
            let vis = match kept.as_mut() {
                Some(it) => it.next().ok_or_else(changed)?,
                None => prep.stokes[s].0.select(Axis(1), &cols),
            };
            let st = self
                .gridder
                .grid_vis(
                    &mut grid,
                    prep.uvw_m.view(),
                    &freqs,
                    vis.view(),
                    wgt.view(),
                    self.nthreads,
                )
                .map_err(gerr)?;
            sumwt += st.sum_weights;
            Ok(())
        })?;
        Ok((self.to_image(grid, sumwt)?, sumwt))
    }

    /// Transform a grid in place into its image normalised by `sumwt` (zero without weight).
    fn to_image(&self, grid: UvGrid, sumwt: f64) -> Result<Array2<f32>, EngineError> {
        let norm = if sumwt > 0.0 { 1.0 / sumwt } else { 0.0 };
        self.gridder
            .grid_into_image(grid, norm, self.nthreads)
            .map_err(gerr)
    }
}

/// The weights of the next chunk: passes over a plane see the same chunks in the same order.
fn next_weights<'w>(
    it: &mut std::slice::Iter<'w, Array2<f32>>,
) -> Result<&'w Array2<f32>, EngineError> {
    it.next().ok_or_else(changed)
}

fn changed() -> EngineError {
    EngineError::internal("visibility chunks changed between passes")
}

fn gerr(e: pclean_grid::gridder::GridError) -> EngineError {
    EngineError::Grid(e)
}

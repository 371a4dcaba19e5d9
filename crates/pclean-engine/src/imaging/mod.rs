//! Imaging: a weight density pass over a block's visibilities for uniform/Briggs weighting
//! ([`weights`]), then, plane by plane, the gridding passes (PSF, residual with its model
//! prediction), in-place FFTs and normalisation, one oversampled grid alive at a time; the gridder
//! choice ([`gridder`]) and the model's visibilities written back ([`savemodel`]).

pub mod awproject;
pub mod gridder;
pub mod mosaic;
pub mod mvc;
pub mod savemodel;
pub mod taylor;
pub mod weights;

pub use gridder::{gridder_for, make_gridder};
pub use weights::PlaneWeights;

use crate::error::EngineError;
use crate::plan::SpectralPlan;
use crate::source::{Prepared, Source, VisPrep};
use ndarray::{Array2, Axis};
use num_complex::Complex32;
use pclean_core::direction::SkyContext;
use pclean_core::params::ImagingParams;
use pclean_core::Direction;
use pclean_grid::seam::{Pass, VisBatch, VisGridder};
use pclean_grid::weighting::{ImagingWeighter, UvTaper};
use std::borrow::Borrow;

/// A plane's PSF pass: the PSF, the sum of weights, the imaging weights (see
/// [`ImagingContext::plane_weights`]) and, for a gridder with primary beams (mosaic), the weight
/// image ([`pclean_grid::seam::VisGridder::weight_image`], normalised by the sum of weights).
pub struct PsfPlane {
    pub psf: Array2<f32>,
    pub sumwt: f64,
    pub weights: PlaneWeights,
    pub pb_weight: Option<Array2<f32>>,
}

/// A pass's image, its sum of weights and (a mosaic's) weight image.
pub type PassImage = (Array2<f32>, f64, Option<Array2<f32>>);

/// Everything constant across blocks.
pub struct ImagingContext<'a> {
    pub params: &'a ImagingParams,
    pub plan: &'a SpectralPlan,
    pub phase_centre: Direction,
    /// Epoch, UT1 - UTC and observatory for converting field directions to the image frame.
    pub sky: SkyContext,
    /// The gridder of this run's planes, through the gridder seam (its calls run on the
    /// context's threads).
    pub gridder: Box<dyn VisGridder>,
    pub taper: Option<UvTaper>,
    /// Rows per chunk read from the MS.
    pub chunk_rows: usize,
    /// Row partitions (`crate::exec::rows`): when set, the weighting densities and every PSF and
    /// residual pass are gathered from the partitions, and the `sources` handed to those calls
    /// are not read.
    pub rows: Option<&'a dyn crate::exec::rows::RowReduce>,
}

impl ImagingContext<'_> {
    /// The visibility preparation of this context.
    pub fn vis(&self) -> VisPrep<'_> {
        VisPrep {
            params: self.params,
            plan: self.plan,
            phase_centre: self.phase_centre,
            sky: self.sky,
            chunk_rows: self.chunk_rows,
        }
    }

    /// The point-spread function of image channel `k`, Stokes plane `s`, its imaging weights
    /// and weight image, made in the same pass: gridded, transformed in place and normalised (by
    /// the sum of weights, or a mosaic's to a peak of 1). One oversampled grid is alive.
    pub fn psf_plane(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weighter: &ImagingWeighter,
    ) -> Result<PsfPlane, EngineError> {
        if let Some(rows) = self.rows {
            return rows.psf_plane(self, k, s, weighter);
        }
        let ((psf, sumwt, pb_weight), weights) = self.psf_pass(sources, k, s, weighter, true)?;
        Ok(PsfPlane {
            psf,
            sumwt,
            weights,
            pb_weight,
        })
    }

    /// A PSF pass over `sources` before normalisation ([`ImagingContext::normalise_pass`]): the
    /// sum over the pass's visibilities, which several row partitions' passes add up to; with the
    /// plane's imaging weights.
    pub fn psf_partial(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weighter: &ImagingWeighter,
    ) -> Result<(PassImage, PlaneWeights), EngineError> {
        self.psf_pass(sources, k, s, weighter, false)
    }

    /// The PSF pass, normalised or not.
    fn psf_pass(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weighter: &ImagingWeighter,
        normalise: bool,
    ) -> Result<(PassImage, PlaneWeights), EngineError> {
        let mut weights = Vec::new();
        let raw = self.pass(
            Pass::Psf,
            sources,
            k,
            normalise,
            |prep, cols, freqs| Ok((self.imaging_weights(prep, s, cols, freqs, weighter), None)),
            |wgt| weights.push(wgt),
        )?;
        Ok((raw, weights))
    }

    /// The residual image of image channel `k`, Stokes plane `s` (the dirty image without a model):
    /// with `model` (Jy/pixel), the model's visibilities are predicted and subtracted first, and the
    /// residual visibilities gridded; normalised by the sum of weights, returned with it.
    ///
    /// Only one oversampled grid is alive at a time: with a model, a first pass over the
    /// visibilities predicts from the model's grid and keeps the residual visibilities of this plane
    /// (8 bytes per visibility), the model grid is freed, and a second pass grids them.
    ///
    /// A mosaic's residual is normalised by its weight image (`imaging::mosaic`); its model is
    /// turned into sky brightness with `pb_weight` (the PSF pass's weight image) first.
    pub fn residual_plane(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weights: &PlaneWeights,
        model: Option<&Array2<f32>>,
        pb_weight: Option<&Array2<f32>>,
    ) -> Result<(Array2<f32>, f64), EngineError> {
        if let Some(rows) = self.rows {
            return rows.residual_plane(self, k, s, model, pb_weight);
        }
        let (image, sumwt, _) =
            self.residual_pass(sources, k, s, weights, model, pb_weight, true)?;
        Ok((image, sumwt))
    }

    /// A residual pass over `sources` before normalisation (see
    /// [`ImagingContext::psf_partial`]).
    pub fn residual_partial(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weights: &PlaneWeights,
        model: Option<&Array2<f32>>,
        pb_weight: Option<&Array2<f32>>,
    ) -> Result<PassImage, EngineError> {
        self.residual_pass(sources, k, s, weights, model, pb_weight, false)
    }

    /// The residual pass, normalised or not.
    #[allow(clippy::too_many_arguments)]
    fn residual_pass(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weights: &PlaneWeights,
        model: Option<&Array2<f32>>,
        pb_weight: Option<&Array2<f32>>,
        normalise: bool,
    ) -> Result<PassImage, EngineError> {
        let mut kept = match model {
            Some(m) => Some(
                self.residual_vis(sources, k, s, weights, m, pb_weight)?
                    .into_iter(),
            ),
            None => None,
        };
        let mut wts = weights.iter();
        self.pass(
            Pass::Residual,
            sources,
            k,
            normalise,
            |prep, cols, _| {
                let wgt = next_weights(&mut wts)?;
                let vis = match kept.as_mut() {
                    Some(it) => it.next().ok_or_else(changed)?,
                    None => prep.stokes[s].0.select(Axis(1), cols),
                };
                Ok((wgt, Some(vis)))
            },
            |_| {},
        )
    }

    /// The gridder of image channel `k` (the run's, or one made for the plane's frequency).
    fn plane_gridder(&self, k: usize) -> Option<Box<dyn VisGridder>> {
        self.gridder.at_frequency(self.plan.freqs_hz[k])
    }

    /// The residual visibilities of image channel `k`, Stokes plane `s`: the model's predicted
    /// visibilities subtracted, one array per chunk (the model's planes are freed on return).
    fn residual_vis(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weights: &PlaneWeights,
        model: &Array2<f32>,
        pb_weight: Option<&Array2<f32>>,
    ) -> Result<Vec<Array2<Complex32>>, EngineError> {
        let sources = &crate::source::restrict_sources(sources, self.plan, &(k..k + 1))?;
        let own = self.plane_gridder(k);
        let gridder = own.as_deref().unwrap_or(self.gridder.as_ref());
        let p = self.params;
        let sky = pb_weight.map(|w| mosaic::model_to_sky(model, w, p.mosaic.normtype, p.pblimit));
        let planes = gridder
            .model_planes(&[sky.as_ref().unwrap_or(model).view()])
            .map_err(gerr)?;
        drop(sky);
        let mut kept = Vec::new();
        let mut wts = weights.iter();
        self.vis().for_each_chunk(sources, &(k..k + 1), |prep| {
            let Some((cols, freqs)) = prep.columns(k) else {
                return Ok(());
            };
            let wgt = next_weights(&mut wts)?;
            let mut vis = prep.stokes[s].0.select(Axis(1), &cols);
            let mut pred = Array2::<Complex32>::zeros(vis.dim());
            let batch = VisBatch::new(prep.uvw_m.view(), &freqs, wgt.view())
                .with_fields(&prep.field_r)
                .with_antennas(&prep.ant1_r, &prep.ant2_r)
                .with_times(&prep.time_r);
            gridder
                .predict(&planes, &batch, pred.view_mut())
                .map_err(gerr)?;
            vis -= &pred;
            kept.push(vis);
            Ok(())
        })?;
        Ok(kept)
    }

    /// One gridding pass over the chunks of image channel `k`: `chunk(prepared, columns,
    /// frequencies)` gives each chunk's imaging weights (and, for the residual, visibilities),
    /// handed to `done` once gridded; the planes become the plane's image and (a mosaic's) weight
    /// image, not normalised ([`ImagingContext::normalise_pass`]), with the sum of weights.
    fn pass<W: Borrow<Array2<f32>>>(
        &self,
        pass: Pass,
        sources: &[Source],
        k: usize,
        normalise: bool,
        mut chunk: impl FnMut(
            &Prepared,
            &[usize],
            &[f64],
        ) -> Result<(W, Option<Array2<Complex32>>), EngineError>,
        mut done: impl FnMut(W),
    ) -> Result<PassImage, EngineError> {
        let sources = &crate::source::restrict_sources(sources, self.plan, &(k..k + 1))?;
        let own = self.plane_gridder(k);
        let gridder = own.as_deref().unwrap_or(self.gridder.as_ref());
        let mut planes = gridder.new_planes(pass);
        let mut sumwt = 0.0;
        self.vis().for_each_chunk(sources, &(k..k + 1), |prep| {
            let Some((cols, freqs)) = prep.columns(k) else {
                return Ok(());
            };
            let (wgt, vis) = chunk(prep, &cols, &freqs)?;
            let mut batch = VisBatch::new(prep.uvw_m.view(), &freqs, wgt.borrow().view())
                .with_fields(&prep.field_r)
                .with_antennas(&prep.ant1_r, &prep.ant2_r)
                .with_times(&prep.time_r);
            if let Some(v) = &vis {
                batch = batch.with_vis(v.view());
            }
            sumwt += gridder.grid(&mut planes, &batch).map_err(gerr)?.sum_weights;
            done(wgt);
            Ok(())
        })?;
        if !normalise {
            let weight = gridder.weight_image(&planes, 1.0).map_err(gerr)?;
            let image = gridder.images(planes, 1.0).map_err(gerr)?;
            return Ok((image.into_iter().next().ok_or_else(changed)?, sumwt, weight));
        }
        let norm = if sumwt > 0.0 { 1.0 / sumwt } else { 0.0 };
        let weight = gridder.weight_image(&planes, norm).map_err(gerr)?;
        let image = gridder.images(planes, norm).map_err(gerr)?;
        let image = image.into_iter().next().ok_or_else(changed)?;
        self.normalise_pb(pass, (image, sumwt, weight))
    }

    /// A pass's image and weight image divided by its sum of weights, and (a mosaic's) the PSF
    /// normalised to a peak of 1 or the residual by the weight image.
    pub fn normalise_pass(&self, pass: Pass, raw: PassImage) -> Result<PassImage, EngineError> {
        let (mut image, sumwt, mut weight) = raw;
        let norm = if sumwt > 0.0 { 1.0 / sumwt } else { 0.0 };
        image.mapv_inplace(|v| (v as f64 * norm) as f32);
        if let Some(w) = weight.as_mut() {
            w.mapv_inplace(|v| (v as f64 * norm) as f32);
        }
        self.normalise_pb(pass, (image, sumwt, weight))
    }

    /// A mosaic's PSF normalised to a peak of 1, its residual by the weight image.
    fn normalise_pb(&self, pass: Pass, img: PassImage) -> Result<PassImage, EngineError> {
        let (mut image, sumwt, weight) = img;
        if let Some(w) = &weight {
            match pass {
                Pass::Psf => mosaic::normalise_psf(&mut image),
                Pass::Residual => mosaic::normalise_residual(
                    &mut image,
                    w,
                    self.params.mosaic.normtype,
                    self.params.pblimit,
                ),
            }
        }
        Ok((image, sumwt, weight))
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

//! Imaging: a weight density pass over a block's visibilities for uniform/Briggs weighting
//! ([`weights`]), then, plane by plane, the gridding passes (PSF, residual with its model
//! prediction), in-place FFTs and normalisation, one oversampled grid alive at a time; the gridder
//! choice ([`gridder`]) and the model's visibilities written back ([`savemodel`]).

pub mod awproject;
pub mod awproject_pointing;
pub mod gridder;
pub mod mosaic;
pub mod mosaic_pointing;
pub mod mvc;
pub mod savemodel;
pub mod taylor;
pub mod weights;

pub use gridder::{gridder_for, make_gridder};
pub use weights::PlaneWeights;

use crate::error::EngineError;
use crate::plan::SpectralPlan;
use crate::source::{select_columns, view_columns};
use crate::source::{Prepared, Source, VisPrep};
use ndarray::Array2;
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

/// A row partition's pass: its [`PassImage`] divided by its own sum of weights, and the gridder's
/// per-grid sums for the step that is not linear in the rows (a mosaic residual's band response:
/// [`pclean_grid::seam::VisGridder::linear_images`]; empty for the other gridders).
pub type PartialImage = (PassImage, Vec<[f64; 2]>);

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
            free_read_chunks: false,
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
        let (partial, weights) = self.psf_partial(sources, k, s, weighter)?;
        let (psf, sumwt, pb_weight) = self.finish_partial(Pass::Psf, k, partial)?;
        Ok(PsfPlane {
            psf,
            sumwt,
            weights,
            pb_weight,
        })
    }

    /// A PSF pass over `sources` normalised by its own sum of weights only (no primary-beam
    /// step, [`ImagingContext::finish_pass`]): linear in the visibilities, so several row
    /// partitions' passes combine exactly, each weighted by its share of the summed weights
    /// (`exec::rows::combine_images`); with the plane's imaging weights.
    pub fn psf_partial(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weighter: &ImagingWeighter,
    ) -> Result<(PartialImage, PlaneWeights), EngineError> {
        let mut weights = Vec::new();
        let raw = self.pass(
            Pass::Psf,
            sources,
            k,
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
        let partial = self.residual_partial(sources, k, s, weights, model, pb_weight)?;
        let (image, sumwt, _) = self.finish_partial(Pass::Residual, k, partial)?;
        Ok((image, sumwt))
    }

    /// A residual pass over `sources` normalised by its own sum of weights only (see
    /// [`ImagingContext::psf_partial`]).
    pub fn residual_partial(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weights: &PlaneWeights,
        model: Option<&Array2<f32>>,
        pb_weight: Option<&Array2<f32>>,
    ) -> Result<PartialImage, EngineError> {
        let kept = model
            .map(|m| self.residual_vis(sources, k, s, weights, m, pb_weight))
            .transpose()?;
        self.pass(
            Pass::Residual,
            sources,
            k,
            residual_chunks(weights, kept, s),
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
            let mut vis = select_columns(&prep.stokes[s].0, &cols);
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
    /// image divided by the sum of weights, with it and the gridder's sums for the step not linear
    /// in the rows ([`ImagingContext::finish_partial`] finishes it: a row partition's pass stops
    /// here, so that one partition's pass is the single pass bit for bit).
    fn pass<W: Borrow<Array2<f32>>>(
        &self,
        pass: Pass,
        sources: &[Source],
        k: usize,
        mut chunk: impl FnMut(
            &Prepared,
            &[usize],
            &[f64],
        ) -> Result<(W, Option<Array2<Complex32>>), EngineError>,
        mut done: impl FnMut(W),
    ) -> Result<PartialImage, EngineError> {
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
        partial_of(gridder, planes, sumwt)
    }

    /// The PSF and the dirty image (the residual without a model) of image channel `k`, Stokes
    /// plane `s`, in one pass over the visibilities: each chunk is read, prepared and weighted
    /// once, and gridded into the PSF's planes and the dirty image's (two oversampled grids
    /// alive, which the memory model counts: [`joint_first_pass`]). The same images, sums of
    /// weights and imaging weights as [`ImagingContext::psf_plane`] then
    /// [`ImagingContext::residual_plane`] without a model, bit for bit: each grid sees the same
    /// chunks, weights and visibilities in the same order as in its own pass.
    pub fn psf_and_dirty_plane(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weighter: &ImagingWeighter,
    ) -> Result<(PsfPlane, (Array2<f32>, f64)), EngineError> {
        let sources = &crate::source::restrict_sources(sources, self.plan, &(k..k + 1))?;
        let own = self.plane_gridder(k);
        let gridder = own.as_deref().unwrap_or(self.gridder.as_ref());
        // Each chunk gridded into both plane sets by one call (`VisGridder::grid_pair`).
        let mut psf_planes = gridder.new_planes(Pass::Psf);
        let mut dirty_planes = gridder.new_planes(Pass::Residual);
        let (mut psf_sumwt, mut dirty_sumwt) = (0.0, 0.0);
        let mut weights = Vec::new();
        self.vis().for_each_chunk(sources, &(k..k + 1), |prep| {
            let Some((cols, freqs)) = prep.columns(k) else {
                return Ok(());
            };
            let wgt = self.imaging_weights(prep, s, &cols, &freqs, weighter);
            // Borrowed: an mfs plane takes every column of the chunk.
            let vis = view_columns(&prep.stokes[s].0, &cols);
            let batch = VisBatch::new(prep.uvw_m.view(), &freqs, wgt.view())
                .with_fields(&prep.field_r)
                .with_antennas(&prep.ant1_r, &prep.ant2_r)
                .with_times(&prep.time_r)
                .with_vis(vis.view());
            let (a, b) = gridder
                .grid_pair(&mut psf_planes, &mut dirty_planes, &batch)
                .map_err(gerr)?;
            psf_sumwt += a.sum_weights;
            dirty_sumwt += b.sum_weights;
            weights.push(wgt);
            Ok(())
        })?;
        let psf = partial_of(gridder, psf_planes, psf_sumwt)?;
        let (psf, sumwt, pb_weight) = self.finish_partial(Pass::Psf, k, psf)?;
        let dirty = partial_of(gridder, dirty_planes, dirty_sumwt)?;
        let (dirty, dirty_sumwt, _) = self.finish_partial(Pass::Residual, k, dirty)?;
        let psf = PsfPlane {
            psf,
            sumwt,
            weights,
            pb_weight,
        };
        Ok((psf, (dirty, dirty_sumwt)))
    }

    /// A pass of image channel `k` (one partition's, or several combined with their per-grid
    /// sums added) finished: the gridder's step that is not linear in the rows
    /// ([`pclean_grid::seam::VisGridder::finish_images`]), then [`ImagingContext::finish_pass`].
    pub fn finish_partial(
        &self,
        pass: Pass,
        k: usize,
        partial: PartialImage,
    ) -> Result<PassImage, EngineError> {
        let ((mut image, sumwt, weight), sums) = partial;
        let own = self.plane_gridder(k);
        let gridder = own.as_deref().unwrap_or(self.gridder.as_ref());
        gridder
            .finish_images(pass, std::slice::from_mut(&mut image), &sums)
            .map_err(gerr)?;
        self.finish_pass(pass, (image, sumwt, weight))
    }

    /// The step after the division by the sum of weights: a mosaic's PSF normalised to a peak
    /// of 1, its residual by the weight image, a faceted PSF ([`central_facet_only`]; other
    /// gridders: nothing). Not linear in the rows:
    /// row partitions' passes are combined first (`exec::rows::combine_images`).
    pub fn finish_pass(&self, pass: Pass, img: PassImage) -> Result<PassImage, EngineError> {
        let (mut image, sumwt, weight) = img;
        if pass == Pass::Psf && self.params.facets > 1 {
            central_facet_only(&mut image, self.params.facets);
        }
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

/// The per-chunk inputs of a residual pass (the `chunk` argument of the passes): each chunk's
/// imaging weights from `weights` and its visibilities, the model-subtracted ones `kept` (one
/// array per chunk, in the passes' chunk order) or, without a model, Stokes plane `s` of the data.
#[allow(clippy::type_complexity)]
fn residual_chunks<'w>(
    weights: &'w PlaneWeights,
    kept: Option<Vec<Array2<Complex32>>>,
    s: usize,
) -> impl FnMut(
    &Prepared,
    &[usize],
    &[f64],
) -> Result<(&'w Array2<f32>, Option<Array2<Complex32>>), EngineError> {
    let mut kept = kept.map(|v| v.into_iter());
    let mut wts = weights.iter();
    move |prep, cols, _| {
        let wgt = next_weights(&mut wts)?;
        let vis = match kept.as_mut() {
            Some(it) => it.next().ok_or_else(changed)?,
            None => select_columns(&prep.stokes[s].0, cols),
        };
        Ok((wgt, Some(vis)))
    }
}

/// tclean's faceted PSF (`facets` per side, `widefield`): the PSF of the central facet, whose
/// box is `n / facets` pixels from `(n - n / facets) / 2` on each axis, with its peak at the box's
/// centre pixel (`start + (n / facets) / 2`, one pixel below the image centre for odd `facets`
/// on an even axis), zero outside the box. Measured on tclean 6.7 (vla_widefield subset, 1024^2,
/// `scripts/dev/make_facets_refs.py`): facets 2 non-zero over 256..=767 with the peak at 512,
/// facets 3 over 341..=681 with the peak at 511; in the box within 6.4e-3 / 8.7e-3 of the
/// unfaceted PSF moved so.
pub fn central_facet_only(psf_yx: &mut Array2<f32>, facets: usize) {
    let (ny, nx) = psf_yx.dim();
    let (fy, fx) = (ny / facets, nx / facets);
    let (y0, x0) = ((ny - fy) / 2, (nx - fx) / 2);
    // The whole image's PSF peaks at (n/2, n/2); the facet's at (start + f/2).
    let (sy, sx) = (ny / 2 - (y0 + fy / 2), nx / 2 - (x0 + fx / 2));
    let src = psf_yx.clone();
    psf_yx.fill(0.0);
    for y in y0..y0 + fy {
        for x in x0..x0 + fx {
            psf_yx[[y, x]] = src[[y + sy, x + sx]];
        }
    }
}

/// A pass's planes as its [`PartialImage`]: the image (and weight image) divided by the sum of
/// weights `sumwt`, with the gridder's per-grid sums.
fn partial_of(
    gridder: &dyn VisGridder,
    planes: pclean_grid::seam::GridPlanes,
    sumwt: f64,
) -> Result<PartialImage, EngineError> {
    let norm = if sumwt > 0.0 { 1.0 / sumwt } else { 0.0 };
    let weight = gridder.weight_image(&planes, norm).map_err(gerr)?;
    let (image, sums) = gridder.linear_images(planes, norm).map_err(gerr)?;
    let image = image.into_iter().next().ok_or_else(changed)?;
    Ok(((image, sumwt, weight), sums))
}

/// Whether a plane's first PSF and dirty image are gridded in one pass
/// ([`ImagingContext::psf_and_dirty_plane`]) with parameters `p`: an mfs image (each plane
/// holds the whole band, so reading, preparing and weighting its visibilities twice cost most
/// of a dirty run) with the `standard` gridder (one grid per pass; a mosaic's and awproject's
/// PSF pass also make the weight image, the w-gridders hold a grid per w plane), not mtmfs
/// (its own block, `cycles::mtmfs`), not in row partitions (each pass is gathered from the
/// partitions, `exec::rows`). The memory model counts the second grid
/// (`plan::memory::ImageSide::joint_pass`).
pub fn joint_first_pass(p: &ImagingParams) -> bool {
    use pclean_core::params::{Deconvolver, Gridder, SpecMode};
    p.specmode == SpecMode::Mfs
        && p.row_partitions == 0
        && p.gridder == Gridder::Standard
        && p.deconv.deconvolver != Deconvolver::Mtmfs
        && p.deconv.mvc.is_none()
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

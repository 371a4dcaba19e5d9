//! Taylor-term imaging for `deconvolver='mtmfs'` (Rau & Cornwell 2011, as tclean): the PSF terms
//! `t = 0 .. 2 nterms - 2` and the residual terms `t = 0 .. nterms - 1` are the images of the
//! visibilities weighted by `w ((nu - nu0) / nu0)^t`, all made in ONE pass over the visibilities
//! (each chunk is read and prepared once and gridded into every term's planes). The Taylor factor
//! goes into the visibility (`V ((nu - nu0)/nu0)^t`, the PSF's `((nu - nu0)/nu0)^t`) rather than the
//! weight, so that the gridder sees the same positive imaging weights for every term. Every term
//! is normalised by the sum of weights of term 0 (tclean: `psf.tt1`'s peak is
//! `sumwt.tt1 / sumwt.tt0`); `.sumwt.ttN` is `sum w ((nu - nu0)/nu0)^t`. Prediction adds
//! `((nu - nu0)/nu0)^t` times each model term's visibilities.
//!
//! The 1-plane gridder of the run ([`ImagingContext::gridder`]) grids each term: one oversampled
//! grid per term is alive during a pass, or, when the plane's visibilities are held
//! ([`hold_plane_vis`]), one grid at a time.
//!
//! A mosaic (`gridder='mosaic'`, as tclean's `MultiTermFTNew` of one `MosaicFTNew` per term):
//! the PSF pass also makes each PSF term's weight image (tclean's `.weight.ttN`: the weight
//! kernels summed with the Taylor-weighted weights `w ((nu - nu0)/nu0)^t`, given to the gridder
//! as [`VisBatch::with_weight_factors`]), the PSF terms are the beams' images without the
//! residual's band response, divided by the peak of term 0 (tclean's `normPSF`); the residual
//! terms and the models' sky brightness are normalised by term 0's weight image by the caller
//! (`cycles::mtmfs`, as `imaging::mosaic` does for one term).

use super::{changed, gerr, next_weights, residual_chunks, ImagingContext, PlaneWeights};
use crate::error::EngineError;
use crate::source::{Prepared, Source};
use ndarray::{Array2, ArrayView2, Axis};
use num_complex::Complex32;
use pclean_grid::seam::{GridPlanes, Pass, VisBatch};
use pclean_grid::weighting::ImagingWeighter;
use std::borrow::Borrow;

mod held;
pub use held::{hold_plane_vis, HeldChunk, HELD_BYTES_PER_ROW, HELD_BYTES_PER_VIS};

/// The mfs image has one channel.
const K: usize = 0;

/// `(nu - nu0) / nu0` of each row and column of a chunk, at the image frame's frequencies: the
/// columns' frequencies `freqs` times each row's Doppler factor `doppler` (mfs of TOPO data:
/// tclean's Taylor factors use the LSRK frequencies; `None`: `freqs` are the image frame's).
/// Evaluated where a term needs them rather than kept as an `(nrow, nchan)` array (8 B per
/// visibility of the chunk).
#[derive(Clone, Copy)]
pub struct TaylorOffsets<'a> {
    freqs: &'a [f64],
    doppler: Option<&'a [f64]>,
    reffreq_hz: f64,
}

impl<'a> TaylorOffsets<'a> {
    pub fn new(freqs: &'a [f64], doppler: Option<&'a [f64]>, reffreq_hz: f64) -> Self {
        TaylorOffsets {
            freqs,
            doppler,
            reffreq_hz,
        }
    }

    /// `(nu - nu0) / nu0` of row `r`, column `c`.
    #[inline]
    pub fn at(&self, r: usize, c: usize) -> f64 {
        let nu = self.freqs[c] * self.doppler.map_or(1.0, |d| d[r]);
        (nu - self.reffreq_hz) / self.reffreq_hz
    }

    /// `((nu - nu0) / nu0)^t` of row `r`, column `c`, in single precision (the visibilities').
    #[inline]
    fn power(&self, r: usize, c: usize, t: i32) -> f32 {
        self.at(r, c).powi(t) as f32
    }
}

/// The PSF terms of an mtmfs plane (`2 nterms - 1`), their sums of weights and the imaging
/// weights (kept for the major cycles).
pub struct TaylorPsfs {
    pub psfs: Vec<Array2<f32>>,
    pub sumwt: Vec<f64>,
    pub weights: PlaneWeights,
    /// A mosaic's weight image of every PSF term, divided by term 0's sum of weights (see the
    /// module docs); empty for gridders without primary beams.
    pub pb_weights: Vec<Array2<f32>>,
    /// The plane's visibilities, held in memory when they take less than the grids they spare
    /// ([`hold_plane_vis`]): the residual passes then grid from them, one term at a time.
    pub held: Option<Vec<HeldChunk>>,
}

/// One Taylor pass's images and sums of weights per term.
pub type TermImages = (Vec<Array2<f32>>, Vec<f64>);

/// One Taylor pass over some rows (a row partition's, `exec::rows::taylor`): every term image
/// and (a PSF pass with primary beams) every term's weight image, each divided by a sum of
/// weights of those rows, with those sums (`norms`: the images' in term order, then the weight
/// images'), and the sums of weights reported per term. Every normaliser is a sum over the rows
/// (the plain or the gridder-scaled tt0 sum, [`ImagingContext::term_norms`]), so passes over
/// disjoint rows combine image by image with their shares of the summed normaliser.
#[derive(Debug, Clone)]
pub struct PartialTerms {
    pub images: Vec<Array2<f32>>,
    pub sumwt: Vec<f64>,
    pub weights: Vec<Array2<f32>>,
    pub norms: Vec<f64>,
}

impl ImagingContext<'_> {
    /// The `2 nterms - 1` PSF terms of Stokes plane `s` with the imaging weights, in one pass
    /// (with row partitions: summed over them, the weights staying with the partitions).
    pub fn taylor_psfs(
        &self,
        sources: &[Source],
        s: usize,
        weighter: &ImagingWeighter,
        nterms: usize,
        reffreq_hz: f64,
    ) -> Result<TaylorPsfs, EngineError> {
        if let Some(rows) = self.rows {
            return rows.taylor_psfs(self, s, weighter, nterms, reffreq_hz);
        }
        let restricted = crate::source::restrict_sources(sources, self.plan, &(K..K + 1))?;
        let (nvis, nrows) = restricted
            .iter()
            .flat_map(|s| s.selected.groups.iter())
            .fold((0u64, 0u64), |(v, r), g| {
                let n = g.rows.len() as u64;
                (v + n * g.chan_ids.len() as u64, r + n)
            });
        let grid = self.gridder.planes_bytes(Pass::Residual) as u64;
        if hold_plane_vis(nvis, nrows, nterms, grid) {
            return self.taylor_psfs_held(sources, s, weighter, nterms, reffreq_hz);
        }
        let mut tp = self.taylor_psfs_of(sources, s, weighter, nterms, reffreq_hz)?;
        if !tp.pb_weights.is_empty() {
            normalise_psf_terms(&mut tp.psfs);
        }
        Ok(tp)
    }

    /// [`ImagingContext::taylor_psfs`] of `sources` (a row partition's: not dispatched), every
    /// term and (a mosaic's) weight image divided by term 0's sum of weights only: linear in the
    /// rows, so that row partitions' passes combine with their tt0 shares
    /// (`exec::rows::taylor`). A mosaic's PSF terms are then divided by term 0's peak
    /// ([`normalise_psf_terms`], not linear in the rows) by the caller, once.
    pub fn taylor_psfs_of(
        &self,
        sources: &[Source],
        s: usize,
        weighter: &ImagingWeighter,
        nterms: usize,
        reffreq_hz: f64,
    ) -> Result<TaylorPsfs, EngineError> {
        let (pt, weights) = self.taylor_psfs_partial(sources, s, weighter, nterms, reffreq_hz)?;
        Ok(TaylorPsfs {
            psfs: pt.images,
            sumwt: pt.sumwt,
            weights,
            pb_weights: pt.weights,
            held: None,
        })
    }

    /// [`ImagingContext::taylor_psfs_of`] with the normaliser of every image (a row partition's
    /// pass, [`PartialTerms`]) and the imaging weights.
    pub fn taylor_psfs_partial(
        &self,
        sources: &[Source],
        s: usize,
        weighter: &ImagingWeighter,
        nterms: usize,
        reffreq_hz: f64,
    ) -> Result<(PartialTerms, PlaneWeights), EngineError> {
        let mut weights = Vec::new();
        let pt = self.taylor_pass(
            2 * nterms - 1,
            reffreq_hz,
            sources,
            true,
            |prep, cols, freqs| Ok((self.imaging_weights(prep, s, cols, freqs, weighter), None)),
            |w| weights.push(w),
        )?;
        Ok((pt, weights))
    }

    /// The `nterms` residual terms of Stokes plane `s` (the dirty terms without `models`; with
    /// them, the visibilities of `sum_t ((nu - nu0)/nu0)^t model_t` are subtracted first), and the
    /// sums of weights per term.
    /// With row partitions, summed over them (each with its own imaging weights; `weights` unused).
    pub fn taylor_residuals(
        &self,
        sources: &[Source],
        s: usize,
        weights: &PlaneWeights,
        reffreq_hz: f64,
        nterms: usize,
        models: Option<&[Array2<f32>]>,
    ) -> Result<TermImages, EngineError> {
        if let Some(rows) = self.rows {
            return rows.taylor_residuals(self, s, reffreq_hz, nterms, models);
        }
        self.taylor_residuals_of(sources, s, weights, reffreq_hz, nterms, models)
    }

    /// Whether the run's gridder has primary beams whose weight images the Taylor terms need
    /// (`gridder='mosaic'` and `'awproject'`; see the module docs).
    fn beam_weights(&self) -> bool {
        use pclean_core::params::Gridder;
        matches!(self.params.gridder, Gridder::Mosaic | Gridder::AwProject)
    }

    /// Whether the Taylor terms are normalised by, and report, the sums of weights with the
    /// gridder's flux scale ([`GridStats::sum_scaled_weights`]): awproject's (tclean's
    /// AWProjectWBFT with mtmfs divides every residual term by `sumwt.tt0`, the sum of the
    /// weights times its kernel sum; measured: residual.tt0 = the mfs residual times
    /// `sumwt_mfs / sumwt.tt0` to 6.7e-8, docs/decisions.md (s16-wbawp)).
    ///
    /// [`GridStats::sum_scaled_weights`]: pclean_grid::gridder::GridStats::sum_scaled_weights
    fn scaled_sums(&self) -> bool {
        self.params.gridder == pclean_core::params::Gridder::AwProject
    }

    /// The scales of term `t`'s image and (a PSF pass with primary beams) weight image, from
    /// the pass's tt0 sums of weights `p0` (the weights) and `s0` (with the gridder's flux
    /// scale, [`ImagingContext::scaled_sums`]). A residual pass of awproject is divided by
    /// `s0`; every other pass, and every term 0 weight image, by `p0`. Awproject's weight images
    /// of the terms above 0 are scaled by `s0`, which the caller multiplies back with the sums
    /// reported ([`ImagingContext::term_sum`], `cycles::mtmfs::weight_term`): tclean's
    /// `.weight.ttN` (N > 0) are not normalised.
    pub(crate) fn term_scales(&self, psf: bool, t: usize, p0: f64, s0: f64) -> (f64, f64) {
        let inv = |s: f64| if s > 0.0 { 1.0 / s } else { 0.0 };
        let (image, weight) = self.term_norms(psf, t, p0, s0);
        (inv(image), inv(weight))
    }

    /// The sums of weights [`ImagingContext::term_scales`] divides term `t`'s image and weight
    /// image by: `p0` or `s0`, each a sum over the pass's rows (so row partitions' images
    /// combine with their shares of the summed normaliser, [`PartialTerms`]).
    pub(crate) fn term_norms(&self, psf: bool, t: usize, p0: f64, s0: f64) -> (f64, f64) {
        if !self.scaled_sums() {
            return (p0, p0);
        }
        (if psf { p0 } else { s0 }, if t == 0 { p0 } else { s0 })
    }

    /// The sum of weights a Taylor pass of an mtmfs run of `nterms` reports for term `t` (`.sumwt.ttN`) from
    /// its `plain` and `scaled` sums ([`ImagingContext::scaled_sums`]). awproject: the scaled
    /// sums of the terms a residual pass also grids (`t < nterms`), the plain ones of the PSF's
    /// higher terms: tclean 6.7's `.sumwt.ttN` of the terms below nterms come from its residual
    /// pass (the kernel sum), those above from its PSF pass (its weight functions, which sum to
    /// about 1). Measured on the bundled awproj_wb.ms (nterms 2): tclean's sumwt.tt0 / tt1 /
    /// tt2 59240.4 / -3058.3 / 2997.8, pclean's scaled sums 59423.5 / -3078.9 / 2678.2, its
    /// plain ones 67392.0 / -4278.9 / 3005.4 (docs/decisions.md (s17-awmt)).
    pub(crate) fn term_sum(&self, t: usize, nterms: usize, plain: f64, scaled: f64) -> f64 {
        if self.scaled_sums() && t < nterms {
            scaled
        } else {
            plain
        }
    }

    /// The planes a Taylor term is gridded into: a mosaic's PSF terms into the PSF pass's (the
    /// beams placed about `psfphasecenter`, or the image centre, as the single-term mosaic's
    /// PSF: tclean 6.7 changes only the PSF terms with it, docs/decisions.md (s16-mtpart)), the
    /// gridder grids their visibilities `((nu - nu0)/nu0)^t`; every other term into the
    /// residual pass's (each gridder's PSF pass grids the weights alone).
    fn term_pass(&self, psf: bool) -> Pass {
        if psf && self.beam_weights() {
            Pass::Psf
        } else {
            Pass::Residual
        }
    }

    /// The image of a one-plane set, scaled by `norm`. A mosaic's PSF term (`psf`): its weight
    /// image (scaled by `norm`) pushed to `pb_weights`, and the image without the residual's
    /// band response ([`VisGridder::linear_images`], as the mosaic's single-term PSF pass).
    ///
    /// [`VisGridder::linear_images`]: pclean_grid::seam::VisGridder::linear_images
    fn term_image(
        &self,
        planes: GridPlanes,
        norm: f64,
        wnorm: f64,
        psf: bool,
        pb_weights: &mut Vec<Array2<f32>>,
    ) -> Result<Array2<f32>, EngineError> {
        let g = self.gridder.as_ref();
        let mut v = if psf && self.beam_weights() {
            let w = g.weight_image(&planes, wnorm).map_err(gerr)?;
            pb_weights.push(
                w.ok_or_else(|| EngineError::internal("the mosaic gridder made no weight image"))?,
            );
            g.linear_images(planes, norm).map_err(gerr)?.0
        } else {
            g.images(planes, norm).map_err(gerr)?
        };
        v.pop().ok_or_else(changed)
    }

    /// [`ImagingContext::taylor_residuals`] of `sources` (a row partition's: not dispatched).
    pub fn taylor_residuals_of(
        &self,
        sources: &[Source],
        s: usize,
        weights: &PlaneWeights,
        reffreq_hz: f64,
        nterms: usize,
        models: Option<&[Array2<f32>]>,
    ) -> Result<TermImages, EngineError> {
        let pt = self.taylor_residuals_partial(sources, s, weights, reffreq_hz, nterms, models)?;
        Ok((pt.images, pt.sumwt))
    }

    /// [`ImagingContext::taylor_residuals_of`] with the normaliser of every image (a row
    /// partition's pass, [`PartialTerms`]).
    pub fn taylor_residuals_partial(
        &self,
        sources: &[Source],
        s: usize,
        weights: &PlaneWeights,
        reffreq_hz: f64,
        nterms: usize,
        models: Option<&[Array2<f32>]>,
    ) -> Result<PartialTerms, EngineError> {
        let kept = models
            .map(|m| self.taylor_residual_vis(sources, s, weights, reffreq_hz, m))
            .transpose()?;
        self.taylor_pass(
            nterms,
            reffreq_hz,
            sources,
            false,
            residual_chunks(weights, kept, s),
            |_| {},
        )
    }

    /// The visibilities minus the prediction of the Taylor model terms, one array per chunk (the
    /// model grids, one per term, are freed on return).
    fn taylor_residual_vis(
        &self,
        sources: &[Source],
        s: usize,
        weights: &PlaneWeights,
        reffreq_hz: f64,
        models: &[Array2<f32>],
    ) -> Result<Vec<Array2<Complex32>>, EngineError> {
        let sources = &crate::source::restrict_sources(sources, self.plan, &(K..K + 1))?;
        let g = self.gridder.as_ref();
        // Terms whose model is zero predict nothing.
        let planes: Vec<(i32, GridPlanes)> = models
            .iter()
            .enumerate()
            .filter(|(_, m)| m.iter().any(|v| *v != 0.0))
            .map(|(t, m)| Ok((t as i32, g.model_planes(&[m.view()]).map_err(gerr)?)))
            .collect::<Result<_, EngineError>>()?;
        let mut kept = Vec::new();
        let mut wts = weights.iter();
        self.vis().for_each_chunk(sources, &(K..K + 1), |prep| {
            let Some((cols, freqs)) = prep.columns(K) else {
                return Ok(());
            };
            let wgt = next_weights(&mut wts)?;
            let mut vis = prep.stokes[s].0.select(Axis(1), &cols);
            let f = TaylorOffsets::new(&freqs, prep.row_doppler.as_deref(), reffreq_hz);
            let batch = VisBatch::new(prep.uvw_m.view(), &freqs, wgt.view())
                .with_fields(&prep.field_r)
                .with_antennas(&prep.ant1_r, &prep.ant2_r)
                .with_times(&prep.time_r);
            let mut pred = Array2::<Complex32>::zeros(vis.dim());
            for (t, p) in &planes {
                g.predict(p, &batch, pred.view_mut()).map_err(gerr)?;
                ndarray::Zip::indexed(&mut vis)
                    .and(&pred)
                    .for_each(|(r, c), v, p| *v -= p * f.power(r, c, *t));
            }
            kept.push(vis);
            Ok(())
        })?;
        Ok(kept)
    }

    /// One pass over the chunks of the mfs channel gridding `nt` Taylor terms: `chunk` gives each
    /// chunk's imaging weights and (residual) visibilities, handed to `done` once gridded; returns
    /// the term images normalised by term 0's sum of weights (plain or scaled,
    /// [`ImagingContext::term_norms`]), and the sum of weights per term, with (a mosaic's PSF
    /// pass, `psf`) the terms' weight images ([`ImagingContext::term_image`]) and the normalisers.
    /// Each term's visibilities are formed in one buffer per chunk, reused term after term (term
    /// 0 of a residual pass grids the chunk's visibilities as they are).
    #[allow(clippy::type_complexity)]
    fn taylor_pass<W: Borrow<Array2<f32>>>(
        &self,
        nt: usize,
        reffreq_hz: f64,
        sources: &[Source],
        psf: bool,
        mut chunk: impl FnMut(
            &Prepared,
            &[usize],
            &[f64],
        ) -> Result<(W, Option<Array2<Complex32>>), EngineError>,
        mut done: impl FnMut(W),
    ) -> Result<PartialTerms, EngineError> {
        let sources = &crate::source::restrict_sources(sources, self.plan, &(K..K + 1))?;
        let g = self.gridder.as_ref();
        let factors = psf && self.beam_weights();
        let pass = self.term_pass(psf);
        let mut planes: Vec<GridPlanes> = (0..nt).map(|_| g.new_planes(pass)).collect();
        let mut sumwt = vec![0.0f64; nt];
        let mut scaled = vec![0.0f64; nt];
        self.vis().for_each_chunk(sources, &(K..K + 1), |prep| {
            let Some((cols, freqs)) = prep.columns(K) else {
                return Ok(());
            };
            let (wgt, vis) = chunk(prep, &cols, &freqs)?;
            let w = wgt.borrow();
            let f = TaylorOffsets::new(&freqs, prep.row_doppler.as_deref(), reffreq_hz);
            let mut buf: Option<Array2<Complex32>> = None;
            let mut fbuf: Option<Array2<f32>> = None;
            for (t, plane) in planes.iter_mut().enumerate() {
                let folded = fold(vis.as_ref(), &f, t, w.dim(), &mut buf);
                let mut batch = VisBatch::new(prep.uvw_m.view(), &freqs, w.view())
                    .with_fields(&prep.field_r)
                    .with_antennas(&prep.ant1_r, &prep.ant2_r)
                    .with_times(&prep.time_r)
                    .with_vis(folded);
                if factors && t > 0 {
                    batch = batch.with_weight_factors(weight_factors(&f, t, w.dim(), &mut fbuf));
                }
                let stats = g.grid(plane, &batch).map_err(gerr)?;
                sumwt[t] += if t == 0 {
                    stats.sum_weights
                } else {
                    term_weight_sum(w, &f, t)
                };
                scaled[t] += stats.sum_scaled_weights;
            }
            drop(buf);
            drop(fbuf);
            drop(vis);
            done(wgt);
            Ok(())
        })?;
        // Transformed one by one, each grid freed once its image is made.
        let mut images = Vec::with_capacity(nt);
        let mut pb_weights = Vec::new();
        let (mut norms, mut wnorms) = (Vec::with_capacity(nt), Vec::new());
        for (t, p) in planes.into_iter().enumerate() {
            let (n, wn) = self.term_scales(psf, t, sumwt[0], scaled[0]);
            images.push(self.term_image(p, n, wn, psf, &mut pb_weights)?);
            let (norm, wnorm) = self.term_norms(psf, t, sumwt[0], scaled[0]);
            norms.push(norm);
            if pb_weights.len() > wnorms.len() {
                wnorms.push(wnorm);
            }
        }
        norms.extend(wnorms);
        // A PSF pass grids 2 nterms - 1 terms, a residual pass nterms.
        let nterms = if psf { nt.div_ceil(2) } else { nt };
        let sums = (0..nt)
            .map(|t| self.term_sum(t, nterms, sumwt[t], scaled[t]))
            .collect();
        Ok(PartialTerms {
            images,
            sumwt: sums,
            weights: pb_weights,
            norms,
        })
    }
}

/// The visibilities of term `t` of a chunk of `dim` (rows, columns): `vis f^t`, or (PSF, `vis`
/// `None`) `f^t` alone, with `f` the offsets of [`TaylorOffsets`]; formed in `buf` (allocated on
/// first use), except term 0 of `vis`, which is `vis` itself.
fn fold<'b>(
    vis: Option<&'b Array2<Complex32>>,
    f: &TaylorOffsets,
    t: usize,
    dim: (usize, usize),
    buf: &'b mut Option<Array2<Complex32>>,
) -> ArrayView2<'b, Complex32> {
    let ti = t as i32;
    if let (Some(v), 0) = (vis, t) {
        return v.view();
    }
    let out = buf.get_or_insert_with(|| Array2::zeros(dim));
    match vis {
        Some(v) => ndarray::Zip::indexed(&mut *out)
            .and(v)
            .for_each(|(r, c), x, v| *x = v * f.power(r, c, ti)),
        None => ndarray::Zip::indexed(&mut *out)
            .for_each(|(r, c), x| *x = Complex32::new(f.power(r, c, ti), 0.0)),
    }
    out.view()
}

/// `f^t` of every sample of a chunk of `dim` (rows, columns), formed in `buf` (allocated on first
/// use): term `t`'s factors of the weights in a mosaic's weight image.
fn weight_factors<'b>(
    f: &TaylorOffsets,
    t: usize,
    dim: (usize, usize),
    buf: &'b mut Option<Array2<f32>>,
) -> ArrayView2<'b, f32> {
    let out = buf.get_or_insert_with(|| Array2::zeros(dim));
    let ti = t as i32;
    ndarray::Zip::indexed(&mut *out).for_each(|(r, c), x| *x = f.power(r, c, ti));
    out.view()
}

/// A mosaic's PSF terms divided by the peak of term 0 (tclean's `normPSF`: term 0 peaks at 1,
/// term t at `sum_p (sum w f^t)_p PB_p / sum_p W_p PB_p` at the PSF's centre).
pub fn normalise_psf_terms(psfs: &mut [Array2<f32>]) {
    let peak = psfs
        .first()
        .map_or(0.0, |p| p.iter().fold(0f32, |m, v| m.max(*v)));
    if peak > 0.0 {
        for p in psfs.iter_mut() {
            p.mapv_inplace(|v| v / peak);
        }
    }
}

/// `sum w f^t` over the weights the gridder counts (`> 0`, finite).
fn term_weight_sum(w: &Array2<f32>, f: &TaylorOffsets, t: usize) -> f64 {
    let mut sum = 0.0;
    ndarray::Zip::indexed(w).for_each(|(r, c), v| {
        if *v > 0.0 && v.is_finite() {
            sum += *v as f64 * f.at(r, c).powi(t as i32);
        }
    });
    sum
}

#[cfg(test)]
mod tests;

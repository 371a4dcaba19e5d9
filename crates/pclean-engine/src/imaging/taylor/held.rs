//! Taylor passes over a plane's visibilities held in memory between passes ([`hold_plane_vis`]):
//! the PSF pass then grids one term at a time, and the residual passes grid from the held
//! visibilities instead of reading the MS again.

use super::*;

/// One visibility chunk of a plane as the Taylor passes grid it (the columns of the mfs channel),
/// held between passes beside its imaging weights (`PlaneWeights`, same order).
pub struct HeldChunk {
    uvw_m: Array2<f64>,
    freqs: Vec<f64>,
    doppler: Option<Vec<f64>>,
    field_r: Vec<i32>,
    ant1_r: Vec<i32>,
    ant2_r: Vec<i32>,
    time_r: Vec<f64>,
    vis: Array2<Complex32>,
}

/// What a held term grids: the PSF (`f^t`), the held visibilities, or residual visibilities
/// (one array per held chunk).
#[derive(Clone, Copy)]
enum TermVis<'a> {
    Psf,
    Held,
    Residual(&'a [Array2<Complex32>]),
}

impl HeldChunk {
    fn offsets(&self, reffreq_hz: f64) -> TaylorOffsets<'_> {
        TaylorOffsets::new(&self.freqs, self.doppler.as_deref(), reffreq_hz)
    }

    fn batch<'a>(&'a self, w: &'a Array2<f32>) -> VisBatch<'a> {
        VisBatch::new(self.uvw_m.view(), &self.freqs, w.view())
            .with_fields(&self.field_r)
            .with_antennas(&self.ant1_r, &self.ant2_r)
            .with_times(&self.time_r)
    }
}

/// Bytes a plane's held visibilities take per visibility and per row ([`HeldChunk`]: the
/// visibilities, and a major cycle's residual copy of them, 8 B each; uvw 24 B, the Doppler
/// factor 8 B, the field 4 B, the two antennas 8 B and the time 8 B per row).
pub const HELD_BYTES_PER_VIS: u64 = 16;

pub const HELD_BYTES_PER_ROW: u64 = 52;

/// Whether a plane of `nvis` visibilities over `nrows` rows is held in memory for its Taylor
/// passes: when it takes no more than the `2 nterms - 2` grids it spares (the PSF pass then
/// holds one grid at a time instead of `2 nterms - 1`; `grid_bytes` is one term's plane set).
/// Otherwise every term's grid is alive during a pass, the visibilities streamed from the MS.
pub fn hold_plane_vis(nvis: u64, nrows: u64, nterms: usize, grid_bytes: u64) -> bool {
    let held = HELD_BYTES_PER_VIS * nvis + HELD_BYTES_PER_ROW * nrows;
    nterms > 1 && held <= (2 * nterms as u64 - 2) * grid_bytes
}

impl ImagingContext<'_> {
    /// [`ImagingContext::taylor_psfs`] holding the plane's visibilities: one pass over the MS
    /// grids the PSF's term 0 and keeps each chunk's visibilities ([`HeldChunk`]); the other terms
    /// are gridded from them one by one, each grid transformed and freed before the next is made.
    pub(super) fn taylor_psfs_held(
        &self,
        sources: &[Source],
        s: usize,
        weighter: &ImagingWeighter,
        nterms: usize,
        reffreq_hz: f64,
    ) -> Result<TaylorPsfs, EngineError> {
        let sources = &crate::source::restrict_sources(sources, self.plan, &(K..K + 1))?;
        let g = self.gridder.as_ref();
        let mut weights = Vec::new();
        let mut held = Vec::new();
        let mut planes = g.new_planes(self.term_pass(true));
        let (mut sumwt0, mut scaled0) = (0.0, 0.0);
        // Each chunk as read is freed once prepared: beside the next one being read, it would
        // otherwise sit through the gridding with the held copy growing.
        let mut vp = self.vis();
        vp.free_read_chunks = true;
        vp.for_each_chunk(sources, &(K..K + 1), |prep| {
            let Some((cols, freqs)) = prep.columns(K) else {
                return Ok(());
            };
            let w = self.imaging_weights(prep, s, &cols, &freqs, weighter);
            let chunk = HeldChunk {
                uvw_m: prep.uvw_m.clone(),
                freqs,
                doppler: prep.row_doppler.clone(),
                field_r: prep.field_r.clone(),
                ant1_r: prep.ant1_r.clone(),
                ant2_r: prep.ant2_r.clone(),
                time_r: prep.time_r.clone(),
                vis: prep.stokes[s].0.select(Axis(1), &cols),
            };
            let f = chunk.offsets(reffreq_hz);
            let mut buf = None;
            let ones = fold(None, &f, 0, w.dim(), &mut buf);
            let stats = g
                .grid(&mut planes, &chunk.batch(&w).with_vis(ones))
                .map_err(gerr)?;
            sumwt0 += stats.sum_weights;
            scaled0 += stats.sum_scaled_weights;
            weights.push(w);
            held.push(chunk);
            Ok(())
        })?;
        let tt0 = (sumwt0, scaled0);
        let (norm, wnorm) = self.term_scales(true, 0, sumwt0, scaled0);
        let mut pb_weights = Vec::new();
        let first = self.term_image(planes, norm, wnorm, true, &mut pb_weights)?;
        let mut out = (vec![first], vec![self.term_sum(0, nterms, sumwt0, scaled0)]);
        let terms = 1..2 * nterms - 1;
        self.held_terms(
            &held,
            &weights,
            TermVis::Psf,
            terms,
            reffreq_hz,
            tt0,
            &mut out,
            &mut pb_weights,
        )?;
        let (mut psfs, sumwt) = out;
        if !pb_weights.is_empty() {
            normalise_psf_terms(&mut psfs);
        }
        Ok(TaylorPsfs {
            psfs,
            sumwt,
            weights,
            pb_weights,
            held: Some(held),
        })
    }

    /// Term `t` of the held chunks (of `vis`'s visibilities) gridded into one fresh plane set,
    /// with `sum w f^t` (term 0: the gridder's sum of weights) and the gridder's scaled sum
    /// ([`pclean_grid::gridder::GridStats::sum_scaled_weights`]).
    fn held_term(
        &self,
        held: &[HeldChunk],
        weights: &PlaneWeights,
        vis: TermVis,
        t: usize,
        reffreq_hz: f64,
    ) -> Result<(GridPlanes, f64, f64), EngineError> {
        let g = self.gridder.as_ref();
        let mut planes = g.new_planes(self.term_pass(matches!(vis, TermVis::Psf)));
        let (mut sumwt, mut scaled) = (0.0, 0.0);
        for (i, (c, w)) in held.iter().zip(weights).enumerate() {
            let f = c.offsets(reffreq_hz);
            let v = match vis {
                TermVis::Psf => None,
                TermVis::Held => Some(&c.vis),
                TermVis::Residual(r) => Some(&r[i]),
            };
            let mut buf = None;
            let folded = fold(v, &f, t, w.dim(), &mut buf);
            let mut batch = c.batch(w).with_vis(folded);
            let mut fbuf = None;
            if let (TermVis::Psf, true) = (vis, self.beam_weights() && t > 0) {
                batch = batch.with_weight_factors(weight_factors(&f, t, w.dim(), &mut fbuf));
            }
            let stats = g.grid(&mut planes, &batch).map_err(gerr)?;
            sumwt += if t == 0 {
                stats.sum_weights
            } else {
                term_weight_sum(w, &f, t)
            };
            scaled += stats.sum_scaled_weights;
        }
        Ok((planes, sumwt, scaled))
    }

    /// Terms `from..nt` of the held chunks, each gridded, transformed with the scales of the
    /// pass's tt0 sums `tt0` (plain, scaled: [`ImagingContext::term_scales`]) and freed before
    /// the next; appended to `out` (a mosaic's PSF terms' weight images to `pb_weights`).
    #[allow(clippy::too_many_arguments)]
    fn held_terms(
        &self,
        held: &[HeldChunk],
        weights: &PlaneWeights,
        vis: TermVis,
        terms: std::ops::Range<usize>,
        reffreq_hz: f64,
        tt0: (f64, f64),
        out: &mut TermImages,
        pb_weights: &mut Vec<Array2<f32>>,
    ) -> Result<(), EngineError> {
        let psf = matches!(vis, TermVis::Psf);
        // A PSF pass grids 2 nterms - 1 terms, a residual pass nterms.
        let nterms = if psf {
            terms.end.div_ceil(2)
        } else {
            terms.end
        };
        for t in terms {
            let (planes, sw, sc) = self.held_term(held, weights, vis, t, reffreq_hz)?;
            let (norm, wnorm) = self.term_scales(psf, t, tt0.0, tt0.1);
            out.0
                .push(self.term_image(planes, norm, wnorm, psf, pb_weights)?);
            out.1.push(self.term_sum(t, nterms, sw, sc));
        }
        Ok(())
    }

    /// [`ImagingContext::taylor_residuals`] from the held visibilities (no MS read): each
    /// non-zero model term's grid is made, predicts every chunk (subtracted from a copy of the
    /// visibilities) and is freed; then the residual terms are gridded one at a time, term 0
    /// first (its sum of weights normalises every term).
    pub fn taylor_residuals_held(
        &self,
        held: &[HeldChunk],
        weights: &PlaneWeights,
        reffreq_hz: f64,
        nterms: usize,
        models: Option<&[Array2<f32>]>,
    ) -> Result<TermImages, EngineError> {
        if held.len() != weights.len() {
            return Err(changed());
        }
        let g = self.gridder.as_ref();
        let mut resid: Option<Vec<Array2<Complex32>>> = None;
        for (t, m) in models.into_iter().flatten().enumerate() {
            if !m.iter().any(|v| *v != 0.0) {
                continue;
            }
            let ti = t as i32;
            let r = resid.get_or_insert_with(|| held.iter().map(|c| c.vis.clone()).collect());
            let planes = g.model_planes(&[m.view()]).map_err(gerr)?;
            for ((c, w), v) in held.iter().zip(weights).zip(r.iter_mut()) {
                let f = c.offsets(reffreq_hz);
                let mut pred = Array2::<Complex32>::zeros(v.dim());
                g.predict(&planes, &c.batch(w), pred.view_mut())
                    .map_err(gerr)?;
                ndarray::Zip::indexed(v)
                    .and(&pred)
                    .for_each(|(r, c), v, p| *v -= p * f.power(r, c, ti));
            }
        }
        let vis = match &resid {
            Some(r) => TermVis::Residual(r),
            None => TermVis::Held,
        };
        let (planes, sumwt0, scaled0) = self.held_term(held, weights, vis, 0, reffreq_hz)?;
        let (norm, wnorm) = self.term_scales(false, 0, sumwt0, scaled0);
        let mut none = Vec::new();
        let first = self.term_image(planes, norm, wnorm, false, &mut none)?;
        let mut out = (vec![first], vec![self.term_sum(0, nterms, sumwt0, scaled0)]);
        let terms = 1..nterms;
        let tt0 = (sumwt0, scaled0);
        self.held_terms(
            held, weights, vis, terms, reffreq_hz, tt0, &mut out, &mut none,
        )?;
        Ok(out)
    }
}

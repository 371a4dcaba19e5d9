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
//! grid per term is alive during a pass.

use super::{changed, gerr, next_weights, residual_chunks, ImagingContext, PlaneWeights};
use crate::error::EngineError;
use crate::source::{Prepared, Source};
use ndarray::{Array2, Axis};
use num_complex::Complex32;
use pclean_grid::seam::{GridPlanes, Pass, VisBatch};
use pclean_grid::weighting::ImagingWeighter;
use std::borrow::Borrow;

/// The mfs image has one channel.
const K: usize = 0;

/// `(nu - nu0) / nu0` of each row and column of a chunk, at the image frame's frequencies: the
/// columns' frequencies `freqs` times each row's Doppler factor `doppler` (mfs of TOPO data:
/// tclean's Taylor factors use the LSRK frequencies; `None`: `freqs` are the image frame's).
pub fn taylor_offsets(
    freqs: &[f64],
    doppler: Option<&[f64]>,
    nrow: usize,
    reffreq_hz: f64,
) -> Array2<f64> {
    Array2::from_shape_fn((nrow, freqs.len()), |(r, c)| {
        let nu = freqs[c] * doppler.map_or(1.0, |d| d[r]);
        (nu - reffreq_hz) / reffreq_hz
    })
}

/// The PSF terms of an mtmfs plane (`2 nterms - 1`), their sums of weights and the imaging
/// weights (kept for the major cycles).
pub struct TaylorPsfs {
    pub psfs: Vec<Array2<f32>>,
    pub sumwt: Vec<f64>,
    pub weights: PlaneWeights,
}

/// One Taylor pass's images and sums of weights per term.
pub type TermImages = (Vec<Array2<f32>>, Vec<f64>);

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
        self.taylor_psfs_of(sources, s, weighter, nterms, reffreq_hz)
    }

    /// [`ImagingContext::taylor_psfs`] of `sources` (a row partition's: not dispatched).
    pub fn taylor_psfs_of(
        &self,
        sources: &[Source],
        s: usize,
        weighter: &ImagingWeighter,
        nterms: usize,
        reffreq_hz: f64,
    ) -> Result<TaylorPsfs, EngineError> {
        let mut weights = Vec::new();
        let (psfs, sumwt) = self.taylor_pass(
            2 * nterms - 1,
            reffreq_hz,
            sources,
            |prep, cols, freqs| Ok((self.imaging_weights(prep, s, cols, freqs, weighter), None)),
            |w| weights.push(w),
        )?;
        Ok(TaylorPsfs {
            psfs,
            sumwt,
            weights,
        })
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
        let kept = models
            .map(|m| self.taylor_residual_vis(sources, s, weights, reffreq_hz, m))
            .transpose()?;
        self.taylor_pass(
            nterms,
            reffreq_hz,
            sources,
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
        let planes: Vec<(usize, GridPlanes)> = models
            .iter()
            .enumerate()
            .filter(|(_, m)| m.iter().any(|v| *v != 0.0))
            .map(|(t, m)| Ok((t, g.model_planes(&[m.view()]).map_err(gerr)?)))
            .collect::<Result<_, EngineError>>()?;
        let mut kept = Vec::new();
        let mut wts = weights.iter();
        self.vis().for_each_chunk(sources, &(K..K + 1), |prep| {
            let Some((cols, freqs)) = prep.columns(K) else {
                return Ok(());
            };
            let wgt = next_weights(&mut wts)?;
            let mut vis = prep.stokes[s].0.select(Axis(1), &cols);
            let f = taylor_offsets(&freqs, prep.row_doppler.as_deref(), vis.nrows(), reffreq_hz);
            let batch =
                VisBatch::new(prep.uvw_m.view(), &freqs, wgt.view()).with_fields(&prep.field_r);
            let mut pred = Array2::<Complex32>::zeros(vis.dim());
            for (t, p) in &planes {
                g.predict(p, &batch, pred.view_mut()).map_err(gerr)?;
                let ti = *t as i32;
                ndarray::Zip::from(&mut vis)
                    .and(&pred)
                    .and(&f)
                    .for_each(|v, p, fv| *v -= p * fv.powi(ti) as f32);
            }
            kept.push(vis);
            Ok(())
        })?;
        Ok(kept)
    }

    /// One pass over the chunks of the mfs channel gridding `nt` Taylor terms: `chunk` gives each
    /// chunk's imaging weights and (residual) visibilities, handed to `done` once gridded; returns
    /// the term images normalised by term 0's sum of weights, and the sum of weights per term.
    fn taylor_pass<W: Borrow<Array2<f32>>>(
        &self,
        nt: usize,
        reffreq_hz: f64,
        sources: &[Source],
        mut chunk: impl FnMut(
            &Prepared,
            &[usize],
            &[f64],
        ) -> Result<(W, Option<Array2<Complex32>>), EngineError>,
        mut done: impl FnMut(W),
    ) -> Result<TermImages, EngineError> {
        let sources = &crate::source::restrict_sources(sources, self.plan, &(K..K + 1))?;
        let g = self.gridder.as_ref();
        let mut planes: Vec<GridPlanes> = (0..nt).map(|_| g.new_planes(Pass::Residual)).collect();
        let mut sumwt = vec![0.0f64; nt];
        self.vis().for_each_chunk(sources, &(K..K + 1), |prep| {
            let Some((cols, freqs)) = prep.columns(K) else {
                return Ok(());
            };
            let (wgt, vis) = chunk(prep, &cols, &freqs)?;
            let w = wgt.borrow();
            let f = taylor_offsets(&freqs, prep.row_doppler.as_deref(), w.nrows(), reffreq_hz);
            for (t, plane) in planes.iter_mut().enumerate() {
                let folded = fold(vis.as_ref(), &f, t);
                let batch = VisBatch::new(prep.uvw_m.view(), &freqs, w.view())
                    .with_fields(&prep.field_r)
                    .with_vis(folded.view());
                let stats = g.grid(plane, &batch).map_err(gerr)?;
                sumwt[t] += if t == 0 {
                    stats.sum_weights
                } else {
                    term_weight_sum(w, &f, t)
                };
            }
            done(wgt);
            Ok(())
        })?;
        let norm = if sumwt[0] > 0.0 { 1.0 / sumwt[0] } else { 0.0 };
        let images = planes
            .into_iter()
            .map(|p| {
                let mut v = g.images(p, norm).map_err(gerr)?;
                v.pop().ok_or_else(changed)
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        Ok((images, sumwt))
    }
}

/// The visibilities of term `t`: `vis f^t`, or (PSF, `vis` `None`) `f^t` alone, with `f` the
/// offsets of [`taylor_offsets`].
fn fold(vis: Option<&Array2<Complex32>>, f: &Array2<f64>, t: usize) -> Array2<Complex32> {
    let ti = t as i32;
    match vis {
        Some(v) if t == 0 => v.clone(),
        Some(v) => {
            let mut out = v.clone();
            ndarray::Zip::from(&mut out)
                .and(f)
                .for_each(|x, fv| *x *= fv.powi(ti) as f32);
            out
        }
        None => f.mapv(|fv| Complex32::new(fv.powi(ti) as f32, 0.0)),
    }
}

/// `sum w f^t` over the weights the gridder counts (`> 0`, finite).
fn term_weight_sum(w: &Array2<f32>, f: &Array2<f64>, t: usize) -> f64 {
    let mut sum = 0.0;
    ndarray::Zip::from(w).and(f).for_each(|v, fv| {
        if *v > 0.0 && v.is_finite() {
            sum += *v as f64 * fv.powi(t as i32);
        }
    });
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use pclean_grid::gridder::{GridSpec, Gridder, GridderOptions, FOURIER_SIGN};
    use pclean_grid::seam::{StandardGridder, VisGridder};
    use pclean_grid::wgrid::{precision_for, WGridder};
    use std::f64::consts::PI;

    const C: f64 = 299_792_458.0;
    const NU0: f64 = 1.5e9;

    /// `l`, `m` and `n - 1` of pixel `(y, x)` (tclean's convention, docs/conventions.md).
    fn lmn(n: usize, cell: f64, y: f64, x: f64) -> (f64, f64, f64) {
        let (l, m) = ((n as f64 / 2.0 - x) * cell, (y - n as f64 / 2.0) * cell);
        (l, m, (1.0 - l * l - m * m).sqrt() - 1.0)
    }

    /// Grids the Taylor terms of a source of spectral index -0.8 (1 Jy at nu0, 8 channels over
    /// +-25%) at pixel `src` (3 PSF terms, 2 residual terms, each folded by [`fold`] as the
    /// Taylor pass does) with `g`, and checks them against the exact DFT sums
    /// `sum_k w f_k^t Re[V_k e^{s 2 pi i (u l + v m + w (n - 1))}] / sum_k w` (f = (nu - nu0)/nu0,
    /// s = `FOURIER_SIGN`; `with_w`: the w term in the data and the sum, else w = 0) at `pixels`.
    /// Tolerance 1e-4 of the tt0 peak (1): the ES kernel's epsilon is 1e-6 and the images f32.
    fn check_terms(
        g: &dyn VisGridder,
        n: usize,
        cell: f64,
        uvw_scale_m: f64,
        with_w: bool,
        src: (f64, f64),
        pixels: &[(usize, usize)],
    ) {
        let freqs: Vec<f64> = (0..8)
            .map(|i| NU0 * (0.75 + 0.5 * i as f64 / 7.0))
            .collect();
        let mut s = 99u64;
        let mut rnd = move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        let nrow = 300;
        let uvw = Array2::from_shape_fn((nrow, 3), |(_, c)| {
            if c == 2 && !with_w {
                0.0
            } else {
                uvw_scale_m * rnd()
            }
        });
        let w = Array2::from_shape_fn((nrow, 8), |_| (1.0 + rnd()) as f32);
        let (l0, m0, n0) = lmn(n, cell, src.0, src.1);
        let uvw_l = |r: usize, nu: f64| [0, 1, 2].map(|c| uvw[[r, c]] * nu / C);
        let vis = Array2::from_shape_fn((nrow, 8), |(r, c)| {
            let [u, v, ww] = uvw_l(r, freqs[c]);
            let ph = -FOURIER_SIGN * 2.0 * PI * (u * l0 + v * m0 + ww * n0);
            let a = (freqs[c] / NU0).powf(-0.8);
            Complex32::new((a * ph.cos()) as f32, (a * ph.sin()) as f32)
        });
        let f = taylor_offsets(&freqs, None, nrow, NU0);
        let sumw: f64 = w.iter().map(|v| *v as f64).sum();
        for (nt, with_vis) in [(3usize, false), (2, true)] {
            for t in 0..nt {
                let mut planes = g.new_planes(Pass::Residual);
                let folded = fold(with_vis.then_some(&vis), &f, t);
                let batch = VisBatch::new(uvw.view(), &freqs, w.view()).with_vis(folded.view());
                let st = g.grid(&mut planes, &batch).unwrap();
                assert!((st.sum_weights - sumw).abs() < 1e-6 * sumw);
                let img = g.images(planes, 1.0 / sumw).unwrap().remove(0);
                for &(y, x) in pixels {
                    let (l, m, n1) = lmn(n, cell, y as f64, x as f64);
                    let mut sum = 0.0;
                    for r in 0..nrow {
                        for (k, nu) in freqs.iter().enumerate() {
                            let [u, v, ww] = uvw_l(r, *nu);
                            let z = if with_vis {
                                vis[[r, k]]
                            } else {
                                Complex32::new(1.0, 0.0)
                            };
                            let ph = FOURIER_SIGN * 2.0 * PI * (u * l + v * m + ww * n1);
                            let re = z.re as f64 * ph.cos() - z.im as f64 * ph.sin();
                            sum += w[[r, k]] as f64 * f[[r, k]].powi(t as i32) * re;
                        }
                    }
                    let (want, got) = (sum / sumw, img[[y, x]] as f64);
                    assert!(
                        (got - want).abs() < 1e-4,
                        "{} term {t} (vis {with_vis}) ({y},{x}): {got} vs {want}",
                        g.name()
                    );
                }
            }
        }
        // The tt0 weight sum is the gridder's; the others' from `term_weight_sum`.
        let t1: f64 = (0..nrow)
            .flat_map(|r| (0..8).map(move |k| (r, k)))
            .map(|(r, k)| w[[r, k]] as f64 * f[[r, k]])
            .sum();
        assert!((term_weight_sum(&w, &f, 1) - t1).abs() < 1e-9 * sumw);
    }

    fn spec(n: usize, cell: f64) -> GridSpec {
        GridSpec {
            nx: n,
            ny: n,
            cell_x_rad: cell,
            cell_y_rad: cell,
            epsilon: 1e-6,
        }
    }

    /// The 2-D gridder (w = 0): a source at the phase centre, a small field.
    #[test]
    fn taylor_terms_equal_the_dft() {
        let (n, cell) = (64usize, 2e-5);
        let sg = StandardGridder::new(Gridder::new(spec(n, cell)).unwrap(), 1);
        let pixels = [(32usize, 32usize), (32, 35), (29, 32), (36, 30)];
        check_terms(&sg, n, cell, 2.0e3, false, (32.0, 32.0), &pixels);
    }

    /// The w-stacking gridder of `wproject` / `widefield` (mtmfs's Taylor passes through it): a
    /// field of 64 x 64 pixels of 1e-3 rad (3.7 deg; |n - 1| up to 2e-3 at the corners) with
    /// |w| up to ~190 wavelengths, a source off the centre, the terms checked at the source, the
    /// centre and near the corners (where the w phase is largest).
    #[test]
    fn taylor_terms_with_the_w_term_equal_the_dft() {
        let (n, cell) = (64usize, 1e-3);
        let base = Gridder::with_options(
            spec(n, cell),
            GridderOptions {
                precision: Some(precision_for(1e-6)),
                ..Default::default()
            },
        )
        .unwrap();
        // |w| <= 0.5 * 90 m at 1.875 GHz (+ margin).
        let wmax = 0.5 * 90.0 * 1.875e9 / C * 1.01;
        let wg = WGridder::new(base, wmax, 0).unwrap().with_threads(1);
        assert!(wg.nplanes() > 1, "{} w planes", wg.nplanes());
        let pixels = [(32usize, 32usize), (10, 50), (4, 4), (60, 58), (58, 6)];
        check_terms(&wg, n, cell, 90.0, true, (10.0, 50.0), &pixels);
    }
}

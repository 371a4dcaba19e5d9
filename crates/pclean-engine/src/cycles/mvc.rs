//! `specmode='mvc'`: the Taylor terms of an mtmfs block from a cube major cycle, as tclean 6.7's
//! mtmfs-via-cube imager (facts measured on its products, `docs/decisions.md (s10-mvc)`). With
//! `w_c` the cube's sums of weights per channel, `W = sum w_c`, `x_c = (nu_c - nu0)/nu0` at the
//! channel centres, `pb_c` the channel's primary beam (zero at and below |pblimit|) and
//! `pb.tt0 = sum w_c pb_c / W` divided by its peak:
//! - `psf.ttN = sum_c w_c x_c^N psf_c (pb_c / pb.tt0) / W` (2 nterms - 1 terms);
//! - `residual.ttN = sum_c w_c x_c^N R_c / W` over the pixels where `pb_c > 0` (a channel adds
//!   nothing where its beam is below pblimit);
//! - `sumwt.ttN = sum_c w_c^2 x_c^N / W`;
//! - the model cube of a major cycle is `sum_t x_c^t model.ttt (pb_c / pb.tt0)`, zero where
//!   `pb.tt0 < |pblimit|`: the Taylor models are the sky times pb.tt0, each channel predicts its
//!   own primary beam's (the "accurate wideband primary-beam correction").
//!
//! tclean also writes the cube itself beside the Taylor terms (measured, `docs/decisions.md (s13-mvc)`),
//! and so does this module, each plane as soon as it is made: `.psf` (the channel PSFs, peak 1),
//! `.pb` (`pb_c`), `.sumwt` (`w_c`), after every residual pass `.residual` (`R_c pb.tt0 / pb_c`
//! where `pb_c > 0`, else 0: the channel residual as flat noise, the unlimited `pb.tt0`) and at the
//! end the `.model` cube of the final Taylor models.
//!
//! A mosaic (`gridder='mosaic'`; tclean 6.7's mvc of a mosaic, measured on the bundled
//! wideband_mosaic.ms, `docs/decisions.md (s17-mvc)`): every channel is a mosaic of its own, with
//! its own weight image `W_c` (written as the `.weight` cube, no `.weight.ttN`): `psf_c`
//! normalised to a peak of 1, `R_c` divided by `W_c` as `normtype` says
//! (`imaging::mosaic::normalise_residual`), `pb_c = sqrt(W_c / max W_c)` zero at and below
//! |pblimit|, each channel's model turned into sky brightness with `W_c` before its prediction
//! (`imaging::mosaic::model_to_sky`); the Taylor sums above are then the same.

use crate::error::EngineError;
use crate::exec::block::{BlockInputs, PutPlane};
use crate::imaging::mosaic;
use crate::imaging::mvc::{channel_offsets, MvcAxis};
use crate::imaging::taylor::{TaylorPsfs, TermImages};
use crate::imaging::{ImagingContext, PlaneWeights};
use crate::source::Source;
use ndarray::Array2;
use pclean_grid::weighting::ImagingWeighter;

/// An mvc block's cube and what the PSF pass found (channel weights, beams).
pub struct MvcImaging {
    pub axis: MvcAxis,
    /// `(nu_c - nu0) / nu0` per channel.
    x: Vec<f64>,
    /// Sum of weights per channel (after the PSF pass).
    w: Vec<f64>,
    /// `pb_c / pb.tt0` per channel, 0 where `pb.tt0 < |pblimit|`.
    fac: Vec<Array2<f32>>,
    /// `pb.tt0` (peak 1, not limited).
    pbt: Array2<f32>,
    /// A mosaic's weight image of every channel (after the PSF pass; empty for the other
    /// gridders).
    wimg: Vec<Array2<f32>>,
}

impl MvcImaging {
    /// The cube of an mvc run over the plan's mfs band (`nchan` 0: tclean's default).
    pub fn new(ctx: &ImagingContext, nchan: usize, reffreq_hz: f64) -> Result<Self, EngineError> {
        let (lo, hi) = ctx.plan.mfs_band_hz.ok_or_else(|| {
            EngineError::internal("specmode='mvc' without the mfs band in the spectral plan")
        })?;
        let axis = MvcAxis::over_band(lo, hi, nchan, ctx.params.deconv.nterms);
        let x = channel_offsets(&axis, reffreq_hz);
        Ok(MvcImaging {
            axis,
            x,
            w: Vec::new(),
            fac: Vec::new(),
            pbt: Array2::zeros((0, 0)),
            wimg: Vec::new(),
        })
    }

    /// The `2 nterms - 1` PSF terms from the channel PSFs; also sets the channel weights and the
    /// primary beams, and writes the `.psf`, `.pb` and `.sumwt` cubes of Stokes plane `s` (a
    /// mosaic's `.weight` cube too).
    #[allow(clippy::too_many_arguments)]
    pub fn psfs(
        &mut self,
        ctx: &ImagingContext,
        inp: &BlockInputs,
        sources: &[Source],
        s: usize,
        weighter: &ImagingWeighter,
        nterms: usize,
        put: &PutPlane,
    ) -> Result<TaylorPsfs, EngineError> {
        let ((mut psfs, w), wimg, weights) = ctx.mvc_psfs(sources, s, weighter, &self.axis)?;
        if !wimg.is_empty() && wimg.len() != self.axis.nchan {
            return Err(EngineError::internal(
                "an mvc mosaic without one weight image per channel",
            ));
        }
        self.wimg = wimg;
        if !self.wimg.is_empty() {
            psfs.iter_mut().for_each(mosaic::normalise_psf);
        }
        let total: f64 = w.iter().sum();
        let pbs: Vec<Array2<f32>> = (0..self.axis.nchan)
            .map(|c| self.channel_pb(inp, c))
            .collect();
        for (c, ((psf, pb), wc)) in psfs.iter().zip(&pbs).zip(&w).enumerate() {
            put("psf", c, s, psf.view())?;
            put("pb", c, s, pb.view())?;
            put("sumwt", c, s, Array2::from_elem((1, 1), *wc as f32).view())?;
            if let Some(wi) = self.wimg.get(c) {
                put("weight", c, s, wi.view())?;
            }
        }
        let p = ctx.params;
        let mut pbt = Array2::<f64>::zeros((p.ny, p.nx));
        for (pb, wc) in pbs.iter().zip(&w) {
            pbt.zip_mut_with(pb, |a, b| *a += wc * *b as f64);
        }
        let peak = pbt.iter().fold(0.0f64, |m, v| m.max(*v));
        let pbt = pbt.mapv(|v| if peak > 0.0 { (v / peak) as f32 } else { 0.0 });
        let limit = p.pblimit.abs() as f32;
        self.fac = pbs
            .iter()
            .map(|pb| {
                let mut f = pb.clone();
                f.zip_mut_with(&pbt, |a, t| {
                    *a = if *t >= limit && *t > 0.0 { *a / t } else { 0.0 }
                });
                f
            })
            .collect();
        self.pbt = pbt;
        self.w = w;
        let n = 2 * nterms - 1;
        let weighted: Vec<Array2<f32>> =
            psfs.iter().zip(&self.fac).map(|(psf, f)| psf * f).collect();
        let terms = self.taylor_sums(&weighted, n, false);
        let sumwt = (0..n)
            .map(|t| {
                let s: f64 = self
                    .w
                    .iter()
                    .zip(&self.x)
                    .map(|(wc, x)| wc * wc * x.powi(t as i32))
                    .sum();
                if total > 0.0 {
                    s / total
                } else {
                    0.0
                }
            })
            .collect();
        Ok(TaylorPsfs {
            psfs: terms,
            sumwt,
            weights,
            pb_weights: Vec::new(),
            held: None,
        })
    }

    /// The `nterms` residual terms: of the data (`models` `None`) or after subtracting the
    /// channel models made from the Taylor `models`; writes the `.residual` cube of Stokes
    /// plane `s` (each pass rewrites it: the last is the final one).
    #[allow(clippy::too_many_arguments)]
    pub fn residuals(
        &self,
        ctx: &ImagingContext,
        inp: &BlockInputs,
        sources: &[Source],
        s: usize,
        weights: &PlaneWeights,
        nterms: usize,
        models: Option<&[Array2<f32>]>,
        put: &PutPlane,
    ) -> Result<TermImages, EngineError> {
        let p = ctx.params;
        let (normtype, pblimit) = (p.mosaic.normtype, p.pblimit);
        let cube = models.map(|m| {
            let mut cube = self.model_cube(m);
            // A mosaic predicts sky brightness: each channel's model divided by its response.
            for (m, w) in cube.iter_mut().zip(&self.wimg) {
                *m = mosaic::model_to_sky(m, w, normtype, pblimit);
            }
            cube
        });
        let (mut chans, _) = ctx.mvc_residuals(sources, s, weights, &self.axis, cube.as_deref())?;
        drop(cube);
        for (r, w) in chans.iter_mut().zip(&self.wimg) {
            mosaic::normalise_residual(r, w, normtype, pblimit);
        }
        let terms = self.taylor_sums(&chans, nterms, true);
        for (c, r) in chans.iter().enumerate() {
            let pb = self.channel_pb(inp, c);
            put("residual", c, s, self.flat_residual(r, &pb).view())?;
        }
        Ok((terms, Vec::new()))
    }

    /// Channel `c`'s primary beam, zero at and below |pblimit| (the `.pb` cube's plane): a
    /// mosaic's from the channel's weight image.
    fn channel_pb(&self, inp: &BlockInputs, c: usize) -> Array2<f32> {
        if let Some(w) = self.wimg.get(c) {
            return mosaic::pb_from_weight(w, inp.ctx.params.pblimit);
        }
        let mut pb = inp.pb_at(self.axis.freq(c));
        pclean_grid::pb::pb_limit_in_place(pb.view_mut(), inp.ctx.params.pblimit);
        pb
    }

    /// tclean's `.residual` cube plane of a channel residual `r` (normalised by the channel's
    /// sum of weights): `r pb.tt0 / pb_c` where the channel's limited beam `pb` is non-zero (the
    /// unlimited `pb.tt0`: measured where `pb.tt0` is below pblimit too), zero elsewhere.
    fn flat_residual(&self, r: &Array2<f32>, pb: &Array2<f32>) -> Array2<f32> {
        let mut out = r.clone();
        ndarray::Zip::from(&mut out)
            .and(pb)
            .and(&self.pbt)
            .for_each(|v, b, t| *v = if *b > 0.0 { *v * *t / *b } else { 0.0 });
        out
    }

    /// Write the `.model` cube of Stokes plane `s` from the Taylor `models`: the model each
    /// channel predicts (`sum_t x_c^t model_t (pb_c / pb.tt0)`), one channel at a time.
    pub fn write_model_cube(
        &self,
        models: &[Array2<f32>],
        s: usize,
        put: &PutPlane,
    ) -> Result<(), EngineError> {
        for (c, (x, f)) in self.x.iter().zip(&self.fac).enumerate() {
            put("model", c, s, channel_model(models, *x, f).view())?;
        }
        Ok(())
    }

    /// `pb.tt0` with `pblimit` applied (the product).
    pub fn pb_tt0(&self, pblimit: f64) -> Array2<f32> {
        let mut pb = self.pbt.clone();
        pclean_grid::pb::pb_limit_in_place(pb.view_mut(), pblimit);
        pb
    }

    /// The Taylor sums `sum_c w_c x_c^t img_c / W` of the channel images, `t < nt` (`in_beam`:
    /// only where the channel's factor, hence its limited beam, is non-zero).
    fn taylor_sums(&self, chans: &[Array2<f32>], nt: usize, in_beam: bool) -> Vec<Array2<f32>> {
        let total: f64 = self.w.iter().sum();
        (0..nt)
            .map(|t| {
                let mut acc = Array2::<f64>::zeros(chans[0].dim());
                for (c, img) in chans.iter().enumerate() {
                    let a = self.w[c] * self.x[c].powi(t as i32);
                    if a == 0.0 {
                        continue;
                    }
                    ndarray::Zip::from(&mut acc)
                        .and(img)
                        .and(&self.fac[c])
                        .for_each(|s, v, f| {
                            if !in_beam || *f != 0.0 {
                                *s += a * *v as f64
                            }
                        });
                }
                acc.mapv(|v| if total > 0.0 { (v / total) as f32 } else { 0.0 })
            })
            .collect()
    }

    /// The model cube of the Taylor models: `sum_t x_c^t model_t (pb_c / pb.tt0)`.
    fn model_cube(&self, models: &[Array2<f32>]) -> Vec<Array2<f32>> {
        self.x
            .iter()
            .zip(&self.fac)
            .map(|(x, f)| channel_model(models, *x, f))
            .collect()
    }
}

/// One channel's model (offset `x`, beam ratio `fac`) of the Taylor `models`.
fn channel_model(models: &[Array2<f32>], x: f64, fac: &Array2<f32>) -> Array2<f32> {
    let mut m = Array2::<f32>::zeros(fac.dim());
    for (t, mt) in models.iter().enumerate() {
        let a = x.powi(t as i32) as f32;
        m.zip_mut_with(mt, |v, b| *v += a * b);
    }
    m * fac
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two channels at x = -0.2 and +0.3 with weights 1 and 3, beams 1 and 0.5 against a pb.tt0
    /// of 0.8 at pixel 0 and channel 1's beam below pblimit (0) at pixel 1: the Taylor sums, the
    /// residual's in-beam rule and the model cube as the module's formulas (exact sums: 1e-6).
    #[test]
    fn taylor_sums_and_model_cube_follow_tcleans_formulas() {
        let m = MvcImaging {
            axis: MvcAxis::over_band(1.0e9, 2.0e9, 2, 2),
            x: vec![-0.2, 0.3],
            w: vec![1.0, 3.0],
            fac: vec![
                Array2::from_shape_vec((1, 2), vec![1.0 / 0.8, 1.0]).unwrap(),
                Array2::from_shape_vec((1, 2), vec![0.5 / 0.8, 0.0]).unwrap(),
            ],
            pbt: Array2::from_shape_vec((1, 2), vec![0.8, 0.3]).unwrap(),
            wimg: Vec::new(),
        };
        let img = vec![
            Array2::from_shape_vec((1, 2), vec![2.0f32, 5.0]).unwrap(),
            Array2::from_shape_vec((1, 2), vec![4.0f32, 7.0]).unwrap(),
        ];
        let close = |a: f32, b: f64| assert!((a as f64 - b).abs() < 1e-6, "{a} vs {b}");
        let all = m.taylor_sums(&img, 2, false);
        close(all[0][[0, 0]], (2.0 + 3.0 * 4.0) / 4.0);
        close(all[1][[0, 1]], (-0.2 * 5.0 + 3.0 * 0.3 * 7.0) / 4.0);
        // In-beam: channel 1 adds nothing at pixel 1, the denominator stays W = 4.
        let beam = m.taylor_sums(&img, 2, true);
        close(beam[0][[0, 1]], 5.0 / 4.0);
        close(beam[0][[0, 0]], (2.0 + 3.0 * 4.0) / 4.0);
        let models = vec![
            Array2::from_shape_vec((1, 2), vec![1.0f32, 1.0]).unwrap(),
            Array2::from_shape_vec((1, 2), vec![-0.7f32, 0.0]).unwrap(),
        ];
        let cube = m.model_cube(&models);
        close(cube[0][[0, 0]], (1.0 + 0.2 * 0.7) / 0.8);
        close(cube[1][[0, 0]], (1.0 - 0.3 * 0.7) * 0.5 / 0.8);
        close(cube[1][[0, 1]], 0.0);
    }
}

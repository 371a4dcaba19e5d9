//! `specmode='mvc'` (tclean 6.6+, mtmfs with a cube major cycle): the PSF and residual passes of
//! an mfs plane made as a cube of `nchan` equal channels over the selected band (LSRK), each
//! visibility gridded into the channel whose interval holds its frequency (tclean's
//! `interpolation='nearest'`) with the run's one imaging weighter (tclean's mvc switches the
//! per-channel Briggs density off), each channel normalised by its own sum of weights. The
//! prediction of a major cycle is per channel, from a model cube given by the caller
//! (`cycles::mvc` turns the Taylor models into it). One oversampled grid per channel is alive
//! during a pass.
//!
//! With row partitions (`exec::rows`) each partition makes its own channel images (and a
//! mosaic's channel weight images), each divided by the partition's own per-channel sum of
//! weights, with those sums; the reducer combines every channel with the partitions' shares of
//! that channel's summed weight (`exec::rows::mvc`).
//!
//! A mosaic (`gridder='mosaic'`, tclean's mvc of a mosaic: per channel a mosaic with its own
//! weight image, `docs/decisions.md (s17-mvc)`): the PSF pass also returns each channel's weight
//! image (`sum_p W_p B_p` of the channel's rows, divided by its sum of weights); the images are
//! returned linear (divided by the sum of weights only), the normalisation by the weight images
//! belongs to the caller (`cycles::mvc`), as for the other mosaic passes. Each visibility is
//! gridded with the beam of its own data frequency (the run's mosaic gridder, whose beam
//! frequencies are the data's, `imaging::mosaic::beam_frequencies`).

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

/// mvc's cube: `nchan` channels of width `width_hz` from `lo_hz` (the band's lower edge), in the
/// mfs image's frame (LSRK). Channel `c`'s frequency is its centre.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MvcAxis {
    pub lo_hz: f64,
    pub width_hz: f64,
    pub nchan: usize,
}

impl MvcAxis {
    /// tclean's cube over the band `[lo, hi]`: `nchan` channels (`0`: tclean's default,
    /// `int((hi - lo) / (0.1 lo))`, raised to `nterms + 1` when below 5).
    pub fn over_band(lo_hz: f64, hi_hz: f64, nchan: usize, nterms: usize) -> Self {
        let n = if nchan > 0 {
            nchan
        } else {
            match ((hi_hz - lo_hz) / (0.1 * lo_hz)) as usize {
                n if n < 5 => nterms + 1,
                n => n,
            }
        };
        MvcAxis {
            lo_hz,
            width_hz: (hi_hz - lo_hz) / n as f64,
            nchan: n,
        }
    }

    /// Channel `c`'s centre frequency.
    pub fn freq(&self, c: usize) -> f64 {
        self.lo_hz + (c as f64 + 0.5) * self.width_hz
    }

    /// The channel holding frequency `nu` (the band's edges included in the first and last).
    pub fn channel(&self, nu: f64) -> usize {
        let c = ((nu - self.lo_hz) / self.width_hz).floor();
        (c.max(0.0) as usize).min(self.nchan - 1)
    }

    /// The channel of each row and column of a chunk (its columns' frequencies times each row's
    /// Doppler factor to the image frame, as `taylor::TaylorOffsets`).
    fn channels_of(&self, freqs: &[f64], doppler: Option<&[f64]>, nrow: usize) -> Array2<u32> {
        Array2::from_shape_fn((nrow, freqs.len()), |(r, c)| {
            self.channel(freqs[c] * doppler.map_or(1.0, |d| d[r])) as u32
        })
    }
}

/// One mvc pass: the channel images (each normalised by its own sum of weights) and the sums of
/// weights per channel.
pub type ChannelImages = (Vec<Array2<f32>>, Vec<f64>);

/// A mosaic's weight image of every channel of an mvc PSF pass, each divided by the channel's
/// sum of weights (empty for gridders without weight images).
pub type ChannelWeights = Vec<Array2<f32>>;

impl ImagingContext<'_> {
    /// The channel PSFs of Stokes plane `s`, their sums of weights, a mosaic's channel weight
    /// images and the imaging weights (with row partitions: summed over them, the weights
    /// staying with the partitions, so the returned weights are empty).
    pub fn mvc_psfs(
        &self,
        sources: &[Source],
        s: usize,
        weighter: &ImagingWeighter,
        axis: &MvcAxis,
    ) -> Result<(ChannelImages, ChannelWeights, PlaneWeights), EngineError> {
        if let Some(rows) = self.rows {
            let (chans, wimg) = rows.mvc_psfs(self, s, weighter, axis)?;
            return Ok((chans, wimg, Vec::new()));
        }
        self.mvc_psfs_of(sources, s, weighter, axis)
    }

    /// [`ImagingContext::mvc_psfs`] of `sources` (a row partition's: not dispatched).
    pub fn mvc_psfs_of(
        &self,
        sources: &[Source],
        s: usize,
        weighter: &ImagingWeighter,
        axis: &MvcAxis,
    ) -> Result<(ChannelImages, ChannelWeights, PlaneWeights), EngineError> {
        let mut weights = Vec::new();
        let (out, wimg) = self.mvc_pass(
            Pass::Psf,
            axis,
            sources,
            |prep, cols, freqs| Ok((self.imaging_weights(prep, s, cols, freqs, weighter), None)),
            |w| weights.push(w),
        )?;
        Ok((out, wimg, weights))
    }

    /// The channel residuals of Stokes plane `s`: the dirty channels without `models`; with them
    /// (one model image per channel), each visibility minus its channel's model prediction.
    /// With row partitions, summed over them (each with its own imaging weights; `weights`
    /// unused).
    pub fn mvc_residuals(
        &self,
        sources: &[Source],
        s: usize,
        weights: &PlaneWeights,
        axis: &MvcAxis,
        models: Option<&[Array2<f32>]>,
    ) -> Result<ChannelImages, EngineError> {
        if let Some(rows) = self.rows {
            return rows.mvc_residuals(self, s, axis, models);
        }
        self.mvc_residuals_of(sources, s, weights, axis, models)
    }

    /// [`ImagingContext::mvc_residuals`] of `sources` (a row partition's: not dispatched).
    pub fn mvc_residuals_of(
        &self,
        sources: &[Source],
        s: usize,
        weights: &PlaneWeights,
        axis: &MvcAxis,
        models: Option<&[Array2<f32>]>,
    ) -> Result<ChannelImages, EngineError> {
        if models.is_some_and(|m| m.len() != axis.nchan) {
            return Err(EngineError::internal(
                "an mvc model cube without one plane per channel",
            ));
        }
        let kept = models
            .map(|m| self.mvc_residual_vis(sources, s, weights, axis, m))
            .transpose()?;
        let pass = self.mvc_pass(
            Pass::Residual,
            axis,
            sources,
            residual_chunks(weights, kept, s),
            |_| {},
        )?;
        Ok(pass.0)
    }

    /// The visibilities minus the prediction of their channel's model, one array per chunk.
    fn mvc_residual_vis(
        &self,
        sources: &[Source],
        s: usize,
        weights: &PlaneWeights,
        axis: &MvcAxis,
        models: &[Array2<f32>],
    ) -> Result<Vec<Array2<Complex32>>, EngineError> {
        let sources = &crate::source::restrict_sources(sources, self.plan, &(K..K + 1))?;
        let g = self.gridder.as_ref();
        let planes: Vec<(usize, GridPlanes)> = models
            .iter()
            .enumerate()
            .filter(|(_, m)| m.iter().any(|v| *v != 0.0))
            .map(|(c, m)| Ok((c, g.model_planes(&[m.view()]).map_err(gerr)?)))
            .collect::<Result<_, EngineError>>()?;
        let mut kept = Vec::new();
        let mut wts = weights.iter();
        self.vis().for_each_chunk(sources, &(K..K + 1), |prep| {
            let Some((cols, freqs)) = prep.columns(K) else {
                return Ok(());
            };
            let wgt = next_weights(&mut wts)?;
            let mut vis = prep.stokes[s].0.select(Axis(1), &cols);
            let chan = axis.channels_of(&freqs, prep.row_doppler.as_deref(), vis.nrows());
            let mut pred = Array2::<Complex32>::zeros(vis.dim());
            for (c, p) in &planes {
                if !chan.iter().any(|v| *v as usize == *c) {
                    continue;
                }
                let batch = VisBatch::new(prep.uvw_m.view(), &freqs, wgt.view())
                    .with_fields(&prep.field_r)
                    .with_antennas(&prep.ant1_r, &prep.ant2_r)
                    .with_times(&prep.time_r);
                pred.fill(Complex32::new(0.0, 0.0));
                g.predict(p, &batch, pred.view_mut()).map_err(gerr)?;
                let c = *c as u32;
                ndarray::Zip::from(&mut vis)
                    .and(&pred)
                    .and(&chan)
                    .for_each(|v, p, ch| {
                        if *ch == c {
                            *v -= p
                        }
                    });
            }
            kept.push(vis);
            Ok(())
        })?;
        Ok(kept)
    }

    /// One pass over the chunks gridding each visibility into its channel's planes (`chunk` gives
    /// each chunk's imaging weights and, for a residual, its visibilities; a PSF grids ones), with
    /// a mosaic's channel weight images (empty for other gridders).
    fn mvc_pass<W: Borrow<Array2<f32>>>(
        &self,
        pass: Pass,
        axis: &MvcAxis,
        sources: &[Source],
        mut chunk: impl FnMut(
            &Prepared,
            &[usize],
            &[f64],
        ) -> Result<(W, Option<Array2<Complex32>>), EngineError>,
        mut done: impl FnMut(W),
    ) -> Result<(ChannelImages, ChannelWeights), EngineError> {
        let sources = &crate::source::restrict_sources(sources, self.plan, &(K..K + 1))?;
        let g = self.gridder.as_ref();
        let nc = axis.nchan;
        // The standard gridder's PSF is gridded as a residual of ones (its PSF pass grids the
        // weights: the same image); a mosaic's PSF pass places its beams about the PSF's centre.
        let kind = match self.params.gridder {
            pclean_core::params::Gridder::Mosaic => pass,
            _ => Pass::Residual,
        };
        let mut planes: Vec<GridPlanes> = (0..nc).map(|_| g.new_planes(kind)).collect();
        let mut sumwt = vec![0.0f64; nc];
        self.vis().for_each_chunk(sources, &(K..K + 1), |prep| {
            let Some((cols, freqs)) = prep.columns(K) else {
                return Ok(());
            };
            let (wgt, vis) = chunk(prep, &cols, &freqs)?;
            let w = wgt.borrow();
            let chan = axis.channels_of(&freqs, prep.row_doppler.as_deref(), w.nrows());
            let vis = vis.unwrap_or_else(|| Array2::from_elem(w.dim(), Complex32::new(1.0, 0.0)));
            for (c, plane) in planes.iter_mut().enumerate() {
                let cu = c as u32;
                if !chan.iter().any(|v| *v == cu) {
                    continue;
                }
                // The other channels' visibilities get weight 0, which the gridders skip.
                let mut wc = w.clone();
                ndarray::Zip::from(&mut wc).and(&chan).for_each(|x, ch| {
                    if *ch != cu {
                        *x = 0.0
                    }
                });
                let batch = VisBatch::new(prep.uvw_m.view(), &freqs, wc.view())
                    .with_fields(&prep.field_r)
                    .with_antennas(&prep.ant1_r, &prep.ant2_r)
                    .with_times(&prep.time_r)
                    .with_vis(vis.view());
                sumwt[c] += g.grid(plane, &batch).map_err(gerr)?.sum_weights;
            }
            done(wgt);
            Ok(())
        })?;
        let mut weights = Vec::new();
        let images = planes
            .into_iter()
            .zip(&sumwt)
            .map(|(p, sw)| {
                let norm = if *sw > 0.0 { 1.0 / sw } else { 0.0 };
                if pass == Pass::Psf {
                    weights.extend(g.weight_image(&p, norm).map_err(gerr)?);
                }
                let mut v = g.images(p, norm).map_err(gerr)?;
                v.pop().ok_or_else(changed)
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        Ok(((images, sumwt), weights))
    }
}

/// `(nu_c - nu0) / nu0` of every channel of `axis`.
pub fn channel_offsets(axis: &MvcAxis, reffreq_hz: f64) -> Vec<f64> {
    (0..axis.nchan)
        .map(|c| (axis.freq(c) - reffreq_hz) / reffreq_hz)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tclean's default channel count (measured on vla_wideband: 10 channels of 102.396 MHz over
    /// its 0.984-2.008 GHz band, the first centred at 1.035163 GHz) and the nearest-channel rule.
    #[test]
    fn tclean_default_axis_and_channels() {
        let (lo, hi) = (983_964_721.44, 2_007_928_645.9);
        let a = MvcAxis::over_band(lo, hi, 0, 2);
        assert_eq!(a.nchan, 10);
        assert!((a.freq(0) - 1_035_162_917.66).abs() < 1.0);
        assert!((a.width_hz - 102_396_392.45).abs() < 1.0);
        assert_eq!(a.channel(lo - 1.0), 0);
        assert_eq!(a.channel(a.freq(3) + 0.49 * a.width_hz), 3);
        assert_eq!(a.channel(hi), 9);
        // A narrow band: fewer than 5 channels gives nterms + 1.
        assert_eq!(MvcAxis::over_band(1.0e9, 1.2e9, 0, 3).nchan, 4);
        assert_eq!(MvcAxis::over_band(1.0e9, 1.2e9, 7, 3).nchan, 7);
        let x = channel_offsets(&a, 1.5e9);
        assert!((x[0] - (a.freq(0) - 1.5e9) / 1.5e9).abs() < 1e-15);
    }
}

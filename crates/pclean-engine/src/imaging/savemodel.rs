//! tclean's `savemodel='modelcolumn'`: the final model's visibilities written to MODEL_DATA.

use crate::error::EngineError;
use crate::plan::Setup;
use crate::source::visprep::{field_shift, PhaseShift};
use crate::source::Source;
use ndarray::{Array2, Array3};
use num_complex::Complex32;
use pclean_core::{Correlation, StokesParam};
use pclean_ms::{ModelColumnWriter, VisChunk};
use serde::{Deserialize, Serialize};

/// Correlation visibilities from Stokes visibilities (those not imaged count as zero):
/// RR = I + V, LL = I - V, RL = Q + iU, LR = Q - iU; XX = I + Q, YY = I - Q, XY = U + iV,
/// YX = U - iV. A single imaged correlation maps to itself.
fn corr_from_stokes(corr: Correlation, stokes: &[(StokesParam, Complex32)]) -> Complex32 {
    // pseudoI's model is a Stokes I model.
    let get = |p: StokesParam| {
        stokes
            .iter()
            .find(|(q, _)| *q == p || (p == StokesParam::I && *q == StokesParam::PseudoI))
            .map_or(Complex32::new(0.0, 0.0), |x| x.1)
    };
    if let Some((_, v)) = stokes.iter().find(|(q, _)| *q == StokesParam::Corr(corr)) {
        return *v;
    }
    let (i, q, u, v) = (
        get(StokesParam::I),
        get(StokesParam::Q),
        get(StokesParam::U),
        get(StokesParam::V),
    );
    let j = Complex32::new(0.0, 1.0);
    match corr {
        Correlation::RR => i + v,
        Correlation::LL => i - v,
        Correlation::RL => q + j * u,
        Correlation::LR => q - j * u,
        Correlation::XX => i + q,
        Correlation::YY => i - q,
        Correlation::XY => u + j * v,
        Correlation::YX => u - j * v,
    }
}

/// The final model MODEL_DATA is predicted from (sent to row partitions as bytes: each writes
/// its own rows).
#[derive(Debug, Serialize, Deserialize)]
pub enum SavedModel {
    /// Jy/pixel planes, image channel after image channel, `nstokes` Stokes planes each.
    Planes {
        nstokes: usize,
        #[serde(with = "pclean_grid::wire::vec")]
        planes: Vec<Array2<f32>>,
    },
    /// mtmfs: the Taylor terms of image channel 0, Stokes plane 0, about `reffreq_hz`.
    Taylor {
        #[serde(with = "pclean_grid::wire::vec")]
        terms: Vec<Array2<f32>>,
        reffreq_hz: f64,
    },
}

/// MODEL_DATA is predicted in double precision by the 2-D ES gridder itself (the seam predicts
/// from `f32` planes): with the gridders to come it moves behind the seam.
impl Setup {
    /// Predict `models[k][s]` (Jy/pixel, image channel k, Stokes plane s) for every selected row and
    /// channel and write it into each MS's MODEL_DATA (created when missing). Channels that map to no
    /// image channel are left untouched.
    pub fn save_model_column(&self, models: &[Vec<Array2<f32>>]) -> Result<usize, EngineError> {
        self.write_model_column(&self.sources, models, &[], 0.0)
    }

    /// Write `model`'s visibilities into MODEL_DATA for the rows of `sources` (all of this run's,
    /// or one row partition's); the number of rows written.
    pub fn save_model_of(
        &self,
        sources: &[Source],
        model: &SavedModel,
    ) -> Result<usize, EngineError> {
        match model {
            SavedModel::Planes { nstokes, planes } => {
                let per_chan: Vec<Vec<Array2<f32>>> = planes
                    .chunks((*nstokes).max(1))
                    .map(|c| c.to_vec())
                    .collect();
                self.write_model_column(sources, &per_chan, &[], 0.0)
            }
            SavedModel::Taylor { terms, reffreq_hz } => {
                let (first, rest) = terms
                    .split_first()
                    .ok_or_else(|| EngineError::internal("no Taylor model term to save"))?;
                self.write_model_column(sources, &[vec![first.clone()]], rest, *reffreq_hz)
            }
        }
    }

    /// Add MODEL_DATA (zero) to every MS of the run that lacks it, writing nothing else: done by
    /// the coordinator before row partitions in other processes open the MSs, so that none of
    /// them adds the column while another has the table open.
    pub fn ensure_model_columns(&self) -> Result<(), EngineError> {
        for src in &self.sources {
            ModelColumnWriter::open(src.ms.path())?.finish()?;
        }
        Ok(())
    }

    /// `deconvolver='mtmfs'`: the model of the mfs plane is the Taylor polynomial
    /// `sum_t M_t ((nu - nu0)/nu0)^t` (`terms[t]`, Jy/pixel, one Stokes plane); each channel's
    /// visibilities are `sum_t ((nu - nu0)/nu0)^t V_t` at the channel's data frequency (tclean's
    /// Taylor factors take each row's LSRK frequency: the TOPO-LSRK Doppler factor, < 1e-4,
    /// moves `(nu - nu0)/nu0` by < 1e-4, i.e. the visibilities by < 1e-4 of the tt1 model's).
    pub fn save_taylor_model_column(
        &self,
        terms: &[Array2<f32>],
        reffreq_hz: f64,
    ) -> Result<usize, EngineError> {
        let model = SavedModel::Taylor {
            terms: terms.to_vec(),
            reffreq_hz,
        };
        self.save_model_of(&self.sources, &model)
    }

    /// `taylor`: the model's Taylor terms 1.. of image channel 0, Stokes plane 0 (mtmfs).
    fn write_model_column(
        &self,
        sources: &[Source],
        models: &[Vec<Array2<f32>>],
        taylor: &[Array2<f32>],
        reffreq_hz: f64,
    ) -> Result<usize, EngineError> {
        let models64: Vec<Vec<Array2<f64>>> = models
            .iter()
            .map(|v| v.iter().map(|m| m.mapv(f64::from)).collect())
            .collect();
        let taylor64: Vec<Array2<f64>> = taylor.iter().map(|m| m.mapv(f64::from)).collect();
        let taylor = (taylor64.as_slice(), reffreq_hz);
        let mut written = 0usize;
        for src in sources {
            let mut writer = ModelColumnWriter::open(src.ms.path())?;
            for chunk in src.selected.chunks(&src.ms, src.column, self.chunk_rows) {
                let chunk = chunk?;
                let vis_rcp = self.predict_chunk(src, &chunk, &models64, taylor)?;
                // MODEL_DATA is written in runs of consecutive selected channels.
                let mut a = 0;
                while a < chunk.chan_ids.len() {
                    let mut b = a + 1;
                    while b < chunk.chan_ids.len() && chunk.chan_ids[b] == chunk.chan_ids[b - 1] + 1
                    {
                        b += 1;
                    }
                    let part = vis_rcp.slice(ndarray::s![.., a..b, ..]);
                    writer.put(&chunk.row_ids, chunk.chan_ids[a], part)?;
                    a = b;
                }
                written += chunk.row_ids.len();
            }
            writer.finish()?;
        }
        Ok(written)
    }

    fn predict_chunk(
        &self,
        src: &Source,
        chunk: &VisChunk,
        models: &[Vec<Array2<f64>>],
        (taylor, reffreq_hz): (&[Array2<f64>], f64),
    ) -> Result<Array3<Complex32>, EngineError> {
        let nrow = chunk.row_ids.len();
        let nch = chunk.chan_ids.len();
        let ncorr = chunk.corrs.len();
        let meta = src.ms.meta();
        // uvw at the image phase centre and the per-row w change to undo the re-phasing.
        let mut uvw = chunk.uvw_m.clone();
        let mut dw = vec![0.0f64; nrow];
        for r in 0..nrow {
            let shift = match meta.fields.get(chunk.field_id[r] as usize) {
                Some(f) => field_shift(f, chunk.time_s[r], &self.centre, &self.sky)?,
                None => None,
            };
            if let Some(sh) = shift {
                let (new, d) = sh.rotate([uvw[[r, 0]], uvw[[r, 1]], uvw[[r, 2]]]);
                for k in 0..3 {
                    uvw[[r, k]] = new[k];
                }
                dw[r] = d;
            }
        }
        let map = self.plan.chan_map.get(&(src.index, chunk.spw_id));
        let image_chan: Vec<Option<usize>> = chunk
            .chan_ids
            .iter()
            .map(|c| map.and_then(|m| m.get(*c).copied().flatten()))
            .collect();
        let mut out = Array3::<Complex32>::zeros((nrow, nch, ncorr));
        let stokes = &self.params.stokes.0;
        let gerr = EngineError::Grid;
        for j in 0..nch {
            let Some(k) = image_chan[j] else { continue };
            let f = [chunk.chan_freq_hz[j]];
            let mut per_stokes = Vec::with_capacity(stokes.len());
            let predict = |m: &Array2<f64>| -> Result<Array2<Complex32>, EngineError> {
                let mut v = Array2::<Complex32>::zeros((nrow, 1));
                self.gridder
                    .image_to_vis(m.view(), uvw.view(), &f, v.view_mut(), self.nthreads)
                    .map_err(gerr)?;
                Ok(v)
            };
            for (s, p) in stokes.iter().enumerate() {
                let mut v = predict(&models[k][s])?;
                if s == 0 {
                    let x = (f[0] - reffreq_hz) / reffreq_hz;
                    for (t, term) in taylor.iter().enumerate() {
                        let factor = x.powi(t as i32 + 1) as f32;
                        v.scaled_add(Complex32::new(factor, 0.0), &predict(term)?);
                    }
                }
                per_stokes.push((*p, v));
            }
            for r in 0..nrow {
                // Back to the field's own phase centre: the inverse of the imaging re-phasing.
                let back = PhaseShift::factor(dw[r], f[0]).conj();
                let st: Vec<(StokesParam, Complex32)> = per_stokes
                    .iter()
                    .map(|(p, v)| (*p, v[[r, 0]] * back))
                    .collect();
                for (c, corr) in chunk.corrs.iter().enumerate() {
                    out[[r, j, c]] = corr_from_stokes(*corr, &st);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stokes_to_correlations_inverts_the_imaging_recipes() {
        let i = Complex32::new(2.0, 0.5);
        let v = Complex32::new(0.25, 0.0);
        let st = [(StokesParam::I, i), (StokesParam::V, v)];
        assert_eq!(corr_from_stokes(Correlation::RR, &st), i + v);
        assert_eq!(corr_from_stokes(Correlation::LL, &st), i - v);
        assert_eq!(
            corr_from_stokes(Correlation::RL, &st),
            Complex32::new(0.0, 0.0)
        );
        // Stokes I only: both parallel hands carry I.
        let only_i = [(StokesParam::I, i)];
        assert_eq!(corr_from_stokes(Correlation::XX, &only_i), i);
        assert_eq!(corr_from_stokes(Correlation::YY, &only_i), i);
    }
}

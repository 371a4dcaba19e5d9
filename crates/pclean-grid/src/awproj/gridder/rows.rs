//! The awproject gridder's rows and channels: which grid set (pointing x parallactic-angle bin)
//! each row goes to, and, with several beam frequencies (`wbawp=True`), which beam each data
//! channel goes through.

use super::field_pointing;
use super::{AwGridder, RowKey};
use crate::gridder::GridError;
use crate::seam::VisBatch;
use std::sync::Arc;

// A row's columns (data channels) of one beam: the mosaic gridder's helpers.
pub(super) use crate::mosaic::{columns_of, take_cols};

impl AwGridder {
    /// The same gridder with the A-terms at `beam_freqs` (Hz; tclean's `wbawp=True` in an mfs
    /// plane): the data channel at frequency `f` goes through beam `b` for each `(f, b)` of
    /// `chan_beam` (a channel not listed: the beam of the nearest listed frequency).
    pub fn with_beam_frequencies(
        self,
        beam_freqs: Vec<f64>,
        mut chan_beam: Vec<(f64, usize)>,
    ) -> Result<Self, GridError> {
        if beam_freqs.is_empty() || chan_beam.is_empty() {
            return Err(GridError::Shape {
                what: "beam frequencies (none)",
                expected: vec![1],
                got: vec![0],
            });
        }
        if let Some((_, b)) = chan_beam.iter().find(|(_, b)| *b >= beam_freqs.len()) {
            return Err(GridError::Shape {
                what: "channel beams (a beam index beyond the beam frequencies)",
                expected: vec![beam_freqs.len()],
                got: vec![*b],
            });
        }
        chan_beam.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut g = AwGridder {
            beam_freqs,
            chan_beam: Arc::new(chan_beam),
            ..self
        };
        g.beams = Arc::new(g.make_beams());
        Ok(g)
    }

    /// The beams' frequencies (Hz).
    pub fn beam_frequencies(&self) -> &[f64] {
        &self.beam_freqs
    }

    /// The grid sets of one beam frequency: pointings x bins.
    pub(super) fn per_beam(&self) -> usize {
        self.pointings.len() * self.nbins()
    }

    /// The same gridder with tclean's `conjbeams=True` (its wideband functions, several beam
    /// frequencies): `ref_hz` the image's reference frequency `nu0`. The gridding passes
    /// (residual, PSF, weight image) take a channel at `nu` through the beam nearest its
    /// conjugate frequency `sqrt(2 nu0^2 - nu^2)` (CASA's `CFBuffer::initMaps`' conjugate map,
    /// used by `AWVisResampler::DataToGrid`), and beam `b`'s weight functions pair its hands
    /// with the other hands of the beam nearest `b`'s own conjugate frequency
    /// (`AWConvFunc::fillConvFuncBuffer`); prediction keeps each channel's nearest beam
    /// (`GridToData`). `nu0` must be positive and finite.
    pub fn with_conjugate_beams(self, ref_hz: f64) -> Result<Self, GridError> {
        if !(ref_hz.is_finite() && ref_hz > 0.0) {
            return Err(GridError::Shape {
                what: "conjugate beams (a reference frequency that is not positive)",
                expected: vec![1],
                got: vec![0],
            });
        }
        let mut g = AwGridder {
            conj_ref_hz: Some(ref_hz),
            ..self
        };
        g.beams = Arc::new(g.make_beams());
        Ok(g)
    }

    /// The conjugate frequency of `freq_hz` about the reference of [`Self::with_conjugate_beams`]
    /// (`sqrt(2 nu0^2 - nu^2)`, 0 where `nu > sqrt(2) nu0`), or `None` without conjugate beams.
    pub fn conjugate_frequency(&self, freq_hz: f64) -> Option<f64> {
        self.conj_ref_hz
            .map(|f0| (2.0 * f0 * f0 - freq_hz * freq_hz).max(0.0).sqrt())
    }

    /// With conjugate beams, the beam whose hands beam `b`'s weight functions pair with: the
    /// beam frequency nearest `b`'s conjugate frequency.
    pub(super) fn partner_of(&self, b: usize) -> Option<usize> {
        let conj = self.conjugate_frequency(self.beam_freqs[b])?;
        (0..self.beam_freqs.len()).min_by(|i, j| {
            (self.beam_freqs[*i] - conj)
                .abs()
                .total_cmp(&(self.beam_freqs[*j] - conj).abs())
        })
    }

    /// The beam of a channel at `freq_hz`: that of the nearest frequency of the table of
    /// [`Self::with_beam_frequencies`].
    fn beam_of(&self, freq_hz: f64) -> usize {
        let table = &self.chan_beam;
        let i = table.partition_point(|(c, _)| *c < freq_hz);
        let near = [i.checked_sub(1), (i < table.len()).then_some(i)];
        near.into_iter()
            .flatten()
            .min_by(|a, b| {
                (table[*a].0 - freq_hz)
                    .abs()
                    .total_cmp(&(table[*b].0 - freq_hz).abs())
            })
            .map_or(0, |k| table[k].1)
    }

    /// The channels of `freq_hz` by beam: `(beam, channels)` (`None`: all, one beam). `gridding`:
    /// for the gridding passes (with conjugate beams each channel through its conjugate
    /// frequency's beam); otherwise for prediction.
    pub(super) fn channel_beams(
        &self,
        freq_hz: &[f64],
        gridding: bool,
    ) -> Vec<(usize, Option<Vec<usize>>)> {
        if self.beam_freqs.len() == 1 {
            return vec![(0, None)];
        }
        let mut out: Vec<(usize, Option<Vec<usize>>)> = Vec::new();
        for (c, f) in freq_hz.iter().enumerate() {
            let at = match self.conjugate_frequency(*f) {
                Some(conj) if gridding => conj,
                _ => *f,
            };
            let b = self.beam_of(at);
            match out.iter_mut().find(|(k, _)| *k == b) {
                Some((_, Some(cols))) => cols.push(c),
                _ => out.push((b, Some(vec![c]))),
            }
        }
        if out.len() == 1 {
            out[0].1 = None;
        }
        out
    }

    /// The grid set of the integration at `t` (MJD seconds) of field `field` (-1: unknown) on
    /// the baseline of antennas `ants` (needed with baseline pointings only).
    fn set_of(&self, t: f64, field: i32, ants: Option<(i32, i32)>) -> Result<usize, GridError> {
        let p = match &self.by_baseline {
            Some(table) => {
                let (a1, a2) = ants.ok_or(GridError::Shape {
                    what: "antennas_r (required by the awproject gridder with usepointing)",
                    expected: vec![],
                    got: vec![],
                })?;
                table.pointing(t, a1, a2)?
            }
            None => field_pointing(&self.pointings, field)?,
        };
        let i = self.time_bin.partition_point(|(tb, _, _)| *tb < t - 1e-3);
        self.time_bin[i..]
            .iter()
            .take_while(|(tb, _, _)| (tb - t).abs() <= 1e-3)
            .find(|(_, f, _)| *f == field || *f == -1 || field == -1)
            .map(|(_, _, b)| p * self.nbins() + b)
            .ok_or(GridError::Shape {
                what: "time_r (an integration without a parallactic-angle bin)",
                expected: vec![],
                got: vec![t.max(0.0) as usize],
            })
    }

    /// The rows of `batch` grouped by grid set.
    pub(super) fn groups(&self, batch: &VisBatch) -> Result<Vec<(usize, Vec<usize>)>, GridError> {
        let time_r = batch.time_r.ok_or(GridError::Shape {
            what: "time_r (required by the awproject gridder)",
            expected: vec![batch.uvw_m.nrows()],
            got: vec![],
        })?;
        let mut out: Vec<(usize, Vec<usize>)> = Vec::new();
        // (TIME, FIELD_ID, antennas) of the last row and its set.
        let mut last: Option<(RowKey, usize)> = None;
        for (r, t) in time_r.iter().enumerate() {
            let f = batch.field_r.map_or(-1, |fr| fr[r]);
            let ants = match (&self.by_baseline, batch.antennas_r) {
                (Some(_), Some((a1, a2))) => Some((a1[r], a2[r])),
                _ => None,
            };
            let b = match last {
                Some(((tl, fl, al), b)) if tl == *t && fl == f && al == ants => b,
                _ => self.set_of(*t, f, ants)?,
            };
            last = Some(((*t, f, ants), b));
            match out.iter_mut().find(|(k, _)| *k == b) {
                Some((_, rows)) => rows.push(r),
                None => out.push((b, vec![r])),
            }
        }
        Ok(out)
    }
}

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

    /// The channels of `freq_hz` by beam: `(beam, channels)` (`None`: all, one beam).
    pub(super) fn channel_beams(&self, freq_hz: &[f64]) -> Vec<(usize, Option<Vec<usize>>)> {
        if self.beam_freqs.len() == 1 {
            return vec![(0, None)];
        }
        let table = &self.chan_beam;
        let beam_of = |f: f64| {
            let i = table.partition_point(|(c, _)| *c < f);
            let near = [i.checked_sub(1), (i < table.len()).then_some(i)];
            near.into_iter()
                .flatten()
                .min_by(|a, b| (table[*a].0 - f).abs().total_cmp(&(table[*b].0 - f).abs()))
                .map_or(0, |k| table[k].1)
        };
        let mut out: Vec<(usize, Option<Vec<usize>>)> = Vec::new();
        for (c, f) in freq_hz.iter().enumerate() {
            let b = beam_of(*f);
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

//! A chunk of correlations made ready for gridding: Stokes visibilities with combined weights,
//! uvw and visibilities rotated to the image phase centre, each column mapped to its image channel
//! (directly, or through the frame regridding of [`super::frame_regrid`]).

use super::visprep::{drop_autocorrelations, field_shift, PhaseShift, StokesRecipe};
use super::Source;
use crate::error::EngineError;
use crate::plan::SpectralPlan;
use ndarray::Array2;
use num_complex::Complex32;
use pclean_core::direction::SkyContext;
use pclean_core::params::ImagingParams;
use pclean_core::{Direction, StokesParam};
use pclean_ms::VisChunk;
use std::collections::HashMap;

/// What preparing a chunk needs: the run's parameters, its spectral plan, the image phase centre
/// and the rows per chunk read from the MS.
pub struct VisPrep<'a> {
    pub params: &'a ImagingParams,
    pub plan: &'a SpectralPlan,
    pub phase_centre: Direction,
    /// Epoch, UT1 - UTC and observatory for converting field directions to the image frame.
    pub sky: SkyContext,
    /// Rows per chunk read from the MS.
    pub chunk_rows: usize,
}

/// A chunk turned into per-Stokes visibilities at the image phase centre.
pub struct Prepared {
    pub uvw_m: Array2<f64>,
    pub freq_hz: Vec<f64>,
    /// Image channel of each chunk channel.
    pub image_chan: Vec<Option<usize>>,
    /// Per Stokes plane: (vis_rc, weight_rc); weights are natural (0 = flagged).
    pub stokes: Vec<(Array2<Complex32>, Array2<f32>)>,
    /// Factor from the first plane's weights to the weights of the weighting density: CASA's
    /// density counts a sample once, while an I-only plane counts it once per parallel hand.
    pub density_scale: f32,
    /// `(nrow,)` FIELD_ID of each row (the mosaic gridder's pointings).
    pub field_r: Vec<i32>,
}

impl Prepared {
    /// Columns of a prepared chunk that belong to image channel `k`: (uvw, freqs, per-Stokes vis, weights).
    pub fn columns(&self, k: usize) -> Option<(Vec<usize>, Vec<f64>)> {
        let cols: Vec<usize> = (0..self.image_chan.len())
            .filter(|j| self.image_chan[*j] == Some(k))
            .collect();
        if cols.is_empty() {
            return None;
        }
        let freqs = cols.iter().map(|j| self.freq_hz[*j]).collect();
        Some((cols, freqs))
    }
}

impl VisPrep<'_> {
    /// Stokes visibilities of `chunk` for image channels `image_chans` (columns of other image
    /// channels are not formed).
    pub fn prepare(
        &self,
        src: &Source,
        chunk: &VisChunk,
        image_chans: &std::ops::Range<usize>,
    ) -> Result<Prepared, EngineError> {
        let meta = src.ms.meta();
        let nrow = chunk.row_ids.len();
        let nch = chunk.chan_ids.len();
        let chans: Vec<usize> = (0..nch).collect();
        let mut stokes = Vec::with_capacity(self.params.stokes.0.len());
        let i_only = self.params.stokes.is_i_only();
        let mut density_scale = 1.0;
        for p in &self.params.stokes.0 {
            let recipe = recipe_for(*p, &chunk.corrs, i_only)?;
            let mut v = Array2::<Complex32>::zeros((nrow, nch));
            let mut w = Array2::<f32>::zeros((nrow, nch));
            if stokes.is_empty() {
                density_scale = 1.0 / recipe.multiplicity();
            }
            recipe.form(
                chunk.vis_rcp.view(),
                chunk.flag_rcp.view(),
                chunk.weight_rcp.view(),
                &chans,
                v.view_mut(),
                w.view_mut(),
            );
            drop_autocorrelations(&chunk.ant1, &chunk.ant2, w.view_mut());
            stokes.push((v, w));
        }
        let mut uvw_m = chunk.uvw_m.clone();
        // One shift per field, or per (field, time) for a field whose direction is a polynomial.
        let mut shifts: HashMap<(i32, u64), Option<PhaseShift>> = HashMap::new();
        for r in 0..nrow {
            let fid = chunk.field_id[r];
            let field = meta.fields.get(fid as usize);
            let moving = field.is_some_and(|f| f.phase.is_moving());
            let key = (fid, if moving { chunk.time_s[r].to_bits() } else { 0 });
            let shift = match shifts.entry(key) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let s = match field {
                        Some(f) => field_shift(f, chunk.time_s[r], &self.phase_centre, &self.sky)?,
                        None => None,
                    };
                    e.insert(s)
                }
            };
            if let Some(sh) = shift {
                let (new, dw) = sh.rotate([uvw_m[[r, 0]], uvw_m[[r, 1]], uvw_m[[r, 2]]]);
                for (c, f) in chunk.chan_freq_hz.iter().enumerate() {
                    let fac = PhaseShift::factor(dw, *f);
                    for (v, _) in stokes.iter_mut() {
                        v[[r, c]] *= fac;
                    }
                }
                for k in 0..3 {
                    uvw_m[[r, k]] = new[k];
                }
            }
        }
        if let Some(conv) = &self.plan.mfs_doppler {
            // tclean grids mfs data at each row's LSRK channel frequencies (its VisBuffer
            // converts them with the row's time): the same as the data frequencies with the
            // row's uvw scaled by f_LSRK / f_data. One evaluation per distinct time.
            let mut cache: HashMap<u64, f64> = HashMap::new();
            for r in 0..nrow {
                let t = chunk.time_s[r];
                let k = match cache.entry(t.to_bits()) {
                    std::collections::hash_map::Entry::Occupied(e) => *e.get(),
                    std::collections::hash_map::Entry::Vacant(e) => *e.insert(conv.factor(t)?),
                };
                for j in 0..3 {
                    uvw_m[[r, j]] *= k;
                }
            }
        }
        if let Some(conv) = &self.plan.conversion {
            let first_two = src.first_two_hz.get(&chunk.ddid).copied();
            let mut prep =
                self.regrid_to_frame(conv, chunk, uvw_m, stokes, image_chans, first_two)?;
            prep.density_scale = density_scale;
            return Ok(prep);
        }
        let map = self
            .plan
            .chan_map
            .get(&(src.index, chunk.spw_id))
            .ok_or_else(|| {
                EngineError::internal(format!("spw {} has no channel mapping", chunk.spw_id))
            })?;
        let image_chan = chunk
            .chan_ids
            .iter()
            .map(|c| map.get(*c).copied().flatten())
            .collect();
        Ok(Prepared {
            uvw_m,
            freq_hz: chunk.chan_freq_hz.clone(),
            image_chan,
            stokes,
            density_scale,
            field_r: chunk.field_id.clone(),
        })
    }

    /// Every chunk of `sources` (from their caches when made), prepared for image channels `chans`.
    pub fn for_each_chunk(
        &self,
        sources: &[Source],
        chans: &std::ops::Range<usize>,
        mut f: impl FnMut(&Prepared) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        for src in sources {
            if let Some(cache) = &src.cache {
                for i in 0..cache.len() {
                    let (ddid, ids) = cache.channels(i);
                    // The block's channels of this data description (its restricted selection).
                    let Some(g) = src.selected.groups.iter().find(|g| g.ddid == ddid) else {
                        continue;
                    };
                    let keep: Vec<usize> = ids
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| g.chan_ids.binary_search(c).is_ok())
                        .map(|(j, _)| j)
                        .collect();
                    if keep.is_empty() {
                        continue;
                    }
                    let chunk = cache.chunk(i, &keep)?;
                    let prep = self.prepare(src, &chunk, chans)?;
                    f(&prep)?;
                }
                continue;
            }
            for chunk in src.selected.chunks(&src.ms, src.column, self.chunk_rows) {
                let chunk = chunk?;
                let prep = self.prepare(src, &chunk, chans)?;
                f(&prep)?;
            }
        }
        Ok(())
    }
}

fn recipe_for(
    p: StokesParam,
    corrs: &[pclean_core::Correlation],
    i_only: bool,
) -> Result<StokesRecipe, EngineError> {
    // Setup::open checked every selected data description, so this is a changed MS.
    StokesRecipe::new(p, corrs, i_only).ok_or_else(|| {
        EngineError::param(
            "stokes",
            format!(
                "stokes: plane {} cannot be made from {}",
                p.name(),
                pclean_core::stokes::describe_feeds(corrs)
            ),
        )
    })
}

//! A chunk of correlations made ready for gridding: Stokes visibilities with combined weights,
//! uvw and visibilities rotated to the image phase centre, each column mapped to its image channel
//! (directly, or through the frame regridding of [`super::frame_regrid`]).

use super::frame_regrid::RowSteps;
use super::visprep::{drop_autocorrelations, field_shift, PhaseShift, StokesRecipe};
use super::Source;
use crate::error::EngineError;
use crate::plan::SpectralPlan;
use ndarray::{Array2, ArrayView2, Axis};
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
    /// Free each chunk as read (13 B per sample and correlation) once prepared, before `f` sees
    /// it (mtmfs's held pass, `imaging::taylor`); otherwise it lives through `f`, as the memory
    /// model's other passes count it.
    pub free_read_chunks: bool,
}

/// A chunk turned into per-Stokes visibilities at the image phase centre.
pub struct Prepared {
    /// uvw of each row at the image phase centre (what the gridder sees).
    pub uvw_m: Array2<f64>,
    /// The rows' uvw before the rotation to the image phase centre, when some row was rotated:
    /// what tclean's imaging weights see (`VisImagingWeight` reads the visibility buffer's own
    /// uvw, while the gridder rotates a copy). `None`: the same as `uvw_m`.
    pub weight_uvw_m: Option<Array2<f64>>,
    pub freq_hz: Vec<f64>,
    /// Image channel of each chunk channel.
    pub image_chan: Vec<Option<usize>>,
    /// Per Stokes plane: (vis_rc, weight_rc); weights are natural (0 = flagged).
    pub stokes: Vec<(Array2<Complex32>, Array2<f32>)>,
    /// Factor from the first plane's weights to the weights of the weighting density: CASA's
    /// density counts a sample once, while an I-only plane counts it once per parallel hand.
    pub density_scale: f32,
    /// The weighting density's own weights where they are not a multiple of the first plane's
    /// (pseudoI: the density counts only samples with no correlation flagged, see
    /// [`StokesRecipe::density_weights`]); `None` otherwise.
    pub density_w: Option<Array2<f32>>,
    /// `(nrow, ncol)`: where a column's imaging weight is looked up in the weighting density at
    /// another frequency than the column's own, that frequency minus the column's (Hz). tclean's
    /// per-channel Briggs density (`BriggsCubeWeightor::getWeightUniform`) weighs each data
    /// channel at its own (converted) frequency, and an interpolated sample takes the weight of
    /// its nearest data channel: see `frame_regrid`. `None`: the columns' frequencies.
    pub weight_dfreq: Option<Array2<f32>>,
    /// A frame-regridded cube's samples for one weighting density shared by all channels
    /// (`perchanweightdensity=false`, superuniform): every data channel at its own converted
    /// frequency, as tclean's `VisImagingWeight` counts them, rather than the regridded columns.
    /// `None`: the density takes the columns.
    pub shared_density: Option<DensitySamples>,
    /// `(nrow,)` FIELD_ID of each row (the mosaic gridder's pointings).
    pub field_r: Vec<i32>,
    /// `(nrow,)` TIME of each row (MJD seconds): A-projection's parallactic-angle bins.
    pub time_r: Vec<f64>,
    /// mfs of data in a frame other than LSRK: each row's Doppler factor f_LSRK / f_data (its
    /// uvw are already scaled by it; mtmfs's Taylor factors need the LSRK frequencies). `None`:
    /// `freq_hz` are the image frame's.
    pub row_doppler: Option<Vec<f64>>,
    /// `(nrow,)` ANTENNA1 and ANTENNA2 of each row (a mosaic of different dishes' beams).
    pub ant1_r: Vec<i32>,
    pub ant2_r: Vec<i32>,
}

/// Samples of a weighting density: `weight` `(nrow, nchan)` at `freq_hz` (one per column) and
/// `uvw_m` `(nrow, 3)` (each row's Doppler factor already in its uvw).
pub struct DensitySamples {
    pub uvw_m: Array2<f64>,
    pub freq_hz: Vec<f64>,
    pub weight: Array2<f32>,
}

/// Columns `cols` of `a` as a new array: `a.select(Axis(1), cols)`, the same values. Columns that
/// follow one another (an mfs image's: every column of a chunk) are copied as one slice, row by
/// row, rather than element by element as `select` does along axis 1.
pub fn select_columns<T: Clone>(a: &Array2<T>, cols: &[usize]) -> Array2<T> {
    match column_range(cols) {
        Some(r) => a.slice(ndarray::s![.., r]).to_owned(),
        None => a.select(Axis(1), cols),
    }
}

/// Columns `cols` of `a`, borrowed where they follow one another (see [`select_columns`]).
pub fn view_columns<'a, T: Clone>(
    a: &'a Array2<T>,
    cols: &[usize],
) -> ndarray::CowArray<'a, T, ndarray::Ix2> {
    match column_range(cols) {
        Some(r) => a.slice(ndarray::s![.., r]).into(),
        None => a.select(Axis(1), cols).into(),
    }
}

/// `cols` as a range when non-empty and consecutive (`c, c + 1, ...`).
fn column_range(cols: &[usize]) -> Option<std::ops::Range<usize>> {
    let (&first, &last) = (cols.first()?, cols.last()?);
    let consecutive = cols.windows(2).all(|w| w[1] == w[0] + 1);
    consecutive.then_some(first..last + 1)
}

impl Prepared {
    /// The uvw the imaging weights (density, Briggs factor, taper) are computed from: the rows'
    /// uvw before any rotation to the image phase centre, as tclean's.
    pub fn weighting_uvw(&self) -> ArrayView2<'_, f64> {
        self.weight_uvw_m.as_ref().unwrap_or(&self.uvw_m).view()
    }

    /// The weights of the weighting density in columns `cols`.
    pub fn density_weights(&self, cols: &[usize]) -> Array2<f32> {
        match &self.density_w {
            Some(w) => select_columns(w, cols),
            None => {
                let mut w = select_columns(&self.stokes[0].1, cols);
                if self.density_scale != 1.0 {
                    w *= self.density_scale;
                }
                w
            }
        }
    }

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
        let nrow = chunk.row_ids.len();
        let nch = chunk.chan_ids.len();
        let chans: Vec<usize> = (0..nch).collect();
        let mut stokes = Vec::with_capacity(self.params.stokes.0.len() + 1);
        let i_only = self.params.stokes.is_i_only();
        let mut density_scale = 1.0;
        let mut density_recipe = None;
        for p in &self.params.stokes.0 {
            let recipe = recipe_for(*p, &chunk.corrs, i_only)?;
            let mut v = Array2::<Complex32>::zeros((nrow, nch));
            let mut w = Array2::<f32>::zeros((nrow, nch));
            if stokes.is_empty() {
                density_scale = 1.0 / recipe.multiplicity();
                if recipe.param == StokesParam::PseudoI && self.needs_density() {
                    density_recipe = Some(recipe.clone());
                }
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
        // pseudoI's density weights travel as one more plane (no visibilities) through the
        // frame regridding below, and are taken off at the end.
        if let Some(recipe) = &density_recipe {
            let mut w = Array2::<f32>::zeros((nrow, nch));
            recipe.density_weights(
                chunk.vis_rcp.view(),
                chunk.flag_rcp.view(),
                chunk.weight_rcp.view(),
                &chans,
                w.view_mut(),
            );
            drop_autocorrelations(&chunk.ant1, &chunk.ant2, w.view_mut());
            stokes.push((Array2::zeros((nrow, nch)), w));
        }
        // Each row's Doppler factor f_image / f_data (mfs: to LSRK; cubes: to the output frame).
        // tclean re-phases a shifted field's visibilities at the frequencies it grids them at
        // (the converted ones: `FTMachine::locateuvw` takes the image-frame frequencies).
        // Cubes keep each row's conversion as steps too: the regridding converts the data
        // frequencies with them as casacore does (`FrameConversion::steps_towards`).
        let (fac, steps) = match (&self.plan.mfs_doppler, &self.plan.conversion) {
            (Some(c), _) => (
                Some(field_row_factors(
                    c,
                    chunk,
                    &src.ms.meta().fields,
                    src.moving.as_deref(),
                )?),
                None,
            ),
            // tclean's visibility iterator converts a buffer's frequencies towards its field's
            // phase centre (`VisibilityIteratorImpl2::makeFrequencyConverter`:
            // `msIter_p->phaseCenter()`), also for cubes: on a mosaic the fields' directions
            // move the LSRK factor by more than an integration's drift (alma_mosaic, 11" apart:
            // 6.7e-9, 1.5 kHz at 230 GHz, three integrations' drift). Ephemeris fields keep
            // their geocentric direction at the row's time and cubesource its source factor
            // (`FrameConversion::factor`).
            (None, Some(c)) => {
                let steps = if c.moving.is_none() && c.source.is_none() {
                    cube_row_steps(c, chunk, &src.ms.meta().fields)?
                } else {
                    row_steps(c, &chunk.time_s)?
                };
                let fac = steps
                    .of_row
                    .iter()
                    .map(|&i| steps.distinct[i as usize].factor());
                (Some(fac.collect()), Some(steps))
            }
            (None, None) => (None, None),
        };
        let row_doppler = self.plan.mfs_doppler.as_ref().and(fac.clone());
        let mut uvw_m = chunk.uvw_m.clone();
        let rotated = self.shift_to_centre(src, chunk, fac.as_deref(), &mut uvw_m, &mut stokes)?;
        let mut weight_uvw_m = rotated.then(|| chunk.uvw_m.clone());
        if let (Some(fac), Some(_)) = (&fac, &self.plan.mfs_doppler) {
            // tclean grids mfs data at each row's LSRK channel frequencies (its VisBuffer
            // converts them with the row's time, towards the row's field): the same as the data
            // frequencies with the row's uvw scaled by f_LSRK / f_data.
            for uvw in std::iter::once(&mut uvw_m).chain(weight_uvw_m.as_mut()) {
                for (mut row, k) in uvw.rows_mut().into_iter().zip(fac) {
                    row.mapv_inplace(|x| x * k);
                }
            }
        }
        let shared_density = match (&self.plan.conversion, &fac) {
            (Some(_), Some(fac)) if self.shared_density() => {
                let w = match density_recipe {
                    Some(_) => stokes.last().map(|(_, w)| w.clone()),
                    None => stokes.first().map(|(_, w)| w * density_scale),
                };
                let mut uvw = weight_uvw_m.as_ref().unwrap_or(&uvw_m).clone();
                for (mut row, k) in uvw.rows_mut().into_iter().zip(fac) {
                    row.mapv_inplace(|x| x * k);
                }
                w.map(|weight| DensitySamples {
                    uvw_m: uvw,
                    freq_hz: chunk.chan_freq_hz.clone(),
                    weight,
                })
            }
            _ => None,
        };
        let mut prep = if let (Some(conv), Some(fac), Some(steps)) =
            (&self.plan.conversion, fac, steps)
        {
            let first_two = src.first_two_hz.get(&chunk.ddid).copied();
            let rows = super::frame_regrid::RowGeometry {
                uvw_m,
                weight_uvw_m,
                fac,
                steps,
            };
            self.regrid_to_frame(conv, chunk, rows, stokes, image_chans, first_two)
        } else {
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
            Prepared {
                uvw_m,
                weight_uvw_m,
                freq_hz: chunk.chan_freq_hz.clone(),
                image_chan,
                stokes,
                density_scale,
                density_w: None,
                weight_dfreq: None,
                shared_density: None,
                field_r: chunk.field_id.clone(),
                time_r: chunk.time_s.clone(),
                row_doppler,
                ant1_r: chunk.ant1.clone(),
                ant2_r: chunk.ant2.clone(),
            }
        };
        prep.density_scale = density_scale;
        prep.shared_density = shared_density;
        if density_recipe.is_some() {
            prep.density_w = prep.stokes.pop().map(|(_, w)| w);
        }
        Ok(prep)
    }

    /// Whether the run makes one weighting density shared by every image channel of a cube.
    fn shared_density(&self) -> bool {
        self.needs_density()
            && crate::imaging::weights::DensityLayout::of(self.params)
                == crate::imaging::weights::DensityLayout::Shared
    }

    /// Whether the imaging weights use a density (uniform, Briggs).
    fn needs_density(&self) -> bool {
        !matches!(
            self.params.weighting,
            pclean_core::params::Weighting::Natural
        )
    }

    /// Rotate the uvw of every row of `chunk` whose field is not at the image phase centre and
    /// re-phase its visibilities (every plane of `stokes`) at the data frequencies times the
    /// row's Doppler factor `fac`; whether any row was rotated.
    fn shift_to_centre(
        &self,
        src: &Source,
        chunk: &VisChunk,
        fac: Option<&[f64]>,
        uvw_m: &mut Array2<f64>,
        stokes: &mut [(Array2<Complex32>, Array2<f32>)],
    ) -> Result<bool, EngineError> {
        let meta = src.ms.meta();
        let mut rotated = false;
        // One shift per field, or per (field, time) for a field whose direction is a polynomial
        // or follows an ephemeris (`crate::plan::ephemeris`).
        let mut shifts: HashMap<(i32, u64), Option<PhaseShift>> = HashMap::new();
        let ephem = src.moving.as_deref();
        for r in 0..chunk.row_ids.len() {
            let fid = chunk.field_id[r];
            let field = meta.fields.get(fid as usize);
            let on_ephemeris = ephem.filter(|m| m.has(fid as usize));
            let moving = on_ephemeris.is_some() || field.is_some_and(|f| f.phase.is_moving());
            let key = (fid, if moving { chunk.time_s[r].to_bits() } else { 0 });
            let shift = match shifts.entry(key) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let t = chunk.time_s[r];
                    let s = match (on_ephemeris, field) {
                        (Some(m), _) => m.row_shift(fid as usize, t, &self.phase_centre)?,
                        (None, Some(f)) => field_shift(f, t, &self.phase_centre, &self.sky)?,
                        (None, None) => None,
                    };
                    e.insert(s)
                }
            };
            if let Some(sh) = shift {
                rotated = true;
                let (new, dw) = sh.rotate([uvw_m[[r, 0]], uvw_m[[r, 1]], uvw_m[[r, 2]]]);
                let k = fac.map_or(1.0, |f| f[r]);
                for (c, f) in chunk.chan_freq_hz.iter().enumerate() {
                    let phasor = PhaseShift::factor(dw, *f * k);
                    for (v, _) in stokes.iter_mut() {
                        v[[r, c]] *= phasor;
                    }
                }
                for k in 0..3 {
                    uvw_m[[r, k]] = new[k];
                }
            }
        }
        Ok(rotated)
    }

    /// Every chunk of `sources` (from their caches when made), prepared for image channels `chans`;
    /// a source whose block prepared its chunks already ([`super::prepare_block`]) hands those
    /// (prepared for the block's channels, a superset of `chans`: callers take their channels'
    /// columns, `Prepared::columns`).
    pub fn for_each_chunk(
        &self,
        sources: &[Source],
        chans: &std::ops::Range<usize>,
        mut f: impl FnMut(&Prepared) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        for src in sources {
            match &src.prepared {
                Some(prepared) => prepared.iter().try_for_each(&mut f)?,
                None => self.prepare_each(src, chans, |p| f(&p))?,
            }
        }
        Ok(())
    }

    /// Every chunk of `src` read (from its cache when made) and prepared for image channels
    /// `chans`, handed to `f`.
    pub(super) fn prepare_each(
        &self,
        src: &Source,
        chans: &std::ops::Range<usize>,
        mut f: impl FnMut(Prepared) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
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
                let prep = self.prepare_keyed(src, &chunk, chans)?;
                if self.free_read_chunks {
                    drop(chunk);
                }
                f(prep)?;
            }
            return Ok(());
        }
        read_ahead(src, self.chunk_rows, |chunk| {
            let prep = self.prepare_keyed(src, &chunk, chans)?;
            if self.free_read_chunks {
                drop(chunk);
            }
            f(prep)
        })
    }

    /// [`VisPrep::prepare`], then re-keyed to a several-MS mosaic's pointings and antennas
    /// ([`super::RowKeys`]) when `src` has keys.
    fn prepare_keyed(
        &self,
        src: &Source,
        chunk: &VisChunk,
        chans: &std::ops::Range<usize>,
    ) -> Result<Prepared, EngineError> {
        let mut prep = self.prepare(src, chunk, chans)?;
        if let Some(k) = &src.keys {
            k.apply(&mut prep);
        }
        Ok(prep)
    }
}

/// Every chunk of `src`'s selection read from its MS (at most `chunk_rows` rows) and handed to
/// `f`, the next chunk read in a second thread while `f` works on the current one (casacore's
/// read is serial; `f` prepares and grids on the calling pool). To hold no more visibilities
/// than one chunk of `chunk_rows` rows (the memory model's), chunks of half as many rows are
/// read, one in `f` and one ahead. An error of the read or of `f` stops both (the reader's
/// next hand-over fails once `f`'s side has returned).
fn read_ahead(
    src: &Source,
    chunk_rows: usize,
    mut f: impl FnMut(VisChunk) -> Result<(), EngineError>,
) -> Result<(), EngineError> {
    let rows = chunk_rows.div_ceil(2).max(1);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<VisChunk, EngineError>>(0);
        scope.spawn(move || {
            for chunk in src.selected.chunks(&src.ms, src.column, rows) {
                let chunk = chunk.map_err(EngineError::from);
                let failed = chunk.is_err();
                if tx.send(chunk).is_err() || failed {
                    break;
                }
            }
        });
        // Dropping `rx` (on return, also by `?`) ends the reader's loop at its next send.
        for chunk in rx {
            f(chunk?)?;
        }
        Ok(())
    })
}

/// Each row's Doppler factor f_image / f_data (mfs: f_LSRK / f_data), converted at the row's
/// time towards the row's field (as tclean's VisBuffer does); one evaluation per distinct
/// (time, field).
fn field_row_factors(
    conv: &crate::plan::FrameConversion,
    chunk: &VisChunk,
    fields: &[pclean_ms::Field],
    moving: Option<&crate::plan::ephemeris::Ephemerides>,
) -> Result<Vec<f64>, EngineError> {
    let mut cache: HashMap<(u64, i32), f64> = HashMap::new();
    chunk
        .time_s
        .iter()
        .zip(&chunk.field_id)
        .map(|(&t, &fid)| match cache.entry((t.to_bits(), fid)) {
            std::collections::hash_map::Entry::Occupied(e) => Ok(*e.get()),
            std::collections::hash_map::Entry::Vacant(e) => {
                // An ephemeris field's direction is the ephemeris's at FIELD TIME.
                let ephemeris_dir = match moving {
                    Some(m) => m.field_direction(fid as usize)?,
                    None => None,
                };
                let k = match (ephemeris_dir, fields.get(fid as usize)) {
                    (Some(d), _) => conv.factor_towards(t, &d)?,
                    (None, Some(f)) => conv.factor_towards(t, &f.phase_dir)?,
                    (None, None) => conv.factor(t)?,
                };
                Ok(*e.insert(k))
            }
        })
        .collect()
}

/// A cube's per-row conversions (`FrameConversion::steps_towards`): towards each row's field
/// ([`field_row_factors`]), except that a field in the conversion's own direction (within 1e-9
/// rad: a change of the factor of ~1e-13) keeps the conversion's own direction, so a
/// single-field cube is regridded exactly as its grid was made (the reference integration's
/// ties, `regrid_rules::targets`, and the sample columns a chunk holds depend on the last bits).
fn cube_row_steps(
    conv: &crate::plan::FrameConversion,
    chunk: &VisChunk,
    fields: &[pclean_ms::Field],
) -> Result<RowSteps, EngineError> {
    let same = |d: &pclean_core::Direction| {
        let (a, b) = (d.unit_vector(), conv.direction.unit_vector());
        let chord = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
        d.frame == conv.direction.frame && chord < 1e-9
    };
    let mut out = RowSteps {
        distinct: Vec::new(),
        of_row: Vec::with_capacity(chunk.time_s.len()),
    };
    let mut index: HashMap<(u64, i32), u32> = HashMap::new();
    for (&t, &fid) in chunk.time_s.iter().zip(&chunk.field_id) {
        let i = match index.entry((t.to_bits(), fid)) {
            std::collections::hash_map::Entry::Occupied(e) => *e.get(),
            std::collections::hash_map::Entry::Vacant(e) => {
                out.distinct.push(match fields.get(fid as usize) {
                    Some(f) if !same(&f.phase_dir) => conv.steps_towards(t, &f.phase_dir)?,
                    _ => conv.steps(t)?,
                });
                *e.insert((out.distinct.len() - 1) as u32)
            }
        };
        out.of_row.push(i);
    }
    Ok(out)
}

/// `conv`'s conversion for each row time of `times_mjd_s` (one evaluation per distinct time).
pub(super) fn row_steps(
    conv: &crate::plan::FrameConversion,
    times_mjd_s: &[f64],
) -> Result<RowSteps, EngineError> {
    let mut out = RowSteps {
        distinct: Vec::new(),
        of_row: Vec::with_capacity(times_mjd_s.len()),
    };
    let mut index: HashMap<u64, u32> = HashMap::new();
    for t in times_mjd_s {
        let i = match index.entry(t.to_bits()) {
            std::collections::hash_map::Entry::Occupied(e) => *e.get(),
            std::collections::hash_map::Entry::Vacant(e) => {
                out.distinct.push(conv.steps(*t)?);
                *e.insert((out.distinct.len() - 1) as u32)
            }
        };
        out.of_row.push(i);
    }
    Ok(out)
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

//! Dirty imaging: a weight density pass over a block's visibilities for uniform/Briggs weighting,
//! then, plane by plane, the gridding passes (PSF, residual with its model prediction), in-place
//! FFTs and normalisation, one oversampled grid alive at a time.

use crate::error::EngineError;
use crate::plan::SpectralPlan;
use crate::spectral_regrid::{bin_channel, interpolate_at, nearest_at, targets, Method};
use crate::visprep::{drop_autocorrelations, PhaseShift, StokesRecipe};
use ndarray::{Array2, Axis};
use num_complex::Complex32;
use pclean_core::params::{ImagingParams, SpecMode, Weighting};
use pclean_core::{Direction, StokesParam};
use pclean_grid::gridder::{GridSpec, Gridder, GridderOptions, UvGrid};
use pclean_grid::weighting::{
    CellRounding, DensityGrid, ImagingWeighter, UvTaper, WeightingScheme,
};
use pclean_ms::{DataColumn, MeasurementSet, SelectedData, VisChunk};
use rayon::prelude::*;
use std::collections::HashMap;

/// One MeasurementSet with its resolved selection and column.
pub struct Source {
    pub index: usize,
    pub ms: std::sync::Arc<MeasurementSet>,
    pub selected: SelectedData,
    pub column: DataColumn,
    /// Every selected visibility read once (all selected channels), when that is cheaper than
    /// each block reading its channels from the MS; blocks then take their channels from here.
    pub cache: Option<std::sync::Arc<crate::visstore::VisStore>>,
    /// The first two selected channel frequencies of each data description before a block
    /// narrowed the selection: tclean's regridding takes the data spacing from them, and the
    /// `floor(image width / spacing)` rule is sensitive to its last bit.
    pub first_two_hz: HashMap<usize, [f64; 2]>,
}

impl Source {
    /// Read every chunk of the selection once: into memory, or into the channel-major scratch
    /// file `disk` when given. Returns the bytes held (memory) or written (disk).
    pub fn load_cache(
        &mut self,
        chunk_rows: usize,
        disk: Option<&std::path::Path>,
    ) -> Result<u64, EngineError> {
        use crate::visstore::{DiskStore, VisStore};
        let chunks = self
            .selected
            .chunks(&self.ms, self.column, chunk_rows)
            .map(|c| c.map_err(EngineError::from));
        let (store, bytes) = match disk {
            Some(path) => {
                let d = DiskStore::write(path, chunks)?;
                let n = d.file_bytes();
                (VisStore::Disk(d), n)
            }
            None => {
                let v = chunks.collect::<Result<Vec<_>, _>>()?;
                let n = v.iter().map(|c| c.memory_bytes() as u64).sum();
                (VisStore::Memory(v), n)
            }
        };
        self.cache = Some(std::sync::Arc::new(store));
        Ok(bytes)
    }
}

/// Everything constant across blocks.
pub struct ImagingContext<'a> {
    pub params: &'a ImagingParams,
    pub plan: &'a SpectralPlan,
    pub phase_centre: Direction,
    pub gridder: Gridder,
    pub taper: Option<UvTaper>,
    pub nthreads: usize,
    /// Rows per chunk read from the MS.
    pub chunk_rows: usize,
}

fn scheme(w: &Weighting) -> Option<WeightingScheme> {
    match *w {
        Weighting::Natural => None,
        Weighting::Uniform => Some(WeightingScheme::Uniform),
        Weighting::Briggs { robust } => Some(WeightingScheme::Briggs { robust }),
        Weighting::BriggsAbs { robust, noise_jy } => {
            Some(WeightingScheme::BriggsAbs { robust, noise_jy })
        }
    }
}

/// A chunk turned into per-Stokes visibilities at the image phase centre.
struct Prepared {
    uvw_m: Array2<f64>,
    freq_hz: Vec<f64>,
    /// Image channel of each chunk channel.
    image_chan: Vec<Option<usize>>,
    /// Per Stokes plane: (vis_rc, weight_rc); weights are natural (0 = flagged).
    stokes: Vec<(Array2<Complex32>, Array2<f32>)>,
}

impl ImagingContext<'_> {
    /// Stokes visibilities of `chunk` for image channels `image_chans` (columns of other image
    /// channels are not formed).
    fn prepare(
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
        for p in &self.params.stokes.0 {
            let recipe = recipe_for(*p, &chunk.corrs)?;
            let mut v = Array2::<Complex32>::zeros((nrow, nch));
            let mut w = Array2::<f32>::zeros((nrow, nch));
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
        let mut shifts: HashMap<i32, Option<PhaseShift>> = HashMap::new();
        for r in 0..nrow {
            let fid = chunk.field_id[r];
            let shift = shifts.entry(fid).or_insert_with(|| {
                meta.fields
                    .get(fid as usize)
                    .and_then(|f| PhaseShift::new(&f.phase_dir, &self.phase_centre))
            });
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
        if let Some(conv) = &self.plan.conversion {
            let first_two = src.first_two_hz.get(&chunk.ddid).copied();
            return self.regrid_to_frame(conv, chunk, uvw_m, stokes, image_chans, first_two);
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
        })
    }

    /// Regrid a chunk's Stokes visibilities onto the image channels of another frame, with
    /// tclean's rules (`crate::spectral_regrid`): each row's data channel frequencies are
    /// converted with that row's time; `nearest` (and one-channel cubes or windows) grids every
    /// data channel at its own frequency into the image channel of nearest centre; `linear` and
    /// `cubic` interpolate, without extrapolation, onto the image channel centres or, for image
    /// channels wider than a data channel, onto `floor(width ratio)` samples across each. The
    /// weight density sees the same samples (CASA's `BriggsCubeWeightor` grids them with the same
    /// interpolation).
    fn regrid_to_frame(
        &self,
        conv: &crate::plan::FrameConversion,
        chunk: &VisChunk,
        uvw_m: Array2<f64>,
        stokes: Vec<(Array2<Complex32>, Array2<f32>)>,
        chans: &std::ops::Range<usize>,
        first_two: Option<[f64; 2]>,
    ) -> Result<Prepared, EngineError> {
        let method = conv.interpolation;
        let nrow = chunk.row_ids.len();
        // Doppler factor f_image / f_data of every row (one evaluation per distinct time).
        let mut cache: HashMap<u64, f64> = HashMap::new();
        let mut fac = Vec::with_capacity(nrow);
        for &t in &chunk.time_s {
            let v = match cache.get(&t.to_bits()) {
                Some(v) => *v,
                None => {
                    let v = conv.factor(t)?;
                    cache.insert(t.to_bits(), v);
                    v
                }
            };
            fac.push(v);
        }
        if method == Method::Nearest || self.plan.nchan() == 1 || chunk.chan_freq_hz.len() == 1 {
            return Ok(self.bin_nearest(chunk, &uvw_m, &stokes, &fac, chans));
        }
        Ok(self.interpolate_rows(method, chunk, uvw_m, &stokes, &fac, chans, first_two))
    }

    /// Every data channel at its own converted frequency, in the image channel of nearest centre
    /// (CASA's `matchChannel`). A column per (data channel, image channel) pair that occurs; the
    /// row's Doppler factor goes into its uvw, so a column's frequency is the data frequency.
    fn bin_nearest(
        &self,
        chunk: &VisChunk,
        uvw_m: &Array2<f64>,
        stokes: &[(Array2<Complex32>, Array2<f32>)],
        fac: &[f64],
        chans: &std::ops::Range<usize>,
    ) -> Prepared {
        let nrow = chunk.row_ids.len();
        let f = &chunk.chan_freq_hz;
        let (img, cdelt) = (&self.plan.freqs_hz, self.plan.cdelt_hz);
        let mut cols: HashMap<(usize, usize), usize> = HashMap::new();
        let mut col_list: Vec<(usize, usize)> = Vec::new();
        let mut map_rc = vec![None; nrow * f.len()];
        for r in 0..nrow {
            for (c, fc) in f.iter().enumerate() {
                if let Some(k) = bin_channel(img, cdelt, fc * fac[r]).filter(|k| chans.contains(k))
                {
                    let n = col_list.len();
                    let j = *cols.entry((c, k)).or_insert(n);
                    if j == n {
                        col_list.push((c, k));
                    }
                    map_rc[r * f.len() + c] = Some(j);
                }
            }
        }
        let ncol = col_list.len();
        let mut out: Vec<(Array2<Complex32>, Array2<f32>)> = stokes
            .iter()
            .map(|_| (Array2::zeros((nrow, ncol)), Array2::zeros((nrow, ncol))))
            .collect();
        for r in 0..nrow {
            for c in 0..f.len() {
                if let Some(j) = map_rc[r * f.len() + c] {
                    for (s, (v, w)) in stokes.iter().enumerate() {
                        out[s].0[[r, j]] = v[[r, c]];
                        out[s].1[[r, j]] = w[[r, c]];
                    }
                }
            }
        }
        let mut uvw = uvw_m.clone();
        for (r, mut row) in uvw.rows_mut().into_iter().enumerate() {
            row.mapv_inplace(|x| x * fac[r]);
        }
        Prepared {
            uvw_m: uvw,
            freq_hz: col_list.iter().map(|(c, _)| f[*c]).collect(),
            image_chan: col_list.iter().map(|(_, k)| Some(*k)).collect(),
            stokes: out,
        }
    }

    /// Interpolation (`linear`/`cubic`) of every row onto its list of sample frequencies
    /// (`spectral_regrid::targets`); one column per distinct sample frequency. A sample is
    /// flagged with either data channel bracketing it. Its weight is the same interpolation of the
    /// weights under natural weighting; with per-channel Briggs/uniform density (CASA's
    /// `BriggsCubeWeightor`) it is the weight of the nearest data channel.
    #[allow(clippy::too_many_arguments)]
    fn interpolate_rows(
        &self,
        method: Method,
        chunk: &VisChunk,
        uvw_m: Array2<f64>,
        stokes: &[(Array2<Complex32>, Array2<f32>)],
        fac: &[f64],
        chans: &std::ops::Range<usize>,
        first_two: Option<[f64; 2]>,
    ) -> Prepared {
        let nrow = chunk.row_ids.len();
        let f = &chunk.chan_freq_hz;
        let img = &self.plan.freqs_hz;
        let nearest_weights = !matches!(self.params.weighting, Weighting::Natural)
            && self.params.perchanweightdensity;
        let mut order: Vec<usize> = (0..f.len()).collect();
        order.sort_by(|a, b| f[*a].total_cmp(&f[*b]));
        // Sample lists per distinct factor; columns keyed by the sample frequency (mHz).
        let mut lists: HashMap<u64, Vec<(usize, f64)>> = HashMap::new();
        let mut cols: HashMap<i64, usize> = HashMap::new();
        let mut col_freq: Vec<f64> = Vec::new();
        let mut col_chan: Vec<Option<usize>> = Vec::new();
        for fr in fac {
            if lists.contains_key(&fr.to_bits()) {
                continue;
            }
            let vis: Vec<f64> = f.iter().map(|x| x * fr).collect();
            // The samples of the whole image axis (tclean's lattice), kept for this block's
            // channels only.
            let dv = match first_two {
                Some([a, b]) => b * fr - a * fr,
                None => vis[1] - vis[0],
            };
            let mut t = targets(img, &vis, dv, method);
            t.retain(|(k, _)| chans.contains(k));
            for (k, x) in &t {
                let key = (x * 1e3).round() as i64;
                if let std::collections::hash_map::Entry::Vacant(e) = cols.entry(key) {
                    e.insert(col_freq.len());
                    col_freq.push(*x);
                    col_chan.push(Some(*k));
                }
            }
            lists.insert(fr.to_bits(), t);
        }
        let ncol = col_freq.len();
        let mut out: Vec<(Array2<Complex32>, Array2<f32>)> = stokes
            .iter()
            .map(|_| (Array2::zeros((nrow, ncol)), Array2::zeros((nrow, ncol))))
            .collect();
        let mut xs = vec![0.0; f.len()];
        for r in 0..nrow {
            for (i, j) in order.iter().enumerate() {
                xs[i] = f[*j] * fac[r];
            }
            for (_, x) in &lists[&fac[r].to_bits()] {
                let col = cols[&((x * 1e3).round() as i64)];
                let Some(ip) = interpolate_at(&xs, *x, method) else {
                    continue;
                };
                let near = if nearest_weights {
                    match nearest_at(&xs, *x) {
                        Some(n) => Some(order[n]),
                        None => continue,
                    }
                } else {
                    None
                };
                let taps = &ip.taps[..ip.ntaps];
                let (fa, fb) = (order[ip.flag_pair.0], order[ip.flag_pair.1]);
                for (s, (v_in, w_in)) in stokes.iter().enumerate() {
                    if w_in[[r, fa]] <= 0.0 || w_in[[r, fb]] <= 0.0 {
                        continue;
                    }
                    let mut v = Complex32::new(0.0, 0.0);
                    let mut w = 0.0f64;
                    for &(i, c) in taps {
                        v += v_in[[r, order[i]]] * c as f32;
                        w += w_in[[r, order[i]]] as f64 * c;
                    }
                    let w = match near {
                        Some(n) => w_in[[r, n]],
                        None => w as f32,
                    };
                    if w > 0.0 {
                        out[s].0[[r, col]] = v;
                        out[s].1[[r, col]] = w;
                    }
                }
            }
        }
        Prepared {
            uvw_m,
            freq_hz: col_freq,
            image_chan: col_chan,
            stokes: out,
        }
    }

    /// Columns of a prepared chunk that belong to image channel `k`: (uvw, freqs, per-Stokes vis, weights).
    fn columns_of(prep: &Prepared, k: usize) -> Option<(Vec<usize>, Vec<f64>)> {
        let cols: Vec<usize> = (0..prep.image_chan.len())
            .filter(|j| prep.image_chan[*j] == Some(k))
            .collect();
        if cols.is_empty() {
            return None;
        }
        let freqs = cols.iter().map(|j| prep.freq_hz[*j]).collect();
        Some((cols, freqs))
    }

    fn for_each_chunk(
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

    /// The imaging weighters of image channels `chans`: one per channel, or one shared by all (mfs,
    /// or `perchanweightdensity` off).
    pub fn weighters(
        &self,
        sources: &[Source],
        chans: std::ops::Range<usize>,
    ) -> Result<Vec<ImagingWeighter>, EngineError> {
        let n = chans.len();
        let Some(scheme) = scheme(&self.params.weighting) else {
            return Ok(vec![ImagingWeighter::natural()]);
        };
        let p = self.params;
        let per_chan = p.specmode != SpecMode::Mfs && p.perchanweightdensity;
        let rounding = if p.specmode == SpecMode::Mfs {
            CellRounding::Truncate
        } else {
            CellRounding::Nearest
        };
        let ndens = if per_chan { n } else { 1 };
        let mut dens: Vec<DensityGrid> = (0..ndens)
            .map(|_| DensityGrid::new(p.nx, p.ny, p.cell_x_rad, p.cell_y_rad, rounding, p.npixels))
            .collect();
        self.for_each_chunk(sources, &chans, |prep| {
            let (_, w0) = &prep.stokes[0];
            if per_chan {
                dens.par_iter_mut().enumerate().for_each(|(i, d)| {
                    if let Some((cols, freqs)) = Self::columns_of(prep, chans.start + i) {
                        let w = w0.select(Axis(1), &cols);
                        d.add(prep.uvw_m.view(), &freqs, w.view());
                    }
                });
            } else {
                // All imaged channels go into one density.
                let cols: Vec<usize> = (0..prep.image_chan.len())
                    .filter(|j| prep.image_chan[*j].is_some())
                    .collect();
                if !cols.is_empty() {
                    let freqs: Vec<f64> = cols.iter().map(|j| prep.freq_hz[*j]).collect();
                    dens[0].add(prep.uvw_m.view(), &freqs, w0.select(Axis(1), &cols).view());
                }
            }
            Ok(())
        })?;
        // Each density (f64) is freed as soon as its weighter (f32) exists.
        Ok(dens.into_iter().map(|d| d.finish(&scheme)).collect())
    }

    /// The imaging weights of image channel `k`, Stokes plane `s`, one array per visibility chunk
    /// that has columns of `k` (4 bytes per visibility): computed once from the weighting density
    /// and the taper, then reused by every pass over this plane, so that the density (4 bytes per
    /// pixel per channel) is freed after a block's first imaging pass.
    pub fn plane_weights(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weighter: &ImagingWeighter,
    ) -> Result<PlaneWeights, EngineError> {
        let sources = &crate::block::restrict_sources(sources, self.plan, &(k..k + 1))?;
        let mut out = Vec::new();
        self.for_each_chunk(sources, &(k..k + 1), |prep| {
            if let Some((cols, freqs)) = Self::columns_of(prep, k) {
                out.push(self.imaging_weights(prep, s, &cols, &freqs, weighter));
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The point-spread function of image channel `k`, Stokes plane `s`, and its imaging weights
    /// (see [`ImagingContext::plane_weights`]), made in the same pass: gridded, transformed in place
    /// and normalised by the sum of weights, which is returned with them. One oversampled grid is
    /// alive.
    pub fn psf_plane(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weighter: &ImagingWeighter,
    ) -> Result<(Array2<f32>, f64, PlaneWeights), EngineError> {
        let sources = &crate::block::restrict_sources(sources, self.plan, &(k..k + 1))?;
        let mut grid = self.gridder.new_grid();
        let mut sumwt = 0.0;
        let mut weights = Vec::new();
        self.for_each_chunk(sources, &(k..k + 1), |prep| {
            let Some((cols, freqs)) = Self::columns_of(prep, k) else {
                return Ok(());
            };
            let wgt = self.imaging_weights(prep, s, &cols, &freqs, weighter);
            let st = self
                .gridder
                .grid_psf(
                    &mut grid,
                    prep.uvw_m.view(),
                    &freqs,
                    wgt.view(),
                    self.nthreads,
                )
                .map_err(gerr)?;
            sumwt += st.sum_weights;
            weights.push(wgt);
            Ok(())
        })?;
        Ok((self.to_image(grid, sumwt)?, sumwt, weights))
    }

    /// The residual image of image channel `k`, Stokes plane `s` (the dirty image without a model):
    /// with `model` (Jy/pixel), the model's visibilities are predicted and subtracted first, and the
    /// residual visibilities gridded; normalised by the sum of weights, returned with it.
    ///
    /// Only one oversampled grid is alive at a time: with a model, a first pass over the
    /// visibilities predicts from the model's grid and keeps the residual visibilities of this plane
    /// (8 bytes per visibility), the model grid is freed, and a second pass grids them.
    pub fn residual_plane(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weights: &PlaneWeights,
        model: Option<&Array2<f32>>,
    ) -> Result<(Array2<f32>, f64), EngineError> {
        let sources = &crate::block::restrict_sources(sources, self.plan, &(k..k + 1))?;
        let mut residual_vis: Option<Vec<Array2<Complex32>>> = None;
        if let Some(m) = model {
            let mgrid = self
                .gridder
                .model_grid(m.view(), self.nthreads)
                .map_err(gerr)?;
            let mut kept = Vec::new();
            let mut wts = weights.iter();
            self.for_each_chunk(sources, &(k..k + 1), |prep| {
                let Some((cols, freqs)) = Self::columns_of(prep, k) else {
                    return Ok(());
                };
                let wgt = next_weights(&mut wts)?;
                let mut vis = prep.stokes[s].0.select(Axis(1), &cols);
                let mut pred = Array2::<Complex32>::zeros(vis.dim());
                self.gridder
                    .degrid(
                        &mgrid,
                        prep.uvw_m.view(),
                        &freqs,
                        Some(wgt.view()),
                        pred.view_mut(),
                        self.nthreads,
                    )
                    .map_err(gerr)?;
                vis -= &pred;
                kept.push(vis);
                Ok(())
            })?;
            residual_vis = Some(kept);
        }
        let mut grid = self.gridder.new_grid();
        let mut sumwt = 0.0;
        let mut kept = residual_vis.map(|v| v.into_iter());
        let mut wts = weights.iter();
        self.for_each_chunk(sources, &(k..k + 1), |prep| {
            let Some((cols, freqs)) = Self::columns_of(prep, k) else {
                return Ok(());
            };
            let wgt = next_weights(&mut wts)?;
            let vis = match kept.as_mut() {
                Some(it) => it.next().ok_or_else(changed)?,
                None => prep.stokes[s].0.select(Axis(1), &cols),
            };
            let st = self
                .gridder
                .grid_vis(
                    &mut grid,
                    prep.uvw_m.view(),
                    &freqs,
                    vis.view(),
                    wgt.view(),
                    self.nthreads,
                )
                .map_err(gerr)?;
            sumwt += st.sum_weights;
            Ok(())
        })?;
        Ok((self.to_image(grid, sumwt)?, sumwt))
    }

    /// Imaging weights of Stokes plane `s` in columns `cols` of a prepared chunk: natural weights
    /// times the weighting density's factor and the uv taper.
    fn imaging_weights(
        &self,
        prep: &Prepared,
        s: usize,
        cols: &[usize],
        freqs: &[f64],
        weighter: &ImagingWeighter,
    ) -> Array2<f32> {
        let mut wgt = prep.stokes[s].1.select(Axis(1), cols);
        weighter.apply(prep.uvw_m.view(), freqs, wgt.view_mut());
        if let Some(t) = &self.taper {
            t.apply(prep.uvw_m.view(), freqs, wgt.view_mut());
        }
        wgt
    }

    /// Transform a grid in place into its image normalised by `sumwt` (zero without weight).
    fn to_image(&self, grid: UvGrid, sumwt: f64) -> Result<Array2<f32>, EngineError> {
        let norm = if sumwt > 0.0 { 1.0 / sumwt } else { 0.0 };
        self.gridder
            .grid_into_image(grid, norm, self.nthreads)
            .map_err(gerr)
    }
}

/// A plane's imaging weights, one `(rows, columns of the plane)` array per visibility chunk.
pub type PlaneWeights = Vec<Array2<f32>>;

/// The weights of the next chunk: passes over a plane see the same chunks in the same order.
fn next_weights<'w>(
    it: &mut std::slice::Iter<'w, Array2<f32>>,
) -> Result<&'w Array2<f32>, EngineError> {
    it.next().ok_or_else(changed)
}

fn changed() -> EngineError {
    EngineError::internal("visibility chunks changed between passes")
}

fn gerr(e: pclean_grid::gridder::GridError) -> EngineError {
    EngineError::Grid(e)
}

fn recipe_for(
    p: StokesParam,
    corrs: &[pclean_core::Correlation],
) -> Result<StokesRecipe, EngineError> {
    StokesRecipe::new(p, corrs).ok_or_else(|| {
        let have: Vec<&str> = corrs.iter().map(|c| c.name()).collect();
        EngineError::param("stokes", format!(
            "stokes: cannot form {} from the data's correlations {}; choose stokes the data support",
            p.name(),
            have.join(", ")
        ))
    })
}

/// Build the gridder for the image geometry and accuracy, for about `nvis_per_chan` visibilities
/// per image plane.
pub fn make_gridder(params: &ImagingParams, nvis_per_chan: usize) -> Result<Gridder, EngineError> {
    gridder_for(
        GridSpec {
            nx: params.nx,
            ny: params.ny,
            cell_x_rad: params.cell_x_rad,
            cell_y_rad: params.cell_y_rad,
            epsilon: params.epsilon,
        },
        nvis_per_chan,
    )
}

/// The gridder the engine uses (also for the memory estimate): the kernel (support,
/// oversampling) that reaches `epsilon` at the least cost for the number of visibilities per
/// plane, so a large image with few visibilities gets the least oversampling (the smallest grid).
pub fn gridder_for(spec: GridSpec, nvis_per_chan: usize) -> Result<Gridder, EngineError> {
    Gridder::with_options(
        spec,
        GridderOptions {
            nvis_hint: Some(nvis_per_chan.max(1)),
            ..Default::default()
        },
    )
    .map_err(EngineError::Grid)
}

//! Dirty imaging: one or two passes over the selected visibilities per channel block (a weight
//! density pass for uniform/Briggs weighting, then the gridding pass), FFTs, normalisation.

use crate::error::EngineError;
use crate::plan::SpectralPlan;
use crate::spectral_regrid::{bin_channel, interpolate_at, nearest_at, targets, Method};
use crate::visprep::{drop_autocorrelations, PhaseShift, StokesRecipe};
use ndarray::{Array2, Axis};
use num_complex::Complex32;
use pclean_core::params::{ImagingParams, SpecMode, Weighting};
use pclean_core::{Direction, StokesParam};
use pclean_grid::gridder::{GridSpec, Gridder, UvGrid};
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

/// Images of one channel block: `dirty[k][s]`, `psf[k][s]` (ny, nx) normalised, and sums of weights.
pub struct BlockImages {
    pub first_chan: usize,
    pub dirty: Vec<Vec<Array2<f32>>>,
    pub psf: Vec<Vec<Array2<f32>>>,
    pub sumwt: Vec<Vec<f64>>,
}

impl BlockImages {
    /// Placeholder planes for `n` channels (filled from reused products).
    pub fn empty(n: usize, nst: usize) -> Self {
        let z = || (0..nst).map(|_| Array2::zeros((0, 0))).collect::<Vec<_>>();
        BlockImages {
            first_chan: 0,
            dirty: (0..n).map(|_| z()).collect(),
            psf: (0..n).map(|_| z()).collect(),
            sumwt: vec![vec![0.0; nst]; n],
        }
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
                EngineError::Param(format!("spw {} has no channel mapping", chunk.spw_id))
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
        let method = Method::from_name(&conv.interpolation);
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

    /// The imaging weighters of image channels `chans` (one shared weighter for mfs or when
    /// `perchanweightdensity` is off).
    pub fn weighters(
        &self,
        sources: &[Source],
        chans: std::ops::Range<usize>,
    ) -> Result<Vec<ImagingWeighter>, EngineError> {
        let n = chans.len();
        let Some(scheme) = scheme(&self.params.weighting) else {
            return Ok(vec![ImagingWeighter::natural(); n]);
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
        let ws: Vec<ImagingWeighter> = dens.iter().map(|d| d.finish(&scheme)).collect();
        Ok(if per_chan { ws } else { vec![ws[0].clone(); n] })
    }

    /// Grid, FFT and normalise image channels `chans` (dirty images, PSFs and weight sums).
    pub fn image_block(
        &self,
        sources: &[Source],
        chans: std::ops::Range<usize>,
        weighters: &[ImagingWeighter],
    ) -> Result<BlockImages, EngineError> {
        self.image_pass(sources, chans, weighters, None, None, true)
    }

    /// One imaging pass (a major cycle when `models` is given): for every channel in `chans` that is
    /// `active` (all when `None`), predict `models[k][s]` (Jy/pixel) with the degridder, subtract it
    /// from the visibilities, and grid the residual visibilities; with `with_psf` also the PSF.
    /// Inactive channels are skipped entirely and come back as empty (0 x 0) images.
    pub fn image_pass(
        &self,
        sources: &[Source],
        chans: std::ops::Range<usize>,
        weighters: &[ImagingWeighter],
        models: Option<&[Vec<Array2<f64>>]>,
        active: Option<&[bool]>,
        with_psf: bool,
    ) -> Result<BlockImages, EngineError> {
        let nst = self.params.stokes.0.len();
        let n = chans.len();
        let is_active = |i: usize| active.is_none_or(|a| a[i]);
        // grids[k] = (per-Stokes dirty grids, per-Stokes psf grids, per-Stokes weight sums)
        let mut grids: Vec<(Vec<UvGrid>, Vec<UvGrid>, Vec<f64>)> = (0..n)
            .map(|i| {
                let ng = if is_active(i) { nst } else { 0 };
                let np = if is_active(i) && with_psf { nst } else { 0 };
                (
                    (0..ng).map(|_| self.gridder.new_grid()).collect(),
                    (0..np).map(|_| self.gridder.new_grid()).collect(),
                    vec![0.0; nst],
                )
            })
            .collect();
        let n_active = (0..n).filter(|i| is_active(*i)).count();
        // Parallel over channels when there are several; otherwise the gridder uses every thread.
        let inner_threads = if n_active > 1 { 1 } else { self.nthreads };
        let gerr = |e: pclean_grid::gridder::GridError| EngineError::Grid(e.to_string());
        self.for_each_chunk(sources, &chans, |prep| {
            grids
                .par_iter_mut()
                .enumerate()
                .try_for_each(|(i, (dg, pg, sw))| {
                    if dg.is_empty() {
                        return Ok(());
                    }
                    let k = chans.start + i;
                    let Some((cols, freqs)) = Self::columns_of(prep, k) else {
                        return Ok(());
                    };
                    for s in 0..nst {
                        let (v, w) = &prep.stokes[s];
                        let mut vis = v.select(Axis(1), &cols);
                        let mut wgt = w.select(Axis(1), &cols);
                        weighters[i].apply(prep.uvw_m.view(), &freqs, wgt.view_mut());
                        if let Some(t) = &self.taper {
                            t.apply(prep.uvw_m.view(), &freqs, wgt.view_mut());
                        }
                        if let Some(m) = models {
                            let mut pred = Array2::<Complex32>::zeros(vis.dim());
                            self.gridder
                                .image_to_vis(
                                    m[i][s].view(),
                                    prep.uvw_m.view(),
                                    &freqs,
                                    Some(wgt.view()),
                                    pred.view_mut(),
                                    inner_threads,
                                )
                                .map_err(gerr)?;
                            vis -= &pred;
                        }
                        let st = self
                            .gridder
                            .grid_vis(
                                &mut dg[s],
                                prep.uvw_m.view(),
                                &freqs,
                                vis.view(),
                                wgt.view(),
                                inner_threads,
                            )
                            .map_err(gerr)?;
                        if with_psf {
                            self.gridder
                                .grid_psf(
                                    &mut pg[s],
                                    prep.uvw_m.view(),
                                    &freqs,
                                    wgt.view(),
                                    inner_threads,
                                )
                                .map_err(gerr)?;
                        }
                        sw[s] += st.sum_weights;
                    }
                    Ok(())
                })
        })?;
        type Planes = (Vec<Array2<f32>>, Vec<Array2<f32>>, Vec<f64>);
        let results: Vec<Planes> = grids
            .into_par_iter()
            .map(|(dg, pg, sw)| -> Result<Planes, EngineError> {
                // Each grid is transformed in place and freed before the next.
                let norm = |s: usize| if sw[s] > 0.0 { 1.0 / sw[s] } else { 0.0 };
                let mut d = Vec::with_capacity(dg.len());
                let mut p = Vec::with_capacity(pg.len());
                for (s, g) in dg.into_iter().enumerate() {
                    d.push(
                        self.gridder
                            .grid_into_image_f32(g, norm(s), inner_threads)
                            .map_err(gerr)?,
                    );
                }
                for (s, g) in pg.into_iter().enumerate() {
                    p.push(
                        self.gridder
                            .grid_into_image_f32(g, norm(s), inner_threads)
                            .map_err(gerr)?,
                    );
                }
                Ok((d, p, sw))
            })
            .collect::<Result<_, _>>()?;
        let mut out = BlockImages {
            first_chan: chans.start,
            dirty: vec![],
            psf: vec![],
            sumwt: vec![],
        };
        for (d, p, s) in results {
            out.dirty.push(d);
            out.psf.push(p);
            out.sumwt.push(s);
        }
        Ok(out)
    }
}

fn recipe_for(
    p: StokesParam,
    corrs: &[pclean_core::Correlation],
) -> Result<StokesRecipe, EngineError> {
    StokesRecipe::new(p, corrs).ok_or_else(|| {
        let have: Vec<&str> = corrs.iter().map(|c| c.name()).collect();
        EngineError::Param(format!(
            "stokes: cannot form {} from the data's correlations {}; choose stokes the data support",
            p.name(),
            have.join(", ")
        ))
    })
}

/// Build the gridder for the image geometry and accuracy.
pub fn make_gridder(params: &ImagingParams) -> Result<Gridder, EngineError> {
    Gridder::new(GridSpec {
        nx: params.nx,
        ny: params.ny,
        cell_x_rad: params.cell_x_rad,
        cell_y_rad: params.cell_y_rad,
        epsilon: params.epsilon,
    })
    .map_err(|e| EngineError::Grid(e.to_string()))
}

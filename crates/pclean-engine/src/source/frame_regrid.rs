//! Regridding a chunk onto the image channels of another spectral frame, with tclean's rules
//! ([`super::regrid_rules`]), per row (each row's time gives its Doppler factor).

use super::prepare::{Prepared, VisPrep};
use super::regrid_rules::{bin_channel, interpolate_within, nearest_at, targets, Method};
use crate::imaging::weights::DensityLayout;
use ndarray::Array2;
use num_complex::Complex32;
use pclean_core::frames::DopplerSteps;
use pclean_ms::VisChunk;
use std::collections::HashMap;

/// A chunk's rows as the regridding takes them: uvw at the image centre, the data's own uvw for
/// the imaging weights when they differ, and each row's Doppler factor f_image / f_data, also
/// as the conversion's steps (the data frequencies converted as casacore converts them).
pub(super) struct RowGeometry {
    pub uvw_m: Array2<f64>,
    pub weight_uvw_m: Option<Array2<f64>>,
    pub fac: Vec<f64>,
    pub steps: RowSteps,
}

/// Each row's conversion as steps: the distinct conversions of a chunk (one per time and field)
/// and each row's index into them (4 B a row rather than a 40 B copy).
pub(super) struct RowSteps {
    pub distinct: Vec<DopplerSteps>,
    pub of_row: Vec<u32>,
}

impl RowSteps {
    /// Row `r`'s conversion.
    pub fn of(&self, r: usize) -> &DopplerSteps {
        &self.distinct[self.of_row[r] as usize]
    }
}

impl VisPrep<'_> {
    /// Regrid a chunk's Stokes visibilities onto the image channels of another frame, with
    /// tclean's rules (`super::regrid_rules`): each row's data channel frequencies are
    /// converted with that row's time; `nearest` (and one-channel cubes or windows) grids every
    /// data channel at its own frequency into the image channel of nearest centre; `linear` and
    /// `cubic` interpolate, without extrapolation, onto the image channel centres or, for image
    /// channels wider than a data channel, onto `floor(width ratio)` samples across each. A
    /// per-channel weight density sees the same samples (CASA's `BriggsCubeWeightor` grids them
    /// with the same interpolation); a shared one the data channels (`Prepared::shared_density`).
    pub(super) fn regrid_to_frame(
        &self,
        conv: &crate::plan::FrameConversion,
        chunk: &VisChunk,
        rows: RowGeometry,
        stokes: Vec<(Array2<Complex32>, Array2<f32>)>,
        chans: &std::ops::Range<usize>,
        first_two: Option<[f64; 2]>,
    ) -> Prepared {
        let method = conv.interpolation;
        if method == Method::Nearest || self.plan.nchan() == 1 || chunk.chan_freq_hz.len() == 1 {
            return self.bin_nearest(chunk, rows, &stokes, chans);
        }
        let tol = conv.edge_tolerance();
        self.interpolate_rows((method, tol), chunk, rows, &stokes, chans, first_two)
    }

    /// Every data channel at its own converted frequency, in the image channel of nearest centre
    /// (CASA's `matchChannel`). A column per (data channel, image channel) pair that occurs; the
    /// row's Doppler factor goes into its uvw, so a column's frequency is the data frequency.
    fn bin_nearest(
        &self,
        chunk: &VisChunk,
        rows: RowGeometry,
        stokes: &[(Array2<Complex32>, Array2<f32>)],
        chans: &std::ops::Range<usize>,
    ) -> Prepared {
        let RowGeometry {
            mut uvw_m,
            mut weight_uvw_m,
            fac,
            steps,
        } = rows;
        let nrow = chunk.row_ids.len();
        let f = &chunk.chan_freq_hz;
        let (img, cdelt) = (&self.plan.freqs_hz, self.plan.cdelt_hz);
        let mut cols: HashMap<(usize, usize), usize> = HashMap::new();
        let mut col_list: Vec<(usize, usize)> = Vec::new();
        // The column of each (row, data channel), `u32::MAX` where none: 4 B per sample read
        // (`BlockShape::chunk_bytes_of` counts it; an `Option<usize>` took 16).
        let mut map_rc = vec![u32::MAX; nrow * f.len()];
        for r in 0..nrow {
            for (c, fc) in f.iter().enumerate() {
                if let Some(k) =
                    bin_channel(img, cdelt, steps.of(r).apply(*fc)).filter(|k| chans.contains(k))
                {
                    let n = col_list.len();
                    let j = *cols.entry((c, k)).or_insert(n);
                    if j == n {
                        col_list.push((c, k));
                    }
                    map_rc[r * f.len() + c] = j as u32;
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
                let j = map_rc[r * f.len() + c] as usize;
                if j != u32::MAX as usize {
                    for (s, (v, w)) in stokes.iter().enumerate() {
                        out[s].0[[r, j]] = v[[r, c]];
                        out[s].1[[r, j]] = w[[r, c]];
                    }
                }
            }
        }
        for uvw in std::iter::once(&mut uvw_m).chain(weight_uvw_m.as_mut()) {
            for (r, mut row) in uvw.rows_mut().into_iter().enumerate() {
                row.mapv_inplace(|x| x * fac[r]);
            }
        }
        Prepared {
            uvw_m,
            weight_uvw_m,
            freq_hz: col_list.iter().map(|(c, _)| f[*c]).collect(),
            image_chan: col_list.iter().map(|(_, k)| Some(*k)).collect(),
            stokes: out,
            density_scale: 1.0,
            density_w: None,
            weight_dfreq: None,
            shared_density: None,
            field_r: chunk.field_id.clone(),
            time_r: chunk.time_s.clone(),
            row_doppler: None,
            ant1_r: chunk.ant1.clone(),
            ant2_r: chunk.ant2.clone(),
        }
    }

    /// Interpolation (`linear`/`cubic`) of every row onto its list of sample frequencies
    /// (`spectral_regrid::targets`); one column per distinct sample frequency. A sample is
    /// flagged with either data channel bracketing it. Its weight is the same interpolation of the
    /// weights under natural weighting; with per-channel Briggs/uniform density (CASA's
    /// `BriggsCubeWeightor`) it is the weight of the nearest data channel, looked up in the
    /// density at that channel's own converted frequency (`Prepared::weight_dfreq`), as
    /// `BriggsCubeWeightor::getWeightUniform` weighs each data channel before tclean's
    /// nearest-neighbour interpolation of the weights.
    #[allow(clippy::too_many_arguments)]
    fn interpolate_rows(
        &self,
        (method, edge_tol): (Method, f64),
        chunk: &VisChunk,
        rows: RowGeometry,
        stokes: &[(Array2<Complex32>, Array2<f32>)],
        chans: &std::ops::Range<usize>,
        first_two: Option<[f64; 2]>,
    ) -> Prepared {
        let RowGeometry {
            uvw_m,
            weight_uvw_m,
            fac: _,
            steps,
        } = rows;
        let nrow = chunk.row_ids.len();
        let f = &chunk.chan_freq_hz;
        let img = &self.plan.freqs_hz;
        // BriggsCubeWeightor's rule (the per-channel density), not VisImagingWeight's.
        let nearest_weights = DensityLayout::of(self.params) == DensityLayout::PerChannel;
        let mut order: Vec<usize> = (0..f.len()).collect();
        order.sort_by(|a, b| f[*a].total_cmp(&f[*b]));
        // Sample lists per distinct conversion; columns keyed by the sample frequency (mHz).
        let mut lists: HashMap<[u64; 4], Vec<(usize, f64)>> = HashMap::new();
        let mut cols: HashMap<i64, usize> = HashMap::new();
        let mut col_freq: Vec<f64> = Vec::new();
        let mut col_chan: Vec<Option<usize>> = Vec::new();
        for fr in &steps.distinct {
            if lists.contains_key(&fr.key()) {
                continue;
            }
            let vis: Vec<f64> = f.iter().map(|x| fr.apply(*x)).collect();
            // The samples of the whole image axis (tclean's lattice), kept for this block's
            // channels only.
            let dv = match first_two {
                Some([a, b]) => fr.apply(b) - fr.apply(a),
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
            lists.insert(fr.key(), t);
        }
        let ncol = col_freq.len();
        let mut out: Vec<(Array2<Complex32>, Array2<f32>)> = stokes
            .iter()
            .map(|_| (Array2::zeros((nrow, ncol)), Array2::zeros((nrow, ncol))))
            .collect();
        // With the nearest channel's weight, the frequency tclean weighs it at: that channel's
        // own converted frequency (`BriggsCubeWeightor::getWeightUniform` computes each data
        // channel's u, v from its frequency), kept as an offset from the column's frequency.
        let mut weight_dfreq = nearest_weights.then(|| Array2::<f32>::zeros((nrow, ncol)));
        let mut xs = vec![0.0; f.len()];
        for r in 0..nrow {
            for (i, j) in order.iter().enumerate() {
                xs[i] = steps.of(r).apply(f[*j]);
            }
            for (_, x) in &lists[&steps.of(r).key()] {
                let col = cols[&((x * 1e3).round() as i64)];
                let Some(ip) = interpolate_within(&xs, *x, method, edge_tol) else {
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
                        if let (Some(d), Some(n)) = (weight_dfreq.as_mut(), near) {
                            d[[r, col]] = (steps.of(r).apply(f[n]) - x) as f32;
                        }
                    }
                }
            }
        }
        Prepared {
            uvw_m,
            weight_uvw_m,
            freq_hz: col_freq,
            image_chan: col_chan,
            stokes: out,
            density_scale: 1.0,
            density_w: None,
            weight_dfreq,
            shared_density: None,
            field_r: chunk.field_id.clone(),
            time_r: chunk.time_s.clone(),
            row_doppler: None,
            ant1_r: chunk.ant1.clone(),
            ant2_r: chunk.ant2.clone(),
        }
    }
}

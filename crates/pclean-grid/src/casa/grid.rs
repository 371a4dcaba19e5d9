//! Gridding and degridding with tclean's rounding: each visibility's nearest grid cell and
//! kernel offset, the footprint's weights from the sampled gridding function, accumulated into
//! the double-precision grid in visibility order (deterministic whatever the thread count).

use super::spheroidal::{SAMPLING, SUPPORT};
use crate::gridder::{GridError, GridStats};
use crate::seam::VisBatch;
use ndarray::{ArrayView2, ArrayViewMut2, Axis};
use num_complex::{Complex32, Complex64};
use pclean_core::SPEED_OF_LIGHT;
use rayon::prelude::*;

/// Footprint width in cells.
const FOOT: usize = 2 * SUPPORT + 1;
/// Rows of a batch located per task (fixed, so that results do not depend on the threads).
const ROWS_PER_TASK: usize = 512;

/// One visibility on the grid: its index `row * nchan + chan` in the batch, the grid cell of
/// its centre in tclean's layout (0-based, zero frequency at `n/2`) and its kernel offsets in
/// 1/[`SAMPLING`] cells. 12 bytes.
#[derive(Clone, Copy, Debug)]
struct Placed {
    idx: u32,
    lx: u16,
    ly: u16,
    ox: i8,
    oy: i8,
}

/// What gridding and degridding need of the gridder.
pub(super) struct Locator<'a> {
    pub(super) nxp: usize,
    pub(super) nyp: usize,
    pub(super) scale: [f64; 2],
    pub(super) conv: &'a [f64],
}

/// `dim` must be `(nrow, nchan)` of the batch, and `uvw_m` `(nrow, 3)`.
pub(super) fn check_batch(
    batch: &VisBatch,
    what: &'static str,
    dim: (usize, usize),
) -> Result<(), GridError> {
    let (nrow, nchan) = (batch.uvw_m.nrows(), batch.freq_hz.len());
    if batch.uvw_m.ncols() != 3 {
        return Err(GridError::Shape {
            what: "uvw_m",
            expected: vec![nrow, 3],
            got: batch.uvw_m.shape().to_vec(),
        });
    }
    if dim != (nrow, nchan) {
        return Err(GridError::Shape {
            what,
            expected: vec![nrow, nchan],
            got: vec![dim.0, dim.1],
        });
    }
    if nrow
        .checked_mul(nchan.max(1))
        .is_none_or(|n| n > u32::MAX as usize)
    {
        return Err(GridError::Shape {
            what: "batch (at most 2^32 visibilities per call)",
            expected: vec![u32::MAX as usize],
            got: vec![nrow, nchan],
        });
    }
    Ok(())
}

/// Whether a weight selects its visibility (the seam's convention: `> 0`, not NaN).
#[inline]
fn selected(w: f32) -> bool {
    w > 0.0
}

impl Locator<'_> {
    /// tclean's location of coordinate `uv_m` (metres) at `freq` Hz on axis `k`: the 0-based
    /// centre cell and the kernel offset, or `None` when the footprint leaves the grid.
    /// tclean: `pos = scale uv freq / c + n/2 + 1` (1-based), `loc = nint(pos)`, `off =
    /// nint((loc - pos) SAMPLING)`, on the grid when `loc - SUPPORT >= 1` and `loc + SUPPORT <=
    /// n`.
    #[inline]
    fn axis(&self, k: usize, uv_m: f64, freq: f64) -> Option<(u16, i8)> {
        let n = if k == 0 { self.nxp } else { self.nyp };
        let cinv = 1.0 / SPEED_OF_LIGHT;
        let pos = self.scale[k] * uv_m * freq * cinv + ((n / 2) as f64 + 1.0);
        if !pos.is_finite() {
            return None;
        }
        // Fortran's nint: round half away from zero.
        let loc = pos.round();
        if loc - (SUPPORT as f64) < 1.0 || loc + (SUPPORT as f64) > n as f64 {
            return None;
        }
        let off = ((loc - pos) * SAMPLING as f64).round();
        Some(((loc as usize - 1) as u16, off as i8))
    }

    /// Whether the footprint of `(u, v)` metres at `freq` Hz lies on the grid (tclean grids it).
    #[inline]
    pub(super) fn reaches(&self, u_m: f64, v_m: f64, freq: f64) -> bool {
        self.axis(0, u_m, freq).is_some() && self.axis(1, v_m, freq).is_some()
    }

    /// The kernel weights of a footprint with offset `off`: `conv[|SAMPLING k + off|]`.
    #[inline]
    fn weights(&self, off: i8) -> [f64; FOOT] {
        std::array::from_fn(|i| {
            let k = i as i64 - SUPPORT as i64;
            self.conv[(SAMPLING as i64 * k + off as i64).unsigned_abs() as usize]
        })
    }

    /// The sum of the kernel weights of a footprint with offsets `(ox, oy)` (its 2-D sum: the
    /// product of the axes' sums).
    #[inline]
    fn footprint_sum(&self, ox: i8, oy: i8) -> f64 {
        self.weights(ox).iter().sum::<f64>() * self.weights(oy).iter().sum::<f64>()
    }

    /// The selected, on-grid visibilities of `batch` in order, with the counts (and the sum of
    /// the weights).
    fn place(&self, batch: &VisBatch) -> (Vec<Placed>, GridStats) {
        let (uvw, freq, wt) = (batch.uvw_m, batch.freq_hz, batch.weight_rc);
        let nchan = freq.len();
        let parts: Vec<(Vec<Placed>, GridStats)> = (0..uvw.nrows())
            .step_by(ROWS_PER_TASK)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|r0| {
                let mut out = Vec::new();
                let mut st = GridStats::default();
                for r in r0..(r0 + ROWS_PER_TASK).min(uvw.nrows()) {
                    let (u, v) = (uvw[[r, 0]], uvw[[r, 1]]);
                    for (c, &f) in freq.iter().enumerate() {
                        let w = wt[[r, c]];
                        if !selected(w) {
                            continue;
                        }
                        let at = self.axis(0, u, f).zip(self.axis(1, v, f));
                        let Some(((lx, ox), (ly, oy))) = at else {
                            st.n_skipped += 1;
                            continue;
                        };
                        st.n_gridded += 1;
                        st.sum_weights += w as f64;
                        let idx = (r * nchan + c) as u32;
                        out.push(Placed {
                            idx,
                            lx,
                            ly,
                            ox,
                            oy,
                        });
                    }
                }
                (out, st)
            })
            .collect();
        let mut stats = GridStats::default();
        let mut all = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
        for (p, st) in parts {
            all.extend(p);
            stats += st;
        }
        (all, stats)
    }

    /// Grid `batch` (its weights, times `vis` when given) into `grid` (`(nyp, nxp)`, zero
    /// frequency at `[0, 0]`): bands of grid rows in parallel, each taking every visibility's
    /// footprint rows inside it in visibility order. Each visibility's footprint weights are
    /// divided by their sum, as tclean grids (measured against tclean 6.7 with one and two
    /// visibilities: two visibilities' relative amplitudes in tclean's PSF differ from the raw
    /// kernel's by exactly the ratio of their footprint sums, 1.5e-4 for the pair measured; see
    /// docs/decisions.md (s9-ch13)), so the image is normalised by the plain sum of the weights.
    /// Returns the counts and the sum of the weights.
    pub(super) fn grid(
        &self,
        mut grid: ArrayViewMut2<Complex64>,
        batch: &VisBatch,
        vis: Option<ArrayView2<Complex32>>,
    ) -> Result<GridStats, GridError> {
        let (placed, stats) = self.place(batch);
        let nchan = batch.freq_hz.len().max(1);
        let (wt, nxp, nyp) = (batch.weight_rc, self.nxp, self.nyp);
        let value = |p: &Placed| -> Complex64 {
            let (r, c) = (p.idx as usize / nchan, p.idx as usize % nchan);
            let w = wt[[r, c]];
            let z = match vis {
                // tclean: weight * visibility in single precision, then the double grid.
                Some(v) => {
                    let z = v[[r, c]];
                    Complex64::new((w * z.re) as f64, (w * z.im) as f64)
                }
                None => Complex64::new(w as f64, 0.0),
            };
            z / self.footprint_sum(p.ox, p.oy)
        };
        let band = nyp.div_ceil(4 * rayon::current_num_threads()).max(FOOT);
        grid.axis_chunks_iter_mut(Axis(0), band)
            .into_par_iter()
            .enumerate()
            .for_each(|(b, mut rows)| {
                let (lo, hi) = (b * band, b * band + rows.nrows());
                for p in &placed {
                    let wy = self.weights(p.oy);
                    let wx = self.weights(p.ox);
                    let mut val = None;
                    for (iy, &ky) in wy.iter().enumerate() {
                        // Grid row (zero frequency at 0) of footprint row iy.
                        let gy = (p.ly as usize + iy + nyp / 2 - SUPPORT) % nyp;
                        if gy < lo || gy >= hi {
                            continue;
                        }
                        let z = *val.get_or_insert_with(|| value(p));
                        let mut row = rows.row_mut(gy - lo);
                        for (ix, &kx) in wx.iter().enumerate() {
                            let gx = (p.lx as usize + ix + nxp / 2 - SUPPORT) % nxp;
                            row[gx] += z * (kx * ky);
                        }
                    }
                }
            });
        Ok(stats)
    }

    /// Predict the visibilities of `batch` (mask: its weights) from the transformed model
    /// `grid` into `out` (zero where not predicted): each the footprint's kernel-weighted sum of
    /// grid cells divided by the sum of the kernel weights, as tclean's degridder.
    pub(super) fn degrid(
        &self,
        grid: ArrayView2<Complex64>,
        batch: &VisBatch,
        mut out: ArrayViewMut2<Complex32>,
    ) -> GridStats {
        let (placed, mut stats) = self.place(batch);
        stats.sum_weights = 0.0;
        out.fill(Complex32::new(0.0, 0.0));
        let nchan = batch.freq_hz.len().max(1);
        let (nxp, nyp) = (self.nxp, self.nyp);
        let values: Vec<Complex32> = placed
            .par_iter()
            .map(|p| {
                let (wx, wy) = (self.weights(p.ox), self.weights(p.oy));
                let mut acc = Complex64::new(0.0, 0.0);
                let mut norm = 0.0;
                for (iy, &ky) in wy.iter().enumerate() {
                    let row = grid.row((p.ly as usize + iy + nyp / 2 - SUPPORT) % nyp);
                    for (ix, &kx) in wx.iter().enumerate() {
                        let wt = kx * ky;
                        acc += row[(p.lx as usize + ix + nxp / 2 - SUPPORT) % nxp] * wt;
                        norm += wt;
                    }
                }
                let v = acc / norm;
                Complex32::new(v.re as f32, v.im as f32)
            })
            .collect();
        for (p, v) in placed.iter().zip(values) {
            out[[p.idx as usize / nchan, p.idx as usize % nchan]] = v;
        }
        stats
    }
}

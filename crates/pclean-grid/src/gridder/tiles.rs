//! Bucketing visibilities by uv tile, and moving tile buffers to and from the shared grid.

use super::uvgrid::Real;
use super::{wrap, GridStats, BUF_STRIDE, TILE};
use ndarray::{Array2, ArrayView2};
use num_complex::Complex;
use rayon::prelude::*;
use std::sync::Mutex;

/// Per-call grid geometry: grid size, support, per-channel uv scale (cells per metre).
pub(super) struct Geometry {
    pub(super) nu: usize,
    pub(super) nv: usize,
    pub(super) w: usize,
    pub(super) half: f64,
    /// `a = uvw[r, 0] * fu[c]`: u position in grid cells (0 = zero frequency).
    pub(super) fu: Vec<f64>,
    pub(super) fv: Vec<f64>,
    pub(super) ntu: usize,
    pub(super) ntv: usize,
}

impl Geometry {
    /// Grid column of the first cell, and grid row, of row `r` of tile `(tu, tv)`'s buffer
    /// (the buffer starts `W` cells before the tile; `n/2` is the zero frequency).
    #[inline(always)]
    pub(super) fn buffer_row(&self, tu: usize, tv: usize, r: usize) -> (usize, usize) {
        let w = self.w as i64;
        let u0 = wrap((tu * TILE) as i64 - w - (self.nu / 2) as i64, self.nu);
        let gv = wrap((tv * TILE + r) as i64 - w - (self.nv / 2) as i64, self.nv);
        (u0, gv)
    }
}

/// Location of a visibility on one axis: `key = i0 + W` (>= 0) with `i0` the first footprint cell
/// in centred coordinates (`n/2` = zero frequency), and the fractional offset `t` in `[0, 1)`.
#[inline(always)]
pub(super) fn locate(a: f64, n: usize, half: f64, w: usize) -> Option<(usize, f64)> {
    let hn = (n / 2) as f64;
    if a.abs() < hn {
        // x = start + W > 0, so truncation is floor; ceil without a libm call. Through i64:
        // one conversion instruction each way (usize <-> f64 takes a sequence of them
        // without AVX-512; the values are the same).
        let x = a + hn - half + w as f64;
        let fl = x as i64;
        let key = if (fl as f64) < x { fl + 1 } else { fl };
        Some((key as usize, key as f64 - x))
    } else {
        None
    }
}

/// [`locate`] by `ceil`: the same key and offset (`ceil(x)` is the key `locate` finds by
/// truncation), with the rounding as one instruction where the caller is compiled with SSE4.1
/// (the bucketing's AVX2 pass, [`VisIndex::build`]; elsewhere `ceil` is a library call).
#[inline(always)]
pub(super) fn locate_by_ceil(a: f64, n: usize, half: f64, w: usize) -> Option<(usize, f64)> {
    let hn = (n / 2) as f64;
    if a.abs() < hn {
        let x = a + hn - half + w as f64;
        let key = x.ceil();
        Some((key as i64 as usize, key - x))
    } else {
        None
    }
}

/// [`locate`] of a visibility known to lie on the grid (the tile kernels: the index checked it):
/// the same key and offset (`ceil(x)` is the key `locate` finds by truncation, exact for these
/// magnitudes), without the range check, and the rounding as one instruction where the caller
/// is compiled with SSE4.1 (the AVX2 tile kernels; elsewhere `ceil` is a library call). Both
/// axes at once, so that the compiler can pair their arithmetic in one vector.
#[inline(always)]
pub(super) fn locate_on_grid(
    ab: [f64; 2],
    n: [usize; 2],
    half: f64,
    w: usize,
) -> [(usize, f64); 2] {
    let x: [f64; 2] = std::array::from_fn(|i| ab[i] + (n[i] / 2) as f64 - half + w as f64);
    let key: [f64; 2] = std::array::from_fn(|i| x[i].ceil());
    let t: [f64; 2] = std::array::from_fn(|i| key[i] - x[i]);
    std::array::from_fn(|i| (key[i] as i64 as usize, t[i]))
}

/// A run of consecutive channels `chan0..chan0 + nch` of one row that fall in the same tile.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Entry {
    pub(super) row: u32,
    pub(super) chan0: u32,
    pub(super) nch: u32,
}

/// Visibilities bucketed by uv tile (stable counting sort of channel runs).
pub(super) struct VisIndex {
    /// `entries[start[t]..start[t + 1]]` belong to tile `t = tv * ntu + tu`.
    pub(super) start: Vec<usize>,
    pub(super) entries: Vec<Entry>,
    /// Visibilities per tile.
    pub(super) nvis: Vec<u32>,
    /// Tiles with at least one entry, in tile order.
    pub(super) nonempty: Vec<usize>,
    pub(super) stats: GridStats,
}

/// The counts of [`row_runs`] over every row, nothing bucketed.
pub(super) fn count(geo: &Geometry, uvw: ArrayView2<f64>, weight: ArrayView2<f32>) -> GridStats {
    let mut st = GridStats::default();
    for r in 0..uvw.nrows() {
        row_runs(geo, &uvw, Some(&weight), r, &mut st, locate, |_, _, _| {});
    }
    st
}

/// Call `f(tile, chan0, nch)` for the runs of selected, on-grid channels of row `r` that share a
/// tile; count the rest in `st`. `loc` is [`locate`] or [`locate_by_ceil`] (the same results).
#[inline(always)]
pub(super) fn row_runs(
    geo: &Geometry,
    uvw: &ArrayView2<f64>,
    weight: Option<&ArrayView2<f32>>,
    r: usize,
    st: &mut GridStats,
    loc: impl Fn(f64, usize, f64, usize) -> Option<(usize, f64)>,
    mut f: impl FnMut(usize, usize, usize),
) {
    let (u, v) = (uvw[[r, 0]], uvw[[r, 1]]);
    let nchan = geo.fu.len();
    let mut run: Option<(usize, usize, usize)> = None;
    for c in 0..nchan {
        let w = match weight {
            Some(wt) => {
                let w = wt[[r, c]];
                if w.is_nan() || w <= 0.0 {
                    if let Some((t, c0, n)) = run.take() {
                        f(t, c0, n);
                    }
                    continue;
                }
                w as f64
            }
            None => 0.0,
        };
        let tile = loc(u * geo.fu[c], geo.nu, geo.half, geo.w).and_then(|(ku, _)| {
            let (kv, _) = loc(v * geo.fv[c], geo.nv, geo.half, geo.w)?;
            Some((kv / TILE) * geo.ntu + ku / TILE)
        });
        match tile {
            Some(t) => {
                st.n_gridded += 1;
                st.sum_weights += w;
                run = match run {
                    Some((t0, c0, n)) if t0 == t => Some((t0, c0, n + 1)),
                    other => {
                        if let Some((t0, c0, n)) = other {
                            f(t0, c0, n);
                        }
                        Some((t, c, 1))
                    }
                };
            }
            None => {
                st.n_skipped += 1;
                if let Some((t, c0, n)) = run.take() {
                    f(t, c0, n);
                }
            }
        }
    }
    if let Some((t, c0, n)) = run {
        f(t, c0, n);
    }
}

/// Pass 1 of [`VisIndex::build`] over one chunk of rows: the runs with their tiles, and the run
/// and visibility counts per tile.
type Chunk = (Vec<(u32, Entry)>, Vec<u32>, Vec<u32>, GridStats);

/// [`chunk_body`], in an AVX2 build where the CPU has it (runtime dispatch): there `locate`'s
/// rounding is one instruction ([`locate_by_ceil`]; profiled, session 15: the bucketing was
/// ~17% of the samples at 1024^2, epsilon 1e-5, a third of it in locating).
fn chunk_runs(
    geo: &Geometry,
    uvw: &ArrayView2<f64>,
    weight: Option<&ArrayView2<f32>>,
    rows: std::ops::Range<usize>,
) -> Chunk {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports the features enabled on `chunk_runs_avx2`.
        return unsafe { chunk_runs_avx2(geo, uvw, weight, rows) };
    }
    chunk_body(geo, uvw, weight, rows, locate)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn chunk_runs_avx2(
    geo: &Geometry,
    uvw: &ArrayView2<f64>,
    weight: Option<&ArrayView2<f32>>,
    rows: std::ops::Range<usize>,
) -> Chunk {
    chunk_body(geo, uvw, weight, rows, locate_by_ceil)
}

#[inline(always)]
fn chunk_body(
    geo: &Geometry,
    uvw: &ArrayView2<f64>,
    weight: Option<&ArrayView2<f32>>,
    rows: std::ops::Range<usize>,
    loc: impl Fn(f64, usize, f64, usize) -> Option<(usize, f64)> + Copy,
) -> Chunk {
    let ntiles = geo.ntu * geo.ntv;
    let mut runs = Vec::new();
    let mut cnt = vec![0u32; ntiles];
    let mut nv = vec![0u32; ntiles];
    let mut st = GridStats::default();
    for r in rows {
        row_runs(geo, uvw, weight, r, &mut st, loc, |t, c0, n| {
            cnt[t] += 1;
            nv[t] += n as u32;
            let e = Entry {
                row: r as u32,
                chan0: c0 as u32,
                nch: n as u32,
            };
            runs.push((t as u32, e));
        });
    }
    (runs, cnt, nv, st)
}

impl VisIndex {
    pub(super) fn build(
        geo: &Geometry,
        uvw: ArrayView2<f64>,
        weight: Option<ArrayView2<f32>>,
    ) -> Self {
        let nrow = uvw.nrows();
        let ntiles = geo.ntu * geo.ntv;
        let nchunks = (rayon::current_num_threads()).min(nrow).max(1);
        let rows_per = nrow.div_ceil(nchunks).max(1);
        let weight = weight.as_ref();
        // Pass 1: per chunk, the runs (with their tiles) and the run and visibility counts per
        // tile. Locating every visibility once here and keeping its run saves pass 2 a second
        // `row_runs` over the data (measured: the bucketing was ~40% of the tile kernels' time).
        let chunks: Vec<Chunk> = (0..nchunks)
            .into_par_iter()
            .map(|k| {
                let rows = k * rows_per..((k + 1) * rows_per).min(nrow);
                chunk_runs(geo, &uvw, weight, rows)
            })
            .collect();
        let mut start = vec![0usize; ntiles + 1];
        let mut nvis = vec![0u32; ntiles];
        let mut offsets = vec![vec![0usize; ntiles]; nchunks];
        let mut acc = 0usize;
        for t in 0..ntiles {
            start[t] = acc;
            for k in 0..nchunks {
                offsets[k][t] = acc;
                acc += chunks[k].1[t] as usize;
                nvis[t] += chunks[k].2[t];
            }
        }
        start[ntiles] = acc;
        let mut stats = GridStats::default();
        for (_, _, _, st) in &chunks {
            stats += *st;
        }
        // Pass 2: scatter the runs; chunk k writes only its own reserved slots, in row order.
        let mut entries = vec![Entry::default(); acc];
        let ptr = SendPtr(entries.as_mut_ptr());
        chunks
            .into_par_iter()
            .zip(offsets.into_par_iter())
            .for_each(|((runs, ..), mut off)| {
                let ptr = &ptr;
                for (t, e) in runs {
                    let t = t as usize;
                    // SAFETY: offsets of different chunks and tiles are disjoint ranges of
                    // `entries`, sized by the counts of the same runs.
                    unsafe { *ptr.0.add(off[t]) = e };
                    off[t] += 1;
                }
            });
        let nonempty = (0..ntiles).filter(|&t| start[t + 1] > start[t]).collect();
        Self {
            start,
            entries,
            nvis,
            nonempty,
            stats,
        }
    }

    pub(super) fn entries_of(&self, tile: usize) -> &[Entry] {
        &self.entries[self.start[tile]..self.start[tile + 1]]
    }

    /// Split the non-empty tiles into about `ntasks` runs of similar visibility counts.
    pub(super) fn tasks(&self, ntasks: usize) -> Vec<std::ops::Range<usize>> {
        self.tasks_of(&self.nonempty, ntasks)
    }

    /// Split `tiles` into about `ntasks` runs (index ranges into `tiles`) of similar visibility
    /// counts.
    pub(super) fn tasks_of(&self, tiles: &[usize], ntasks: usize) -> Vec<std::ops::Range<usize>> {
        let total: usize = tiles
            .iter()
            .map(|&t| self.nvis[t] as usize)
            .sum::<usize>()
            .max(1);
        let per = total.div_ceil(ntasks.max(1)).max(1);
        let mut out = Vec::new();
        let (mut begin, mut acc) = (0, 0);
        for (i, &t) in tiles.iter().enumerate() {
            acc += self.nvis[t] as usize;
            if acc >= per {
                out.push(begin..i + 1);
                begin = i + 1;
                acc = 0;
            }
        }
        if begin < tiles.len() {
            out.push(begin..tiles.len());
        }
        out
    }

    /// The non-empty tiles in flush phases whose order makes gridding deterministic: four colours
    /// by the parity of the tile's column and row (same-colour tiles are 32 cells apart, more than
    /// a tile buffer's `16 + W - 1` cells, so no cell receives two flushes within a phase), then
    /// the tiles within 3 of the grid's edges, whose buffers can wrap onto each other, flushed one
    /// after another. Every cell thus receives its contributions in an order that depends neither
    /// on the thread count nor on timing.
    pub(super) fn flush_phases(&self, geo: &Geometry) -> [Vec<usize>; 5] {
        let mut phases: [Vec<usize>; 5] = Default::default();
        let edge = |i: usize, n: usize| i < 3 || i + 3 >= n;
        for &t in &self.nonempty {
            let (tu, tv) = (t % geo.ntu, t / geo.ntu);
            let p = if edge(tu, geo.ntu) || edge(tv, geo.ntv) {
                4
            } else {
                (tu % 2) + 2 * (tv % 2)
            };
            phases[p].push(t);
        }
        phases
    }
}

pub(super) struct SendPtr<P>(pub(super) *mut P);
// SAFETY: used only for disjoint writes coordinated by the callers (see each use).
unsafe impl<P: Send> Send for SendPtr<P> {}
unsafe impl<P: Send> Sync for SendPtr<P> {}

/// Shared access to the oversampled grid for flushing tile buffers: each grid row is guarded by
/// its own lock, and rows are only written while their lock is held.
pub(super) struct SharedGrid<T> {
    pub(super) ptr: SendPtr<Complex<T>>,
    pub(super) nu: usize,
    pub(super) locks: Vec<Mutex<()>>,
}

impl<T: Real> SharedGrid<T> {
    pub(super) fn new(grid: &mut Array2<Complex<T>>) -> Self {
        assert!(grid.is_standard_layout());
        let nv = grid.nrows();
        Self {
            ptr: SendPtr(grid.as_mut_ptr()),
            nu: grid.ncols(),
            locks: (0..nv).map(|_| Mutex::new(())).collect(),
        }
    }

    /// Add tile `(tu, tv)`'s buffer (`b` rows of stride [`BUF_STRIDE`], `b = TILE + W - 1` used
    /// cells per row) into the grid, wrapping periodically.
    pub(super) fn flush(&self, geo: &Geometry, buf: &[Complex<T>], tu: usize, tv: usize) {
        let b = TILE + geo.w - 1;
        for (r, brow) in buf.chunks_exact(BUF_STRIDE).enumerate() {
            let (u0, gv) = geo.buffer_row(tu, tv, r);
            let _guard = self.locks[gv].lock().unwrap_or_else(|e| e.into_inner());
            // SAFETY: row `gv` lies inside the grid and is only accessed under its lock.
            let row =
                unsafe { std::slice::from_raw_parts_mut(self.ptr.0.add(gv * self.nu), self.nu) };
            wrapped_runs(u0, b, self.nu, |gu, off, n| {
                for (g, v) in row[gu..gu + n].iter_mut().zip(&brow[off..off + n]) {
                    *g += *v;
                }
            });
        }
    }
}

/// Copy the grid cells under tile `(tu, tv)`'s buffer into `buf` (periodic wrap).
pub(super) fn load_tile<T: Real>(
    geo: &Geometry,
    grid: &ArrayView2<Complex<T>>,
    buf: &mut [Complex<T>],
    tu: usize,
    tv: usize,
) {
    let b = TILE + geo.w - 1;
    for (r, brow) in buf.chunks_exact_mut(BUF_STRIDE).enumerate() {
        let (u0, gv) = geo.buffer_row(tu, tv, r);
        let row = grid.row(gv);
        let row = row.as_slice().expect("standard layout");
        wrapped_runs(u0, b, geo.nu, |gu, off, n| {
            brow[off..off + n].copy_from_slice(&row[gu..gu + n])
        });
    }
}

/// Call `f(gu, off, n)` for the runs of `len` cells starting at grid column `u0` that wrap at
/// `nu`: buffer cells `off..off + n` lie on grid columns `gu..gu + n`.
#[inline(always)]
fn wrapped_runs(u0: usize, len: usize, nu: usize, mut f: impl FnMut(usize, usize, usize)) {
    let (mut gu, mut off) = (u0, 0);
    while off < len {
        let n = (len - off).min(nu - gu);
        f(gu, off, n);
        off += n;
        gu = 0;
    }
}

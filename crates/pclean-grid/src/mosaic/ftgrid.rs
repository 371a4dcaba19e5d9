//! tclean 6.7's mosaic gridding (`MosaicFT` with `HetArrayConvFunc`) for the residual and PSF
//! passes of [`super::MosaicGridder`].
//!
//! Facts read in CASA's source (`MosaicFT.cc`, `HetArrayConvFunc.cc`, `mosaic.f`) and measured
//! against tclean's products (docs/decisions.md (s15-mosedge)):
//! - the grid is the *unpadded* image (`MosaicFT` takes no `padding`): `nx` x `ny` cells of
//!   `1 / (n cell)`, so the image is periodic with the image's size and the sky beyond its edges
//!   folds in along the axes;
//! - each visibility is gridded with the transform of its baseline beam `VP_a VP_b` (on a screen
//!   spanning the image, the transform's cells those of the grid), normalised by its sum over
//!   `+-S` cells (`S` the weight kernel's support, [`super::weight`]), cropped to `2 (S + 2)`
//!   cells and resampled `SAMPLING` times per cell with a Lanczos-3 interpolator that is zero
//!   where the interpolation point lies within 3 cells of the crop's edges;
//! - the kernel is multiplied by the phase gradient of the pointing's pixel offset from the image
//!   centre (the beam moves to the pointing) and sampled, for the `2 S + 1` cells on each axis
//!   around the visibility's nearest cell, at the offset rounded to `1 / SAMPLING` cell (the
//!   position held in single precision, as tclean's Fortran);
//! - the weighted visibilities are summed without a per-footprint normalisation, the grid is
//!   transformed and the image divided by `sinc(pi d / (n SAMPLING))` on each axis (`d` the
//!   pixel's offset from the centre), the correction of the nearest-sample gridding.
//!
//! With the Airy beams of the 7 m dishes, whose primary beam reaches the image edge, the folding
//! and the truncated kernel move the image by up to 2% of its peak at the pb 0.3 edge against an
//! exact `PB x dirty image` (the residual gap of issue 14); this reproduces tclean to 2e-4.

use super::weight::{cosines, vp_screen, WeightKernels};
use super::MosaicGridder;
use crate::gridder::{fft_image_rows, image_to_grid, GridStats};
use crate::pb::PbModel;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use num_complex::{Complex32, Complex64};
use pclean_core::SPEED_OF_LIGHT;
use pclean_fft::{fft_cols_subset, nonzero_cols, FftDirection};
use rayon::prelude::*;
use std::f64::consts::PI;
use std::sync::{Arc, Mutex};

/// [`FtKernels`] by the bits of (beam frequency, kernel frequency), shared by clones.
pub(super) type FtCache = Arc<Mutex<Vec<([u64; 2], Arc<FtKernels>)>>>;

impl MosaicGridder {
    /// The gridding geometry of this mosaic's image.
    pub(super) fn ft_grid(&self) -> FtGrid {
        let s = self.gridder.spec();
        FtGrid::new(s.nx, s.ny, [s.cell_x_rad.abs(), s.cell_y_rad.abs()])
    }

    /// The gridding kernels of beam frequency `band` (made once per frequency): the beams at
    /// that frequency with the support of the band's weight kernels; with `conjbeams`, as
    /// tclean's `fillConjConvFunc`, those kernels (with tclean's raised support) resampled by
    /// the ratio of the conjugate frequency to the band's ([`FtKernels::conjugate`]).
    pub(super) fn ft_kernels(&self, band: usize) -> Arc<FtKernels> {
        let f = self.band_freq(band);
        let fk = self.image_beam_freq(f);
        let key = [f.to_bits(), fk.to_bits()];
        let mut cache = self.ft_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, k)) = cache.iter().find(|(k, _)| *k == key) {
            return k.clone();
        }
        let s = self.gridder.spec();
        let cells = [s.cell_x_rad, s.cell_y_rad];
        let w = WeightKernels::new(&self.beams, s.nx, s.ny, cells, f, self.conj_of(f));
        let supports = [w.support(), w.gridded_support()];
        let k = FtKernels::new(&self.beams, s.nx, s.ny, cells, f, supports);
        let k = Arc::new(match self.conj_of(f) {
            Some(fc) if fc != f => k.conjugate(fc / f),
            _ => k,
        });
        cache.push((key, k.clone()));
        k
    }
}

/// Kernel samples per grid cell (tclean's `convSampling` for `HetArrayConvFunc`, the
/// `mosaic.oversampling` default).
pub(super) const SAMPLING: usize = 10;
/// The Lanczos interpolator's half width (`interpLanczos`'s default `a`).
const LANCZOS_A: f64 = 3.0;

/// tclean's gridding kernels of one beam frequency, one per baseline beam: tables `(qy, qx)` of
/// `2 h SAMPLING` samples per axis (`h = S + 2`), the kernel's origin at `h SAMPLING`.
#[derive(Clone, Debug)]
pub(super) struct FtKernels {
    support: usize,
    tables: Vec<Array2<f64>>,
}

impl FtKernels {
    /// The kernels of baseline beams `beams` at `freq_hz` (the screen `VP_a VP_b`) for an `nx` x
    /// `ny` image of cells `cells_rad`, with supports `[S, S']`: normalised over `+-S` (the
    /// weight kernels' support), cropped for and gridded with `S'` (`S`, or with `conjbeams`
    /// tclean's raised support).
    pub(super) fn new(
        beams: &[(PbModel, PbModel)],
        nx: usize,
        ny: usize,
        cells_rad: [f64; 2],
        freq_hz: f64,
        [norm, support]: [usize; 2],
    ) -> Self {
        let h = support + 2;
        let centre = [(nx / 2) as f64, (ny / 2) as f64];
        let cx = cosines(nx, h, centre[0]);
        let cy = cosines(ny, h, centre[1]);
        let mx = lanczos_matrix(2 * h);
        let tables = beams
            .iter()
            .map(|(a, b)| {
                let screen = vp_screen(a, b, nx, ny, cells_rad, freq_hz);
                // c(i, j) for |i|, |j| <= h, indexed [j + h, i + h]; normalised over +-S.
                let full = cy.t().dot(&screen.dot(&cx));
                let inner = ndarray::s![h - norm..=h + norm, h - norm..=h + norm];
                let total = full.slice(inner).sum();
                let scale = if total > 0.0 { 1.0 / total } else { 1.0 };
                // tclean's crop: 2h cells, -h..h-1.
                let crop = full
                    .slice(ndarray::s![..2 * h, ..2 * h])
                    .mapv(|c| c * scale);
                mx.dot(&crop).dot(&mx.t())
            })
            .collect();
        FtKernels { support, tables }
    }

    /// tclean's kernels for `conjbeams` (`HetArrayConvFunc::fillConjConvFunc`): each table of
    /// `n` samples per axis resampled by `ratio` (the conjugate frequency over the data's) to
    /// `m = 2 floor(n ratio / 2)` samples, output sample `j` the Lanczos-3 interpolation at
    /// `j n / m` (zero near the edges, as [`lanczos_matrix`]); its centre `n` kept (`ratio > 1`)
    /// or padded with zeros to `n` (`ratio < 1`), both about the kernel's origin `n / 2`, and
    /// multiplied by `(n / m)^2` (the kernel's sum unchanged). The support is unchanged.
    pub(super) fn conjugate(&self, ratio: f64) -> Self {
        let tables = self
            .tables
            .iter()
            .map(|t| {
                let n = t.nrows();
                let m = 2 * (n as f64 * ratio / 2.0) as usize;
                let l = lanczos_resampling(n, m);
                let big = l.dot(t).dot(&l.t()) * (n as f64 / m as f64).powi(2);
                let mut out = Array2::<f64>::zeros((n, n));
                if m >= n {
                    let b = (m - n) / 2;
                    out.assign(&big.slice(ndarray::s![b..b + n, b..b + n]));
                } else {
                    let b = (n - m) / 2;
                    out.slice_mut(ndarray::s![b..b + m, b..b + m]).assign(&big);
                }
                out
            })
            .collect();
        FtKernels {
            support: self.support,
            tables,
        }
    }
}

/// The Lanczos-3 resampling of `n` samples to `n SAMPLING` as tclean's `resample`: output `j` is
/// the interpolation at `x = j / SAMPLING` (in input samples), zero where `floor(x) < 3` or
/// `floor(x) >= n - 3`. `(n SAMPLING, n)`.
fn lanczos_matrix(n: usize) -> Array2<f64> {
    let no = n * SAMPLING;
    lanczos_at(no, n, |j| j as f64 / no as f64 * n as f64)
}

/// tclean's `resample` of `n` samples to `m`: output `j` the Lanczos-3 interpolation at
/// `x = j (n / m)` (tclean's `xinvfactor`), zero where `floor(x) < 3` or `floor(x) >= n - 3`.
/// `(m, n)`.
fn lanczos_resampling(n: usize, m: usize) -> Array2<f64> {
    let step = n as f64 / m as f64;
    lanczos_at(m, n, |j| j as f64 * step)
}

/// The `(no, n)` matrix of Lanczos-3 interpolation of `n` samples at the points `at(j)`, zero
/// where the point's floor is within 3 samples of the edges (tclean's `interpLanczos`).
fn lanczos_at(no: usize, n: usize, at: impl Fn(usize) -> f64) -> Array2<f64> {
    let sinc = |x: f64| {
        if x == 0.0 {
            1.0
        } else {
            (PI * x).sin() / (PI * x)
        }
    };
    Array2::from_shape_fn((no, n), |(j, i)| {
        let x = at(j);
        let fx = x.floor();
        let i = i as f64;
        if fx < LANCZOS_A || fx >= n as f64 - LANCZOS_A || i < fx - LANCZOS_A + 1.0 || i > fx + 3.0
        {
            0.0
        } else {
            sinc(x - i) * sinc((x - i) / LANCZOS_A)
        }
    })
}

/// One visibility placed on the grid: its value `w V` (or `w`), the 0-based cell of its centre
/// in tclean's layout (zero frequency at `n/2`) and its kernel offsets in 1/[`SAMPLING`] cells.
#[derive(Clone, Copy, Debug)]
struct Placed {
    value: Complex64,
    lx: i64,
    ly: i64,
    ox: i64,
    oy: i64,
}

/// Gridding onto the unpadded image grid, as tclean's `MosaicFT::put`.
pub(super) struct FtGrid {
    pub(super) nx: usize,
    pub(super) ny: usize,
    /// tclean's `uvScale` with its sign conventions (as [`crate::casa`]): `+nx cell_x` for u,
    /// `-ny cell_y` for v.
    pub(super) scale: [f64; 2],
}

impl FtGrid {
    pub(super) fn new(nx: usize, ny: usize, cells_rad: [f64; 2]) -> Self {
        FtGrid {
            nx,
            ny,
            scale: [
                nx as f32 as f64 * cells_rad[0],
                -(ny as f32 as f64 * cells_rad[1]),
            ],
        }
    }

    /// tclean's location (`locuvw`) of coordinate `uv_m` at `freq` on axis `k`: the 0-based
    /// centre cell and the kernel offset; `None` when the footprint of support `s` misses the
    /// grid (tclean's `onmosgrid`: a footprint that overlaps the grid is gridded where it does).
    fn axis(&self, k: usize, uv_m: f64, freq: f64, s: usize) -> Option<(i64, i64)> {
        let n = if k == 0 { self.nx } else { self.ny };
        let pos = (self.scale[k] * uv_m * freq / SPEED_OF_LIGHT + ((n / 2) as f64 + 1.0)) as f32;
        if !pos.is_finite() || pos.abs() > 1e9 {
            return None;
        }
        let loc = pos.round();
        if loc + (s as f32) < 1.0 || loc - (s as f32) > n as f32 {
            return None;
        }
        let off = ((pos - loc) * -(SAMPLING as f32)).round() as i64;
        Some((loc as i64 - 1, off))
    }

    /// Grid rows `uvw_m` `(nrow, 3)` at `freq_hz` with weights `wgt` `(nrow, nchan)` (times
    /// `vis` when given) into `grid` (`(ny, nx)`, zero frequency at `[0, 0]`) with kernel
    /// `beam` of `kernels`, its beam moved to pixel `centre_px`. Returns the counts and the sum
    /// of the weights: of every selected visibility, gridded or not (tclean's `.sumwt` of a
    /// mosaic counts those whose footprint leaves its unpadded grid: measured on
    /// alma_mosaic_small, 93 312 with them, 93 030 without).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn grid(
        &self,
        mut grid: ArrayViewMut2<Complex64>,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        vis: Option<ArrayView2<Complex32>>,
        wgt: ArrayView2<f32>,
        kernels: &FtKernels,
        beam: usize,
        centre_px: [f64; 2],
    ) -> GridStats {
        let s = kernels.support;
        let table = &kernels.tables[beam];
        let c = (table.nrows() / 2) as i64;
        let mut stats = GridStats::default();
        let mut placed = Vec::new();
        for r in 0..uvw_m.nrows() {
            for (ch, &f) in freq_hz.iter().enumerate() {
                let w = wgt[[r, ch]];
                if !(w > 0.0 && w.is_finite()) {
                    continue;
                }
                stats.sum_weights += w as f64;
                let at = self
                    .axis(0, uvw_m[[r, 0]], f, s)
                    .zip(self.axis(1, uvw_m[[r, 1]], f, s));
                let Some(((lx, ox), (ly, oy))) = at else {
                    stats.n_skipped += 1;
                    continue;
                };
                stats.n_gridded += 1;
                let value = match vis {
                    Some(v) => {
                        let z = v[[r, ch]];
                        Complex64::new((w * z.re) as f64, (w * z.im) as f64)
                    }
                    None => Complex64::new(w as f64, 0.0),
                };
                placed.push(Placed {
                    value,
                    lx,
                    ly,
                    ox,
                    oy,
                });
            }
        }
        // The pointing's phase gradient per kernel sample (tclean's applyGradientToYLine).
        let grad = [
            -(centre_px[0] - (self.nx / 2) as f64) * 2.0 * PI / (self.nx * SAMPLING) as f64,
            -(centre_px[1] - (self.ny / 2) as f64) * 2.0 * PI / (self.ny * SAMPLING) as f64,
        ];
        let foot = 2 * s + 1;
        let (nx, ny) = (self.nx, self.ny);
        let band = ny.div_ceil(4 * rayon::current_num_threads()).max(foot);
        grid.axis_chunks_iter_mut(Axis(0), band)
            .into_par_iter()
            .enumerate()
            .for_each(|(b, mut rows)| {
                let (lo, hi) = (b * band, b * band + rows.nrows());
                for p in &placed {
                    let mut ex: Option<Vec<(i64, Complex64)>> = None;
                    for iy in 0..foot {
                        let ty = p.ly + iy as i64 - s as i64;
                        if ty < 0 || ty >= ny as i64 {
                            continue;
                        }
                        let gy = (ty as usize + ny / 2) % ny;
                        if gy < lo || gy >= hi {
                            continue;
                        }
                        let ex = ex.get_or_insert_with(|| {
                            (0..foot)
                                .map(|ix| {
                                    let q = SAMPLING as i64 * (ix as i64 - s as i64) + p.ox;
                                    (q + c, Complex64::from_polar(1.0, q as f64 * grad[0]))
                                })
                                .collect()
                        });
                        let qy = SAMPLING as i64 * (iy as i64 - s as i64) + p.oy;
                        let ey = p.value * Complex64::from_polar(1.0, qy as f64 * grad[1]);
                        let trow = table.row((qy + c) as usize);
                        let mut row = rows.row_mut(gy - lo);
                        for (ix, (kx, phx)) in ex.iter().enumerate() {
                            let tx = p.lx + ix as i64 - s as i64;
                            if tx < 0 || tx >= nx as i64 {
                                continue;
                            }
                            let gx = (tx as usize + nx / 2) % nx;
                            row[gx] += ey * *phx * trow[*kx as usize];
                        }
                    }
                }
            });
        stats
    }

    /// The image of a grid (`(ny, nx)`, zero frequency at `[0, 0]`): its transform's real part
    /// divided by tclean's sinc correction (single precision, as tclean), times `scale`.
    pub(super) fn image(&self, mut grid: Array2<Complex64>, scale: f64) -> Array2<f32> {
        let nonzero = nonzero_cols(grid.view());
        fft_cols_subset(grid.view_mut(), FftDirection::Backward, Some(&nonzero));
        fft_image_rows(grid.view_mut(), self.ny, FftDirection::Backward);
        let (rows, cols) = (
            image_to_grid(self.ny, self.ny),
            image_to_grid(self.nx, self.nx),
        );
        let sx = sinc_correction(self.nx);
        let sy = sinc_correction(self.ny);
        Array2::from_shape_fn((self.ny, self.nx), |(y, x)| {
            let v = grid[[rows[y], cols[x]]].re as f32 * (1.0 / (sx[x] * sy[y]));
            (v as f64 * scale) as f32
        })
    }
}

/// tclean's `sincConv` of an axis of `n` pixels: `sin(t) / t`, `t = pi (i - n/2) / (n
/// SAMPLING)`, in single precision.
fn sinc_correction(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            if i == n / 2 {
                1.0
            } else {
                let t = std::f32::consts::PI * (i as f32 - (n / 2) as f32)
                    / (n as f32 * SAMPLING as f32);
                t.sin() / t
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The resampling reproduces the samples at whole cells inside the valid region (Lanczos
    /// interpolation is exact there) and is zero within 3 cells of the crop's edges, as tclean's
    /// `interpLanczos`.
    #[test]
    fn lanczos_matrix_interpolates_and_zeroes_the_edges() {
        let n = 16;
        let m = lanczos_matrix(n);
        for j in 0..n * SAMPLING {
            let x = j / SAMPLING;
            let row = m.row(j);
            if !(3..n - 3).contains(&x) {
                assert!(row.iter().all(|v| *v == 0.0), "row {j}");
            } else if j % SAMPLING == 0 {
                for (i, v) in row.iter().enumerate() {
                    let want = if i == x { 1.0 } else { 0.0 };
                    // sinc at whole non-zero arguments is sin(k pi)/(k pi): ~1e-17.
                    assert!((v - want).abs() < 1e-12, "row {j} col {i}: {v}");
                }
            }
        }
    }

    /// tclean's conjugate kernels stretch each table about its origin by the frequency ratio and
    /// keep its sum: a Gaussian table `g` of 24 samples rms becomes, at offset `d` from the
    /// origin, `g(d n / m) (n / m)^2`, cropped (ratio 1.2) or padded with zeros (ratio 0.8) to
    /// the same `n`. Exactly (1e-12) where `d n / m` is a whole sample (Lanczos interpolation
    /// reproduces the samples there); elsewhere within Lanczos-3's ripple (its weights sum to
    /// 1 +- 5.7e-3 per axis: 1.2e-2 in 2-D). Inverting the ratio, moving the crop by a sample
    /// (2e-2 at the whole samples) or leaving out the `(n / m)^2` fails.
    #[test]
    fn conjugate_tables_stretch_the_kernel() {
        let n = 160usize;
        let g = |d: f64| (-d * d / (2.0 * 24.0 * 24.0)).exp();
        let c = (n / 2) as f64;
        let table = Array2::from_shape_fn((n, n), |(y, x)| g(y as f64 - c) * g(x as f64 - c));
        let k = FtKernels {
            support: 6,
            tables: vec![table],
        };
        for ratio in [1.2, 0.8] {
            let m = 2 * (n as f64 * ratio / 2.0) as usize;
            assert_eq!(m, if ratio > 1.0 { 192 } else { 128 });
            let out = k.conjugate(ratio);
            assert_eq!(out.support, 6);
            let t = &out.tables[0];
            assert_eq!(t.dim(), (n, n));
            let s = n as f64 / m as f64;
            let (mut err, mut err_whole, mut nwhole) = (0f64, 0f64, 0);
            for ((y, x), v) in t.indexed_iter() {
                let (dy, dx) = (y as f64 - c, x as f64 - c);
                // Where the output interpolates the input (3 samples in from its edges, and
                // inside the padded box for ratio < 1), else zero.
                let inside = |d: f64| (d * s + c) >= 3.0 && (d * s + c) < (n - 3) as f64;
                let want = if inside(dx) && inside(dy) {
                    g(dx * s) * g(dy * s) * s * s
                } else {
                    0.0
                };
                err = err.max((v - want).abs());
                let whole = |d: f64| ((d * s).round() - d * s).abs() < 1e-9;
                if whole(dx) && whole(dy) {
                    err_whole = err_whole.max((v - want).abs());
                    nwhole += 1;
                }
            }
            assert!(nwhole > 100, "{nwhole}");
            assert!(
                err_whole < 1e-12,
                "ratio {ratio}: {err_whole} at whole samples"
            );
            assert!(err < 1.2e-2 * s * s, "ratio {ratio}: {err}");
        }
    }

    /// tclean's raised support for the conjugate kernels: `c = 2 floor(S r / 2)`, `1.5 c` when
    /// `c > S`.
    #[test]
    fn conjugate_support_rule() {
        use super::super::conj::conjugate_support;
        let r90 = 11_900f64.sqrt() / 90.0; // 90 GHz about 100 GHz: 1.212
        assert_eq!(conjugate_support(6, r90), 6); // c = 6
        assert_eq!(conjugate_support(7, r90), 12); // c = 8
        assert_eq!(conjugate_support(10, r90), 18); // c = 12
        assert_eq!(conjugate_support(10, 7_900f64.sqrt() / 110.0), 10); // ratio < 1
        assert_eq!(conjugate_support(8, 1.0), 8);
    }

    /// The sinc correction is 1 at the centre and sin(pi/20)/(pi/20) at the first pixel of an
    /// even axis (d = -n/2).
    #[test]
    fn sinc_correction_values() {
        let s = sinc_correction(64);
        assert_eq!(s[32], 1.0);
        let t = std::f64::consts::PI / 20.0;
        // f32 evaluation: 1e-6 relative.
        assert!((s[0] as f64 - t.sin() / t).abs() < 1e-6);
    }
}

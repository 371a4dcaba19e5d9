//! One gridding or degridding pass: bucket the visibilities, then run the tile kernels in
//! parallel (gridding in deterministic flush phases).

use super::kernels::{run_tile, Ctx, DegridOp, GridOp, SharedVis, Source};
use super::tiles::{load_tile, SharedGrid, VisIndex};
use super::uvgrid::Real;
use super::{GridStats, Gridder, BUF_STRIDE, TILE};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use num_complex::{Complex, Complex32};
use pclean_fft::num_traits::Zero;
use rayon::prelude::*;

/// Call `$f::<T, W, _>` with the kernel support `W` (4 to 16) as a const generic.
macro_rules! dispatch_w {
    ($w:expr, $f:ident, $args:tt) => {
        dispatch_w!(@arms $w, $f, $args, 4 5 6 7 8 9 10 11 12 13 14 15 16)
    };
    (@arms $w:expr, $f:ident, $args:tt, $($n:literal)*) => {
        match $w {
            $($n => dispatch_w!(@call $f, $n, $args),)*
            w => unreachable!("unsupported kernel support {w}"),
        }
    };
    (@call $f:ident, $n:literal, ($($arg:expr),*)) => {
        $f::<T, $n, _>($($arg),*)
    };
}

impl Gridder {
    /// The inputs of one gridding or degridding pass: the per-call geometry, the kernel
    /// coefficients in `T`, and the visibilities (those with `weight_rc > 0`, if given) bucketed
    /// by tile.
    fn pass<'a, T: Real>(
        &self,
        uvw_m: ArrayView2<'a, f64>,
        freq_hz: &[f64],
        weight_rc: Option<ArrayView2<f32>>,
    ) -> (Ctx<'a, T>, VisIndex) {
        let geo = self.geometry(freq_hz);
        let index = VisIndex::build(&geo, uvw_m, weight_rc);
        let ctx = Ctx {
            geo,
            uvw: uvw_m,
            coeffs: self.coeffs::<T>(),
        };
        (ctx, index)
    }

    /// Grid the visibilities of `src` into `grid`, tile by tile in deterministic flush phases;
    /// with `psf_grid`, the point-spread function of the same visibilities (their weights) into
    /// it from the same bucketing and kernel weights ([`GridOp::with_psf`]): each grid is the
    /// one its own pass makes, bit for bit.
    pub(super) fn grid_impl<T: Real, S: Source<T>>(
        &self,
        grid: &mut Array2<Complex<T>>,
        psf_grid: Option<&mut Array2<Complex<T>>>,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        weight_rc: ArrayView2<f32>,
        src: &S,
    ) -> GridStats {
        let (ctx, index) = self.pass::<T>(uvw_m, freq_hz, Some(weight_rc));
        let geo = &ctx.geo;
        let shared = SharedGrid::new(grid);
        let shared_psf = psf_grid.map(SharedGrid::new);
        let phases = index.flush_phases(geo);
        for (p, tiles) in phases.iter().enumerate() {
            // The edge phase runs as one task: its tiles may overlap through the wrap.
            let ntasks = if p == 4 {
                1
            } else {
                4 * rayon::current_num_threads()
            };
            let tasks = index.tasks_of(tiles, ntasks);
            tasks.par_iter().for_each(|range| {
                let mut buf = tile_buffer::<T>(geo.w);
                let mut psf_buf = match shared_psf {
                    Some(_) => tile_buffer::<T>(geo.w),
                    None => Vec::new(),
                };
                for &tile in &tiles[range.clone()] {
                    let (tu, tv) = (tile % geo.ntu, tile / geo.ntu);
                    buf.fill(Complex::zero());
                    let entries = index.entries_of(tile);
                    match &shared_psf {
                        None => {
                            let mut op = GridOp::new(&mut buf, src);
                            dispatch_w!(geo.w, run_tile, (&mut op, &ctx, entries, tu, tv));
                        }
                        Some(sp) => {
                            psf_buf.fill(Complex::zero());
                            let wt = weight_rc.view();
                            let mut op = GridOp::with_psf(&mut buf, &mut psf_buf, wt, src);
                            dispatch_w!(geo.w, run_tile, (&mut op, &ctx, entries, tu, tv));
                            sp.flush(geo, &psf_buf, tu, tv);
                        }
                    }
                    shared.flush(geo, &buf, tu, tv);
                }
            });
        }
        index.stats
    }

    /// Predict `vis_rc` (overwritten; zero where not predicted) from the transformed model
    /// `grid`.
    pub(super) fn degrid_impl<T: Real>(
        &self,
        grid: ArrayView2<Complex<T>>,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        weight_rc: Option<ArrayView2<f32>>,
        mut vis_rc: ArrayViewMut2<Complex32>,
    ) -> GridStats {
        let (ctx, index) = self.pass::<T>(uvw_m, freq_hz, weight_rc);
        let geo = &ctx.geo;
        vis_rc.fill(Complex32::zero());
        let out = SharedVis::new(vis_rc);
        let tasks = index.tasks(4 * rayon::current_num_threads());
        let grid = &grid;
        tasks.par_iter().for_each(|range| {
            let mut buf = tile_buffer::<T>(geo.w);
            for &tile in &index.nonempty[range.clone()] {
                let (tu, tv) = (tile % geo.ntu, tile / geo.ntu);
                load_tile(geo, grid, &mut buf, tu, tv);
                let mut op = DegridOp::new(&buf, &out);
                let entries = index.entries_of(tile);
                dispatch_w!(geo.w, run_tile, (&mut op, &ctx, entries, tu, tv));
            }
        });
        let mut stats = index.stats;
        stats.sum_weights = 0.0;
        stats
    }
}

/// A zeroed tile buffer for support `w`: `TILE + w - 1` rows of [`BUF_STRIDE`] cells.
fn tile_buffer<T: Real>(w: usize) -> Vec<Complex<T>> {
    vec![Complex::<T>::zero(); (TILE + w - 1) * BUF_STRIDE]
}

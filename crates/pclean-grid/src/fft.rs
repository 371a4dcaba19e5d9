//! 2-D complex FFTs over `ndarray` views, parallel over rows and column blocks (rustfft).
//!
//! Arrays are row-major `(rows, cols)`; for uv grids that is `grid_vu[[v, u]]`. Transforms are
//! unnormalised: [`FftDirection::Forward`] computes `X_k = sum_j x_j exp(-2 pi i j k / n)`,
//! [`FftDirection::Backward`] the same with `exp(+2 pi i j k / n)`. Index 0 is the zero frequency
//! (no fftshift).

use ndarray::{ArrayView2, ArrayViewMut2, Axis};
use num_complex::Complex;
use rayon::prelude::*;
use rustfft::{Fft, FftNum, FftPlanner};
use std::sync::Arc;

/// Number of columns gathered into one contiguous block for the column pass.
const COL_BLOCK: usize = 16;

/// Sign of the exponent of a transform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FftDirection {
    /// `exp(-2 pi i j k / n)`.
    Forward,
    /// `exp(+2 pi i j k / n)` (unnormalised inverse).
    Backward,
}

fn plan<T: FftNum>(n: usize, dir: FftDirection) -> Arc<dyn Fft<T>> {
    let mut planner = FftPlanner::new();
    match dir {
        FftDirection::Forward => planner.plan_fft_forward(n),
        FftDirection::Backward => planner.plan_fft_inverse(n),
    }
}

/// Run `f` on a rayon pool of `nthreads` threads (0 = all available cores).
///
/// Called from a rayon worker (the engine runs each channel block on its own pool), `f` runs right
/// there and its parallel loops share that pool, so nested calls never add threads. Otherwise one
/// pool per size is built once and reused: building a pool per call created ~1000 threads per
/// cube, whose shutdown spun on `sched_yield` (bench/README.md).
pub(crate) fn with_pool<R: Send>(
    nthreads: usize,
    f: impl FnOnce() -> R + Send,
) -> Result<R, rayon::ThreadPoolBuildError> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    if rayon::current_thread_index().is_some() {
        return Ok(f());
    }
    let n = if nthreads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        nthreads
    };
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let pool = {
        let mut pools = POOLS
            .get_or_init(|| Mutex::new(HashMap::new()))
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match pools.get(&n) {
            Some(p) => Arc::clone(p),
            None => {
                let p = Arc::new(rayon::ThreadPoolBuilder::new().num_threads(n).build()?);
                pools.insert(n, Arc::clone(&p));
                p
            }
        }
    };
    Ok(pool.install(f))
}

/// In-place 2-D FFT of `grid` (rows x cols) using `nthreads` threads (0 = all cores).
pub fn fft2_inplace<T: FftNum>(
    mut grid: ArrayViewMut2<Complex<T>>,
    dir: FftDirection,
    nthreads: usize,
) -> Result<(), rayon::ThreadPoolBuildError> {
    with_pool(nthreads, || {
        fft_rows(grid.view_mut(), dir);
        fft_cols(grid.view_mut(), dir);
    })
}

/// In-place 1-D FFT of every row of `a`, parallel over rows on the current rayon pool.
pub fn fft_rows<T: FftNum>(mut a: ArrayViewMut2<Complex<T>>, dir: FftDirection) {
    let (nrow, ncol) = a.dim();
    if nrow == 0 || ncol == 0 {
        return;
    }
    let fft = plan::<T>(ncol, dir);
    let rows_per_task = (nrow / (4 * rayon::current_num_threads())).max(1);
    let chunks: Vec<_> = a.axis_chunks_iter_mut(Axis(0), rows_per_task).collect();
    chunks.into_par_iter().for_each(|mut chunk| {
        let mut scratch = vec![Complex::new(T::zero(), T::zero()); fft.get_inplace_scratch_len()];
        let mut line = Vec::new();
        for mut row in chunk.axis_iter_mut(Axis(0)) {
            if let Some(s) = row.as_slice_mut() {
                fft.process_with_scratch(s, &mut scratch);
            } else {
                line.clear();
                line.extend(row.iter().copied());
                fft.process_with_scratch(&mut line, &mut scratch);
                row.iter_mut().zip(&line).for_each(|(d, s)| *d = *s);
            }
        }
    });
}

/// In-place 1-D FFT of every column of `a`, parallel over blocks of columns on the current pool.
pub fn fft_cols<T: FftNum>(mut a: ArrayViewMut2<Complex<T>>, dir: FftDirection) {
    let (nrow, ncol) = a.dim();
    if nrow == 0 || ncol == 0 {
        return;
    }
    let fft = plan::<T>(nrow, dir);
    let chunks: Vec<_> = a.axis_chunks_iter_mut(Axis(1), COL_BLOCK).collect();
    chunks.into_par_iter().for_each(|mut chunk| {
        let nc = chunk.ncols();
        let mut buf = gather_cols(chunk.view());
        let mut scratch = vec![Complex::new(T::zero(), T::zero()); fft.get_inplace_scratch_len()];
        fft.process_with_scratch(&mut buf, &mut scratch);
        for (r, mut row) in chunk.axis_iter_mut(Axis(0)).enumerate() {
            for c in 0..nc {
                row[c] = buf[c * nrow + r];
            }
        }
    });
}

/// Column FFT of `src` (rows x cols) keeping only some output rows: `dst[[i, c]]` receives output
/// row `row_map[i]` of the transform of column `c`. `dst` must have `row_map.len()` rows and as
/// many columns as `src`. Parallel over column blocks on the current pool; `src` is not modified.
pub fn fft_cols_into<T: FftNum>(
    src: ArrayView2<Complex<T>>,
    mut dst: ArrayViewMut2<Complex<T>>,
    row_map: &[usize],
    dir: FftDirection,
) {
    let (nrow, ncol) = src.dim();
    assert_eq!(dst.dim(), (row_map.len(), ncol), "fft_cols_into: dst shape");
    assert!(
        row_map.iter().all(|&r| r < nrow),
        "fft_cols_into: row_map out of range"
    );
    if nrow == 0 || ncol == 0 {
        return;
    }
    let fft = plan::<T>(nrow, dir);
    let src_chunks: Vec<_> = src.axis_chunks_iter(Axis(1), COL_BLOCK).collect();
    let dst_chunks: Vec<_> = dst.axis_chunks_iter_mut(Axis(1), COL_BLOCK).collect();
    src_chunks
        .into_par_iter()
        .zip(dst_chunks)
        .for_each(|(s, mut d)| {
            let nc = s.ncols();
            let mut buf = gather_cols(s);
            let mut scratch =
                vec![Complex::new(T::zero(), T::zero()); fft.get_inplace_scratch_len()];
            fft.process_with_scratch(&mut buf, &mut scratch);
            for (i, mut row) in d.axis_iter_mut(Axis(0)).enumerate() {
                let r = row_map[i];
                for c in 0..nc {
                    row[c] = buf[c * nrow + r];
                }
            }
        });
}

/// Copy the columns of `a` into a column-major buffer (`buf[c * nrow + r] = a[[r, c]]`).
fn gather_cols<T: FftNum>(a: ArrayView2<Complex<T>>) -> Vec<Complex<T>> {
    let (nrow, nc) = a.dim();
    let mut buf = vec![Complex::new(T::zero(), T::zero()); nrow * nc];
    for (r, row) in a.axis_iter(Axis(0)).enumerate() {
        for (c, v) in row.iter().enumerate() {
            buf[c * nrow + r] = *v;
        }
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn naive_dft2(a: &Array2<Complex<f64>>, sign: f64) -> Array2<Complex<f64>> {
        let (nr, nc) = a.dim();
        Array2::from_shape_fn((nr, nc), |(k, l)| {
            let mut s = Complex::new(0.0, 0.0);
            for r in 0..nr {
                for c in 0..nc {
                    let ph = sign
                        * 2.0
                        * std::f64::consts::PI
                        * ((r * k) as f64 / nr as f64 + (c * l) as f64 / nc as f64);
                    s += a[[r, c]] * Complex::new(ph.cos(), ph.sin());
                }
            }
            s
        })
    }

    #[test]
    fn fft2_matches_naive_dft_both_directions() {
        let a = Array2::from_shape_fn((6, 20), |(r, c)| {
            Complex::new((r * 7 + c * 3) as f64 % 5.0 - 2.0, (r + 2 * c) as f64 % 3.0)
        });
        for (dir, sign) in [(FftDirection::Forward, -1.0), (FftDirection::Backward, 1.0)] {
            let mut b = a.clone();
            fft2_inplace(b.view_mut(), dir, 2).unwrap();
            let want = naive_dft2(&a, sign);
            // Double-precision FFT of size 120 with O(1) entries: round-off ~1e-14.
            assert!(b
                .iter()
                .zip(want.iter())
                .all(|(x, y)| (x - y).norm() < 1e-10));
        }
    }

    #[test]
    fn fft_cols_into_selects_rows() {
        let a = Array2::from_shape_fn((8, 40), |(r, c)| Complex::new((r * c % 7) as f64, 1.0));
        let mut full = a.clone();
        with_pool(2, || fft_cols(full.view_mut(), FftDirection::Backward)).unwrap();
        let map = [0usize, 7, 3];
        let mut d = Array2::zeros((3, 40));
        with_pool(2, || {
            fft_cols_into(a.view(), d.view_mut(), &map, FftDirection::Backward)
        })
        .unwrap();
        for (i, &r) in map.iter().enumerate() {
            for c in 0..40 {
                assert!((d[[i, c]] - full[[r, c]]).norm() < 1e-12);
            }
        }
    }
}

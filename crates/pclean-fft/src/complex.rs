//! 2-D complex FFTs over `ndarray` views, parallel over rows and column blocks (rustfft).
//!
//! Arrays are row-major `(rows, cols)`; for uv grids that is `grid_vu[[v, u]]`. Transforms are
//! unnormalised: [`FftDirection::Forward`] computes `X_k = sum_j x_j exp(-2 pi i j k / n)`,
//! [`FftDirection::Backward`] the same with `exp(+2 pi i j k / n)`. Index 0 is the zero frequency
//! (no fftshift).

use crate::plan::complex as plan;
pub use crate::plan::FftDirection;
use crate::pool::with_pool;
use ndarray::{ArrayView2, ArrayViewMut2, Axis};
use num_complex::Complex;
use rayon::prelude::*;
use rustfft::FftNum;

/// Number of columns gathered into one contiguous block for the column pass.
const COL_BLOCK: usize = 16;

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
pub fn fft_cols<T: FftNum>(a: ArrayViewMut2<Complex<T>>, dir: FftDirection) {
    fft_cols_subset(a, dir, None)
}

/// [`fft_cols`] of only the columns where `needed` is true (blocks of [`COL_BLOCK`] columns
/// without any are left untouched; the others are transformed whole). `None`: every column.
pub fn fft_cols_subset<T: FftNum>(
    mut a: ArrayViewMut2<Complex<T>>,
    dir: FftDirection,
    needed: Option<&[bool]>,
) {
    let (nrow, ncol) = a.dim();
    if nrow == 0 || ncol == 0 {
        return;
    }
    if let Some(n) = needed {
        assert_eq!(n.len(), ncol, "fft_cols_subset: needed length");
    }
    let fft = plan::<T>(nrow, dir);
    let chunks: Vec<_> = a
        .axis_chunks_iter_mut(Axis(1), COL_BLOCK)
        .enumerate()
        .filter(|(i, _)| block_needed(needed, *i))
        .map(|(_, c)| c)
        .collect();
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

/// Whether column block `i` holds a column marked in `cols` (`None`: all are).
fn block_needed(cols: Option<&[bool]>, i: usize) -> bool {
    cols.is_none_or(|c| {
        let end = ((i + 1) * COL_BLOCK).min(c.len());
        c[i * COL_BLOCK..end].iter().any(|&b| b)
    })
}

/// Which columns of `a` hold a non-zero value (one row-major pass, parallel over row blocks).
pub fn nonzero_cols<T: FftNum>(a: ArrayView2<Complex<T>>) -> Vec<bool> {
    let ncol = a.ncols();
    let zero = Complex::new(T::zero(), T::zero());
    a.axis_chunks_iter(Axis(0), 64)
        .into_par_iter()
        .map(|rows| {
            let mut nz = vec![false; ncol];
            for row in rows.axis_iter(Axis(0)) {
                for (f, v) in nz.iter_mut().zip(row.iter()) {
                    *f |= *v != zero;
                }
            }
            nz
        })
        .reduce(
            || vec![false; ncol],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x |= y;
                }
                a
            },
        )
}

/// Column FFT of `src` (rows x cols) keeping only some output rows: `dst[[i, c]]` receives output
/// row `row_map[i]` of the transform of column `c`. `dst` must have `row_map.len()` rows and as
/// many columns as `src`. Parallel over column blocks on the current pool; `src` is not modified.
pub fn fft_cols_into<T: FftNum>(
    src: ArrayView2<Complex<T>>,
    dst: ArrayViewMut2<Complex<T>>,
    row_map: &[usize],
    dir: FftDirection,
) {
    fft_cols_into_subset(src, dst, row_map, dir, None)
}

/// [`fft_cols_into`] skipping the blocks of [`COL_BLOCK`] columns none of which is marked in
/// `nonzero` (see [`nonzero_cols`]): their columns are all zero, so is their transform, and `dst`
/// is left as it is there (pass it zeroed).
pub fn fft_cols_into_subset<T: FftNum>(
    src: ArrayView2<Complex<T>>,
    mut dst: ArrayViewMut2<Complex<T>>,
    row_map: &[usize],
    dir: FftDirection,
    nonzero: Option<&[bool]>,
) {
    let (nrow, ncol) = src.dim();
    assert_eq!(dst.dim(), (row_map.len(), ncol), "fft_cols_into: dst shape");
    assert!(
        row_map.iter().all(|&r| r < nrow),
        "fft_cols_into: row_map out of range"
    );
    if let Some(n) = nonzero {
        assert_eq!(n.len(), ncol, "fft_cols_into: nonzero length");
    }
    if nrow == 0 || ncol == 0 {
        return;
    }
    let fft = plan::<T>(nrow, dir);
    let src_chunks: Vec<_> = src.axis_chunks_iter(Axis(1), COL_BLOCK).collect();
    let dst_chunks: Vec<_> = dst.axis_chunks_iter_mut(Axis(1), COL_BLOCK).collect();
    let pairs: Vec<_> = src_chunks
        .into_iter()
        .zip(dst_chunks)
        .enumerate()
        .filter(|(i, _)| block_needed(nonzero, *i))
        .map(|(_, p)| p)
        .collect();
    pairs.into_par_iter().for_each(|(s, mut d)| {
        let nc = s.ncols();
        let mut buf = gather_cols(s);
        let mut scratch = vec![Complex::new(T::zero(), T::zero()); fft.get_inplace_scratch_len()];
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

    #[test]
    fn column_subsets_match_the_full_transforms() {
        let (nr, nc) = (12, 53);
        // Non-zero only in columns 3..5 and 40.
        let a = Array2::from_shape_fn((nr, nc), |(r, c)| {
            if (3..5).contains(&c) || c == 40 {
                Complex::new((r * 7 + c) as f64 % 5.0 - 2.0, (r + c) as f64 % 3.0)
            } else {
                Complex::new(0.0, 0.0)
            }
        });
        let nz = nonzero_cols(a.view());
        assert_eq!(
            nz.iter()
                .enumerate()
                .filter(|(_, &b)| b)
                .map(|(c, _)| c)
                .collect::<Vec<_>>(),
            vec![3, 4, 40]
        );
        let rows = [0usize, 5, 11];
        let mut full = Array2::zeros((3, nc));
        fft_cols_into(a.view(), full.view_mut(), &rows, FftDirection::Backward);
        let mut sub = Array2::zeros((3, nc));
        fft_cols_into_subset(
            a.view(),
            sub.view_mut(),
            &rows,
            FftDirection::Backward,
            Some(&nz),
        );
        assert_eq!(full, sub);
        let mut full = a.clone();
        fft_cols(full.view_mut(), FftDirection::Forward);
        let mut sub = a.clone();
        fft_cols_subset(sub.view_mut(), FftDirection::Forward, Some(&nz));
        for c in [3, 4, 40] {
            assert_eq!(full.column(c), sub.column(c));
        }
    }
}

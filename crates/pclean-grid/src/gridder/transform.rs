//! FFT and grid correction: uv grid to dirty image, model image to uv grid.

use super::uvgrid::{GridData, Real};
use super::{wrap, Gridder, Precision, UvGrid};
use ndarray::{s, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis};
use num_complex::Complex;
use pclean_fft::num_traits::Zero;
use pclean_fft::{
    fft_cols, fft_cols_into_subset, fft_cols_subset, fft_rows, nonzero_cols, FftDirection, FftNum,
};
use rayon::prelude::*;

impl Gridder {
    /// The dirty image (`f64`, not normalised) of `grid`, which is left as it is.
    pub(super) fn grid_to_image_impl<T: Real>(&self, grid: ArrayView2<Complex<T>>) -> Array2<f64> {
        let (ny, nu, nv) = (self.spec.ny, self.nu, self.nv);
        let row_map = image_to_grid(ny, nv);
        let mut inter = Array2::<Complex<T>>::zeros((ny, nu));
        // Visibilities fill only |u| <= u_max plus the kernel (~35% of the columns of an
        // ALMA-like grid): all-zero columns transform to zero, so only the others are computed.
        let nonzero = nonzero_cols(grid);
        fft_cols_into_subset(
            grid,
            inter.view_mut(),
            &row_map,
            FftDirection::Backward,
            Some(&nonzero),
        );
        // The image rows in grid order, paired as the in-place transform pairs them
        // (`fft_image_rows_real`): the same values as `grid_into_image`.
        let mut by_grid_row: Vec<(usize, usize)> =
            row_map.iter().enumerate().map(|(y, &r)| (r, y)).collect();
        by_grid_row.sort_unstable();
        let rows: Vec<usize> = by_grid_row.iter().map(|&(_, y)| y).collect();
        fft_rows_real(inter.view_mut(), &rows, FftDirection::Backward);
        self.corrected_image(|y| inter.row(y), |c, cx, cy| c.re.to64() * cx * cy)
    }

    /// The grid-corrected model `pixel(y, x)` on the oversampled grid, transformed (rows holding
    /// image pixels first, then every column).
    pub(super) fn model_grid_impl(&self, pixel: impl Fn(usize, usize) -> f64 + Sync) -> UvGrid {
        self.model_grid_complex(|y, x| Complex::new(pixel(y, x), 0.0))
    }

    /// As `model_grid_impl` for a complex image `pixel(y, x)` (the w-gridder's screened
    /// planes).
    pub(crate) fn model_grid_complex(
        &self,
        pixel: impl Fn(usize, usize) -> Complex<f64> + Sync,
    ) -> UvGrid {
        match self.precision {
            Precision::Single => UvGrid {
                data: GridData::Single(self.model_grid_typed::<f32>(&pixel)),
            },
            Precision::Double => UvGrid {
                data: GridData::Double(self.model_grid_typed::<f64>(&pixel)),
            },
        }
    }

    fn model_grid_typed<T: Real>(
        &self,
        pixel: &(impl Fn(usize, usize) -> Complex<f64> + Sync),
    ) -> Array2<Complex<T>> {
        let (nx, ny, nu, nv) = (self.spec.nx, self.spec.ny, self.nu, self.nv);
        let mut grid = Array2::<Complex<T>>::zeros((nv, nu));
        let col_map = image_to_grid(nx, nu);
        for (y, gy) in image_to_grid(ny, nv).into_iter().enumerate() {
            let cy = self.corr_y[y];
            let mut row = grid.row_mut(gy);
            for (x, &gx) in col_map.iter().enumerate() {
                let p = pixel(y, x);
                let k = |v: f64| T::of64(v * self.corr_x[x] * cy);
                row[gx] = Complex::new(k(p.re), k(p.im));
            }
        }
        // Only the ny image rows are non-zero: transform those rows, then all columns.
        fft_image_rows(grid.view_mut(), ny, FftDirection::Forward);
        fft_cols(grid.view_mut(), FftDirection::Forward);
        grid
    }

    /// The image of `grid` transformed in place, times `scale`, in `f32`.
    pub(super) fn grid_into_image_impl<T: Real>(
        &self,
        mut grid: ArrayViewMut2<Complex<T>>,
        scale: f64,
    ) -> Array2<f32> {
        self.transform_in_place(grid.view_mut(), true);
        let grid = grid.view();
        let row_map = image_to_grid(self.spec.ny, self.nv);
        self.corrected_image(
            |y| grid.row(row_map[y]),
            |c, cx, cy| (c.re.to64() * cx * cy * scale) as f32,
        )
    }

    /// The image of a single-precision `grid`, times `scale`, made in the grid's own memory: the
    /// grid is transformed in place (as `grid_into_image_impl`), each of the `ny` rows holding
    /// image pixels is overwritten by its corrected `f32` image row (the same arithmetic as
    /// `corrected_image`), the rows are moved to their places at the start of the buffer
    /// ([`compact_image_rows`]) and the buffer is shrunk to the image (`realloc`, which returns
    /// the rest to the allocator). No second plane exists beside the grid: the image costs
    /// nothing above the grid's `8 nu nv` bytes (an 8000^2 image's 256 MB beside its 737 MB
    /// grid before).
    pub(super) fn single_grid_into_image(
        &self,
        mut grid: Array2<Complex<f32>>,
        scale: f64,
    ) -> Array2<f32> {
        if !grid.is_standard_layout() {
            return self.grid_into_image_impl::<f32>(grid.view_mut(), scale);
        }
        self.transform_in_place(grid.view_mut(), true);
        let (nx, ny, nu, nv) = (self.spec.nx, self.spec.ny, self.nu, self.nv);
        let row_map = image_to_grid(ny, nv);
        let col_map = image_to_grid(nx, nu);
        let mut image_row = vec![None; nv];
        for (y, &r) in row_map.iter().enumerate() {
            image_row[r] = Some(y);
        }
        grid.axis_iter_mut(Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each_init(
                || vec![0f32; nx],
                |out, (r, mut row)| {
                    let Some(y) = image_row[r] else {
                        return;
                    };
                    let cy = self.corr_y[y];
                    for x in 0..nx {
                        let c = row[col_map[x]];
                        out[x] = (c.re.to64() * self.corr_x[x] * cy * scale) as f32;
                    }
                    let cells = row
                        .as_slice_mut()
                        .expect("a row of a standard-layout grid is contiguous");
                    // SAFETY: `Complex<f32>` is `repr(C)` (`re`, `im`: two `f32`, no padding),
                    // so the row's `nu` cells are `2 nu >= nx` initialised `f32` of the same
                    // allocation, borrowed mutably here only.
                    let flat = unsafe {
                        std::slice::from_raw_parts_mut(
                            cells.as_mut_ptr().cast::<f32>(),
                            2 * cells.len(),
                        )
                    };
                    flat[..nx].copy_from_slice(out);
                },
            );
        let (cells, offset) = grid.into_raw_vec_and_offset();
        let first = 2 * offset.unwrap_or(0);
        let mut cells = std::mem::ManuallyDrop::new(cells);
        let (ptr, len, cap) = (cells.as_mut_ptr(), cells.len(), cells.capacity());
        // SAFETY: the vector's allocation is reinterpreted as twice as many `f32` (same size and
        // alignment of the allocation: `Complex<f32>` is `repr(C)` of two `f32`); `cells` is not
        // used or dropped afterwards.
        let mut flat = unsafe { Vec::from_raw_parts(ptr.cast::<f32>(), 2 * len, 2 * cap) };
        let src: Vec<usize> = row_map.iter().map(|&r| first + 2 * nu * r).collect();
        compact_image_rows(&mut flat, &src, nx);
        flat.truncate(nx * ny);
        flat.shrink_to_fit();
        Array2::from_shape_vec((ny, nx), flat).expect("nx * ny values were kept")
    }

    /// `acc[y, x] += Re[plane[y, x] * screen(y, x)]` with `plane` the complex, grid-corrected,
    /// not scaled image of `grid` (one w plane of the w-gridder), without making `plane`: `grid`
    /// is transformed in place as `grid_into_image_impl` (clear it before gridding into it
    /// again); parallel over image rows; `screen(y, row)` fills `row[x]` with the factors of
    /// image row `y`.
    pub(crate) fn grid_accumulate(
        &self,
        grid: &mut UvGrid,
        acc: ArrayViewMut2<f64>,
        screen: impl Fn(usize, &mut [Complex<f64>]) + Sync,
    ) {
        match &mut grid.data {
            GridData::Single(g) => self.grid_accumulate_impl::<f32>(g.view_mut(), acc, &screen),
            GridData::Double(g) => self.grid_accumulate_impl::<f64>(g.view_mut(), acc, &screen),
        }
    }

    fn grid_accumulate_impl<T: Real>(
        &self,
        mut grid: ArrayViewMut2<Complex<T>>,
        mut acc: ArrayViewMut2<f64>,
        screen: &(impl Fn(usize, &mut [Complex<f64>]) + Sync),
    ) {
        let (nx, ny, nv) = (self.spec.nx, self.spec.ny, self.nv);
        self.transform_in_place(grid.view_mut(), false);
        let grid = grid.view();
        let row_map = image_to_grid(ny, nv);
        let col_map = image_to_grid(nx, self.nu);
        acc.outer_iter_mut()
            .into_par_iter()
            .enumerate()
            .for_each(|(y, mut out)| {
                let row = grid.row(row_map[y]);
                let cy = self.corr_y[y];
                let mut scr = vec![Complex::<f64>::zero(); nx];
                screen(y, &mut scr);
                for x in 0..nx {
                    let c = row[col_map[x]];
                    let k = self.corr_x[x] * cy;
                    // The real part of the product, as the complex product computes it.
                    let s = scr[x];
                    out[x] += c.re.to64() * k * s.re - c.im.to64() * k * s.im;
                }
            });
    }

    /// The backward transform of `grid` in place where the image needs it: every column that
    /// is not all zero (beyond the visibilities' |u| plus the kernel they transform to zero),
    /// then only the rows that hold image pixels (as `grid_to_image_impl`, whose column pass
    /// keeps those rows of the same transforms).
    /// With `real_only`, only the real part of the image rows is made ([`fft_image_rows_real`]:
    /// the `im` of their cells is then undefined).
    fn transform_in_place<T: Real>(&self, mut grid: ArrayViewMut2<Complex<T>>, real_only: bool) {
        let nonzero = nonzero_cols(grid.view());
        fft_cols_subset(grid.view_mut(), FftDirection::Backward, Some(&nonzero));
        if real_only {
            fft_image_rows_real(grid.view_mut(), self.spec.ny, FftDirection::Backward);
        } else {
            fft_image_rows(grid.view_mut(), self.spec.ny, FftDirection::Backward);
        }
    }

    /// The grid-corrected image `put(row_of(y)[gx(x)], corr_x[x], corr_y[y])`, `gx` the grid
    /// column of image column `x`; parallel over image rows.
    fn corrected_image<'g, T: Real, O: Copy + Zero + Send + Sync>(
        &self,
        row_of: impl Fn(usize) -> ArrayView1<'g, Complex<T>> + Sync,
        put: impl Fn(Complex<T>, f64, f64) -> O + Sync,
    ) -> Array2<O> {
        let (nx, ny) = (self.spec.nx, self.spec.ny);
        let col_map = image_to_grid(nx, self.nu);
        let mut img = Array2::<O>::zeros((ny, nx));
        img.outer_iter_mut()
            .into_par_iter()
            .enumerate()
            .for_each(|(y, mut out)| {
                let row = row_of(y);
                let cy = self.corr_y[y];
                for x in 0..nx {
                    out[x] = put(row[col_map[x]], self.corr_x[x], cy);
                }
            });
        img
    }
}

/// Move image row `y` (`nx` values at `src[y]` of `buf`) to `y * nx`, every row's values intact.
///
/// `src` is the layout of a transformed grid ([`image_to_grid`]'s rows, `2 nu >= nx` values
/// apart): rows `ny/2..` start at the front of the buffer in order, rows `..ny/2` after every
/// destination (`src[0] >= ny nx`, because `nv >= ny`). The front rows go first: sources and
/// destinations both increase and neither overlaps its kind, so the rows moving up (`dst > src`,
/// the first ones: `dst - src` decreases with `y`) are moved last to first and the rows moving
/// down first to last, as a memmove does its bytes; none then overwrites a source still to be
/// read. The back rows move last, into destinations below every source.
pub(crate) fn compact_image_rows(buf: &mut [f32], src: &[usize], nx: usize) {
    let ny = src.len();
    let front: Vec<(usize, usize)> = (ny / 2..ny).map(|y| (src[y], y * nx)).collect();
    let up = front.partition_point(|&(s, d)| d > s);
    for &(s, d) in front[..up].iter().rev() {
        buf.copy_within(s..s + nx, d);
    }
    for &(s, d) in &front[up..] {
        if s != d {
            buf.copy_within(s..s + nx, d);
        }
    }
    for (y, &s) in src.iter().enumerate().take(ny / 2) {
        buf.copy_within(s..s + nx, y * nx);
    }
}

/// Grid index of each of `n` image pixels on an axis of `ng` grid cells (the image's reference
/// pixel `n/2` lands on the zero frequency, index 0).
pub(crate) fn image_to_grid(n: usize, ng: usize) -> Vec<usize> {
    (0..n)
        .map(|i| wrap(i as i64 - (n / 2) as i64, ng))
        .collect()
}

/// Row FFTs of the `ny` grid rows that hold image rows (the first `ny - ny/2` and the last
/// `ny/2`).
pub(crate) fn fft_image_rows<T: FftNum>(
    mut grid: ArrayViewMut2<Complex<T>>,
    ny: usize,
    dir: FftDirection,
) {
    let nv = grid.nrows();
    fft_rows(grid.slice_mut(s![..ny - ny / 2, ..]), dir);
    fft_rows(grid.slice_mut(s![nv - ny / 2.., ..]), dir);
}

/// As [`fft_image_rows`] where only the real part of the transformed rows is wanted
/// ([`fft_rows_real`] of the image rows, in grid order).
pub(crate) fn fft_image_rows_real<T: FftNum>(
    grid: ArrayViewMut2<Complex<T>>,
    ny: usize,
    dir: FftDirection,
) {
    let nv = grid.nrows();
    let rows: Vec<usize> = (0..ny - ny / 2).chain(nv - ny / 2..nv).collect();
    fft_rows_real(grid, &rows, dir);
}

/// The transform of rows `rows` (distinct) of `grid` where only the real part is wanted:
/// afterwards the `re` of every cell of those rows is the real part of that row's transform;
/// the `im` is not defined.
///
/// The real part of the transform of a row `a` is the transform of its Hermitian part
/// `h(k) = (a(k) + conj(a(-k))) / 2`, which is real. The Hermitian parts of two rows, the second
/// times `i`, make one complex row whose transform holds the first row's result in its real part
/// and the second's in its imaginary part: one FFT for two rows (`rows[0]` with `rows[1]`,
/// `rows[2]` with `rows[3]`, ...; profiled, session 15: the row FFTs were most of a 1024^2
/// image's transform, which ducc0 halves with real transforms). The pairs, and so the values,
/// depend only on `rows`' order.
pub(crate) fn fft_rows_real<T: FftNum>(
    mut grid: ArrayViewMut2<Complex<T>>,
    rows: &[usize],
    dir: FftDirection,
) {
    let nu = grid.ncols();
    if nu == 0 || rows.is_empty() {
        return;
    }
    let plan = pclean_fft::plan::complex::<T>(nu, dir);
    let scratch_len = plan.get_inplace_scratch_len();
    let fft = |buf: &mut [Complex<T>], scratch: &mut [Complex<T>]| {
        plan.process_with_scratch(buf, scratch)
    };
    let mut all: Vec<Option<_>> = grid.axis_iter_mut(Axis(0)).map(Some).collect();
    let mut rows: Vec<_> = rows
        .iter()
        .map(|&r| all[r].take().expect("distinct rows"))
        .collect();
    let half = T::from_f64(0.5).expect("0.5 is representable");
    let zero = Complex::new(T::zero(), T::zero());
    rows.par_chunks_mut(2).for_each_init(
        || (vec![zero; nu], vec![zero; scratch_len]),
        |(z, scratch), pair| {
            let [a, rest @ ..] = pair else {
                return;
            };
            let Some(b) = rest.first_mut() else {
                one_row(a, &fft, z, scratch);
                return;
            };
            // Rows of a non-standard layout go through the work row `z` one at a time.
            let (Some(a), Some(b)) = (a.as_slice_mut(), b.as_slice_mut()) else {
                one_row(a, &fft, z, scratch);
                one_row(b, &fft, z, scratch);
                return;
            };
            for k in 0..nu {
                let m = (nu - k) % nu;
                // 2 h_a(k) and 2 h_b(k); z = h_a + i h_b.
                let (ar, ai) = (a[k].re + a[m].re, a[k].im - a[m].im);
                let (br, bi) = (b[k].re + b[m].re, b[k].im - b[m].im);
                z[k] = Complex::new((ar - bi) * half, (ai + br) * half);
            }
            fft(z, scratch);
            for ((ca, cb), v) in a.iter_mut().zip(b.iter_mut()).zip(z.iter()) {
                ca.re = v.re;
                cb.re = v.im;
            }
        },
    );
}

/// The transform of one row in place (through `work` where it is not contiguous).
fn one_row<T: FftNum>(
    row: &mut ndarray::ArrayViewMut1<Complex<T>>,
    fft: &impl Fn(&mut [Complex<T>], &mut [Complex<T>]),
    work: &mut [Complex<T>],
    scratch: &mut [Complex<T>],
) {
    if let Some(s) = row.as_slice_mut() {
        fft(s, scratch);
    } else {
        work.iter_mut().zip(row.iter()).for_each(|(w, v)| *w = *v);
        fft(work, scratch);
        row.iter_mut().zip(work.iter()).for_each(|(v, w)| *v = *w);
    }
}

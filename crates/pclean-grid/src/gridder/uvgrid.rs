//! The caller-owned oversampled uv grid and the real scalar of grids and FFTs.

use super::{GridError, Precision};
use ndarray::{Array2, ArrayView2, Zip};
use num_complex::{Complex, Complex32, Complex64};
use pclean_fft::num_traits::{Float, NumAssign, Zero};
use pclean_fft::FftNum;

/// Oversampled uv grid, owned by the caller: `grid_vu[[v, u]]` of shape `(nv, nu)`
/// (see [`Gridder::grid_shape`]), zero frequency at index `[0, 0]`, cell `(j, i)` holding
/// `u = i' / (nu cell_x)`, `v = j' / (nv cell_y)` wavelengths with `i'` the index `i` wrapped to
/// `[-nu/2, nu/2)` (and the sign conventions of [`FOURIER_SIGN`]). Partial grids from row
/// partitions reduce with [`UvGrid::add_assign`].
#[derive(Clone, Debug, PartialEq)]
pub struct UvGrid {
    pub(super) data: GridData,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum GridData {
    Single(Array2<Complex32>),
    Double(Array2<Complex64>),
}

/// A zeroed `(rows, cols)` array of complex cells in memory the allocator hands out zeroed
/// (`calloc`: a large one is fresh pages from the kernel). `Array2::zeros` of a complex type
/// writes every cell instead (one serial memset, which also faults in every page: 7.6% of an
/// 8000^2 dirty run's CPU samples for its two 737 MB grids, `perf`); here the pages are faulted
/// in where the gridding and the FFT first write, by their threads, and a page never written
/// (zero columns outside the image rows) is never made resident.
pub(crate) fn complex_zeros<T: Real>(rows: usize, cols: usize) -> Array2<Complex<T>> {
    let n = rows * cols;
    // `vec![0.0; m]` of a float is allocated zeroed (std's `IsZero` specialisation).
    let flat = std::mem::ManuallyDrop::new(vec![T::zero(); 2 * n]);
    if flat.capacity() != 2 * n {
        // (Not what `vec!` gives; the plain path keeps the layout exact.)
        drop(std::mem::ManuallyDrop::into_inner(flat));
        return Array2::from_elem((rows, cols), Complex::new(T::zero(), T::zero()));
    }
    let mut flat = flat;
    // SAFETY: `Complex<T>` is `repr(C)` of two `T` (size 2 x, alignment of `T`), so the
    // allocation of `2 n` zeroed `T` is exactly one of `n` zeroed `Complex<T>` (all-zero bits are
    // the value 0 + 0i); `flat` is not used or dropped afterwards.
    let cells = unsafe { Vec::from_raw_parts(flat.as_mut_ptr().cast::<Complex<T>>(), n, n) };
    Array2::from_shape_vec((rows, cols), cells).expect("rows * cols cells")
}

impl UvGrid {
    pub(super) fn zeros(precision: Precision, nv: usize, nu: usize) -> Self {
        let data = match precision {
            Precision::Single => GridData::Single(complex_zeros::<f32>(nv, nu)),
            Precision::Double => GridData::Double(complex_zeros::<f64>(nv, nu)),
        };
        Self { data }
    }

    /// A zeroed double-precision grid of shape `(nv, nu)` (for the other gridders of the crate).
    pub(crate) fn double_zeros(nv: usize, nu: usize) -> Self {
        Self::zeros(Precision::Double, nv, nu)
    }

    /// The cells, writable, if the grid is double precision.
    pub(crate) fn as_double_mut(&mut self) -> Option<ndarray::ArrayViewMut2<'_, Complex64>> {
        match &mut self.data {
            GridData::Double(g) => Some(g.view_mut()),
            GridData::Single(_) => None,
        }
    }

    /// Grid shape `(nv, nu)`.
    pub fn shape(&self) -> (usize, usize) {
        match &self.data {
            GridData::Single(g) => g.dim(),
            GridData::Double(g) => g.dim(),
        }
    }

    /// Precision of the stored cells.
    pub fn precision(&self) -> Precision {
        match &self.data {
            GridData::Single(_) => Precision::Single,
            GridData::Double(_) => Precision::Double,
        }
    }

    /// Bytes held by the grid cells.
    pub fn memory_bytes(&self) -> usize {
        let (nv, nu) = self.shape();
        nv * nu * self.precision().bytes_per_cell()
    }

    /// Reset all cells to zero.
    pub fn clear(&mut self) {
        match &mut self.data {
            GridData::Single(g) => g.fill(Complex32::zero()),
            GridData::Double(g) => g.fill(Complex64::zero()),
        }
    }

    /// `self += other` cell by cell (reduction of partial grids).
    pub fn add_assign(&mut self, other: &UvGrid) -> Result<(), GridError> {
        match (&mut self.data, &other.data) {
            (GridData::Single(a), GridData::Single(b)) if a.dim() == b.dim() => {
                Zip::from(a).and(b).par_for_each(|x, y| *x += *y);
                Ok(())
            }
            (GridData::Double(a), GridData::Double(b)) if a.dim() == b.dim() => {
                Zip::from(a).and(b).par_for_each(|x, y| *x += *y);
                Ok(())
            }
            _ => Err(self.mismatch(other.precision(), other.shape())),
        }
    }

    /// The cells if the grid is single precision.
    pub fn as_single(&self) -> Option<ArrayView2<'_, Complex32>> {
        match &self.data {
            GridData::Single(g) => Some(g.view()),
            GridData::Double(_) => None,
        }
    }

    /// The cells if the grid is double precision.
    pub fn as_double(&self) -> Option<ArrayView2<'_, Complex64>> {
        match &self.data {
            GridData::Double(g) => Some(g.view()),
            GridData::Single(_) => None,
        }
    }

    pub(super) fn mismatch(&self, got: Precision, got_shape: (usize, usize)) -> GridError {
        GridError::GridMismatch {
            expected: self.precision(),
            expected_shape: self.shape(),
            got,
            got_shape,
        }
    }
}

/// Real scalar used for the grid, buffers and FFTs (`f32` or `f64`).
pub(super) trait Real: FftNum + Float + NumAssign + Default {
    fn of64(x: f64) -> Self;
    fn of32(x: f32) -> Self;
    fn to64(self) -> f64;
}

impl Real for f32 {
    #[inline(always)]
    fn of64(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn of32(x: f32) -> Self {
        x
    }
    #[inline(always)]
    fn to64(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    #[inline(always)]
    fn of64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn of32(x: f32) -> Self {
        x as f64
    }
    #[inline(always)]
    fn to64(self) -> f64 {
        self
    }
}

//! The caller-owned oversampled uv grid and the real scalar of grids and FFTs.

use super::{GridError, Precision};
use ndarray::{Array2, ArrayView2, Zip};
use num_complex::{Complex32, Complex64};
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

impl UvGrid {
    pub(super) fn zeros(precision: Precision, nv: usize, nu: usize) -> Self {
        let data = match precision {
            Precision::Single => GridData::Single(Array2::zeros((nv, nu))),
            Precision::Double => GridData::Double(Array2::zeros((nv, nu))),
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

    /// The cells, if the grid is double precision (for the other gridders of the crate).
    pub(crate) fn into_double(self) -> Option<Array2<Complex64>> {
        match self.data {
            GridData::Double(g) => Some(g),
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

//! 2-D gridding and degridding with the ES kernel (tclean's `standard` gridder; the w term is
//! ignored).
//!
//! Design (after the wgridder of Arras et al. 2021 and Ye et al. 2022):
//! 1. visibilities with weight > 0 whose (u, v) lies inside the image's Nyquist range are bucketed
//!    by uv tile (16 x 16 cells) with a parallel, stable counting sort of `(row, chan)` indices;
//! 2. threads take runs of tiles, grid each tile into a small private buffer
//!    (`(16 + W - 1)^2` cells), and flush the buffer into the shared oversampled grid under per-row
//!    locks (memory: one oversampled grid + one small buffer per thread + 8 bytes per visibility
//!    for the index);
//! 3. kernel weights are evaluated per visibility and axis with a piecewise polynomial that
//!    reproduces the ES kernel far below `epsilon` ([`PolyKernel`]);
//! 4. the FFT only transforms what is needed (columns, then the `ny` image rows), and the grid
//!    correction divides by the kernel's Fourier transform, computed by Gauss-Legendre quadrature.
//!
//! Conventions (image orientation, uv units, Fourier sign) are in `docs/conventions.md`; the sign of
//! the Fourier kernel is [`FOURIER_SIGN`] and lives only here.
//!
//! The w term is ignored. w-stacking will add a loop over w planes around steps 2-4 with a
//! per-plane phase screen; [`Gridder`] keeps the kernel and grid geometry separate for that.

use crate::kernel::{
    choose_kernel, good_grid_size, EsKernel, KernelChoice, PolyKernel, MAX_SUPPORT,
};
use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Zip};
use num_complex::{Complex, Complex32, Complex64};
use pclean_core::SPEED_OF_LIGHT;
use pclean_fft::num_traits::{Float, NumAssign, Zero};
use pclean_fft::FftNum;
use pclean_fft::{
    fft_cols, fft_cols_into_subset, fft_cols_subset, fft_rows, nonzero_cols, with_pool,
    FftDirection,
};
use rayon::prelude::*;
use std::ops::AddAssign;
use std::sync::{Arc, Mutex};

/// Sign of the exponent in the imaging transform:
/// `I(l, m) = sum_k w_k Re[V_k exp(FOURIER_SIGN * 2 pi i (u_k l + v_k m))]` and, for prediction,
/// `V(u, v) = sum I(l, m) exp(-FOURIER_SIGN * 2 pi i (u l + v m))`. Flip it here, and only here.
pub const FOURIER_SIGN: f64 = -1.0;

/// Smallest accepted `epsilon` (visibilities are single precision, ~6e-8 relative).
pub const MIN_EPSILON: f64 = 1e-7;
/// Largest accepted `epsilon`.
pub const MAX_EPSILON: f64 = 0.1;
/// Default (and smallest allowed) lower bound on the oversampling factor.
pub const DEFAULT_SIGMA_MIN: f64 = 1.2;
/// Default (and largest allowed) upper bound on the oversampling factor.
pub const DEFAULT_SIGMA_MAX: f64 = 2.5;
/// Below this `epsilon` the grid and FFTs are double precision ([`Precision::Double`]).
///
/// Measured on 1e6 ALMA-like visibilities (512^2): single- vs double-precision images differ by
/// 1.3e-7 rms (1.6e-6 max) of the peak at epsilon 1e-6, so single precision still meets 1e-6.
pub const SINGLE_PRECISION_MIN_EPSILON: f64 = 1e-6;

/// Tile edge in grid cells for bucketing and the per-thread buffers.
const TILE: usize = 16;
/// Row stride of the tile buffers (cells): room for `TILE - 1 + W` rounded up to whole SIMD
/// vectors (the kernel rows are padded to a multiple of 4 cells with zero weights).
const BUF_STRIDE: usize = TILE + MAX_SUPPORT;

/// Image geometry and accuracy request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridSpec {
    /// Image width in pixels (RA axis, x), >= 2.
    pub nx: usize,
    /// Image height in pixels (Dec axis, y), >= 2.
    pub ny: usize,
    /// Pixel size along x in radians (> 0; the RA increment is `-cell_x_rad`, see conventions).
    pub cell_x_rad: f64,
    /// Pixel size along y in radians (> 0).
    pub cell_y_rad: f64,
    /// Requested relative accuracy of the dirty image, in `[MIN_EPSILON, MAX_EPSILON]`.
    pub epsilon: f64,
}

/// Floating-point precision of the uv grid, the per-thread buffers and the FFTs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// `Complex32` grid (8 bytes per cell).
    Single,
    /// `Complex64` grid (16 bytes per cell).
    Double,
}

/// Tuning knobs for [`Gridder::with_options`]; [`Default`] gives the documented defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridderOptions {
    /// Lower bound on the oversampling factor (>= 1.2).
    pub sigma_min: f64,
    /// Upper bound on the oversampling factor (<= 2.5); lower it to cap memory, since the grid has
    /// about `sigma^2 nx ny` cells.
    pub sigma_max: f64,
    /// Expected number of visibilities per image (for the kernel cost model); `None` = `nx * ny`.
    pub nvis_hint: Option<usize>,
    /// Force a precision; `None` picks single precision when `epsilon >=
    /// SINGLE_PRECISION_MIN_EPSILON`.
    pub precision: Option<Precision>,
}

impl Default for GridderOptions {
    fn default() -> Self {
        Self {
            sigma_min: DEFAULT_SIGMA_MIN,
            sigma_max: DEFAULT_SIGMA_MAX,
            nvis_hint: None,
            precision: None,
        }
    }
}

/// Counts from one gridding or degridding call. Partial stats reduce with `+=`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GridStats {
    /// Visibilities (row, channel pairs) gridded or predicted.
    pub n_gridded: u64,
    /// Visibilities with weight > 0 skipped because (u, v) lies outside the grid
    /// (`|u| >= 1 / (2 cell_x)` or `|v| >= 1 / (2 cell_y)`) or is not finite.
    pub n_skipped: u64,
    /// Sum of the weights of the gridded visibilities (0 for degridding).
    pub sum_weights: f64,
}

impl AddAssign for GridStats {
    fn add_assign(&mut self, o: Self) {
        self.n_gridded += o.n_gridded;
        self.n_skipped += o.n_skipped;
        self.sum_weights += o.sum_weights;
    }
}

/// Errors from the gridder.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GridError {
    /// Image dimensions too small.
    #[error("image size {nx} x {ny} is invalid: both must be >= 2")]
    ImageSize { nx: usize, ny: usize },
    /// Cell sizes not positive, or the image does not fit in the direction-cosine plane.
    #[error(
        "cell size ({cell_x_rad}, {cell_y_rad}) rad is invalid: must be > 0 with |l|, |m| < 1"
    )]
    CellSize { cell_x_rad: f64, cell_y_rad: f64 },
    /// `epsilon` outside the supported range.
    #[error("epsilon {epsilon} is outside [{min}, {max}]")]
    Epsilon { epsilon: f64, min: f64, max: f64 },
    /// Invalid oversampling bounds.
    #[error("oversampling range [{min}, {max}] is invalid: need 1.2 <= min <= max <= 2.5")]
    SigmaRange { min: f64, max: f64 },
    /// No tabulated kernel reaches `epsilon` within the oversampling bounds.
    #[error("no kernel reaches epsilon {epsilon} with oversampling in [{sigma_min}, {sigma_max}]")]
    NoKernel {
        epsilon: f64,
        sigma_min: f64,
        sigma_max: f64,
    },
    /// An input array has the wrong shape.
    #[error("{what}: expected shape {expected:?}, got {got:?}")]
    Shape {
        what: &'static str,
        expected: Vec<usize>,
        got: Vec<usize>,
    },
    /// The grids do not match (shape or precision).
    #[error(
        "uv grid mismatch: expected {expected:?} {expected_shape:?}, got {got:?} {got_shape:?}"
    )]
    GridMismatch {
        expected: Precision,
        expected_shape: (usize, usize),
        got: Precision,
        got_shape: (usize, usize),
    },
    /// The thread pool could not be built.
    #[error("cannot build a thread pool")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
}

/// Oversampled uv grid, owned by the caller: `grid_vu[[v, u]]` of shape `(nv, nu)`
/// (see [`Gridder::grid_shape`]), zero frequency at index `[0, 0]`, cell `(j, i)` holding
/// `u = i' / (nu cell_x)`, `v = j' / (nv cell_y)` wavelengths with `i'` the index `i` wrapped to
/// `[-nu/2, nu/2)` (and the sign conventions of [`FOURIER_SIGN`]). Partial grids from row
/// partitions reduce with [`UvGrid::add_assign`].
#[derive(Clone, Debug, PartialEq)]
pub struct UvGrid {
    data: GridData,
}

#[derive(Clone, Debug, PartialEq)]
enum GridData {
    Single(Array2<Complex32>),
    Double(Array2<Complex64>),
}

impl UvGrid {
    fn zeros(precision: Precision, nv: usize, nu: usize) -> Self {
        let data = match precision {
            Precision::Single => GridData::Single(Array2::zeros((nv, nu))),
            Precision::Double => GridData::Double(Array2::zeros((nv, nu))),
        };
        Self { data }
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
        nv * nu
            * match self.precision() {
                Precision::Single => 8,
                Precision::Double => 16,
            }
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

    fn mismatch(&self, got: Precision, got_shape: (usize, usize)) -> GridError {
        GridError::GridMismatch {
            expected: self.precision(),
            expected_shape: self.shape(),
            got,
            got_shape,
        }
    }
}

/// Real scalar used for the grid, buffers and FFTs (`f32` or `f64`).
trait Real: FftNum + Float + NumAssign + Default {
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

/// ES-kernel gridder for one image geometry. Cheap to clone (shared tables), `Send + Sync`.
#[derive(Clone, Debug)]
pub struct Gridder {
    spec: GridSpec,
    nu: usize,
    nv: usize,
    choice: KernelChoice,
    kernel: EsKernel,
    poly: Arc<PolyKernel>,
    precision: Precision,
    /// Grid correction per image column / row (`1 / psi`).
    corr_x: Arc<Vec<f64>>,
    corr_y: Arc<Vec<f64>>,
}

impl Gridder {
    /// Gridder with default [`GridderOptions`].
    pub fn new(spec: GridSpec) -> Result<Self, GridError> {
        Self::with_options(spec, GridderOptions::default())
    }

    /// Validate `spec` and `opts`, pick the cheapest kernel (support, oversampling) reaching
    /// `spec.epsilon`, and precompute the kernel polynomial and grid correction.
    pub fn with_options(spec: GridSpec, opts: GridderOptions) -> Result<Self, GridError> {
        let GridSpec {
            nx,
            ny,
            cell_x_rad,
            cell_y_rad,
            epsilon,
        } = spec;
        if nx < 2 || ny < 2 {
            return Err(GridError::ImageSize { nx, ny });
        }
        let fits = |n: usize, c: f64| c.is_finite() && c > 0.0 && (n as f64 * 0.5 + 1.0) * c < 1.0;
        if !fits(nx, cell_x_rad) || !fits(ny, cell_y_rad) {
            return Err(GridError::CellSize {
                cell_x_rad,
                cell_y_rad,
            });
        }
        if !(MIN_EPSILON..=MAX_EPSILON).contains(&epsilon) {
            return Err(GridError::Epsilon {
                epsilon,
                min: MIN_EPSILON,
                max: MAX_EPSILON,
            });
        }
        let (smin, smax) = (opts.sigma_min, opts.sigma_max);
        if !(smin >= DEFAULT_SIGMA_MIN - 1e-12 && smin <= smax && smax <= DEFAULT_SIGMA_MAX + 1e-12)
        {
            return Err(GridError::SigmaRange {
                min: smin,
                max: smax,
            });
        }
        let nvis = opts.nvis_hint.unwrap_or(nx * ny);
        let choice =
            choose_kernel(epsilon, smin, smax, nx, ny, nvis).ok_or(GridError::NoKernel {
                epsilon,
                sigma_min: smin,
                sigma_max: smax,
            })?;
        let precision = opts
            .precision
            .unwrap_or(if epsilon >= SINGLE_PRECISION_MIN_EPSILON {
                Precision::Single
            } else {
                Precision::Double
            });
        let nu = good_grid_size(nx, choice.sigma, choice.support);
        let nv = good_grid_size(ny, choice.sigma, choice.support);
        let kernel = EsKernel::new(choice.support, choice.beta);
        // Polynomial error well below the kernel's own aliasing error.
        let poly = PolyKernel::fit(&kernel, (0.05 * choice.epsilon_est).max(1e-13));
        let corr_x = poly.correction(nx, nu);
        let corr_y = poly.correction(ny, nv);
        Ok(Self {
            spec,
            nu,
            nv,
            choice,
            kernel,
            poly: Arc::new(poly),
            precision,
            corr_x: Arc::new(corr_x),
            corr_y: Arc::new(corr_y),
        })
    }

    /// The geometry this gridder was built for.
    pub fn spec(&self) -> &GridSpec {
        &self.spec
    }

    /// Kernel support `W` in grid cells.
    pub fn kernel_support(&self) -> usize {
        self.choice.support
    }

    /// Design oversampling factor of the kernel (the actual grid may be slightly larger, see
    /// [`Gridder::grid_shape`]).
    pub fn oversampling(&self) -> f64 {
        self.choice.sigma
    }

    /// The chosen kernel parameters.
    pub fn kernel_choice(&self) -> KernelChoice {
        self.choice
    }

    /// The ES kernel.
    pub fn kernel(&self) -> &EsKernel {
        &self.kernel
    }

    /// Degree of the piecewise polynomial used to evaluate the kernel.
    pub fn kernel_poly_degree(&self) -> usize {
        self.poly.degree()
    }

    /// Precision of grids made by [`Gridder::new_grid`].
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Oversampled grid shape `(nv, nu)` (rows = v, columns = u).
    pub fn grid_shape(&self) -> (usize, usize) {
        (self.nv, self.nu)
    }

    /// A zeroed grid for this gridder.
    pub fn new_grid(&self) -> UvGrid {
        UvGrid::zeros(self.precision, self.nv, self.nu)
    }

    /// Accumulate weighted visibilities `w * V` into `grid`.
    ///
    /// - `uvw_m`: `(nrow, 3)` baseline coordinates in metres (w is ignored);
    /// - `freq_hz`: `(nchan,)` channel frequencies in Hz;
    /// - `vis_rc`: `(nrow, nchan)` visibilities (Jy, one correlation or Stokes product);
    /// - `weight_rc`: `(nrow, nchan)` weights; entries `<= 0` or NaN (flagged, deselected) are
    ///   skipped and not counted.
    ///
    /// Visibilities outside the grid are skipped and counted in [`GridStats::n_skipped`].
    pub fn grid_vis(
        &self,
        grid: &mut UvGrid,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        vis_rc: ArrayView2<Complex32>,
        weight_rc: ArrayView2<f32>,
        nthreads: usize,
    ) -> Result<GridStats, GridError> {
        self.check_rows(uvw_m, freq_hz, "vis_rc", vis_rc.dim())?;
        self.check_rows(uvw_m, freq_hz, "weight_rc", weight_rc.dim())?;
        self.check_grid(grid)?;
        let src = VisSource {
            vis: vis_rc.view(),
            wt: weight_rc.view(),
        };
        let stats = with_pool(nthreads, || match &mut grid.data {
            GridData::Single(g) => self.grid_impl::<f32, _>(g, uvw_m, freq_hz, weight_rc, &src),
            GridData::Double(g) => self.grid_impl::<f64, _>(g, uvw_m, freq_hz, weight_rc, &src),
        })?;
        Ok(stats)
    }

    /// As [`Gridder::grid_vis`] with every visibility equal to 1 (point-spread function).
    pub fn grid_psf(
        &self,
        grid: &mut UvGrid,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        weight_rc: ArrayView2<f32>,
        nthreads: usize,
    ) -> Result<GridStats, GridError> {
        self.check_rows(uvw_m, freq_hz, "weight_rc", weight_rc.dim())?;
        self.check_grid(grid)?;
        let src = PsfSource { wt: weight_rc };
        let stats = with_pool(nthreads, || match &mut grid.data {
            GridData::Single(g) => self.grid_impl::<f32, _>(g, uvw_m, freq_hz, weight_rc, &src),
            GridData::Double(g) => self.grid_impl::<f64, _>(g, uvw_m, freq_hz, weight_rc, &src),
        })?;
        Ok(stats)
    }

    /// FFT + grid correction: the dirty image `image_yx` of shape `(ny, nx)` in Jy x (sum of
    /// weights), i.e. NOT normalised by the sum of weights (divide by [`GridStats::sum_weights`]).
    ///
    /// Returns `f64` so that downstream sums (residual updates, normalisation) keep the accuracy of
    /// double-precision grids; it costs 8 bytes per image pixel, small next to the oversampled grid.
    /// `grid` is not modified; the call allocates an `(ny, nu)` complex work array.
    pub fn grid_to_image(&self, grid: &UvGrid, nthreads: usize) -> Result<Array2<f64>, GridError> {
        self.check_grid(grid)?;
        let img = with_pool(nthreads, || match &grid.data {
            GridData::Single(g) => self.grid_to_image_impl::<f32>(g.view()),
            GridData::Double(g) => self.grid_to_image_impl::<f64>(g.view()),
        })?;
        Ok(img)
    }

    /// As [`Gridder::grid_to_image`], in place and straight to single precision: the grid is
    /// consumed (its columns and the `ny` needed rows are transformed where they lie), and the image
    /// is `((re * corr_x) * corr_y) * scale` evaluated in `f64` and rounded to `f32` (the same values
    /// as `grid_to_image(..).mapv(|x| (x * scale) as f32)`). Besides the returned `(ny, nx)` image it
    /// allocates only per-thread FFT buffers (a block of 16 columns), not the `(ny, nu)` work array
    /// and `f64` image of [`Gridder::grid_to_image`].
    pub fn grid_into_image(
        &self,
        mut grid: UvGrid,
        scale: f64,
        nthreads: usize,
    ) -> Result<Array2<f32>, GridError> {
        self.check_grid(&grid)?;
        let img = with_pool(nthreads, || match &mut grid.data {
            GridData::Single(g) => self.grid_into_image_impl::<f32>(g.view_mut(), scale),
            GridData::Double(g) => self.grid_into_image_impl::<f64>(g.view_mut(), scale),
        })?;
        Ok(img)
    }

    /// The Fourier transform of a model image on the oversampled grid (grid-corrected), ready for
    /// [`Gridder::degrid`]: `image_to_vis = model_grid + degrid`. `image_yx` is `(ny, nx)`,
    /// Jy/pixel, single precision (converted pixel by pixel, no `f64` copy of the image).
    pub fn model_grid(
        &self,
        image_yx: ArrayView2<f32>,
        nthreads: usize,
    ) -> Result<UvGrid, GridError> {
        self.check_image(image_yx.dim())?;
        let grid = with_pool(nthreads, || {
            self.model_grid_impl(|y, x| image_yx[[y, x]] as f64)
        })?;
        Ok(grid)
    }

    /// Predict visibilities from a model grid made by [`Gridder::model_grid`]; arguments and
    /// output as for [`Gridder::image_to_vis`].
    pub fn degrid(
        &self,
        grid: &UvGrid,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        weight_rc: Option<ArrayView2<f32>>,
        mut vis_rc: ArrayViewMut2<Complex32>,
        nthreads: usize,
    ) -> Result<GridStats, GridError> {
        self.check_grid(grid)?;
        self.check_prediction_rows(uvw_m, freq_hz, vis_rc.dim(), weight_rc)?;
        let stats = with_pool(nthreads, || match &grid.data {
            GridData::Single(g) => {
                self.degrid_impl::<f32>(g.view(), uvw_m, freq_hz, weight_rc, vis_rc.view_mut())
            }
            GridData::Double(g) => {
                self.degrid_impl::<f64>(g.view(), uvw_m, freq_hz, weight_rc, vis_rc.view_mut())
            }
        })?;
        Ok(stats)
    }

    fn check_image(&self, dim: (usize, usize)) -> Result<(), GridError> {
        let (nx, ny) = (self.spec.nx, self.spec.ny);
        if dim != (ny, nx) {
            return Err(GridError::Shape {
                what: "image_yx",
                expected: vec![ny, nx],
                got: vec![dim.0, dim.1],
            });
        }
        Ok(())
    }

    /// Degridding, the exact adjoint of [`Gridder::grid_vis`] followed by
    /// [`Gridder::grid_to_image`] (without weights): predicts
    /// `V(u, v) = sum_{x,y} I(x, y) exp(-FOURIER_SIGN 2 pi i (u l + v m))` into `vis_rc`.
    ///
    /// - `image_yx`: `(ny, nx)` model image (Jy/pixel);
    /// - `uvw_m`, `freq_hz`: as for [`Gridder::grid_vis`];
    /// - `weight_rc`: optional `(nrow, nchan)` mask: where given and `<= 0` (or NaN) the
    ///   visibility is not predicted;
    /// - `vis_rc`: `(nrow, nchan)` output, fully overwritten; skipped entries (masked or outside
    ///   the grid) are set to 0.
    pub fn image_to_vis(
        &self,
        image_yx: ArrayView2<f64>,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        weight_rc: Option<ArrayView2<f32>>,
        mut vis_rc: ArrayViewMut2<Complex32>,
        nthreads: usize,
    ) -> Result<GridStats, GridError> {
        self.check_image(image_yx.dim())?;
        self.check_prediction_rows(uvw_m, freq_hz, vis_rc.dim(), weight_rc)?;
        let grid = with_pool(nthreads, || self.model_grid_impl(|y, x| image_yx[[y, x]]))?;
        self.degrid(
            &grid,
            uvw_m,
            freq_hz,
            weight_rc,
            vis_rc.view_mut(),
            nthreads,
        )
    }

    /// The rows of a prediction: `vis_rc` and the optional `weight_rc` mask against `uvw_m`.
    fn check_prediction_rows(
        &self,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        vis_dim: (usize, usize),
        weight_rc: Option<ArrayView2<f32>>,
    ) -> Result<(), GridError> {
        self.check_rows(uvw_m, freq_hz, "vis_rc", vis_dim)?;
        if let Some(w) = weight_rc {
            self.check_rows(uvw_m, freq_hz, "weight_rc", w.dim())?;
        }
        Ok(())
    }

    fn check_rows(
        &self,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        what: &'static str,
        dim: (usize, usize),
    ) -> Result<(), GridError> {
        if uvw_m.ncols() != 3 {
            return Err(GridError::Shape {
                what: "uvw_m",
                expected: vec![uvw_m.nrows(), 3],
                got: uvw_m.shape().to_vec(),
            });
        }
        if dim != (uvw_m.nrows(), freq_hz.len()) {
            return Err(GridError::Shape {
                what,
                expected: vec![uvw_m.nrows(), freq_hz.len()],
                got: vec![dim.0, dim.1],
            });
        }
        Ok(())
    }

    fn check_grid(&self, grid: &UvGrid) -> Result<(), GridError> {
        if grid.precision() != self.precision || grid.shape() != (self.nv, self.nu) {
            return Err(GridError::GridMismatch {
                expected: self.precision,
                expected_shape: (self.nv, self.nu),
                got: grid.precision(),
                got_shape: grid.shape(),
            });
        }
        Ok(())
    }

    fn geometry(&self, freq_hz: &[f64]) -> Geometry {
        // a = -FOURIER_SIGN u cell_x nu (RA increases to the left), b = FOURIER_SIGN v cell_y nv.
        let fu = freq_hz
            .iter()
            .map(|f| -FOURIER_SIGN * f / SPEED_OF_LIGHT * self.spec.cell_x_rad * self.nu as f64)
            .collect();
        let fv = freq_hz
            .iter()
            .map(|f| FOURIER_SIGN * f / SPEED_OF_LIGHT * self.spec.cell_y_rad * self.nv as f64)
            .collect();
        let w = self.choice.support;
        Geometry {
            nu: self.nu,
            nv: self.nv,
            w,
            half: 0.5 * w as f64,
            fu,
            fv,
            ntu: (self.nu + w) / TILE + 1,
            ntv: (self.nv + w) / TILE + 1,
        }
    }

    fn grid_impl<T: Real, S: Source<T>>(
        &self,
        grid: &mut Array2<Complex<T>>,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        weight_rc: ArrayView2<f32>,
        src: &S,
    ) -> GridStats {
        let geo = self.geometry(freq_hz);
        let index = VisIndex::build(&geo, uvw_m, Some(weight_rc));
        let coeffs = self.coeffs::<T>();
        let shared = SharedGrid::new(grid);
        let ctx = Ctx {
            geo: &geo,
            uvw: uvw_m.view(),
            coeffs: &coeffs,
        };
        let phases = index.flush_phases(&geo);
        for (p, tiles) in phases.iter().enumerate() {
            // The edge phase runs as one task: its tiles may overlap through the wrap.
            let ntasks = if p == 4 {
                1
            } else {
                4 * rayon::current_num_threads()
            };
            let tasks = index.tasks_of(tiles, ntasks);
            tasks.par_iter().for_each(|range| {
                let mut buf = vec![Complex::<T>::zero(); (TILE + geo.w - 1) * BUF_STRIDE];
                for &tile in &tiles[range.clone()] {
                    let entries = index.entries_of(tile);
                    let (tu, tv) = (tile % geo.ntu, tile / geo.ntu);
                    buf.fill(Complex::zero());
                    dispatch_w!(geo.w, grid_tile, (&ctx, entries, tu, tv, &mut buf, src));
                    shared.flush(&geo, &buf, tu, tv);
                }
            });
        }
        index.stats
    }

    fn grid_to_image_impl<T: Real>(&self, grid: ArrayView2<Complex<T>>) -> Array2<f64> {
        let (nx, ny, nu, nv) = (self.spec.nx, self.spec.ny, self.nu, self.nv);
        let row_map: Vec<usize> = (0..ny)
            .map(|y| wrap(y as i64 - (ny / 2) as i64, nv))
            .collect();
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
        fft_rows(inter.view_mut(), FftDirection::Backward);
        let col_map: Vec<usize> = (0..nx)
            .map(|x| wrap(x as i64 - (nx / 2) as i64, nu))
            .collect();
        let mut img = Array2::<f64>::zeros((ny, nx));
        img.outer_iter_mut()
            .into_par_iter()
            .zip(inter.outer_iter().into_par_iter())
            .enumerate()
            .for_each(|(y, (mut out, row))| {
                let cy = self.corr_y[y];
                for x in 0..nx {
                    out[x] = row[col_map[x]].re.to64() * self.corr_x[x] * cy;
                }
            });
        img
    }

    /// The grid-corrected model `pixel(y, x)` on the oversampled grid, transformed (rows holding
    /// image pixels first, then every column).
    fn model_grid_impl(&self, pixel: impl Fn(usize, usize) -> f64 + Sync) -> UvGrid {
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
        pixel: &(impl Fn(usize, usize) -> f64 + Sync),
    ) -> Array2<Complex<T>> {
        let (nx, ny, nu, nv) = (self.spec.nx, self.spec.ny, self.nu, self.nv);
        let mut grid = Array2::<Complex<T>>::zeros((nv, nu));
        for y in 0..ny {
            let gy = wrap(y as i64 - (ny / 2) as i64, nv);
            let cy = self.corr_y[y];
            let mut row = grid.row_mut(gy);
            for x in 0..nx {
                let gx = wrap(x as i64 - (nx / 2) as i64, nu);
                row[gx] = Complex::new(T::of64(pixel(y, x) * self.corr_x[x] * cy), T::zero());
            }
        }
        // Only the ny image rows are non-zero: transform those rows, then all columns.
        let npos = ny - ny / 2;
        fft_rows(grid.slice_mut(s![..npos, ..]), FftDirection::Forward);
        fft_rows(grid.slice_mut(s![nv - ny / 2.., ..]), FftDirection::Forward);
        fft_cols(grid.view_mut(), FftDirection::Forward);
        grid
    }

    fn grid_into_image_impl<T: Real>(
        &self,
        mut grid: ArrayViewMut2<Complex<T>>,
        scale: f64,
    ) -> Array2<f32> {
        let (nx, ny, nu, nv) = (self.spec.nx, self.spec.ny, self.nu, self.nv);
        // Every column, then only the rows that hold image pixels (as `grid_to_image_impl`,
        // whose column pass keeps those rows of the same transforms).
        // All-zero columns (beyond the visibilities' |u| plus the kernel) transform to zero.
        let nonzero = nonzero_cols(grid.view());
        fft_cols_subset(grid.view_mut(), FftDirection::Backward, Some(&nonzero));
        let npos = ny - ny / 2;
        fft_rows(grid.slice_mut(s![..npos, ..]), FftDirection::Backward);
        fft_rows(
            grid.slice_mut(s![nv - ny / 2.., ..]),
            FftDirection::Backward,
        );
        let col_map: Vec<usize> = (0..nx)
            .map(|x| wrap(x as i64 - (nx / 2) as i64, nu))
            .collect();
        let grid = grid.view();
        let mut img = Array2::<f32>::zeros((ny, nx));
        img.outer_iter_mut()
            .into_par_iter()
            .enumerate()
            .for_each(|(y, mut out)| {
                let row = grid.row(wrap(y as i64 - (ny / 2) as i64, nv));
                let cy = self.corr_y[y];
                for x in 0..nx {
                    out[x] = (row[col_map[x]].re.to64() * self.corr_x[x] * cy * scale) as f32;
                }
            });
        img
    }

    fn degrid_impl<T: Real>(
        &self,
        grid: ArrayView2<Complex<T>>,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        weight_rc: Option<ArrayView2<f32>>,
        mut vis_rc: ArrayViewMut2<Complex32>,
    ) -> GridStats {
        let geo = self.geometry(freq_hz);
        let index = VisIndex::build(&geo, uvw_m, weight_rc);
        let coeffs = self.coeffs::<T>();
        vis_rc.fill(Complex32::zero());
        let out = SharedVis::new(vis_rc);
        let ctx = Ctx {
            geo: &geo,
            uvw: uvw_m.view(),
            coeffs: &coeffs,
        };
        let tasks = index.tasks(4 * rayon::current_num_threads());
        let grid = &grid;
        tasks.par_iter().for_each(|range| {
            let mut buf = vec![Complex::<T>::zero(); (TILE + geo.w - 1) * BUF_STRIDE];
            for &tile in &index.nonempty[range.clone()] {
                let entries = index.entries_of(tile);
                let (tu, tv) = (tile % geo.ntu, tile / geo.ntu);
                load_tile(&geo, grid, &mut buf, tu, tv);
                dispatch_w!(geo.w, degrid_tile, (&ctx, entries, tu, tv, &buf, &out));
            }
        });
        let mut stats = index.stats;
        stats.sum_weights = 0.0;
        stats
    }

    fn coeffs<T: Real>(&self) -> Vec<[T; MAX_SUPPORT]> {
        self.poly
            .coeffs()
            .chunks_exact(MAX_SUPPORT)
            .map(|c| std::array::from_fn(|i| T::of64(c[i])))
            .collect()
    }
}

/// Wrap a signed index into `[0, n)`.
#[inline(always)]
fn wrap(i: i64, n: usize) -> usize {
    i.rem_euclid(n as i64) as usize
}

/// Call `$f::<T, W>` with the support as a const generic.
macro_rules! dispatch_w {
    ($w:expr, $f:ident, ($($arg:expr),*)) => {
        match $w {
            4 => $f::<T, 4, _>($($arg),*),
            5 => $f::<T, 5, _>($($arg),*),
            6 => $f::<T, 6, _>($($arg),*),
            7 => $f::<T, 7, _>($($arg),*),
            8 => $f::<T, 8, _>($($arg),*),
            9 => $f::<T, 9, _>($($arg),*),
            10 => $f::<T, 10, _>($($arg),*),
            11 => $f::<T, 11, _>($($arg),*),
            12 => $f::<T, 12, _>($($arg),*),
            13 => $f::<T, 13, _>($($arg),*),
            14 => $f::<T, 14, _>($($arg),*),
            15 => $f::<T, 15, _>($($arg),*),
            16 => $f::<T, 16, _>($($arg),*),
            w => unreachable!("unsupported kernel support {w}"),
        }
    };
}
use dispatch_w;

/// Per-call grid geometry: grid size, support, per-channel uv scale (cells per metre).
struct Geometry {
    nu: usize,
    nv: usize,
    w: usize,
    half: f64,
    /// `a = uvw[r, 0] * fu[c]`: u position in grid cells (0 = zero frequency).
    fu: Vec<f64>,
    fv: Vec<f64>,
    ntu: usize,
    ntv: usize,
}

/// Location of a visibility on one axis: `key = i0 + W` (>= 0) with `i0` the first footprint cell
/// in centred coordinates (`n/2` = zero frequency), and the fractional offset `t` in `[0, 1)`.
#[inline(always)]
fn locate(a: f64, n: usize, half: f64, w: usize) -> Option<(usize, f64)> {
    let hn = (n / 2) as f64;
    if a.abs() < hn {
        // x = start + W > 0, so truncation is floor; ceil without a libm call.
        let x = a + hn - half + w as f64;
        let fl = x as usize;
        let key = if (fl as f64) < x { fl + 1 } else { fl };
        Some((key, key as f64 - x))
    } else {
        None
    }
}

/// A run of consecutive channels `chan0..chan0 + nch` of one row that fall in the same tile.
#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    row: u32,
    chan0: u32,
    nch: u32,
}

/// Visibilities bucketed by uv tile (stable counting sort of channel runs).
struct VisIndex {
    /// `entries[start[t]..start[t + 1]]` belong to tile `t = tv * ntu + tu`.
    start: Vec<usize>,
    entries: Vec<Entry>,
    /// Visibilities per tile.
    nvis: Vec<u32>,
    /// Tiles with at least one entry, in tile order.
    nonempty: Vec<usize>,
    stats: GridStats,
}

/// Call `f(tile, chan0, nch)` for the runs of selected, on-grid channels of row `r` that share a
/// tile; count the rest in `st`.
#[inline(always)]
fn row_runs(
    geo: &Geometry,
    uvw: &ArrayView2<f64>,
    weight: Option<&ArrayView2<f32>>,
    r: usize,
    st: &mut GridStats,
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
        let tile = locate(u * geo.fu[c], geo.nu, geo.half, geo.w).and_then(|(ku, _)| {
            let (kv, _) = locate(v * geo.fv[c], geo.nv, geo.half, geo.w)?;
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

impl VisIndex {
    fn build(geo: &Geometry, uvw: ArrayView2<f64>, weight: Option<ArrayView2<f32>>) -> Self {
        let nrow = uvw.nrows();
        let ntiles = geo.ntu * geo.ntv;
        let nchunks = (rayon::current_num_threads()).min(nrow).max(1);
        let rows_per = nrow.div_ceil(nchunks).max(1);
        let weight = weight.as_ref();
        // Pass 1: per-chunk run and visibility counts per tile.
        let counts: Vec<(Vec<u32>, Vec<u32>, GridStats)> = (0..nchunks)
            .into_par_iter()
            .map(|k| {
                let mut cnt = vec![0u32; ntiles];
                let mut nv = vec![0u32; ntiles];
                let mut st = GridStats::default();
                for r in k * rows_per..((k + 1) * rows_per).min(nrow) {
                    row_runs(geo, &uvw, weight, r, &mut st, |t, _, n| {
                        cnt[t] += 1;
                        nv[t] += n as u32;
                    });
                }
                (cnt, nv, st)
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
                acc += counts[k].0[t] as usize;
                nvis[t] += counts[k].1[t];
            }
        }
        start[ntiles] = acc;
        let mut stats = GridStats::default();
        for (_, _, st) in &counts {
            stats += *st;
        }
        // Pass 2: scatter entries; chunk k writes only its own reserved slots.
        let mut entries = vec![Entry::default(); acc];
        let ptr = SendPtr(entries.as_mut_ptr());
        offsets
            .into_par_iter()
            .enumerate()
            .for_each(|(k, mut off)| {
                let ptr = &ptr;
                let mut st = GridStats::default();
                for r in k * rows_per..((k + 1) * rows_per).min(nrow) {
                    row_runs(geo, &uvw, weight, r, &mut st, |t, c0, n| {
                        // SAFETY: offsets of different chunks and tiles are disjoint ranges of
                        // `entries`, sized by pass 1 with the same deterministic `row_runs`.
                        unsafe {
                            *ptr.0.add(off[t]) = Entry {
                                row: r as u32,
                                chan0: c0 as u32,
                                nch: n as u32,
                            };
                        }
                        off[t] += 1;
                    });
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

    fn entries_of(&self, tile: usize) -> &[Entry] {
        &self.entries[self.start[tile]..self.start[tile + 1]]
    }

    /// Split the non-empty tiles into about `ntasks` runs of similar visibility counts.
    fn tasks(&self, ntasks: usize) -> Vec<std::ops::Range<usize>> {
        self.tasks_of(&self.nonempty, ntasks)
    }

    /// Split `tiles` into about `ntasks` runs (index ranges into `tiles`) of similar visibility
    /// counts.
    fn tasks_of(&self, tiles: &[usize], ntasks: usize) -> Vec<std::ops::Range<usize>> {
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
    fn flush_phases(&self, geo: &Geometry) -> [Vec<usize>; 5] {
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

struct SendPtr<P>(*mut P);
// SAFETY: used only for disjoint writes coordinated by the callers (see each use).
unsafe impl<P: Send> Send for SendPtr<P> {}
unsafe impl<P: Send> Sync for SendPtr<P> {}

/// Shared access to the oversampled grid for flushing tile buffers: each grid row is guarded by
/// its own lock, and rows are only written while their lock is held.
struct SharedGrid<T> {
    ptr: SendPtr<Complex<T>>,
    nu: usize,
    locks: Vec<Mutex<()>>,
}

impl<T: Real> SharedGrid<T> {
    fn new(grid: &mut Array2<Complex<T>>) -> Self {
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
    fn flush(&self, geo: &Geometry, buf: &[Complex<T>], tu: usize, tv: usize) {
        let b = TILE + geo.w - 1;
        let u0 = wrap(
            (tu * TILE) as i64 - geo.w as i64 - (geo.nu / 2) as i64,
            geo.nu,
        );
        for (r, brow) in buf.chunks_exact(BUF_STRIDE).enumerate() {
            let brow = &brow[..b];
            let gv = wrap(
                (tv * TILE + r) as i64 - geo.w as i64 - (geo.nv / 2) as i64,
                geo.nv,
            );
            let _guard = self.locks[gv].lock().unwrap_or_else(|e| e.into_inner());
            // SAFETY: row `gv` lies inside the grid and is only accessed under its lock.
            let row =
                unsafe { std::slice::from_raw_parts_mut(self.ptr.0.add(gv * self.nu), self.nu) };
            let mut gu = u0;
            let mut rest = brow;
            while !rest.is_empty() {
                let n = rest.len().min(self.nu - gu);
                for (g, v) in row[gu..gu + n].iter_mut().zip(&rest[..n]) {
                    *g += *v;
                }
                rest = &rest[n..];
                gu = 0;
            }
        }
    }
}

/// Copy the grid cells under tile `(tu, tv)`'s buffer into `buf` (periodic wrap).
fn load_tile<T: Real>(
    geo: &Geometry,
    grid: &ArrayView2<Complex<T>>,
    buf: &mut [Complex<T>],
    tu: usize,
    tv: usize,
) {
    let b = TILE + geo.w - 1;
    let u0 = wrap(
        (tu * TILE) as i64 - geo.w as i64 - (geo.nu / 2) as i64,
        geo.nu,
    );
    for (r, brow) in buf.chunks_exact_mut(BUF_STRIDE).enumerate() {
        let brow = &mut brow[..b];
        let gv = wrap(
            (tv * TILE + r) as i64 - geo.w as i64 - (geo.nv / 2) as i64,
            geo.nv,
        );
        let row = grid.row(gv);
        let row = row.as_slice().expect("standard layout");
        let mut gu = u0;
        let mut rest = &mut brow[..];
        while !rest.is_empty() {
            let n = rest.len().min(geo.nu - gu);
            rest[..n].copy_from_slice(&row[gu..gu + n]);
            rest = &mut rest[n..];
            gu = 0;
        }
    }
}

/// Output visibilities written from several threads; each `(row, chan)` is written once.
struct SharedVis {
    ptr: SendPtr<Complex32>,
    strides: (isize, isize),
}

impl SharedVis {
    fn new(mut v: ArrayViewMut2<Complex32>) -> Self {
        let st = v.strides();
        Self {
            strides: (st[0], st[1]),
            ptr: SendPtr(v.as_mut_ptr()),
        }
    }

    /// # Safety
    /// `(r, c)` must be in bounds and written by one thread only.
    #[inline(always)]
    unsafe fn write(&self, r: usize, c: usize, v: Complex32) {
        *self
            .ptr
            .0
            .offset(r as isize * self.strides.0 + c as isize * self.strides.1) = v;
    }
}

/// Value gridded for visibility `(row, chan)`.
trait Source<T>: Sync {
    fn value(&self, r: usize, c: usize) -> Complex<T>;
    /// Hint that `(r, c)` will be read soon.
    fn prefetch(&self, r: usize, c: usize);
}

/// Prefetch the cache line holding `p` (no-op off x86_64).
#[inline(always)]
fn prefetch_ptr<P>(p: *const P) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint and never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[inline(always)]
fn elem_ptr<P>(a: &ArrayView2<P>, r: usize, c: usize) -> *const P {
    let st = a.strides();
    a.as_ptr()
        .wrapping_offset(r as isize * st[0] + c as isize * st[1])
}

struct VisSource<'a> {
    vis: ArrayView2<'a, Complex32>,
    wt: ArrayView2<'a, f32>,
}

impl<T: Real> Source<T> for VisSource<'_> {
    #[inline(always)]
    fn value(&self, r: usize, c: usize) -> Complex<T> {
        // SAFETY: (r, c) comes from the index built over the validated (nrow, nchan) shape.
        let (v, w) = unsafe { (*self.vis.uget((r, c)), *self.wt.uget((r, c))) };
        let w = T::of32(w);
        Complex::new(T::of32(v.re) * w, T::of32(v.im) * w)
    }
    #[inline(always)]
    fn prefetch(&self, r: usize, c: usize) {
        prefetch_ptr(elem_ptr(&self.vis, r, c));
        prefetch_ptr(elem_ptr(&self.wt, r, c));
    }
}

struct PsfSource<'a> {
    wt: ArrayView2<'a, f32>,
}

impl<T: Real> Source<T> for PsfSource<'_> {
    #[inline(always)]
    fn value(&self, r: usize, c: usize) -> Complex<T> {
        // SAFETY: as for VisSource.
        Complex::new(T::of32(unsafe { *self.wt.uget((r, c)) }), T::zero())
    }
    #[inline(always)]
    fn prefetch(&self, r: usize, c: usize) {
        prefetch_ptr(elem_ptr(&self.wt, r, c));
    }
}

/// How many entries ahead the tile loops prefetch their inputs.
const PREFETCH_AHEAD: usize = 4;

/// Shared read-only inputs of the tile kernels.
struct Ctx<'a, T> {
    geo: &'a Geometry,
    uvw: ArrayView2<'a, f64>,
    /// Polynomial coefficients per degree (highest first), `MAX_SUPPORT` lanes each.
    coeffs: &'a [[T; MAX_SUPPORT]],
}

impl<T: Real> Ctx<'_, T> {
    /// Footprint origin inside the tile buffer and kernel weights on both axes for the
    /// visibility at baseline `(u_m, v_m)` metres, channel `c`.
    #[inline(always)]
    fn weights<const W: usize>(
        &self,
        u_m: f64,
        v_m: f64,
        c: usize,
        tu: usize,
        tv: usize,
    ) -> (usize, usize, [T; W], [T; W]) {
        let geo = self.geo;
        // SAFETY: c < nchan (validated shapes).
        let (a, b) = unsafe {
            (
                u_m * *geo.fu.get_unchecked(c),
                v_m * *geo.fv.get_unchecked(c),
            )
        };
        // The index guarantees both lie on the grid.
        let (ku, fu) = locate(a, geo.nu, geo.half, W).unwrap_or((tu * TILE, 0.0));
        let (kv, fv) = locate(b, geo.nv, geo.half, W).unwrap_or((tv * TILE, 0.0));
        let wu = poly_eval::<T, W>(self.coeffs, T::of64(2.0 * fu - 1.0));
        let wv = poly_eval::<T, W>(self.coeffs, T::of64(2.0 * fv - 1.0));
        (ku - tu * TILE, kv - tv * TILE, wu, wv)
    }

    #[inline(always)]
    fn uv(&self, r: usize) -> (f64, f64) {
        // SAFETY: r < nrow (validated shapes, index built over them).
        unsafe { (*self.uvw.uget((r, 0)), *self.uvw.uget((r, 1))) }
    }

    #[inline(always)]
    fn prefetch(&self, entries: &[Entry], k: usize) {
        if let Some(e) = entries.get(k + PREFETCH_AHEAD) {
            prefetch_ptr(elem_ptr(&self.uvw, e.row as usize, 0));
        }
    }
}

/// Horner evaluation of the `W` kernel polynomials at `s` in lockstep.
#[inline(always)]
fn poly_eval<T: Real, const W: usize>(coeffs: &[[T; MAX_SUPPORT]], s: T) -> [T; W] {
    let mut k = [T::zero(); W];
    for c in coeffs {
        for i in 0..W {
            k[i] = k[i] * s + c[i];
        }
    }
    k
}

/// Grid the entries of tile `(tu, tv)` into its buffer (runtime dispatch to an AVX2 build).
fn grid_tile<T: Real, const W: usize, S: Source<T>>(
    ctx: &Ctx<T>,
    entries: &[Entry],
    tu: usize,
    tv: usize,
    buf: &mut [Complex<T>],
    src: &S,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports the features enabled on `grid_tile_avx2`.
        return unsafe { grid_tile_avx2::<T, W, S>(ctx, entries, tu, tv, buf, src) };
    }
    grid_tile_body::<T, W, S>(ctx, entries, tu, tv, buf, src)
}

/// [`grid_tile_body`] compiled with AVX2 and FMA enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn grid_tile_avx2<T: Real, const W: usize, S: Source<T>>(
    ctx: &Ctx<T>,
    entries: &[Entry],
    tu: usize,
    tv: usize,
    buf: &mut [Complex<T>],
    src: &S,
) {
    grid_tile_body::<T, W, S>(ctx, entries, tu, tv, buf, src)
}

#[inline(always)]
fn grid_tile_body<T: Real, const W: usize, S: Source<T>>(
    ctx: &Ctx<T>,
    entries: &[Entry],
    tu: usize,
    tv: usize,
    buf: &mut [Complex<T>],
    src: &S,
) {
    let pw = W.div_ceil(4) * 4;
    assert!(buf.len() >= (TILE + W - 1) * BUF_STRIDE && pw <= MAX_SUPPORT);
    // Complex<T> is repr(C) {re, im}: view the buffer as interleaved reals.
    // SAFETY: same allocation, twice as many T elements, same alignment.
    let bufr = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut T, 2 * buf.len()) };
    let mut a = [T::zero(); 2 * MAX_SUPPORT];
    for (k, &e) in entries.iter().enumerate() {
        ctx.prefetch(entries, k);
        if let Some(n) = entries.get(k + PREFETCH_AHEAD) {
            src.prefetch(n.row as usize, n.chan0 as usize);
        }
        let r = e.row as usize;
        let (u_m, v_m) = ctx.uv(r);
        for c in e.chan0 as usize..(e.chan0 + e.nch) as usize {
            let (lu, lv, wu, wv) = ctx.weights::<W>(u_m, v_m, c, tu, tv);
            debug_assert!(lu < TILE && lv < TILE);
            let val = src.value(r, c);
            // a = val * wu, interleaved (re, im), zero-padded to pw cells: then each kernel row is
            // an axpy with wv[j] over whole SIMD vectors.
            for i in 0..W {
                a[2 * i] = val.re * wu[i];
                a[2 * i + 1] = val.im * wu[i];
            }
            for (j, &kv) in wv.iter().enumerate() {
                let off = 2 * ((lv + j) * BUF_STRIDE + lu);
                // SAFETY: lu, lv < TILE and pw <= MAX_SUPPORT, so the row segment ends at
                // 2 * ((TILE + W - 2) * BUF_STRIDE + TILE - 1 + MAX_SUPPORT) <= bufr.len().
                let row = unsafe { bufr.get_unchecked_mut(off..off + 2 * pw) };
                for (g, &x) in row.iter_mut().zip(a[..2 * pw].iter()) {
                    *g += x * kv;
                }
            }
        }
    }
}

/// Predict the entries of tile `(tu, tv)` from its buffer (runtime dispatch to an AVX2 build).
fn degrid_tile<T: Real, const W: usize, O: std::borrow::Borrow<SharedVis>>(
    ctx: &Ctx<T>,
    entries: &[Entry],
    tu: usize,
    tv: usize,
    buf: &[Complex<T>],
    out: &O,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports the features enabled on `degrid_tile_avx2`.
        return unsafe { degrid_tile_avx2::<T, W, O>(ctx, entries, tu, tv, buf, out) };
    }
    degrid_tile_body::<T, W, O>(ctx, entries, tu, tv, buf, out)
}

/// [`degrid_tile_body`] compiled with AVX2 and FMA enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn degrid_tile_avx2<T: Real, const W: usize, O: std::borrow::Borrow<SharedVis>>(
    ctx: &Ctx<T>,
    entries: &[Entry],
    tu: usize,
    tv: usize,
    buf: &[Complex<T>],
    out: &O,
) {
    degrid_tile_body::<T, W, O>(ctx, entries, tu, tv, buf, out)
}

#[inline(always)]
fn degrid_tile_body<T: Real, const W: usize, O: std::borrow::Borrow<SharedVis>>(
    ctx: &Ctx<T>,
    entries: &[Entry],
    tu: usize,
    tv: usize,
    buf: &[Complex<T>],
    out: &O,
) {
    let pw = W.div_ceil(4) * 4;
    assert!(buf.len() >= (TILE + W - 1) * BUF_STRIDE && pw <= MAX_SUPPORT);
    // SAFETY: as in grid_tile_body (read-only view).
    let bufr = unsafe { std::slice::from_raw_parts(buf.as_ptr() as *const T, 2 * buf.len()) };
    for (k, &e) in entries.iter().enumerate() {
        ctx.prefetch(entries, k);
        let r = e.row as usize;
        let (u_m, v_m) = ctx.uv(r);
        for c in e.chan0 as usize..(e.chan0 + e.nch) as usize {
            let (lu, lv, wu, wv) = ctx.weights::<W>(u_m, v_m, c, tu, tv);
            debug_assert!(lu < TILE && lv < TILE);
            // acc2 = sum_j wv[j] * row_j (interleaved), then contract with wu.
            let mut acc2 = [T::zero(); 2 * MAX_SUPPORT];
            for (j, &kv) in wv.iter().enumerate() {
                let off = 2 * ((lv + j) * BUF_STRIDE + lu);
                // SAFETY: as in grid_tile_body (cells beyond W are read but not used).
                let row = unsafe { bufr.get_unchecked(off..off + 2 * pw) };
                for (a, &g) in acc2[..2 * pw].iter_mut().zip(row.iter()) {
                    *a += g * kv;
                }
            }
            let (mut re, mut im) = (T::zero(), T::zero());
            for i in 0..W {
                re += acc2[2 * i] * wu[i];
                im += acc2[2 * i + 1] * wu[i];
            }
            let v = Complex32::new(re.to64() as f32, im.to64() as f32);
            // SAFETY: every (row, chan) appears once in the index; shapes were validated.
            unsafe { out.borrow().write(r, c, v) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(eps: f64) -> GridSpec {
        GridSpec {
            nx: 64,
            ny: 48,
            cell_x_rad: 1e-5,
            cell_y_rad: 1.3e-5,
            epsilon: eps,
        }
    }

    /// A few hundred pseudo-random visibilities for `g` (rows of uvw in metres, one channel).
    fn sample_vis(n: usize) -> (Array2<f64>, Vec<f64>, Array2<Complex32>, Array2<f32>) {
        let mut s = 12345u64;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        let uvw = Array2::from_shape_fn((n, 3), |_| 2000.0 * rnd());
        let vis = Array2::from_shape_fn((n, 1), |_| Complex32::new(rnd() as f32, rnd() as f32));
        let wt = Array2::from_shape_fn((n, 1), |_| (rnd() + 0.6) as f32);
        (uvw, vec![1.0e8], vis, wt)
    }

    #[test]
    fn grid_into_image_equals_grid_to_image_in_single_precision() {
        for eps in [1e-5, 1e-7] {
            let g = Gridder::new(spec(eps)).unwrap();
            let (uvw, f, vis, wt) = sample_vis(300);
            let mut grid = g.new_grid();
            g.grid_vis(&mut grid, uvw.view(), &f, vis.view(), wt.view(), 2)
                .unwrap();
            let scale = 1.0 / 7.3;
            let want = g
                .grid_to_image(&grid, 2)
                .unwrap()
                .mapv(|x| (x * scale) as f32);
            let got = g.grid_into_image(grid, scale, 2).unwrap();
            // The same transforms in the same order: identical values.
            assert_eq!(got, want, "epsilon {eps}");
        }
    }

    #[test]
    fn gridding_does_not_depend_on_the_thread_count() {
        // Flushes in fixed phases: the grid is bit-identical with 1, 2 and 3 threads.
        let g = Gridder::new(GridSpec {
            nx: 256,
            ny: 256,
            ..spec(1e-5)
        })
        .unwrap();
        let (uvw, f, vis, wt) = sample_vis(3000);
        // Spread over many interior tiles (|u| up to a third of the grid).
        let uvw = uvw * 50.0;
        let grid = |n| {
            let mut grid = g.new_grid();
            g.grid_vis(&mut grid, uvw.view(), &f, vis.view(), wt.view(), n)
                .unwrap();
            grid
        };
        let one = grid(1);
        assert_eq!(one, grid(2));
        assert_eq!(one, grid(3));
    }

    #[test]
    fn model_grid_and_degrid_equal_image_to_vis() {
        let g = Gridder::new(spec(1e-5)).unwrap();
        let (uvw, f, _, wt) = sample_vis(200);
        let model = Array2::from_shape_fn((48, 64), |(y, x)| ((y * 7 + x * 3) % 11) as f32 - 5.0);
        let mut a = Array2::zeros((200, 1));
        let mut b = Array2::zeros((200, 1));
        g.image_to_vis(
            model.mapv(f64::from).view(),
            uvw.view(),
            &f,
            Some(wt.view()),
            a.view_mut(),
            2,
        )
        .unwrap();
        let mg = g.model_grid(model.view(), 2).unwrap();
        g.degrid(&mg, uvw.view(), &f, Some(wt.view()), b.view_mut(), 2)
            .unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn rejects_bad_specs() {
        assert!(matches!(
            Gridder::new(GridSpec {
                nx: 1,
                ..spec(1e-5)
            }),
            Err(GridError::ImageSize { .. })
        ));
        assert!(matches!(
            Gridder::new(GridSpec {
                cell_x_rad: 0.0,
                ..spec(1e-5)
            }),
            Err(GridError::CellSize { .. })
        ));
        assert!(matches!(
            Gridder::new(spec(1e-9)),
            Err(GridError::Epsilon { .. })
        ));
        let o = GridderOptions {
            sigma_max: 3.0,
            ..Default::default()
        };
        assert!(matches!(
            Gridder::with_options(spec(1e-5), o),
            Err(GridError::SigmaRange { .. })
        ));
    }

    #[test]
    fn sigma_cap_is_honoured() {
        let o = GridderOptions {
            sigma_max: 1.5,
            ..Default::default()
        };
        let g = Gridder::with_options(spec(1e-5), o).unwrap();
        let sigma = g.oversampling();
        assert!(sigma <= 1.5);
        let (nv, nu) = g.grid_shape();
        let (nx, ny) = (g.spec().nx as f64, g.spec().ny as f64);
        assert!(nu as f64 >= sigma * nx && nv as f64 >= sigma * ny && nu % 2 == 0 && nv % 2 == 0);
    }

    #[test]
    fn grid_mismatch_is_an_error() {
        let g = Gridder::new(spec(1e-5)).unwrap();
        let g2 = Gridder::new(spec(1e-7)).unwrap();
        let mut grid = g.new_grid();
        assert!(grid.add_assign(&g2.new_grid()).is_err());
        assert!(g2.grid_to_image(&grid, 1).is_err());
        grid.add_assign(&g.new_grid()).unwrap();
    }

    #[test]
    fn locate_keeps_footprint_in_tile_buffer() {
        for &a in &[-31.999, -0.5, 0.0, 0.25, 31.9] {
            let (k, t) = locate(a, 64, 3.0, 6).unwrap();
            assert!((0.0..1.0).contains(&t));
            // first footprint cell (centred coords) = k - W; its distance to a + 32 is t - W/2
            let i0 = k as f64 - 6.0;
            assert!((i0 - (a + 32.0 - 3.0) - t).abs() < 1e-12);
        }
        assert!(locate(32.0, 64, 3.0, 6).is_none());
        assert!(locate(f64::NAN, 64, 3.0, 6).is_none());
    }
}

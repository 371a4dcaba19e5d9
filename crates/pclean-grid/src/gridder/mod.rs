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
//!    correction divides by the kernel's Fourier transform, computed by Gauss-Legendre quadrature;
//!    a single-precision grid becomes the `f32` image in its own memory ([`Gridder::grid_into_image`]:
//!    rows overwritten, moved to the front, the buffer shrunk), so an image costs nothing beside
//!    its grid (session 14: an 8000^2 dirty channel 1474 -> 995 MiB).
//!
//! # Where the time goes (profiled with `perf record`, session 11)
//! Shares of the CPU samples on the shared 2-core machine (load average 15-19 from other jobs,
//! so the memory system was contended too):
//! - `examples/grid_bench` (1 M ALMA-like visibilities in 4 channels, 1024^2, epsilon 1e-5,
//!   W = 6, sigma 1.6, 1 thread; the rest of the samples is its data generation): the tile
//!   kernels 35%, the bucketing 27% (every visibility was located three times: twice by the
//!   two counting-sort passes, once by the kernel), first-touch page faults of the fresh grid
//!   14%, FFTs 5%. In the tile kernels the stalls were the first loads of each visibility's
//!   `uvw` and value (random rows) and the kernel polynomials (`W` lanes per axis, which do not
//!   fill SIMD vectors). Now each visibility is located once by the bucketing (its runs kept
//!   for the scatter), and both axes' polynomials run in one pass over `2 pw` lanes
//!   (`kernels::poly_eval_uv`): tile kernels 43%, bucketing and closures 20%, page faults
//!   12%, FFTs 6%.
//! - a whole mfs dirty run (`pclean image`, 6.9 M visibilities of 64 channels per row, 1024^2,
//!   natural, epsilon 1e-6: W = 6, sigma 2.3): the tile kernels of the PSF and dirty passes
//!   49%, the engine's reading, Stokes forming and weights 22%, page faults 10%, bucketing
//!   10%, FFTs 1%. 69% of the tile kernels' samples fell on the first read of a visibility's
//!   value or weight: a row's 64 channels span 8 + 4 cache lines, of which only the first was
//!   prefetched; the kernels now prefetch every line of the run (`kernels::prefetch_run`).
//!   Session 12: the PSF and the dirty image of such a plane are gridded in one pass
//!   ([`Gridder::grid_vis_and_psf`]: one bucketing, one kernel evaluation per visibility, two
//!   tile buffers); the fused tile kernel is then 43% of the run's samples, the bucketing ~11%.
//!   Session 13 (the same run, `perf record --call-graph dwarf`, samples given to the first
//!   phase on their stack; docs/decisions.md (s13-mfs)): the fused tile kernels 28-32%, the MS
//!   read 13-21% (casacore and the kernel's copies, in the read-ahead thread), Stokes forming
//!   8-11%, set-up's scalar-column reads 6-7%, the two grids zeroed 7-8% (memset and page
//!   faults, serial), bucketing 7%, creating the seven products 3-8%, FFTs 4-5%, flushes 2-3%;
//!   tclean's reach check (`CasaGridder::zero_unreached`) went from 6% to 0.2% (a row whose
//!   band ends both reach the grid is kept whole).
//! - session 14, one 8000^2 dirty channel (108 360 visibilities, W = 11, sigma 1.2, a 9600^2
//!   grid; docs/decisions.md (s14-grid)): 58% of the samples in the kernel, writing the products
//!   through the page cache 13-16% and first-touch page faults of each fresh grid and plane ~20%;
//!   the FFTs 6-8%, gathering columns for them 3-5%, the memset of `Array2::zeros` on each grid
//!   7.6%. Making the image in the grid's memory removed two planes' faults (CPU 7.8 -> 5.7 s).
//! - session 15, `examples/grid_bench` at 1024^2, epsilon 1e-5 (W = 6, sigma 1.6, a 1728^2
//!   grid; docs/decisions.md (s15-grid)): in the tile kernels the kernel polynomials were the
//!   bound: one Horner chain of the full degree (`mul` then `add`, ~7 cycles a step) per
//!   visibility, over `W` lanes per axis. They are now evaluated as even and odd parts in
//!   `s^2` for the first half of the row only (the ES kernel is even: the second half is the
//!   first at `-s`), two independent chains of half the degree in one 8-lane vector for
//!   `W <= 8` (`kernels::HalfCoeffs`). The row pass of the image's FFT transforms two image
//!   rows per FFT where only the real part is kept (`transform::fft_rows_real`): pclean's
//!   transform 0.043-0.05 s -> 0.032 s, ducc0's (FFT + its Hartley conversion) 0.034 s.
//!   After both: tile kernels ~44% of the samples (of which the weights' `locate` ~12%, the
//!   prefetch loop ~4%, now one line range), bucketing ~17%, page faults of fresh grids ~10%.
//!   ducc0 0.42 at the same epsilon picks W = 7 on a 1694^2 grid; its own timers: gridding
//!   0.107 s, index 0.039 s, grid allocation 0.039 s, FFT + Hartley 0.034 s.
//!   `locate`'s floor by truncation (`f64 -> i64 -> f64`, a compare, an add) and its range
//!   check were ~9% of the samples in the tile kernel alone. The kernels now locate both axes
//!   at once by `ceil` without the check the index already made (`tiles::locate_on_grid`), and
//!   the bucketing's pass over the rows runs in an AVX2 build with the same `ceil`
//!   (`tiles::locate_by_ceil`): one rounding instruction each, the same keys and offsets bit
//!   for bit. Gridding 0.040 -> 0.031 s at 1 thread (`examples/grid_bench`, 1024^2, 1e-5).
//!
//! Conventions (image orientation, uv units, Fourier sign) are in `docs/conventions.md`; the sign of
//! the Fourier kernel is [`FOURIER_SIGN`] and lives only here.
//!
//! The w term is ignored here; the w-gridder ([`crate::wgrid`]) runs this gridder once per w
//! plane and adds the planes' phase screens.

mod kernels;
mod passes;
#[cfg(test)]
mod tests;
mod tiles;
mod transform;
mod types;
mod uvgrid;

pub(crate) use transform::{fft_image_rows, image_to_grid};
pub use types::{GridError, GridSpec, GridStats, GridderOptions, Precision};
pub use uvgrid::UvGrid;

use crate::kernel::{
    choose_kernel, good_grid_size, EsKernel, KernelChoice, PolyKernel, MAX_SUPPORT,
};
use kernels::{PsfSource, Source, VisSource};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use num_complex::Complex32;
use pclean_core::SPEED_OF_LIGHT;
use pclean_fft::with_pool;
use std::sync::Arc;
use tiles::Geometry;
use uvgrid::{GridData, Real};

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
        check_geometry(nx, ny, cell_x_rad, cell_y_rad)?;
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
        self.grid_vis_into(grid, None, uvw_m, freq_hz, vis_rc, weight_rc, nthreads)
    }

    /// [`Gridder::grid_vis`] into `grid` and [`Gridder::grid_psf`] into `psf_grid` in one pass:
    /// the visibilities are bucketed and their kernel weights evaluated once for both. Each grid
    /// is bit for bit the one of its own call; the stats are those of either call.
    #[allow(clippy::too_many_arguments)]
    pub fn grid_vis_and_psf(
        &self,
        grid: &mut UvGrid,
        psf_grid: &mut UvGrid,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        vis_rc: ArrayView2<Complex32>,
        weight_rc: ArrayView2<f32>,
        nthreads: usize,
    ) -> Result<GridStats, GridError> {
        let psf = Some(psf_grid);
        self.grid_vis_into(grid, psf, uvw_m, freq_hz, vis_rc, weight_rc, nthreads)
    }

    /// [`Gridder::grid_vis`], and with `psf_grid` [`Gridder::grid_vis_and_psf`]: validated.
    #[allow(clippy::too_many_arguments)]
    fn grid_vis_into(
        &self,
        grid: &mut UvGrid,
        psf_grid: Option<&mut UvGrid>,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        vis_rc: ArrayView2<Complex32>,
        weight_rc: ArrayView2<f32>,
        nthreads: usize,
    ) -> Result<GridStats, GridError> {
        self.check_rows(uvw_m, freq_hz, "vis_rc", vis_rc.dim())?;
        self.check_rows(uvw_m, freq_hz, "weight_rc", weight_rc.dim())?;
        self.check_grid(grid)?;
        if let Some(p) = psf_grid.as_deref() {
            self.check_grid(p)?;
        }
        let src = VisSource {
            vis: vis_rc.view(),
            wt: weight_rc.view(),
        };
        self.grid_source(grid, psf_grid, uvw_m, freq_hz, weight_rc, &src, nthreads)
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
        self.grid_source(grid, None, uvw_m, freq_hz, weight_rc, &src, nthreads)
    }

    /// Grid the values of `src` (validated against `uvw_m`, `freq_hz` and `grid`), and with
    /// `psf_grid` (of the same precision: both from [`Gridder::new_grid`]) the weights' PSF.
    #[allow(clippy::too_many_arguments)]
    fn grid_source<S: Source<f32> + Source<f64>>(
        &self,
        grid: &mut UvGrid,
        psf_grid: Option<&mut UvGrid>,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        weight_rc: ArrayView2<f32>,
        src: &S,
        nthreads: usize,
    ) -> Result<GridStats, GridError> {
        let psf = psf_grid.map(|p| &mut p.data);
        let (w, f) = (weight_rc, freq_hz);
        let stats = with_pool(nthreads, || match (&mut grid.data, psf) {
            (GridData::Single(g), None) => self.grid_impl::<f32, _>(g, None, uvw_m, f, w, src),
            (GridData::Double(g), None) => self.grid_impl::<f64, _>(g, None, uvw_m, f, w, src),
            (GridData::Single(g), Some(GridData::Single(p))) => {
                self.grid_impl::<f32, _>(g, Some(p), uvw_m, f, w, src)
            }
            (GridData::Double(g), Some(GridData::Double(p))) => {
                self.grid_impl::<f64, _>(g, Some(p), uvw_m, f, w, src)
            }
            _ => unreachable!("grids of one gridder share its precision"),
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
    /// and `f64` image of [`Gridder::grid_to_image`]. A single-precision grid becomes the image in
    /// its own memory (shrunk to the image's `4 nx ny` bytes): no image is allocated beside it.
    pub fn grid_into_image(
        &self,
        grid: UvGrid,
        scale: f64,
        nthreads: usize,
    ) -> Result<Array2<f32>, GridError> {
        self.check_grid(&grid)?;
        let img = with_pool(nthreads, move || match grid.data {
            GridData::Single(g) => self.single_grid_into_image(g, scale),
            GridData::Double(mut g) => self.grid_into_image_impl::<f64>(g.view_mut(), scale),
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

    /// The counts a gridding call of these visibilities returns (same rules: weights `<= 0` or
    /// NaN not counted, outside the grid skipped), without gridding them: for the w-gridder,
    /// which grids each visibility into several w planes. Inputs validated by the caller.
    pub(crate) fn count(
        &self,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        weight_rc: ArrayView2<f32>,
    ) -> GridStats {
        tiles::count(&self.geometry(freq_hz), uvw_m, weight_rc)
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
        vis_rc: ArrayViewMut2<Complex32>,
        nthreads: usize,
    ) -> Result<GridStats, GridError> {
        self.check_image(image_yx.dim())?;
        self.check_prediction_rows(uvw_m, freq_hz, vis_rc.dim(), weight_rc)?;
        let grid = with_pool(nthreads, || self.model_grid_impl(|y, x| image_yx[[y, x]]))?;
        self.degrid(&grid, uvw_m, freq_hz, weight_rc, vis_rc, nthreads)
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
    fn coeffs<T: Real>(&self) -> kernels::HalfCoeffs<T> {
        kernels::half_coeffs(self.poly.coeffs(), self.choice.support)
    }
}

/// An image of `nx x ny` pixels (both >= 2) of `cell_x_rad x cell_y_rad` (finite, > 0, the image
/// inside the direction-cosine plane): the geometry every gridder accepts.
pub(crate) fn check_geometry(
    nx: usize,
    ny: usize,
    cell_x_rad: f64,
    cell_y_rad: f64,
) -> Result<(), GridError> {
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
    Ok(())
}

/// Wrap a signed index into `[0, n)`.
#[inline(always)]
pub(super) fn wrap(i: i64, n: usize) -> usize {
    i.rem_euclid(n as i64) as usize
}

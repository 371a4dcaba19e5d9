//! The gridder's geometry request, options, statistics and errors.

use super::{DEFAULT_SIGMA_MAX, DEFAULT_SIGMA_MIN};
use std::ops::AddAssign;

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

impl Precision {
    /// Bytes per grid cell (8 single, 16 double precision).
    pub fn bytes_per_cell(self) -> usize {
        match self {
            Precision::Single => 8,
            Precision::Double => 16,
        }
    }
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
    /// Sum of the gridded weights times their factors in a weight image
    /// (`VisBatch::weight_factor_rc`, 1 without) and the gridder's per-visibility flux scale:
    /// awproject's kernel sum (tclean's mtmfs `.sumwt.ttN`, docs/decisions.md (s17-awmt)); 0 for
    /// the gridders without one.
    pub sum_scaled_weights: f64,
}

impl AddAssign for GridStats {
    fn add_assign(&mut self, o: Self) {
        self.n_gridded += o.n_gridded;
        self.n_skipped += o.n_skipped;
        self.sum_weights += o.sum_weights;
        self.sum_scaled_weights += o.sum_scaled_weights;
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
    /// A padding factor below 1 or not finite.
    #[error("padding {padding} is invalid: must be >= 1 (tclean's default is 1.2)")]
    Padding { padding: f32 },
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
    /// A plane set (or list of model planes) has the wrong number of planes for the gridder.
    #[error("plane set has {got} planes, the gridder expects {expected}")]
    PlaneCount { expected: usize, got: usize },
    /// Two w plane sets, one still holding its visibilities and one gridded into its planes
    /// (it grew past the buffer's share), cannot be added.
    #[error(
        "cannot add a w plane set that still holds its visibilities to one already gridded into \
         its w planes: reduce the images of the two sets instead"
    )]
    BufferedPlanes,
    /// The image reaches beyond the horizon (`l^2 + m^2 >= 1` at a corner): no w-correction.
    #[error(
        "the image corners lie beyond the horizon (l^2 + m^2 = {r2:.3} >= 1): reduce imsize or \
         cell for w-correction"
    )]
    Horizon { r2: f64 },
    /// The w range of the w-gridder is not a finite, non-negative number of wavelengths.
    #[error("maximum |w| {wmax} wavelengths is invalid: must be finite and >= 0")]
    WRange { wmax: f64 },
    /// The thread pool could not be built.
    #[error("cannot build a thread pool")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
}

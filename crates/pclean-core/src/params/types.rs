//! The validated parameter types: what the engine sees.

use super::choices::{
    DataColumnChoice, Deconvolver, GridKernel, Gridder, ImageFormat, Interpolation, SpecMode,
    VelType,
};
use crate::direction::Direction;
use crate::stokes::StokesSet;
use serde::{Deserialize, Serialize};

/// tclean's `phasecenter`: a field id, or an explicit direction; `None` = the first selected field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PhaseCenter {
    FirstField,
    FieldId(usize),
    Direction(Direction),
    /// `'TRACKFIELD'`: follow the first selected field's ephemeris (a moving source stays at the
    /// image centre, which is its topocentric direction at the first integration).
    TrackField,
    /// A solar-system body by casacore's name (`"MARS"`, `"SUN"`, `"MOON"`, ...; tclean ignores a
    /// direction after the name): the image centre is the body's topocentric direction (JPL DE200)
    /// at the first integration, in ICRS, and every row is re-phased to the body's direction at
    /// its time.
    Body(String),
}

/// `start` / `width` of a cube: a channel number or a frequency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum SpectralValue {
    Default,
    Channel(i64),
    FrequencyHz(f64),
    /// A velocity (m/s) in the `veltype` convention relative to `restfreq`.
    VelocityMps(f64),
}

/// Visibility weighting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Weighting {
    Natural,
    Uniform,
    Briggs {
        robust: f64,
    },
    BriggsAbs {
        robust: f64,
        noise_jy: f64,
    },
    /// `briggsbwtaper` (cubes with a density per channel): Briggs divided by tclean's
    /// fractional-bandwidth taper of the whole cube.
    BriggsBwTaper {
        robust: f64,
    },
    /// `superuniform`: uniform over a box of `2 half_box + 1` cells on a side (tclean's
    /// `npixels`, 3 when `npixels` is 0), one density for all channels.
    SuperUniform {
        half_box: usize,
    },
}

/// tclean's `usemask`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum UseMask {
    /// `mask` is a CASA region (file or text) or a mask image; empty = clean everywhere. With
    /// `pbmask > 0` a non-empty mask is cut to `pb > pbmask` (tclean's `makePBMask` combined).
    User { mask: String, pbmask: f64 },
    /// Clean where the primary beam >= `pbmask`.
    Pb { pbmask: f64 },
    /// tclean's automatic masking with its parameters.
    AutoMultiThresh(AutoMaskSettings),
}

/// auto-multithresh parameters (tclean's names and defaults): the effective values of the
/// declaration's rows of the same names.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AutoMaskSettings {
    pub sidelobethreshold: f64,
    pub noisethreshold: f64,
    pub lownoisethreshold: f64,
    pub negativethreshold: f64,
    pub smoothfactor: f64,
    pub minbeamfrac: f64,
    pub cutthreshold: f64,
    pub growiterations: usize,
    pub dogrowprune: bool,
    pub minpercentchange: f64,
    pub fastnoise: bool,
    /// tclean's `pbmask` with auto-multithresh: when > 0, statistics and the mask are limited to
    /// `pb > pbmask` (tclean's `autoMaskWithinPB`); 0 = the `pblimit` region.
    pub pbmask: f64,
}

/// tclean's `restoringbeam`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum RestoringBeam {
    /// The beam fitted to each PSF plane.
    Fitted,
    /// The smallest beam enclosing every plane's beam; residuals are convolved to it.
    Common,
    /// A user beam for every plane.
    User(crate::Beam),
}

/// Deconvolution parameters (validated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeconvParams {
    pub deconvolver: Deconvolver,
    pub niter: usize,
    pub gain: f64,
    pub threshold_jy: f64,
    pub nsigma: f64,
    /// How the robust rms of `nsigma` (and auto-multithresh) is measured: over every pixel of the
    /// statistics region (true), or outside the current clean mask, Chauvenet-clipped when there
    /// is none (false), as tclean's `fastnoise`.
    pub fastnoise: bool,
    pub cycleniter: Option<usize>,
    pub cyclefactor: f64,
    pub minpsffraction: f64,
    pub maxpsffraction: f64,
    pub nmajor: Option<usize>,
    /// Multiscale scales in pixels.
    pub scales: Vec<usize>,
    /// Taylor terms of `mtmfs` (1 for the other deconvolvers).
    pub nterms: usize,
    /// `mtmfs`'s reference frequency (Hz, the image's frame); `None`: tclean's default, the
    /// centre of the selected band (the mfs image frequency).
    pub reffreq_hz: Option<f64>,
    /// `specmode='mvc'` (mtmfs with a cube major cycle, tclean 6.6+): the cube's channel count
    /// (`Some(0)`: tclean's default from the data's band); `None` for every other specmode.
    #[serde(default)]
    pub mvc: Option<usize>,
    pub smallscalebias: f64,
    pub usemask: UseMask,
    pub restoringbeam: RestoringBeam,
    /// Write the restored image (tclean's `restoration`); `pbcor` needs it.
    pub restoration: bool,
    pub pbcor: bool,
    /// CASA images holding the starting model (Jy/pixel): none, one, or with mtmfs one per
    /// Taylor term (at most `nterms`, term 0 first).
    #[serde(default)]
    pub startmodel: Vec<String>,
    /// Write the final model's visibilities to MODEL_DATA.
    pub savemodel_column: bool,
    /// Continue from the existing products of `imagename` (their model is the start model).
    pub restart: bool,
    /// Compute the initial residual (false: read `<imagename>.residual`, needs `restart`).
    pub calcres: bool,
    /// Compute the PSF (false: read `<imagename>.psf`, needs `restart`).
    pub calcpsf: bool,
}

/// Validated imaging parameters (typed quantities, defaults applied).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImagingParams {
    pub vis: Vec<String>,
    pub imagename: String,
    pub datacolumn: DataColumnChoice,
    /// field, spw, timerange, uvrange, antenna, scan, observation, intent: one selection per
    /// `vis` (the same for all unless a parameter was given as a per-MS list).
    pub selections: Vec<crate::Selection>,
    pub nx: usize,
    pub ny: usize,
    pub cell_x_rad: f64,
    pub cell_y_rad: f64,
    pub phasecenter: PhaseCenter,
    pub stokes: StokesSet,
    pub specmode: SpecMode,
    /// Number of image channels; `None` = all selected channels.
    pub nchan: Option<usize>,
    pub start: SpectralValue,
    pub width: SpectralValue,
    /// Requested output frame, upper case ("" = LSRK for cube, the data's frame for cubedata).
    pub outframe: String,
    pub restfreq_hz: Option<f64>,
    /// Spectral interpolation for frame conversion.
    pub interpolation: Interpolation,
    /// Velocity convention of velocity `start`/`width`.
    pub veltype: VelType,
    pub perchanweightdensity: bool,
    pub gridder: Gridder,
    /// `wprojplanes` of `wproject`/`widefield`: the least number of w planes (`None`:
    /// automatic, as many as `epsilon` needs for the field and the baselines' w range).
    pub wprojplanes: Option<usize>,
    /// tclean's `facets` per side with `widefield` (1 otherwise): the PSF is kept over the
    /// central facet only (`nx / facets` by `ny / facets` pixels about the centre), zero outside,
    /// as tclean's faceted PSF; the image itself is w-corrected exactly without facets.
    #[serde(default = "one_facet")]
    pub facets: usize,
    pub epsilon: f64,
    /// The gridding kernel (`es` at `epsilon`, or tclean's own `casa`).
    pub kernel: GridKernel,
    pub weighting: Weighting,
    pub npixels: usize,
    /// The Gaussian uv taper (`None`: none).
    pub uvtaper: Option<super::UvTaperSpec>,
    pub pblimit: f64,
    /// The mosaic gridder's parameters (`normtype`, `mosweight`, `psfphasecenter`, ...).
    pub mosaic: super::MosaicParams,
    /// The awproject gridder's parameters (`computepastep`, `rotatepastep`, ...).
    pub awproject: super::AwProjectParams,
    /// `vptable`: a voltage-pattern table giving the primary beam (`None`: CASA's defaults).
    pub vptable: Option<String>,
    pub psfcutoff: f64,
    pub niter: usize,
    pub deconv: DeconvParams,
    pub format: ImageFormat,
    pub overwrite: bool,
    /// Threads to use; 0 = all available cores.
    pub nthreads: usize,
    /// Memory budget in bytes; `None` = a safe fraction of the machine's RAM.
    pub memory_limit_bytes: Option<u64>,
    /// Image channels per block; 0 = automatic.
    pub cube_chunksize: usize,
    /// Threads per block; 0 = automatic.
    pub threads_per_block: usize,
    /// Blocks imaged concurrently; 0 = automatic.
    pub blocks_in_flight: usize,
    /// Channels of a cleaned cube block whose planes are in memory at once (the others paged to a
    /// scratch file); 0 = one per thread of the block.
    pub cube_resident_chans: usize,
    /// Row partitions of an mfs image; 0 = none (docs/distributed.md).
    pub row_partitions: usize,
    /// How the rows are cut into `row_partitions`.
    pub row_partition_by: super::RowPartitionBy,
    /// How a parallel (Dask) run is deployed.
    pub parallel: crate::parallel::ParallelParams,
}

fn one_facet() -> usize {
    1
}

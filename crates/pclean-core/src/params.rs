//! Imaging parameters in two stages: [`RawParams`] (every field optional, straight from a config file,
//! the CLI or Python, tclean's names) and [`ImagingParams`] (validated, typed, defaults applied).
//! The engine only ever sees `ImagingParams`.

use crate::direction::{Direction, DirectionParseError};
use crate::stokes::{StokesParseError, StokesSet};
use crate::units::{parse_angle_rad, parse_flux_jy, parse_freq_hz, QuantityError};
use serde::{Deserialize, Serialize};

/// tclean's defaults, one named constant each (shown by `pclean image --help`).
pub mod defaults {
    pub const DATACOLUMN: &str = "corrected";
    pub const IMSIZE: usize = 100;
    pub const CELL: &str = "1arcsec";
    pub const STOKES: &str = "I";
    pub const PROJECTION: &str = "SIN";
    pub const SPECMODE: &str = "mfs";
    pub const NCHAN: i64 = -1;
    pub const OUTFRAME: &str = "";
    pub const VELTYPE: &str = "radio";
    pub const INTERPOLATION: &str = "linear";
    pub const PERCHANWEIGHTDENSITY: bool = true;
    pub const GRIDDER: &str = "standard";
    pub const WEIGHTING: &str = "natural";
    pub const ROBUST: f64 = 0.5;
    pub const NPIXELS: usize = 0;
    pub const NOISE: &str = "1.0Jy";
    pub const PBLIMIT: f64 = 0.2;
    pub const PSFCUTOFF: f64 = 0.35;
    pub const DECONVOLVER: &str = "hogbom";
    pub const NITER: i64 = 0;
    pub const GAIN: f64 = 0.1;
    pub const THRESHOLD: &str = "0.0mJy";
    pub const NSIGMA: f64 = 0.0;
    pub const CYCLENITER: i64 = -1;
    pub const CYCLEFACTOR: f64 = 1.0;
    pub const MINPSFFRACTION: f64 = 0.05;
    pub const MAXPSFFRACTION: f64 = 0.8;
    pub const NMAJOR: i64 = -1;
    pub const SMALLSCALEBIAS: f64 = 0.0;
    pub const USEMASK: &str = "user";
    pub const PBMASK: f64 = 0.0;
    pub const SIDELOBETHRESHOLD: f64 = 3.0;
    pub const NOISETHRESHOLD: f64 = 5.0;
    pub const LOWNOISETHRESHOLD: f64 = 1.5;
    pub const NEGATIVETHRESHOLD: f64 = 0.0;
    pub const SMOOTHFACTOR: f64 = 1.0;
    pub const MINBEAMFRAC: f64 = 0.3;
    pub const CUTTHRESHOLD: f64 = 0.01;
    pub const GROWITERATIONS: i64 = 75;
    pub const DOGROWPRUNE: bool = true;
    pub const MINPERCENTCHANGE: f64 = -1.0;
    pub const FASTNOISE: bool = true;
    pub const PBCOR: bool = false;
    pub const SAVEMODEL: &str = "none";
    /// Gridding accuracy (pclean's own parameter): relative error of the ES-kernel gridder.
    pub const EPSILON: f64 = 1e-6;
    pub const FORMAT: &str = "casa";
    pub const PARALLEL: bool = false;
    /// 0 = as many workers as fit the memory.
    pub const NWORKERS: i64 = 0;
    pub const THREADS_PER_WORKER: i64 = 1;
    pub const CLUSTER_TYPE: &str = "local";
    pub const CONCAT_MODE: &str = "none";
    pub const SLURM_WALLTIME: &str = "01:00:00";
    pub const SLURM_JOB_NAME: &str = "pclean";
}

/// Parameters as given by the user. `None` means "not given": the default (or a lower config layer)
/// applies. Unknown keys in a config file are rejected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParams {
    #[serde(default, deserialize_with = "crate::lenient::texts")]
    pub vis: Option<Vec<String>>,
    pub imagename: Option<String>,
    pub datacolumn: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::text")]
    pub field: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::text")]
    pub spw: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::text")]
    pub timerange: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::text")]
    pub uvrange: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::text")]
    pub antenna: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::text")]
    pub scan: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::text")]
    pub observation: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::text")]
    pub intent: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::ints")]
    pub imsize: Option<Vec<i64>>,
    #[serde(default, deserialize_with = "crate::lenient::angles")]
    pub cell: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::lenient::text")]
    pub phasecenter: Option<String>,
    pub projection: Option<String>,
    pub stokes: Option<String>,
    pub specmode: Option<String>,
    pub nchan: Option<i64>,
    #[serde(default, deserialize_with = "crate::lenient::text")]
    pub start: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::text")]
    pub width: Option<String>,
    pub outframe: Option<String>,
    pub veltype: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::texts")]
    pub restfreq: Option<Vec<String>>,
    pub interpolation: Option<String>,
    pub perchanweightdensity: Option<bool>,
    pub gridder: Option<String>,
    pub epsilon: Option<f64>,
    pub weighting: Option<String>,
    pub robust: Option<f64>,
    pub npixels: Option<i64>,
    #[serde(default, deserialize_with = "crate::lenient::flux")]
    pub noise: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::texts")]
    pub uvtaper: Option<Vec<String>>,
    pub pblimit: Option<f64>,
    pub psfcutoff: Option<f64>,
    pub deconvolver: Option<String>,
    pub niter: Option<i64>,
    pub gain: Option<f64>,
    #[serde(default, deserialize_with = "crate::lenient::flux")]
    pub threshold: Option<String>,
    pub nsigma: Option<f64>,
    pub cycleniter: Option<i64>,
    pub cyclefactor: Option<f64>,
    pub minpsffraction: Option<f64>,
    pub maxpsffraction: Option<f64>,
    pub nmajor: Option<i64>,
    #[serde(default, deserialize_with = "crate::lenient::ints")]
    pub scales: Option<Vec<i64>>,
    pub smallscalebias: Option<f64>,
    pub usemask: Option<String>,
    pub mask: Option<String>,
    pub pbmask: Option<f64>,
    pub sidelobethreshold: Option<f64>,
    pub noisethreshold: Option<f64>,
    pub lownoisethreshold: Option<f64>,
    pub negativethreshold: Option<f64>,
    pub smoothfactor: Option<f64>,
    pub minbeamfrac: Option<f64>,
    pub cutthreshold: Option<f64>,
    pub growiterations: Option<i64>,
    pub dogrowprune: Option<bool>,
    pub minpercentchange: Option<f64>,
    pub fastnoise: Option<bool>,
    #[serde(default, deserialize_with = "crate::lenient::texts")]
    pub restoringbeam: Option<Vec<String>>,
    pub pbcor: Option<bool>,
    pub startmodel: Option<String>,
    pub savemodel: Option<String>,
    pub restart: Option<bool>,
    pub calcres: Option<bool>,
    pub calcpsf: Option<bool>,
    pub format: Option<String>,
    pub overwrite: Option<bool>,
    pub nthreads: Option<i64>,
    /// Memory budget of the run, e.g. "8GiB"; empty or "auto" = a safe fraction of the RAM.
    pub memory_limit: Option<String>,
    /// Image channels per block; 0 = automatic.
    pub cube_chunksize: Option<i64>,
    /// Threads each block uses; 0 = automatic.
    pub threads_per_block: Option<i64>,
    /// Blocks imaged concurrently; 0 = automatic.
    pub blocks_in_flight: Option<i64>,
    /// Run through the Dask driver of the Python package (`pclean.pclean(..., parallel=True)`);
    /// `pclean image` with `parallel: true` runs that driver (`python -m pclean.distributed`).
    pub parallel: Option<bool>,
    /// Dask workers; 0 = as many as fit the memory (`recommend_nworkers`).
    pub nworkers: Option<i64>,
    /// Threads of each Dask worker (each block it runs uses them).
    pub threads_per_worker: Option<i64>,
    /// Scratch directory of the Dask workers ("" = Dask's default).
    pub local_directory: Option<String>,
    /// Where the Dask workers run: "local" (a LocalCluster), "slurm" (dask-jobqueue), "address"
    /// (an existing scheduler at `scheduler_address`).
    pub cluster_type: Option<String>,
    pub scheduler_address: Option<String>,
    /// Kept for compatibility with the seed's Dask wrapper: pclean writes every block straight
    /// into the final products, so there are no sub-cubes or partial images; only `false` is valid.
    pub keep_subcubes: Option<bool>,
    pub keep_partimages: Option<bool>,
    /// Likewise: there is no concatenation step; only "none" is valid (use `pclean concat` for
    /// cubes made elsewhere).
    pub concat_mode: Option<String>,
    pub slurm_queue: Option<String>,
    pub slurm_account: Option<String>,
    /// Wall-clock limit of each SLURM worker job, e.g. "01:00:00".
    #[serde(default, deserialize_with = "crate::lenient::text")]
    pub slurm_walltime: Option<String>,
    /// Memory of each SLURM worker job, e.g. "16GB"; "" = the memory model's estimate.
    #[serde(default, deserialize_with = "crate::lenient::text")]
    pub slurm_job_mem: Option<String>,
    /// Cores of each SLURM worker job; 0 = `threads_per_worker`.
    pub slurm_cores_per_job: Option<i64>,
    pub slurm_job_name: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::texts")]
    pub slurm_job_extra_directives: Option<Vec<String>>,
    /// Python interpreter of the SLURM jobs ("" = the driver's).
    pub slurm_python: Option<String>,
    pub slurm_local_directory: Option<String>,
    pub slurm_log_directory: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::texts")]
    pub slurm_job_script_prologue: Option<Vec<String>>,
}

macro_rules! merge_fields {
    ($self:ident, $over:ident, $($f:ident),*) => { $( if $over.$f.is_some() { $self.$f = $over.$f.clone(); } )* };
}

impl RawParams {
    /// Overlay `over` on `self`: every field set in `over` wins (later layers override earlier ones).
    pub fn merge(&mut self, over: &RawParams) {
        merge_fields!(
            self,
            over,
            vis,
            imagename,
            datacolumn,
            field,
            spw,
            timerange,
            uvrange,
            antenna,
            scan,
            observation,
            intent,
            imsize,
            cell,
            phasecenter,
            projection,
            stokes,
            specmode,
            nchan,
            start,
            width,
            outframe,
            veltype,
            restfreq,
            interpolation,
            perchanweightdensity,
            gridder,
            epsilon,
            weighting,
            robust,
            npixels,
            noise,
            uvtaper,
            pblimit,
            psfcutoff,
            deconvolver,
            niter,
            gain,
            threshold,
            nsigma,
            cycleniter,
            cyclefactor,
            minpsffraction,
            maxpsffraction,
            nmajor,
            scales,
            smallscalebias,
            usemask,
            mask,
            pbmask,
            sidelobethreshold,
            noisethreshold,
            lownoisethreshold,
            negativethreshold,
            smoothfactor,
            minbeamfrac,
            cutthreshold,
            growiterations,
            dogrowprune,
            minpercentchange,
            fastnoise,
            restoringbeam,
            pbcor,
            startmodel,
            savemodel,
            restart,
            calcres,
            calcpsf,
            format,
            overwrite,
            nthreads,
            memory_limit,
            cube_chunksize,
            threads_per_block,
            blocks_in_flight,
            parallel,
            nworkers,
            threads_per_worker,
            local_directory,
            cluster_type,
            scheduler_address,
            keep_subcubes,
            keep_partimages,
            concat_mode,
            slurm_queue,
            slurm_account,
            slurm_walltime,
            slurm_job_mem,
            slurm_cores_per_job,
            slurm_job_name,
            slurm_job_extra_directives,
            slurm_python,
            slurm_local_directory,
            slurm_log_directory,
            slurm_job_script_prologue
        );
    }

    /// Every field filled with its effective value (defaults applied), for `--dump-config`.
    pub fn with_defaults(&self) -> RawParams {
        use defaults as d;
        let s =
            |v: &Option<String>, dflt: &str| Some(v.clone().unwrap_or_else(|| dflt.to_string()));
        RawParams {
            vis: Some(self.vis.clone().unwrap_or_default()),
            imagename: Some(self.imagename.clone().unwrap_or_default()),
            datacolumn: s(&self.datacolumn, d::DATACOLUMN),
            field: s(&self.field, ""),
            spw: s(&self.spw, ""),
            timerange: s(&self.timerange, ""),
            uvrange: s(&self.uvrange, ""),
            antenna: s(&self.antenna, ""),
            scan: s(&self.scan, ""),
            observation: s(&self.observation, ""),
            intent: s(&self.intent, ""),
            imsize: Some(self.imsize.clone().unwrap_or(vec![d::IMSIZE as i64])),
            cell: Some(self.cell.clone().unwrap_or(vec![d::CELL.to_string()])),
            phasecenter: s(&self.phasecenter, ""),
            projection: s(&self.projection, d::PROJECTION),
            stokes: s(&self.stokes, d::STOKES),
            specmode: s(&self.specmode, d::SPECMODE),
            nchan: Some(self.nchan.unwrap_or(d::NCHAN)),
            start: s(&self.start, ""),
            width: s(&self.width, ""),
            outframe: s(&self.outframe, d::OUTFRAME),
            veltype: s(&self.veltype, d::VELTYPE),
            restfreq: Some(self.restfreq.clone().unwrap_or_default()),
            interpolation: s(&self.interpolation, d::INTERPOLATION),
            perchanweightdensity: Some(
                self.perchanweightdensity.unwrap_or(d::PERCHANWEIGHTDENSITY),
            ),
            gridder: s(&self.gridder, d::GRIDDER),
            epsilon: Some(self.epsilon.unwrap_or(d::EPSILON)),
            weighting: s(&self.weighting, d::WEIGHTING),
            robust: Some(self.robust.unwrap_or(d::ROBUST)),
            npixels: Some(self.npixels.unwrap_or(d::NPIXELS as i64)),
            noise: s(&self.noise, d::NOISE),
            uvtaper: Some(self.uvtaper.clone().unwrap_or_default()),
            pblimit: Some(self.pblimit.unwrap_or(d::PBLIMIT)),
            psfcutoff: Some(self.psfcutoff.unwrap_or(d::PSFCUTOFF)),
            deconvolver: s(&self.deconvolver, d::DECONVOLVER),
            niter: Some(self.niter.unwrap_or(d::NITER)),
            gain: Some(self.gain.unwrap_or(d::GAIN)),
            threshold: s(&self.threshold, d::THRESHOLD),
            nsigma: Some(self.nsigma.unwrap_or(d::NSIGMA)),
            cycleniter: Some(self.cycleniter.unwrap_or(d::CYCLENITER)),
            cyclefactor: Some(self.cyclefactor.unwrap_or(d::CYCLEFACTOR)),
            minpsffraction: Some(self.minpsffraction.unwrap_or(d::MINPSFFRACTION)),
            maxpsffraction: Some(self.maxpsffraction.unwrap_or(d::MAXPSFFRACTION)),
            nmajor: Some(self.nmajor.unwrap_or(d::NMAJOR)),
            scales: Some(self.scales.clone().unwrap_or(vec![0])),
            smallscalebias: Some(self.smallscalebias.unwrap_or(d::SMALLSCALEBIAS)),
            usemask: s(&self.usemask, d::USEMASK),
            mask: s(&self.mask, ""),
            pbmask: Some(self.pbmask.unwrap_or(d::PBMASK)),
            sidelobethreshold: Some(self.sidelobethreshold.unwrap_or(d::SIDELOBETHRESHOLD)),
            noisethreshold: Some(self.noisethreshold.unwrap_or(d::NOISETHRESHOLD)),
            lownoisethreshold: Some(self.lownoisethreshold.unwrap_or(d::LOWNOISETHRESHOLD)),
            negativethreshold: Some(self.negativethreshold.unwrap_or(d::NEGATIVETHRESHOLD)),
            smoothfactor: Some(self.smoothfactor.unwrap_or(d::SMOOTHFACTOR)),
            minbeamfrac: Some(self.minbeamfrac.unwrap_or(d::MINBEAMFRAC)),
            cutthreshold: Some(self.cutthreshold.unwrap_or(d::CUTTHRESHOLD)),
            growiterations: Some(self.growiterations.unwrap_or(d::GROWITERATIONS)),
            dogrowprune: Some(self.dogrowprune.unwrap_or(d::DOGROWPRUNE)),
            minpercentchange: Some(self.minpercentchange.unwrap_or(d::MINPERCENTCHANGE)),
            fastnoise: Some(self.fastnoise.unwrap_or(d::FASTNOISE)),
            restoringbeam: Some(self.restoringbeam.clone().unwrap_or_default()),
            pbcor: Some(self.pbcor.unwrap_or(d::PBCOR)),
            startmodel: s(&self.startmodel, ""),
            savemodel: s(&self.savemodel, d::SAVEMODEL),
            restart: Some(self.restart.unwrap_or(false)),
            calcres: Some(self.calcres.unwrap_or(true)),
            calcpsf: Some(self.calcpsf.unwrap_or(true)),
            format: s(&self.format, d::FORMAT),
            overwrite: Some(self.overwrite.unwrap_or(false)),
            nthreads: Some(self.nthreads.unwrap_or(0)),
            memory_limit: s(&self.memory_limit, "auto"),
            cube_chunksize: Some(self.cube_chunksize.unwrap_or(0)),
            threads_per_block: Some(self.threads_per_block.unwrap_or(0)),
            blocks_in_flight: Some(self.blocks_in_flight.unwrap_or(0)),
            parallel: Some(self.parallel.unwrap_or(d::PARALLEL)),
            nworkers: Some(self.nworkers.unwrap_or(d::NWORKERS)),
            threads_per_worker: Some(self.threads_per_worker.unwrap_or(d::THREADS_PER_WORKER)),
            local_directory: s(&self.local_directory, ""),
            cluster_type: s(&self.cluster_type, d::CLUSTER_TYPE),
            scheduler_address: s(&self.scheduler_address, ""),
            keep_subcubes: Some(self.keep_subcubes.unwrap_or(false)),
            keep_partimages: Some(self.keep_partimages.unwrap_or(false)),
            concat_mode: s(&self.concat_mode, d::CONCAT_MODE),
            slurm_queue: s(&self.slurm_queue, ""),
            slurm_account: s(&self.slurm_account, ""),
            slurm_walltime: s(&self.slurm_walltime, d::SLURM_WALLTIME),
            slurm_job_mem: s(&self.slurm_job_mem, ""),
            slurm_cores_per_job: Some(self.slurm_cores_per_job.unwrap_or(0)),
            slurm_job_name: s(&self.slurm_job_name, d::SLURM_JOB_NAME),
            slurm_job_extra_directives: Some(
                self.slurm_job_extra_directives.clone().unwrap_or_default(),
            ),
            slurm_python: s(&self.slurm_python, ""),
            slurm_local_directory: s(&self.slurm_local_directory, ""),
            slurm_log_directory: s(&self.slurm_log_directory, ""),
            slurm_job_script_prologue: Some(
                self.slurm_job_script_prologue.clone().unwrap_or_default(),
            ),
        }
    }
}

/// A parameter value that is invalid. Always names the parameter and says how to fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    #[error("parameter '{param}' is required: {hint}")]
    Missing {
        param: &'static str,
        hint: &'static str,
    },
    #[error("parameter '{param}' = {value}: {why}")]
    Invalid {
        param: &'static str,
        value: String,
        why: String,
    },
    #[error("parameter '{param}': {cause}")]
    Quantity {
        param: &'static str,
        cause: QuantityError,
    },
    #[error("parameter '{param}': {cause}")]
    Direction {
        param: &'static str,
        cause: DirectionParseError,
    },
    #[error("parameter 'stokes': {0}")]
    Stokes(#[from] StokesParseError),
    /// A key that is not a parameter.
    #[error("unknown parameter '{key}'{hint}")]
    Unknown { key: String, hint: String },
    /// A value of the wrong type for its key.
    #[error("parameter '{param}': {why}")]
    Type { param: String, why: String },
}

impl ParamError {
    /// The parameter (or unknown key) the error is about.
    pub fn param(&self) -> &str {
        match self {
            ParamError::Missing { param, .. }
            | ParamError::Invalid { param, .. }
            | ParamError::Quantity { param, .. }
            | ParamError::Direction { param, .. } => param,
            ParamError::Stokes(_) => "stokes",
            ParamError::Unknown { key, .. } => key,
            ParamError::Type { param, .. } => param,
        }
    }
}

pub(crate) fn invalid(
    param: &'static str,
    value: impl std::fmt::Debug,
    why: impl Into<String>,
) -> ParamError {
    ParamError::Invalid {
        param,
        value: format!("{value:?}"),
        why: why.into(),
    }
}

/// Which visibility column is imaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataColumnChoice {
    Data,
    Corrected,
    Model,
}

/// tclean's `specmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpecMode {
    Mfs,
    Cube,
    CubeData,
}

/// tclean's `phasecenter`: a field id, or an explicit direction; `None` = the first selected field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PhaseCenter {
    FirstField,
    FieldId(usize),
    Direction(Direction),
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
    Briggs { robust: f64 },
    BriggsAbs { robust: f64, noise_jy: f64 },
}

/// Product file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageFormat {
    Casa,
    Fits,
}

/// tclean's `usemask`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum UseMask {
    /// `mask` is a CASA region (file or text) or a mask image; empty = clean everywhere.
    User { mask: String },
    /// Clean where the primary beam >= `pbmask`.
    Pb { pbmask: f64 },
    /// tclean's automatic masking with its parameters.
    AutoMultiThresh(AutoMaskSettings),
}

/// auto-multithresh parameters (tclean's names and defaults).
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
    pub deconvolver: String,
    pub niter: usize,
    pub gain: f64,
    pub threshold_jy: f64,
    pub nsigma: f64,
    pub cycleniter: Option<usize>,
    pub cyclefactor: f64,
    pub minpsffraction: f64,
    pub maxpsffraction: f64,
    pub nmajor: Option<usize>,
    /// Multiscale scales in pixels.
    pub scales: Vec<usize>,
    pub smallscalebias: f64,
    pub usemask: UseMask,
    pub restoringbeam: RestoringBeam,
    pub pbcor: bool,
    /// A CASA image holding the starting model (Jy/pixel), or `None`.
    pub startmodel: Option<String>,
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
    pub field: String,
    pub spw: String,
    pub timerange: String,
    pub uvrange: String,
    pub antenna: String,
    pub scan: String,
    pub observation: String,
    pub intent: String,
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
    /// Requested output frame ("" = LSRK for cube, the data's frame for cubedata).
    pub outframe: String,
    pub restfreq_hz: Option<f64>,
    /// Spectral interpolation for frame conversion: "nearest", "linear" or "cubic".
    pub interpolation: String,
    /// Velocity convention of velocity `start`/`width`: "radio" or "optical".
    pub veltype: String,
    pub perchanweightdensity: bool,
    pub epsilon: f64,
    pub weighting: Weighting,
    pub npixels: usize,
    pub uvtaper: Vec<String>,
    pub pblimit: f64,
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
    /// How a parallel (Dask) run is deployed.
    pub parallel: crate::parallel::ParallelParams,
}

/// Parse a memory size with a unit: "8GiB", "8 GB", "512MiB", "1.5TB", "64kB" (SI units are powers
/// of 1000, IEC units powers of 1024; a bare "G"/"M"/"K"/"T" is taken as IEC). "" or "auto" give
/// `None`.
pub fn parse_memory_bytes(s: &str) -> Result<Option<u64>, String> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '+'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' does not start with a number; write e.g. '8GiB' or '500MB'"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tib" => 1024.0f64.powi(4),
        "" => {
            return Err(format!(
                "'{s}' has no unit; write e.g. '8GiB', '8GB' or '500MiB'"
            ))
        }
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{s}'; use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB"
            ))
        }
    };
    let bytes = value * mult;
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(format!("'{s}' is not a positive size"));
    }
    Ok(Some(bytes.round() as u64))
}

fn angle(param: &'static str, s: &str) -> Result<f64, ParamError> {
    parse_angle_rad(s).map_err(|cause| ParamError::Quantity { param, cause })
}

fn spectral_value(param: &'static str, s: &str) -> Result<SpectralValue, ParamError> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(SpectralValue::Default);
    }
    if let Ok(c) = t.parse::<i64>() {
        return Ok(SpectralValue::Channel(c));
    }
    if let Some((v, unit)) = crate::units::split_number_unit(t) {
        let scale = match unit {
            "m/s" => Some(1.0),
            "km/s" => Some(1e3),
            _ => None,
        };
        if let Some(scale) = scale {
            return Ok(SpectralValue::VelocityMps(v * scale));
        }
    }
    parse_freq_hz(t)
        .map(SpectralValue::FrequencyHz)
        .map_err(|cause| ParamError::Quantity { param, cause })
}

impl ImagingParams {
    /// Validate raw parameters. Checks everything that can be checked without opening data.
    pub fn from_raw(raw: &RawParams) -> Result<Self, ParamError> {
        let r = raw.with_defaults();
        let vis = r.vis.unwrap_or_default();
        if vis.is_empty() || vis.iter().any(|v| v.trim().is_empty()) {
            return Err(ParamError::Missing {
                param: "vis",
                hint: "give one or more MeasurementSet paths, e.g. --vis ngc5921.ms",
            });
        }
        let imagename = r.imagename.unwrap_or_default();
        if imagename.trim().is_empty() {
            return Err(ParamError::Missing {
                param: "imagename",
                hint: "give the prefix of the output products, e.g. --imagename out/n5921",
            });
        }
        let datacolumn = match r
            .datacolumn
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase()
            .as_str()
        {
            "data" => DataColumnChoice::Data,
            "corrected" => DataColumnChoice::Corrected,
            "model" => DataColumnChoice::Model,
            other => {
                return Err(invalid(
                    "datacolumn",
                    other,
                    "use 'data', 'corrected' or 'model'",
                ))
            }
        };
        let imsize = r.imsize.unwrap_or_default();
        let (nx, ny) = match imsize.as_slice() {
            [n] => (*n, *n),
            [a, b] => (*a, *b),
            _ => {
                return Err(invalid(
                    "imsize",
                    &imsize,
                    "give one or two sizes in pixels",
                ))
            }
        };
        if nx <= 0 || ny <= 0 {
            return Err(invalid("imsize", &imsize, "image sizes must be positive"));
        }
        if nx > 65536 || ny > 65536 {
            return Err(invalid(
                "imsize",
                &imsize,
                "image sizes above 65536 pixels are not supported",
            ));
        }
        let cell = r.cell.unwrap_or_default();
        let (cell_x_rad, cell_y_rad) = match cell.as_slice() {
            [c] => (angle("cell", c)?, angle("cell", c)?),
            [a, b] => (angle("cell", a)?, angle("cell", b)?),
            _ => {
                return Err(invalid(
                    "cell",
                    &cell,
                    "give one or two angles, e.g. '15arcsec'",
                ))
            }
        };
        if !(cell_x_rad > 0.0 && cell_y_rad > 0.0) {
            return Err(invalid("cell", &cell, "cell sizes must be positive"));
        }
        let pc = r.phasecenter.unwrap_or_default();
        let phasecenter = if pc.trim().is_empty() {
            PhaseCenter::FirstField
        } else if let Ok(id) = pc.trim().parse::<usize>() {
            PhaseCenter::FieldId(id)
        } else {
            PhaseCenter::Direction(Direction::parse(&pc).map_err(|cause| {
                ParamError::Direction {
                    param: "phasecenter",
                    cause,
                }
            })?)
        };
        let projection = r.projection.unwrap_or_default();
        if !projection.eq_ignore_ascii_case("SIN") {
            return Err(invalid("projection", projection, "only 'SIN' is supported"));
        }
        let stokes = StokesSet::parse(r.stokes.as_deref().unwrap_or(""))?;
        let specmode = match r
            .specmode
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase()
            .as_str()
        {
            "mfs" => SpecMode::Mfs,
            "cube" => SpecMode::Cube,
            "cubedata" => SpecMode::CubeData,
            other => {
                return Err(invalid(
                    "specmode",
                    other,
                    "use 'mfs', 'cube' or 'cubedata'",
                ))
            }
        };
        let nchan = match r.nchan.unwrap_or(-1) {
            -1 => None,
            n if n >= 1 => Some(n as usize),
            n => {
                return Err(invalid(
                    "nchan",
                    n,
                    "use -1 (all channels) or a positive number",
                ))
            }
        };
        let start = spectral_value("start", r.start.as_deref().unwrap_or(""))?;
        let width = spectral_value("width", r.width.as_deref().unwrap_or(""))?;
        if let SpectralValue::Channel(w) = width {
            if w < 1 {
                return Err(invalid("width", w, "a width in channels must be >= 1"));
            }
        }
        if let SpectralValue::Channel(s) = start {
            if s < 0 {
                return Err(invalid("start", s, "a start channel must be >= 0"));
            }
        }
        let outframe = r.outframe.unwrap_or_default().to_ascii_uppercase();
        const FRAMES: [&str; 9] = [
            "", "LSRK", "LSRD", "BARY", "GEO", "TOPO", "GALACTO", "LGROUP", "CMB",
        ];
        if !FRAMES.contains(&outframe.as_str()) {
            return Err(invalid(
                "outframe",
                &outframe,
                "use one of LSRK, LSRD, BARY, GEO, TOPO, GALACTO, LGROUP, CMB",
            ));
        }
        let veltype = r.veltype.unwrap_or_default().to_ascii_lowercase();
        if !matches!(veltype.as_str(), "radio" | "optical") {
            return Err(invalid("veltype", veltype, "use 'radio' or 'optical'"));
        }
        let restfreq_hz = match r.restfreq.unwrap_or_default().first() {
            None => None,
            Some(s) if s.trim().is_empty() => None,
            Some(s) => Some(parse_freq_hz(s).map_err(|cause| ParamError::Quantity {
                param: "restfreq",
                cause,
            })?),
        };
        let interpolation = r.interpolation.unwrap_or_default().to_ascii_lowercase();
        if !matches!(interpolation.as_str(), "nearest" | "linear" | "cubic") {
            return Err(invalid(
                "interpolation",
                interpolation,
                "use 'nearest', 'linear' or 'cubic'",
            ));
        }
        let gridder = r.gridder.unwrap_or_default().to_ascii_lowercase();
        if gridder != "standard" {
            return Err(invalid(
                "gridder",
                gridder,
                "only 'standard' is available in this version (wproject, mosaic and awproject are planned)",
            ));
        }
        let epsilon = r.epsilon.unwrap_or(defaults::EPSILON);
        if !(1e-7..=1e-2).contains(&epsilon) {
            return Err(invalid(
                "epsilon",
                epsilon,
                "use a gridding accuracy between 1e-7 and 1e-2",
            ));
        }
        let robust = r.robust.unwrap_or(defaults::ROBUST);
        if !(-2.0..=2.0).contains(&robust) {
            return Err(invalid("robust", robust, "robust must lie in [-2, 2]"));
        }
        let weighting = match r
            .weighting
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase()
            .as_str()
        {
            "natural" => Weighting::Natural,
            "uniform" => Weighting::Uniform,
            "briggs" => Weighting::Briggs { robust },
            "briggsabs" => Weighting::BriggsAbs {
                robust,
                noise_jy: parse_flux_jy(r.noise.as_deref().unwrap_or("")).map_err(|cause| {
                    ParamError::Quantity {
                        param: "noise",
                        cause,
                    }
                })?,
            },
            other => {
                return Err(invalid(
                    "weighting",
                    other,
                    "use 'natural', 'uniform', 'briggs' or 'briggsabs'",
                ))
            }
        };
        let npixels = r.npixels.unwrap_or(0);
        if npixels < 0 {
            return Err(invalid("npixels", npixels, "npixels must be >= 0"));
        }
        let pblimit = r.pblimit.unwrap_or(defaults::PBLIMIT);
        if pblimit.is_nan() || pblimit.abs() >= 1.0 {
            return Err(invalid(
                "pblimit",
                pblimit,
                "use a value with |pblimit| < 1",
            ));
        }
        let psfcutoff = r.psfcutoff.unwrap_or(defaults::PSFCUTOFF);
        if psfcutoff.is_nan() || psfcutoff <= 0.0 || psfcutoff >= 1.0 {
            return Err(invalid("psfcutoff", psfcutoff, "use a value in (0, 1)"));
        }
        let deconvolver = r.deconvolver.unwrap_or_default().to_ascii_lowercase();
        if !matches!(
            deconvolver.as_str(),
            "hogbom" | "clark" | "multiscale" | "mtmfs"
        ) {
            return Err(invalid(
                "deconvolver",
                deconvolver,
                "use hogbom, clark, multiscale or mtmfs",
            ));
        }
        let niter = r.niter.unwrap_or(0);
        if niter < 0 {
            return Err(invalid("niter", niter, "niter must be >= 0"));
        }
        let deconv = deconv_params(&raw.with_defaults(), &deconvolver, niter as usize)?;
        let format = match r
            .format
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase()
            .as_str()
        {
            "casa" => ImageFormat::Casa,
            "fits" => ImageFormat::Fits,
            other => return Err(invalid("format", other, "use 'casa' or 'fits'")),
        };
        let nthreads = r.nthreads.unwrap_or(0);
        if nthreads < 0 {
            return Err(invalid(
                "nthreads",
                nthreads,
                "use 0 (all cores) or a positive number",
            ));
        }
        let memory_limit_bytes = parse_memory_bytes(r.memory_limit.as_deref().unwrap_or(""))
            .map_err(|why| ParamError::Invalid {
                param: "memory_limit",
                value: r.memory_limit.clone().unwrap_or_default(),
                why,
            })?;
        let count = |param: &'static str, v: Option<i64>| -> Result<usize, ParamError> {
            let v = v.unwrap_or(0);
            if v < 0 {
                return Err(invalid(param, v, "use 0 (automatic) or a positive number"));
            }
            Ok(v as usize)
        };
        let cube_chunksize = count("cube_chunksize", r.cube_chunksize)?;
        let threads_per_block = count("threads_per_block", r.threads_per_block)?;
        let blocks_in_flight = count("blocks_in_flight", r.blocks_in_flight)?;
        let parallel = crate::parallel::ParallelParams::from_raw(raw)?;
        Ok(ImagingParams {
            vis,
            imagename,
            datacolumn,
            field: r.field.unwrap_or_default(),
            spw: r.spw.unwrap_or_default(),
            timerange: r.timerange.unwrap_or_default(),
            uvrange: r.uvrange.unwrap_or_default(),
            antenna: r.antenna.unwrap_or_default(),
            scan: r.scan.unwrap_or_default(),
            observation: r.observation.unwrap_or_default(),
            intent: r.intent.unwrap_or_default(),
            nx: nx as usize,
            ny: ny as usize,
            cell_x_rad,
            cell_y_rad,
            phasecenter,
            stokes,
            specmode,
            nchan,
            start,
            width,
            outframe,
            restfreq_hz,
            interpolation,
            veltype,
            perchanweightdensity: r.perchanweightdensity.unwrap_or(true),
            epsilon,
            weighting,
            npixels: npixels as usize,
            uvtaper: r.uvtaper.unwrap_or_default(),
            pblimit,
            psfcutoff,
            niter: niter as usize,
            deconv,
            format,
            overwrite: r.overwrite.unwrap_or(false),
            nthreads: nthreads as usize,
            memory_limit_bytes,
            cube_chunksize,
            threads_per_block,
            blocks_in_flight,
            parallel,
        })
    }
}

fn deconv_params(
    r: &RawParams,
    deconvolver: &str,
    niter: usize,
) -> Result<DeconvParams, ParamError> {
    use defaults as d;
    if deconvolver == "mtmfs" {
        return Err(invalid(
            "deconvolver",
            deconvolver,
            "mtmfs is not available in this version; use hogbom, clark or multiscale",
        ));
    }
    let f = |v: Option<f64>, dflt: f64| v.unwrap_or(dflt);
    let gain = f(r.gain, d::GAIN);
    if !(gain > 0.0 && gain <= 1.0) {
        return Err(invalid("gain", gain, "the loop gain must lie in (0, 1]"));
    }
    let threshold_jy =
        parse_flux_jy(r.threshold.as_deref().unwrap_or(d::THRESHOLD)).map_err(|cause| {
            ParamError::Quantity {
                param: "threshold",
                cause,
            }
        })?;
    if threshold_jy < 0.0 {
        return Err(invalid("threshold", threshold_jy, "threshold must be >= 0"));
    }
    let nsigma = f(r.nsigma, d::NSIGMA);
    if nsigma < 0.0 {
        return Err(invalid("nsigma", nsigma, "nsigma must be >= 0 (0 = off)"));
    }
    let opt_count =
        |name: &'static str, v: Option<i64>, dflt: i64| -> Result<Option<usize>, ParamError> {
            match v.unwrap_or(dflt) {
                -1 => Ok(None),
                n if n >= 0 => Ok(Some(n as usize)),
                n => Err(invalid(name, n, "use -1 (no limit) or a count >= 0")),
            }
        };
    let cycleniter = opt_count("cycleniter", r.cycleniter, d::CYCLENITER)?;
    let nmajor = opt_count("nmajor", r.nmajor, d::NMAJOR)?;
    let cyclefactor = f(r.cyclefactor, d::CYCLEFACTOR);
    if cyclefactor <= 0.0 {
        return Err(invalid(
            "cyclefactor",
            cyclefactor,
            "cyclefactor must be > 0",
        ));
    }
    let minpsffraction = f(r.minpsffraction, d::MINPSFFRACTION);
    let maxpsffraction = f(r.maxpsffraction, d::MAXPSFFRACTION);
    if !(0.0..=1.0).contains(&minpsffraction)
        || !(0.0..=1.0).contains(&maxpsffraction)
        || minpsffraction > maxpsffraction
    {
        return Err(invalid(
            "minpsffraction",
            (minpsffraction, maxpsffraction),
            "need 0 <= minpsffraction <= maxpsffraction <= 1",
        ));
    }
    let scales: Vec<usize> = match r.scales.clone().unwrap_or(vec![0]) {
        v if v.iter().all(|x| *x >= 0) && !v.is_empty() => {
            v.into_iter().map(|x| x as usize).collect()
        }
        v => {
            return Err(invalid(
                "scales",
                v,
                "give one or more scale sizes in pixels >= 0, e.g. [0, 5, 15]",
            ))
        }
    };
    let smallscalebias = f(r.smallscalebias, d::SMALLSCALEBIAS);
    let usemask = match r.usemask.as_deref().unwrap_or(d::USEMASK) {
        "user" => UseMask::User {
            mask: r.mask.clone().unwrap_or_default(),
        },
        "pb" => {
            let pbmask = f(r.pbmask, d::PBMASK);
            if !(0.0..1.0).contains(&pbmask) {
                return Err(invalid(
                    "pbmask",
                    pbmask,
                    "use a primary-beam level in [0, 1)",
                ));
            }
            UseMask::Pb { pbmask }
        }
        "auto-multithresh" => UseMask::AutoMultiThresh(AutoMaskSettings {
            sidelobethreshold: f(r.sidelobethreshold, d::SIDELOBETHRESHOLD),
            noisethreshold: f(r.noisethreshold, d::NOISETHRESHOLD),
            lownoisethreshold: f(r.lownoisethreshold, d::LOWNOISETHRESHOLD),
            negativethreshold: f(r.negativethreshold, d::NEGATIVETHRESHOLD),
            smoothfactor: f(r.smoothfactor, d::SMOOTHFACTOR),
            minbeamfrac: f(r.minbeamfrac, d::MINBEAMFRAC),
            cutthreshold: f(r.cutthreshold, d::CUTTHRESHOLD),
            growiterations: match r.growiterations.unwrap_or(d::GROWITERATIONS) {
                n if n >= 0 => n as usize,
                n => return Err(invalid("growiterations", n, "growiterations must be >= 0")),
            },
            dogrowprune: r.dogrowprune.unwrap_or(d::DOGROWPRUNE),
            minpercentchange: f(r.minpercentchange, d::MINPERCENTCHANGE),
            fastnoise: r.fastnoise.unwrap_or(d::FASTNOISE),
        }),
        other => {
            return Err(invalid(
                "usemask",
                other,
                "use 'user', 'pb' or 'auto-multithresh'",
            ))
        }
    };
    let rb = r.restoringbeam.clone().unwrap_or_default();
    let restoringbeam = match rb.as_slice() {
        [] => RestoringBeam::Fitted,
        [c] if c.trim().is_empty() => RestoringBeam::Fitted,
        [c] if c.eq_ignore_ascii_case("common") => RestoringBeam::Common,
        [a] => {
            let a = angle("restoringbeam", a)?;
            RestoringBeam::User(crate::Beam {
                major_rad: a,
                minor_rad: a,
                pa_rad: 0.0,
            })
        }
        [a, b] | [a, b, _] => {
            let (a, b) = (angle("restoringbeam", a)?, angle("restoringbeam", b)?);
            let pa = match rb.get(2) {
                Some(p) => angle_deg_default("restoringbeam", p)?,
                None => 0.0,
            };
            if b > a {
                return Err(invalid(
                    "restoringbeam",
                    &rb,
                    "the minor axis is larger than the major axis",
                ));
            }
            RestoringBeam::User(crate::Beam {
                major_rad: a,
                minor_rad: b,
                pa_rad: pa,
            })
        }
        _ => {
            return Err(invalid(
                "restoringbeam",
                &rb,
                "give 'common', one size, or major, minor, PA",
            ))
        }
    };
    let savemodel_column = match r.savemodel.as_deref().unwrap_or(d::SAVEMODEL) {
        "none" => false,
        "modelcolumn" => true,
        other => return Err(invalid("savemodel", other, "use 'none' or 'modelcolumn'")),
    };
    let startmodel = r.startmodel.clone().filter(|s| !s.trim().is_empty());
    let restart = r.restart.unwrap_or(false);
    let calcres = r.calcres.unwrap_or(true);
    let calcpsf = r.calcpsf.unwrap_or(true);
    if (!calcres || !calcpsf) && !restart {
        return Err(invalid(
            if calcres { "calcpsf" } else { "calcres" },
            false,
            "reusing an existing product needs restart=true (pass --restart)",
        ));
    }
    if restart && startmodel.is_some() {
        return Err(invalid(
            "startmodel",
            startmodel.clone().unwrap_or_default(),
            "restart continues from <imagename>.model; give either restart or startmodel",
        ));
    }
    Ok(DeconvParams {
        deconvolver: deconvolver.to_string(),
        niter,
        gain,
        threshold_jy,
        nsigma,
        cycleniter,
        cyclefactor,
        minpsffraction,
        maxpsffraction,
        nmajor,
        scales,
        smallscalebias,
        usemask,
        restoringbeam,
        pbcor: r.pbcor.unwrap_or(d::PBCOR),
        startmodel,
        savemodel_column,
        restart,
        calcres,
        calcpsf,
    })
}

/// An angle where a bare number means degrees (position angles).
fn angle_deg_default(param: &'static str, s: &str) -> Result<f64, ParamError> {
    match s.trim().parse::<f64>() {
        Ok(v) => Ok(v.to_radians()),
        Err(_) => angle(param, s),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory_bytes("8GiB"), Ok(Some(8 << 30)));
        assert_eq!(parse_memory_bytes("8 GB"), Ok(Some(8_000_000_000)));
        assert_eq!(parse_memory_bytes("1.5G"), Ok(Some(3 << 29)));
        assert_eq!(parse_memory_bytes("512MiB"), Ok(Some(512 << 20)));
        assert_eq!(parse_memory_bytes("auto"), Ok(None));
        assert_eq!(parse_memory_bytes(""), Ok(None));
        assert!(parse_memory_bytes("8").unwrap_err().contains("no unit"));
        assert!(parse_memory_bytes("8 parsecs")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(parse_memory_bytes("GiB").is_err());
        assert!(parse_memory_bytes("0GB").is_err());
    }
    use super::*;

    fn base() -> RawParams {
        RawParams {
            vis: Some(vec!["a.ms".into()]),
            imagename: Some("out/x".into()),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_validate() {
        let p = ImagingParams::from_raw(&base()).unwrap();
        assert_eq!((p.nx, p.ny), (100, 100));
        assert_eq!(p.specmode, SpecMode::Mfs);
        assert_eq!(p.weighting, Weighting::Natural);
    }

    #[test]
    fn merge_later_wins() {
        let mut a = base();
        let b = RawParams {
            imsize: Some(vec![256]),
            ..Default::default()
        };
        a.merge(&b);
        assert_eq!(a.imsize, Some(vec![256]));
        assert_eq!(a.vis, Some(vec!["a.ms".into()]));
    }

    #[test]
    fn bad_values_name_the_parameter() {
        let mut r = base();
        r.imsize = Some(vec![-5]);
        let e = ImagingParams::from_raw(&r).unwrap_err().to_string();
        assert!(e.contains("imsize"), "{e}");
        let mut r = base();
        r.cell = Some(vec!["15parsec".into()]);
        assert!(ImagingParams::from_raw(&r)
            .unwrap_err()
            .to_string()
            .contains("cell"));
        let mut r = base();
        r.weighting = Some("fancy".into());
        assert!(ImagingParams::from_raw(&r)
            .unwrap_err()
            .to_string()
            .contains("weighting"));
        let r = RawParams::default();
        assert!(ImagingParams::from_raw(&r)
            .unwrap_err()
            .to_string()
            .contains("vis"));
    }

    #[test]
    fn config_rejects_unknown_keys() {
        let e = serde_json::from_str::<RawParams>(r#"{"imsize":[10],"bogus":1}"#).unwrap_err();
        assert!(e.to_string().contains("bogus"));
    }
}

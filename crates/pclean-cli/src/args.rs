//! Command-line arguments: tclean's parameter names, every one optional so that a config file can
//! supply it; defaults are applied later by `ImagingParams::from_raw` and shown in `--help`.

use crate::param_flags::ParamFlags;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "pclean",
    version,
    about = "Parallel radio-interferometric imaging of CASA MeasurementSets (tclean's parameters and products)",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make images from MeasurementSets (like CASA's tclean).
    Image(Box<ImageArgs>),
    /// Convert a CASA image written by pclean to FITS (per-plane beams in a BEAMS table).
    Export {
        /// CASA image directory to read.
        image: PathBuf,
        /// FITS file to write.
        fits: PathBuf,
        /// Replace the FITS file if it exists.
        #[arg(long)]
        overwrite: bool,
    },
    /// Estimate the memory one worker (task) needs, the total for N workers, and how many workers
    /// fit this machine, from pclean's memory model.
    Estimate(EstimateArgs),
    /// Concatenate CASA image cubes along the spectral axis (casatools' imageconcat): paged copy or
    /// casacore's virtual concatenation; OUT IN1 IN2 ..., or --subcubes BASE --nparts N.
    Concat(Box<crate::tools::ConcatArgs>),
    /// Show the storage manager (type and name), cell shape and tiling of each column of a
    /// MeasurementSet's main table, and whether Adios2StMan is used and supported.
    Inspect(crate::tools::InspectArgs),
    /// Copy a MeasurementSet with its data columns in Adios2StMan (needs casacore built with ADIOS2,
    /// which this build's is not: the command explains).
    ConvertAdios2(crate::tools::ConvertAdios2Args),
    /// Submit a distributed run to SLURM: write an sbatch script for a coordinator job that runs
    /// `pclean image --config CONFIG --parallel --cluster-type slurm` (its Dask workers are SLURM
    /// jobs too), submit it with sbatch and print the job id.
    Submit(SubmitArgs),
    /// Print every parameter of `pclean image` (name, kind, default, help, allowed values) as JSON,
    /// or with --markdown the parameter tables of docs/usage.md.
    Params(ParamsArgs),
    /// Write the quick-look report of a run, IMAGENAME.report/index.html with PNG figures (maps,
    /// spectra, per-channel diagnostics, PSF, residual histogram, time and memory), from its
    /// CASA-image products and IMAGENAME.summary.json.
    Report(ReportArgs),
    /// Print a shell completion script for pclean (e.g. `pclean completions bash >
    /// ~/.local/share/bash-completion/completions/pclean`).
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run's imagename (the products' common prefix, as given to `pclean image`).
    pub imagename: String,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Config file (TOML, YAML or JSON) with the imaging parameters and the slurm_* keys.
    pub config: PathBuf,
    /// Print the script (it is still written) and do not submit it.
    #[arg(long)]
    pub dry_run: bool,
    /// Where to write the script [default: <config without extension>.sbatch].
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// Memory of the coordinator job, e.g. 8GB [default: slurm_job_mem].
    #[arg(long)]
    pub coordinator_mem: Option<String>,
}

#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// Image size in pixels (square).
    #[arg(long)]
    pub imsize: usize,
    /// Image channels each task images at once.
    #[arg(long, default_value_t = 1)]
    pub nchan_per_task: usize,
    /// Gridder: 'standard', 'mosaic', 'wproject' or 'widefield'.
    #[arg(long, default_value = "standard")]
    pub gridder: String,
    /// Deconvolver: hogbom, clark, clarkstokes, multiscale, or none (dirty imaging).
    #[arg(long, default_value = "hogbom")]
    pub deconvolver: String,
    /// Taylor terms: 1, or 1 to 4 with --deconvolver mtmfs.
    #[arg(long, default_value_t = 1)]
    pub nterms: usize,
    /// Fields imaged: a mosaic's pointings (each gridded apart); with 'standard' every field
    /// shares one grid.
    #[arg(long, default_value_t = 1)]
    pub nfields: usize,
    /// Threads each task uses.
    #[arg(long, default_value_t = 1)]
    pub threads_per_task: usize,
    /// Blocks (tasks) a local run images at once, after its one read of the visibilities (a run
    /// logs `blocks_in_flight`; a dirty cube's default is one per thread): the per-worker figure
    /// is then the whole local run's.
    #[arg(long, default_value_t = 1)]
    pub blocks_in_flight: usize,
    /// Visibilities per image channel (selected rows x data channels per image channel; a run's
    /// `.summary.json` has it as `nvis_per_channel`): the kernel's oversampling, hence the grid's
    /// size, and per-visibility buffers depend on it.
    #[arg(long, default_value_t = pclean_engine::memory::DEFAULT_NVIS_PER_CHAN)]
    pub nvis: usize,
    /// Channels of the spectral window the data come from (a pass over a channel reads a few of
    /// its neighbours); 0 = only the task's channels.
    #[arg(long, default_value_t = 0)]
    pub spw_nchan: usize,
    /// w planes of --gridder wproject/widefield (a run logs its number); 0 = the number a VLA
    /// D-configuration 1024^2 field of 6" at 1.4 GHz needs.
    #[arg(long, default_value_t = 0)]
    pub wplanes: usize,
    /// Row partitions of an mfs image (0: none): the per-worker figure is then one partition's
    /// passes over its share of --nvis (a whole grid each), and the coordinator's is printed apart.
    #[arg(long, default_value_t = 0)]
    pub row_partitions: usize,
    /// Parallactic-angle bins of --gridder awproject (a run logs their number; tclean's
    /// computepastep binning), each gridded apart; 0 = 1 (computepastep=360).
    #[arg(long, default_value_t = 0)]
    pub pabins: usize,
    /// Beam frequencies of a --gridder mosaic mfs image, each gridded apart per pointing (a run
    /// logs its number: one per 0.5% of the band, as tclean); 0 = 1 (narrow windows). With
    /// --gridder awproject: wbawp=True's A-terms in mfs (one per spectral window), each gridded
    /// apart per bin.
    #[arg(long, default_value_t = 0)]
    pub beam_freqs: usize,
    /// Channels of the cube major cycle of specmode='mvc' with --deconvolver mtmfs (a run logs
    /// them; tclean's default is about 10 for a 2:1 band); 0 = not mvc.
    #[arg(long, default_value_t = 0)]
    pub mvc_chans: usize,
    /// The cube is interpolated to another frame (specmode='cube', linear or cubic
    /// interpolation): a cleaned cube then prepares its visibilities 8 channels at a time.
    #[arg(long)]
    pub interpolated: bool,
    /// Channels of a cleaned cube block held in memory at once (`cube_resident_chans`); 0 = one
    /// per thread.
    #[arg(long, default_value_t = 0)]
    pub cube_resident_chans: usize,
    /// An mfs image (specmode='mfs'; --nchan-per-task 1): its plane grids every channel of the
    /// window (--spw-nchan), --nvis being all its visibilities (a run's `nvis_per_channel`).
    #[arg(long)]
    pub mfs: bool,
    /// Weighting: natural (no density), briggs, uniform, briggsabs, briggsbwtaper (a density per
    /// cube channel, one per mfs plane) or superuniform.
    #[arg(long, default_value = "briggs")]
    pub weighting: String,
    /// Gridding accuracy (the kernel, hence the grid's size and precision); 0 = pclean's default.
    #[arg(long, default_value_t = 0.0)]
    pub epsilon: f64,
    /// Workers for the total [default: the recommended number].
    #[arg(long)]
    pub nworkers: Option<usize>,
    /// Memory to plan for, GiB [default: this machine's available memory].
    #[arg(long)]
    pub available_ram_gib: Option<f64>,
    /// Fraction of the memory the workers may use.
    #[arg(long, default_value_t = 0.85)]
    pub ram_safety_factor: f64,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImageArgs {
    /// Config file (YAML with a .yaml/.yml extension, JSON with .json, otherwise TOML) with tclean parameter names; flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A preset shipped with pclean (e.g. 'vlass'), below the config file and the flags.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// Print the merged configuration (file + flags + defaults) as TOML and exit without imaging.
    #[arg(long)]
    pub dump_config: bool,
    /// Every parameter, one flag each (declared in pclean_core::schema::table).
    #[command(flatten)]
    pub params: ParamFlags,
    /// Write the quick-look report IMAGENAME.report/index.html after the run [default: on for
    /// runs longer than a minute].
    #[arg(long, conflicts_with = "no_report", help_heading = "Report")]
    pub report: bool,
    /// Do not write the quick-look report.
    #[arg(long, help_heading = "Report")]
    pub no_report: bool,
    /// Python that runs the Dask driver [default: $PCLEAN_PYTHON, else python3].
    #[arg(long, value_name = "PATH", help_heading = "Distributed run (Dask)")]
    pub python: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ParamsArgs {
    /// Print docs/usage.md's parameter tables (Markdown) instead of the schema as JSON.
    #[arg(long)]
    pub markdown: bool,
}

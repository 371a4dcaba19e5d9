//! Command-line arguments: tclean's parameter names, every one optional so that a config file can
//! supply it; defaults are applied later by `ImagingParams::from_raw` and shown in `--help`.

use clap::{Args, Parser, Subcommand};
use pclean_core::params::{defaults as d, RawParams};
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

/// Options of a distributed run (`--parallel`); see docs/distributed.md. Each can also come from
/// the config file under the same name with underscores.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Distributed run (Dask)")]
pub struct ParallelArgs {
    /// Image through the Dask driver (python -m pclean.distributed) instead of the local pool.
    #[arg(long)]
    pub parallel: bool,
    /// Dask cluster: local (worker processes here), slurm (dask-jobqueue), address (an existing
    /// scheduler) [default: local].
    #[arg(long, value_parser = ["local", "slurm", "address"])]
    pub cluster_type: Option<String>,
    /// Dask workers (SLURM: worker jobs), 0 = automatic [default: local: as many as the cores
    /// and memory allow; slurm: 1].
    #[arg(long)]
    pub nworkers: Option<i64>,
    /// Engine threads of each task on a worker [default: 1].
    #[arg(long)]
    pub threads_per_worker: Option<i64>,
    /// Scheduler of an existing Dask cluster, e.g. tcp://10.0.0.5:8786.
    #[arg(long)]
    pub scheduler_address: Option<String>,
    /// Scratch directory of the Dask workers.
    #[arg(long)]
    pub local_directory: Option<String>,
    /// Seconds to wait for the first worker [default: 120 local, 60 address, 1800 slurm]
    /// (PCLEAN_WORKER_TIMEOUT_S).
    #[arg(long)]
    pub worker_timeout_s: Option<f64>,
    /// SLURM partition of the worker jobs.
    #[arg(long)]
    pub slurm_queue: Option<String>,
    /// SLURM account of the worker jobs.
    #[arg(long)]
    pub slurm_account: Option<String>,
    /// Wall time of each worker job, e.g. 04:00:00.
    #[arg(long)]
    pub slurm_walltime: Option<String>,
    /// Memory of each worker job, e.g. 16GB.
    #[arg(long)]
    pub slurm_job_mem: Option<String>,
    /// Cores of each worker job [default: threads-per-worker].
    #[arg(long)]
    pub slurm_cores_per_job: Option<i64>,
    /// Name of the worker jobs.
    #[arg(long)]
    pub slurm_job_name: Option<String>,
    /// Python with pclean installed that the jobs run [default: the driver's].
    #[arg(long)]
    pub slurm_python: Option<String>,
    /// Directory of the worker jobs' output files.
    #[arg(long)]
    pub slurm_log_directory: Option<String>,
    /// Python that runs the Dask driver [default: $PCLEAN_PYTHON, else python3].
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// Image size in pixels (square).
    #[arg(long)]
    pub imsize: usize,
    /// Image channels each task images at once.
    #[arg(long, default_value_t = 1)]
    pub nchan_per_task: usize,
    /// Gridder (pclean implements 'standard').
    #[arg(long, default_value = "standard")]
    pub gridder: String,
    /// Deconvolver: hogbom, clark, multiscale, or none (dirty imaging).
    #[arg(long, default_value = "hogbom")]
    pub deconvolver: String,
    /// Taylor terms; only 1 (pclean images one term), other values are an error.
    #[arg(long, default_value_t = 1)]
    pub nterms: usize,
    /// Image fields; only 1 (pclean images one field), other values are an error.
    #[arg(long, default_value_t = 1)]
    pub nfields: usize,
    /// Threads each task uses.
    #[arg(long, default_value_t = 1)]
    pub threads_per_task: usize,
    /// Visibilities per image channel (selected rows x data channels per image channel; a run's
    /// `.summary.json` has it as `nvis_per_channel`): the kernel's oversampling, hence the grid's
    /// size, and per-visibility buffers depend on it.
    #[arg(long, default_value_t = pclean_engine::memory::DEFAULT_NVIS_PER_CHAN)]
    pub nvis: usize,
    /// Channels of the spectral window the data come from (a pass over a channel reads a few of
    /// its neighbours); 0 = only the task's channels.
    #[arg(long, default_value_t = 0)]
    pub spw_nchan: usize,
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

    /// MeasurementSet(s) to image (repeat the flag or separate with commas).
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub vis: Option<Vec<String>>,
    /// Prefix of the output products (<imagename>.psf, .residual, .image, ...).
    #[arg(long)]
    pub imagename: Option<String>,
    /// Visibility column: data, corrected (falls back to data with a warning), model.
    #[arg(long, help = format!("Visibility column: data, corrected (falls back to data when absent), model [default: {}]", d::DATACOLUMN))]
    pub datacolumn: Option<String>,
    /// Field selection (ids, names, globs, ranges) [default: all].
    #[arg(long)]
    pub field: Option<String>,
    /// Spectral window / channel selection, e.g. '0', '0:5~50', '0,2', '0:5~50^2' [default: all].
    #[arg(long)]
    pub spw: Option<String>,
    /// Time range, e.g. '1995/04/13/09:19:00~09:30:00' [default: all].
    #[arg(long)]
    pub timerange: Option<String>,
    /// uv range, e.g. '0~2km', '>5klambda' [default: all].
    #[arg(long)]
    pub uvrange: Option<String>,
    /// Antenna / baseline selection, e.g. '1,2', 'VA01&VA02', '!VA05' [default: all].
    #[arg(long)]
    pub antenna: Option<String>,
    /// Scan numbers, e.g. '1~3,5' [default: all].
    #[arg(long)]
    pub scan: Option<String>,
    /// Observation ids [default: all].
    #[arg(long)]
    pub observation: Option<String>,
    /// Scan intents (glob on STATE OBS_MODE) [default: all].
    #[arg(long)]
    pub intent: Option<String>,
    #[arg(long, num_args = 1..=2, value_delimiter = ',', allow_negative_numbers = true,
          help = format!("Image size in pixels: one value or two (nx ny) [default: {}]", d::IMSIZE))]
    pub imsize: Option<Vec<i64>>,
    #[arg(long, num_args = 1..=2, value_delimiter = ',',
          help = format!("Cell size: one angle or two (x y), e.g. 15arcsec [default: {}]", d::CELL))]
    pub cell: Option<Vec<String>>,
    /// Image phase centre: a field id or a direction 'J2000 15h22m00 +05d04m00' [default: first selected field].
    #[arg(long)]
    pub phasecenter: Option<String>,
    #[arg(long, help = format!("Projection [default: {}]", d::PROJECTION))]
    pub projection: Option<String>,
    #[arg(long, help = format!("Stokes planes: I, IV, IQUV, QU, RR, LL, XX, YY, ... [default: {}]", d::STOKES))]
    pub stokes: Option<String>,
    #[arg(long, help = format!("Spectral mode: mfs, cube, cubedata [default: {}]", d::SPECMODE))]
    pub specmode: Option<String>,
    #[arg(long, allow_negative_numbers = true, help = format!("Number of image channels, -1 = all selected [default: {}]", d::NCHAN))]
    pub nchan: Option<i64>,
    /// First image channel: a data channel number, a frequency or a velocity, e.g. 5, 1.4125GHz,
    /// 1500km/s [default: first selected].
    #[arg(long, allow_hyphen_values = true)]
    pub start: Option<String>,
    /// Channel width: a number of data channels, a frequency or a (radio) velocity; negative
    /// reverses the axis [default: one data channel].
    #[arg(long, allow_hyphen_values = true)]
    pub width: Option<String>,
    #[arg(long, help = format!("Output spectral frame for cubes (LSRK, BARY, TOPO, ...; '' = LSRK) [default: '{}']", d::OUTFRAME))]
    pub outframe: Option<String>,
    #[arg(long, help = format!("Velocity convention: radio, optical [default: {}]", d::VELTYPE))]
    pub veltype: Option<String>,
    /// Rest frequency of the spectral axis, e.g. 1420.405752MHz [default: none].
    #[arg(long, value_delimiter = ',')]
    pub restfreq: Option<Vec<String>>,
    #[arg(long, help = format!("Spectral interpolation: nearest, linear, cubic [default: {}]", d::INTERPOLATION))]
    pub interpolation: Option<String>,
    #[arg(long, help = format!("Briggs/uniform density per image channel for cubes [default: {}]", d::PERCHANWEIGHTDENSITY))]
    pub perchanweightdensity: Option<bool>,
    #[arg(long, help = format!("Gridder [default: {}]", d::GRIDDER))]
    pub gridder: Option<String>,
    #[arg(long, help = format!("Gridding accuracy (relative error of the ES-kernel gridder) [default: {:e}]", d::EPSILON))]
    pub epsilon: Option<f64>,
    #[arg(long, help = format!("Weighting: natural, uniform, briggs, briggsabs [default: {}]", d::WEIGHTING))]
    pub weighting: Option<String>,
    #[arg(long, allow_negative_numbers = true, help = format!("Briggs robustness in [-2, 2] [default: {}]", d::ROBUST))]
    pub robust: Option<f64>,
    #[arg(long, help = format!("uv-cell size for uniform/Briggs density in pixels, 0 = 1/FOV [default: {}]", d::NPIXELS))]
    pub npixels: Option<i64>,
    #[arg(long, help = format!("Noise for briggsabs [default: {}]", d::NOISE))]
    pub noise: Option<String>,
    /// Gaussian uv taper: one or three values, e.g. 10arcsec or 10arcsec,5arcsec,30deg, or 20klambda [default: none].
    #[arg(long, value_delimiter = ',', num_args = 1..=3)]
    pub uvtaper: Option<Vec<String>>,
    #[arg(long, allow_negative_numbers = true, help = format!("Primary-beam level below which products are masked; negative: no mask on the images [default: {}]", d::PBLIMIT))]
    pub pblimit: Option<f64>,
    #[arg(long, help = format!("PSF level bounding the main lobe used to fit the restoring beam [default: {}]", d::PSFCUTOFF))]
    pub psfcutoff: Option<f64>,
    #[arg(long, help = format!("Deconvolver (used when niter > 0) [default: {}]", d::DECONVOLVER))]
    pub deconvolver: Option<String>,
    #[arg(long, help = format!("Maximum number of minor-cycle iterations [default: {}]", d::NITER))]
    pub niter: Option<i64>,
    #[arg(long, help = format!("Loop gain [default: {}]", d::GAIN))]
    pub gain: Option<f64>,
    #[arg(long, help = format!("Stopping threshold on the peak residual, e.g. 8mJy [default: {}]", d::THRESHOLD))]
    pub threshold: Option<String>,
    #[arg(long, help = format!("Stop at nsigma x the robust rms of the residual, 0 = off [default: {}]", d::NSIGMA))]
    pub nsigma: Option<f64>,
    #[arg(long, allow_negative_numbers = true, help = format!("Maximum iterations per minor cycle, -1 = niter [default: {}]", d::CYCLENITER))]
    pub cycleniter: Option<i64>,
    #[arg(long, help = format!("Scales the PSF sidelobe level into the cycle threshold [default: {}]", d::CYCLEFACTOR))]
    pub cyclefactor: Option<f64>,
    #[arg(long, help = format!("Lower bound of the PSF fraction for the cycle threshold [default: {}]", d::MINPSFFRACTION))]
    pub minpsffraction: Option<f64>,
    #[arg(long, help = format!("Upper bound of the PSF fraction for the cycle threshold [default: {}]", d::MAXPSFFRACTION))]
    pub maxpsffraction: Option<f64>,
    #[arg(long, allow_negative_numbers = true, help = format!("Maximum major cycles, -1 = no limit [default: {}]", d::NMAJOR))]
    pub nmajor: Option<i64>,
    /// Multiscale scales in pixels, e.g. 0,5,15 [default: 0].
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub scales: Option<Vec<i64>>,
    #[arg(long, allow_negative_numbers = true, help = format!("Multiscale small-scale bias [default: {}]", d::SMALLSCALEBIAS))]
    pub smallscalebias: Option<f64>,
    #[arg(long, help = format!("Clean mask: user, pb, auto-multithresh [default: {}]", d::USEMASK))]
    pub usemask: Option<String>,
    /// User mask: a CASA region file, region text, or a mask image [default: none = clean everywhere].
    #[arg(long)]
    pub mask: Option<String>,
    #[arg(long, help = format!("Primary-beam level of usemask='pb' [default: {}]", d::PBMASK))]
    pub pbmask: Option<f64>,
    #[arg(long, help = format!("auto-multithresh sidelobe threshold [default: {}]", d::SIDELOBETHRESHOLD))]
    pub sidelobethreshold: Option<f64>,
    #[arg(long, help = format!("auto-multithresh noise threshold [default: {}]", d::NOISETHRESHOLD))]
    pub noisethreshold: Option<f64>,
    #[arg(long, help = format!("auto-multithresh low-noise threshold [default: {}]", d::LOWNOISETHRESHOLD))]
    pub lownoisethreshold: Option<f64>,
    #[arg(long, help = format!("auto-multithresh negative threshold [default: {}]", d::NEGATIVETHRESHOLD))]
    pub negativethreshold: Option<f64>,
    #[arg(long, help = format!("auto-multithresh smoothing factor [default: {}]", d::SMOOTHFACTOR))]
    pub smoothfactor: Option<f64>,
    #[arg(long, help = format!("auto-multithresh minimum beam fraction [default: {}]", d::MINBEAMFRAC))]
    pub minbeamfrac: Option<f64>,
    #[arg(long, help = format!("auto-multithresh cut threshold [default: {}]", d::CUTTHRESHOLD))]
    pub cutthreshold: Option<f64>,
    #[arg(long, help = format!("auto-multithresh grow iterations [default: {}]", d::GROWITERATIONS))]
    pub growiterations: Option<i64>,
    #[arg(long, help = format!("auto-multithresh prune after growing [default: {}]", d::DOGROWPRUNE))]
    pub dogrowprune: Option<bool>,
    #[arg(long, allow_negative_numbers = true, help = format!("auto-multithresh minimum percent change [default: {}]", d::MINPERCENTCHANGE))]
    pub minpercentchange: Option<f64>,
    #[arg(long, help = format!("auto-multithresh fast noise [default: {}]", d::FASTNOISE))]
    pub fastnoise: Option<bool>,
    /// Restoring beam: empty = fitted per plane, 'common', or major,minor,pa [default: fitted].
    #[arg(long, value_delimiter = ',', num_args = 1..=3)]
    pub restoringbeam: Option<Vec<String>>,
    #[arg(long, help = format!("Write <imagename>.image.pbcor [default: {}]", d::PBCOR))]
    pub pbcor: Option<bool>,
    /// CASA image with a starting model (Jy/pixel) [default: none].
    #[arg(long)]
    pub startmodel: Option<String>,
    #[arg(long, help = format!("Save the model: none, modelcolumn [default: {}]", d::SAVEMODEL))]
    pub savemodel: Option<String>,
    /// Continue from the existing products of --imagename: their model is the start model and the
    /// products are rewritten (tclean's restart=True) [default: false].
    #[arg(long)]
    pub restart: bool,
    /// Compute the initial residual; false reuses <imagename>.residual (needs --restart) [default: true].
    #[arg(long)]
    pub calcres: Option<bool>,
    /// Compute the PSF; false reuses <imagename>.psf (needs --restart) [default: true].
    #[arg(long)]
    pub calcpsf: Option<bool>,
    #[arg(long, help = format!("Output format: casa or fits [default: {}]", d::FORMAT))]
    pub format: Option<String>,
    /// Replace existing products with this prefix (otherwise an existing product is an error).
    #[arg(long)]
    pub overwrite: bool,
    /// Threads to use, 0 = all cores [default: 0].
    #[arg(long)]
    pub nthreads: Option<i64>,
    /// Memory budget of the run, e.g. 8GiB or 16GB; blocks in flight and channels per block are
    /// chosen to fit it; with --parallel, the memory of one Dask worker [default: auto = 80% of
    /// the available RAM].
    #[arg(long)]
    pub memory_limit: Option<String>,
    /// Image channels per block, 0 = automatic [default: 0].
    #[arg(long)]
    pub cube_chunksize: Option<i64>,
    /// Threads per block, 0 = automatic [default: 0].
    #[arg(long)]
    pub threads_per_block: Option<i64>,
    /// Blocks imaged concurrently, 0 = automatic [default: 0].
    #[arg(long)]
    pub blocks_in_flight: Option<i64>,

    #[command(flatten)]
    pub parallel: ParallelArgs,
}

impl ImageArgs {
    /// The parameters given on the command line (unset flags stay `None`).
    pub fn to_raw(&self) -> RawParams {
        RawParams {
            vis: self.vis.clone(),
            imagename: self.imagename.clone(),
            datacolumn: self.datacolumn.clone(),
            field: self.field.clone(),
            spw: self.spw.clone(),
            timerange: self.timerange.clone(),
            uvrange: self.uvrange.clone(),
            antenna: self.antenna.clone(),
            scan: self.scan.clone(),
            observation: self.observation.clone(),
            intent: self.intent.clone(),
            imsize: self.imsize.clone(),
            cell: self.cell.clone(),
            phasecenter: self.phasecenter.clone(),
            projection: self.projection.clone(),
            stokes: self.stokes.clone(),
            specmode: self.specmode.clone(),
            nchan: self.nchan,
            start: self.start.clone(),
            width: self.width.clone(),
            outframe: self.outframe.clone(),
            veltype: self.veltype.clone(),
            restfreq: self.restfreq.clone(),
            interpolation: self.interpolation.clone(),
            perchanweightdensity: self.perchanweightdensity,
            gridder: self.gridder.clone(),
            epsilon: self.epsilon,
            weighting: self.weighting.clone(),
            robust: self.robust,
            npixels: self.npixels,
            noise: self.noise.clone(),
            uvtaper: self.uvtaper.clone(),
            pblimit: self.pblimit,
            psfcutoff: self.psfcutoff,
            deconvolver: self.deconvolver.clone(),
            niter: self.niter,
            gain: self.gain,
            threshold: self.threshold.clone(),
            nsigma: self.nsigma,
            cycleniter: self.cycleniter,
            cyclefactor: self.cyclefactor,
            minpsffraction: self.minpsffraction,
            maxpsffraction: self.maxpsffraction,
            nmajor: self.nmajor,
            scales: self.scales.clone(),
            smallscalebias: self.smallscalebias,
            usemask: self.usemask.clone(),
            mask: self.mask.clone(),
            pbmask: self.pbmask,
            sidelobethreshold: self.sidelobethreshold,
            noisethreshold: self.noisethreshold,
            lownoisethreshold: self.lownoisethreshold,
            negativethreshold: self.negativethreshold,
            smoothfactor: self.smoothfactor,
            minbeamfrac: self.minbeamfrac,
            cutthreshold: self.cutthreshold,
            growiterations: self.growiterations,
            dogrowprune: self.dogrowprune,
            minpercentchange: self.minpercentchange,
            fastnoise: self.fastnoise,
            restoringbeam: self.restoringbeam.clone(),
            pbcor: self.pbcor,
            startmodel: self.startmodel.clone(),
            savemodel: self.savemodel.clone(),
            restart: self.restart.then_some(true),
            calcres: self.calcres,
            calcpsf: self.calcpsf,
            format: self.format.clone(),
            overwrite: self.overwrite.then_some(true),
            nthreads: self.nthreads,
            memory_limit: self.memory_limit.clone(),
            cube_chunksize: self.cube_chunksize,
            threads_per_block: self.threads_per_block,
            blocks_in_flight: self.blocks_in_flight,
            parallel: self.parallel.parallel.then_some(true),
            nworkers: self.parallel.nworkers,
            threads_per_worker: self.parallel.threads_per_worker,
            local_directory: self.parallel.local_directory.clone(),
            cluster_type: self.parallel.cluster_type.clone(),
            scheduler_address: self.parallel.scheduler_address.clone(),
            slurm_queue: self.parallel.slurm_queue.clone(),
            slurm_account: self.parallel.slurm_account.clone(),
            slurm_walltime: self.parallel.slurm_walltime.clone(),
            slurm_job_mem: self.parallel.slurm_job_mem.clone(),
            slurm_cores_per_job: self.parallel.slurm_cores_per_job,
            slurm_job_name: self.parallel.slurm_job_name.clone(),
            slurm_python: self.parallel.slurm_python.clone(),
            slurm_log_directory: self.parallel.slurm_log_directory.clone(),
            ..Default::default()
        }
    }
}

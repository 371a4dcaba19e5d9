//! The seed system's estimate functions (`pclean estimate`, the Python API) on the same model:
//! what one worker running one task of a [`WorkerSpec`] needs.

use super::{
    available_memory_bytes, BlockShape, DeconvolverKind, BASE_BYTES, DEFAULT_NVIS_PER_CHAN, GIB,
};
use crate::error::EngineError;
use crate::plan::shape::{block_shape, chunk_rows, row_bytes, DataSide, ImageSide};
use pclean_core::params::Deconvolver;

/// What a worker runs, for the seed's estimate functions (`pclean estimate`, the Python API).
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    pub imsize: usize,
    pub nchan_per_task: usize,
    pub gridder: String,
    /// "hogbom", "clark", "multiscale"; "none" for dirty imaging only.
    pub deconvolver: String,
    pub nterms: usize,
    /// Fields imaged (a mosaic's pointings, each with its own grid; the standard gridder grids
    /// every field into one).
    pub nfields: usize,
    pub threads_per_task: usize,
    /// Blocks a local run images at once (`blocks_in_flight`, each its own task's memory, after
    /// the one read of the visibilities for all blocks); 0 or 1 = one. A Dask worker runs one.
    pub blocks_in_flight: usize,
    /// Visibilities per image channel (selected rows x data channels per image channel): the
    /// gridder's kernel choice (oversampling, hence the grid's size) and the per-visibility
    /// buffers depend on it. [`DEFAULT_NVIS_PER_CHAN`] by default.
    pub nvis_per_chan: usize,
    /// Channels of the spectral window the task's channels come from (a pass reads a few
    /// neighbours of its data channels within it); 0 = the task's channels only.
    pub spw_nchan: usize,
    /// w planes of `gridder='wproject'`/`'widefield'` (a run logs its number); 0 =
    /// [`DEFAULT_ESTIMATE_WPLANES`]. Not read by `standard`.
    pub wplanes: usize,
    /// Row partitions of an mfs image (`row_partitions`; 0: none): a worker then runs one
    /// partition's passes over `nvis_per_chan / row_partitions` visibilities, and the coordinator
    /// holds the image planes ([`estimate_coordinator_memory_gib`]).
    pub row_partitions: usize,
    /// Parallactic-angle bins of `gridder='awproject'` (a run logs its number: tclean's
    /// `computepastep` binning), each with its own grids; 0 = 1 (tclean's default step, 360
    /// deg). Not read by the other gridders.
    pub pabins: usize,
    /// Beam frequencies of a `gridder='mosaic'` mfs image (a run logs its number: one per 0.5%
    /// of the band, tclean's `findUsefulChannels`, `imaging::mosaic::beam_frequencies`), each
    /// with its own grid per pointing; 0 = 1 (every window narrower than 0.25% of its
    /// frequency, e.g. ALMA windows of up to a few hundred MHz). `gridder='awproject'` with
    /// `wbawp=True` in mfs: its A-term frequencies (one per spectral window), each with its own
    /// grids per bin. Not read by the other gridders.
    pub beam_freqs: usize,
    /// `specmode='mvc'`'s cube channels (a run logs them; tclean's default is about 10 for a
    /// 2:1 band); 0: not mvc. Needs deconvolver mtmfs.
    pub mvc_chans: usize,
    /// A cube interpolated to another frame (specmode='cube' with linear or cubic
    /// interpolation): a paged cleaned block prepares its visibilities
    /// [`super::REGRID_BLOCK_CHANS`] channels at a time (`super::paged_data_chans`).
    pub interpolated: bool,
    /// `cube_resident_chans` of a cleaned cube (0: one channel per thread).
    pub resident_chans: usize,
    /// An mfs image (`specmode='mfs'`): the task's one plane grids every channel of the window
    /// (`spw_nchan`), `nvis_per_chan` being all its visibilities (a run's `nvis_per_channel`);
    /// no block prepares its chunks or reads the visibilities once for all blocks, and with the
    /// `standard` gridder the PSF and dirty image are gridded in one pass (two grids alive,
    /// `crate::imaging::joint_first_pass`). Needs `nchan_per_task` 1.
    pub mfs: bool,
    /// `weighting`: "natural" (no density), "briggs" (default), "uniform", "briggsabs",
    /// "briggsbwtaper" (a density per channel of a cube, one for an mfs plane) or
    /// "superuniform" (one density).
    pub weighting: String,
    /// The gridders' `epsilon` (the kernel, hence the grid's oversampling and precision); 0 =
    /// pclean's default.
    pub epsilon: f64,
}

/// The w planes the estimate assumes for `wproject`/`widefield` when not given: what the
/// w-gridder uses (measured, logged by the run) at the default epsilon for the VLA D field of
/// `vla_widefield` (1024^2 of 6", 1.4 GHz, 1 km baselines).
pub const DEFAULT_ESTIMATE_WPLANES: usize = 12;

impl Default for WorkerSpec {
    fn default() -> Self {
        WorkerSpec {
            imsize: 1024,
            nchan_per_task: 1,
            gridder: "standard".into(),
            deconvolver: "hogbom".into(),
            nterms: 1,
            nfields: 1,
            threads_per_task: 1,
            blocks_in_flight: 1,
            nvis_per_chan: DEFAULT_NVIS_PER_CHAN,
            spw_nchan: 0,
            wplanes: 0,
            row_partitions: 0,
            pabins: 0,
            beam_freqs: 0,
            mvc_chans: 0,
            interpolated: false,
            resident_chans: 0,
            mfs: false,
            weighting: "briggs".into(),
            epsilon: 0.0,
        }
    }
}

impl WorkerSpec {
    /// The block shape of such a task: Stokes I, Briggs weighting with per-channel densities,
    /// default gridding accuracy (the kernel chosen for `nvis_per_chan`), two correlations, the
    /// engine's visibility chunk size, usemask='pb' with pblimit > 0, one data channel per image
    /// channel.
    pub fn block_shape(&self) -> Result<BlockShape, EngineError> {
        // What pclean does not implement yet: (parameter, unsupported, why and what to use).
        let gridder_name = self.gridder.trim().to_ascii_lowercase();
        let mosaic = ["mosaic", "mosaicft"].contains(&gridder_name.as_str());
        let awproject = ["awproject", "awprojectft"].contains(&gridder_name.as_str());
        // awproject's w-term: tclean's default wprojplanes=1 has none.
        let w_gridder = matches!(
            gridder_name.as_str(),
            "wproject" | "wprojectft" | "widefield"
        ) || (awproject && self.wplanes > 1);
        let unsupported: [(&'static str, bool, String); 4] = [
            (
                "gridder",
                !w_gridder && !mosaic && !awproject && gridder_name != "standard",
                format!(
                    "gridder='{}': pclean implements the 'standard', 'mosaic', 'wproject', \
                     'widefield' and 'awproject' gridders; estimate for one of them",
                    self.gridder
                ),
            ),
            (
                "nterms",
                if self.deconvolver.trim().eq_ignore_ascii_case("mtmfs") {
                    !(1..=4).contains(&self.nterms)
                } else {
                    self.nterms != 1
                },
                format!(
                    "nterms={}: Taylor terms need deconvolver='mtmfs' (1 to 4 terms); other \
                     deconvolvers take nterms=1",
                    self.nterms
                ),
            ),
            (
                "mvc_chans",
                self.mvc_chans > 0
                    && (!self.deconvolver.trim().eq_ignore_ascii_case("mtmfs")
                        || self.mvc_chans < self.nterms),
                format!(
                    "mvc_chans={}: specmode='mvc' needs deconvolver='mtmfs' and at least nterms \
                     channels (tclean); use 0 for another specmode",
                    self.mvc_chans
                ),
            ),
            (
                "nfields",
                self.nfields == 0,
                "nfields=0: give the number of fields (a mosaic's pointings), at least 1".into(),
            ),
        ];
        if let Some((param, _, why)) = unsupported.into_iter().find(|(_, bad, _)| *bad) {
            return Err(EngineError::param(param, why));
        }
        let weighting = self.weighting.trim().to_ascii_lowercase();
        let (density, per_channel) = match weighting.as_str() {
            "natural" => (false, false),
            "superuniform" => (true, false),
            "briggs" | "uniform" | "briggsabs" | "briggsbwtaper" => (true, !self.mfs),
            _ => {
                return Err(EngineError::param(
                    "weighting",
                    format!(
                        "weighting='{}': use natural, uniform, briggs, briggsabs, briggsbwtaper \
                         or superuniform",
                        self.weighting
                    ),
                ))
            }
        };
        if self.mfs && self.nchan_per_task != 1 {
            return Err(EngineError::param(
                "nchan_per_task",
                format!(
                    "nchan_per_task={} with mfs: an mfs task images one plane; use \
                     nchan_per_task=1",
                    self.nchan_per_task
                ),
            ));
        }
        if !(self.epsilon >= 0.0 && self.epsilon < 1.0) {
            return Err(EngineError::param(
                "epsilon",
                format!(
                    "epsilon={}: use a gridding accuracy in (0, 1), or 0 for pclean's default",
                    self.epsilon
                ),
            ));
        }
        if self.row_partitions > 0 && self.nchan_per_task != 1 {
            return Err(EngineError::param(
                "row_partitions",
                format!(
                    "row_partitions={} with nchan_per_task={}: row partitions image one mfs \
                     plane; use nchan_per_task=1",
                    self.row_partitions, self.nchan_per_task
                ),
            ));
        }
        if self.imsize == 0
            || self.nchan_per_task == 0
            || self.threads_per_task == 0
            || self.nvis_per_chan == 0
        {
            return Err(EngineError::param(
                "imsize",
                "imsize, nchan_per_task, threads_per_task and nvis_per_chan must be positive",
            ));
        }
        // "none": dirty imaging only (the memory of hogbom's planes is not counted).
        let name = self.deconvolver.trim();
        let deconvolver = match Deconvolver::parse("deconvolver", name) {
            Ok(d) => Some(d),
            Err(_) if name.eq_ignore_ascii_case("none") => None,
            Err(_) => {
                return Err(EngineError::param(
                    "deconvolver",
                    format!(
                        "deconvolver='{name}': use hogbom, clark, clarkstokes, multiscale, mtmfs \
                         or none"
                    ),
                ))
            }
        };
        let deconvolve = deconvolver.is_some();
        let mtmfs = deconvolver == Some(Deconvolver::Mtmfs);
        let spec = pclean_grid::gridder::GridSpec {
            nx: self.imsize,
            ny: self.imsize,
            cell_x_rad: 1e-6,
            cell_y_rad: 1e-6,
            epsilon: if self.epsilon > 0.0 {
                self.epsilon
            } else {
                pclean_core::params::defaults::EPSILON
            },
        };
        let gridder = if w_gridder {
            // The w-gridder's planes at its precision (pclean_grid::wgrid::precision_for).
            pclean_grid::gridder::Gridder::with_options(
                spec,
                pclean_grid::gridder::GridderOptions {
                    nvis_hint: Some(self.nvis_per_chan),
                    precision: Some(pclean_grid::wgrid::precision_for(spec.epsilon)),
                    ..Default::default()
                },
            )
            .map_err(EngineError::Grid)?
        } else {
            crate::imaging::gridder_for(spec, self.nvis_per_chan)?
        };
        let image = ImageSide {
            nx: self.imsize,
            ny: self.imsize,
            nstokes: 1,
            density,
            density_per_channel: per_channel,
            deconvolve,
            // multiscale with scales [0, 5, 15] (tclean's documented example).
            deconvolver: DeconvolverKind::of(deconvolver.unwrap_or(Deconvolver::Hogbom), 3)
                .with_nterms(self.nterms),
            automask: false,
            // usemask='pb' (the common choice with a primary beam) and pblimit > 0 (default 0.2).
            fixed_mask: true,
            stats_region: true,
            mvc_chans: self.mvc_chans,
            // A worker's channel blocks and row partitions grid the PSF and residual apart; an
            // mfs plane with the standard gridder (not mtmfs or mvc) in one pass.
            joint_pass: self.mfs
                && self.row_partitions == 0
                && gridder_name == "standard"
                && !mtmfs
                && self.mvc_chans == 0,
        };
        // An mfs plane (in row partitions or not) grids every channel of the window into its
        // one plane.
        let data_chans = if self.row_partitions > 0 || self.mfs {
            self.spw_nchan.max(1)
        } else {
            self.nchan_per_task
        };
        let data = DataSide {
            // A run sizes its chunks by the widest selected window (`plan::setup::data_side`;
            // the one read for all blocks too), not by a task's channels.
            chunk_rows: chunk_rows(row_bytes(self.spw_nchan.max(data_chans), 2, 1)),
            data_chans,
            image_chans: self.nchan_per_task,
            spw_chans: self.spw_nchan.max(self.nchan_per_task),
            ncorr: 2,
            nvis_per_chan: self.nvis_per_chan,
            // A cube task's block holds its prepared chunks (one data channel per image channel:
            // the rows are the visibilities per channel); an mfs plane in row partitions none.
            streamed: self.mfs && self.row_partitions == 0,
            prepared_rows: if self.row_partitions > 0 || mtmfs || self.mfs {
                0
            } else {
                self.nvis_per_chan
            },
        };
        let mut shape = block_shape(
            image,
            &crate::imaging::gridder::RunGridder::Es(gridder),
            data,
        );
        // A mosaic grids each pointing apart; the standard gridder puts every field in one grid.
        if mosaic {
            shape.pointings = self.nfields;
            shape.beam_bands = self.beam_freqs.max(1);
            shape.mosaic_pass_grid = true;
        }
        // awproject grids each parallactic-angle bin apart (x its w planes), and with wbawp=True
        // in mfs each spectral window's A-term apart.
        if awproject {
            shape.pointings = self.pabins.max(1) * self.beam_freqs.max(1);
        }
        // A cube task cleaned by Hogbom or Clark runs paged (`super::paged_data_chans`).
        let pages = matches!(
            deconvolver,
            Some(Deconvolver::Hogbom | Deconvolver::Clark | Deconvolver::ClarkStokes)
        );
        if pages
            && !mosaic
            && !awproject
            && !self.mfs
            && self.mvc_chans == 0
            && self.row_partitions == 0
        {
            shape.paged_data_chans = if self.interpolated {
                super::REGRID_BLOCK_CHANS
            } else {
                1
            };
            shape.paged_resident = self.resident_chans;
        }
        if w_gridder {
            shape.grid_planes = match self.wplanes {
                0 => DEFAULT_ESTIMATE_WPLANES,
                n => n,
            };
            // wproject/widefield's w-gridder buffers a pass's visibilities (awproject's w planes
            // do not).
            shape.w_buffered = !awproject;
        }
        Ok(shape)
    }
}

impl WorkerSpec {
    /// The one read of the visibilities for all blocks of a cube of several blocks, or for one
    /// block of several channels (`spw_nchan` channels, or the task's when more; one data channel
    /// per image channel, so `nvis_per_chan` rows; two correlations; kept in memory up to the
    /// local runner's limit, else on disk): (the read's peak, bytes held while the blocks run),
    /// see [`super::cache_phase`]. None for one channel or row partitions.
    pub fn cache_phase(&self) -> Option<(u64, u64)> {
        self.cache_read().map(|(rows, load_rows, in_memory)| {
            super::cache_phase(
                rows,
                self.spw_nchan.max(self.nchan_per_task),
                2,
                load_rows,
                in_memory,
            )
        })
    }

    /// (rows, rows per chunk, kept in memory) of the one read, when a run makes it.
    fn cache_read(&self) -> Option<(u64, usize, bool)> {
        // A run reads once for all blocks when it has several blocks, or one block of several
        // channels (`Coordinator::cache_visibilities`).
        let chans = self.spw_nchan.max(self.nchan_per_task);
        if self.row_partitions > 0 || self.mfs || chans <= 1 {
            return None;
        }
        let rows = self.nvis_per_chan as u64;
        let per_row = (chans * 2 * 13) as u64 + 56;
        let in_memory = rows * per_row <= crate::exec::coordinator::MEMORY_CACHE_MAX;
        Some((rows, chunk_rows(row_bytes(chans, 2, 1)), in_memory))
    }
}

/// Peak memory of one worker running one task of `spec`, GiB (base included): a block of
/// channels, or with row partitions one partition's passes; with `blocks_in_flight` blocks, what
/// their interleaving leaves resident ([`BlockShape::blocks_bytes`]); for a cube of several
/// blocks, also the one read of the visibilities before them and what it leaves held
/// ([`WorkerSpec::cache_phase`]; a Dask worker reads its own channels instead, so this is an
/// upper bound there). The local run's schedule counts the same
/// (`super::schedule::schedule`'s `estimate_bytes`).
pub fn estimate_worker_memory_gib(spec: &WorkerSpec) -> Result<f64, EngineError> {
    let shape = spec.block_shape()?;
    let blocks = spec.blocks_in_flight.max(1);
    let tasks = match spec.row_partitions {
        0 => shape.blocks_bytes(spec.nchan_per_task, blocks, spec.threads_per_task),
        n => {
            blocks as u64
                * shape.partition_bytes(spec.nvis_per_chan.div_ceil(n), spec.threads_per_task)
        }
    };
    let run = match spec.cache_phase() {
        Some((read, held)) => read.max(held + tasks),
        None => tasks,
    };
    Ok((BASE_BYTES + run) as f64 / GIB)
}

/// Peak memory of the coordinator of a run in row partitions, GiB (base included): the image
/// planes, minor cycle and products of the mfs plane, and every partition's partial image while
/// a pass is summed (`BlockShape::coordinator_bytes`). Without partitions the coordinator is a
/// worker ([`estimate_worker_memory_gib`]).
pub fn estimate_coordinator_memory_gib(spec: &WorkerSpec) -> Result<f64, EngineError> {
    let shape = spec.block_shape()?;
    let bytes = match spec.row_partitions {
        0 => shape.block_bytes(spec.nchan_per_task, spec.threads_per_task),
        n => shape.coordinator_bytes(n, spec.threads_per_task),
    };
    Ok((BASE_BYTES + bytes) as f64 / GIB)
}

/// Peak memory of `nworkers` workers (each a process with its own base), GiB.
pub fn estimate_peak_ram_gib(nworkers: usize, spec: &WorkerSpec) -> Result<f64, EngineError> {
    Ok(nworkers as f64 * estimate_worker_memory_gib(spec)?)
}

/// Workers that fit in `available_ram_gib` (default: this machine's available memory) times
/// `ram_safety_factor`; 0 when not even one fits. With row partitions a worker runs one
/// partition at a time and more workers than partitions have nothing to do: at most
/// `row_partitions` (the coordinator's own memory, on the driver, is
/// [`estimate_coordinator_memory_gib`]).
pub fn recommend_nworkers(
    available_ram_gib: Option<f64>,
    spec: &WorkerSpec,
    ram_safety_factor: f64,
) -> Result<usize, EngineError> {
    if !(ram_safety_factor > 0.0 && ram_safety_factor <= 1.0) {
        return Err(EngineError::param(
            "ram_safety_factor",
            format!("ram_safety_factor={ram_safety_factor}: use a value in (0, 1]"),
        ));
    }
    let avail = match available_ram_gib {
        Some(v) if v > 0.0 && v.is_finite() => v,
        Some(v) => {
            return Err(EngineError::param(
                "available_ram_gib",
                format!("available_ram_gib={v}: use a positive number of GiB"),
            ))
        }
        None => available_memory_bytes() as f64 / GIB,
    };
    let per = estimate_worker_memory_gib(spec)?;
    let n = (avail * ram_safety_factor / per).floor() as usize;
    Ok(match spec.row_partitions {
        0 => n,
        parts => n.min(parts),
    })
}

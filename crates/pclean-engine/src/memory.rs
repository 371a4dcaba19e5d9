//! The engine's memory model: how many bytes a channel block needs, from what the code allocates,
//! and the schedule (channels per block, blocks in flight, threads per block) that fits a budget.
//!
//! Every term names the allocation it stands for (docs/memory.md walks through them and compares
//! the model with measured peaks). Sizes per image plane use `npix = nx * ny`; the uv grid has
//! `gu * gv` cells of `grid_elem` bytes (complex single or double precision). A block runs in
//! phases (`crate::block::run_block`), and its peak is the largest phase:
//! 1. weighting densities (`f64`) of its channels, turned one by one into weighters (`f32`);
//! 2. per plane, one pass grids the PSF (keeping the plane's imaging weights, 4 bytes per
//!    visibility) and one the dirty image, each into the one oversampled grid, transformed in place;
//!    the densities are freed after the last plane;
//! 3. deconvolution: every plane's state (residual, PSF, model, masks, deconvolver planes), minor
//!    cycles (their transient planes), and major cycles plane by plane (a model grid, then the
//!    residual grid, with the plane's residual visibilities kept between the two passes);
//! 4. writing: restoration of each plane, then its products.

use crate::error::EngineError;

/// Bytes the process holds besides its blocks: the idle process (binary and libraries, MS
/// metadata, thread pools, allocator arena, the open products and casacore's caches of them),
/// measured as the run summary's `idle_rss_mib` on tests' `alma_small.ms` (13.3 MiB for a
/// 32 x 32 image, 20.5 MiB from 512 x 512 up: the products' caches stop growing), plus
/// [`IMAGING_CODE_BYTES`]; rounded up (docs/memory.md).
pub const BASE_BYTES: u64 = 24 << 20;

/// Of [`BASE_BYTES`]: the pages of pclean's code that imaging runs, resident (file-backed) once a
/// block has run. They are not heap, and a run's idle baseline is taken before imaging runs, so a
/// run's resident growth above its idle baseline is its blocks plus these: measured 1.0-1.4 MiB
/// (`RssFile` of `/proc/self/status` at the peak minus idle, 32^2 to 4096^2, Hogbom and
/// multiscale).
pub const IMAGING_CODE_BYTES: u64 = 3 << 19;

/// Visibilities per image channel the estimate assumes when the data are unknown (`WorkerSpec`,
/// `pclean estimate` without `--nvis`): 1e5, an hour of a 43-antenna array at 30 s integrations.
/// Below about 1.6e6 (4096^2) or 1e5 (1024^2) visibilities the FFT dominates the gridding cost and
/// the kernel with the least oversampling (1.2) is chosen.
pub const DEFAULT_NVIS_PER_CHAN: usize = 100_000;

/// Data channels a pass reads besides those of its image channels (see `BlockShape::spw_chans`).
pub const READ_MARGIN_CHANS: usize = 4;

/// What the size of a block depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockShape {
    pub nx: usize,
    pub ny: usize,
    pub nstokes: usize,
    /// uv grid shape (`Gridder::grid_shape`) and bytes per cell (8 single, 16 double precision).
    pub grid_u: usize,
    pub grid_v: usize,
    pub grid_elem_bytes: usize,
    /// Uniform/Briggs weighting with one density per channel (else one shared, or none).
    pub density_per_channel: bool,
    pub density: bool,
    /// Deconvolution state is held (niter > 0 or a start model).
    pub deconvolve: bool,
    /// The deconvolver and, for multiscale, its number of scales.
    pub deconvolver: DeconvolverKind,
    /// Auto-multithresh masking.
    pub automask: bool,
    /// A fixed clean mask per plane (usemask 'pb' or a user mask).
    pub fixed_mask: bool,
    /// A statistics region per plane (pblimit > 0).
    pub stats_region: bool,
    /// Rows per visibility chunk, the data channels the image spans, the image channels of the
    /// run, the selected channels of the widest spectral window, and correlations per row. A pass
    /// over image channels reads their data channels and the neighbours that can contribute
    /// (`block::restrict_sources`: the image channel widened by one, the interpolation stencil),
    /// within the window: measured 4 more for a one-channel image at the band edge of
    /// `alma_small.ms` (5 read), taken as [`READ_MARGIN_CHANS`].
    pub chunk_rows: usize,
    pub data_chans: usize,
    pub image_chans: usize,
    pub spw_chans: usize,
    pub ncorr: usize,
    /// Visibilities gridded into one image plane (selected rows x data channels per image
    /// channel): the imaging weights kept per plane and the residual visibilities of a major cycle.
    pub nvis_per_chan: usize,
}

/// The deconvolver's own planes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeconvolverKind {
    Hogbom,
    Clark,
    Multiscale { nscales: usize },
}

/// Bytes of each phase of a block (the peak is the largest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Phases {
    pub weighting: u64,
    pub first_pass: u64,
    pub minor_cycle: u64,
    pub major_cycle: u64,
    pub writing: u64,
}

impl Phases {
    pub fn peak(&self) -> u64 {
        [
            self.weighting,
            self.first_pass,
            self.minor_cycle,
            self.major_cycle,
            self.writing,
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }
}

impl BlockShape {
    fn npix(&self) -> u64 {
        (self.nx * self.ny) as u64
    }

    fn grid_bytes(&self) -> u64 {
        (self.grid_u * self.grid_v * self.grid_elem_bytes) as u64
    }

    /// One visibility chunk in flight for a pass over `nchan` image channels: the chunk as read
    /// (complex vis 8 B, flag 1 B, weight 4 B per correlation; uvw, times, ids ~64 B per row;
    /// `VisChunk`), the per-Stokes visibilities and weights formed from it (12 B per Stokes,
    /// `Prepared`; twice when regridded to another frame), one channel's column selections (vis
    /// 8 B, weights 4 B, prediction 8 B) and the gridder's bucketing entries (12 B per
    /// visibility).
    fn chunk_bytes(&self, nchan: usize) -> u64 {
        let per_image = self.data_chans as f64 / self.image_chans.max(1) as f64;
        let read = ((nchan as f64 * per_image).ceil() as usize + READ_MARGIN_CHANS)
            .min(self.spw_chans.max(1));
        let rows = self.chunk_rows.min(self.nvis_per_chan.max(1)) as u64;
        let rc = rows * read as u64;
        let per_chan = (rows as f64 * per_image.max(1.0)).ceil() as u64;
        rc * (13 * self.ncorr as u64 + 2 * 12 * self.nstokes as u64)
            + rows * 64
            + per_chan * (8 + 4 + 8 + 12)
    }

    /// Scratch per thread of a gridding pass and an FFT: the gridder's per-chunk tile counts and
    /// offsets (16 B per uv tile of 16 x 16 cells) and a block of 16 grid columns gathered for the
    /// column FFT with its scratch (2 x 16 x gv cells).
    fn thread_scratch(&self) -> u64 {
        let ntiles = ((self.grid_u + 16) / 16 + 1) * ((self.grid_v + 16) / 16 + 1);
        16 * ntiles as u64 + 2 * 16 * (self.grid_v * self.grid_elem_bytes) as u64
    }

    /// Bytes per pixel of one plane's deconvolution state: residual, PSF and model (f32), the
    /// clean mask and statistics region (bytes), auto-multithresh's primary beam copy (f32) and
    /// masks (2 bytes), multiscale's PSF and scale spectra (`(nscales + 1)` half-plane complex
    /// spectra, 4 B/px each) and `nscales (nscales + 1) / 2` scale-PSF cross terms (f32), Clark's
    /// PSF spectrum (4 B/px).
    fn state_per_pixel(&self) -> u64 {
        let mut b = 3 * 4;
        b += u64::from(self.fixed_mask || self.automask);
        b += u64::from(self.stats_region);
        if self.automask {
            b += 4 + 2;
        }
        match self.deconvolver {
            DeconvolverKind::Multiscale { nscales } => {
                let n = nscales as u64;
                b += 4 * (n + 1) + 4 * n * (n + 1) / 2;
            }
            // Clark keeps the PSF's half-plane spectrum (`ClarkPsf::psf_spec`) between cycles.
            DeconvolverKind::Clark => b += 4,
            DeconvolverKind::Hogbom => {}
        }
        b
    }

    /// Transient bytes per pixel of one plane's minor cycle: the robust statistics' copy of the
    /// residual (f32), Clark's update and convolution planes and its convolution's spectrum,
    /// multiscale's scale masks (bytes),
    /// smoothed residuals, update and convolution planes and a convolution's spectrum (f32),
    /// auto-multithresh's working planes.
    fn minor_per_pixel(&self) -> u64 {
        let stats = 4;
        let dec = match self.deconvolver {
            DeconvolverKind::Hogbom => 0,
            // the component and convolution planes, and the half-plane spectrum the exact update's
            // convolution makes (4 + 4 + 4).
            DeconvolverKind::Clark => 12,
            // masks (1) and smoothed residuals (4) per scale, the update and its convolution,
            // and the half-plane spectrum each convolution allocates (4 + 4 + 4).
            DeconvolverKind::Multiscale { nscales } => 5 * nscales as u64 + 12,
        };
        let auto = if self.automask { 6 * 4 } else { 0 };
        stats.max(dec).max(auto)
    }

    /// Bytes of each phase of a block of `nchan` image channels run with `threads` threads.
    pub fn phases(&self, nchan: usize, threads: usize) -> Phases {
        let npix = self.npix();
        let planes = (nchan * self.nstokes) as u64;
        let threads = threads.max(1) as u64;
        let ndens = if !self.density {
            0
        } else if self.density_per_channel {
            nchan as u64
        } else {
            1
        };
        let grid = self.grid_bytes();
        let scratch = threads * self.thread_scratch();
        let chunk1 = self.chunk_bytes(1);
        let weights = 4 * self.nvis_per_chan as u64;
        // 1. Densities (f64) of every channel, and the first weighter (f32) made from them.
        let weighting =
            ndens * npix * 8 + u64::from(ndens > 0) * npix * 4 + self.chunk_bytes(nchan);
        let weighters = ndens * npix * 4;
        // 2. The last plane's residual pass: the planes before it (residual + PSF + weights when
        //    deconvolving), its PSF and weights, the grid, the residual made from it.
        let kept = if self.deconvolve {
            planes.saturating_sub(1) * (8 * npix + weights)
        } else {
            0
        };
        let first_pass = weighters + kept + grid + 8 * npix + weights + chunk1 + scratch;
        if !self.deconvolve {
            // Writing a dirty plane: residual, model (zeros), pb, weight.
            let writing = 4 * 4 * npix;
            return Phases {
                weighting,
                first_pass,
                minor_cycle: 0,
                major_cycle: 0,
                writing,
            };
        }
        let state = planes * (self.state_per_pixel() * npix + weights);
        // 3. Minor cycles: planes in parallel, one per thread.
        let minor_cycle = state + threads.min(planes) * self.minor_per_pixel() * npix;
        // Major cycle of one plane: its old residual is freed before the grid is made; its
        // residual visibilities (8 B each) are kept between the prediction and gridding passes.
        let major_cycle = state + grid + 8 * self.nvis_per_chan as u64 + chunk1 + scratch;
        // 4. Writing: every plane's residual, model and mask (PSFs, weights and deconvolvers freed),
        //    the restoration of one (two half-plane spectra of the padded plane and the image:
        //    12 B/px, padding by the beam taken as 1/16 of the image), then its pb and weight.
        let masks = u64::from(self.fixed_mask || self.automask);
        let final_planes = planes * (8 + masks) * npix;
        let writing = final_planes + (12 * npix * 17 / 16).max(8 * npix);
        Phases {
            weighting,
            first_pass,
            minor_cycle,
            major_cycle,
            writing,
        }
    }

    /// Peak bytes of a block of `nchan` image channels run with `threads` threads (the largest
    /// of its [`Phases`]).
    pub fn block_bytes(&self, nchan: usize, threads: usize) -> u64 {
        self.phases(nchan, threads).peak()
    }
}

/// Bytes of every selected visibility held in memory (`VisChunk::memory_bytes` summed).
pub fn vis_cache_bytes(sel: &pclean_ms::SelectedData) -> u64 {
    sel.groups
        .iter()
        .map(|g| {
            let n = (g.rows.len() * g.chan_ids.len() * g.corrs.len()) as u64;
            n * (8 + 1 + 4) + g.rows.len() as u64 * (8 + 8 + 4 * 4 + 24)
        })
        .sum()
}

/// How a run's channels are split and run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub chans_per_block: usize,
    pub blocks_in_flight: usize,
    pub threads_per_block: usize,
    /// Estimated peak bytes of the whole run (base + blocks in flight).
    pub estimate_bytes: u64,
    pub budget_bytes: u64,
}

/// Requested settings (0 = choose automatically).
#[derive(Debug, Clone, Copy)]
pub struct ScheduleRequest {
    pub nchan: usize,
    pub nthreads: usize,
    pub chans_per_block: usize,
    pub blocks_in_flight: usize,
    pub threads_per_block: usize,
    pub budget_bytes: u64,
    /// Prefer whole-cube blocks (deconvolution: tclean's cube-wide cycle thresholds).
    pub prefer_whole_cube: bool,
}

const GIB: f64 = (1u64 << 30) as f64;

/// Choose channels per block, blocks in flight and threads per block so that
/// `BASE_BYTES + blocks_in_flight * block_bytes(chans_per_block)` fits the budget.
///
/// Automatic choices: with deconvolution, the whole cube as one block (cycle thresholds cube-wide as
/// in serial tclean) with every thread when that needs at most a quarter of the budget, else one
/// channel per block, one thread each, as many blocks in flight as threads (per-channel cycle
/// thresholds, as tclean's parallel mode per sub-cube and WSClean per channel). Without, one
/// channel per block and two threads per block, half as many blocks in flight as threads: the
/// least memory, and (measured on a 64-channel 1024^2 cube, docs/decisions.md) as fast as larger
/// blocks once the visibilities are read once for all blocks.
/// A block of one channel that does not fit alone is an error naming the estimate and the limit.
pub fn schedule(shape: &BlockShape, req: ScheduleRequest) -> Result<Schedule, EngineError> {
    let n = req.nchan.max(1);
    let threads = req.nthreads.max(1);
    let avail = req.budget_bytes.saturating_sub(BASE_BYTES);
    let one = shape.block_bytes(1, req.threads_per_block.max(1));
    if one > avail {
        return Err(EngineError::param(
            "memory_limit",
            format!(
            "memory: one channel of this image needs about {:.2} GiB (plus {:.2} GiB base) but the \
             memory limit is {:.2} GiB; raise --memory-limit or reduce imsize",
            one as f64 / GIB,
            BASE_BYTES as f64 / GIB,
            req.budget_bytes as f64 / GIB
        ),
        ));
    }
    let fits = |c: usize, b: usize, t: usize| b as u64 * shape.block_bytes(c, t) <= avail;
    let (mut c, mut b, mut t);
    // Whole-cube blocks only while they need at most a quarter of the budget; beyond that,
    // deconvolution runs per channel (one thread per block, one block per thread).
    let whole_fits = req.chans_per_block > 0
        || req.blocks_in_flight > 1
        || shape.block_bytes(n, threads) <= avail / 4;
    if req.prefer_whole_cube && !whole_fits {
        b = if req.blocks_in_flight > 0 {
            req.blocks_in_flight
        } else {
            threads.min(n)
        };
        t = if req.threads_per_block > 0 {
            req.threads_per_block
        } else {
            (threads / b).max(1)
        };
        c = 1;
    } else if req.prefer_whole_cube {
        b = if req.blocks_in_flight > 0 {
            req.blocks_in_flight
        } else {
            1
        };
        t = if req.threads_per_block > 0 {
            req.threads_per_block
        } else {
            (threads / b).max(1)
        };
        c = if req.chans_per_block > 0 {
            req.chans_per_block.min(n)
        } else {
            n.div_ceil(b)
        };
    } else {
        // One channel per block, two threads per block (the gridder and FFTs of one channel
        // scale well to two threads; more threads go to more blocks in flight).
        b = if req.blocks_in_flight > 0 {
            req.blocks_in_flight
        } else {
            threads.div_ceil(2).min(n)
        };
        t = if req.threads_per_block > 0 {
            req.threads_per_block
        } else {
            (threads / b).max(1)
        };
        c = if req.chans_per_block > 0 {
            req.chans_per_block.min(n)
        } else {
            1
        };
    }
    // Shrink to the budget: first fewer channels per block, then fewer blocks in flight.
    while !fits(c, b, t) {
        if c > 1 && req.chans_per_block == 0 {
            c = c.div_ceil(2).max(1).min(c - 1);
        } else if b > 1 {
            b -= 1;
            if req.threads_per_block == 0 {
                t = (threads / b).max(1);
            }
        } else if req.chans_per_block > 0 && c > 1 {
            return Err(EngineError::param(
                "cube_chunksize",
                format!(
                "memory: cube_chunksize={c} needs about {:.2} GiB per block but the memory limit \
                 leaves {:.2} GiB; use a smaller cube_chunksize or raise --memory-limit",
                shape.block_bytes(c, t) as f64 / GIB,
                avail as f64 / GIB
            ),
            ));
        } else {
            break;
        }
    }
    let nblocks = n.div_ceil(c);
    b = b.min(nblocks).max(1);
    Ok(Schedule {
        chans_per_block: c,
        blocks_in_flight: b,
        threads_per_block: t,
        estimate_bytes: BASE_BYTES + b as u64 * shape.block_bytes(c, t),
        budget_bytes: req.budget_bytes,
    })
}

/// The default budget: 80% of the memory available now.
pub fn default_budget_bytes() -> u64 {
    (available_memory_bytes() as f64 * 0.8) as u64
}

/// What a worker runs, for the seed's estimate functions (`pclean estimate`, the Python API).
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    pub imsize: usize,
    pub nchan_per_task: usize,
    pub gridder: String,
    /// "hogbom", "clark", "multiscale"; "none" for dirty imaging only.
    pub deconvolver: String,
    pub nterms: usize,
    pub nfields: usize,
    pub threads_per_task: usize,
    /// Visibilities per image channel (selected rows x data channels per image channel): the
    /// gridder's kernel choice (oversampling, hence the grid's size) and the per-visibility
    /// buffers depend on it. [`DEFAULT_NVIS_PER_CHAN`] by default.
    pub nvis_per_chan: usize,
    /// Channels of the spectral window the task's channels come from (a pass reads a few
    /// neighbours of its data channels within it); 0 = the task's channels only.
    pub spw_nchan: usize,
}

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
            nvis_per_chan: DEFAULT_NVIS_PER_CHAN,
            spw_nchan: 0,
        }
    }
}

impl WorkerSpec {
    /// The block shape of such a task: Stokes I, Briggs weighting with per-channel densities,
    /// default gridding accuracy (the kernel chosen for `nvis_per_chan`), two correlations, the
    /// engine's visibility chunk size, usemask='pb' with pblimit > 0, one data channel per image
    /// channel.
    pub fn block_shape(&self) -> Result<BlockShape, EngineError> {
        if self.gridder != "standard" {
            return Err(EngineError::param(
                "gridder",
                format!(
                    "gridder='{}': pclean implements only the 'standard' gridder; estimate for it",
                    self.gridder
                ),
            ));
        }
        if self.nterms != 1 {
            return Err(EngineError::param(
                "nterms",
                format!(
                "nterms={}: pclean does not implement multi-term (mtmfs) imaging yet; use nterms=1",
                self.nterms
            ),
            ));
        }
        if self.nfields != 1 {
            return Err(EngineError::param(
                "nfields",
                format!(
                    "nfields={}: pclean images one field (no outlier fields) yet; use nfields=1",
                    self.nfields
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
        let deconvolve = match self.deconvolver.as_str() {
            "none" => false,
            "hogbom" | "clark" | "multiscale" => true,
            other => {
                return Err(EngineError::param(
                    "deconvolver",
                    format!("deconvolver='{other}': use hogbom, clark, multiscale or none"),
                ))
            }
        };
        let gridder = crate::imaging::gridder_for(
            pclean_grid::gridder::GridSpec {
                nx: self.imsize,
                ny: self.imsize,
                cell_x_rad: 1e-6,
                cell_y_rad: 1e-6,
                epsilon: pclean_core::params::defaults::EPSILON,
            },
            self.nvis_per_chan,
        )?;
        let (gv, gu) = gridder.grid_shape();
        let chunk_rows =
            ((64usize << 20) / (self.nchan_per_task * (2 * 13 + 12))).clamp(256, 100_000);
        Ok(BlockShape {
            nx: self.imsize,
            ny: self.imsize,
            nstokes: 1,
            grid_u: gu,
            grid_v: gv,
            grid_elem_bytes: match gridder.precision() {
                pclean_grid::gridder::Precision::Single => 8,
                pclean_grid::gridder::Precision::Double => 16,
            },
            density_per_channel: true,
            density: true,
            deconvolve,
            // multiscale with scales [0, 5, 15] (tclean's documented example).
            deconvolver: match self.deconvolver.as_str() {
                "multiscale" => DeconvolverKind::Multiscale { nscales: 3 },
                "clark" => DeconvolverKind::Clark,
                _ => DeconvolverKind::Hogbom,
            },
            automask: false,
            // usemask='pb' (the common choice with a primary beam) and pblimit > 0 (default 0.2).
            fixed_mask: true,
            stats_region: true,
            chunk_rows,
            data_chans: self.nchan_per_task,
            image_chans: self.nchan_per_task,
            spw_chans: self.spw_nchan.max(self.nchan_per_task),
            ncorr: 2,
            nvis_per_chan: self.nvis_per_chan.max(1),
        })
    }
}

/// Peak memory of one worker running one task of `spec`, GiB (base included).
pub fn estimate_worker_memory_gib(spec: &WorkerSpec) -> Result<f64, EngineError> {
    let shape = spec.block_shape()?;
    Ok((BASE_BYTES + shape.block_bytes(spec.nchan_per_task, spec.threads_per_task)) as f64 / GIB)
}

/// Peak memory of `nworkers` workers (each a process with its own base), GiB.
pub fn estimate_peak_ram_gib(nworkers: usize, spec: &WorkerSpec) -> Result<f64, EngineError> {
    Ok(nworkers as f64 * estimate_worker_memory_gib(spec)?)
}

/// Workers that fit in `available_ram_gib` (default: this machine's available memory) times
/// `ram_safety_factor`; 0 when not even one fits.
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
    Ok((avail * ram_safety_factor / per).floor() as usize)
}

/// Memory available now (MemAvailable; else MemTotal; else 4 GiB), bytes.
pub fn available_memory_bytes() -> u64 {
    let read = |key: &str| -> Option<u64> {
        let text = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = text.lines().find(|l| l.starts_with(key))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    };
    read("MemAvailable:")
        .or_else(|| read("MemTotal:"))
        .unwrap_or(4 << 30)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(deconvolve: bool) -> BlockShape {
        BlockShape {
            nx: 1024,
            ny: 1024,
            nstokes: 1,
            grid_u: 1800,
            grid_v: 1800,
            grid_elem_bytes: 8,
            density_per_channel: true,
            density: true,
            deconvolve,
            deconvolver: DeconvolverKind::Hogbom,
            automask: false,
            fixed_mask: true,
            stats_region: true,
            chunk_rows: 10_000,
            data_chans: 64,
            image_chans: 64,
            spw_chans: 64,
            ncorr: 2,
            nvis_per_chan: 100_000,
        }
    }

    fn req(nchan: usize, budget: u64, whole: bool) -> ScheduleRequest {
        ScheduleRequest {
            nchan,
            nthreads: 4,
            chans_per_block: 0,
            blocks_in_flight: 0,
            threads_per_block: 0,
            budget_bytes: budget,
            prefer_whole_cube: whole,
        }
    }

    #[test]
    fn block_bytes_grow_linearly_with_channels() {
        let s = shape(false);
        let d1 = s.block_bytes(2, 1) - s.block_bytes(1, 1);
        let d2 = s.block_bytes(3, 1) - s.block_bytes(2, 1);
        assert_eq!(d1, d2);
        // Dirty imaging: one grid whatever the channels; a weighter (4 B/px) per channel more.
        assert_eq!(d1, 1024 * 1024 * 4);
        assert!(shape(true).block_bytes(4, 1) > s.block_bytes(4, 1));
    }

    #[test]
    fn one_grid_and_the_planes_of_a_cleaned_channel() {
        // One channel, hogbom, pb mask: residual, PSF, model (f32), mask and statistics region
        // (bytes) and one grid in the major cycle, plus per-visibility and per-thread buffers.
        let s = shape(true);
        let p = s.phases(1, 1);
        let npix = 1024 * 1024u64;
        assert_eq!(p.peak(), p.major_cycle);
        let fixed = 14 * npix + 1800 * 1800 * 8;
        assert!(
            p.major_cycle > fixed && p.major_cycle < fixed + (8 << 20),
            "{p:?}"
        );
        // Threads add only scratch (tile counts, FFT column blocks).
        assert!(s.block_bytes(1, 4) - s.block_bytes(1, 1) < 4 << 20);
    }

    #[test]
    fn schedule_fits_the_budget() {
        let s = shape(true);
        for budget in [1u64 << 30, 4 << 30, 64 << 30] {
            let sch = schedule(&s, req(64, budget, true)).unwrap();
            assert!(sch.estimate_bytes <= budget, "{sch:?}");
        }
        // A large budget: the whole cube in one block.
        let sch = schedule(&s, req(64, 64 << 30, true)).unwrap();
        assert_eq!((sch.chans_per_block, sch.blocks_in_flight), (64, 1));
        // The whole cube needs more than a quarter of the budget: one channel per block.
        let sch = schedule(&s, req(64, 2 << 30, true)).unwrap();
        assert_eq!(
            (
                sch.chans_per_block,
                sch.blocks_in_flight,
                sch.threads_per_block
            ),
            (1, 4, 1)
        );
        // Dirty imaging: one-channel blocks, two threads each.
        let sch = schedule(&shape(false), req(64, 64 << 30, false)).unwrap();
        assert_eq!(
            (
                sch.chans_per_block,
                sch.blocks_in_flight,
                sch.threads_per_block
            ),
            (1, 2, 2)
        );
    }

    #[test]
    fn worker_estimates() {
        let spec = WorkerSpec {
            imsize: 4096,
            ..Default::default()
        };
        let one = estimate_worker_memory_gib(&spec).unwrap();
        let four = estimate_worker_memory_gib(&WorkerSpec {
            nchan_per_task: 4,
            ..spec.clone()
        })
        .unwrap();
        // 4096^2, one channel, hogbom: about 27 B/px with the base.
        let per_pixel = one * GIB / (4096.0 * 4096.0);
        assert!(per_pixel > 24.0 && per_pixel < 30.0, "{per_pixel}");
        assert!(four > 2.0 * one, "{one} {four}");
        assert_eq!(estimate_peak_ram_gib(3, &spec).unwrap(), 3.0 * one);
        let n = recommend_nworkers(Some(100.0), &spec, 0.85).unwrap();
        assert_eq!(n, (85.0 / one).floor() as usize);
        assert_eq!(recommend_nworkers(Some(0.01), &spec, 0.85).unwrap(), 0);
        for bad in [
            WorkerSpec {
                gridder: "wproject".into(),
                ..spec.clone()
            },
            WorkerSpec {
                nterms: 2,
                ..spec.clone()
            },
            WorkerSpec {
                deconvolver: "mem".into(),
                ..spec.clone()
            },
        ] {
            assert!(estimate_worker_memory_gib(&bad).is_err());
        }
        assert!(recommend_nworkers(Some(10.0), &spec, 1.5).is_err());
    }

    #[test]
    fn too_small_a_budget_is_an_error() {
        let e = schedule(&shape(true), req(64, 50 << 20, true)).unwrap_err();
        assert!(e.to_string().contains("memory limit"), "{e}");
    }

    #[test]
    fn fewer_blocks_in_flight_when_memory_is_short() {
        let s = shape(false);
        let mut r = req(64, 0, false);
        r.chans_per_block = 4;
        r.budget_bytes = BASE_BYTES + 2 * s.block_bytes(4, 2) + 1;
        let sch = schedule(&s, r).unwrap();
        assert_eq!(sch.blocks_in_flight, 2);
    }
}

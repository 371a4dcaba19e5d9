//! The engine's memory model: how many bytes a channel block needs, from what the code allocates,
//! and the schedule (channels per block, blocks in flight, threads per block) that fits a budget.
//!
//! Every term names the allocation it stands for. Sizes per image plane use `npix = nx * ny`; the
//! uv grid has `gu * gv` cells of `grid_elem` bytes (complex single or double precision).

use crate::error::EngineError;

/// Bytes the process holds before any block starts: the binary and its libraries (casacore),
/// MS metadata, the thread pools, allocator arenas. Measured as the idle RSS of `pclean image`
/// just before imaging (about 40-60 MiB on Linux x86_64); rounded up.
pub const BASE_BYTES: u64 = 64 << 20;

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
    /// Deconvolution state is held (niter > 0).
    pub deconvolve: bool,
    /// Extra image planes the deconvolver keeps per plane (multiscale: scale images).
    pub deconvolver_planes: usize,
    /// Auto-multithresh masking (its working planes per plane).
    pub automask: bool,
    /// Rows per visibility chunk, the selected data channels (of the widest spectral window),
    /// the image channels of the run, and correlations per row. A block reads only the data
    /// channels of its image channels (plus an interpolation margin).
    pub chunk_rows: usize,
    pub data_chans: usize,
    pub image_chans: usize,
    pub ncorr: usize,
}

impl BlockShape {
    fn npix(&self) -> u64 {
        (self.nx * self.ny) as u64
    }

    fn grid_bytes(&self) -> u64 {
        (self.grid_u * self.grid_v * self.grid_elem_bytes) as u64
    }

    /// One visibility chunk in flight: the chunk as read (complex vis 8 B, flag 1 B, weight 4 B
    /// per correlation, `VisChunk`), the per-Stokes visibilities and weights formed from it
    /// (12 B per Stokes, `Prepared`; twice when regridded to another frame), the per-channel
    /// column selections of one channel being gridded (12 B), and the gridder's bucketing
    /// entries (16 B per visibility).
    fn chunk_bytes(&self, nchan: usize) -> u64 {
        let per_image = self.data_chans as f64 / self.image_chans.max(1) as f64;
        let read = ((nchan as f64 * per_image).ceil() as usize + 6).min(self.data_chans.max(1));
        let rc = (self.chunk_rows * read) as u64;
        rc * (13 * self.ncorr as u64 + 2 * 12 * self.nstokes as u64) + rc * (12 + 16)
    }

    /// Transient buffers of one channel's FFT (`grid_to_image`): the intermediate (ny x gu) array
    /// of grid precision, the f64 image, and its f32 normalised copy.
    fn fft_bytes(&self) -> u64 {
        (self.ny * self.grid_u * self.grid_elem_bytes) as u64 + self.npix() * (8 + 4)
    }

    /// Peak bytes of a block of `nchan` image channels run with `threads` threads.
    ///
    /// The peak is the first imaging pass: per channel and Stokes a dirty and a PSF grid, the
    /// weighting densities (f64 while accumulating, then the f32 weighter; both exist while the
    /// weighters are finished), the dirty and PSF planes (f32); plus, with deconvolution, the
    /// planes each deconvolved plane keeps (residual, model, PSF, primary beam: f32; the f64 model
    /// copy for prediction; masks as bytes; the deconvolver's and auto-masker's planes) while
    /// a major cycle holds one dirty grid per plane.
    pub fn block_bytes(&self, nchan: usize, threads: usize) -> u64 {
        let npix = self.npix();
        let planes = (nchan * self.nstokes) as u64;
        let ndens = if !self.density {
            0
        } else if self.density_per_channel {
            nchan as u64
        } else {
            1
        };
        let weighters = ndens * npix * (8 + 4);
        // Concurrent FFTs: one per thread, at most one per plane.
        let ffts = threads.max(1).min(nchan * self.nstokes).max(1) as u64 * self.fft_bytes();
        let chunk = self.chunk_bytes(nchan);
        let first_pass = planes * (2 * self.grid_bytes() + 2 * npix * 4);
        if !self.deconvolve {
            return weighters + chunk + ffts + first_pass;
        }
        let mut per_plane = npix * (4 * 4 + 8 + 3);
        per_plane += self.deconvolver_planes as u64 * npix * 4;
        if self.automask {
            per_plane += 6 * npix * 4;
        }
        let state = planes * per_plane;
        let major = planes * (self.grid_bytes() + npix * 4);
        weighters + chunk + ffts + state + first_pass.max(major)
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
        return Err(EngineError::Param(format!(
            "memory: one channel of this image needs about {:.2} GiB (plus {:.2} GiB base) but the \
             memory limit is {:.2} GiB; raise --memory-limit or reduce imsize",
            one as f64 / GIB,
            BASE_BYTES as f64 / GIB,
            req.budget_bytes as f64 / GIB
        )));
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
            return Err(EngineError::Param(format!(
                "memory: cube_chunksize={c} needs about {:.2} GiB per block but the memory limit \
                 leaves {:.2} GiB; use a smaller cube_chunksize or raise --memory-limit",
                shape.block_bytes(c, t) as f64 / GIB,
                avail as f64 / GIB
            )));
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
        }
    }
}

impl WorkerSpec {
    /// The block shape of such a task: Stokes I, Briggs weighting with per-channel densities,
    /// default gridding accuracy, two correlations, the engine's visibility chunk size.
    pub fn block_shape(&self) -> Result<BlockShape, EngineError> {
        if self.gridder != "standard" {
            return Err(EngineError::Param(format!(
                "gridder='{}': pclean implements only the 'standard' gridder; estimate for it",
                self.gridder
            )));
        }
        if self.nterms != 1 {
            return Err(EngineError::Param(format!(
                "nterms={}: pclean does not implement multi-term (mtmfs) imaging yet; use nterms=1",
                self.nterms
            )));
        }
        if self.nfields != 1 {
            return Err(EngineError::Param(format!(
                "nfields={}: pclean images one field (no outlier fields) yet; use nfields=1",
                self.nfields
            )));
        }
        if self.imsize == 0 || self.nchan_per_task == 0 || self.threads_per_task == 0 {
            return Err(EngineError::Param(
                "imsize, nchan_per_task and threads_per_task must be positive".into(),
            ));
        }
        let deconvolve = match self.deconvolver.as_str() {
            "none" => false,
            "hogbom" | "clark" | "multiscale" => true,
            other => {
                return Err(EngineError::Param(format!(
                    "deconvolver='{other}': use hogbom, clark, multiscale or none"
                )))
            }
        };
        let gridder = pclean_grid::gridder::Gridder::new(pclean_grid::gridder::GridSpec {
            nx: self.imsize,
            ny: self.imsize,
            cell_x_rad: 1e-6,
            cell_y_rad: 1e-6,
            epsilon: pclean_core::params::defaults::EPSILON,
        })
        .map_err(|e| EngineError::Grid(e.to_string()))?;
        let (gu, gv) = gridder.grid_shape();
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
            // multiscale with tclean's default scales [0, 5, 15]: three scale images per scale.
            deconvolver_planes: if self.deconvolver == "multiscale" {
                9
            } else {
                0
            },
            automask: false,
            chunk_rows,
            data_chans: self.nchan_per_task,
            image_chans: self.nchan_per_task,
            ncorr: 2,
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
        return Err(EngineError::Param(format!(
            "ram_safety_factor={ram_safety_factor}: use a value in (0, 1]"
        )));
    }
    let avail = match available_ram_gib {
        Some(v) if v > 0.0 && v.is_finite() => v,
        Some(v) => {
            return Err(EngineError::Param(format!(
                "available_ram_gib={v}: use a positive number of GiB"
            )))
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
            deconvolver_planes: 0,
            automask: false,
            chunk_rows: 10_000,
            data_chans: 64,
            image_chans: 64,
            ncorr: 2,
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
        // Two single-precision grids of 1800^2 plus planes and densities per channel.
        assert!(d1 > 2 * 1800 * 1800 * 8);
        assert!(shape(true).block_bytes(4, 1) > s.block_bytes(4, 1));
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
        let sch = schedule(&s, req(64, 8 << 30, true)).unwrap();
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
        assert!(one > 0.3 && four > 3.0 * (one - BASE_BYTES as f64 / GIB));
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
        let e = schedule(&shape(true), req(64, 100 << 20, true)).unwrap_err();
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

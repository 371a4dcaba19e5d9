//! The schedule: channels per block, blocks in flight and threads per block within a budget.

use super::{BlockShape, BASE_BYTES, GIB};
use crate::error::EngineError;

/// How a run's channels are split and run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub chans_per_block: usize,
    pub blocks_in_flight: usize,
    pub threads_per_block: usize,
    /// Estimated peak bytes of the whole run: the base, then the one read of the visibilities
    /// (`ScheduleRequest::cache_read`) or the blocks in flight beside what that read leaves
    /// resident, whichever is larger.
    pub estimate_bytes: u64,
    /// Of that, the blocks in flight (`blocks_in_flight` blocks' peaks and what their
    /// interleaving leaves resident, [`BlockShape::blocks_bytes`]).
    pub blocks_bytes: u64,
    pub budget_bytes: u64,
}

/// The one read of a cube's visibilities for all its blocks, before them
/// (`Coordinator::cache_visibilities`), as the schedule counts it: bytes resident at the read's
/// peak and while the blocks run ([`super::cache_phase`]). Zero for a run that does not make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheRead {
    pub peak: u64,
    pub held: u64,
}

impl CacheRead {
    /// From [`super::cache_phase`]'s (peak, held).
    pub fn new((peak, held): (u64, u64)) -> CacheRead {
        CacheRead { peak, held }
    }
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
    /// Channels per block of the automatic schedule without deconvolution: 1, or
    /// [`REGRID_BLOCK_CHANS`] for a cube interpolated to another frame (a block prepares its
    /// data channels once, `source::prepare_block`, and a one-channel block's interpolation
    /// stencil and read margin are about ten data channels).
    pub dirty_chans_per_block: usize,
    /// The one read of the visibilities before the blocks: what it leaves resident is taken from
    /// the budget before any block, and its peak must fit the budget too.
    pub cache_read: CacheRead,
}

/// Channels per block of a dirty cube regridded to another frame with interpolation
/// (`ScheduleRequest::dirty_chans_per_block`). Measured on the 64-channel ALMA-like cube
/// (512^2 x 32, 108k rows, docs/decisions.md (s10-perf)): imaging after the read took 1.8x the
/// `cubedata` time with one-channel blocks, 1.3x with 8, 1.1x with 16; 8 keeps the block below
/// the one read of the visibilities, the run's peak.
pub const REGRID_BLOCK_CHANS: usize = 8;

/// Choose channels per block, blocks in flight and threads per block so that
/// `BASE_BYTES + cache_read.held + blocks_bytes(chans_per_block, blocks_in_flight)` (the blocks
/// and what their interleaving leaves resident, [`BlockShape::blocks_bytes`]) fits the budget
/// (and `BASE_BYTES + cache_read.peak`, the read before the blocks).
///
/// Automatic choices: with deconvolution, the whole cube as one block (cycle thresholds cube-wide as
/// in serial tclean) with every thread when that needs at most a quarter of the budget, else one
/// channel per block, one thread each, as many blocks in flight as threads (per-channel cycle
/// thresholds, as tclean's parallel mode per sub-cube and WSClean per channel). Without, one
/// thread per block and as many blocks in flight as threads (`dirty_chans_per_block` channels
/// each), shrunk to the budget.
/// A block of one channel that does not fit alone is an error naming the estimate and the limit.
pub fn schedule(shape: &BlockShape, req: ScheduleRequest) -> Result<Schedule, EngineError> {
    let n = req.nchan.max(1);
    let threads = req.nthreads.max(1);
    let read = req.cache_read;
    if BASE_BYTES + read.peak > req.budget_bytes {
        return Err(EngineError::param(
            "memory_limit",
            format!(
                "memory: reading the selected visibilities once for all channel blocks needs \
                 about {:.2} GiB (plus {:.2} GiB base) but the memory limit is {:.2} GiB; raise \
                 --memory-limit or select fewer rows or channels",
                read.peak as f64 / GIB,
                BASE_BYTES as f64 / GIB,
                req.budget_bytes as f64 / GIB
            ),
        ));
    }
    let avail = req.budget_bytes.saturating_sub(BASE_BYTES + read.held);
    let one = shape.block_bytes(1, req.threads_per_block.max(1));
    if one > avail {
        return Err(EngineError::param(
            "memory_limit",
            format!(
                "memory: one channel of this image needs about {:.2} GiB (plus {:.2} GiB base and \
             {:.2} GiB the visibilities' one read leaves held) but the memory limit is {:.2} GiB; \
             raise --memory-limit or reduce imsize",
                one as f64 / GIB,
                BASE_BYTES as f64 / GIB,
                read.held as f64 / GIB,
                req.budget_bytes as f64 / GIB
            ),
        ));
    }
    let fits = |c: usize, b: usize, t: usize| shape.blocks_bytes(c, b, t) <= avail;
    // A requested value (> 0) wins over the automatic one.
    let or_auto = |v: usize, auto: usize| if v > 0 { v } else { auto };
    // Whole-cube blocks only while they need at most a quarter of the budget; beyond that,
    // deconvolution runs per channel (one thread per block, one block per thread).
    let whole_fits = req.chans_per_block > 0
        || req.blocks_in_flight > 1
        || shape.block_bytes(n, threads) <= avail / 4;
    let whole = req.prefer_whole_cube && whole_fits;
    let auto_blocks = if whole {
        1
    } else if req.prefer_whole_cube {
        threads.min(n)
    } else {
        // One thread per block, as many blocks in flight as threads: a plane's gridding, FFTs,
        // beam fit and writes keep two threads busy only part of the time (measured on the
        // 1024^2 x 64 LSRK cube, docs/decisions.md (s16-cube): 1.1 cores of 2 busy).
        threads.min(n)
    };
    let mut b = or_auto(req.blocks_in_flight, auto_blocks);
    let mut t = or_auto(req.threads_per_block, (threads / b).max(1));
    let mut c = if req.prefer_whole_cube && !whole_fits {
        1
    } else {
        or_auto(
            req.chans_per_block.min(n),
            if whole {
                n.div_ceil(b)
            } else if req.prefer_whole_cube {
                1
            } else {
                req.dirty_chans_per_block.clamp(1, n)
            },
        )
    };
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
    let blocks_bytes = shape.blocks_bytes(c, b, t);
    Ok(Schedule {
        chans_per_block: c,
        blocks_in_flight: b,
        threads_per_block: t,
        estimate_bytes: BASE_BYTES + read.peak.max(read.held + blocks_bytes),
        blocks_bytes,
        budget_bytes: req.budget_bytes,
    })
}

/// The default budget: 80% of the memory available now.
pub fn default_budget_bytes() -> u64 {
    (available_memory_bytes() as f64 * 0.8) as u64
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

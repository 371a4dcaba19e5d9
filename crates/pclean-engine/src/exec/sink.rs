//! The writer side shared by the blocks in flight: the products, the checkpoint and the progress
//! bar, with the durability rules (planes made durable before a block is recorded complete;
//! records at most every commit interval).

use super::block::BlockResult;
use super::block_io::{block_meta, BlockMeta};
use super::checkpoint::Checkpoint;
use super::progress::Progress;
use crate::error::EngineError;
use crate::products::{fsync_tree, Products, TaskSummary};
use pclean_core::params::ImagingParams;
use std::path::PathBuf;
use std::time::Instant;

/// The writer side shared by the blocks in flight: products, checkpoint, progress.
pub(crate) struct Sink {
    pub(crate) out: Products,
    pub(crate) ckpt: Checkpoint,
    pub(super) progress: Progress,
    pub(super) path: PathBuf,
    pub(crate) freqs_hz: Vec<f64>,
    /// Blocks written but not yet recorded complete.
    pub(crate) pending: Vec<usize>,
    pub(super) last_commit: Instant,
    pub(super) interval: std::time::Duration,
    /// A worker is making planes durable for a record (outside the lock).
    pub(super) committing: bool,
}

/// Blocks to record once the product data at these paths is durable.
pub(crate) type DueCommit = (Vec<usize>, Vec<PathBuf>);

/// Blocks are recorded complete at most this often (each record fsyncs every product), so a
/// killed run loses at most this much finished work: 5 s, or `PCLEAN_COMMIT_INTERVAL_S` seconds.
pub(super) fn commit_interval() -> std::time::Duration {
    let s = std::env::var("PCLEAN_COMMIT_INTERVAL_S")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .unwrap_or(5.0);
    std::time::Duration::from_secs_f64(s)
}

/// Test hook: with `PCLEAN_TEST_KILL_AFTER_BLOCKS=N` the process aborts (no destructors, no
/// flush: as a SIGKILL landing there) right after a record that leaves at least `N` blocks
/// recorded complete. A resume test needs a kill between two records; a run whose blocks take
/// milliseconds (a small mosaic cube) finishes before an outside poller can kill it.
const TEST_KILL_VAR: &str = "PCLEAN_TEST_KILL_AFTER_BLOCKS";

fn abort_if_test_kill_due(done: usize) {
    let due = std::env::var(TEST_KILL_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .is_some_and(|n| done >= n);
    if due {
        eprintln!("pclean: {TEST_KILL_VAR}: aborting after {done} recorded blocks (a test hook)");
        std::process::abort();
    }
}

/// Test hook: with `PCLEAN_TEST_PAUSE_AFTER_RECORD_MS=N` the thread recording blocks sleeps `N`
/// ms after each record (the lock's heartbeat thread goes on). A test that needs a run still alive
/// seconds after its first record (the cross-host lock test) gets one however fast the machine.
const TEST_PAUSE_VAR: &str = "PCLEAN_TEST_PAUSE_AFTER_RECORD_MS";

fn pause_if_test_hook() {
    if let Some(ms) = std::env::var(TEST_PAUSE_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

impl Sink {
    /// Record block `b` computed here (its planes are already in the products). When a record
    /// is due, flush the products and return the blocks to record and the paths to fsync first.
    pub(crate) fn write_block(
        &mut self,
        params: &ImagingParams,
        b: usize,
        r: BlockResult,
        task: TaskSummary,
    ) -> Result<Option<DueCommit>, EngineError> {
        let meta = block_meta(params, &self.freqs_hz, r);
        self.record_block(b, meta, task)
    }

    /// Note block `b`'s metadata (its planes are written); when a record is due, flush the
    /// products and return the blocks to record and the paths to fsync first.
    pub(crate) fn record_block(
        &mut self,
        b: usize,
        meta: BlockMeta,
        task: TaskSummary,
    ) -> Result<Option<DueCommit>, EngineError> {
        let nchan = self.ckpt.nchan;
        let mut nchans = 0;
        for (k, s, beam) in meta.beams {
            self.ckpt.beams[k + nchan * s] = beam;
        }
        for c in meta.channels {
            nchans += 1;
            self.ckpt.channels.push(c);
        }
        self.ckpt.warnings.extend(meta.warnings);
        self.ckpt.tasks.push(task);
        self.pending.push(b);
        self.progress.advance(nchans);
        if self.committing || self.last_commit.elapsed() < self.interval {
            return Ok(None);
        }
        // Due: hand the planes to the OS now; the caller fsyncs them and then records the blocks.
        self.out.flush()?;
        self.committing = true;
        Ok(Some((
            std::mem::take(&mut self.pending),
            self.out.data_paths(),
        )))
    }

    /// Record `blocks` complete (their planes are durable).
    pub(crate) fn record(&mut self, blocks: Vec<usize>) -> Result<(), EngineError> {
        for b in blocks {
            self.ckpt.done[b] = true;
        }
        self.ckpt.save(&self.path, true)?;
        self.committing = false;
        self.last_commit = Instant::now();
        abort_if_test_kill_due(self.ckpt.done.iter().filter(|d| **d).count());
        pause_if_test_hook();
        Ok(())
    }

    /// Make the written planes durable (fsync), then record their blocks complete.
    pub(crate) fn commit(&mut self) -> Result<(), EngineError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.out.flush()?;
        for p in self.out.data_paths() {
            fsync_tree(&p)?;
        }
        let blocks = std::mem::take(&mut self.pending);
        self.record(blocks)
    }
}

//! `run_image`: the whole imaging run on this machine: a [`Coordinator`] whose blocks are run by
//! the local executor (a pool of block threads writing straight into the products).

use crate::alloc_count;
use crate::block::run_block;
use crate::coordinator::{Coordinator, DueCommit};
use crate::error::EngineError;
use crate::products::fsync_tree;
use crate::summary::{RunSummary, TaskSummary};
use ndarray::ArrayView2;
use pclean_core::params::{ImagingParams, RawParams};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use tracing::{info, warn};

const GIB: f64 = (1u64 << 30) as f64;
const MIB: f64 = (1u64 << 20) as f64;

/// Make the products described by `params` on this machine. `effective` (the merged raw
/// parameters with defaults) is saved next to the products for reproducibility.
pub fn run_image(params: &ImagingParams, effective: &RawParams) -> Result<RunSummary, EngineError> {
    let mut c = Coordinator::new(params.clone(), effective.clone())?;
    if let Err(e) = run_local(&mut c) {
        // The products stay marked incomplete and the checkpoint names the finished blocks, so
        // running the same command again resumes.
        if let Err(r) = c.abort() {
            warn!("cannot record the finished blocks: {r}");
        }
        return Err(e);
    }
    c.finish()
}

/// The local executor: image (and deconvolve) the pending channel blocks, `blocks_in_flight` at
/// a time; each block's planes go straight into the products, then the block is recorded
/// complete (fsynced on a committer thread so the block threads go on imaging).
fn run_local(c: &mut Coordinator) -> Result<(), EngineError> {
    let todo: Vec<usize> = c.pending().iter().map(|p| p.block).collect();
    let params = &c.params;
    let nchan = c.setup.plan.nchan();
    let use_cache = !c.setup.plan.mfs && nchan > 1;
    let cache_in_memory = c.cache_in_memory;
    // A block of several channels images them one by one: without the cache each plane would
    // read the MS again.
    let multi_chan_block = c
        .pending()
        .iter()
        .any(|p| p.channels[1] - p.channels[0] > 1);
    if use_cache && (todo.len() > 1 || multi_chan_block) {
        // Reading the visibilities once for all blocks holds a chunk of every selected channel:
        // at most an eighth of the budget (a 50 MB limit peaked at 76 MiB RSS with 64 MiB chunks).
        let load_rows =
            (((c.budget / 8) as usize) / c.setup.row_bytes).clamp(256, c.setup.chunk_rows);
        let t = Instant::now();
        for src in c.setup.sources.iter_mut() {
            let disk = (!cache_in_memory)
                .then(|| PathBuf::from(format!("{}.visstore{}", params.imagename, src.index)));
            let bytes = src.load_cache(load_rows, disk.as_deref())? as f64 / MIB;
            if cache_in_memory {
                c.cached_mib += bytes;
            } else {
                c.scratch_mib += bytes;
            }
        }
        info!(
            memory_mib = format!("{:.0}", c.cached_mib),
            scratch_file_mib = format!("{:.0}", c.scratch_mib),
            seconds = format!("{:.2}", t.elapsed().as_secs_f64()),
            "read the selected visibilities once for all blocks"
        );
    }
    let c = &*c;
    let params = &c.params;
    let sched = c.sched;
    let nblocks = c.sink.lock().map_or(0, |s| s.ckpt.blocks.len());
    info!(
        nchan,
        chans_per_block = sched.chans_per_block,
        blocks = nblocks,
        blocks_in_flight = sched.blocks_in_flight,
        threads_per_block = sched.threads_per_block,
        memory_estimate_gib = format!("{:.2}", sched.estimate_bytes as f64 / GIB),
        memory_limit_gib = format!("{:.2}", sched.budget_bytes as f64 / GIB),
        kernel_support = c.setup.gridder.kernel_support(),
        oversampling = c.setup.gridder.oversampling(),
        "imaging {} MS(s) into {}x{} x {} channel(s) x {} Stokes",
        c.setup.sources.len(),
        params.nx,
        params.ny,
        nchan,
        params.stokes.0.len()
    );
    let ctx = c.setup.context(params, sched.threads_per_block);
    // A cube with one weighting density for all channels: made once from every channel.
    let shared_weighter = c.setup.shared_weighter(params, c.setup.nthreads)?;
    let inputs = c.block_inputs(&ctx, shared_weighter.as_ref());
    let blocks = c
        .sink
        .lock()
        .map(|s| s.ckpt.blocks.clone())
        .unwrap_or_default();
    let sink = &c.sink;
    let next = AtomicUsize::new(0);
    let failed: Mutex<Option<EngineError>> = Mutex::new(None);
    let fail = |e: EngineError| {
        let mut f = failed.lock().unwrap_or_else(|p| p.into_inner());
        if f.is_none() {
            *f = Some(e);
        }
    };
    let (tx, rx) = std::sync::mpsc::channel::<DueCommit>();
    std::thread::scope(|scope| {
        {
            let fail = &fail;
            scope.spawn(move || {
                // fsync the products' data, then record the blocks (at most one at a time: the
                // sink starts no new record while one is pending).
                for (blocks, paths) in rx {
                    let res = paths.iter().try_for_each(|p| fsync_tree(p)).and_then(|_| {
                        sink.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .record(blocks)
                    });
                    if let Err(e) = res {
                        fail(e);
                    }
                }
            });
        }
        for w in 0..sched.blocks_in_flight.min(todo.len()) {
            let tx = tx.clone();
            let (fail, next, todo, blocks, inputs, failed) =
                (&fail, &next, &todo, &blocks, &inputs, &failed);
            scope.spawn(move || {
                alloc_count::set_thread_slot(w);
                let pool = match rayon::ThreadPoolBuilder::new()
                    .num_threads(sched.threads_per_block)
                    .start_handler(move |_| alloc_count::set_thread_slot(w))
                    .build()
                {
                    Ok(p) => p,
                    Err(source) => {
                        return fail(EngineError::Threads {
                            threads: sched.threads_per_block,
                            source,
                        })
                    }
                };
                loop {
                    if failed.lock().map_or(true, |f| f.is_some()) {
                        return;
                    }
                    let j = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&b) = todo.get(j) else { return };
                    let [a, z] = blocks[b];
                    let t = Instant::now();
                    let base = alloc_count::slot_begin(w);
                    // Planes go into the products as soon as they are final.
                    let put = |ext: &'static str, k: usize, st: usize, plane: ArrayView2<f32>| {
                        sink.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .out
                            .put(ext, k, st, plane)
                    };
                    let res = pool
                        .install(|| run_block(inputs, a..z, &put))
                        .and_then(|r| {
                            let task = TaskSummary {
                                channels: [a, z],
                                wall_time_s: t.elapsed().as_secs_f64(),
                                peak_alloc_mib: alloc_count::slot_peak_since(w, base)
                                    .map(|v| v as f64 / MIB),
                            };
                            let due = sink
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .write_block(params, b, r, task)?;
                            // Durability on the committer thread: this worker goes on imaging.
                            if let Some(d) = due {
                                let _ = tx.send(d);
                            }
                            Ok(())
                        });
                    if let Err(e) = res {
                        return fail(e);
                    }
                }
            });
        }
        drop(tx);
    });
    match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

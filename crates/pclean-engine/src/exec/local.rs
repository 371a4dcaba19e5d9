//! `run_image`: the whole imaging run on this machine: a [`Coordinator`] whose blocks are run by
//! the local executor (a pool of block threads writing straight into the products).

use super::block::run_block;
use super::coordinator::Coordinator;
use super::rows::remote::{RemoteRows, SubmitRows};
use super::rows::{PartitionRunner, RowReduce, RowReducer};
use super::sink::DueCommit;
use super::thread_pool_in_slot;
use crate::alloc_count;
use crate::cycles::cycle_ckpt::cycle_checkpoint_path;
use crate::error::EngineError;
use crate::plan::memory::MIB;
use crate::products::{fsync_tree, RunSummary, TaskSummary};
use ndarray::ArrayView2;
use pclean_core::params::{ImagingParams, RawParams};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use tracing::warn;

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
    c.cache_visibilities(&c.pending())?;
    // An mfs image in row partitions: the passes are gathered from them (exec::rows), as many
    // partitions in flight as the memory budget allows.
    let sched = c.schedule();
    let rows =
        super::rows::local::local_reducer(c.setup(), sched.threads_per_block, sched.budget_bytes)?;
    run_pending(c, rows.as_ref())
}

/// [`run_local`] with an mfs image's `n` row partitions run by `submit` (remote workers: the
/// Dask driver's); the minor cycle, masks, products and checkpoint stay here.
pub fn run_rows_remote<S: SubmitRows>(
    c: &mut Coordinator,
    n: usize,
    submit: S,
) -> Result<(), EngineError> {
    if !c.setup().plan.mfs {
        return Err(EngineError::protocol(
            "row partitions image a continuum (specmode='mfs') run only",
        ));
    }
    let runner = RemoteRows::new(c.setup(), n, submit);
    let save = c.setup().params.deconv.savemodel_column;
    if save {
        // Before any partition opens the MSs elsewhere: none of them adds the column then.
        c.setup().ensure_model_columns()?;
    }
    let reducer = RowReducer::new(runner, "dask");
    run_pending(c, Some(&reducer))?;
    if save {
        // Each partition writes MODEL_DATA into its own rows (the same prediction as the
        // single-process finish, over the union of the partitions' rows).
        let rows = reducer.runner().save_model(c.saved_model()?)?;
        c.model_column_written = true;
        tracing::info!(
            rows,
            "the row partitions wrote the model visibilities to MODEL_DATA"
        );
    }
    Ok(())
}

/// The pending blocks on this process's block threads, their passes gathered from `rows` when
/// given.
fn run_pending<R: PartitionRunner>(
    c: &Coordinator,
    rows: Option<&RowReducer<R>>,
) -> Result<(), EngineError> {
    let pending = c.pending();
    c.log_plan();
    let sched = c.schedule();
    let setup = c.setup();
    let mut ctx = setup.context(sched.threads_per_block);
    ctx.rows = rows.map(|r| r as &dyn RowReduce);
    // A cube with one weighting density for all channels: made once from every channel.
    let shared_weighter = setup.shared_weighter(setup.nthreads)?;
    let mut inputs = setup.block_inputs(&ctx, shared_weighter.as_ref());
    // A continuum run's deconvolution runs here, on the coordinator: its state is recorded after
    // every major cycle, and a rerun after the coordinator was killed resumes from it.
    if setup.plan.mfs {
        inputs.cycle_checkpoint = Some(cycle_checkpoint_path(&setup.params.imagename));
    }
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
                    let res = paths
                        .iter()
                        .try_for_each(|p| fsync_tree(p))
                        .and_then(|_| c.record(blocks));
                    if let Err(e) = res {
                        fail(e);
                    }
                }
            });
        }
        for w in 0..sched.blocks_in_flight.min(pending.len()) {
            let tx = tx.clone();
            let (fail, next, pending, inputs, failed) = (&fail, &next, &pending, &inputs, &failed);
            scope.spawn(move || {
                alloc_count::set_thread_slot(w);
                let pool = match thread_pool_in_slot(sched.threads_per_block, Some(w)) {
                    Ok(p) => p,
                    Err(e) => return fail(e),
                };
                loop {
                    if failed.lock().map_or(true, |f| f.is_some()) {
                        return;
                    }
                    // SIGINT/SIGTERM: no new block; those in flight finish and are recorded.
                    if let Some(sig) = crate::interrupt::requested() {
                        return fail(EngineError::Interrupted {
                            signal: crate::interrupt::signal_name(sig),
                            checkpoint: super::checkpoint::checkpoint_path(&setup.params.imagename),
                        });
                    }
                    let j = next.fetch_add(1, Ordering::SeqCst);
                    let Some(block) = pending.get(j) else { return };
                    let [a, z] = block.channels;
                    let t = Instant::now();
                    let base = alloc_count::slot_begin(w);
                    // Planes go into the products as soon as they are final.
                    let put = |ext: &'static str, k: usize, st: usize, plane: ArrayView2<f32>| {
                        c.put_plane(ext, k, st, plane)
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
                            // Durability on the committer thread: this worker goes on imaging.
                            if let Some(d) = c.block_done(block.block, r, task)? {
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
    if let Some(r) = rows {
        c.set_rows_summary(r.summary());
    }
    match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

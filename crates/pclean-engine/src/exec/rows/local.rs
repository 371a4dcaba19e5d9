//! The local partition runner: every partition's task on this process's threads, each partition
//! keeping its planes' imaging weights between passes as the single-process run does. At most
//! `in_flight` partitions run at once (sized by the memory model, `BlockShape::partitions_in_flight`),
//! each in its own lane: a rayon pool of its share of the threads, tagged with its own accounting
//! slot, so that a partition's peak heap is measured apart (`TaskStat::peak_alloc`).

use super::{
    partition_sources, plan_partitions, PartitionRunner, RowOutput, RowPartition, RowReducer,
    RowTask, TaskStat,
};
use crate::alloc_count;
use crate::error::EngineError;
use crate::exec::thread_pool_in_slot;
use crate::imaging::{ImagingContext, PlaneWeights};
use crate::plan::Setup;
use crate::source::Source;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Accounting slots of the lanes: above the block workers' (`alloc_count::SLOTS` in all).
const LANE_SLOT0: usize = alloc_count::SLOTS / 2;

/// The row partitions of `setup`'s run on this process (`row_partitions` > 0 with specmode mfs),
/// or `None`: the single-process passes. `threads` are the block's; `budget_bytes` the run's
/// memory budget, which caps the partitions in flight.
pub fn local_reducer(
    setup: &Setup,
    threads: usize,
    budget_bytes: u64,
) -> Result<Option<RowReducer<LocalRows>>, EngineError> {
    let n = setup.params.row_partitions;
    if n == 0 || !setup.plan.mfs {
        return Ok(None);
    }
    let plan = plan_partitions(&setup.sources, n, setup.params.row_partition_by);
    let nvis = setup.shape.data.nvis_per_chan;
    let by_memory = setup
        .shape
        .partitions_in_flight(nvis, plan.len(), 1, budget_bytes);
    let in_flight = by_memory.min(threads.max(1)).min(LANE_SLOT0);
    let rows = LocalRows::new(&setup.sources, plan, in_flight, threads)?;
    tracing::info!(
        partitions = rows.plan.len(),
        in_flight,
        threads_per_partition = rows.lane_threads,
        "row partitions on the local threads"
    );
    let n = rows.plan.len();
    let mib = crate::plan::memory::MIB;
    let part = setup
        .shape
        .partition_bytes(nvis.div_ceil(n), rows.lane_threads) as f64
        / mib;
    let coord = setup.shape.coordinator_bytes(n, threads) as f64 / mib;
    Ok(Some(
        RowReducer::new(rows, "local threads").with_estimates(part, coord),
    ))
}

/// A partition with its narrowed sources and the imaging weights of its planes.
struct Part {
    sources: Vec<Source>,
    weights: Mutex<HashMap<(usize, usize), Arc<PlaneWeights>>>,
}

/// Partitions run on this process's threads.
pub struct LocalRows {
    parts: Vec<Part>,
    plan: Vec<RowPartition>,
    /// One pool per partition in flight, lane `i`'s threads in accounting slot `LANE_SLOT0 + i`.
    lanes: Vec<rayon::ThreadPool>,
    lane_threads: usize,
}

impl LocalRows {
    /// The partitions of `plan`, `in_flight` of them at once sharing `threads` threads.
    pub fn new(
        sources: &[Source],
        plan: Vec<RowPartition>,
        in_flight: usize,
        threads: usize,
    ) -> Result<Self, EngineError> {
        let parts = plan
            .iter()
            .map(|p| Part {
                sources: partition_sources(sources, p),
                weights: Mutex::new(HashMap::new()),
            })
            .collect();
        let in_flight = in_flight.clamp(1, plan.len().max(1));
        let lane_threads = (threads / in_flight).max(1);
        let lanes = (0..in_flight)
            .map(|i| thread_pool_in_slot(lane_threads, Some(LANE_SLOT0 + i)))
            .collect::<Result<_, _>>()?;
        Ok(LocalRows {
            parts,
            plan,
            lanes,
            lane_threads,
        })
    }
}

impl Part {
    fn weights(
        &self,
        ctx: &ImagingContext,
        k: usize,
        s: usize,
        weighter: &pclean_grid::weighting::ImagingWeighter,
    ) -> Result<Arc<PlaneWeights>, EngineError> {
        if let Some(w) = self.lock().get(&(k, s)) {
            return Ok(w.clone());
        }
        let w = Arc::new(ctx.plane_weights_of(&self.sources, k, s, weighter)?);
        self.lock().insert((k, s), w.clone());
        Ok(w)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(usize, usize), Arc<PlaneWeights>>> {
        self.weights.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn run(&self, ctx: &ImagingContext, task: &RowTask) -> Result<RowOutput, EngineError> {
        Ok(match *task {
            RowTask::Density { ref chans } => {
                RowOutput::Density(ctx.density_partials(&self.sources, chans.clone())?)
            }
            RowTask::Psf { k, s, weighter } => {
                let (img, w) = ctx.psf_partial(&self.sources, k, s, weighter)?;
                self.lock().insert((k, s), Arc::new(w));
                RowOutput::Image(img)
            }
            RowTask::Weights { k, s, weighter } => {
                self.weights(ctx, k, s, weighter)?;
                RowOutput::Nothing
            }
            RowTask::Residual {
                k,
                s,
                weighter,
                model,
                pb_weight,
            } => {
                let w = self.weights(ctx, k, s, weighter)?;
                let src = &self.sources;
                RowOutput::Image(ctx.residual_partial(src, k, s, &w, model, pb_weight)?)
            }
            RowTask::TaylorPsf {
                s,
                weighter,
                nterms,
                reffreq_hz,
            } => {
                let src = &self.sources;
                let (pt, w) = ctx.taylor_psfs_partial(src, s, weighter, nterms, reffreq_hz)?;
                self.lock().insert((0, s), Arc::new(w));
                RowOutput::Terms(pt)
            }
            RowTask::TaylorResidual {
                s,
                weighter,
                nterms,
                reffreq_hz,
                models,
            } => {
                let w = self.weights(ctx, 0, s, weighter)?;
                let src = &self.sources;
                let terms = ctx.taylor_residuals_partial(src, s, &w, reffreq_hz, nterms, models)?;
                RowOutput::Terms(terms)
            }
            RowTask::MvcPsf { s, weighter, axis } => {
                let (chans, wimg, w) = ctx.mvc_psfs_of(&self.sources, s, weighter, axis)?;
                self.lock().insert((0, s), Arc::new(w));
                RowOutput::Channels(chans, wimg)
            }
            RowTask::MvcResidual {
                s,
                weighter,
                axis,
                models,
            } => {
                let w = self.weights(ctx, 0, s, weighter)?;
                let chans = ctx.mvc_residuals_of(&self.sources, s, &w, axis, models)?;
                RowOutput::Channels(chans, Vec::new())
            }
        })
    }
}

impl PartitionRunner for LocalRows {
    fn partitions(&self) -> &[RowPartition] {
        &self.plan
    }

    fn in_flight(&self) -> usize {
        self.lanes.len()
    }

    fn run(
        &self,
        ctx: &ImagingContext,
        task: &RowTask,
    ) -> Result<Vec<(RowOutput, TaskStat)>, EngineError> {
        let mut out = Vec::with_capacity(self.parts.len());
        // Waves of `in_flight` partitions, one per lane (a lane's thread waits for its pool).
        for wave in self.parts.chunks(self.lanes.len()) {
            let res: Vec<Result<(RowOutput, TaskStat), EngineError>> = std::thread::scope(|sc| {
                let handles: Vec<_> = wave
                    .iter()
                    .zip(&self.lanes)
                    .enumerate()
                    .map(|(i, (p, pool))| {
                        sc.spawn(move || {
                            let slot = LANE_SLOT0 + i;
                            let t = Instant::now();
                            let base = alloc_count::slot_begin(slot);
                            let out = pool.install(|| p.run(ctx, task))?;
                            let stat = TaskStat {
                                wall_s: t.elapsed().as_secs_f64(),
                                peak_alloc: alloc_count::slot_peak_since(slot, base),
                                ..TaskStat::default()
                            };
                            Ok((out, stat))
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(EngineError::internal("a row partition's thread panicked"))
                        })
                    })
                    .collect()
            });
            for r in res {
                out.push(r?);
            }
        }
        Ok(out)
    }
}

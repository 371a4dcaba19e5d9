//! The local partition runner: every partition's task on this process's threads (a rayon
//! parallel loop over the partitions; each task's gridding is parallel too), each partition
//! keeping its planes' imaging weights between passes as the single-process run does.

use super::{
    partition_sources, plan_partitions, PartitionRunner, RowOutput, RowPartition, RowReducer,
    RowTask, TaskStat,
};
use crate::error::EngineError;
use crate::imaging::{ImagingContext, PlaneWeights};
use crate::plan::Setup;
use crate::source::Source;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The row partitions of `setup`'s run on this process (`row_partitions` > 0 with specmode mfs),
/// or `None`: the single-process passes.
pub fn local_reducer(setup: &Setup) -> Option<RowReducer<LocalRows>> {
    let n = setup.params.row_partitions;
    if n == 0 || !setup.plan.mfs {
        return None;
    }
    let plan = plan_partitions(&setup.sources, n);
    let rows = LocalRows::new(&setup.sources, plan);
    Some(RowReducer::new(rows, "local threads"))
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
}

impl LocalRows {
    pub fn new(sources: &[Source], plan: Vec<RowPartition>) -> Self {
        let parts = plan
            .iter()
            .map(|p| Part {
                sources: partition_sources(sources, p),
                weights: Mutex::new(HashMap::new()),
            })
            .collect();
        LocalRows { parts, plan }
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
        })
    }
}

impl PartitionRunner for LocalRows {
    fn partitions(&self) -> &[RowPartition] {
        &self.plan
    }

    fn run(
        &self,
        ctx: &ImagingContext,
        task: &RowTask,
    ) -> Result<Vec<(RowOutput, TaskStat)>, EngineError> {
        self.parts
            .par_iter()
            .map(|p| {
                let t = Instant::now();
                let out = p.run(ctx, task)?;
                let stat = TaskStat {
                    wall_s: t.elapsed().as_secs_f64(),
                    peak_alloc: None,
                };
                Ok((out, stat))
            })
            .collect()
    }
}

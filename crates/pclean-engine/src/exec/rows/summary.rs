//! The row partitions of a run in its summary, and the memory model's estimates of their tasks.

use serde::Serialize;

/// The memory model's peak bytes of one of `n` row partitions' tasks run with `threads` threads,
/// and of the coordinator's block (`BlockShape::partition_bytes`, `coordinator_bytes`): what a
/// Dask row task declares as its `MEMORY` resource, and the summary's estimates.
pub fn row_estimates(setup: &crate::plan::Setup, n: usize, threads: usize) -> (f64, f64) {
    let nvis = setup.shape.data.nvis_per_chan;
    let n = n.max(1);
    let part = setup
        .shape
        .partition_bytes(nvis.div_ceil(n), threads.max(1));
    (
        part as f64,
        setup.shape.coordinator_bytes(n, threads.max(1)) as f64,
    )
}

/// One partition in the run summary.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct PartitionSummary {
    pub partition: usize,
    pub rows: usize,
    /// Tasks (passes) run and their total wall time.
    pub tasks: usize,
    pub wall_time_s: f64,
    /// The largest heap any of its tasks added, MiB (`None` without the counting allocator).
    pub peak_alloc_mib: Option<f64>,
    /// The workers that ran its tasks, in the order they first did (Dask: their addresses; more
    /// than one when Dask moved it, e.g. after a worker was lost).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workers: Vec<String>,
    /// The largest resident memory of a worker process while running one of its tasks, MiB
    /// (Dask: sampled by the task; includes the worker's baseline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_mib: Option<f64>,
}

/// The row partitions of a run in its summary.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RowsSummary {
    pub executor: String,
    pub partitions: Vec<PartitionSummary>,
    /// Time summing partial images and densities, seconds (all passes).
    pub reduction_s: f64,
    /// Time of the passes themselves (partitions running), seconds.
    pub passes_s: f64,
    /// Partitions run at once (the local runner caps them by the memory budget).
    #[serde(default)]
    pub in_flight: usize,
    /// The memory model's peak of one partition's task and of the coordinator's block, MiB
    /// (`BlockShape::partition_bytes`, `coordinator_bytes`; docs/memory.md), when the runner
    /// knows them.
    #[serde(default)]
    pub partition_estimate_mib: Option<f64>,
    #[serde(default)]
    pub coordinator_estimate_mib: Option<f64>,
    /// `savemodel='modelcolumn'` written by remote partitions: the rows each wrote into
    /// MODEL_DATA (partition order) and the seconds of those writes in all (they take turns on
    /// each MS's table lock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_column_rows: Option<Vec<usize>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_column_s: Option<f64>,
}

//! The run summary: JSON next to the products and on stdout.

use crate::error::EngineError;
use pclean_core::params::{ImagingParams, RawParams};
use serde::{Deserialize, Serialize};

/// Per image channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChannelSummary {
    pub channel: usize,
    pub freq_hz: f64,
    /// Sum of imaging weights per Stokes plane.
    pub sumwt: f64,
    /// Restoring beam fitted to the PSF (first Stokes plane): major, minor (arcsec), PA (deg).
    pub beam_arcsec_deg: Option<[f64; 3]>,
    /// Peak |residual| over the image (first Stokes plane), Jy/beam.
    pub peak_residual: f64,
    /// Minor-cycle iterations (components) taken.
    pub iterations: usize,
    /// Major cycles run for this channel after the initial imaging.
    pub major_cycles: usize,
    /// Total flux of the model, Jy.
    pub model_flux_jy: f64,
    /// Why this plane stopped (dirty imaging: "no deconvolution (niter=0)").
    pub stop_reason: String,
}

/// One channel block (a task): its channels, wall time and the peak heap it added (counting
/// allocator; `None` when the binary does not install it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskSummary {
    /// Image channels `[start, end)`.
    pub channels: [usize; 2],
    pub wall_time_s: f64,
    pub peak_alloc_mib: Option<f64>,
}

/// Everything a user needs to know about a finished run.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub pclean_version: String,
    pub imagename: String,
    pub products: Vec<String>,
    pub specmode: String,
    pub nchan: usize,
    pub stokes: String,
    pub imsize: [usize; 2],
    pub phasecenter: String,
    pub spectral_frame: String,
    pub gridder: String,
    pub deconvolver: Option<pclean_core::params::Deconvolver>,
    pub kernel_support: usize,
    pub oversampling: f64,
    pub rows_read: u64,
    /// Visibilities gridded into one image plane (selected rows x data channels per image
    /// channel): what the kernel choice and the memory model assume (`pclean estimate --nvis`).
    pub nvis_per_channel: u64,
    /// How the channels were scheduled, and the memory model's estimate against the budget.
    pub chans_per_block: usize,
    pub blocks_in_flight: usize,
    pub threads_per_block: usize,
    pub memory_estimate_mib: f64,
    pub memory_limit_mib: f64,
    /// Selected visibilities held in memory for all blocks (0: each block read the MS).
    pub vis_cache_mib: f64,
    /// Selected visibilities in the channel-major scratch file for all blocks (0: none).
    pub vis_scratch_mib: f64,
    /// Channels already complete from an interrupted run that this run resumed.
    pub resumed_channels: usize,
    pub total_iterations: usize,
    pub channels: Vec<ChannelSummary>,
    pub warnings: Vec<String>,
    pub wall_time_s: f64,
    pub peak_rss_mib: f64,
    /// Peak bytes live on the heap (counting allocator), MiB; `None` without it.
    pub peak_alloc_mib: Option<f64>,
    /// The process's idle baseline: resident set and live heap once the MS is open and the
    /// products made, before any visibility is read. `peak - idle` is what the imaging added
    /// (docs/memory.md compares it with the memory model).
    pub idle_rss_mib: f64,
    pub idle_alloc_mib: Option<f64>,
    /// Per channel block.
    pub tasks: Vec<TaskSummary>,
    /// An mfs run in row partitions (`row_partitions`): per partition its rows, passes, time
    /// and peak memory, and the reduction's time; `None` otherwise.
    pub row_partitions: Option<crate::exec::rows::RowsSummary>,
    pub nthreads: usize,
}

/// Write `<imagename>.summary.json` and `<imagename>.config.json` (the effective parameters).
pub fn write_side_files(
    params: &ImagingParams,
    effective: &RawParams,
    summary: &RunSummary,
) -> Result<(), EngineError> {
    let io = |context: String| move |source| EngineError::Io { context, source };
    let path = format!("{}.summary.json", params.imagename);
    let text = serde_json::to_string_pretty(summary).expect("summary serialises");
    std::fs::write(&path, text).map_err(io(format!("cannot write '{path}'")))?;
    let path = format!("{}.config.json", params.imagename);
    let text = serde_json::to_string_pretty(effective).expect("config serialises");
    std::fs::write(&path, text).map_err(io(format!("cannot write '{path}'")))?;
    Ok(())
}

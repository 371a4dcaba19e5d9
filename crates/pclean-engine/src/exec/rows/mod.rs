//! Row-parallel continuum imaging (docs/distributed.md, "Continuum: row partitions"). An mfs
//! image's selected rows are cut into partitions ([`plan`]); every gridding pass of the run
//! (weighting density, PSF, residual with its model prediction) runs on each partition, and the
//! partial results are summed here before anything is normalised:
//!
//! - the weighting densities first (uniform/Briggs, per field for a mosaic's `mosweight`): every
//!   partition then weights its rows with the one summed density, so the weights, and the
//!   products, do not depend on the number of partitions;
//! - PSF, residual, weight image and sum of weights: each partition's images divided by its own
//!   sum of weights (linear in the visibilities), combined with each partition's share of the
//!   summed weights ([`combine_images`]: one partition is the single pass bit for bit), then the
//!   non-linear step once ([`ImagingContext::finish_pass`]: a mosaic's PSF peak, its residual
//!   divided by the weight image).
//!
//! The minor cycle, masks and iteration control stay with the caller (the block's own loop,
//! `cycles/`): [`RowReduce`] is the hook [`ImagingContext`] dispatches its passes to. Where a
//! partition runs is a [`PartitionRunner`]: the local one ([`local`]) runs them on this process's
//! threads. mtmfs (Taylor terms) adds planes to the same passes: its partial products are more
//! images summed the same way (a `RowTask` per Taylor weight, or images per task). specmode='mvc'
//! adds a cube of channel images per pass ([`mvc`]; a mosaic's PSF pass also its channel weight
//! images): each channel is combined with its own per-channel shares before the coordinator
//! forms the Taylor sums.

mod combine;
pub mod local;
pub mod mvc;
pub mod plan;
pub mod remote;
mod summary;
pub mod taylor;

pub use combine::{combine_arrays, combine_images, shares};
pub use plan::{partition_sources, plan_partitions, RowPartition, RowPiece};
pub use summary::{row_estimates, PartitionSummary, RowsSummary};

use crate::error::EngineError;
use crate::imaging::mvc::{ChannelImages, ChannelWeights, MvcAxis};
use crate::imaging::taylor::{TaylorPsfs, TermImages};
use crate::imaging::weights::{merge_densities, FieldDensities};
use crate::imaging::{ImagingContext, PartialImage, PassImage, PlaneWeights, PsfPlane};
use ndarray::Array2;
use pclean_grid::seam::Pass;
use pclean_grid::weighting::ImagingWeighter;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Mutex;
use std::time::Instant;

/// Where [`ImagingContext`] sends its passes when it has row partitions.
pub trait RowReduce: Sync {
    /// The weighting densities of image channels `chans`, summed over every partition.
    fn densities(
        &self,
        ctx: &ImagingContext,
        chans: Range<usize>,
    ) -> Result<Vec<FieldDensities>, EngineError>;

    /// Plane `(k, s)`'s PSF from every partition's pass, with `weighter`; its imaging weights
    /// stay with the partitions (the returned `weights` are empty).
    fn psf_plane(
        &self,
        ctx: &ImagingContext,
        k: usize,
        s: usize,
        weighter: &ImagingWeighter,
    ) -> Result<PsfPlane, EngineError>;

    /// Plane `(k, s)`'s imaging weights made by the partitions (when the PSF is reused): nothing
    /// comes back (they stay with the partitions).
    fn plane_weights(
        &self,
        ctx: &ImagingContext,
        k: usize,
        s: usize,
        weighter: &ImagingWeighter,
    ) -> Result<PlaneWeights, EngineError>;

    /// Plane `(k, s)`'s residual (with `model`: its prediction subtracted) from every
    /// partition's pass, normalised, with its sum of weights.
    fn residual_plane(
        &self,
        ctx: &ImagingContext,
        k: usize,
        s: usize,
        model: Option<&Array2<f32>>,
        pb_weight: Option<&Array2<f32>>,
    ) -> Result<(Array2<f32>, f64), EngineError>;

    /// mtmfs: Stokes plane `s`'s `2 nterms - 1` Taylor PSFs from every partition's pass, with
    /// `weighter`, normalised by the summed tt0 sum of weights (a mosaic's: with every term's
    /// weight image, combined the same way, and the terms then divided by term 0's peak); the
    /// imaging weights stay with the partitions (the returned `weights` are empty).
    fn taylor_psfs(
        &self,
        ctx: &ImagingContext,
        s: usize,
        weighter: &ImagingWeighter,
        nterms: usize,
        reffreq_hz: f64,
    ) -> Result<TaylorPsfs, EngineError>;

    /// mtmfs: the `nterms` Taylor residuals of Stokes plane `s` (with `models`, every term's
    /// prediction subtracted) from every partition's pass, normalised as the PSFs.
    fn taylor_residuals(
        &self,
        ctx: &ImagingContext,
        s: usize,
        reffreq_hz: f64,
        nterms: usize,
        models: Option<&[Array2<f32>]>,
    ) -> Result<TermImages, EngineError>;

    /// specmode='mvc': Stokes plane `s`'s channel PSFs of the cube `axis` from every partition's
    /// pass, with `weighter`, each normalised by its channel's summed sum of weights, and those
    /// sums, with (a mosaic's) the channel weight images combined the same way; the imaging
    /// weights stay with the partitions.
    fn mvc_psfs(
        &self,
        ctx: &ImagingContext,
        s: usize,
        weighter: &ImagingWeighter,
        axis: &MvcAxis,
    ) -> Result<(ChannelImages, ChannelWeights), EngineError>;

    /// specmode='mvc': the channel residuals of Stokes plane `s` (with `models`, one model plane
    /// per channel, each channel's prediction subtracted) from every partition's pass,
    /// normalised as the PSFs.
    fn mvc_residuals(
        &self,
        ctx: &ImagingContext,
        s: usize,
        axis: &MvcAxis,
        models: Option<&[Array2<f32>]>,
    ) -> Result<ChannelImages, EngineError>;
}

/// One partition's share of a pass.
pub enum RowTask<'t> {
    /// Its weighting densities of image channels `chans`.
    Density { chans: Range<usize> },
    /// Its unnormalised PSF of plane `(k, s)`, weighting with `weighter`.
    Psf {
        k: usize,
        s: usize,
        weighter: &'t ImagingWeighter,
    },
    /// Its imaging weights of plane `(k, s)`, kept for later passes (nothing comes back).
    Weights {
        k: usize,
        s: usize,
        weighter: &'t ImagingWeighter,
    },
    /// Its unnormalised residual of plane `(k, s)`, the model's prediction subtracted.
    Residual {
        k: usize,
        s: usize,
        weighter: &'t ImagingWeighter,
        model: Option<&'t Array2<f32>>,
        pb_weight: Option<&'t Array2<f32>>,
    },
    /// mtmfs: its unnormalised Taylor PSFs (`2 nterms - 1`) of Stokes plane `s` (image channel
    /// 0), weighting with `weighter` and keeping the weights as plane `(0, s)`'s.
    TaylorPsf {
        s: usize,
        weighter: &'t ImagingWeighter,
        nterms: usize,
        reffreq_hz: f64,
    },
    /// mtmfs: its unnormalised Taylor residuals (`nterms`), every model term's prediction
    /// subtracted.
    TaylorResidual {
        s: usize,
        weighter: &'t ImagingWeighter,
        nterms: usize,
        reffreq_hz: f64,
        models: Option<&'t [Array2<f32>]>,
    },
    /// specmode='mvc': its channel PSFs of the cube `axis` (each divided by its own per-channel
    /// sum of weights) of Stokes plane `s`, weighting with `weighter` and keeping the weights as
    /// plane `(0, s)`'s.
    MvcPsf {
        s: usize,
        weighter: &'t ImagingWeighter,
        axis: &'t MvcAxis,
    },
    /// specmode='mvc': its channel residuals, each channel's model (`models`: the model cube)
    /// prediction subtracted.
    MvcResidual {
        s: usize,
        weighter: &'t ImagingWeighter,
        axis: &'t MvcAxis,
        models: Option<&'t [Array2<f32>]>,
    },
}

/// What a partition's task gives back.
pub enum RowOutput {
    Density(Vec<FieldDensities>),
    /// Its image (divided by its own sum of weights) with the gridder's per-grid sums.
    Image(PartialImage),
    /// Taylor-term images and (a mosaic's or awproject's PSF pass) every PSF term's weight
    /// image, each divided by a tt0 sum of weights of the partition's rows, with those sums and
    /// the sums of weights per term (`imaging::taylor`, [`taylor::PartialTerms`]).
    Terms(taylor::PartialTerms),
    /// mvc: channel images, each divided by its own sum of weights, and those sums, with (a
    /// mosaic's PSF pass) every channel's weight image divided by the same sum (empty otherwise).
    Channels(ChannelImages, ChannelWeights),
    Nothing,
}

/// One partition's task as it ran.
#[derive(Debug, Clone, Default)]
pub struct TaskStat {
    pub wall_s: f64,
    /// Peak heap the task added (counting allocator), bytes.
    pub peak_alloc: Option<u64>,
    /// Where it ran (a Dask worker's address), when the runner knows.
    pub worker: Option<String>,
    /// The peak resident memory of the process that ran it, during the task, bytes (a Dask
    /// worker's, sampled; it includes the worker's own baseline).
    pub peak_rss: Option<u64>,
}

/// Runs a task on every partition.
pub trait PartitionRunner: Sync {
    /// The partitions, in order.
    fn partitions(&self) -> &[RowPartition];

    /// Partitions running at once (all of them unless the runner caps them).
    fn in_flight(&self) -> usize {
        self.partitions().len()
    }

    /// `task` on every partition; the outputs in partition order.
    fn run(
        &self,
        ctx: &ImagingContext,
        task: &RowTask,
    ) -> Result<Vec<(RowOutput, TaskStat)>, EngineError>;
}

/// The [`RowReduce`] of any [`PartitionRunner`]: sums, normalises and keeps the statistics.
pub struct RowReducer<R> {
    runner: R,
    executor: String,
    /// Each plane's weighter (its PSF pass's), for its residual passes.
    weighters: Mutex<HashMap<(usize, usize), ImagingWeighter>>,
    stats: Mutex<(Vec<PartitionSummary>, f64, f64)>,
    /// The memory model's partition and coordinator peaks, MiB.
    estimates: Option<(f64, f64)>,
}

impl<R: PartitionRunner> RowReducer<R> {
    /// The partitions' runner.
    pub fn runner(&self) -> &R {
        &self.runner
    }

    pub fn new(runner: R, executor: &str) -> Self {
        let parts = runner
            .partitions()
            .iter()
            .map(|p| PartitionSummary {
                partition: p.index,
                rows: p.rows(),
                tasks: 0,
                wall_time_s: 0.0,
                peak_alloc_mib: None,
                workers: Vec::new(),
                peak_rss_mib: None,
            })
            .collect();
        RowReducer {
            runner,
            executor: executor.to_string(),
            weighters: Mutex::new(HashMap::new()),
            stats: Mutex::new((parts, 0.0, 0.0)),
            estimates: None,
        }
    }

    /// The memory model's peaks of a partition's task and of the coordinator, MiB, for the
    /// summary.
    pub fn with_estimates(mut self, partition_mib: f64, coordinator_mib: f64) -> Self {
        self.estimates = Some((partition_mib, coordinator_mib));
        self
    }

    /// The partitions' statistics so far.
    pub fn summary(&self) -> RowsSummary {
        let st = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        RowsSummary {
            executor: self.executor.clone(),
            partitions: st.0.clone(),
            reduction_s: st.1,
            passes_s: st.2,
            in_flight: self.runner.in_flight(),
            partition_estimate_mib: self.estimates.map(|e| e.0),
            coordinator_estimate_mib: self.estimates.map(|e| e.1),
            model_column_rows: None,
            model_column_s: None,
        }
    }

    /// Run `task` everywhere, recording the time of the partitions' tasks.
    fn run(&self, ctx: &ImagingContext, task: &RowTask) -> Result<Vec<RowOutput>, EngineError> {
        let t = Instant::now();
        let out = self.runner.run(ctx, task)?;
        let mut st = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        st.2 += t.elapsed().as_secs_f64();
        for (p, (_, stat)) in st.0.iter_mut().zip(&out) {
            p.tasks += 1;
            p.wall_time_s += stat.wall_s;
            let max_mib = |acc: Option<f64>, b: Option<u64>| match b {
                Some(b) => {
                    let mib = b as f64 / crate::plan::memory::MIB;
                    Some(acc.map_or(mib, |m| m.max(mib)))
                }
                None => acc,
            };
            p.peak_alloc_mib = max_mib(p.peak_alloc_mib, stat.peak_alloc);
            p.peak_rss_mib = max_mib(p.peak_rss_mib, stat.peak_rss);
            if let Some(w) = &stat.worker {
                if !p.workers.contains(w) {
                    p.workers.push(w.clone());
                }
            }
        }
        Ok(out.into_iter().map(|o| o.0).collect())
    }

    fn reduction_time(&self, t: Instant) {
        let mut st = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        st.1 += t.elapsed().as_secs_f64();
    }

    /// The partitions' images of image channel `k` combined, their per-grid sums added, and
    /// the pass finished once ([`ImagingContext::finish_partial`]).
    fn image(
        &self,
        ctx: &ImagingContext,
        pass: Pass,
        k: usize,
        out: Vec<RowOutput>,
    ) -> Result<PassImage, EngineError> {
        let t = Instant::now();
        let mut images = Vec::with_capacity(out.len());
        let mut sums: Option<Vec<[f64; 2]>> = None;
        for o in out {
            let RowOutput::Image((img, s)) = o else {
                return Err(EngineError::internal("a row partition returned no image"));
            };
            images.push(img);
            match sums.as_mut() {
                None => sums = Some(s),
                Some(acc) if acc.len() == s.len() => {
                    for (a, b) in acc.iter_mut().zip(&s) {
                        a[0] += b[0];
                        a[1] += b[1];
                    }
                }
                Some(_) => {
                    return Err(EngineError::internal(
                        "row partitions returned different numbers of grid sums",
                    ))
                }
            }
        }
        let sum = combine_images(images)?;
        let img = ctx.finish_partial(pass, k, (sum, sums.unwrap_or_default()));
        self.reduction_time(t);
        img
    }

    fn weighter(&self, k: usize, s: usize) -> Result<ImagingWeighter, EngineError> {
        let w = self.weighters.lock().unwrap_or_else(|p| p.into_inner());
        w.get(&(k, s))
            .cloned()
            .ok_or_else(|| EngineError::internal("a residual pass before the plane's weights"))
    }

    fn keep_weighter(&self, k: usize, s: usize, weighter: &ImagingWeighter) {
        let mut w = self.weighters.lock().unwrap_or_else(|p| p.into_inner());
        w.insert((k, s), weighter.clone());
    }
}

impl<R: PartitionRunner> RowReduce for RowReducer<R> {
    fn densities(
        &self,
        ctx: &ImagingContext,
        chans: Range<usize>,
    ) -> Result<Vec<FieldDensities>, EngineError> {
        let out = self.run(ctx, &RowTask::Density { chans })?;
        let t = Instant::now();
        let mut sum: Option<Vec<FieldDensities>> = None;
        for o in out {
            let RowOutput::Density(d) = o else {
                return Err(EngineError::internal("a row partition returned no density"));
            };
            match sum.as_mut() {
                None => sum = Some(d),
                Some(s) => merge_densities(s, d)?,
            }
        }
        self.reduction_time(t);
        Ok(sum.unwrap_or_default())
    }

    fn psf_plane(
        &self,
        ctx: &ImagingContext,
        k: usize,
        s: usize,
        weighter: &ImagingWeighter,
    ) -> Result<PsfPlane, EngineError> {
        self.keep_weighter(k, s, weighter);
        let out = self.run(ctx, &RowTask::Psf { k, s, weighter })?;
        let (psf, sumwt, pb_weight) = self.image(ctx, Pass::Psf, k, out)?;
        Ok(PsfPlane {
            psf,
            sumwt,
            weights: Vec::new(),
            pb_weight,
        })
    }

    fn plane_weights(
        &self,
        ctx: &ImagingContext,
        k: usize,
        s: usize,
        weighter: &ImagingWeighter,
    ) -> Result<PlaneWeights, EngineError> {
        self.keep_weighter(k, s, weighter);
        self.run(ctx, &RowTask::Weights { k, s, weighter })?;
        Ok(Vec::new())
    }

    fn residual_plane(
        &self,
        ctx: &ImagingContext,
        k: usize,
        s: usize,
        model: Option<&Array2<f32>>,
        pb_weight: Option<&Array2<f32>>,
    ) -> Result<(Array2<f32>, f64), EngineError> {
        let weighter = &self.weighter(k, s)?;
        let task = RowTask::Residual {
            k,
            s,
            weighter,
            model,
            pb_weight,
        };
        let out = self.run(ctx, &task)?;
        let (image, sumwt, _) = self.image(ctx, Pass::Residual, k, out)?;
        Ok((image, sumwt))
    }

    fn taylor_psfs(
        &self,
        ctx: &ImagingContext,
        s: usize,
        weighter: &ImagingWeighter,
        nterms: usize,
        reffreq_hz: f64,
    ) -> Result<TaylorPsfs, EngineError> {
        self.keep_weighter(0, s, weighter);
        let task = RowTask::TaylorPsf {
            s,
            weighter,
            nterms,
            reffreq_hz,
        };
        let out = self.run(ctx, &task)?;
        let pt = self.terms(out)?;
        let (mut psfs, sumwt, pb_weights) = (pt.images, pt.sumwt, pt.weights);
        // A mosaic's PSF terms: divided by the combined term 0's peak once (not linear in the
        // rows: each partition's own peak would weigh the partitions differently).
        if !pb_weights.is_empty() {
            crate::imaging::taylor::normalise_psf_terms(&mut psfs);
        }
        Ok(TaylorPsfs {
            psfs,
            sumwt,
            weights: Vec::new(),
            pb_weights,
            held: None,
        })
    }

    fn taylor_residuals(
        &self,
        ctx: &ImagingContext,
        s: usize,
        reffreq_hz: f64,
        nterms: usize,
        models: Option<&[Array2<f32>]>,
    ) -> Result<TermImages, EngineError> {
        let weighter = &self.weighter(0, s)?;
        let task = RowTask::TaylorResidual {
            s,
            weighter,
            nterms,
            reffreq_hz,
            models,
        };
        let out = self.run(ctx, &task)?;
        match self.terms(out)? {
            pt if pt.weights.is_empty() => Ok((pt.images, pt.sumwt)),
            _ => Err(EngineError::internal(
                "a row partition's residual terms came with weight images",
            )),
        }
    }

    fn mvc_psfs(
        &self,
        ctx: &ImagingContext,
        s: usize,
        weighter: &ImagingWeighter,
        axis: &MvcAxis,
    ) -> Result<(ChannelImages, ChannelWeights), EngineError> {
        self.keep_weighter(0, s, weighter);
        let out = self.run(ctx, &RowTask::MvcPsf { s, weighter, axis })?;
        self.channels(out, axis.nchan)
    }

    fn mvc_residuals(
        &self,
        ctx: &ImagingContext,
        s: usize,
        axis: &MvcAxis,
        models: Option<&[Array2<f32>]>,
    ) -> Result<ChannelImages, EngineError> {
        let weighter = &self.weighter(0, s)?;
        let task = RowTask::MvcResidual {
            s,
            weighter,
            axis,
            models,
        };
        let out = self.run(ctx, &task)?;
        match self.channels(out, axis.nchan)? {
            (chans, w) if w.is_empty() => Ok(chans),
            _ => Err(EngineError::internal(
                "a row partition's mvc residual channels came with weight images",
            )),
        }
    }
}

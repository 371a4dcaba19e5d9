//! Row partitions run elsewhere (Dask workers): a [`RowTask`] and a partition's [`RowOutput`] in
//! byte form, the coordinator's [`RemoteRows`] runner (it hands the task's bytes to a submit
//! function, e.g. the Python driver's, and decodes what comes back) and the worker side
//! ([`run_row_task_cached`]: the run's [`Setup`] opened once per process, the task run on one
//! partition's rows).
//!
//! Tasks are stateless: a residual task carries the plane's weighter and recomputes its
//! partition's imaging weights, so a task lost with its worker reruns anywhere with the same
//! result (Dask's retries). Bytes: `b"PCLR"`, a little-endian `u32` version, then CBOR
//! (`ciborium`: exact binary floats) of [`TaskMsg`] or [`OutputMsg`].

use super::{
    partition_sources, plan_partitions, PartitionRunner, RowOutput, RowPartition, RowTask, TaskStat,
};
use crate::error::EngineError;
use crate::imaging::mvc::{ChannelImages, MvcAxis};
use crate::imaging::savemodel::SavedModel;
use crate::imaging::taylor::PartialTerms;
use crate::imaging::weights::FieldDensities;
use crate::imaging::{ImagingContext, PartialImage};
use crate::plan::Setup;
use crate::source::Source;
use ndarray::Array2;
use pclean_core::params::ImagingParams;
use pclean_grid::weighting::ImagingWeighter;
use pclean_grid::wire;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

const MAGIC: &[u8; 4] = b"PCLR";
/// 2: images divided by the partition's own sum of weights (1: the sums themselves); 3: with the
/// gridder's per-grid sums (a mosaic's band response); 4: specmode='mvc' tasks and their channel
/// images; 5: a mosaic's Taylor PSF terms with their weight images; 6: a mosaic's mvc channel
/// weight images, the normaliser of every Taylor image (awproject's two tt0 sums).
const VERSION: u32 = 6;

/// A [`RowTask`] owned, for the wire.
#[derive(Debug, Serialize, Deserialize)]
pub enum TaskMsg {
    Density {
        chans: Range<usize>,
    },
    Psf {
        k: usize,
        s: usize,
        weighter: ImagingWeighter,
    },
    Residual {
        k: usize,
        s: usize,
        weighter: ImagingWeighter,
        #[serde(with = "wire::option")]
        model: Option<Array2<f32>>,
        #[serde(with = "wire::option")]
        pb_weight: Option<Array2<f32>>,
    },
    TaylorPsf {
        s: usize,
        weighter: ImagingWeighter,
        nterms: usize,
        reffreq_hz: f64,
    },
    TaylorResidual {
        s: usize,
        weighter: ImagingWeighter,
        nterms: usize,
        reffreq_hz: f64,
        #[serde(with = "wire::option_vec")]
        models: Option<Vec<Array2<f32>>>,
    },
    /// specmode='mvc': the partition's channel PSFs of the cube `axis`.
    MvcPsf {
        s: usize,
        weighter: ImagingWeighter,
        axis: MvcAxis,
    },
    /// specmode='mvc': its channel residuals, each channel's plane of the model cube `models`
    /// predicted and subtracted.
    MvcResidual {
        s: usize,
        weighter: ImagingWeighter,
        axis: MvcAxis,
        #[serde(with = "wire::option_vec")]
        models: Option<Vec<Array2<f32>>>,
    },
    /// `savemodel='modelcolumn'`: the partition writes MODEL_DATA into its own rows.
    SaveModel(SavedModel),
}

/// A partition's output, for the wire.
#[derive(Debug, Serialize, Deserialize)]
pub enum OutputMsg {
    Density(Vec<FieldDensities>),
    Image(ImageMsg),
    Terms(TermsMsg),
    /// mvc: channel images, each divided by the partition's sum of weights in its channel, and
    /// those sums, with (a mosaic's PSF pass) the channel weight images divided by the same sums
    /// (the same layout as Taylor terms, another combination).
    Channels(TermsMsg),
    /// Rows of MODEL_DATA written.
    Rows(usize),
}

/// Taylor-term images divided by a tt0 sum of weights of the partition's rows, and its sums of
/// weights per term, for the wire; a mosaic's or awproject's PSF pass adds every term's weight
/// image (`weights`, empty otherwise); `norms` are the sums each image was divided by (the
/// images', then the weight images': [`PartialTerms`]; empty for mvc channels, each divided by
/// its own channel's sum of weights).
#[derive(Debug, Serialize, Deserialize)]
pub struct TermsMsg {
    #[serde(with = "wire::vec")]
    images: Vec<Array2<f32>>,
    sumwt: Vec<f64>,
    #[serde(with = "wire::vec")]
    weights: Vec<Array2<f32>>,
    norms: Vec<f64>,
}

/// A [`PartialImage`] for the wire (its arrays as byte strings).
#[derive(Debug, Serialize, Deserialize)]
pub struct ImageMsg {
    #[serde(with = "wire")]
    image: Array2<f32>,
    sumwt: f64,
    #[serde(with = "wire::option")]
    weight: Option<Array2<f32>>,
    /// The gridder's per-grid sums (`VisGridder::linear_images`).
    sums: Vec<[f64; 2]>,
}

impl From<PartialImage> for ImageMsg {
    fn from(((image, sumwt, weight), sums): PartialImage) -> Self {
        ImageMsg {
            image,
            sumwt,
            weight,
            sums,
        }
    }
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, EngineError> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&VERSION.to_le_bytes());
    ciborium::into_writer(v, &mut out)
        .map_err(|e| EngineError::internal(format!("cannot encode a row task: {e}")))?;
    Ok(out)
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8], what: &str) -> Result<T, EngineError> {
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(EngineError::protocol(format!(
            "not a pclean row-partition {what} (bad magic)"
        )));
    }
    let v = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
    if v != VERSION {
        return Err(EngineError::protocol(format!(
            "row-partition {what} of version {v}, this pclean reads version {VERSION}: the workers run another pclean than the coordinator"
        )));
    }
    ciborium::from_reader(&bytes[8..])
        .map_err(|e| EngineError::protocol(format!("cannot decode a row-partition {what}: {e}")))
}

/// `task` in byte form; `None` for a task that needs no remote run (stateless partitions keep no
/// imaging weights, so [`RowTask::Weights`] is nothing to do).
pub fn encode_task(task: &RowTask) -> Result<Option<Vec<u8>>, EngineError> {
    let msg = match *task {
        RowTask::Density { ref chans } => TaskMsg::Density {
            chans: chans.clone(),
        },
        RowTask::Psf { k, s, weighter } => TaskMsg::Psf {
            k,
            s,
            weighter: weighter.clone(),
        },
        RowTask::Weights { .. } => return Ok(None),
        RowTask::Residual {
            k,
            s,
            weighter,
            model,
            pb_weight,
        } => TaskMsg::Residual {
            k,
            s,
            weighter: weighter.clone(),
            model: model.cloned(),
            pb_weight: pb_weight.cloned(),
        },
        RowTask::TaylorPsf {
            s,
            weighter,
            nterms,
            reffreq_hz,
        } => TaskMsg::TaylorPsf {
            s,
            weighter: weighter.clone(),
            nterms,
            reffreq_hz,
        },
        RowTask::TaylorResidual {
            s,
            weighter,
            nterms,
            reffreq_hz,
            models,
        } => TaskMsg::TaylorResidual {
            s,
            weighter: weighter.clone(),
            nterms,
            reffreq_hz,
            models: models.map(|m| m.to_vec()),
        },
        RowTask::MvcPsf { s, weighter, axis } => TaskMsg::MvcPsf {
            s,
            weighter: weighter.clone(),
            axis: axis.clone(),
        },
        RowTask::MvcResidual {
            s,
            weighter,
            axis,
            models,
        } => TaskMsg::MvcResidual {
            s,
            weighter: weighter.clone(),
            axis: axis.clone(),
            models: models.map(|m| m.to_vec()),
        },
    };
    encode(&msg).map(Some)
}

/// A partition's output from its byte form.
pub fn decode_output(bytes: &[u8]) -> Result<RowOutput, EngineError> {
    Ok(match decode::<OutputMsg>(bytes, "output")? {
        OutputMsg::Density(d) => RowOutput::Density(d),
        OutputMsg::Image(i) => RowOutput::Image(((i.image, i.sumwt, i.weight), i.sums)),
        OutputMsg::Terms(t) => RowOutput::Terms(PartialTerms {
            images: t.images,
            sumwt: t.sumwt,
            weights: t.weights,
            norms: t.norms,
        }),
        OutputMsg::Channels(t) => RowOutput::Channels((t.images, t.sumwt), t.weights),
        OutputMsg::Rows(_) => {
            return Err(EngineError::protocol(
                "a row partition answered a pass with the rows it wrote to MODEL_DATA",
            ))
        }
    })
}

/// The rows of MODEL_DATA a partition's output `bytes` says it wrote; `None` for any other output.
pub fn written_rows(bytes: &[u8]) -> Option<usize> {
    match decode::<OutputMsg>(bytes, "output") {
        Ok(OutputMsg::Rows(r)) => Some(r),
        _ => None,
    }
}

/// Run the task `bytes` on `sources` (one partition's rows of `setup`'s run) with `ctx`; its
/// output's bytes.
pub fn run_task_bytes(
    setup: &Setup,
    ctx: &ImagingContext,
    sources: &[Source],
    bytes: &[u8],
) -> Result<Vec<u8>, EngineError> {
    let out = match decode::<TaskMsg>(bytes, "task")? {
        TaskMsg::Density { chans } => OutputMsg::Density(ctx.density_partials(sources, chans)?),
        TaskMsg::Psf { k, s, weighter } => {
            OutputMsg::Image(ctx.psf_partial(sources, k, s, &weighter)?.0.into())
        }
        TaskMsg::Residual {
            k,
            s,
            weighter,
            model,
            pb_weight,
        } => {
            let w = ctx.plane_weights_of(sources, k, s, &weighter)?;
            let (m, pb) = (model.as_ref(), pb_weight.as_ref());
            OutputMsg::Image(ctx.residual_partial(sources, k, s, &w, m, pb)?.into())
        }
        TaskMsg::TaylorPsf {
            s,
            weighter,
            nterms,
            reffreq_hz,
        } => terms_msg(
            ctx.taylor_psfs_partial(sources, s, &weighter, nterms, reffreq_hz)?
                .0,
        ),
        TaskMsg::TaylorResidual {
            s,
            weighter,
            nterms,
            reffreq_hz,
            models,
        } => {
            let w = ctx.plane_weights_of(sources, 0, s, &weighter)?;
            let m = models.as_deref();
            terms_msg(ctx.taylor_residuals_partial(sources, s, &w, reffreq_hz, nterms, m)?)
        }
        TaskMsg::MvcPsf { s, weighter, axis } => {
            let (chans, wimg, _) = ctx.mvc_psfs_of(sources, s, &weighter, &axis)?;
            channels_msg(chans, wimg)
        }
        TaskMsg::MvcResidual {
            s,
            weighter,
            axis,
            models,
        } => {
            let w = ctx.plane_weights_of(sources, 0, s, &weighter)?;
            let m = models.as_deref();
            channels_msg(ctx.mvc_residuals_of(sources, s, &w, &axis, m)?, Vec::new())
        }
        TaskMsg::SaveModel(model) => OutputMsg::Rows(setup.save_model_of(sources, &model)?),
    };
    encode(&out)
}

fn terms_msg(t: PartialTerms) -> OutputMsg {
    OutputMsg::Terms(TermsMsg {
        images: t.images,
        sumwt: t.sumwt,
        weights: t.weights,
        norms: t.norms,
    })
}

fn channels_msg((images, sumwt): ChannelImages, weights: Vec<Array2<f32>>) -> OutputMsg {
    OutputMsg::Channels(TermsMsg {
        images,
        sumwt,
        weights,
        norms: Vec::new(),
    })
}

/// Hands a task's bytes to every partition (wherever they run) and returns each partition's
/// output bytes with its statistics, in partition order.
pub trait SubmitRows: Sync {
    fn submit(&self, task: &[u8], n: usize) -> Result<Vec<(Vec<u8>, TaskStat)>, EngineError>;
}

/// A [`PartitionRunner`] whose partitions run wherever `submit` sends them.
pub struct RemoteRows<S> {
    plan: Vec<RowPartition>,
    submit: S,
}

impl<S: SubmitRows> RemoteRows<S> {
    /// `n` partitions of `setup`'s selected rows (the workers cut the same plan).
    pub fn new(setup: &Setup, n: usize, submit: S) -> Self {
        RemoteRows {
            plan: plan_partitions(&setup.sources, n, setup.params.row_partition_by),
            submit,
        }
    }
}

impl<S: SubmitRows> RemoteRows<S> {
    /// `savemodel='modelcolumn'`: every partition writes `model`'s visibilities into MODEL_DATA
    /// of its own rows; the rows each wrote, in partition order. The caller made the column first
    /// ([`Setup::ensure_model_columns`]).
    pub fn save_model(&self, model: SavedModel) -> Result<Vec<usize>, EngineError> {
        let n = self.plan.len();
        let out = self
            .submit
            .submit(&encode(&TaskMsg::SaveModel(model))?, n)?;
        if out.len() != n {
            return Err(EngineError::protocol(format!(
                "{} outputs for {n} row partitions",
                out.len()
            )));
        }
        let mut rows = Vec::with_capacity(n);
        for (b, _) in out {
            match decode::<OutputMsg>(&b, "output")? {
                OutputMsg::Rows(r) => rows.push(r),
                _ => {
                    return Err(EngineError::protocol(
                        "a row partition answered the MODEL_DATA task with images",
                    ))
                }
            }
        }
        Ok(rows)
    }
}

impl<S: SubmitRows> PartitionRunner for RemoteRows<S> {
    fn partitions(&self) -> &[RowPartition] {
        &self.plan
    }

    fn run(
        &self,
        _ctx: &ImagingContext,
        task: &RowTask,
    ) -> Result<Vec<(RowOutput, TaskStat)>, EngineError> {
        let n = self.plan.len();
        let Some(bytes) = encode_task(task)? else {
            return Ok((0..n)
                .map(|_| (RowOutput::Nothing, TaskStat::default()))
                .collect());
        };
        let out = self.submit.submit(&bytes, n)?;
        if out.len() != n {
            return Err(EngineError::protocol(format!(
                "{} outputs for {n} row partitions",
                out.len()
            )));
        }
        out.into_iter()
            .map(|(b, stat)| Ok((decode_output(&b)?, stat)))
            .collect()
    }
}

/// Partition `(index, n)`'s narrowed sources.
type PartSources = HashMap<(usize, usize), Arc<Vec<Source>>>;

/// A worker's opened run and its partitions' rows, kept between tasks.
struct RowWorker {
    setup: Setup,
    parts: Mutex<PartSources>,
}

static CACHE: crate::exec::Cache<RowWorker> = Mutex::new(None);

/// Partition `index` of `n` of the run `params` (configuration `key`, e.g. its JSON) runs task
/// `bytes` with `nthreads` threads; the output's bytes. The opened run is kept for the next call
/// with the same key.
pub fn run_row_task_cached(
    key: &str,
    params: &ImagingParams,
    n: usize,
    index: usize,
    bytes: &[u8],
    nthreads: usize,
) -> Result<Vec<u8>, EngineError> {
    let worker = crate::exec::cached(&CACHE, key, || {
        Ok(RowWorker {
            setup: Setup::open(params.clone())?,
            parts: Mutex::new(HashMap::new()),
        })
    })?;
    let sources = {
        let mut parts = worker.parts.lock().unwrap_or_else(|p| p.into_inner());
        match parts.get(&(index, n)) {
            Some(s) => s.clone(),
            None => {
                let by = worker.setup.params.row_partition_by;
                let plan = plan_partitions(&worker.setup.sources, n, by);
                let Some(p) = plan.get(index) else {
                    return Err(EngineError::protocol(format!(
                        "row partition {index} of {n}: this run's rows make {} partitions",
                        plan.len()
                    )));
                };
                let s = Arc::new(partition_sources(&worker.setup.sources, p));
                parts.insert((index, n), s.clone());
                s
            }
        }
    };
    let nthreads = nthreads.max(1);
    let ctx = worker.setup.context(nthreads);
    let pool = super::super::thread_pool_in_slot(nthreads, None)?;
    pool.install(|| run_task_bytes(&worker.setup, &ctx, &sources, bytes))
}

//! The seed's per-partition continuum tasks (`pclean.utils.partition.partition_continuum`,
//! `pclean.parallel.worker_tasks.make_partial_psf` / `run_partial_major_cycle` /
//! `make_partial_pb`) on the engine's row partitions: the plan is the engine's
//! (`plan_partitions`), each pass is the engine's row task (`run_task_bytes`, what a Dask worker
//! runs for `ParallelContinuumImager`), and the weighter is the one made from every partition's
//! weighting density (`ImagingContext::weighters` over the whole selection: the densities of
//! disjoint rows add up), so the partial images sum to the single run's. What this module adds is
//! only the seed's file form: each partial pass written as CASA images `<partname>.<ext>`
//! (unnormalised, as CASA's partial images), the model read from one.

use crate::errors::{engine_err, usage_err};
use ndarray::Array2;
use pclean_core::params::{Deconvolver, ImageFormat, ImagingParams};
use pclean_engine::cycles::mtmfs;
use pclean_engine::exec::rows::remote::{decode_output, encode_task, run_task_bytes};
use pclean_engine::exec::rows::{partition_sources, plan_partitions, RowOutput, RowTask};
use pclean_engine::products::{OpenMode, Products};
use pclean_engine::{EngineError, Setup};
use pclean_grid::weighting::ImagingWeighter;
use pclean_imageio::{Beams, CasaImage};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::sync::{Arc, Mutex};

/// The run last opened in this process (a worker's partitions of one run share it).
static OPENED: Mutex<Option<(String, Arc<Setup>)>> = Mutex::new(None);

fn opened(py: Python<'_>, config_json: &str) -> PyResult<Arc<Setup>> {
    let (_, params) = crate::parse(config_json)?;
    // The lock is taken without the GIL (another thread may hold the GIL while it waits for it).
    let setup = py
        .allow_threads(|| -> Result<Arc<Setup>, EngineError> {
            let mut cache = OPENED.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((k, s)) = cache.as_ref() {
                if k == config_json {
                    return Ok(s.clone());
                }
            }
            *cache = None;
            let s = Arc::new(Setup::open(params)?);
            *cache = Some((config_json.to_string(), s.clone()));
            Ok(s)
        })
        .map_err(engine_err)?;
    if !setup.plan.mfs {
        return Err(usage_err(
            "the seed's continuum partitions image specmode='mfs' (a cube is split by channel \
             blocks: pclean.utils.partition.partition_cube or ParallelCubeImager)",
        ));
    }
    Ok(setup)
}

fn pool(n: usize) -> Result<rayon::ThreadPool, EngineError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n.max(1))
        .build()
        .map_err(|e| EngineError::internal(format!("cannot start {n} threads: {e}")))
}

/// The engine's `n` row partitions of the run `config_json` (an mfs run):
/// `[{"index", "rows", "pieces": [{"source", "group", "start", "end"}]}]`.
#[pyfunction]
pub fn row_plan(py: Python<'_>, config_json: &str, n: usize) -> PyResult<PyObject> {
    let setup = opened(py, config_json)?;
    let plan = plan_partitions(&setup.sources, n, setup.params.row_partition_by);
    let v: Vec<serde_json::Value> = plan
        .iter()
        .map(|p| serde_json::json!({"index": p.index, "rows": p.rows(), "pieces": p.pieces}))
        .collect();
    crate::to_py(py, &v)
}

/// The run's imaging weighter (bytes): made from the weighting density of every selected row,
/// which is the sum of every partition's density (natural weighting: the natural weighter).
#[pyfunction]
pub fn row_weighter<'py>(
    py: Python<'py>,
    config_json: &str,
    nthreads: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let setup = opened(py, config_json)?;
    let w = py
        .allow_threads(|| {
            let ctx = setup.context(nthreads.max(1));
            let pool = pool(nthreads)?;
            pool.install(|| ctx.weighters(&setup.sources, 0..1))
        })
        .map_err(engine_err)?;
    let w = w
        .into_iter()
        .next()
        .ok_or_else(|| usage_err("the run has no weighter"))?;
    let mut out = Vec::new();
    ciborium::into_writer(&w, &mut out)
        .map_err(|e| usage_err(&format!("cannot encode the weighter: {e}")))?;
    Ok(PyBytes::new(py, &out))
}

/// Partition `index` of `n` of the run `config_json` runs pass `pass` (`psf`, `residual` with
/// the model `<model>.model[.ttN]` when `model` is given, or `pb`) with `weighter` (from
/// `row_weighter`) and `nthreads` threads, and writes its unnormalised partial images as
/// `<partname>.<ext>` (CASA images); the names of the products written.
#[pyfunction]
#[pyo3(signature = (config_json, n, index, pass, partname, weighter, model=None, nthreads=1))]
#[allow(clippy::too_many_arguments)]
pub fn row_partial(
    py: Python<'_>,
    config_json: &str,
    n: usize,
    index: usize,
    pass: &str,
    partname: &str,
    weighter: &[u8],
    model: Option<&str>,
    nthreads: usize,
) -> PyResult<Vec<String>> {
    let setup = opened(py, config_json)?;
    let weighter: ImagingWeighter = ciborium::from_reader(weighter).map_err(|e| {
        usage_err(&format!(
            "not a weighter from pclean._native.row_weighter: {e}"
        ))
    })?;
    if !matches!(pass, "psf" | "residual" | "pb") {
        return Err(usage_err(&format!(
            "pass={pass:?}: use 'psf', 'residual' or 'pb'"
        )));
    }
    let models = match (pass, model) {
        ("residual", Some(m)) => Some(read_models(&setup.params, m)?),
        _ => None,
    };
    let written = py
        .allow_threads(|| {
            let pool = pool(nthreads)?;
            pool.install(|| {
                let part = Part {
                    setup: &setup,
                    n,
                    index,
                    weighter: &weighter,
                };
                part.run(pass, partname, models.as_deref(), nthreads.max(1))
            })
        })
        .map_err(engine_err)?;
    Ok(written)
}

/// The model planes `[stokes][term]` of `<prefix>.model` (`.model.ttN` for mtmfs), which must
/// have the run's image shape.
fn read_models(p: &ImagingParams, prefix: &str) -> PyResult<Vec<Vec<Array2<f32>>>> {
    let nst = p.stokes.0.len();
    let exts: Vec<&str> = if p.deconv.deconvolver == Deconvolver::Mtmfs {
        mtmfs::MODEL.iter().copied().take(p.deconv.nterms).collect()
    } else {
        vec!["model"]
    };
    let mut planes = vec![Vec::new(); nst];
    for ext in exts {
        let path = format!("{prefix}.{ext}");
        let mut img = CasaImage::open(&path).map_err(|e| {
            usage_err(&format!(
                "the model of run_partial_major_cycle, '{path}': {e}"
            ))
        })?;
        let want = [p.nx, p.ny, nst, 1];
        if img.shape() != want {
            return Err(usage_err(&format!(
                "the model '{path}' has shape {:?}, the run's images {want:?} ([nx, ny, nstokes, \
                 nchan]): it is not a model of this run",
                img.shape()
            )));
        }
        for (s, ps) in planes.iter_mut().enumerate() {
            let plane = img
                .get_plane(0, s)
                .map_err(|e| usage_err(&format!("reading '{path}': {e}")))?;
            ps.push(plane);
        }
    }
    Ok(planes)
}

/// One partition of an opened run.
struct Part<'a> {
    setup: &'a Setup,
    n: usize,
    index: usize,
    weighter: &'a ImagingWeighter,
}

impl Part<'_> {
    fn run(
        &self,
        pass: &str,
        partname: &str,
        models: Option<&[Vec<Array2<f32>>]>,
        nthreads: usize,
    ) -> Result<Vec<String>, EngineError> {
        let setup = self.setup;
        let p = &setup.params;
        let plan = plan_partitions(&setup.sources, self.n, p.row_partition_by);
        let part = plan.get(self.index).ok_or_else(|| {
            EngineError::param(
                "row_partitions",
                format!(
                    "partition {} of {}: this run's rows make {} partitions",
                    self.index,
                    self.n,
                    plan.len()
                ),
            )
        })?;
        let sources = partition_sources(&setup.sources, part);
        let ctx = setup.context(nthreads);
        let nst = p.stokes.0.len();
        if p.deconv.mvc.is_some() {
            return Err(EngineError::param(
                "specmode",
                "the seed's partial images hold the Taylor terms of one mfs pass, which \
                 specmode='mvc' forms from a cube of channels instead: use \
                 ParallelContinuumImager or row_partitions with pclean image",
            ));
        }
        let taylor = p.deconv.deconvolver == Deconvolver::Mtmfs;
        let nterms = p.deconv.nterms;
        let reffreq_hz = setup.plan.freqs_hz[0];
        // Each Stokes plane's images, by product name.
        let mut planes: Vec<Vec<(&'static str, Array2<f32>)>> = Vec::with_capacity(nst);
        for s in 0..nst {
            let weighter = self.weighter;
            let model = models.map(|m| &m[s]);
            let task = match (pass, taylor) {
                ("pb", _) => {
                    let pb = setup.block_inputs(&ctx, None).pb(0);
                    let ext = if taylor { "pb.tt0" } else { "pb" };
                    planes.push(vec![(ext, pb)]);
                    continue;
                }
                ("psf", false) => RowTask::Psf { k: 0, s, weighter },
                ("psf", true) => RowTask::TaylorPsf {
                    s,
                    weighter,
                    nterms,
                    reffreq_hz,
                },
                (_, false) => RowTask::Residual {
                    k: 0,
                    s,
                    weighter,
                    model: model.map(|m| &m[0]),
                    pb_weight: None,
                },
                (_, true) => RowTask::TaylorResidual {
                    s,
                    weighter,
                    nterms,
                    reffreq_hz,
                    models: model.map(|m| m.as_slice()),
                },
            };
            let bytes = encode_task(&task)?
                .ok_or_else(|| EngineError::internal("a partial pass with nothing to run"))?;
            let out = decode_output(&run_task_bytes(setup, &ctx, &sources, &bytes)?)?;
            planes.push(named(pass, out)?);
        }
        write_partial(setup, partname, planes)
    }
}

/// A pass's output as named planes: the image (`psf`, `residual`, or their Taylor terms), the
/// sums of weights (`sumwt[.ttN]`, one pixel) of a PSF pass and a weight image when the gridder
/// makes one.
///
/// The engine's partial images are divided by the partition's own sum of weights
/// (`exec::rows::combine_images`); the seed's files hold the sums themselves, so they are
/// multiplied by it again here.
fn named(pass: &str, out: RowOutput) -> Result<Vec<(&'static str, Array2<f32>)>, EngineError> {
    let one = |w: f64| Array2::from_elem((1, 1), w as f32);
    let unnorm = |mut a: Array2<f32>, w: f64| {
        a.mapv_inplace(|v| (v as f64 * w) as f32);
        a
    };
    let psf = pass == "psf";
    Ok(match out {
        RowOutput::Image(((image, sumwt, weight), sums)) => {
            if !sums.is_empty() {
                return Err(EngineError::param(
                    "gridder",
                    "the seed's partial images cannot hold a mosaic's per-pointing weight sums \
                     (its residual's band response is applied after the partitions are \
                     combined): use ParallelContinuumImager or row_partitions with pclean image",
                ));
            }
            let image = unnorm(image, sumwt);
            let weight = weight.map(|w| unnorm(w, sumwt));
            let mut v = vec![(if psf { "psf" } else { "residual" }, image)];
            if psf {
                v.push(("sumwt", one(sumwt)));
            }
            v.extend(weight.map(|w| ("weight", w)));
            v
        }
        RowOutput::Terms(terms) => {
            if !terms.weights.is_empty() {
                return Err(EngineError::param(
                    "gridder",
                    "the seed's partial images cannot hold an mtmfs mosaic's Taylor weight \
                     images (its PSF terms are divided by term 0's peak after the partitions \
                     are combined): use ParallelContinuumImager or row_partitions with pclean \
                     image",
                ));
            }
            // Each image times the sum it was divided by (its normaliser).
            let sumwt = terms.sumwt;
            let images = terms
                .images
                .into_iter()
                .zip(terms.norms)
                .map(|(i, n)| unnorm(i, n));
            let names: &[&'static str] = if psf { &mtmfs::PSF } else { &mtmfs::RESIDUAL };
            let mut v: Vec<_> = names.iter().copied().zip(images).collect();
            if psf {
                v.extend(mtmfs::SUMWT.iter().copied().zip(sumwt.into_iter().map(one)));
            }
            v
        }
        _ => return Err(EngineError::internal("a partial pass returned no image")),
    })
}

/// Write `planes[stokes]` as the CASA images `<partname>.<ext>` with the run's coordinates.
fn write_partial(
    setup: &Setup,
    partname: &str,
    planes: Vec<Vec<(&'static str, Array2<f32>)>>,
) -> Result<Vec<String>, EngineError> {
    let mut p = setup.params.clone();
    p.imagename = partname.to_string();
    p.format = ImageFormat::Casa;
    let exts: Vec<&'static str> = planes
        .first()
        .map(|v| v.iter().map(|(e, _)| *e).collect())
        .unwrap_or_default();
    let (coords, object) = setup.product_coords(&p);
    let mut out = Products::create(
        &p,
        &exts,
        &coords,
        None,
        &object,
        OpenMode::Create { overwrite: true },
    )?;
    for (s, named) in planes.into_iter().enumerate() {
        for (ext, plane) in named {
            out.put(ext, 0, s, plane.view())?;
        }
    }
    out.finish(&Beams::None, &Beams::None)
}

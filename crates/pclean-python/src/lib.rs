//! `pclean._native`: the Python binding. Thin by design: each function converts its arguments,
//! releases the GIL, calls one pclean function and wraps the result; errors map to Python
//! exceptions in `errors.rs`. Parameters cross the boundary as JSON text with tclean's names
//! (the schema is `pclean_core::params::RawParams`).

mod errors;
mod partials;
mod rows;
mod tools;

use errors::{engine_err, param_err};
use pclean_core::config;
use pclean_core::params::{ImagingParams, RawParams};
use pclean_engine::memory::{self, WorkerSpec};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// Exact heap accounting in the run summary (peak per run and per block), as in the CLI.
#[global_allocator]
static ALLOC: pclean_engine::alloc_count::CountingAlloc = pclean_engine::alloc_count::CountingAlloc;

/// A JSON value as a Python object (via the `json` module: dicts, lists, str, int, float, None).
fn to_py(py: Python<'_>, v: &impl serde::Serialize) -> PyResult<PyObject> {
    let text = serde_json::to_string(v).expect("value serialises");
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// Merged parameters (defaults not applied) and their validated form.
fn parse(config_json: &str) -> PyResult<(RawParams, ImagingParams)> {
    let raw = config::from_json(config_json).map_err(param_err)?;
    let params = ImagingParams::from_raw(&raw).map_err(param_err)?;
    Ok((raw, params))
}

/// pclean's version.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Every parameter with its default, as a dict (the config schema).
#[pyfunction]
fn schema(py: Python<'_>) -> PyResult<PyObject> {
    to_py(py, &config::schema())
}

/// Every parameter's declaration with its default, in declaration order (`pclean params`).
#[pyfunction]
fn params(py: Python<'_>) -> PyResult<PyObject> {
    to_py(py, &pclean_core::schema::specs_json())
}

/// Names of the presets shipped with pclean.
#[pyfunction]
fn preset_names() -> Vec<&'static str> {
    config::PRESETS.iter().map(|(n, _)| *n).collect()
}

/// The parameters of a preset (only the keys it sets), as a dict.
#[pyfunction]
fn preset(py: Python<'_>, name: &str) -> PyResult<PyObject> {
    let raw = config::preset(name).map_err(param_err)?;
    to_py(py, &config::to_value(&raw))
}

/// Check a config (JSON text) and return its canonical form: with `defaults`, every key with
/// defaults applied, else only the keys given. With `complete`, also validate it as a run
/// (`vis` and `imagename` required, every value checked); otherwise only keys and value types,
/// plus every value check that does not need `vis`/`imagename`.
#[pyfunction]
#[pyo3(signature = (config_json, complete = true, defaults = true))]
fn validate(
    py: Python<'_>,
    config_json: &str,
    complete: bool,
    defaults: bool,
) -> PyResult<PyObject> {
    let raw = config::from_json(config_json).map_err(param_err)?;
    let mut check = raw.clone();
    if !complete {
        check
            .vis
            .get_or_insert_with(|| vec!["placeholder.ms".into()]);
        check.imagename.get_or_insert_with(|| "placeholder".into());
    }
    ImagingParams::from_raw(&check).map_err(param_err)?;
    if defaults {
        to_py(py, &config::to_value(&raw.with_defaults()))
    } else {
        to_py(py, &config::to_value(&raw))
    }
}

/// Parse a YAML text into a config dict (only the keys it sets; values in canonical form).
#[pyfunction]
fn yaml_to_config(py: Python<'_>, text: &str) -> PyResult<PyObject> {
    let raw = config::from_yaml(text).map_err(param_err)?;
    to_py(py, &config::to_value(&raw))
}

/// The `cluster: submit:` section of a YAML config in the seed's layout (`None` when absent).
#[pyfunction]
fn seed_submit_section(py: Python<'_>, text: &str) -> PyResult<PyObject> {
    let v = config::seed_submit_section(text).map_err(param_err)?;
    to_py(py, &v)
}

/// The seed's layout: `{"sections": {section: [parameter, ...]}, "cluster": {seed key: parameter}}`.
#[pyfunction]
fn seed_sections(py: Python<'_>) -> PyResult<PyObject> {
    use pclean_core::seed_layout::{CLUSTER_KEYS, SECTION_KEYS};
    let sections: serde_json::Map<String, serde_json::Value> = SECTION_KEYS
        .iter()
        .map(|(s, keys)| (s.to_string(), serde_json::json!(keys)))
        .collect();
    let cluster: serde_json::Map<String, serde_json::Value> = CLUSTER_KEYS
        .iter()
        .map(|(seed, ours)| (seed.to_string(), serde_json::json!(ours)))
        .collect();
    to_py(
        py,
        &serde_json::json!({"sections": sections, "cluster": cluster}),
    )
}

/// A config (JSON text) as YAML (keys that are set, canonical values).
#[pyfunction]
fn config_to_yaml(config_json: &str) -> PyResult<String> {
    let raw = config::from_json(config_json).map_err(param_err)?;
    Ok(config::to_yaml(&raw))
}

/// Run the local engine in this process (the GIL released); the run summary as a dict.
#[pyfunction]
fn run_image(py: Python<'_>, config_json: &str) -> PyResult<PyObject> {
    let (raw, params) = parse(config_json)?;
    params.parallel.require_local().map_err(param_err)?;
    let effective = raw.with_defaults();
    let summary = py
        .allow_threads(|| pclean_engine::run_image(&params, &effective))
        .map_err(engine_err)?;
    to_py(py, &summary)
}

/// The driver side of a distributed run (see `pclean._native.pyi`).
#[pyclass(module = "pclean._native")]
struct Coordinator {
    inner: Option<pclean_engine::Coordinator>,
}

impl Coordinator {
    fn get(&mut self) -> PyResult<&mut pclean_engine::Coordinator> {
        self.inner
            .as_mut()
            .ok_or_else(|| errors::usage_err("this Coordinator has finished or aborted"))
    }
}

#[pymethods]
impl Coordinator {
    #[new]
    fn new(py: Python<'_>, config_json: &str) -> PyResult<Self> {
        let (raw, params) = parse(config_json)?;
        let effective = raw.with_defaults();
        let c = py
            .allow_threads(|| pclean_engine::Coordinator::new(params, effective))
            .map_err(engine_err)?;
        Ok(Coordinator { inner: Some(c) })
    }

    /// Blocks not yet done: [{"block", "channels": [a, z], "memory_bytes", "threads"}, ...].
    fn pending(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        let p = self.get()?.pending();
        to_py(py, &p)
    }

    /// Write block `block`'s result (from `run_block`) into the products and record it.
    fn accept(&mut self, py: Python<'_>, block: usize, result: &[u8]) -> PyResult<()> {
        let c = self.get()?;
        py.allow_threads(|| c.accept(block, result))
            .map_err(engine_err)
    }

    /// The products the workers may write their planes into themselves (workers that see the
    /// products' directory): JSON for `run_block(direct=...)`. From now on `accept` takes results
    /// whose planes of these products the worker wrote.
    fn direct_targets(&mut self) -> PyResult<String> {
        let t = self.get()?.direct_targets();
        serde_json::to_string(&t).map_err(|e| errors::usage_err(&e.to_string()))
    }

    /// What the accepted blocks brought: {"planes_received", "plane_bytes_received",
    /// "planes_written_by_workers"}.
    fn transfer(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        let t = self.get()?.transfer();
        to_py(py, &t)
    }

    /// Finish the products (every block accepted); the run summary as a dict.
    fn finish(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        // Not finishable (blocks missing): an error, and the coordinator stays usable.
        self.get()?.ready_to_finish().map_err(engine_err)?;
        let c = self.inner.take().expect("checked above");
        let s = py.allow_threads(|| c.finish()).map_err(engine_err)?;
        to_py(py, &s)
    }

    /// Run the pending block (an mfs image) with every gridding pass in `n` row partitions of
    /// `threads` threads each: each pass's task (bytes) goes to `submit(task, n)`, which returns
    /// `[(output bytes, seconds, worker address or None, peak RSS bytes or None)]` in partition
    /// order (from `run_row_task` on the workers). The minor cycle, masks, products and
    /// checkpoint stay here; `finish()` next.
    #[pyo3(signature = (n, submit, threads = 1))]
    fn run_rows(
        &mut self,
        py: Python<'_>,
        n: usize,
        submit: PyObject,
        threads: usize,
    ) -> PyResult<()> {
        let c = self.get()?;
        let s = rows::PySubmit::new(submit);
        let res =
            py.allow_threads(|| pclean_engine::exec::local::run_rows_remote(c, n, threads, &s));
        s.result(res)
    }

    /// The memory model's peak bytes of one of `n` row partitions' tasks run with `threads`
    /// threads (the `MEMORY` resource a Dask row task declares).
    fn row_partition_bytes(&mut self, n: usize, threads: usize) -> PyResult<u64> {
        let (part, _) = pclean_engine::exec::rows::row_estimates(self.get()?.setup(), n, threads);
        Ok(part as u64)
    }

    /// Record the finished blocks and release the products' lock; a later run resumes.
    fn abort(&mut self, py: Python<'_>) -> PyResult<()> {
        match self.inner.take() {
            Some(c) => py.allow_threads(|| c.abort()).map_err(engine_err),
            None => Ok(()),
        }
    }
}

/// Compute image channels [first_chan, end_chan) of the run `config_json` with `nthreads`
/// threads (the GIL released); an opaque result for `Coordinator.accept`. The opened
/// MeasurementSets are kept for the next call with the same config. `cache_chans`: the range
/// [a, z) of channels this worker is given as several blocks: their visibilities are read once
/// (kept in memory, or in a scratch file in `scratch_dir`, default the system's temporary
/// directory) and every block of the range takes its channels from there. `direct`: the
/// products this worker writes its planes into itself (`Coordinator.direct_targets()`, JSON);
/// they are durable when this returns and only listed in the result. `ranges_per_process`: the
/// Dask workers this process hosts (1 for a worker process; in-process workers share the
/// driver's): as many `cache_chans` ranges may be held at once.
#[pyfunction]
#[pyo3(signature = (config_json, first_chan, end_chan, nthreads, cache_chans = None, scratch_dir = None, direct = None, ranges_per_process = 1))]
#[allow(clippy::too_many_arguments)]
fn run_block<'py>(
    py: Python<'py>,
    config_json: &str,
    first_chan: usize,
    end_chan: usize,
    nthreads: usize,
    cache_chans: Option<(usize, usize)>,
    scratch_dir: Option<std::path::PathBuf>,
    direct: Option<&str>,
    ranges_per_process: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let (_, params) = parse(config_json)?;
    let direct: Vec<pclean_engine::exec::direct::DirectTarget> = match direct {
        Some(text) => serde_json::from_str(text).map_err(|e| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "direct: not the JSON of Coordinator.direct_targets() ({e}); pass what it \
                 returned, or None to send every plane to the coordinator"
            ))
        })?,
        None => Vec::new(),
    };
    if let Some((a, z)) = cache_chans {
        if a >= z || a > first_chan || end_chan > z {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "cache_chans=({a}, {z}) must be a non-empty range holding the block's channels \
                 [{first_chan}, {end_chan}); pass the channels the worker is given, or None"
            )));
        }
    }
    let cache = cache_chans.map(|(a, z)| pclean_engine::WorkerCache {
        chans: a..z,
        scratch_dir: scratch_dir.unwrap_or_else(std::env::temp_dir),
        ranges_per_process,
    });
    let bytes = py
        .allow_threads(|| {
            pclean_engine::run_block_cached(
                config_json,
                &params,
                first_chan,
                end_chan,
                nthreads,
                cache.as_ref(),
                &direct,
            )
        })
        .map_err(engine_err)?;
    Ok(PyBytes::new(py, &bytes))
}

/// Partition `index` of `n` of the run `config_json` runs the row task `task` (from
/// `Coordinator.run_rows`) with `nthreads` threads (the GIL released); the output's bytes. The
/// opened MeasurementSets are kept for the next call with the same config.
#[pyfunction]
fn run_row_task<'py>(
    py: Python<'py>,
    config_json: &str,
    n: usize,
    index: usize,
    task: &[u8],
    nthreads: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let (_, params) = parse(config_json)?;
    let bytes = py
        .allow_threads(|| {
            pclean_engine::exec::rows::remote::run_row_task_cached(
                config_json,
                &params,
                n,
                index,
                task,
                nthreads,
            )
        })
        .map_err(engine_err)?;
    Ok(PyBytes::new(py, &bytes))
}

/// The memory model's task description from `imsize` and the keyword arguments of the estimate
/// functions (`nchan_per_task`, `gridder`, `deconvolver`, `nterms`, `nfields`, `threads_per_task`,
/// `blocks_in_flight`, `wplanes`, `row_partitions`, `nvis_per_chan`, `spw_nchan`, `pabins`, `beam_freqs`, `mvc_chans`, `interpolated`, `resident_chans`, `mfs`, `weighting`,
/// `epsilon`; the others keep `WorkerSpec::default()`'s values, as `pclean estimate`'s defaults).
fn spec(imsize: usize, kw: Option<&Bound<'_, PyDict>>) -> PyResult<WorkerSpec> {
    let mut s = WorkerSpec {
        imsize,
        ..WorkerSpec::default()
    };
    for (k, v) in kw.into_iter().flat_map(|d| d.iter()) {
        match k.extract::<String>()?.as_str() {
            "nchan_per_task" => s.nchan_per_task = v.extract()?,
            "gridder" => s.gridder = v.extract()?,
            "deconvolver" => s.deconvolver = v.extract()?,
            "nterms" => s.nterms = v.extract()?,
            "nfields" => s.nfields = v.extract()?,
            "threads_per_task" => s.threads_per_task = v.extract()?,
            "blocks_in_flight" => s.blocks_in_flight = v.extract()?,
            "wplanes" => s.wplanes = v.extract()?,
            "row_partitions" => s.row_partitions = v.extract()?,
            "nvis_per_chan" => s.nvis_per_chan = v.extract()?,
            "spw_nchan" => s.spw_nchan = v.extract()?,
            "pabins" => s.pabins = v.extract()?,
            "beam_freqs" => s.beam_freqs = v.extract()?,
            "mvc_chans" => s.mvc_chans = v.extract()?,
            "interpolated" => s.interpolated = v.extract()?,
            "resident_chans" => s.resident_chans = v.extract()?,
            "mfs" => s.mfs = v.extract()?,
            "weighting" => s.weighting = v.extract()?,
            "epsilon" => s.epsilon = v.extract()?,
            other => {
                return Err(PyTypeError::new_err(format!(
                    "unexpected keyword argument '{other}'"
                )))
            }
        }
    }
    Ok(s)
}

/// Peak memory of one worker running one task, GiB (`pclean estimate`).
#[pyfunction]
#[pyo3(signature = (imsize, **spec_kw))]
fn estimate_worker_memory_gib(imsize: usize, spec_kw: Option<&Bound<'_, PyDict>>) -> PyResult<f64> {
    memory::estimate_worker_memory_gib(&spec(imsize, spec_kw)?).map_err(engine_err)
}

/// Peak memory of the coordinator of a run in row partitions, GiB (`row_partitions` among the
/// keywords; without it, a worker's).
#[pyfunction]
#[pyo3(signature = (imsize, **spec_kw))]
fn estimate_coordinator_memory_gib(
    imsize: usize,
    spec_kw: Option<&Bound<'_, PyDict>>,
) -> PyResult<f64> {
    memory::estimate_coordinator_memory_gib(&spec(imsize, spec_kw)?).map_err(engine_err)
}

/// Peak memory of `nworkers` workers, GiB.
#[pyfunction]
#[pyo3(signature = (nworkers, imsize, **spec_kw))]
fn estimate_peak_ram_gib(
    nworkers: usize,
    imsize: usize,
    spec_kw: Option<&Bound<'_, PyDict>>,
) -> PyResult<f64> {
    memory::estimate_peak_ram_gib(nworkers, &spec(imsize, spec_kw)?).map_err(engine_err)
}

/// Workers that fit `available_ram_gib` (default: this machine's available memory) times
/// `ram_safety_factor`; 0 when not even one fits.
#[pyfunction]
#[pyo3(signature = (available_ram_gib = None, imsize = 1024, ram_safety_factor = 0.85, **spec_kw))]
fn recommend_nworkers(
    available_ram_gib: Option<f64>,
    imsize: usize,
    ram_safety_factor: f64,
    spec_kw: Option<&Bound<'_, PyDict>>,
) -> PyResult<usize> {
    let s = spec(imsize, spec_kw)?;
    memory::recommend_nworkers(available_ram_gib, &s, ram_safety_factor).map_err(engine_err)
}

/// Memory available now (MemAvailable), GiB.
#[pyfunction]
fn available_memory_gib() -> f64 {
    memory::available_memory_bytes() as f64 / (1u64 << 30) as f64
}

/// The engine's progress and log lines on stderr, as the CLI prints them (level from `PCLEAN_LOG`,
/// default `info`); a no-op when the process already has a subscriber.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PCLEAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    init_logging();
    errors::register(m)?;
    tools::register(m)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(schema, m)?)?;
    m.add_function(wrap_pyfunction!(params, m)?)?;
    m.add_function(wrap_pyfunction!(preset_names, m)?)?;
    m.add_function(wrap_pyfunction!(preset, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(yaml_to_config, m)?)?;
    m.add_function(wrap_pyfunction!(config_to_yaml, m)?)?;
    m.add_function(wrap_pyfunction!(seed_submit_section, m)?)?;
    m.add_function(wrap_pyfunction!(seed_sections, m)?)?;
    m.add_function(wrap_pyfunction!(run_image, m)?)?;
    m.add_function(wrap_pyfunction!(run_block, m)?)?;
    m.add_function(wrap_pyfunction!(run_row_task, m)?)?;
    m.add_function(wrap_pyfunction!(partials::row_plan, m)?)?;
    m.add_function(wrap_pyfunction!(partials::row_weighter, m)?)?;
    m.add_function(wrap_pyfunction!(partials::row_partial, m)?)?;
    m.add_function(wrap_pyfunction!(estimate_worker_memory_gib, m)?)?;
    m.add_function(wrap_pyfunction!(estimate_peak_ram_gib, m)?)?;
    m.add_function(wrap_pyfunction!(recommend_nworkers, m)?)?;
    m.add_function(wrap_pyfunction!(estimate_coordinator_memory_gib, m)?)?;
    m.add_function(wrap_pyfunction!(available_memory_gib, m)?)?;
    m.add_class::<Coordinator>()?;
    Ok(())
}

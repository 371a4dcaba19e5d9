//! pclean's image and storage tools for Python (the seed's `pclean.utils.image_concat`,
//! `check_adios2` and `convert_adios2` call these): each converts its arguments, releases the GIL,
//! calls one library function and returns its report.

use crate::errors::{tool_err, usage_err};
use crate::to_py;
use pclean_concat::{ConcatMode, SubcubeOptions};
use pyo3::prelude::*;
use std::path::PathBuf;

fn mode(m: &str) -> PyResult<ConcatMode> {
    m.parse::<ConcatMode>()
        .map_err(|e| usage_err(&format!("mode={m:?}: {e}")))
}

/// Concatenate CASA images along the spectral axis (`pclean concat OUT IN...`); the report.
#[pyfunction]
#[pyo3(signature = (output, inputs, axis = -1, relax = true, overwrite = true, mode = "paged"))]
pub fn concat_images(
    py: Python<'_>,
    output: PathBuf,
    inputs: Vec<PathBuf>,
    axis: i64,
    relax: bool,
    overwrite: bool,
    mode: &str,
) -> PyResult<PyObject> {
    let m = self::mode(mode)?;
    let rep = py
        .allow_threads(|| pclean_concat::concat_images(&output, &inputs, axis, relax, overwrite, m))
        .map_err(|e| tool_err("concat", &e))?;
    to_py(py, &rep)
}

/// Join `<base>.part<i>.<ext>` into `<base>.<ext>` (`pclean concat --subcubes`); the report.
#[pyfunction]
#[pyo3(signature = (base, nparts, extensions = None, mode = "paged", max_workers = 4, relax = true, overwrite = true))]
#[allow(clippy::too_many_arguments)]
pub fn concat_subcubes(
    py: Python<'_>,
    base: String,
    nparts: usize,
    extensions: Option<Vec<String>>,
    mode: &str,
    max_workers: usize,
    relax: bool,
    overwrite: bool,
) -> PyResult<PyObject> {
    let opts = SubcubeOptions {
        extensions,
        mode: self::mode(mode)?,
        max_workers,
        relax,
        overwrite,
    };
    let rep = py
        .allow_threads(|| pclean_concat::concat_subcubes(&base, nparts, &opts))
        .map_err(|e| tool_err("concat", &e))?;
    to_py(py, &rep)
}

/// Whether this build's casacore has Adios2StMan: `{"read", "write", "why"}`.
#[pyfunction]
pub fn adios2_support(py: Python<'_>) -> PyResult<PyObject> {
    let s = pclean_storage::check_adios2_support();
    to_py(
        py,
        &serde_json::json!({"read": s.read, "write": s.write, "why": s.why}),
    )
}

/// Whether a column of the table `ms` is stored with Adios2StMan.
#[pyfunction]
pub fn ms_uses_adios2(py: Python<'_>, ms: PathBuf) -> PyResult<bool> {
    py.allow_threads(|| pclean_storage::ms_uses_adios2(&ms))
        .map_err(|e| tool_err("storage", &e))
}

/// Copy `ms` to `output` with its data columns in Adios2StMan (`pclean convert-adios2`).
#[pyfunction]
pub fn convert_ms_to_adios2(py: Python<'_>, ms: PathBuf, output: PathBuf) -> PyResult<String> {
    py.allow_threads(|| pclean_storage::convert_ms_to_adios2(&ms, &output))
        .map_err(|e| tool_err("storage", &e))?;
    Ok(output.display().to_string())
}

/// Split `ms` into `nparts` MSs of consecutive rows under `outdir`, each converted.
#[pyfunction]
pub fn split_and_convert_ms_to_adios2(
    py: Python<'_>,
    ms: PathBuf,
    outdir: PathBuf,
    nparts: usize,
) -> PyResult<Vec<String>> {
    let parts = py
        .allow_threads(|| pclean_storage::split_and_convert_ms_to_adios2(&ms, &outdir, nparts))
        .map_err(|e| tool_err("storage", &e))?;
    Ok(parts
        .iter()
        .map(|p: &PathBuf| p.display().to_string())
        .collect())
}

/// Add the tools to module `m`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(concat_images, m)?)?;
    m.add_function(wrap_pyfunction!(concat_subcubes, m)?)?;
    m.add_function(wrap_pyfunction!(adios2_support, m)?)?;
    m.add_function(wrap_pyfunction!(ms_uses_adios2, m)?)?;
    m.add_function(wrap_pyfunction!(convert_ms_to_adios2, m)?)?;
    m.add_function(wrap_pyfunction!(split_and_convert_ms_to_adios2, m)?)?;
    Ok(())
}

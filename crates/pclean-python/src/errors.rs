//! Every mapping from pclean's Rust errors to Python exceptions, in one place.
//!
//! - `PcleanError(Exception)`: the base of every pclean error.
//! - `PcleanValueError(PcleanError, ValueError)`: a parameter is invalid or inconsistent with the
//!   data; its `field` attribute names the parameter (`None` when the message names none).
//! - `PcleanIOError(PcleanError, OSError)`: a MeasurementSet, image, product or file problem
//!   (missing MS, products exist, products locked by another run, ...).

use pclean_core::params::ParamError;
use pclean_engine::EngineError;
use pyo3::exceptions::{PyException, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyDict, PyTuple, PyType};

static BASE: GILOnceCell<Py<PyType>> = GILOnceCell::new();
static VALUE: GILOnceCell<Py<PyType>> = GILOnceCell::new();
static IO: GILOnceCell<Py<PyType>> = GILOnceCell::new();

/// Make a class `name(bases...)` in module `pclean._native` with `builtins.type`.
fn make_type(
    py: Python<'_>,
    name: &str,
    bases: Bound<'_, PyTuple>,
    doc: &str,
) -> PyResult<Py<PyType>> {
    let ns = PyDict::new(py);
    ns.set_item("__module__", "pclean._native")?;
    ns.set_item("__doc__", doc)?;
    let t = py
        .import("builtins")?
        .getattr("type")?
        .call1((name, bases, ns))?;
    Ok(t.downcast_into::<PyType>()?.unbind())
}

fn base(py: Python<'_>) -> PyResult<&Py<PyType>> {
    BASE.get_or_try_init(py, || {
        let bases = PyTuple::new(py, [py.get_type::<PyException>()])?;
        make_type(
            py,
            "PcleanError",
            bases,
            "Base class of every pclean error.",
        )
    })
}

fn value_type(py: Python<'_>) -> PyResult<&Py<PyType>> {
    VALUE.get_or_try_init(py, || {
        let bases = PyTuple::new(
            py,
            [base(py)?.bind(py).clone(), py.get_type::<PyValueError>()],
        )?;
        make_type(
            py,
            "PcleanValueError",
            bases,
            "An invalid parameter; `field` names it (None when unknown).",
        )
    })
}

fn io_type(py: Python<'_>) -> PyResult<&Py<PyType>> {
    IO.get_or_try_init(py, || {
        let bases = PyTuple::new(py, [base(py)?.bind(py).clone(), py.get_type::<PyOSError>()])?;
        make_type(
            py,
            "PcleanIOError",
            bases,
            "A MeasurementSet, image, product or file error.",
        )
    })
}

/// Add the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PcleanError", base(py)?.clone_ref(py))?;
    m.add("PcleanValueError", value_type(py)?.clone_ref(py))?;
    m.add("PcleanIOError", io_type(py)?.clone_ref(py))?;
    Ok(())
}

fn raise(py: Python<'_>, ty: &Py<PyType>, msg: String, field: Option<String>) -> PyErr {
    match ty.bind(py).call1((msg,)) {
        Ok(exc) => {
            if let Err(e) = exc.setattr("field", field) {
                return e;
            }
            PyErr::from_value(exc)
        }
        Err(e) => e,
    }
}

/// The parameter an engine message is about: `parameter 'x'`, or a leading `x=` / `x:`.
fn field_of(msg: &str) -> Option<String> {
    if let Some(i) = msg.find("parameter '") {
        let rest = &msg[i + 11..];
        return rest.find('\'').map(|j| rest[..j].to_string());
    }
    let name: String = msg
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '/')
        .collect();
    let after = msg[name.len()..].chars().next();
    (!name.is_empty() && matches!(after, Some('=' | ':')))
        .then(|| name.split('/').next().unwrap_or("").to_string())
}

/// A parameter error as `PcleanValueError` with `field`.
pub fn param_err(e: ParamError) -> PyErr {
    Python::with_gil(|py| match value_type(py) {
        Ok(t) => raise(py, t, e.to_string(), Some(e.param().to_string())),
        Err(err) => err,
    })
}

/// An engine error as the matching Python exception.
pub fn engine_err(e: EngineError) -> PyErr {
    let msg = e.to_string();
    Python::with_gil(|py| {
        let r = match &e {
            EngineError::Params(p) => value_type(py).map(|t| (t, Some(p.param().to_string()))),
            EngineError::Param(m) => value_type(py).map(|t| (t, field_of(m))),
            // A selection that cannot be parsed or selects nothing is a parameter error.
            EngineError::Ms(pclean_ms::MsError::Selection { source, .. }) => {
                value_type(py).map(|t| (t, Some(source.param().to_string())))
            }
            EngineError::Weighting(_) => value_type(py).map(|t| (t, Some("weighting".into()))),
            EngineError::Ms(_)
            | EngineError::Image(_)
            | EngineError::ProductExists { .. }
            | EngineError::Locked { .. }
            | EngineError::Io { .. } => io_type(py).map(|t| (t, None)),
            _ => base(py).map(|t| (t, None)),
        };
        match r {
            Ok((t, field)) => raise(py, t, msg, field),
            Err(err) => err,
        }
    })
}

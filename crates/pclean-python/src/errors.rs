//! Every mapping from pclean's Rust errors to Python exceptions, in one place. The mapping is by
//! error variant, never by message text.
//!
//! - `PcleanError(Exception)`: the base of every pclean error.
//! - `PcleanValueError(PcleanError, ValueError)`: a parameter is invalid or inconsistent with the
//!   data (its `field` attribute names the parameter), or a block result handed to a
//!   `Coordinator` does not fit the run (`kind` "protocol", `field` None).
//! - `PcleanIOError(PcleanError, OSError)`: a MeasurementSet, image, product or file problem
//!   (missing MS, products exist, products locked by another run, ...).
//!
//! Every exception also has `kind`: the Rust error variant (`"param"`, `"internal"`, `"io"`, ...),
//! and `field` (`None` where no parameter is concerned).

use pclean_core::params::ParamError;
use pclean_engine::EngineError;
use pyo3::exceptions::{PyException, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyDict, PyTuple, PyType};

static BASE: GILOnceCell<Py<PyType>> = GILOnceCell::new();
static VALUE: GILOnceCell<Py<PyType>> = GILOnceCell::new();
static IO: GILOnceCell<Py<PyType>> = GILOnceCell::new();

/// Which Python class an error becomes.
#[derive(Clone, Copy)]
enum Class {
    Base,
    Value,
    Io,
}

impl Class {
    /// The class, made once in module `pclean._native` with `builtins.type`.
    fn get(self, py: Python<'_>) -> PyResult<&'static Py<PyType>> {
        let (cell, name, builtin, doc) = match self {
            Class::Base => (
                &BASE,
                "PcleanError",
                None,
                "Base class of every pclean error; `kind` is the Rust error variant.",
            ),
            Class::Value => (
                &VALUE,
                "PcleanValueError",
                Some(py.get_type::<PyValueError>()),
                "An invalid parameter; `field` names it.",
            ),
            Class::Io => (
                &IO,
                "PcleanIOError",
                Some(py.get_type::<PyOSError>()),
                "A MeasurementSet, image, product or file error.",
            ),
        };
        cell.get_or_try_init(py, || {
            let bases = match builtin {
                None => vec![py.get_type::<PyException>()],
                Some(t) => vec![Class::Base.get(py)?.bind(py).clone(), t],
            };
            let ns = PyDict::new(py);
            ns.set_item("__module__", "pclean._native")?;
            ns.set_item("__doc__", doc)?;
            let t = py.import("builtins")?.getattr("type")?.call1((
                name,
                PyTuple::new(py, bases)?,
                ns,
            ))?;
            Ok(t.downcast_into::<PyType>()?.unbind())
        })
    }
}

/// Add the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    for (name, class) in [
        ("PcleanError", Class::Base),
        ("PcleanValueError", Class::Value),
        ("PcleanIOError", Class::Io),
    ] {
        m.add(name, class.get(py)?.clone_ref(py))?;
    }
    Ok(())
}

/// An exception of `class` with the message, `kind` and `field`.
fn raise(class: Class, msg: String, kind: &str, field: Option<&str>) -> PyErr {
    Python::with_gil(|py| {
        let exc = match class.get(py).and_then(|t| t.bind(py).call1((msg,))) {
            Ok(exc) => exc,
            Err(e) => return e,
        };
        match exc
            .setattr("kind", kind)
            .and_then(|_| exc.setattr("field", field))
        {
            Ok(()) => PyErr::from_value(exc),
            Err(e) => e,
        }
    })
}

/// A parameter error as `PcleanValueError` with `field`.
pub fn param_err(e: ParamError) -> PyErr {
    raise(Class::Value, e.to_string(), e.kind(), Some(e.param()))
}

/// An error of pclean's image and storage tools (`pclean concat`, `inspect`, `convert-adios2`) as
/// `PcleanIOError`, with its chain of causes.
pub fn tool_err(kind: &str, e: &dyn std::error::Error) -> PyErr {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg += &format!(": {s}");
        src = s.source();
    }
    raise(Class::Io, msg, kind, None)
}

/// A caller's misuse of an object (e.g. a finished `Coordinator`), as `PcleanError`.
pub fn usage_err(msg: &str) -> PyErr {
    raise(Class::Base, msg.to_string(), "usage", None)
}

/// An engine error as the matching Python exception.
pub fn engine_err(e: EngineError) -> PyErr {
    use Class::*;
    let (class, kind, field): (Class, &str, Option<&str>) = match &e {
        EngineError::Params(p) => (Value, p.kind(), Some(p.param())),
        EngineError::Param { param, .. } => (Value, "param", Some(param)),
        EngineError::ParamSource { param, .. } => (Value, "param", Some(param)),
        // A selection that cannot be parsed or selects nothing is a parameter error.
        EngineError::Ms(pclean_ms::MsError::Selection { source, .. }) => {
            (Value, "selection", Some(source.param()))
        }
        EngineError::Weighting(_) => (Value, "weighting", Some("weighting")),
        EngineError::Ms(_) => (Io, "ms", None),
        EngineError::Image(_) => (Io, "image", None),
        EngineError::ProductExists { .. } => (Io, "product_exists", None),
        EngineError::Locked { .. } => (Io, "locked", None),
        EngineError::Io { .. } => (Io, "io", None),
        EngineError::Internal(_) => (Base, "internal", None),
        // A block or block result that does not fit the run: a bad argument to a Coordinator method.
        EngineError::Protocol(_) => (Value, "protocol", None),
        _ => (Base, "engine", None),
    };
    raise(class, e.to_string(), kind, field)
}

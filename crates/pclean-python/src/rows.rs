//! The coordinator's side of Dask row partitions: a Python callable as the engine's
//! [`SubmitRows`] (the driver's `submit(task, n)`, see `Coordinator.run_rows`).

use crate::errors::engine_err;
use pclean_engine::exec::rows::remote::SubmitRows;
use pclean_engine::exec::rows::TaskStat;
use pclean_engine::EngineError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::sync::Mutex;

/// One partition's answer from the driver: (output bytes, seconds, worker address, peak RSS bytes).
type RowTaskOut = (Vec<u8>, f64, Option<String>, Option<u64>);

/// `submit(task: bytes, n: int) -> [(bytes, seconds, worker, peak_rss)]`; a Python exception it raises is kept and
/// raised again by [`PySubmit::result`] (a Dask failure or Ctrl-C stays what it was).
pub struct PySubmit {
    submit: PyObject,
    raised: Mutex<Option<PyErr>>,
}

impl PySubmit {
    pub fn new(submit: PyObject) -> Self {
        PySubmit {
            submit,
            raised: Mutex::new(None),
        }
    }

    /// The run's outcome: the Python exception `submit` raised, if any, else `res`'s.
    pub fn result(self, res: Result<(), EngineError>) -> PyResult<()> {
        if let Some(e) = self.raised.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        res.map_err(engine_err)
    }
}

impl SubmitRows for &PySubmit {
    fn submit(&self, task: &[u8], n: usize) -> Result<Vec<(Vec<u8>, TaskStat)>, EngineError> {
        Python::with_gil(|py| {
            let out = self
                .submit
                .call1(py, (PyBytes::new(py, task), n))
                .and_then(|r| r.extract::<Vec<RowTaskOut>>(py));
            match out {
                Ok(v) => Ok(v
                    .into_iter()
                    .map(|(b, wall_s, worker, peak_rss)| {
                        let stat = TaskStat {
                            wall_s,
                            peak_alloc: None,
                            worker,
                            peak_rss,
                        };
                        (b, stat)
                    })
                    .collect()),
                Err(e) => {
                    let msg = format!("a row-partition task failed: {e}");
                    *self.raised.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    Err(EngineError::internal(msg))
                }
            }
        })
    }
}

//! Errors of an imaging run. Each names what went wrong and where; the CLI prints them on one
//! line. A parameter error carries the parameter (`param`), library errors are kept as sources,
//! and a broken internal invariant is [`EngineError::Internal`], never a parameter error.

use std::path::PathBuf;

/// A library error kept as the source of an engine error.
pub type BoxedError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A parameter is inconsistent with the data or not supported with it; `param` names it
    /// (the message says how to fix it).
    #[error("{message}")]
    Param {
        param: &'static str,
        message: String,
    },
    /// A library rejected what a parameter points at (a mask image, a restoring beam, ...).
    #[error("{context}: {source}")]
    ParamSource {
        param: &'static str,
        context: String,
        #[source]
        source: BoxedError,
    },
    #[error(transparent)]
    Params(#[from] pclean_core::params::ParamError),
    #[error(transparent)]
    Ms(#[from] pclean_ms::MsError),
    #[error(transparent)]
    Image(#[from] pclean_imageio::ImageIoError),
    #[error("gridding: {0}")]
    Grid(#[from] pclean_grid::gridder::GridError),
    /// The worker threads could not be started.
    #[error("cannot start {threads} threads: {source}")]
    Threads {
        threads: usize,
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
    #[error("weighting: {0}")]
    Weighting(#[from] pclean_grid::weighting::WeightingError),
    /// A block result or a call that does not fit this run (the distributed driver's protocol).
    #[error("{0}")]
    Protocol(String),
    /// An internal invariant failed: a bug in pclean, not a problem with the input.
    #[error("internal error in pclean (please report it): {0}")]
    Internal(String),
    /// Products with this prefix exist and `overwrite` was not given.
    #[error("product '{path}' already exists; choose another --imagename or pass --overwrite to replace it")]
    ProductExists { path: PathBuf },
    /// Another run holds the lock on these products.
    #[error("products '{prefix}.*' are being written by another pclean run (pid {pid} on host {host}, lock file '{lock}'); wait for it to finish{}", if *.same_host { "" } else { ", or, if that run is dead, remove the lock file (a lock held from another host cannot be checked from here)" })]
    Locked {
        prefix: String,
        lock: PathBuf,
        pid: String,
        host: String,
        /// Whether the holder runs on this host (then it was checked to be alive).
        same_host: bool,
    },
    /// The run was asked to stop (SIGINT/SIGTERM) and stopped at a block boundary.
    #[error("interrupted by {signal}: stopped after the channel blocks in flight; the completed ones are recorded in '{checkpoint}' and the products stay marked incomplete; run the same command again to resume")]
    Interrupted { signal: String, checkpoint: PathBuf },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl EngineError {
    /// A [`EngineError::Param`] about `param`.
    pub fn param(param: &'static str, message: impl Into<String>) -> Self {
        EngineError::Param {
            param,
            message: message.into(),
        }
    }

    /// A [`EngineError::ParamSource`]: `source` rejected what `param` gives (`context`).
    pub fn param_source(
        param: &'static str,
        context: impl Into<String>,
        source: impl Into<BoxedError>,
    ) -> Self {
        EngineError::ParamSource {
            param,
            context: context.into(),
            source: source.into(),
        }
    }

    /// A [`EngineError::Protocol`] error.
    pub fn protocol(message: impl Into<String>) -> Self {
        EngineError::Protocol(message.into())
    }

    /// An [`EngineError::Internal`] error.
    pub fn internal(message: impl Into<String>) -> Self {
        EngineError::Internal(message.into())
    }

    /// The parameter the error concerns, if any.
    pub fn param_name(&self) -> Option<&str> {
        match self {
            EngineError::Param { param, .. } | EngineError::ParamSource { param, .. } => {
                Some(param)
            }
            EngineError::Params(p) => Some(p.param()),
            _ => None,
        }
    }
}

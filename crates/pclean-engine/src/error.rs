//! Errors of an imaging run. Each names what went wrong and where; the CLI prints them on one line.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A parameter is inconsistent with the data (the message names the parameter).
    #[error("{0}")]
    Param(String),
    #[error(transparent)]
    Params(#[from] pclean_core::params::ParamError),
    #[error(transparent)]
    Ms(#[from] pclean_ms::MsError),
    #[error(transparent)]
    Image(#[from] pclean_imageio::ImageIoError),
    #[error("gridding: {0}")]
    Grid(String),
    #[error("weighting: {0}")]
    Weighting(#[from] pclean_grid::weighting::WeightingError),
    /// Products with this prefix exist and `overwrite` was not given.
    #[error("product '{path}' already exists; choose another --imagename or pass --overwrite to replace it")]
    ProductExists { path: PathBuf },
    /// Another run holds the lock on these products.
    #[error("products '{prefix}.*' are being written by another pclean run (lock file '{lock}', pid {pid}); wait for it or remove the lock if that run is dead")]
    Locked {
        prefix: String,
        lock: PathBuf,
        pid: String,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

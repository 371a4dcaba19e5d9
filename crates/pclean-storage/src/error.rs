//! Errors of the storage tools.

use pclean_casacore::GlueError;
use std::path::PathBuf;

/// Why a storage tool failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// Nothing at the path.
    #[error("{path} does not exist")]
    NotFound { path: PathBuf },
    /// The path is not a casacore table.
    #[error("{path} is not a casacore table ({why})")]
    NotATable { path: PathBuf, why: String },
    /// A file of the table could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The table uses storage managers that the casacore in this build cannot instantiate.
    #[error(
        "{path} cannot be opened: it uses {managers}, which the casacore in this build lacks ({why})"
    )]
    UnavailableManager {
        path: PathBuf,
        managers: String,
        why: String,
    },
    /// casacore failed.
    #[error("casacore error on {path}")]
    Casacore {
        path: PathBuf,
        #[source]
        source: GlueError,
    },
    /// Adios2StMan cannot be written (or read) by this build.
    #[error(
        "Adios2StMan is not available in this build of pclean ({why}). Reading or writing it needs \
         casacore compiled with ADIOS2 (cmake -DUSE_ADIOS2=ON, which defines HAVE_ADIOS2; casacore \
         3.5, the version pclean bundles, also requires MPI: -DUSE_MPI=ON). pclean's casacore is the \
         copy bundled by rubbl_casatables, which compiles only the table system, without ADIOS2; \
         convert with a casacore or CASA built with ADIOS2 instead (e.g. python-casacore's \
         tablecopy/deepcopy with an Adios2StMan dminfo)"
    )]
    Adios2Unavailable { why: String },
    /// The output exists.
    #[error("{path} already exists; remove it first")]
    OutputExists { path: PathBuf },
    /// An invalid argument.
    #[error("invalid {what}: {why}")]
    BadOption { what: String, why: String },
}

//! Errors of image concatenation.

use pclean_imageio::ImageIoError;
use std::path::PathBuf;

/// Why a concatenation could not be made. Messages name the input (1-based position and path) and
/// what differs from the first input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConcatError {
    /// Fewer than two inputs.
    #[error("at least two input images are needed to concatenate, got {n}")]
    TooFewInputs { n: usize },
    /// An input image does not exist.
    #[error("input {index} ({path}) does not exist")]
    InputMissing { index: usize, path: PathBuf },
    /// An input could not be opened as a CASA image.
    #[error("input {index} ({path}) cannot be read")]
    Open {
        index: usize,
        path: PathBuf,
        #[source]
        source: ImageIoError,
    },
    /// An input's shape differs from the first input's on an axis that is not concatenated.
    #[error("input {index} ({path}) does not match input 1 ({first}): {what}")]
    Mismatch {
        index: usize,
        path: PathBuf,
        first: PathBuf,
        what: String,
    },
    /// An input does not continue the spectral axis of the inputs before it.
    #[error(
        "input {index} ({path}) is not contiguous in frequency with the inputs before it: its channel \
         {chan} is at {got_hz} Hz but the concatenated axis puts it at {expected_hz} Hz (channel \
         width {width_hz} Hz); give the inputs in spectral order without gaps or overlaps"
    )]
    NotContiguous {
        index: usize,
        path: PathBuf,
        chan: usize,
        got_hz: f64,
        expected_hz: f64,
        width_hz: f64,
    },
    /// The concatenation axis is not supported.
    #[error(
        "axis {axis} is not supported: only the spectral axis can be concatenated (axis=-1 or 3)"
    )]
    BadAxis { axis: i64 },
    /// Unknown mode name.
    #[error("unknown concatenation mode '{mode}': use paged, nomovevirtual or movevirtual")]
    BadMode { mode: String },
    /// Invalid option value.
    #[error("invalid {what}: {why}")]
    BadOption { what: String, why: String },
    /// The output exists and overwrite was not requested.
    #[error("{path} already exists; pass overwrite=true (--overwrite) to replace it")]
    OutputExists { path: PathBuf },
    /// The output would replace or contain an input.
    #[error("output {output} cannot be used: {why}")]
    BadOutput { output: PathBuf, why: String },
    /// Two inputs of a movevirtual concatenation would land on the same name inside the output.
    #[error("inputs {first} and {second} have the same name; movevirtual moves both to {name} inside the output")]
    DuplicateName {
        first: PathBuf,
        second: PathBuf,
        name: String,
    },
    /// A sub-cube product is missing.
    #[error("sub-cube {part} of extension '{ext}' is missing: {path} does not exist")]
    MissingPart {
        ext: String,
        part: usize,
        path: PathBuf,
    },
    /// No sub-cube products were found for a base name.
    #[error("no sub-cube products found for '{base}': expected e.g. {example}")]
    NoSubcubes { base: String, example: PathBuf },
    /// Writing the output image failed.
    #[error("writing {path} failed")]
    Write {
        path: PathBuf,
        #[source]
        source: ImageIoError,
    },
    /// A filesystem operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// One or more extensions of a sub-cube concatenation failed (the first failure is the source).
    #[error("{failed} of {total} extensions failed; extension '{ext}'")]
    Extension {
        ext: String,
        failed: usize,
        total: usize,
        #[source]
        source: Box<ConcatError>,
    },
}

impl ConcatError {
    pub(crate) fn io(
        what: impl Into<String>,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> ConcatError {
        let what = what.into();
        let path = path.to_path_buf();
        move |source| ConcatError::Io { what, path, source }
    }
}

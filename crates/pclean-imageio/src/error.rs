//! Errors of image reading and writing.

use std::path::{Path, PathBuf};

/// Something went wrong reading or writing a CASA image or a FITS file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageIoError {
    /// The output exists and `overwrite` was not given; nothing was touched.
    #[error("{path} already exists; pass overwrite=true to replace it")]
    AlreadyExists { path: PathBuf },
    /// The output's directory cannot be written (or does not exist).
    #[error("cannot write {path}: {source}")]
    Unwritable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another filesystem error on `path`.
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Metadata that cannot describe a valid image.
    #[error("invalid image metadata ({field}): {why}")]
    InvalidMeta { field: String, why: String },
    /// A plane index or array shape that does not fit the image.
    #[error("plane (chan {chan}, stokes {stokes}) of shape {got:?} does not fit image {path} of shape [nx={nx}, ny={ny}, nstokes={nstokes}, nchan={nchan}]")]
    PlaneOutOfRange {
        path: PathBuf,
        chan: usize,
        stokes: usize,
        got: [usize; 2],
        nx: usize,
        ny: usize,
        nstokes: usize,
        nchan: usize,
    },
    /// casacore (through our glue) failed.
    #[error("casacore error on {path}")]
    Glue {
        path: PathBuf,
        #[source]
        source: pclean_casacore::GlueError,
    },
    /// rubbl_casatables failed while reading or writing keywords.
    #[error("casacore table error on {path} ({what})")]
    Table {
        path: PathBuf,
        what: String,
        #[source]
        source: pclean_casacore::rubbl_casatables::TableError,
    },
    /// The image exists but its metadata is not what a CASA image holds.
    #[error("{path} is not a CASA image pclean can read: {why}")]
    NotAnImage { path: PathBuf, why: String },
    /// An image keyword (`coords`, `imageinfo`, `units`, `miscinfo`) cannot be understood.
    #[error("{path} is not a CASA image pclean can read: {keyword}: {source}")]
    BadKeyword {
        path: PathBuf,
        keyword: &'static str,
        #[source]
        source: Box<crate::records::RecordError>,
    },
    /// The image was left incomplete by a writer that did not finish.
    #[error("{path} is incomplete (its writer did not finish; marker file {marker} present)")]
    Incomplete { path: PathBuf, marker: PathBuf },
    /// A FITS image's header card that pclean cannot read or does not support.
    #[error("FITS image {path}: {keyword}: {why}")]
    FitsHeader {
        path: PathBuf,
        keyword: String,
        why: String,
    },
    /// cfitsio failed.
    #[error("FITS error on {path} ({what}): status {status}: {message}")]
    Fits {
        path: PathBuf,
        what: String,
        status: i32,
        message: String,
    },
}

impl ImageIoError {
    /// A rubbl error (a `TableError` or a `CasacoreError`) while `what` on `path`.
    pub(crate) fn table<E: Into<pclean_casacore::rubbl_casatables::TableError>>(
        path: &Path,
        what: impl Into<String>,
    ) -> impl FnOnce(E) -> ImageIoError {
        let path = path.to_path_buf();
        let what = what.into();
        move |source| ImageIoError::Table {
            path,
            what,
            source: source.into(),
        }
    }

    pub(crate) fn glue(path: &Path) -> impl FnOnce(pclean_casacore::GlueError) -> ImageIoError {
        let path = path.to_path_buf();
        move |source| ImageIoError::Glue { path, source }
    }

    /// An error on keyword `keyword` of the image at `path`.
    pub(crate) fn keyword(
        path: &Path,
        keyword: &'static str,
    ) -> impl FnOnce(crate::records::RecordError) -> ImageIoError {
        let path = path.to_path_buf();
        move |source| ImageIoError::BadKeyword {
            path,
            keyword,
            source: Box::new(source),
        }
    }
}

/// Error unless plane `(chan, stokes)` of shape `got = [ny, nx]` fits an image of `shape =
/// [nx, ny, nstokes, nchan]` at `path`.
pub(crate) fn check_plane(
    path: &Path,
    shape: [usize; 4],
    chan: usize,
    stokes: usize,
    got: [usize; 2],
) -> Result<(), ImageIoError> {
    let [nx, ny, nstokes, nchan] = shape;
    if chan >= nchan || stokes >= nstokes || got != [ny, nx] {
        return Err(ImageIoError::PlaneOutOfRange {
            path: path.to_path_buf(),
            chan,
            stokes,
            got,
            nx,
            ny,
            nstokes,
            nchan,
        });
    }
    Ok(())
}

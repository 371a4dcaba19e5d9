//! [`ImageReader`]: an input image that is a CASA image or a FITS file, read the same way (the
//! engine's `mask`/`startmodel` and the quick-look report use it).

use crate::casa::CasaImage;
use crate::error::ImageIoError;
use crate::fits::{is_fits_file, FitsImage};
use crate::meta::ImageMeta;
use ndarray::Array2;
use std::path::{Path, PathBuf};

/// A CASA image or a FITS image opened for reading plane by plane.
pub enum ImageReader {
    Casa(CasaImage),
    Fits(FitsImage),
}

/// Call the same method on either reader.
macro_rules! either {
    ($self:ident, $img:ident => $e:expr) => {
        match $self {
            ImageReader::Casa($img) => $e,
            ImageReader::Fits($img) => $e,
        }
    };
}

impl ImageReader {
    /// Open `path`: a file starting as a FITS file does is read as FITS, anything else as a
    /// (complete) CASA image.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ImageIoError> {
        let path = path.as_ref();
        if is_fits_file(path) {
            FitsImage::open(path).map(ImageReader::Fits)
        } else {
            CasaImage::open(path).map(ImageReader::Casa)
        }
    }

    pub fn meta(&self) -> &ImageMeta {
        either!(self, i => i.meta())
    }

    pub fn path(&self) -> PathBuf {
        either!(self, i => i.path().to_path_buf())
    }

    /// Shape `[nx, ny, nstokes, nchan]`.
    pub fn shape(&self) -> [usize; 4] {
        self.meta().coords.shape()
    }

    /// Whether it is a FITS file.
    pub fn is_fits(&self) -> bool {
        matches!(self, ImageReader::Fits(_))
    }

    /// Plane `(chan, stokes)` as `plane_yx[[y, x]]` (FITS blanks are NaN).
    pub fn get_plane(&mut self, chan: usize, stokes: usize) -> Result<Array2<f32>, ImageIoError> {
        either!(self, i => i.get_plane(chan, stokes))
    }

    /// Plane `(chan, stokes)` into `out` (reshaped if needed).
    pub fn get_plane_into(
        &mut self,
        chan: usize,
        stokes: usize,
        out: &mut Array2<f32>,
    ) -> Result<(), ImageIoError> {
        either!(self, i => i.get_plane_into(chan, stokes, out))
    }

    /// The spectrum of pixel `(x, y)` in Stokes plane `stokes`.
    pub fn get_spectrum(
        &mut self,
        x: usize,
        y: usize,
        stokes: usize,
    ) -> Result<Vec<f32>, ImageIoError> {
        either!(self, i => i.get_spectrum(x, y, stokes))
    }

    /// The pixel mask of plane `(chan, stokes)` (`true` = valid; FITS: not blank), or `None`.
    pub fn get_mask_plane(
        &mut self,
        chan: usize,
        stokes: usize,
    ) -> Result<Option<Array2<bool>>, ImageIoError> {
        either!(self, i => i.get_mask_plane(chan, stokes))
    }
}

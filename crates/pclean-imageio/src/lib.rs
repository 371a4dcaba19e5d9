//! CASA image and FITS writers and readers for pclean.
//!
//! - [`CasaImageWriter`] creates a CASA image (a casacore `PagedImage<Float>` table: tiled `map`
//!   column, `coords`/`imageinfo`/`units`/`miscinfo` keywords, `logtable`) and writes it plane by
//!   plane; [`CasaImage`] reads one back.
//! - [`FitsWriter`] writes the FITS file CASA's `exportfits` would (4-D primary HDU
//!   `[RA, Dec, Freq, Stokes]`, `BMAJ/BMIN/BPA` or `CASAMBM` + `BEAMS` table), plane by plane;
//!   [`export_casa_to_fits`] converts an image. [`FitsImage`] reads a FITS image (as exportfits
//!   and other tools write them); [`ImageReader`] reads either kind.
//!
//! Planes are `plane_yx[[y, x]]` (`ndarray`, f32) with x the RA pixel; see [`meta`] for units and
//! conventions.

mod casa;
pub mod error;
mod fits;
pub mod meta;
pub mod quicklook;
mod reader;
mod records;
pub mod time;

pub use casa::{is_incomplete, CasaImage, CasaImageWriter, INCOMPLETE_MARKER};
pub use error::ImageIoError;
pub use fits::{
    export_casa_to_fits, fits_stokes_code, is_fits_file, partial_path, write_fits, FitsImage,
    FitsWriter,
};
pub use meta::{Beams, ImageCoords, ImageMeta, MiscValue, SpectralAxis, SPECTRAL_FRAMES};
pub use pclean_casacore::{GlueError, TileLayout, TileWriter};
pub use reader::ImageReader;
pub use records::RecordError;

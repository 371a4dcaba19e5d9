//! The keyword records of a CASA image (`coords`, `imageinfo`, `miscinfo`), built ([`build`]) and
//! parsed ([`parse`]) with rubbl's `TableRecord`, exactly as casacore's `CoordinateSystem::save`,
//! `ImageInfo::toRecord` and `MeasureHolder::toRecord` write them (casacore 3.5 sources:
//! `coordinates/Coordinates/*.cc`, `images/Images/ImageInfo.cc`, `images/Images/ImageBeamSet.cc`,
//! `scimath/Mathematics/GaussianBeam.cc`).
//!
//! The coordinate system always has three coordinates in image-axis order: `direction0` (axes 0, 1),
//! `stokes1` (axis 2), `spectral2` (axis 3).

mod build;
mod parse;

pub(crate) use build::{coords_record, imageinfo_record, miscinfo_record};
pub use parse::RecordError;
pub(crate) use parse::{
    get_rec, get_str_or_empty, has_field, parse_coords, parse_imageinfo, parse_miscinfo,
};

//! A-projection (`gridder='awproject'`): the (E)VLA aperture illumination CASA models
//! ([`geometry`], [`raytrace`]) and the primary beams made from it ([`beam`]), with beam squint
//! for circular feeds and the parallactic-angle rotation.

pub mod beam;
pub mod geometry;
pub mod gridder;
pub mod kernel;
pub mod pa;
pub mod pointing;
pub mod raytrace;

pub use beam::{AwBeams, BeamGrid};
pub use geometry::{band_geometry, BandGeometry};

#[cfg(test)]
mod taylor_tests;
#[cfg(test)]
mod tests;

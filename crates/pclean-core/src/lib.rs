//! Domain types shared by every pclean crate: quantities (angles, frequencies, flux densities),
//! sky directions, Stokes parameters and correlations, restoring beams, and the parameters (declared
//! once in [`schema`], validated in [`params`]). No I/O.

pub mod beam;
pub mod config;
pub mod direction;
pub mod frames;
pub mod lenient;
pub mod parallel;
pub mod params;
pub mod schema;
pub mod seed_layout;
pub mod selection;
pub mod spheroidal;
pub mod stokes;
pub mod units;

pub use beam::Beam;
pub use direction::{Direction, DirectionFrame};
pub use selection::Selection;
pub use stokes::{Correlation, StokesParam, StokesSet};
pub use units::{parse_angle_rad, parse_flux_jy, parse_freq_hz, QuantityError};

/// Speed of light in vacuum, m/s (exact, as casacore's `C::c`).
pub const SPEED_OF_LIGHT: f64 = 299_792_458.0;

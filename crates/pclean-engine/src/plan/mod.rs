//! Planning a run before any visibility is read: the phase centre and spectral axis
//! ([`spectral`], [`optical_axis`]), the memory model and schedule ([`memory`]) with the one place
//! its block shape is built ([`shape`]), and the [`Setup`] every participant of a run opens the
//! same way.

pub mod channels;
pub mod conversion;
pub mod ephemeris;
mod field_checks;
pub mod image_input;
pub mod memory;
mod mfs_axis;
pub mod optical_axis;
pub mod primary_beam;
pub mod setup;
pub mod shape;
pub mod spectral;

pub use setup::Setup;
pub use spectral::{
    phase_centre, spectral_plan, FrameContext, FrameConversion, SpectralPlan, SpwSelection,
};

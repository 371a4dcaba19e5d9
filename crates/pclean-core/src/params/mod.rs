//! Imaging parameters in two stages: [`RawParams`] (every field optional, straight from a config
//! file, the CLI or Python, tclean's names; declared once in [`crate::schema::table`]) and
//! [`ImagingParams`] (validated, typed, defaults applied). The engine only ever sees
//! `ImagingParams`.

mod awproject;
pub mod choices;
mod deconv;
mod error;
mod memory;
mod mosaic;
mod mtmfs;
mod taper;
mod tclean;
mod types;
mod validate;

pub use crate::schema::{EffectiveParams, RawParams};
pub use awproject::AwProjectParams;
pub use choices::{
    ClusterKind, DataColumnChoice, Deconvolver, GridKernel, Gridder, ImageFormat, Interpolation,
    LocalWorkers, NormType, PlaneWrites, RowPartitionBy, SaveModel, SpecMode, UseMaskKind, VelType,
    WeightingKind,
};
pub(crate) use error::invalid;
pub use error::ParamError;
pub(crate) use memory::memory_param;
pub use memory::parse_memory_bytes;
pub use mosaic::MosaicParams;
pub use taper::{parse_uvtaper, TaperSizes, UvTaperSpec};
pub use types::{
    AutoMaskSettings, DeconvParams, ImagingParams, PhaseCenter, RestoringBeam, SpectralValue,
    UseMask, Weighting,
};

/// Defaults that other crates name (every default is in the declaration, `crate::schema::table`).
pub mod defaults {
    /// Gridding accuracy: relative error of the ES-kernel gridder.
    pub const EPSILON: f64 = crate::schema::DEFAULT_EPSILON;
}

#[cfg(test)]
mod mtmfs_tests;
#[cfg(test)]
mod tests;

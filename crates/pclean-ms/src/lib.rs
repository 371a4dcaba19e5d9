//! MeasurementSet reading for pclean: open an MS and load its metadata ([`MeasurementSet::open`],
//! [`MsMeta`]), select data with CASA's MSSelection syntax ([`Selection`],
//! [`MeasurementSet::select`]) and read the selected visibilities in chunks of rows
//! ([`SelectedData::chunks`], [`VisChunk`] with `(row, chan, corr)` arrays).
//!
//! All casacore access goes through `pclean_casacore::columns`, which serialises access per table
//! path, so several MSs (or several handles of one MS) can be open in one process.
//!
//! ```no_run
//! use pclean_ms::{DataColumn, MeasurementSet, Selection};
//! let ms = MeasurementSet::open("ngc5921.ms")?;
//! let sel = Selection { spw: "0:5~50".into(), ..Default::default() };
//! let data = ms.select(&sel)?;
//! for chunk in data.chunks(&ms, DataColumn::Data, 10_000) {
//!     let chunk = chunk?;
//!     println!("{} rows x {} channels", chunk.n_rows(), chunk.chan_ids.len());
//! }
//! # Ok::<(), pclean_ms::MsError>(())
//! ```

mod chunks;
pub mod ephemeris;
mod error;
mod fields;
pub mod measures;
mod meta;
mod ms;
mod observatory;
pub mod planets;
mod pointing;
mod selected;
pub mod selection;
mod vptable;
mod write;

pub use chunks::{ChunkIter, VisChunk};
pub use error::{MsError, NotATableReason, SelectionError};
pub use fields::FieldDirection;
pub use meta::{
    Antenna, ColumnPresence, DataDescription, Field, MsMeta, Observation, Polarization,
    SpectralWindow, SpwFrame,
};
pub use ms::{DataColumn, MeasurementSet, ResolvedColumn};
pub use observatory::{known_observatory_itrf_m, Observatory, ObservatorySource};
pub use pointing::{
    baseline_pointings, field_pointings, BaselinePointings, FieldPointing, PointingSample,
};
pub use selected::{DdRows, SelectedData};
pub use selection::{SelectOptions, Selection};
pub use vptable::{read_vptable, FieldValue, Record, VpTable};
pub use write::{remove_model_column, ModelColumnWriter};

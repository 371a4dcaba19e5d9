//! The visibility source of a run: each MeasurementSet with its resolved selection, read in
//! chunks (or from the cache made once for all blocks), narrowed to a block's data channels once
//! per block, and prepared for gridding: Stokes visibilities at the image phase centre, regridded
//! to the output spectral frame.

mod frame_regrid;
mod narrow;
mod prepare;
pub mod regrid_rules;
pub mod visprep;
pub mod visstore;

pub use narrow::{prepare_block, restrict_sources};
pub(crate) use prepare::{select_columns, view_columns};
pub use prepare::{Prepared, VisPrep};

use crate::error::EngineError;
use pclean_ms::{DataColumn, MeasurementSet, SelectedData};
use std::collections::HashMap;

/// One MeasurementSet with its resolved selection and column.
pub struct Source {
    pub index: usize,
    pub ms: std::sync::Arc<MeasurementSet>,
    pub selected: SelectedData,
    pub column: DataColumn,
    /// Every selected visibility read once (all selected channels), when that is cheaper than
    /// each block reading its channels from the MS; blocks then take their channels from here.
    pub cache: Option<std::sync::Arc<visstore::VisStore>>,
    /// The first two selected channel frequencies of each data description before a block
    /// narrowed the selection: tclean's regridding takes the data spacing from them, and the
    /// `floor(image width / spacing)` rule is sensitive to its last bit.
    pub first_two_hz: HashMap<usize, [f64; 2]>,
    /// The MS's ephemeris fields when a selected field has one (`crate::plan::ephemeris`): their
    /// rows are re-phased from the ephemeris direction at each row's time.
    pub moving: Option<std::sync::Arc<crate::plan::ephemeris::Ephemerides>>,
    /// A cube block's chunks prepared once for all its image channels
    /// ([`prepare_block`]): every pass of the block (density, PSF, residual, major cycles) takes
    /// its channel's columns from here instead of reading, forming Stokes and regridding again.
    pub prepared: Option<std::sync::Arc<Vec<Prepared>>>,
    /// A mosaic of several MSs: this MS's rows re-keyed to the run's pointings and antennas
    /// ([`RowKeys`]); `None`: the MS's own FIELD_ID and antenna numbers.
    pub keys: Option<std::sync::Arc<RowKeys>>,
}

/// How the rows of one MS of a several-MS mosaic are keyed for the mosaic gridder: each FIELD_ID
/// becomes the run's pointing of the same direction (fields of different MSs at one direction
/// share it, as tclean's `vis=[a, b]`, which gives the products of `concat(a, b)`: measured
/// equal bit for bit), and each antenna number is offset past the antennas of the MSs before it.
#[derive(Clone, Debug, PartialEq)]
pub struct RowKeys {
    /// The pointing key of each FIELD_ID of the MS (-1: a field that is not selected).
    pub field: Vec<i32>,
    /// Added to ANTENNA1 and ANTENNA2.
    pub antenna_offset: i32,
}

impl RowKeys {
    /// Re-key the rows of `prep`. A FIELD_ID beyond [`RowKeys::field`] keeps its value (the mosaic
    /// gridder then refuses it, naming the field).
    pub fn apply(&self, prep: &mut Prepared) {
        for f in prep.field_r.iter_mut() {
            if let Some(k) = usize::try_from(*f).ok().and_then(|i| self.field.get(i)) {
                *f = *k;
            }
        }
        for a in prep.ant1_r.iter_mut().chain(prep.ant2_r.iter_mut()) {
            *a += self.antenna_offset;
        }
    }
}

impl Source {
    /// Read every chunk of the selection once: into memory, or into the channel-major scratch
    /// file `disk` when given. Returns the bytes held (memory) or written (disk).
    pub fn load_cache(
        &mut self,
        chunk_rows: usize,
        disk: Option<&std::path::Path>,
    ) -> Result<u64, EngineError> {
        use visstore::{DiskStore, VisStore};
        let chunks = self
            .selected
            .chunks(&self.ms, self.column, chunk_rows)
            .map(|c| c.map_err(EngineError::from));
        let (store, bytes) = match disk {
            Some(path) => {
                let d = DiskStore::write(path, chunks)?;
                // The chunks read and freed lie in the heap below the row fields kept for every
                // chunk, so glibc keeps their pages: returned now, the blocks that follow start
                // from the heap the read leaves held instead of the read's whole peak (the
                // 1024^2 x 64 LSRK dirty cube: 63 MiB resident above idle after the read for 13
                // MiB held, docs/decisions.md (s17-est)).
                crate::alloc_count::release_free_heap();
                let n = d.file_bytes();
                (VisStore::Disk(d), n)
            }
            None => {
                let v = chunks.collect::<Result<Vec<_>, _>>()?;
                let n = v.iter().map(|c| c.memory_bytes() as u64).sum();
                (VisStore::Memory(v), n)
            }
        };
        self.cache = Some(std::sync::Arc::new(store));
        Ok(bytes)
    }
}

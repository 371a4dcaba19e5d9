//! The result of a selection: which rows and channels to read, per data description.

use crate::selection::Selection;
use pclean_core::Correlation;
use std::collections::BTreeMap;

/// The selected rows of one data description (one spectral window + polarization setup).
#[derive(Debug, Clone, PartialEq)]
pub struct DdRows {
    pub ddid: usize,
    pub spw_id: usize,
    pub pol_id: usize,
    /// Correlations of the setup, in the order stored in the MS.
    pub corrs: Vec<Correlation>,
    /// Selected channel indices of the spectral window (sorted, unique, non-empty).
    pub chan_ids: Vec<usize>,
    /// Centre frequency of each selected channel, Hz, in the window's frame.
    pub chan_freq_hz: Vec<f64>,
    /// Selected main-table rows (ascending).
    pub rows: Vec<u64>,
    /// The distinct (TIME, FIELD_ID) pairs of the selected rows (autocorrelations included, as
    /// in tclean's selected MS), ascending: the epochs and directions at which tclean converts
    /// the window's frequency range into the image frame.
    pub epochs: Vec<(f64, usize)>,
}

/// Rows and channels chosen by [`crate::MeasurementSet::select`]; read them with
/// [`SelectedData::chunks`].
#[derive(Debug, Clone, PartialEq)]
pub struct SelectedData {
    /// One entry per data description that has selected rows, by ascending ddid.
    pub groups: Vec<DdRows>,
    /// Rows left out because they are autocorrelations (tclean never images them).
    pub autocorr_rows_excluded: usize,
    /// Fields of the selected rows, in the order they first appear in the main table.
    pub field_ids: Vec<usize>,
    /// The earliest TIME (MJD seconds) of each field's selected rows, parallel to `field_ids`
    /// (where a moving field's direction is taken for its primary beam, as tclean's first
    /// visibility buffer of the field).
    pub field_first_time_mjd_s: Vec<f64>,
    /// Whether the `spw` parameter restricted anything (for provenance).
    pub spw_selected: bool,
    /// The selection that produced this.
    pub selection: Selection,
}

impl SelectedData {
    /// Number of selected rows.
    pub fn n_rows(&self) -> usize {
        self.groups.iter().map(|g| g.rows.len()).sum()
    }

    /// Number of selected visibilities (rows x channels x correlations).
    pub fn n_vis(&self) -> usize {
        self.groups
            .iter()
            .map(|g| g.rows.len() * g.chan_ids.len() * g.corrs.len())
            .sum()
    }

    /// Selected channels per spectral window id.
    pub fn spw_channels(&self) -> BTreeMap<usize, Vec<usize>> {
        let mut m: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for g in &self.groups {
            let e = m.entry(g.spw_id).or_default();
            e.extend(&g.chan_ids);
            e.sort_unstable();
            e.dedup();
        }
        m
    }
}

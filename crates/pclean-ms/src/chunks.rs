//! Chunked reading of selected visibilities. A chunk holds at most `max_rows` rows of one data
//! description; the visibility column is never loaded whole.
//!
//! Each array column is read with one glue call per chunk: `getColumnRange` when the chunk's rows
//! are consecutive, else `getColumnCells` (casacore collapses the row list into runs). The cell
//! slice covers the selected channel span `[first, last]` and all correlations; stepped or
//! disjoint channel selections are then picked in memory.

use crate::error::MsError;
use crate::ms::{DataColumn, MeasurementSet, ResolvedColumn};
use crate::selected::{DdRows, SelectedData};
use ndarray::{Array2, Array3};
use num_complex::Complex32;
use pclean_casacore::columns::{ArrayElem, CellSlice, ReadTable, ScalarElem, TableReadError};
use pclean_core::Correlation;

/// Visibilities of up to `max_rows` selected rows of one data description.
///
/// Array names carry their axis order: `_rcp` = (row, selected channel, correlation).
#[derive(Debug, Clone, PartialEq)]
pub struct VisChunk {
    pub ddid: usize,
    pub spw_id: usize,
    /// Correlations along the last axis of the `_rcp` arrays.
    pub corrs: Vec<Correlation>,
    /// Main-table row numbers.
    pub row_ids: Vec<u64>,
    /// TIME column, MJD seconds (UTC, centroid of the integration).
    pub time_s: Vec<f64>,
    pub field_id: Vec<i32>,
    pub ant1: Vec<i32>,
    pub ant2: Vec<i32>,
    pub scan: Vec<i32>,
    /// UVW, metres, shape (row, 3).
    pub uvw_m: Array2<f64>,
    /// Centre frequency of each selected channel, Hz, in the spectral window's frame.
    pub chan_freq_hz: Vec<f64>,
    /// Channel index within the spectral window of each selected channel.
    pub chan_ids: Vec<usize>,
    /// Visibilities (Jy), shape (row, chan, corr).
    pub vis_rcp: Array3<Complex32>,
    /// FLAG OR FLAG_ROW, shape (row, chan, corr); `true` = bad.
    pub flag_rcp: Array3<bool>,
    /// WEIGHT_SPECTRUM when the MS has it, else WEIGHT broadcast over channels; shape (row, chan, corr).
    pub weight_rcp: Array3<f32>,
}

impl VisChunk {
    pub fn n_rows(&self) -> usize {
        self.row_ids.len()
    }

    /// Bytes this chunk holds (arrays and per-row columns), for memory accounting.
    pub fn memory_bytes(&self) -> usize {
        let n = self.vis_rcp.len();
        n * (8 + 1 + 4) + self.n_rows() * (8 + 8 + 4 * 4 + 24) + self.chan_ids.len() * 16
    }

    /// The same rows with only the channels at positions `keep` (indices into `chan_ids`, in
    /// the order given).
    pub fn select_channels(&self, keep: &[usize]) -> VisChunk {
        use ndarray::Axis;
        VisChunk {
            ddid: self.ddid,
            spw_id: self.spw_id,
            corrs: self.corrs.clone(),
            row_ids: self.row_ids.clone(),
            time_s: self.time_s.clone(),
            field_id: self.field_id.clone(),
            ant1: self.ant1.clone(),
            ant2: self.ant2.clone(),
            scan: self.scan.clone(),
            uvw_m: self.uvw_m.clone(),
            chan_freq_hz: keep.iter().map(|j| self.chan_freq_hz[*j]).collect(),
            chan_ids: keep.iter().map(|j| self.chan_ids[*j]).collect(),
            vis_rcp: self.vis_rcp.select(Axis(1), keep),
            flag_rcp: self.flag_rcp.select(Axis(1), keep),
            weight_rcp: self.weight_rcp.select(Axis(1), keep),
        }
    }
}

/// Iterator over the chunks of a selection; see [`SelectedData::chunks`].
pub struct ChunkIter<'a> {
    data: &'a SelectedData,
    ms: &'a MeasurementSet,
    column: Result<ResolvedColumn, Option<MsError>>,
    use_weight_spectrum: bool,
    max_rows: usize,
    group: usize,
    offset: usize,
}

impl<'a> ChunkIter<'a> {
    /// The column being read and, for `corrected` without CORRECTED_DATA, the fallback warning.
    /// `None` when the column could not be resolved (the iterator then yields that error).
    pub fn column(&self) -> Option<&ResolvedColumn> {
        self.column.as_ref().ok()
    }
}

impl SelectedData {
    /// Iterate over the selected visibilities of `column` in chunks of at most `max_rows` rows
    /// (0 is taken as 1), data description by data description, rows ascending. A missing column
    /// is reported as the first (and only) item.
    pub fn chunks<'a>(
        &'a self,
        ms: &'a MeasurementSet,
        column: DataColumn,
        max_rows: usize,
    ) -> ChunkIter<'a> {
        let resolved = ms.resolve_column(column).map_err(Some);
        // WEIGHT_SPECTRUM is used only when its cells are defined (some MSs declare it empty).
        let use_weight_spectrum = ms.meta().columns.weight_spectrum
            && ms
                .main
                .column_info("WEIGHT_SPECTRUM")
                .map(|i| i.shape.is_some())
                .unwrap_or(false);
        ChunkIter {
            data: self,
            ms,
            column: resolved,
            use_weight_spectrum,
            max_rows: max_rows.max(1),
            group: 0,
            offset: 0,
        }
    }
}

impl Iterator for ChunkIter<'_> {
    type Item = Result<VisChunk, MsError>;

    fn next(&mut self) -> Option<Self::Item> {
        let column = match &mut self.column {
            Ok(c) => c.name,
            Err(e) => return e.take().map(Err),
        };
        let g = loop {
            let g = self.data.groups.get(self.group)?;
            if self.offset < g.rows.len() {
                break g;
            }
            self.group += 1;
            self.offset = 0;
        };
        let end = (self.offset + self.max_rows).min(g.rows.len());
        let rows = &g.rows[self.offset..end];
        self.offset = end;
        let out = read_chunk(&self.ms.main, g, rows, column, self.use_weight_spectrum);
        if out.is_err() {
            // Stop after an error.
            self.group = self.data.groups.len();
        }
        Some(out)
    }
}

/// Read a scalar column at ascending `rows`: one range read when the rows are dense enough, else one
/// per run of consecutive rows.
fn read_scalars<T: ScalarElem>(
    t: &ReadTable,
    col: &str,
    rows: &[u64],
) -> Result<Vec<T>, TableReadError> {
    let first = rows[0];
    let span = (rows[rows.len() - 1] - first + 1) as usize;
    if span <= 4 * rows.len() + 1024 {
        let mut buf = vec![T::default(); span];
        t.read_scalar_range(col, first, &mut buf)?;
        return Ok(rows.iter().map(|&r| buf[(r - first) as usize]).collect());
    }
    let mut out = vec![T::default(); rows.len()];
    let mut i = 0;
    while i < rows.len() {
        let mut j = i + 1;
        while j < rows.len() && rows[j] == rows[j - 1] + 1 {
            j += 1;
        }
        t.read_scalar_range(col, rows[i], &mut out[i..j])?;
        i = j;
    }
    Ok(out)
}

fn is_consecutive(rows: &[u64]) -> bool {
    rows[rows.len() - 1] - rows[0] + 1 == rows.len() as u64
}

/// Read cells (optionally sliced) of an array column at ascending `rows` into a new buffer.
fn read_array<T: ArrayElem>(
    t: &ReadTable,
    col: &str,
    rows: &[u64],
    slice: Option<&CellSlice>,
    cell_elems: usize,
) -> Result<Vec<T>, TableReadError> {
    let mut buf = vec![T::default(); rows.len() * cell_elems];
    if is_consecutive(rows) {
        t.read_array_range(col, rows[0], rows.len() as u64, slice, &mut buf)?;
    } else {
        t.read_array_cells(col, rows, slice, &mut buf)?;
    }
    Ok(buf)
}

/// Keep the selected channels of a (row, span_chan, corr) buffer whose first channel is `lo`.
fn pick_channels<T: Copy>(
    buf: Vec<T>,
    nrow: usize,
    span: usize,
    ncorr: usize,
    lo: usize,
    chans: &[usize],
) -> Vec<T> {
    if chans.len() == span {
        return buf; // contiguous selection: the span is the selection
    }
    let mut out = Vec::with_capacity(nrow * chans.len() * ncorr);
    for r in 0..nrow {
        for &c in chans {
            let at = (r * span + (c - lo)) * ncorr;
            out.extend_from_slice(&buf[at..at + ncorr]);
        }
    }
    out
}

/// The data column's cells must hold the correlations of the data description's POLARIZATION row
/// and at least the selected channels of its SPECTRAL_WINDOW row: a mismatch (a damaged or
/// hand-edited MS) is reported naming both, not as a failed slice deep in casacore.
fn check_cell_shape(
    t: &ReadTable,
    g: &DdRows,
    row: u64,
    column: &str,
    ncorr: usize,
    nchan_needed: usize,
) -> Result<(), MsError> {
    let Some(cell) = t.cell_shape(column, row)? else {
        return Ok(()); // an undefined cell: casacore's read reports it
    };
    if cell.len() == 2 && cell[0] == ncorr && cell[1] >= nchan_needed {
        return Ok(());
    }
    Err(MsError::BadMetadata {
        path: t.path().to_path_buf(),
        what: format!("{column} cell of row {row}"),
        why: format!(
            "its shape is {cell:?} (correlations, channels) but data description {} declares {ncorr} \
             correlations (POLARIZATION row {}) and at least {nchan_needed} channels \
             (SPECTRAL_WINDOW row {}); the MS is damaged or its subtables do not match its data",
            g.ddid, g.pol_id, g.spw_id
        ),
    })
}

fn read_chunk(
    t: &ReadTable,
    g: &DdRows,
    rows: &[u64],
    column: &str,
    use_weight_spectrum: bool,
) -> Result<VisChunk, MsError> {
    let nrow = rows.len();
    let ncorr = g.corrs.len();
    let lo = g.chan_ids[0];
    let hi = g.chan_ids[g.chan_ids.len() - 1];
    let span = hi - lo + 1;
    let nsel = g.chan_ids.len();
    let slice = CellSlice {
        blc: vec![0, lo],
        len: vec![ncorr, span],
    };
    let cell = ncorr * span;
    let shape = (nrow, nsel, ncorr);
    check_cell_shape(t, g, rows[0], column, ncorr, hi + 1)?;
    let vis: Vec<Complex32> = read_array(t, column, rows, Some(&slice), cell)?;
    let vis = pick_channels(vis, nrow, span, ncorr, lo, &g.chan_ids);
    let flag: Vec<bool> = read_array(t, "FLAG", rows, Some(&slice), cell)?;
    let mut flag = pick_channels(flag, nrow, span, ncorr, lo, &g.chan_ids);
    let flag_row: Vec<bool> = read_scalars(t, "FLAG_ROW", rows)?;
    for (r, &fr) in flag_row.iter().enumerate() {
        if fr {
            flag[r * nsel * ncorr..(r + 1) * nsel * ncorr].fill(true);
        }
    }
    let weight: Vec<f32> = if use_weight_spectrum {
        let w = read_array(t, "WEIGHT_SPECTRUM", rows, Some(&slice), cell)?;
        pick_channels(w, nrow, span, ncorr, lo, &g.chan_ids)
    } else {
        let w: Vec<f32> = read_array(t, "WEIGHT", rows, None, ncorr)?;
        let mut out = Vec::with_capacity(nrow * nsel * ncorr);
        for r in 0..nrow {
            for _ in 0..nsel {
                out.extend_from_slice(&w[r * ncorr..(r + 1) * ncorr]);
            }
        }
        out
    };
    let uvw: Vec<f64> = read_array(t, "UVW", rows, None, 3)?;
    let shape_err = |source| MsError::Internal {
        what: "arranging a chunk's cells",
        source,
    };
    Ok(VisChunk {
        ddid: g.ddid,
        spw_id: g.spw_id,
        corrs: g.corrs.clone(),
        row_ids: rows.to_vec(),
        time_s: read_scalars(t, "TIME", rows)?,
        field_id: read_scalars(t, "FIELD_ID", rows)?,
        ant1: read_scalars(t, "ANTENNA1", rows)?,
        ant2: read_scalars(t, "ANTENNA2", rows)?,
        scan: read_scalars(t, "SCAN_NUMBER", rows)?,
        uvw_m: Array2::from_shape_vec((nrow, 3), uvw).map_err(shape_err)?,
        chan_freq_hz: g.chan_freq_hz.clone(),
        chan_ids: g.chan_ids.clone(),
        vis_rcp: Array3::from_shape_vec(shape, vis).map_err(shape_err)?,
        flag_rcp: Array3::from_shape_vec(shape, flag).map_err(shape_err)?,
        weight_rcp: Array3::from_shape_vec(shape, weight).map_err(shape_err)?,
    })
}

#[cfg(test)]
mod tests {
    use super::pick_channels;

    #[test]
    fn picks_stepped_channels() {
        // 2 rows, span 5 (channels 3..=7), 2 corrs; values encode (row, chan, corr).
        let buf: Vec<i32> = (0..2)
            .flat_map(|r| (3..8).flat_map(move |c| (0..2).map(move |p| r * 100 + c * 10 + p)))
            .collect();
        let out = pick_channels(buf, 2, 5, 2, 3, &[3, 5, 7]);
        assert_eq!(
            out,
            vec![30, 31, 50, 51, 70, 71, 130, 131, 150, 151, 170, 171]
        );
    }
}

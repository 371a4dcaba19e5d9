//! Row partitions: the selected rows of every MeasurementSet cut into contiguous ranges (in the
//! MS's own order, so for a time-ordered MS these are time ranges), serialisable so that a remote
//! worker can open the same [`crate::Setup`] and image exactly its rows.

use crate::source::Source;
use serde::{Deserialize, Serialize};

/// Rows `start..end` of the selected rows (`SelectedData::groups[group].rows`) of source `source`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowPiece {
    pub source: usize,
    pub group: usize,
    pub start: usize,
    pub end: usize,
}

/// One work unit: its pieces, in the order the whole selection reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowPartition {
    pub index: usize,
    pub pieces: Vec<RowPiece>,
}

impl RowPartition {
    /// Selected rows in this partition.
    pub fn rows(&self) -> usize {
        self.pieces.iter().map(|p| p.end - p.start).sum()
    }
}

/// Cut the selected rows of `sources` into `n` partitions of (within one row) equal size; fewer
/// when there are fewer rows than `n` (at least one, possibly empty).
pub fn plan_partitions(sources: &[Source], n: usize) -> Vec<RowPartition> {
    let sizes: Vec<(usize, usize, usize)> = sources
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            let groups = s.selected.groups.iter().enumerate();
            groups.map(move |(g, d)| (i, g, d.rows.len()))
        })
        .collect();
    plan_pieces(&sizes, n)
}

/// [`plan_partitions`] of groups given as `(source, group, rows)`.
fn plan_pieces(sizes: &[(usize, usize, usize)], n: usize) -> Vec<RowPartition> {
    let total: usize = sizes.iter().map(|s| s.2).sum();
    let n = n.clamp(1, total.max(1));
    let mut parts: Vec<RowPartition> = (0..n)
        .map(|index| RowPartition {
            index,
            pieces: Vec::new(),
        })
        .collect();
    // Partition p holds the rows [total * p / n, total * (p + 1) / n) of the whole selection.
    let bound = |p: usize| total * p / n;
    let mut offset = 0;
    for &(source, group, len) in sizes {
        for (p, part) in parts.iter_mut().enumerate() {
            let (a, z) = (bound(p).max(offset), bound(p + 1).min(offset + len));
            if a < z {
                part.pieces.push(RowPiece {
                    source,
                    group,
                    start: a - offset,
                    end: z - offset,
                });
            }
        }
        offset += len;
    }
    parts
}

/// The sources of a partition: each source it has rows of, its selection narrowed to them (the
/// spectral set-up, epochs and frequencies stay those of the whole selection, so every partition
/// maps its channels as the whole run does). No visibility cache: a partition reads its rows.
pub fn partition_sources(sources: &[Source], part: &RowPartition) -> Vec<Source> {
    let mut out: Vec<Source> = Vec::new();
    for (i, src) in sources.iter().enumerate() {
        let mine: Vec<&RowPiece> = part.pieces.iter().filter(|p| p.source == i).collect();
        if mine.is_empty() {
            continue;
        }
        let mut selected = src.selected.clone();
        selected.groups = src
            .selected
            .groups
            .iter()
            .enumerate()
            .filter_map(|(g, d)| {
                let rows: Vec<u64> = mine
                    .iter()
                    .filter(|p| p.group == g)
                    .flat_map(|p| d.rows[p.start..p.end].iter().copied())
                    .collect();
                let mut d = d.clone();
                d.rows = rows;
                (!d.rows.is_empty()).then_some(d)
            })
            .collect();
        out.push(Source {
            index: src.index,
            ms: src.ms.clone(),
            selected,
            column: src.column,
            cache: None,
            first_two_hz: src.first_two_hz.clone(),
            moving: src.moving.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_cover_every_row_once_in_order() {
        let sizes = [(0, 0, 5), (0, 1, 2), (1, 0, 3)];
        let parts = plan_pieces(&sizes, 4);
        let rows: Vec<usize> = parts.iter().map(|p| p.rows()).collect();
        assert_eq!(rows, vec![2, 3, 2, 3]);
        // Concatenated in partition order, the pieces are the whole selection in its order.
        let mut seen = Vec::new();
        for p in &parts {
            for q in &p.pieces {
                seen.extend((q.start..q.end).map(|r| (q.source, q.group, r)));
            }
        }
        let want: Vec<_> = sizes
            .iter()
            .flat_map(|&(s, g, n)| (0..n).map(move |r| (s, g, r)))
            .collect();
        assert_eq!(seen, want);
        // More partitions than rows: one row each; no rows: one empty partition.
        assert_eq!(plan_pieces(&[(0, 0, 3)], 8).len(), 3);
        let none = plan_pieces(&[], 4);
        assert_eq!((none.len(), none[0].rows()), (1, 0));
    }
}

//! Row partitions: the selected rows of every MeasurementSet cut into contiguous ranges (in the
//! MS's own order, so for a time-ordered MS these are time ranges), serialisable so that a remote
//! worker can open the same [`crate::Setup`] and image exactly its rows. `row_partition_by` picks
//! the cut: `rows` (the whole selection, MS after MS, in equal ranges), `time` (each MS and
//! spectral window in equal ranges, partition p holding the p-th of each: the same time span of
//! every time-ordered MS), `spw` or `ms` (whole spectral windows or MSs, contiguous runs of them
//! balanced by rows).

use crate::source::Source;
use pclean_core::params::RowPartitionBy;
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

/// Cut the selected rows of `sources` into `n` partitions `by` rows, time, spectral window or MS
/// (see the module); fewer when there are fewer rows (or windows, MSs) than `n` (at least one,
/// possibly empty).
pub fn plan_partitions(sources: &[Source], n: usize, by: RowPartitionBy) -> Vec<RowPartition> {
    let sizes: Vec<(usize, usize, usize)> = sources
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            let groups = s.selected.groups.iter().enumerate();
            groups.map(move |(g, d)| (i, g, d.rows.len()))
        })
        .collect();
    match by {
        RowPartitionBy::Rows => plan_pieces(&sizes, n),
        RowPartitionBy::Time => plan_each(&sizes, n),
        RowPartitionBy::Spw => plan_units(&sizes, n, |s| (s.0, s.1)),
        RowPartitionBy::Ms => plan_units(&sizes, n, |s| (s.0, 0)),
    }
}

/// Every group cut into `n` equal ranges, the p-th of each in partition p (empty partitions
/// dropped).
fn plan_each(sizes: &[(usize, usize, usize)], n: usize) -> Vec<RowPartition> {
    let longest = sizes.iter().map(|s| s.2).max().unwrap_or(0);
    let n = n.clamp(1, longest.max(1));
    let parts = (0..n).map(|p| {
        let pieces = sizes
            .iter()
            .map(|&(source, group, len)| RowPiece {
                source,
                group,
                start: len * p / n,
                end: len * (p + 1) / n,
            })
            .filter(|q| q.start < q.end)
            .collect();
        RowPartition { index: p, pieces }
    });
    reindex(parts.collect())
}

/// Whole units (groups with the same `key`: a spectral window, an MS) in contiguous runs: a
/// unit goes to the partition its middle row falls in when the rows are cut in `n` equal ranges
/// (empty partitions dropped).
fn plan_units(
    sizes: &[(usize, usize, usize)],
    n: usize,
    key: impl Fn(&(usize, usize, usize)) -> (usize, usize),
) -> Vec<RowPartition> {
    let total: usize = sizes.iter().map(|s| s.2).sum();
    let n = n.max(1);
    let mut parts: Vec<RowPartition> = (0..n)
        .map(|index| RowPartition {
            index,
            pieces: Vec::new(),
        })
        .collect();
    let mut i = 0;
    let mut offset = 0;
    while i < sizes.len() {
        let k = key(&sizes[i]);
        let j = (i..sizes.len())
            .find(|&j| key(&sizes[j]) != k)
            .unwrap_or(sizes.len());
        let len: usize = sizes[i..j].iter().map(|s| s.2).sum();
        let p = if total == 0 {
            0
        } else {
            ((2 * offset + len) * n / (2 * total)).min(n - 1)
        };
        for &(source, group, rows) in &sizes[i..j] {
            if rows > 0 {
                parts[p].pieces.push(RowPiece {
                    source,
                    group,
                    start: 0,
                    end: rows,
                });
            }
        }
        offset += len;
        i = j;
    }
    reindex(parts)
}

/// Empty partitions dropped (at least one kept), the rest numbered in order.
fn reindex(parts: Vec<RowPartition>) -> Vec<RowPartition> {
    let mut kept: Vec<RowPartition> = parts.into_iter().filter(|p| p.rows() > 0).collect();
    if kept.is_empty() {
        kept.push(RowPartition {
            index: 0,
            pieces: Vec::new(),
        });
    }
    for (i, p) in kept.iter_mut().enumerate() {
        p.index = i;
    }
    kept
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
            prepared: None,
            keys: src.keys.clone(),
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

    /// The p-th of every group in partition p (time: each MS's own time span cut alike).
    #[test]
    fn time_partitions_take_the_same_share_of_every_group() {
        let sizes = [(0, 0, 6), (0, 1, 3), (1, 0, 4)];
        let parts = plan_each(&sizes, 2);
        assert_eq!(parts.len(), 2);
        let p0: Vec<_> = parts[0]
            .pieces
            .iter()
            .map(|q| (q.source, q.group, q.start, q.end))
            .collect();
        assert_eq!(p0, vec![(0, 0, 0, 3), (0, 1, 0, 1), (1, 0, 0, 2)]);
        let p1: Vec<_> = parts[1]
            .pieces
            .iter()
            .map(|q| (q.source, q.group, q.start, q.end))
            .collect();
        assert_eq!(p1, vec![(0, 0, 3, 6), (0, 1, 1, 3), (1, 0, 2, 4)]);
        // More partitions than the longest group: as many as its rows.
        assert_eq!(plan_each(&sizes, 10).len(), 6);
    }

    /// Whole spectral windows or MSs, contiguous, balanced by rows; no more partitions than units.
    #[test]
    fn spw_and_ms_partitions_keep_units_whole() {
        let sizes = [(0, 0, 10), (0, 1, 10), (1, 0, 10), (1, 1, 10)];
        let spw = plan_units(&sizes, 4, |s| (s.0, s.1));
        assert_eq!(
            spw.iter().map(|p| p.rows()).collect::<Vec<_>>(),
            vec![10; 4]
        );
        let ms = plan_units(&sizes, 4, |s| (s.0, 0));
        assert_eq!(ms.len(), 2);
        assert_eq!(
            ms[1].pieces.iter().map(|q| q.source).collect::<Vec<_>>(),
            vec![1, 1]
        );
        // Unequal MSs: the big one alone, the two small ones together.
        let uneven = [(0, 0, 100), (1, 0, 10), (2, 0, 10)];
        let ms = plan_units(&uneven, 2, |s| (s.0, 0));
        assert_eq!(
            ms.iter().map(|p| p.rows()).collect::<Vec<_>>(),
            vec![100, 20]
        );
    }
}

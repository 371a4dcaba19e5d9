//! The selected visibilities, read from the MeasurementSet once and kept for every channel block:
//! in memory when small, else in a channel-major scratch file next to the products, from which a
//! block reads only its channels (one contiguous read per chunk and channel). The file is read
//! with `pread`, so it lives in the page cache, not in the process's resident memory: the
//! equivalent of WSClean's reordering step, without a copy per output channel.

use crate::error::EngineError;
use ndarray::{Array2, Array3};
use num_complex::Complex32;
use pclean_ms::VisChunk;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Bytes of one (row, correlation) sample on disk: visibility (2 x f32), flag (u8), weight (f32).
const SAMPLE_BYTES: usize = 13;

/// Where a block's chunks come from.
pub enum VisStore {
    Memory(Vec<VisChunk>),
    Disk(DiskStore),
}

/// Chunks on disk: their row metadata in memory, the channel data in the file.
pub struct DiskStore {
    file: std::fs::File,
    path: PathBuf,
    /// Row metadata of each chunk (its channel arrays are empty) and the file offset of each of
    /// its channels' records.
    chunks: Vec<(VisChunk, Vec<u64>)>,
    chan_ids: Vec<Vec<usize>>,
    chan_freqs: Vec<Vec<f64>>,
}

impl Drop for DiskStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl VisStore {
    /// Number of chunks.
    pub fn len(&self) -> usize {
        match self {
            VisStore::Memory(v) => v.len(),
            VisStore::Disk(d) => d.chunks.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (ddid, channel ids) of chunk `i`.
    pub fn channels(&self, i: usize) -> (usize, &[usize]) {
        match self {
            VisStore::Memory(v) => (v[i].ddid, &v[i].chan_ids),
            VisStore::Disk(d) => (d.chunks[i].0.ddid, &d.chan_ids[i]),
        }
    }

    /// Chunk `i` with only the channels at positions `keep` (indices into its channel ids).
    pub fn chunk(&self, i: usize, keep: &[usize]) -> Result<VisChunk, EngineError> {
        match self {
            VisStore::Memory(v) => Ok(if keep.len() == v[i].chan_ids.len() {
                v[i].clone()
            } else {
                v[i].select_channels(keep)
            }),
            VisStore::Disk(d) => d.read(i, keep),
        }
    }
}

impl DiskStore {
    /// Create the scratch file `path` (replacing a stale one) and write `chunks` into it.
    pub fn write(
        path: &Path,
        chunks: impl Iterator<Item = Result<VisChunk, EngineError>>,
    ) -> Result<Self, EngineError> {
        let io = |source| EngineError::Io {
            context: format!(
                "cannot write the visibility scratch file '{}' (it needs free space next to the \
                 products)",
                path.display()
            ),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(io)?;
        let mut store = DiskStore {
            file,
            path: path.to_path_buf(),
            chunks: Vec::new(),
            chan_ids: Vec::new(),
            chan_freqs: Vec::new(),
        };
        let mut offset = 0u64;
        let mut buf: Vec<u8> = Vec::new();
        for chunk in chunks {
            let c = chunk?;
            let (nrow, nch, ncorr) = c.vis_rcp.dim();
            let rec = nrow * ncorr * SAMPLE_BYTES;
            let mut offsets = Vec::with_capacity(nch);
            // One channel's record at a time: a buffer of the whole chunk doubled the read's
            // peak (the chunk as read plus its copy, 46 MiB each for 64 channels of 27k rows).
            for j in 0..nch {
                offsets.push(offset);
                buf.clear();
                buf.reserve(rec);
                for r in 0..nrow {
                    for p in 0..ncorr {
                        let v = c.vis_rcp[[r, j, p]];
                        buf.extend_from_slice(&v.re.to_le_bytes());
                        buf.extend_from_slice(&v.im.to_le_bytes());
                    }
                }
                for r in 0..nrow {
                    for p in 0..ncorr {
                        buf.push(u8::from(c.flag_rcp[[r, j, p]]));
                    }
                }
                for r in 0..nrow {
                    for p in 0..ncorr {
                        buf.extend_from_slice(&c.weight_rcp[[r, j, p]].to_le_bytes());
                    }
                }
                store.file.write_all_at(&buf, offset).map_err(io)?;
                offset += buf.len() as u64;
            }
            store.chan_ids.push(c.chan_ids.clone());
            store.chan_freqs.push(c.chan_freq_hz.clone());
            let meta = VisChunk {
                chan_freq_hz: Vec::new(),
                chan_ids: Vec::new(),
                vis_rcp: Array3::zeros((nrow, 0, ncorr)),
                flag_rcp: Array3::from_elem((nrow, 0, ncorr), false),
                weight_rcp: Array3::zeros((nrow, 0, ncorr)),
                ..c
            };
            store.chunks.push((meta, offsets));
        }
        Ok(store)
    }

    /// Bytes on disk.
    pub fn file_bytes(&self) -> u64 {
        self.file.metadata().map_or(0, |m| m.len())
    }

    fn read(&self, i: usize, keep: &[usize]) -> Result<VisChunk, EngineError> {
        let (meta, offsets) = &self.chunks[i];
        let (nrow, _, ncorr) = meta.vis_rcp.dim();
        let n = nrow * ncorr;
        let mut vis = Array3::<Complex32>::zeros((nrow, keep.len(), ncorr));
        let mut flag = Array3::from_elem((nrow, keep.len(), ncorr), false);
        let mut weight = Array3::<f32>::zeros((nrow, keep.len(), ncorr));
        let mut buf = vec![0u8; n * SAMPLE_BYTES];
        for (jj, &j) in keep.iter().enumerate() {
            self.file
                .read_exact_at(&mut buf, offsets[j])
                .map_err(|source| EngineError::Io {
                    context: format!(
                        "cannot read the visibility scratch file '{}'",
                        self.path.display()
                    ),
                    source,
                })?;
            let (vb, rest) = buf.split_at(n * 8);
            let (fb, wb) = rest.split_at(n);
            let f32_at =
                |b: &[u8], k: usize| f32::from_le_bytes([b[k], b[k + 1], b[k + 2], b[k + 3]]);
            for r in 0..nrow {
                for p in 0..ncorr {
                    let k = r * ncorr + p;
                    vis[[r, jj, p]] = Complex32::new(f32_at(vb, 8 * k), f32_at(vb, 8 * k + 4));
                    flag[[r, jj, p]] = fb[k] != 0;
                    weight[[r, jj, p]] = f32_at(wb, 4 * k);
                }
            }
        }
        Ok(VisChunk {
            chan_freq_hz: keep.iter().map(|j| self.chan_freqs[i][*j]).collect(),
            chan_ids: keep.iter().map(|j| self.chan_ids[i][*j]).collect(),
            vis_rcp: vis,
            flag_rcp: flag,
            weight_rcp: weight,
            uvw_m: meta.uvw_m.clone(),
            ..clone_rows(meta)
        })
    }
}

/// The row metadata of a chunk (channel arrays left empty).
fn clone_rows(c: &VisChunk) -> VisChunk {
    VisChunk {
        ddid: c.ddid,
        spw_id: c.spw_id,
        corrs: c.corrs.clone(),
        row_ids: c.row_ids.clone(),
        time_s: c.time_s.clone(),
        field_id: c.field_id.clone(),
        ant1: c.ant1.clone(),
        ant2: c.ant2.clone(),
        scan: c.scan.clone(),
        uvw_m: Array2::zeros((0, 3)),
        chan_freq_hz: Vec::new(),
        chan_ids: Vec::new(),
        vis_rcp: Array3::zeros((0, 0, 0)),
        flag_rcp: Array3::from_elem((0, 0, 0), false),
        weight_rcp: Array3::zeros((0, 0, 0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pclean_core::Correlation;

    fn chunk(nrow: usize, nch: usize, seed: f32) -> VisChunk {
        let ncorr = 2;
        VisChunk {
            ddid: 0,
            spw_id: 0,
            corrs: vec![Correlation::XX, Correlation::YY],
            row_ids: (0..nrow as u64).collect(),
            time_s: vec![1.0; nrow],
            field_id: vec![0; nrow],
            ant1: vec![0; nrow],
            ant2: vec![1; nrow],
            scan: vec![1; nrow],
            uvw_m: Array2::from_shape_fn((nrow, 3), |(r, k)| (r * 3 + k) as f64),
            chan_freq_hz: (0..nch).map(|c| 1e9 + c as f64).collect(),
            chan_ids: (0..nch).collect(),
            vis_rcp: Array3::from_shape_fn((nrow, nch, ncorr), |(r, c, p)| {
                Complex32::new(seed + r as f32, (c * 10 + p) as f32)
            }),
            flag_rcp: Array3::from_shape_fn((nrow, nch, ncorr), |(r, c, p)| (r + c + p) % 3 == 0),
            weight_rcp: Array3::from_shape_fn((nrow, nch, ncorr), |(r, c, p)| {
                (r * 100 + c * 10 + p) as f32
            }),
        }
    }

    #[test]
    fn disk_store_round_trips_any_channel_subset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.visstore");
        let chunks = vec![chunk(5, 4, 0.5), chunk(3, 4, 7.0)];
        let store =
            VisStore::Disk(DiskStore::write(&path, chunks.clone().into_iter().map(Ok)).unwrap());
        assert_eq!(store.len(), 2);
        for (i, c) in chunks.iter().enumerate() {
            assert_eq!(store.channels(i), (0, &[0usize, 1, 2, 3][..]));
            for keep in [vec![0, 1, 2, 3], vec![2], vec![3, 1]] {
                assert_eq!(store.chunk(i, &keep).unwrap(), c.select_channels(&keep));
            }
        }
        drop(store);
        assert!(!path.exists(), "the scratch file is removed");
    }
}

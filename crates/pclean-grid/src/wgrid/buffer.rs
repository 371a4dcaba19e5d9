//! The visibilities of a pass kept until its image is made, so that the w planes are gridded
//! and transformed one at a time into one reused grid (memory: one grid plus the visibilities,
//! instead of one grid per plane).

use super::prepare::Prepared;
use ndarray::Array2;
use num_complex::Complex32;

/// One chunk as the planes grid it: the prepared rows, the chunk's frequencies and the values
/// gridded (the visibilities, or 1 for the PSF, conjugated where flipped and turned by the
/// reference screen).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct WChunk {
    pub prep: Prepared,
    pub freq_hz: Vec<f64>,
    pub values: Array2<Complex32>,
}

impl WChunk {
    /// Bytes held by the chunk.
    pub fn bytes(&self) -> usize {
        let index: usize = self.prep.rows_of_plane.iter().map(|r| r.len() * 4).sum();
        self.prep.uvw.len() * 8
            + self.prep.flipped.len()
            + self.prep.weight.len() * 4
            + self.values.len() * 8
            + self.freq_hz.len() * 8
            + index
    }

    /// Whether a row of the chunk touches plane `p`.
    pub fn touches(&self, p: usize) -> bool {
        !self.prep.rows_of_plane[p].is_empty()
    }
}

/// The chunks of a pass not yet gridded (see the module docs), with their bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WBuffer {
    pub(super) chunks: Vec<WChunk>,
    bytes: usize,
}

impl WBuffer {
    /// Bytes held by the buffered chunks.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub(super) fn push(&mut self, chunk: WChunk) {
        self.bytes += chunk.bytes();
        self.chunks.push(chunk);
    }

    /// Take the chunks out, leaving the buffer empty.
    pub(super) fn take(&mut self) -> Vec<WChunk> {
        self.bytes = 0;
        std::mem::take(&mut self.chunks)
    }

    /// Append `other`'s chunks (reduction of partial plane sets).
    pub(crate) fn extend_from(&mut self, other: &WBuffer) {
        self.chunks.extend(other.chunks.iter().cloned());
        self.bytes += other.bytes;
    }
}

//! A finished block as a list of plane writes `(product, channel, stokes, plane)` plus metadata,
//! and its byte form: what a remote worker returns and the coordinator writes into the products.
//!
//! Bytes: `b"PCLB"`, a little-endian `u32` version, a `u64` header length, the JSON header
//! ([`BlockHeader`]), then each write's plane as little-endian `f32`, row-major `(ny, nx)`, in the
//! header's order. Planes a worker wrote straight into the products ([`super::direct`]) are only
//! listed ([`BlockHeader::direct`]).

use super::block::BlockResult;
use crate::error::EngineError;
use crate::products::{ChannelSummary, TaskSummary};
use ndarray::{Array2, ArrayView2};
use pclean_core::params::ImagingParams;
use pclean_core::Beam;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

const MAGIC: &[u8; 4] = b"PCLB";
const VERSION: u32 = 2;
const ARCSEC_PER_RAD: f64 = 206_264.806_247_096_36;

/// Receives a decoded plane write.
pub type PutWrite<'a> = dyn FnMut(&PlaneWrite, ArrayView2<f32>) -> Result<(), EngineError> + 'a;

/// The metadata of a block beside its planes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BlockMeta {
    /// Fitted beams `(channel, stokes, beam)`.
    pub beams: Vec<(usize, usize, Beam)>,
    /// One per channel (first Stokes plane).
    pub channels: Vec<ChannelSummary>,
    pub warnings: Vec<String>,
}

/// One plane to write.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlaneWrite {
    pub product: String,
    pub chan: usize,
    pub stokes: usize,
    /// `(ny, nx)`.
    pub shape: [usize; 2],
}

/// The header of a serialised block.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlockHeader {
    /// Image channels `[start, end)`.
    pub channels: [usize; 2],
    pub writes: Vec<PlaneWrite>,
    /// Planes the worker wrote into the products itself (durable when the block was sent).
    pub direct: Vec<PlaneWrite>,
    pub meta: BlockMeta,
    pub task: TaskSummary,
}

/// The metadata of block result `r` (its planes are written as the block runs).
pub fn block_meta(params: &ImagingParams, freqs_hz: &[f64], r: BlockResult) -> BlockMeta {
    let nst = params.stokes.0.len();
    let mut meta = BlockMeta::default();
    for (idx, plane) in r.planes.iter().enumerate() {
        let (i, s) = (idx / nst, idx % nst);
        let k = r.chans.start + i;
        let beam = r.beams[idx];
        meta.beams.push((k, s, beam));
        if s == 0 {
            meta.channels.push(ChannelSummary {
                channel: k,
                freq_hz: freqs_hz[k],
                sumwt: plane.sumwt,
                beam_arcsec_deg: beam.is_valid().then(|| {
                    [
                        beam.major_rad * ARCSEC_PER_RAD,
                        beam.minor_rad * ARCSEC_PER_RAD,
                        beam.pa_rad.to_degrees(),
                    ]
                }),
                peak_residual: plane.peak_residual,
                iterations: plane.iterations,
                major_cycles: plane.major_cycles,
                model_flux_jy: plane.model_flux_jy,
                stop_reason: plane.stop_reason.clone(),
            });
        }
    }
    meta.warnings = r.warnings;
    meta
}

/// Collects a block's plane writes (from the block's threads) for [`encode_block`].
#[derive(Default)]
pub struct PlaneCollector {
    inner: Mutex<(Vec<PlaneWrite>, Vec<u8>)>,
}

impl PlaneCollector {
    /// Keep plane `(product, chan, stokes)`. A plane written again replaces the one kept (as
    /// in the products: the last write is final; mvc's `.residual` cube is rewritten after each
    /// major cycle).
    pub fn put(
        &self,
        product: &str,
        chan: usize,
        stokes: usize,
        plane: ArrayView2<f32>,
    ) -> Result<(), EngineError> {
        let (ny, nx) = plane.dim();
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (writes, bytes) = &mut *g;
        let mut at = 0;
        for w in writes.iter() {
            let n = 4 * w.shape[0] * w.shape[1];
            if w.product == product && w.chan == chan && w.stokes == stokes && w.shape == [ny, nx] {
                for (dst, v) in bytes[at..at + n].chunks_exact_mut(4).zip(plane.iter()) {
                    dst.copy_from_slice(&v.to_le_bytes());
                }
                return Ok(());
            }
            at += n;
        }
        g.0.push(PlaneWrite {
            product: product.to_string(),
            chan,
            stokes,
            shape: [ny, nx],
        });
        g.1.reserve(ny * nx * 4);
        for v in plane.iter() {
            g.1.extend_from_slice(&v.to_le_bytes());
        }
        Ok(())
    }
}

/// Serialise a block: the planes `planes` collected while it ran, those it wrote into the
/// products itself (`direct`), and its metadata (see the module docs).
pub fn encode_block(
    params: &ImagingParams,
    freqs_hz: &[f64],
    r: BlockResult,
    planes: PlaneCollector,
    direct: Vec<PlaneWrite>,
    task: TaskSummary,
) -> Vec<u8> {
    let channels = [r.chans.start, r.chans.end];
    let meta = block_meta(params, freqs_hz, r);
    let (writes, payload) = planes.inner.into_inner().unwrap_or_else(|p| p.into_inner());
    let header = serde_json::to_vec(&BlockHeader {
        channels,
        writes,
        direct,
        meta,
        task,
    })
    .expect("block header serialises");
    let mut out = Vec::with_capacity(16 + header.len() + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&payload);
    out
}

/// Read a serialised block: its header, and each write's plane handed to `put` in order.
pub fn decode_block(bytes: &[u8], put: &mut PutWrite) -> Result<BlockHeader, EngineError> {
    let bad = |why: &str| EngineError::protocol(format!("block result: {why}"));
    if bytes.len() < 16 || &bytes[..4] != MAGIC {
        return Err(bad("not a pclean block result"));
    }
    let version = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(bad(&format!(
            "format version {version}, this pclean reads {VERSION}; use the same pclean on the workers"
        )));
    }
    let hlen = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")) as usize;
    let body = &bytes[16..];
    if body.len() < hlen {
        return Err(bad("truncated header"));
    }
    let header: BlockHeader = serde_json::from_slice(&body[..hlen])
        .map_err(|e| bad(&format!("unreadable header ({e})")))?;
    let mut at = hlen;
    for w in &header.writes {
        let n = w.shape[0] * w.shape[1];
        let Some(raw) = body.get(at..at + 4 * n) else {
            return Err(bad("truncated planes"));
        };
        let data: Vec<f32> = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        let plane = Array2::from_shape_vec((w.shape[0], w.shape[1]), data)
            .map_err(|e| bad(&format!("plane shape ({e})")))?;
        put(w, plane.view())?;
        at += 4 * n;
    }
    if at != body.len() {
        return Err(bad("trailing bytes"));
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plane written twice (mvc's `.residual` cube after each major cycle) is kept once, with
    /// the last values, in its first place; other planes keep theirs.
    #[test]
    fn a_plane_written_again_replaces_the_kept_one() {
        let c = PlaneCollector::default();
        let plane = |v: f32| Array2::from_elem((2, 3), v);
        c.put("residual", 4, 0, plane(1.0).view()).unwrap();
        c.put("psf", 4, 0, plane(2.0).view()).unwrap();
        c.put("residual", 4, 0, plane(3.0).view()).unwrap();
        c.put("residual", 5, 0, plane(4.0).view()).unwrap();
        let (writes, bytes) = c.inner.into_inner().unwrap();
        let keys: Vec<(&str, usize)> = writes.iter().map(|w| (&*w.product, w.chan)).collect();
        assert_eq!(keys, [("residual", 4), ("psf", 4), ("residual", 5)]);
        let values: Vec<f32> = bytes
            .chunks_exact(4)
            .step_by(6)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(values, [3.0, 2.0, 4.0]);
    }
}

//! A finished block as a list of plane writes `(product, channel, stokes, plane)` plus metadata,
//! and its byte form: what a remote worker returns and the coordinator writes into the products.
//!
//! Bytes: `b"PCLB"`, a little-endian `u32` version, a `u64` header length, the JSON header
//! ([`BlockHeader`]), then each write's plane as little-endian `f32`, row-major `(ny, nx)`, in the
//! header's order.

use crate::block::BlockResult;
use crate::error::EngineError;
use crate::summary::{ChannelSummary, TaskSummary};
use ndarray::{Array2, ArrayView2};
use pclean_core::params::ImagingParams;
use pclean_core::Beam;
use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 4] = b"PCLB";
const VERSION: u32 = 1;
const ARCSEC_PER_RAD: f64 = 206_264.806_247_096_36;

/// Receives a plane write: `(product, channel, stokes, plane)`.
pub type PutPlane<'a> =
    dyn FnMut(&str, usize, usize, ArrayView2<f32>) -> Result<(), EngineError> + 'a;
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
    pub meta: BlockMeta,
    pub task: TaskSummary,
}

/// Hand every plane of block result `r` to `put(product, chan, stokes, plane)`, one at a time,
/// in the order the local engine writes them; returns the block's metadata. `has(product)` says
/// which optional products (`mask`, `image.pbcor`) exist.
pub fn emit_block(
    params: &ImagingParams,
    freqs_hz: &[f64],
    r: BlockResult,
    has: &dyn Fn(&str) -> bool,
    put: &mut PutPlane,
) -> Result<BlockMeta, EngineError> {
    let nst = params.stokes.0.len();
    let mut meta = BlockMeta::default();
    for (idx, plane) in r.planes.iter().enumerate() {
        let (i, s) = (idx / nst, idx % nst);
        let k = r.chans.start + i;
        let pb = &r.pbs[i];
        put("psf", k, s, plane.psf.view())?;
        put("residual", k, s, plane.residual.view())?;
        put("model", k, s, plane.model.view())?;
        put(
            "sumwt",
            k,
            s,
            Array2::from_elem((1, 1), plane.sumwt as f32).view(),
        )?;
        put("pb", k, s, pb.view())?;
        let w = plane.sumwt as f32;
        put("weight", k, s, pb.mapv(|p| w * p * p).view())?;
        if has("mask") {
            let m = match &plane.mask {
                Some(m) => m.mapv(|v| if v { 1.0f32 } else { 0.0 }),
                None => Array2::<f32>::ones((params.ny, params.nx)),
            };
            put("mask", k, s, m.view())?;
        }
        if let Some(images) = &r.images {
            let (image, corrected) = &images[idx];
            put("image", k, s, image.view())?;
            if let Some(c) = corrected {
                put("image.pbcor", k, s, c.view())?;
            }
        }
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
                peak_residual: plane
                    .residual
                    .iter()
                    .fold(0.0f64, |m, v| m.max(v.abs() as f64)),
                iterations: plane.iterations,
                major_cycles: plane.major_cycles,
                model_flux_jy: plane.model.iter().map(|v| *v as f64).sum(),
                stop_reason: plane.stop_reason.clone(),
            });
        }
    }
    meta.warnings = r.warnings;
    Ok(meta)
}

/// Serialise block result `r` (see the module docs).
pub fn encode_block(
    params: &ImagingParams,
    freqs_hz: &[f64],
    r: BlockResult,
    has: &dyn Fn(&str) -> bool,
    task: TaskSummary,
) -> Result<Vec<u8>, EngineError> {
    let channels = [r.chans.start, r.chans.end];
    let mut writes = Vec::new();
    let mut payload: Vec<u8> = Vec::new();
    let meta = emit_block(
        params,
        freqs_hz,
        r,
        has,
        &mut |product, chan, stokes, plane| {
            let (ny, nx) = plane.dim();
            writes.push(PlaneWrite {
                product: product.to_string(),
                chan,
                stokes,
                shape: [ny, nx],
            });
            payload.reserve(ny * nx * 4);
            for v in plane.iter() {
                payload.extend_from_slice(&v.to_le_bytes());
            }
            Ok(())
        },
    )?;
    let header = serde_json::to_vec(&BlockHeader {
        channels,
        writes,
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
    Ok(out)
}

/// Read a serialised block: its header, and each write's plane handed to `put` in order.
pub fn decode_block(bytes: &[u8], put: &mut PutWrite) -> Result<BlockHeader, EngineError> {
    let bad = |why: &str| EngineError::Param(format!("block result: {why}"));
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

//! What the coordinator takes from workers: a block's serialised result accepted into the
//! products and the checkpoint ([`Coordinator::accept`]), the products the workers may write
//! themselves ([`Coordinator::direct_targets`]), and what travelled ([`Transfer`]).

use super::Coordinator;
use crate::error::EngineError;
use crate::exec::block_io::decode_block;
use crate::exec::direct::DirectTarget;
use crate::products::fsync_tree;
use serde::{Deserialize, Serialize};

/// What the blocks accepted so far brought to the coordinator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Planes received (as bytes) and written here.
    pub planes_received: usize,
    /// Bytes of those planes.
    pub plane_bytes_received: u64,
    /// Planes the workers wrote into the products themselves (only listed in their results).
    pub planes_written_by_workers: usize,
}

impl Coordinator {
    /// Write block `block`'s serialised result (from [`BlockWorker`](crate::exec::worker::BlockWorker))
    /// into the products and record it in the checkpoint, with the local engine's durability
    /// rules (planes fsynced before a block is recorded; records at most every commit interval).
    pub fn accept(&mut self, block: usize, result: &[u8]) -> Result<(), EngineError> {
        let nblocks = self.sink_mut().ckpt.blocks.len();
        let Some(&[a, z]) = self.sink_mut().ckpt.blocks.get(block) else {
            return Err(EngineError::protocol(format!(
                "block {block} does not exist (the run has {nblocks} blocks)"
            )));
        };
        let sink = self.sink_mut();
        if sink.ckpt.done[block] || sink.pending.contains(&block) {
            return Err(EngineError::protocol(format!(
                "block {block} (channels {a}..{z}) was already accepted"
            )));
        }
        let nst = self.setup.params.stokes.0.len();
        let exts = self.setup.exts.clone();
        // specmode='mvc''s cube products have the cube's channels (the block is the mfs plane).
        let cube_chans = self.setup.mvc_axis.as_ref().map(|m| m.nchan);
        let sink = self.sink.get_mut().unwrap_or_else(|p| p.into_inner());
        let header = decode_block(result, &mut |w, plane| {
            let (a, z) = match cube_chans {
                Some(n) if crate::products::set::MVC_CUBES.contains(&w.product.as_str()) => (0, n),
                _ => (a, z),
            };
            if w.chan < a || w.chan >= z || w.stokes >= nst {
                return Err(EngineError::protocol(format!(
                    "block result for channel {} stokes {} does not belong to block {block} \
                     (channels {a}..{z})",
                    w.chan, w.stokes
                )));
            }
            let Some(ext) = exts.iter().find(|e| **e == w.product) else {
                return Err(EngineError::protocol(format!(
                    "block result has product '{}' this run does not make",
                    w.product
                )));
            };
            sink.out.put(ext, w.chan, w.stokes, plane)
        })?;
        if header.channels != [a, z] {
            return Err(EngineError::protocol(format!(
                "block result covers channels {:?}, block {block} is {a}..{z}",
                header.channels
            )));
        }
        for w in &header.direct {
            if !self.direct.iter().any(|e| *e == w.product) {
                return Err(EngineError::protocol(format!(
                    "block result lists product '{}' as written by the worker, which this \
                     coordinator did not hand out (Coordinator.direct_targets)",
                    w.product
                )));
            }
            if w.chan < a || w.chan >= z || w.stokes >= nst {
                return Err(EngineError::protocol(format!(
                    "block result lists channel {} stokes {} of '{}' as written by the worker, \
                     outside block {block} (channels {a}..{z})",
                    w.chan, w.stokes, w.product
                )));
            }
        }
        self.transfer.planes_written_by_workers += header.direct.len();
        self.transfer.planes_received += header.writes.len();
        self.transfer.plane_bytes_received += header
            .writes
            .iter()
            .map(|w| 4 * (w.shape[0] * w.shape[1]) as u64)
            .sum::<u64>();
        if let Some(due) = sink.record_block(block, header.meta, header.task)? {
            // No committer thread here: make the planes durable, then record.
            for p in &due.1 {
                fsync_tree(p)?;
            }
            sink.record(due.0)?;
        }
        Ok(())
    }

    /// The products whose planes the workers may write straight into their files
    /// ([`crate::exec::direct`]), for workers that see the products' directory (the same host, or a
    /// shared file system). From now on [`accept`](Self::accept) takes results whose planes of
    /// these products were written by the worker (the others still travel as bytes). Empty
    /// when no product allows it (FITS products, or pixels written through casacore).
    pub fn direct_targets(&mut self) -> Vec<DirectTarget> {
        let fresh = self.products_fresh;
        let layouts = self.sink_mut().out.direct_layouts();
        self.direct = layouts.iter().map(|(e, _)| *e).collect();
        layouts
            .into_iter()
            .map(|(e, l)| DirectTarget::new(e, l, fresh))
            .collect()
    }

    /// What the blocks accepted so far brought (planes as bytes, planes written by workers).
    pub fn transfer(&self) -> Transfer {
        self.transfer
    }
}

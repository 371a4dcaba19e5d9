//! Planes a remote worker writes straight into the products (a Dask run on one host, or on a
//! file system the driver and the workers share), so that only the block's metadata travels to
//! the coordinator.
//!
//! The coordinator creates the products and hands out, per product, where its pixels lie in its
//! tile file ([`DirectTarget`], from [`Coordinator::direct_targets`](super::coordinator::Coordinator::direct_targets)).
//! A worker opens those files ([`DirectWriters`]), writes each plane of its block with `pwrite`
//! (`O_DIRECT` where the file system allows it) at the plane's fixed offset, makes them durable
//! (`fdatasync`) before its task returns, and lists the planes it wrote in the block's header
//! ([`super::block_io::BlockHeader::direct`]). The coordinator checks that list and records the
//! block as it records one whose planes it wrote itself; the checkpoint's rule "planes durable
//! before a block is recorded complete" holds because the worker synced them before returning.
//!
//! Why this is safe beside the coordinator's open products: tiles span one channel and one Stokes
//! plane, so blocks of different channels are disjoint byte ranges of each file; the coordinator
//! writes pixels through its own tile I/O only (casacore's cache of the pixel column stays empty,
//! so its flushes and close never rewrite these bytes); and no table header, keyword or lock is
//! touched here (those stay with the coordinator: `pclean_imageio::TileWriter`).

use super::block_io::PlaneWrite;
use crate::error::EngineError;
use ndarray::ArrayView2;
use pclean_imageio::{TileLayout, TileWriter};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Mutex;

/// One product a worker writes its planes into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectTarget {
    /// The product (`psf`, `residual`, ...).
    pub product: String,
    /// Its tile file.
    pub path: PathBuf,
    /// `[nx, ny, nstokes, nchan]`.
    pub shape: [usize; 4],
    /// Tile edge along x and y.
    pub tile: [usize; 2],
    pub big_endian: bool,
    /// The products were created by this run (none of the planes of a pending block was
    /// written): all-zero tiles may stay holes.
    pub fresh: bool,
}

impl DirectTarget {
    pub(crate) fn new(product: &str, l: TileLayout, fresh: bool) -> Self {
        DirectTarget {
            product: product.to_string(),
            path: l.path,
            shape: l.shape,
            tile: l.tile,
            big_endian: l.big_endian,
            fresh,
        }
    }

    fn layout(&self) -> TileLayout {
        TileLayout {
            path: self.path.clone(),
            shape: self.shape,
            tile: self.tile,
            big_endian: self.big_endian,
        }
    }
}

/// A worker's open tile files of the direct targets, and the planes written through them.
pub struct DirectWriters {
    writers: Vec<(String, Mutex<TileWriter>)>,
    /// Each product's tile file (for errors).
    paths: Vec<(String, PathBuf)>,
    written: Mutex<Vec<PlaneWrite>>,
}

impl DirectWriters {
    /// Open every target's tile file for writing. An error names the file: a worker that cannot
    /// open it does not see the products (run with plane_writes='driver').
    pub fn open(targets: &[DirectTarget]) -> Result<Self, EngineError> {
        let mut writers = Vec::with_capacity(targets.len());
        for t in targets {
            let w = TileWriter::open(&t.layout(), t.fresh).map_err(|e| {
                EngineError::param(
                    "plane_writes",
                    format!(
                        "this worker cannot write the planes of product '{}' into {} ({e}); the \
                         workers must see the products' directory (a shared file system), else \
                         run with plane_writes='driver'",
                        t.product,
                        t.path.display()
                    ),
                )
            })?;
            writers.push((t.product.clone(), Mutex::new(w)));
        }
        Ok(DirectWriters {
            writers,
            paths: targets
                .iter()
                .map(|t| (t.product.clone(), t.path.clone()))
                .collect(),
            written: Mutex::new(Vec::new()),
        })
    }

    /// Write plane `(chan, stokes)` of `product` into its file; `false` (nothing written) when
    /// `product` is not a direct target (the plane travels to the coordinator).
    pub fn put(
        &self,
        product: &str,
        chan: usize,
        stokes: usize,
        plane: ArrayView2<f32>,
    ) -> Result<bool, EngineError> {
        let Some((_, w)) = self.writers.iter().find(|(p, _)| p == product) else {
            return Ok(false);
        };
        let (ny, nx) = plane.dim();
        let std = plane.as_standard_layout();
        let values = std.as_slice().expect("standard layout");
        w.lock()
            .unwrap_or_else(|p| p.into_inner())
            .put_plane(chan, stokes, values)
            .map_err(|source| glue_err(self.path(product), source))?;
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        // A plane written again (the last write is final) is listed once.
        if !written
            .iter()
            .any(|w| w.product == product && w.chan == chan && w.stokes == stokes)
        {
            written.push(PlaneWrite {
                product: product.to_string(),
                chan,
                stokes,
                shape: [ny, nx],
            });
        }
        Ok(true)
    }

    fn path(&self, product: &str) -> PathBuf {
        self.paths
            .iter()
            .find(|(p, _)| p == product)
            .map(|(_, f)| f.clone())
            .unwrap_or_default()
    }

    /// Make every plane written durable, and list them (for the block's header).
    pub fn finish(self) -> Result<Vec<PlaneWrite>, EngineError> {
        for (p, w) in &self.writers {
            w.lock()
                .unwrap_or_else(|p| p.into_inner())
                .sync()
                .map_err(|source| glue_err(self.path(p), source))?;
        }
        Ok(self.written.into_inner().unwrap_or_else(|p| p.into_inner()))
    }
}

fn glue_err(path: PathBuf, source: pclean_imageio::GlueError) -> EngineError {
    pclean_imageio::ImageIoError::Glue { path, source }.into()
}

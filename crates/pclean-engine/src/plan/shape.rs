//! The one place a [`BlockShape`] (the memory model's inputs) is built: from the image side (what
//! the parameters ask for), the gridder (the grid's size and precision) and the data side (rows,
//! channels, correlations). Runs take the image side from their parameters
//! ([`ImageSide::of`]); the seed's estimate functions state theirs (`WorkerSpec`).

pub use super::memory::{BlockShape, DataSide, DeconvolverKind, ImageSide};
use crate::imaging::gridder::RunGridder;
use crate::imaging::weights::DensityLayout;
use pclean_core::params::{ImagingParams, UseMask};

/// Bytes one visibility sample takes in a chunk: complex64 data, a flag byte and a weight.
pub const SAMPLE_BYTES: usize = 13;
/// Bytes one prepared Stokes sample takes: complex64 visibility and its weight.
pub const STOKES_SAMPLE_BYTES: usize = 12;
/// Bytes of visibilities one chunk read from an MS holds at most.
pub const CHUNK_BYTES: usize = 64 << 20;

/// Bytes one selected row takes in a visibility chunk of `chans` channels.
pub fn row_bytes(chans: usize, ncorr: usize, nstokes: usize) -> usize {
    chans * (ncorr * SAMPLE_BYTES + nstokes * STOKES_SAMPLE_BYTES)
}

/// Rows per chunk read from an MS, for rows of `row_bytes` bytes.
pub fn chunk_rows(row_bytes: usize) -> usize {
    (CHUNK_BYTES / row_bytes.max(1)).clamp(256, 100_000)
}

impl ImageSide {
    /// The image side of a run with parameters `p`.
    pub fn of(p: &ImagingParams) -> Self {
        let d = &p.deconv;
        ImageSide {
            nx: p.nx,
            ny: p.ny,
            nstokes: p.stokes.0.len(),
            density: DensityLayout::of(p) != DensityLayout::None,
            density_per_channel: DensityLayout::of(p) == DensityLayout::PerChannel,
            deconvolve: p.niter > 0 || !d.startmodel.is_empty() || d.restart,
            deconvolver: DeconvolverKind::of(d.deconvolver, d.scales.len()).with_nterms(d.nterms),
            automask: matches!(d.usemask, UseMask::AutoMultiThresh(_)),
            fixed_mask: match &d.usemask {
                UseMask::Pb { .. } => true,
                UseMask::User { mask, .. } => !mask.trim().is_empty(),
                UseMask::AutoMultiThresh(_) => false,
            },
            stats_region: p.pblimit.abs() > 0.0,
            // tclean's default count for a 2:1 band until the plan knows the band
            // (`Setup::open` sets the run's).
            mvc_chans: d.mvc.map_or(0, |n| if n == 0 { 10 } else { n }),
            joint_pass: crate::imaging::joint_first_pass(p),
        }
    }
}

/// The memory model's inputs of blocks imaged with `gridder`.
pub fn block_shape(image: ImageSide, gridder: &RunGridder, data: DataSide) -> BlockShape {
    let (grid_v, grid_u) = gridder.grid_shape();
    BlockShape {
        image,
        data: DataSide {
            nvis_per_chan: data.nvis_per_chan.max(1),
            ..data
        },
        grid_u,
        grid_v,
        grid_elem_bytes: gridder.bytes_per_cell(),
        pointings: gridder.pointings(),
        beam_bands: gridder.beam_bands(),
        grid_planes: gridder.grid_planes(),
        w_buffered: matches!(gridder, RunGridder::W(_)),
        kernel_support: gridder.kernel_support(),
        mosaic_pass_grid: matches!(gridder, RunGridder::Mosaic(_)),
        // Set from the spectral plan (`memory::paged_data_chans`).
        paged_data_chans: 0,
        paged_resident: 0,
    }
}

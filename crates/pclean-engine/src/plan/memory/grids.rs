//! The uv grids of a block's passes and of its model: the 2-D gridders' one grid, the w-gridder's
//! planes (every plane's grid, or one reused grid beside its buffered visibilities), the mosaic
//! gridder's one grid of the image's size.

use super::BlockShape;

impl BlockShape {
    /// The plane set of a pass: one grid per w plane; with w planes also the image sum and one
    /// plane's complex image (16 B per pixel each, `pclean_grid::wgrid`) and a chunk's prepared
    /// copy (uvw and flips per row ~32 B; weights, gridded values, plane weights and the
    /// prediction's sum, ~48 B per visibility). A major cycle's model holds every w plane's grid
    /// (`WGridder::model_of`); a gridding pass may hold fewer ([`BlockShape::w_buffered_pass`]).
    pub(super) fn grid_bytes(&self) -> u64 {
        let one = self.one_grid_bytes();
        if self.grid_planes <= 1 {
            return one;
        }
        let chunk_vis = (self.data.chunk_rows * self.data.data_chans)
            .min(self.data.nvis_per_chan.max(1)) as u64;
        self.grid_planes as u64 * one
            + 32 * self.npix()
            + 48 * chunk_vis
            + 32 * self.data.chunk_rows as u64
    }

    /// One uv grid.
    pub(super) fn one_grid_bytes(&self) -> u64 {
        (self.grid_u * self.grid_v * self.grid_elem_bytes) as u64
    }

    /// A w-gridder's buffer of a plane's visibilities (`pclean_grid::wgrid::WBuffer`, the bytes
    /// `WChunk::bytes` counts): per visibility its weight (4 B) and turned value (8 B), per row
    /// uvw (24 B), its flip (1 B) and its index in each w plane it touches (4 B per plane within
    /// the kernel's support in w).
    fn w_buffer_bytes(&self) -> u64 {
        let planes = self.kernel_support.clamp(1, self.grid_planes.max(1)) as u64;
        12 * self.data.nvis_per_chan as u64 + self.plane_rows() * (24 + 1 + 4 * planes)
    }

    /// A buffered w-gridder's pass ([`BlockShape::w_buffered`]) whose buffer fits `BUFFER_SHARE`
    /// of its planes' grids: (the buffer, what its image adds). The image grids the buffer
    /// plane by plane into one reused grid, beside the image's sum (f64, 8 B/px) and the screens
    /// of the current plane and their step (16 B each per entry of the octant table: 4 B/px):
    /// 12 B/px beside the grid (the image made from the sum is the pass's, counted by the
    /// phase). The chunks read are freed as the pass goes (their visibilities are in the
    /// buffer) before the grid is made. Measured (`bench/wgrid_bench.py`, vla_widefield 84 240
    /// visibilities, 1024^2, epsilon 1e-4, 9 planes): heap 36.7 MiB above idle; the run
    /// estimated 193 MiB for 62 MiB peak RSS counting every plane's grid (docs/decisions.md
    /// (s17-est)). None otherwise (every plane's grid: [`BlockShape::grid_bytes`]).
    pub(super) fn w_buffered_pass(&self) -> Option<(u64, u64)> {
        if !(self.w_buffered && self.grid_planes > 1) {
            return None;
        }
        let one = self.one_grid_bytes();
        let buffer = self.w_buffer_bytes();
        let planes = self.grid_planes as u64 * one;
        (buffer as f64 <= pclean_grid::wgrid::BUFFER_SHARE * planes as f64)
            .then_some((buffer, one + 12 * self.npix()))
    }

    /// The grids of one PSF or residual pass: one of the image's size for the mosaic gridder, a
    /// buffered w-gridder's one reused grid, else every plane set's grids.
    pub(super) fn pass_grid_bytes(&self) -> u64 {
        if self.mosaic_pass_grid {
            16 * self.npix()
        } else if self.w_buffered_pass().is_some() {
            self.one_grid_bytes()
        } else {
            self.grid_bytes() * self.grid_sets()
        }
    }
}

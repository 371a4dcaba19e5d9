//! The data side of a block's memory: a visibility chunk as read and prepared for a pass, the
//! joint PSF and dirty pass's chunks, and a cube block's chunks prepared once for all its passes.

use super::{BlockShape, READ_MARGIN_CHANS};

impl BlockShape {
    /// One visibility chunk in flight for a pass over `nchan` image channels: the chunk as read
    /// (complex vis 8 B, flag 1 B, weight 4 B per correlation; uvw, times, ids ~64 B per row;
    /// `VisChunk`; the prepared copy's row times, 8 B per row, `Prepared::time_r`), the per-Stokes visibilities and weights formed from it (12 B per Stokes,
    /// `Prepared`; twice when regridded to another frame; 4 B per row and image channel for the
    /// weight-lookup offset of an interpolated sample, `Prepared::weight_dfreq`), the column of
    /// every sample read when binned to the nearest image channel (4 B, `bin_nearest`'s map; a
    /// one-channel image or `nearest`), one channel's column selections (vis
    /// 8 B, weights 4 B, prediction 8 B) and the gridder's bucketing entries (12 B per
    /// visibility).
    pub(super) fn chunk_bytes(&self, nchan: usize) -> u64 {
        self.chunk_bytes_of(nchan, self.data.nvis_per_chan)
    }

    /// [`BlockShape::chunk_bytes`] over `nvis` visibilities per image channel: a chunk holds at
    /// most the rows they come from (`nvis` over the data channels per image channel: an mfs
    /// plane's rows are its visibilities over all its channels; a row partition's are its own).
    pub(super) fn chunk_bytes_of(&self, nchan: usize, nvis: usize) -> u64 {
        let per_image = self.data.data_chans as f64 / self.data.image_chans.max(1) as f64;
        let read = ((nchan as f64 * per_image).ceil() as usize + READ_MARGIN_CHANS)
            .min(self.data.spw_chans.max(1));
        let plane_rows = (nvis as f64 / per_image.max(1.0)).ceil() as usize;
        let rows = self.data.chunk_rows.min(plane_rows.max(1)) as u64;
        let rc = rows * read as u64;
        let per_chan = (rows as f64 * per_image.max(1.0)).ceil() as u64;
        rc * (13 * self.data.ncorr as u64 + 2 * 12 * self.image.nstokes as u64 + 4)
            + rows * nchan as u64 * 4
            + rows * (64 + 8)
            + per_chan * (8 + 4 + 8 + 12)
    }

    /// [`BlockShape::chunk_bytes`] of the joint PSF and dirty pass of an mfs plane
    /// (`ImagingContext::psf_and_dirty_plane`), which reads its chunks from the MS (no cache)
    /// through `source::prepare::read_ahead`: two chunks of half the rows, one being prepared and
    /// gridded while the next is read. So the chunk as read (13 B per correlation sample, ~64 B
    /// per row) counts `chunk_rows` rows, but what is made from it only half: its Stokes
    /// visibilities and weights formed once (12 B per Stokes; an mfs plane takes each row's Doppler
    /// factor, no copy regridded to another frame), the column map (4 B per sample), each row's
    /// prepared time and column (12 B), and per visibility only the gridder's bucketing entries
    /// (12 B): the visibilities are borrowed from the chunk (`view_columns`), the imaging weights
    /// made for the chunk are the plane's own (counted once, as the plane's `weights`), and a first
    /// pass predicts nothing. Measured (synth.ms, 6.9 M visibilities, 1024^2, natural, 2 threads):
    /// peak RSS 195 MiB, the run's estimate 287 with [`BlockShape::chunk_bytes`] (+47%), 209 with
    /// this (docs/decisions.md (s15-perf)).
    pub(super) fn joint_chunk_bytes(&self) -> u64 {
        self.streamed_chunk_bytes(12)
    }

    /// The chunk in flight of a pass that reads its chunks from the MS through `read_ahead` (an
    /// mfs plane: [`super::DataSide::streamed`]), as [`BlockShape::joint_chunk_bytes`] with
    /// `per_vis` bytes per visibility of a half chunk for what the pass makes from it: the
    /// joint pass 12 (bucketing entries), a density pass 4 (its density weights), a residual or
    /// major-cycle pass 32 (the column selections of vis, weights and prediction, 8 + 4 + 8 B,
    /// and the bucketing entries). Measured (alma_mosaic, 325 080 visibilities in one chunk,
    /// 512^2 mosaic clean): [`BlockShape::chunk_bytes`] counted the whole chunk's selections
    /// and a second Stokes copy, 32.5 MiB, in every major cycle (docs/decisions.md (s17-est)).
    pub(super) fn streamed_chunk_bytes(&self, per_vis: u64) -> u64 {
        let per_image = self.data.data_chans as f64 / self.data.image_chans.max(1) as f64;
        let read =
            ((per_image.ceil() as usize) + READ_MARGIN_CHANS).min(self.data.spw_chans.max(1));
        let plane_rows = (self.data.nvis_per_chan as f64 / per_image.max(1.0)).ceil() as usize;
        let rows = self.data.chunk_rows.min(plane_rows.max(1)) as u64;
        let half = rows.div_ceil(2);
        let half_vis = (half as f64 * per_image.max(1.0)).ceil() as u64;
        rows * read as u64 * 13 * self.data.ncorr as u64
            + rows * 64
            + half * read as u64 * (12 * self.image.nstokes as u64 + 4)
            + half * 12
            + half_vis * per_vis
    }

    /// A cube block's chunks prepared once for all its passes (`source::prepare_block`), held
    /// from before its densities to its end: per visibility of its `nchan` planes the Stokes
    /// visibility and weight (12 B per Stokes, `Prepared::stokes`) and an interpolated sample's
    /// weight-lookup offset (4 B, `Prepared::weight_dfreq`); per row uvw (24 B), time (8),
    /// field (4) and antennas (8).
    pub(super) fn prepared_bytes(&self, nchan: usize) -> u64 {
        if self.data.prepared_rows == 0 {
            return 0;
        }
        let nvis = (nchan * self.data.nvis_per_chan) as u64;
        nvis * (12 * self.image.nstokes as u64 + 4) + 44 * self.data.prepared_rows as u64
    }

    /// The chunk in flight while a cube block prepares its chunks (`source::prepare_block`): the
    /// chunk as read, its Stokes visibilities and weights formed at the read's channels (12 B per
    /// Stokes) and the nearest-binning column map (4 B), per sample read; the row fields. Its
    /// regridded copy is what the block keeps (counted in [`BlockShape::prepared_bytes`]), and
    /// no pass's column selections or bucketing entries exist yet. Measured (alma_small.ms,
    /// 256^2 x 1, the peak of the run): heap 8.86 MiB above idle, 8.93 predicted; the pass-time
    /// [`BlockShape::chunk_bytes`] in its place over-counted by 2.1 MiB.
    pub(super) fn preparing_chunk_bytes(&self, nchan: usize) -> u64 {
        let per_image = self.data.data_chans as f64 / self.data.image_chans.max(1) as f64;
        let read = ((nchan as f64 * per_image).ceil() as usize + READ_MARGIN_CHANS)
            .min(self.data.spw_chans.max(1));
        let plane_rows = (self.data.nvis_per_chan as f64 / per_image.max(1.0)).ceil() as usize;
        let rows = self.data.chunk_rows.min(plane_rows.max(1)) as u64;
        let rc = rows * read as u64;
        rc * (13 * self.data.ncorr as u64 + 12 * self.image.nstokes as u64 + 4)
            + rows * nchan as u64 * 4
            + rows * (64 + 8)
    }
}

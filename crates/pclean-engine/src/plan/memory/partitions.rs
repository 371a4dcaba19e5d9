//! Row partitions (`crate::exec::rows`): what one partition's task holds, what the coordinator's
//! block holds besides, and how many partitions fit a budget at once (docs/memory.md, "Row
//! partitions").
//!
//! A partitioned mfs plane moves the passes' per-visibility buffers (imaging weights, residual
//! visibilities), grids and chunks from the block to the partitions: each partition holds its
//! share of the visibilities' buffers but a whole grid (and chunk, and thread scratch) of its own,
//! so `n` partitions in flight cost `n - 1` more grids, chunks and scratch than the single pass;
//! the coordinator holds the block's planes and, while it sums a pass, every partition's partial
//! image (or weighting density).

use super::BlockShape;

impl BlockShape {
    /// Peak bytes of one row partition's task over `nvis` visibilities (its share of the plane's)
    /// run with `threads` threads: the imaging weights it keeps between passes (4 B each), plus
    /// the largest pass: its weighting density (`f64` per pixel, per field for a mosaic), the PSF
    /// pass (`2 nterms - 1` grids and their images), or the residual pass with a model (the
    /// residual visibilities, 8 B each, kept from the prediction to the gridding, with `nterms`
    /// grids and images); one visibility chunk and the threads' scratch.
    pub fn partition_bytes(&self, nvis: usize, threads: usize) -> u64 {
        let npix = (self.image.nx * self.image.ny) as u64;
        let nt = self.image.deconvolver.nterms() as u64;
        let psf_terms = 2 * nt - 1;
        let grids = self.grid_bytes() * self.grid_sets();
        let weight_image = u64::from(self.pointings > 1) * 4 * npix;
        // A mosaic's (or awproject's bins') images: the sum, one pointing's dirty image and its
        // beam (f32), and the weight image (f64 while summed), as the block's pass
        // (`BlockShape::phases`); the band response is the coordinator's.
        let beams = u64::from(self.pointings > 1) * 20 * npix;
        let density = u64::from(self.image.density) * 8 * npix * self.pointings.max(1) as u64;
        // specmode='mvc': a pass grids the partition's cube (a grid and an image per channel); a
        // residual task brings the model cube (f32 per channel) and predicts each channel from
        // its own model grid, all of them alive while the residual visibilities are made (then
        // freed before the cube is gridded: the larger of the two counts).
        let mvc = self.image.mvc_chans as u64;
        let (psf_imgs, res_imgs) = if mvc > 0 { (mvc, mvc) } else { (psf_terms, nt) };
        let model_cube = 4 * mvc * npix;
        // An mtmfs mosaic's PSF pass makes a weight image per PSF term (`imaging::taylor`), an
        // mvc mosaic's one per cube channel (`imaging::mvc`), all of them alive at its end.
        let weight_images = weight_image * if mvc > 0 { mvc } else { psf_terms };
        let psf = psf_imgs * (grids + 4 * npix) + weight_images + beams;
        let residual =
            8 * nvis as u64 + model_cube + res_imgs * (grids + 4 * npix) + weight_image + beams;
        4 * nvis as u64
            + density.max(psf).max(residual)
            + self.chunk_bytes_of(1, nvis)
            + threads.max(1) as u64 * self.thread_scratch()
    }

    /// Peak bytes of the coordinator's block of one mfs plane whose passes run in `n` partitions
    /// with `threads` threads: the block's phases without the imaging weights, residual
    /// visibilities, grids and chunks (they are the partitions'), plus the `n` partial images (or
    /// densities) of a pass held while they are summed.
    pub fn coordinator_bytes(&self, n: usize, threads: usize) -> u64 {
        let mut stripped = self.clone();
        stripped.grid_u = 0;
        stripped.grid_v = 0;
        stripped.data.chunk_rows = 0;
        stripped.data.nvis_per_chan = 0;
        let npix = (self.image.nx * self.image.ny) as u64;
        let psf_terms = 2 * self.image.deconvolver.nterms() as u64 - 1;
        // specmode='mvc': each partition's partial is its cube of channel images (a mosaic's
        // PSF pass: and a weight image per channel).
        let (images, weights) = match self.image.mvc_chans as u64 {
            0 => (psf_terms, psf_terms),
            mvc => (mvc, mvc),
        };
        // A mosaic's partial weight images (one per PSF term for mtmfs).
        let weight_image = u64::from(self.pointings > 1) * 4 * npix * weights;
        let density = u64::from(self.image.density) * 8 * npix * self.pointings.max(1) as u64;
        let partials = n as u64 * (images * 4 * npix + weight_image).max(density);
        stripped.block_bytes(1, threads) + partials
    }

    /// Partitions of `nvis` visibilities in `n` parts that fit `budget` bytes at once beside the
    /// coordinator (each with `threads` threads): at least 1, at most `n`.
    pub fn partitions_in_flight(
        &self,
        nvis: usize,
        n: usize,
        threads: usize,
        budget: u64,
    ) -> usize {
        let n = n.max(1);
        let part = self.partition_bytes(nvis.div_ceil(n), threads).max(1);
        let free = budget.saturating_sub(super::BASE_BYTES + self.coordinator_bytes(n, threads));
        ((free / part) as usize).clamp(1, n)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{WorkerSpec, MIB};

    /// What moves to the partitions adds up: one partition of all the visibilities plus the
    /// coordinator is the single block's major cycle give or take the partial images; each more
    /// partition in flight adds about a grid, a chunk and scratch (not a second copy of the
    /// per-visibility buffers); the budget caps the partitions in flight.
    #[test]
    fn partitions_share_visibilities_and_add_grids() {
        let spec = WorkerSpec {
            imsize: 1024,
            deconvolver: "hogbom".into(),
            nvis_per_chan: 10_000_000,
            ..WorkerSpec::default()
        };
        let mut shape = spec.block_shape().unwrap();
        // An mfs plane: no cube block's prepared chunks (`DataSide::prepared_rows`).
        shape.data.prepared_rows = 0;
        let nvis = spec.nvis_per_chan;
        let single = shape.block_bytes(1, 1) as f64;
        let one = (shape.coordinator_bytes(1, 1) + shape.partition_bytes(nvis, 1)) as f64;
        // One partition: the single block within the coordinator's minor-cycle transients, a
        // partial density and image (f64 + f32 per pixel) and the partition's residual image.
        let npix = (1024 * 1024) as f64;
        assert!(
            (one - single).abs() < 24.0 * npix,
            "{} vs {} MiB",
            one / MIB,
            single / MIB
        );
        // Two partitions in flight: half the per-visibility buffers each; one grid, chunk and
        // scratch more, one more partial density on the coordinator (8 B/px) and residual image
        // on the partition (4 B/px).
        let two = (shape.coordinator_bytes(2, 1) + 2 * shape.partition_bytes(nvis / 2, 1)) as f64;
        let grid = (shape.grid_bytes() + shape.chunk_bytes(1) + shape.thread_scratch()) as f64;
        let extra = two - one;
        assert!(
            extra > grid && extra < grid + 13.0 * npix,
            "{extra} vs grid {grid}"
        );
        // The budget: everything fits, nothing fits (still 1), room for two of four.
        assert_eq!(shape.partitions_in_flight(nvis, 4, 1, u64::MAX), 4);
        assert_eq!(shape.partitions_in_flight(nvis, 4, 1, 0), 1);
        let room = super::super::BASE_BYTES
            + shape.coordinator_bytes(4, 1)
            + 2 * shape.partition_bytes(nvis.div_ceil(4), 1)
            + 1;
        assert_eq!(shape.partitions_in_flight(nvis, 4, 1, room), 2);
    }

    /// A mosaic's partition holds a grid per pointing in each pass and the pointings' images
    /// (sum, dirty image, beam, f64 weight: 20 B/px) as the single block does; the coordinator
    /// the band response (in the block phases it keeps).
    #[test]
    fn mosaic_partitions_hold_every_pointing() {
        let standard = WorkerSpec {
            imsize: 1024,
            deconvolver: "hogbom".into(),
            nvis_per_chan: 10_000_000,
            row_partitions: 2,
            ..WorkerSpec::default()
        };
        let mosaic = WorkerSpec {
            gridder: "mosaic".into(),
            nfields: 7,
            ..standard.clone()
        };
        let (s, m) = (
            standard.block_shape().unwrap(),
            mosaic.block_shape().unwrap(),
        );
        let nvis = standard.nvis_per_chan / 2;
        let npix = 1024 * 1024;
        let extra = m.partition_bytes(nvis, 1) - s.partition_bytes(nvis, 1);
        assert!(
            extra >= 6 * m.grid_bytes() + 20 * npix,
            "{} MiB more, grid {} MiB",
            extra as f64 / MIB,
            m.grid_bytes() as f64 / MIB
        );
        let w = super::super::estimate_worker_memory_gib(&mosaic).unwrap();
        let c = super::super::estimate_coordinator_memory_gib(&mosaic).unwrap();
        assert!(w > 0.0 && c > 0.0, "{w} {c}");
    }

    /// specmode='mvc' in row partitions: a partition's residual task holds its cube's grids and
    /// channel images (one per channel, not 2 nterms - 1 or nterms Taylor terms) and the model
    /// cube it was sent; the coordinator holds every partition's channel images while it sums
    /// them. The differences to plain mtmfs are exactly those counts.
    #[test]
    fn mvc_partitions_hold_a_grid_per_channel() {
        let mtmfs = WorkerSpec {
            imsize: 1024,
            deconvolver: "mtmfs".into(),
            nterms: 2,
            nvis_per_chan: 10_000_000,
            row_partitions: 2,
            ..WorkerSpec::default()
        };
        let mvc = WorkerSpec {
            mvc_chans: 10,
            ..mtmfs.clone()
        };
        let (t, m) = (mtmfs.block_shape().unwrap(), mvc.block_shape().unwrap());
        let nvis = mtmfs.nvis_per_chan / 2;
        let npix = 1024 * 1024u64;
        let grid = t.grid_bytes();
        // mvc's residual task (10 channels and the model cube, 10 x 4 B/px) against mtmfs's
        // larger task (its PSF: 3 terms, or its residual: 2 terms and the same visibilities).
        let extra = m.partition_bytes(nvis, 1) - t.partition_bytes(nvis, 1);
        assert!(
            extra >= 7 * (grid + 4 * npix) + 40 * npix
                && extra <= 8 * (grid + 4 * npix) + 40 * npix + 8 * nvis as u64,
            "{extra}"
        );
        // Coordinator: 2 partitions' 10 channel images against their 3 PSF terms, besides the
        // block's own mvc planes (counted by `block_bytes`, `mvc_counts_a_grid_per_channel`).
        let coord = m.coordinator_bytes(2, 1) - t.coordinator_bytes(2, 1);
        assert!(coord >= 2 * 7 * 4 * npix, "{coord}");
        let w = super::super::estimate_worker_memory_gib(&mvc).unwrap();
        let c = super::super::estimate_coordinator_memory_gib(&mvc).unwrap();
        let wt = super::super::estimate_worker_memory_gib(&mtmfs).unwrap();
        assert!(w > wt && c > 0.0, "{w} {wt} {c}");
    }

    /// An mvc mosaic in row partitions (s18-rows): a partition's PSF task ends holding a weight
    /// image per cube channel (`imaging::mvc`), and the coordinator every partition's channel
    /// weight images while it sums them (`exec::rows::mvc`): 4 B/px per channel each, not one.
    #[test]
    fn mvc_mosaic_partitions_hold_a_weight_image_per_channel() {
        let spec = WorkerSpec {
            imsize: 1024,
            deconvolver: "mtmfs".into(),
            nterms: 2,
            gridder: "mosaic".into(),
            nfields: 7,
            mvc_chans: 10,
            weighting: "natural".into(),
            nvis_per_chan: 100_000,
            row_partitions: 2,
            ..WorkerSpec::default()
        };
        let m = spec.block_shape().unwrap();
        let npix = 1024 * 1024u64;
        // One more partition's partial on the coordinator: its 10 channel images and 10 channel
        // weight images (natural: no density).
        let partial = m.coordinator_bytes(2, 1) - m.coordinator_bytes(1, 1);
        assert_eq!(partial, 80 * npix, "{}", partial as f64 / MIB);
        // The PSF task (few visibilities here, so the largest pass): the cube's grids (a grid per
        // pointing per channel) and images, the pointings' images (20 B/px) and 10 weight images.
        let nvis = 50_000;
        let psf = 10 * (m.grid_bytes() * m.grid_sets() + 4 * npix) + 40 * npix + 20 * npix;
        let part = m.partition_bytes(nvis, 1);
        assert!(part >= psf + 4 * nvis as u64, "{part} vs {psf}");
    }

    /// The estimate functions: a worker of a partitioned run is one partition; the coordinator
    /// holds the planes; more workers than partitions are not recommended.
    #[test]
    fn estimate_functions_cover_partitions() {
        let spec = WorkerSpec {
            imsize: 2048,
            nvis_per_chan: 20_000_000,
            ..WorkerSpec::default()
        };
        let whole = super::super::estimate_worker_memory_gib(&spec).unwrap();
        let part = WorkerSpec {
            row_partitions: 4,
            ..spec.clone()
        };
        let quarter = super::super::estimate_worker_memory_gib(&part).unwrap();
        assert!(quarter < whole, "{quarter} vs {whole}");
        let coord = super::super::estimate_coordinator_memory_gib(&part).unwrap();
        assert!(coord < whole, "{coord} vs {whole}");
        let n = super::super::recommend_nworkers(Some(1e6), &part, 0.85).unwrap();
        assert_eq!(n, 4);
        let cube = WorkerSpec {
            nchan_per_task: 2,
            ..part
        };
        let e = super::super::estimate_worker_memory_gib(&cube).unwrap_err();
        assert!(e.to_string().contains("row_partitions"), "{e}");
    }
}

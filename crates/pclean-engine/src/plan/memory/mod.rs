//! The engine's memory model: how many bytes a channel block needs, from what the code allocates,
//! and the schedule (channels per block, blocks in flight, threads per block) that fits a budget.
//!
//! Every term names the allocation it stands for (docs/memory.md walks through them and compares
//! the model with measured peaks). Sizes per image plane use `npix = nx * ny`; the uv grid has
//! `gu * gv` cells of `grid_elem` bytes (complex single or double precision). A block runs in
//! phases (`crate::exec::block::run_block`), and its peak is the largest phase:
//! 1. weighting densities (`f64`) of its channels, turned one by one into weighters (`f32`);
//! 2. per plane, one pass grids the PSF (keeping the plane's imaging weights, 4 bytes per
//!    visibility) and one the dirty image, each into the one oversampled grid, transformed in place
//!    (an mfs image with the `standard` gridder grids both in one pass: two grids, `joint_pass`);
//!    the densities are freed after the last plane;
//! 3. deconvolution: every plane's state (residual, PSF, model, masks, deconvolver planes), minor
//!    cycles (their transient planes), and major cycles plane by plane (a model grid, then the
//!    residual grid, with the plane's residual visibilities kept between the two passes);
//! 4. writing: restoration of each plane, then its products.

mod cache;
mod chunks;
mod deconvolver;
mod estimate;
#[cfg(test)]
mod gridder_tests;
mod grids;
mod partitions;
#[cfg(test)]
mod run_kinds_tests;
mod schedule;
#[cfg(test)]
mod tests;

pub use cache::{cache_phase, vis_cache_bytes, READ_COLUMN_CACHES_BYTES};
pub use deconvolver::DeconvolverKind;
pub use estimate::{
    estimate_coordinator_memory_gib, estimate_peak_ram_gib, estimate_worker_memory_gib,
    recommend_nworkers, WorkerSpec,
};
pub use schedule::{
    available_memory_bytes, default_budget_bytes, schedule, CacheRead, Schedule, ScheduleRequest,
    REGRID_BLOCK_CHANS,
};

/// Bytes the process holds besides its blocks: the idle process (binary and libraries, MS
/// metadata, thread pools, allocator arena, the open products and casacore's caches of them),
/// measured as the run summary's `idle_rss_mib` on tests' `alma_small.ms` (13.3 MiB for a
/// 32 x 32 image, 20.5 MiB from 512 x 512 up: the products' caches stop growing), plus
/// [`IMAGING_CODE_BYTES`]; rounded up (docs/memory.md).
pub const BASE_BYTES: u64 = 24 << 20;

/// Of [`BASE_BYTES`]: the pages of pclean's code that imaging runs, resident (file-backed) once a
/// block has run. They are not heap, and a run's idle baseline is taken before imaging runs, so a
/// run's resident growth above its idle baseline is its blocks plus these: measured 1.0-1.4 MiB
/// (`RssFile` of `/proc/self/status` at the peak minus idle, 32^2 to 4096^2, Hogbom and
/// multiscale).
pub const IMAGING_CODE_BYTES: u64 = 3 << 19;

/// Visibilities per image channel the estimate assumes when the data are unknown (`WorkerSpec`,
/// `pclean estimate` without `--nvis`): 1e5, an hour of a 43-antenna array at 30 s integrations.
/// Below about 1.6e6 (4096^2) or 1e5 (1024^2) visibilities the FFT dominates the gridding cost and
/// the kernel with the least oversampling (1.2) is chosen.
pub const DEFAULT_NVIS_PER_CHAN: usize = 100_000;

/// Bytes in a MiB and a GiB, for reporting.
pub const MIB: f64 = (1u64 << 20) as f64;
pub const GIB: f64 = (1u64 << 30) as f64;

/// Data channels a pass reads besides those of its image channels (see `BlockShape::spw_chans`).
pub const READ_MARGIN_CHANS: usize = 4;

/// What the size of a block depends on: the image side (from the parameters), the uv grid, and
/// the data side. Built in one place, [`crate::plan::shape::block_shape`].
#[derive(Debug, Clone, PartialEq)]
pub struct BlockShape {
    pub image: ImageSide,
    pub data: DataSide,
    /// uv grid shape (`Gridder::grid_shape`) and bytes per cell (8 single, 16 double precision).
    pub grid_u: usize,
    pub grid_v: usize,
    pub grid_elem_bytes: usize,
    /// Grids of a residual pass and of a model (a mosaic's: one per pointing; 1 otherwise).
    pub pointings: usize,
    /// Grids per pointing: a wideband mfs mosaic's beam frequencies (each data channel gridded
    /// with the beam at the nearest; `MosaicGridder::with_beam_frequencies`), 1 otherwise. The
    /// densities stay one per pointing.
    pub beam_bands: usize,
    /// uv grids per plane set: the w planes of `wproject`/`widefield` (1 for the 2-D gridders).
    pub grid_planes: usize,
    /// The w planes' gridder keeps a pass's visibilities while they take at most
    /// `pclean_grid::wgrid::BUFFER_SHARE` of its planes' grids, and then grids and transforms the
    /// planes one at a time into one reused grid (`pclean_grid::wgrid`, `WGridder`; not
    /// awproject's w planes): [`BlockShape::w_buffered_pass`].
    pub w_buffered: bool,
    /// Kernel support in cells (u, v and w): the w planes a buffered row is listed in.
    pub kernel_support: usize,
    /// The mosaic gridder (`pclean_grid::MosaicGridder`, tclean's `MosaicFT`) grids every
    /// pointing of a PSF or residual pass into one unpadded double-precision grid of the image's
    /// size (16 B/px); its model still holds one grid per pointing and beam frequency.
    pub mosaic_pass_grid: bool,
    /// A deconvolved cube block of more channels than [`BlockShape::paged_resident`] runs paged
    /// (`crate::exec::block_paged`): that many channels in memory, the other planes in a
    /// scratch file, its visibilities prepared this many channels at a time (rounded up to a
    /// multiple of the resident channels). 0: blocks hold all their planes ([`paged_data_chans`]).
    pub paged_data_chans: usize,
    /// Channels a paged block holds in memory (`cube_resident_chans`); 0: one per thread.
    pub paged_resident: usize,
}

/// [`BlockShape::paged_data_chans`] of a run: a cube (several image channels) deconvolved by
/// Hogbom or Clark (deconvolvers that keep nothing between cycles that costs more than a plane to
/// remake), without weight images (`weight_images`: mosaic, A-projection) or mvc; its
/// visibilities prepared [`REGRID_BLOCK_CHANS`] channels at a time when interpolated to another
/// frame (as a dirty cube's blocks), else one resident group at a time. 0 for every other run.
pub fn paged_data_chans(
    shape: &BlockShape,
    plan: &crate::plan::SpectralPlan,
    weight_images: bool,
) -> usize {
    let image = &shape.image;
    let deconvolver = matches!(
        image.deconvolver,
        DeconvolverKind::Hogbom | DeconvolverKind::Clark
    );
    if !(image.deconvolve && deconvolver)
        || plan.mfs
        || plan.nchan() < 2
        || weight_images
        || shape.grid_sets() > 1
        || image.mvc_chans > 0
    {
        return 0;
    }
    let interpolates = plan
        .conversion
        .as_ref()
        .is_some_and(|c| c.interpolation != crate::source::regrid_rules::Method::Nearest);
    if interpolates {
        REGRID_BLOCK_CHANS
    } else {
        1
    }
}

/// What the block size depends on from the parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageSide {
    pub nx: usize,
    pub ny: usize,
    pub nstokes: usize,
    /// Uniform/Briggs weighting with one density per channel (else one shared, or none).
    pub density_per_channel: bool,
    pub density: bool,
    /// Deconvolution state is held (niter > 0 or a start model).
    pub deconvolve: bool,
    /// The deconvolver and, for multiscale, its number of scales.
    pub deconvolver: DeconvolverKind,
    /// Auto-multithresh masking.
    pub automask: bool,
    /// A fixed clean mask per plane (usemask 'pb' or a user mask).
    pub fixed_mask: bool,
    /// A statistics region per plane (pblimit > 0).
    pub stats_region: bool,
    /// `specmode='mvc'`: the channels of its cube major cycle (0 otherwise): a grid and an image
    /// per channel in each pass, and each channel's primary-beam ratio kept for the run.
    pub mvc_chans: usize,
    /// A plane's first PSF and dirty image are gridded in one pass, their two grids alive
    /// together (`crate::imaging::joint_first_pass`: mfs images with the `standard` gridder).
    pub joint_pass: bool,
}

/// What the block size depends on from the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataSide {
    /// Rows per visibility chunk, the data channels the image spans, the image channels of the
    /// run, the selected channels of the widest spectral window, and correlations per row. A pass
    /// over image channels reads their data channels and the neighbours that can contribute
    /// (`source::restrict_sources`: the image channel widened by one, the interpolation stencil),
    /// within the window: measured 4 more for a one-channel image at the band edge of
    /// `alma_small.ms` (5 read), taken as [`READ_MARGIN_CHANS`].
    pub chunk_rows: usize,
    pub data_chans: usize,
    pub image_chans: usize,
    pub spw_chans: usize,
    pub ncorr: usize,
    /// Visibilities gridded into one image plane (selected rows x data channels per image
    /// channel): the imaging weights kept per plane and the residual visibilities of a major cycle.
    pub nvis_per_chan: usize,
    /// Rows a cube block prepares once and holds for all its passes (`source::prepare_block`):
    /// the selected rows; 0 where no block does (mfs, row partitions, mtmfs).
    pub prepared_rows: usize,
    /// A plane's passes read their chunks from the MS through `source::prepare`'s `read_ahead`
    /// (half-size chunks, one read ahead in a second thread): an mfs plane, not in row
    /// partitions (a cube's passes read the one read for all blocks, or prepared chunks).
    pub streamed: bool,
}

/// Bytes of each phase of a block (the peak is the largest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Phases {
    pub weighting: u64,
    pub first_pass: u64,
    pub minor_cycle: u64,
    pub major_cycle: u64,
    pub writing: u64,
}

impl Phases {
    pub fn peak(&self) -> u64 {
        [
            self.weighting,
            self.first_pass,
            self.minor_cycle,
            self.major_cycle,
            self.writing,
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }
}

impl BlockShape {
    fn npix(&self) -> u64 {
        (self.image.nx * self.image.ny) as u64
    }

    /// Grids of a residual pass or a model per plane set: pointings x beam frequencies.
    pub(super) fn grid_sets(&self) -> u64 {
        (self.pointings.max(1) * self.beam_bands.max(1)) as u64
    }

    /// Scratch per thread of a gridding pass and an FFT: the gridder's per-chunk tile counts and
    /// offsets (16 B per uv tile of 16 x 16 cells) and a block of 16 grid columns gathered for the
    /// column FFT with its scratch (2 x 16 x gv cells).
    fn thread_scratch(&self) -> u64 {
        let ntiles = ((self.grid_u + 16) / 16 + 1) * ((self.grid_v + 16) / 16 + 1);
        16 * ntiles as u64 + 2 * 16 * (self.grid_v * self.grid_elem_bytes) as u64
    }

    /// Bytes per pixel of one plane's deconvolution state: residual, PSF and model (f32), the
    /// clean mask and statistics region (bytes), auto-multithresh's primary beam copy (f32) and
    /// masks (2 bytes), multiscale's PSF and scale spectra (`(nscales + 1)` half-plane complex
    /// spectra, 4 B/px each) and `nscales (nscales + 1) / 2` scale-PSF cross terms (f32), Clark's
    /// PSF spectrum (4 B/px).
    fn state_per_pixel(&self) -> u64 {
        let mut b = 3 * 4;
        b += u64::from(self.image.fixed_mask || self.image.automask);
        b += u64::from(self.image.stats_region);
        if self.image.automask {
            b += 4 + 2;
        }
        match self.image.deconvolver {
            DeconvolverKind::Multiscale { nscales } => {
                let n = nscales as u64;
                b += 4 * (n + 1) + 4 * n * (n + 1) / 2;
            }
            // Clark keeps the PSF's half-plane spectrum (`ClarkPsf::psf_spec`) between cycles.
            DeconvolverKind::Clark => b += 4,
            DeconvolverKind::Hogbom => {}
            // mtmfs: nterms residuals and models and 2 nterms - 1 PSFs (f32) in place of one
            // each, the PSF and scale spectra (4 B/px each); the Hessian's patches are small.
            DeconvolverKind::Mtmfs { nterms, nscales } => {
                let (t, s) = (nterms as u64, nscales as u64);
                b += 4 * (4 * t - 4) + 4 * (2 * t - 1) + 4 * s;
            }
        }
        b
    }

    /// Bytes per pixel of a plane's masker ([`BlockShape::state_per_pixel`]'s masks and
    /// auto-multithresh's beam).
    fn masker_per_pixel(&self) -> u64 {
        let mut b = u64::from(self.image.fixed_mask || self.image.automask);
        b += u64::from(self.image.stats_region);
        if self.image.automask {
            b += 4 + 2;
        }
        b
    }

    /// Transient bytes per pixel of one plane's minor cycle: the robust statistics' copy of the
    /// residual (f32), Clark's update and convolution planes and its convolution's spectrum,
    /// multiscale's scale masks (bytes),
    /// smoothed residuals, update and convolution planes and a convolution's spectrum (f32),
    /// auto-multithresh's working planes.
    fn minor_per_pixel(&self) -> u64 {
        let stats = 4;
        let dec = match self.image.deconvolver {
            DeconvolverKind::Hogbom => 0,
            // the component and convolution planes, and the half-plane spectrum the exact update's
            // convolution makes (4 + 4 + 4).
            DeconvolverKind::Clark => 12,
            // masks (1) and smoothed residuals (4) per scale, the update and its convolution,
            // and the half-plane spectrum each convolution allocates (4 + 4 + 4).
            DeconvolverKind::Multiscale { nscales } => 5 * nscales as u64 + 12,
            // smoothed residuals and coefficients per term and scale, the criterion (f32) and
            // mask (1) per scale, the initial models, a convolution's plane and spectrum.
            DeconvolverKind::Mtmfs { nterms, nscales } => {
                let (t, s) = (nterms as u64, nscales as u64);
                4 * (2 * t * s + s + t) + s + 8
            }
        };
        let auto = if self.image.automask { 6 * 4 } else { 0 };
        stats.max(dec).max(auto)
    }

    /// Bytes of each phase of a block of `nchan` image channels run with `threads` threads.
    pub fn phases(&self, nchan: usize, threads: usize) -> Phases {
        let npix = self.npix();
        let threads = threads.max(1) as u64;
        // A paged block ([`BlockShape::paged_data_chans`]): one channel per thread in memory, the
        // visibilities prepared `data` channels at a time; the other planes in the scratch file
        // (page cache, not resident).
        let resident = match self.paged_resident {
            0 => threads as usize,
            r => r,
        };
        let paged = self.paged_data_chans > 0 && self.image.deconvolve && nchan > resident;
        let (resident, data) = if paged {
            let r = resident;
            (r, (self.paged_data_chans.div_ceil(r) * r).min(nchan))
        } else {
            (nchan, nchan)
        };
        let planes = (resident * self.image.nstokes) as u64;
        // (A paged block makes the densities of one resident group at a time; the block loop
        // of `exec::block::run_block`, one channel's at a time, just before its planes.)
        let lazy = !paged && self.image.deconvolver.nterms() == 1 && self.image.mvc_chans == 0;
        let ndens = if !self.image.density {
            0
        } else if self.image.density_per_channel {
            if lazy {
                1
            } else {
                resident as u64
            }
        } else {
            1
        };
        // A mosaic's densities are per field (mosweight, tclean's default for mosaics).
        let ndens = ndens * self.pointings.max(1) as u64;
        let grid = self.grid_bytes();
        // A mosaic: one grid per pointing (and beam frequency) in a residual pass and a model;
        // each plane keeps its weight image (f32); a residual pass also holds the sum, one
        // pointing's dirty image and its beam (f32), and the weight image (f64 while summed).
        let mosaic = self.pointings > 1;
        let grids = grid * self.grid_sets();
        // A gridding pass's grids: fewer than a model's for a buffered w-gridder, one of the
        // image's size for the mosaic gridder. Measured (bench/mosaic_bench.py, alma_mosaic, 7
        // pointings, 512^2): the run estimated 149.5 MiB for 133.5 MiB peak RSS counting a model's
        // 7 grids of 1200^2 in its PSF pass (docs/decisions.md (s17-est)).
        let pass_grids = if self.mosaic_pass_grid {
            16 * npix
        } else {
            self.w_buffered_pass()
                .map_or(grid, |(buffer, image)| buffer + image)
                * self.grid_sets()
        };
        // mtmfs grids every Taylor term in one pass: 2 nterms - 1 grids for the PSFs, nterms for
        // the residuals and the model's prediction; its images are as many.
        let nt = self.image.deconvolver.nterms() as u64;
        let psf_terms = 2 * nt - 1;
        // mvc grids a cube (a grid and an image per channel) and keeps each channel's primary
        // beam ratio (f32) and pb.tt0 for the run; its Taylor sums are made in f64 (one plane).
        let mvc = self.image.mvc_chans as u64;
        let (psf_grids, res_grids) = if mvc > 0 { (mvc, mvc) } else { (psf_terms, nt) };
        // mtmfs (not mvc) holds the plane's visibilities when they take less than the grids they
        // spare (`crate::imaging::taylor::hold_plane_vis`): a pass then grids one term at a time
        // (one grid, 1 instead of `psf_grids`); the visibilities (8 B each, per row uvw, Doppler
        // factor and field) stay for the run, and a major cycle adds their residual copy (8 B)
        // and reads no chunk. Otherwise all the terms' grids are alive in a pass.
        let held = nt > 1 && mvc == 0 && self.holds_plane_vis();
        let held_vis = if held {
            8 * self.data.nvis_per_chan as u64
                + crate::imaging::taylor::HELD_BYTES_PER_ROW * self.plane_rows()
        } else {
            0
        };
        let psf_grids = if held { 1 } else { psf_grids };
        // An mvc mosaic also keeps each channel's weight image (f32) for the run, in place of the
        // PSF terms' (`cycles::mvc`).
        let mvc_kept = if mvc > 0 {
            4 * (mvc + 1) * npix + u64::from(mosaic) * 4 * mvc * npix
        } else {
            0
        };
        // (Its `.residual` cube is written after each pass's Taylor sums, a channel at a time: the
        // channel's beam and flat-noise plane, 8 B/px, in place of the freed f64 sum.)
        let mvc_pass = if mvc > 0 { (4 * mvc + 8) * npix } else { 0 };
        // Writing: the beam ratios are still kept, and the `.model` cube is made and written a
        // channel plane at a time.
        let mvc_write = if mvc > 0 { mvc_kept + 4 * npix } else { 0 };
        let beams = u64::from(mosaic) * 20 * npix;
        // A mosaic's weight image per PSF term (f32; mtmfs: `.weight.ttN`, 2 nterms - 1 of them,
        // kept for the run: `imaging::taylor`), and in an mtmfs major cycle the models' sky
        // brightness (f32 per term, `imaging::mosaic::model_to_sky`).
        let weight_image = u64::from(mosaic && mvc == 0) * 4 * npix * psf_terms;
        let sky_models = u64::from(mosaic && nt > 1) * 4 * nt * npix;
        let scratch = threads * self.thread_scratch();
        let chunk1 = self.chunk_bytes(1);
        let weights = 4 * self.data.nvis_per_chan as u64;
        // 0. The block's chunks prepared once (a cube's), held to the block's end.
        let prepared = self.prepared_bytes(data);
        // A block with its chunks prepared reads none in its passes: the chunk in flight is
        // preparing's (below), not the passes'.
        let chunk1 = if prepared > 0 {
            0
        } else if self.data.streamed {
            self.streamed_chunk_bytes(32)
        } else {
            chunk1
        };
        // The first pass's chunk: an mfs plane's joint pass holds less of it.
        let first_chunk = if self.image.joint_pass && prepared == 0 {
            self.joint_chunk_bytes()
        } else {
            chunk1
        };
        // 1. Densities (f64) of every channel, and the first weighter (f32) made from them; before
        //    them, a cube block prepares its chunks (one chunk in flight).
        let densities = ndens * npix * 8 + u64::from(ndens > 0) * npix * 4;
        // Without densities (natural weighting) nothing is read before the first pass. An mfs
        // plane's density pass reads its chunks through `read_ahead` (half chunks, one Stokes
        // copy, 4 B of density weight per visibility): [`BlockShape::streamed_chunk_bytes`]. Measured (synth.ms,
        // 6.9 M visibilities, natural, 512^2): the pass-time chunk counted here made the
        // weighting phase the block's peak, 170.8 MiB estimated for 129.4 MiB peak RSS.
        let weighting = if prepared > 0 {
            (prepared + densities).max(prepared + self.preparing_chunk_bytes(data))
        } else if ndens == 0 {
            0
        } else if self.data.streamed {
            densities + self.streamed_chunk_bytes(4)
        } else {
            densities + self.chunk_bytes(nchan)
        };
        let weighters = ndens * npix * 4;
        // 2. The last plane's residual pass: the planes before it (residual + PSF + weights when
        //    deconvolving), its PSF and weights, the grid, the residual made from it.
        let kept = if paged {
            // Each plane is paged out once made: the resident group's masks (statistics region,
            // fixed or auto-multithresh masks and beam) wait for their planes (a plane's model is
            // made after its grids are freed: measured 2048^2 x 2, 1 thread, heap 16 MiB (one
            // model plane) below the model that counted it).
            planes * self.masker_per_pixel() * npix
        } else if self.image.deconvolve {
            planes.saturating_sub(1) * (8 * npix + weight_image + weights)
        } else {
            0
        };
        // The joint PSF and dirty pass holds the dirty image's grid next to the PSF's.
        let joint_grids = if self.image.joint_pass { nt * grids } else { 0 };
        // A single-precision 2-D grid becomes its image in its own memory
        // (`Gridder::grid_into_image`): no image is made beside it. The block's loop
        // (`exec::block::run_block`, not mtmfs' or mvc's) then holds, besides the plane's
        // weights, chunk and scratch, the largest of: the first plane's PSF pass (every
        // weighter and the grid), the last plane's PSF pass (the earlier planes kept, its own
        // weighter: the others were freed after their planes) and its residual pass (the earlier
        // planes and, when deconvolving, its PSF; a dirty plane's PSF is written and freed
        // first, and so is its weighter).
        let in_grid = self.grid_elem_bytes == 8 && self.grid_planes <= 1 && !mosaic;
        // A buffered w pass's chunks are freed before its grid and image exist.
        let pass_and_chunk = match self.w_buffered_pass() {
            Some((buffer, image)) => {
                let sets = psf_grids * self.grid_sets();
                sets * buffer + (sets * image).max(first_chunk)
            }
            None => psf_grids * pass_grids + first_chunk,
        };
        let first_pass = if in_grid && nt == 1 && mvc == 0 {
            let first_grids = psf_grids * grids + joint_grids;
            let last_weighter = weighters.min(4 * npix * self.pointings.max(1) as u64);
            let psf_kept = if self.image.deconvolve { 4 * npix } else { 0 };
            prepared
                + (weighters + first_grids)
                    .max(kept + last_weighter + first_grids)
                    .max(kept + psf_kept + grids)
                + weights
                + first_chunk
                + scratch
        } else {
            prepared
                + weighters
                + held_vis
                + kept
                + pass_and_chunk
                + joint_grids
                + beams
                + 4 * (psf_terms + nt) * npix
                + mvc_kept
                + mvc_pass
                + weights
                + scratch
        };
        if !self.image.deconvolve {
            // Writing a dirty plane: residual, model (zeros), pb, weight.
            let writing = prepared + 4 * 4 * npix + mvc_write;
            return Phases {
                weighting,
                first_pass,
                minor_cycle: 0,
                major_cycle: 0,
                writing,
            };
        }
        let state = prepared
            + planes * (self.state_per_pixel() * npix + weight_image + weights + held_vis)
            + mvc_kept;
        // 3. Minor cycles: planes in parallel, one per thread.
        let minor_cycle = state + threads.min(planes) * self.minor_per_pixel() * npix;
        // Major cycle of one plane: its old residual is freed before the grid is made; its
        // residual visibilities (8 B each) are kept between the prediction and gridding passes.
        let major_cycle = if held {
            // one grid (a model term's, then each residual term's), the residual copy, and a
            // held chunk's prediction and folded term (8 B each).
            let nvis = self.data.nvis_per_chan as u64;
            let chunk_vis = (self.data.chunk_rows * self.data.data_chans) as u64;
            state + grids + 8 * nvis + 16 * chunk_vis.min(nvis) + scratch + sky_models
        } else {
            // Its new residual is made in the grid's memory when the grid allows (`in_grid`):
            // the residual's slot of `state` is then free while the grid is alive.
            let made_in_grid = if in_grid && nt == 1 && mvc == 0 {
                4 * npix
            } else {
                0
            };
            state - made_in_grid
                + sky_models
                + res_grids * grids
                + beams
                + 8 * self.data.nvis_per_chan as u64
                + chunk1
                + scratch
                + mvc_pass
        };
        // 4. Writing: every plane's residual, model and mask (PSFs, weights and deconvolvers freed),
        //    the restoration of one (two half-plane spectra of the padded plane and the image:
        //    12 B/px, padding by the beam taken as 1/16 of the image), then its pb and weight.
        let masks = u64::from(self.image.fixed_mask || self.image.automask);
        // (mtmfs: every term's residual, model, principal solution and restored image.)
        let final_planes = planes * (8 * nt + 8 * (nt - 1) + masks) * npix;
        let writing = if paged {
            // One plane paged in and written at a time (no visibilities prepared).
            (8 + masks) * npix + (12 * npix * 17 / 16).max(8 * npix)
        } else {
            prepared + final_planes + (12 * npix * 17 / 16).max(8 * npix) + mvc_write
        };
        Phases {
            weighting,
            first_pass,
            minor_cycle,
            major_cycle,
            writing,
        }
    }

    /// Rows of one plane's visibilities: an mfs row carries the channels of its window.
    fn plane_rows(&self) -> u64 {
        let per_row = self.data.data_chans.max(self.data.spw_chans).max(1);
        self.data.nvis_per_chan.div_ceil(per_row) as u64
    }

    /// Whether an mtmfs plane's Taylor passes hold its visibilities
    /// (`crate::imaging::taylor::hold_plane_vis`, here with the plane's rows from
    /// [`BlockShape::plane_rows`]).
    pub fn holds_plane_vis(&self) -> bool {
        let grid = self.grid_bytes() * self.grid_sets();
        crate::imaging::taylor::hold_plane_vis(
            self.data.nvis_per_chan as u64,
            self.plane_rows(),
            self.image.deconvolver.nterms(),
            grid,
        )
    }

    /// Peak bytes of `blocks` blocks of `nchan` image channels in flight, each run with `threads`
    /// threads: their peaks ([`BlockShape::block_bytes`]), and with several blocks what their
    /// interleaving leaves resident beside the heap, one pass's grids per block. A block frees
    /// its density once its weighter is made and its PSF pass's grid once the PSF is written,
    /// and gives the free pages back after each dirty plane (`alloc_count::release_free_heap`);
    /// alone, its residual pass's grid takes the PSF grid's place (first fit; one block's RSS
    /// stays within a few MiB of its heap, docs/memory.md's table), but another block allocating
    /// in the same heap meanwhile takes part of it, so both grids stay resident until the trim.
    /// Measured (1024^2 x 64 dirty cube, two blocks of one thread, grid 1440^2 x 8 B = 15.8 MiB):
    /// peak RSS beyond heap and the read's held bytes grew 23-32 MiB over the idle process's in
    /// the LSRK cube (8-channel blocks) and 31 MiB in `cubedata` (one-channel blocks); trimming
    /// also after each density measured no steady gain (peaks 135-147 against 141-144 MiB), so
    /// it is not done (docs/decisions.md (s17-est)).
    pub fn blocks_bytes(&self, nchan: usize, blocks: usize, threads: usize) -> u64 {
        let b = blocks.max(1) as u64;
        let interleaved = if b > 1 { b * self.pass_grid_bytes() } else { 0 };
        b * self.block_bytes(nchan, threads) + interleaved
    }

    /// Peak bytes of a block of `nchan` image channels run with `threads` threads (the largest
    /// of its [`Phases`]).
    pub fn block_bytes(&self, nchan: usize, threads: usize) -> u64 {
        self.phases(nchan, threads).peak()
    }
}

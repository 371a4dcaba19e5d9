//! The seam between the imaging stage and the gridders: [`VisGridder`].
//!
//! The imaging stage asks a gridder for three things, each over a stream of visibility chunks
//! ([`VisBatch`]):
//! 1. the PSF pass: grid the imaging weights of each chunk ([`VisGridder::grid`]) into one set of
//!    uv planes made for [`Pass::Psf`] ([`GridPlanes`], from [`VisGridder::new_planes`]), then
//!    turn the planes into images ([`VisGridder::images`]);
//! 2. the residual pass: the same with the weighted visibilities, into planes made for
//!    [`Pass::Residual`];
//! 3. prediction: transform the model images once ([`VisGridder::model_planes`]), then predict
//!    the visibilities of each chunk from them ([`VisGridder::predict`]).
//!
//! A pass works on a *plane set* of [`VisGridder::nplanes`] image planes of shape `(ny, nx)`:
//! one for the 2-D ES gridder ([`StandardGridder`] over [`Gridder`], the first implementation). The seam is shaped for
//! the gridders to come, which then need no change in the imaging stage:
//! - **w-gridding** (w-stacking, w-projection): same inputs (the w column of `uvw_m` is already
//!   there), one image plane; the planes hold what the method needs (e.g. one grid per w plane),
//!   which is why [`GridPlanes`] is opaque;
//! - **per-field primary-beam (mosaic) gridding**: [`VisBatch::field_r`] carries each row's
//!   FIELD_ID; the gridder holds the fields' pointing centres and beams;
//! - **multi-term (Taylor, mtmfs) gridding** is done by the engine over any one-plane gridder
//!   (`pclean_engine::imaging::taylor`): each chunk is gridded once per term into that term's
//!   plane set with the factor `((nu - nu_0) / nu_0)^t` folded into its visibilities (the PSF's
//!   are the factor alone), so the imaging weights stay positive.
//!
//! Conventions are those of `docs/conventions.md` (and [`crate::gridder`]): `uvw_m` in metres
//! (rotated to the image phase centre by the caller), frequencies in Hz, visibilities `Complex32`
//! in Jy, imaging weights `f32` (`<= 0` or NaN: flagged or deselected, skipped and not counted),
//! images `image_yx[[y, x]]` with the reference pixel at `(nx/2, ny/2)` and RA increasing to the
//! left; the dirty image is `I(l, m) = sum_k w_k Re[V_k exp(s 2 pi i (u_k l + v_k m))]` and
//! prediction `V(u, v) = sum I(l, m) exp(-s 2 pi i (u l + v m))` with
//! `s = `[`crate::gridder::FOURIER_SIGN`].

use crate::gridder::{GridError, GridStats, Gridder, UvGrid};
use crate::wgrid::WBuffer;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use num_complex::Complex32;

/// What the gridding calls return.
pub type GridResult<T = GridStats> = Result<T, GridError>;

/// One chunk of visibilities with everything a pass needs besides the planes.
#[derive(Clone, Copy, Debug)]
pub struct VisBatch<'a> {
    /// `(nrow, 3)` baseline coordinates `(u, v, w)` in metres, at the image phase centre.
    pub uvw_m: ArrayView2<'a, f64>,
    /// `(nchan,)` channel frequencies in Hz (the columns of the `_rc` arrays).
    pub freq_hz: &'a [f64],
    /// `(nrow, nchan)` imaging weights (natural x density x taper). Gridding: the weights;
    /// prediction: the mask. Entries `<= 0` or NaN (flagged, deselected) are skipped and not
    /// counted.
    pub weight_rc: ArrayView2<'a, f32>,
    /// `(nrow, nchan)` visibilities in Jy (one Stokes product), for [`Pass::Residual`] gridding;
    /// not read by the PSF pass and prediction.
    pub vis_rc: Option<ArrayView2<'a, Complex32>>,
    /// `(nrow,)` FIELD_ID of each row, for gridders that treat pointings apart (mosaics);
    /// `None`: every row belongs to the one pointing at the phase centre. The 2-D gridder ignores
    /// it.
    pub field_r: Option<&'a [i32]>,
    /// `(nrow,)` ANTENNA1 and ANTENNA2 of each row, for gridders whose beam depends on the two
    /// antennas (a mosaic of different dishes); `None` where no gridder needs them.
    pub antennas_r: Option<(&'a [i32], &'a [i32])>,
    /// `(nrow,)` TIME of each row (MJD seconds, UTC), for gridders whose beam depends on the
    /// integration (A-projection's parallactic-angle bins); `None` where no gridder needs it.
    pub time_r: Option<&'a [f64]>,
    /// `(nrow, nchan)` factors of the imaging weights as a gridder with a weight image sums them
    /// into it ([`VisGridder::weight_image`]; the mosaic's): Taylor term t's
    /// `((nu - nu0) / nu0)^t`, tclean's `.weight.ttN` (its weight kernel gridded with the
    /// Taylor-weighted weights). `None`: 1. The gridded planes and the pass's sum of weights do
    /// not see it.
    pub weight_factor_rc: Option<ArrayView2<'a, f32>>,
}

impl<'a> VisBatch<'a> {
    /// The rows of one pointing with their imaging weights (no visibilities: enough for the PSF
    /// and for prediction).
    pub fn new(
        uvw_m: ArrayView2<'a, f64>,
        freq_hz: &'a [f64],
        weight_rc: ArrayView2<'a, f32>,
    ) -> Self {
        VisBatch {
            uvw_m,
            freq_hz,
            weight_rc,
            vis_rc: None,
            field_r: None,
            antennas_r: None,
            time_r: None,
            weight_factor_rc: None,
        }
    }

    /// The same rows with the factors of their weights in a weight image (`(nrow, nchan)`, see
    /// [`VisBatch::weight_factor_rc`]).
    pub fn with_weight_factors(self, factor_rc: ArrayView2<'a, f32>) -> Self {
        VisBatch {
            weight_factor_rc: Some(factor_rc),
            ..self
        }
    }

    /// The same rows with their visibilities (`(nrow, nchan)`).
    pub fn with_vis(self, vis_rc: ArrayView2<'a, Complex32>) -> Self {
        VisBatch {
            vis_rc: Some(vis_rc),
            ..self
        }
    }

    /// The same rows with their FIELD_IDs (`(nrow,)`).
    pub fn with_fields(self, field_r: &'a [i32]) -> Self {
        VisBatch {
            field_r: Some(field_r),
            ..self
        }
    }

    /// The same rows with their TIMEs (`(nrow,)`, MJD seconds).
    pub fn with_times(self, time_r: &'a [f64]) -> Self {
        VisBatch {
            time_r: Some(time_r),
            ..self
        }
    }

    /// The same rows with their ANTENNA1 and ANTENNA2 (`(nrow,)` each).
    pub fn with_antennas(self, ant1_r: &'a [i32], ant2_r: &'a [i32]) -> Self {
        VisBatch {
            antennas_r: Some((ant1_r, ant2_r)),
            ..self
        }
    }
}

/// Which pass a plane set is for (multi-term gridders make more PSF planes than residual ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// The point-spread function: [`VisGridder::grid_psf`].
    Psf,
    /// The residual (or dirty) image, and the model: [`VisGridder::grid_vis`],
    /// [`VisGridder::model_planes`].
    Residual,
}

/// The uv planes of one pass, owned by the caller and opaque: what a gridder accumulates
/// visibilities into (or, from [`VisGridder::model_planes`], predicts them from). Partial plane
/// sets from row partitions reduce with [`GridPlanes::add_assign`].
#[derive(Clone, Debug, PartialEq)]
pub struct GridPlanes {
    pass: Pass,
    grids: Vec<UvGrid>,
    /// Per plane, the sums a gridder keeps beside its grid: for tclean's gridder
    /// ([`crate::casa`]) the sum of the weights (the second unused); the mosaic gridder's per
    /// pointing and beam frequency: the sum of the weights gridded and the sum of the weights
    /// times [`VisBatch::weight_factor_rc`] (its weight image's); unused (zero) for the ES
    /// gridder.
    sums: Vec<[f64; 2]>,
    /// The w-gridder's visibilities not yet gridded into planes ([`crate::wgrid`]: its plane set
    /// holds either these and no grids, or one grid per w plane); `None` for the other gridders.
    wbuf: Option<WBuffer>,
}

impl GridPlanes {
    /// Plane set for `pass` of the given grids (one per image plane for the 2-D gridder).
    pub fn from_grids(pass: Pass, grids: Vec<UvGrid>) -> Self {
        let sums = vec![[0.0; 2]; grids.len()];
        GridPlanes {
            pass,
            grids,
            sums,
            wbuf: None,
        }
    }

    /// Plane set for `pass` of the given grids with `sums` kept beside them (for gridders that
    /// keep sums per pointing rather than per grid, e.g. [`crate::mosaic`]).
    pub(crate) fn with_sums(pass: Pass, grids: Vec<UvGrid>, sums: Vec<[f64; 2]>) -> Self {
        GridPlanes {
            pass,
            grids,
            sums,
            wbuf: None,
        }
    }

    /// An empty plane set for `pass` that keeps the w-gridder's visibilities (no grids yet).
    pub(crate) fn buffered(pass: Pass) -> Self {
        GridPlanes {
            pass,
            grids: Vec::new(),
            sums: Vec::new(),
            wbuf: Some(WBuffer::default()),
        }
    }

    /// The grids and the w-gridder's buffer, writable.
    pub(crate) fn w_parts_mut(&mut self) -> (&mut Vec<UvGrid>, Option<&mut WBuffer>) {
        (&mut self.grids, self.wbuf.as_mut())
    }

    /// The grids and the w-gridder's buffer.
    pub(crate) fn into_w_parts(self) -> (Vec<UvGrid>, Option<WBuffer>) {
        (self.grids, self.wbuf)
    }

    /// The pass the planes are for.
    pub fn pass(&self) -> Pass {
        self.pass
    }

    /// The grids, in plane order.
    pub fn grids(&self) -> &[UvGrid] {
        &self.grids
    }

    /// The w-gridder's buffered visibilities, if the set keeps them.
    pub(crate) fn wbuf(&self) -> Option<&WBuffer> {
        self.wbuf.as_ref()
    }

    /// The grids and their sums, writable (for the gridders of this crate).
    pub(crate) fn parts_mut(&mut self) -> (&mut [UvGrid], &mut [[f64; 2]]) {
        (&mut self.grids, &mut self.sums)
    }

    /// The sums kept beside each grid (see the field).
    pub(crate) fn sums(&self) -> &[[f64; 2]] {
        &self.sums
    }

    /// Take the grids out.
    pub fn into_grids(self) -> Vec<UvGrid> {
        self.grids
    }

    /// Bytes held by all the planes.
    pub fn memory_bytes(&self) -> usize {
        let buffered = self.wbuf.as_ref().map_or(0, WBuffer::bytes);
        self.grids.iter().map(UvGrid::memory_bytes).sum::<usize>() + buffered
    }

    /// `self += other` plane by plane (reduction of partial plane sets).
    pub fn add_assign(&mut self, other: &GridPlanes) -> Result<(), GridError> {
        match (&mut self.wbuf, &other.wbuf) {
            (Some(a), Some(b)) if self.grids.is_empty() && other.grids.is_empty() => {
                a.extend_from(b);
                return Ok(());
            }
            (Some(_), Some(_)) if self.grids.is_empty() != other.grids.is_empty() => {
                return Err(GridError::BufferedPlanes)
            }
            _ => {}
        }
        check_count(self.grids.len(), other.grids.len())?;
        for (a, b) in self.grids.iter_mut().zip(&other.grids) {
            a.add_assign(b)?;
        }
        for (a, b) in self.sums.iter_mut().zip(&other.sums) {
            a[0] += b[0];
            a[1] += b[1];
        }
        Ok(())
    }

    /// The only grid of a one-plane set.
    fn single(&self) -> Result<&UvGrid, GridError> {
        check_count(1, self.grids.len())?;
        Ok(&self.grids[0])
    }

    fn single_mut(&mut self) -> Result<&mut UvGrid, GridError> {
        check_count(1, self.grids.len())?;
        Ok(&mut self.grids[0])
    }
}

fn check_count(expected: usize, got: usize) -> Result<(), GridError> {
    if expected == got {
        Ok(())
    } else {
        Err(GridError::PlaneCount { expected, got })
    }
}

/// A pass's images before the gridder's step that is not linear in the rows, with the per-grid
/// sums that step is made from ([`VisGridder::linear_images`]).
pub type LinearImages = (Vec<Array2<f32>>, Vec<[f64; 2]>);

/// A gridder as the imaging stage sees it (see the module docs for the passes and the
/// conventions). Implementations are `Send + Sync`, cheap to share across channel blocks, choose
/// their threads when built (inside a rayon pool they run on that pool), and are deterministic:
/// the same inputs give bit-identical planes whatever the thread count.
pub trait VisGridder: Send + Sync {
    /// tclean's name of the gridder (`standard` for the 2-D ES gridder).
    fn name(&self) -> &'static str;

    /// Image shape `(ny, nx)` of every plane.
    fn image_shape(&self) -> (usize, usize);

    /// Number of image planes of `pass` (1 for a single-term gridder).
    fn nplanes(&self, pass: Pass) -> usize;

    /// Bytes of the plane set of `pass` (for memory planning).
    fn planes_bytes(&self, pass: Pass) -> usize;

    /// A zeroed plane set for `pass`.
    fn new_planes(&self, pass: Pass) -> GridPlanes;

    /// Accumulate `batch` into `planes`: for a [`Pass::Psf`] set the imaging weights (as
    /// visibilities of 1 Jy), for a [`Pass::Residual`] set `weight_rc * vis_rc` (then
    /// `batch.vis_rc` is required). Returns the counts, with the sum of the weights gridded.
    fn grid(&self, planes: &mut GridPlanes, batch: &VisBatch) -> GridResult;

    /// [`VisGridder::grid`] of `batch` (with its visibilities) into the [`Pass::Psf`] set
    /// `psf` and the [`Pass::Residual`] set `residual`, each as its own call makes it; returns
    /// the two calls' results (PSF first). Default: the two calls; a gridder may share the work
    /// the two have in common (the ES gridder locates each visibility once for both).
    fn grid_pair(
        &self,
        psf: &mut GridPlanes,
        residual: &mut GridPlanes,
        batch: &VisBatch,
    ) -> GridResult<(GridStats, GridStats)> {
        let psf_batch = VisBatch {
            vis_rc: None,
            ..*batch
        };
        Ok((self.grid(psf, &psf_batch)?, self.grid(residual, batch)?))
    }

    /// Transform the planes in place into images `image_yx` (`(ny, nx)`, one per plane), each
    /// multiplied by `scale` (pass `1 / sum of weights` for Jy/beam; the planes are NOT
    /// normalised otherwise).
    fn images(&self, planes: GridPlanes, scale: f64) -> GridResult<Vec<Array2<f32>>>;

    /// [`VisGridder::images`] without its step that is not linear in the gridded rows, with the
    /// per-grid sums that step is made from: row partitions combine several plane sets' images
    /// and add their sums, then [`VisGridder::finish_images`] applies the step once
    /// (`images(p, s)` is `linear_images(p, s)` then `finish_images`, bit for bit). Default (images
    /// linear in the rows): the images and no sums.
    fn linear_images(&self, planes: GridPlanes, scale: f64) -> GridResult<LinearImages> {
        Ok((self.images(planes, scale)?, Vec::new()))
    }

    /// The step [`VisGridder::linear_images`] leaves out, applied to `images` of `pass` from the
    /// `sums` it returned (summed over row partitions). Default: nothing.
    fn finish_images(
        &self,
        pass: Pass,
        images: &mut [Array2<f32>],
        sums: &[[f64; 2]],
    ) -> GridResult<()> {
        let _ = (pass, images, sums);
        Ok(())
    }

    /// The primary-beam weight of a pass's planes (before [`VisGridder::images`] consumes them):
    /// for a gridder with primary beams (mosaic) `sum_p W_p PB_p^2` times `scale`, `W_p` the sum
    /// of the weights gridded for pointing `p` (tclean's `.weight`); `None` for gridders without
    /// beams (the default), whose images are normalised by the sum of weights alone.
    fn weight_image(&self, planes: &GridPlanes, scale: f64) -> GridResult<Option<Array2<f32>>> {
        let _ = (planes, scale);
        Ok(None)
    }

    /// Set to 0 the imaging weights `weight_rc` (`(nrow, nchan)`, at `uvw_m` metres and
    /// `freq_hz` as in a [`VisBatch`]) of the samples this gridder does not grid, so that
    /// every sum over the weights (the Taylor terms' `.sumwt.ttN`, a cube's) counts what is
    /// gridded. Default: it grids every sample.
    fn drop_unreached(
        &self,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        weight_rc: ArrayViewMut2<f32>,
    ) {
        let _ = (uvw_m, freq_hz, weight_rc);
    }

    /// The same gridder for an image plane at `freq_hz`, for gridders whose image-domain terms
    /// depend on the plane's frequency (the mosaic's primary beams); `None` (the default): this
    /// gridder serves every plane.
    fn at_frequency(&self, freq_hz: f64) -> Option<Box<dyn VisGridder>> {
        let _ = freq_hz;
        None
    }

    /// The model images (`(ny, nx)` each, Jy/pixel, [`VisGridder::nplanes`]`(Pass::Residual)` of
    /// them) made ready for [`VisGridder::predict`].
    fn model_planes(&self, model_yx: &[ArrayView2<f32>]) -> GridResult<GridPlanes>;

    /// Predict the model's visibilities of `batch` into `out` (`(nrow, nchan)`, fully
    /// overwritten; 0 where not predicted); `batch.weight_rc` is the mask (`<= 0` or NaN: not
    /// predicted). Returns the counts (no sum of weights).
    fn predict(
        &self,
        model: &GridPlanes,
        batch: &VisBatch,
        out: ArrayViewMut2<Complex32>,
    ) -> GridResult;
}

/// tclean's `standard` gridder through the seam: the 2-D ES [`Gridder`] (w ignored, one plane
/// per pass, field ids ignored) with the thread count of its calls.
#[derive(Clone, Debug)]
pub struct StandardGridder {
    gridder: Gridder,
    nthreads: usize,
    /// tclean's gridder whose reach the samples must have to be gridded
    /// ([`StandardGridder::with_tclean_reach`]).
    reach: Option<crate::CasaGridder>,
}

impl StandardGridder {
    /// `gridder` run with `nthreads` threads per call (0 = all cores).
    pub fn new(gridder: Gridder, nthreads: usize) -> Self {
        StandardGridder {
            gridder,
            nthreads,
            reach: None,
        }
    }

    /// Take tclean's `standard` gridder `reach` as the samples this gridder grids: its
    /// [`VisGridder::drop_unreached`] zeroes the weights of the samples whose footprint leaves
    /// tclean's padded grid ([`crate::CasaGridder::zero_unreached`]), so that, as in tclean,
    /// they count neither in the planes nor in any sum of weights. The caller applies it to the
    /// imaging weights before gridding (pclean-engine's `imaging_weights`); [`VisGridder::grid`]
    /// grids whatever positive weights it is given.
    pub fn with_tclean_reach(mut self, reach: crate::CasaGridder) -> Self {
        self.reach = Some(reach);
        self
    }

    /// The ES gridder (kernel, grid shape, precision).
    pub fn gridder(&self) -> &Gridder {
        &self.gridder
    }
}

impl VisGridder for StandardGridder {
    fn name(&self) -> &'static str {
        "standard"
    }

    fn image_shape(&self) -> (usize, usize) {
        let spec = self.gridder.spec();
        (spec.ny, spec.nx)
    }

    fn nplanes(&self, _: Pass) -> usize {
        1
    }

    fn planes_bytes(&self, _: Pass) -> usize {
        let (nv, nu) = self.gridder.grid_shape();
        nv * nu * self.gridder.precision().bytes_per_cell()
    }

    fn new_planes(&self, pass: Pass) -> GridPlanes {
        GridPlanes::from_grids(pass, vec![self.gridder.new_grid()])
    }

    fn grid(&self, planes: &mut GridPlanes, batch: &VisBatch) -> GridResult {
        let g = &self.gridder;
        let (uvw_m, freq_hz, weight_rc) = (batch.uvw_m, batch.freq_hz, batch.weight_rc);
        let pass = planes.pass;
        let grid = planes.single_mut()?;
        match (pass, batch.vis_rc) {
            (Pass::Psf, _) => g.grid_psf(grid, uvw_m, freq_hz, weight_rc, self.nthreads),
            (Pass::Residual, Some(vis_rc)) => {
                g.grid_vis(grid, uvw_m, freq_hz, vis_rc, weight_rc, self.nthreads)
            }
            (Pass::Residual, None) => Err(GridError::Shape {
                what: "vis_rc (required by the residual pass)",
                expected: vec![uvw_m.nrows(), freq_hz.len()],
                got: vec![],
            }),
        }
    }

    fn grid_pair(
        &self,
        psf: &mut GridPlanes,
        residual: &mut GridPlanes,
        batch: &VisBatch,
    ) -> GridResult<(GridStats, GridStats)> {
        let Some(vis_rc) = batch.vis_rc else {
            return self.grid(residual, batch).map(|s| (s, s));
        };
        if psf.pass != Pass::Psf || residual.pass != Pass::Residual {
            return Err(GridError::Shape {
                what: "plane sets of grid_pair (a PSF and a residual set)",
                expected: vec![],
                got: vec![],
            });
        }
        let (psf_grid, grid) = (psf.single_mut()?, residual.single_mut()?);
        let stats = self.gridder.grid_vis_and_psf(
            grid,
            psf_grid,
            batch.uvw_m,
            batch.freq_hz,
            vis_rc,
            batch.weight_rc,
            self.nthreads,
        )?;
        Ok((stats, stats))
    }

    fn images(&self, planes: GridPlanes, scale: f64) -> GridResult<Vec<Array2<f32>>> {
        check_count(1, planes.grids.len())?;
        let g = &self.gridder;
        let grids = planes.into_grids().into_iter();
        grids
            .map(|p| g.grid_into_image(p, scale, self.nthreads))
            .collect()
    }

    fn drop_unreached(
        &self,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        weight_rc: ArrayViewMut2<f32>,
    ) {
        if let Some(reach) = &self.reach {
            reach.zero_unreached(uvw_m, freq_hz, weight_rc);
        }
    }

    fn model_planes(&self, model_yx: &[ArrayView2<f32>]) -> GridResult<GridPlanes> {
        check_count(1, model_yx.len())?;
        let grid = self.gridder.model_grid(model_yx[0], self.nthreads)?;
        Ok(GridPlanes::from_grids(Pass::Residual, vec![grid]))
    }

    fn predict(
        &self,
        model: &GridPlanes,
        batch: &VisBatch,
        out: ArrayViewMut2<Complex32>,
    ) -> GridResult {
        let (uvw_m, freq_hz, mask) = (batch.uvw_m, batch.freq_hz, Some(batch.weight_rc));
        let grid = model.single()?;
        self.gridder
            .degrid(grid, uvw_m, freq_hz, mask, out, self.nthreads)
    }
}

#[cfg(test)]
mod tests;

//! The seam between the imaging stage and the gridders: [`VisGridder`].
//!
//! The imaging stage asks a gridder for three things, each over a stream of visibility chunks:
//! 1. the PSF pass: grid the imaging weights of each chunk ([`VisGridder::grid_psf`]) into one
//!    set of uv planes ([`GridPlanes`], made by [`VisGridder::new_planes`]), then turn the planes
//!    into images ([`VisGridder::planes_into_images`]);
//! 2. the residual pass: the same with weighted visibilities ([`VisGridder::grid_vis`]);
//! 3. prediction: transform the model images once ([`VisGridder::model_planes`]), then predict
//!    the visibilities of each chunk from them ([`VisGridder::predict`]).
//!
//! A pass works on a *plane set* of [`VisGridder::nplanes`] image planes of shape `(ny, nx)`:
//! one for the 2-D ES gridder ([`Gridder`], the first implementation). The seam is shaped for
//! the gridders to come, which then need no change in the imaging stage:
//! - **w-gridding** (w-stacking, w-projection): same inputs (the w column of `uvw_m` is already
//!   there), one image plane; the planes hold what the method needs (e.g. one grid per w plane),
//!   which is why [`GridPlanes`] is opaque;
//! - **per-field primary-beam (mosaic) gridding**: [`VisBatch::field_r`] carries each row's
//!   FIELD_ID; the gridder holds the fields' pointing centres and beams;
//! - **multi-term (Taylor, mtmfs) gridding**: [`VisGridder::nplanes`] is `2 nterms - 1` for the
//!   PSF pass and `nterms` for the residual pass and the model; the per-visibility term weights
//!   `((nu - nu_0) / nu_0)^t` come from [`VisBatch::freq_hz`] inside the gridder.
//!
//! Conventions are those of `docs/conventions.md` (and [`crate::gridder`]): `uvw_m` in metres
//! (rotated to the image phase centre by the caller), frequencies in Hz, visibilities `Complex32`
//! in Jy, imaging weights `f32` (`<= 0` or NaN: flagged or deselected, skipped and not counted),
//! images `image_yx[[y, x]]` with the reference pixel at `(nx/2, ny/2)` and RA increasing to the
//! left; the dirty image is `I(l, m) = sum_k w_k Re[V_k exp(s 2 pi i (u_k l + v_k m))]` and
//! prediction `V(u, v) = sum I(l, m) exp(-s 2 pi i (u l + v m))` with
//! `s = `[`crate::gridder::FOURIER_SIGN`].

use crate::gridder::{GridError, GridStats, Gridder, UvGrid};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use num_complex::Complex32;

/// Where the rows of one visibility chunk were measured: what every pass needs besides the
/// values and weights.
#[derive(Clone, Copy, Debug)]
pub struct VisBatch<'a> {
    /// `(nrow, 3)` baseline coordinates `(u, v, w)` in metres, at the image phase centre.
    pub uvw_m: ArrayView2<'a, f64>,
    /// `(nchan,)` channel frequencies in Hz (the columns of the `_rc` arrays).
    pub freq_hz: &'a [f64],
    /// `(nrow,)` FIELD_ID of each row, for gridders that treat pointings apart (mosaics);
    /// `None`: every row belongs to the one pointing at the phase centre. The 2-D gridder ignores
    /// it.
    pub field_r: Option<&'a [i32]>,
}

impl<'a> VisBatch<'a> {
    /// A batch of one pointing (no field ids).
    pub fn new(uvw_m: ArrayView2<'a, f64>, freq_hz: &'a [f64]) -> Self {
        VisBatch {
            uvw_m,
            freq_hz,
            field_r: None,
        }
    }

    /// The same rows with their FIELD_IDs (`(nrow,)`).
    pub fn with_fields(self, field_r: &'a [i32]) -> Self {
        VisBatch {
            field_r: Some(field_r),
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
    grids: Vec<UvGrid>,
}

impl GridPlanes {
    /// Plane set of the given grids (one per image plane for the 2-D gridder).
    pub fn from_grids(grids: Vec<UvGrid>) -> Self {
        GridPlanes { grids }
    }

    /// The grids, in plane order.
    pub fn grids(&self) -> &[UvGrid] {
        &self.grids
    }

    /// Take the grids out.
    pub fn into_grids(self) -> Vec<UvGrid> {
        self.grids
    }

    /// Bytes held by all the planes.
    pub fn memory_bytes(&self) -> usize {
        self.grids.iter().map(UvGrid::memory_bytes).sum()
    }

    /// `self += other` plane by plane (reduction of partial plane sets).
    pub fn add_assign(&mut self, other: &GridPlanes) -> Result<(), GridError> {
        check_count(self.grids.len(), other.grids.len())?;
        for (a, b) in self.grids.iter_mut().zip(&other.grids) {
            a.add_assign(b)?;
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

/// A gridder as the imaging stage sees it (see the module docs for the passes and the
/// conventions). Implementations are `Send + Sync`, cheap to share across channel blocks, and
/// deterministic: the same inputs give bit-identical planes whatever `nthreads`.
///
/// `nthreads`: threads for the call (0 = all cores); inside a rayon pool the call runs on that
/// pool instead.
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

    /// PSF pass: accumulate the imaging weights `weight_rc` (`(nrow, nchan)`) of `batch` as
    /// visibilities of 1 Jy into `planes` (made for [`Pass::Psf`]).
    fn grid_psf(
        &self,
        planes: &mut GridPlanes,
        batch: &VisBatch<'_>,
        weight_rc: ArrayView2<f32>,
        nthreads: usize,
    ) -> Result<GridStats, GridError>;

    /// Residual pass: accumulate `weight_rc * vis_rc` (both `(nrow, nchan)`, Jy) of `batch` into
    /// `planes` (made for [`Pass::Residual`]).
    fn grid_vis(
        &self,
        planes: &mut GridPlanes,
        batch: &VisBatch<'_>,
        vis_rc: ArrayView2<Complex32>,
        weight_rc: ArrayView2<f32>,
        nthreads: usize,
    ) -> Result<GridStats, GridError>;

    /// Transform the planes in place into images `image_yx` (`(ny, nx)`, one per plane), each
    /// multiplied by `scale` (pass `1 / sum of weights` for Jy/beam; the planes are NOT
    /// normalised otherwise).
    fn planes_into_images(
        &self,
        planes: GridPlanes,
        scale: f64,
        nthreads: usize,
    ) -> Result<Vec<Array2<f32>>, GridError>;

    /// The model images (`(ny, nx)` each, Jy/pixel, [`VisGridder::nplanes`]`(Pass::Residual)` of
    /// them) made ready for [`VisGridder::predict`].
    fn model_planes(
        &self,
        model_yx: &[ArrayView2<f32>],
        nthreads: usize,
    ) -> Result<GridPlanes, GridError>;

    /// Predict the model's visibilities of `batch` into `vis_rc` (`(nrow, nchan)`, fully
    /// overwritten; 0 where not predicted). `mask_rc`: where given and `<= 0` (or NaN), the
    /// visibility is not predicted.
    fn predict(
        &self,
        model: &GridPlanes,
        batch: &VisBatch<'_>,
        mask_rc: Option<ArrayView2<f32>>,
        vis_rc: ArrayViewMut2<Complex32>,
        nthreads: usize,
    ) -> Result<GridStats, GridError>;
}

/// The 2-D ES gridder (tclean's `standard`): one plane per pass, field ids ignored.
impl VisGridder for Gridder {
    fn name(&self) -> &'static str {
        "standard"
    }

    fn image_shape(&self) -> (usize, usize) {
        (self.spec().ny, self.spec().nx)
    }

    fn nplanes(&self, _: Pass) -> usize {
        1
    }

    fn planes_bytes(&self, _: Pass) -> usize {
        let (nv, nu) = self.grid_shape();
        nv * nu * self.precision().bytes_per_cell()
    }

    fn new_planes(&self, _: Pass) -> GridPlanes {
        GridPlanes::from_grids(vec![self.new_grid()])
    }

    fn grid_psf(
        &self,
        planes: &mut GridPlanes,
        batch: &VisBatch<'_>,
        weight_rc: ArrayView2<f32>,
        nthreads: usize,
    ) -> Result<GridStats, GridError> {
        let grid = planes.single_mut()?;
        Gridder::grid_psf(self, grid, batch.uvw_m, batch.freq_hz, weight_rc, nthreads)
    }

    fn grid_vis(
        &self,
        planes: &mut GridPlanes,
        batch: &VisBatch<'_>,
        vis_rc: ArrayView2<Complex32>,
        weight_rc: ArrayView2<f32>,
        nthreads: usize,
    ) -> Result<GridStats, GridError> {
        let grid = planes.single_mut()?;
        let (uvw_m, freq_hz) = (batch.uvw_m, batch.freq_hz);
        Gridder::grid_vis(self, grid, uvw_m, freq_hz, vis_rc, weight_rc, nthreads)
    }

    fn planes_into_images(
        &self,
        planes: GridPlanes,
        scale: f64,
        nthreads: usize,
    ) -> Result<Vec<Array2<f32>>, GridError> {
        check_count(1, planes.grids.len())?;
        planes
            .into_grids()
            .into_iter()
            .map(|g| self.grid_into_image(g, scale, nthreads))
            .collect()
    }

    fn model_planes(
        &self,
        model_yx: &[ArrayView2<f32>],
        nthreads: usize,
    ) -> Result<GridPlanes, GridError> {
        check_count(1, model_yx.len())?;
        Ok(GridPlanes::from_grids(vec![
            self.model_grid(model_yx[0], nthreads)?
        ]))
    }

    fn predict(
        &self,
        model: &GridPlanes,
        batch: &VisBatch<'_>,
        mask_rc: Option<ArrayView2<f32>>,
        vis_rc: ArrayViewMut2<Complex32>,
        nthreads: usize,
    ) -> Result<GridStats, GridError> {
        let (uvw_m, freq_hz) = (batch.uvw_m, batch.freq_hz);
        self.degrid(model.single()?, uvw_m, freq_hz, mask_rc, vis_rc, nthreads)
    }
}

#[cfg(test)]
mod tests;

//! tclean's `standard` gridder reproduced (`kernel='casa'`): the prolate-spheroidal gridding
//! function of support 3 sampled 100 times per cell ([`spheroidal`]), on a double-precision grid
//! padded by tclean's `padding` (1.2 by default) to an even 2-3-5 size, uv positions rounded to
//! the nearest cell and the kernel to the nearest 1/100 cell exactly as tclean rounds them, the
//! grid correction by the spheroidal function of the padded image, each visibility's footprint
//! normalised to a unit sum (so the image is normalised by the plain sum of the weights), as
//! tclean grids. Prediction divides each visibility's interpolated value by the same kernel sum,
//! as tclean's degridder does.
//!
//! The ES gridder ([`crate::gridder::Gridder`]) is more accurate (to `epsilon` of an exact Fourier
//! transform); this one exists to reproduce tclean's products (to about 1e-5 of the peak), for
//! pipelines that validate against CASA. Conventions (axes, signs, units) are those of the seam
//! ([`crate::seam`]); the grids are [`UvGrid`]s in double precision, zero frequency at index
//! `[0, 0]` like the ES gridder's, so the same FFTs apply.

mod grid;
pub mod spheroidal;
#[cfg(test)]
mod tests;

use crate::gridder::{check_geometry, fft_image_rows, image_to_grid, GridError, Precision, UvGrid};
use crate::seam::{GridPlanes, GridResult, Pass, VisBatch, VisGridder};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use num_complex::{Complex32, Complex64};
use pclean_fft::{fft_cols, fft_cols_subset, nonzero_cols, with_pool, FftDirection};
use rayon::prelude::*;
use spheroidal::{conv_table, correction, padded_size, SUPPORT};
use std::sync::Arc;

/// Largest padded grid side: uv cells are held as 16-bit indices.
pub const MAX_PADDED: usize = u16::MAX as usize;

/// tclean's standard gridder, through the seam (see the module documentation). Cheap to clone,
/// `Send + Sync`, deterministic whatever the thread count.
#[derive(Clone, Debug)]
pub struct CasaGridder {
    nx: usize,
    ny: usize,
    /// Padded grid side along u (x) and v (y).
    nxp: usize,
    nyp: usize,
    /// tclean's `uvScale`: padded size times the coordinate increment (negative for RA), with the
    /// sign of its `negateUV` folded in for v (see [`grid::Locator`]).
    scale: [f64; 2],
    conv: Arc<Vec<f64>>,
    /// Grid correction of each image column / row.
    corr_x: Arc<Vec<f32>>,
    corr_y: Arc<Vec<f32>>,
    nthreads: usize,
}

impl CasaGridder {
    /// tclean's gridder for an `nx` x `ny` image of cells `cell_x_rad` x `cell_y_rad` radians,
    /// padded by `padding` (tclean's parameter; [`spheroidal::DEFAULT_PADDING`] by default), its
    /// calls run on `nthreads` threads (0 = all cores).
    pub fn new(
        nx: usize,
        ny: usize,
        cell_x_rad: f64,
        cell_y_rad: f64,
        padding: f32,
        nthreads: usize,
    ) -> Result<Self, GridError> {
        check_geometry(nx, ny, cell_x_rad, cell_y_rad)?;
        if !(padding.is_finite() && padding >= 1.0) {
            return Err(GridError::Padding { padding });
        }
        let (nxp, nyp) = (padded_size(nx, padding), padded_size(ny, padding));
        if nxp > MAX_PADDED || nyp > MAX_PADDED {
            return Err(GridError::ImageSize { nx, ny });
        }
        // tclean: uvScale = Float(n) * increment, the RA increment being -cell; its negateUV
        // flips u and v, so u gets +n cell and v gets -n cell (see grid::Locator).
        let scale = [
            nxp as f32 as f64 * cell_x_rad,
            -(nyp as f32 as f64 * cell_y_rad),
        ];
        Ok(CasaGridder {
            nx,
            ny,
            nxp,
            nyp,
            scale,
            conv: Arc::new(conv_table()),
            corr_x: Arc::new(correction(nx, nxp)),
            corr_y: Arc::new(correction(ny, nyp)),
            nthreads,
        })
    }

    /// The padded grid shape `(nv, nu)`.
    pub fn grid_shape(&self) -> (usize, usize) {
        (self.nyp, self.nxp)
    }

    /// Kernel support in cells (the footprint is `2 SUPPORT + 1` cells wide).
    pub fn kernel_support(&self) -> usize {
        2 * SUPPORT + 1
    }

    /// The padding of the grid: padded size over image size along x.
    pub fn oversampling(&self) -> f64 {
        self.nxp as f64 / self.nx as f64
    }

    /// The same gridder with calls on `nthreads` threads.
    pub fn with_threads(&self, nthreads: usize) -> Self {
        CasaGridder {
            nthreads,
            ..self.clone()
        }
    }

    fn grid_bytes(&self) -> usize {
        self.nxp * self.nyp * Precision::Double.bytes_per_cell()
    }

    fn check_planes(&self, planes: &GridPlanes) -> Result<(), GridError> {
        if planes.grids().len() != 1 {
            return Err(GridError::PlaneCount {
                expected: 1,
                got: planes.grids().len(),
            });
        }
        let g = &planes.grids()[0];
        if g.precision() != Precision::Double || g.shape() != (self.nyp, self.nxp) {
            return Err(GridError::GridMismatch {
                expected: Precision::Double,
                expected_shape: (self.nyp, self.nxp),
                got: g.precision(),
                got_shape: g.shape(),
            });
        }
        Ok(())
    }

    /// The image of one transformed grid: `re / (corr_x corr_y) * scale`.
    fn image_of(&self, mut grid: UvGrid, scale: f64) -> Array2<f32> {
        let mut g = grid.as_double_mut().expect("checked: double precision");
        let nonzero = nonzero_cols(g.view());
        fft_cols_subset(g.view_mut(), FftDirection::Backward, Some(&nonzero));
        fft_image_rows(g.view_mut(), self.ny, FftDirection::Backward);
        let (rows, cols) = (
            image_to_grid(self.ny, self.nyp),
            image_to_grid(self.nx, self.nxp),
        );
        let mut img = Array2::<f32>::zeros((self.ny, self.nx));
        let g = g.view();
        img.outer_iter_mut()
            .into_par_iter()
            .enumerate()
            .for_each(|(y, mut out)| {
                let row = g.row(rows[y]);
                let cy = self.corr_y[y];
                for x in 0..self.nx {
                    // tclean converts the transformed grid to single precision, then divides by
                    // the single-precision correction and the sum of weights.
                    let v = row[cols[x]].re as f32 / (self.corr_x[x] * cy);
                    out[x] = (v as f64 * scale) as f32;
                }
            });
        img
    }
}

impl VisGridder for CasaGridder {
    fn name(&self) -> &'static str {
        "standard"
    }

    fn image_shape(&self) -> (usize, usize) {
        (self.ny, self.nx)
    }

    fn nplanes(&self, _: Pass) -> usize {
        1
    }

    fn planes_bytes(&self, _: Pass) -> usize {
        self.grid_bytes()
    }

    fn new_planes(&self, pass: Pass) -> GridPlanes {
        GridPlanes::from_grids(pass, vec![UvGrid::double_zeros(self.nyp, self.nxp)])
    }

    fn grid(&self, planes: &mut GridPlanes, batch: &VisBatch) -> GridResult {
        self.check_planes(planes)?;
        grid::check_batch(batch, "weight_rc", batch.weight_rc.dim())?;
        let vis = match planes.pass() {
            Pass::Psf => None,
            Pass::Residual => {
                let v = batch.vis_rc.ok_or(GridError::Shape {
                    what: "vis_rc (required by the residual pass)",
                    expected: vec![batch.uvw_m.nrows(), batch.freq_hz.len()],
                    got: vec![],
                })?;
                grid::check_batch(batch, "vis_rc", v.dim())?;
                Some(v)
            }
        };
        let locator = self.locator();
        let (grids, sums) = planes.parts_mut();
        let g = grids[0].as_double_mut().expect("checked: double precision");
        let stats = with_pool(self.nthreads, || locator.grid(g, batch, vis))??;
        sums[0][0] += stats.sum_weights;
        Ok(stats)
    }

    fn drop_unreached(
        &self,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        weight_rc: ArrayViewMut2<f32>,
    ) {
        self.zero_unreached(uvw_m, freq_hz, weight_rc);
    }

    /// Each visibility's footprint is normalised to a unit sum when gridded (as tclean grids),
    /// so `scale` (the caller's `1 / sum of weights`) is tclean's normalisation; a plane with no
    /// weight is zero. A PSF is then divided by its peak, as tclean's `normPSF` (measured: a
    /// one-visibility PSF, whose fringe peaks 8e-3 above its centre value off-centre, is
    /// tclean's to 2e-7 only when divided by the peak).
    fn images(&self, planes: GridPlanes, scale: f64) -> GridResult<Vec<Array2<f32>>> {
        self.check_planes(&planes)?;
        let pass = planes.pass();
        let sums = planes.sums().to_vec();
        let grids = planes.into_grids();
        let img = with_pool(self.nthreads, || {
            grids
                .into_iter()
                .zip(sums)
                .map(|(g, [sw, _])| {
                    let s = if sw > 0.0 { scale } else { 0.0 };
                    let mut img = self.image_of(g, s);
                    let peak = img.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    if pass == Pass::Psf && peak > 0.0 {
                        img.mapv_inplace(|v| v / peak);
                    }
                    img
                })
                .collect()
        })?;
        Ok(img)
    }

    fn model_planes(&self, model_yx: &[ArrayView2<f32>]) -> GridResult<GridPlanes> {
        if model_yx.len() != 1 {
            return Err(GridError::PlaneCount {
                expected: 1,
                got: model_yx.len(),
            });
        }
        let m = model_yx[0];
        if m.dim() != (self.ny, self.nx) {
            return Err(GridError::Shape {
                what: "image_yx",
                expected: vec![self.ny, self.nx],
                got: vec![m.nrows(), m.ncols()],
            });
        }
        let mut grid = UvGrid::double_zeros(self.nyp, self.nxp);
        with_pool(self.nthreads, || {
            let mut g = grid.as_double_mut().expect("double precision");
            let cols = image_to_grid(self.nx, self.nxp);
            for (y, gy) in image_to_grid(self.ny, self.nyp).into_iter().enumerate() {
                let cy = self.corr_y[y];
                let mut row = g.row_mut(gy);
                for (x, &gx) in cols.iter().enumerate() {
                    // tclean divides the model by the single-precision correction.
                    let v = m[[y, x]] / (self.corr_x[x] * cy);
                    row[gx] = Complex64::new(v as f64, 0.0);
                }
            }
            fft_image_rows(g.view_mut(), self.ny, FftDirection::Forward);
            fft_cols(g.view_mut(), FftDirection::Forward);
        })?;
        Ok(GridPlanes::from_grids(Pass::Residual, vec![grid]))
    }

    fn predict(
        &self,
        model: &GridPlanes,
        batch: &VisBatch,
        out: ArrayViewMut2<Complex32>,
    ) -> GridResult {
        self.check_planes(model)?;
        grid::check_batch(batch, "weight_rc", batch.weight_rc.dim())?;
        grid::check_batch(batch, "vis_rc", out.dim())?;
        let g = model.grids()[0]
            .as_double()
            .expect("checked: double precision");
        let locator = self.locator();
        let stats = with_pool(self.nthreads, || locator.degrid(g, batch, out))?;
        Ok(stats)
    }
}

impl CasaGridder {
    /// Set to 0 the weights (`weight_rc`, `(nrow, nchan)`) of the samples this gridder would not
    /// grid: those whose footprint leaves tclean's padded grid (`uvw_m` `(nrow, 3)` metres at
    /// the image phase centre, `freq_hz` one per column). tclean's `GridFT` drops them after the
    /// imaging weights are computed, so they count neither in its image nor in its `.sumwt`; the
    /// ES gridder (a larger oversampled grid) keeps them. Under uniform weighting such a sample
    /// on the rim of the density grid carries about one full cell's weight (`w / W` with few
    /// samples in the cell), so keeping them moved the vla_wideband_small uniform `.sumwt` from
    /// tclean's 2154 to 2182; see `RunGridder::vis_gridder` in pclean-engine.
    ///
    /// # Panics
    /// If the shapes disagree (a programming error in the caller).
    pub fn zero_unreached(
        &self,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        mut weight_rc: ArrayViewMut2<f32>,
    ) {
        assert!(
            uvw_m.nrows() == weight_rc.nrows()
                && uvw_m.ncols() >= 2
                && freq_hz.len() == weight_rc.ncols(),
            "CasaGridder::zero_unreached: uvw {:?}, {} frequencies, weights {:?}",
            uvw_m.dim(),
            freq_hz.len(),
            weight_rc.dim()
        );
        let loc = self.locator();
        // A sample's grid position on each axis is monotonic in its frequency (a product and a
        // sum of floating-point numbers, each rounded monotonically; then `round`), and the
        // positions tclean grids form one interval per axis: when a row's lowest and highest
        // frequency both reach the grid, every channel between them does, and the row is left
        // as it is without locating each channel (the per-channel check was 6% of an mfs dirty
        // run's CPU time, perf, session 13). Any other row is checked channel by channel.
        let finite = freq_hz.iter().all(|f| f.is_finite());
        let fmin = freq_hz.iter().copied().fold(f64::INFINITY, f64::min);
        let fmax = freq_hz.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // Rows apart (3% of an mfs dirty run's CPU time when serial, perf).
        ndarray::Zip::from(uvw_m.rows())
            .and(weight_rc.rows_mut())
            .par_for_each(|uvw, mut wrow| {
                if finite
                    && !freq_hz.is_empty()
                    && loc.reaches(uvw[0], uvw[1], fmin)
                    && loc.reaches(uvw[0], uvw[1], fmax)
                {
                    return;
                }
                for (w, &f) in wrow.iter_mut().zip(freq_hz) {
                    if *w > 0.0 && !loc.reaches(uvw[0], uvw[1], f) {
                        *w = 0.0;
                    }
                }
            });
    }

    fn locator(&self) -> grid::Locator<'_> {
        grid::Locator {
            nxp: self.nxp,
            nyp: self.nyp,
            scale: self.scale,
            conv: &self.conv,
        }
    }
}

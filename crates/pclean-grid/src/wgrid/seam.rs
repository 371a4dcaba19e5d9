//! The w-gridder through the seam ([`VisGridder`]): a plane set holds one uv grid per w plane.

use super::layout::{n_minus_1, phase};
use super::prepare::Prepared;
use super::WGridder;
use crate::gridder::GridError;
use crate::seam::{GridPlanes, GridResult, Pass, VisBatch, VisGridder};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use num_complex::{Complex32, Complex64};
use pclean_fft::with_pool;
use rayon::prelude::*;

impl WGridder {
    fn check_batch(&self, batch: &VisBatch, with_vis: bool) -> Result<(), GridError> {
        let (nrow, nchan) = (batch.uvw_m.nrows(), batch.freq_hz.len());
        let shape = |what, got: &[usize]| GridError::Shape {
            what,
            expected: vec![nrow, nchan],
            got: got.to_vec(),
        };
        if batch.uvw_m.ncols() != 3 {
            return Err(GridError::Shape {
                what: "uvw_m",
                expected: vec![nrow, 3],
                got: batch.uvw_m.shape().to_vec(),
            });
        }
        if batch.weight_rc.dim() != (nrow, nchan) {
            return Err(shape("weight_rc", batch.weight_rc.shape()));
        }
        match (with_vis, batch.vis_rc) {
            (false, _) => Ok(()),
            (true, Some(v)) if v.dim() == (nrow, nchan) => Ok(()),
            (true, Some(v)) => Err(shape("vis_rc", v.shape())),
            (true, None) => Err(shape("vis_rc (required by the residual pass)", &[])),
        }
    }

    fn check_planes(&self, n: usize) -> Result<(), GridError> {
        if n == self.layout.nplanes {
            Ok(())
        } else {
            Err(GridError::PlaneCount {
                expected: self.layout.nplanes,
                got: n,
            })
        }
    }

    /// `n - 1 - eta0` of every pixel, and the correction in w there.
    fn pixel_eta(&self, y: usize, x: usize) -> f64 {
        let s = self.base.spec();
        n_minus_1(y, x, s.ny, s.nx, s.cell_x_rad, s.cell_y_rad) - self.layout.eta0
    }

    fn grid_planes(&self, planes: &mut GridPlanes, batch: &VisBatch) -> GridResult {
        let (freq, lay) = (batch.freq_hz, &self.layout);
        let vis = batch.vis_rc.filter(|_| planes.pass() == Pass::Residual);
        let prep = Prepared::new(lay, batch.uvw_m, freq, batch.weight_rc);
        let mut stats = self.base.count(prep.uvw.view(), freq, prep.weight.view());
        stats.n_skipped += prep.n_wskipped;
        let mut values = Array2::<Complex32>::zeros(batch.weight_rc.dim());
        values
            .outer_iter_mut()
            .into_par_iter()
            .enumerate()
            .for_each(|(r, mut row)| {
                let out = row.as_slice_mut().expect("rows of a standard-layout array");
                prep.row_values(r, vis, lay, freq, out);
            });
        let (grids, _) = planes.parts_mut();
        for (p, grid) in grids.iter_mut().enumerate() {
            let rows: Vec<usize> = prep.rows_of_plane[p].iter().map(|&r| r as usize).collect();
            if rows.is_empty() {
                continue;
            }
            let (uvw, wt) = prep.plane_rows(p, lay, self.base.kernel(), freq);
            let vals = values.select(Axis(0), &rows);
            let (u, f) = (uvw.view(), freq);
            self.base
                .grid_vis(grid, u, f, vals.view(), wt.view(), self.nthreads)?;
        }
        Ok(stats)
    }

    fn image_of(&self, planes: GridPlanes, scale: f64) -> Array2<f32> {
        let s = *self.base.spec();
        let mut acc = Array2::<Complex64>::zeros((s.ny, s.nx));
        // The screens `exp(s 2 pi i w_p eta)` depend on the pixel through `|x - nx/2|` and
        // `|y - ny/2|` only: kept for one quadrant and advanced from plane to plane by the
        // factor `exp(s 2 pi i dw eta)` (a product instead of a sine and cosine per pixel and
        // plane; rounding grows by ~1e-16 per plane).
        let quad = Quadrant::new(s.nx, s.ny);
        let (mut cur, step) = {
            let lay = &self.layout;
            let etas = quad.table(|y, x| self.pixel_eta(y, x));
            let cur: Vec<Complex64> = etas.par_iter().map(|&e| phase(lay.w0, e)).collect();
            let step: Vec<Complex64> = etas.par_iter().map(|&e| phase(lay.dw, e)).collect();
            (cur, step)
        };
        for grid in planes.into_grids() {
            let cur_ref = &cur;
            self.base.grid_accumulate(grid, acc.view_mut(), |y, row| {
                quad.fill_row(cur_ref, y, row);
            });
            cur.par_iter_mut()
                .zip(step.par_iter())
                .for_each(|(c, st)| *c *= *st);
        }
        let mut img = Array2::<f32>::zeros((s.ny, s.nx));
        let dw = self.layout.dw;
        img.outer_iter_mut()
            .into_par_iter()
            .enumerate()
            .for_each(|(y, mut out)| {
                for x in 0..s.nx {
                    let k = self.correction.at(dw * self.pixel_eta(y, x));
                    out[x] = (acc[[y, x]].re * k * scale) as f32;
                }
            });
        img
    }

    fn model_of(&self, model: ArrayView2<f32>) -> GridPlanes {
        let s = *self.base.spec();
        let dw = self.layout.dw;
        // The model times the correction in w; a CLEAN model is mostly zeros.
        let mut corrected = Array2::<Complex64>::zeros((s.ny, s.nx));
        let mut etas = Array2::<f64>::zeros((s.ny, s.nx));
        for ((y, x), m) in model.indexed_iter() {
            if *m != 0.0 {
                let d = self.pixel_eta(y, x);
                etas[[y, x]] = d;
                corrected[[y, x]] = Complex64::new(*m as f64 * self.correction.at(dw * d), 0.0);
            }
        }
        let grids = (0..self.layout.nplanes)
            .map(|p| {
                let wp = self.layout.plane_w(p);
                self.base.model_grid_complex(|y, x| {
                    let c = corrected[[y, x]];
                    if c.re == 0.0 {
                        c
                    } else {
                        c * phase(wp, etas[[y, x]]).conj()
                    }
                })
            })
            .collect();
        GridPlanes::from_grids(Pass::Residual, grids)
    }

    fn predict_planes(
        &self,
        model: &GridPlanes,
        batch: &VisBatch,
        mut out: ArrayViewMut2<Complex32>,
    ) -> GridResult {
        let (freq, lay, kernel) = (batch.freq_hz, &self.layout, self.base.kernel());
        let prep = Prepared::new(lay, batch.uvw_m, freq, batch.weight_rc);
        let mut stats = self.base.count(prep.uvw.view(), freq, prep.weight.view());
        stats.n_skipped += prep.n_wskipped;
        stats.sum_weights = 0.0;
        let mut acc = Array2::<Complex64>::zeros(batch.weight_rc.dim());
        for (p, grid) in model.grids().iter().enumerate() {
            let rows = &prep.rows_of_plane[p];
            if rows.is_empty() {
                continue;
            }
            let (uvw, wt) = prep.plane_rows(p, lay, kernel, freq);
            let mut vis = Array2::<Complex32>::zeros(wt.dim());
            let (u, mask) = (uvw.view(), Some(wt.view()));
            self.base
                .degrid(grid, u, freq, mask, vis.view_mut(), self.nthreads)?;
            for (i, &r) in rows.iter().enumerate() {
                let r = r as usize;
                for (c, &f) in freq.iter().enumerate() {
                    if wt[[i, c]] > 0.0 {
                        let k = lay.weight(kernel, prep.w(r, f, lay), p);
                        let v = vis[[i, c]];
                        acc[[r, c]] += Complex64::new(v.re as f64, v.im as f64) * k;
                    }
                }
            }
        }
        for ((r, c), o) in out.indexed_iter_mut() {
            *o = if prep.weight[[r, c]] > 0.0 {
                let z = acc[[r, c]] * prep.ref_phase(r, freq[c], lay).conj();
                let z = Complex32::new(z.re as f32, z.im as f32);
                if prep.flipped[r] {
                    z.conj()
                } else {
                    z
                }
            } else {
                Complex32::new(0.0, 0.0)
            };
        }
        Ok(stats)
    }
}

impl VisGridder for WGridder {
    fn name(&self) -> &'static str {
        self.name
    }

    fn image_shape(&self) -> (usize, usize) {
        let s = self.base.spec();
        (s.ny, s.nx)
    }

    fn nplanes(&self, _: Pass) -> usize {
        1
    }

    fn planes_bytes(&self, _: Pass) -> usize {
        let (nv, nu) = self.base.grid_shape();
        self.layout.nplanes * nv * nu * self.base.precision().bytes_per_cell()
    }

    fn new_planes(&self, pass: Pass) -> GridPlanes {
        let grids = (0..self.layout.nplanes)
            .map(|_| self.base.new_grid())
            .collect();
        GridPlanes::from_grids(pass, grids)
    }

    fn grid(&self, planes: &mut GridPlanes, batch: &VisBatch) -> GridResult {
        self.check_batch(batch, planes.pass() == Pass::Residual)?;
        self.check_planes(planes.grids().len())?;
        with_pool(self.nthreads, || self.grid_planes(planes, batch))?
    }

    fn images(&self, planes: GridPlanes, scale: f64) -> GridResult<Vec<Array2<f32>>> {
        self.check_planes(planes.grids().len())?;
        Ok(vec![with_pool(self.nthreads, || {
            self.image_of(planes, scale)
        })?])
    }

    fn model_planes(&self, model_yx: &[ArrayView2<f32>]) -> GridResult<GridPlanes> {
        if model_yx.len() != 1 {
            return Err(GridError::PlaneCount {
                expected: 1,
                got: model_yx.len(),
            });
        }
        let s = self.base.spec();
        if model_yx[0].dim() != (s.ny, s.nx) {
            return Err(GridError::Shape {
                what: "model_yx",
                expected: vec![s.ny, s.nx],
                got: model_yx[0].shape().to_vec(),
            });
        }
        Ok(with_pool(self.nthreads, || self.model_of(model_yx[0]))?)
    }

    fn predict(
        &self,
        model: &GridPlanes,
        batch: &VisBatch,
        out: ArrayViewMut2<Complex32>,
    ) -> GridResult {
        self.check_batch(batch, false)?;
        self.check_planes(model.grids().len())?;
        let (nrow, nchan) = (batch.uvw_m.nrows(), batch.freq_hz.len());
        if out.dim() != (nrow, nchan) {
            return Err(GridError::Shape {
                what: "out",
                expected: vec![nrow, nchan],
                got: out.shape().to_vec(),
            });
        }
        with_pool(self.nthreads, || self.predict_planes(model, batch, out))?
    }
}

/// One quadrant of an `(ny, nx)` image: a value per `(|y - ny/2|, |x - nx/2|)`, for the
/// functions of the pixel that depend only on those (the w screens).
struct Quadrant {
    nx: usize,
    ny: usize,
    /// Columns of the quadrant table: `|x - nx/2|` runs over `0..=nx/2`.
    qx: usize,
}

impl Quadrant {
    fn new(nx: usize, ny: usize) -> Self {
        Quadrant {
            nx,
            ny,
            qx: nx / 2 + 1,
        }
    }

    /// The table of `f(y, x)` over the pixels `y >= ny/2`, `x >= nx/2` (and the row / column
    /// `ny - 1 - ...` mirrored where the image is odd), row-major, `qx` columns.
    fn table<V: Send>(&self, f: impl Fn(usize, usize) -> V + Sync) -> Vec<V> {
        let (cy, cx) = (self.ny / 2, self.nx / 2);
        (0..(self.ny / 2 + 1) * self.qx)
            .into_par_iter()
            .map(|i| f(cy + i / self.qx, cx + i % self.qx))
            .collect()
    }

    /// Row `y` of the image from the quadrant table `t`.
    fn fill_row<V: Copy>(&self, t: &[V], y: usize, row: &mut [V]) {
        let dy = y.abs_diff(self.ny / 2);
        let trow = &t[dy * self.qx..(dy + 1) * self.qx];
        let cx = self.nx / 2;
        for (x, r) in row.iter_mut().enumerate() {
            *r = trow[x.abs_diff(cx)];
        }
    }
}

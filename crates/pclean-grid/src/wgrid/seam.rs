//! The w-gridder through the seam ([`VisGridder`]): a plane set holds one uv grid per w plane.

use super::buffer::WChunk;
use super::layout::{n_minus_1, phase};
use super::prepare::Prepared;
use super::WGridder;
use crate::gridder::{GridError, UvGrid};
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

    /// A pass's plane set: still buffered (no grids), or one grid per w plane.
    fn check_pass_planes(&self, planes: &GridPlanes) -> Result<(), GridError> {
        let buffered = planes.wbuf().is_some() && planes.grids().is_empty();
        if buffered {
            Ok(())
        } else {
            self.check_planes(planes.grids().len())
        }
    }

    /// `n - 1 - eta0` of every pixel, and the correction in w there.
    fn pixel_eta(&self, y: usize, x: usize) -> f64 {
        let s = self.base.spec();
        n_minus_1(y, x, s.ny, s.nx, s.cell_x_rad, s.cell_y_rad) - self.layout.eta0
    }

    /// Grid `batch` into the planes: kept in the buffer while it has room, else into one grid
    /// per plane (the buffer first, when this chunk makes it overflow).
    fn grid_planes(&self, planes: &mut GridPlanes, batch: &VisBatch) -> GridResult {
        let (freq, lay) = (batch.freq_hz, &self.layout);
        let vis = batch.vis_rc.filter(|_| planes.pass() == Pass::Residual);
        let limit = (self.planes_bytes(planes.pass()) as f64 * self.buffer_share) as usize;
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
        let chunk = WChunk {
            prep,
            freq_hz: freq.to_vec(),
            values,
        };
        let (grids, buffer) = planes.w_parts_mut();
        if let Some(buf) = buffer.filter(|_| grids.is_empty()) {
            if buf.bytes() + chunk.bytes() <= limit {
                buf.push(chunk);
                return Ok(stats);
            }
            *grids = (0..lay.nplanes).map(|_| self.base.new_grid()).collect();
            for c in buf.take() {
                self.grid_chunk(grids, &c)?;
            }
        }
        self.grid_chunk(grids, &chunk)?;
        Ok(stats)
    }

    /// Grid `chunk` into every plane it touches.
    fn grid_chunk(&self, grids: &mut [UvGrid], chunk: &WChunk) -> GridResult<()> {
        for (p, grid) in grids.iter_mut().enumerate() {
            self.grid_chunk_plane(grid, chunk, p)?;
        }
        Ok(())
    }

    /// Grid the rows of `chunk` that touch plane `p` into `grid` (with the kernel in w).
    fn grid_chunk_plane(&self, grid: &mut UvGrid, chunk: &WChunk, p: usize) -> GridResult<()> {
        if !chunk.touches(p) {
            return Ok(());
        }
        let (lay, freq) = (&self.layout, &chunk.freq_hz[..]);
        let rows: Vec<usize> = chunk.prep.rows_of_plane[p]
            .iter()
            .map(|&r| r as usize)
            .collect();
        let (uvw, wt) = chunk.prep.plane_rows(p, lay, self.base.kernel(), freq);
        let vals = chunk.values.select(Axis(0), &rows);
        let (u, v) = (uvw.view(), vals.view());
        self.base
            .grid_vis(grid, u, freq, v, wt.view(), self.nthreads)?;
        Ok(())
    }

    /// The image of the planes: each plane transformed, times its screen, summed; then the
    /// correction in w. Buffered visibilities are gridded plane by plane into one grid.
    fn image_of(&self, planes: GridPlanes, scale: f64) -> GridResult<Array2<f32>> {
        let s = *self.base.spec();
        let mut acc = Array2::<f64>::zeros((s.ny, s.nx));
        let mut screens = Screens::new(self);
        let (grids, buffer) = planes.into_w_parts();
        if grids.is_empty() {
            let chunks = buffer.map(|mut b| b.take()).unwrap_or_default();
            let mut work: Option<UvGrid> = None;
            for p in 0..self.layout.nplanes {
                if chunks.iter().any(|c| c.touches(p)) {
                    let grid = match &mut work {
                        Some(g) => {
                            g.clear();
                            g
                        }
                        None => work.insert(self.base.new_grid()),
                    };
                    for c in &chunks {
                        self.grid_chunk_plane(grid, c, p)?;
                    }
                    screens.add(self, grid, &mut acc);
                }
                screens.advance();
            }
        } else {
            for mut grid in grids {
                screens.add(self, &mut grid, &mut acc);
                screens.advance();
            }
        }
        let mut img = Array2::<f32>::zeros((s.ny, s.nx));
        let dw = self.layout.dw;
        // The correction depends on the pixel through `n - 1` only, as the screens do: one
        // value per entry of their quadrant (octant) table instead of one interpolation and
        // one `n - 1` per pixel (profiled, session 15: 6.5% of a w-corrected 1024^2 dirty
        // run's samples); the same values, looked up.
        let quad = &screens.quad;
        let table = quad.table(|y, x| self.correction.at(dw * self.pixel_eta(y, x)));
        img.outer_iter_mut()
            .into_par_iter()
            .enumerate()
            .for_each(|(y, mut out)| {
                let mut k = vec![0.0; s.nx];
                quad.fill_row(&table, y, &mut k);
                for x in 0..s.nx {
                    out[x] = (acc[[y, x]] * k[x] * scale) as f32;
                }
            });
        Ok(img)
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
        GridPlanes::buffered(pass)
    }

    fn grid(&self, planes: &mut GridPlanes, batch: &VisBatch) -> GridResult {
        self.check_batch(batch, planes.pass() == Pass::Residual)?;
        self.check_pass_planes(planes)?;
        with_pool(self.nthreads, || self.grid_planes(planes, batch))?
    }

    fn images(&self, planes: GridPlanes, scale: f64) -> GridResult<Vec<Array2<f32>>> {
        self.check_pass_planes(&planes)?;
        Ok(vec![with_pool(self.nthreads, || {
            self.image_of(planes, scale)
        })??])
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

/// The planes' screens `exp(s 2 pi i w_p eta)`, which depend on the pixel through `|x - nx/2|`
/// and `|y - ny/2|` only: kept for one quadrant and advanced from plane to plane by the factor
/// `exp(s 2 pi i dw eta)` (a product instead of a sine and cosine per pixel and plane; rounding
/// grows by ~1e-16 per plane).
struct Screens {
    quad: Quadrant,
    cur: Vec<Complex64>,
    step: Vec<Complex64>,
}

impl Screens {
    /// The screens of plane 0.
    fn new(g: &WGridder) -> Self {
        let s = g.base.spec();
        let square = s.cell_x_rad == s.cell_y_rad;
        let (quad, lay) = (Quadrant::new(s.nx, s.ny, square), &g.layout);
        let etas = quad.table(|y, x| g.pixel_eta(y, x));
        let cur = etas.par_iter().map(|&e| phase(lay.w0, e)).collect();
        let step = etas.par_iter().map(|&e| phase(lay.dw, e)).collect();
        Screens { quad, cur, step }
    }

    /// `acc += Re[image of grid x the current plane's screen]` (`grid` transformed in place).
    fn add(&self, g: &WGridder, grid: &mut UvGrid, acc: &mut Array2<f64>) {
        let (quad, cur) = (&self.quad, &self.cur);
        g.base.grid_accumulate(grid, acc.view_mut(), |y, row| {
            quad.fill_row(cur, y, row);
        });
    }

    /// On to the next plane's screens.
    fn advance(&mut self) {
        self.cur
            .par_iter_mut()
            .zip(self.step.par_iter())
            .for_each(|(c, st)| *c *= *st);
    }
}

/// One quadrant of an `(ny, nx)` image: a value per `(|y - ny/2|, |x - nx/2|)`, for the
/// functions of the pixel that depend only on those (the w screens). With square cells they
/// depend on the pair only through `{|x - nx/2|, |y - ny/2|}` (`n - 1` is a function of
/// `l^2 + m^2`, and `a^2 + b^2 = b^2 + a^2` exactly in floating point): then only the octant
/// `|y - ny/2| >= |x - nx/2|` is kept (half the memory), as a packed triangle.
struct Quadrant {
    nx: usize,
    ny: usize,
    /// Columns of the quadrant table: `|x - nx/2|` runs over `0..=nx/2`.
    qx: usize,
    /// Octant (triangle) storage: rows `a` in `0..=max(nx/2, ny/2)`, columns `b` in `0..=a`.
    octant: bool,
}

impl Quadrant {
    fn new(nx: usize, ny: usize, square_cells: bool) -> Self {
        Quadrant {
            nx,
            ny,
            qx: nx / 2 + 1,
            octant: square_cells,
        }
    }

    /// Index into the table of the offsets `(dy, dx)` from the reference pixel.
    #[inline]
    fn index(&self, dy: usize, dx: usize) -> usize {
        if self.octant {
            let (a, b) = if dy >= dx { (dy, dx) } else { (dx, dy) };
            a * (a + 1) / 2 + b
        } else {
            dy * self.qx + dx
        }
    }

    /// The table of `f(y, x)` over the pixels `y >= ny/2`, `x >= nx/2` (and the row / column
    /// `ny - 1 - ...` mirrored where the image is odd): row-major with `qx` columns, or the
    /// packed octant `y - ny/2 >= x - nx/2` (see the struct).
    fn table<V: Send>(&self, f: impl Fn(usize, usize) -> V + Sync) -> Vec<V> {
        let (cy, cx) = (self.ny / 2, self.nx / 2);
        if self.octant {
            let rows = (self.nx / 2).max(self.ny / 2) + 1;
            (0..rows)
                .into_par_iter()
                .flat_map_iter(|a| (0..=a).map(move |b| (a, b)))
                .map(|(a, b)| f(cy + a, cx + b))
                .collect()
        } else {
            (0..(self.ny / 2 + 1) * self.qx)
                .into_par_iter()
                .map(|i| f(cy + i / self.qx, cx + i % self.qx))
                .collect()
        }
    }

    /// Row `y` of the image from the table `t`.
    fn fill_row<V: Copy>(&self, t: &[V], y: usize, row: &mut [V]) {
        let dy = y.abs_diff(self.ny / 2);
        let cx = self.nx / 2;
        for (x, r) in row.iter_mut().enumerate() {
            *r = t[self.index(dy, x.abs_diff(cx))];
        }
    }
}

#[cfg(test)]
mod quadrant_tests {
    use super::Quadrant;

    /// The octant table fills every row as the quadrant table does (even, odd and unequal
    /// sizes), for a function of `dx^2 + dy^2` as `n - 1` is with square cells.
    #[test]
    fn octant_rows_equal_quadrant_rows() {
        for (nx, ny) in [(8, 8), (9, 7), (6, 11), (1, 4)] {
            let f = |y: usize, x: usize| {
                let (dy, dx) = (y as f64 - (ny / 2) as f64, x as f64 - (nx / 2) as f64);
                (dx * dx + dy * dy).sqrt()
            };
            let (full, oct) = (Quadrant::new(nx, ny, false), Quadrant::new(nx, ny, true));
            let (tf, to) = (full.table(f), oct.table(f));
            assert!(to.len() <= tf.len() || nx != ny);
            for y in 0..ny {
                let (mut a, mut b) = (vec![0.0; nx], vec![0.0; nx]);
                full.fill_row(&tf, y, &mut a);
                oct.fill_row(&to, y, &mut b);
                let direct: Vec<f64> = (0..nx).map(|x| f(y, x)).collect();
                assert_eq!(a, b, "{nx}x{ny} row {y}");
                assert_eq!(a, direct, "{nx}x{ny} row {y}");
            }
        }
    }
}

//! tclean's `mosaic` gridder (`mosaicft`) through the seam, in the image domain: [`MosaicGridder`].
//!
//! tclean grids each visibility of pointing `p` with the Fourier transform of the product of its
//! two antennas' aperture illuminations, shifted to the pointing; for identical antennas that is
//! the same as multiplying pointing `p`'s dirty image by its primary beam `PB_p` (centred on the
//! pointing) in the image domain, which is what this gridder does (docs/decisions: the measured
//! agreement with tclean):
//! - residual pass: one uv grid per pointing, each turned into its dirty image `D_p` (the
//!   visibilities are already at the image phase centre), and the pass's image is
//!   `sum_p PB_p D_p` (times the caller's scale);
//! - PSF pass: the same with unit visibilities, each pointing's PSF through its own beam (measured
//!   against tclean 6.7's mosaic PSF: docs/decisions); with `psfphasecenter` the beams are placed
//!   as if that direction were the image centre (tclean images the PSF about it);
//! - the weight image ([`VisGridder::weight_image`]): `sum_p W_p PB_p^2`, `W_p` the sum of the
//!   weights gridded for pointing `p` (tclean's `.weight` before the scale);
//! - prediction: per pointing the model times `PB_p`, transformed once
//!   ([`VisGridder::model_planes`]), and each row predicted from its pointing's grid.
//!
//! Normalisation by the weight image (`normtype`, `pblimit`) belongs to the caller, as tclean's
//! normaliser. The beam is evaluated at the plane's frequency ([`VisGridder::at_frequency`]).

use crate::gridder::{GridError, GridStats, Gridder};
use crate::pb::{pb_image_at, PbModel};
use crate::seam::{GridPlanes, GridResult, Pass, VisBatch, VisGridder};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, CowArray, Ix2, Zip};
use num_complex::Complex32;

/// One pointing of a mosaic: the FIELD_ID whose rows it holds and where its beam is centred.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pointing {
    pub field_id: i32,
    /// Pixel position `(x, y)` of the pointing centre in the image (fractional; the reference
    /// pixel is `(nx/2, ny/2)`).
    pub centre_px: [f64; 2],
}

/// tclean's `mosaic` gridder (see the module docs).
#[derive(Clone, Debug)]
pub struct MosaicGridder {
    gridder: Gridder,
    nthreads: usize,
    pb: PbModel,
    pointings: Vec<Pointing>,
    /// Pixel position of the PSF's phase centre (`psfphasecenter`, else the image centre).
    psf_centre_px: [f64; 2],
    freq_hz: f64,
}

impl MosaicGridder {
    /// A mosaic of `pointings` imaged with the ES `gridder` on `nthreads` threads per call, the
    /// beam `pb` evaluated at `freq_hz` (see [`VisGridder::at_frequency`]).
    pub fn new(
        gridder: Gridder,
        nthreads: usize,
        pb: PbModel,
        pointings: Vec<Pointing>,
        psf_centre_px: [f64; 2],
        freq_hz: f64,
    ) -> Self {
        MosaicGridder {
            gridder,
            nthreads,
            pb,
            pointings,
            psf_centre_px,
            freq_hz,
        }
    }

    /// The same gridder running its calls on `nthreads` threads (0 = all cores).
    pub fn with_threads(&self, nthreads: usize) -> Self {
        MosaicGridder {
            nthreads,
            ..self.clone()
        }
    }

    /// The ES gridder of every pointing.
    pub fn gridder(&self) -> &Gridder {
        &self.gridder
    }

    /// The pointings, in plane order.
    pub fn pointings(&self) -> &[Pointing] {
        &self.pointings
    }

    /// The primary beam (power pattern) centred on `centre_px`, at this gridder's frequency.
    pub fn beam_at(&self, centre_px: [f64; 2]) -> Array2<f32> {
        let s = self.gridder.spec();
        pb_image_at(
            &self.pb,
            s.nx,
            s.ny,
            [s.cell_x_rad, s.cell_y_rad],
            self.freq_hz,
            centre_px,
        )
    }

    /// The pointing index of FIELD_ID `f`.
    fn slot(&self, f: i32) -> Result<usize, GridError> {
        self.pointings
            .iter()
            .position(|p| p.field_id == f)
            .ok_or(GridError::Shape {
                what: "field_r (a FIELD_ID without a mosaic pointing)",
                expected: vec![],
                got: vec![f.max(0) as usize],
            })
    }

    /// The rows of `batch` grouped by pointing: `(pointing, rows)`; `None` for rows when every row
    /// is of the one pointing (no copy needed).
    fn groups(&self, batch: &VisBatch) -> Result<Vec<RowGroup>, GridError> {
        let field_r = batch.field_r.ok_or(GridError::Shape {
            what: "field_r (required by the mosaic gridder)",
            expected: vec![batch.uvw_m.nrows()],
            got: vec![],
        })?;
        let mut slots: Vec<usize> = Vec::with_capacity(field_r.len());
        for f in field_r {
            slots.push(self.slot(*f)?);
        }
        let first = slots.first().copied();
        if let Some(s0) = first {
            if slots.iter().all(|s| *s == s0) {
                return Ok(vec![(s0, None)]);
            }
        }
        let mut out: Vec<RowGroup> = Vec::new();
        for (r, s) in slots.iter().enumerate() {
            match out.iter_mut().find(|(k, _)| k == s) {
                Some((_, Some(rows))) => rows.push(r),
                _ => out.push((*s, Some(vec![r]))),
            }
        }
        Ok(out)
    }
}

/// The rows of one pointing in a batch: `(pointing, rows)`, `None` for every row of the batch.
type RowGroup = (usize, Option<Vec<usize>>);

/// Rows `rows` of a `(nrow, n)` view (the view itself for `None`).
fn take<'a, T: Clone>(a: ArrayView2<'a, T>, rows: &Option<Vec<usize>>) -> CowArray<'a, T, Ix2> {
    match rows {
        Some(r) => CowArray::from(a.select(Axis(0), r)),
        None => CowArray::from(a),
    }
}

impl VisGridder for MosaicGridder {
    fn name(&self) -> &'static str {
        "mosaic"
    }

    fn image_shape(&self) -> (usize, usize) {
        let s = self.gridder.spec();
        (s.ny, s.nx)
    }

    fn nplanes(&self, _: Pass) -> usize {
        1
    }

    fn planes_bytes(&self, _: Pass) -> usize {
        let (nv, nu) = self.gridder.grid_shape();
        nv * nu * self.gridder.precision().bytes_per_cell() * self.pointings.len()
    }

    fn new_planes(&self, pass: Pass) -> GridPlanes {
        let n = self.pointings.len();
        let grids = (0..n).map(|_| self.gridder.new_grid()).collect();
        GridPlanes::with_sums(pass, grids, vec![[0.0; 2]; self.pointings.len()])
    }

    fn grid(&self, planes: &mut GridPlanes, batch: &VisBatch) -> GridResult {
        let pass = planes.pass();
        let mut total = GridStats::default();
        let groups = self.groups(batch)?;
        let (grids, sums) = planes.parts_mut();
        let g = &self.gridder;
        for (slot, rows) in groups {
            let uvw = take(batch.uvw_m, &rows);
            let wgt = take(batch.weight_rc, &rows);
            let st = match pass {
                Pass::Psf => g.grid_psf(
                    &mut grids[slot],
                    uvw.view(),
                    batch.freq_hz,
                    wgt.view(),
                    self.nthreads,
                )?,
                Pass::Residual => {
                    let vis = batch.vis_rc.ok_or(GridError::Shape {
                        what: "vis_rc (required by the residual pass)",
                        expected: vec![batch.uvw_m.nrows(), batch.freq_hz.len()],
                        got: vec![],
                    })?;
                    let vis = take(vis, &rows);
                    g.grid_vis(
                        &mut grids[slot],
                        uvw.view(),
                        batch.freq_hz,
                        vis.view(),
                        wgt.view(),
                        self.nthreads,
                    )?
                }
            };
            sums[slot][0] += st.sum_weights;
            total += st;
        }
        Ok(total)
    }

    fn images(&self, planes: GridPlanes, scale: f64) -> GridResult<Vec<Array2<f32>>> {
        let pass = planes.pass();
        let sums: Vec<[f64; 2]> = planes.sums().to_vec();
        let grids = planes.into_grids();
        let g = &self.gridder;
        // The PSF's beams sit where they would with `psfphasecenter` at the image centre.
        let (ny, nx) = self.image_shape();
        let shift = match pass {
            Pass::Psf => [
                self.psf_centre_px[0] - (nx / 2) as f64,
                self.psf_centre_px[1] - (ny / 2) as f64,
            ],
            Pass::Residual => [0.0, 0.0],
        };
        let mut acc = Array2::<f32>::zeros((ny, nx));
        for ((grid, p), s) in grids.into_iter().zip(&self.pointings).zip(&sums) {
            if s[0] <= 0.0 {
                continue;
            }
            let dirty = g.grid_into_image(grid, scale, self.nthreads)?;
            let beam = self.beam_at([p.centre_px[0] - shift[0], p.centre_px[1] - shift[1]]);
            Zip::from(&mut acc)
                .and(&dirty)
                .and(&beam)
                .for_each(|a, d, b| *a += *d * *b);
        }
        Ok(vec![acc])
    }

    fn weight_image(&self, planes: &GridPlanes, scale: f64) -> GridResult<Option<Array2<f32>>> {
        let (ny, nx) = self.image_shape();
        let mut w = Array2::<f64>::zeros((ny, nx));
        for (p, s) in self.pointings.iter().zip(planes.sums()) {
            if s[0] <= 0.0 {
                continue;
            }
            let beam = self.beam_at(p.centre_px);
            let f = s[0] * scale;
            Zip::from(&mut w).and(&beam).for_each(|a, b| {
                let b = *b as f64;
                *a += f * b * b;
            });
        }
        Ok(Some(w.mapv(|v| v as f32)))
    }

    fn at_frequency(&self, freq_hz: f64) -> Option<Box<dyn VisGridder>> {
        let mut g = self.clone();
        g.freq_hz = freq_hz;
        Some(Box::new(g))
    }

    fn model_planes(&self, model_yx: &[ArrayView2<f32>]) -> GridResult<GridPlanes> {
        if model_yx.len() != 1 {
            return Err(GridError::PlaneCount {
                expected: 1,
                got: model_yx.len(),
            });
        }
        let grids = self
            .pointings
            .iter()
            .map(|p| {
                let mut seen = model_yx[0].to_owned();
                let beam = self.beam_at(p.centre_px);
                Zip::from(&mut seen).and(&beam).for_each(|m, b| *m *= *b);
                self.gridder.model_grid(seen.view(), self.nthreads)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(GridPlanes::from_grids(Pass::Residual, grids))
    }

    fn predict(
        &self,
        model: &GridPlanes,
        batch: &VisBatch,
        mut out: ArrayViewMut2<Complex32>,
    ) -> GridResult {
        let grids = model.grids();
        if grids.len() != self.pointings.len() {
            return Err(GridError::PlaneCount {
                expected: self.pointings.len(),
                got: grids.len(),
            });
        }
        let mut total = GridStats::default();
        for (slot, rows) in self.groups(batch)? {
            let uvw = take(batch.uvw_m, &rows);
            let wgt = take(batch.weight_rc, &rows);
            let mut pred = Array2::<Complex32>::zeros((uvw.nrows(), batch.freq_hz.len()));
            total += self.gridder.degrid(
                &grids[slot],
                uvw.view(),
                batch.freq_hz,
                Some(wgt.view()),
                pred.view_mut(),
                self.nthreads,
            )?;
            match rows {
                Some(rows) => {
                    for (i, r) in rows.iter().enumerate() {
                        out.row_mut(*r).assign(&pred.row(i));
                    }
                }
                None => out.assign(&pred),
            }
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests;

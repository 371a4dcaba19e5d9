//! The awproject gridder's passes over its grid sets: a plane set split into one per set and
//! joined again, and a batch's rows gridded set by set through the inner gridder with tclean's
//! kernel sum and weight factors ([`AwGridder::grid_bins`]).

use super::rows::{columns_of, take_cols};
use super::AwGridder;
use crate::gridder::{GridError, GridStats};
use crate::seam::{GridPlanes, GridResult, Pass, VisBatch};
use ndarray::{Axis, CowArray, Zip};

impl AwGridder {
    /// Split a plane set into one per bin (with the bins' weight sums).
    pub(super) fn split(&self, planes: GridPlanes) -> (Pass, Vec<GridPlanes>, Vec<[f64; 2]>) {
        let pass = planes.pass();
        let sums = planes.sums().to_vec();
        let mut grids = planes.into_grids().into_iter();
        let m = self.inner.grid_planes();
        let parts = (0..self.nsets())
            .map(|_| GridPlanes::from_grids(pass, grids.by_ref().take(m).collect()))
            .collect();
        (pass, parts, sums)
    }

    pub(super) fn join(pass: Pass, parts: Vec<GridPlanes>, sums: Vec<[f64; 2]>) -> GridPlanes {
        let grids = parts.into_iter().flat_map(GridPlanes::into_grids).collect();
        GridPlanes::with_sums(pass, grids, sums)
    }

    pub(super) fn check_planes(&self, planes: &GridPlanes) -> Result<(), GridError> {
        let want = self.nsets() * self.inner.grid_planes();
        if planes.grids().len() != want {
            return Err(GridError::PlaneCount {
                expected: want,
                got: planes.grids().len(),
            });
        }
        Ok(())
    }

    pub(super) fn grid_bins(
        &self,
        parts: &mut [GridPlanes],
        sums: &mut [[f64; 2]],
        batch: &VisBatch,
    ) -> GridResult {
        let inner = self.inner.seam(self.nthreads);
        let mut total = GridStats::default();
        let chans = self.channel_beams(batch.freq_hz, true);
        let s = self.inner.base().spec();
        let fov = [s.nx as f64 * s.cell_x_rad, s.ny as f64 * s.cell_y_rad];
        for (k, rows) in self.groups(batch)? {
            let uvw = batch.uvw_m.select(Axis(0), &rows);
            let wgt_rows = batch.weight_rc.select(Axis(0), &rows);
            let vis_rows = batch.vis_rc.map(|v| v.select(Axis(0), &rows));
            let fac_rows = batch.weight_factor_rc.map(|f| f.select(Axis(0), &rows));
            for (beam, cols) in &chans {
                let b = beam * self.per_beam() + k;
                let freqs = columns_of(batch.freq_hz, cols);
                let wgt = take_cols(wgt_rows.view(), cols);
                let fac = fac_rows.as_ref().map(|f| take_cols(f.view(), cols));
                let plain: f64 = wgt.iter().filter(|w| **w > 0.0).map(|w| *w as f64).sum();
                // tclean's kernel sum `S` of every visibility (1 with psterm: tclean's kernel
                // then sums to 1 at every sub-cell phase; 1 without the A-term, `aterm=False`,
                // whose functions are the spheroidal alone).
                let kernel = (self.ps.is_none() && self.geom.is_some())
                    .then(|| self.beams[b].alias.factors(uvw.view(), &freqs, fov));
                // The weights as a weight image sums them (times the Taylor factors of a PSF
                // term: tclean's `.weight.ttN`), and with the kernel sum (mtmfs' `.sumwt.ttN`).
                let (mut factored, mut scaled_sum) = (0.0, 0.0);
                Zip::indexed(&wgt).for_each(|(r, c), w| {
                    if *w > 0.0 {
                        let x = *w as f64 * fac.as_ref().map_or(1.0, |f| f[[r, c]] as f64);
                        factored += x;
                        scaled_sum += x * kernel.as_ref().map_or(1.0, |s| s[[r, c]] as f64);
                    }
                });
                // The residual pass carries the kernel sum in every weight; the PSF pass does
                // not: tclean grids the PSF with its weight functions, whose kernel sums to 1
                // (measured, docs/decisions.md (s16-wbawp)).
                let psf = parts[b].pass() == Pass::Psf;
                let scaled = match kernel {
                    Some(mut f) if !psf => {
                        Zip::from(&mut f).and(&wgt).for_each(|s, w| *s *= *w);
                        CowArray::from(f)
                    }
                    _ => wgt,
                };
                let vis = vis_rows.as_ref().map(|v| take_cols(v.view(), cols));
                let mut sub = VisBatch::new(uvw.view(), &freqs, scaled.view());
                if let Some(v) = &vis {
                    sub = sub.with_vis(v.view());
                }
                // A PSF pass given visibilities (an mtmfs PSF term's Taylor factors
                // `((nu - nu0)/nu0)^t`) grids them, through the PSF's beams.
                let retag = psf && vis.is_some();
                if retag {
                    retag_planes(&mut parts[b], Pass::Residual);
                }
                let res = inner.grid(&mut parts[b], &sub);
                if retag {
                    retag_planes(&mut parts[b], Pass::Psf);
                }
                let mut st = res?;
                st.sum_weights = plain;
                st.sum_scaled_weights = scaled_sum;
                sums[b][0] += plain;
                sums[b][1] += factored;
                total += st;
            }
        }
        Ok(total)
    }
}

/// `planes` (a set of grids without sums or buffered visibilities: [`AwGridder::split`]'s
/// parts) made a set for `pass`.
fn retag_planes(planes: &mut GridPlanes, pass: Pass) {
    let taken = std::mem::replace(planes, GridPlanes::from_grids(pass, Vec::new()));
    *planes = GridPlanes::from_grids(pass, taken.into_grids());
}

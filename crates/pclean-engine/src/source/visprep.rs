//! Turning a chunk of correlations into what the gridder wants: Stokes visibilities with combined
//! weights (flags folded in as zero weight), uvw and visibilities rotated to the image phase centre.

use ndarray::{Array2, ArrayView2, ArrayView3, ArrayViewMut2, Axis};
use num_complex::Complex32;
use pclean_core::direction::{SkyContext, SkyFrameError};
use pclean_core::{Correlation, Direction, StokesParam, SPEED_OF_LIGHT};

/// Coefficients that form one Stokes parameter from a chunk's correlations.
#[derive(Debug, Clone)]
pub struct StokesRecipe {
    pub param: StokesParam,
    /// (correlation index, complex coefficient)
    pub terms: Vec<(usize, Complex32)>,
    /// How many correlation planes CASA grids into this image plane: 2 for a Stokes I-only
    /// image from both parallel hands (its sum of weights counts each sample once per hand),
    /// otherwise 1. pseudoI counts the unflagged hands of each sample instead.
    multiplicity: f32,
}

impl StokesRecipe {
    /// The recipe for `param` given the correlations present, or `None` when they cannot form it.
    /// `i_only`: the image has this single Stokes I plane ([`pclean_core::StokesSet::is_i_only`]).
    pub fn new(param: StokesParam, corrs: &[Correlation], i_only: bool) -> Option<Self> {
        let terms: Vec<(usize, Complex32)> = param
            .coefficients(corrs)?
            .into_iter()
            .map(|(i, (re, im))| (i, Complex32::new(re as f32, im as f32)))
            .collect();
        let multiplicity = if i_only && param == StokesParam::I {
            terms.len() as f32
        } else {
            1.0
        };
        Some(StokesRecipe {
            param,
            terms,
            multiplicity,
        })
    }

    /// How many correlation planes CASA grids into this plane (see the field).
    pub fn multiplicity(&self) -> f32 {
        self.multiplicity
    }

    /// Form the Stokes visibilities and weights of selected channels `chans` (indices into the
    /// chunk's channel axis) for every row.
    ///
    /// tclean's rules, measured on its products (`docs/polarization.md`): a sample (row,
    /// channel) has one weight for every correlation, the mean of the weights of the first and
    /// last correlation (the parallel hands); a sample with any correlation flagged (even one the
    /// plane does not use) is left out of every plane, so that each plane sees the same samples
    /// and no Stokes parameter leaks into another through unequal weights. The visibility is the
    /// plain coefficient sum. pseudoI instead uses whichever parallel hands are unflagged: their
    /// mean, with the weight times their number.
    pub fn form(
        &self,
        vis_rcp: ArrayView3<Complex32>,
        flag_rcp: ArrayView3<bool>,
        weight_rcp: ArrayView3<f32>,
        chans: &[usize],
        vis_out: ArrayViewMut2<Complex32>,
        wgt_out: ArrayViewMut2<f32>,
    ) {
        par_row_blocks(vis_out, wgt_out, |r0, mut vis_b, mut wgt_b| {
            for i in 0..vis_b.nrows() {
                let r = r0 + i;
                let (vr, fr, wr) = (
                    vis_rcp.index_axis(Axis(0), r),
                    flag_rcp.index_axis(Axis(0), r),
                    weight_rcp.index_axis(Axis(0), r),
                );
                let (mut vo, mut wo) = (vis_b.row_mut(i), wgt_b.row_mut(i));
                match (vr.as_slice(), fr.as_slice(), wr.as_slice()) {
                    // A row's (channel, correlation) samples in memory order (the MS read's
                    // layout): each sample read from plain slices, without ndarray's per-index
                    // stride arithmetic and bounds checks (the forming was 10% of an mfs dirty
                    // run's CPU time, perf). The same arithmetic as the strided path below.
                    (Some(v), Some(f), Some(w)) => {
                        let n = vr.ncols();
                        for (k, &c) in chans.iter().enumerate() {
                            let s = c * n..(c + 1) * n;
                            let (v, f, w) = (&v[s.clone()], &f[s.clone()], &w[s]);
                            (vo[k], wo[k]) = self.sample_with(n, |p| v[p], |p| f[p], |p| w[p]);
                        }
                    }
                    _ => {
                        for (k, &c) in chans.iter().enumerate() {
                            (vo[k], wo[k]) = self.sample_with(
                                vr.ncols(),
                                |p| vr[[c, p]],
                                |p| fr[[c, p]],
                                |p| wr[[c, p]],
                            );
                        }
                    }
                }
            }
        });
    }

    /// The Stokes visibility and weight of one sample (row, channel) from its `ncorr`
    /// correlations' values `vis(p)`, flags `flag(p)` and weights `wt(p)` (see
    /// [`StokesRecipe::form`]).
    #[inline(always)]
    fn sample_with(
        &self,
        ncorr: usize,
        vis: impl Fn(usize) -> Complex32,
        flag: impl Fn(usize) -> bool,
        wt: impl Fn(usize) -> f32,
    ) -> (Complex32, f32) {
        let zero = (Complex32::new(0.0, 0.0), 0.0);
        let ok = |p: usize| {
            let v = vis(p);
            !flag(p) && v.re.is_finite() && v.im.is_finite()
        };
        let w = 0.5 * (wt(0) + wt(ncorr - 1));
        if !(w > 0.0 && w.is_finite()) {
            zero
        } else if self.param == StokesParam::PseudoI {
            let mut n = 0usize;
            let mut sum = Complex32::new(0.0, 0.0);
            for &(p, _) in self.terms.iter().filter(|(p, _)| ok(*p)) {
                n += 1;
                sum += vis(p);
            }
            if n == 0 {
                zero
            } else {
                (sum / n as f32, w * n as f32)
            }
        } else if (0..ncorr).all(ok) {
            let v = self.terms.iter().map(|&(p, coef)| vis(p) * coef).sum();
            (v, w * self.multiplicity)
        } else {
            zero
        }
    }

    /// The weights the weighting density counts for each sample of channels `chans`: the
    /// sample's weight (the mean of the first and last correlation's) where no correlation is
    /// flagged, else 0. That is tclean's density for every Stokes value (`VisImagingWeight`
    /// counts a sample only when no correlation is flagged), although pseudoI grids the
    /// unflagged hands of partially flagged samples (with the density's factor at their cell).
    pub fn density_weights(
        &self,
        vis_rcp: ArrayView3<Complex32>,
        flag_rcp: ArrayView3<bool>,
        weight_rcp: ArrayView3<f32>,
        chans: &[usize],
        mut wgt_out: ArrayViewMut2<f32>,
    ) {
        let (nrow, ncorr) = (vis_rcp.shape()[0], vis_rcp.shape()[2]);
        for r in 0..nrow {
            for (k, &c) in chans.iter().enumerate() {
                let w = 0.5 * (weight_rcp[[r, c, 0]] + weight_rcp[[r, c, ncorr - 1]]);
                let all = (0..ncorr).all(|p| usable(&vis_rcp, &flag_rcp, [r, c, p]));
                wgt_out[[r, k]] = if all && w > 0.0 && w.is_finite() {
                    w
                } else {
                    0.0
                };
            }
        }
    }
}

/// Rows per task of the parallel Stokes forming: 64 channels x 2 correlations of 512 rows are
/// ~1 MB of input, large enough that a task's set-up is negligible.
const FORM_ROWS: usize = 512;

/// `f(first_row, vis_rows, wgt_rows)` over blocks of [`FORM_ROWS`] rows of `vis` and `wgt`, on
/// the calling rayon pool (each block is written by one task, so the result does not depend on
/// the thread count).
fn par_row_blocks(
    mut vis: ArrayViewMut2<Complex32>,
    mut wgt: ArrayViewMut2<f32>,
    f: impl Fn(usize, ArrayViewMut2<Complex32>, ArrayViewMut2<f32>) + Sync,
) {
    use rayon::prelude::*;
    let blocks: Vec<_> = vis
        .axis_chunks_iter_mut(Axis(0), FORM_ROWS)
        .zip(wgt.axis_chunks_iter_mut(Axis(0), FORM_ROWS))
        .enumerate()
        .collect();
    blocks
        .into_par_iter()
        .for_each(|(b, (v, w))| f(b * FORM_ROWS, v, w));
}

/// Whether correlation sample `rcp` (row, channel, correlation) is unflagged and finite.
fn usable(vis_rcp: &ArrayView3<Complex32>, flag_rcp: &ArrayView3<bool>, rcp: [usize; 3]) -> bool {
    let v = vis_rcp[rcp];
    !flag_rcp[rcp] && v.re.is_finite() && v.im.is_finite()
}

/// Rotation of visibilities from a field's phase centre to the image phase centre: the new uvw
/// (`rot` uvw) and the phase term `dw = phase . uvw` (metres, the old uvw), which is
/// `w_old - w_new` for a rotation within one frame.
#[derive(Debug, Clone)]
pub struct PhaseShift {
    rot: [[f64; 3]; 3],
    phase: [f64; 3],
}

fn mat_mul(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut out = [[0.0; 3]; 3];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    out
}

fn transpose(a: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut out = [[0.0; 3]; 3];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = a[j][i];
        }
    }
    out
}

impl PhaseShift {
    /// The rigid rotation from `from` to `to` (one frame).
    fn rigid(from: &Direction, to: &Direction) -> Self {
        let rot = from.uvw_rotation_to(to);
        PhaseShift {
            rot,
            phase: [-rot[2][0], -rot[2][1], 1.0 - rot[2][2]],
        }
    }

    /// The shift from a field's phase centre to the image centre, both in whatever frame
    /// (`sky` supplies the epoch and observatory the frames need). `None` when the two are the
    /// same direction in the same frame (within 1e-12 rad), so no work is needed.
    ///
    /// Different frames: as casacore's `UVWMachine` (which tclean's FTMachine uses), the
    /// baseline is taken from the field's uvw axes into its frame's equatorial coordinates,
    /// carried into the image's frame by the matrix whose columns are the field frame's x, y and
    /// z axes converted as directions into the image frame (for frames with aberration, e.g.
    /// APP, not exactly a rotation), and projected on the image centre's uvw axes; the phase
    /// term is `(c_f - c_i) . b`, `c_f` the field centre converted into the image frame, `c_i` the
    /// image centre and `b` the carried baseline. For frames related by a rotation (J2000,
    /// ICRS, B1950, GALACTIC, ...) this is the rigid rotation between the two centres.
    pub fn new(
        field_centre: &Direction,
        image_centre: &Direction,
        sky: &SkyContext,
    ) -> Result<Option<Self>, SkyFrameError> {
        if field_centre.frame == image_centre.frame {
            let [l, m, _] = field_centre.lmn_of(image_centre);
            if l.abs() < 1e-12 && m.abs() < 1e-12 {
                return Ok(None);
            }
            return Ok(Some(Self::rigid(field_centre, image_centre)));
        }
        let to = image_centre.frame;
        let from = field_centre.frame;
        let axis = |lon: f64, lat: f64| -> Result<[f64; 3], SkyFrameError> {
            Ok(Direction::new(from, lon, lat)
                .to_frame(to, sky)?
                .unit_vector())
        };
        let half_pi = std::f64::consts::FRAC_PI_2;
        let cols = [axis(0.0, 0.0)?, axis(half_pi, 0.0)?, axis(0.0, half_pi)?];
        // carry[i][j]: component i of the converted axis j.
        let carry = transpose(&cols);
        // Field uvw -> field-frame equatorial -> image-frame equatorial.
        let to_eq = mat_mul(&carry, &transpose(&field_centre.uvw_axes()));
        let rot = mat_mul(&image_centre.uvw_axes(), &to_eq);
        let here = field_centre.to_frame(to, sky)?.unit_vector();
        let out = image_centre.unit_vector();
        let d: Vec<f64> = (0..3).map(|k| here[k] - out[k]).collect();
        let mut phase = [0.0; 3];
        for (j, p) in phase.iter_mut().enumerate() {
            *p = (0..3).map(|k| to_eq[k][j] * d[k]).sum();
        }
        Ok(Some(PhaseShift { rot, phase }))
    }

    /// Rotated (u, v, w) of one row and its phase term (metres; `w_old - w_new` within a frame).
    pub fn rotate(&self, uvw: [f64; 3]) -> ([f64; 3], f64) {
        let mut new = [0.0; 3];
        for (i, n) in new.iter_mut().enumerate() {
            *n = (0..3).map(|k| self.rot[i][k] * uvw[k]).sum();
        }
        (new, (0..3).map(|k| self.phase[k] * uvw[k]).sum())
    }

    /// Phase factor for a w difference `dw_m` at `freq_hz`. With CASA's sign convention
    /// (V = sum I exp(+2 pi i (ul+vm+w(n-1)))), re-phasing to a new centre multiplies by
    /// exp(+2 pi i (w_old - w_new) / lambda).
    pub fn factor(dw_m: f64, freq_hz: f64) -> Complex32 {
        let ph = 2.0 * std::f64::consts::PI * dw_m * freq_hz / SPEED_OF_LIGHT;
        let (s, c) = ph.sin_cos();
        Complex32::new(c as f32, s as f32)
    }

    /// Rotate every row of `uvw_m` in place and apply the phase factor to `vis_rc` (rows x chans at
    /// frequencies `freq_hz`).
    pub fn apply(
        &self,
        uvw_m: &mut Array2<f64>,
        freq_hz: &[f64],
        mut vis_rc: ArrayViewMut2<Complex32>,
    ) {
        for r in 0..uvw_m.nrows() {
            let (new, dw) = self.rotate([uvw_m[[r, 0]], uvw_m[[r, 1]], uvw_m[[r, 2]]]);
            for (c, f) in freq_hz.iter().enumerate() {
                vis_rc[[r, c]] *= Self::factor(dw, *f);
            }
            for (i, n) in new.iter().enumerate() {
                uvw_m[[r, i]] = *n;
            }
        }
    }
}

/// The shift of a field's rows observed at `time_mjd_s` to the image centre (the field's PHASE_DIR
/// polynomial evaluated at that time).
pub fn field_shift(
    field: &pclean_ms::Field,
    time_mjd_s: f64,
    image_centre: &Direction,
    sky: &SkyContext,
) -> Result<Option<PhaseShift>, crate::error::EngineError> {
    let dir = field.phase.at(time_mjd_s);
    PhaseShift::new(&dir, image_centre, sky).map_err(|e| {
        crate::error::EngineError::param(
            "phasecenter",
            format!(
                "field '{}' (PHASE_DIR in {}) cannot be shifted to the image centre {}: {e}",
                field.name,
                dir.frame,
                image_centre.to_casa_string()
            ),
        )
    })
}

/// Zero the weights of rows that are autocorrelations (tclean never images them).
pub fn drop_autocorrelations(ant1: &[i32], ant2: &[i32], mut wgt_rc: ArrayViewMut2<f32>) {
    for (r, (a, b)) in ant1.iter().zip(ant2).enumerate() {
        if a == b {
            wgt_rc.row_mut(r).fill(0.0);
        }
    }
}

/// Sum of the weights of a (row, chan) block, f64 accumulation.
pub fn weight_sum(wgt_rc: ArrayView2<f32>) -> f64 {
    wgt_rc.iter().map(|w| *w as f64).sum()
}

#[cfg(test)]
mod tests;

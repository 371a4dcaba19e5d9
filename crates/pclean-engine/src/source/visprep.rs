//! Turning a chunk of correlations into what the gridder wants: Stokes visibilities with combined
//! weights (flags folded in as zero weight), uvw and visibilities rotated to the image phase centre.

use ndarray::{Array2, ArrayView2, ArrayView3, ArrayViewMut2};
use num_complex::Complex32;
use pclean_core::direction::{SkyContext, SkyFrameError};
use pclean_core::{Correlation, Direction, StokesParam, SPEED_OF_LIGHT};

/// Coefficients that form one Stokes parameter from a chunk's correlations.
#[derive(Debug, Clone)]
pub struct StokesRecipe {
    pub param: StokesParam,
    /// (correlation index, complex coefficient)
    pub terms: Vec<(usize, Complex32)>,
}

impl StokesRecipe {
    /// The recipe for `param` given the correlations present, or `None` when they cannot form it.
    pub fn new(param: StokesParam, corrs: &[Correlation]) -> Option<Self> {
        let terms = param
            .coefficients(corrs)?
            .into_iter()
            .map(|(i, (re, im))| (i, Complex32::new(re as f32, im as f32)))
            .collect();
        Some(StokesRecipe { param, terms })
    }

    /// Form the Stokes visibilities and weights of selected channels `chans` (indices into the
    /// chunk's channel axis) for every row.
    ///
    /// Weight rule (tclean parity): the weight is the mean over the recipe's correlations of their
    /// weights, a flagged correlation contributing zero. For a two-term parallel-hand Stokes I with
    /// one hand flagged, the other hand alone forms the visibility (CASA grids correlations
    /// separately, so a lone unflagged hand still contributes); for any other parameter every term
    /// must be unflagged.
    pub fn form(
        &self,
        vis_rcp: ArrayView3<Complex32>,
        flag_rcp: ArrayView3<bool>,
        weight_rcp: ArrayView3<f32>,
        chans: &[usize],
        mut vis_out: ArrayViewMut2<Complex32>,
        mut wgt_out: ArrayViewMut2<f32>,
    ) {
        let nrow = vis_rcp.shape()[0];
        let lone_hand_ok = matches!(self.param, StokesParam::I) && self.terms.len() == 2;
        let nterms = self.terms.len() as f32;
        for r in 0..nrow {
            for (k, &c) in chans.iter().enumerate() {
                let mut wsum = 0.0f32;
                let mut vsum = Complex32::new(0.0, 0.0);
                let mut nok = 0usize;
                for &(p, coef) in &self.terms {
                    let w = weight_rcp[[r, c, p]];
                    if flag_rcp[[r, c, p]]
                        || w.is_nan()
                        || w <= 0.0
                        || !vis_rcp[[r, c, p]].re.is_finite()
                    {
                        continue;
                    }
                    nok += 1;
                    wsum += w;
                    vsum += vis_rcp[[r, c, p]] * coef * w;
                }
                let (v, w) = if nok == self.terms.len() {
                    // All terms present: weighted combination scaled so equal weights give the
                    // plain coefficient sum.
                    (vsum * (nterms / wsum), wsum / nterms)
                } else if nok == 1 && lone_hand_ok {
                    // vsum = 0.5 * w * V for the lone hand: recover V, weight = mean with a zero.
                    (vsum * (2.0 / wsum), wsum / nterms)
                } else {
                    (Complex32::new(0.0, 0.0), 0.0)
                };
                vis_out[[r, k]] = v;
                wgt_out[[r, k]] = w;
            }
        }
    }
}

/// Rotation of visibilities from a field's phase centre to the image phase centre.
#[derive(Debug, Clone)]
pub struct PhaseShift {
    rot: [[f64; 3]; 3],
}

impl PhaseShift {
    /// The shift from a field's phase centre to the image centre, both in whatever frame
    /// (`sky` supplies the epoch and observatory the frames need). `None` when the two are the
    /// same direction in the same frame (within 1e-12 rad), so no work is needed.
    ///
    /// Different frames: the field centre is converted into the image's frame and the (u, v)
    /// axes are turned by the angle between the two frames' north directions there (found by
    /// converting a point 1e-5 rad north of the field centre), so u, v, w are the same baseline
    /// referred to the image frame's axes; then the usual rotation to the image centre.
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
            return Ok(Some(PhaseShift {
                rot: field_centre.uvw_rotation_to(image_centre),
            }));
        }
        let to = image_centre.frame;
        let here = field_centre.to_frame(to, sky)?;
        const STEP: f64 = 1e-5;
        let north = Direction::new(
            field_centre.frame,
            field_centre.ra_rad,
            field_centre.dec_rad + STEP,
        )
        .to_frame(to, sky)?;
        // Position angle (east of north) of the field frame's north, in the image frame.
        let [l, m, _] = here.lmn_of(&north);
        let theta = l.atan2(m);
        let (s, c) = theta.sin_cos();
        let turn = [[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]];
        let rot = here.uvw_rotation_to(image_centre);
        let mut out = [[0.0; 3]; 3];
        for (i, row) in out.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = (0..3).map(|k| rot[i][k] * turn[k][j]).sum();
            }
        }
        Ok(Some(PhaseShift { rot: out }))
    }

    /// Rotated (u, v, w) of one row and the w difference (old - new), metres.
    pub fn rotate(&self, uvw: [f64; 3]) -> ([f64; 3], f64) {
        let mut new = [0.0; 3];
        for (i, n) in new.iter_mut().enumerate() {
            *n = (0..3).map(|k| self.rot[i][k] * uvw[k]).sum();
        }
        (new, uvw[2] - new[2])
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
mod tests {
    use super::*;
    use ndarray::Array3;

    #[test]
    fn stokes_i_weights_and_flags() {
        let corrs = [Correlation::RR, Correlation::LL];
        let rec = StokesRecipe::new(StokesParam::I, &corrs).unwrap();
        let mut vis = Array3::<Complex32>::zeros((3, 1, 2));
        let mut flag = Array3::<bool>::from_elem((3, 1, 2), false);
        let wgt = Array3::<f32>::from_elem((3, 1, 2), 2.0);
        for r in 0..3 {
            vis[[r, 0, 0]] = Complex32::new(1.0, 1.0);
            vis[[r, 0, 1]] = Complex32::new(3.0, -1.0);
        }
        flag[[1, 0, 1]] = true; // LL flagged in row 1
        flag[[2, 0, 0]] = true;
        flag[[2, 0, 1]] = true; // both flagged in row 2
        let mut v = Array2::<Complex32>::zeros((3, 1));
        let mut w = Array2::<f32>::zeros((3, 1));
        rec.form(
            vis.view(),
            flag.view(),
            wgt.view(),
            &[0],
            v.view_mut(),
            w.view_mut(),
        );
        // Exact small-integer arithmetic in f32: compare exactly.
        assert_eq!(v[[0, 0]], Complex32::new(2.0, 0.0));
        assert_eq!(w[[0, 0]], 2.0);
        assert_eq!(v[[1, 0]], Complex32::new(1.0, 1.0));
        assert_eq!(w[[1, 0]], 1.0);
        assert_eq!(w[[2, 0]], 0.0);
    }

    #[test]
    fn phase_shift_moves_a_point_source_to_the_centre() {
        // A point source at `src` observed with phase centre `a` has V = exp(+2 pi i (u l + v m + w(n-1))).
        // Re-phased to `src` it must become 1 (to float precision, 1e-5 for phases of ~1e3 radians in f32).
        let a = Direction::parse("J2000 15h22m00 +05d04m00").unwrap();
        let src = Direction::parse("J2000 15h22m10 +05d08m00").unwrap();
        let [l, m, n] = a.lmn_of(&src);
        let f = 1.4e9;
        let lam = SPEED_OF_LIGHT / f;
        let mut uvw = Array2::<f64>::zeros((4, 3));
        let base = [
            [100.0, 2000.0, 30.0],
            [-1500.0, 300.0, -20.0],
            [700.0, -900.0, 5.0],
            [10.0, 20.0, 3000.0],
        ];
        let mut vis = Array2::<Complex32>::zeros((4, 1));
        for r in 0..4 {
            for k in 0..3 {
                uvw[[r, k]] = base[r][k];
            }
            let ph = 2.0
                * std::f64::consts::PI
                * (base[r][0] * l + base[r][1] * m + base[r][2] * (n - 1.0))
                / lam;
            vis[[r, 0]] = Complex32::new(ph.cos() as f32, ph.sin() as f32);
        }
        let shift = PhaseShift::new(&a, &src, &SkyContext::default())
            .unwrap()
            .unwrap();
        shift.apply(&mut uvw, &[f], vis.view_mut());
        for r in 0..4 {
            assert!(
                (vis[[r, 0]] - Complex32::new(1.0, 0.0)).norm() < 1e-4,
                "{:?}",
                vis[[r, 0]]
            );
        }
    }

    /// Visibilities of a point source observed with a B1950_VLA phase centre, shifted to a
    /// J2000 image centre, equal the visibilities computed directly in J2000 about that centre.
    #[test]
    fn phase_shift_between_frames_matches_direct_visibilities() {
        use pclean_core::DirectionFrame;
        let sky = SkyContext::at(59001.0 * 86400.0, [-1601185.4, -5041977.5, 3554875.9], 0.0);
        let field = Direction::parse("B1950_VLA 12h30m00s +12d20m00s").unwrap();
        let centre = Direction::parse("J2000 12h32m40s +12d06m00s").unwrap();
        let src_j = Direction::parse("J2000 12h32m20s +12d01m00s").unwrap();
        let src_b = src_j.to_frame(DirectionFrame::B1950Vla, &sky).unwrap();
        let f = 1.4e9;
        let lam = SPEED_OF_LIGHT / f;
        let base = [
            [100.0, 20000.0, 30.0],
            [-15000.0, 3000.0, -20.0],
            [7000.0, -9000.0, 5.0],
            [10.0, 20.0, 3000.0],
        ];
        let vis_of = |b: &[f64; 3], c: &Direction, s: &Direction| {
            let [l, m, n] = c.lmn_of(s);
            let ph = 2.0 * std::f64::consts::PI * (b[0] * l + b[1] * m + b[2] * (n - 1.0)) / lam;
            Complex32::new(ph.cos() as f32, ph.sin() as f32)
        };
        let mut uvw = Array2::<f64>::zeros((4, 3));
        let mut vis = Array2::<Complex32>::zeros((4, 1));
        for (r, b) in base.iter().enumerate() {
            for k in 0..3 {
                uvw[[r, k]] = b[k];
            }
            vis[[r, 0]] = vis_of(b, &field, &src_b);
        }
        let shift = PhaseShift::new(&field, &centre, &sky).unwrap().unwrap();
        shift.apply(&mut uvw, &[f], vis.view_mut());
        for r in 0..4 {
            let b = [uvw[[r, 0]], uvw[[r, 1]], uvw[[r, 2]]];
            let want = vis_of(&b, &centre, &src_j);
            // 2e-3: f32 phases of up to ~1e3 rad (1e-4 relative rounding) and the FK4 E-terms,
            // which make B1950 -> J2000 a rotation only to ~1e-6 over the 0.2-degree offsets.
            assert!(
                (vis[[r, 0]] - want).norm() < 2e-3,
                "row {r}: {:?} vs {want:?}",
                vis[[r, 0]]
            );
        }
    }
}

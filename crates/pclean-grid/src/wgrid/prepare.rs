//! A chunk of visibilities made ready for the w planes: rows with `w < 0` conjugated to
//! `(-u, -v, -w)` (exact for a real image), `|w| > wmax` dropped and counted, each value turned
//! by the reference screen `exp(s 2 pi i w eta0)`, and, per plane, the rows that touch it
//! gathered with their kernel weights in w.

use super::layout::{phase, WLayout};
use crate::kernel::EsKernel;
use ndarray::{Array2, ArrayView2};
use num_complex::Complex32;
use pclean_core::SPEED_OF_LIGHT;

/// The chunk with every row's w made non-negative.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Prepared {
    /// `(nrow, 3)` baselines, metres, `w >= 0`.
    pub uvw: Array2<f64>,
    /// Rows conjugated to get there.
    pub flipped: Vec<bool>,
    /// `(nrow, nchan)` weights; 0 where `|w| > wmax` (or not finite).
    pub weight: Array2<f32>,
    /// Visibilities with weight > 0 dropped for `|w| > wmax`.
    pub n_wskipped: u64,
    /// Per plane, the rows with a selected channel whose kernel touches it.
    pub rows_of_plane: Vec<Vec<u32>>,
}

impl Prepared {
    /// Flip, mask and index `uvw_m` / `weight_rc` (validated by the caller) for `layout`.
    pub fn new(
        layout: &WLayout,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        weight_rc: ArrayView2<f32>,
    ) -> Self {
        let nrow = uvw_m.nrows();
        let mut uvw = uvw_m.to_owned();
        let mut weight = weight_rc.to_owned();
        let mut flipped = vec![false; nrow];
        let mut n_wskipped = 0;
        let mut rows_of_plane = vec![Vec::new(); layout.nplanes];
        // Tolerance for the caller's bound on |w| (rounding of its baseline lengths).
        let wlim = layout.wmax * (1.0 + 1e-9);
        for r in 0..nrow {
            if uvw[[r, 2]] < 0.0 {
                flipped[r] = true;
                for k in 0..3 {
                    uvw[[r, k]] = -uvw[[r, k]];
                }
            }
            let wm = uvw[[r, 2]];
            let mut span: Option<(f64, f64)> = None;
            for (c, &f) in freq_hz.iter().enumerate() {
                let wt = weight[[r, c]];
                if wt.is_nan() || wt <= 0.0 {
                    continue;
                }
                let w = wm * f / SPEED_OF_LIGHT;
                // Beyond the bound, or NaN (a corrupt uvw).
                if w.is_nan() || w > wlim {
                    weight[[r, c]] = 0.0;
                    n_wskipped += 1;
                    continue;
                }
                span = Some(span.map_or((w, w), |(a, b)| (a.min(w), b.max(w))));
            }
            if let Some((a, b)) = span {
                let (lo, _) = layout.planes_of(a.min(layout.wmax));
                let (_, hi) = layout.planes_of(b.min(layout.wmax));
                for rows in &mut rows_of_plane[lo..=hi] {
                    rows.push(r as u32);
                }
            }
        }
        Prepared {
            uvw,
            flipped,
            weight,
            n_wskipped,
            rows_of_plane,
        }
    }

    /// w of row `r` at `freq_hz`, wavelengths (clamped into the layout's range).
    #[inline]
    pub fn w(&self, r: usize, freq_hz: f64, layout: &WLayout) -> f64 {
        (self.uvw[[r, 2]] * freq_hz / SPEED_OF_LIGHT).min(layout.wmax)
    }

    /// The reference screen's factor `exp(s 2 pi i w eta0)` of row `r` at `freq_hz`.
    #[inline]
    pub fn ref_phase(&self, r: usize, freq_hz: f64, layout: &WLayout) -> num_complex::Complex64 {
        phase(self.w(r, freq_hz, layout), layout.eta0)
    }

    /// The rows of plane `p`: their baselines `(n, 3)` and weights `(n, nchan)` times the
    /// kernel in w (0 where it does not reach the plane).
    pub fn plane_rows(
        &self,
        p: usize,
        layout: &WLayout,
        kernel: &EsKernel,
        freq_hz: &[f64],
    ) -> (Array2<f64>, Array2<f32>) {
        let rows = &self.rows_of_plane[p];
        let nchan = freq_hz.len();
        let mut uvw = Array2::zeros((rows.len(), 3));
        let mut wt = Array2::zeros((rows.len(), nchan));
        for (i, &r) in rows.iter().enumerate() {
            let r = r as usize;
            uvw.row_mut(i).assign(&self.uvw.row(r));
            for (c, &f) in freq_hz.iter().enumerate() {
                let w0 = self.weight[[r, c]];
                if w0 > 0.0 {
                    let k = layout.weight(kernel, self.w(r, f, layout), p);
                    wt[[i, c]] = (w0 as f64 * k) as f32;
                }
            }
        }
        (uvw, wt)
    }

    /// The values gridded for row `r`: `vis` (conjugated where flipped; 1 for the PSF) times the
    /// reference screen, `(nchan,)` into `out`.
    pub fn row_values(
        &self,
        r: usize,
        vis: Option<ArrayView2<Complex32>>,
        layout: &WLayout,
        freq_hz: &[f64],
        out: &mut [Complex32],
    ) {
        for (c, &f) in freq_hz.iter().enumerate() {
            if self.weight[[r, c]] > 0.0 {
                let v = vis.map_or(num_complex::Complex64::new(1.0, 0.0), |v| {
                    let x = v[[r, c]];
                    let x = if self.flipped[r] { x.conj() } else { x };
                    num_complex::Complex64::new(x.re as f64, x.im as f64)
                });
                let z = v * self.ref_phase(r, f, layout);
                out[c] = Complex32::new(z.re as f32, z.im as f32);
            } else {
                out[c] = Complex32::new(0.0, 0.0);
            }
        }
    }
}

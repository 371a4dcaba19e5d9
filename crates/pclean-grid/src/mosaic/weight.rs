//! The mosaic weight image as tclean 6.7 makes it (`.weight`): each pointing's imaging weights
//! gridded at the uv origin with a band-limited PB^2 kernel, transformed to the image.
//!
//! tclean (`HetArrayConvFunc`, `MosaicFT`) does not use an analytic PB^2 for the weight image: it
//! samples PB^2 on a screen that spans the image (`n` cells), Fourier transforms it to cells of
//! `1 / (n * cell)`, normalises the transform by its sum over `+-S`, crops it to `2 (S + 2)` cells
//! and resamples it with a Lanczos-3 interpolator that is zero within 3 cells of the crop's
//! edges, so that the cells gridded (at the grid centre, phase shifted to the row's pointing) are
//! `-(S - 1)..=S - 2` on both axes. The image of the weight grid is therefore, per pointing `p`,
//!
//! ```text
//! W_p * B(x - x_p),   B(d) = Re sum_{i, j = -(S-1)}^{S-2} c(i, j) e^{2 pi i (i d_x / n_x + j d_y / n_y)},
//! ```
//!
//! `c` the screen's transform divided by its sum over `+-S`. `S` is one more than the first cell
//! along the u and v axes where `|c|` falls below 2.5% of its peak (at least 6, tclean's
//! `supportAndNormalizeLatt`). Measured against tclean 6.7 single-pointing weight images of
//! 12 m and 7 m dishes at five image sizes (docs/decisions.md (s9-mosaic)): within 5e-4 of the
//! peak, including the 7 m's value of 1.017 W_p at its pointing, which CASA's Airy (its blockage
//! term scaled by D/b) makes depend on the box. Because `B` is smooth, the sum is evaluated
//! directly (separably), not by an FFT. A mosaic of different dishes has one kernel per baseline
//! beam (`(VP_a VP_b)^2` screens) with the largest support of them all, as tclean grids every
//! dish pair with one support.

use super::conj::conjugate_support;
use crate::pb::{vp_pair_add_at, PbModel};
use ndarray::Array2;
use num_complex::Complex64;
use std::f64::consts::PI;

/// The level (of the kernel's peak) where tclean ends the weight kernel's support.
const SUPPORT_CUT: f64 = 2.5e-2;
/// tclean's smallest support search result (`trial < 5` is raised to 5).
const MIN_TRIAL: usize = 5;

/// The band-limited PB^2 kernels of one frequency, one per baseline beam, with tclean's common
/// support (`MosaicFT` grids every dish pair with the largest support): `coef[b][(j + h, i + h)]`
/// for `|i|, |j| <= h`.
#[derive(Clone, Debug)]
pub(crate) struct WeightKernels {
    npad: [usize; 2],
    /// The support `S` found on the screens (the kernels are normalised over `+-S`).
    support: usize,
    /// The lowest gridded cell, `-(S' - 1)`; the box is `lo..=-lo - 1` on both axes (`S'` is
    /// `S`, or with `conjbeams` tclean's raised support, [`super::conj::conjugate_support`]).
    lo: i64,
    coef: Vec<Array2<f64>>,
}

impl WeightKernels {
    /// The kernels of the baseline beams `beams` (`(VP_a, VP_b)` models, the screen being
    /// `(VP_a VP_b)^2`) at `freq_hz` for an `nx` x `ny` image of cells `cells_rad`. With
    /// `conj_hz` (tclean's `conjbeams`, `conj.rs`) the screen is `VP_a VP_b` at `freq_hz` times
    /// `VP_a VP_b` at `conj_hz`, and the gridded box is that of tclean's support for the
    /// conjugate kernels ([`super::conj::conjugate_support`]; the normalisation stays over the
    /// screen's own `+-S`).
    pub(crate) fn new(
        beams: &[(PbModel, PbModel)],
        nx: usize,
        ny: usize,
        cells_rad: [f64; 2],
        freq_hz: f64,
        conj_hz: Option<f64>,
    ) -> Self {
        let npad = [nx, ny];
        let [px, py] = npad;
        let cells = [cells_rad[0].abs(), cells_rad[1].abs()];
        let centre = [(px / 2) as f64, (py / 2) as f64];
        let screens: Vec<Array2<f64>> = beams
            .iter()
            .map(|(a, b)| {
                let beam = vp_screen(a, b, px, py, cells, freq_hz);
                match conj_hz {
                    Some(fc) => beam * vp_screen(a, b, px, py, cells, fc),
                    None => beam.mapv(|v| v * v),
                }
            })
            .collect();
        let support = screens.iter().map(support).max().unwrap_or(MIN_TRIAL + 1);
        let limit = px.min(py) / 2 - 1;
        let support = support.min(limit);
        let gridded = conj_hz
            .map_or(support, |fc| conjugate_support(support, fc / freq_hz))
            .min(limit);
        // c(i, j) = sum_y cos(2 pi j dy / py) sum_x screen cos(2 pi i dx / px) for |i|, |j| <= S'
        // (the screen is even about its centre, so the transform is real), cosines tabulated;
        // normalised over +-S, the gridded box [-(S' - 1), S' - 2] kept.
        let cx = cosines(px, gridded, centre[0]);
        let cy = cosines(py, gridded, centre[1]);
        let keep = 1..2 * gridded - 1;
        let inner = gridded - support..=gridded + support;
        let coef = screens
            .iter()
            .map(|screen| {
                let full = cy.t().dot(&screen.dot(&cx));
                let total = full.slice(ndarray::s![inner.clone(), inner.clone()]).sum();
                let kept = full.slice(ndarray::s![keep.clone(), keep.clone()]);
                if total > 0.0 {
                    kept.mapv(|c| c / total)
                } else {
                    kept.to_owned()
                }
            })
            .collect();
        WeightKernels {
            npad,
            support,
            lo: 1 - gridded as i64,
            coef,
        }
    }

    /// The support `S` of the screens (the kernels' normalisation box is `+-S`).
    pub(crate) fn support(&self) -> usize {
        self.support
    }

    /// The support `S'` the kernels are gridded with (the box `-(S' - 1)..=S' - 2`): `S`, or
    /// with `conjbeams` tclean's raised support.
    pub(crate) fn gridded_support(&self) -> usize {
        (1 - self.lo) as usize
    }

    /// `sum_e w_e B_{b_e}(x - x_e)` on an `nx` x `ny` image (`(y, x)`), for entries
    /// `(centre_px, w, beam)`: a pointing's pixel (reference pixel `(nx/2, ny/2)`), its weight
    /// and its baseline beam.
    pub(crate) fn image(
        &self,
        nx: usize,
        ny: usize,
        entries: &[([f64; 2], f64, usize)],
    ) -> Array2<f64> {
        let lo = self.lo;
        let n = (-2 * lo) as usize;
        let [px, py] = [self.npad[0] as f64, self.npad[1] as f64];
        // The weight grid: G(i, j) = sum_e w_e c_e(i, j) e^{-2 pi i (i dx_e / px + j dy_e / py)}.
        let mut grid = Array2::<Complex64>::zeros((n, n));
        for (c, wp, beam) in entries {
            let coef = &self.coef[*beam];
            let dx = c[0] - (nx / 2) as f64;
            let dy = c[1] - (ny / 2) as f64;
            for ((kj, ki), g) in grid.indexed_iter_mut() {
                let (i, j) = ((ki as i64 + lo) as f64, (kj as i64 + lo) as f64);
                let ph = -2.0 * PI * (i * dx / px + j * dy / py);
                *g += Complex64::from_polar(wp * coef[[kj, ki]], ph);
            }
        }
        // Separable evaluation: H(j, x) = sum_i G(i, j) e^{2 pi i i x'/px}, then sum over j.
        let ex = phasors(nx, lo, n, px);
        let ey = phasors(ny, lo, n, py);
        let hx = Array2::from_shape_fn((n, nx), |(kj, x)| {
            (0..n)
                .map(|ki| grid[[kj, ki]] * ex[[x, ki]])
                .sum::<Complex64>()
        });
        Array2::from_shape_fn((ny, nx), |(y, x)| {
            (0..n).map(|kj| (hx[[kj, x]] * ey[[y, kj]]).re).sum::<f64>()
        })
    }
}

/// The baseline beam `VP_a VP_b` at `freq_hz` on an `nx` x `ny` screen of cells `cells_rad`
/// (absolute values) centred at `(nx/2, ny/2)`.
pub(super) fn vp_screen(
    a: &PbModel,
    b: &PbModel,
    nx: usize,
    ny: usize,
    cells_rad: [f64; 2],
    freq_hz: f64,
) -> Array2<f64> {
    let cells = [cells_rad[0].abs(), cells_rad[1].abs()];
    let centre = [(nx / 2) as f64, (ny / 2) as f64];
    let mut beam = Array2::<f32>::zeros((ny, nx));
    vp_pair_add_at(a, b, cells, freq_hz, centre, beam.view_mut());
    beam.mapv(|v| v as f64)
}

/// tclean's support of a weight kernel (`supportAndNormalizeLatt`): one more than the first
/// cell along the u and v axes where the screen's transform falls below [`SUPPORT_CUT`] of its
/// peak, the cell at least [`MIN_TRIAL`].
fn support(screen: &Array2<f64>) -> usize {
    let (py, px) = screen.dim();
    let axis_u = axis_transform(screen.sum_axis(ndarray::Axis(0)).as_slice().unwrap(), px);
    let axis_v = axis_transform(screen.sum_axis(ndarray::Axis(1)).as_slice().unwrap(), py);
    let peak = axis_u[0];
    let limit = axis_u.len().min(axis_v.len());
    let trial = (0..limit)
        .find(|&t| axis_u[t].abs() < SUPPORT_CUT * peak && axis_v[t].abs() < SUPPORT_CUT * peak)
        .unwrap_or(limit.saturating_sub(1));
    trial.max(MIN_TRIAL) + 1
}

/// `e^{2 pi i k (x - n/2) / npad}` for pixels `x < n` and `k` in `lo..lo + m`: `(n, m)`.
fn phasors(n: usize, lo: i64, m: usize, npad: f64) -> Array2<Complex64> {
    Array2::from_shape_fn((n, m), |(x, k)| {
        let d = x as f64 - (n / 2) as f64;
        Complex64::from_polar(1.0, 2.0 * PI * (k as i64 + lo) as f64 * d / npad)
    })
}

/// `cos(2 pi k (x - c) / n)` for `x < n` and `k` in `-h..=h`: `(n, 2h + 1)`.
pub(super) fn cosines(n: usize, h: usize, c: f64) -> Array2<f64> {
    Array2::from_shape_fn((n, 2 * h + 1), |(x, k)| {
        (2.0 * PI * (k as f64 - h as f64) * (x as f64 - c) / n as f64).cos()
    })
}

/// The transform of a 1-D profile `p` (length `n`, centred at `n/2`) at cells `0..n/2`.
fn axis_transform(p: &[f64], n: usize) -> Vec<f64> {
    let c = (n / 2) as f64;
    (0..n / 2)
        .map(|k| {
            p.iter()
                .enumerate()
                .map(|(x, v)| v * (2.0 * PI * k as f64 * (x as f64 - c) / n as f64).cos())
                .sum()
        })
        .collect()
}

//! The properties of tclean's awproject convolution functions that pclean's A-stacking
//! reproduces in the image domain (see [`super::gridder`]): the kernel sum at each sub-cell phase
//! ([`AliasTable`], tclean's flux scale) and the prolate spheroidal of `psterm=True`
//! ([`ps_term`]).
//!
//! tclean's `psterm=True` ([`super::gridder::AwGridder::with_psterm`]): its convolution functions
//! carry the prolate spheroidal `PS` of the field of view ([`ps_term`]) in the image domain, once
//! in the gridding functions and squared in the weight functions. Measured against tclean 6.7 (docs/
//! decisions.md (s14-aw)): the weight image and the PSF are those of `psterm=False` times `PS^2`
//! (the `.pb` times `PS`), the residual times `PS` before its normalisation by the weight image
//! (which cancels it), and the kernel-sum flux scale is gone (`PS` is zero at the other fields
//! of view of the alias sum above, so `S(f) = 1`). Prediction goes through `PS` too (tclean
//! degrids with the same functions): the model, divided by the `.pb` that carries `PS`, is
//! multiplied by it again, so a clean converges to the same sky (measured: restored peak 0.9971).
//! Off the image centre the spheroidal moves with the pointing ([`ps_term_at`]; measured, the
//! PSF then `PS^2` of the pointing over its value at the image centre, which the PSF's
//! normalisation to its peak does: docs/decisions.md (s15-awp)).

use super::beam::AwBeams;
use ndarray::{Array2, ArrayView2};

/// Sub-cell phases per uv cell of tclean's convolution functions (its `Sampling`: 20).
pub const CF_OVERSAMPLING: usize = 20;
/// Lattice points of the power pattern each side of the centre for [`AliasTable`] (the beam is
/// below 1e-6 of its peak beyond a few fields of view for any image of a few beam widths).
pub(crate) const ALIAS_ORDER: usize = 6;

/// `S(f)` of tclean's kernel at its [`CF_OVERSAMPLING`]^2 sub-cell phases (the [`super::gridder`] module docs).
#[derive(Clone, Debug)]
pub struct AliasTable {
    /// `[fv][fu]`, phases `i / CF_OVERSAMPLING` of a cell.
    s: Vec<f32>,
}

impl AliasTable {
    /// The table of the beams `b` sampled on the lattice of fields of view (`lattice`: the
    /// beams on a `(2 ALIAS_ORDER + 1)^2` grid of cell `L`, centre in the middle).
    pub(crate) fn new(lattice: &AwBeams) -> Self {
        let n = CF_OVERSAMPLING;
        let c = ALIAS_ORDER as f64;
        let mut s = vec![0f32; n * n];
        let hand = |p: &Array2<f32>| {
            let total: f64 = p.iter().map(|v| *v as f64).sum();
            let mut t = vec![0f64; n * n];
            for ((ky, kx), v) in p.indexed_iter() {
                let (dy, dx) = (ky as f64 - c, kx as f64 - c);
                for iv in 0..n {
                    for iu in 0..n {
                        let ph = 2.0 * std::f64::consts::PI * (dx * iu as f64 + dy * iv as f64)
                            / n as f64;
                        t[iv * n + iu] += *v as f64 * ph.cos();
                    }
                }
            }
            t.into_iter().map(move |v| v / total)
        };
        for (k, (r, l)) in hand(&lattice.r).zip(hand(&lattice.l)).enumerate() {
            s[k] = (0.5 * (r + l)) as f32;
        }
        AliasTable { s }
    }

    /// The table of functions whose samples sum to 1 at every phase (no A-term: tclean's
    /// `aterm=False`, whose functions are the spheroidal alone).
    pub(crate) fn unit() -> Self {
        AliasTable {
            s: vec![1.0; CF_OVERSAMPLING * CF_OVERSAMPLING],
        }
    }

    /// `S` of a visibility at `(u, v)` in uv cells (tclean rounds the phase to the nearest
    /// 1/20 of a cell).
    pub fn at(&self, u_cells: f64, v_cells: f64) -> f32 {
        let n = CF_OVERSAMPLING as f64;
        let idx = |x: f64| (((x - x.round()) * n).round() as i64).rem_euclid(n as i64) as usize;
        self.s[idx(v_cells) * CF_OVERSAMPLING + idx(u_cells)]
    }

    /// `S` of every visibility of `uvw_m` (rows, metres) at `freq_hz` on an image whose field of
    /// view is `fov_rad` (x, y).
    pub fn factors(
        &self,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        fov_rad: [f64; 2],
    ) -> Array2<f32> {
        Array2::from_shape_fn((uvw_m.nrows(), freq_hz.len()), |(r, c)| {
            let k = freq_hz[c] / pclean_core::SPEED_OF_LIGHT;
            self.at(
                uvw_m[[r, 0]] * k * fov_rad[0],
                uvw_m[[r, 1]] * k * fov_rad[1],
            )
        })
    }

    /// The mean of `S` over all phases (tclean's kernel sum averaged: 0.88 at EVLA L band).
    pub fn mean(&self) -> f64 {
        self.s.iter().map(|v| *v as f64).sum::<f64>() / self.s.len() as f64
    }
}

/// tclean's convolution-function size (`ATerm`'s `CONVSIZE`, in oversampled cells) and its
/// oversampling: the spheroidal of `psterm` spans `CONVSIZE / CF_OVERSAMPLING` (integer
/// division: 102) of the function's image pixels, each `CF_OVERSAMPLING nx / CONVSIZE` image
/// pixels wide.
const CONVSIZE: usize = 2048;

/// The image-domain prolate spheroidal of tclean's `psterm` on an `(ny, nx)` image: `psi(|x| s /
/// (nx/2)) psi(|y| s / (nx/2))`, `x, y` pixels from the centre `(nx/2, ny/2)`, `psi` casacore's
/// spheroidal (order 6, alpha 1; tclean's `PSTerm` takes it from the standard gridder's grid
/// correction), `s = CONVSIZE / (CF_OVERSAMPLING floor(CONVSIZE / CF_OVERSAMPLING))` (1.0039:
/// the spheroidal spans slightly less than the field of view). Both axes scale with `nx`, as
/// tclean's square convolution functions. Measured: tclean's weight-image ratio `psterm=True /
/// False` is this function squared to 0.5% of `PS` at `|x| <= 100` of 128 pixels
/// (docs/decisions.md (s14-aw)).
pub fn ps_term(ny: usize, nx: usize) -> Array2<f32> {
    ps_term_at(ny, nx, [(nx / 2) as f64, (ny / 2) as f64])
}

/// [`ps_term`] centred at pixel `centre_px` `(x, y)`: tclean moves the spheroidal with the rest of
/// its convolution functions by the pointing's phase gradient (measured: a field 45 px from the
/// image centre, tclean's weight-image ratio `psterm=True / False` peaks at the field's pixel and
/// is this function squared; docs/decisions.md (s15-awp)).
pub fn ps_term_at(ny: usize, nx: usize, centre_px: [f64; 2]) -> Array2<f32> {
    let inner = CONVSIZE / CF_OVERSAMPLING;
    let s = CONVSIZE as f64 / (CF_OVERSAMPLING * inner) as f64;
    let half = (nx / 2) as f64;
    let axis = |n: usize, c: f64| -> Vec<f64> {
        (0..n)
            .map(|i| pclean_core::spheroidal::schwab_psi((i as f64 - c).abs() * s / half))
            .collect()
    };
    let (px, py) = (axis(nx, centre_px[0]), axis(ny, centre_px[1]));
    Array2::from_shape_fn((ny, nx), |(y, x)| (py[y] * px[x]) as f32)
}

//! w-gridding: tclean's `wproject` and `widefield` gridders as exact w-stacking with the ES kernel
//! in w (Arras et al. 2021, the method of ducc's wgridder and WSClean's default).
//!
//! The dirty image with the w term,
//! `I(l, m) = sum_k c_k Re[exp(s 2 pi i (u_k l + v_k m + w_k (n - 1)))]` (`n = sqrt(1 - l^2 -
//! m^2)`, `s = FOURIER_SIGN`, no `1/n`: models are Jy per pixel, so a point source's dirty peak
//! is its flux, as tclean's), is computed as follows:
//! 1. rows with `w < 0` become `(-u, -v, -w)` with conjugated values (exact for a real image), so
//!    `0 <= w <= wmax`; each value is turned by `exp(s 2 pi i w eta0)`, `eta0` the middle of the
//!    image's range of `n - 1`;
//! 2. each visibility is spread over the w planes within `W / 2` spacings by the same ES kernel
//!    (support `W`, shape `beta`) the 2-D gridder uses in u and v, and gridded in u and v into
//!    each plane by that gridder ([`Gridder`]);
//! 3. each plane is transformed (2-D FFT, grid correction in l and m) and added to the image
//!    times its screen `exp(s 2 pi i w_p (n - 1 - eta0))`;
//! 4. the sum is divided by the kernel's transform in w at `dw (n - 1 - eta0)`.
//!
//! The plane spacing `dw = 1 / (2 sigma max|n - 1 - eta0|)` keeps the image inside the fraction
//! `1 / sigma` of the period `1 / dw` in which the kernel (chosen for `epsilon` at oversampling
//! `sigma`) is accurate, so the accuracy in w is that of u and v ([`WLayout`]). Prediction is the
//! exact adjoint: the model times the correction and each plane's conjugate screen, transformed
//! per plane, degridded and summed with the kernel weights in w.
//!
//! A pass keeps its prepared visibilities ([`WBuffer`]) while they take less than
//! [`BUFFER_SHARE`] of the `nplanes` grids; its image then grids and transforms the planes one
//! at a time into one reused grid (memory: one grid plus the visibilities). A pass with more
//! visibilities grids them into one grid per plane as they stream through the seam (memory:
//! `nplanes` grids, the bound [`crate::VisGridder::planes_bytes`] reports). Both give the same
//! image bit for bit: each plane's grid receives the same chunks in the same order.
//!
//! # Where the time and memory go (session 15, docs/decisions.md (s15-grid))
//! `bench/wgrid_bench.py` (vla_widefield, 84 240 visibilities, 1024^2, epsilon 1e-4: W = 7,
//! sigma 1.2, 9 planes of which the data touch 8), `perf record` of the whole `pclean image`
//! run with 2 threads: the image side ~17% of the samples (the correction in w, then
//! interpolated per pixel, 6.5%: now one value per octant-table entry; the screens' octant
//! lookups 3%; the per-plane accumulation 4-7%), the planes' FFTs ~16%, the tile kernels 9%,
//! the MS read, weighting and products the rest. Peak RSS 62-63 MiB: one reused grid, the
//! buffered visibilities, the real accumulator and the two octant screen tables.

mod buffer;
mod layout;
mod prepare;
mod seam;
#[cfg(test)]
mod tests;

pub use buffer::WBuffer;
pub use layout::{eta_min, n_minus_1, WCorrection, WLayout};

use crate::gridder::{GridError, Gridder, Precision};
use std::sync::Arc;

/// Below this `epsilon` the w-gridder's planes are double precision. The corrections in l, m
/// and w multiply at the image corners and amplify the grids' rounding: on a 9-degree field
/// (the unit tests) single-precision planes gave a largest error of 4.5e-3 of the peak at
/// epsilon 1e-6 (double: within 1e-5), and 1.05e-4 at epsilon 1e-4.
pub const W_SINGLE_PRECISION_MIN_EPSILON: f64 = 1e-5;

/// A pass keeps its visibilities while they take at most this share of the bytes of its
/// `nplanes` grids, and grids them into all the planes beyond (then the buffer and the grids
/// coexist while it is emptied: at most `1 + BUFFER_SHARE` times the grids).
pub const BUFFER_SHARE: f64 = 0.25;

/// The precision of the w-gridder's planes at `epsilon`.
pub fn precision_for(epsilon: f64) -> Precision {
    if epsilon < W_SINGLE_PRECISION_MIN_EPSILON {
        Precision::Double
    } else {
        Precision::Single
    }
}

/// The w-gridder over a 2-D ES [`Gridder`]: its kernel, grid and accuracy, plus the w planes.
/// Cheap to clone, `Send + Sync`; implements [`crate::VisGridder`] (`wproject`).
#[derive(Clone, Debug)]
pub struct WGridder {
    base: Gridder,
    layout: WLayout,
    correction: Arc<WCorrection>,
    nthreads: usize,
    name: &'static str,
    /// [`BUFFER_SHARE`] (changed by the tests only).
    buffer_share: f64,
}

impl WGridder {
    /// The w-gridder of `base`'s geometry and kernel for baselines with `|w| <= wmax`
    /// wavelengths (at the highest frequency; larger ones are skipped and counted), with at
    /// least `min_planes` w planes (tclean's `wprojplanes` when positive: more planes make the
    /// spacing finer, never coarser than the accuracy needs).
    pub fn new(base: Gridder, wmax: f64, min_planes: usize) -> Result<Self, GridError> {
        let spec = *base.spec();
        let eta_lo = eta_min(spec.nx, spec.ny, spec.cell_x_rad, spec.cell_y_rad)?;
        let layout = WLayout::new(
            base.kernel_support(),
            base.oversampling(),
            eta_lo,
            wmax,
            min_planes,
        )?;
        let f_max = layout.dw * (-0.5 * eta_lo);
        let correction = Arc::new(WCorrection::new(base.kernel(), f_max));
        Ok(WGridder {
            base,
            layout,
            correction,
            nthreads: 0,
            name: "wproject",
            buffer_share: BUFFER_SHARE,
        })
    }

    /// The same gridder, its calls on `nthreads` threads (0 = all cores).
    pub fn with_threads(&self, nthreads: usize) -> Self {
        WGridder {
            nthreads,
            ..self.clone()
        }
    }

    /// The same gridder keeping a pass's visibilities up to `share` of its grids' bytes.
    #[cfg(test)]
    pub(crate) fn with_buffer_share(&self, share: f64) -> Self {
        WGridder {
            buffer_share: share,
            ..self.clone()
        }
    }

    /// The same gridder reporting tclean's name `name` (`wproject` or `widefield`).
    pub fn named(self, name: &'static str) -> Self {
        WGridder { name, ..self }
    }

    /// The 2-D gridder each plane uses.
    pub fn base(&self) -> &Gridder {
        &self.base
    }

    /// The w planes.
    pub fn layout(&self) -> &WLayout {
        &self.layout
    }

    /// Number of w planes (uv grids per pass).
    pub fn nplanes(&self) -> usize {
        self.layout.nplanes
    }
}

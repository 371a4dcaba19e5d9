//! The contract between the engine's major cycle and the deconvolvers' minor cycles.
//!
//! A deconvolver sees only images of one plane (one channel, one Stokes): the residual, the model,
//! the PSF (same shape as the image, peak 1 at pixel `(ny/2, nx/2)`) and an optional clean mask.
//! It subtracts components from its copy of the residual, adds them to the model, and returns an
//! outcome. The engine then predicts the model's visibilities, subtracts them and re-images the
//! true residual (the major cycle).

use ndarray::{ArrayView2, ArrayViewMut2};
use serde::Serialize;

/// Limits for one minor cycle (set by the engine from tclean's iteration control).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinorControls {
    /// Loop gain (tclean `gain`, default 0.1).
    pub gain: f32,
    /// Maximum number of components in this cycle (the engine's cycleniter for this plane).
    pub max_iterations: usize,
    /// Stop when the peak |residual| inside the mask falls to or below this (Jy/beam): the larger of
    /// the global threshold and the cycle threshold.
    pub threshold: f32,
}

/// Why a minor cycle ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MinorStop {
    /// `max_iterations` components were taken.
    IterationLimit,
    /// The peak residual within the mask reached `threshold`.
    Threshold,
    /// The mask is empty (nothing may be cleaned).
    ZeroMask,
    /// The peak residual grew or stopped changing (e.g. multiscale divergence).
    NoProgress,
}

/// What a minor cycle did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MinorOutcome {
    pub iterations: usize,
    /// Peak |residual| within the mask at the start of the cycle, Jy/beam.
    pub start_peak: f32,
    /// Peak |residual| within the mask at the end of the cycle (image-plane estimate), Jy/beam.
    pub end_peak: f32,
    /// Flux added to the model in this cycle, Jy.
    pub flux_added: f64,
    pub stop: MinorStop,
}

/// One plane's images as a minor cycle sees them. Arrays are `[[y, x]]`, all the same shape.
pub struct PlaneImages<'a> {
    pub residual: ArrayViewMut2<'a, f32>,
    pub model: ArrayViewMut2<'a, f32>,
    pub psf: ArrayView2<'a, f32>,
    /// Clean mask, `true` = may be cleaned; `None` = the whole image.
    pub mask: Option<ArrayView2<'a, bool>>,
}

/// A deconvolution algorithm. One instance per plane; it may keep state between minor cycles
/// (e.g. multiscale's scale-convolved PSFs), computed on the first call.
pub trait Deconvolver: Send {
    /// Run one minor cycle on `images` within `controls`.
    fn minor_cycle(&mut self, images: PlaneImages<'_>, controls: &MinorControls) -> MinorOutcome;

    /// tclean's name of the algorithm.
    fn name(&self) -> &'static str;

    /// Whether this algorithm cleans the Stokes planes of a channel together (tclean's `clark`
    /// with several Stokes planes); the engine then calls [`Deconvolver::minor_cycle_stokes`] on
    /// the first plane's deconvolver with all of the channel's planes.
    fn joint_stokes(&self) -> bool {
        false
    }

    /// One minor cycle on several Stokes planes together; only called when
    /// [`Deconvolver::joint_stokes`] is true. The default runs each plane on its own.
    fn minor_cycle_stokes(
        &mut self,
        planes: Vec<PlaneImages<'_>>,
        controls: &MinorControls,
    ) -> MinorOutcome {
        let mut out: Option<MinorOutcome> = None;
        for p in planes {
            let o = self.minor_cycle(p, controls);
            out.get_or_insert(o);
        }
        out.unwrap_or(MinorOutcome {
            iterations: 0,
            start_peak: 0.0,
            end_peak: 0.0,
            flux_added: 0.0,
            stop: MinorStop::ZeroMask,
        })
    }
}

/// Peak |value| of `img` where `mask` allows, with its position `(y, x)`; `None` if the mask is empty.
pub fn masked_peak(
    img: ArrayView2<f32>,
    mask: Option<ArrayView2<bool>>,
) -> Option<(f32, usize, usize)> {
    let mut best: Option<(f32, usize, usize)> = None;
    for ((y, x), v) in img.indexed_iter() {
        if let Some(m) = &mask {
            if !m[[y, x]] {
                continue;
            }
        }
        let a = v.abs();
        if best.is_none_or(|(b, _, _)| a > b) {
            best = Some((a, y, x));
        }
    }
    best
}

//! tclean's `usemask='auto-multithresh'`: one image plane's clean mask, remade once per major
//! cycle from the current residual.
//!
//! # Source
//! `SDMaskHandler::autoMask` (statistics, pb handling), `SDMaskHandler::autoMaskByMultiThreshold`
//! (thresholds, prune, smooth, grow, negative mask, combination), `SDMaskHandler::skipChannels`
//! (when a plane stops being updated), `SDMaskHandler::calcRobustImageStatistics`
//! (`fastnoise=False` statistics), `SDMaskHandler::makeMaskByPerChanThreshold`,
//! `SDMaskHandler::convolveMask`, `SDMaskHandler::pixelBeamArea` (LibRA/CASA
//! `synthesis/ImagerObjects/SDMaskHandler.cc`), `SIImageStore::getPSFSidelobeLevel`
//! (`SIImageStore.cc`), `SynthesisDeconvolver::setAutoMask` (what `iterdone` and
//! `isthresholdreached` are), and Kepley et al. 2020, PASP 132, 024505.
//!
//! # The steps, per plane (as CASA does them)
//! 0. A plane whose "stop" flag is set (see 9) is skipped: its mask stays as it is.
//! 1. pb mask = `pb > pblimit` (when a pb is given and `pblimit > 0`); a non-empty previous mask is
//!    cut to it. Statistics use only pb-mask pixels.
//! 2. Statistics: `max`, `min` of the residual (classic). Location and scale: median and
//!    MAD (rms = 1.4826 MAD). `fastnoise=true`: over all pb-mask pixels. `fastnoise=false`: over
//!    the pixels outside the previous mask, or, when this plane's previous mask is empty, with
//!    the Chauvenet criterion (z from the number of points, at most 5 clipping iterations).
//! 3. Thresholds (median `m`): sidelobe `m + sidelobe_level * sidelobethreshold * max(|max|,|min|)`,
//!    noise `m + noisethreshold * rms`, low-noise `m + lownoisethreshold * rms`;
//!    mask threshold = max(sidelobe, noise), "sidelobe" type when the sidelobe one wins;
//!    low mask threshold = max(sidelobe, low-noise); negative mask threshold
//!    `m - max(sidelobe_level * sidelobethreshold * absmax, negativethreshold * rms)`.
//!    A threshold mask is `residual > t`, or `residual < t` when `t < 0` (CASA's rule).
//! 4. New mask: threshold mask (outside the pb mask cleared) -> prune 4-connected regions smaller
//!    than `minbeamfrac x beam area` (if `minbeamfrac > 0`) -> convolve with the beam scaled by
//!    `smoothfactor` -> keep pixels above `cutthreshold x` the smoothed maximum.
//! 5. Grow (only when `iter_done > 0` and `growiterations > 0`): constraint = low mask threshold
//!    mask; the previous mask (the whole mask, including negative regions) is dilated
//!    `growiterations` times with a cross element from pixels inside the constraint and cut to
//!    it -> prune (if `dogrowprune` and `minbeamfrac > 0`) -> smooth -> cut as in 4.
//! 6. Positive mask (kept across cycles) |= grown | new, inside the pb mask.
//! 7. Negative mask (if `negativethreshold > 0`): threshold -> smooth -> cut (no pruning).
//! 8. Mask = previous mask | positive mask | negative mask, inside the pb mask.
//! 9. Stop flag (`skipChannels`), only for planes whose mask threshold was the noise one: set when
//!    the new mask is empty, or when `minpercentchange >= 0`, the cycle threshold has reached
//!    the global threshold, and the pixel count changed by 0 or by less than
//!    `minpercentchange %` of the previous count.
//!
//! # Across channels (what the engine must do for cubes)
//! - The PSF sidelobe level is one number for the whole cube: the maximum over all planes of
//!   [`psf_sidelobe_level`] (`getPSFSidelobeLevel` loops over channels and Stokes, each with its
//!   own fitted beam). Compute it once and pass it in [`AutoMaskInputs::sidelobe_level`].
//! - The beam used for pruning and smoothing is the residual's single beam, or the **common
//!   beam** of the cube's per-plane beams.
//! - `iter_done` is the cube's cumulative minor-cycle iteration count (`itsIterDone`), so growth
//!   starts in every channel once any channel has cleaned.
//! - Everything else is per plane; statistics are per plane.
//!
//! # Differences from CASA
//! - The smoothing is an FFT convolution with the Gaussian truncated at 2.5 FWHM (CASA's
//!   `Image2DConvolver` builds its own kernel); only the mask's cut at `cutthreshold` of the
//!   smoothed peak is used, so the kernel normalisation does not matter. The cut is never below
//!   `1e-6 x` the smoothed peak, so FFT round-off cannot add pixels when `cutthreshold` is ~0.
//! - On the first cycle with `nsigma > 0`, tclean reuses the robust statistics it computed for the
//!   nsigma threshold (`robuststatsrec`); here statistics are always computed as in step 2.
//! - The Chauvenet z-score is solved continuously (`n erfc(z/√2) = 0.5`), where casacore
//!   bisects between tabulated values; the two agree to ~1e-3 in z.

mod smooth;
mod stats;

use crate::masks::{self, prune_regions, PruneCount};
use ndarray::{Array2, ArrayView2};
use pclean_core::Beam;
use serde::{Deserialize, Serialize};
use smooth::{smooth_and_cut, GaussianShape, GaussianSmoother};
pub use stats::plane_statistics;

/// tclean's auto-multithresh parameters (defaults = tclean's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoMaskParams {
    /// Mask threshold as a multiple of (PSF sidelobe level x peak residual). Default 3.0.
    pub sidelobethreshold: f32,
    /// Mask threshold as a multiple of the robust rms. Default 5.0.
    pub noisethreshold: f32,
    /// Growth constraint as a multiple of the robust rms. Default 1.5.
    pub lownoisethreshold: f32,
    /// Negative-feature threshold as a multiple of the robust rms; 0 disables. Default 0.0.
    pub negativethreshold: f32,
    /// Smoothing kernel = beam x smoothfactor. Default 1.0.
    pub smoothfactor: f32,
    /// Regions smaller than this fraction of the beam area are pruned; <= 0 disables. Default 0.3.
    pub minbeamfrac: f32,
    /// Cut of the smoothed mask, as a fraction of its peak. Default 0.01.
    pub cutthreshold: f32,
    /// Number of binary-dilation steps when growing the previous mask. Default 75.
    pub growiterations: usize,
    /// Prune the grown mask too. Default true.
    pub dogrowprune: bool,
    /// Stop updating a plane whose mask changes by less than this percentage (once the cycle
    /// threshold has reached the global threshold); -1 disables. Default -1.0.
    pub minpercentchange: f32,
    /// Statistics over the whole pb region (true) or outside the current mask / Chauvenet
    /// (false). Default true.
    pub fastnoise: bool,
}

impl Default for AutoMaskParams {
    fn default() -> Self {
        AutoMaskParams {
            sidelobethreshold: 3.0,
            noisethreshold: 5.0,
            lownoisethreshold: 1.5,
            negativethreshold: 0.0,
            smoothfactor: 1.0,
            minbeamfrac: 0.3,
            cutthreshold: 0.01,
            growiterations: 75,
            dogrowprune: true,
            minpercentchange: -1.0,
            fastnoise: true,
        }
    }
}

/// Everything about one plane that auto-multithresh reads besides the residual.
#[derive(Debug, Clone, Copy)]
pub struct AutoMaskInputs<'a> {
    /// Primary beam (or weight) plane `[[y, x]]`; `None` = no pb mask.
    pub pb_yx: Option<ArrayView2<'a, f32>>,
    /// pb level; the pb mask is `pb > pblimit`, used only when `pblimit > 0`.
    pub pblimit: f32,
    /// Beam for pruning and smoothing (the cube's common beam when beams vary per plane).
    pub beam: Beam,
    /// |RA increment|, radians per pixel.
    pub cell_x_rad: f64,
    /// |Dec increment|, radians per pixel.
    pub cell_y_rad: f64,
    /// PSF sidelobe level (max over the cube, see [`psf_sidelobe_level`]).
    pub sidelobe_level: f32,
    /// Cumulative minor-cycle iterations so far (tclean's `iterdone`); growth needs `> 0`.
    pub iter_done: u64,
    /// The cycle threshold has reached the global threshold (`isThresholdReached`); only used
    /// by `minpercentchange`.
    pub threshold_reached: bool,
}

/// Per-plane state carried across major cycles.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoMaskState {
    mask_yx: Array2<bool>,
    positive_yx: Array2<bool>,
    stopped: bool,
    n_updates: usize,
}

impl AutoMaskState {
    /// Fresh state with an empty mask.
    pub fn new(ny: usize, nx: usize) -> Self {
        Self::with_mask(Array2::from_elem((ny, nx), false))
    }

    /// Start from an existing mask (e.g. a mask image reused from an earlier run). The positive
    /// mask starts empty, as tclean's `posmask` does.
    pub fn with_mask(mask_yx: Array2<bool>) -> Self {
        let positive_yx = Array2::from_elem(mask_yx.dim(), false);
        AutoMaskState {
            mask_yx,
            positive_yx,
            stopped: false,
            n_updates: 0,
        }
    }

    /// The current clean mask.
    pub fn mask(&self) -> ArrayView2<'_, bool> {
        self.mask_yx.view()
    }

    /// Take the mask out.
    pub fn into_mask(self) -> Array2<bool> {
        self.mask_yx
    }

    /// The positive-only part tracked across cycles (tclean's `posmask`).
    pub fn positive_mask(&self) -> ArrayView2<'_, bool> {
        self.positive_yx.view()
    }

    /// True once the plane has stopped being updated (tclean's per-channel `chanFlag`).
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Number of completed updates of this plane.
    pub fn n_updates(&self) -> usize {
        self.n_updates
    }

    /// The whole state (a major-cycle checkpoint): mask, positive mask, stopped, updates done.
    pub fn parts(&self) -> (&Array2<bool>, &Array2<bool>, bool, usize) {
        (
            &self.mask_yx,
            &self.positive_yx,
            self.stopped,
            self.n_updates,
        )
    }

    /// The state [`AutoMaskState::parts`] gave (a run resumed from its checkpoint).
    pub fn from_parts(
        mask_yx: Array2<bool>,
        positive_yx: Array2<bool>,
        stopped: bool,
        n_updates: usize,
    ) -> Self {
        AutoMaskState {
            mask_yx,
            positive_yx,
            stopped,
            n_updates,
        }
    }
}

/// Why auto-multithresh could not run on a plane.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AutoMaskError {
    /// The beam is not usable for pruning and smoothing.
    #[error("auto-multithresh needs a finite, positive beam (got major {major_rad} rad, minor {minor_rad} rad); fit the PSF first")]
    BadBeam { major_rad: f64, minor_rad: f64 },
    /// The cell sizes are not positive and finite.
    #[error("cell sizes must be positive and finite (got {cell_x_rad}, {cell_y_rad} rad)")]
    BadCell { cell_x_rad: f64, cell_y_rad: f64 },
    /// An input plane or the state has a different shape from the residual.
    #[error("{what} has shape {got:?} but the residual is {want:?}")]
    ShapeMismatch {
        what: &'static str,
        got: (usize, usize),
        want: (usize, usize),
    },
}

/// How the noise (median, MAD) was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoiseMethod {
    /// `fastnoise=true`: all pixels in the pb mask.
    Classic,
    /// `fastnoise=false`, empty previous mask: Chauvenet-clipped pixels in the pb mask.
    Chauvenet,
    /// `fastnoise=false`: pixels in the pb mask and outside the previous mask.
    OutsideMask,
}

/// Residual statistics used for the thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlaneStats {
    /// Maximum residual in the pb mask.
    pub max: f32,
    /// Minimum residual in the pb mask.
    pub min: f32,
    /// Median (location).
    pub median: f32,
    /// Median absolute deviation from the median.
    pub mad: f32,
    /// 1.4826 x MAD.
    pub robust_rms: f32,
    /// Pixels that went into the median and MAD.
    pub npts: usize,
    pub method: NoiseMethod,
}

/// Which threshold set the mask threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThresholdKind {
    Sidelobe,
    Noise,
}

/// The thresholds of one plane (all in residual units, median included).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub sidelobe: f32,
    pub noise: f32,
    pub low_noise: f32,
    /// `median + negativethreshold x rms` (reported as CASA logs it).
    pub negative: f32,
    /// max(sidelobe, noise): the threshold of the new mask.
    pub mask: f32,
    /// max(sidelobe, low-noise): the growth constraint.
    pub low_mask: f32,
    /// `median - max(sidelobe part, negativethreshold x rms)`: the negative-mask threshold.
    pub negative_mask: f32,
    pub kind: ThresholdKind,
}

/// What one auto-multithresh update did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoMaskReport {
    /// The plane was already stopped (or had no pixel in the pb mask): nothing was done.
    pub skipped: bool,
    pub stats: Option<PlaneStats>,
    pub thresholds: Option<Thresholds>,
    /// minbeamfrac x beam area, pixels.
    pub prune_size_pix: f64,
    /// Regions in the threshold mask, and how many were pruned.
    pub threshold_regions: PruneCount,
    /// Whether the grow step ran, and its regions / pruned regions.
    pub grew: bool,
    pub grow_regions: PruneCount,
    /// Pixels in the negative mask.
    pub n_negative_pixels: usize,
    /// Mask pixels before and after.
    pub n_prev_pixels: usize,
    pub n_pixels: usize,
    /// 100 x |after - before| / before (0 when both are 0, infinity when only before is 0).
    pub changed_percent: f64,
    /// The plane's stop flag after this update.
    pub stopped: bool,
}

/// PSF sidelobe level of one plane, as `SIImageStore::getPSFSidelobeLevel`:
/// `max(|min(0, min psf)|, max(0, max(psf - G)))` with `G` the unit-peak Gaussian of `beam` centred
/// on pixel `(nx/2, ny/2)` (the image reference pixel) and set to 0 beyond `exp(-20)`.
/// For a cube take the maximum over planes, each with its own beam.
pub fn psf_sidelobe_level(
    psf_yx: ArrayView2<f32>,
    beam: &Beam,
    cell_x_rad: f64,
    cell_y_rad: f64,
) -> f32 {
    let (ny, nx) = psf_yx.dim();
    let (refx, refy) = ((nx / 2) as f64, (ny / 2) as f64);
    let g = GaussianShape::new(beam, cell_x_rad, cell_y_rad);
    let (mut allmin, mut allmax) = (0.0f32, 0.0f32);
    for ((y, x), &p) in psf_yx.indexed_iter() {
        if !p.is_finite() {
            continue;
        }
        allmin = allmin.min(p);
        let r = g.exponent(x as f64 - refx, y as f64 - refy);
        let gv = if r < 20.0 { (-r).exp() as f32 } else { 0.0 };
        allmax = allmax.max(p - gv);
    }
    allmin.abs().max(allmax.abs())
}

/// Beam area in pixels: `pi bmaj bmin / (4 ln 2) / |dx dy|` (`SDMaskHandler::pixelBeamArea`).
pub fn beam_area_pixels(beam: &Beam, cell_x_rad: f64, cell_y_rad: f64) -> f64 {
    beam.area_sr() / (cell_x_rad * cell_y_rad).abs()
}

/// Update one plane's mask from its residual. The new mask is in `state.mask()`.
pub fn auto_multithresh(
    residual_yx: ArrayView2<f32>,
    inputs: &AutoMaskInputs<'_>,
    params: &AutoMaskParams,
    state: &mut AutoMaskState,
) -> Result<AutoMaskReport, AutoMaskError> {
    let dim = residual_yx.dim();
    check_shape("state mask", state.mask_yx.dim(), dim)?;
    if let Some(pb) = inputs.pb_yx {
        check_shape("pb", pb.dim(), dim)?;
    }
    let beam = inputs.beam;
    if !beam.is_valid() {
        return Err(AutoMaskError::BadBeam {
            major_rad: beam.major_rad,
            minor_rad: beam.minor_rad,
        });
    }
    let (cx, cy) = (inputs.cell_x_rad, inputs.cell_y_rad);
    if !(cx.is_finite() && cy.is_finite() && cx > 0.0 && cy > 0.0) {
        return Err(AutoMaskError::BadCell {
            cell_x_rad: cx,
            cell_y_rad: cy,
        });
    }
    let prune_size = if params.minbeamfrac > 0.0 {
        params.minbeamfrac as f64 * beam_area_pixels(&beam, cx, cy)
    } else {
        0.0
    };
    let n_before = masks::count(state.mask_yx.view());
    let mut report = AutoMaskReport {
        skipped: true,
        stats: None,
        thresholds: None,
        prune_size_pix: prune_size,
        threshold_regions: PruneCount::default(),
        grew: false,
        grow_regions: PruneCount::default(),
        n_negative_pixels: 0,
        n_prev_pixels: n_before,
        n_pixels: n_before,
        changed_percent: 0.0,
        stopped: state.stopped,
    };
    if state.stopped {
        return Ok(report);
    }

    // 1. pb mask; the previous mask is cut to it.
    let pbm: Option<Array2<bool>> = match inputs.pb_yx {
        Some(pb) if inputs.pblimit > 0.0 => Some(masks::pb_mask(pb, inputs.pblimit)),
        _ => None,
    };
    if let Some(p) = &pbm {
        masks::intersect_into(&mut state.mask_yx, p.view());
    }
    let n_prev = masks::count(state.mask_yx.view());
    report.n_prev_pixels = n_prev;

    // 2. statistics.
    let Some(stats) = plane_statistics(
        residual_yx,
        pbm.as_ref().map(|p| p.view()),
        state.mask_yx.view(),
        params.fastnoise,
    ) else {
        // CASA: "No image statistics possible on zero element data" -> return unchanged.
        report.n_pixels = n_prev;
        return Ok(report);
    };
    report.skipped = false;
    report.stats = Some(stats);

    // 3. thresholds.
    let th = thresholds(&stats, inputs.sidelobe_level, params);
    report.thresholds = Some(th);

    let smoother = GaussianSmoother::new(
        dim,
        &GaussianShape::new(
            &Beam {
                major_rad: beam.major_rad * params.smoothfactor as f64,
                minor_rad: beam.minor_rad * params.smoothfactor as f64,
                pa_rad: beam.pa_rad,
            },
            cx,
            cy,
        ),
    );

    // 4. new mask from the threshold.
    let mut thresh = threshold_mask(residual_yx, th.mask);
    if params.minbeamfrac > 0.0 {
        if let Some(p) = &pbm {
            masks::intersect_into(&mut thresh, p.view());
        }
        report.threshold_regions = prune_regions(&mut thresh, prune_size);
    }
    let new_mask = smooth_and_cut(&smoother, thresh.view(), params.cutthreshold);

    // 5. grow the previous mask.
    let mut grown = Array2::from_elem(dim, false);
    if inputs.iter_done > 0 && params.growiterations > 0 {
        report.grew = true;
        let constraint = threshold_mask(residual_yx, th.low_mask);
        let dogrow = n_prev > 0;
        let steps = if dogrow { params.growiterations } else { 0 };
        let mut g = masks::grow_within(state.mask_yx.view(), constraint.view(), steps);
        if params.minbeamfrac > 0.0 && params.dogrowprune {
            report.grow_regions = prune_regions(&mut g, prune_size);
        }
        grown = smooth_and_cut(&smoother, g.view(), params.cutthreshold);
    }

    // 6. positive mask.
    masks::union_into(&mut state.positive_yx, grown.view());
    masks::union_into(&mut state.positive_yx, new_mask.view());
    if let Some(p) = &pbm {
        masks::intersect_into(&mut state.positive_yx, p.view());
    }

    // 7. negative mask.
    let mut negative = None;
    if params.negativethreshold > 0.0 {
        let neg = threshold_mask(residual_yx, th.negative_mask);
        let neg = smooth_and_cut(&smoother, neg.view(), params.cutthreshold);
        report.n_negative_pixels = masks::count(neg.view());
        negative = Some(neg);
    }

    // 8. combine.
    masks::union_into(&mut state.mask_yx, state.positive_yx.view());
    if let Some(neg) = &negative {
        masks::union_into(&mut state.mask_yx, neg.view());
    }
    if let Some(p) = &pbm {
        masks::intersect_into(&mut state.mask_yx, p.view());
    }
    let n_now = masks::count(state.mask_yx.view());
    report.n_pixels = n_now;
    let diff = (n_now as f64 - n_prev as f64).abs();
    report.changed_percent = if n_prev > 0 {
        100.0 * diff / n_prev as f64
    } else if n_now > 0 {
        f64::INFINITY
    } else {
        0.0
    };

    // 9. stop flag (skipChannels).
    if th.kind == ThresholdKind::Noise {
        let frac = params.minpercentchange as f64 / 100.0;
        if n_now == 0
            || (frac >= 0.0
                && inputs.threshold_reached
                && (diff == 0.0 || diff < frac * n_prev as f64))
        {
            state.stopped = true;
        }
    }
    state.n_updates += 1;
    report.stopped = state.stopped;
    Ok(report)
}

fn check_shape(
    what: &'static str,
    got: (usize, usize),
    want: (usize, usize),
) -> Result<(), AutoMaskError> {
    if got != want {
        return Err(AutoMaskError::ShapeMismatch { what, got, want });
    }
    Ok(())
}

/// Step 3 of the module doc.
fn thresholds(s: &PlaneStats, sidelobe_level: f32, p: &AutoMaskParams) -> Thresholds {
    let absmax = s.max.abs().max(s.min.abs());
    let sl = sidelobe_level * p.sidelobethreshold * absmax;
    let noise = p.noisethreshold * s.robust_rms;
    let low = p.lownoisethreshold * s.robust_rms;
    let neg = p.negativethreshold * s.robust_rms;
    let negative_mask = -sl.max(neg) + s.median;
    let (sl, noise, low, neg) = (
        sl + s.median,
        noise + s.median,
        low + s.median,
        neg + s.median,
    );
    let mask = sl.max(noise);
    Thresholds {
        sidelobe: sl,
        noise,
        low_noise: low,
        negative: neg,
        mask,
        low_mask: sl.max(low),
        negative_mask,
        kind: if mask == sl {
            ThresholdKind::Sidelobe
        } else {
            ThresholdKind::Noise
        },
    }
}

/// CASA's `makeMaskByPerChanThreshold`: `img < t` when `t < 0`, else `img > t`.
fn threshold_mask(img_yx: ArrayView2<f32>, t: f32) -> Array2<bool> {
    if t < 0.0 {
        img_yx.mapv(|v| v < t)
    } else {
        img_yx.mapv(|v| v > t)
    }
}

#[cfg(test)]
mod tests;

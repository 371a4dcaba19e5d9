//! tclean's iteration control, per image plane: cycle thresholds, cycle iteration limits and the
//! stop reasons. Every plane (channel, Stokes) converges on its own; a converged plane takes no
//! further minor or major cycles.

use ndarray::ArrayView2;
use pclean_core::params::{DeconvParams, UseMask};
use serde::{Deserialize, Serialize};

/// Why a plane stopped being deconvolved (tclean's stop codes, per plane).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    /// `niter` components taken (tclean stop code 1).
    IterationLimit,
    /// Peak residual at or below `threshold` (2).
    Threshold,
    /// The peak residual did not change over a major cycle without components (4).
    NoProgress,
    /// The peak residual rose above 3 times its minimum (5).
    Diverged,
    /// The clean mask is empty (7).
    ZeroMask,
    /// Peak residual at or below `nsigma` x the robust rms (8).
    NSigma,
    /// `nmajor` major cycles done (9).
    NMajor,
    /// The plane has no data (all visibilities flagged).
    NoData,
}

/// The per-plane bookkeeping iteration control needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlaneProgress {
    /// Components taken in this plane.
    pub iterations: usize,
    /// Components taken in all Stokes planes of this plane's channel: what `niter` and
    /// `cycleniter` count (tclean counts the iterations of every Stokes plane of an mfs image
    /// together: with IQUV and niter 300 the four planes share 300).
    pub channel_iterations: usize,
    pub major_cycles: usize,
    /// Peak |residual| within the mask after the last major cycle, Jy/beam.
    pub peak: f32,
    pub min_peak: f32,
    /// The robust rms of the residual after the last major cycle (for nsigma), Jy/beam.
    pub rms: f32,
    /// The median of the same pixels (added to the nsigma threshold with auto-multithresh).
    pub median: f32,
    pub model_flux: f64,
    pub stop: Option<StopReason>,
    /// Iterations done in the last minor cycle.
    pub last_cycle_iterations: usize,
    /// Peak before the last major cycle (to detect no progress).
    pub previous_peak: f32,
}

impl PlaneProgress {
    pub fn new() -> Self {
        PlaneProgress {
            iterations: 0,
            channel_iterations: 0,
            major_cycles: 0,
            peak: f32::INFINITY,
            min_peak: f32::INFINITY,
            rms: 0.0,
            median: 0.0,
            model_flux: 0.0,
            stop: None,
            last_cycle_iterations: usize::MAX,
            previous_peak: f32::NAN,
        }
    }

    /// Record the state after a major cycle (or the initial imaging).
    pub fn observe(&mut self, peak: f32, rms: f32) {
        self.previous_peak = self.peak;
        self.peak = peak;
        self.min_peak = self.min_peak.min(peak);
        self.rms = rms;
    }
}

impl Default for PlaneProgress {
    fn default() -> Self {
        Self::new()
    }
}

/// tclean's iteration control over the validated deconvolution parameters (`niter`, `gain`,
/// `threshold`, `nsigma`, `cycleniter`, `cyclefactor`, `min/maxpsffraction`, `nmajor`), in the
/// single precision of the images.
pub trait IterationControl {
    /// The loop gain.
    fn loop_gain(&self) -> f32;
    /// The global stopping threshold, Jy/beam.
    fn global_threshold(&self) -> f32;
    /// The n-sigma threshold for a plane (0 when nsigma is off).
    fn nsigma_threshold(&self, p: &PlaneProgress) -> f32;
    /// tclean's convergence checks after a major cycle, in tclean's order; `mask_empty` only once
    /// the mask for this cycle has been computed.
    fn check(&self, p: &PlaneProgress, mask_empty: bool) -> Option<StopReason>;
    /// The cycle threshold and iteration limit of the next minor cycle of a plane:
    /// `cyclethreshold = max(threshold, nsigma threshold, psffraction x peak)` with
    /// `psffraction = clamp(cyclefactor x max PSF sidelobe, minpsffraction, maxpsffraction)`.
    fn cycle_limits(&self, p: &PlaneProgress, psf_sidelobe: f32) -> (f32, usize);
}

impl IterationControl for DeconvParams {
    fn loop_gain(&self) -> f32 {
        self.gain as f32
    }

    fn global_threshold(&self) -> f32 {
        self.threshold_jy as f32
    }

    fn nsigma_threshold(&self, p: &PlaneProgress) -> f32 {
        // tclean (SynthesisDeconvolver::initMinorCycle): with auto-multithresh the threshold is
        // median + nsigma x rms, otherwise nsigma x rms.
        let location = match self.usemask {
            UseMask::AutoMultiThresh(_) => p.median,
            _ => 0.0,
        };
        location + self.nsigma as f32 * p.rms
    }

    fn check(&self, p: &PlaneProgress, mask_empty: bool) -> Option<StopReason> {
        if p.channel_iterations >= self.niter {
            return Some(StopReason::IterationLimit);
        }
        if p.peak <= self.global_threshold() {
            return Some(StopReason::Threshold);
        }
        if self.nsigma > 0.0 && p.peak <= self.nsigma_threshold(p) {
            return Some(StopReason::NSigma);
        }
        if mask_empty {
            return Some(StopReason::ZeroMask);
        }
        if p.major_cycles > 0 && p.peak > 3.0 * p.min_peak {
            return Some(StopReason::Diverged);
        }
        if p.major_cycles > 0 && p.last_cycle_iterations == 0 && p.peak == p.previous_peak {
            return Some(StopReason::NoProgress);
        }
        if let Some(n) = self.nmajor {
            if p.major_cycles >= n {
                return Some(StopReason::NMajor);
            }
        }
        None
    }

    fn cycle_limits(&self, p: &PlaneProgress, psf_sidelobe: f32) -> (f32, usize) {
        let frac = (self.cyclefactor as f32 * psf_sidelobe)
            .clamp(self.minpsffraction as f32, self.maxpsffraction as f32);
        let cyclethreshold = self
            .global_threshold()
            .max(self.nsigma_threshold(p))
            .max(frac * p.peak);
        let remaining = self.niter - p.channel_iterations.min(self.niter);
        let limit = self.cycleniter.map_or(remaining, |c| c.min(remaining));
        (cyclethreshold, limit)
    }
}

/// Median and robust rms (1.4826 x median absolute deviation) of a residual for `nsigma`, as
/// tclean's `calcRobustRMS` chooses by `fastnoise`: over every pixel of `region` (all pixels when
/// `None`) with `fastnoise`; without it, over the pixels of `region` outside the current clean
/// mask, or Chauvenet-clipped when there is no (or an empty) mask. Returns (0, 0) for an empty
/// selection.
pub fn noise_stats(
    img: ArrayView2<f32>,
    region: Option<ArrayView2<bool>>,
    clean_mask: Option<ArrayView2<bool>>,
    fastnoise: bool,
) -> (f32, f32) {
    let stats = match clean_mask {
        Some(m) => pclean_deconv::automask::plane_statistics(img, region, m, fastnoise),
        None => {
            let none = ndarray::Array2::from_elem(img.dim(), false);
            pclean_deconv::automask::plane_statistics(img, region, none.view(), fastnoise)
        }
    };
    stats.map_or((0.0, 0.0), |s| (s.median, s.robust_rms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// niter 100, threshold 10 mJy, cyclefactor 1 and tclean's psffraction bounds (0.05, 0.8).
    fn settings() -> DeconvParams {
        let raw = pclean_core::params::RawParams {
            vis: Some(vec!["x.ms".into()]),
            imagename: Some("o".into()),
            niter: Some(100),
            threshold: Some("10mJy".into()),
            cyclefactor: Some(1.0),
            ..Default::default()
        };
        pclean_core::params::ImagingParams::from_raw(&raw)
            .unwrap()
            .deconv
    }

    #[test]
    fn stop_reasons_in_tclean_order() {
        let s = settings();
        let mut p = PlaneProgress::new();
        p.observe(1.0, 0.01);
        assert_eq!(s.check(&p, false), None);
        assert_eq!(s.check(&p, true), Some(StopReason::ZeroMask));
        // niter counts the components of every Stokes plane of the channel.
        p.iterations = 100;
        assert_eq!(s.check(&p, false), None);
        p.channel_iterations = 100;
        assert_eq!(s.check(&p, false), Some(StopReason::IterationLimit));
        p.channel_iterations = 10;
        p.observe(0.005, 0.001);
        assert_eq!(s.check(&p, true), Some(StopReason::Threshold));
        let mut n = settings();
        n.nsigma = 5.0;
        p.observe(0.04, 0.01);
        assert_eq!(n.check(&p, false), Some(StopReason::NSigma));
        let mut d = PlaneProgress::new();
        d.observe(0.1, 0.0);
        d.major_cycles = 1;
        d.observe(0.31, 0.0);
        assert_eq!(s.check(&d, false), Some(StopReason::Diverged));
    }

    #[test]
    fn cycle_threshold_follows_psf_fraction() {
        let s = settings();
        let mut p = PlaneProgress::new();
        p.observe(2.0, 0.0);
        // sidelobe 0.2 x cyclefactor 1 -> 0.2 x peak 2 = 0.4
        let (t, n) = s.cycle_limits(&p, 0.2);
        assert!((t - 0.4).abs() < 1e-6);
        assert_eq!(n, 100);
        // The budget is what the channel's Stokes planes together have left.
        p.channel_iterations = 70;
        assert_eq!(s.cycle_limits(&p, 0.2).1, 30);
        // clamped to maxpsffraction 0.8
        assert!((s.cycle_limits(&p, 0.95).0 - 1.6).abs() < 1e-6);
        // never below the global threshold
        p.observe(0.02, 0.0);
        assert!((s.cycle_limits(&p, 0.01).0 - 0.01).abs() < 1e-9);
    }

    #[test]
    fn robust_stats_of_a_ramp() {
        let img = Array2::from_shape_fn((10, 10), |(y, x)| (y * 10 + x) as f32);
        let (med, rms) = noise_stats(img.view(), None, None, true);
        assert_eq!(med, 49.5);
        // MAD of 0..99 about 49.5 is 25: 1.4826 x 25.
        assert!((rms - 1.4826 * 25.0).abs() < 1e-3);
    }

    /// Defect: `fastnoise` chose only the auto-mask's noise; tclean's nsigma rms follows it too
    /// (`calcRobustRMS(..., fastnoise)`): with fastnoise=false the pixels inside the clean mask
    /// (the source) are left out.
    #[test]
    fn fastnoise_false_changes_nsigma_rms() {
        // Noise of rms ~1 (a deterministic ramp of residues) with a bright 20x20 source.
        let img = Array2::from_shape_fn((64, 64), |(y, x)| {
            let n = ((y * 64 + x) * 7919 % 1000) as f32 / 1000.0 * 3.46 - 1.73;
            if (20..40).contains(&y) && (20..40).contains(&x) {
                n + 50.0
            } else {
                n
            }
        });
        let mask = Array2::from_shape_fn((64, 64), |(y, x)| {
            (20..40).contains(&y) && (20..40).contains(&x)
        });
        let (_, fast) = noise_stats(img.view(), None, Some(mask.view()), true);
        let (_, slow) = noise_stats(img.view(), None, Some(mask.view()), false);
        // The uniform noise alone has rms 1.4826 x 3.46/4 = 1.28; the source (10% of the pixels)
        // widens the all-pixel MAD by more than 10%.
        assert!((slow - 1.28).abs() < 0.03, "outside-mask rms {slow}");
        assert!(fast > 1.1 * slow, "all-pixel rms {fast} vs {slow}");
        let mut n = settings();
        n.nsigma = 3.0;
        n.fastnoise = false;
        let mut p = PlaneProgress::new();
        p.rms = slow;
        assert!((n.nsigma_threshold(&p) - 3.0 * slow).abs() < 1e-6);
    }
}

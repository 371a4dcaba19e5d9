//! The major/minor cycle loop of one channel block. Every plane (channel, Stokes) converges on its
//! own: after each major cycle a plane's mask is updated (auto-multithresh), its convergence checked
//! (tclean's order), and only unconverged planes run a minor cycle and take part in the next major
//! cycle's prediction and re-imaging. A deconvolver that cleans Stokes planes together (tclean's
//! `clark`) runs one minor cycle per channel on all its Stokes planes.

use super::cycle_ckpt;
use super::iteration::{noise_stats, IterationControl, PlaneProgress, StopReason};
use super::masking::{MaskInputs, PlaneMasker};
use crate::error::EngineError;
use crate::imaging::{ImagingContext, PlaneWeights};
use crate::source::Source;
use ndarray::Array2;
use pclean_core::params::DeconvParams;
use pclean_core::Beam;
use pclean_deconv::automask::psf_sidelobe_level;
use pclean_deconv::minor::{masked_peak, Deconvolver, MinorControls, PlaneImages};
use rayon::prelude::*;
use tracing::info;

/// One plane's state through the loop.
pub struct Plane {
    pub residual: Array2<f32>,
    pub model: Array2<f32>,
    pub psf: Array2<f32>,
    pub mask: Option<Array2<bool>>,
    /// The auto-multithresh mask the last minor cycle ran with, kept while `mask` holds the one
    /// recomputed after the following major cycle (see [`deconvolve_block`]'s end).
    pub(crate) used_mask: Option<Array2<bool>>,
    pub beam: Beam,
    pub sumwt: f64,
    pub(super) weights: PlaneWeights,
    /// A mosaic's weight image (its model's conversion to sky brightness, its `.pb`).
    pub pb_weight: Option<Array2<f32>>,
    pub progress: PlaneProgress,
    pub(super) psf_sidelobe: f32,
    pub(super) deconvolver: Box<dyn Deconvolver>,
    pub(super) masker: PlaneMasker,
}

impl Plane {
    /// A plane from its first images, beam, start model (zeros without one), deconvolver and
    /// masker.
    pub fn new(
        ctx: &ImagingContext,
        f: FirstImages,
        beam: Beam,
        model: Array2<f32>,
        deconvolver: Box<dyn Deconvolver>,
        masker: PlaneMasker,
    ) -> Plane {
        let FirstImages {
            residual,
            psf,
            sumwt,
            weights,
            pb_weight,
        } = f;
        Plane {
            psf_sidelobe: if beam.is_valid() {
                psf_sidelobe_level(
                    psf.view(),
                    &beam,
                    ctx.params.cell_x_rad,
                    ctx.params.cell_y_rad,
                )
            } else {
                0.0
            },
            residual,
            model,
            psf,
            mask: None,
            used_mask: None,
            beam,
            sumwt,
            weights,
            pb_weight,
            progress: PlaneProgress::new(),
            deconvolver,
            masker,
        }
    }

    /// Peak |residual| within the current mask (the whole image when there is none).
    fn peak(&self) -> f32 {
        masked_peak(self.residual.view(), self.mask.as_ref().map(|m| m.view())).map_or(0.0, |p| p.0)
    }

    fn mask_is_empty(&self) -> bool {
        self.mask.as_ref().is_some_and(|m| !m.iter().any(|v| *v))
    }

    /// Whether [`Plane::prepare_cycle`] does more than forget the last used mask: an unconverged
    /// plane, or (auto-multithresh while the cube is cycling) one stopped by a threshold.
    pub(super) fn prepares(&self, cube: &CubeWide) -> bool {
        let resumable = matches!(
            self.progress.stop,
            Some(StopReason::Threshold | StopReason::NSigma)
        );
        match self.progress.stop {
            None => true,
            // tclean recomputes auto-multithresh masks of every channel at every major cycle of
            // the cube, converged or not; the grown mask may uncover emission above the threshold,
            // which is then cleaned. Only the image-plane mask update is redone here: a converged
            // plane costs no major cycle unless its new mask gives it work again.
            Some(_) => resumable && self.masker.is_auto() && cube.cycling,
        }
    }

    /// Update the mask for this cycle, measure, and decide whether to stop. `cube` carries what
    /// tclean computes over the whole cube for auto-multithresh.
    pub(super) fn prepare_cycle(
        &mut self,
        it: &DeconvParams,
        cube: &CubeWide,
    ) -> Result<(), EngineError> {
        self.used_mask = None;
        let resumable = matches!(
            self.progress.stop,
            Some(StopReason::Threshold | StopReason::NSigma)
        );
        if !self.prepares(cube) {
            return Ok(());
        }
        if self.sumwt <= 0.0 {
            self.progress.stop = Some(StopReason::NoData);
            return Ok(());
        }
        // tclean's isThresholdReached: the cycle threshold has come down to the global threshold.
        let (cyclethreshold, _) = it.cycle_limits(&self.progress, self.psf_sidelobe);
        // tclean measures the nsigma noise (initMinorCycle) before the mask is updated, outside
        // the mask the last minor cycle used when fastnoise=false.
        let (median, rms) = noise_stats(
            self.residual.view(),
            self.masker.stats_region(),
            self.mask.as_ref().map(|m| m.view()),
            it.fastnoise,
        );
        let threshold_reached =
            self.progress.peak.is_finite() && cyclethreshold <= it.global_threshold();
        let previous = if self.masker.is_auto() && cube.cycling {
            // auto-multithresh makes a new mask (the previous one is in its own state): keep the
            // one the last minor cycle used, in case this check ends the run.
            self.used_mask = self.mask.take();
            None
        } else {
            self.mask.take()
        };
        let at = MaskInputs {
            residual: self.residual.view(),
            beam: &cube.beam,
            sidelobe_level: cube.sidelobe,
            iter_done: cube.iterations,
            threshold_reached,
        };
        self.mask = self.masker.update(&at, previous)?;
        let peak = self.peak();
        self.progress.median = median;
        if it.nsigma > 0.0 {
            let mut at_rms = self.progress.clone();
            at_rms.rms = rms;
            tracing::debug!(
                nsigma_threshold = it.nsigma_threshold(&at_rms),
                rms,
                median,
                "current nsigma threshold"
            );
        }
        if resumable {
            // Residual unchanged since the last check: only the mask moved.
            self.progress.peak = peak;
            self.progress.rms = rms;
        } else {
            self.progress.observe(peak, rms);
        }
        self.progress.stop = it.check(&self.progress, self.mask_is_empty());
        // tclean's "no progress" test is over the whole image: a plane whose peak was below the
        // cycle threshold set by a brighter plane (a Stokes Q, U or V plane beside I, a faint
        // channel) did nothing while others cleaned, and waits for its turn.
        if self.progress.stop == Some(StopReason::NoProgress) && cube.others_cleaned {
            self.progress.stop = None;
        }
        Ok(())
    }

    /// The controls of this plane's next minor cycle: tclean sets one cycle threshold for the
    /// whole cube from its largest peak residual `cube_peak`.
    fn cycle_controls(&self, it: &DeconvParams, cube_peak: f32) -> MinorControls {
        let mut cube_progress = self.progress.clone();
        cube_progress.peak = cube_peak;
        let (cyclethreshold, cycleniter) = it.cycle_limits(&cube_progress, self.psf_sidelobe);
        MinorControls {
            gain: it.loop_gain(),
            max_iterations: cycleniter,
            threshold: cyclethreshold,
        }
    }

    pub(super) fn minor_cycle(&mut self, it: &DeconvParams, cube_peak: f32) {
        if self.progress.stop.is_some() {
            return;
        }
        let controls = self.cycle_controls(it, cube_peak);
        let images = PlaneImages {
            residual: self.residual.view_mut(),
            model: self.model.view_mut(),
            psf: self.psf.view(),
            mask: self.mask.as_ref().map(|m| m.view()),
        };
        let out = self.deconvolver.minor_cycle(images, &controls);
        self.progress.iterations += out.iterations;
        self.progress.last_cycle_iterations = out.iterations;
        self.progress.model_flux += out.flux_added;
    }
}

/// One minor cycle on the Stokes planes of one channel together (tclean's `clark` with several
/// Stokes planes): it runs while any of them is unconverged, with the cycle limits of the first
/// unconverged one, the first plane's PSF and mask (as tclean's), and every plane counts the
/// joint cycle's components as its own. Returns the number of (joint) components.
pub(super) fn joint_minor_cycle(group: &mut [Plane], it: &DeconvParams, cube_peak: f32) -> usize {
    let Some(lead) = group.iter().find(|p| p.progress.stop.is_none()) else {
        return 0;
    };
    let controls = lead.cycle_controls(it, cube_peak);
    let Some((first, rest)) = group.split_first_mut() else {
        return 0;
    };
    let mut images = vec![PlaneImages {
        residual: first.residual.view_mut(),
        model: first.model.view_mut(),
        psf: first.psf.view(),
        mask: first.mask.as_ref().map(|m| m.view()),
    }];
    for p in rest.iter_mut() {
        images.push(PlaneImages {
            residual: p.residual.view_mut(),
            model: p.model.view_mut(),
            psf: p.psf.view(),
            mask: p.mask.as_ref().map(|m| m.view()),
        });
    }
    let out = first.deconvolver.minor_cycle_stokes(images, &controls);
    for p in group.iter_mut() {
        p.progress.iterations += out.iterations;
        p.progress.last_cycle_iterations = out.iterations;
        p.progress.model_flux = p.model.iter().map(|v| *v as f64).sum();
    }
    out.iterations
}

/// Quantities tclean's auto-multithresh takes over the whole cube (here: the block): the largest
/// PSF sidelobe level, the common beam, and the iterations done so far.
pub(super) struct CubeWide {
    pub(super) sidelobe: f32,
    pub(super) beam: Beam,
    pub(super) iterations: usize,
    /// Whether any plane of the block ran a minor cycle in the last round (the cube is still
    /// cycling, so tclean would still update every channel's mask).
    pub(super) cycling: bool,
    /// Whether any plane of the block took components in the last minor cycle.
    pub(super) others_cleaned: bool,
}

impl CubeWide {
    /// The cube's largest PSF sidelobe, given to every plane (tclean uses it for every plane's
    /// cycle threshold), and the common beam of the planes' valid beams.
    pub(super) fn sidelobe_and_beam(planes: &mut [Plane]) -> (f32, Beam) {
        let sidelobe = planes.iter().map(|p| p.psf_sidelobe).fold(0.0f32, f32::max);
        for p in planes.iter_mut() {
            p.psf_sidelobe = sidelobe;
        }
        let valid: Vec<Beam> = planes
            .iter()
            .map(|p| p.beam)
            .filter(|b| b.is_valid())
            .collect();
        let common = pclean_deconv::restore::common_beam(&valid).unwrap_or(planes[0].beam);
        (sidelobe, common)
    }

    /// A round's cube-wide figures from every plane's progress.
    pub(super) fn of(planes: &[Plane], sidelobe: f32, beam: Beam, cycling: bool) -> Self {
        CubeWide {
            sidelobe,
            beam,
            iterations: planes.iter().map(|p| p.progress.iterations).sum(),
            cycling,
            others_cleaned: cycling
                && planes
                    .iter()
                    .any(|p| p.progress.stop.is_none() && p.progress.last_cycle_iterations > 0),
        }
    }
}

/// A plane's first imaging pass: residual (dirty image or reused residual), PSF, sum of weights.
pub struct FirstImages {
    pub residual: Array2<f32>,
    pub psf: Array2<f32>,
    pub sumwt: f64,
    /// The plane's imaging weights (kept for the major cycles).
    pub weights: PlaneWeights,
    /// A mosaic's weight image (`None` for the other gridders).
    pub pb_weight: Option<Array2<f32>>,
}

/// Inputs of one block's deconvolution that come from the rest of the run.
pub struct BlockSetup {
    pub beams: Vec<Beam>,
    pub deconvolvers: Vec<Box<dyn Deconvolver>>,
    pub maskers: Vec<PlaneMasker>,
    pub start_models: Option<Vec<Array2<f32>>>,
    /// The first residual already corresponds to the start model (calcres=false): no initial
    /// major cycle.
    pub residual_is_current: bool,
    /// Where to record the state after each major cycle and resume from (`cycle_ckpt`); `None`:
    /// not recorded.
    pub cycle_checkpoint: Option<std::path::PathBuf>,
}

/// Deconvolve channels `chans` starting from their first imaging pass `first`. Planes are indexed
/// `i * nstokes + s` for block channel `i`. Returns the final planes.
pub fn deconvolve_block(
    ctx: &ImagingContext,
    sources: &[Source],
    chans: std::ops::Range<usize>,
    first: Vec<FirstImages>,
    setup: BlockSetup,
    it: &DeconvParams,
) -> Result<Vec<Plane>, EngineError> {
    let nst = ctx.params.stokes.0.len();
    let (ny, nx) = (ctx.params.ny, ctx.params.nx);
    let mut planes: Vec<Plane> = Vec::with_capacity(first.len());
    let mut decs = setup.deconvolvers.into_iter();
    let mut maskers = setup.maskers.into_iter();
    let mut start_models = setup.start_models.map(|v| v.into_iter());
    for f in first {
        let k = planes.len();
        let model = match start_models.as_mut() {
            Some(m) => m.next().expect("one start model per plane"),
            None => resident_zeros(ny, nx),
        };
        planes.push(Plane::new(
            ctx,
            f,
            setup.beams[k],
            model,
            decs.next().expect("one deconvolver per plane"),
            maskers.next().expect("one masker per plane"),
        ));
    }
    let ckpt = setup.cycle_checkpoint;
    let resumed = match &ckpt {
        Some(path) => cycle_ckpt::resume(path, &chans, &mut planes)?,
        None => None,
    };
    let mut cycling = resumed.unwrap_or(false);
    // A start model: the first residual must be data minus its prediction; a resumed run's
    // models are its last completed cycle's, whose residuals are remade the same way.
    let any_model = || planes.iter().any(|p| p.model.iter().any(|v| *v != 0.0));
    if resumed.is_some() || (!setup.residual_is_current && any_model()) {
        major_cycle(ctx, sources, chans.clone(), &mut planes, nst, true)?;
    }
    // tclean uses the cube's largest PSF sidelobe level for every plane's cycle threshold.
    let (sidelobe, common) = CubeWide::sidelobe_and_beam(&mut planes);
    loop {
        let cube = CubeWide::of(&planes, sidelobe, common, cycling);
        planes
            .par_iter_mut()
            .try_for_each(|p| p.prepare_cycle(it, &cube))?;
        let active = planes.iter().filter(|p| p.progress.stop.is_none()).count();
        if active == 0 {
            break;
        }
        cycling = true;
        let cube_peak = planes
            .iter()
            .filter(|p| p.progress.stop.is_none())
            .map(|p| p.progress.peak)
            .fold(0.0f32, f32::max);
        minor_cycles(&mut planes, nst, it, cube_peak);
        major_cycle(ctx, sources, chans.clone(), &mut planes, nst, false)?;
        if let Some(path) = &ckpt {
            cycle_ckpt::record(path, &chans, &planes, cycling)?;
            // SIGINT/SIGTERM in a continuum run: stop here, the major cycle just recorded.
            if let Some(sig) = crate::interrupt::requested() {
                return Err(crate::EngineError::Interrupted {
                    signal: crate::interrupt::signal_name(sig),
                    checkpoint: path.to_path_buf(),
                });
            }
        }
        let done: usize = planes.iter().map(|p| p.progress.iterations).sum();
        info!(
            channels = format!("{}..{}", chans.start, chans.end),
            active_planes = active,
            iterations = done,
            "major cycle done"
        );
    }
    // tclean (`PySynthesisImager.runMinorCycleCore` / `hasConverged` in casatasks'
    // imagerhelpers/imager_base.py) copies the .mask to .prev.mask after every minor cycle and, on
    // reaching the global stopping criterion with usemask='auto-*', reverts the .mask to it: the
    // output mask is the one last used for cleaning, not the one remade after the final major
    // cycle (that one only took part in the convergence check).
    for p in planes.iter_mut() {
        if let Some(m) = p.used_mask.take() {
            p.mask = Some(m);
        }
    }
    Ok(planes)
}

/// One minor cycle of every unconverged plane of `planes` (whole channels of `nst` Stokes planes)
/// at the cycle threshold set by `cube_peak`.
pub(super) fn minor_cycles(planes: &mut [Plane], nst: usize, it: &DeconvParams, cube_peak: f32) {
    if planes.is_empty() {
        return;
    }
    if nst > 1 && planes[0].deconvolver.joint_stokes() {
        planes.par_chunks_mut(nst).for_each(|g| {
            let done = joint_minor_cycle(g, it, cube_peak);
            g.iter_mut()
                .for_each(|p| p.progress.channel_iterations += done);
        });
    } else {
        // Every plane of a channel starts the cycle with the same iteration budget (tclean
        // computes it once per cycle), and their components then count together.
        planes.par_chunks_mut(nst).for_each(|g| {
            let before: usize = g.iter().map(|p| p.progress.iterations).sum();
            g.par_iter_mut().for_each(|p| p.minor_cycle(it, cube_peak));
            let done = g.iter().map(|p| p.progress.iterations).sum::<usize>() - before;
            g.iter_mut()
                .for_each(|p| p.progress.channel_iterations += done);
        });
    }
}

/// Predict the models of the unconverged planes, subtract, re-image their residuals: plane by
/// plane, each plane's old residual freed before its new one is made (one grid alive at a time).
pub(super) fn major_cycle(
    ctx: &ImagingContext,
    sources: &[Source],
    chans: std::ops::Range<usize>,
    planes: &mut [Plane],
    nst: usize,
    all: bool,
) -> Result<(), EngineError> {
    for (i, k) in chans.enumerate() {
        let active = all || (0..nst).any(|s| planes[i * nst + s].progress.stop.is_none());
        if !active {
            continue;
        }
        for s in 0..nst {
            let p = &mut planes[i * nst + s];
            p.residual = Array2::zeros((0, 0));
            // The old residual and the last pass's grid were freed below live planes: give
            // their pages back before the pass's grid is made (`alloc_count::release_free_heap`).
            crate::alloc_count::release_free_heap();
            let pbw = p.pb_weight.as_ref();
            let (res, _) = ctx.residual_plane(sources, k, s, &p.weights, Some(&p.model), pbw)?;
            p.residual = res;
            if !all {
                p.progress.major_cycles += 1;
            }
        }
    }
    Ok(())
}

/// A plane of zeros whose pages are written now. `Array2::zeros` gets zeroed memory from the
/// system that becomes resident only where it is later written; a model plane is written only where
/// components fall, so its resident size would depend on the sky. Written out, the block's peak is
/// what the memory model says whatever the components (docs/memory.md).
pub(super) fn resident_zeros(ny: usize, nx: usize) -> Array2<f32> {
    // `Vec::with_capacity` + `resize` writes every element (no calloc the compiler could elide
    // the writes into).
    let mut v = Vec::with_capacity(ny * nx);
    v.resize(ny * nx, 0.0f32);
    Array2::from_shape_vec((ny, nx), v).expect("ny * nx elements")
}

//! Clean masks per plane: everywhere, a fixed mask (user region/image or primary-beam level), or
//! tclean's auto-multithresh recomputed every major cycle.

use crate::error::EngineError;
use ndarray::{Array2, ArrayView2};
use pclean_core::Beam;

/// What decides a plane's mask.
pub enum MaskKind {
    /// No mask: the whole image may be cleaned.
    Everywhere,
    /// A mask fixed for the whole run (usemask 'user' with a region/image, or 'pb').
    Fixed(Array2<bool>),
    /// auto-multithresh, updated every cycle.
    Auto(Box<AutoMask>),
}

/// auto-multithresh's per-plane state.
pub struct AutoMask {
    pub params: pclean_deconv::automask::AutoMaskParams,
    pub state: pclean_deconv::automask::AutoMaskState,
    pub pb: Option<Array2<f32>>,
    pub pblimit: f32,
    pub cell_x_rad: f64,
    pub cell_y_rad: f64,
}

/// Where a plane stands when its mask is updated (after a major cycle).
pub struct MaskInputs<'a> {
    pub residual: ArrayView2<'a, f32>,
    pub beam: &'a Beam,
    /// The PSF's largest sidelobe.
    pub sidelobe_level: f32,
    /// Iterations so far.
    pub iter_done: usize,
    /// Whether the cycle threshold has reached the global threshold.
    pub threshold_reached: bool,
}

/// The mask of one plane through the major cycles.
pub struct PlaneMasker {
    kind: MaskKind,
    /// Where statistics (robust rms) are measured: inside the primary-beam limit, if there is one.
    stats: Option<Array2<bool>>,
}

impl PlaneMasker {
    pub fn new(kind: MaskKind, stats: Option<Array2<bool>>) -> Self {
        PlaneMasker { kind, stats }
    }

    /// Whether the mask is recomputed every cycle (auto-multithresh).
    pub fn is_auto(&self) -> bool {
        matches!(self.kind, MaskKind::Auto(_))
    }

    pub fn stats_region(&self) -> Option<ArrayView2<'_, bool>> {
        self.stats.as_ref().map(|m| m.view())
    }

    /// The mask for the coming minor cycle, given the current residual and the previous mask.
    /// `iter_done` is the plane's iterations so far, `threshold_reached` whether its cycle
    /// threshold has reached the global threshold (auto-multithresh uses both).
    pub fn update(
        &mut self,
        at: &MaskInputs,
        previous: Option<Array2<bool>>,
    ) -> Result<Option<Array2<bool>>, EngineError> {
        Ok(match &mut self.kind {
            MaskKind::Everywhere => None,
            // The fixed mask moves into the plane on first use (one copy, not two).
            MaskKind::Fixed(m) => Some(previous.unwrap_or_else(|| std::mem::take(m))),
            MaskKind::Auto(a) => Some(a.update(at)?),
        })
    }
}

impl AutoMask {
    pub fn new(
        s: &pclean_core::params::AutoMaskSettings,
        pb: Array2<f32>,
        pblimit: f32,
        cell_x_rad: f64,
        cell_y_rad: f64,
    ) -> Self {
        let (ny, nx) = pb.dim();
        let params = pclean_deconv::automask::AutoMaskParams {
            sidelobethreshold: s.sidelobethreshold as f32,
            noisethreshold: s.noisethreshold as f32,
            lownoisethreshold: s.lownoisethreshold as f32,
            negativethreshold: s.negativethreshold as f32,
            smoothfactor: s.smoothfactor as f32,
            minbeamfrac: s.minbeamfrac as f32,
            cutthreshold: s.cutthreshold as f32,
            growiterations: s.growiterations,
            dogrowprune: s.dogrowprune,
            minpercentchange: s.minpercentchange as f32,
            fastnoise: s.fastnoise,
        };
        AutoMask {
            params,
            state: pclean_deconv::automask::AutoMaskState::new(ny, nx),
            pb: Some(pb),
            pblimit,
            cell_x_rad,
            cell_y_rad,
        }
    }

    fn update(&mut self, at: &MaskInputs) -> Result<Array2<bool>, EngineError> {
        let inputs = pclean_deconv::automask::AutoMaskInputs {
            pb_yx: self.pb.as_ref().map(|p| p.view()),
            pblimit: self.pblimit,
            beam: *at.beam,
            cell_x_rad: self.cell_x_rad,
            cell_y_rad: self.cell_y_rad,
            sidelobe_level: at.sidelobe_level,
            iter_done: at.iter_done as u64,
            threshold_reached: at.threshold_reached,
        };
        pclean_deconv::automask::auto_multithresh(
            at.residual,
            &inputs,
            &self.params,
            &mut self.state,
        )
        .map_err(|e| EngineError::param_source("usemask", "auto-multithresh", e))?;
        Ok(self.state.mask().to_owned())
    }
}

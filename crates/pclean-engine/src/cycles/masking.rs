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

    /// auto-multithresh's state (what a major-cycle checkpoint records); `None` for other masks.
    pub fn auto_state(&self) -> Option<&pclean_deconv::automask::AutoMaskState> {
        match &self.kind {
            MaskKind::Auto(a) => Some(&a.state),
            _ => None,
        }
    }

    /// Take over auto-multithresh's recorded state (a resumed run); ignored for other masks,
    /// whose mask is remade from its definition.
    pub fn set_auto_state(&mut self, state: pclean_deconv::automask::AutoMaskState) {
        if let MaskKind::Auto(a) = &mut self.kind {
            a.state = state;
        }
    }

    /// Move this masker's planes (statistics region, a fixed mask not yet taken by its plane,
    /// auto-multithresh's primary beam and masks) into `store` as plane `idx`, keeping only its
    /// scalars (`cycles::paged`).
    pub fn page_out(
        &mut self,
        store: &super::plane_store::PlaneStore,
        idx: usize,
    ) -> Result<(), EngineError> {
        use super::plane_store::Field;
        store.put_opt(idx, Field::Stats, self.stats.take().as_ref())?;
        match &mut self.kind {
            MaskKind::Everywhere => {}
            MaskKind::Fixed(m) => {
                let m = std::mem::take(m);
                store.put_opt(idx, Field::Fixed, (!m.is_empty()).then_some(&m))?;
            }
            MaskKind::Auto(a) => {
                store.put_opt(idx, Field::AutoPb, a.pb.take().as_ref())?;
                let empty = || Array2::from_elem((0, 0), false);
                let (stopped, updates) = (a.state.is_stopped(), a.state.n_updates());
                let st = std::mem::replace(
                    &mut a.state,
                    pclean_deconv::automask::AutoMaskState::from_parts(
                        empty(),
                        empty(),
                        stopped,
                        updates,
                    ),
                );
                let (mask, positive, _, _) = st.parts();
                store.put(idx, Field::AutoMask, mask)?;
                store.put(idx, Field::AutoPositive, positive)?;
            }
        }
        Ok(())
    }

    /// Take back what [`PlaneMasker::page_out`] stored as plane `idx`.
    pub fn page_in(
        &mut self,
        store: &super::plane_store::PlaneStore,
        idx: usize,
    ) -> Result<(), EngineError> {
        use super::plane_store::Field;
        self.stats = store.get(idx, Field::Stats)?;
        match &mut self.kind {
            MaskKind::Everywhere => {}
            MaskKind::Fixed(m) => {
                if let Some(f) = store.get(idx, Field::Fixed)? {
                    *m = f;
                }
            }
            MaskKind::Auto(a) => {
                a.pb = store.get(idx, Field::AutoPb)?;
                let missing =
                    || EngineError::protocol("auto-multithresh state not in the plane store");
                let mask = store.get(idx, Field::AutoMask)?.ok_or_else(missing)?;
                let positive = store.get(idx, Field::AutoPositive)?.ok_or_else(missing)?;
                a.state = pclean_deconv::automask::AutoMaskState::from_parts(
                    mask,
                    positive,
                    a.state.is_stopped(),
                    a.state.n_updates(),
                );
            }
        }
        Ok(())
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
            // tclean's autoMaskWithinPB: with pbmask > 0 the statistics, the previous mask and
            // the new mask are all limited to pb > pbmask instead of the pblimit region.
            pblimit: if s.pbmask > 0.0 {
                s.pbmask as f32
            } else {
                pblimit
            },
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    const ARCSEC: f64 = std::f64::consts::PI / 180.0 / 3600.0;

    /// A pb falling from 1 at the centre, noise, and two beam-sized sources: one where pb ~ 0.9,
    /// one where pb ~ 0.3.
    fn scene() -> (Array2<f32>, Array2<f32>, Beam) {
        let n = 96;
        let c = (n / 2) as f32;
        let pb = Array2::from_shape_fn((n, n), |(y, x)| {
            let r2 = (x as f32 - c).powi(2) + (y as f32 - c).powi(2);
            (-r2 / (2.0 * 28.0f32.powi(2))).exp()
        });
        let mut seed = 12345u64;
        let mut noise = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 0.02
        };
        let blob = |x: f32, y: f32, cx: f32, cy: f32| {
            (-((x - cx).powi(2) + (y - cy).powi(2)) / (2.0 * 2.0f32.powi(2))).exp()
        };
        // pb 0.9 at r = 12.8 px; pb 0.3 at r = 43.4 px.
        let residual = Array2::from_shape_fn((n, n), |(y, x)| {
            let (x, y) = (x as f32, y as f32);
            blob(x, y, c + 12.8, c) + blob(x, y, c - 43.4, c) + noise()
        });
        let beam = Beam {
            major_rad: 4.7 * ARCSEC,
            minor_rad: 4.7 * ARCSEC,
            pa_rad: 0.0,
        };
        (residual, pb, beam)
    }

    fn settings(pbmask: f64) -> pclean_core::params::AutoMaskSettings {
        pclean_core::params::AutoMaskSettings {
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
            pbmask,
        }
    }

    fn mask_with(pbmask: f64) -> (Array2<bool>, Array2<f32>) {
        let (residual, pb, beam) = scene();
        let mut a = AutoMask::new(&settings(pbmask), pb.clone(), 0.2, ARCSEC, ARCSEC);
        let at = MaskInputs {
            residual: residual.view(),
            beam: &beam,
            sidelobe_level: 0.1,
            iter_done: 0,
            threshold_reached: false,
        };
        (a.update(&at).unwrap(), pb)
    }

    /// Defect: `pbmask` was ignored with usemask='auto-multithresh'; tclean (autoMaskWithinPB)
    /// limits the automask to pb > pbmask.
    #[test]
    fn pbmask_applies_with_auto_multithresh() {
        let (without, pb) = mask_with(0.0);
        let in_low_pb = |m: &Array2<bool>| {
            m.iter()
                .zip(pb.iter())
                .filter(|(k, p)| **k && **p <= 0.5)
                .count()
        };
        // Without pbmask the source at pb 0.3 (above pblimit 0.2) is masked ...
        assert!(in_low_pb(&without) > 0);
        let (with, _) = mask_with(0.5);
        // ... with pbmask 0.5 nothing at pb <= 0.5 is, and the bright inner source still is.
        assert_eq!(in_low_pb(&with), 0);
        assert!(with[[48, 61]]);
    }
}

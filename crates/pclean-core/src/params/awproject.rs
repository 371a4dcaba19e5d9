//! The parameters of tclean's `awproject` gridder, validated ([`AwProjectParams`]).

use super::choices::{Deconvolver, Gridder};
use super::{invalid, EffectiveParams, ParamError};
use serde::{Deserialize, Serialize};

/// `aterm`, `psterm`, `computepastep`, `rotatepastep`, `wbawp`, `conjbeams` and `cfcache` as
/// pclean's A-stacking uses them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AwProjectParams {
    /// tclean's `aterm`: the aperture illumination in the convolution functions. False (with
    /// `psterm=True`, as tclean requires) is tclean's AWProjectFT with a unit A-term: the
    /// spheroidal alone in the functions and products (measured, docs/decisions.md (s17-awgrp)).
    #[serde(default = "aterm_on")]
    pub aterm: bool,
    /// tclean's `psterm`: the prolate spheroidal in the convolution functions (its image-domain
    /// taper over the field of view, `pclean_grid::awproj::gridder::ps_term`), which also takes
    /// away tclean's kernel-sum flux scale (measured, docs/decisions.md (s14-aw)).
    #[serde(default)]
    pub psterm: bool,
    /// Parallactic-angle step (degrees) of the A-term bins: tclean's `computepastep`.
    pub computepastep_deg: f64,
    /// tclean's `rotatepastep` (degrees): a bin's beam turned to an integration more than this
    /// far from the bin's angle. pclean bins at the smaller of the two steps (each bin's beam
    /// evaluated at its own angle).
    pub rotatepastep_deg: f64,
    /// tclean's `wbawp`: the A-term at each plane's frequency (cube), or at the reference
    /// frequency for mfs (pclean evaluates it at the image plane's frequency either way).
    pub wbawp: bool,
    /// tclean's `conjbeams`: with `wbawp` over several spectral windows in mfs (and mtmfs) each
    /// channel is gridded through the A-term nearest its conjugate frequency; no effect
    /// otherwise.
    pub conjbeams: bool,
    /// tclean's `cfcache` directory: pclean computes its beams at run time and neither reads
    /// nor writes it (logged).
    pub cfcache: String,
}

fn aterm_on() -> bool {
    true
}

impl AwProjectParams {
    /// The step (degrees) pclean bins the integrations' parallactic angles at.
    pub fn bin_step_deg(&self) -> f64 {
        self.computepastep_deg.min(self.rotatepastep_deg)
    }

    /// Validate the A-projection parameters of `e` for `gridder` (tclean's defaults kept for
    /// the other gridders, which ignore them).
    pub(super) fn from_effective(
        e: &EffectiveParams,
        gridder: Gridder,
        deconvolver: Deconvolver,
    ) -> Result<Self, ParamError> {
        let p = AwProjectParams {
            aterm: e.aterm,
            psterm: e.psterm,
            computepastep_deg: e.computepastep,
            rotatepastep_deg: e.rotatepastep,
            wbawp: e.wbawp,
            conjbeams: e.conjbeams,
            cfcache: e.cfcache.clone(),
        };
        if gridder != Gridder::AwProject {
            return Ok(AwProjectParams {
                aterm: true,
                psterm: false,
                computepastep_deg: 360.0,
                rotatepastep_deg: 360.0,
                wbawp: true,
                conjbeams: false,
                cfcache: String::new(),
            });
        }
        if !e.aterm && !e.psterm {
            // tclean 6.7 refuses it too ("Both, psterm and aterm cannot be set to NoOp").
            return Err(invalid(
                "aterm",
                false,
                "gridder='awproject' with aterm=False needs psterm=True (tclean refuses both \
                 off: its convolution functions would be empty); use psterm=True, or \
                 gridder='wproject' for w-projection without either",
            ));
        }
        for (name, v) in [
            ("computepastep", e.computepastep),
            ("rotatepastep", e.rotatepastep),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(
                    name,
                    v,
                    "use a positive parallactic-angle step in degrees (360: one A-term for the \
                     whole observation)",
                ));
            }
        }
        // deconvolver='mtmfs' with awproject: its own checks (`super::mtmfs::check_awproject`).
        let _ = deconvolver;
        Ok(p)
    }
}

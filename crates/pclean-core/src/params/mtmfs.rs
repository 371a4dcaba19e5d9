//! `deconvolver='mtmfs'` (tclean's multi-term multi-frequency synthesis): its own parameters
//! (`nterms`, `reffreq`) and the combinations pclean does not implement with it (refused up front,
//! naming the parameter and its value).

use super::choices::{Deconvolver, GridKernel, Gridder, SpecMode};
use super::{invalid, EffectiveParams, ImagingParams, ParamError, RestoringBeam};
use crate::units::parse_freq_hz;

/// The largest `nterms` pclean images (tclean takes more; beyond 4 terms the Hessian is rarely
/// well conditioned and nobody uses them).
pub const MAX_NTERMS: usize = 4;

/// `nterms` (1 for the other deconvolvers) and `reffreq` in Hz (`None`: the band centre).
pub(super) fn taylor_terms(
    e: &EffectiveParams,
    deconvolver: Deconvolver,
) -> Result<(usize, Option<f64>), ParamError> {
    if deconvolver != Deconvolver::Mtmfs {
        return Ok((1, None));
    }
    if e.nterms < 1 || e.nterms > MAX_NTERMS as i64 {
        return Err(invalid(
            "nterms",
            e.nterms,
            format!("mtmfs takes 1 to {MAX_NTERMS} Taylor terms"),
        ));
    }
    let reffreq_hz = match e.reffreq.trim() {
        "" => None,
        s => {
            let f = parse_freq_hz(s).map_err(|source| ParamError::Quantity {
                param: "reffreq",
                source,
            })?;
            if f.is_nan() || f <= 0.0 || f.is_infinite() {
                return Err(invalid(
                    "reffreq",
                    s,
                    "give a positive frequency, e.g. 1.5GHz",
                ));
            }
            Some(f)
        }
    };
    Ok((e.nterms as usize, reffreq_hz))
}

/// Refuse what pclean does not (yet) do together with `mtmfs`.
pub(super) fn check_combination(p: &ImagingParams) -> Result<(), ParamError> {
    let d = &p.deconv;
    if d.deconvolver != Deconvolver::Mtmfs {
        return Ok(());
    }
    let not_with = |param: &'static str, value: String, fix: &str| {
        invalid(
            param,
            value,
            format!("not supported with deconvolver='mtmfs' in pclean yet; {fix}"),
        )
    };
    if p.specmode != SpecMode::Mfs {
        return Err(invalid(
            "specmode",
            p.specmode.name(),
            "deconvolver='mtmfs' images one mfs plane of Taylor terms: use specmode='mfs'",
        ));
    }
    if p.gridder != Gridder::Standard {
        return Err(not_with(
            "gridder",
            p.gridder.name().into(),
            "use gridder='standard'",
        ));
    }
    if p.kernel != GridKernel::Es {
        return Err(not_with(
            "kernel",
            p.kernel.name().into(),
            "use kernel='es'",
        ));
    }
    if p.stokes.0.len() != 1 {
        return Err(not_with(
            "stokes",
            format!("{:?}", p.stokes.0),
            "image one Stokes parameter (e.g. stokes='I')",
        ));
    }
    if d.restart || !d.calcres || !d.calcpsf {
        return Err(not_with("restart", d.restart.to_string(), "start afresh"));
    }
    if let Some(m) = &d.startmodel {
        return Err(not_with("startmodel", m.clone(), "leave startmodel empty"));
    }
    if d.restoringbeam == RestoringBeam::Common {
        return Err(not_with(
            "restoringbeam",
            "common".into(),
            "leave restoringbeam empty (one mfs plane: the fitted beam is the common beam)",
        ));
    }
    Ok(())
}

//! `deconvolver='mtmfs'` (tclean's multi-term multi-frequency synthesis): its own parameters
//! (`nterms`, `reffreq`) and the combinations pclean does not implement with it (refused up front,
//! naming the parameter and its value).

use super::choices::{Deconvolver, GridKernel, Gridder, SpecMode};
use super::{invalid, EffectiveParams, ImagingParams, ParamError, RestoringBeam};
use crate::units::parse_freq_hz;

/// The largest `nterms` pclean images (tclean takes more; beyond 4 terms the Hessian is rarely
/// well conditioned and nobody uses them).
pub const MAX_NTERMS: usize = 4;

/// `startmodel`: the images of the start model, term 0 first (empty: none). tclean's
/// `startmodel=['m.tt0', 'm.tt1']` gives mtmfs one image per Taylor term, at most `nterms`;
/// a term given as `''` (or not given) starts from 0. The other deconvolvers take one image.
pub(super) fn start_models(
    given: &[String],
    deconvolver: Deconvolver,
    nterms: usize,
) -> Result<Vec<String>, ParamError> {
    let mut v: Vec<String> = given.iter().map(|s| s.trim().to_string()).collect();
    while v.last().is_some_and(|s| s.is_empty()) {
        v.pop();
    }
    if deconvolver != Deconvolver::Mtmfs && v.len() > 1 {
        return Err(invalid(
            "startmodel",
            &v,
            format!(
                "deconvolver='{}' starts from one model image: a list of images (one per Taylor \
                 term) is for deconvolver='mtmfs'",
                deconvolver.name()
            ),
        ));
    }
    if v.len() > nterms {
        return Err(invalid(
            "startmodel",
            &v,
            format!(
                "{} images for nterms={nterms}: give at most one model image per Taylor term \
                 (term 0 first), as tclean",
                v.len()
            ),
        ));
    }
    Ok(v)
}

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

/// `specmode='mvc'`'s cube channel count (`Some(0)`: tclean's default from the band, `nchan=-1`;
/// `None`: another specmode). tclean's mvc is mtmfs's: another deconvolver is refused, as are
/// `start`/`width` (tclean replaces them by the band's edges and `nchan` equal channels) and fewer
/// channels than Taylor terms (tclean: "nchan should be >= nterms").
pub(super) fn mvc_channels(
    e: &EffectiveParams,
    deconvolver: Deconvolver,
    nterms: usize,
) -> Result<Option<usize>, ParamError> {
    if !super::tclean::is_mvc(&e.specmode) {
        return Ok(None);
    }
    if deconvolver != Deconvolver::Mtmfs {
        return Err(invalid(
            "specmode",
            "mvc",
            "specmode='mvc' is mtmfs with a cube major cycle (tclean 6.6+): use deconvolver='mtmfs', or specmode='mfs'/'cube'",
        ));
    }
    for (param, v) in [("start", &e.start), ("width", &e.width)] {
        if !v.trim().is_empty() {
            return Err(invalid(
                param,
                v,
                "specmode='mvc' makes its cube from the selected band's edges and nchan equal channels (tclean overrides start and width): leave it empty, choose the band with spw and the channels with nchan",
            ));
        }
    }
    match e.nchan {
        -1 => Ok(Some(0)),
        n if n >= nterms as i64 => Ok(Some(n as usize)),
        n => Err(invalid(
            "nchan",
            n,
            format!("specmode='mvc' needs nchan >= nterms ({nterms}) to fit the Taylor polynomial (tclean); use -1 for tclean's default"),
        )),
    }
}

/// Refuse what pclean's mtmfs mosaic (`gridder='mosaic'`) does not do (yet), each named.
/// specmode='mvc' is taken (per channel a mosaic with its own weight image, as tclean 6.7,
/// `docs/decisions.md (s17-mvc)`; with row partitions too: the partitions' channel weight
/// images are combined per channel, `exec::rows::mvc`) but for two of its combinations:
/// `conjbeams=True` (tclean's mvc sets conjbeams False for its cube whatever was asked; pclean
/// does not ignore a parameter) and `psfphasecenter` (tclean 6.7's mvc mosaic then writes PSF
/// terms equal to those without it and no residual terms, measured).
fn check_mosaic(p: &ImagingParams) -> Result<(), ParamError> {
    let d = &p.deconv;
    if d.mvc.is_none() {
        return Ok(());
    }
    if p.mosaic.conjbeams {
        return Err(invalid(
            "conjbeams",
            "True",
            "specmode='mvc' images each cube channel without conjugate beams (tclean 6.7 sets \
             conjbeams=False for its cube): use conjbeams=False",
        ));
    }
    if p.mosaic.psfphasecenter.is_some() {
        return Err(invalid(
            "psfphasecenter",
            "(given)",
            "not supported with specmode='mvc' and gridder='mosaic' (tclean 6.7 then images the \
             PSF terms about the image centre and writes no residual terms); leave \
             psfphasecenter empty, or use specmode='mfs'",
        ));
    }
    Ok(())
}

/// Refuse what pclean's mtmfs with A-projection (`gridder='awproject'`) does not do yet, each
/// named.
fn check_awproject(p: &ImagingParams) -> Result<(), ParamError> {
    let not_with = |param: &'static str, value: String, fix: &str| {
        invalid(
            param,
            value,
            format!(
                "not supported with deconvolver='mtmfs' and gridder='awproject' in pclean yet; \
                 {fix}"
            ),
        )
    };
    if p.deconv.mvc.is_some() {
        return Err(not_with(
            "specmode",
            "mvc".into(),
            "use specmode='mfs' (awproject's Taylor terms are gridded directly)",
        ));
    }
    Ok(())
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
    // The Taylor passes fold each term's factor into the visibilities and grid them with the
    // run's one-plane gridder: the 2-D and the w-stacking ones take them as any visibilities;
    // the mosaic's and awproject's also sum the Taylor-weighted weights into each term's weight
    // image (tclean's MultiTermFTNew of MosaicFTNew, AWProjectWBFT).
    if !matches!(
        p.gridder,
        Gridder::Standard
            | Gridder::WProject
            | Gridder::WideField
            | Gridder::Mosaic
            | Gridder::AwProject
    ) {
        return Err(not_with(
            "gridder",
            p.gridder.name().into(),
            "mtmfs takes gridder='standard', 'wproject', 'widefield', 'mosaic' or 'awproject'",
        ));
    }
    if p.gridder == Gridder::Mosaic {
        check_mosaic(p)?;
    }
    if p.gridder == Gridder::AwProject {
        check_awproject(p)?;
    }
    // kernel='casa' is tclean's standard gridder: the Taylor passes grid through it as through
    // the ES one (`imaging::taylor`); the w-stacking gridders have no such kernel.
    if p.kernel != GridKernel::Es && p.gridder != Gridder::Standard {
        return Err(not_with(
            "kernel",
            p.kernel.name().into(),
            "kernel='casa' (tclean's standard gridder) takes gridder='standard' with mtmfs; \
             use kernel='es'",
        ));
    }
    if p.stokes.0.len() != 1 {
        return Err(not_with(
            "stokes",
            format!("{:?}", p.stokes.0),
            "image one Stokes parameter (e.g. stokes='I')",
        ));
    }
    // calcpsf=false / calcres=false reuse the `.psf.ttN` / `.residual.ttN` of an mfs run; mvc's
    // PSF terms come from its cube's channels (with their beams), which are not written.
    if d.mvc.is_some() && (!d.calcpsf || !d.calcres) {
        let param = if d.calcpsf { "calcres" } else { "calcpsf" };
        return Err(not_with(
            param,
            "false".into(),
            "specmode='mvc' recomputes its Taylor terms from the channels: leave calcpsf and \
             calcres true",
        ));
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

#[cfg(test)]
mod tests {
    use super::super::{ImagingParams, RawParams};
    use crate::params::GridKernel;

    fn mtmfs(kernel: &str, gridder: &str) -> Result<ImagingParams, String> {
        let r = RawParams {
            vis: Some(vec!["a.ms".into()]),
            imagename: Some("out/x".into()),
            deconvolver: Some("mtmfs".into()),
            kernel: Some(kernel.into()),
            gridder: Some(gridder.into()),
            ..Default::default()
        };
        ImagingParams::from_raw(&r).map_err(|e| e.to_string())
    }

    /// kernel='casa' (tclean's standard gridder reproduced) is taken with mtmfs and the standard
    /// gridder; with the w-stacking gridders, which have no such kernel, it is refused naming
    /// the parameter and the gridder it needs.
    #[test]
    fn casa_kernel_taken_with_the_standard_gridder_only() {
        let p = mtmfs("casa", "standard").unwrap();
        assert_eq!(p.kernel, GridKernel::Casa);
        for g in ["wproject", "widefield"] {
            let e = mtmfs("casa", g).unwrap_err();
            assert!(
                e.contains("kernel") && e.contains("gridder='standard'"),
                "{g}: {e}"
            );
        }
    }
}

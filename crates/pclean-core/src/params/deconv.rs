//! Validation of the deconvolution parameters: deconvolver, iteration control, masks, restoring
//! beam, models.

use super::choices::{Deconvolver, SaveModel, UseMaskKind};
use super::validate::{angle, flux};
use super::{
    invalid, AutoMaskSettings, DeconvParams, EffectiveParams, ParamError, RestoringBeam, UseMask,
};

/// An angle where a bare number means degrees (position angles).
fn angle_deg_default(param: &'static str, s: &str) -> Result<f64, ParamError> {
    match s.trim().parse::<f64>() {
        Ok(v) => Ok(v.to_radians()),
        Err(_) => angle(param, s),
    }
}

/// -1 = no limit (`None`), else a count.
fn opt_count(name: &'static str, v: i64) -> Result<Option<usize>, ParamError> {
    match v {
        -1 => Ok(None),
        n if n >= 0 => Ok(Some(n as usize)),
        n => Err(invalid(name, n, "use -1 (no limit) or a count >= 0")),
    }
}

fn usemask(e: &EffectiveParams) -> Result<UseMask, ParamError> {
    let kind = UseMaskKind::parse("usemask", &e.usemask)?;
    if !(0.0..1.0).contains(&e.pbmask) {
        return Err(invalid(
            "pbmask",
            e.pbmask,
            "use a primary-beam level in [0, 1)",
        ));
    }
    Ok(match kind {
        UseMaskKind::User => UseMask::User {
            mask: e.mask.clone(),
            pbmask: e.pbmask,
        },
        UseMaskKind::Pb => UseMask::Pb { pbmask: e.pbmask },
        UseMaskKind::AutoMultiThresh => UseMask::AutoMultiThresh(AutoMaskSettings {
            sidelobethreshold: e.sidelobethreshold,
            noisethreshold: e.noisethreshold,
            lownoisethreshold: e.lownoisethreshold,
            negativethreshold: e.negativethreshold,
            smoothfactor: e.smoothfactor,
            minbeamfrac: e.minbeamfrac,
            cutthreshold: e.cutthreshold,
            growiterations: usize::try_from(e.growiterations).map_err(|_| {
                invalid(
                    "growiterations",
                    e.growiterations,
                    "growiterations must be >= 0",
                )
            })?,
            dogrowprune: e.dogrowprune,
            minpercentchange: e.minpercentchange,
            fastnoise: e.fastnoise,
            pbmask: e.pbmask,
        }),
    })
}

fn restoring_beam(rb: &[String]) -> Result<RestoringBeam, ParamError> {
    Ok(match rb {
        [] => RestoringBeam::Fitted,
        [c] if c.trim().is_empty() => RestoringBeam::Fitted,
        [c] if c.trim().eq_ignore_ascii_case("common") => RestoringBeam::Common,
        [a] => {
            let a = angle("restoringbeam", a)?;
            RestoringBeam::User(crate::Beam {
                major_rad: a,
                minor_rad: a,
                pa_rad: 0.0,
            })
        }
        [a, b] | [a, b, _] => {
            let (a, b) = (angle("restoringbeam", a)?, angle("restoringbeam", b)?);
            let pa = match rb.get(2) {
                Some(p) => angle_deg_default("restoringbeam", p)?,
                None => 0.0,
            };
            if b > a {
                return Err(invalid(
                    "restoringbeam",
                    rb,
                    "the minor axis is larger than the major axis",
                ));
            }
            RestoringBeam::User(crate::Beam {
                major_rad: a,
                minor_rad: b,
                pa_rad: pa,
            })
        }
        _ => {
            return Err(invalid(
                "restoringbeam",
                rb,
                "give 'common', one size, or major, minor, PA",
            ))
        }
    })
}

/// Check the iteration control (gain, threshold, nsigma, cycle limits); the stopping threshold in
/// Jy, and `cycleniter` and `nmajor` (`None`: no limit).
type CycleLimits = (f64, Option<usize>, Option<usize>);

fn iteration(e: &EffectiveParams) -> Result<CycleLimits, ParamError> {
    if !(e.gain > 0.0 && e.gain <= 1.0) {
        return Err(invalid("gain", e.gain, "the loop gain must lie in (0, 1]"));
    }
    let threshold_jy = flux("threshold", &e.threshold)?;
    if threshold_jy < 0.0 {
        return Err(invalid("threshold", threshold_jy, "threshold must be >= 0"));
    }
    if e.nsigma < 0.0 {
        return Err(invalid("nsigma", e.nsigma, "nsigma must be >= 0 (0 = off)"));
    }
    let cycleniter = opt_count("cycleniter", e.cycleniter)?;
    let nmajor = opt_count("nmajor", e.nmajor)?;
    if e.cyclefactor <= 0.0 {
        return Err(invalid(
            "cyclefactor",
            e.cyclefactor,
            "cyclefactor must be > 0",
        ));
    }
    let (lo, hi) = (e.minpsffraction, e.maxpsffraction);
    if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo > hi {
        return Err(invalid(
            "minpsffraction",
            (lo, hi),
            "need 0 <= minpsffraction <= maxpsffraction <= 1",
        ));
    }
    Ok((threshold_jy, cycleniter, nmajor))
}

pub(super) fn deconv_params(e: &EffectiveParams, niter: usize) -> Result<DeconvParams, ParamError> {
    let deconvolver = super::tclean::deconvolver(&e.deconvolver)?;
    let (threshold_jy, cycleniter, nmajor) = iteration(e)?;
    let scales: Vec<usize> = match &e.scales {
        v if !v.is_empty() && v.iter().all(|x| *x >= 0) => v.iter().map(|x| *x as usize).collect(),
        // As tclean: only multiscale uses scales (tclean's default is an empty list).
        // mtmfs without scales: tclean's point-source (scale 0) Taylor terms.
        v if v.is_empty() && deconvolver == Deconvolver::Mtmfs => vec![0],
        _ if !matches!(deconvolver, Deconvolver::Multiscale | Deconvolver::Mtmfs) => vec![0],
        v => {
            return Err(invalid(
                "scales",
                v,
                "give one or more scale sizes in pixels >= 0, e.g. [0, 5, 15]",
            ))
        }
    };
    let usemask = usemask(e)?;
    let restoringbeam = restoring_beam(&e.restoringbeam)?;
    let savemodel_column = super::tclean::savemodel(&e.savemodel)? == SaveModel::ModelColumn;
    let (nterms, reffreq_hz) = super::mtmfs::taylor_terms(e, deconvolver)?;
    let startmodel = super::mtmfs::start_models(&e.startmodel, deconvolver, nterms)?;
    let (restart, calcres, calcpsf) = (e.restart, e.calcres, e.calcpsf);
    if (!calcres || !calcpsf) && !restart {
        return Err(invalid(
            if calcres { "calcpsf" } else { "calcres" },
            false,
            "reusing an existing product needs restart=true (pass --restart)",
        ));
    }
    if restart && !startmodel.is_empty() {
        return Err(invalid(
            "startmodel",
            &startmodel,
            "restart continues from <imagename>.model; give either restart or startmodel",
        ));
    }
    let mvc = super::mtmfs::mvc_channels(e, deconvolver, nterms)?;
    Ok(DeconvParams {
        deconvolver,
        nterms,
        reffreq_hz,
        mvc,
        niter,
        gain: e.gain,
        threshold_jy,
        nsigma: e.nsigma,
        fastnoise: e.fastnoise,
        cycleniter,
        cyclefactor: e.cyclefactor,
        minpsffraction: e.minpsffraction,
        maxpsffraction: e.maxpsffraction,
        nmajor,
        scales,
        smallscalebias: e.smallscalebias,
        usemask,
        restoringbeam,
        restoration: e.restoration,
        pbcor: e.pbcor,
        startmodel,
        savemodel_column,
        restart,
        calcres,
        calcpsf,
    })
}

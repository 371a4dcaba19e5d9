//! tclean's answers for the parameters pclean takes without an engine feature of their own:
//! tclean's values of a choice that pclean does not implement yet (refused, named, with what is
//! supported), its aliases, the no-op values it accepts, and the sub-parameters of modes pclean
//! does not have (ignored, as tclean ignores them with `gridder='standard'`; measured against
//! tclean 6.7, see docs/usage.md). Everything here is checked before any data is read.

use super::choices::{Deconvolver, Gridder, SaveModel, SpecMode, WeightingKind};
use super::{invalid, EffectiveParams, ParamError};

/// tclean's values of each choice parameter that pclean does not implement (yet).
const TCLEAN_SPECMODES: &[&str] = &[];
const TCLEAN_GRIDDERS: &[&str] = &["ftmosaic", "imagemosaic", "awphpg", "awp2"];
const TCLEAN_DECONVOLVERS: &[&str] = &["clarkstokes", "clark_exp", "clarkstokes_exp", "mem", "asp"];
const TCLEAN_WEIGHTINGS: &[&str] = &["radial"];
const TCLEAN_SAVEMODELS: &[&str] = &["virtual"];

/// A value tclean takes that pclean does not implement yet.
pub(crate) fn not_yet(param: &'static str, value: &str, supported: &[&str]) -> ParamError {
    ParamError::Invalid {
        param,
        value: format!("{:?}", value.trim()),
        why: format!(
            "tclean's value is not supported by pclean yet; supported: {}",
            supported.join(", ")
        ),
    }
}

/// Parse `value` of choice parameter `param`: an implemented value, else "not supported yet" for
/// one of tclean's other values (`tclean`), else the usual choice error (a typo).
fn choice<T>(
    param: &'static str,
    value: &str,
    parse: fn(&'static str, &str) -> Result<T, ParamError>,
    supported: &[&str],
    tclean: &[&str],
) -> Result<T, ParamError> {
    parse(param, value).map_err(|e| {
        if tclean.iter().any(|t| t.eq_ignore_ascii_case(value.trim())) {
            not_yet(param, value, supported)
        } else {
            e
        }
    })
}

/// `specmode`, with tclean's alias `cont` (= `mfs`); `mvc` (tclean 6.6+: mtmfs with a cube
/// major cycle) images one mfs plane of Taylor terms too, so its plan is mfs's and
/// `DeconvParams::mvc` carries the rest ([`is_mvc`]).
pub(super) fn specmode(value: &str) -> Result<SpecMode, ParamError> {
    if value.trim().eq_ignore_ascii_case("cont") || is_mvc(value) {
        return Ok(SpecMode::Mfs);
    }
    choice(
        "specmode",
        value,
        SpecMode::parse,
        SpecMode::NAMES,
        TCLEAN_SPECMODES,
    )
}

/// `specmode='mvc'`.
pub(super) fn is_mvc(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("mvc")
}

/// `gridder`, with tclean's aliases `ft` and `gridft` (= `standard`: identical products) and
/// `wprojectft` (= `wproject`).
pub(super) fn gridder(value: &str) -> Result<Gridder, ParamError> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("ft") || v.eq_ignore_ascii_case("gridft") {
        return Ok(Gridder::Standard);
    }
    if v.eq_ignore_ascii_case("mosaicft") {
        return Ok(Gridder::Mosaic);
    }
    if v.eq_ignore_ascii_case("wprojectft") {
        return Ok(Gridder::WProject);
    }
    if v.eq_ignore_ascii_case("awprojectft") {
        return Ok(Gridder::AwProject);
    }
    choice(
        "gridder",
        value,
        Gridder::parse,
        Gridder::NAMES,
        TCLEAN_GRIDDERS,
    )
}

pub(super) fn deconvolver(value: &str) -> Result<Deconvolver, ParamError> {
    choice(
        "deconvolver",
        value,
        Deconvolver::parse,
        Deconvolver::NAMES,
        TCLEAN_DECONVOLVERS,
    )
}

pub(super) fn weighting(value: &str) -> Result<WeightingKind, ParamError> {
    choice(
        "weighting",
        value,
        WeightingKind::parse,
        WeightingKind::NAMES,
        TCLEAN_WEIGHTINGS,
    )
}

pub(super) fn savemodel(value: &str) -> Result<SaveModel, ParamError> {
    choice(
        "savemodel",
        value,
        SaveModel::parse,
        SaveModel::NAMES,
        TCLEAN_SAVEMODELS,
    )
}

/// The parameters that change nothing in pclean's products at the values it accepts, checked:
/// a value that would change tclean's result is refused.
pub(super) fn check_compat(e: &EffectiveParams) -> Result<(), ParamError> {
    // `reffreq` is the Taylor expansion's reference frequency of mtmfs (checked there); with the
    // other deconvolvers tclean moves the mfs image's frequency to it, which pclean does not.
    let mtmfs = e.deconvolver.trim().eq_ignore_ascii_case("mtmfs");
    if !e.reffreq.trim().is_empty() && !mtmfs {
        return Err(not_yet(
            "reffreq",
            &e.reffreq,
            &["'' (the centre of the selected band)"],
        ));
    }
    match e.facets {
        1 => {}
        n if n < 1 => return Err(invalid("facets", n, "facets must be >= 1")),
        // tclean's faceted `widefield`: pclean's w-stacking is exact over the whole image, so
        // only the faceted PSF (the central facet's, zero outside it) differs; `standard` and
        // `wproject` facets change the image (a PSF 16% off with `standard`), so are refused.
        _ if e.gridder.trim().eq_ignore_ascii_case("widefield") && !mtmfs => {}
        n => {
            return Err(not_yet(
                "facets",
                &n.to_string(),
                &[
                    "1",
                    "any with gridder='widefield' and a deconvolver other than mtmfs (the w \
                     term corrected exactly over the whole image; the PSF that of the central \
                     facet, as tclean)",
                ],
            ))
        }
    }
    if e.interactive {
        return Err(invalid(
            "interactive",
            true,
            "pclean has no interactive mode; use interactive=False (or 0)",
        ));
    }
    if !e.outlierfile.trim().is_empty() {
        return Err(not_yet(
            "outlierfile",
            &e.outlierfile,
            &["'' (no outlier fields)"],
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tclean_values_are_refused_as_not_yet_and_typos_as_choices() {
        let e = weighting("radial").unwrap_err();
        assert_eq!(e.param(), "weighting");
        let m = e.to_string();
        assert!(
            m.contains("radial") && m.contains("not supported by pclean yet"),
            "{m}"
        );
        assert!(
            m.contains("natural, uniform, briggs, briggsabs, briggsbwtaper, superuniform"),
            "{m}"
        );
        let e = weighting("briggz").unwrap_err();
        assert!(matches!(e, ParamError::Choice { .. }), "{e:?}");
        for (f, v) in [
            (gridder as fn(&str) -> Result<_, _>, "imagemosaic"),
            (gridder, "AWP2"),
            (gridder, "ftmosaic"),
        ] {
            let m = f(v).unwrap_err().to_string();
            assert!(
                m.contains("'gridder'") && m.contains(&format!("{:?}", v)),
                "{m}"
            );
        }
        let m = deconvolver("mem").unwrap_err().to_string();
        assert!(
            m.contains("hogbom, clark, clarkstokes, multiscale, mtmfs"),
            "{m}"
        );
        assert!(savemodel("virtual")
            .unwrap_err()
            .to_string()
            .contains("modelcolumn"));
        assert_eq!(specmode("mvc").unwrap(), SpecMode::Mfs);
    }

    #[test]
    fn tclean_aliases() {
        assert_eq!(specmode("cont"), Ok(SpecMode::Mfs));
        assert_eq!(gridder("ft"), Ok(Gridder::Standard));
        assert_eq!(gridder("GridFT"), Ok(Gridder::Standard));
        assert_eq!(gridder("mosaicft"), Ok(Gridder::Mosaic));
        assert_eq!(gridder("Mosaic"), Ok(Gridder::Mosaic));
        assert_eq!(gridder("wprojectft"), Ok(Gridder::WProject));
        assert_eq!(gridder("widefield"), Ok(Gridder::WideField));
        assert_eq!(gridder("AWProject"), Ok(Gridder::AwProject));
        assert_eq!(gridder("awprojectft"), Ok(Gridder::AwProject));
    }
}

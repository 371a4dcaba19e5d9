//! The sections of `pclean image --help`: the parameters grouped and ordered as tclean's
//! documentation lists them (data selection, image definition, gridding, deconvolution,
//! restoration, weighting, iteration control, masking, output), pclean's own run settings apart,
//! and the distributed-run group as declared.

use super::spec::{Group, ParamSpec, Section};

/// The help sections in the order `--help` shows them: tclean's documentation order (the
/// `<param>` order of casatasks' `tclean.xml`, in contiguous groups:
/// `testdata/reference/tclean_help_order.txt`), then pclean's own.
pub const HELP_SECTIONS: [&str; 11] = [
    "Data selection",
    "Image definition",
    "Gridding",
    "Deconvolution",
    "Restoration",
    "Weighting",
    "Iteration control",
    "Masking",
    "Output",
    "Run settings (pclean)",
    "Distributed run (Dask)",
];

/// tclean's parameters in its documentation's order (casatasks 6.7's `tclean.xml`; the test of
/// `--help` compares with `testdata/reference/tclean_help_order.txt`, taken from that file).
pub const TCLEAN_ORDER: [&str; 92] = [
    "vis",
    "selectdata",
    "field",
    "spw",
    "timerange",
    "uvrange",
    "antenna",
    "scan",
    "observation",
    "intent",
    "datacolumn",
    "imagename",
    "imsize",
    "cell",
    "phasecenter",
    "stokes",
    "projection",
    "startmodel",
    "specmode",
    "reffreq",
    "nchan",
    "start",
    "width",
    "outframe",
    "veltype",
    "restfreq",
    "interpolation",
    "perchanweightdensity",
    "gridder",
    "facets",
    "psfphasecenter",
    "wprojplanes",
    "vptable",
    "mosweight",
    "aterm",
    "psterm",
    "wbawp",
    "conjbeams",
    "cfcache",
    "usepointing",
    "computepastep",
    "rotatepastep",
    "pointingoffsetsigdev",
    "pblimit",
    "normtype",
    "deconvolver",
    "scales",
    "nterms",
    "smallscalebias",
    "fusedthreshold",
    "largestscale",
    "restoration",
    "restoringbeam",
    "pbcor",
    "outlierfile",
    "weighting",
    "robust",
    "noise",
    "npixels",
    "uvtaper",
    "niter",
    "gain",
    "threshold",
    "nsigma",
    "cycleniter",
    "cyclefactor",
    "minpsffraction",
    "maxpsffraction",
    "interactive",
    "nmajor",
    "fullsummary",
    "usemask",
    "mask",
    "pbmask",
    "sidelobethreshold",
    "noisethreshold",
    "lownoisethreshold",
    "negativethreshold",
    "smoothfactor",
    "minbeamfrac",
    "cutthreshold",
    "growiterations",
    "dogrowprune",
    "minpercentchange",
    "verbose",
    "fastnoise",
    "restart",
    "savemodel",
    "calcres",
    "calcpsf",
    "psfcutoff",
    "parallel",
];

/// The `--help` section of parameter `p` (`None`: a parameter the table left without one; a test
/// keeps every declared parameter in a section).
pub fn help_section(p: &ParamSpec) -> Option<&'static str> {
    help_section_index(p).map(|k| HELP_SECTIONS[k])
}

fn help_section_index(p: &ParamSpec) -> Option<usize> {
    if p.group == Group::Parallel {
        return Some(10);
    }
    Some(match p.section {
        Section::Unset => return None,
        Section::Data => 0,
        Section::Image => 1,
        Section::Gridding => 2,
        Section::Deconvolution => 3,
        Section::Restoration => 4,
        Section::Weighting => 5,
        Section::Iteration => 6,
        Section::Masking => 7,
        Section::Output => 8,
        Section::Run => 9,
    })
}

/// Where `p` goes in `--help`: its section, then tclean's order inside it; pclean's own
/// parameters after tclean's in their section (the sort is stable: in declaration order).
pub fn help_rank(p: &ParamSpec) -> (usize, usize) {
    let section = help_section_index(p).unwrap_or(HELP_SECTIONS.len());
    let pos = TCLEAN_ORDER
        .iter()
        .position(|n| *n == p.name)
        .unwrap_or(TCLEAN_ORDER.len());
    (section, pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::PARAMS;

    #[test]
    fn every_parameter_has_a_help_section() {
        let missing: Vec<&str> = PARAMS
            .iter()
            .filter(|p| help_section(p).is_none())
            .map(|p| p.name)
            .collect();
        assert!(
            missing.is_empty(),
            "give these `.in_section(..)` in schema/table.rs: {missing:?}"
        );
    }

    #[test]
    fn tclean_order_names_each_parameter_once() {
        let mut seen = std::collections::HashSet::new();
        assert!(TCLEAN_ORDER.iter().all(|n| seen.insert(*n)));
    }

    #[test]
    fn every_section_is_used() {
        for s in HELP_SECTIONS {
            assert!(PARAMS.iter().any(|p| help_section(p) == Some(s)), "{s}");
        }
    }
}

//! The sections of `pclean image --help`: the parameters grouped as tclean's documentation groups
//! them (data selection, image definition, gridding, weighting, deconvolution, iteration control,
//! masking, restoration and output), pclean's own run settings apart, and the distributed-run
//! group as declared.

use super::spec::{Group, ParamSpec};

/// The help sections in the order `--help` shows them.
pub const HELP_SECTIONS: [&str; 10] = [
    "Data selection",
    "Image definition",
    "Gridding",
    "Weighting",
    "Deconvolution",
    "Iteration control",
    "Masking",
    "Restoration and output",
    "Run settings (pclean)",
    "Distributed run (Dask)",
];

/// The `--help` section of parameter `p` (`None`: a name this table does not know; a test keeps
/// every declared parameter known).
pub fn help_section(p: &ParamSpec) -> Option<&'static str> {
    if p.group == Group::Parallel {
        return Some(HELP_SECTIONS[9]);
    }
    let k = match p.name {
        "vis" | "datacolumn" | "selectdata" | "field" | "spw" | "timerange" | "uvrange"
        | "antenna" | "scan" | "observation" | "intent" => 0,
        "imagename"
        | "imsize"
        | "cell"
        | "phasecenter"
        | "projection"
        | "stokes"
        | "specmode"
        | "reffreq"
        | "nchan"
        | "start"
        | "width"
        | "outframe"
        | "veltype"
        | "restfreq"
        | "interpolation"
        | "perchanweightdensity"
        | "startmodel" => 1,
        "gridder"
        | "facets"
        | "psfphasecenter"
        | "wprojplanes"
        | "mosweight"
        | "aterm"
        | "psterm"
        | "wbawp"
        | "conjbeams"
        | "cfcache"
        | "usepointing"
        | "computepastep"
        | "rotatepastep"
        | "pointingoffsetsigdev"
        | "normtype"
        | "chanchunks"
        | "epsilon"
        | "kernel"
        | "pblimit"
        | "vptable" => 2,
        "weighting" | "robust" | "npixels" | "noise" | "uvtaper" => 3,
        "deconvolver" | "scales" | "smallscalebias" | "nterms" | "fusedthreshold"
        | "largestscale" => 4,
        "niter" | "gain" | "threshold" | "nsigma" | "cycleniter" | "cyclefactor"
        | "minpsffraction" | "maxpsffraction" | "interactive" | "nmajor" | "fullsummary" => 5,
        "usemask" | "mask" | "pbmask" | "sidelobethreshold" | "noisethreshold"
        | "lownoisethreshold" | "negativethreshold" | "smoothfactor" | "minbeamfrac"
        | "cutthreshold" | "growiterations" | "dogrowprune" | "minpercentchange" | "verbose"
        | "fastnoise" => 6,
        "restoration" | "restoringbeam" | "pbcor" | "psfcutoff" | "outlierfile" | "savemodel"
        | "restart" | "calcres" | "calcpsf" | "format" | "overwrite" => 7,
        "nthreads" | "memory_limit" | "cube_chunksize" | "threads_per_block"
        | "blocks_in_flight" | "row_partitions" | "row_partition_by" => 8,
        _ => return None,
    };
    Some(HELP_SECTIONS[k])
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
        assert!(missing.is_empty(), "add these to sections.rs: {missing:?}");
    }

    #[test]
    fn every_section_is_used() {
        for s in HELP_SECTIONS {
            assert!(PARAMS.iter().any(|p| help_section(p) == Some(s)), "{s}");
        }
    }
}

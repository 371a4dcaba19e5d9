//! The sections of `pclean image --help`: the parameters grouped as tclean's documentation groups
//! them (data selection, image definition, gridding, weighting, deconvolution, iteration control,
//! masking, restoration and output), pclean's own run settings apart, and the distributed-run
//! group as declared.

use super::spec::{Group, ParamSpec, Section};

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

/// The `--help` section of parameter `p` (`None`: a parameter the table left without one; a test
/// keeps every declared parameter in a section).
pub fn help_section(p: &ParamSpec) -> Option<&'static str> {
    if p.group == Group::Parallel {
        return Some(HELP_SECTIONS[9]);
    }
    let k = match p.section {
        Section::Unset => return None,
        Section::Data => 0,
        Section::Image => 1,
        Section::Gridding => 2,
        Section::Weighting => 3,
        Section::Deconvolution => 4,
        Section::Iteration => 5,
        Section::Masking => 6,
        Section::Output => 7,
        Section::Run => 8,
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
        assert!(
            missing.is_empty(),
            "give these `.in_section(..)` in schema/table.rs: {missing:?}"
        );
    }

    #[test]
    fn every_section_is_used() {
        for s in HELP_SECTIONS {
            assert!(PARAMS.iter().any(|p| help_section(p) == Some(s)), "{s}");
        }
    }
}

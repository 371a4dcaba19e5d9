//! Which primary beam a run uses, as tclean's `standard` gridder chooses it
//! (`SynthesisImager::makePB` / `makePBImage`), and the error when a run needs one and there is
//! none.
//!
//! - With `vptable`: the table's row for `OBSERVATION::TELESCOPE_NAME` ([`crate::vptable`]).
//! - Otherwise CASA's default table ([`pclean_grid::pb::default_pb_model`]) from the telescope,
//!   the `DISH_DIAMETER` of the first ANTENNA row (CASA reads row 0; mixed diameters get
//!   tclean's warning) and the frequency of image channel 0.
//! - No model: tclean warns ("Telescope X is not known ... Not making the PB image") and goes on
//!   with a `.pb` of zeros (measured with tclean 6.7 on a renamed MS). pclean does the same when
//!   nothing needs the beam, and otherwise stops before any heavy work with an error naming the
//!   telescope, what needs the beam and how to give one (never a silent beam of 1).

use crate::error::EngineError;
use pclean_core::params::{ImagingParams, UseMask};
use pclean_grid::pb::{default_pb_model, PbModel};
use pclean_ms::MsMeta;

/// What needs the primary beam in this run, if anything (as a parameter setting).
pub fn pb_needed_by(p: &ImagingParams) -> Option<String> {
    let d = &p.deconv;
    if p.pblimit > 0.0 {
        return Some(format!(
            "pblimit={} (products are masked where the primary beam is at or below it)",
            p.pblimit
        ));
    }
    if d.pbcor {
        return Some("pbcor=True".into());
    }
    match &d.usemask {
        UseMask::Pb { .. } => Some("usemask='pb'".into()),
        // auto-multithresh uses the beam only through pblimit > 0 here (checked above).
        _ => None,
    }
}

/// The run's primary-beam model (`None`: no `.pb` is made) and the warnings of the choice.
pub fn choose_pb_model(
    p: &ImagingParams,
    meta: &MsMeta,
    ms_name: &str,
    freq0_hz: f64,
) -> Result<(Option<PbModel>, Vec<String>), EngineError> {
    let mut warnings = Vec::new();
    let telescope = meta.observatory.name.as_str();
    let dish = meta.antennas.first().map_or(0.0, |a| a.dish_diameter_m);
    if meta
        .antennas
        .iter()
        .any(|a| a.dish_diameter_m != dish && !a.flag_row)
    {
        warnings.push(format!(
            "{ms_name}: the antennas have different dish diameters; the primary beam uses the first \
             antenna's ({dish} m), as tclean (which warns \"PB could be wrong\")"
        ));
    }
    let model = match &p.vptable {
        Some(path) => Some(crate::vptable::model_for(path, telescope, freq0_hz)?),
        None => default_pb_model(telescope, dish, freq0_hz),
    };
    if model.is_none() {
        if let Some(why) = pb_needed_by(p) {
            return Err(EngineError::param(
                "vptable",
                format!(
                    "{ms_name}: telescope '{telescope}' (OBSERVATION::TELESCOPE_NAME) has no primary-beam \
                     model in CASA's default table and the ANTENNA table gives no dish diameter ({dish} m), \
                     but {why} needs the primary beam. Give a voltage-pattern table with `vptable` (made \
                     with CASA's vpmanager: vp.setpbairy(telescope='OTHER', othertelescope='{telescope}', \
                     ...); vp.saveastable(...)), set the ANTENNA table's DISH_DIAMETER, or image without \
                     the beam (pblimit <= 0, pbcor=False, no pb mask), where the .pb is zero as tclean's"
                ),
            ));
        }
        warnings.push(format!(
            "{ms_name}: telescope '{telescope}' has no primary-beam model (CASA's default table does \
             not know it and the ANTENNA table gives no dish diameter): the .pb is zero, as tclean's"
        ));
    }
    Ok((model, warnings))
}

//! Checks of the selected fields against the image centre, made before any heavy work, and what
//! the log says of several fields in one image.

use crate::error::EngineError;
use crate::source::visprep::field_shift;
use crate::source::Source;
use pclean_core::direction::SkyContext;
use pclean_core::params::Gridder;
use pclean_core::{Direction, DirectionFrame};

/// Every selected field must be imageable at the image centre: a PHASE_DIR frame that converts to
/// the image's frame (ephemeris fields are re-phased from their ephemeris, `super::ephemeris`).
pub(super) fn check_fields(
    sources: &[Source],
    centre: &Direction,
    sky: &SkyContext,
) -> Result<(), EngineError> {
    for src in sources {
        let meta = src.ms.meta();
        for &fid in &src.selected.field_ids {
            let Some(f) = meta.fields.get(fid) else {
                continue;
            };
            if src.moving.as_ref().is_some_and(|m| m.has(fid)) {
                continue;
            }
            earth_fixed_field_in_its_frame(src, fid, f, centre)?;
            field_shift(f, sky.epoch_utc_mjd_s.unwrap_or(0.0), centre, sky)?;
        }
    }
    Ok(())
}

/// A FIELD direction fixed on the Earth (HADEC, AZEL*, ITRF) is imaged only in such a frame (the
/// default phasecenter or a field id: its own, where no conversion depends on time), and a sky
/// field only in a sky frame. tclean converts between the two at every row's time, so the sky
/// drifts through the image (measured with tclean 6.7: b1950vla.ms with its FIELD in HADEC and a
/// J2000 phasecenter gives its 1 Jy source at 0.023 Jy, in HADEC 0.984 Jy; docs/decisions.md (s10-ch13)),
/// while pclean converts a fixed field once: refused rather than a silently different product.
fn earth_fixed_field_in_its_frame(
    src: &Source,
    fid: usize,
    f: &pclean_ms::Field,
    centre: &Direction,
) -> Result<(), EngineError> {
    let frame = f.phase.frame;
    if frame.is_terrestrial() == centre.frame.is_terrestrial() {
        return Ok(());
    }
    let kind = |fr: DirectionFrame| {
        if fr.is_terrestrial() {
            "fixed on the Earth"
        } else {
            "fixed on the sky"
        }
    };
    Err(EngineError::param(
        "phasecenter",
        format!(
            "field '{}' (id {fid}) of {} has its PHASE_DIR in {frame}, which is {}, while the \
             image centre {} is {}: tclean converts between the two at every row's time (the sky \
             drifts through the image), which pclean does not do; image such fields in a frame of \
             the same kind (phasecenter='' or the id of a field {})",
            f.name,
            src.ms.path().display(),
            kind(frame),
            centre.to_casa_string(),
            kind(centre.frame),
            kind(frame),
        ),
    ))
}

/// Several fields in one image, said in the log. With `gridder='mosaic'` or `'awproject'` each
/// field's visibilities are gridded through that field's own primary beam (a joint mosaic). With
/// the other gridders each field's visibilities are phase-shifted to the image centre and gridded
/// together (tclean's standard gridder does the same, measured on a two-field MS: a source between
/// the fields peaks at its position with the same flux as from one field), with no per-field
/// primary beam.
pub(super) fn log_multi_field(sources: &[Source], centre: &Direction, gridder: Gridder) {
    for src in sources {
        let fields = &src.selected.field_ids;
        if fields.len() > 1 {
            let names: Vec<String> = fields
                .iter()
                .map(|&f| {
                    src.ms
                        .meta()
                        .fields
                        .get(f)
                        .map_or(f.to_string(), |x| format!("{f} ({})", x.name))
                })
                .collect();
            let how = match gridder {
                Gridder::Mosaic | Gridder::AwProject => format!(
                    "gridder='{}' grids each field's visibilities through that field's own \
                     primary beam into one image centred at {} (a joint mosaic)",
                    gridder.name(),
                    centre.to_casa_string()
                ),
                _ => format!(
                    "gridder='{}' phase-shifts each field's visibilities to the image centre {} \
                     and grids them together, as tclean does; no per-field primary beam is \
                     applied (use gridder='mosaic' for a joint mosaic)",
                    gridder.name(),
                    centre.to_casa_string()
                ),
            };
            tracing::info!(
                "{}: {} fields selected ({}): {how}",
                src.ms.path().display(),
                fields.len(),
                names.join(", ")
            );
        }
    }
}

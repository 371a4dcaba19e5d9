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
//!
//! Where the beam points ([`pb_pointings`]): tclean's `.pb` for the standard gridder
//! (`SynthesisImagerVi2::makePrimaryBeam`, `SIMapper::addPB`) is the sum of one beam per selected
//! (MS, field), each centred on the field's PHASE_DIR at the time of its first visibility buffer
//! (not on the image centre), divided by its peak when that exceeds 1 (`makePBImage`).

use crate::error::EngineError;
use crate::source::Source;
use pclean_core::direction::SkyContext;
use pclean_core::params::{ImagingParams, UseMask};
use pclean_core::Direction;
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

/// The pixel (x, y; 0-based, fractional) of every primary beam tclean's standard gridder adds into
/// the `.pb`: one per selected field of each MS (a field in two MSs counts twice, as tclean's), at
/// the field's PHASE_DIR at its earliest selected time, converted to the image's frame with the
/// image's epoch (the first integration) and observatory (`PBMath1D::apply`), and projected (SIN)
/// about the image centre `centre` as the image's direction coordinate does.
pub fn pb_pointings(
    p: &ImagingParams,
    sources: &[Source],
    centre: &Direction,
    sky: &SkyContext,
) -> Result<Vec<[f64; 2]>, EngineError> {
    let mut out = Vec::new();
    for src in sources {
        let meta = src.ms.meta();
        let sel = &src.selected;
        for (&fid, &t) in sel.field_ids.iter().zip(&sel.field_first_time_mjd_s) {
            let Some(field) = meta.fields.get(fid) else {
                continue;
            };
            let dir = field.phase.at(t);
            let here = if dir.frame == centre.frame {
                dir
            } else {
                dir.to_frame(centre.frame, sky).map_err(|e| {
                    EngineError::param(
                        "phasecenter",
                        format!(
                            "field '{}' (PHASE_DIR in {}): its primary beam cannot be placed on the \
                             image in {}: {e}",
                            field.name, dir.frame, centre.frame
                        ),
                    )
                })?
            };
            let cells = [p.cell_x_rad, p.cell_y_rad];
            out.push(pointing_pixel(centre, &here, [p.nx, p.ny], cells));
        }
    }
    Ok(out)
}

/// The pixel of direction `dir` (in the image's frame) on an `[nx, ny]` grid of pixel sizes
/// `cells_rad`: SIN about `centre` at the reference pixel (nx/2, ny/2), x increasing to the west
/// (CASA's negative RA increment).
fn pointing_pixel(
    centre: &Direction,
    dir: &Direction,
    [nx, ny]: [usize; 2],
    cells_rad: [f64; 2],
) -> [f64; 2] {
    let [l, m, _] = centre.lmn_of(dir);
    [
        (nx / 2) as f64 - l / cells_rad[0].abs(),
        (ny / 2) as f64 + m / cells_rad[1].abs(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use pclean_core::DirectionFrame;

    /// The beam of a field 20 cells east and 10 north of the image centre sits 20 pixels left
    /// of and 10 above the reference pixel (x grows westward, as CASA's RA axis), and a field
    /// at the centre on the reference pixel itself (the `.pb` of every single-field run).
    #[test]
    fn pointing_pixel_of_a_field_east_and_north_of_the_centre() {
        let cell = 15.0_f64.to_radians() / 3600.0;
        let centre = Direction::new(DirectionFrame::J2000, 2.6, 0.61);
        assert_eq!(
            pointing_pixel(&centre, &centre, [128, 100], [cell, cell]),
            [64.0, 50.0]
        );
        // A point at (l, m) = (20, 10) cells, by the inverse SIN projection.
        let (l, m) = (20.0 * cell, 10.0 * cell);
        let n = (1.0 - l * l - m * m).sqrt();
        let (sd0, cd0) = centre.dec_rad.sin_cos();
        let dec = (m * cd0 + n * sd0).asin();
        let ra = centre.ra_rad + l.atan2(n * cd0 - m * sd0);
        let dir = Direction::new(DirectionFrame::J2000, ra, dec);
        let [x, y] = pointing_pixel(&centre, &dir, [128, 100], [-cell, cell]);
        assert!(
            (x - 44.0).abs() < 1e-9 && (y - 60.0).abs() < 1e-9,
            "({x}, {y})"
        );
    }
}

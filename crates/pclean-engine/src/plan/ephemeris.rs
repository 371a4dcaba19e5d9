//! Fields that move along an ephemeris table (`FIELD::EPHEMERIS_ID` >= 0, e.g. a planet attached
//! by casatasks `fixplanets`). pclean reads the tables ([`pclean_ms::ephemeris`]) but does not
//! image such fields yet, so a selection that contains one is refused before any heavy work,
//! never imaged at the FIELD row's PHASE_DIR (which for these fields is only an offset, usually
//! (0, 0)).
//!
//! What tclean 6.7 does with them (testdata/reference/ephem, scripts/dev/make_ephem.py), for the
//! implementation to follow: default `phasecenter`: image in APP at the ephemeris direction at
//! FIELD TIME, each row re-phased from the direction at its own time (the moving source smears);
//! `phasecenter='TRACKFIELD'`: image in ICRS at the topocentric direction at the first row's time
//! (the table's position at TT minus the observatory's), rows not re-phased relative to the moving
//! source; `specmode='cubesource'` needs that tracking and labels the spectral axis REST (TOPO
//! frequencies corrected by the source's radial velocity).

use crate::error::EngineError;
use crate::source::Source;
use pclean_ms::ephemeris::field_ephemerides;

/// Refuse a selection that contains a field with an ephemeris.
pub(crate) fn refuse_ephemeris_fields(sources: &[Source]) -> Result<(), EngineError> {
    for s in sources {
        let meta = s.ms.meta();
        let ephemerides = field_ephemerides(&meta.path)?;
        for &fid in &s.selected.field_ids {
            let Some(Some(e)) = ephemerides.get(fid) else {
                continue;
            };
            let name = meta.fields.get(fid).map_or("?", |f| f.name.as_str());
            return Err(EngineError::param(
                "field",
                format!(
                    "field '{name}' (id {fid}) of {} moves along the ephemeris table {} ('{}', \
                     {} frame); pclean does not image ephemeris fields yet (tclean re-phases \
                     each row from the ephemeris direction at its time, or tracks the source \
                     with phasecenter='TRACKFIELD' and specmode='cubesource'): leave this field \
                     out of `field`, or image it with tclean",
                    meta.path.display(),
                    e.path.display(),
                    e.name,
                    e.frame.casa_name()
                ),
            ));
        }
    }
    Ok(())
}

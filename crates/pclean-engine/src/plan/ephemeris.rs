//! Fields that move along an ephemeris table (`FIELD::EPHEMERIS_ID` >= 0, e.g. a planet attached
//! by casatasks `fixplanets`), imaged as tclean 6.7 images them (measured on
//! testdata/reference/ephem, made by scripts/dev/make_ephem.py; docs/decisions.md, "Issue 13: Decisions of branch s7-ephem"):
//!
//! - the field's direction (FIELD TIME) is the table's geocentric direction at the FIELD row's
//!   `TIME`, in the table's frame (APP): the default image centre, and the direction of the mfs
//!   LSRK band and of a cube's frame conversion;
//! - the data of a row are taken as phased at the **topocentric** direction at the row's time
//!   (casacore's COMET frame: the table's position at TT minus the observatory's), expressed in
//!   the frame of `REFERENCE_DIR` (tclean's `VisBufferUtil::getPhaseCenter`); every row is re-phased
//!   from there to the image centre with the frames taken at the row's time;
//! - `phasecenter='TRACKFIELD'`: the image centre is the topocentric direction at the first
//!   integration in ICRS, and each row is re-phased to the topocentric direction at its own time
//!   (the moving source stays at the centre);
//! - `specmode='cubesource'` (TRACKFIELD only): the data channels Doppler-shifted into the source's
//!   frame, labelled REST: `f sqrt((1 - b) / (1 + b))`, `b = (-RadVel + v_obs) / c`, RadVel the
//!   table's (interpolated at UT1), v_obs the observatory's rotation velocity along the topocentric
//!   direction (`FTMachine::shiftFreqToSource`); the axis at the first integration, each row at its
//!   own time.
//! - `phasecenter='MARS'` (any body of casacore's JPL DE200, `pclean_ms::planets`): as TRACKFIELD
//!   with the body's topocentric direction, for every selected field (fixed fields too: their
//!   data are phased at PHASE_DIR at the row's time); the image in ICRS at the body's direction
//!   at the first integration (measured with tclean 6.7: docs/decisions.md (s10-ch13, s11-ch13)).

use crate::error::EngineError;
use crate::source::visprep::PhaseShift;
use crate::source::Source;
use pclean_core::direction::SkyContext;
use pclean_core::frames::EarthOrientation;
use pclean_core::params::{ImagingParams, PhaseCenter, SpecMode};
use pclean_core::{Direction, DirectionFrame, SPEED_OF_LIGHT};
use pclean_ms::ephemeris::{
    field_ephemerides, observer_true_of_date_m, tt_minus_utc_s, Ephemeris, EphemerisFrame,
};
use pclean_ms::planets::{Body, De200};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The Earth's rotation rate, rad/s (IERS conventions: 7.292115e-5 rad/s; its last digits move
/// the ~0.3 km/s rotation velocity by far less than 1 mm/s).
const EARTH_ROTATION_RAD_S: f64 = 7.292_115e-5;

/// One field's ephemeris and what tclean takes from the FIELD row.
#[derive(Debug, Clone)]
struct MovingField {
    eph: Ephemeris,
    /// The FIELD row's `TIME` (MJD seconds, UTC).
    field_time_mjd_s: f64,
    /// The frame of `REFERENCE_DIR`: the frame tclean believes the data phased in.
    reference_frame: DirectionFrame,
}

/// How the data of a selected field are phased.
#[derive(Debug, Clone)]
enum FieldMotion {
    /// Along the field's ephemeris table.
    Table(MovingField),
    /// At the field's PHASE_DIR (a fixed field, re-phased here only when a body is tracked).
    Fixed(pclean_ms::Field),
}

/// A body tracked by `phasecenter` (JPL DE200) and its topocentric directions (APP) by time.
#[derive(Debug)]
struct TrackedBody {
    body: Body,
    de200: De200,
    cache: Mutex<HashMap<u64, Direction>>,
}

/// The moving fields of one MS, or the tracked body, and how the run images them.
#[derive(Debug, Clone)]
pub struct Ephemerides {
    /// By field id (`None`: a fixed field that stays where it is).
    fields: Vec<Option<FieldMotion>>,
    observatory_itrf_m: [f64; 3],
    earth: Arc<EarthOrientation>,
    /// `phasecenter='TRACKFIELD'` or a body: rows are re-phased to the moving source.
    track: bool,
    /// `phasecenter` naming a body.
    body: Option<Arc<TrackedBody>>,
}

fn unsupported(what: String) -> EngineError {
    EngineError::param("field", what)
}

impl Ephemerides {
    /// The ephemeris fields of `src`'s MS and the body `phasecenter` names (its DE200 records for
    /// the observation), or `None` when no selected field has an ephemeris and no body is
    /// tracked. Refuses what pclean does not reproduce yet (non-APP or topocentric tables, offsets from the ephemeris,
    /// several fields or MSs with TRACKFIELD), before any heavy work.
    pub fn open(
        src: &Source,
        params: &ImagingParams,
        earth: &Arc<EarthOrientation>,
    ) -> Result<Option<Self>, EngineError> {
        let meta = src.ms.meta();
        let track = params.phasecenter == PhaseCenter::TrackField;
        let body = match &params.phasecenter {
            PhaseCenter::Body(name) => Some(TrackedBody::open(name, src)?),
            _ => None,
        };
        let has_tables = meta.fields.iter().any(|f| f.ephemeris_id >= 0);
        if !has_tables && body.is_none() {
            return Ok(None);
        }
        let tables = if has_tables {
            field_ephemerides(&meta.path)?
        } else {
            vec![None; meta.fields.len()]
        };
        let mut fields = vec![None; meta.fields.len()];
        let mut any = false;
        for &fid in &src.selected.field_ids {
            let (Some(f), Some(table)) = (meta.fields.get(fid), tables.get(fid)) else {
                continue;
            };
            let Some(e) = table else {
                if body.is_some() {
                    fields[fid] = Some(FieldMotion::Fixed(f.clone()));
                    any = true;
                }
                continue;
            };
            let where_ = format!("field '{}' (id {fid}) of {}", f.name, meta.path.display());
            if e.frame != EphemerisFrame::App || e.geo[0] != 0.0 {
                return Err(unsupported(format!(
                    "{where_} moves along {} in frame {}{}: pclean images geocentric APP \
                     ephemerides only (JPL-Horizons tables attached by fixplanets); image it \
                     with tclean",
                    e.path.display(),
                    e.frame.casa_name(),
                    if e.geo[0] != 0.0 {
                        " (topocentric)"
                    } else {
                        ""
                    }
                )));
            }
            for (col, d) in [("PHASE_DIR", &f.phase), ("REFERENCE_DIR", &f.reference)] {
                if d.coeffs.iter().flatten().any(|c| *c != 0.0) {
                    return Err(unsupported(format!(
                        "{where_}: {col} holds an offset from the ephemeris ({:?}); pclean images \
                         ephemeris fields without offsets only",
                        d.coeffs
                    )));
                }
            }
            fields[fid] = Some(FieldMotion::Table(MovingField {
                eph: e.clone(),
                field_time_mjd_s: f.phase.epoch_mjd_s,
                reference_frame: f.reference.frame,
            }));
            any = true;
        }
        if !any {
            return Ok(None);
        }
        Ok(Some(Ephemerides {
            fields,
            observatory_itrf_m: meta.observatory.position_itrf_m,
            earth: earth.clone(),
            track: track || body.is_some(),
            body: body.map(Arc::new),
        }))
    }

    /// Field `fid`'s ephemeris table, if it has one.
    fn field(&self, fid: usize) -> Option<&MovingField> {
        match self.fields.get(fid) {
            Some(Some(FieldMotion::Table(m))) => Some(m),
            _ => None,
        }
    }

    /// Whether the rows of field `fid` are re-phased here at each row's time (an ephemeris
    /// field, or any selected field when a body is tracked).
    pub fn has(&self, fid: usize) -> bool {
        matches!(self.fields.get(fid), Some(Some(_)))
    }

    fn sky(&self, t_mjd_s: f64) -> SkyContext {
        self.earth.sky_context(t_mjd_s, self.observatory_itrf_m)
    }

    /// The field's direction at its FIELD TIME: the table's (geocentric APP) direction then
    /// (casacore `MSFieldColumns::phaseDirMeas` without a time; tclean's default image centre).
    pub fn field_direction(&self, fid: usize) -> Result<Option<Direction>, EngineError> {
        let Some(m) = self.field(fid) else {
            return Ok(None);
        };
        let (lon, lat) = m.eph.direction_rad(m.field_time_mjd_s / 86_400.0)?;
        Ok(Some(Direction::new(DirectionFrame::App, lon, lat)))
    }

    /// The first selected ephemeris field's geocentric direction (APP) at `t_mjd_s` (UTC): the
    /// direction tclean's visibility iterator converts a row's frequencies with.
    /// Without one (a tracked body over fixed fields), the first selected field's PHASE_DIR then.
    pub fn geocentric_direction(&self, t_mjd_s: f64) -> Result<Direction, EngineError> {
        if self
            .fields
            .iter()
            .flatten()
            .all(|f| matches!(f, FieldMotion::Fixed(_)))
        {
            if let Some(FieldMotion::Fixed(f)) = self.fields.iter().flatten().next() {
                return Ok(f.phase.at(t_mjd_s));
            }
        }
        let m = self.first("geocentric_direction")?;
        let (lon, lat) = m.eph.direction_rad(t_mjd_s / 86_400.0)?;
        Ok(Direction::new(DirectionFrame::App, lon, lat))
    }

    /// The observatory's geocentric position (true equator and equinox of date, metres) at `t`.
    fn observer_m(&self, t_mjd_s: f64) -> [f64; 3] {
        observer_true_of_date_m(
            self.observatory_itrf_m,
            t_mjd_s / 86_400.0,
            self.earth.dut1_s(t_mjd_s),
        )
    }

    /// The topocentric direction (APP) of field `fid` at `t_mjd_s` (UTC, MJD seconds): the table's
    /// position at TT minus the observatory's.
    fn topocentric(&self, m: &MovingField, t_mjd_s: f64) -> Result<Direction, EngineError> {
        let dtt = tt_minus_utc_s(t_mjd_s / 86_400.0)?;
        let (lon, lat) = m
            .eph
            .topocentric_direction_rad((t_mjd_s + dtt) / 86_400.0, self.observer_m(t_mjd_s))?;
        Ok(Direction::new(DirectionFrame::App, lon, lat))
    }

    /// The topocentric direction of the first selected ephemeris field at `t_mjd_s` in `frame`:
    /// with TRACKFIELD at the first integration, the image centre (ICRS).
    pub fn tracked_direction(
        &self,
        frame: DirectionFrame,
        t_mjd_s: f64,
    ) -> Result<Direction, EngineError> {
        let topo = match &self.body {
            Some(b) => b.topocentric(t_mjd_s, self)?,
            None => self.topocentric(self.first("tracked_direction")?, t_mjd_s)?,
        };
        topo.to_frame(frame, &self.sky(t_mjd_s))
            .map_err(|e| EngineError::param("phasecenter", format!("tracking: {e}")))
    }

    /// The rotation of a row of field `fid` observed at `t_mjd_s` to the image centre: from the
    /// topocentric direction in REFERENCE_DIR's frame (where tclean takes the data to be phased)
    /// to `image_centre`, or with TRACKFIELD to the moving source's direction at `t_mjd_s` in the
    /// image's frame; both frames at the row's time. `None`: no rotation needed (or `fid` is a
    /// fixed field: ask [`Self::has`] first).
    pub fn row_shift(
        &self,
        fid: usize,
        t_mjd_s: f64,
        image_centre: &Direction,
    ) -> Result<Option<PhaseShift>, EngineError> {
        let sky = self.sky(t_mjd_s);
        let bad = |e: pclean_core::direction::SkyFrameError| {
            EngineError::param("phasecenter", format!("moving field {fid}: {e}"))
        };
        let (data_centre, topo) = match self.fields.get(fid) {
            Some(Some(FieldMotion::Table(m))) => {
                let topo = self.topocentric(m, t_mjd_s)?;
                (
                    topo.to_frame(m.reference_frame, &sky).map_err(bad)?,
                    Some(topo),
                )
            }
            Some(Some(FieldMotion::Fixed(f))) => (f.phase.at(t_mjd_s), None),
            _ => return Ok(None),
        };
        let target = match (&self.body, topo) {
            (Some(b), _) => b
                .topocentric(t_mjd_s, self)?
                .to_frame(image_centre.frame, &sky)
                .map_err(bad)?,
            (None, Some(topo)) if self.track => {
                topo.to_frame(image_centre.frame, &sky).map_err(bad)?
            }
            _ => *image_centre,
        };
        PhaseShift::new(&data_centre, &target, &sky).map_err(bad)
    }

    /// `f_source / f_topo` for a row at `t_mjd_s` (cubesource, the first ephemeris field): the
    /// observatory's velocity taken along the topocentric direction at the row's time.
    pub fn source_doppler_factor(&self, t_mjd_s: f64) -> Result<f64, EngineError> {
        let m = self.first("source_doppler_factor")?;
        let s = self.topocentric(m, t_mjd_s)?.unit_vector();
        self.source_factor_along(m, t_mjd_s, s)
    }

    /// The factor of the cubesource image axis at `t_mjd_s` (the first integration): as
    /// [`Self::source_doppler_factor`] but with the observatory's velocity along the field's
    /// geocentric direction at `t_mjd_s` (the direction of the visibility iterator's phase
    /// centre then), as tclean builds the axis. Measured (docs/decisions.md (s8-ephem)): tclean's
    /// crval is 0.273 Hz above the topocentric factor's, i.e. 9.75e-3 m/s less observatory
    /// velocity; along the geocentric direction casacore gives 9.77e-3 m/s less.
    pub fn source_grid_factor(&self, t_mjd_s: f64) -> Result<f64, EngineError> {
        let m = self.first("source_grid_factor")?;
        let s = self.geocentric_direction(t_mjd_s)?.unit_vector();
        self.source_factor_along(m, t_mjd_s, s)
    }

    fn first(&self, what: &str) -> Result<&MovingField, EngineError> {
        self.fields
            .iter()
            .flatten()
            .find_map(|f| match f {
                FieldMotion::Table(m) => Some(m),
                FieldMotion::Fixed(_) => None,
            })
            .ok_or_else(|| EngineError::internal(format!("{what} without an ephemeris field")))
    }

    /// `sqrt((1 - b) / (1 + b))`, `b = (-RadVel + v_obs . s) / c` (casacore `MDoppler`
    /// RELATIVISTIC `shiftFrequency`; tclean's `FTMachine::shiftFreqToSource`).
    fn source_factor_along(
        &self,
        m: &MovingField,
        t_mjd_s: f64,
        s: [f64; 3],
    ) -> Result<f64, EngineError> {
        let ut1_mjd = (t_mjd_s + self.earth.dut1_s(t_mjd_s)) / 86_400.0;
        let radvel = m.eph.radial_velocity_m_s(ut1_mjd)?;
        let r = self.observer_m(t_mjd_s);
        let v_obs = [
            -EARTH_ROTATION_RAD_S * r[1],
            EARTH_ROTATION_RAD_S * r[0],
            0.0,
        ];
        let obsvel: f64 = (0..3).map(|i| v_obs[i] * s[i]).sum();
        let beta = (-radvel + obsvel) / SPEED_OF_LIGHT;
        Ok(((1.0 - beta) / (1.0 + beta)).sqrt())
    }
}

impl TrackedBody {
    /// The body `name` (casacore's) with the DE200 records covering `src`'s observation; the
    /// error names `phasecenter`, where the table was looked for and how to fix it.
    fn open(name: &str, src: &Source) -> Result<Self, EngineError> {
        let bad =
            |e: String| EngineError::param("phasecenter", format!("phasecenter='{name}': {e}"));
        let body =
            Body::from_name(name).ok_or_else(|| bad("not a body of the JPL ephemeris".into()))?;
        let path = De200::locate().map_err(|e| bad(e.to_string()))?;
        let (t0, t1) = src.ms.meta().time_range_mjd_s;
        // TDB is UTC + ~69 s: the day of margin De200::open adds covers it.
        let de200 =
            De200::open(&path, t0 / 86_400.0, t1 / 86_400.0).map_err(|e| bad(e.to_string()))?;
        Ok(TrackedBody {
            body,
            de200,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The body's topocentric direction (APP) at `t_mjd_s` (UTC), once per time.
    fn topocentric(&self, t_mjd_s: f64, e: &Ephemerides) -> Result<Direction, EngineError> {
        let key = t_mjd_s.to_bits();
        if let Some(d) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(*d);
        }
        let d = self
            .de200
            .topocentric_app(
                self.body,
                t_mjd_s,
                e.observatory_itrf_m,
                e.earth.dut1_s(t_mjd_s),
            )
            .map_err(|err| {
                EngineError::param(
                    "phasecenter",
                    format!("phasecenter='{}': {err}", self.body.casa_name()),
                )
            })?;
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, d);
        Ok(d)
    }
}

/// The ephemerides of every source (in the sources' order), checked against the parameters:
/// TRACKFIELD and cubesource need exactly one selected field, with an ephemeris, in one MS.
pub(crate) fn open_all(
    sources: &[Source],
    params: &ImagingParams,
    earth: &Arc<EarthOrientation>,
) -> Result<Vec<Option<Arc<Ephemerides>>>, EngineError> {
    let mut out = Vec::with_capacity(sources.len());
    for s in sources {
        out.push(Ephemerides::open(s, params, earth)?.map(Arc::new));
    }
    let track = params.phasecenter == PhaseCenter::TrackField;
    if track {
        let nfields: usize = sources.iter().map(|s| s.selected.field_ids.len()).sum();
        if nfields != 1 || out.first().is_none_or(|e| e.is_none()) {
            return Err(EngineError::param(
                "phasecenter",
                format!(
                    "phasecenter='TRACKFIELD' follows a field's ephemeris: select exactly one \
                     field with an ephemeris table (FIELD::EPHEMERIS_ID, casatasks fixplanets) \
                     in one MS; the selection has {nfields} field(s){}",
                    if out.iter().all(|e| e.is_none()) {
                        ", none with an ephemeris"
                    } else {
                        ""
                    }
                ),
            ));
        }
    }
    if params.specmode == SpecMode::CubeSource && !track {
        return Err(EngineError::param(
            "specmode",
            "specmode='cubesource' needs phasecenter='TRACKFIELD'",
        ));
    }
    Ok(out)
}

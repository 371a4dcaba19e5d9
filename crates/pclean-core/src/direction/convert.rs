//! Converting directions between frames, with casacore's conventions (see `fk4` and `earth`).

use super::earth::EarthEpoch;
use super::fk4;
use super::geom::{lon_lat, mat_mul, mat_t_vec, mat_vec, unit};
use super::{Direction, DirectionFrame};

/// What a conversion needs besides the direction: the epoch (UTC, MJD seconds as an MS `TIME`),
/// UT1 - UTC (seconds), polar motion (x, y, radians; HADEC, AZEL* and ITRF) and the observatory
/// (ITRF metres). Inertial frames need none of them; B1950 uses the epoch when one is given
/// (casacore's FK4 epoch), 2000.0 otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SkyContext {
    pub epoch_utc_mjd_s: Option<f64>,
    pub dut1_s: f64,
    pub polar_motion_rad: [f64; 2],
    pub observatory_itrf_m: Option<[f64; 3]>,
}

impl SkyContext {
    /// A context at `epoch_utc_mjd_s` for the observatory at `itrf_m`, without polar motion (see
    /// [`Self::with_polar_motion`] and `EarthOrientation::sky_context`).
    pub fn at(epoch_utc_mjd_s: f64, itrf_m: [f64; 3], dut1_s: f64) -> Self {
        SkyContext {
            epoch_utc_mjd_s: Some(epoch_utc_mjd_s),
            dut1_s,
            polar_motion_rad: [0.0; 2],
            observatory_itrf_m: Some(itrf_m),
        }
    }

    /// This context with the pole's offset (x, y) in radians (IERS: x towards Greenwich, y
    /// towards 90 degrees west).
    pub fn with_polar_motion(self, xy_rad: [f64; 2]) -> Self {
        SkyContext {
            polar_motion_rad: xy_rad,
            ..self
        }
    }
}

/// Why a direction could not be converted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SkyFrameError {
    #[error("converting directions to or from {frame} needs an epoch (the observation's time)")]
    NeedsEpoch { frame: DirectionFrame },
    #[error("converting directions to or from {frame} needs the observatory's position")]
    NeedsObservatory { frame: DirectionFrame },
    #[error(
        "direction frame {frame} is not supported by pclean (supported: J2000, ICRS, B1950, \
         B1950_VLA, BMEAN, BTRUE, GALACTIC, SUPERGAL, ECLIPTIC, MECLIPTIC, TECLIPTIC, JMEAN, JTRUE, \
         JNAT, APP, TOPO, HADEC, AZEL, AZELSW, AZELGEO, AZELSWGEO, ITRF); give the direction in one of those"
    )]
    Unsupported { frame: DirectionFrame },
    #[error("cannot convert UTC {time_utc_mjd_s} s (MJD seconds) to TT/UT1")]
    BadEpoch { time_utc_mjd_s: f64 },
}

/// casacore's B1950 epoch for a context: the frame's epoch, else 2000.0 (centuries from J2000).
fn b1950_epoch(ctx: &SkyContext) -> f64 {
    ctx.epoch_utc_mjd_s.map_or(0.0, |t| {
        (t / 86_400.0 + ctx.dut1_s / 86_400.0 - 51_544.5) / 36_525.0
    })
}

/// `dir` expressed in frame `to`.
pub fn convert(
    dir: &Direction,
    to: DirectionFrame,
    ctx: &SkyContext,
) -> Result<Direction, SkyFrameError> {
    if dir.frame == to {
        return Ok(*dir);
    }
    let v = dir.unit_vector();
    use DirectionFrame as F;
    // casacore converts B1950 <-> GALACTIC (and so SUPERGAL) with its own FK4 galactic matrix.
    let sg = fk4::supergal_axes();
    let out = match (dir.frame, to) {
        (F::B1950, F::Galactic) => fk4::b1950_to_galactic(&v),
        (F::Galactic, F::B1950) => fk4::galactic_to_b1950(&v),
        (F::B1950, F::Supergal) => mat_vec(&sg, &fk4::b1950_to_galactic(&v)),
        (F::Supergal, F::B1950) => fk4::galactic_to_b1950(&mat_t_vec(&sg, &v)),
        _ => from_j2000(to, &to_j2000(dir.frame, &v, ctx)?, ctx)?,
    };
    let (lon, lat) = lon_lat(&out);
    Ok(Direction {
        frame: to,
        ra_rad: lon,
        dec_rad: lat,
    })
}

/// A natural (already deflected, JNAT) unit vector -> APP at `ctx`'s epoch: annual aberration and
/// precession-nutation without J2000 -> APP's solar deflection (casacore's route for the Sun, the
/// Moon and the planets; converting the vector as a JNAT direction would invert and reapply the
/// deflection, which is not invertible at the Sun itself).
pub fn natural_to_apparent(v: &[f64; 3], ctx: &SkyContext) -> Result<Direction, SkyFrameError> {
    let app = EarthEpoch::new(DirectionFrame::App, ctx)?.aberrated(v);
    let (lon, lat) = lon_lat(&app);
    Ok(Direction {
        frame: DirectionFrame::App,
        ra_rad: lon,
        dec_rad: lat,
    })
}

fn frame_bias() -> [[f64; 3]; 3] {
    // ICRS -> J2000 (FK5) is the IAU 2000 frame bias (casacore `MeasTable::frameBias00`).
    sofars::pnp::bp00(2_400_000.5, 51_544.5).0
}

fn to_j2000(
    frame: DirectionFrame,
    v: &[f64; 3],
    ctx: &SkyContext,
) -> Result<[f64; 3], SkyFrameError> {
    use DirectionFrame as F;
    Ok(match frame {
        F::J2000 => *v,
        F::Icrs => mat_vec(&frame_bias(), v),
        F::B1950 => fk4::b1950_to_j2000(v, b1950_epoch(ctx)),
        F::B1950Vla => fk4::b1950_to_j2000(v, fk4::B1950_VLA_EPOCH_CENT),
        F::Galactic => fk4::galactic_to_j2000(v),
        F::Supergal => fk4::galactic_to_j2000(&mat_t_vec(&fk4::supergal_axes(), v)),
        F::Ecliptic => mat_t_vec(&super::geom::rot_x(ECLIPTIC_OBLIQUITY), v),
        F::Bmean | F::Btrue => {
            let b1950 = mat_t_vec(&besselian_of_date(frame, ctx)?, v);
            fk4::b1950_to_j2000(&b1950, b1950_epoch(ctx))
        }
        F::Itrf => {
            let earth = EarthEpoch::new(frame, ctx)?;
            let hadec = itrf_hadec(v, earth.site_longitude(frame)?);
            earth.to_j2000(F::Hadec, &hadec)?
        }
        other => EarthEpoch::new(other, ctx)?.to_j2000(other, v)?,
    })
}

fn from_j2000(
    frame: DirectionFrame,
    j: &[f64; 3],
    ctx: &SkyContext,
) -> Result<[f64; 3], SkyFrameError> {
    use DirectionFrame as F;
    Ok(match frame {
        F::J2000 => *j,
        F::Icrs => mat_t_vec(&frame_bias(), j),
        F::B1950 => fk4::j2000_to_b1950(j, b1950_epoch(ctx)),
        F::B1950Vla => fk4::j2000_to_b1950(j, fk4::B1950_VLA_EPOCH_CENT),
        F::Galactic => fk4::j2000_to_galactic(j),
        F::Supergal => mat_vec(&fk4::supergal_axes(), &fk4::j2000_to_galactic(j)),
        F::Ecliptic => mat_vec(&super::geom::rot_x(ECLIPTIC_OBLIQUITY), j),
        F::Bmean | F::Btrue => {
            let b1950 = fk4::j2000_to_b1950(j, b1950_epoch(ctx));
            mat_vec(&besselian_of_date(frame, ctx)?, &b1950)
        }
        F::Itrf => {
            let earth = EarthEpoch::new(frame, ctx)?;
            itrf_hadec(&earth.j2000_to(F::Hadec, j)?, earth.site_longitude(frame)?)
        }
        other => EarthEpoch::new(other, ctx)?.j2000_to(other, j)?,
    })
}

/// The rotation from B1950 (FK4) to BMEAN (Newcomb precession to the epoch) or BTRUE (then the
/// nutation of the epoch), at TT taken as TDB as casacore does for these frames. casacore nutates
/// BTRUE with its 1950-era series (`Nutation::B1950`); pclean uses SOFA's IAU 1980 series
/// (`nutm80`), which differs by milliarcseconds (measured in `tests/direction_frames.rs`).
fn besselian_of_date(
    frame: DirectionFrame,
    ctx: &SkyContext,
) -> Result<[[f64; 3]; 3], SkyFrameError> {
    let earth = EarthEpoch::new(frame, ctx)?;
    let p = fk4::newcomb_precession(earth.tt_mjd());
    Ok(if frame == DirectionFrame::Btrue {
        mat_mul(&earth.nutation(), &p)
    } else {
        p
    })
}

/// HADEC <-> ITRF directions (casacore `MeasMath::applyHADECtoITRF`): the ITRF longitude is the
/// observatory's east longitude minus the hour angle, the latitude the declination; the map is
/// its own inverse.
fn itrf_hadec(v: &[f64; 3], site_longitude: f64) -> [f64; 3] {
    let (lon, lat) = lon_lat(v);
    unit(site_longitude - lon, lat)
}

/// The J2000 obliquity, 84381.448 arcsec (casacore `MeasData::eps0J2000`).
const ECLIPTIC_OBLIQUITY: f64 = 84_381.448 / 3600.0 * std::f64::consts::PI / 180.0;

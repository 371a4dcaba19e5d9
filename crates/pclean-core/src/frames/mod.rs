//! Spectral reference frames: the Doppler factor between two frequency frames for one photon, as
//! casacore's `MFrequency::Convert` computes it (the `outframe` of tclean cubes).
//!
//! # Model (casacore `measures/Measures/MCFrequency.cc`, `MCFrequency::doConvert`)
//! casacore links the frames by routes TOPO–GEO–BARY, BARY–LSRK, BARY–LSRD–GALACTO, BARY–LGROUP and
//! BARY–CMB. Each step multiplies the frequency by the relativistic longitudinal Doppler factor
//! `sqrt((1 - g) / (1 + g))` (towards the frame further from TOPO) with `g = v . d / c`, `v` the
//! velocity of the nearer frame relative to the further one and `d` the unit vector to the source:
//! - TOPO -> GEO: `v` = the site's diurnal velocity `2 pi |r| / 86400 s * UTtoST(T) * cos(lat)`
//!   (`MeasTable::diurnalAber`, `MeasTable::UTtoST`) towards the east, i.e. at hour angle
//!   `LAST + pi/2` on the true equator of date; `d` = the *apparent* direction (aberrated, precessed
//!   and nutated; `getApp`).
//! - GEO -> BARY: `v` = the Earth's barycentric velocity from casacore's `Aberration(STANDARD)`
//!   series (Ron & Vondrák 1986; `Aberration::calcAber`, tables in `MeasTable.cc` and
//!   `MeasTableMul.cc`), `d` = the J2000 direction.
//! - BARY -> LSRK, LSRD, LGROUP, CMB and LSRD -> GALACTO: fixed J2000 vectors
//!   (`MeasTable::velocityLSRK`, `velocityLSR`, `velocityLGROUP`, `velocityCMB`, `velocityLSRGal`).
//!
//! Factors of a route multiply, so here each frame F carries a rapidity `eta_F` (the sum of
//! `atanh(g)` along its route from BARY, `exp(-atanh g) = sqrt((1-g)/(1+g))`) and
//! `f_to / f_from = exp(eta_from - eta_to)`: TOPO -> TOPO is exactly 1 and the inverse is exact to
//! rounding.
//!
//! # Differences from casacore (all below 0.2 Hz at 230 GHz unless said)
//! - Precession-nutation IAU 1976/1980 and GMST 1982 come from SOFA (`sofars`), as casacore's
//!   default (not IAU 2000) path; model details differ at the milliarcsecond level (< 1e-14).
//! - The aberration of the apparent direction uses SOFA `iauAb`; solar light deflection is ignored
//!   (4 mas at 90 degrees from the Sun, up to 1.75 arcsec at the limb: < 3 Hz there).
//! - TDB is taken as TT (1.7 ms apart at most: 1e-5 m/s of orbital velocity).
//! - casacore caches the Earth velocity for 0.04 d and extrapolates it linearly; we evaluate it at
//!   every epoch. That differs by up to `0.5 * |dv/dt^2| * dt^2`: 1.5 Hz at 230 GHz 30 minutes
//!   after the cached epoch, 5 Hz after 0.04 d.
//! - UT1 - UTC must be supplied (`doppler_factor_with_dut1`); `doppler_factor` takes it as 0. Each
//!   0.1 s of UT1 - UTC moves the diurnal term by up to 1.1e-11 (2.6 Hz at 230 GHz on the equator;
//!   |UT1 - UTC| < 0.9 s by definition, so up to 24 Hz).
//!
//! Measured against casacore (python-casacore 3.8.1, `scripts/dev/frames_oracle.py`): 6e-14
//! relative at worst, 0.014 Hz at 230 GHz, over 8 frames, 6 epochs 2012–2024, 2 sites, J2000 and
//! ICRS directions.
//!
//! Units: times are UTC as MJD seconds (an MS `TIME` column); positions ITRF metres.

mod aberration;
mod eop;

pub use eop::{Dut1Table, EarthOrientation};

use crate::direction::{Direction, DirectionFrame};
use crate::SPEED_OF_LIGHT;
pub(crate) use aberration::earth_velocity_c;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::str::FromStr;

/// A spectral reference frame (casacore `MFrequency::Types`, without REST).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FreqFrame {
    /// Kinematic local standard of rest: 20 km/s towards RA 18h, Dec +30 (B1900).
    Lsrk,
    /// Dynamical local standard of rest: (9, 12, 7) km/s in Galactic (U, V, W).
    Lsrd,
    /// Solar-system barycentre.
    Bary,
    /// Geocentre.
    Geo,
    /// Topocentre (the observatory; the frame of most MS data).
    Topo,
    /// Galactic centre: the LSRD rotating at 220 km/s towards l = 90, b = 0.
    Galacto,
    /// Local group: 308 km/s towards l = 105, b = -7.
    Lgroup,
    /// Cosmic microwave background dipole: 369.5 km/s towards l = 264.4, b = 48.4.
    Cmb,
}

impl FreqFrame {
    /// Every frame, in casacore's order.
    pub const ALL: [FreqFrame; 8] = [
        FreqFrame::Lsrk,
        FreqFrame::Lsrd,
        FreqFrame::Bary,
        FreqFrame::Geo,
        FreqFrame::Topo,
        FreqFrame::Galacto,
        FreqFrame::Lgroup,
        FreqFrame::Cmb,
    ];

    /// casacore's name of the frame (`"LSRK"`, `"BARY"`, ...).
    pub fn casa_name(&self) -> &'static str {
        match self {
            FreqFrame::Lsrk => "LSRK",
            FreqFrame::Lsrd => "LSRD",
            FreqFrame::Bary => "BARY",
            FreqFrame::Geo => "GEO",
            FreqFrame::Topo => "TOPO",
            FreqFrame::Galacto => "GALACTO",
            FreqFrame::Lgroup => "LGROUP",
            FreqFrame::Cmb => "CMB",
        }
    }

    /// The frame of an MS `MEAS_FREQ_REF` code (casacore `MFrequency::Types`: 0 REST, 1 LSRK,
    /// 2 LSRD, 3 BARY, 4 GEO, 5 TOPO, 6 GALACTO, 7 LGROUP, 8 CMB); `None` for REST and others.
    pub fn from_casa_code(code: i32) -> Option<FreqFrame> {
        match code {
            1 => Some(FreqFrame::Lsrk),
            2 => Some(FreqFrame::Lsrd),
            3 => Some(FreqFrame::Bary),
            4 => Some(FreqFrame::Geo),
            5 => Some(FreqFrame::Topo),
            6 => Some(FreqFrame::Galacto),
            7 => Some(FreqFrame::Lgroup),
            8 => Some(FreqFrame::Cmb),
            _ => None,
        }
    }
}

impl std::fmt::Display for FreqFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.casa_name())
    }
}

impl FromStr for FreqFrame {
    type Err = FramesError;

    /// Parse a casacore frame name, case-insensitively (`"lsrk"`, `"BARY"`, ...).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        FreqFrame::ALL
            .into_iter()
            .find(|f| f.casa_name() == upper)
            .ok_or_else(|| FramesError::UnknownFrame {
                name: s.to_string(),
            })
    }
}

/// An observatory, by its ITRF position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Observatory {
    /// Geocentric ITRF position (x, y, z), metres.
    pub itrf_m: [f64; 3],
}

/// Why a Doppler factor could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FramesError {
    #[error("unknown spectral frame '{name}' (expected LSRK, LSRD, BARY, GEO, TOPO, GALACTO, LGROUP or CMB)")]
    UnknownFrame { name: String },
    #[error(
        "cannot convert UTC {time_utc_mjd_s} s (MJD seconds) to TT/UT1 (SOFA status {status})"
    )]
    BadEpoch { time_utc_mjd_s: f64, status: i32 },
    #[error("cannot use the source direction for the frequency frame conversion: {why}")]
    Direction { why: String },
}

/// `f_to / f_from` for one photon: the frequency `f_from` measured in frame `from` is `f_from *
/// doppler_factor(..)` in frame `to`. The inverse is `doppler_factor(to, from, ..)`.
///
/// `time_utc_mjd_s` is the UTC epoch in MJD seconds (as an MS `TIME`); UT1 - UTC is taken as 0
/// (see [`doppler_factor_with_dut1`]; up to 1.1e-11 of error per 0.1 s of UT1 - UTC). `dir` is the source direction (J2000 or ICRS).
pub fn doppler_factor(
    from: FreqFrame,
    to: FreqFrame,
    time_utc_mjd_s: f64,
    obs: &Observatory,
    dir: &Direction,
) -> Result<f64, FramesError> {
    doppler_factor_with_dut1(from, to, time_utc_mjd_s, 0.0, obs, dir)
}

/// [`doppler_factor`] with UT1 - UTC (`dut1_s`, seconds, from IERS Bulletin A/B or casacore's
/// `IERSeop2000` table), as casacore uses for the Earth rotation angle (no polar motion: see
/// [`doppler_factor_with_eop`]).
pub fn doppler_factor_with_dut1(
    from: FreqFrame,
    to: FreqFrame,
    time_utc_mjd_s: f64,
    dut1_s: f64,
    obs: &Observatory,
    dir: &Direction,
) -> Result<f64, FramesError> {
    let sky = crate::direction::SkyContext::at(time_utc_mjd_s, obs.itrf_m, dut1_s);
    doppler_factor_at(from, to, &sky, obs, dir)
}

/// [`doppler_factor`] with the run's Earth orientation: UT1 - UTC and, for a `dir` in HADEC,
/// AZEL* or ITRF, polar motion (as casacore converts such a direction).
pub fn doppler_factor_with_eop(
    from: FreqFrame,
    to: FreqFrame,
    time_utc_mjd_s: f64,
    earth: &EarthOrientation,
    obs: &Observatory,
    dir: &Direction,
) -> Result<f64, FramesError> {
    let sky = earth.sky_context(time_utc_mjd_s, obs.itrf_m);
    doppler_factor_at(from, to, &sky, obs, dir)
}

fn doppler_factor_at(
    from: FreqFrame,
    to: FreqFrame,
    sky: &crate::direction::SkyContext,
    obs: &Observatory,
    dir: &Direction,
) -> Result<f64, FramesError> {
    if from == to {
        return Ok(1.0);
    }
    let time_utc_mjd_s = sky.epoch_utc_mjd_s.unwrap_or_default();
    let d = j2000_unit_vector(dir, sky)?;
    let needs_earth = |f| matches!(f, FreqFrame::Geo | FreqFrame::Topo);
    let earth = if needs_earth(from) || needs_earth(to) {
        Some(EarthState::at(time_utc_mjd_s, sky.dut1_s)?)
    } else {
        None
    };
    let eta_from = rapidity_from_bary(from, &d, earth.as_ref(), obs);
    let eta_to = rapidity_from_bary(to, &d, earth.as_ref(), obs);
    Ok((eta_from - eta_to).exp())
}

/// `eta_F` with `f_F = f_BARY * exp(-eta_F)` for one photon from the unit J2000 direction `d`.
/// `earth` must be given for GEO and TOPO.
fn rapidity_from_bary(
    frame: FreqFrame,
    d: &[f64; 3],
    earth: Option<&EarthState>,
    obs: &Observatory,
) -> f64 {
    let fixed = |v_ms: &[f64; 3]| (dot(v_ms, d) / SPEED_OF_LIGHT).atanh();
    match frame {
        FreqFrame::Bary => 0.0,
        FreqFrame::Lsrk => fixed(&VELOCITY_LSRK_MS),
        FreqFrame::Lsrd => fixed(&VELOCITY_LSRD_MS),
        FreqFrame::Galacto => fixed(&VELOCITY_LSRD_MS) + fixed(&VELOCITY_GALACTO_MS),
        FreqFrame::Lgroup => fixed(&VELOCITY_LGROUP_MS),
        FreqFrame::Cmb => fixed(&VELOCITY_CMB_MS),
        FreqFrame::Geo | FreqFrame::Topo => {
            let earth = earth.expect("EarthState is computed for GEO and TOPO");
            // GEO -> BARY multiplies by sqrt((1-g)/(1+g)): f_GEO = f_BARY * exp(+atanh g).
            let geo = -dot(&earth.velocity_c, d).atanh();
            if frame == FreqFrame::Geo {
                geo
            } else {
                geo - earth.diurnal_beta(obs, d).atanh()
            }
        }
    }
}

/// Solar motion vectors, J2000 equatorial, m/s: casacore `MeasTable::calcVelocityLSRK` (20 km/s),
/// `calcVelocityLSR` (sqrt(81+144+49) km/s), `calcVelocityLSRGal` (220 km/s, LSRD relative to the
/// Galactic centre), `calcVelocityLGROUP` (308 km/s) and `calcVelocityCMB` (369.5 km/s), each the
/// J2000 row (index 0) of its table times its speed.
const VELOCITY_LSRK_MS: [f64; 3] = scale(20_000.0, [0.0145021, -0.865863, 0.500071]);
const VELOCITY_LSRD_MS: [f64; 3] = scale(
    16_552.945_357_246_85, // sqrt(81 + 144 + 49) * 1000, checked in the tests.
    [-0.0385568, -0.881138, 0.471285],
);
const VELOCITY_GALACTO_MS: [f64; 3] = scale(220_000.0, [0.494109, -0.44483, 0.746982]);
const VELOCITY_LGROUP_MS: [f64; 3] =
    scale(308_000.0, [0.593553979227, -0.177954636914, 0.784873124106]);
const VELOCITY_CMB_MS: [f64; 3] =
    scale(369_500.0, [-0.97176985257, 0.202393953108, -0.121243727187]);

const fn scale(s: f64, v: [f64; 3]) -> [f64; 3] {
    [s * v[0], s * v[1], s * v[2]]
}

fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn mat_vec(m: &[[f64; 3]; 3], v: &[f64; 3]) -> [f64; 3] {
    [dot(&m[0], v), dot(&m[1], v), dot(&m[2], v)]
}

/// The unit vector of `dir` in FK5 J2000 axes (ICRS is rotated by the IAU 2000 frame bias, as
/// casacore's `getJ2000` does; other frames are converted at the epoch and, for the topocentric
/// and Earth-fixed ones (a FIELD in HADEC or AZEL), at the observatory).
fn j2000_unit_vector(
    dir: &Direction,
    ctx: &crate::direction::SkyContext,
) -> Result<[f64; 3], FramesError> {
    if dir.frame == DirectionFrame::J2000 {
        return Ok(dir.unit_vector());
    }
    dir.to_frame(DirectionFrame::J2000, ctx)
        .map(|d| d.unit_vector())
        .map_err(|e| FramesError::Direction { why: e.to_string() })
}

/// MJD of J2000.0 (casacore `MeasData::MJD2000`).
const MJD_J2000: f64 = 51_544.5;
/// Days per Julian century (casacore `MeasData::JDCEN`).
const DAYS_PER_CENTURY: f64 = 36_525.0;
const SECONDS_PER_DAY: f64 = 86_400.0;

/// What GEO and TOPO need at one epoch.
struct EarthState {
    /// Earth's barycentric velocity / c, J2000 axes (casacore `Aberration`, STANDARD).
    velocity_c: [f64; 3],
    /// Mean-J2000 -> true-of-date rotation (IAU 1976 precession, IAU 1980 nutation).
    npb: [[f64; 3]; 3],
    /// Greenwich apparent sidereal time, radians.
    gast_rad: f64,
    /// Julian centuries of TT (standing in for TDB) since J2000.
    t_cent: f64,
}

impl EarthState {
    fn at(time_utc_mjd_s: f64, dut1_s: f64) -> Result<EarthState, FramesError> {
        let bad = |status| FramesError::BadEpoch {
            time_utc_mjd_s,
            status,
        };
        let utc_mjd = time_utc_mjd_s / SECONDS_PER_DAY;
        let (tai1, tai2) = sofars::ts::utctai(2_400_000.5, utc_mjd).map_err(bad)?;
        let (tt1, tt2) = sofars::ts::taitt(tai1, tai2).map_err(bad)?;
        let (ut1, ut2) = sofars::ts::utcut1(2_400_000.5, utc_mjd, dut1_s).map_err(bad)?;
        let t_cent = ((tt1 - 2_400_000.5 - MJD_J2000) + tt2) / DAYS_PER_CENTURY;
        Ok(EarthState {
            velocity_c: earth_velocity_c(t_cent),
            npb: sofars::pnp::pnm80(tt1, tt2),
            gast_rad: sofars::erst::gmst82(ut1, ut2) + sofars::erst::eqeq94(tt1, tt2),
            t_cent,
        })
    }

    /// `v_site . d_app / c`: casacore's TOPO_GEO `g1`.
    fn diurnal_beta(&self, obs: &Observatory, d: &[f64; 3]) -> f64 {
        let [x, y, _] = obs.itrf_m;
        // diurnalAber(|r|) * cos(geocentric latitude) = omega * sqrt(x^2 + y^2).
        let t = self.t_cent;
        let ut_to_st = 1.002737909350795 + 5.9006e-11 * t - 5.9e-15 * t * t;
        let omega = 2.0 * PI / SECONDS_PER_DAY * ut_to_st;
        let speed_c = omega * x.hypot(y) / SPEED_OF_LIGHT;
        // Eastward unit vector on the true equator of date: hour angle LAST + pi/2.
        let angle = self.gast_rad + y.atan2(x) + PI / 2.0;
        let east = [angle.cos(), angle.sin(), 0.0];
        // Apparent direction: annual aberration in J2000 axes, then precession-nutation.
        let v = &self.velocity_c;
        let bm1 = (1.0 - dot(v, v)).sqrt();
        let aberrated = sofars::astro::ab(d, v, 1.0, bm1);
        let app = mat_vec(&self.npb, &aberrated);
        speed_c * dot(&east, &app)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsrd_speed_is_casacores() {
        assert_eq!(
            VELOCITY_LSRD_MS[0],
            (81.0_f64 + 144.0 + 49.0).sqrt() * 1000.0 * -0.0385568
        );
    }
}

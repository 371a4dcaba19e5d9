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
//!   `LAST + pi/2` on the true equator of date; `d` = the *apparent* direction (deflected by the
//!   Sun, aberrated, precessed and nutated; `getApp`).
//! - GEO -> BARY: `v` = the Earth's barycentric velocity from casacore's `Aberration(STANDARD)`
//!   series (Ron & Vondrák 1986; `Aberration::calcAber`, tables in `MeasTable.cc` and
//!   `MeasTableMul.cc`) at TDB, `d` = the J2000 direction.
//! - BARY -> LSRK, LSRD, LGROUP, CMB and LSRD -> GALACTO: fixed J2000 vectors
//!   (`MeasTable::velocityLSRK`, `velocityLSR`, `velocityLGROUP`, `velocityCMB`, `velocityLSRGal`).
//!
//! [`doppler_steps_with_eop`] gives the factor of each step of the route, applied in turn as
//! casacore applies them ([`DopplerSteps::apply`]), with casacore's arithmetic to the last bit
//! where it matters (`steps.rs`: the sidereal time and TDB as casacore rounds them, its
//! equation of the equinoxes, solar deflection and aberration formula); the `doppler_factor*`
//! functions return the product of those factors.
//!
//! # Differences from casacore
//! - Precession-nutation IAU 1976/1980 and the Sun's position come from SOFA (`sofars`), the same
//!   models as casacore's default (not IAU 2000) path, evaluated by other code: rounding-level
//!   differences in the apparent direction (3e-15 rad measured), far below a bit of `g`.
//! - casacore caches the Earth velocity (0.04 d), nutation and UT1 - UTC between epochs and
//!   extrapolates; here every epoch is evaluated afresh, as casacore does for a new frame (the
//!   first integration of a tclean run). A later epoch converted by the same casacore frame can
//!   differ by up to `0.5 * |dv/dt^2| * dt^2`: 1.5 Hz at 230 GHz 30 minutes after the cached
//!   epoch, 5 Hz after 0.04 d.
//! - UT1 - UTC must be supplied (`doppler_factor_with_dut1`); `doppler_factor` takes it as 0. Each
//!   0.1 s of UT1 - UTC moves the diurnal term by up to 1.1e-11 (2.6 Hz at 230 GHz on the equator;
//!   |UT1 - UTC| < 0.9 s by definition, so up to 24 Hz).
//!
//! Measured against casatools 6.7 (`tests/frames_casacore_bits.rs`, 40 cases 1996-2025, VLA and
//! ALMA, random directions): the TOPO -> GEO, BARY and LSRK frequencies bit-identical in 37 and
//! 1 ulp apart in 3; against python-casacore 3.8.1 (`tests/frames.rs`, 8 frames, 6 epochs,
//! 2 sites, J2000 and ICRS directions) within a few ulp.
//!
//! Units: times are UTC as MJD seconds (an MS `TIME` column); positions ITRF metres.

mod aberration;
mod eop;
mod steps;

pub use eop::{Dut1Table, EarthOrientation};
pub use steps::DopplerSteps;

use crate::direction::{Direction, DirectionFrame};
pub(crate) use aberration::earth_velocity_c;
use serde::{Deserialize, Serialize};
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
    Ok(doppler_steps_at(from, to, sky, obs, dir)?.factor())
}

/// The steps of casacore's conversion of a frequency from `from` to `to` at `time_utc_mjd_s`
/// (UT1 - UTC and, for a `dir` in HADEC, AZEL* or ITRF, polar motion from `earth`), to apply to
/// each frequency in turn ([`DopplerSteps::apply`]): bit for bit casacore's `MFrequency::Convert`
/// in the cases measured (module documentation).
pub fn doppler_steps_with_eop(
    from: FreqFrame,
    to: FreqFrame,
    time_utc_mjd_s: f64,
    earth: &EarthOrientation,
    obs: &Observatory,
    dir: &Direction,
) -> Result<DopplerSteps, FramesError> {
    let sky = earth.sky_context(time_utc_mjd_s, obs.itrf_m);
    doppler_steps_at(from, to, &sky, obs, dir)
}

/// [`doppler_steps_with_eop`] with UT1 - UTC given (`dut1_s`, seconds) and no polar motion.
pub fn doppler_steps_with_dut1(
    from: FreqFrame,
    to: FreqFrame,
    time_utc_mjd_s: f64,
    dut1_s: f64,
    obs: &Observatory,
    dir: &Direction,
) -> Result<DopplerSteps, FramesError> {
    let sky = crate::direction::SkyContext::at(time_utc_mjd_s, obs.itrf_m, dut1_s);
    doppler_steps_at(from, to, &sky, obs, dir)
}

fn doppler_steps_at(
    from: FreqFrame,
    to: FreqFrame,
    sky: &crate::direction::SkyContext,
    obs: &Observatory,
    dir: &Direction,
) -> Result<DopplerSteps, FramesError> {
    if from == to {
        return Ok(DopplerSteps::IDENTITY);
    }
    let ctx = steps::StepContext {
        time_utc_mjd_s: sky.epoch_utc_mjd_s.unwrap_or_default(),
        dut1_s: sky.dut1_s,
        obs,
        d: j2000_unit_vector(dir, sky)?,
    };
    steps::steps(from, to, &ctx)
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

/// MJD of J2000.0 and days per Julian century (casacore `MeasData::MJD2000`, `JDCEN`).
#[cfg(test)]
const MJD_J2000: f64 = 51_544.5;
#[cfg(test)]
const DAYS_PER_CENTURY: f64 = 36_525.0;
const SECONDS_PER_DAY: f64 = 86_400.0;

/// An epoch of `time_mjd_s` MJD seconds in days as casacore takes it (`MVEpoch` from a
/// `Quantity` in seconds: `Quantum::convert` multiplies by the factor `1 / 86400`, itself
/// rounded): one ulp from `t / 86400` for some epochs (alma_mosaic's first integration), which
/// moves TDB and the sidereal time by an ulp and a TOPO -> GEO factor by one
/// (`tests/frames_casatools_bits.rs`).
pub(crate) fn mjd_days(time_mjd_s: f64) -> f64 {
    time_mjd_s * (1.0 / SECONDS_PER_DAY)
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

//! A frequency converted between spectral frames as casacore's `MFrequency::Convert` does it, to
//! the last bit: the route's steps applied in turn (`MCFrequency::doConvert`), each step's
//! velocity computed with casacore's formulas, constants and order of operations, and the two
//! quantities casacore keeps in a coarser form than their precision (the sidereal time and TDB
//! as one `double` of days) rounded as it rounds them.
//!
//! What each step needs (casacore `MCFrequency`, `MCFrame`, `MCEpoch`, `MeasMath`, `MeasTable`;
//! read for the facts, the code is this crate's):
//! - Epochs (`MCEpoch::doConvert`, `MVEpoch`): an epoch is whole days plus a fraction; each
//!   correction is added to it as such. UTC -> UT1 adds UT1 - UTC (IERS, linear between days);
//!   UT1 -> GAST adds `GMST0(UT1) / 86400` (IAU 1982 polynomial in seconds), 6713 days and the
//!   equation of the equinoxes `dpsi cos(eps)` (IAU 1980 nutation evaluated at UT1, without the
//!   1994 complementary terms) over 2 pi; GAST -> LAST adds the longitude over 2 pi. The
//!   frequency step takes `fmod(days, 1) * 2 pi` of that sum as one `double` (`getLASTr`), which
//!   quantises the sidereal angle to ~1e-10 rad. TDB is UTC + leap seconds + 32.184 s +
//!   `0.001658 sin g + 0.000014 sin 2g` s (`MeasTable::dTDT`), also one `double` of days.
//! - TOPO -> GEO (`TOPO_GEO`): `g = v . app` with `v` the site's rotation velocity
//!   `2 pi r / 86400 * UTtoST(TDB) / c * cos(lat)` towards hour angle `LAST + pi / 2` on the true
//!   equator, and `app` the apparent direction: J2000 -> light deflection by the Sun
//!   (`MeasMath::applySolarPos`) -> annual aberration (`applyAberration`, relativistic) ->
//!   IAU 1976 precession and IAU 1980 nutation at TDB.
//! - GEO -> BARY: `g = v_earth / c . d` with casacore's Ron & Vondrak series (`aberration.rs`)
//!   at TDB; LSR*, GALACTO, LGROUP, CMB: `g = (V . d) / c` with casacore's fixed vectors.
//! - Each step multiplies the frequency by `sqrt((1 - g) / (1 + g))` or its inverse, rounded.
//!
//! Measured against casatools 6.7 (`measures`, fresh frames): every TOPO -> GEO / BARY / LSRK
//! / LSRD / GALACTO / LGROUP / CMB frequency of 40 random epochs (1996-2025, VLA and ALMA,
//! random directions and frequencies) and of vla_wideband's and alma_mosaic's first integrations
//! bit-identical (`tests/frames_casatools_bits.rs`), with the epoch in days as casacore takes it
//! from seconds (`super::mjd_days`); UT1, GMST1, GAST, LAST, TT and TDB bit-identical. The Sun's
//! position comes from SOFA's `epv00` rather than casacore's series: the deflection it feeds is
//! at most 1.75", so their difference is far below a bit of the result.

use super::aberration::earth_velocity_c;
use super::{
    FramesError, FreqFrame, Observatory, VELOCITY_CMB_MS, VELOCITY_GALACTO_MS, VELOCITY_LGROUP_MS,
    VELOCITY_LSRD_MS, VELOCITY_LSRK_MS,
};
use crate::SPEED_OF_LIGHT;
use std::f64::consts::PI;

/// MJD of J2000.0 and days per Julian century (casacore `MeasData::MJD2000`, `JDCEN`).
const MJD2000: f64 = 51_544.5;
const JDCEN: f64 = 36_525.0;
const SEC_PER_DAY: f64 = 86_400.0;
/// casacore `C::arcsec`.
const ARCSEC: f64 = PI / 180.0 / 3600.0;

/// The factors of a frequency conversion's steps, applied in turn: `f_to = ((f * k0) * k1) ...`
/// with every product rounded, as casacore converts a frequency. At most four steps
/// (GALACTO -> LSRD -> BARY -> GEO -> TOPO).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DopplerSteps {
    factors: [f64; 4],
    n: usize,
}

impl DopplerSteps {
    /// No change of frame (every frequency stays as it is).
    pub const IDENTITY: DopplerSteps = DopplerSteps {
        factors: [1.0; 4],
        n: 0,
    };

    /// One step with the factor `k` (a conversion not computed step by step).
    pub fn single(k: f64) -> Self {
        DopplerSteps {
            factors: [k, 1.0, 1.0, 1.0],
            n: 1,
        }
    }

    fn push(&mut self, k: f64) {
        self.factors[self.n] = k;
        self.n += 1;
    }

    /// `f` converted: each step's factor applied in turn.
    pub fn apply(&self, f: f64) -> f64 {
        self.factors[..self.n].iter().fold(f, |f, k| f * k)
    }

    /// The whole conversion as one factor (the product of the steps' factors; within a few ulp
    /// of `apply(f) / f`).
    pub fn factor(&self) -> f64 {
        self.factors[..self.n].iter().product()
    }

    /// The factors' bits, to tell conversions apart exactly.
    pub fn key(&self) -> [u64; 4] {
        let mut k = [0u64; 4];
        for (i, f) in self.factors[..self.n].iter().enumerate() {
            k[i] = f.to_bits();
        }
        k
    }
}

/// casacore's `MVEpoch`: whole days and a fraction in [0, 1), each addition split the same way.
#[derive(Debug, Clone, Copy)]
struct DayEpoch {
    wday: f64,
    frac: f64,
}

impl DayEpoch {
    fn new(days: f64) -> Self {
        let mut e = DayEpoch {
            wday: 0.0,
            frac: 0.0,
        };
        e.add(days);
        e
    }

    /// `MVEpoch += MVEpoch(x)`: `x` split into `floor(x)` and `x - floor(x)`, then normalised.
    fn add(&mut self, x: f64) {
        let whole = x.floor();
        self.frac += x - whole;
        self.wday += whole;
        while self.frac < 0.0 {
            self.frac += 1.0;
            self.wday -= 1.0;
        }
        while self.frac >= 1.0 {
            self.frac -= 1.0;
            self.wday += 1.0;
        }
    }

    fn get(&self) -> f64 {
        self.wday + self.frac
    }
}

/// A polynomial in `t` with coefficients `c[0] + c[1] t + ...`, evaluated as casacore's
/// `Polynomial::eval` (Horner from the highest power).
fn poly(c: &[f64], t: f64) -> f64 {
    let mut acc = c[c.len() - 1];
    for x in c[..c.len() - 1].iter().rev() {
        acc = acc * t + x;
    }
    acc
}

fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        s += a[i] * b[i];
    }
    s
}

/// `v / |v|` (casacore `MVDirection::adjust`).
fn normalised(v: [f64; 3]) -> [f64; 3] {
    let len = dot(&v, &v).sqrt();
    if len == 0.0 || len == 1.0 {
        v
    } else {
        v.map(|x| x / len)
    }
}

/// The epoch quantities of the TOPO, GEO and BARY steps.
struct EarthEpoch {
    /// TDB, MJD days (casacore's `getTDB`: one `double`).
    tdb: f64,
    /// Local apparent sidereal time, radians (`getLASTr`: `fmod(LAST days, 1) * 2 pi`).
    last_rad: f64,
}

impl EarthEpoch {
    fn at(time_utc_mjd_s: f64, dut1_s: f64, obs: &Observatory) -> Result<Self, FramesError> {
        let bad = |status| FramesError::BadEpoch {
            time_utc_mjd_s,
            status,
        };
        let utc = DayEpoch::new(super::mjd_days(time_utc_mjd_s));
        // UTC -> UT1 -> GAST -> LAST (MCEpoch), each term added to the two-part epoch.
        let mut ut1 = utc;
        ut1.add(dut1_s / SEC_PER_DAY);
        let ut = ut1.get();
        let mut last = ut1;
        last.add(gmst0_s(ut) / SEC_PER_DAY);
        last.add(6713.0);
        last.add(equation_of_equinoxes(ut) / (2.0 * PI));
        let [x, y, _] = obs.itrf_m;
        let lon = if x != 0.0 || y != 0.0 {
            y.atan2(x)
        } else {
            0.0
        };
        last.add(lon / (2.0 * PI));
        let last_rad = (last.get() % 1.0) * (2.0 * PI);
        // UTC -> TAI -> TT -> TDB.
        let (iy, im, id, fd) = sofars::cal::jd2cal(2_400_000.5, utc.get()).map_err(bad)?;
        let leap = sofars::ts::dat(iy, im, id, fd).map_err(bad)?;
        let mut tdb = utc;
        tdb.add(leap / SEC_PER_DAY);
        tdb.add(32.184 / SEC_PER_DAY);
        let g = (357.53 + 0.9856003 * (tdb.get() - MJD2000)) * (PI / 180.0);
        tdb.add((0.001658 * g.sin() + 0.000014 * (2.0 * g).sin()) / SEC_PER_DAY);
        Ok(EarthEpoch {
            tdb: tdb.get(),
            last_rad,
        })
    }
}

/// casacore `MeasTable::GMST0`: GMST minus UT1, seconds, at UT1 `ut1` (MJD days).
fn gmst0_s(ut1: f64) -> f64 {
    poly(
        &[24110.54841, 8640184.812866, 0.093104, -6.2e-6],
        (ut1 - MJD2000) / JDCEN,
    )
}

/// casacore's mean obliquity (`MeasTable::fundArg(0)`), radians, at `mjd` days.
fn mean_obliquity(mjd: f64) -> f64 {
    poly(
        &[
            84381.448 * ARCSEC,
            -46.8150 * ARCSEC,
            -0.0059 * ARCSEC,
            0.001813 * ARCSEC,
        ],
        (mjd - MJD2000) / JDCEN,
    )
}

/// casacore's equation of the equinoxes (`Nutation::eqox`, IAU 1980): `dpsi cos(eps)` at
/// `mjd` (casacore evaluates it at UT1), radians.
fn equation_of_equinoxes(mjd: f64) -> f64 {
    let (dpsi, deps) = sofars::pnp::nut80(2_400_000.5, mjd);
    dpsi * (mean_obliquity(mjd) + deps).cos()
}

/// The apparent direction (true equator and equinox of date) of the J2000 unit vector `d` at
/// TDB `tdb`, as casacore's J2000 -> APP: light deflection by the Sun, annual aberration with
/// the Earth velocity `v` (units of c), then IAU 1976 precession and IAU 1980 nutation.
fn apparent(d: &[f64; 3], v: &[f64; 3], tdb: f64) -> [f64; 3] {
    let mut dir = *d;
    // Deflection (MeasMath::applySolarPos): the Sun's geocentric direction and distance (AU).
    if let Some((heliocentric, _)) = sofars::eph::epv00(2_400_000.5, tdb) {
        let sun = heliocentric[0].map(|x| -x);
        let dist = dot(&sun, &sun).sqrt();
        let sun = sun.map(|x| x / dist);
        let g1 = -1.974e-8 / dist;
        let g2 = dot(&dir, &sun);
        // Not within the solar disc (casacore's `MeasData::SunSemiDiameter`, the Sun's radius
        // in AU).
        if (g2 - 1.0).abs() > 1.0 - (0.004652472638 / dist).cos() {
            let k = g1 / (1.0 - g2);
            let shift = [0, 1, 2].map(|i| (sun[i] - g2 * dir[i]) * k);
            dir = normalised([0, 1, 2].map(|i| dir[i] + shift[i]));
        }
    }
    // Aberration (MeasMath::applyAberration).
    let speed = dot(v, v).sqrt();
    let bm1 = (1.0 - speed * speed).sqrt();
    let g2 = dot(&dir, v);
    let a = bm1 - 1.0 - g2;
    let b = 1.0 + g2 / (1.0 + bm1);
    let c = 1.0 / (1.0 + g2);
    let shift = [0, 1, 2].map(|i| (a * dir[i] + b * v[i]) * c);
    dir = normalised([0, 1, 2].map(|i| dir[i] + shift[i]));
    let npb = sofars::pnp::pnm80(2_400_000.5, tdb);
    [0, 1, 2].map(|i| dot(&npb[i], &dir))
}

/// The frames' tree: each frame's parent on casacore's routes (BARY is the root).
fn parent(f: FreqFrame) -> Option<FreqFrame> {
    match f {
        FreqFrame::Topo => Some(FreqFrame::Geo),
        FreqFrame::Galacto => Some(FreqFrame::Lsrd),
        FreqFrame::Bary => None,
        FreqFrame::Geo | FreqFrame::Lsrk | FreqFrame::Lsrd | FreqFrame::Lgroup | FreqFrame::Cmb => {
            Some(FreqFrame::Bary)
        }
    }
}

fn path_to_root(f: FreqFrame) -> Vec<FreqFrame> {
    let mut p = vec![f];
    while let Some(up) = parent(*p.last().expect("non-empty")) {
        p.push(up);
    }
    p
}

/// What a conversion between `from` and `to` at one epoch needs.
pub(super) struct StepContext<'a> {
    pub time_utc_mjd_s: f64,
    pub dut1_s: f64,
    pub obs: &'a Observatory,
    /// The source's J2000 unit vector.
    pub d: [f64; 3],
}

/// The steps of casacore's route from `from` to `to` and their factors.
pub(super) fn steps(
    from: FreqFrame,
    to: FreqFrame,
    ctx: &StepContext,
) -> Result<DopplerSteps, FramesError> {
    let mut out = DopplerSteps::IDENTITY;
    if from == to {
        return Ok(out);
    }
    let up = path_to_root(from);
    let down = path_to_root(to);
    // Drop the common part above the lowest common ancestor.
    let common = up
        .iter()
        .rev()
        .zip(down.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let up = &up[..up.len() - common + 1];
    let down = &down[..down.len() - common + 1];
    let mut earth: Option<(EarthEpoch, [f64; 3])> = None;
    let mut g_of = |child: FreqFrame| -> Result<f64, FramesError> {
        let d = &ctx.d;
        let fixed = |v: &[f64; 3]| dot(v, d) / SPEED_OF_LIGHT;
        Ok(match child {
            FreqFrame::Lsrk => fixed(&VELOCITY_LSRK_MS),
            FreqFrame::Lsrd => fixed(&VELOCITY_LSRD_MS),
            FreqFrame::Galacto => fixed(&VELOCITY_GALACTO_MS),
            FreqFrame::Lgroup => fixed(&VELOCITY_LGROUP_MS),
            FreqFrame::Cmb => fixed(&VELOCITY_CMB_MS),
            FreqFrame::Geo | FreqFrame::Topo => {
                if earth.is_none() {
                    let e = EarthEpoch::at(ctx.time_utc_mjd_s, ctx.dut1_s, ctx.obs)?;
                    let v = earth_velocity_c((e.tdb - MJD2000) / JDCEN);
                    earth = Some((e, v));
                }
                let (e, v) = earth.as_ref().expect("computed above");
                if child == FreqFrame::Geo {
                    dot(v, d)
                } else {
                    diurnal_g(e, v, ctx)
                }
            }
            FreqFrame::Bary => unreachable!("BARY has no parent"),
        })
    };
    // Steps towards the root: TOPO->GEO and GEO->BARY multiply by sqrt((1-g)/(1+g)), the
    // others (LSRK->BARY, GALACTO->LSRD, ...) by sqrt((1+g)/(1-g)); steps away from the root
    // by the inverse (MCFrequency::doConvert).
    let towards_earth = |f: FreqFrame| matches!(f, FreqFrame::Topo | FreqFrame::Geo);
    for &child in &up[..up.len() - 1] {
        let g = g_of(child)?;
        out.push(if towards_earth(child) {
            ((1.0 - g) / (1.0 + g)).sqrt()
        } else {
            ((1.0 + g) / (1.0 - g)).sqrt()
        });
    }
    for &child in down[..down.len() - 1].iter().rev() {
        let g = g_of(child)?;
        out.push(if towards_earth(child) {
            ((1.0 + g) / (1.0 - g)).sqrt()
        } else {
            ((1.0 - g) / (1.0 + g)).sqrt()
        });
    }
    Ok(out)
}

/// casacore's TOPO_GEO `g`: the site's rotation velocity (units of c) on the apparent
/// direction.
fn diurnal_g(e: &EarthEpoch, v: &[f64; 3], ctx: &StepContext) -> f64 {
    let [x, y, z] = ctx.obs.itrf_m;
    let r = (x * x + y * y + z * z).sqrt();
    let lat = if r == 0.0 { 0.0 } else { (z / r).asin() };
    let ut_to_st = poly(
        &[1.002737909350795, 5.9006e-11, -5.9e-15],
        (e.tdb - MJD2000) / JDCEN,
    );
    let speed = (2.0 * PI) * r / SEC_PER_DAY * ut_to_st / SPEED_OF_LIGHT;
    let angle = std::f64::consts::FRAC_PI_2 + e.last_rad;
    let k = speed * lat.cos();
    let east = [angle.cos() * k, angle.sin() * k, 0.0];
    dot(&east, &apparent(&ctx.d, v, e.tdb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_epoch_splits_as_casacore() {
        let mut e = DayEpoch::new(60_462.25);
        assert_eq!((e.wday, e.frac), (60_462.0, 0.25));
        e.add(-0.5);
        assert_eq!((e.wday, e.frac), (60_461.0, 0.75));
        e.add(6713.0);
        assert_eq!(e.get(), 67_174.75);
    }

    #[test]
    fn routes_follow_the_frames_tree() {
        assert_eq!(
            path_to_root(FreqFrame::Galacto),
            vec![FreqFrame::Galacto, FreqFrame::Lsrd, FreqFrame::Bary]
        );
        assert_eq!(
            path_to_root(FreqFrame::Topo),
            vec![FreqFrame::Topo, FreqFrame::Geo, FreqFrame::Bary]
        );
    }
}

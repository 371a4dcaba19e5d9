//! The Sun, the Moon and the planets as casacore places them (`MDirection` types MERCURY..PLUTO,
//! SUN, MOON): JPL's DE200 ephemeris from casacore's measures data (`ephemerides/DE200`), with
//! casacore's conventions, reproduced here and checked against casatools in
//! `tests/planets.rs` (docs/decisions.md, "Issue 13: Decisions of branch s11-ch13"):
//!
//! - the table has one record per 32 days (`MJD` column: the record's first day, TDB; `x`
//!   column: the Chebyshev coefficients of JPL's layout, without its two dates) and keywords `AU`
//!   (km), `EMRAT`, `GMS` (AU^3/d^2), `CLIGHT` (km/s), `DENUM` (200);
//! - the Earth is the Earth-Moon barycentre minus the geocentric Moon / (1 + EMRAT); casacore's
//!   barycentric Moon is the barycentre **plus** the geocentric Moon (not the Earth plus it), which
//!   puts its Moon 1.2% farther than the Earth's Moon: reproduced (without it the topocentric
//!   Moon differs from casacore's by 30");
//! - the geocentric J2000 direction at TDB `t` is the body at `t - tau` minus the Earth at `t`,
//!   `tau` the light time with the Sun's Shapiro delay, then bent by the Sun's gravity with the
//!   body's finite distance (casacore's `R_PLANET` route);
//! - its apparent direction is that direction aberrated and precessed-nutated **without** the
//!   star-like solar deflection of J2000 -> APP (casacore's route skips JNAT), and the topocentric
//!   one is that apparent position (with the geocentric distance) minus the observatory's.

use crate::ephemeris::{observer_true_of_date_m, tt_minus_utc_s};
use crate::error::MsError;
use crate::measures::{measures_directory, MEASURESPATH_ENV};
use pclean_casacore::columns::{KeywordValue, ReadTable};
use pclean_core::direction::{natural_to_apparent, SkyContext};
use pclean_core::{Direction, DirectionFrame};
use std::path::{Path, PathBuf};

/// A body casacore knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Body {
    Mercury,
    Venus,
    Mars,
    Jupiter,
    Saturn,
    Uranus,
    Neptune,
    Pluto,
    Sun,
    Moon,
}

/// Each body, casacore's name and its position series in a DE200 record ([`LAYOUT`]).
const BODIES: [(Body, &str, usize); 10] = [
    (Body::Mercury, "MERCURY", 0),
    (Body::Venus, "VENUS", 1),
    (Body::Mars, "MARS", 3),
    (Body::Jupiter, "JUPITER", 4),
    (Body::Saturn, "SATURN", 5),
    (Body::Uranus, "URANUS", 6),
    (Body::Neptune, "NEPTUNE", 7),
    (Body::Pluto, "PLUTO", 8),
    (Body::Sun, "SUN", SUN),
    (Body::Moon, "MOON", MOON_GEOCENTRIC),
];

/// The series of the Earth-Moon barycentre, the geocentric Moon and the Sun in [`LAYOUT`].
const EARTH_MOON_BARYCENTRE: usize = 2;
const MOON_GEOCENTRIC: usize = 9;
const SUN: usize = 10;

impl Body {
    /// The body named `name` (casacore's names, any case).
    pub fn from_name(name: &str) -> Option<Body> {
        let upper = name.trim().to_ascii_uppercase();
        BODIES
            .iter()
            .find(|(_, n, _)| *n == upper)
            .map(|(b, _, _)| *b)
    }

    /// casacore's name of the body (`"MARS"`).
    pub fn casa_name(self) -> &'static str {
        BODIES
            .iter()
            .find(|(b, _, _)| *b == self)
            .map_or("", |(_, n, _)| n)
    }

    /// The body's series in a DE200 record.
    fn series(self) -> usize {
        BODIES
            .iter()
            .find(|(b, _, _)| *b == self)
            .map_or(SUN, |(_, _, s)| *s)
    }
}

/// DE200's record layout (JPL's header, as the `x` column's `Description` keyword holds it), per
/// position series in JPL's order (Mercury, Venus, the Earth-Moon barycentre, Mars, Jupiter,
/// Saturn, Uranus, Neptune, Pluto, the geocentric Moon, the Sun): the index of its first
/// coefficient in the `x` cell, the coefficients per component and the sub-intervals of a record.
const LAYOUT: [(usize, usize, usize); 11] = [
    (0, 12, 4),
    (144, 12, 1),
    (180, 15, 2),
    (270, 10, 1),
    (300, 9, 1),
    (327, 8, 1),
    (351, 8, 1),
    (375, 6, 1),
    (393, 6, 1),
    (411, 12, 8),
    (699, 15, 1),
];

/// Coefficients of one DE200 record (`x` cell): 826 values.
const RECORD_LEN: usize = 826;

/// The DE200 records covering an interval, with the constants the conversions need.
#[derive(Debug, Clone)]
pub struct De200 {
    path: PathBuf,
    /// First day (TDB MJD) of each loaded record, ascending.
    start_mjd: Vec<f64>,
    records: Vec<Vec<f64>>,
    span_days: f64,
    au_km: f64,
    emrat: f64,
    /// The Sun's GM / c^2, AU.
    sun_gm_au: f64,
    /// The speed of light, AU/day.
    c_au_per_day: f64,
    /// The Sun's radius, AU.
    sun_radius_au: f64,
}

fn bad(path: &Path, why: impl Into<String>) -> MsError {
    MsError::Ephemeris {
        what: format!(
            "the JPL DE200 table {} cannot be used: {}",
            path.display(),
            why.into()
        ),
    }
}

impl De200 {
    /// The DE200 table of casacore's measures data, found as the IERS tables are
    /// ([`measures_directory`]): `<dir>/ephemerides/DE200`. The error says where pclean looked
    /// and how to point it at the table.
    pub fn locate() -> Result<PathBuf, MsError> {
        let fix = format!(
            "set {MEASURESPATH_ENV} (or measurespath in ~/.casa/config.py) to a casacore data \
             directory that holds ephemerides/DE200, e.g. casadata's: python -c \"import \
             casadata, os; print(os.path.join(os.path.dirname(casadata.__file__), '__data__'))\""
        );
        let Some((dir, how)) = measures_directory() else {
            return Err(MsError::Ephemeris {
                what: format!(
                    "no casacore measures data found ({MEASURESPATH_ENV} is not set, and neither \
                     ~/.casa/config.py nor ~/.casarc names one), so there is no JPL DE200 \
                     ephemeris for a solar-system body; {fix}"
                ),
            });
        };
        let path = dir.join("ephemerides").join("DE200");
        if !path.join("table.dat").is_file() {
            return Err(MsError::Ephemeris {
                what: format!(
                    "no JPL DE200 table at {} (the measures directory from {how}), needed for a \
                     solar-system body; {fix}",
                    path.display()
                ),
            });
        }
        Ok(path)
    }

    /// The records of the table at `path` that cover TDB MJD `[from, to]` (plus a day either
    /// side, for the light time of the outer planets).
    pub fn open(path: &Path, from_mjd: f64, to_mjd: f64) -> Result<Self, MsError> {
        let t = ReadTable::open(path)?;
        let kw = t.scalar_keywords()?;
        let num = |k: &str| match kw.get(k) {
            Some(KeywordValue::Number(x)) => Ok(*x),
            _ => Err(bad(path, format!("keyword {k} is missing"))),
        };
        if num("DENUM")? != 200.0 {
            return Err(bad(path, "its DENUM keyword is not 200 (not DE200)"));
        }
        let span_days = num("dMJD")?;
        let au_km = num("AU")?;
        let start = t.scalar_column::<f64>("MJD")?;
        let (lo, hi) = (from_mjd - 1.0, to_mjd + 1.0);
        let first = start.partition_point(|s| s + span_days <= lo);
        let last = start.partition_point(|s| *s <= hi);
        if first >= last {
            return Err(bad(
                path,
                format!("it has no record for TDB MJD {lo:.3} to {hi:.3}"),
            ));
        }
        let mut records = Vec::with_capacity(last - first);
        for row in first..last {
            let (shape, x) = t.read_cell::<f64>("x", row as u64)?;
            if shape != [RECORD_LEN] {
                return Err(bad(
                    path,
                    format!("row {row} of column x has shape {shape:?}, not [{RECORD_LEN}]"),
                ));
            }
            records.push(x);
        }
        let c_au_per_day = num("CLIGHT")? * 86_400.0 / au_km;
        Ok(De200 {
            path: path.to_path_buf(),
            start_mjd: start[first..last].to_vec(),
            records,
            span_days,
            au_km,
            emrat: num("EMRAT")?,
            sun_gm_au: num("GMS")? / (c_au_per_day * c_au_per_day),
            c_au_per_day,
            sun_radius_au: num("RADS")? / au_km,
        })
    }

    /// Position (km, J2000 axes) of series `s` at TDB MJD `t`: Chebyshev sums over the record and
    /// sub-interval holding `t`.
    fn series_km(&self, s: usize, t: f64) -> Result<[f64; 3], MsError> {
        let k = self.start_mjd.partition_point(|m| *m <= t);
        if k == 0 || t >= self.start_mjd[k - 1] + self.span_days {
            return Err(bad(
                &self.path,
                format!(
                    "no record holds TDB MJD {t:.5} (the loaded records cover {:.1} to {:.1})",
                    self.start_mjd.first().copied().unwrap_or(f64::NAN),
                    self.start_mjd.last().copied().unwrap_or(f64::NAN) + self.span_days
                ),
            ));
        }
        let (offset, n, subs) = LAYOUT[s];
        let sub = self.span_days / subs as f64;
        let into = t - self.start_mjd[k - 1];
        let j = ((into / sub).floor() as usize).min(subs - 1);
        let x = 2.0 * (into - j as f64 * sub) / sub - 1.0;
        let c = &self.records[k - 1][offset + 3 * n * j..offset + 3 * n * (j + 1)];
        let mut out = [0.0; 3];
        for (comp, o) in out.iter_mut().enumerate() {
            let (mut t0, mut t1) = (1.0, x);
            let coef = &c[comp * n..(comp + 1) * n];
            let mut sum = coef[0] + coef[1] * x;
            for a in &coef[2..] {
                let t2 = 2.0 * x * t1 - t0;
                sum += a * t2;
                (t0, t1) = (t1, t2);
            }
            *o = sum;
        }
        Ok(out)
    }

    fn au(&self, v: [f64; 3]) -> [f64; 3] {
        v.map(|x| x / self.au_km)
    }

    /// The Earth's barycentric position, AU.
    fn earth(&self, t: f64) -> Result<[f64; 3], MsError> {
        let emb = self.series_km(EARTH_MOON_BARYCENTRE, t)?;
        let moon = self.series_km(MOON_GEOCENTRIC, t)?;
        let k = 1.0 / (1.0 + self.emrat);
        Ok(self.au([0, 1, 2].map(|i| emb[i] - k * moon[i])))
    }

    /// A body's barycentric position, AU (casacore's Moon: the barycentre plus the geocentric
    /// Moon, see the module's notes).
    fn barycentric(&self, body: Body, t: f64) -> Result<[f64; 3], MsError> {
        if body == Body::Moon {
            let emb = self.series_km(EARTH_MOON_BARYCENTRE, t)?;
            let moon = self.series_km(MOON_GEOCENTRIC, t)?;
            return Ok(self.au([0, 1, 2].map(|i| emb[i] + moon[i])));
        }
        Ok(self.au(self.series_km(body.series(), t)?))
    }

    /// The body's geocentric J2000 unit vector at TDB MJD `t` (light time, the Sun's deflection)
    /// and its distance (metres) at the light-time-corrected epoch.
    pub fn geocentric_j2000(&self, body: Body, t: f64) -> Result<([f64; 3], f64), MsError> {
        let earth = self.earth(t)?;
        let sun_now = self.au(self.series_km(SUN, t)?);
        let e_vec = sub(&earth, &sun_now);
        let e = norm(&e_vec);
        let mut light_days = 0.0;
        let (mut p_vec, mut q_vec);
        let mut iterations = 0;
        loop {
            let before = light_days;
            let then = self.barycentric(body, t - before)?;
            let sun_then = self.au(self.series_km(SUN, t - before)?);
            p_vec = sub(&then, &earth);
            q_vec = sub(&then, &sun_then);
            let (p, q) = (norm(&p_vec), norm(&q_vec));
            let mut path = p;
            if body != Body::Sun {
                path += 2.0 * self.sun_gm_au * ((e + p + q) / (e - p + q)).ln();
            }
            light_days = path / self.c_au_per_day;
            iterations += 1;
            if (before - light_days).abs() <= 1e-9 * light_days || iterations > 50 {
                break;
            }
        }
        let dist_au = norm(&p_vec);
        let mut u = p_vec.map(|x| x / dist_au);
        let (eu, qu) = (e_vec.map(|x| x / e), q_vec.map(|x| x / norm(&q_vec)));
        let ue = dot(&u, &eu);
        let near_sun = (ue - 1.0).abs() <= 1.0 - (self.sun_radius_au / e).cos();
        if body != Body::Sun && !near_sun {
            let g = 2.0 * self.sun_gm_au / e / (1.0 + dot(&qu, &eu));
            let uq = dot(&u, &qu);
            u = [0, 1, 2].map(|i| u[i] + g * (uq * eu[i] - ue * qu[i]));
            let n = norm(&u);
            u = u.map(|x| x / n);
        }
        Ok((u, dist_au * crate::ephemeris::AU_M))
    }

    /// The body's topocentric apparent direction (frame APP: true equator and equinox of date) at
    /// UTC `utc_mjd_s` (MJD seconds) for the observatory at `itrf_m`: what casacore gives for
    /// `me.measure(me.measure(direction(body), 'AZEL'), 'APP')`.
    pub fn topocentric_app(
        &self,
        body: Body,
        utc_mjd_s: f64,
        itrf_m: [f64; 3],
        dut1_s: f64,
    ) -> Result<Direction, MsError> {
        let utc = utc_mjd_s / 86_400.0;
        let (u, dist_m) = self.geocentric_j2000(body, tdb_mjd(utc)?)?;
        // Aberration and precession-nutation only (the deflection is in `u`), as casacore's
        // planet route.
        let sky = SkyContext::at(utc_mjd_s, itrf_m, dut1_s);
        let app = natural_to_apparent(&u, &sky).map_err(|e| {
            bad(
                &self.path,
                format!("{} at UTC MJD {utc}: {e}", body.casa_name()),
            )
        })?;
        let a = app.unit_vector();
        let obs = observer_true_of_date_m(itrf_m, utc, dut1_s);
        let topo = [0, 1, 2].map(|i| a[i] * dist_m - obs[i]);
        let (lon, lat) = lon_lat(&topo);
        Ok(Direction::new(DirectionFrame::App, lon, lat))
    }
}

/// TDB (MJD) at UTC `utc_mjd`: TT plus SOFA's `dtdb` at the geocentre (below 2 ms).
pub fn tdb_mjd(utc_mjd: f64) -> Result<f64, MsError> {
    let tt = utc_mjd + tt_minus_utc_s(utc_mjd)? / 86_400.0;
    Ok(tt + sofars::ts::dtdb(2_400_000.5, tt, 0.0, 0.0, 0.0, 0.0) / 86_400.0)
}

fn sub(a: &[f64; 3], b: &[f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn norm(a: &[f64; 3]) -> f64 {
    dot(a, a).sqrt()
}

fn lon_lat(p: &[f64; 3]) -> (f64, f64) {
    (
        p[1].atan2(p[0]).rem_euclid(std::f64::consts::TAU),
        p[2].atan2(p[0].hypot(p[1])),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_named_as_casacore_names_them() {
        assert_eq!(Body::from_name("mars"), Some(Body::Mars));
        assert_eq!(Body::from_name(" Moon "), Some(Body::Moon));
        assert_eq!(Body::from_name("COMET"), None);
        for (b, n, _) in BODIES {
            assert_eq!(b.casa_name(), n);
        }
    }

    #[test]
    fn the_layout_fills_a_record_without_overlap() {
        let mut next = 0;
        for (i, (o, n, k)) in LAYOUT.iter().enumerate() {
            assert_eq!(*o, next, "series {i}");
            next = o + 3 * n * k;
        }
        // the nutations (10 x 2 x 4) follow the Sun, then two unused values
        assert_eq!(next + 80 + 2, RECORD_LEN);
    }
}

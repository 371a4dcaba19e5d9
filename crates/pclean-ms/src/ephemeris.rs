//! FIELD ephemeris tables: a field whose `EPHEMERIS_ID` is >= 0 moves along the table
//! `FIELD/EPHEM<id>_<name>.tab` (casacore `MSFieldColumns` + `MeasComet`).
//!
//! The table has one row per `dMJD` days (columns `MJD` (UTC days), `RA`, `DEC` (deg), `Rho` (AU,
//! distance from the observer), `RadVel` (AU/d), ...) and keywords `MJD0` (one step before the first
//! row), `dMJD`, `NAME`, `GeoDist`/`GeoLong`/`GeoLat` (the observer), `obsloc` and optionally
//! `posrefsys`. casacore's conventions, reproduced here:
//! - frame: `posrefsys` naming J2000, B1950, APP, ICRS or TOPO; else TOPO when `GeoDist` != 0; else
//!   APP (apparent geocentric), the usual case of JPL-Horizons tables attached by `fixplanets`;
//! - the position at MJD `t` is the linear interpolation of the two rows' Cartesian positions
//!   (Rho, RA, DEC) around `t` (rows `k = floor((t - MJD0) / dMJD) - 1` and `k + 1`); outside the
//!   table there is no position (an error here, as in casacore);
//! - the field's direction at a row's time is that position's direction at `TIME / 86400` (UTC),
//!   shifted by the FIELD's PHASE_DIR (an offset, normally zero);
//! - `RadVel` is interpolated linearly (frame GEO for APP tables, TOPO for TOPO ones).

use crate::error::MsError;
use pclean_casacore::columns::{KeywordValue, ReadTable};
use std::path::{Path, PathBuf};

/// One astronomical unit, metres (IAU 2012; casacore's `AU` unit).
pub const AU_M: f64 = 1.495_978_707e11;

/// The direction frame of an ephemeris table's RA/DEC (casacore `MeasComet::getType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EphemerisFrame {
    App,
    J2000,
    B1950,
    Icrs,
    Topo,
}

impl EphemerisFrame {
    /// casacore's name of the frame.
    pub fn casa_name(&self) -> &'static str {
        match self {
            EphemerisFrame::App => "APP",
            EphemerisFrame::J2000 => "J2000",
            EphemerisFrame::B1950 => "B1950",
            EphemerisFrame::Icrs => "ICRS",
            EphemerisFrame::Topo => "TOPO",
        }
    }
}

/// One row of an ephemeris table.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Row {
    mjd: f64,
    ra_deg: f64,
    dec_deg: f64,
    rho_au: f64,
    radvel_au_per_day: f64,
}

/// A FIELD ephemeris table, loaded whole (they are small: one row per step).
#[derive(Debug, Clone, PartialEq)]
pub struct Ephemeris {
    pub path: PathBuf,
    /// `NAME` keyword (e.g. `"Mars"`).
    pub name: String,
    pub frame: EphemerisFrame,
    /// `obsloc` keyword (e.g. `"GEOCENTRIC"`), empty when absent.
    pub obsloc: String,
    /// Observer (`GeoDist` km, `GeoLong` deg, `GeoLat` deg).
    pub geo: [f64; 3],
    mjd0: f64,
    dmjd: f64,
    rows: Vec<Row>,
}

fn bad(path: &Path, what: &str, why: impl Into<String>) -> MsError {
    MsError::BadMetadata {
        path: path.to_path_buf(),
        what: what.to_string(),
        why: why.into(),
    }
}

impl Ephemeris {
    /// Read an ephemeris table, checked as casacore checks it (MJD0, dMJD > 0, NAME, and the
    /// last row's MJD equal to MJD0 + nrow * dMJD within a tenth of a step).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MsError> {
        let path = path.as_ref();
        let t = ReadTable::open(path)?;
        let kw = t.scalar_keywords()?;
        let num = |k: &str| match kw.get(k) {
            Some(KeywordValue::Number(x)) => Some(*x),
            _ => None,
        };
        let text = |k: &str| match kw.get(k) {
            Some(KeywordValue::String(s)) => Some(s.clone()),
            _ => None,
        };
        let what = "ephemeris table";
        let mjd0 = num("MJD0")
            .filter(|x| *x >= 10000.0)
            .ok_or_else(|| bad(path, what, "keyword MJD0 is missing or < 10000"))?;
        let dmjd = num("dMJD")
            .filter(|x| *x > 0.0)
            .ok_or_else(|| bad(path, what, "keyword dMJD is missing or not positive"))?;
        let name = text("NAME").ok_or_else(|| bad(path, what, "keyword NAME is missing"))?;
        let geo = [
            num("GeoDist").unwrap_or(0.0),
            num("GeoLong").unwrap_or(0.0),
            num("GeoLat").unwrap_or(0.0),
        ];
        let frame = match text("posrefsys").map(|s| s.to_uppercase()) {
            Some(p) if p.contains("J2000") => EphemerisFrame::J2000,
            Some(p) if p.contains("B1950") => EphemerisFrame::B1950,
            Some(p) if p.contains("APP") => EphemerisFrame::App,
            Some(p) if p.contains("ICRS") => EphemerisFrame::Icrs,
            Some(p) if p.contains("TOPO") => EphemerisFrame::Topo,
            Some(p) => {
                return Err(bad(
                    path,
                    what,
                    format!(
                        "posrefsys '{p}' is not a frame casacore reads (J2000, B1950, APP, ICRS, \
                         TOPO)"
                    ),
                ))
            }
            None if geo[0] != 0.0 => EphemerisFrame::Topo,
            None => EphemerisFrame::App,
        };
        let col = |c: &str| t.scalar_column::<f64>(c);
        let (mjd, ra, dec, rho, rv) = (
            col("MJD")?,
            col("RA")?,
            col("DEC")?,
            col("Rho")?,
            col("RadVel")?,
        );
        let rows: Vec<Row> = (0..mjd.len())
            .map(|i| Row {
                mjd: mjd[i],
                ra_deg: ra[i],
                dec_deg: dec[i],
                rho_au: rho[i],
                radvel_au_per_day: rv[i],
            })
            .collect();
        let n = rows.len() as f64;
        match rows.last() {
            Some(last) if (last.mjd - (mjd0 + n * dmjd)).abs() <= 0.1 * dmjd => {}
            _ => {
                return Err(bad(
                    path,
                    what,
                    format!(
                        "its {} rows are not evenly spaced from MJD0 + dMJD = {} by dMJD = {dmjd} \
                         days (casacore rejects such a table)",
                        rows.len(),
                        mjd0 + dmjd
                    ),
                ))
            }
        }
        Ok(Ephemeris {
            path: path.to_path_buf(),
            name,
            frame,
            obsloc: text("obsloc").unwrap_or_default(),
            geo,
            mjd0,
            dmjd,
            rows,
        })
    }

    /// First and last MJD (UTC days) at which the table gives a position.
    pub fn coverage_mjd(&self) -> (f64, f64) {
        (
            self.mjd0 + self.dmjd,
            self.mjd0 + self.rows.len() as f64 * self.dmjd,
        )
    }

    /// The two rows around `mjd` and the interpolation fraction (casacore `MeasComet::fillMeas`).
    fn segment(&self, mjd: f64) -> Result<(Row, Row, f64), MsError> {
        let k = ((mjd - self.mjd0) / self.dmjd).floor() as i64 - 1;
        if k < 0 || k + 1 >= self.rows.len() as i64 {
            let (a, b) = self.coverage_mjd();
            return Err(bad(
                &self.path,
                "ephemeris table",
                format!(
                    "no position of '{}' at MJD {mjd:.6}: the table covers MJD {a} to {b}; \
                     attach an ephemeris that covers the observation (casatasks fixplanets)",
                    self.name
                ),
            ));
        }
        let (r0, r1) = (self.rows[k as usize], self.rows[k as usize + 1]);
        Ok((r0, r1, (mjd - r0.mjd) / self.dmjd))
    }

    /// Position (AU, Cartesian in [`Self::frame`]) at `mjd` (UTC days), linearly interpolated
    /// between the table's Cartesian positions as casacore does.
    pub fn position_au(&self, mjd: f64) -> Result<[f64; 3], MsError> {
        let (r0, r1, f) = self.segment(mjd)?;
        let (p0, p1) = (cartesian(&r0), cartesian(&r1));
        Ok([0, 1, 2].map(|i| p0[i] + f * (p1[i] - p0[i])))
    }

    /// Direction (lon, lat rad, in [`Self::frame`]) at `mjd` (UTC days).
    pub fn direction_rad(&self, mjd: f64) -> Result<(f64, f64), MsError> {
        Ok(lon_lat(&self.position_au(mjd)?))
    }

    /// Distance from the table's observer, AU, at `mjd` (the norm of the interpolated position).
    pub fn rho_au(&self, mjd: f64) -> Result<f64, MsError> {
        let p = self.position_au(mjd)?;
        Ok((p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt())
    }

    /// Radial velocity (m/s, positive receding) at `mjd`, linearly interpolated.
    pub fn radial_velocity_m_s(&self, mjd: f64) -> Result<f64, MsError> {
        let (r0, r1, f) = self.segment(mjd)?;
        let v = r0.radvel_au_per_day + f * (r1.radvel_au_per_day - r0.radvel_au_per_day);
        Ok(v * AU_M / 86400.0)
    }

    /// Direction (lon, lat rad) seen from an observer at `observer_m` (metres, Cartesian, in the
    /// table's frame and relative to the table's observer: for a geocentric APP table, the
    /// observatory's geocentric position in the true equator and equinox of date), at `mjd`.
    pub fn topocentric_direction_rad(
        &self,
        mjd: f64,
        observer_m: [f64; 3],
    ) -> Result<(f64, f64), MsError> {
        let p = self.position_au(mjd)?;
        Ok(lon_lat(&[0, 1, 2].map(|i| p[i] * AU_M - observer_m[i])))
    }
}

/// TT - UTC at `utc_mjd`, seconds (leap seconds from SOFA's table + 32.184 s).
pub fn tt_minus_utc_s(utc_mjd: f64) -> Result<f64, MsError> {
    let (tai1, tai2) =
        sofars::ts::utctai(2_400_000.5, utc_mjd).map_err(|code| MsError::BadMetadata {
            path: PathBuf::new(),
            what: "observation time".into(),
            why: format!("MJD {utc_mjd} is outside SOFA's UTC range (status {code})"),
        })?;
    Ok(((tai1 - 2_400_000.5) + tai2 - utc_mjd) * 86400.0 + 32.184)
}

/// The observatory's geocentric position (metres) in the true equator and equinox of date (the axes
/// of casacore's APP frame): its ITRF vector turned by Greenwich apparent sidereal time (IAU 1994,
/// UT1 = UTC + `dut1_s`; polar motion, below 0.5", is left out: it moves the observer by ~15 m, a
/// direction change of 1e-10 rad at 1 AU's parallax scale).
pub fn observer_true_of_date_m(itrf_m: [f64; 3], utc_mjd: f64, dut1_s: f64) -> [f64; 3] {
    let gast = sofars::erst::gst94(2_400_000.5, utc_mjd + dut1_s / 86400.0);
    let (s, c) = gast.sin_cos();
    [
        c * itrf_m[0] - s * itrf_m[1],
        s * itrf_m[0] + c * itrf_m[1],
        itrf_m[2],
    ]
}

fn cartesian(r: &Row) -> [f64; 3] {
    let (ra, dec) = (r.ra_deg.to_radians(), r.dec_deg.to_radians());
    [
        r.rho_au * dec.cos() * ra.cos(),
        r.rho_au * dec.cos() * ra.sin(),
        r.rho_au * dec.sin(),
    ]
}

fn lon_lat(p: &[f64; 3]) -> (f64, f64) {
    let lon = p[1].atan2(p[0]).rem_euclid(std::f64::consts::TAU);
    let lat = p[2].atan2(p[0].hypot(p[1]));
    (lon, lat)
}

/// The ephemeris of each FIELD row (`None` where `EPHEMERIS_ID` is absent or negative): the table
/// `FIELD/EPHEM<id>_*.tab` as casacore finds it.
pub fn field_ephemerides(ms: &Path) -> Result<Vec<Option<Ephemeris>>, MsError> {
    let field_dir = ms.join("FIELD");
    let t = ReadTable::open(&field_dir)?;
    if !t.has_column("EPHEMERIS_ID") {
        return Ok(vec![None; t.n_rows() as usize]);
    }
    let ids = t.scalar_column::<i32>("EPHEMERIS_ID")?;
    let mut loaded: Vec<(i32, Ephemeris)> = Vec::new();
    let mut out = Vec::with_capacity(ids.len());
    for (row, &id) in ids.iter().enumerate() {
        if id < 0 {
            out.push(None);
            continue;
        }
        if let Some((_, e)) = loaded.iter().find(|(i, _)| *i == id) {
            out.push(Some(e.clone()));
            continue;
        }
        let prefix = format!("EPHEM{id}_");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&field_dir)
            .map_err(|e| bad(ms, "FIELD subtable", format!("cannot list it: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".tab"))
            })
            .collect();
        found.sort();
        let Some(path) = found.into_iter().next() else {
            return Err(bad(
                ms,
                "FIELD::EPHEMERIS_ID",
                format!(
                    "field row {row} has EPHEMERIS_ID {id} but FIELD has no table {prefix}*.tab \
                     (attach the ephemeris with casatasks fixplanets)"
                ),
            ));
        };
        let e = Ephemeris::open(&path)?;
        loaded.push((id, e.clone()));
        out.push(Some(e));
    }
    Ok(out)
}

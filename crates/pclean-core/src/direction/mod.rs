//! Sky directions: parsing CASA direction strings and the geometry of phase-centre shifts.

mod convert;
mod earth;
mod fk4;
mod frame;
mod geom;

pub use convert::{convert, natural_to_apparent, SkyContext, SkyFrameError};
pub use frame::{DirectionFrame, SOLAR_SYSTEM_FRAMES};

use crate::units::parse_angle_rad;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// A direction on the sky (right ascension and declination, radians).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Direction {
    pub frame: DirectionFrame,
    /// Right ascension, radians, in [0, 2 pi) after normalisation.
    pub ra_rad: f64,
    /// Declination, radians.
    pub dec_rad: f64,
}

/// A direction string that could not be understood.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot parse direction '{text}': {why} (expected e.g. 'J2000 15h22m00 +05d04m00' or 'J2000 230.5deg 5.07deg')")]
pub struct DirectionParseError {
    pub text: String,
    pub why: String,
}

impl Direction {
    pub fn new_j2000(ra_rad: f64, dec_rad: f64) -> Self {
        Direction {
            frame: DirectionFrame::J2000,
            ra_rad: ra_rad.rem_euclid(2.0 * PI),
            dec_rad,
        }
    }

    /// A direction in `frame` (longitude normalised to [0, 2 pi)).
    pub fn new(frame: DirectionFrame, lon_rad: f64, lat_rad: f64) -> Self {
        Direction {
            frame,
            ra_rad: lon_rad.rem_euclid(2.0 * PI),
            dec_rad: lat_rad,
        }
    }

    /// This direction in frame `to` (see [`convert`]).
    pub fn to_frame(&self, to: DirectionFrame, ctx: &SkyContext) -> Result<Self, SkyFrameError> {
        convert(self, to, ctx)
    }

    /// Parse `'J2000 15h22m00 +05d04m00'`, `'J2000 15:22:00.0 +05.04.00'`, `'ICRS 230.5deg 5.07deg'`,
    /// or the same without a frame (J2000 assumed).
    pub fn parse(text: &str) -> Result<Self, DirectionParseError> {
        let err = |why: &str| DirectionParseError {
            text: text.to_string(),
            why: why.to_string(),
        };
        let parts: Vec<&str> = text.split_whitespace().collect();
        let (frame, lon, lat) = match parts.as_slice() {
            [f, lon, lat] => {
                let upper = f.to_ascii_uppercase();
                let frame = match DirectionFrame::from_casa_name(&upper) {
                    Some(frame) => frame,
                    None if SOLAR_SYSTEM_FRAMES.contains(&upper.as_str()) => {
                        return Err(err(&format!(
                            "frame '{upper}' (a solar-system body) is not a fixed direction: give \
                             the direction in J2000 or ICRS (phasecenter='{upper}' alone tracks \
                             the body)"
                        )))
                    }
                    None => {
                        return Err(err(&format!(
                            "unknown frame '{f}' (casacore's frames: {})",
                            DirectionFrame::all()
                                .map(|f| f.casa_name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )))
                    }
                };
                (frame, *lon, *lat)
            }
            [lon, lat] => (DirectionFrame::J2000, *lon, *lat),
            _ => return Err(err("expected a frame, a longitude and a latitude")),
        };
        // A component that overflows (`1e400`) or spells NaN/inf parses as a float but is no angle.
        let ra = parse_longitude(lon)
            .filter(|v| v.is_finite())
            .ok_or_else(|| err(&format!("bad right ascension '{lon}'")))?;
        let dec = parse_latitude(lat)
            .filter(|v| v.is_finite())
            .ok_or_else(|| err(&format!("bad declination '{lat}'")))?;
        if dec.abs() > PI / 2.0 + 1e-12 {
            return Err(err("declination outside [-90, 90] degrees"));
        }
        Ok(Direction {
            frame,
            ra_rad: ra.rem_euclid(2.0 * PI),
            dec_rad: dec,
        })
    }

    /// Unit vector (x towards RA 0, z towards the pole).
    pub fn unit_vector(&self) -> [f64; 3] {
        let (sa, ca) = self.ra_rad.sin_cos();
        let (sd, cd) = self.dec_rad.sin_cos();
        [cd * ca, cd * sa, sd]
    }

    /// Direction cosines (l, m, n) of `other` in the SIN projection about `self` as the tangent point:
    /// l increases towards east (increasing RA), m towards north.
    pub fn lmn_of(&self, other: &Direction) -> [f64; 3] {
        let dra = other.ra_rad - self.ra_rad;
        let (sd, cd) = other.dec_rad.sin_cos();
        let (sd0, cd0) = self.dec_rad.sin_cos();
        let l = cd * dra.sin();
        let m = sd * cd0 - cd * sd0 * dra.cos();
        let n = sd * sd0 + cd * cd0 * dra.cos();
        [l, m, n]
    }

    /// Rotation matrix taking (u, v, w) coordinates defined for phase centre `self` to those for `to`.
    /// Rows are the new u, v, w axes expressed in the equatorial frame, multiplied by the old axes.
    /// u (east), v (north), w (towards the source) unit vectors of this phase centre in its
    /// frame's equatorial coordinates (the rows).
    pub fn uvw_axes(&self) -> [[f64; 3]; 3] {
        let (sa, ca) = self.ra_rad.sin_cos();
        let (sd, cd) = self.dec_rad.sin_cos();
        [
            [-sa, ca, 0.0],
            [-sd * ca, -sd * sa, cd],
            [cd * ca, cd * sa, sd],
        ]
    }

    pub fn uvw_rotation_to(&self, to: &Direction) -> [[f64; 3]; 3] {
        let a = self.uvw_axes();
        let b = to.uvw_axes();
        let mut r = [[0.0; 3]; 3];
        for (i, row) in r.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = (0..3).map(|k| b[i][k] * a[j][k]).sum();
            }
        }
        r
    }

    /// Format as CASA does in logs: `J2000 15:22:00.000 +05.04.00.000`; frames whose longitude
    /// is not a right ascension (GALACTIC, AZEL, ...) in degrees: `GALACTIC 285.620000deg 74.290000deg`.
    pub fn to_casa_string(&self) -> String {
        if !self.frame.is_equatorial() {
            return format!(
                "{} {:.6}deg {:.6}deg",
                self.frame.casa_name(),
                self.ra_rad.to_degrees(),
                self.dec_rad.to_degrees()
            );
        }
        // Round once to whole milliseconds (of time, of arc) before splitting into sexagesimal
        // fields, so that a value like 59.9996 s carries into the minute instead of printing 60.000.
        const DAY_MS: i64 = 24 * 3_600_000;
        let ra_ms =
            ((self.ra_rad.to_degrees() / 15.0 * 3_600_000.0).round() as i64).rem_euclid(DAY_MS);
        let d = self.dec_rad.to_degrees();
        let sign = if d < 0.0 { '-' } else { '+' };
        let dec_mas = (d.abs() * 3_600_000.0).round() as i64;
        let split = |ms: i64| {
            (
                ms / 3_600_000,
                ms / 60_000 % 60,
                (ms % 60_000) as f64 / 1000.0,
            )
        };
        let (hh, mm, ss) = split(ra_ms);
        let (dd, dm, ds) = split(dec_mas);
        format!(
            "{} {:02}:{:02}:{:06.3} {}{:02}.{:02}.{:06.3}",
            self.frame.casa_name(),
            hh,
            mm,
            ss,
            sign,
            dd,
            dm,
            ds
        )
    }
}

fn parse_sexagesimal(s: &str, seps: &[char]) -> Option<f64> {
    let neg = s.starts_with('-');
    let body = s.trim_start_matches(['+', '-']);
    let fields: Vec<&str> = body.split(seps).filter(|f| !f.is_empty()).collect();
    if fields.is_empty() || fields.len() > 3 {
        return None;
    }
    let mut v = 0.0;
    let mut scale = 1.0;
    for f in &fields {
        let x: f64 = f.parse().ok()?;
        v += x * scale;
        scale /= 60.0;
    }
    Some(if neg { -v } else { v })
}

fn parse_longitude(s: &str) -> Option<f64> {
    if s.contains('h') || s.contains(':') {
        let hours = parse_sexagesimal(s.trim_end_matches('s'), &['h', 'm', ':'])?;
        return Some(hours * PI / 12.0);
    }
    parse_plain_angle(s)
}

fn parse_latitude(s: &str) -> Option<f64> {
    let neg = s.starts_with('-');
    let body = s.trim_start_matches(['+', '-']);
    let sign = |v: f64| if neg { -v } else { v };
    let dots = body.matches('.').count();
    if dots >= 2 {
        // CASA's dotted form: dd.mm.ss[.fff]
        let f: Vec<&str> = body.splitn(3, '.').collect();
        let v = f[0].parse::<f64>().ok()?
            + f[1].parse::<f64>().ok()? / 60.0
            + f[2].parse::<f64>().ok()? / 3600.0;
        return Some(sign(v).to_radians());
    }
    // "12d30m", but not a quantity whose unit has a 'd' ("0.2rad", "12deg").
    if body.contains('d') && !body.ends_with("deg") && !body.ends_with("rad") {
        return Some(parse_sexagesimal(s.trim_end_matches('s'), &['d', 'm', '\''])?.to_radians());
    }
    if s.contains(':') {
        return Some(parse_sexagesimal(s, &[':'])?.to_radians());
    }
    parse_plain_angle(s)
}

fn parse_plain_angle(s: &str) -> Option<f64> {
    match s.parse::<f64>() {
        // A bare number is degrees, as in casacore's MVAngle.
        Ok(v) => Some(v.to_radians()),
        Err(_) => parse_angle_rad(s).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (issue 20): an overflowing component gave RA = NaN without an error.
    #[test]
    fn regression_fuzz_non_finite_components_are_refused() {
        for text in [
            "J2000 15:221e4000 +05.04.00",
            "J2000 nan 5deg",
            "J2000 10deg nan",
            "J2000 inf 5deg",
            "J2000 1e400deg 5deg",
        ] {
            let e = Direction::parse(text).unwrap_err();
            assert!(e.to_string().contains(text), "{e}");
        }
    }

    #[test]
    fn parses_radians_as_tclean_accepts_them() {
        // tclean takes 'J2000 -2.99rad 0.21rad' (scripts/dev/tclean_earth_fixed_refs.py writes
        // such phasecenters); the 'd' of "rad" is not a degrees separator. Exact: no arithmetic.
        let d = Direction::parse("J2000 -2.9994937636565857rad 0.21048185964933452rad").unwrap();
        assert_eq!(d.dec_rad, 0.21048185964933452);
        assert_eq!(d.ra_rad, (-2.9994937636565857f64).rem_euclid(2.0 * PI));
        let d = Direction::parse("BMEAN 3.1rad -0.5rad").unwrap();
        assert_eq!(d.dec_rad, -0.5);
    }

    #[test]
    fn parses_common_forms() {
        // Tolerance 1e-12 rad: exact decimal arithmetic on small integers.
        let d = Direction::parse("J2000 15h22m00 +05d04m00").unwrap();
        assert!((d.ra_rad - (15.0 + 22.0 / 60.0) * PI / 12.0).abs() < 1e-12);
        assert!((d.dec_rad - (5.0 + 4.0 / 60.0f64).to_radians()).abs() < 1e-12);
        let e = Direction::parse("J2000 15:22:00.0 +05.04.00.0").unwrap();
        assert!((e.ra_rad - d.ra_rad).abs() < 1e-12 && (e.dec_rad - d.dec_rad).abs() < 1e-12);
        let f = Direction::parse("ICRS 230.5deg -5.07deg").unwrap();
        assert!((f.dec_rad + 5.07f64.to_radians()).abs() < 1e-12);
        let g = Direction::parse("J2000 16h00m00s -30d00m00s").unwrap();
        assert!((g.dec_rad + PI / 6.0).abs() < 1e-12);
        let b = Direction::parse("b1950_vla 12h30m00s 12d20m00s").unwrap();
        assert_eq!(b.frame, DirectionFrame::B1950Vla);
        let g = Direction::parse("GALACTIC 285.0deg 74.3deg").unwrap();
        assert_eq!(g.frame, DirectionFrame::Galactic);
        assert!(Direction::parse("MOON 1 2")
            .unwrap_err()
            .why
            .contains("not a fixed direction"));
        assert!(Direction::parse("FK9 1 2")
            .unwrap_err()
            .why
            .contains("unknown frame"));
        assert!(Direction::parse("nonsense").is_err());
    }

    #[test]
    fn casa_string_carries_rounded_seconds() {
        // 59.9996 s of time and 59.9996" of arc round to the next minute, never to "60.000".
        let ra = (15.0 + 59.0 / 60.0 + 59.9996 / 3600.0) * PI / 12.0;
        let dec = -(29.0 + 59.0 / 60.0 + 59.9996 / 3600.0f64).to_radians();
        let s = Direction::new_j2000(ra, dec).to_casa_string();
        assert_eq!(s, "J2000 16:00:00.000 -30.00.00.000");
        // Just below 24h wraps to 0h.
        let s = Direction::new_j2000(2.0 * PI - 1e-12, 0.0).to_casa_string();
        assert_eq!(s, "J2000 00:00:00.000 +00.00.00.000");
        let back = Direction::parse("J2000 15:22:01.250 +05.04.02.500").unwrap();
        assert_eq!(back.to_casa_string(), "J2000 15:22:01.250 +05.04.02.500");
    }

    #[test]
    fn rotation_is_orthonormal_and_identity_for_same_centre() {
        let a = Direction::parse("J2000 15h22m00 +05d04m00").unwrap();
        let b = Direction::parse("J2000 15h22m30 +05d14m00").unwrap();
        let r = a.uvw_rotation_to(&a);
        for (i, row) in r.iter().enumerate() {
            for (j, x) in row.iter().enumerate() {
                // Identity to rounding (1e-14).
                assert!((x - if i == j { 1.0 } else { 0.0 }).abs() < 1e-14);
            }
        }
        let r = a.uvw_rotation_to(&b);
        for row in &r {
            let n: f64 = row.iter().map(|x| x * x).sum();
            assert!((n - 1.0).abs() < 1e-14);
        }
        let [l, m, n] = a.lmn_of(&a);
        assert!(l.abs() < 1e-15 && m.abs() < 1e-15 && (n - 1.0).abs() < 1e-15);
    }
}

//! `timerange`: a comma-separated list of
//!
//! * `T0~T1`: TIME in the closed interval [T0, T1];
//! * `T0+dT`: TIME in [T0, T0 + dT] (dT as `HH:MM:SS.FF` or seconds);
//! * `>T0`, `<T0`: TIME after / before T0 (strict);
//! * `T0`: the integration that contains T0, i.e. |TIME - T0| <= EXPOSURE/2, with the EXPOSURE of the
//!   first row (CASA: "within an integration time of T0, taken from the first row").
//!
//! A time is `YYYY/MM/DD/HH:MM:SS.FF` (UTC). Fields may be omitted from the left (`HH:MM:SS`,
//! `DD/HH:MM`, ...) and are then taken from the first row's time; T1's omitted fields come from T0.
//! Omitted fields on the right are zero (`2020/01/01` is midnight). The TIME column holds MJD seconds.

use super::common::{empty_err, parse_err, split_list};
use crate::error::SelectionError;

const P: &str = "timerange";

/// One resolved interval of MJD seconds (inclusive bounds unless stated).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TimeItem {
    Between(f64, f64),
    After(f64),
    Before(f64),
}

impl TimeItem {
    pub(crate) fn contains(&self, t: f64) -> bool {
        match *self {
            TimeItem::Between(a, b) => t >= a && t <= b,
            TimeItem::After(a) => t > a,
            TimeItem::Before(a) => t < a,
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// MJD of 1970-01-01.
const MJD_UNIX_EPOCH: i64 = 40587;

/// MJD seconds of a UTC calendar time.
pub(crate) fn mjd_seconds(y: i64, mo: i64, d: i64, h: f64, mi: f64, s: f64) -> f64 {
    ((days_from_civil(y, mo, d) + MJD_UNIX_EPOCH) as f64) * 86400.0 + h * 3600.0 + mi * 60.0 + s
}

/// CASA's `YYYY/MM/DD/HH:MM:SS.S` rendering of MJD seconds.
pub fn format_mjd_seconds(t: f64) -> String {
    let day = (t / 86400.0).floor();
    let (y, m, d) = civil_from_days(day as i64 - MJD_UNIX_EPOCH);
    let sod = t - day * 86400.0;
    let h = (sod / 3600.0).floor();
    let mi = ((sod - h * 3600.0) / 60.0).floor();
    let s = sod - h * 3600.0 - mi * 60.0;
    format!("{y:04}/{m:02}/{d:02}/{h:02}:{mi:02}:{s:04.1}")
}

/// Calendar fields of a reference time.
#[derive(Debug, Clone, Copy)]
struct Fields {
    y: i64,
    mo: i64,
    d: i64,
}

fn fields_of(t: f64) -> Fields {
    let (y, mo, d) = civil_from_days((t / 86400.0).floor() as i64 - MJD_UNIX_EPOCH);
    Fields { y, mo, d }
}

/// Parse one time, filling omitted leading fields from `reference`.
fn parse_time(text: &str, s: &str, reference: Fields) -> Result<(f64, Fields), SelectionError> {
    let bad = |why: &str| {
        parse_err(
            P,
            text,
            format!("'{s}': {why} (expected YYYY/MM/DD/HH:MM:SS.FF, fields omitted from the left)"),
        )
    };
    let parts: Vec<&str> = s.trim().split('/').map(str::trim).collect();
    let last_is_tod = parts.last().is_some_and(|p| p.contains(':'));
    let (date, tod): (&[&str], Option<&str>) = if last_is_tod {
        (&parts[..parts.len() - 1], parts.last().copied())
    } else if parts.len() == 3 {
        (&parts[..], None)
    } else {
        return Err(bad("not a time"));
    };
    if date.len() > 3 {
        return Err(bad("too many '/' fields"));
    }
    let int = |p: &str| {
        p.parse::<i64>()
            .map_err(|_| bad("a date field is not an integer"))
    };
    let mut f = reference;
    let n = date.len();
    if n >= 1 {
        f.d = int(date[n - 1])?;
    }
    if n >= 2 {
        f.mo = int(date[n - 2])?;
    }
    if n >= 3 {
        f.y = int(date[n - 3])?;
    }
    if !(1..=12).contains(&f.mo) || !(1..=31).contains(&f.d) {
        return Err(bad("month or day out of range"));
    }
    let (mut h, mut mi, mut sec) = (0.0, 0.0, 0.0);
    if let Some(tod) = tod {
        let tp: Vec<&str> = tod.split(':').map(str::trim).collect();
        if tp.len() > 3 || tp.iter().any(|p| p.is_empty()) {
            return Err(bad("bad HH:MM:SS"));
        }
        let num = |p: &str| p.parse::<f64>().map_err(|_| bad("bad HH:MM:SS"));
        h = num(tp[0])?;
        if tp.len() > 1 {
            mi = num(tp[1])?;
        }
        if tp.len() > 2 {
            sec = num(tp[2])?;
        }
    }
    Ok((mjd_seconds(f.y, f.mo, f.d, h, mi, sec), f))
}

/// A duration `HH:MM:SS.FF` (fields from the right... as CASA: from MJD 0) or plain seconds.
fn parse_duration(text: &str, s: &str) -> Result<f64, SelectionError> {
    let s = s.trim();
    if let Ok(v) = s.parse::<f64>() {
        return Ok(v);
    }
    let tp: Vec<&str> = s.split(':').map(str::trim).collect();
    let vals: Result<Vec<f64>, _> = tp.iter().map(|p| p.parse::<f64>()).collect();
    match vals {
        Ok(v) if (2..=3).contains(&v.len()) => {
            Ok(v[0] * 3600.0 + v[1] * 60.0 + v.get(2).copied().unwrap_or(0.0))
        }
        _ => Err(parse_err(
            P,
            text,
            format!("'{s}' is not a duration (HH:MM:SS or seconds)"),
        )),
    }
}

/// Resolve the expression against the first row's time and exposure; `None` selects all times.
pub(crate) fn resolve(
    text: &str,
    first_time_mjd_s: f64,
    first_exposure_s: f64,
) -> Result<Option<Vec<TimeItem>>, SelectionError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let reference = fields_of(first_time_mjd_s);
    let mut out = Vec::new();
    for item in split_list(P, t, ',')? {
        let resolved = if let Some(r) = item.strip_prefix('>') {
            TimeItem::After(parse_time(text, r, reference)?.0)
        } else if let Some(r) = item.strip_prefix('<') {
            TimeItem::Before(parse_time(text, r, reference)?.0)
        } else if let Some((a, b)) = item.split_once('~') {
            let (t0, f0) = parse_time(text, a, reference)?;
            let (t1, _) = parse_time(text, b, f0)?;
            if t1 < t0 {
                return Err(empty_err(
                    P,
                    text,
                    format!("'{item}' ends before it starts"),
                ));
            }
            TimeItem::Between(t0, t1)
        } else if let Some((a, b)) = item.split_once('+') {
            let (t0, _) = parse_time(text, a, reference)?;
            TimeItem::Between(t0, t0 + parse_duration(text, b)?)
        } else {
            let (t0, _) = parse_time(text, item, reference)?;
            let half = 0.5 * first_exposure_s;
            TimeItem::Between(t0 - half, t0 + half)
        };
        out.push(resolved);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    // NGC5921's first TIME: 4304482380.000687 s = 1995/04/13/09:33:00.0 (python-casacore quantity).
    const T0: f64 = 4304482380.000687;

    #[test]
    fn calendar() {
        assert_eq!(mjd_seconds(1858, 11, 17, 0.0, 0.0, 0.0), 0.0);
        assert_eq!(format_mjd_seconds(T0), "1995/04/13/09:33:00.0");
        let t = mjd_seconds(1995, 4, 13, 9.0, 33.0, 0.0);
        assert!((t - T0).abs() < 1e-3);
        for d in [-1000, 0, 59000, 12345] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn forms() {
        let r = resolve("1995/04/13/09:33:00~09:40:00", T0, 30.0)
            .unwrap()
            .unwrap();
        let a = mjd_seconds(1995, 4, 13, 9.0, 33.0, 0.0);
        assert_eq!(r, vec![TimeItem::Between(a, a + 420.0)]);
        let r = resolve("09:33:00~09:40:00", T0, 30.0).unwrap().unwrap();
        assert_eq!(r, vec![TimeItem::Between(a, a + 420.0)]);
        let r = resolve(">13/10:00:00", T0, 30.0).unwrap().unwrap();
        assert_eq!(r, vec![TimeItem::After(a + 1620.0)]);
        let r = resolve("<10:00", T0, 30.0).unwrap().unwrap();
        assert_eq!(r, vec![TimeItem::Before(a + 1620.0)]);
        let r = resolve("09:33:00+00:10:00", T0, 30.0).unwrap().unwrap();
        assert_eq!(r, vec![TimeItem::Between(a, a + 600.0)]);
        let r = resolve("09:33:00", T0, 30.0).unwrap().unwrap();
        assert!(r[0].contains(T0) && !r[0].contains(T0 + 30.0));
        let r = resolve("1995/04/13~1995/04/14", T0, 30.0).unwrap().unwrap();
        assert!(r[0].contains(T0));
    }

    #[test]
    fn errors() {
        for bad in [
            "yesterday",
            "09:xx",
            "1995/13/01/10:00",
            "1/2/3/4/10:00",
            "10",
        ] {
            let e = resolve(bad, T0, 30.0).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("cannot parse timerange='{bad}'")),
                "{e}"
            );
        }
        let e = resolve("10:00~09:00", T0, 30.0).unwrap_err().to_string();
        assert!(e.contains("ends before it starts"), "{e}");
    }
}

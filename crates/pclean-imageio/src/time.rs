//! Calendar formatting and parsing of Modified Julian Dates for FITS `DATE-OBS` / `DATE` cards.

/// Format an MJD (days) as `YYYY-MM-DDThh:mm:ss.ffffff` (microseconds), the form CASA writes in
/// `DATE-OBS`. The time scale is whatever the MJD is in (UTC for image obsdates).
pub fn mjd_to_iso(mjd_days: f64) -> String {
    let mut day = mjd_days.floor();
    let mut micros = ((mjd_days - day) * 86_400e6).round() as i64;
    if micros >= 86_400_000_000 {
        micros -= 86_400_000_000;
        day += 1.0;
    }
    let (y, m, d) = civil_from_days(day as i64 - 40_587); // MJD 40587 = 1970-01-01
    let secs = micros / 1_000_000;
    let frac = micros % 1_000_000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:06}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Days since 1970-01-01 -> (year, month, day) in the proleptic Gregorian calendar
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// MJD (days) of a FITS date `YYYY-MM-DD[Thh:mm:ss[.f]]`; `None` when not of that form.
pub fn iso_to_mjd(s: &str) -> Option<f64> {
    let (date, time) = s.trim().split_once('T').unwrap_or((s.trim(), "0:0:0"));
    let d: Vec<i64> = date
        .split('-')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let t: Vec<f64> = time
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    if d.len() != 3 || !(1..=12).contains(&d[1]) || !(1..=31).contains(&d[2]) || t.len() > 3 {
        return None;
    }
    let secs = t
        .iter()
        .zip([3600.0, 60.0, 1.0])
        .map(|(v, u)| v * u)
        .sum::<f64>();
    Some(40_587.0 + days_from_civil(d[0], d[1], d[2]) as f64 + secs / 86_400.0)
}

/// The current UTC time as an MJD (days).
pub fn now_mjd() -> f64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    40_587.0 + t / 86_400.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(mjd_to_iso(51544.5), "2000-01-01T12:00:00.000000");
        assert_eq!(mjd_to_iso(40587.0), "1970-01-01T00:00:00.000000");
        // 2024-06-01T05:18:40.118349 (from a CASA-exported reference header)
        let mjd = 60462.0 + (5.0 * 3600.0 + 18.0 * 60.0 + 40.118349) / 86400.0;
        assert_eq!(mjd_to_iso(mjd), "2024-06-01T05:18:40.118349");
        // And back (FITS DATE-OBS read by the FITS reader), to a microsecond.
        let back = iso_to_mjd("2024-06-01T05:18:40.118349").unwrap();
        assert!((back - mjd).abs() * 86_400e6 < 1.0);
        assert_eq!(iso_to_mjd("1970-01-01"), Some(40587.0));
        assert_eq!(iso_to_mjd("2024-13-01"), None);
    }
}

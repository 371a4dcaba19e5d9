//! UT1 - UTC and polar motion from the IERS Earth-orientation tables, interpolated as casacore's
//! `MeasIERS` does (linearly between the daily values of the MEASURED table, `IERSeop97`; the
//! PREDICTED table, `IERSpredict`, where the measured one ends). Reading the tables is I/O
//! (`pclean_ms::measures`); this is the data and the arithmetic.

use crate::direction::SkyContext;

/// One daily IERS series: `values_s[i]` at MJD `mjd0 + i` (UTC days). UT1 - UTC in seconds; the
/// same type holds the polar motion x and y in arcseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Dut1Table {
    pub mjd0: f64,
    pub values_s: Vec<f64>,
}

impl Dut1Table {
    /// UT1 - UTC (s) at UTC MJD `mjd` (days), or `None` outside the table: linear between the
    /// bracketing daily values, as casacore (`MeasIERS::get`, `fillMeas`).
    pub fn at(&self, mjd: f64) -> Option<f64> {
        let day = mjd.floor();
        let i = day - self.mjd0;
        if !(0.0..).contains(&i) {
            return None;
        }
        let i = i as usize;
        let (a, b) = (*self.values_s.get(i)?, *self.values_s.get(i + 1)?);
        let f = mjd - day;
        Some(b * f - a * (f - 1.0))
    }
}

/// What is known of UT1 - UTC and polar motion for a run: the IERS tables when the measures
/// data was found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EarthOrientation {
    pub measured: Option<Dut1Table>,
    pub predicted: Option<Dut1Table>,
    /// Polar motion x and y (arcsec) of the MEASURED and PREDICTED tables (columns `x`, `y`).
    pub measured_polar: Option<[Dut1Table; 2]>,
    pub predicted_polar: Option<[Dut1Table; 2]>,
    /// Where the tables came from (for the log), empty when none were found.
    pub source: String,
}

impl EarthOrientation {
    /// No tables: UT1 - UTC is taken as 0.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether any table is loaded.
    pub fn is_available(&self) -> bool {
        self.measured.is_some() || self.predicted.is_some()
    }

    /// UT1 - UTC (s) at `time_utc_mjd_s` (MJD seconds): the measured table, else the predicted
    /// one, else 0 (casacore's fallback too, "with less precision").
    pub fn dut1_s(&self, time_utc_mjd_s: f64) -> f64 {
        let mjd = super::mjd_days(time_utc_mjd_s);
        self.measured
            .as_ref()
            .and_then(|t| t.at(mjd))
            .or_else(|| self.predicted.as_ref().and_then(|t| t.at(mjd)))
            .unwrap_or(0.0)
    }

    /// Polar motion (x, y) in radians at `time_utc_mjd_s`: the measured table, else the predicted
    /// one, else (0, 0) (casacore's fallback too). |x|, |y| < 0.6 arcsec.
    pub fn polar_motion_rad(&self, time_utc_mjd_s: f64) -> [f64; 2] {
        let mjd = super::mjd_days(time_utc_mjd_s);
        let at = |t: &Option<[Dut1Table; 2]>| {
            let [x, y] = t.as_ref()?;
            Some([x.at(mjd)?, y.at(mjd)?])
        };
        at(&self.measured_polar)
            .or_else(|| at(&self.predicted_polar))
            .unwrap_or([0.0; 2])
            .map(|a| (a / 3600.0).to_radians())
    }

    /// The direction-conversion context at `time_utc_mjd_s` for the observatory at `itrf_m`,
    /// with this run's UT1 - UTC and polar motion.
    pub fn sky_context(&self, time_utc_mjd_s: f64, itrf_m: [f64; 3]) -> SkyContext {
        SkyContext::at(time_utc_mjd_s, itrf_m, self.dut1_s(time_utc_mjd_s))
            .with_polar_motion(self.polar_motion_rad(time_utc_mjd_s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_linearly_and_falls_back() {
        let t = Dut1Table {
            mjd0: 100.0,
            values_s: vec![0.1, 0.2, 0.4],
        };
        // Exact linear arithmetic on small decimals: 1e-15.
        assert!((t.at(100.5).unwrap() - 0.15).abs() < 1e-15);
        assert!((t.at(101.25).unwrap() - 0.25).abs() < 1e-15);
        assert_eq!(t.at(99.9), None);
        assert_eq!(t.at(102.0), None);
        let eo = EarthOrientation {
            measured: Some(t),
            predicted: Some(Dut1Table {
                mjd0: 101.0,
                values_s: vec![1.0, 1.0, 1.0, 1.0],
            }),
            source: "test".into(),
            ..Default::default()
        };
        assert!((eo.dut1_s(100.5 * 86400.0) - 0.15).abs() < 1e-12);
        assert!((eo.dut1_s(102.5 * 86400.0) - 1.0).abs() < 1e-12);
        assert_eq!(eo.dut1_s(50.0 * 86400.0), 0.0);
        assert_eq!(eo.polar_motion_rad(100.5 * 86400.0), [0.0; 2]);
        let arcsec = |a: f64| (a / 3600.0).to_radians();
        let pm = EarthOrientation {
            measured_polar: Some([
                Dut1Table {
                    mjd0: 100.0,
                    values_s: vec![0.1, 0.3],
                },
                Dut1Table {
                    mjd0: 100.0,
                    values_s: vec![0.2, 0.2],
                },
            ]),
            ..Default::default()
        };
        let [x, y] = pm.polar_motion_rad(100.25 * 86400.0);
        // Linear interpolation of small decimals, converted to radians: 1e-18 rad.
        assert!((x - arcsec(0.15)).abs() < 1e-18 && (y - arcsec(0.2)).abs() < 1e-18);
        let ctx = pm.sky_context(100.25 * 86400.0, [1.0, 0.0, 0.0]);
        assert_eq!(ctx.polar_motion_rad, [x, y]);
    }
}

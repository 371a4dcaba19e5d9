//! UT1 - UTC from the IERS Earth-orientation tables, interpolated as casacore's `MeasIERS` does
//! (linearly between the daily values of the MEASURED table, `IERSeop97`; the PREDICTED table,
//! `IERSpredict`, where the measured one ends). Reading the tables is I/O (`pclean_ms::measures`);
//! this is the data and the arithmetic.

/// Daily UT1 - UTC values: `values[i]` at MJD `mjd0 + i` (UTC days).
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

/// What is known of UT1 - UTC for a run: the IERS tables when the measures data was found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EarthOrientation {
    pub measured: Option<Dut1Table>,
    pub predicted: Option<Dut1Table>,
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
        let mjd = time_utc_mjd_s / 86_400.0;
        self.measured
            .as_ref()
            .and_then(|t| t.at(mjd))
            .or_else(|| self.predicted.as_ref().and_then(|t| t.at(mjd)))
            .unwrap_or(0.0)
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
        };
        assert!((eo.dut1_s(100.5 * 86400.0) - 0.15).abs() < 1e-12);
        assert!((eo.dut1_s(102.5 * 86400.0) - 1.0).abs() < 1e-12);
        assert_eq!(eo.dut1_s(50.0 * 86400.0), 0.0);
    }
}

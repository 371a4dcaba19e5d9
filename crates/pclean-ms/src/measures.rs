//! casacore's measures data (the IERS Earth-orientation tables), found the way CASA finds it.
//!
//! The directory is, in order: the `PCLEAN_MEASURESPATH` environment variable; CASA 6's
//! `measurespath` in `~/.casa/config.py` (a plain string assignment); `measures.directory` in
//! `~/.casarc` (casacore's aipsrc). Within it, `geodetic/IERSeop97` (casacore's MEASURED table) and
//! `geodetic/IERSpredict` (PREDICTED) give UT1 - UTC and polar motion. Without them pclean takes both
//! as 0.

use pclean_casacore::columns::ReadTable;
use pclean_core::frames::{Dut1Table, EarthOrientation};
use std::path::{Path, PathBuf};

/// The environment variable naming the measures directory explicitly.
pub const MEASURESPATH_ENV: &str = "PCLEAN_MEASURESPATH";

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// `measurespath = "..."` (or `'...'`) in a CASA `config.py`.
fn config_py_measurespath(text: &str) -> Option<PathBuf> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        if key.trim() != "measurespath" {
            return None;
        }
        let v = value.split('#').next()?.trim();
        let unquoted = v
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')))?;
        Some(PathBuf::from(unquoted))
    })
}

/// `measures.directory: ...` in an aipsrc file (`~/.casarc`).
fn aipsrc_measures_directory(text: &str) -> Option<PathBuf> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "measures.directory").then(|| PathBuf::from(value.trim()))
    })
}

/// The measures directory and how it was found, if any.
pub fn measures_directory() -> Option<(PathBuf, String)> {
    if let Some(p) = std::env::var_os(MEASURESPATH_ENV) {
        return Some((PathBuf::from(p), format!("${MEASURESPATH_ENV}")));
    }
    let home = home()?;
    let config = home.join(".casa/config.py");
    if let Some(p) = std::fs::read_to_string(&config)
        .ok()
        .and_then(|t| config_py_measurespath(&t))
    {
        return Some((p, format!("measurespath in {}", config.display())));
    }
    let casarc = home.join(".casarc");
    std::fs::read_to_string(&casarc)
        .ok()
        .and_then(|t| aipsrc_measures_directory(&t))
        .map(|p| (p, format!("measures.directory in {}", casarc.display())))
}

/// One IERS table's daily UT1 - UTC (column `dUT1`) and, when its `x` and `y` columns read,
/// polar motion (arcsec); one row per day (column `MJD`).
type IersTable = (Dut1Table, Option<[Dut1Table; 2]>);

fn read_iers(path: &Path) -> Result<IersTable, String> {
    let t = ReadTable::open(path).map_err(|e| e.to_string())?;
    let mjd = t.scalar_column::<f64>("MJD").map_err(|e| e.to_string())?;
    let Some(&mjd0) = mjd.first() else {
        return Err("the table is empty".into());
    };
    if mjd.iter().enumerate().any(|(i, m)| *m != mjd0 + i as f64) {
        return Err("its MJD column is not one row per day".into());
    }
    let column = |name: &str| {
        t.scalar_column::<f64>(name)
            .map(|values_s| Dut1Table { mjd0, values_s })
            .map_err(|e| e.to_string())
    };
    let polar = column("x").and_then(|x| Ok([x, column("y")?])).ok();
    Ok((column("dUT1")?, polar))
}

/// The Earth-orientation tables, and one line for the log saying what was found.
pub fn load_earth_orientation() -> (EarthOrientation, String) {
    let Some((dir, how)) = measures_directory() else {
        return (
            EarthOrientation::none(),
            format!(
                "no casacore measures data found (set {MEASURESPATH_ENV}, or measurespath in \
                 ~/.casa/config.py): UT1 - UTC and polar motion are taken as 0, which moves \
                 frequencies converted to LSRK etc. by up to ~1e-11 relative (~2 Hz at 230 GHz) \
                 and HADEC/AZEL/ITRF directions by up to ~0.6 arcsec from tclean's"
            ),
        );
    };
    let geodetic = dir.join("geodetic");
    let measured = read_iers(&geodetic.join("IERSeop97"));
    let predicted = read_iers(&geodetic.join("IERSpredict"));
    let polar = |t: &Result<IersTable, String>| t.as_ref().ok().and_then(|t| t.1.clone());
    let eo = EarthOrientation {
        measured: measured.as_ref().ok().map(|t| t.0.clone()),
        predicted: predicted.as_ref().ok().map(|t| t.0.clone()),
        measured_polar: polar(&measured),
        predicted_polar: polar(&predicted),
        source: geodetic.display().to_string(),
    };
    let line = match (&measured, &predicted) {
        (Err(a), Err(b)) => format!(
            "measures data at {} ({how}) has no readable IERS tables (IERSeop97: {a}; \
             IERSpredict: {b}): UT1 - UTC and polar motion are taken as 0",
            geodetic.display()
        ),
        _ if eo.measured_polar.is_none() && eo.predicted_polar.is_none() => format!(
            "UT1 - UTC from the IERS tables in {} ({how}); they have no polar motion (columns \
             x, y): it is taken as 0, which moves HADEC/AZEL/ITRF directions by up to ~0.6 \
             arcsec from tclean's",
            geodetic.display()
        ),
        _ => format!(
            "UT1 - UTC and polar motion from the IERS tables in {} ({how})",
            geodetic.display()
        ),
    };
    (eo, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_casa_config_and_aipsrc() {
        let cfg =
            "import os\nmeasurespath = \"/data/casa\"  # measures\ndata_auto_update = False\n";
        assert_eq!(
            config_py_measurespath(cfg),
            Some(PathBuf::from("/data/casa"))
        );
        assert_eq!(config_py_measurespath("measurespath = os.getcwd()"), None);
        assert_eq!(
            aipsrc_measures_directory("measures.directory: /opt/data\n"),
            Some(PathBuf::from("/opt/data"))
        );
    }
}

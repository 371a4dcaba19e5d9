//! The `vptable` parameter: a user's voltage-pattern table (CASA vpmanager's `saveastable`),
//! turned into the primary-beam model of the run's telescope as tclean does
//! (`SynthesisImager::makePBImage(telescope)` -> `VPManager::getvp` -> `PBMath(record)`).
//!
//! The table's `VPLIST_DEFAULTS` entry for `OBSERVATION::TELESCOPE_NAME` names the row; -1 means
//! CASA's built-in model of that exact name (no band selection: `PBMath::pbMathInterfaceForCommonPB`).
//! Supported descriptions: `AIRY`, `GAUSS`, `POLY`, `IPOLY` (also wide-band, with `fitfreqs`),
//! `COSPOLY`, `NUMERIC`, `COMMONPB`. `IMAGE` (2-D beam images) and `REFERENCE` (antenna-response
//! tables) are refused with an error, as is a table without an entry for the telescope.

use crate::error::EngineError;
use pclean_grid::pb::{common_pb_model, PbModel};
use pclean_ms::{read_vptable, FieldValue, Record};
use std::path::Path;

fn err(path: &str, msg: impl std::fmt::Display) -> EngineError {
    EngineError::param("vptable", format!("{path}: {msg}"))
}

/// A quantity field (`{value, unit}`) in the given kind's canonical unit.
fn quantity(rec: &Record, path: &str, field: &str, kind: Kind) -> Result<f64, EngineError> {
    let Some(FieldValue::Record(q)) = rec.get(field) else {
        return Err(err(
            path,
            format!("the description has no quantity '{field}'"),
        ));
    };
    let (Some(FieldValue::Double(v)), Some(FieldValue::String(u))) =
        (q.get("value"), q.get("unit"))
    else {
        return Err(err(
            path,
            format!("'{field}' is not a quantity (value, unit)"),
        ));
    };
    let factor = match (kind, u.as_str()) {
        (Kind::Metres, "m") => 1.0,
        (Kind::Metres, "cm") => 0.01,
        (Kind::Metres, "km") => 1000.0,
        (Kind::Arcmin, "deg") => 60.0,
        (Kind::Arcmin, "arcmin" | "'") => 1.0,
        (Kind::Arcmin, "arcsec" | "\"") => 1.0 / 60.0,
        (Kind::Arcmin, "rad") => 180.0 * 60.0 / std::f64::consts::PI,
        (Kind::Ghz, "Hz") => 1e-9,
        (Kind::Ghz, "kHz") => 1e-6,
        (Kind::Ghz, "MHz") => 1e-3,
        (Kind::Ghz, "GHz") => 1.0,
        _ => {
            return Err(err(
                path,
                format!("'{field}' has unit '{u}', not one of {}", kind.units()),
            ))
        }
    };
    Ok(v * factor)
}

#[derive(Clone, Copy)]
enum Kind {
    Metres,
    Arcmin,
    Ghz,
}

impl Kind {
    fn units(self) -> &'static str {
        match self {
            Kind::Metres => "m, cm, km",
            Kind::Arcmin => "deg, arcmin, arcsec, rad",
            Kind::Ghz => "Hz, kHz, MHz, GHz",
        }
    }
}

fn numbers(rec: &Record, path: &str, field: &str) -> Result<Vec<f64>, EngineError> {
    match rec.get(field) {
        Some(FieldValue::Doubles(v)) if !v.is_empty() => Ok(v.clone()),
        Some(FieldValue::Double(v)) => Ok(vec![*v]),
        _ => Err(err(
            path,
            format!("the description has no numbers '{field}'"),
        )),
    }
}

/// The model a `pbdescription` record gives.
fn model_from_record(rec: &Record, path: &str, row: usize) -> Result<PbModel, EngineError> {
    let name = match rec.get("name") {
        Some(FieldValue::String(s)) => s.as_str(),
        _ => return Err(err(path, format!("row {row} has no description name"))),
    };
    let is_vp = matches!(rec.get("isthisvp"), Some(FieldValue::Bool(true)));
    let maxrad = || quantity(rec, path, "maxrad", Kind::Arcmin);
    let reffreq = || quantity(rec, path, "reffreq", Kind::Ghz);
    let model = match name {
        "AIRY" => PbModel::airy(
            quantity(rec, path, "dishdiam", Kind::Metres)?,
            quantity(rec, path, "blockagediam", Kind::Metres)?,
            maxrad()?,
            reffreq()?,
        ),
        "GAUSS" => PbModel::gauss(
            quantity(rec, path, "halfwidth", Kind::Arcmin)?,
            maxrad()?,
            reffreq()?,
            is_vp,
        ),
        "POLY" => PbModel::poly(numbers(rec, path, "coeff")?, maxrad()?, reffreq()?, is_vp),
        "IPOLY" if rec.get("fitfreqs").is_some() => {
            let freqs = numbers(rec, path, "fitfreqs")?;
            let coeffs = match rec.get("coeff") {
                // One inner vector per column of casacore's Matrix(coefficient, freq).
                Some(FieldValue::DoubleMatrix(m)) if m.len() == freqs.len() => m.clone(),
                Some(FieldValue::Doubles(v)) if freqs.len() == 1 => vec![v.clone()],
                _ => {
                    return Err(err(
                        path,
                        format!(
                            "row {row} (wide-band IPOLY): 'coeff' is not a matrix with one column per \
                             frequency of 'fitfreqs' ({})",
                            freqs.len()
                        ),
                    ))
                }
            };
            PbModel::wide_inverse_poly(coeffs, freqs, maxrad()?, reffreq()?, is_vp)
        }
        "IPOLY" => PbModel::inverse_poly(numbers(rec, path, "coeff")?, maxrad()?, reffreq()?, is_vp),
        "COSPOLY" => PbModel::cos_poly(
            numbers(rec, path, "coeff")?,
            numbers(rec, path, "scale")?,
            maxrad()?,
            reffreq()?,
            is_vp,
        ),
        "NUMERIC" => {
            let v = numbers(rec, path, "vect")?;
            if v.len() < 2 {
                return Err(err(path, format!("row {row} (NUMERIC) needs at least 2 samples")));
            }
            PbModel::numeric(v.iter().map(|x| *x as f32).collect(), maxrad()?, reffreq()?, is_vp)
        }
        "COMMONPB" => {
            let Some(FieldValue::String(c)) = rec.get("commonpb") else {
                return Err(err(path, format!("row {row} (COMMONPB) names no model")));
            };
            common_pb_model(c)
                .ok_or_else(|| err(path, format!("row {row}: CASA has no built-in beam '{c}'")))?
        }
        other => {
            return Err(err(
                path,
                format!(
                    "row {row} is a '{other}' description, which pclean does not support (supported: \
                     AIRY, GAUSS, POLY, IPOLY, COSPOLY, NUMERIC, COMMONPB); describe the beam with one \
                     of those (vp.setpbairy, setpbgauss, setpbpoly, setpbinvpoly, setpbcospoly, \
                     setpbnumeric)"
                ),
            ))
        }
    };
    Ok(model.labelled(&format!("vptable row {row} ({name})")))
}

/// The model the table `path` gives for `telescope`.
pub fn model_for(path: &str, telescope: &str, _freq0_hz: f64) -> Result<PbModel, EngineError> {
    let table = read_vptable(Path::new(path)).map_err(|e| err(path, e))?;
    match table.entry_for(telescope) {
        None => {
            let known: Vec<&str> = table
                .defaults
                .iter()
                .filter(|(_, n)| *n >= 0)
                .map(|(t, _)| t.as_str())
                .collect();
            Err(err(
                path,
                format!(
                    "the table has no voltage pattern for telescope '{telescope}' (OBSERVATION::\
                     TELESCOPE_NAME); it describes {known:?}. Add one with vp.setpb*(telescope='OTHER', \
                     othertelescope='{telescope}', ...) before vp.saveastable, or leave vptable empty \
                     for CASA's default beams"
                ),
            ))
        }
        Some(-1) => common_pb_model(telescope)
            .map(|m| m.labelled(&format!("{telescope} (CASA built-in, via vptable)")))
            .ok_or_else(|| {
                err(
                    path,
                    format!("the table defers '{telescope}' to CASA's built-in beams, which have none for it"),
                )
            }),
        Some(row) => model_from_record(&table.descriptions[row as usize], path, row as usize),
    }
}

#[cfg(test)]
mod tests {
    //! Against tclean 6.7 run with the committed table (`testdata/reference/tclean_vptable.tab`,
    //! one description of each supported kind) by `scripts/dev/tclean_pb_refs.py`: the `.pb`
    //! along the centre row and the diagonal (`tclean_pb_profiles.json`, cases `vpt_*`).
    use super::*;
    use pclean_grid::pb::{pb_image, pb_limit_in_place};
    use serde_json::Value;
    use std::path::PathBuf;

    fn reference_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/reference")
    }

    #[test]
    fn vptable_models_match_tclean() {
        let dir = reference_dir();
        let table = dir.join("tclean_vptable.tab").display().to_string();
        let text = std::fs::read_to_string(dir.join("tclean_pb_profiles.json")).unwrap();
        let refs: Value = serde_json::from_str(&text).unwrap();
        let f = |v: &Value| v.as_f64().unwrap();
        let mut n_cases = 0;
        for case in refs["cases"].as_array().unwrap() {
            if case["vptable"].as_str().unwrap_or("").is_empty() {
                continue;
            }
            n_cases += 1;
            let name = case["name"].as_str().unwrap();
            let freq = f(&case["image_freqs_hz"][0]);
            let model = model_for(&table, case["telescope"].as_str().unwrap(), freq)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let n = case["npix"].as_u64().unwrap() as usize;
            let cdelt = &case["cdelt_rad"];
            let mut pb = pb_image(&model, n, n, f(&cdelt[0]), f(&cdelt[1]), freq);
            pb_limit_in_place(pb.view_mut(), f(&case["pblimit"]));
            let c = n / 2;
            let mut worst = 0f64;
            let row = case["row"][0].as_array().unwrap();
            let diag = case["diagonal"][0].as_array().unwrap();
            for (i, (r, d)) in row.iter().zip(diag).enumerate() {
                worst = worst.max((pb[[c, c + i]] as f64 - f(r)).abs());
                worst = worst.max((pb[[c + i, c + i]] as f64 - f(d)).abs());
            }
            // Single-precision beams: float32 rounding and libm-vs-glibc differences (~1e-7);
            // the numeric model's cosine series replaces CASA's float FFTs (~1e-6).
            assert!(worst < 5e-6, "{name}: max |pclean - tclean| = {worst:e}");
        }
        assert_eq!(n_cases, 7, "every vptable case of the reference");
    }

    #[test]
    fn vptable_without_the_telescope_is_an_error() {
        let table = reference_dir()
            .join("tclean_vptable.tab")
            .display()
            .to_string();
        let e = model_for(&table, "NOSUCHSCOPE", 1.4e9)
            .unwrap_err()
            .to_string();
        assert!(e.contains("NOSUCHSCOPE") && e.contains("MYAIRY"), "{e}");
        let e = model_for("/nonexistent.tab", "VLA", 1.4e9)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("vptable") && e.contains("/nonexistent.tab"),
            "{e}"
        );
    }
}

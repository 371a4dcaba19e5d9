//! pclean's primary-beam models against tclean 6.7's `.pb` images, for every model of CASA's
//! default table (and the unknown-telescope fallbacks).
//!
//! The references (`testdata/reference/tclean_pb_profiles.json`, made by
//! `scripts/dev/tclean_pb_refs.py`) hold, for each case, the `.pb` along the centre row and the
//! diagonal of a 256^2 tclean image (niter 0, pblimit 1e-6) whose edge lies beyond the model's
//! maximum radius. `PCLEAN_PB_REFDIR` pointing at that script's work folder also compares the
//! whole images (`--ignored`). Cases imaged with a `vptable` are checked by
//! `pclean_engine::vptable`'s tests.

use pclean_grid::pb::{default_pb_model, pb_image, pb_limit_in_place, PbModel};
use serde_json::Value;
use std::path::PathBuf;

fn reference() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/reference/tclean_pb_profiles.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

fn uses_vptable(case: &Value) -> bool {
    case["vptable"].as_str().is_some_and(|s| !s.is_empty())
}

/// pclean's `.pb` planes for a reference case, `[chan][y][x]`, or `None` without a model.
fn planes(case: &Value) -> Option<Vec<ndarray::Array2<f32>>> {
    let telescope = case["telescope"].as_str().unwrap();
    let dish = f(&case["dish_diameter_m"]);
    let freqs: Vec<f64> = case["image_freqs_hz"]
        .as_array()
        .map(|a| a.iter().map(f).collect())
        .unwrap_or_default();
    let model = default_pb_model(telescope, dish, freqs.first().copied().unwrap_or(1e9))?;
    Some(model_planes(&model, case, &freqs))
}

/// A model's `.pb` planes on a reference case's grid, limited by its pblimit as tclean does.
fn model_planes(model: &PbModel, case: &Value, freqs: &[f64]) -> Vec<ndarray::Array2<f32>> {
    let n = case["npix"].as_u64().unwrap() as usize;
    let cdelt = case["cdelt_rad"].as_array().unwrap();
    let pblimit = f(&case["pblimit"]);
    freqs
        .iter()
        .map(|&freq| {
            let mut pb = pb_image(model, n, n, f(&cdelt[0]), f(&cdelt[1]), freq);
            pb_limit_in_place(pb.view_mut(), pblimit);
            pb
        })
        .collect()
}

/// Worst |pclean - tclean| over one case's row and diagonal profiles.
fn profile_diff(case: &Value, pbs: &[ndarray::Array2<f32>]) -> f64 {
    let c = case["npix"].as_u64().unwrap() as usize / 2;
    let mut worst = 0f64;
    for (k, pb) in pbs.iter().enumerate() {
        let row = case["row"][k].as_array().unwrap();
        let diag = case["diagonal"][k].as_array().unwrap();
        for (i, (r, d)) in row.iter().zip(diag).enumerate() {
            worst = worst.max((pb[[c, c + i]] as f64 - f(r)).abs());
            worst = worst.max((pb[[c + i, c + i]] as f64 - f(d)).abs());
        }
    }
    worst
}

#[test]
fn pb_models_match_tclean_profiles() {
    let refs = reference();
    let mut report = Vec::new();
    for case in refs["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        if uses_vptable(case) {
            continue;
        }
        let made = case.get("row").is_some();
        match planes(case) {
            None => {
                // tclean: "Telescope ... is not known. Not making the PB image": its .pb is 0.
                let zero = |k: &str| {
                    case[k][0]
                        .as_array()
                        .is_some_and(|v| v.iter().all(|x| f(x) == 0.0))
                };
                assert!(
                    made && zero("row") && zero("diagonal"),
                    "{name}: pclean has no model but tclean's .pb is not zero"
                );
                report.push(format!("{name}: no model (tclean: .pb of zeros)"));
            }
            Some(pbs) => {
                assert!(made, "{name}: pclean has a model but tclean made no .pb");
                let d = profile_diff(case, &pbs);
                report.push(format!("{name}: {d:.2e}"));
                // Tolerance: tclean's beams are single precision; 5e-6 covers float32 rounding
                // near 1 and libm-vs-glibc Bessel/cos differences. A table index that rounds to
                // the neighbouring sample (a float32 tie in r * 9999 / maxrad) would show as a
                // jump of one table step (up to ~1e-3): none occurs in these profiles.
                assert!(d < 5e-6, "{name}: max |pclean - tclean| = {d:e}");
            }
        }
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
#[ignore = "needs PCLEAN_PB_REFDIR: the work folder of scripts/dev/tclean_pb_refs.py"]
fn pb_models_match_tclean_whole_images() {
    let dir = PathBuf::from(std::env::var("PCLEAN_PB_REFDIR").expect("PCLEAN_PB_REFDIR"));
    let refs = reference();
    for case in refs["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        if uses_vptable(case) {
            continue;
        }
        let Some(pbs) = planes(case) else { continue };
        let bytes = std::fs::read(dir.join(format!("{name}.pb.f32"))).expect("reference image");
        let tclean: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let mut worst = 0f64;
        let mut differing = 0usize;
        for (i, pb) in pbs.iter().flat_map(|p| p.iter()).enumerate() {
            let d = (*pb as f64 - tclean[i] as f64).abs();
            worst = worst.max(d);
            differing += usize::from(d > 1e-6);
        }
        println!(
            "{name}: max |diff| {worst:.3e}, {differing} pixels > 1e-6 of {}",
            tclean.len()
        );
    }
}

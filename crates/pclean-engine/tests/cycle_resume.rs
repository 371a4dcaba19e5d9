//! The major-cycle checkpoint (`cycles::cycle_ckpt`): an mfs or mtmfs run whose coordinator
//! stops after its second major cycle (the test hook `PCLEAN_TEST_STOP_AFTER_MAJOR_CYCLE`, which
//! fails the run right after that cycle's state is recorded, as a coordinator killed between
//! cycles) and is then run again gives the products of an uninterrupted run: hogbom, multiscale,
//! hogbom with auto-multithresh (its mask history recorded), mtmfs (every Taylor model recorded),
//! with and without auto-multithresh.
//!
//! The rerun keeps the hook set: had it started over, it would stop after its second major cycle
//! again and fail; it succeeds only by resuming after cycle 2 (its next recorded cycle is 3).
//!
//! Tolerance 1e-6 of each product's peak (issue 16): the resumed run remakes the residual from the
//! recorded model with the same gridding, so it equals the uninterrupted run's up to f32 rounding
//! of the same sums, and the minor cycle then picks the same components. The auto-multithresh
//! mask must be equal pixel for pixel (a mask made without the recorded history differs: the
//! previous mask is grown into the next).
//! This file is its own test binary: the hook is an environment variable of the process.

#[path = "../../pclean-ms/tests/support/mod.rs"]
mod support;

use pclean_core::params::{ImagingParams, RawParams};
use pclean_imageio::CasaImage;
use std::path::Path;

const PRODUCTS: [&str; 6] = ["psf", "residual", "model", "image", "pb", "sumwt"];
const MTMFS: [&str; 9] = [
    "psf.tt0",
    "psf.tt2",
    "residual.tt0",
    "residual.tt1",
    "model.tt0",
    "model.tt1",
    "image.tt0",
    "image.tt1",
    "alpha",
];

fn params(dir: &Path, name: &str, deconvolver: &str, auto: bool) -> (ImagingParams, RawParams) {
    let mut raw = RawParams {
        vis: Some(vec![support::alma().display().to_string()]),
        imagename: Some(dir.join(name).display().to_string()),
        imsize: Some(vec![128]),
        cell: Some(vec!["0.2arcsec".into()]),
        specmode: Some("mfs".into()),
        weighting: Some("briggs".into()),
        robust: Some(0.5),
        deconvolver: Some(deconvolver.into()),
        // Four major cycles at least: 80 components in cycles of at most 20.
        niter: Some(80),
        cycleniter: Some(20),
        nthreads: Some(2),
        row_partitions: Some(2),
        ..Default::default()
    };
    if deconvolver == "multiscale" {
        raw.scales = Some(vec![0, 3, 8]);
    }
    if deconvolver == "mtmfs" {
        // The bundled wideband subset (1-2 GHz, sources with spectral indices; test_mtmfs.py).
        let ms = support::ms("vla_wideband_small.ms", "vla_wideband_small.ms.tar.gz").unwrap();
        raw.vis = Some(vec![ms.display().to_string()]);
        raw.cell = Some(vec!["7.5arcsec".into()]);
        raw.reffreq = Some("1.5GHz".into());
        raw.nterms = Some(2);
    }
    if auto {
        raw.usemask = Some("auto-multithresh".into());
    }
    if auto && deconvolver == "mtmfs" {
        // With the defaults this subset's first automask is empty (few antennas: a 78" x 12"
        // beam ridge whose sidelobes set the threshold): lower thresholds give it emission.
        raw.sidelobethreshold = Some(1.0);
        raw.noisethreshold = Some(3.0);
        raw.minbeamfrac = Some(0.05);
    }
    (ImagingParams::from_raw(&raw).unwrap(), raw)
}

fn read(prefix: &Path, ext: &str) -> ndarray::Array4<f32> {
    CasaImage::open(format!("{}.{ext}", prefix.display()))
        .unwrap()
        .read_all()
        .unwrap()
}

fn check(deconvolver: &str, auto: bool) {
    let dir = tempfile::tempdir().unwrap();
    let (p, raw) = params(dir.path(), "whole", deconvolver, auto);
    let whole = pclean_engine::run_image(&p, &raw).unwrap();
    assert!(whole.channels[0].major_cycles >= 4, "{:?}", whole.channels);

    let (p, raw) = params(dir.path(), "resumed", deconvolver, auto);
    let cycles = dir.path().join("resumed.cycles.cbor");
    std::env::set_var("PCLEAN_TEST_STOP_AFTER_MAJOR_CYCLE", "2");
    let err = pclean_engine::run_image(&p, &raw).unwrap_err().to_string();
    assert!(err.contains("stopped after major cycle 2"), "{err}");
    assert!(cycles.exists() && dir.path().join("resumed.checkpoint.json").exists());
    // The same command again, the hook still set: it must resume after cycle 2.
    let resumed = pclean_engine::run_image(&p, &raw);
    std::env::remove_var("PCLEAN_TEST_STOP_AFTER_MAJOR_CYCLE");
    let resumed = resumed.unwrap();
    assert!(
        !cycles.exists(),
        "the finished run removes its cycle checkpoint"
    );
    assert_eq!(
        resumed.channels[0].major_cycles,
        whole.channels[0].major_cycles
    );
    assert_eq!(resumed.channels[0].iterations, whole.channels[0].iterations);
    let products: &[&str] = if deconvolver == "mtmfs" {
        &MTMFS
    } else {
        &PRODUCTS
    };
    for ext in products.iter().chain(auto.then_some(&"mask")) {
        let want = read(&dir.path().join("whole"), ext);
        let got = read(&dir.path().join("resumed"), ext);
        // `.alpha` is NaN below its threshold: compared where the uninterrupted run has a value,
        // and NaN where it has none.
        let peak = want
            .iter()
            .filter(|v| v.is_finite())
            .fold(0.0f32, |m, v| m.max(v.abs()));
        let diff = got.iter().zip(want.iter()).fold(0.0f32, |m, (g, w)| {
            if w.is_finite() {
                m.max((g - w).abs())
            } else if g.is_finite() {
                f32::INFINITY
            } else {
                m
            }
        });
        let bound = if *ext == "mask" { 0.0 } else { 1e-6 * peak };
        eprintln!(
            "{deconvolver} (auto-multithresh {auto}): .{ext} max diff / peak {:.2e}",
            diff / peak
        );
        assert!(
            peak > 0.0 && diff <= bound,
            "{deconvolver} (auto-multithresh {auto}): .{ext} differs by {diff} (peak {peak})"
        );
    }
}

#[test]
fn killed_after_cycle_two_resumes_to_the_same_products() {
    // One test (the hook is process-wide): hogbom, multiscale (whose per-plane state is remade
    // from the PSF on resume), hogbom with auto-multithresh, mtmfs without and with it.
    check("hogbom", false);
    check("multiscale", false);
    check("hogbom", true);
    check("mtmfs", false);
    check("mtmfs", true);
}

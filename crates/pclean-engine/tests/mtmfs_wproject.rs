//! `deconvolver='mtmfs'` with the w-stacking gridder (`gridder='wproject'`, and `widefield`
//! without facets, the same gridder): the Taylor passes fold each term's factor into the
//! visibilities and grid them through the run's w-gridder, so term 0 of a Taylor pass is the
//! plain mfs pass. On the bundled wideband subset (1-2 GHz), `.psf.tt0`, `.residual.tt0` and
//! `.sumwt.tt0` of an mtmfs wproject run equal the `.psf`, `.residual` and `.sumwt` of the mfs
//! wproject run within 1e-6 of their peak (the same visibilities, weights and gridder in the same
//! order; only f32 rounding of the folded copies may differ). The higher terms are checked against
//! a DFT with the w term in `imaging::taylor`'s unit tests. A cleaned mtmfs wproject run (model
//! terms predicted through the w-gridder) lowers the residual's peak.

#[path = "../../pclean-ms/tests/support/mod.rs"]
mod support;

use pclean_core::params::{ImagingParams, RawParams};
use pclean_imageio::CasaImage;
use std::path::Path;

fn run(dir: &Path, name: &str, gridder: &str, deconvolver: &str, niter: i64) -> String {
    let ms = support::ms("vla_wideband_small.ms", "vla_wideband_small.ms.tar.gz").unwrap();
    let imagename = dir.join(name).display().to_string();
    let raw = RawParams {
        vis: Some(vec![ms.display().to_string()]),
        imagename: Some(imagename.clone()),
        imsize: Some(vec![128]),
        cell: Some(vec!["7.5arcsec".into()]),
        specmode: Some("mfs".into()),
        gridder: Some(gridder.into()),
        deconvolver: Some(deconvolver.into()),
        // tclean's reffreq is mtmfs's (pclean refuses it with another deconvolver).
        reffreq: (deconvolver == "mtmfs").then(|| "1.5GHz".into()),
        nterms: Some(2),
        niter: Some(niter),
        cycleniter: Some(20),
        nthreads: Some(2),
        ..Default::default()
    };
    let params = ImagingParams::from_raw(&raw).unwrap();
    pclean_engine::run_image(&params, &raw).unwrap();
    imagename
}

fn read(prefix: &str, ext: &str) -> ndarray::Array4<f32> {
    CasaImage::open(format!("{prefix}.{ext}"))
        .unwrap()
        .read_all()
        .unwrap()
}

fn peak(a: &ndarray::Array4<f32>) -> f32 {
    a.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

#[test]
fn mtmfs_wproject_tt0_is_the_mfs_wproject_pass() {
    let dir = tempfile::tempdir().unwrap();
    let mfs = run(dir.path(), "mfs", "wproject", "hogbom", 0);
    for gridder in ["wproject", "widefield"] {
        let mt = run(dir.path(), gridder, gridder, "mtmfs", 0);
        for (a, b) in [
            ("psf", "psf.tt0"),
            ("residual", "residual.tt0"),
            ("sumwt", "sumwt.tt0"),
        ] {
            let (want, got) = (read(&mfs, a), read(&mt, b));
            assert_eq!(want.dim(), got.dim(), "{gridder} {b}");
            let p = peak(&want);
            assert!(p > 0.0, "{a} is empty");
            let diff = want
                .iter()
                .zip(got.iter())
                .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
            assert!(
                diff <= 1e-6 * p,
                "{gridder} {b}: max |diff| {diff} vs peak {p}"
            );
        }
        // The first Taylor term carries the spectral slope: not a copy of term 0.
        let (t0, t1) = (read(&mt, "residual.tt0"), read(&mt, "residual.tt1"));
        assert!(peak(&t1) > 0.0 && t0 != t1, "{gridder}: residual.tt1");
    }
    // Cleaned: the model terms are predicted through the w-gridder in each major cycle.
    let cleaned = run(dir.path(), "cleaned", "wproject", "mtmfs", 60);
    let (dirty, after) = (
        peak(&read(&mfs, "residual")),
        peak(&read(&cleaned, "residual.tt0")),
    );
    assert!(
        after < 0.5 * dirty,
        "residual peak {after} after 60 components, dirty {dirty}"
    );
    let model = read(&cleaned, "model.tt0");
    assert!(model.iter().any(|v| *v != 0.0), "no model");
}

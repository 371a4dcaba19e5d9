//! Inputs checked when a run is opened (`Setup::open`), before any visibility is gridded.

#[path = "../../pclean-ms/tests/support/mod.rs"]
mod support;

use pclean_core::params::{ImagingParams, RawParams};
use pclean_engine::Setup;
use std::time::Instant;

fn params(f: impl FnOnce(&mut RawParams)) -> ImagingParams {
    let mut raw = RawParams {
        vis: Some(vec![support::ngc5921().display().to_string()]),
        imagename: Some("unused".into()),
        imsize: Some(vec![64]),
        cell: Some(vec!["15arcsec".into()]),
        niter: Some(10),
        ..Default::default()
    };
    f(&mut raw);
    ImagingParams::from_raw(&raw).unwrap()
}

/// Defect: region syntax, mask size and `smallscalebias` were checked only after the PSF and
/// residual were gridded. `Setup::open` (MS metadata and selection only) now refuses them.
#[test]
fn bad_mask_and_smallscalebias_fail_before_gridding() {
    let t = Instant::now();
    let bad_region = params(|r| r.mask = Some("circle[[32pix, 32pix], 5pix".into()));
    let e = Setup::open(bad_region)
        .err()
        .expect("a bad region fails")
        .to_string();
    assert!(e.contains("mask") && e.contains("']'"), "{e}");
    let bad_corr = params(|r| r.mask = Some("circle[[32pix, 32pix], 5pix], corr=[V]".into()));
    let e = Setup::open(bad_corr)
        .err()
        .expect("corr=[V] with stokes I fails")
        .to_string();
    assert!(e.contains("corr=[V]"), "{e}");
    let missing = params(|r| r.mask = Some("/nonexistent/mask.im".into()));
    assert!(Setup::open(missing).is_err());
    let bias = params(|r| {
        r.deconvolver = Some("multiscale".into());
        r.scales = Some(vec![0, 5]);
        r.smallscalebias = Some(1.5);
    });
    let e = Setup::open(bias)
        .err()
        .expect("smallscalebias 1.5 fails")
        .to_string();
    assert!(e.contains("smallscalebias"), "{e}");
    let start = params(|r| r.startmodel = Some(vec!["/nonexistent/model.im".into()]));
    let e = Setup::open(start)
        .err()
        .expect("a missing startmodel fails")
        .to_string();
    assert!(e.contains("startmodel"), "{e}");
    // Opening reads metadata only: no PSF or residual was made (NGC5921's first gridding pass
    // alone takes longer than this bound on the CI's two cores).
    assert!(t.elapsed().as_secs_f64() < 20.0);
}

//! `psfphasecenter` with an mtmfs mosaic (s16-mtpart): the Taylor PSF terms are gridded in the
//! mosaic gridder's PSF pass, which places each pointing's beam as if `psfphasecenter` were the
//! image centre, as the single-term mosaic's PSF (tclean 6.7 changes only the PSF terms with it:
//! docs/decisions.md (s16-mtpart); `test_mtmfs_mosaic.py` compares the terms with tclean's).

#[path = "../../pclean-ms/tests/support/mod.rs"]
mod support;

use ndarray::Array2;
use pclean_core::params::{ImagingParams, RawParams};
use pclean_engine::Setup;

const PSFPC: &str = "J2000 16h00m01.0s -30d00m05.0s";

fn setup(mtmfs: bool, psfphasecenter: Option<&str>) -> Setup {
    let ms = support::ms("wideband_mosaic.ms", "wideband_mosaic.ms.tar.gz").unwrap();
    let raw = RawParams {
        vis: Some(vec![ms.display().to_string()]),
        imagename: Some("unused".into()),
        imsize: Some(vec![128]),
        cell: Some(vec!["1.0arcsec".into()]),
        phasecenter: Some("J2000 16h00m00.0s -30d00m00.0s".into()),
        specmode: Some("mfs".into()),
        gridder: Some("mosaic".into()),
        normtype: Some("flatsky".into()),
        pblimit: Some(0.2),
        weighting: Some("natural".into()),
        deconvolver: mtmfs.then(|| "mtmfs".to_string()),
        nterms: mtmfs.then_some(2),
        psfphasecenter: psfphasecenter.map(String::from),
        nthreads: Some(2),
        ..Default::default()
    };
    Setup::open(ImagingParams::from_raw(&raw).unwrap()).unwrap()
}

/// The mosaic's PSF (mfs) or its Taylor PSF term 0 (mtmfs).
fn psf(mtmfs: bool, psfphasecenter: Option<&str>) -> Array2<f32> {
    let s = setup(mtmfs, psfphasecenter);
    let ctx = s.context(2);
    let w = ctx.weighters(&s.sources, 0..1).unwrap().remove(0);
    if mtmfs {
        let reffreq = ctx.plan.freqs_hz[0];
        ctx.taylor_psfs(&s.sources, 0, &w, 2, reffreq)
            .unwrap()
            .psfs
            .remove(0)
    } else {
        ctx.psf_plane(&s.sources, 0, 0, &w).unwrap().psf
    }
}

/// max |a - b| / max |b|.
fn rel_diff(a: &Array2<f32>, b: &Array2<f32>) -> f32 {
    let peak = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
    diff / peak
}

/// psf.tt0 of an mtmfs mosaic is the mfs mosaic's PSF (the same weights and beams, each
/// divided by its peak), with and without psfphasecenter: measured bit for bit; 1e-6 of the peak
/// would allow the two passes' f32 rounding (term 0 grids unit visibilities where the mfs PSF
/// pass grids the weights alone). psfphasecenter moves both by 6.1e-2 of the peak here (tclean:
/// 6.2e-2 at 224^2 x 0.8"), so a Taylor PSF left about the image centre fails the first bound.
#[test]
fn mtmfs_mosaic_psf_follows_psfphasecenter() {
    let (mt, mfs) = (psf(true, Some(PSFPC)), psf(false, Some(PSFPC)));
    let centred = psf(true, None);
    let same = rel_diff(&mt, &mfs);
    let centre = rel_diff(&centred, &psf(false, None));
    let moved = rel_diff(&mt, &centred);
    eprintln!("psf.tt0 against the mfs psf: {same:.2e} (about the centre {centre:.2e}); moved by {moved:.2e}");
    assert!(same <= 1e-6 && centre <= 1e-6, "{same:e} {centre:e}");
    assert!(
        moved > 1e-2,
        "psfphasecenter moved psf.tt0 by {moved:e} only"
    );
}

//! The mtmfs parameters: gridders, mtmfs mosaics, Taylor start models, reused products.

use super::tests::with;
use super::*;

/// `deconvolver='mtmfs'` takes the 2-D, the w-stacking, the mosaic and the awproject gridders
/// (`wproject`, `widefield` without facets).
#[test]
fn mtmfs_takes_standard_w_mosaic_and_awproject_gridders() {
    for g in ["standard", "wproject", "widefield", "mosaic", "awproject"] {
        let p = with(|r| {
            r.deconvolver = Some("mtmfs".into());
            r.gridder = Some(g.into());
        })
        .unwrap_or_else(|e| panic!("{g}: {e}"));
        assert_eq!(p.gridder.name(), g);
    }
}

/// What mtmfs with awproject does not do is refused naming the parameter: specmode='mvc'. Row
/// partitions are taken (s18-rows: each image combined with the shares of the tt0 sum it was
/// divided by, plain or kernel-scaled, `exec::rows::taylor`).
#[test]
fn mtmfs_awproject_refusals_name_the_parameter() {
    let mtmfs_aw = |edit: &dyn Fn(&mut RawParams)| {
        with(|r| {
            r.deconvolver = Some("mtmfs".into());
            r.gridder = Some("awproject".into());
            edit(r);
        })
    };
    let e = mtmfs_aw(&|r| r.specmode = Some("mvc".into()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("specmode") && e.contains("awproject"), "{e}");
    let p = mtmfs_aw(&|r| r.row_partitions = Some(2)).unwrap();
    assert_eq!(p.row_partitions, 2);
}

/// specmode='mvc' is taken with an mtmfs mosaic (s17-mvc: per channel a mosaic with its own
/// weight image, as tclean 6.7), also in row partitions (s18-rows: the channel weight images
/// combined per channel, `exec::rows::mvc`); what its mosaic does not do is refused naming the
/// parameter: conjbeams=True (tclean's mvc turns it off) and psfphasecenter (tclean's mvc mosaic
/// then writes no residual terms).
#[test]
fn mtmfs_mosaic_mvc_and_its_refusals() {
    let mvc = |more: &dyn Fn(&mut RawParams)| {
        with(|r| {
            r.deconvolver = Some("mtmfs".into());
            r.gridder = Some("mosaic".into());
            r.specmode = Some("mvc".into());
            more(r);
        })
    };
    assert_eq!(mvc(&|_| {}).unwrap().deconv.mvc, Some(0));
    let e = mvc(&|r| r.conjbeams = Some(true)).unwrap_err().to_string();
    assert!(e.contains("conjbeams") && e.contains("mvc"), "{e}");
    let e = mvc(&|r| r.psfphasecenter = Some("J2000 15h21m00 +05d00m00".into()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("psfphasecenter") && e.contains("mvc"), "{e}");
    assert_eq!(
        mvc(&|r| r.row_partitions = Some(2)).unwrap().row_partitions,
        2
    );
}

/// psfphasecenter is taken with an mtmfs mosaic (s16-mtpart: the PSF terms' beams placed about
/// it, as the single-term mosaic's PSF and tclean 6.7's).
#[test]
fn mtmfs_mosaic_takes_psfphasecenter() {
    let p = with(|r| {
        r.deconvolver = Some("mtmfs".into());
        r.gridder = Some("mosaic".into());
        r.psfphasecenter = Some("J2000 15h21m00 +05d00m00".into());
    })
    .unwrap();
    assert!(p.mosaic.psfphasecenter.is_some());
}

/// Row partitions (and so the Dask row-parallel path) take an mtmfs mosaic (s16-mtpart: the
/// partitions' PSF terms and weight images combined before the PSF's peak and the residuals'
/// weight normalisation, `exec::rows::taylor`).
#[test]
fn mtmfs_mosaic_takes_row_partitions() {
    let p = with(|r| {
        r.deconvolver = Some("mtmfs".into());
        r.gridder = Some("mosaic".into());
        r.row_partitions = Some(2);
    })
    .unwrap();
    assert_eq!(p.row_partitions, 2);
}

/// calcpsf=false and calcres=false (a restart reusing the Taylor products) are accepted with an
/// mtmfs mosaic: its PSF pass is made again for the terms' weight images (s15-mtmos).
#[test]
fn mtmfs_mosaic_accepts_reused_terms() {
    type Case = fn(&mut RawParams);
    let cases: [Case; 3] = [
        |r| r.calcpsf = Some(false),
        |r| r.calcres = Some(false),
        |r| {
            r.calcpsf = Some(false);
            r.calcres = Some(false);
        },
    ];
    for set in cases {
        let p = with(|r| {
            r.deconvolver = Some("mtmfs".into());
            r.gridder = Some("mosaic".into());
            r.restart = Some(true);
            set(r);
        })
        .unwrap();
        assert!(!p.deconv.calcpsf || !p.deconv.calcres);
    }
}

/// `startmodel`: tclean's list of Taylor images with mtmfs (at most `nterms`, trailing `''`
/// dropped, an inner `''` kept as a term starting from 0); one image for the other deconvolvers.
#[test]
fn taylor_startmodel_lists_checked() {
    let sm = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let mt = |v: &[&str], nterms: i64| {
        with(|r| {
            r.deconvolver = Some("mtmfs".into());
            r.nterms = Some(nterms);
            r.startmodel = sm(v);
        })
    };
    let p = mt(&["", "m.tt1", " "], 2).unwrap();
    assert_eq!(p.deconv.startmodel, ["", "m.tt1"]);
    assert!(mt(&["", ""], 2).unwrap().deconv.startmodel.is_empty());
    assert_eq!(mt(&["m.tt0"], 3).unwrap().deconv.startmodel, ["m.tt0"]);
    let e = mt(&["a", "b", "c"], 2).unwrap_err().to_string();
    assert!(e.contains("startmodel") && e.contains("nterms=2"), "{e}");
    let e = with(|r| r.startmodel = sm(&["a", "b"]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("startmodel") && e.contains("mtmfs"), "{e}");
    assert_eq!(
        with(|r| r.startmodel = sm(&["a"]))
            .unwrap()
            .deconv
            .startmodel,
        ["a"]
    );
}

/// calcpsf=false / calcres=false with mtmfs are taken (they reuse the `.ttN` products), but not
/// with specmode='mvc' (its PSF terms come from its cube's channels).
#[test]
fn mtmfs_reuse_refused_only_with_mvc() {
    for calcres in [true, false] {
        let edit = |r: &mut RawParams| {
            r.deconvolver = Some("mtmfs".into());
            r.restart = Some(true);
            r.calcpsf = Some(false);
            r.calcres = Some(calcres);
        };
        assert!(with(edit).is_ok(), "calcres {calcres}");
        let e = with(|r| {
            edit(r);
            r.specmode = Some("mvc".into());
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("calcpsf") && e.contains("mvc"), "{e}");
    }
}

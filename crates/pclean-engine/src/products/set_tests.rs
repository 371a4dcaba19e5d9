use super::*;
use pclean_core::params::RawParams;

fn products(set: impl FnOnce(&mut RawParams)) -> Vec<&'static str> {
    let mut r = RawParams {
        vis: Some(vec!["a.ms".into()]),
        imagename: Some("x".into()),
        ..Default::default()
    };
    set(&mut r);
    product_list(&ImagingParams::from_raw(&r).unwrap())
}

/// tclean 6.7's products with `restoration=False` (measured on NGC5921): niter=0 gives
/// .psf/.residual/.pb/.sumwt only; niter=20 with pbcor=True adds .model (and .mask), still no
/// .image or .image.pbcor. (pclean also writes .weight, and .mask only with a mask.)
#[test]
fn restoration_false_writes_no_restored_image() {
    let dirty = products(|r| r.restoration = Some(false));
    assert_eq!(dirty, ["psf", "residual", "pb", "sumwt", "weight"]);
    let cleaned = products(|r| {
        r.restoration = Some(false);
        r.niter = Some(20);
        r.pbcor = Some(true);
    });
    assert_eq!(
        cleaned,
        ["psf", "residual", "model", "pb", "sumwt", "weight"]
    );
    let restored = products(|r| r.pbcor = Some(true));
    assert!(restored.contains(&"image") && restored.contains(&"image.pbcor"));
    assert!(restored.contains(&"model"));
}

/// tclean 6.7's mtmfs with pbcor=True (measured, nterms 2 and 3 on vla_wideband_small):
/// `.image.ttN.pbcor` for every term and the pb's higher terms `.pb.tt1..` beside `.pb.tt0`;
/// without pbcor neither.
#[test]
fn mtmfs_pbcor_writes_every_term() {
    let mt = |pbcor: bool| {
        products(|r| {
            r.deconvolver = Some("mtmfs".into());
            r.nterms = Some(3);
            r.pbcor = Some(pbcor);
        })
    };
    let with = mt(true);
    for e in [
        "image.tt0.pbcor",
        "image.tt1.pbcor",
        "image.tt2.pbcor",
        "pb.tt0",
        "pb.tt1",
        "pb.tt2",
    ] {
        assert!(with.contains(&e), "{e} missing from {with:?}");
    }
    assert!(!with.contains(&"image.tt3.pbcor") && !with.contains(&"pb.tt3"));
    let without = mt(false);
    assert!(without.contains(&"pb.tt0"));
    assert!(!without
        .iter()
        .any(|e| e.ends_with(".pbcor") || *e == "pb.tt1"));
    // Only .pb.tt0 is the beam that masks the other products; .pb.tt1.. carry no mask.
    assert!(is_pb("pb.tt0") && !is_pb("pb.tt1") && !pb_masked("pb.tt1"));
    assert!(pb_masked("image.tt1.pbcor"));
}

/// tclean 6.7's specmode='mvc' (nterms 2, measured on vla_wideband_small): beside the Taylor
/// terms the cubes `.psf`, `.residual`, `.pb`, `.sumwt` always and `.model` only when a model
/// is predicted (niter > 0; the dirty run writes none); plain mtmfs writes no cube.
#[test]
fn mvc_writes_its_cube_products() {
    let mvc = |niter: u32| {
        products(|r| {
            r.deconvolver = Some("mtmfs".into());
            r.specmode = Some("mvc".into());
            r.nterms = Some(2);
            r.niter = Some(niter as _);
        })
    };
    let dirty = mvc(0);
    for e in ["psf", "residual", "pb", "sumwt", "psf.tt2", "model.tt1"] {
        assert!(dirty.contains(&e), "{e} missing from {dirty:?}");
    }
    assert!(!dirty.contains(&"model"));
    assert!(mvc(100).contains(&"model"));
    let plain = products(|r| {
        r.deconvolver = Some("mtmfs".into());
        r.niter = Some(100);
    });
    assert!(!plain.iter().any(|e| MVC_CUBES.contains(e)), "{plain:?}");
    assert!(!plain.contains(&GRIDWT));
    // The standard gridder's mvc keeps `.weight.tt0`; a mosaic's writes the `.weight` cube
    // and no `.weight.ttN` (tclean 6.7 on wideband_mosaic.ms, docs/decisions.md (s17-mvc)).
    assert!(dirty.contains(&"weight.tt0") && !dirty.contains(&"weight"));
    let mosaic = products(|r| {
        r.deconvolver = Some("mtmfs".into());
        r.specmode = Some("mvc".into());
        r.gridder = Some("mosaic".into());
    });
    assert!(mosaic.contains(&"weight"), "{mosaic:?}");
    assert!(
        !mosaic.iter().any(|e| e.starts_with("weight.tt")),
        "{mosaic:?}"
    );
}

/// tclean 6.7's mvc `.gridwt` (measured on vla_wideband_small): written with Briggs and
/// uniform weighting (the default here is natural: none, as tclean); pclean leaves it out where
/// its density is not one image-sized grid (`npixels`, a mosaic's per-field densities).
#[test]
fn mvc_writes_gridwt_for_the_uniform_family() {
    let mvc = |weighting: &str, more: &dyn Fn(&mut RawParams)| {
        products(|r| {
            r.deconvolver = Some("mtmfs".into());
            r.specmode = Some("mvc".into());
            r.nterms = Some(2);
            r.weighting = Some(weighting.into());
            more(r);
        })
    };
    for w in ["briggs", "uniform", "briggsabs", "superuniform"] {
        assert!(mvc(w, &|_| {}).contains(&GRIDWT), "{w}");
    }
    assert!(!mvc("natural", &|_| {}).contains(&GRIDWT));
    assert!(!mvc("briggs", &|r| r.npixels = Some(64)).contains(&GRIDWT));
    let plain = products(|r| {
        r.deconvolver = Some("mtmfs".into());
        r.weighting = Some("briggs".into());
    });
    assert!(!plain.contains(&GRIDWT));
}

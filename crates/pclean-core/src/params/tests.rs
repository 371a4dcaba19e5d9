use super::*;

fn base() -> RawParams {
    RawParams {
        vis: Some(vec!["a.ms".into()]),
        imagename: Some("out/x".into()),
        ..Default::default()
    }
}

#[test]
fn defaults_validate() {
    let p = ImagingParams::from_raw(&base()).unwrap();
    assert_eq!((p.nx, p.ny), (100, 100));
    assert_eq!(p.specmode, SpecMode::Mfs);
    assert_eq!(p.weighting, Weighting::Natural);
    assert_eq!(p.interpolation, Interpolation::Linear);
    assert_eq!(p.veltype, VelType::Radio);
    assert_eq!(p.deconv.deconvolver, Deconvolver::Hogbom);
}

#[test]
fn choices_parse_case_insensitively() {
    let mut r = base();
    r.deconvolver = Some("MultiScale".into());
    r.usemask = Some("PB".into());
    r.veltype = Some("Optical".into());
    r.interpolation = Some("CUBIC".into());
    r.weighting = Some("Briggs".into());
    let p = ImagingParams::from_raw(&r).unwrap();
    assert_eq!(p.deconv.deconvolver, Deconvolver::Multiscale);
    assert_eq!(p.deconv.usemask, UseMask::Pb { pbmask: 0.0 });
    assert_eq!(p.veltype, VelType::Optical);
    assert_eq!(p.interpolation, Interpolation::Cubic);
    assert_eq!(p.weighting, Weighting::Briggs { robust: 0.5 });
}

#[test]
fn bad_choices_name_parameter_value_and_choices() {
    type Case = (fn(&mut RawParams), &'static str, &'static str);
    let cases: [Case; 3] = [
        (
            |r| r.deconvolver = Some("maxent".into()),
            "deconvolver",
            "maxent",
        ),
        (|r| r.usemask = Some("box".into()), "usemask", "box"),
        (
            |r| r.veltype = Some("relativistic".into()),
            "veltype",
            "relativistic",
        ),
    ];
    for (set, param, value) in cases {
        let mut r = base();
        set(&mut r);
        let e = ImagingParams::from_raw(&r).unwrap_err();
        assert_eq!(e.param(), param);
        assert!(matches!(e, ParamError::Choice { .. }), "{e:?}");
        assert!(e.to_string().contains(value), "{e}");
    }
}

#[test]
fn merge_later_wins() {
    let mut a = base();
    let b = RawParams {
        imsize: Some(vec![256]),
        ..Default::default()
    };
    a.merge(&b);
    assert_eq!(a.imsize, Some(vec![256]));
    assert_eq!(a.vis, Some(vec!["a.ms".into()]));
}

#[test]
fn bad_values_name_the_parameter() {
    let mut r = base();
    r.imsize = Some(vec![-5]);
    let e = ImagingParams::from_raw(&r).unwrap_err().to_string();
    assert!(e.contains("imsize"), "{e}");
    let mut r = base();
    r.cell = Some(vec!["15parsec".into()]);
    assert_eq!(ImagingParams::from_raw(&r).unwrap_err().param(), "cell");
    let mut r = base();
    r.weighting = Some("fancy".into());
    assert_eq!(
        ImagingParams::from_raw(&r).unwrap_err().param(),
        "weighting"
    );
    let r = RawParams::default();
    assert_eq!(ImagingParams::from_raw(&r).unwrap_err().param(), "vis");
}

#[test]
fn config_rejects_unknown_keys() {
    let e = serde_json::from_str::<RawParams>(r#"{"imsize":[10],"bogus":1}"#).unwrap_err();
    assert!(e.to_string().contains("bogus"));
}

/// tclean 6.7's parameters (`inspect.signature(casatasks.tclean)`), plus CASA 5's `chanchunks`.
/// `vptable` is left to the primary-beam part of issue 13, which declares it.
const TCLEAN_PARAMETERS: &str = "vis selectdata field spw timerange uvrange antenna scan \
    observation intent datacolumn imagename imsize cell phasecenter stokes projection startmodel \
    specmode reffreq nchan start width outframe veltype restfreq interpolation perchanweightdensity \
    gridder facets psfphasecenter wprojplanes mosweight aterm psterm wbawp conjbeams cfcache \
    usepointing computepastep rotatepastep pointingoffsetsigdev pblimit normtype deconvolver scales \
    nterms smallscalebias fusedthreshold largestscale restoration restoringbeam pbcor outlierfile \
    weighting robust noise npixels uvtaper niter gain threshold nsigma cycleniter cyclefactor \
    minpsffraction maxpsffraction interactive nmajor fullsummary usemask mask pbmask \
    sidelobethreshold noisethreshold lownoisethreshold negativethreshold smoothfactor minbeamfrac \
    cutthreshold growiterations dogrowprune minpercentchange verbose fastnoise restart savemodel \
    calcres calcpsf psfcutoff parallel chanchunks";

#[test]
fn every_tclean_parameter_is_declared() {
    let missing: Vec<&str> = TCLEAN_PARAMETERS
        .split_whitespace()
        .filter(|n| crate::schema::spec(n).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "tclean parameters not declared: {missing:?}"
    );
}

pub(super) fn with(set: impl FnOnce(&mut RawParams)) -> Result<ImagingParams, ParamError> {
    let mut r = base();
    set(&mut r);
    ImagingParams::from_raw(&r)
}

/// tclean's no-op values and the sub-parameters of modes pclean does not have are accepted
/// (tclean 6.7 gives identical products for each with gridder='standard', deconvolver='hogbom').
#[test]
fn tclean_no_ops_and_ignored_sub_parameters_are_accepted() {
    let p = with(|r| {
        r.selectdata = Some(false);
        r.interactive = Some(false);
        r.fullsummary = Some(true);
        r.verbose = Some(true);
        r.facets = Some(1);
        r.chanchunks = Some(-1);
        r.wprojplanes = Some(128);
        r.psfphasecenter = Some("J2000 15h21m00 +05d00m00".into());
        r.mosweight = Some(true);
        r.aterm = Some(false);
        r.psterm = Some(true);
        r.wbawp = Some(false);
        r.conjbeams = Some(true);
        r.cfcache = Some("x.cf".into());
        r.usepointing = Some(true);
        r.computepastep = Some(5.0);
        r.rotatepastep = Some(5.0);
        r.pointingoffsetsigdev = Some(vec!["10".into(), "5".into()]);
        r.normtype = Some("flatsky".into());
        r.nterms = Some(3);
        r.fusedthreshold = Some(0.1);
        r.largestscale = Some(10);
        r.specmode = Some("cont".into());
        r.gridder = Some("gridft".into());
        r.scales = Some(vec![]);
    })
    .unwrap();
    assert_eq!(p.specmode, SpecMode::Mfs);
    assert_eq!(p.gridder, Gridder::Standard);
    assert_eq!(p, with(|r| r.specmode = Some("mfs".into())).unwrap());
}

/// Values that would change tclean's result and that pclean does not implement are refused up
/// front, naming the parameter and the value.
/// A cube mosaic with conjbeams=True is tclean's conjbeams=False cube to the last bit (measured on
/// the bundled wideband_mosaic.ms, docs/decisions.md (s10-mos)), so it is accepted; an mfs one is
/// made with and without deconvolution (measured against tclean: docs/decisions.md (s12b-conj),
/// docs/decisions.md (s13-conj)).
#[test]
fn mosaic_conjbeams_is_accepted_for_cubes_and_mfs() {
    for (specmode, niter, ok) in [
        ("cube", 100, true),
        ("cubedata", 0, true),
        ("mfs", 0, true),
        ("mfs", 100, true),
    ] {
        let got = with(|r| {
            r.gridder = Some("mosaic".into());
            r.conjbeams = Some(true);
            r.specmode = Some(specmode.into());
            r.niter = Some(niter);
        });
        assert_eq!(got.is_ok(), ok, "{specmode}: {got:?}");
    }
}

/// `usepointing=True` reaches the mosaic and awproject gridders (beams on the POINTING table's
/// directions) and is kept at its default with the gridders where tclean ignores it.
#[test]
fn usepointing_is_passed_to_the_mosaic_and_awproject_gridders_only() {
    for gridder in ["mosaic", "awproject", "standard", "wproject"] {
        let kept = matches!(gridder, "mosaic" | "awproject");
        let p = with(|r| {
            r.gridder = Some(gridder.into());
            r.usepointing = Some(true);
        })
        .unwrap();
        assert_eq!(p.mosaic.usepointing, kept, "{gridder}");
    }
}

/// `facets > 1` is accepted with `widefield` (the faceted PSF is reproduced) and refused with the
/// other gridders and with mtmfs, naming the parameter.
#[test]
fn facets_are_accepted_with_widefield_only() {
    let p = with(|r| {
        r.gridder = Some("widefield".into());
        r.facets = Some(3);
    })
    .unwrap();
    assert_eq!(p.facets, 3);
    for (gridder, deconvolver) in [
        ("standard", "hogbom"),
        ("wproject", "hogbom"),
        ("widefield", "mtmfs"),
    ] {
        let e = with(|r| {
            r.gridder = Some(gridder.into());
            r.deconvolver = Some(deconvolver.into());
            r.facets = Some(2);
        })
        .unwrap_err();
        assert!(
            e.to_string().contains("facets"),
            "{gridder}/{deconvolver}: {e}"
        );
    }
}

#[test]
fn tclean_values_not_implemented_are_refused_naming_them() {
    type Case = (fn(&mut RawParams), &'static str, &'static str);
    let cases: [Case; 12] = [
        (
            |r| {
                r.gridder = Some("awproject".into());
                r.usepointing = Some(true);
                r.pointingoffsetsigdev = Some(vec!["10".into(), "-5".into()]);
            },
            "pointingoffsetsigdev",
            "10,-5",
        ),
        (|r| r.reffreq = Some("1.4GHz".into()), "reffreq", "1.4GHz"),
        (|r| r.facets = Some(2), "facets", "2"),
        (|r| r.interactive = Some(true), "interactive", "true"),
        (
            |r| r.outlierfile = Some("out.txt".into()),
            "outlierfile",
            "out.txt",
        ),
        (|r| r.normtype = Some("flat".into()), "normtype", "flat"),
        (
            |r| r.gridder = Some("imagemosaic".into()),
            "gridder",
            "imagemosaic",
        ),
        (|r| r.deconvolver = Some("mem".into()), "deconvolver", "mem"),
        (
            |r| r.weighting = Some("radial".into()),
            "weighting",
            "radial",
        ),
        (
            |r| r.savemodel = Some("virtual".into()),
            "savemodel",
            "virtual",
        ),
        (|r| r.specmode = Some("mvc".into()), "specmode", "mvc"),
        (
            |r| r.spw = Some(crate::selection::PerMs(vec!["0".into(), "1".into()])),
            "spw",
            "\"1\"",
        ),
    ];
    for (set, param, value) in cases {
        let e = with(set).unwrap_err();
        assert_eq!(e.param(), param, "{e}");
        assert!(e.to_string().contains(value), "{e}");
    }
}

#[test]
fn per_ms_selections() {
    let p = with(|r| {
        r.vis = Some(vec!["a.ms".into(), "b.ms".into()]);
        r.spw = Some(crate::selection::PerMs(vec!["22".into(), "24".into()]));
        r.field = Some("J0006-0623".into());
    })
    .unwrap();
    assert_eq!(p.selections.len(), 2);
    assert_eq!(
        (p.selections[0].spw.as_str(), p.selections[1].spw.as_str()),
        ("22", "24")
    );
    assert!(p.selections.iter().all(|s| s.field == "J0006-0623"));
}

#[test]
fn restoration_is_kept() {
    assert!(with(|_| {}).unwrap().deconv.restoration);
    assert!(
        !with(|r| r.restoration = Some(false))
            .unwrap()
            .deconv
            .restoration
    );
}

#[test]
fn briggsbwtaper_superuniform_and_briggsabs_follow_tclean() {
    // briggsbwtaper: a cube weighting with a density per channel and npixels 0, as tclean's task.
    let cube = |r: &mut RawParams| {
        r.specmode = Some("cube".into());
        r.weighting = Some("briggsbwtaper".into());
        r.robust = Some(-0.5);
    };
    let p = with(cube).unwrap();
    assert_eq!(p.weighting, Weighting::BriggsBwTaper { robust: -0.5 });
    for (set, param) in [
        (
            (|r: &mut RawParams| r.specmode = Some("mfs".into())) as fn(&mut RawParams),
            "weighting",
        ),
        (|r| r.npixels = Some(4), "npixels"),
        (
            |r| r.perchanweightdensity = Some(false),
            "perchanweightdensity",
        ),
    ] {
        let e = with(|r| {
            cube(r);
            set(r);
        })
        .unwrap_err();
        assert_eq!(e.param(), param, "{e}");
        assert!(e.to_string().contains("briggsbwtaper"), "{e}");
    }
    // superuniform: npixels is the box half-width, 0 meaning 3 (SynthesisImagerVi2::weight).
    let su = |n: i64| {
        with(|r| {
            r.weighting = Some("superuniform".into());
            r.npixels = Some(n);
        })
        .unwrap()
        .weighting
    };
    assert_eq!(su(0), Weighting::SuperUniform { half_box: 3 });
    assert_eq!(su(5), Weighting::SuperUniform { half_box: 5 });
    // briggsabs with robust 0 and noise 0 divides every weight by 0: refused as tclean does.
    let e = with(|r| {
        r.weighting = Some("briggsabs".into());
        r.robust = Some(0.0);
        r.noise = Some("0Jy".into());
    })
    .unwrap_err();
    assert_eq!(e.param(), "noise", "{e}");
}

/// `gridder='awproject'`: its parameters validated (steps, the values pclean implements), each
/// refusal naming the parameter; with the other gridders they are ignored (the earlier test).
#[test]
fn awproject_parameters_validated() {
    let p = with(|r| {
        r.gridder = Some("awproject".into());
        r.computepastep = Some(5.0);
        r.rotatepastep = Some(2.0);
        r.cfcache = Some("x.cf".into());
    })
    .unwrap();
    assert_eq!(p.gridder, Gridder::AwProject);
    assert_eq!(p.awproject.bin_step_deg(), 2.0);
    assert_eq!(p.awproject.cfcache, "x.cf");
    assert!(!p.awproject.psterm);
    let ps = with(|r| {
        r.gridder = Some("awproject".into());
        r.psterm = Some(true);
    })
    .unwrap();
    assert!(ps.awproject.psterm);
    assert!(ps.awproject.aterm);
    // aterm=False is accepted with psterm=True (tclean's unit A-term), refused without (below).
    let noat = with(|r| {
        r.gridder = Some("awproject".into());
        r.aterm = Some(false);
        r.psterm = Some(true);
    })
    .unwrap();
    assert!(!noat.awproject.aterm && noat.awproject.psterm);
    type Edit = fn(&mut RawParams);
    let cases: [(Edit, &str); 3] = [
        (|r| r.aterm = Some(false), "aterm"),
        (|r| r.computepastep = Some(0.0), "computepastep"),
        (|r| r.rotatepastep = Some(f64::NAN), "rotatepastep"),
    ];
    for (edit, param) in cases {
        let e = with(|r| {
            r.gridder = Some("awproject".into());
            edit(r);
        })
        .unwrap_err();
        assert!(e.to_string().contains(param), "{param}: {e}");
    }
}

#[test]
fn fk4_of_date_phasecenters_accepted_and_earth_fixed_ones_refused() {
    for pc in ["BMEAN 12h00m00 -30d00m00", "BTRUE 12h00m00 -30d00m00"] {
        let mut r = base();
        r.phasecenter = Some(pc.into());
        assert!(ImagingParams::from_raw(&r).is_ok(), "{pc}");
    }
    // Frames fixed on the Earth: tclean lets the sky drift through such a centre (checked with
    // tclean 6.7 for each of these, docs/decisions.md (s10-ch13)); refused naming the value.
    for pc in [
        "ITRF 17h18m00 +11d57m23",
        "HADEC 23h31m31.5 +11d57m23",
        "AZEL 161.8deg 67.1deg",
        "AZELNE 161.8deg 67.1deg",
        "AZELSW -18.2deg 67.1deg",
        "AZELGEO 161.8deg 67.1deg",
        "AZELSWGEO -18.2deg 67.1deg",
    ] {
        let mut r = base();
        r.phasecenter = Some(pc.into());
        let e = ImagingParams::from_raw(&r).unwrap_err().to_string();
        let frame = pc
            .split_whitespace()
            .next()
            .unwrap()
            .replace("AZELNE", "AZEL");
        assert!(
            e.contains("phasecenter")
                && e.contains(pc)
                && e.contains(&format!("in {frame} is fixed on the Earth"))
                && e.contains("J2000"),
            "{e}"
        );
    }
    // TOPO (apparent topocentric) is a sky frame: tclean images it fixed on the sky (peak 0.985
    // Jy as J2000), as pclean does.
    let mut r = base();
    r.phasecenter = Some("TOPO 12h33m36.46 +11d57m23.3".into());
    assert!(ImagingParams::from_raw(&r).is_ok());
}

#[test]
fn solar_system_bodies_are_tracked_and_comets_or_tables_refused() {
    // tclean tracks the body for 'MARS' and for 'MARS 0deg 0deg' alike (it ignores the direction;
    // measured, docs/decisions.md (s10-ch13)); pclean reads both as the body.
    for (pc, body) in [
        ("MARS", "MARS"),
        ("mars", "MARS"),
        ("MARS 0deg 0deg", "MARS"),
        ("SUN", "SUN"),
        ("MOON 10deg 5deg", "MOON"),
        ("PLUTO", "PLUTO"),
        ("Jupiter", "JUPITER"),
    ] {
        let mut r = base();
        r.phasecenter = Some(pc.into());
        let p = ImagingParams::from_raw(&r).unwrap_or_else(|e| panic!("{pc}: {e}"));
        assert_eq!(p.phasecenter, PhaseCenter::Body(body.into()), "{pc}");
    }
    // COMET is the frame of a FIELD ephemeris table, and a table in phasecenter is not read.
    for pc in ["COMET", "Mars_ephem.tab"] {
        let mut r = base();
        r.phasecenter = Some(pc.into());
        let e = ImagingParams::from_raw(&r).unwrap_err().to_string();
        assert!(
            e.contains("phasecenter")
                && e.contains(pc)
                && e.contains("fixplanets")
                && e.contains("TRACKFIELD"),
            "{pc}: {e}"
        );
    }
    // cubesource with a body is refused naming both parameters.
    let mut r = base();
    r.phasecenter = Some("MARS".into());
    r.specmode = Some("cubesource".into());
    let e = ImagingParams::from_raw(&r).unwrap_err().to_string();
    assert!(e.contains("cubesource") && e.contains("MARS"), "{e}");
}

/// `pointingoffsetsigdev` with awproject and usepointing: thresholds in arcsec (an `arcsec`
/// suffix allowed); ignored (empty) with the other gridders or without usepointing, as tclean.
#[test]
fn pointingoffsetsigdev_is_parsed_for_awproject_with_usepointing() {
    let p = with(|r| {
        r.gridder = Some("awproject".into());
        r.usepointing = Some(true);
        r.pointingoffsetsigdev = Some(vec!["60".into(), "30arcsec".into()]);
    })
    .unwrap();
    assert_eq!(p.mosaic.pointingoffsetsigdev_arcsec, vec![60.0, 30.0]);
    let off = with(|r| {
        r.gridder = Some("awproject".into());
        r.pointingoffsetsigdev = Some(vec!["60".into()]);
    })
    .unwrap();
    assert!(off.mosaic.pointingoffsetsigdev_arcsec.is_empty());
    for bad in [vec!["0"], vec!["x"], vec!["1", "2", "3"]] {
        let e = with(|r| {
            r.gridder = Some("awproject".into());
            r.usepointing = Some(true);
            r.pointingoffsetsigdev = Some(bad.iter().map(|s| s.to_string()).collect());
        })
        .unwrap_err();
        assert!(
            e.to_string().contains("pointingoffsetsigdev"),
            "{bad:?}: {e}"
        );
    }
}

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

//! Ephemeris fields planned as tclean plans them (`Setup::open` on the bundled Mars MS,
//! testdata/realobs_vla_ephem_mars.tar.gz): the image centre and the spectral axis of the default,
//! TRACKFIELD and cubesource runs against tclean 6.7's coordinate records
//! (testdata/reference/ephem/ephem.json), and the refusals of what tclean refuses.

#[path = "../../pclean-ms/tests/support/mod.rs"]
mod support;

use pclean_core::params::{ImagingParams, RawParams};
use pclean_core::DirectionFrame;
use pclean_engine::Setup;

fn mars() -> String {
    support::ms("vla_ephem_mars.ms", "realobs_vla_ephem_mars.tar.gz")
        .unwrap_or_else(|why| panic!("the bundled ephemeris MS is missing: {why}"))
        .display()
        .to_string()
}

fn params(f: impl FnOnce(&mut RawParams)) -> ImagingParams {
    let mut raw = RawParams {
        vis: Some(vec![mars()]),
        imagename: Some("unused".into()),
        imsize: Some(vec![128]),
        cell: Some(vec!["0.5arcsec".into()]),
        ..Default::default()
    };
    f(&mut raw);
    ImagingParams::from_raw(&raw).unwrap()
}

/// tclean's coordinate record of a case's residual: (direction system, crval, spectral system,
/// spectral crval, cdelt).
fn tclean(case: &str) -> (String, [f64; 2], String, f64, f64) {
    let p = support::testdata_dir().join("reference/ephem/ephem.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cs = &v["cases"][case]["products"]["residual"]["coordsys"];
    let d = &cs["direction0"];
    let s = &cs["spectral2"];
    (
        d["system"].as_str().unwrap().to_string(),
        [
            d["crval"][0].as_f64().unwrap(),
            d["crval"][1].as_f64().unwrap(),
        ],
        s["system"].as_str().unwrap().to_string(),
        s["wcs"]["crval"].as_f64().unwrap(),
        s["wcs"]["cdelt"].as_f64().unwrap(),
    )
}

/// Angular separation, rad.
fn sep(a: [f64; 2], b: [f64; 2]) -> f64 {
    let v = |p: [f64; 2]| [p[1].cos() * p[0].cos(), p[1].cos() * p[0].sin(), p[1].sin()];
    let (x, y) = (v(a), v(b));
    ((x[0] - y[0]).powi(2) + (x[1] - y[1]).powi(2) + (x[2] - y[2]).powi(2)).sqrt()
}

/// The centre: 1e-9 rad as the Python coordinate checks (the topocentric direction's parallax
/// is 3e-5 rad, the field's motion over the run 1e-5 rad). Frequencies: 1 Hz as there (the
/// cubesource Doppler shift is 218 kHz; measured 0.3 Hz from tclean's).
#[test]
fn centre_and_spectral_axis_equal_tcleans() {
    for (case, f) in [
        (
            "ephem_cube_dirty",
            Box::new(|r: &mut RawParams| r.specmode = Some("cube".into()))
                as Box<dyn Fn(&mut RawParams)>,
        ),
        (
            "ephem_cube_trackfield_dirty",
            Box::new(|r: &mut RawParams| {
                r.specmode = Some("cube".into());
                r.phasecenter = Some("TRACKFIELD".into());
            }),
        ),
        (
            "ephem_cubesource_trackfield_dirty",
            Box::new(|r: &mut RawParams| {
                r.specmode = Some("cubesource".into());
                r.phasecenter = Some("TRACKFIELD".into());
            }),
        ),
    ] {
        let setup = Setup::open(params(f)).unwrap_or_else(|e| panic!("{case}: {e}"));
        let (dsys, crval, ssys, f0, df) = tclean(case);
        assert_eq!(
            setup.centre.frame,
            DirectionFrame::from_casa_name(&dsys).unwrap()
        );
        let d = sep([setup.centre.ra_rad, setup.centre.dec_rad], crval);
        assert!(d < 1e-9, "{case}: centre {d:e} rad from tclean's");
        assert_eq!(setup.plan.frame, ssys, "{case}");
        assert!(
            (setup.plan.freqs_hz[0] - f0).abs() < 1.0,
            "{case}: crval {} vs {f0}",
            setup.plan.freqs_hz[0]
        );
        assert!(
            (setup.plan.cdelt_hz - df).abs() < 1.0,
            "{case}: cdelt {} vs {df}",
            setup.plan.cdelt_hz
        );
    }
}

/// tclean refuses cubesource without TRACKFIELD; TRACKFIELD needs a field with an ephemeris.
#[test]
fn cubesource_needs_trackfield_and_trackfield_an_ephemeris() {
    let mut raw = RawParams {
        vis: Some(vec![mars()]),
        imagename: Some("unused".into()),
        specmode: Some("cubesource".into()),
        ..Default::default()
    };
    let e = ImagingParams::from_raw(&raw).unwrap_err().to_string();
    assert!(e.contains("cubesource") && e.contains("TRACKFIELD"), "{e}");
    raw.vis = Some(vec![support::ngc5921().display().to_string()]);
    raw.specmode = Some("mfs".into());
    raw.phasecenter = Some("TRACKFIELD".into());
    let e = Setup::open(ImagingParams::from_raw(&raw).unwrap())
        .err()
        .expect("TRACKFIELD without an ephemeris fails")
        .to_string();
    assert!(e.contains("TRACKFIELD") && e.contains("ephemeris"), "{e}");
}

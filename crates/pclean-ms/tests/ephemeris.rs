//! FIELD ephemeris tables read as casacore reads them, checked against casatools on the bundled
//! Mars MS (testdata/realobs_vla_ephem_mars.tar.gz; reference values in
//! testdata/reference/ephem/ephem_directions.json, made by `scripts/dev/make_ephem.py directions`).

mod support;

use pclean_ms::ephemeris::{
    field_ephemerides, observer_true_of_date_m, tt_minus_utc_s, EphemerisFrame,
};
use pclean_ms::known_observatory_itrf_m;
use std::path::PathBuf;

fn mars_ms() -> PathBuf {
    support::ms("vla_ephem_mars.ms", "realobs_vla_ephem_mars.tar.gz")
        .unwrap_or_else(|why| panic!("the bundled ephemeris MS is missing: {why}"))
}

fn reference() -> serde_json::Value {
    let p = support::testdata_dir().join("reference/ephem/ephem_directions.json");
    let text =
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
    serde_json::from_str(&text).expect("ephem_directions.json is JSON")
}

fn pair(v: &serde_json::Value, key: &str) -> [f64; 3] {
    let a = v[key].as_array().expect("array");
    let f = |i: usize| a.get(i).and_then(|x| x.as_f64()).unwrap_or(0.0);
    [f(0), f(1), f(2)]
}

/// Angular separation of two (lon, lat) directions, rad.
fn sep(a: (f64, f64), b: (f64, f64)) -> f64 {
    let v = |(l, b): (f64, f64)| [b.cos() * l.cos(), b.cos() * l.sin(), b.sin()];
    let (x, y) = (v(a), v(b));
    let d = [x[0] - y[0], x[1] - y[1], x[2] - y[2]];
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

#[test]
fn the_mars_table_is_found_and_read_with_casacores_conventions() {
    let eph = field_ephemerides(&mars_ms()).unwrap();
    assert_eq!(eph.len(), 1);
    let e = eph[0].as_ref().expect("field 0 has EPHEMERIS_ID 0");
    assert_eq!(e.name, "Mars");
    // no posrefsys, GeoDist = 0: casacore reads the table as apparent geocentric
    assert_eq!(e.frame, EphemerisFrame::App);
    assert_eq!(e.obsloc, "GEOCENTRIC");
    assert_eq!(e.coverage_mjd(), (59882.0, 59887.0));
    let err = e.direction_rad(59890.0).unwrap_err().to_string();
    assert!(err.contains("covers MJD 59882 to 59887"), "{err}");
}

/// The field's direction at each integration equals casacore's (`msmetadata.phasecenter`): the same
/// linear interpolation of the same doubles, so only rounding differs (measured: below 1e-15 rad);
/// 1e-12 rad (0.2 microarcsec) still fails for an interpolation in (RA, Dec) instead of Cartesian
/// positions (~1e-9 rad here) or a wrong row (~1e-3 rad).
#[test]
fn field_directions_equal_casacores_at_every_integration() {
    let e = field_ephemerides(&mars_ms()).unwrap().remove(0).unwrap();
    for row in reference()["rows"].as_array().unwrap() {
        let t = row["time_mjd_s"].as_f64().unwrap();
        let [ra, dec, _] = pair(row, "field_app_rad");
        let ours = e.direction_rad(t / 86400.0).unwrap();
        let d = sep(ours, (ra, dec));
        assert!(
            d < 1e-12,
            "t = {t}: {ours:?} vs casacore ({ra}, {dec}): {d:e} rad"
        );
    }
}

/// The topocentric direction tclean tracks (phasecenter='TRACKFIELD'): the table's position at TT,
/// minus the observatory's geocentric position in the true equator of date. casacore's TT - UTC is
/// matched to 1e-6 s; the observer's direction (GAST 1994 with UT1 = UTC, no polar motion) differs
/// from casacore's (which applies UT1-UTC and polar motion from its IERS tables) by 1.04e-6 rad
/// (measured; bound 5e-6 rad, i.e. 1"), which moves a 6400 km vector by at most 32 m: a 4e-10 rad
/// change of Mars's direction at 0.6 AU. 1e-9 rad (0.2 mas) on the topocentric direction covers it
/// and still fails without the parallax (3e-5 rad here) or with UTC instead of TT (8e-7 rad).
#[test]
fn topocentric_directions_equal_casacores() {
    let ms = mars_ms();
    let e = field_ephemerides(&ms).unwrap().remove(0).unwrap();
    // the reference's observer is casacore's VLA position (me.observatory)
    let itrf = known_observatory_itrf_m("VLA").expect("pclean knows the VLA's position");
    for row in reference()["rows"].as_array().unwrap() {
        let t = row["time_mjd_s"].as_f64().unwrap();
        let dtt = tt_minus_utc_s(t / 86400.0).unwrap();
        let want_dtt = row["tt_minus_utc_s"].as_f64().unwrap();
        assert!((dtt - want_dtt).abs() < 1e-6, "TT-UTC {dtt} vs {want_dtt}");
        let obs = observer_true_of_date_m(itrf, t / 86400.0, 0.0);
        let [olon, olat, orad] = pair(row, "observer_app_rad");
        let r = (obs[0] * obs[0] + obs[1] * obs[1] + obs[2] * obs[2]).sqrt();
        let od = sep((obs[1].atan2(obs[0]), (obs[2] / r).asin()), (olon, olat));
        assert!(od < 5e-6, "observer direction off by {od:e} rad");
        assert!((r - orad).abs() < 1.0, "observer distance {r} vs {orad}");
        let ours = e
            .topocentric_direction_rad((t + dtt) / 86400.0, obs)
            .unwrap();
        let [ra, dec, _] = pair(row, "topo_app_rad");
        let d = sep(ours, (ra, dec));
        assert!(
            d < 1e-9,
            "t = {t}: topocentric {ours:?} vs ({ra}, {dec}): {d:e} rad"
        );
        // and the parallax is really there (Mars at ~0.6 AU: several arcsec)
        let geo = e.direction_rad((t + dtt) / 86400.0).unwrap();
        assert!(sep(geo, ours) > 1e-5, "no parallax at t = {t}");
    }
}

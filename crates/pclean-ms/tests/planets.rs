//! The Sun, the Moon, Mars and Jupiter from the bundled DE200 records (testdata/measures.tar.gz,
//! `measures/ephemerides/DE200`) against casacore: reference directions by casatools 6.7 in
//! testdata/reference/planets/planets.json (`scripts/dev/tclean_planet_refs.py`): the
//! topocentric `me.measure(me.measure(me.direction(B), 'AZEL'), 'ICRS')` and the geocentric
//! `me.measure(me.direction(B), 'J2000')` at 6 epochs (2020-06 and 2022-11) for the VLA and ALMA.

mod support;

use pclean_core::direction::SkyContext;
use pclean_core::DirectionFrame;
use pclean_ms::measures::{load_earth_orientation, MEASURESPATH_ENV};
use pclean_ms::planets::{tdb_mjd, Body, De200};
use std::path::PathBuf;
use std::process::Command;

const MAS: f64 = std::f64::consts::PI / 180.0 / 3.6e6;

/// The bundled measures data, unpacked once into this test's temporary directory.
fn measures_dir() -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("planets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tar = support::testdata_dir().join("measures.tar.gz");
    let ok = Command::new("tar")
        .arg("xzf")
        .arg(&tar)
        .arg("-C")
        .arg(&dir)
        .status()
        .unwrap_or_else(|e| panic!("cannot run tar: {e}"))
        .success();
    assert!(ok, "tar xzf {} failed", tar.display());
    dir.join("measures")
}

fn reference() -> serde_json::Value {
    let p = support::testdata_dir().join("reference/planets/planets.json");
    let text =
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
    serde_json::from_str(&text).expect("planets.json is JSON")
}

fn pair(v: &serde_json::Value) -> (f64, f64) {
    (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())
}

fn sep(a: (f64, f64), b: (f64, f64)) -> f64 {
    let v = |(l, b): (f64, f64)| [b.cos() * l.cos(), b.cos() * l.sin(), b.sin()];
    let (x, y) = (v(a), v(b));
    ((x[0] - y[0]).powi(2) + (x[1] - y[1]).powi(2) + (x[2] - y[2]).powi(2)).sqrt()
}

// One test function: it sets PCLEAN_MEASURESPATH for the process (the lookup under test).
#[test]
fn bodies_match_casacore_topocentric_and_geocentric() {
    std::env::set_var(MEASURESPATH_ENV, measures_dir());
    let path = De200::locate().expect("the bundled measures data holds ephemerides/DE200");
    let (earth, _) = load_earth_orientation();
    let refs = reference();
    let mut worst: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    for r in refs["directions"].as_array().unwrap() {
        let body = Body::from_name(r["body"].as_str().unwrap()).unwrap();
        let mjd = r["utc_mjd"].as_f64().unwrap();
        let itrf: Vec<f64> = r["itrf_m"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let itrf = [itrf[0], itrf[1], itrf[2]];
        let de = De200::open(&path, mjd, mjd).unwrap();
        let t = mjd * 86_400.0;
        let dut1 = earth.dut1_s(t);
        let topo = de.topocentric_app(body, t, itrf, dut1).unwrap();
        let icrs = topo
            .to_frame(DirectionFrame::Icrs, &SkyContext::at(t, itrf, dut1))
            .unwrap();
        let d_topo = sep((icrs.ra_rad, icrs.dec_rad), pair(&r["topo_icrs_rad"])) / MAS;
        // casacore's geocentric J2000 of a body (`me.measure(direction(B), 'J2000')`) leaves out
        // the Sun's deflection that its AZEL route applies (and its Moon is the barycentre's):
        // printed for information only.
        let (u, _) = de.geocentric_j2000(body, tdb_mjd(mjd).unwrap()).unwrap();
        let geo = (u[1].atan2(u[0]), u[2].atan2(u[0].hypot(u[1])));
        let d_geo = sep(geo, pair(&r["geo_j2000_rad"])) / MAS;
        let key = format!(
            "{} {}",
            r["observatory"].as_str().unwrap(),
            body.casa_name()
        );
        let w = worst.entry(key).or_insert((0.0, 0.0));
        *w = (w.0.max(d_topo), w.1.max(d_geo));
    }
    for (k, (topo, geo)) in &worst {
        println!("{k}: topocentric {topo:.3} mas (geocentric J2000 {geo:.3} mas) from casacore");
    }
    for (k, (topo, _)) in &worst {
        // Bound 1 mas (a 0.5" pixel / 500; measured <= 0.05 mas): what is left is pclean's J2000
        // <-> APP (<= 0.05 mas from casacore's, tests/direction_frames.rs in pclean-core) and the
        // observatory without polar motion (~10 m: below 0.01 mas at the Moon's distance along
        // the line of sight's normal here).
        assert!(*topo < 1.0, "{k}: {topo} mas");
    }
    // Outside the loaded records: an error naming the table and what it covers.
    let de = De200::open(&path, 59_001.0, 59_001.0).unwrap();
    let e = de
        .topocentric_app(Body::Mars, 59_500.0 * 86_400.0, [0.0, 0.0, 6.4e6], 0.0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("DE200") && e.contains("no record"), "{e}");
    let e = De200::open(&path, 50_000.0, 50_000.0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no record for TDB MJD"), "{e}");
    // No DE200 where the measures path points: the error says where pclean looked and what to do.
    let empty = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-measures");
    std::fs::create_dir_all(&empty).unwrap();
    std::env::set_var(MEASURESPATH_ENV, &empty);
    let e = De200::locate().unwrap_err().to_string();
    assert!(
        e.contains(
            &empty
                .join("ephemerides")
                .join("DE200")
                .display()
                .to_string()
        ) && e.contains(MEASURESPATH_ENV)
            && e.contains("casadata"),
        "{e}"
    );
}

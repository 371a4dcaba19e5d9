//! The FITS image reader ([`FitsImage`], [`ImageReader`]) against CASA: files written by
//! casatools' `exportfits` of a tclean cube every way it can write them (axis orders, dropped
//! axes, velocity axes, 16-bit integers), compared with casatools' own world coordinates, beams
//! and pixels (`testdata/reference/fits_inputs/`, made by its `make_fits_inputs.py`); the round
//! trip through pclean's writer; and hand-made headers of other tools' kinds and broken ones.

use pclean_core::{DirectionFrame, StokesParam};
use pclean_imageio::{
    Beams, FitsImage, FitsWriter, ImageCoords, ImageIoError, ImageMeta, ImageReader, SpectralAxis,
};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn inputs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/reference/fits_inputs")
}

/// The exportfits files, unpacked into a temporary folder.
fn unpacked() -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().unwrap();
    let st = std::process::Command::new("tar")
        .arg("xzf")
        .arg(inputs_dir().join("files.tar.gz"))
        .arg("-C")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(st.success());
    let text = std::fs::read_to_string(inputs_dir().join("expected.json")).unwrap();
    (dir, serde_json::from_str(&text).unwrap())
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn exportfits_variants_read_as_casatools_sees_the_image() {
    let (dir, want) = unpacked();
    let freqs = f64s(&want["freqs_hz"]);
    let radec = f64s(&want["pixel0_radec_rad"]);
    let incr = f64s(&want["increment_rad"]);
    let pixels = want["pixels_chan_y_x"].as_array().unwrap();
    let mut reference_planes = None;
    for (file, stokes_axis) in [
        ("default.fits", true),
        ("vrad.fits", true),
        ("vopt.fits", true),
        ("stokesfirst.fits", true),
        ("dropdeg.fits", false),
        ("int16.fits", true),
        ("dropstokes.fits", false),
    ] {
        let path = dir.path().join(file);
        let mut img = match ImageReader::open(&path).unwrap() {
            ImageReader::Fits(f) => f,
            ImageReader::Casa(_) => panic!("{file} read as a CASA image"),
        };
        let m = img.meta().clone();
        let c = &m.coords;
        assert_eq!(
            [c.nx, c.ny, c.stokes.len(), c.spectral.nchan],
            [12, 10, 1, 3],
            "{file}"
        );
        assert_eq!(
            c.stokes,
            vec![StokesParam::I],
            "{file} (Stokes axis: {stokes_axis})"
        );
        assert_eq!(c.reference.frame, DirectionFrame::J2000, "{file}");
        assert_eq!(c.spectral.frame, want["frame"].as_str().unwrap(), "{file}");
        assert_eq!(
            c.spectral.restfreq_hz,
            want["restfreq_hz"].as_f64().unwrap()
        );
        assert_eq!(m.units, want["units"].as_str().unwrap(), "{file}");
        // Cards hold 13 significant digits: degrees to 1e-10 (2e-12 rad).
        let (ra, dec) = c.pixel_to_radec(0.0, 0.0);
        assert!(
            (ra - radec[0]).abs() < 1e-10 && (dec - radec[1]).abs() < 1e-10,
            "{file}"
        );
        for (got, want) in c.cdelt_rad.iter().zip(&incr) {
            assert!((got - want).abs() < 1e-11 * want.abs(), "{file}");
        }
        // Frequencies: FREQ and VRAD cards are exact to ~1e-3 Hz. exportfits writes the
        // optical-velocity axis of a cube linear in frequency as a linear VOPT axis (its
        // approximation): the standard reading (linear in optical velocity) differs from the
        // true channels by the curvature, f0 (dv/c)^2 ~ 0.4 Hz here, 2e-5 of a 24 kHz channel.
        let tol = if file == "vopt.fits" { 1.0 } else { 0.01 };
        for (k, f) in freqs.iter().enumerate() {
            let got = c.spectral.freq_hz(k as f64);
            assert!((got - f).abs() < tol, "{file} chan {k}: {got} vs {f}");
        }
        match &m.beams {
            Beams::PerPlane { beams, .. } => {
                for (b, w) in beams
                    .iter()
                    .zip(want["beams_arcsec_deg"].as_array().unwrap())
                {
                    let w = f64s(w);
                    let arcsec = |r: f64| r.to_degrees() * 3600.0;
                    // The BEAMS table holds f32 (1E): 1e-6 relative.
                    assert!((arcsec(b.major_rad) - w[0]).abs() < 1e-6 * w[0], "{file}");
                    assert!((arcsec(b.minor_rad) - w[1]).abs() < 1e-6 * w[1], "{file}");
                    assert!((b.pa_rad.to_degrees() - w[2]).abs() < 1e-4, "{file}");
                }
            }
            other => panic!("{file}: per-plane beams expected, got {other:?}"),
        }
        // Pixels: f32 exactly; 16-bit integers within one quantum (BSCALE ~5.5e-7).
        let tol = if file == "int16.fits" { 6e-7 } else { 0.0 };
        let mut planes = Vec::new();
        for (k, want_plane) in pixels.iter().enumerate() {
            let plane = img.get_plane(k, 0).unwrap();
            for (y, row) in want_plane.as_array().unwrap().iter().enumerate() {
                for (x, v) in f64s(row).iter().enumerate() {
                    let got = plane[[y, x]] as f64;
                    assert!((got - v).abs() <= tol, "{file} [{k},{y},{x}]: {got} vs {v}");
                }
            }
            planes.push(plane);
        }
        let spectrum = img.get_spectrum(3, 4, 0).unwrap();
        for (k, v) in spectrum.iter().enumerate() {
            assert_eq!(*v, planes[k][[4, 3]], "{file}");
        }
        if file == "default.fits" {
            reference_planes = Some(planes);
        } else if tol == 0.0 {
            assert_eq!(Some(&planes), reference_planes.as_ref(), "{file}");
        }
    }
}

fn sample_meta(nchan: usize) -> ImageMeta {
    let mut m = ImageMeta::new(ImageCoords {
        nx: 9,
        ny: 7,
        reference: pclean_core::Direction::new_j2000(3.5, -0.4),
        crpix: [4.0, 3.5],
        cdelt_rad: [-2e-5, 2e-5],
        projection: "SIN".into(),
        stokes: vec![StokesParam::I, StokesParam::Q],
        spectral: SpectralAxis {
            frame: "BARY".into(),
            crval_hz: 1.0e11,
            cdelt_hz: -3.0e6,
            crpix: 1.0,
            restfreq_hz: 1.1e11,
            nchan,
            chan_freqs_hz: None,
        },
        telescope: "ALMA".into(),
        observer: "me".into(),
        obsdate_mjd_utc_days: 60000.25,
        telescope_position_itrf_m: Some([2225142.18, -5440307.37, -2481029.85]),
    });
    m.units = "Jy/pixel".into();
    m.object_name = "src".into();
    m
}

#[test]
fn pclean_fits_products_read_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for (name, beams) in [
        ("single.fits", Beams::Single(beam(0, 0))),
        ("perplane.fits", Beams::per_plane(4, 2, beam)),
        ("none.fits", Beams::None),
    ] {
        let path = dir.path().join(name);
        let mut m = sample_meta(4);
        m.beams = beams;
        let plane = |c: usize, s: usize| {
            ndarray::Array2::from_shape_fn((7, 9), |(y, x)| {
                (x + 10 * y + 100 * c) as f32 - s as f32
            })
        };
        let mut w = FitsWriter::create(&path, &m, false).unwrap();
        for s in 0..2 {
            for c in 0..4 {
                w.put_plane(c, s, plane(c, s).view()).unwrap();
            }
        }
        w.finish().unwrap();
        let mut img = FitsImage::open(&path).unwrap();
        let got = img.meta().clone();
        assert_eq!(got.coords.stokes, m.coords.stokes);
        assert_eq!(got.coords.spectral, m.coords.spectral, "{name}");
        assert_eq!([got.coords.nx, got.coords.ny], [9, 7]);
        assert_eq!(got.coords.crpix, m.coords.crpix);
        for k in 0..2 {
            assert!((got.coords.cdelt_rad[k] - m.coords.cdelt_rad[k]).abs() < 1e-17);
        }
        assert!((got.coords.reference.ra_rad - 3.5).abs() < 1e-12);
        assert!((got.coords.reference.dec_rad + 0.4).abs() < 1e-12);
        // DATE-OBS has microseconds.
        assert!((got.coords.obsdate_mjd_utc_days - 60000.25).abs() < 1e-10);
        assert_eq!(
            got.coords.telescope_position_itrf_m,
            m.coords.telescope_position_itrf_m
        );
        assert_eq!(
            (got.units.as_str(), got.object_name.as_str()),
            ("Jy/pixel", "src")
        );
        match (&got.beams, &m.beams) {
            (Beams::None, Beams::None) => {}
            (a, b) => {
                for (c, s) in [(0, 0), (3, 1), (2, 0)] {
                    let (x, y) = (a.beam(c, s).unwrap(), b.beam(c, s).unwrap());
                    // Per-plane beams are f32 in the table; single ones 13 digits.
                    assert!(
                        (x.major_rad - y.major_rad).abs() < 1e-7 * y.major_rad,
                        "{name}"
                    );
                    assert!((x.pa_rad - y.pa_rad).abs() < 1e-6, "{name}");
                }
            }
        }
        for s in 0..2 {
            for c in 0..4 {
                assert_eq!(img.get_plane(c, s).unwrap(), plane(c, s));
            }
        }
        assert!(matches!(
            img.get_plane(4, 0),
            Err(ImageIoError::PlaneOutOfRange { .. })
        ));
    }
}

fn beam(c: usize, s: usize) -> pclean_core::Beam {
    pclean_core::Beam {
        major_rad: (1.0 + 0.01 * c as f64 + 0.1 * s as f64) * 1e-5,
        minor_rad: 0.7e-5,
        pa_rad: 0.3 - 0.01 * c as f64,
    }
}

/// A FITS file from header cards and big-endian data bytes (no padding of the data when
/// `pad` is false: a truncated file).
pub fn fits_bytes(cards: &[String], data: &[u8], pad: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for c in cards.iter().map(String::as_str).chain(["END"]) {
        out.extend(format!("{c:<80}").bytes().take(80));
    }
    out.resize(out.len().div_ceil(2880) * 2880, b' ');
    out.extend_from_slice(data);
    if pad {
        out.resize(out.len().div_ceil(2880) * 2880, 0);
    }
    out
}

fn card(k: &str, v: impl std::fmt::Display) -> String {
    format!("{k:<8}= {v:>20}")
}

/// Cards of a 2-D image `nx x ny` of `bitpix` with `extra` cards.
fn header(bitpix: i32, nx: usize, ny: usize, extra: &[(&str, &str)]) -> Vec<String> {
    let mut c = vec![
        card("SIMPLE", "T"),
        card("BITPIX", bitpix),
        card("NAXIS", 2),
        card("NAXIS1", nx),
        card("NAXIS2", ny),
        card("CTYPE1", "'RA---SIN'"),
        card("CRVAL1", 200.0),
        card("CDELT1", -0.001),
        card("CRPIX1", 2.0),
        card("CTYPE2", "'DEC--SIN'"),
        card("CRVAL2", -30.0),
        card("CDELT2", 0.001),
        card("CRPIX2", 2.0),
    ];
    for (k, v) in extra {
        match c.iter().position(|l| l.starts_with(&format!("{k:<8}="))) {
            Some(i) => c[i] = card(k, v),
            None => c.push(card(k, v)),
        }
    }
    c
}

fn open_bytes(dir: &Path, name: &str, bytes: &[u8]) -> Result<FitsImage, ImageIoError> {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    FitsImage::open(p)
}

#[test]
fn other_tools_layouts_integer_blanks_and_galactic() {
    let dir = tempfile::tempdir().unwrap();
    // 2-D, 32-bit integers with BLANK and BSCALE/BZERO, galactic, no spectral or Stokes axis.
    let vals: [i32; 6] = [1, 2, -7, i32::MIN, 5, 6];
    let data: Vec<u8> = vals.iter().flat_map(|v| v.to_be_bytes()).collect();
    let cards = header(
        32,
        3,
        2,
        &[
            ("CTYPE1", "'GLON-SIN'"),
            ("CTYPE2", "'GLAT-SIN'"),
            ("BSCALE", "0.5"),
            ("BZERO", "1.0"),
            ("BLANK", "-2147483648"),
            ("BUNIT", "'Jy/pixel'"),
        ],
    );
    let mut img = open_bytes(dir.path(), "g.fits", &fits_bytes(&cards, &data, true)).unwrap();
    let m = img.meta().clone();
    assert_eq!(m.coords.reference.frame, DirectionFrame::Galactic);
    assert_eq!((m.coords.spectral.nchan, m.coords.stokes.len()), (1, 1));
    assert_eq!(m.coords.crpix, [1.0, 1.0]);
    let p = img.get_plane(0, 0).unwrap();
    assert_eq!(p[[0, 0]], 1.5);
    assert_eq!(p[[0, 2]], -2.5);
    assert!(p[[1, 0]].is_nan(), "BLANK is NaN");
    let mask = img.get_mask_plane(0, 0).unwrap().unwrap();
    assert_eq!(mask.iter().filter(|v| !**v).count(), 1);

    // 64-bit floats, axes RA, DEC, STOKES (I, Q), FREQ in GHz; CD matrix; FK4 B1950.
    let vals: Vec<f64> = (0..2 * 2 * 2 * 3).map(|v| v as f64 * 0.25).collect();
    let data: Vec<u8> = vals.iter().flat_map(|v| v.to_be_bytes()).collect();
    let mut cards = header(
        -64,
        2,
        2,
        &[
            ("NAXIS", "4"),
            ("CD1_1", "-0.002"),
            ("CD2_2", "0.002"),
            ("RADESYS", "'FK4'"),
            ("EQUINOX", "1950.0"),
        ],
    );
    cards.insert(5, card("NAXIS3", 2));
    cards.insert(6, card("NAXIS4", 3));
    for (k, v) in [
        ("CTYPE3", "'STOKES'"),
        ("CRVAL3", "1.0"),
        ("CTYPE4", "'FREQ'"),
        ("CRVAL4", "1.5"),
        ("CDELT4", "0.001"),
        ("CUNIT4", "'GHz'"),
        ("SPECSYS", "'TOPOCENT'"),
    ] {
        cards.push(card(k, v));
    }
    let mut img = open_bytes(dir.path(), "f.fits", &fits_bytes(&cards, &data, true)).unwrap();
    let c = img.meta().coords.clone();
    assert_eq!(c.reference.frame, DirectionFrame::B1950);
    assert_eq!(c.stokes, vec![StokesParam::I, StokesParam::Q]);
    assert_eq!((c.spectral.frame.as_str(), c.spectral.nchan), ("TOPO", 3));
    assert!((c.spectral.freq_hz(2.0) - 1.502e9).abs() < 1e-3);
    assert!((c.cdelt_rad[0] + 0.002f64.to_radians()).abs() < 1e-15);
    // Plane (chan 2, stokes 1): pixels 4 * (1 + 2 * 2) onwards.
    let p = img.get_plane(2, 1).unwrap();
    assert_eq!(p[[0, 0]], 20.0 * 0.25);
    assert_eq!(p[[1, 1]], 23.0 * 0.25);
}

#[test]
fn unsupported_and_broken_headers_are_refused_naming_file_and_card() {
    let dir = tempfile::tempdir().unwrap();
    let data = vec![0u8; 4 * 4 * 4];
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "tan",
            vec![("CTYPE1", "'RA---TAN'"), ("CTYPE2", "'DEC--TAN'")],
            "CTYPE1",
        ),
        (
            "transposed",
            vec![("CTYPE1", "'DEC--SIN'"), ("CTYPE2", "'RA---SIN'")],
            "CTYPE1",
        ),
        ("mismatched", vec![("CTYPE2", "'GLAT-SIN'")], "CTYPE2"),
        ("rotated", vec![("PC1_2", "0.1")], "PC1_2"),
        ("crota", vec![("CROTA2", "12.0")], "CROTA2"),
        ("ncp", vec![("PV2_1", "0.2")], "PV2_1"),
        ("radesys", vec![("RADESYS", "'GAPPT'")], "RADESYS"),
        ("equinox", vec![("EQUINOX", "1900.0")], "EQUINOX"),
        ("nan", vec![("CRVAL1", "'abc'")], "CRVAL1"),
        ("unit", vec![("CUNIT1", "'furlong'")], "CUNIT1"),
        ("zero", vec![("CDELT2", "0.0")], "CDELT2"),
        ("pole", vec![("CRVAL2", "95.0")], "CRVAL2"),
        ("date", vec![("DATE-OBS", "'yesterday'")], "DATE-OBS"),
        ("beam", vec![("BMAJ", "-1.0"), ("BMIN", "1.0")], "BMAJ"),
    ];
    for (name, extra, keyword) in cases {
        let bytes = fits_bytes(&header(-32, 4, 4, &extra), &data, true);
        let e = open_bytes(dir.path(), &format!("{name}.fits"), &bytes)
            .err()
            .unwrap_or_else(|| panic!("{name} accepted"));
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("{name}.fits")) && msg.contains(keyword),
            "{name}: {msg}"
        );
    }
    // Third axes: an unknown spectral kind, a second axis of length > 1 that is neither.
    for (ctype, keyword) in [
        ("'VELO-LSR'", "CTYPE3"),
        ("'RAWR'", "CTYPE3"),
        ("'VRAD'", "RESTFRQ"),
    ] {
        let mut cards = header(-32, 4, 4, &[("NAXIS", "3"), ("CTYPE3", ctype)]);
        cards.insert(5, card("NAXIS3", 2));
        let bytes = fits_bytes(&cards, &[0u8; 4 * 4 * 4 * 2], true);
        let msg = open_bytes(dir.path(), "ax.fits", &bytes)
            .err()
            .unwrap()
            .to_string();
        assert!(
            msg.contains(keyword) && msg.contains("ax.fits"),
            "{ctype}: {msg}"
        );
    }
    // Truncated data, and a huge NAXIS1 the file cannot hold: refused at open, before any
    // allocation by the claimed size.
    let bytes = fits_bytes(&header(-32, 4, 4, &[]), &data[..40], false);
    let msg = open_bytes(dir.path(), "short.fits", &bytes)
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("truncated") && msg.contains("short.fits"),
        "{msg}"
    );
    let bytes = fits_bytes(&header(-32, 2_000_000_000, 2_000_000_000, &[]), &data, true);
    let msg = open_bytes(dir.path(), "huge.fits", &bytes)
        .err()
        .unwrap()
        .to_string();
    assert!(msg.contains("NAXIS") && msg.contains("huge.fits"), "{msg}");
}

//! Integration tests of pclean-imageio: CASA image round trips, overwrite and error paths,
//! incomplete-product detection, FITS output, and the Python oracle `tests/python/test_imageio.py`
//! on the sample products (an `#[ignore = "oracle: ..."]` test that scripts/test.sh runs).

#[path = "../../pclean-ms/tests/support/mod.rs"]
mod support;
#[path = "../examples/write_sample.rs"]
mod write_sample;

use ndarray::Array2;
use pclean_core::{Beam, Direction, StokesParam};
use pclean_imageio::{
    export_casa_to_fits, is_incomplete, Beams, CasaImage, CasaImageWriter, FitsWriter, ImageCoords,
    ImageIoError, ImageMeta, MiscValue, SpectralAxis,
};
use std::path::Path;

fn arcsec(v: f64) -> f64 {
    (v / 3600.0).to_radians()
}

fn meta(nx: usize, ny: usize, stokes: Vec<StokesParam>, nchan: usize) -> ImageMeta {
    let mut m = ImageMeta::new(ImageCoords {
        nx,
        ny,
        reference: Direction::new_j2000(3.5, 0.3),
        crpix: [nx as f64 / 2.0, ny as f64 / 2.0],
        cdelt_rad: [-arcsec(0.5), arcsec(0.5)],
        projection: "SIN".into(),
        stokes,
        spectral: SpectralAxis {
            frame: "TOPO".into(),
            crval_hz: 1.4e9,
            cdelt_hz: -1.0e6,
            crpix: 2.0,
            restfreq_hz: 1.420405752e9,
            nchan,
            chan_freqs_hz: None,
        },
        telescope: "VLA".into(),
        observer: "TEST".into(),
        obsdate_mjd_utc_days: 49820.397916,
        telescope_position_itrf_m: Some([-1601185.365, -5041977.547, 3554875.87]),
    });
    m.object_name = "N5921".into();
    m.misc = vec![
        ("CHNCHNKS".into(), MiscValue::Int(3)),
        ("MEMREQ".into(), MiscValue::Float(0.25)),
        ("USEWEIGH".into(), MiscValue::Bool(true)),
        ("INSTRUME".into(), MiscValue::Str("VLA".into())),
    ];
    m
}

fn plane(nx: usize, ny: usize, c: usize, s: usize) -> Array2<f32> {
    Array2::from_shape_fn((ny, nx), |(y, x)| {
        (x + 100 * y) as f32 + 0.25 * c as f32 - 1000.0 * s as f32
    })
}

fn beam(c: usize, s: usize) -> Beam {
    Beam {
        major_rad: arcsec(50.0 + c as f64),
        minor_rad: arcsec(40.0 + 0.5 * s as f64),
        pa_rad: (-20.0 + c as f64).to_radians(),
    }
}

fn assert_close(a: f64, b: f64, what: &str) {
    // Beams pass through arcsec and degrees in the record: a few ulps of rounding.
    assert!(
        (a - b).abs() <= 1e-14 * a.abs().max(b.abs()),
        "{what}: {a} vs {b}"
    );
}

#[test]
fn casa_cube_round_trip_with_per_plane_beams() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rt.image");
    let (nx, ny, nc) = (37, 23, 4);
    let mut m = meta(
        nx,
        ny,
        vec![
            StokesParam::I,
            StokesParam::Q,
            StokesParam::U,
            StokesParam::V,
        ],
        nc,
    );
    m.beams = Beams::per_plane(nc, 4, beam);
    let mut w = CasaImageWriter::create(&path, &m, false).unwrap();
    for s in 0..4 {
        for c in (0..nc).rev() {
            // a non-contiguous view must work too
            let p = plane(nx, ny, c, s);
            let t = p.t().to_owned();
            w.put_plane(c, s, t.t()).unwrap();
        }
    }
    assert!(w.planes_written().iter().all(|&b| b));
    w.finish().unwrap();
    assert!(!is_incomplete(&path));

    let mut r = CasaImage::open(&path).unwrap();
    assert_eq!(r.shape(), [nx, ny, 4, nc]);
    for s in 0..4 {
        for c in 0..nc {
            assert_eq!(
                r.get_plane(c, s).unwrap(),
                plane(nx, ny, c, s),
                "plane c={c} s={s}"
            );
        }
    }
    let all = r.read_all().unwrap();
    assert_eq!(all.dim(), (nc, 4, ny, nx));
    assert_eq!(all[[2, 3, 5, 7]], plane(nx, ny, 2, 3)[[5, 7]]);

    let got = r.meta().clone();
    assert_eq!(got.coords.shape(), m.coords.shape());
    assert_eq!(got.coords.stokes, m.coords.stokes);
    assert_eq!(got.coords.spectral, m.coords.spectral);
    assert_eq!(got.coords.reference, m.coords.reference);
    assert_eq!(got.coords.crpix, m.coords.crpix);
    assert_eq!(got.coords.cdelt_rad, m.coords.cdelt_rad);
    assert_eq!(got.coords.telescope, "VLA");
    assert_eq!(got.coords.observer, "TEST");
    assert_eq!(
        got.coords.obsdate_mjd_utc_days,
        m.coords.obsdate_mjd_utc_days
    );
    let (p0, p1) = (
        got.coords.telescope_position_itrf_m.unwrap(),
        m.coords.telescope_position_itrf_m.unwrap(),
    );
    for i in 0..3 {
        assert!(
            (p0[i] - p1[i]).abs() < 1e-6,
            "telescope position {p0:?} vs {p1:?}"
        );
    }
    assert_eq!(got.units, "Jy/beam");
    assert_eq!(got.object_name, "N5921");
    assert_eq!(got.image_type, "Intensity");
    assert_eq!(got.misc, m.misc);
    match (&got.beams, &m.beams) {
        (
            Beams::PerPlane {
                nchan,
                nstokes,
                beams,
            },
            Beams::PerPlane { beams: want, .. },
        ) => {
            assert_eq!((*nchan, *nstokes), (nc, 4));
            for (b, w) in beams.iter().zip(want) {
                assert_close(b.major_rad, w.major_rad, "major");
                assert_close(b.minor_rad, w.minor_rad, "minor");
                assert_close(b.pa_rad, w.pa_rad, "pa");
            }
        }
        other => panic!("beams not read back: {other:?}"),
    }
}

#[test]
fn tabular_spectral_axis_round_trip() {
    // Channels in equal optical-velocity steps (1480 km/s + 10 km/s steps at the HI line): not
    // linear in frequency, so written as casacore's tabular coordinate and read back exactly.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tab.image");
    let (nu0, c) = (1.420405752e9, 299_792_458.0);
    let freqs: Vec<f64> = (0..5)
        .map(|k| nu0 / (1.0 + (1.48e6 + 1e4 * k as f64) / c))
        .collect();
    let mut m = meta(8, 6, vec![StokesParam::I], freqs.len());
    m.coords.spectral.crval_hz = freqs[0];
    m.coords.spectral.cdelt_hz = freqs[1] - freqs[0];
    m.coords.spectral.crpix = 0.0;
    m.coords.spectral.chan_freqs_hz = Some(freqs.clone());
    let mut w = CasaImageWriter::create(&path, &m, false).unwrap();
    for k in 0..freqs.len() {
        w.put_plane(k, 0, plane(8, 6, k, 0).view()).unwrap();
    }
    w.finish().unwrap();
    let got = CasaImage::open(&path)
        .unwrap()
        .meta()
        .coords
        .spectral
        .clone();
    assert_eq!(got.chan_freqs_hz.as_deref(), Some(&freqs[..]));
    assert_eq!(got, m.coords.spectral);
    // Between channels the axis is interpolated; the curvature is real (about 30 Hz here).
    let mid = got.freq_hz(1.5);
    assert_eq!(mid, 0.5 * (freqs[1] + freqs[2]));
    let linear = freqs[0] + 4.0 * (freqs[1] - freqs[0]);
    assert!((got.freq_hz(4.0) - linear).abs() > 10.0);
}

#[test]
fn pixel_mask_round_trip_resume_and_fits_export() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.image");
    let (nx, ny, nc) = (9, 7, 3);
    let m = meta(nx, ny, vec![StokesParam::I], nc);
    let valid = |c: usize| Array2::from_shape_fn((ny, nx), |(y, x)| !(x + y + c).is_multiple_of(3));
    let mut w = CasaImageWriter::create(&path, &m, false).unwrap();
    assert!(!w.has_pixel_mask());
    w.add_pixel_mask().unwrap();
    for c in 0..2 {
        w.put_plane(c, 0, plane(nx, ny, c, 0).view()).unwrap();
        w.put_mask_plane(c, 0, valid(c).view()).unwrap();
    }
    drop(w); // interrupted: channel 2 not written
             // Resuming keeps the mask and writes the rest of it.
    let mut w = CasaImageWriter::reopen(&path).unwrap();
    assert!(w.has_pixel_mask());
    w.put_plane(2, 0, plane(nx, ny, 2, 0).view()).unwrap();
    w.put_mask_plane(2, 0, valid(2).view()).unwrap();
    w.finish().unwrap();
    let mut r = CasaImage::open(&path).unwrap();
    for c in 0..nc {
        assert_eq!(
            r.get_mask_plane(c, 0).unwrap().unwrap(),
            valid(c),
            "chan {c}"
        );
        // Values under the mask are kept.
        assert_eq!(r.get_plane(c, 0).unwrap(), plane(nx, ny, c, 0));
    }
    // FITS export: NaN where masked, the values elsewhere.
    let fits_path = dir.path().join("m.fits");
    pclean_imageio::export_casa_to_fits(&path, &fits_path, false).unwrap();
    let mut f = fitsio::FitsFile::open(&fits_path).unwrap();
    let hdu = f.primary_hdu().unwrap();
    let data: Vec<f32> = hdu.read_image(&mut f).unwrap();
    for c in 0..nc {
        let want = plane(nx, ny, c, 0);
        for ((y, x), ok) in valid(c).indexed_iter() {
            let v = data[c * nx * ny + y * nx + x];
            if *ok {
                assert_eq!(v, want[[y, x]]);
            } else {
                assert!(v.is_nan(), "({y}, {x}) of chan {c}: {v}");
            }
        }
    }
    // An image without a mask reads none.
    let plain = dir.path().join("p.image");
    let mut w = CasaImageWriter::create(&plain, &m, false).unwrap();
    w.put_plane(0, 0, plane(nx, ny, 0, 0).view()).unwrap();
    w.finish().unwrap();
    assert!(CasaImage::open(&plain)
        .unwrap()
        .get_mask_plane(0, 0)
        .unwrap()
        .is_none());
}

#[test]
fn single_beam_set_after_create_and_unwritten_planes_are_zero() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mfs.image");
    let m = meta(16, 16, vec![StokesParam::I], 2);
    let mut w = CasaImageWriter::create(&path, &m, false).unwrap();
    w.put_plane(1, 0, plane(16, 16, 1, 0).view()).unwrap();
    w.set_beams(&Beams::Single(beam(0, 0))).unwrap();
    assert!(matches!(
        w.set_beams(&Beams::per_plane(3, 1, beam)),
        Err(ImageIoError::InvalidMeta { .. })
    ));
    w.finish().unwrap();
    let mut r = CasaImage::open(&path).unwrap();
    assert_eq!(r.get_plane(0, 0).unwrap(), Array2::<f32>::zeros((16, 16)));
    assert_eq!(r.get_plane(1, 0).unwrap(), plane(16, 16, 1, 0));
    assert!(matches!(r.meta().beams, Beams::Single(_)));
}

/// `miscinfo` replaced after the image is created (tclean's `.gridwt` keeps `f2`, `d2` as
/// `Vector<Float>`): a float32 array round-trips as one, beside scalars; a FITS product gets a
/// one-element array as a plain card.
#[test]
fn misc_set_after_create_with_a_float_array() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.gridwt");
    let m = meta(8, 8, vec![StokesParam::I], 1);
    let mut w = CasaImageWriter::create(&path, &m, false).unwrap();
    let misc = vec![
        ("d2".to_string(), MiscValue::FloatArray(vec![1.0])),
        (
            "f2".to_string(),
            MiscValue::FloatArray(vec![0.003_435_35, 2.5]),
        ),
        ("key0".to_string(), MiscValue::Str("0_0".into())),
        ("multimapsize".to_string(), MiscValue::Int(1)),
    ];
    w.set_misc(misc.clone()).unwrap();
    w.finish().unwrap();
    let r = CasaImage::open(&path).unwrap();
    assert_eq!(r.meta().misc, misc);
    let fits = dir.path().join("x.gridwt.fits");
    let mut f = FitsWriter::create(&fits, &m, false).unwrap();
    f.set_misc(vec![("d2".to_string(), MiscValue::FloatArray(vec![1.0]))])
        .unwrap();
    f.finish().unwrap();
    let text = String::from_utf8_lossy(&std::fs::read(&fits).unwrap()).to_string();
    assert!(
        text.contains("D2      =") && !text.contains("D21"),
        "no D2 card"
    );
}

#[test]
fn existing_image_is_never_replaced_without_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.image");
    let m = meta(8, 8, vec![StokesParam::I], 1);
    let mut w = CasaImageWriter::create(&path, &m, false).unwrap();
    w.put_plane(0, 0, plane(8, 8, 0, 0).view()).unwrap();
    w.finish().unwrap();

    let err = CasaImageWriter::create(&path, &m, false)
        .err()
        .expect("must refuse");
    assert!(
        matches!(&err, ImageIoError::AlreadyExists { path: p } if p == &path),
        "{err}"
    );
    // The original is intact.
    assert_eq!(
        CasaImage::open(&path).unwrap().get_plane(0, 0).unwrap(),
        plane(8, 8, 0, 0)
    );

    // With overwrite it is replaced by a fresh (zero) image.
    CasaImageWriter::create(&path, &m, true)
        .unwrap()
        .finish()
        .unwrap();
    assert_eq!(
        CasaImage::open(&path).unwrap().get_plane(0, 0).unwrap(),
        Array2::<f32>::zeros((8, 8))
    );

    // A directory that is not a CASA image is never deleted, even with overwrite.
    let other = dir.path().join("notanimage");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("precious.txt"), "x").unwrap();
    assert!(CasaImageWriter::create(&other, &m, true).is_err());
    assert!(other.join("precious.txt").exists());
}

/// Issue 20: `--overwrite` replaces pclean's products only: another kind of table (a
/// MeasurementSet named like a product) or a plain file is kept and the error says so.
#[test]
fn overwrite_never_deletes_what_is_not_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let m = meta(8, 8, vec![StokesParam::I], 1);
    let ms = dir.path().join("run.image");
    std::fs::create_dir(&ms).unwrap();
    std::fs::write(ms.join("table.dat"), "x").unwrap();
    std::fs::write(
        ms.join("table.info"),
        "Type = Measurement Set\nSubType = \n",
    )
    .unwrap();
    let err = CasaImageWriter::create(&ms, &m, true)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("not a CASA image"), "{err}");
    assert!(ms.join("table.dat").exists());
    let file = dir.path().join("run.psf");
    std::fs::write(&file, "notes").unwrap();
    let err = CasaImageWriter::create(&file, &m, true)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("not a pclean product"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "notes");
    // A directory of the user's (no table.info, other files) is kept.
    let user = dir.path().join("run.model");
    std::fs::create_dir(&user).unwrap();
    std::fs::write(user.join("notes.txt"), "mine").unwrap();
    let err = CasaImageWriter::create(&user, &m, true)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("not a CASA image"), "{err}");
    assert!(user.join("notes.txt").exists());
}

#[test]
fn overwrite_replaces_an_image_table_left_unfinished_by_a_killed_run() {
    // A run killed while casacore created the table leaves table.* files and no table.info yet:
    // the rerun (resume or --overwrite) replaces it rather than refusing its own product.
    let dir = tempfile::tempdir().unwrap();
    let m = meta(8, 8, vec![StokesParam::I], 1);
    let part = dir.path().join("k.psf.tt1");
    std::fs::create_dir(&part).unwrap();
    std::fs::write(part.join("table.dat"), "x").unwrap();
    std::fs::write(part.join("table.f0"), "x").unwrap();
    std::fs::create_dir(part.join("logtable")).unwrap();
    CasaImageWriter::create(&part, &m, true).expect("an unfinished table is replaced");
    assert!(std::fs::read_to_string(part.join("table.info"))
        .unwrap()
        .starts_with("Type = Image"));
}

#[test]
fn unwritable_location_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing_dir").join("x.image");
    let m = meta(8, 8, vec![StokesParam::I], 1);
    let err = CasaImageWriter::create(&path, &m, false)
        .err()
        .expect("must fail");
    assert!(
        matches!(&err, ImageIoError::Unwritable { path: p, .. } if p == &path),
        "{err}"
    );
    assert!(err.to_string().contains("missing_dir"), "{err}");
    let fits = dir.path().join("missing_dir").join("x.fits");
    let err = FitsWriter::create(&fits, &m, false)
        .err()
        .expect("must fail");
    assert!(matches!(&err, ImageIoError::Unwritable { .. }), "{err}");
}

#[test]
fn bad_planes_and_metadata_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let m = meta(8, 6, vec![StokesParam::I], 2);
    let mut w = CasaImageWriter::create(dir.path().join("a.image"), &m, false).unwrap();
    let wrong = Array2::<f32>::zeros((8, 6)); // transposed
    assert!(matches!(
        w.put_plane(0, 0, wrong.view()),
        Err(ImageIoError::PlaneOutOfRange { .. })
    ));
    let ok = Array2::<f32>::zeros((6, 8));
    assert!(matches!(
        w.put_plane(2, 0, ok.view()),
        Err(ImageIoError::PlaneOutOfRange { .. })
    ));
    assert!(matches!(
        w.put_plane(0, 1, ok.view()),
        Err(ImageIoError::PlaneOutOfRange { .. })
    ));
    w.finish().unwrap();

    let mut bad = m.clone();
    bad.coords.spectral.frame = "LSR".into();
    assert!(matches!(
        CasaImageWriter::create(dir.path().join("b.image"), &bad, false),
        Err(ImageIoError::InvalidMeta { .. })
    ));
    assert!(
        !dir.path().join("b.image").exists(),
        "nothing created for invalid metadata"
    );
    let mut bad = m.clone();
    bad.beams = Beams::per_plane(3, 1, beam);
    assert!(CasaImageWriter::create(dir.path().join("c.image"), &bad, false).is_err());
    assert!(matches!(
        CasaImage::open(dir.path().join("nothing.image")),
        Err(ImageIoError::NotAnImage { .. })
    ));
}

#[test]
fn dropped_writer_leaves_a_detectable_incomplete_image_that_can_be_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("partial.image");
    let m = meta(8, 8, vec![StokesParam::I], 3);
    {
        let mut w = CasaImageWriter::create(&path, &m, false).unwrap();
        w.put_plane(0, 0, plane(8, 8, 0, 0).view()).unwrap();
        // dropped without finish()
    }
    assert!(is_incomplete(&path));
    assert!(matches!(
        CasaImage::open(&path),
        Err(ImageIoError::Incomplete { .. })
    ));
    let mut r = CasaImage::open_incomplete(&path).unwrap();
    assert_eq!(r.get_plane(0, 0).unwrap(), plane(8, 8, 0, 0));
    drop(r);
    assert!(matches!(
        export_casa_to_fits(&path, dir.path().join("p.fits"), false),
        Err(ImageIoError::Incomplete { .. })
    ));

    let mut w = CasaImageWriter::reopen(&path).unwrap();
    for c in 1..3 {
        w.put_plane(c, 0, plane(8, 8, c, 0).view()).unwrap();
    }
    w.finish().unwrap();
    assert!(!is_incomplete(&path));
    let mut r = CasaImage::open(&path).unwrap();
    for c in 0..3 {
        assert_eq!(r.get_plane(c, 0).unwrap(), plane(8, 8, c, 0));
    }
}

#[test]
fn one_writer_per_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.image");
    let m = meta(8, 8, vec![StokesParam::I], 1);
    let w = CasaImageWriter::create(&path, &m, false).unwrap();
    assert!(
        CasaImageWriter::reopen(&path).is_err(),
        "second writer on the same path"
    );
    w.finish().unwrap();
    CasaImageWriter::reopen(&path).unwrap().finish().unwrap();
}

#[test]
fn writers_on_different_images_run_in_parallel_threads() {
    let dir = tempfile::tempdir().unwrap();
    let handles: Vec<_> = (0..3)
        .map(|i| {
            let path = dir.path().join(format!("t{i}.image"));
            std::thread::spawn(move || {
                let m = meta(32, 32, vec![StokesParam::I], 4);
                let mut w = CasaImageWriter::create(&path, &m, false).unwrap();
                for c in 0..4 {
                    w.put_plane(c, 0, plane(32, 32, c + i, 0).view()).unwrap();
                }
                w.finish().unwrap();
                path
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let path = h.join().unwrap();
        let mut r = CasaImage::open(&path).unwrap();
        assert_eq!(r.get_plane(3, 0).unwrap(), plane(32, 32, 3 + i, 0));
    }
}

#[test]
fn fits_overwrite_protection_and_no_partial_file_at_final_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.fits");
    let mut m = meta(8, 4, vec![StokesParam::I, StokesParam::V], 2);
    m.beams = Beams::per_plane(2, 2, beam);
    {
        let mut w = FitsWriter::create(&path, &m, false).unwrap();
        w.put_plane(0, 0, plane(8, 4, 0, 0).view()).unwrap();
        // dropped: nothing appears at the final path
    }
    assert!(!path.exists());
    let mut w = FitsWriter::create(&path, &m, false).unwrap();
    for s in 0..2 {
        for c in 0..2 {
            w.put_plane(c, s, plane(8, 4, c, s).view()).unwrap();
        }
    }
    w.finish().unwrap();
    assert!(path.exists());
    let before = std::fs::read(&path).unwrap();
    assert!(matches!(
        FitsWriter::create(&path, &m, false),
        Err(ImageIoError::AlreadyExists { .. })
    ));
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // Read back with the fitsio crate: data order [stokes][freq][y][x] and the BEAMS table.
    let mut f = fitsio::FitsFile::open(&path).unwrap();
    let hdu = f.primary_hdu().unwrap();
    let data: Vec<f32> = hdu.read_image(&mut f).unwrap();
    let p = plane(8, 4, 1, 1);
    let off = (2 + 1) * 32; // stokes 1, chan 1
    assert_eq!(&data[off..off + 32], p.as_slice().unwrap());
    let casambm: bool = hdu.read_key(&mut f, "CASAMBM").unwrap();
    assert!(casambm);
    let beams = f.hdu("BEAMS").unwrap();
    let bmaj: Vec<f32> = beams.read_col(&mut f, "BMAJ").unwrap();
    let pol: Vec<i32> = beams.read_col(&mut f, "POL").unwrap();
    assert_eq!(pol, vec![0, 0, 1, 1]);
    assert!((bmaj[1] - 51.0).abs() < 1e-4);
    let nchan: i64 = beams.read_key(&mut f, "NCHAN").unwrap();
    assert_eq!(nchan, 2);
}

/// python-casacore and astropy read the sample products correctly (tests/python/test_imageio.py).
#[test]
#[ignore = "oracle: needs python-casacore and astropy (PCLEAN_PYTHON); scripts/test.sh runs it"]
fn python_casacore_and_astropy_oracle() {
    let py = support::require_python("casacore.images, astropy.wcs, numpy");
    let dir = tempfile::tempdir().unwrap();
    write_sample::write_samples(dir.path()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/test_imageio.py");
    let out = std::process::Command::new(py)
        .arg(&script)
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "oracle failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A FITS file given where a CASA image is read (`mask`, `startmodel`) is named as a FITS file
/// with the conversion to use; and an unfinished FITS product whose header describes another
/// shape than the run's is refused on resume instead of being read at the wrong offsets.
#[test]
fn fits_given_as_casa_image_and_mismatched_partial_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.fits");
    let m = meta(8, 4, vec![StokesParam::I], 2);
    let mut w = FitsWriter::create(&path, &m, false).unwrap();
    for c in 0..2 {
        w.put_plane(c, 0, plane(8, 4, c, 0).view()).unwrap();
    }
    w.finish().unwrap();
    let e = CasaImage::open(&path)
        .err()
        .expect("a FITS file is not a CASA image");
    let msg = e.to_string();
    assert!(
        msg.contains("FITS file") && msg.contains("importfits"),
        "{msg}"
    );

    let target = dir.path().join("r.fits");
    {
        let mut w = FitsWriter::create(&target, &m, false).unwrap();
        w.put_plane(0, 0, plane(8, 4, 0, 0).view()).unwrap();
        w.flush().unwrap();
    }
    // The same image resumes; one with 3 channels does not.
    FitsWriter::reopen(&target, &m, false).unwrap();
    let other = meta(8, 4, vec![StokesParam::I], 3);
    let e = FitsWriter::reopen(&target, &other, false)
        .err()
        .expect("shape mismatch refused");
    let msg = e.to_string();
    assert!(
        msg.contains("[8, 4, 2, 1]") && msg.contains("[8, 4, 3, 1]"),
        "{msg}"
    );
}

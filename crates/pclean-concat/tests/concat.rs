//! Integration tests of pclean-concat on small synthetic cubes: paged output equals the cube it was
//! cut from (pixels, beams, spectral axis), the virtual formats on disk, sub-cube runs, and the
//! errors for bad inputs and outputs. python-casacore opens the virtual outputs in
//! `tests/python/test_concat_storage.py`.

use ndarray::Array2;
use pclean_concat::{
    concat_images, concat_subcubes, subcube_path, ConcatError, ConcatMode, SubcubeOptions,
    IMAGECONCAT_JSON,
};
use pclean_core::{Beam, Direction, StokesParam};
use pclean_imageio::{Beams, CasaImage, CasaImageWriter, ImageCoords, ImageMeta, SpectralAxis};
use std::path::{Path, PathBuf};

const NX: usize = 12;
const NY: usize = 9;

fn arcsec(v: f64) -> f64 {
    (v / 3600.0).to_radians()
}

/// Metadata of channels `first..first + nchan` of a 10-channel parent cube.
fn meta(first: usize, nchan: usize) -> ImageMeta {
    let mut m = ImageMeta::new(ImageCoords {
        nx: NX,
        ny: NY,
        reference: Direction::new_j2000(3.5, 0.3),
        crpix: [6.0, 4.0],
        cdelt_rad: [-arcsec(2.0), arcsec(2.0)],
        projection: "SIN".into(),
        stokes: vec![StokesParam::I, StokesParam::V],
        spectral: SpectralAxis {
            frame: "LSRK".into(),
            crval_hz: 1.4e9 + first as f64 * 2.5e4,
            cdelt_hz: 2.5e4,
            crpix: 0.0,
            restfreq_hz: 1.420405752e9,
            nchan,
            chan_freqs_hz: None,
        },
        telescope: "VLA".into(),
        observer: "TEST".into(),
        obsdate_mjd_utc_days: 49820.4,
        telescope_position_itrf_m: None,
    });
    m.beams = Beams::per_plane(nchan, 2, |c, s| beam(first + c, s));
    m
}

fn beam(c: usize, s: usize) -> Beam {
    Beam {
        major_rad: arcsec(50.0 + c as f64),
        minor_rad: arcsec(40.0 + s as f64),
        pa_rad: (10.0 + c as f64).to_radians(),
    }
}

fn plane(c: usize, s: usize) -> Array2<f32> {
    Array2::from_shape_fn((NY, NX), |(y, x)| {
        (x + 100 * y) as f32 + 1000.0 * c as f32 - 0.5 * s as f32
    })
}

/// Write channels `first..first + nchan` of the parent cube to `path`.
fn write_cube(path: &Path, first: usize, nchan: usize, edit: impl FnOnce(&mut ImageMeta)) {
    let mut m = meta(first, nchan);
    edit(&mut m);
    let mut w = CasaImageWriter::create(path, &m, false).unwrap();
    for s in 0..2 {
        for c in 0..nchan {
            w.put_plane(c, s, plane(first + c, s).view()).unwrap();
        }
    }
    w.finish().unwrap();
}

/// Parts of 3 + 4 + 3 channels in `dir`, named `<stem>.part<i>.<ext>`.
fn write_parts(dir: &Path, stem: &str, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (i, (first, n)) in [(0, 3), (3, 4), (7, 3)].into_iter().enumerate() {
        let p = dir.join(format!("{stem}.part{i}.{ext}"));
        write_cube(&p, first, n, |_| {});
        out.push(p);
    }
    out
}

fn assert_is_parent_cube(path: &Path) {
    let mut img = CasaImage::open(path).unwrap();
    assert_eq!(img.shape(), [NX, NY, 2, 10]);
    let full = meta(0, 10);
    assert_eq!(img.meta().coords, full.coords);
    let Beams::PerPlane { nchan, beams, .. } = img.meta().beams.clone() else {
        panic!("per-plane beams expected, got {:?}", img.meta().beams);
    };
    assert_eq!(nchan, 10);
    for s in 0..2 {
        for c in 0..10 {
            let b = beams[c + 10 * s];
            // Beams pass through arcsec/deg in the records: a few ulps of rounding.
            assert!((b.major_rad - beam(c, s).major_rad).abs() < 1e-15);
            assert!((b.pa_rad - beam(c, s).pa_rad).abs() < 1e-14);
            assert_eq!(img.get_plane(c, s).unwrap(), plane(c, s), "plane {c} {s}");
        }
    }
}

#[test]
fn paged_concat_equals_parent_cube() {
    let dir = tempfile::tempdir().unwrap();
    let parts = write_parts(dir.path(), "cube", "image");
    let out = dir.path().join("cube.image");
    let rep = concat_images(&out, &parts, -1, false, false, ConcatMode::Paged).unwrap();
    assert_eq!(rep.shape, [NX, NY, 2, 10]);
    assert_eq!(rep.nchan_per_input, vec![3, 4, 3]);
    assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
    assert_is_parent_cube(&out);
    // Existing output: refused without overwrite, replaced with it.
    let e = concat_images(&out, &parts, -1, true, false, ConcatMode::Paged).unwrap_err();
    assert!(matches!(e, ConcatError::OutputExists { .. }), "{e}");
    concat_images(&out, &parts, 3, true, true, ConcatMode::Paged).unwrap();
    assert_is_parent_cube(&out);
}

#[test]
fn paged_concat_carries_pixel_masks() {
    // Parts 0 and 2 with a pixel mask (as pclean writes beyond pblimit), part 1 without one: the
    // output has a mask, the parts' masks where they had one and all valid elsewhere.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let valid =
        |c: usize, s: usize| Array2::from_shape_fn((NY, NX), |(y, x)| (x * y + c + s) % 4 != 1);
    let mut parts = Vec::new();
    for (i, (first, n)) in [(0, 3), (3, 4), (7, 3)].into_iter().enumerate() {
        let p = d.join(format!("m.part{i}.image"));
        let mut w = CasaImageWriter::create(&p, &meta(first, n), false).unwrap();
        if i != 1 {
            w.add_pixel_mask().unwrap();
        }
        for s in 0..2 {
            for c in 0..n {
                w.put_plane(c, s, plane(first + c, s).view()).unwrap();
                if i != 1 {
                    w.put_mask_plane(c, s, valid(first + c, s).view()).unwrap();
                }
            }
        }
        w.finish().unwrap();
        parts.push(p);
    }
    let out = d.join("m.image");
    concat_images(&out, &parts, -1, false, false, ConcatMode::Paged).unwrap();
    assert_is_parent_cube(&out);
    let mut img = CasaImage::open(&out).unwrap();
    for s in 0..2 {
        for c in 0..10 {
            let want = if (3..7).contains(&c) {
                Array2::from_elem((NY, NX), true)
            } else {
                valid(c, s)
            };
            assert_eq!(img.get_mask_plane(c, s).unwrap().unwrap(), want, "{c} {s}");
        }
    }
}

#[test]
fn nomovevirtual_names_inputs_relative_to_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let parts = write_parts(dir.path(), "cube", "image");
    let out = dir.path().join("virt.image");
    let rep = concat_images(&out, &parts, -1, true, false, ConcatMode::NoMoveVirtual).unwrap();
    assert_eq!(rep.shape, [NX, NY, 2, 10]);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(IMAGECONCAT_JSON)).unwrap())
            .unwrap();
    assert_eq!(doc["Axis"], 3);
    assert_eq!(
        doc["Images"],
        serde_json::json!([
            "./cube.part0.image",
            "./cube.part1.image",
            "./cube.part2.image"
        ])
    );
    assert!(parts.iter().all(|p| p.join("table.dat").exists()));
    // A virtual output is replaced by a paged one with overwrite.
    concat_images(&out, &parts, -1, true, true, ConcatMode::Paged).unwrap();
    assert!(!out.join(IMAGECONCAT_JSON).exists());
    assert_is_parent_cube(&out);
}

#[test]
fn movevirtual_moves_inputs_inside() {
    let dir = tempfile::tempdir().unwrap();
    let parts = write_parts(dir.path(), "cube", "image");
    let out = dir.path().join("moved.image");
    let rep = concat_images(&out, &parts, -1, true, false, ConcatMode::MoveVirtual).unwrap();
    assert!(parts.iter().all(|p| !p.exists()));
    for (m, p) in rep.members.iter().zip(&parts) {
        assert_eq!(m.file_name(), p.file_name());
        assert!(m.join("table.dat").exists());
    }
    let text = std::fs::read_to_string(out.join(IMAGECONCAT_JSON)).unwrap();
    assert!(text.contains("\"././cube.part0.image\""), "{text}");
}

#[test]
fn subcubes_of_several_extensions_in_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let exts = ["image", "psf", "residual", "image.pbcor"];
    for e in exts {
        write_parts(dir.path(), "run", e);
    }
    let base = dir.path().join("run").to_str().unwrap().to_string();
    let rep = concat_subcubes(&base, 3, &SubcubeOptions::default()).unwrap();
    let got: Vec<&str> = rep.extensions.iter().map(|e| e.ext.as_str()).collect();
    assert_eq!(got, vec!["image", "residual", "psf", "image.pbcor"]);
    assert_eq!(rep.workers, 4);
    assert!(rep.max_concurrent >= 1 && rep.max_concurrent <= 4);
    for e in exts {
        assert_is_parent_cube(&PathBuf::from(format!("{base}.{e}")));
    }
    // An explicit extension whose part is missing is named before any work starts.
    std::fs::remove_dir_all(subcube_path(&base, 2, "psf")).unwrap();
    let opts = SubcubeOptions {
        extensions: Some(vec!["image".into(), "psf".into()]),
        ..SubcubeOptions::default()
    };
    let e = concat_subcubes(&base, 3, &opts).unwrap_err();
    assert!(
        matches!(&e, ConcatError::MissingPart { ext, part: 2, .. } if ext == "psf"),
        "{e}"
    );
}

#[test]
fn errors_name_the_input_and_the_difference() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let parts = write_parts(d, "cube", "image");
    let out = d.join("out.image");
    let concat = |inputs: &[PathBuf], relax| {
        concat_images(&out, inputs, -1, relax, true, ConcatMode::Paged).unwrap_err()
    };
    // Missing input.
    let e = concat(&[parts[0].clone(), d.join("nope.image")], true);
    assert!(
        matches!(e, ConcatError::InputMissing { index: 2, .. }),
        "{e}"
    );
    // Wrong order: not contiguous.
    let e = concat(&[parts[0].clone(), parts[2].clone()], true);
    assert!(
        matches!(
            e,
            ConcatError::NotContiguous {
                index: 2,
                chan: 0,
                ..
            }
        ),
        "{e}"
    );
    // A tabular spectral axis (channels in equal optical-velocity steps) has no linear axis to
    // continue: refused, naming the reason.
    let tab = d.join("tab.image");
    write_cube(&tab, 3, 4, |m| {
        let s = &m.coords.spectral;
        let f: Vec<f64> = (0..4)
            .map(|k| s.freq_hz(k as f64) + 10.0 * (k * k) as f64)
            .collect();
        m.coords.spectral.chan_freqs_hz = Some(f);
    });
    let e = concat(&[parts[0].clone(), tab], true);
    assert!(e.to_string().contains("tabular"), "{e}");
    // Different image size.
    let small = d.join("small.image");
    let mut m = meta(3, 4);
    m.coords.ny = 4;
    let mut w = CasaImageWriter::create(&small, &m, false).unwrap();
    w.put_plane(0, 0, Array2::zeros((4, NX)).view()).unwrap();
    w.finish().unwrap();
    let e = concat(&[parts[0].clone(), small], true);
    assert!(e.to_string().contains("ny is 4 but input 1 has 9"), "{e}");
    // A phase centre 0.001 pixel away: strict refuses, relax warns; 0.5 pixel: always refused.
    let shifted = |name: &str, px: f64| {
        let p = d.join(name);
        write_cube(&p, 3, 4, |m| m.coords.reference.dec_rad += px * arcsec(2.0));
        p
    };
    let near = shifted("near.image", 1e-3);
    let e = concat(&[parts[0].clone(), near.clone()], false);
    assert!(e.to_string().contains("reference direction"), "{e}");
    let rep = concat_images(
        &out,
        &[parts[0].clone(), near],
        -1,
        true,
        true,
        ConcatMode::Paged,
    )
    .unwrap();
    assert_eq!(rep.warnings.len(), 1, "{:?}", rep.warnings);
    let far = shifted("far.image", 0.5);
    let e = concat(&[parts[0].clone(), far], true);
    assert!(e.to_string().contains("at most 0.01 pixel"), "{e}");
    // Beams on one input only: strict refuses, relax drops the beams.
    let nobeam = d.join("nobeam.image");
    write_cube(&nobeam, 3, 4, |m| m.beams = Beams::None);
    let e = concat(&[parts[0].clone(), nobeam.clone()], false);
    assert!(e.to_string().contains("has none"), "{e}");
    concat_images(
        &out,
        &[parts[0].clone(), nobeam],
        -1,
        true,
        true,
        ConcatMode::Paged,
    )
    .unwrap();
    assert_eq!(CasaImage::open(&out).unwrap().meta().beams, Beams::None);
    // Other axes, a single input, an output that is an input.
    let e = concat_images(&out, &parts, 2, true, true, ConcatMode::Paged).unwrap_err();
    assert!(matches!(e, ConcatError::BadAxis { axis: 2 }), "{e}");
    let e = concat(&parts[..1], true);
    assert!(matches!(e, ConcatError::TooFewInputs { n: 1 }), "{e}");
    let e = concat_images(&parts[1], &parts, -1, true, true, ConcatMode::Paged).unwrap_err();
    assert!(matches!(e, ConcatError::BadOutput { .. }), "{e}");
    // movevirtual refuses two inputs with one name.
    let other = d.join("sub");
    std::fs::create_dir(&other).unwrap();
    let twin = other.join("cube.part0.image");
    write_cube(&twin, 3, 4, |_| {});
    let e = concat_images(
        &out,
        &[parts[0].clone(), twin],
        -1,
        true,
        true,
        ConcatMode::MoveVirtual,
    )
    .unwrap_err();
    assert!(matches!(e, ConcatError::DuplicateName { .. }), "{e}");
    assert!(parts[0].exists(), "nothing moved");
}

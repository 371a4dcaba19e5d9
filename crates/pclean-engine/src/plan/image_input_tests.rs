//! Input images on the run's grid: regridding, channel and Stokes matching, unit checks.

use super::*;
use pclean_core::params::RawParams;
use pclean_core::StokesParam;
use pclean_imageio::{CasaImageWriter, ImageMeta, SpectralAxis};

const ARCSEC: f64 = std::f64::consts::PI / 180.0 / 3600.0;

/// A 32x32 run at 2" cells centred on (RA 3.5 rad, Dec 0.3 rad), Stokes `stokes`.
fn params(stokes: &str) -> ImagingParams {
    let raw = RawParams {
        vis: Some(vec!["x.ms".into()]),
        imagename: Some("o".into()),
        imsize: Some(vec![32]),
        cell: Some(vec!["2arcsec".into()]),
        stokes: Some(stokes.into()),
        ..Default::default()
    };
    ImagingParams::from_raw(&raw).unwrap()
}

fn centre() -> Direction {
    Direction::new_j2000(3.5, 0.3)
}

/// Image channels 1.400, 1.401, ... GHz (LSRK).
fn freqs(n: usize) -> Vec<f64> {
    (0..n).map(|k| 1.4e9 + k as f64 * 1e6).collect()
}

struct Input {
    n: usize,
    crpix: [f64; 2],
    cell_arcsec: f64,
    stokes: Vec<StokesParam>,
    chan0_hz: f64,
    nchan: usize,
    units: &'static str,
}

/// Write a CASA image with `value(x, y, chan, stokes)` and return its path.
fn write(
    dir: &Path,
    name: &str,
    i: &Input,
    value: impl Fn(usize, usize, usize, usize) -> f32,
) -> String {
    let mut m = ImageMeta::new(ImageCoords {
        nx: i.n,
        ny: i.n,
        reference: centre(),
        crpix: i.crpix,
        cdelt_rad: [-i.cell_arcsec * ARCSEC, i.cell_arcsec * ARCSEC],
        projection: "SIN".into(),
        stokes: i.stokes.clone(),
        spectral: SpectralAxis {
            frame: "LSRK".into(),
            crval_hz: i.chan0_hz,
            cdelt_hz: 1e6,
            crpix: 0.0,
            restfreq_hz: 0.0,
            nchan: i.nchan,
            chan_freqs_hz: None,
        },
        telescope: "VLA".into(),
        observer: "T".into(),
        obsdate_mjd_utc_days: 60000.0,
        telescope_position_itrf_m: None,
    });
    m.units = i.units.into();
    let path = dir.join(name);
    let mut w = CasaImageWriter::create(&path, &m, true).unwrap();
    for c in 0..i.nchan {
        for s in 0..i.stokes.len() {
            let plane = Array2::from_shape_fn((i.n, i.n), |(y, x)| value(x, y, c, s));
            w.put_plane(c, s, plane.view()).unwrap();
        }
    }
    w.finish().unwrap();
    path.display().to_string()
}

fn same_grid_input(
    stokes: Vec<StokesParam>,
    nchan: usize,
    chan0_hz: f64,
    units: &'static str,
) -> Input {
    Input {
        n: 32,
        crpix: [16.0, 16.0],
        cell_arcsec: 2.0,
        stokes,
        chan0_hz,
        nchan,
        units,
    }
}

/// Defect: a start model on another grid was refused (shape check) instead of regridded as
/// tclean does (`regridToModelImage`, bilinear). A model linear in the pixel offsets of a coarser,
/// shifted grid must come out linear on the image's pixels.
#[test]
fn startmodel_regridded_to_image_grid() {
    let dir = tempfile::tempdir().unwrap();
    let input = Input {
        n: 24,
        crpix: [10.3, 13.6],
        cell_arcsec: 3.0,
        stokes: vec![StokesParam::I],
        chan0_hz: 1.4e9,
        nchan: 1,
        units: "Jy/pixel",
    };
    // value = 1 + 0.01 * (x - 10.3) + 0.02 * (y - 13.6) on the input's pixels.
    let path = write(dir.path(), "m.im", &input, |x, y, _, _| {
        1.0 + 0.01 * (x as f32 - 10.3) + 0.02 * (y as f32 - 13.6)
    });
    let p = params("I");
    let img = InputImage::open(&p, &centre(), &freqs(3), "LSRK", &path, InputKind::Model).unwrap();
    let planes = img.read_block(1..3, (32, 32)).unwrap();
    assert_eq!(planes.len(), 2);
    // Output pixel (x, y) lies at input pixel (10.3 + (x - 16) 2/3, 13.6 + (y - 16) 2/3) (the
    // same tangent point; SIN's distortion over 50" is < 1e-7 of a pixel): the input value there.
    // Bilinear interpolation reproduces a linear function to rounding (1e-5); Jy/pixel values are
    // scaled by the pixel-area ratio (2/3)^2, as tclean's regridded model.
    for y in 0..32 {
        for x in 0..32 {
            let (u, v) = (
                10.3 + (x as f64 - 16.0) * 2.0 / 3.0,
                13.6 + (y as f64 - 16.0) * 2.0 / 3.0,
            );
            let inside = (0.0..=23.0).contains(&u) && (0.0..=23.0).contains(&v);
            let want = if inside {
                (1.0 + 0.01 * (u - 10.3) + 0.02 * (v - 13.6)) * 4.0 / 9.0
            } else {
                0.0
            };
            let got = planes[1][[y, x]] as f64;
            assert!((got - want).abs() < 1e-5, "({x}, {y}): {got} vs {want}");
        }
    }
}

/// Defect: a mask whose channel count was neither 1 nor the cube's panicked (index out of
/// bounds). Channels are now matched by frequency: image channels outside the mask's are empty.
#[test]
fn mask_channels_matched_by_frequency_not_index() {
    let dir = tempfile::tempdir().unwrap();
    // 3 mask channels at 1.402, 1.403, 1.404 GHz; channel c masks the pixels x < 10 * (c + 1).
    let input = same_grid_input(vec![StokesParam::I], 3, 1.402e9, "");
    let path = write(dir.path(), "mask.im", &input, |x, _, c, _| {
        f32::from(x < 10 * (c + 1))
    });
    let p = params("I");
    let img = InputImage::open(&p, &centre(), &freqs(5), "LSRK", &path, InputKind::Mask).unwrap();
    let planes = img.read_block(0..5, (32, 32)).unwrap();
    let count = |m: &Array2<f32>| m.iter().filter(|v| **v > 0.0).count();
    let got: Vec<usize> = planes.iter().map(count).collect();
    // Image channels 0, 1 (1.400, 1.401 GHz) are below the mask's range: empty.
    assert_eq!(got, vec![0, 0, 10 * 32, 20 * 32, 30 * 32]);
}

/// Defect: a mask with the image's Stokes planes in another order gave plane `s` of the mask to
/// plane `s` of the image. Planes are matched by name.
#[test]
fn mask_stokes_matched_by_name() {
    let dir = tempfile::tempdir().unwrap();
    // Mask planes V (x < 5) and I (x < 20); the image is IV.
    let input = same_grid_input(vec![StokesParam::V, StokesParam::I], 1, 1.4e9, "");
    let path = write(dir.path(), "mask.im", &input, |x, _, _, s| {
        f32::from(x < if s == 0 { 5 } else { 20 })
    });
    let p = params("IV");
    let img = InputImage::open(&p, &centre(), &freqs(1), "LSRK", &path, InputKind::Mask).unwrap();
    let planes = img.read_block(0..1, (32, 32)).unwrap();
    let count = |m: &Array2<f32>| m.iter().filter(|v| **v > 0.0).count();
    assert_eq!(
        count(&planes[0]),
        20 * 32,
        "Stokes I gets the mask's I plane"
    );
    assert_eq!(
        count(&planes[1]),
        5 * 32,
        "Stokes V gets the mask's V plane"
    );
    // A mask without the image's planes is refused, naming both.
    let q = params("IQUV");
    let e = InputImage::open(&q, &centre(), &freqs(1), "LSRK", &path, InputKind::Mask)
        .unwrap_err()
        .to_string();
    assert!(e.contains("VI") && e.contains("IQUV"), "{e}");
}

/// Defect: units were never checked: a start model must be Jy/pixel, a mask has no unit.
#[test]
fn startmodel_and_mask_units_checked() {
    let dir = tempfile::tempdir().unwrap();
    let p = params("I");
    let jyb = same_grid_input(vec![StokesParam::I], 1, 1.4e9, "Jy/beam");
    let path = write(dir.path(), "jyb.im", &jyb, |_, _, _, _| 1.0);
    for kind in [InputKind::Model, InputKind::Mask] {
        let e = InputImage::open(&p, &centre(), &freqs(1), "LSRK", &path, kind)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Jy/beam"), "{e}");
    }
    // A mask's channels in another spectral frame, and channels not overlapping the image's.
    let far = same_grid_input(vec![StokesParam::I], 2, 2.0e9, "");
    let path = write(dir.path(), "far.im", &far, |_, _, _, _| 1.0);
    let e = InputImage::open(&p, &centre(), &freqs(3), "LSRK", &path, InputKind::Mask)
        .unwrap_err()
        .to_string();
    assert!(e.contains("do not overlap"), "{e}");
    let e = InputImage::open(&p, &centre(), &freqs(3), "TOPO", &path, InputKind::Mask)
        .unwrap_err()
        .to_string();
    assert!(e.contains("LSRK") && e.contains("TOPO"), "{e}");
}

/// An input on the image's own grid is copied exactly (no interpolation).
#[test]
fn input_on_the_image_grid_is_copied() {
    let dir = tempfile::tempdir().unwrap();
    let input = same_grid_input(vec![StokesParam::I], 1, 1.4e9, "Jy/pixel");
    let path = write(dir.path(), "m.im", &input, |x, y, _, _| {
        (x * 100 + y) as f32
    });
    let p = params("I");
    let img = InputImage::open(&p, &centre(), &freqs(1), "LSRK", &path, InputKind::Model).unwrap();
    assert!(img.regrid.is_none());
    let plane = &img.read_block(0..1, (32, 32)).unwrap()[0];
    assert_eq!(plane[[7, 9]], 907.0);
}

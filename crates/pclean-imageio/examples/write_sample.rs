//! Write sample CASA images and FITS files for the Python oracle test (`tests/python/test_imageio.py`).
//!
//! Usage: `cargo run --release -p pclean-imageio --example write_sample -- <out_dir>`
//!
//! Writes `cube.image` + `cube.fits` (64 x 32 pixels, Stokes I and V, 3 LSRK channels, per-plane
//! beams) and `mfs.image` + `mfs.fits` (single channel, Stokes I, one beam), plus `expected.json`
//! describing what a reader must find. Pixel (x, y, stokes s, chan c) holds
//! `x + 64 y + 2048 s + 4096 c` (exact in f32), so any axis mix-up shows.

use ndarray::Array2;
use pclean_core::{Beam, Direction, StokesParam};
use pclean_imageio::{
    export_casa_to_fits, Beams, CasaImageWriter, ImageCoords, ImageMeta, MiscValue, SpectralAxis,
};
use serde_json::json;
use std::path::PathBuf;

fn arcsec(v: f64) -> f64 {
    (v / 3600.0).to_radians()
}

fn pixel(x: usize, y: usize, s: usize, c: usize) -> f32 {
    (x + 64 * y + 2048 * s + 4096 * c) as f32
}

fn coords(stokes: Vec<StokesParam>, nchan: usize, cdelt_hz: f64) -> ImageCoords {
    ImageCoords {
        nx: 64,
        ny: 32,
        reference: Direction::new_j2000(240f64.to_radians(), (-30f64).to_radians()),
        crpix: [32.0, 16.0],
        cdelt_rad: [-arcsec(0.1), arcsec(0.1)],
        projection: "SIN".into(),
        stokes,
        spectral: SpectralAxis {
            frame: "LSRK".into(),
            crval_hz: 229.9965e9,
            cdelt_hz,
            crpix: 0.0,
            restfreq_hz: 230e9,
            nchan,
            chan_freqs_hz: None,
        },
        telescope: "ALMA".into(),
        observer: "pclean tests".into(),
        obsdate_mjd_utc_days: 60462.22129766608,
        telescope_position_itrf_m: Some([2225142.180269, -5440307.370349, -2481029.851874]),
    }
}

fn beam(c: usize, s: usize) -> Beam {
    Beam {
        major_rad: arcsec(1.0 + 0.1 * c as f64 + 0.01 * s as f64),
        minor_rad: arcsec(0.5 + 0.05 * c as f64),
        pa_rad: (10.0 + 5.0 * c as f64 - 2.0 * s as f64).to_radians(),
    }
}

fn write(
    dir: &std::path::Path,
    name: &str,
    meta: &ImageMeta,
) -> Result<(), Box<dyn std::error::Error>> {
    let img = dir.join(format!("{name}.image"));
    let mut w = CasaImageWriter::create(&img, meta, true)?;
    let [nx, ny, ns, nc] = meta.coords.shape();
    // Write channels in reverse order to show planes are independent.
    for c in (0..nc).rev() {
        for s in 0..ns {
            let plane = Array2::from_shape_fn((ny, nx), |(y, x)| pixel(x, y, s, c));
            w.put_plane(c, s, plane.view())?;
        }
    }
    w.finish()?;
    export_casa_to_fits(&img, dir.join(format!("{name}.fits")), true)?;
    Ok(())
}

#[allow(dead_code)] // used by main, not by the integration test that includes this file
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: write_sample <out_dir>")?,
    );
    write_samples(&dir)?;
    println!("{}", dir.display());
    Ok(())
}

/// Write the sample products and `expected.json` into `dir` (created if needed).
pub fn write_samples(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;

    let mut cube = ImageMeta::new(coords(vec![StokesParam::I, StokesParam::V], 3, 0.5e6));
    cube.beams = Beams::per_plane(3, 2, beam);
    cube.object_name = "TARGET".into();
    cube.misc = vec![
        ("MPIPROCS".into(), MiscValue::Int(1)),
        ("USEWEIGH".into(), MiscValue::Bool(false)),
        ("INSTRUME".into(), MiscValue::Str("ALMA".into())),
    ];
    write(dir, "cube", &cube)?;

    let mut mfs = ImageMeta::new(coords(vec![StokesParam::I], 1, 8.0e6));
    mfs.beams = Beams::Single(beam(0, 0));
    mfs.object_name = "TARGET".into();
    write(dir, "mfs", &mfs)?;

    let beams_of = |nc: usize, ns: usize| {
        (0..ns)
            .flat_map(|s| (0..nc).map(move |c| (c, s)))
            .map(|(c, s)| {
                let b = beam(c, s);
                json!({"chan": c, "stokes": s,
                       "major_arcsec": b.major_rad.to_degrees() * 3600.0,
                       "minor_arcsec": b.minor_rad.to_degrees() * 3600.0,
                       "pa_deg": b.pa_rad.to_degrees()})
            })
            .collect::<Vec<_>>()
    };
    let expected = json!({
        "pixel_formula": "x + 64*y + 2048*stokes + 4096*chan",
        "common": {
            "nx": 64, "ny": 32,
            "crval_rad": [240f64.to_radians(), (-30f64).to_radians()],
            "crpix": [32.0, 16.0],
            "cdelt_rad": [-arcsec(0.1), arcsec(0.1)],
            "frame": "LSRK", "restfreq_hz": 230e9, "crval_hz": 229.9965e9,
            "telescope": "ALMA", "observer": "pclean tests",
            "obsdate_mjd": 60462.22129766608,
            "telescope_position_itrf_m": [2225142.180269, -5440307.370349, -2481029.851874],
            "units": "Jy/beam", "object": "TARGET", "imagetype": "Intensity"
        },
        "cube": {"stokes": ["I", "V"], "nchan": 3, "cdelt_hz": 0.5e6, "beams": beams_of(3, 2)},
        "mfs": {"stokes": ["I"], "nchan": 1, "cdelt_hz": 8.0e6, "beam": beams_of(1, 1)[0]},
    });
    std::fs::write(
        dir.join("expected.json"),
        serde_json::to_string_pretty(&expected)?,
    )?;
    Ok(())
}

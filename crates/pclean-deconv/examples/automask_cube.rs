//! First-cycle auto-multithresh masks for a cube given as raw files (used by
//! `scripts/dev/check_automask.py`).
//!
//! Usage: `automask_cube RESIDUAL.f32 PSF.f32 NCHAN NY NX CELL_ARCSEC BEAMS.txt OUT.u8`
//! - `RESIDUAL.f32`, `PSF.f32`: little-endian f32, shape (nchan, ny, nx), x = RA pixel index.
//! - `BEAMS.txt`: one line per channel, `bmaj_arcsec bmin_arcsec bpa_deg`.
//! - `OUT.u8`: the masks, one byte per pixel (1 = masked), shape (nchan, ny, nx).
//!
//! As tclean: the sidelobe level is the maximum over channels (each with its own beam); pruning
//! and smoothing use the common beam (approximated here by the largest major and minor axes).

use ndarray::{s, Array3};
use pclean_core::Beam;
use pclean_deconv::automask::{
    auto_multithresh, psf_sidelobe_level, AutoMaskInputs, AutoMaskParams, AutoMaskState,
};

fn read_cube(path: &str, dim: (usize, usize, usize)) -> Array3<f32> {
    let bytes = std::fs::read(path).expect("read cube");
    let v: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Array3::from_shape_vec(dim, v).expect("cube size matches NCHAN NY NX")
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    assert_eq!(
        a.len(),
        9,
        "usage: automask_cube RESIDUAL.f32 PSF.f32 NCHAN NY NX CELL_ARCSEC BEAMS.txt OUT.u8"
    );
    let (nchan, ny, nx): (usize, usize, usize) = (
        a[3].parse().unwrap(),
        a[4].parse().unwrap(),
        a[5].parse().unwrap(),
    );
    let cell = a[6].parse::<f64>().unwrap().to_radians() / 3600.0;
    let res = read_cube(&a[1], (nchan, ny, nx));
    let psf = read_cube(&a[2], (nchan, ny, nx));
    let beams: Vec<Beam> = std::fs::read_to_string(&a[7])
        .unwrap()
        .lines()
        .map(|l| {
            let v: Vec<f64> = l.split_whitespace().map(|t| t.parse().unwrap()).collect();
            Beam {
                major_rad: (v[0] / 3600.0).to_radians(),
                minor_rad: (v[1] / 3600.0).to_radians(),
                pa_rad: v[2].to_radians(),
            }
        })
        .collect();
    let sidelobe = (0..nchan)
        .map(|c| psf_sidelobe_level(psf.slice(s![c, .., ..]), &beams[c], cell, cell))
        .fold(0.0f32, f32::max);
    let big = beams.iter().cloned().fold(
        beams[0],
        |b, x| if x.major_rad > b.major_rad { x } else { b },
    );
    let common = Beam {
        major_rad: big.major_rad,
        minor_rad: beams.iter().map(|b| b.minor_rad).fold(0.0, f64::max),
        pa_rad: big.pa_rad,
    };
    eprintln!(
        "sidelobe level {sidelobe:.4}, common beam {:.2}\" x {:.2}\"",
        common.major_rad.to_degrees() * 3600.0,
        common.minor_rad.to_degrees() * 3600.0
    );
    let params = AutoMaskParams::default();
    let mut out = Vec::with_capacity(nchan * ny * nx);
    for c in 0..nchan {
        let inputs = AutoMaskInputs {
            pb_yx: None,
            pblimit: -0.01,
            beam: common,
            cell_x_rad: cell,
            cell_y_rad: cell,
            sidelobe_level: sidelobe,
            iter_done: 0,
            threshold_reached: false,
        };
        let mut st = AutoMaskState::new(ny, nx);
        let rep = auto_multithresh(res.slice(s![c, .., ..]), &inputs, &params, &mut st).unwrap();
        let th = rep.thresholds.unwrap();
        let stats = rep.stats.unwrap();
        eprintln!(
            "chan {c:2}: max {:.4} rms {:.4} thr {:.4} ({:?}) npix {}",
            stats.max, stats.robust_rms, th.mask, th.kind, rep.n_pixels
        );
        out.extend(st.mask().iter().map(|&b| b as u8));
    }
    std::fs::write(&a[8], out).unwrap();
}

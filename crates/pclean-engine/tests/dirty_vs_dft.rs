//! The engine's dirty image and PSF against an exact direct Fourier transform of the same
//! visibilities (one NGC5921 channel, ~12 000 baselines, 64x64 pixels; w ignored as the standard
//! gridder does), for natural and Briggs weighting.

#[path = "../../pclean-ms/tests/support/mod.rs"]
mod support;

use ndarray::{Array2, Axis};
use num_complex::Complex32;
use pclean_core::params::{ImagingParams, RawParams};
use pclean_core::{StokesParam, SPEED_OF_LIGHT};
use pclean_engine::visprep::{drop_autocorrelations, StokesRecipe};
use pclean_grid::weighting::{CellRounding, DensityGrid, WeightingScheme};
use pclean_imageio::CasaImage;
use pclean_ms::{DataColumn, MeasurementSet, Selection};

const N: usize = 64;
const CELL_ARCSEC: f64 = 15.0;
const EPSILON: f64 = 1e-5;

/// Exact dirty image and PSF in tclean's convention: I(x, y) = sum w Re[V exp(-2 pi i (u l + v m))] / sum w
/// with l = (nx/2 - x) cell, m = (y - ny/2) cell (see docs/conventions.md).
fn dft(uv: &[(f64, f64)], vis: &[Complex32], w: &[f32], cell: f64) -> (Array2<f64>, Array2<f64>) {
    let mut dirty = Array2::<f64>::zeros((N, N));
    let mut psf = Array2::<f64>::zeros((N, N));
    let sumw: f64 = w.iter().map(|x| *x as f64).sum();
    for y in 0..N {
        let m = (y as f64 - (N / 2) as f64) * cell;
        for x in 0..N {
            let l = ((N / 2) as f64 - x as f64) * cell;
            let (mut d, mut p) = (0.0, 0.0);
            for ((u, v), (vv, ww)) in uv.iter().zip(vis.iter().zip(w)) {
                if *ww <= 0.0 {
                    continue;
                }
                let ph = -2.0 * std::f64::consts::PI * (u * l + v * m);
                let (s, c) = ph.sin_cos();
                d += *ww as f64 * (vv.re as f64 * c - vv.im as f64 * s);
                p += *ww as f64 * c;
            }
            dirty[[y, x]] = d / sumw;
            psf[[y, x]] = p / sumw;
        }
    }
    (dirty, psf)
}

fn rms_rel(ours: &Array2<f32>, exact: &Array2<f64>) -> f64 {
    let peak = exact.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    let se: f64 = ours
        .iter()
        .zip(exact)
        .map(|(a, b)| (*a as f64 - b).powi(2))
        .sum();
    (se / exact.len() as f64).sqrt() / peak
}

fn check(weighting: &str) {
    let ms_path = support::ngc5921();
    let cell = CELL_ARCSEC / 206_264.806_247_096_36;
    // The visibilities of data channel 25, Stokes I, as the engine forms them.
    let ms = MeasurementSet::open(&ms_path).unwrap();
    let sel = ms
        .select(&Selection {
            spw: "0:25".into(),
            ..Default::default()
        })
        .unwrap();
    let (mut uv, mut vis, mut wgt, mut uvw_all) = (vec![], vec![], vec![], vec![]);
    let mut freq = 0.0;
    for chunk in sel.chunks(&ms, DataColumn::Data, 5000) {
        let c = chunk.unwrap();
        let rec = StokesRecipe::new(StokesParam::I, &c.corrs, true).unwrap();
        let n = c.row_ids.len();
        let mut v = Array2::<Complex32>::zeros((n, 1));
        let mut w = Array2::<f32>::zeros((n, 1));
        rec.form(
            c.vis_rcp.view(),
            c.flag_rcp.view(),
            c.weight_rcp.view(),
            &[0],
            v.view_mut(),
            w.view_mut(),
        );
        drop_autocorrelations(&c.ant1, &c.ant2, w.view_mut());
        freq = c.chan_freq_hz[0];
        for r in 0..n {
            uvw_all.push([c.uvw_m[[r, 0]], c.uvw_m[[r, 1]], c.uvw_m[[r, 2]]]);
            uv.push((
                c.uvw_m[[r, 0]] * freq / SPEED_OF_LIGHT,
                c.uvw_m[[r, 1]] * freq / SPEED_OF_LIGHT,
            ));
            vis.push(v[[r, 0]]);
            wgt.push(w[[r, 0]]);
        }
    }
    assert!(
        vis.len() > 5000,
        "expected thousands of visibilities, got {}",
        vis.len()
    );
    if weighting == "briggs" {
        // Imaging weights from the weighting module (its parity with tclean is tested against
        // tclean's images; here the point is the gridder and the engine around it).
        let uvw = Array2::from_shape_fn((uvw_all.len(), 3), |(r, k)| uvw_all[r][k]);
        let mut w = Array2::from_shape_vec((wgt.len(), 1), wgt.clone()).unwrap();
        let mut dens = DensityGrid::new(N, N, cell, cell, CellRounding::Nearest, 0);
        dens.add(uvw.view(), &[freq], w.view());
        dens.finish(&WeightingScheme::Briggs { robust: 0.5 }).apply(
            uvw.view(),
            &[freq],
            w.view_mut(),
        );
        wgt = w.index_axis(Axis(1), 0).to_vec();
    }
    let (dirty_exact, psf_exact) = dft(&uv, &vis, &wgt, cell);

    let dir = tempfile::tempdir().unwrap();
    let name = dir.path().join("dft").display().to_string();
    let raw = RawParams {
        vis: Some(vec![ms_path.display().to_string()]),
        imagename: Some(name.clone()),
        datacolumn: Some("data".into()),
        spw: Some("0:25".into()),
        imsize: Some(vec![N as i64]),
        cell: Some(vec![format!("{CELL_ARCSEC}arcsec")]),
        specmode: Some("cube".into()),
        outframe: Some("LSRK".into()),
        weighting: Some(weighting.into()),
        epsilon: Some(EPSILON),
        ..Default::default()
    };
    let params = ImagingParams::from_raw(&raw).unwrap();
    pclean_engine::run_image(&params, &raw.with_defaults()).unwrap();
    let dirty = CasaImage::open(format!("{name}.residual"))
        .unwrap()
        .get_plane(0, 0)
        .unwrap();
    let psf = CasaImage::open(format!("{name}.psf"))
        .unwrap()
        .get_plane(0, 0)
        .unwrap();
    let (ed, ep) = (rms_rel(&dirty, &dirty_exact), rms_rel(&psf, &psf_exact));
    eprintln!("{weighting}: rms error / peak: dirty {ed:.2e}, psf {ep:.2e} (epsilon {EPSILON:e})");
    // The bound: rms error <= 10 x epsilon relative to the peak. Products are f32
    // (7e-8 relative), far below it.
    assert!(ed <= 10.0 * EPSILON, "dirty rms error {ed:e}");
    assert!(ep <= 10.0 * EPSILON, "psf rms error {ep:e}");
}

#[test]
fn natural_weighting_matches_exact_dft() {
    check("natural");
}

#[test]
fn briggs_weighting_matches_exact_dft() {
    check("briggs");
}

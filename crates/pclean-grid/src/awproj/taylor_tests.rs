//! The awproject gridder's mtmfs passes (`deconvolver='mtmfs'`): a PSF term's visibilities
//! (the Taylor factors) gridded through the PSF's beams, the Taylor-weighted weight image and
//! the kernel-sum-weighted sums of weights (tclean's `.sumwt.ttN`).

use super::band_geometry;
use super::gridder::{AwGridder, AwInner};
use crate::gridder::{GridSpec, GridStats, Gridder};
use crate::seam::{GridPlanes, Pass, VisBatch, VisGridder};
use ndarray::{array, Array2, Axis};
use num_complex::Complex32;

const N: usize = 96;
const F0: f64 = 1.2e9;
const F1: f64 = 1.8e9;
const T: f64 = 5.0e9;

fn gridder_at(f: f64) -> AwGridder {
    let cell = (30.0f64 / 3600.0).to_radians();
    let spec = GridSpec {
        nx: N,
        ny: N,
        cell_x_rad: cell,
        cell_y_rad: cell,
        epsilon: 1e-6,
    };
    let inner = AwInner::Es(Gridder::new(spec).unwrap());
    let geom = band_geometry("EVLA", 1.5e9).unwrap();
    AwGridder::new(inner, 1, geom, vec![0.0], vec![(T, 0)], f).unwrap()
}

fn wide() -> AwGridder {
    gridder_at(1.5e9)
        .with_beam_frequencies(vec![F0, F1], vec![(F0, 0), (F1, 1)])
        .unwrap()
}

struct Pass1 {
    image: Array2<f32>,
    weight: Array2<f32>,
    stats: GridStats,
}

/// One PSF pass of columns `cols` of a two-row, two-channel batch (channels at F0 and F1), with
/// the visibilities `vis` and weight factors `fac` (both per column) if given.
fn psf_pass(
    g: &dyn VisGridder,
    cols: &[usize],
    vis: Option<[f32; 2]>,
    fac: Option<[f32; 2]>,
) -> Pass1 {
    let uvw = array![[100.0, 50.0, 0.0], [-40.0, 120.0, 0.0]];
    let times = [T, T];
    let w = array![[1.0f32, 2.0], [1.5, 0.5]];
    let freqs: Vec<f64> = cols.iter().map(|c| [F0, F1][*c]).collect();
    let wc = w.select(Axis(1), cols);
    let vc = vis.map(|v| Array2::from_shape_fn((2, cols.len()), |(_, j)| v[cols[j]]));
    let vc = vc.map(|v| v.mapv(|x| Complex32::new(x, 0.0)));
    let fc = fac.map(|f| Array2::from_shape_fn((2, cols.len()), |(_, j)| f[cols[j]]));
    let mut batch = VisBatch::new(uvw.view(), &freqs, wc.view()).with_times(&times);
    if let Some(v) = &vc {
        batch = batch.with_vis(v.view());
    }
    if let Some(f) = &fc {
        batch = batch.with_weight_factors(f.view());
    }
    let mut planes: GridPlanes = g.new_planes(Pass::Psf);
    let stats = g.grid(&mut planes, &batch).unwrap();
    let weight = g.weight_image(&planes, 1.0).unwrap().unwrap();
    let image = g.images(planes, 1.0).unwrap().remove(0);
    Pass1 {
        image,
        weight,
        stats,
    }
}

fn off(a: &Array2<f32>, b: &Array2<f32>) -> f32 {
    let peak = b.iter().fold(0f32, |m, v| m.max(v.abs()));
    (a - b).iter().fold(0f32, |m, v| m.max(v.abs())) / peak
}

/// A PSF term of a two-window band: its image is the channels' PSFs (each through its own
/// A-term's `P_R P_L`) times their Taylor factors, its weight image the channels' weight images
/// times the factors (1e-5: f32 images of a 96^2 grid); with factors of 1 it is the plain PSF
/// pass. Ignoring the factors (the PSF pass before, which gridded the weights alone) is far off.
#[test]
fn psf_terms_grid_their_taylor_factors_through_each_a_term() {
    let f = [-0.2f32, 0.3];
    let g = wide();
    let term = psf_pass(&g, &[0, 1], Some(f), Some(f));
    let c0 = psf_pass(&gridder_at(F0), &[0], None, None);
    let c1 = psf_pass(&gridder_at(F1), &[1], None, None);
    let want_image = &c0.image * f[0] + &c1.image * f[1];
    let want_weight = &c0.weight * f[0] + &c1.weight * f[1];
    assert!(
        off(&term.image, &want_image) < 1e-5,
        "{}",
        off(&term.image, &want_image)
    );
    assert!(
        off(&term.weight, &want_weight) < 1e-5,
        "{}",
        off(&term.weight, &want_weight)
    );
    // The sum of weights stays the plain one (the pass's tt0 normaliser of the PSF).
    assert_eq!(term.stats.sum_weights, 5.0);
    // Factors of 1: the plain PSF pass.
    let ones = psf_pass(&g, &[0, 1], Some([1.0, 1.0]), None);
    let plain = psf_pass(&g, &[0, 1], None, None);
    assert!(off(&ones.image, &plain.image) < 1e-5);
    assert!(off(&ones.weight, &plain.weight) < 1e-6);
    // The weights alone (the factors ignored) miss the term.
    assert!(off(&plain.image, &want_image) > 0.5);
    assert!(off(&plain.weight, &want_weight) > 0.5);
}

/// `sum_scaled_weights`: the weights times their factors and tclean's kernel sum (below 1 at
/// L band on this field: its mean is 0.88 on the bundled field, s9-aw), the same in the PSF and
/// residual passes; with psterm the kernel sums to 1 and it is the factored plain sum.
#[test]
fn scaled_sums_carry_the_kernel_sum_and_the_factors() {
    let f = [-0.2f32, 0.3];
    let g = wide();
    let plain = psf_pass(&g, &[0, 1], None, None).stats;
    let ratio = plain.sum_scaled_weights / plain.sum_weights;
    assert!(ratio > 0.3 && ratio < 1.0, "{ratio}");
    let term = psf_pass(&g, &[0, 1], Some(f), Some(f)).stats;
    // Each channel's share: its weights times its factor times its kernel sum.
    let c0 = psf_pass(&g, &[0], None, None).stats.sum_scaled_weights;
    let c1 = psf_pass(&g, &[1], None, None).stats.sum_scaled_weights;
    let want = c0 * f[0] as f64 + c1 * f[1] as f64;
    assert!((term.sum_scaled_weights - want).abs() <= 1e-6 * c0.abs().max(c1.abs()));
    let ps = psf_pass(&g.clone().with_psterm(true), &[0, 1], Some(f), Some(f)).stats;
    let factored = (1.0 + 1.5) * f[0] as f64 + (2.0 + 0.5) * f[1] as f64;
    assert!((ps.sum_scaled_weights - factored).abs() <= 1e-6, "{ps:?}");
}

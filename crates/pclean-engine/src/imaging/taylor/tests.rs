use super::*;
use pclean_grid::gridder::{GridSpec, Gridder, GridderOptions, FOURIER_SIGN};
use pclean_grid::seam::{StandardGridder, VisGridder};
use pclean_grid::wgrid::{precision_for, WGridder};
use std::f64::consts::PI;

const C: f64 = 299_792_458.0;
const NU0: f64 = 1.5e9;

/// `l`, `m` and `n - 1` of pixel `(y, x)` (tclean's convention, docs/conventions.md).
fn lmn(n: usize, cell: f64, y: f64, x: f64) -> (f64, f64, f64) {
    let (l, m) = ((n as f64 / 2.0 - x) * cell, (y - n as f64 / 2.0) * cell);
    (l, m, (1.0 - l * l - m * m).sqrt() - 1.0)
}

/// Grids the Taylor terms of a source of spectral index -0.8 (1 Jy at nu0, 8 channels over
/// +-25%) at pixel `src` (3 PSF terms, 2 residual terms, each folded by [`fold`] as the
/// Taylor pass does) with `g`, and checks them against the exact DFT sums
/// `sum_k w f_k^t Re[V_k e^{s 2 pi i (u l + v m + w (n - 1))}] / sum_k w` (f = (nu - nu0)/nu0,
/// s = `FOURIER_SIGN`; `with_w`: the w term in the data and the sum, else w = 0) at `pixels`.
/// Tolerance 1e-4 of the tt0 peak (1): the ES kernel's epsilon is 1e-6 and the images f32.
fn check_terms(
    g: &dyn VisGridder,
    n: usize,
    cell: f64,
    uvw_scale_m: f64,
    with_w: bool,
    src: (f64, f64),
    pixels: &[(usize, usize)],
) {
    let freqs: Vec<f64> = (0..8)
        .map(|i| NU0 * (0.75 + 0.5 * i as f64 / 7.0))
        .collect();
    let mut s = 99u64;
    let mut rnd = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let nrow = 300;
    let uvw = Array2::from_shape_fn((nrow, 3), |(_, c)| {
        if c == 2 && !with_w {
            0.0
        } else {
            uvw_scale_m * rnd()
        }
    });
    let w = Array2::from_shape_fn((nrow, 8), |_| (1.0 + rnd()) as f32);
    let (l0, m0, n0) = lmn(n, cell, src.0, src.1);
    let uvw_l = |r: usize, nu: f64| [0, 1, 2].map(|c| uvw[[r, c]] * nu / C);
    let vis = Array2::from_shape_fn((nrow, 8), |(r, c)| {
        let [u, v, ww] = uvw_l(r, freqs[c]);
        let ph = -FOURIER_SIGN * 2.0 * PI * (u * l0 + v * m0 + ww * n0);
        let a = (freqs[c] / NU0).powf(-0.8);
        Complex32::new((a * ph.cos()) as f32, (a * ph.sin()) as f32)
    });
    let f = TaylorOffsets::new(&freqs, None, NU0);
    let sumw: f64 = w.iter().map(|v| *v as f64).sum();
    for (nt, with_vis) in [(3usize, false), (2, true)] {
        for t in 0..nt {
            let mut planes = g.new_planes(Pass::Residual);
            let mut buf = None;
            let folded = fold(with_vis.then_some(&vis), &f, t, w.dim(), &mut buf);
            let batch = VisBatch::new(uvw.view(), &freqs, w.view()).with_vis(folded);
            let st = g.grid(&mut planes, &batch).unwrap();
            assert!((st.sum_weights - sumw).abs() < 1e-6 * sumw);
            let img = g.images(planes, 1.0 / sumw).unwrap().remove(0);
            for &(y, x) in pixels {
                let (l, m, n1) = lmn(n, cell, y as f64, x as f64);
                let mut sum = 0.0;
                for r in 0..nrow {
                    for (k, nu) in freqs.iter().enumerate() {
                        let [u, v, ww] = uvw_l(r, *nu);
                        let z = if with_vis {
                            vis[[r, k]]
                        } else {
                            Complex32::new(1.0, 0.0)
                        };
                        let ph = FOURIER_SIGN * 2.0 * PI * (u * l + v * m + ww * n1);
                        let re = z.re as f64 * ph.cos() - z.im as f64 * ph.sin();
                        sum += w[[r, k]] as f64 * f.at(r, k).powi(t as i32) * re;
                    }
                }
                let (want, got) = (sum / sumw, img[[y, x]] as f64);
                assert!(
                    (got - want).abs() < 1e-4,
                    "{} term {t} (vis {with_vis}) ({y},{x}): {got} vs {want}",
                    g.name()
                );
            }
        }
    }
    // The tt0 weight sum is the gridder's; the others' from `term_weight_sum`.
    let t1: f64 = (0..nrow)
        .flat_map(|r| (0..8).map(move |k| (r, k)))
        .map(|(r, k)| w[[r, k]] as f64 * f.at(r, k))
        .sum();
    assert!((term_weight_sum(&w, &f, 1) - t1).abs() < 1e-9 * sumw);
}

fn spec(n: usize, cell: f64) -> GridSpec {
    GridSpec {
        nx: n,
        ny: n,
        cell_x_rad: cell,
        cell_y_rad: cell,
        epsilon: 1e-6,
    }
}

/// A plane is held when its visibilities (16 B each, 52 B per row) take no more than the
/// `2 nterms - 2` grids they spare, never with one term (nothing spared).
#[test]
fn planes_are_held_when_smaller_than_the_spared_grids() {
    let grid = 11 << 20;
    let held = |nvis: u64, nterms| hold_plane_vis(nvis, nvis / 8, nterms, grid);
    // 16 nvis + 52 nvis / 8 = 22.5 nvis bytes against 2 grids (nterms 2), 4 (nterms 3).
    let edge = 2 * grid / 45 * 2;
    assert!(held(edge, 2) && !held(edge + 16, 2));
    assert!(held(2 * edge, 3) && !held(2 * edge + 16, 3));
    assert!(!held(1, 1));
}

/// The 2-D gridder (w = 0): a source at the phase centre, a small field.
#[test]
fn taylor_terms_equal_the_dft() {
    let (n, cell) = (64usize, 2e-5);
    let sg = StandardGridder::new(Gridder::new(spec(n, cell)).unwrap(), 1);
    let pixels = [(32usize, 32usize), (32, 35), (29, 32), (36, 30)];
    check_terms(&sg, n, cell, 2.0e3, false, (32.0, 32.0), &pixels);
}

/// The w-stacking gridder of `wproject` / `widefield` (mtmfs's Taylor passes through it): a
/// field of 64 x 64 pixels of 1e-3 rad (3.7 deg; |n - 1| up to 2e-3 at the corners) with
/// |w| up to ~190 wavelengths, a source off the centre, the terms checked at the source, the
/// centre and near the corners (where the w phase is largest).
#[test]
fn taylor_terms_with_the_w_term_equal_the_dft() {
    let (n, cell) = (64usize, 1e-3);
    let base = Gridder::with_options(
        spec(n, cell),
        GridderOptions {
            precision: Some(precision_for(1e-6)),
            ..Default::default()
        },
    )
    .unwrap();
    // |w| <= 0.5 * 90 m at 1.875 GHz (+ margin).
    let wmax = 0.5 * 90.0 * 1.875e9 / C * 1.01;
    let wg = WGridder::new(base, wmax, 0).unwrap().with_threads(1);
    assert!(wg.nplanes() > 1, "{} w planes", wg.nplanes());
    let pixels = [(32usize, 32usize), (10, 50), (4, 4), (60, 58), (58, 6)];
    check_terms(&wg, n, cell, 90.0, true, (10.0, 50.0), &pixels);
}

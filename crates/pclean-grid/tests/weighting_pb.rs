//! Integration tests for visibility weighting (`weighting.rs`) and primary beams (`pb.rs`).
//!
//! The weighting cases are small enough to compute by hand: with `cell = 1/(8*nx)`... chosen so that
//! `nx*cell = 1` and `freq = c`, a uvw of `(u, v)` metres is `(u, v)` wavelengths and lands in cell
//! `R(-u + 4)` / `R(v + 4)` (mfs) or `R(u + 4)` / `R(-v + 4)` (cube) on an 8x8 grid.

use ndarray::{array, Array2};
use pclean_core::SPEED_OF_LIGHT as C;
use pclean_grid::pb::{
    pb_add_at, pb_image, pb_image_at, pb_limit_in_place, pb_mask, pb_model_for, PbModel, VpShape,
};
use pclean_grid::weighting::{
    fractional_bandwidth, CellRounding, DensityGrid, ImagingWeighter, UvTaper, WeightingScheme,
};

const NX: usize = 8;
const CELL: f64 = 1.0 / 8.0;

fn close(a: f32, b: f64, rel: f64) -> bool {
    ((a as f64) - b).abs() <= rel * b.abs().max(1e-30)
}

/// Build a grid from rows `(u, v, w)` at `freq = c`, finish with `scheme`, return imaging weights.
fn weights(rows: &[(f64, f64, f32)], rounding: CellRounding, scheme: WeightingScheme) -> Vec<f32> {
    let mut uvw = Array2::<f64>::zeros((rows.len(), 3));
    let mut w = Array2::<f32>::zeros((rows.len(), 1));
    for (i, &(u, v, wt)) in rows.iter().enumerate() {
        uvw[[i, 0]] = u;
        uvw[[i, 1]] = v;
        w[[i, 0]] = wt;
    }
    let mut grid = DensityGrid::new(NX, NX, CELL, CELL, rounding, 0);
    grid.add(uvw.view(), &[C], w.view());
    let weighter = grid.finish(&scheme);
    weighter.apply(uvw.view(), &[C], w.view_mut());
    w.column(0).to_vec()
}

// Hand computation (mfs, truncation, u negated):
//   A (1.5, 0.5) w=1 -> cells (iu,iv) (2,4), conj (5,3)
//   B (1.7, 0.2) w=2 -> (2,4), conj (5,3)
//   C (-2.5, 1.5) w=1 -> (6,5), conj (1,2)
// W = 3,3,1,1; S = 8; sum W^2 = 20; f2(robust 0) = 25 / (20/8) = 10.
const MFS_ROWS: [(f64, f64, f32); 3] = [(1.5, 0.5, 1.0), (1.7, 0.2, 2.0), (-2.5, 1.5, 1.0)];
// The same occupancy for the cube rule (rounding, v negated):
//   A (1.4, 0.6) -> (5,3), conj (3,5); B (1.2, 0.7) -> (5,3), conj (3,5);
//   C (-2.2, 1.3) -> (2,3), conj (6,5).
const CUBE_ROWS: [(f64, f64, f32); 3] = [(1.4, 0.6, 1.0), (1.2, 0.7, 2.0), (-2.2, 1.3, 1.0)];

#[test]
fn briggs_mfs_hand_computed() {
    let w = weights(
        &MFS_ROWS,
        CellRounding::Truncate,
        WeightingScheme::Briggs { robust: 0.0 },
    );
    assert!(close(w[0], 1.0 / 31.0, 1e-6), "{w:?}");
    assert!(close(w[1], 2.0 / 31.0, 1e-6), "{w:?}");
    assert!(close(w[2], 1.0 / 11.0, 1e-6), "{w:?}");
    // robust 1: f2 = (5*10^-1)^2 / 2.5 = 0.1
    let w = weights(
        &MFS_ROWS,
        CellRounding::Truncate,
        WeightingScheme::Briggs { robust: 1.0 },
    );
    assert!(close(w[0], 1.0 / 1.3, 1e-6), "{w:?}");
    assert!(close(w[2], 1.0 / 1.1, 1e-6), "{w:?}");
}

#[test]
fn briggs_cube_hand_computed() {
    let w = weights(
        &CUBE_ROWS,
        CellRounding::Nearest,
        WeightingScheme::Briggs { robust: 0.0 },
    );
    assert!(close(w[0], 1.0 / 31.0, 1e-6), "{w:?}");
    assert!(close(w[1], 2.0 / 31.0, 1e-6), "{w:?}");
    assert!(close(w[2], 1.0 / 11.0, 1e-6), "{w:?}");
}

#[test]
fn truncation_and_rounding_differ() {
    let rows = [(2.3, 0.0, 1.0f32), (2.7, 0.0, 1.0f32)];
    let t = weights(&rows, CellRounding::Truncate, WeightingScheme::Uniform);
    let r = weights(&rows, CellRounding::Nearest, WeightingScheme::Uniform);
    // Truncate: -2.3+4 = 1.7 -> 1 and 1.3 -> 1 (shared cell, W = 2; conjugates 6.3, 6.7 -> 6);
    // Nearest: 6.3 -> 6, 6.7 -> 7, conjugates 1.7 -> 2, 1.3 -> 1 (all separate, W = 1).
    assert_eq!(t, vec![0.5, 0.5]);
    assert_eq!(r, vec![1.0, 1.0]);
}

#[test]
fn uniform_and_briggsabs_hand_computed() {
    let w = weights(&MFS_ROWS, CellRounding::Truncate, WeightingScheme::Uniform);
    assert!(close(w[0], 1.0 / 3.0, 1e-6) && close(w[1], 2.0 / 3.0, 1e-6) && close(w[2], 1.0, 1e-6));
    let scheme = WeightingScheme::BriggsAbs {
        robust: 2.0,
        noise_jy: 0.5,
    };
    let w = weights(&MFS_ROWS, CellRounding::Truncate, scheme);
    // w / (W robust^2 + 2 noise^2)
    assert!(close(w[0], 1.0 / (3.0 * 4.0 + 0.5), 1e-6), "{w:?}");
    assert!(close(w[2], 1.0 / (4.0 + 0.5), 1e-6), "{w:?}");
}

#[test]
fn natural_is_identity() {
    let uvw = array![[10.0, 20.0, 0.0], [-3.0, 4.0, 1.0]];
    let mut w = array![[1.5f32, 0.0], [2.0, 3.0]];
    let orig = w.clone();
    let grid = DensityGrid::new(NX, NX, CELL, CELL, CellRounding::Truncate, 0);
    grid.finish(&WeightingScheme::Natural)
        .apply(uvw.view(), &[C, 2.0 * C], w.view_mut());
    assert_eq!(w, orig);
    ImagingWeighter::natural().apply(uvw.view(), &[C, 2.0 * C], w.view_mut());
    assert_eq!(w, orig);
}

#[test]
fn mfs_first_row_and_column_excluded() {
    // u = 3.5 -> iu = trunc(-3.5 + 4) = 0: excluded from the density and weighted 0, while its
    // conjugate (iu = 7) is counted in the density.
    let rows = [(3.5, 0.2, 1.0f32), (1.0, 1.0, 1.0f32)];
    let mut uvw = Array2::<f64>::zeros((2, 3));
    let mut w = Array2::<f32>::zeros((2, 1));
    for (i, r) in rows.iter().enumerate() {
        uvw[[i, 0]] = r.0;
        uvw[[i, 1]] = r.1;
        w[[i, 0]] = r.2;
    }
    let mut grid = DensityGrid::new(NX, NX, CELL, CELL, CellRounding::Truncate, 0);
    grid.add(uvw.view(), &[C], w.view());
    assert_eq!(grid.sum_weight(), 3.0);
    assert_eq!(grid.density_vu()[[3, 7]], 1.0); // conjugate (-3.5, -0.2) -> iu 7, iv 3
    grid.finish(&WeightingScheme::Uniform)
        .apply(uvw.view(), &[C], w.view_mut());
    assert_eq!(w[[0, 0]], 0.0);
    assert_eq!(w[[1, 0]], 1.0);
}

fn pseudo_random_rows(n: usize, seed: u64, max_uv: f64) -> (Array2<f64>, Array2<f32>) {
    let mut s = seed;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64) / ((1u64 << 53) as f64)
    };
    let mut uvw = Array2::<f64>::zeros((n, 3));
    let mut w = Array2::<f32>::zeros((n, 2));
    for i in 0..n {
        uvw[[i, 0]] = (2.0 * next() - 1.0) * max_uv;
        uvw[[i, 1]] = (2.0 * next() - 1.0) * max_uv;
        w[[i, 0]] = (0.5 + next()) as f32;
        w[[i, 1]] = if i % 7 == 0 {
            0.0
        } else {
            (0.5 + next()) as f32
        };
    }
    (uvw, w)
}

#[test]
fn density_is_conjugate_symmetric() {
    let n = 64;
    let cell = 1.0 / 64.0; // uscale = 1: uv in wavelengths = cells at freq = c
    let (uvw, w) = pseudo_random_rows(500, 7, 20.0);
    let freqs = [C, 1.1 * C];
    for rounding in [CellRounding::Truncate, CellRounding::Nearest] {
        let mut g = DensityGrid::new(n, n, cell, cell, rounding, 0);
        g.add(uvw.view(), &freqs, w.view());
        let d = g.density_vu();
        // Rounding mirrors cell k to n - k; truncation (positive argument) mirrors k to n - 1 - k.
        let off = if rounding == CellRounding::Nearest {
            0
        } else {
            1
        };
        for iv in 4..n - 4 {
            for iu in 4..n - 4 {
                assert_eq!(
                    d[[iv, iu]],
                    d[[n - off - iv, n - off - iu]],
                    "{rounding:?} {iv} {iu}"
                );
            }
        }
        assert!((g.sum_weight() - d.sum()).abs() < 1e-9 * g.sum_weight());
    }
}

#[test]
fn uniform_gives_equal_weight_per_occupied_cell() {
    let n = 64;
    let cell = 1.0 / 64.0;
    let (uvw, w) = pseudo_random_rows(800, 11, 12.0);
    let freqs = [C, 1.1 * C];
    for rounding in [CellRounding::Truncate, CellRounding::Nearest] {
        let mut g = DensityGrid::new(n, n, cell, cell, rounding, 0);
        g.add(uvw.view(), &freqs, w.view());
        let mut iw = w.clone();
        g.finish(&WeightingScheme::Uniform)
            .apply(uvw.view(), &freqs, iw.view_mut());
        // Re-grid the imaging weights (with conjugates): every occupied cell must hold 1.
        let mut g2 = DensityGrid::new(n, n, cell, cell, rounding, 0);
        g2.add(uvw.view(), &freqs, iw.view());
        for (&a, &b) in g.density_vu().iter().zip(g2.density_vu().iter()) {
            if a > 0.0 {
                assert!((b - 1.0).abs() < 1e-5, "{rounding:?}: {b}");
            } else {
                assert_eq!(b, 0.0);
            }
        }
    }
}

#[test]
fn partial_densities_merge_by_summation() {
    let (uvw, w) = pseudo_random_rows(300, 3, 25.0);
    let freqs = [C, 1.05 * C];
    let mut whole = DensityGrid::new(64, 64, 1.0 / 64.0, 1.0 / 64.0, CellRounding::Nearest, 0);
    whole.add(uvw.view(), &freqs, w.view());
    let mut a = DensityGrid::new(64, 64, 1.0 / 64.0, 1.0 / 64.0, CellRounding::Nearest, 0);
    let mut b = a.clone();
    a.add(
        uvw.slice(ndarray::s![..100, ..]),
        &freqs,
        w.slice(ndarray::s![..100, ..]),
    );
    b.add(
        uvw.slice(ndarray::s![100.., ..]),
        &freqs,
        w.slice(ndarray::s![100.., ..]),
    );
    a.merge(&b).unwrap();
    assert_eq!(a.sum_weight(), whole.sum_weight());
    for (x, y) in a.density_vu().iter().zip(whole.density_vu().iter()) {
        assert!((x - y).abs() < 1e-12);
    }
    let other = DensityGrid::new(32, 32, 1.0 / 64.0, 1.0 / 64.0, CellRounding::Nearest, 0);
    assert!(a.merge(&other).is_err());
}

#[test]
fn npixels_mfs_resizes_grid_cube_boxes() {
    // mfs: npixels = 4 on a 16-pixel image -> 4x4 grid, uscale = 4 * cell.
    let g = DensityGrid::new(16, 16, 1.0 / 16.0, 1.0 / 16.0, CellRounding::Truncate, 4);
    assert_eq!(g.shape(), (4, 4));
    let uvw = array![[0.5, 0.5, 0.0]];
    let w = array![[1.0f32]];
    let mut g = g;
    g.add(uvw.view(), &[C], w.view());
    // uscale = 0.25: iu = trunc(-0.125 + 2) = 1, iv = trunc(0.125 + 2) = 2; conj (2, 1).
    assert_eq!(g.density_vu()[[2, 1]], 1.0);
    assert_eq!(g.density_vu()[[1, 2]], 1.0);
    // cube: npixels = 1 -> a 3x3 box around each point, weight sum once per point.
    let mut c = DensityGrid::new(16, 16, 1.0 / 16.0, 1.0 / 16.0, CellRounding::Nearest, 1);
    let uvw = array![[3.0, 2.0, 0.0]];
    c.add(uvw.view(), &[C], w.view());
    assert_eq!(c.shape(), (16, 16));
    assert_eq!(c.density_vu().sum(), 18.0);
    assert_eq!(c.sum_weight(), 2.0);
    // point (iu, iv) = (3 + 8, -2 + 8) = (11, 6); box covers 10..=12, 5..=7
    assert_eq!(c.density_vu()[[5, 10]], 1.0);
    assert_eq!(c.density_vu()[[7, 12]], 1.0);
}

#[test]
fn taper_matches_analytic_gaussian() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert!(UvTaper::parse(&[]).unwrap().is_none());
    assert!(UvTaper::parse(&s(&[""])).unwrap().is_none());
    let arcsec = std::f64::consts::PI / 180.0 / 3600.0;
    let ln2 = std::f64::consts::LN_2;
    // Circular 10 arcsec: CASA's exp(-4 ln2 b^2 r^2).
    let t = UvTaper::parse(&s(&["10arcsec"])).unwrap().unwrap();
    let b = 10.0 * arcsec;
    for &(u, v) in &[(1000.0, 0.0), (3000.0, -4000.0), (0.0, 20000.0)] {
        let r2: f64 = u * u + v * v;
        let want = (-4.0 * ln2 * b * b * r2).exp();
        assert!((t.factor(u, v) - want).abs() < 1e-12);
    }
    // Elliptical: major 10", minor 5", PA 30 deg. Along the PA direction in uv (sin pa, cos pa)
    // the major coefficient applies; perpendicular the minor one.
    let t = UvTaper::parse(&s(&["10arcsec", "5arcsec", "30deg"]))
        .unwrap()
        .unwrap();
    let pa = 30f64.to_radians();
    let r = 8000.0;
    let along = t.factor(r * pa.sin(), r * pa.cos());
    let across = t.factor(-r * pa.cos(), r * pa.sin());
    assert!((along - (-4.0 * ln2 * (10.0 * arcsec * r).powi(2)).exp()).abs() < 1e-12);
    assert!((across - (-4.0 * ln2 * (5.0 * arcsec * r).powi(2)).exp()).abs() < 1e-12);
    // uv units: the factor is 1/2 at r = B.
    let t = UvTaper::parse(&s(&["5klambda"])).unwrap().unwrap();
    assert!((t.factor(5000.0, 0.0) - 0.5).abs() < 1e-12);
    assert!((t.factor(0.0, -5000.0) - 0.5).abs() < 1e-12);
    let t = UvTaper::parse(&s(&["300.0"])).unwrap().unwrap();
    assert!((t.factor(300.0, 0.0) - 0.5).abs() < 1e-12);
    // apply: scaled by frequency, flagged stay 0.
    let t = UvTaper::parse(&s(&["5klambda"])).unwrap().unwrap();
    let uvw = array![[2500.0, 0.0, 0.0]];
    let mut w = array![[2.0f32, 0.0]];
    t.apply(uvw.view(), &[2.0 * C, C], w.view_mut());
    assert!((w[[0, 0]] - 1.0).abs() < 1e-6);
    assert_eq!(w[[0, 1]], 0.0);
    // errors
    assert!(UvTaper::parse(&s(&["10parsec"])).is_err());
    assert!(UvTaper::parse(&s(&["10arcsec", "5klambda"])).is_err());
    assert!(UvTaper::parse(&s(&["10arcsec", "5arcsec", "30"])).is_err());
    assert!(UvTaper::parse(&s(&["-1arcsec"])).is_err());
}

#[test]
fn briggs_bwtaper_reduces_to_briggs_at_zero_fraction() {
    // With frac_bw -> 0 the factor (4 - 0)/(4 - 0) = 1: plain Briggs.
    let b = weights(
        &CUBE_ROWS,
        CellRounding::Nearest,
        WeightingScheme::Briggs { robust: 0.5 },
    );
    let t = weights(
        &CUBE_ROWS,
        CellRounding::Nearest,
        WeightingScheme::BriggsBwTaper {
            robust: 0.5,
            frac_bw: 0.0,
        },
    );
    assert_eq!(b, t);
}

#[test]
fn fractional_bandwidth_is_the_whole_cubes() {
    // 2 (fmax - fmin) / (fmax + fmin) of the first and last channel, either order.
    assert!((fractional_bandwidth(1.0e9, 2.0e9) - 2.0 / 3.0).abs() < 1e-15);
    assert!((fractional_bandwidth(2.0e9, 1.0e9) - 2.0 / 3.0).abs() < 1e-15);
    assert!((fractional_bandwidth(-1.0e9, -2.0e9) - 2.0 / 3.0).abs() < 1e-15);
    assert_eq!(fractional_bandwidth(1.4e9, 1.4e9), 0.0);
    assert_eq!(fractional_bandwidth(0.0, 0.0), 0.0);
}

#[test]
fn briggs_bwtaper_divides_the_density_term_by_the_uv_distance_factor() {
    // Briggs: w' = 1 / (W f2 + 1); bwtaper: w' = 1 / (W f2 / g + 1) with g from the distance
    // in cells d (CAS-13021): n = frac_bw d, g = n + 0.5, or (4 - n) / (4 - 2n) when that is
    // below 1.5. Rows at (2, 0) twice and (1, 1): d = 2 and sqrt(2).
    let rows = [(2.0, 0.0, 1.0f32), (2.0, 0.0, 1.0), (1.0, 1.0, 1.0)];
    let frac_bw = 0.5;
    let b = weights(
        &rows,
        CellRounding::Nearest,
        WeightingScheme::Briggs { robust: 0.0 },
    );
    let t = weights(
        &rows,
        CellRounding::Nearest,
        WeightingScheme::BriggsBwTaper {
            robust: 0.0,
            frac_bw,
        },
    );
    let g = |d: f64| {
        let n: f64 = frac_bw * d;
        if n + 0.5 < 1.5 {
            (4.0 - n) / (4.0 - 2.0 * n)
        } else {
            n + 0.5
        }
    };
    for (i, d) in [2.0, 2.0, 2f64.sqrt()].into_iter().enumerate() {
        let wf2 = 1.0 / b[i] as f64 - 1.0;
        let want = 1.0 / (wf2 / g(d) + 1.0);
        // f32 arithmetic of the density and f2 (CASA's Float): 1e-6 relative.
        assert!(close(t[i], want, 1e-6), "{i}: {} vs {want}", t[i]);
    }
    // The taper raises the weights (g > 1 beyond half a cell).
    assert!(t.iter().zip(&b).all(|(t, b)| t > b));
}

#[test]
fn superuniform_box_density_is_visimagingweights() {
    // A box of half-width 1 on the image's grid, truncating (mfs signs: iu = trunc(-u + 8),
    // iv = trunc(v + 8)); the weight sum counts each box cell.
    let mut g = DensityGrid::with_box(16, 16, 1.0 / 16.0, 1.0 / 16.0, 1);
    assert_eq!(g.shape(), (16, 16));
    let uvw = array![[3.0, 2.0, 0.0], [4.0, 2.0, 0.0]];
    let w = array![[1.0f32], [1.0]];
    g.add(uvw.view(), &[C], w.view());
    assert_eq!(g.density_vu().sum(), 36.0);
    assert_eq!(g.sum_weight(), 36.0);
    // (5, 10) and (4, 10) are each in both boxes: uniform weights 1/2 (1 without the box).
    assert_eq!(g.density_vu()[[10, 5]], 2.0);
    assert_eq!(g.density_vu()[[10, 4]], 2.0);
    let wt = g.finish(&WeightingScheme::Uniform);
    let mut out = w.clone();
    wt.apply(uvw.view(), &[C], out.view_mut());
    assert_eq!(out, array![[0.5f32], [0.5]]);
    // A box that leaves the grid is not counted (VisImagingWeight: (ucell - box) > 0).
    let mut e = DensityGrid::with_box(16, 16, 1.0 / 16.0, 1.0 / 16.0, 3);
    e.add(
        array![[6.0, 0.0, 0.0]].view(),
        &[C],
        array![[1.0f32]].view(),
    );
    assert_eq!(e.sum_weight(), 0.0);
}

// ---------------------------------------------------------------------------------------------
// Primary beams. Golden values: tclean 6.7.0 `.pb` pixels printed by
// `scripts/dev/check_pb.py --golden` (that script compares whole images: max difference 0 in
// float32 over all 46 NGC5921 planes and the alma_sim mfs plane). Tolerance 2e-6: one float32
// ulp near 1 plus libm-vs-glibc `j1` differences.

const ARCSEC: f64 = std::f64::consts::PI / 180.0 / 3600.0;

#[test]
fn pb_matches_tclean_reference_pixels() {
    let vla = pb_model_for("VLA", 25.0, 1.41e9).expect("VLA model");
    let cases = [
        (
            &vla,
            256,
            15.0,
            1412787144.081,
            [
                (128, 128, 1.0),
                (135, 125, 0.99813706),
                (108, 159, 0.7918653),
                (173, 168, 0.5073971),
                (68, 118, 0.4997924),
            ],
        ),
        (
            &vla,
            256,
            15.0,
            1413885776.8935,
            [
                (128, 128, 1.0),
                (135, 125, 0.99813706),
                (108, 159, 0.79154956),
                (173, 168, 0.50685364),
                (68, 118, 0.49924955),
            ],
        ),
    ];
    for (model, n, cell, freq, pix) in cases {
        let pb = pb_image(model, n, n, cell * ARCSEC, cell * ARCSEC, freq);
        for (y, x, want) in pix {
            assert!(
                (pb[[y, x]] - want).abs() < 2e-6,
                "VLA ({y},{x}) {} vs {want}",
                pb[[y, x]]
            );
        }
    }
    let alma = pb_model_for("ALMA", 12.0, 230e9).expect("ALMA model");
    let pb = pb_image(&alma, 512, 512, 0.1 * ARCSEC, 0.1 * ARCSEC, 230000304914.7);
    for (y, x, want) in [
        (256, 256, 1.0f32),
        (263, 253, 0.99983406),
        (236, 287, 0.95776415),
        (301, 296, 0.87537754),
        (196, 246, 0.8726934),
    ] {
        assert!(
            (pb[[y, x]] - want).abs() < 2e-6,
            "ALMA ({y},{x}) {} vs {want}",
            pb[[y, x]]
        );
    }
}

#[test]
fn pb_models_and_shape() {
    let airy = |d: f64, b: f64, maxrad_deg: f64| PbModel {
        shape: VpShape::Airy {
            dish_diameter_m: d,
            blockage_diameter_m: b,
        },
        max_radius_arcmin_ghz: maxrad_deg * 60.0,
        is_vp: true,
        label: String::new(),
    };
    let strip = |m: Option<PbModel>| m.map(|m| m.labelled(""));
    assert_eq!(
        strip(pb_model_for("ALMA", 12.0, 230e9)),
        Some(airy(10.7, 0.75, 1.784))
    );
    // ALMA with 7 m dishes is ACA (only for the exact name "ALMA", as tclean).
    assert_eq!(
        strip(pb_model_for("ALMA", 7.0, 230e9)),
        Some(airy(6.25, 0.75, 3.568))
    );
    // A telescope CASA does not know gets the tabulated Airy pattern of its dish diameter.
    assert!(matches!(
        pb_model_for("MeerKAT", 13.5, 1.28e9).map(|m| m.shape),
        Some(VpShape::Numeric { .. })
    ));
    // ... and none without a diameter (tclean then makes no .pb).
    assert_eq!(pb_model_for("unknown", 0.0, 1.4e9), None);
    // EVLA is CASA's per-channel polynomial model, not the VLA's Airy pattern.
    assert_eq!(
        pb_model_for("EVLA", 25.0, 1.5e9).map(|m| m.shape),
        Some(VpShape::Evla)
    );
    // Peak 1 at the reference pixel, symmetric, decreasing outwards, 0 beyond the cut-off radius.
    let pb = pb_image(
        &pb_model_for("VLA", 25.0, 1.4e9).expect("VLA model"),
        64,
        64,
        60.0 * ARCSEC,
        60.0 * ARCSEC,
        1.4e9,
    );
    assert_eq!(pb[[32, 32]], 1.0);
    assert_eq!(pb[[32, 40]], pb[[32, 24]]);
    assert_eq!(pb[[40, 32]], pb[[24, 32]]);
    assert!(pb[[32, 33]] < 1.0 && pb[[32, 40]] < pb[[32, 36]]);
    assert_eq!(pb[[0, 0]], 0.0); // 45 arcmin * sqrt 2 > 0.8564 deg * 1 GHz / 1.4 GHz
}

/// A beam centred off the reference pixel (tclean's `.pb` points at the field's phase centre, not
/// the image centre): the same pattern moved by the offset, at fractional offsets too, and
/// `pb_image` is the beam at the reference pixel.
#[test]
fn pb_image_at_moves_the_beam_to_its_pointing() {
    let model = pb_model_for("VLA", 25.0, 1.4e9).expect("VLA model");
    let cells = [60.0 * ARCSEC, 60.0 * ARCSEC];
    let at = |c: [f64; 2]| pb_image_at(&model, 64, 64, cells, 1.4e9, c);
    assert_eq!(
        at([32.0, 32.0]),
        pb_image(&model, 64, 64, cells[0], cells[1], 1.4e9)
    );
    let centred = at([32.0, 32.0]);
    let moved = at([37.0, 29.0]);
    assert_eq!(moved[[29, 37]], 1.0);
    for (y, x) in [(20, 30), (29, 45), (40, 37), (10, 50)] {
        assert_eq!(moved[[y, x]], centred[[y + 3, x - 5]], "pixel ({x}, {y})");
    }
    // Half a pixel off: the two neighbours are equal and below the peak.
    let half = at([32.5, 32.0]);
    assert_eq!(half[[32, 32]], half[[32, 33]]);
    assert!(half[[32, 32]] < 1.0 && half[[32, 32]] > centred[[32, 33]]);
    // A pointing outside the image still lights the pixels within its reach, falling with
    // the distance from it: pixel 0 of the row is the centred beam's pixel 42 (10 from its peak).
    let outside = at([-10.0, 32.0]);
    assert_eq!(outside[[32, 0]], centred[[32, 42]]);
    assert!(outside[[32, 0]] > outside[[32, 10]] && outside[[32, 10]] > 0.0);
    // Several fields: the beams add up in place (tclean's `.pb` before its renormalisation).
    let mut sum = at([32.0, 32.0]);
    pb_add_at(&model, cells, 1.4e9, [37.0, 29.0], sum.view_mut());
    assert_eq!(sum, &centred + &moved);
}

#[test]
fn pblimit_rule() {
    let pb = array![[0.05f32, 0.2, 0.5], [0.01, 1.0, 0.3]];
    let m = pb_mask(pb.view(), 0.2);
    assert!(m.applies_to_products);
    assert_eq!(
        m.valid_yx,
        array![[false, false, true], [false, true, true]]
    );
    let m = pb_mask(pb.view(), -0.01);
    assert!(!m.applies_to_products);
    assert_eq!(m.valid_yx, array![[true, true, true], [false, true, true]]);
    let mut p = pb.clone();
    pb_limit_in_place(p.view_mut(), -0.2);
    assert_eq!(p, array![[0.0f32, 0.0, 0.5], [0.0, 1.0, 0.3]]);
    // A summed beam above 1 is renormalised first.
    let mut p = array![[2.0f32, 1.0, 0.3]];
    pb_limit_in_place(p.view_mut(), 0.2);
    assert_eq!(p, array![[1.0f32, 0.5, 0.0]]);
}

#[test]
fn bwtaper_uv_factor_is_one_at_the_origin_and_continuous_at_one_cell() {
    use pclean_grid::weighting::bwtaper_uv_factor;
    // g(0) = 4/4 = 1; at n = 1 both branches give 1.5; far out g = n + 0.5.
    assert_eq!(bwtaper_uv_factor(0.5, 0.0, 0.0), 1.0);
    let below = bwtaper_uv_factor(1.0, 1.0 - 1e-12, 0.0);
    let above = bwtaper_uv_factor(1.0, 1.0 + 1e-12, 0.0);
    assert!((below - 1.5).abs() < 1e-9 && (above - 1.5).abs() < 1e-9);
    // 0.663102 (vla_wideband's LSRK cube) at (30, 40) cells: n = 33.1551, g = n + 0.5.
    assert!((bwtaper_uv_factor(0.663102, 30.0, 40.0) - (0.663102 * 50.0 + 0.5)).abs() < 1e-12);
}

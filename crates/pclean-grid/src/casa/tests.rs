//! The casa gridder against a direct Fourier transform (imaging and prediction), thread
//! independence, partial planes summing, and its checks.

use super::*;
use crate::seam::{GridPlanes, Pass, VisBatch, VisGridder};
use ndarray::Array2;
use num_complex::Complex32;
use pclean_core::SPEED_OF_LIGHT;

const NX: usize = 64;
const NY: usize = 48;
const CELL: f64 = 2e-5;

fn gridder(nthreads: usize) -> CasaGridder {
    CasaGridder::new(NX, NY, CELL, CELL, spheroidal::DEFAULT_PADDING, nthreads).unwrap()
}

/// Pseudo-random visibilities: `(uvw (nrow, 3) metres, freqs, vis, weights)`, uv within 40% of
/// the grid's Nyquist range so that every footprint lies on the padded grid.
type Chunk = (Array2<f64>, Vec<f64>, Array2<Complex32>, Array2<f32>);

fn chunks(seed: u64) -> Vec<Chunk> {
    let mut s = seed;
    let mut rnd = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let freqs = vec![1.0e9, 1.02e9];
    // |u| < 0.4 / (2 CELL) wavelengths at the highest frequency.
    let umax_m = 0.8 * 0.5 / CELL * SPEED_OF_LIGHT / 1.02e9;
    (0..2)
        .map(|_| {
            let n = 300;
            let uvw = Array2::from_shape_fn((n, 3), |_| umax_m * rnd());
            let vis = Array2::from_shape_fn((n, 2), |_| Complex32::new(rnd() as f32, rnd() as f32));
            let wt = Array2::from_shape_fn((n, 2), |_| (rnd() + 0.4).max(0.0) as f32);
            (uvw, freqs.clone(), vis, wt)
        })
        .collect()
}

fn images(g: &CasaGridder, chunks: &[Chunk]) -> (Array2<f32>, Array2<f32>, f64) {
    let (mut psf, mut res) = (g.new_planes(Pass::Psf), g.new_planes(Pass::Residual));
    let mut sumwt = 0.0;
    for (uvw, f, vis, wt) in chunks {
        let batch = VisBatch::new(uvw.view(), f, wt.view()).with_vis(vis.view());
        sumwt += g.grid(&mut psf, &batch).unwrap().sum_weights;
        g.grid(&mut res, &batch).unwrap();
    }
    let p = g.images(psf, 1.0 / sumwt).unwrap().remove(0);
    let r = g.images(res, 1.0 / sumwt).unwrap().remove(0);
    (p, r, sumwt)
}

/// The dirty image by direct Fourier transform (the seam's conventions: RA increases to the left,
/// `I(l, m) = sum w Re[V exp(-2 pi i (u l + v m))] / sum w`).
fn dft(chunks: &[Chunk], psf: bool) -> Array2<f64> {
    let mut img = Array2::<f64>::zeros((NY, NX));
    let mut sumwt = 0.0;
    for (uvw, f, vis, wt) in chunks {
        for r in 0..uvw.nrows() {
            for (c, &fc) in f.iter().enumerate() {
                let w = wt[[r, c]] as f64;
                if w <= 0.0 {
                    continue;
                }
                sumwt += w;
                let (u, v) = (
                    uvw[[r, 0]] * fc / SPEED_OF_LIGHT,
                    uvw[[r, 1]] * fc / SPEED_OF_LIGHT,
                );
                let z = if psf {
                    num_complex::Complex64::new(1.0, 0.0)
                } else {
                    let z = vis[[r, c]];
                    num_complex::Complex64::new(z.re as f64, z.im as f64)
                };
                for y in 0..NY {
                    let m = (y as f64 - (NY / 2) as f64) * CELL;
                    for x in 0..NX {
                        let l = -(x as f64 - (NX / 2) as f64) * CELL;
                        let ph = -2.0 * std::f64::consts::PI * (u * l + v * m);
                        img[[y, x]] += w * (z * num_complex::Complex64::from_polar(1.0, ph)).re;
                    }
                }
            }
        }
    }
    img / sumwt
}

/// Max |a - b| over the inner 60% of the image, relative to `peak`.
fn inner_error(a: &Array2<f32>, b: &Array2<f64>, peak: f64) -> f64 {
    let (y0, y1, x0, x1) = (NY / 5, NY * 4 / 5, NX / 5, NX * 4 / 5);
    let mut e: f64 = 0.0;
    for y in y0..y1 {
        for x in x0..x1 {
            e = e.max((a[[y, x]] as f64 - b[[y, x]]).abs());
        }
    }
    e / peak
}

/// tclean's gridder is not exact: its spheroidal kernel of support 3 on a grid padded by 1.2
/// aliases about 1e-3 of the power into the inner image (tclean against an exact gridder on the
/// shared sets: 1.4e-4 to 4.7e-4 of the peak). Here the PSF agrees to 2e-3 and the noise-like
/// residual of random visibilities, whose peak is low against its total power, to 5.0e-3
/// (measured); 2e-3 and 1e-2 check the geometry (signs, orientation, centring, normalisation:
/// any error there is of order 1) with that margin.
#[test]
fn images_agree_with_a_direct_fourier_transform() {
    let chunks = chunks(11);
    let (psf, res, _) = images(&gridder(2), &chunks);
    let (dpsf, dres) = (dft(&chunks, true), dft(&chunks, false));
    assert!((psf[[NY / 2, NX / 2]] - 1.0).abs() < 1e-6, "PSF peak 1");
    let e = inner_error(&psf, &dpsf, 1.0);
    assert!(e < 2e-3, "psf error {e}");
    let peak = dres.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let e = inner_error(&res, &dres, peak);
    assert!(e < 1e-2, "residual error {e}");
}

/// Prediction of a point source off the centre against its exact visibilities: tclean's
/// degridder divides by the footprint's kernel sum, so a point gives visibilities of its flux
/// to the kernel's accuracy: 2.2e-3 of the flux at worst here (measured); 5e-3 checks the
/// geometry (a sign or centring error is of order 1).
#[test]
fn prediction_agrees_with_the_exact_visibilities() {
    let g = gridder(2);
    let (px, py) = (NX / 2 + 5, NY / 2 - 3);
    let mut model = Array2::<f32>::zeros((NY, NX));
    model[[py, px]] = 2.0;
    let planes = g.model_planes(&[model.view()]).unwrap();
    let (l, m) = (-(5.0) * CELL, -(3.0) * CELL);
    for (uvw, f, _, wt) in &chunks(5) {
        let mut out = Array2::from_elem(wt.dim(), Complex32::new(9.0, 9.0));
        let batch = VisBatch::new(uvw.view(), f, wt.view());
        let st = g.predict(&planes, &batch, out.view_mut()).unwrap();
        assert!(st.n_gridded > 0 && st.n_skipped == 0);
        for r in 0..uvw.nrows() {
            for (c, &fc) in f.iter().enumerate() {
                if wt[[r, c]] <= 0.0 {
                    assert_eq!(out[[r, c]], Complex32::new(0.0, 0.0), "masked: zero");
                    continue;
                }
                let (u, v) = (
                    uvw[[r, 0]] * fc / SPEED_OF_LIGHT,
                    uvw[[r, 1]] * fc / SPEED_OF_LIGHT,
                );
                let want = num_complex::Complex64::from_polar(
                    2.0,
                    2.0 * std::f64::consts::PI * (u * l + v * m),
                );
                let got = out[[r, c]];
                let d =
                    ((got.re as f64 - want.re).powi(2) + (got.im as f64 - want.im).powi(2)).sqrt();
                assert!(d < 2.0 * 5e-3, "row {r} chan {c}: {got} vs {want}");
            }
        }
    }
}

#[test]
fn planes_are_thread_independent_and_partial_planes_sum() {
    let chunks = chunks(3);
    let one = images(&gridder(1), &chunks);
    let four = images(&gridder(4), &chunks);
    assert_eq!(one, four);
    // Each chunk into its own planes, reduced: the same planes as both chunks into one.
    let g = gridder(3);
    let mut whole = g.new_planes(Pass::Residual);
    let mut parts: Vec<GridPlanes> = Vec::new();
    for (uvw, f, vis, wt) in &chunks {
        let batch = VisBatch::new(uvw.view(), f, wt.view()).with_vis(vis.view());
        g.grid(&mut whole, &batch).unwrap();
        let mut p = g.new_planes(Pass::Residual);
        g.grid(&mut p, &batch).unwrap();
        parts.push(p);
    }
    let mut sum = parts.remove(0);
    sum.add_assign(&parts[0]).unwrap();
    // Equal up to the order of the floating-point additions in cells both chunks reach
    // (a + b + c against a + (b + c)): a few ulps of the cell values.
    let (a, b) = (
        sum.grids()[0].as_double().unwrap(),
        whole.grids()[0].as_double().unwrap(),
    );
    let scale = b.iter().fold(0.0f64, |m, z| m.max(z.norm()));
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0.0f64, |m, (x, y)| m.max((x - y).norm()));
    assert!(diff <= 1e-13 * scale, "partial planes differ by {diff}");
    for (x, y) in sum.sums().iter().zip(whole.sums()) {
        assert!((x[0] - y[0]).abs() <= 1e-12 * y[0] && (x[1] - y[1]).abs() <= 1e-12 * y[1]);
    }
}

#[test]
fn tclean_geometry_and_checks() {
    let g = gridder(1);
    // 64 x 48 padded by 1.2: 80 (2^4 5) and 60 (2^2 3 5), even 2-3-5 numbers above 1.2 n - 0.5.
    assert_eq!(g.grid_shape(), (60, 80));
    assert_eq!(g.planes_bytes(Pass::Psf), 60 * 80 * 16);
    assert_eq!(g.kernel_support(), 7);
    assert!(matches!(
        CasaGridder::new(NX, NY, CELL, CELL, 0.5, 1),
        Err(GridError::Padding { .. })
    ));
    assert!(matches!(
        CasaGridder::new(1, NY, CELL, CELL, 1.2, 1),
        Err(GridError::ImageSize { .. })
    ));
    let (uvw, f, _, wt) = &chunks(1)[0];
    let mut two = GridPlanes::from_grids(Pass::Psf, vec![]);
    assert!(g
        .grid(&mut two, &VisBatch::new(uvw.view(), f, wt.view()))
        .is_err());
    // The residual pass needs visibilities.
    let mut res = g.new_planes(Pass::Residual);
    assert!(g
        .grid(&mut res, &VisBatch::new(uvw.view(), f, wt.view()))
        .is_err());
    // Visibilities whose footprint leaves the padded grid are skipped and counted.
    let far = Array2::from_elem((1, 3), 0.6 / CELL * SPEED_OF_LIGHT / 1e9);
    let w1 = Array2::from_elem((1, 1), 1.0f32);
    let mut p = g.new_planes(Pass::Psf);
    let st = g
        .grid(&mut p, &VisBatch::new(far.view(), &[1e9], w1.view()))
        .unwrap();
    assert_eq!((st.n_gridded, st.n_skipped), (0, 1));
}

/// tclean grids each visibility with its footprint normalised to a unit sum (measured against
/// tclean 6.7: two visibilities' relative amplitudes in its PSF follow the ratio of their
/// footprint sums, see docs/decisions.md (s9-ch13)): whatever its kernel offsets, a visibility
/// adds exactly its weight to the grid's sum, and the PSF pass's grid sum is the sum of the
/// weights (1e-12: double-precision sums of 49 terms). Before the normalisation the sums were
/// the weights times footprint sums of ~5.34, varying by 1.5e-4 with the offsets.
#[test]
fn each_footprint_adds_its_weight() {
    let g = gridder(1);
    let freqs = [1.0e9];
    // u, v at fractional cell positions that give different kernel offsets.
    let cell_m = SPEED_OF_LIGHT / 1.0e9 / (g.nxp as f64 * CELL);
    for (k, frac) in [0.0, 0.137, 0.25, 0.5, 0.731].into_iter().enumerate() {
        let uvw = Array2::from_shape_vec(
            (1, 3),
            vec![(3.0 + frac) * cell_m, -(5.0 + 0.5 * frac) * cell_m, 0.0],
        )
        .unwrap();
        let w = 0.5 + k as f32;
        let wt = Array2::from_elem((1, 1), w);
        let mut planes = g.new_planes(Pass::Psf);
        g.grid(&mut planes, &VisBatch::new(uvw.view(), &freqs, wt.view()))
            .unwrap();
        let total: Complex64 = planes.grids()[0].as_double().unwrap().iter().sum();
        assert!(
            (total.re - w as f64).abs() < 1e-12,
            "{frac}: {total} vs {w}"
        );
        assert!(total.im.abs() < 1e-12);
    }
}

/// `zero_unreached` zeroes exactly the samples the gridder skips (footprint off the padded grid):
/// uv spread to 1.2 x the Nyquist range, so that many leave the grid; the gridded sum of weights
/// is unchanged by it, and after it nothing is skipped. The ES `StandardGridder` given this reach
/// drops the same samples through the seam.
#[test]
fn zero_unreached_drops_what_the_gridder_skips() {
    let g = gridder(1);
    let mut s = 7u64;
    let mut rnd = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let freqs = [1.0e9, 1.5e9];
    let umax_m = 1.2 / CELL * SPEED_OF_LIGHT / 1.5e9;
    let n = 400;
    let uvw = Array2::from_shape_fn((n, 3), |_| umax_m * rnd());
    let wt = Array2::from_shape_fn((n, 2), |_| (rnd() + 0.6) as f32);
    let batch = VisBatch::new(uvw.view(), &freqs, wt.view());
    let before = g.grid(&mut g.new_planes(Pass::Psf), &batch).unwrap();
    assert!(before.n_skipped > 50 && before.n_gridded > 50, "{before:?}");

    let mut kept = wt.clone();
    g.drop_unreached(uvw.view(), &freqs, kept.view_mut());
    let zeroed = kept
        .iter()
        .zip(&wt)
        .filter(|(k, w)| **k == 0.0 && **w > 0.0)
        .count();
    assert_eq!(zeroed as u64, before.n_skipped);
    let after_batch = VisBatch::new(uvw.view(), &freqs, kept.view());
    let after = g.grid(&mut g.new_planes(Pass::Psf), &after_batch).unwrap();
    assert_eq!(after.n_skipped, 0);
    assert_eq!(after.sum_weights, before.sum_weights);

    let spec = crate::gridder::GridSpec {
        nx: NX,
        ny: NY,
        cell_x_rad: CELL,
        cell_y_rad: CELL,
        epsilon: 1e-6,
    };
    let es = crate::StandardGridder::new(crate::gridder::Gridder::new(spec).unwrap(), 1)
        .with_tclean_reach(g.clone());
    let mut es_kept = wt.clone();
    es.drop_unreached(uvw.view(), &freqs, es_kept.view_mut());
    assert_eq!(es_kept, kept);
}

#[test]
fn zero_unreached_skips_no_channel_of_a_row_whose_band_ends_reach() {
    // Rows whose footprint leaves the grid part-way through the band (and some channels out of
    // frequency order): the rows-at-once check must zero exactly the samples that the
    // per-sample check `Locator::reaches` refuses. Exact equality: both are the same decision.
    let g = gridder(2);
    let loc = g.locator();
    let mut s = 11u64;
    let mut rnd = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let mut freqs: Vec<f64> = (0..24).map(|c| 1.0e9 + c as f64 * 4.0e7).collect();
    freqs.swap(3, 17);
    freqs.swap(0, 23);
    let umax_m = 1.2 / CELL * SPEED_OF_LIGHT / 1.5e9;
    let n = 600;
    let uvw = Array2::from_shape_fn((n, 3), |_| umax_m * rnd());
    let wt = Array2::from_shape_fn((n, freqs.len()), |_| (rnd() + 0.6) as f32);
    let mut kept = wt.clone();
    g.zero_unreached(uvw.view(), &freqs, kept.view_mut());
    let (mut whole, mut straddling) = (0, 0);
    for r in 0..n {
        let reach: Vec<bool> = freqs
            .iter()
            .map(|&f| loc.reaches(uvw[[r, 0]], uvw[[r, 1]], f))
            .collect();
        for (c, &ok) in reach.iter().enumerate() {
            let want = if ok || wt[[r, c]] <= 0.0 {
                wt[[r, c]]
            } else {
                0.0
            };
            assert_eq!(kept[[r, c]], want, "row {r} channel {c}");
        }
        match reach.iter().filter(|&&ok| ok).count() {
            k if k == freqs.len() => whole += 1,
            0 => {}
            _ => straddling += 1,
        }
    }
    // Both kinds of row occur, so both paths of `zero_unreached` ran.
    assert!(whole > 50 && straddling > 20, "{whole} {straddling}");
}

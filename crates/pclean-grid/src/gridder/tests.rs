//! Unit tests of the gridder's API and internals (the DFT oracle tests are in
//! `tests/gridder_dft.rs`).

use super::tiles::{locate, locate_by_ceil, locate_on_grid};
use super::*;
use ndarray::Array2;

fn spec(eps: f64) -> GridSpec {
    GridSpec {
        nx: 64,
        ny: 48,
        cell_x_rad: 1e-5,
        cell_y_rad: 1.3e-5,
        epsilon: eps,
    }
}

/// A few hundred pseudo-random visibilities for `g` (rows of uvw in metres, one channel).
fn sample_vis(n: usize) -> (Array2<f64>, Vec<f64>, Array2<Complex32>, Array2<f32>) {
    let mut s = 12345u64;
    let mut rnd = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let uvw = Array2::from_shape_fn((n, 3), |_| 2000.0 * rnd());
    let vis = Array2::from_shape_fn((n, 1), |_| Complex32::new(rnd() as f32, rnd() as f32));
    let wt = Array2::from_shape_fn((n, 1), |_| (rnd() + 0.6) as f32);
    (uvw, vec![1.0e8], vis, wt)
}

#[test]
fn grid_into_image_equals_grid_to_image_in_single_precision() {
    for eps in [1e-5, 1e-7] {
        let g = Gridder::new(spec(eps)).unwrap();
        let (uvw, f, vis, wt) = sample_vis(300);
        let mut grid = g.new_grid();
        g.grid_vis(&mut grid, uvw.view(), &f, vis.view(), wt.view(), 2)
            .unwrap();
        let scale = 1.0 / 7.3;
        let want = g
            .grid_to_image(&grid, 2)
            .unwrap()
            .mapv(|x| (x * scale) as f32);
        let got = g.grid_into_image(grid, scale, 2).unwrap();
        // The same transforms in the same order: identical values.
        assert_eq!(got, want, "epsilon {eps}");
    }
    // Odd and even image sides (the image rows' places in the grid differ): the image made in
    // the grid's memory equals the one made beside it.
    for (nx, ny) in [(63, 47), (50, 61), (2, 3), (97, 96)] {
        let g = Gridder::new(GridSpec {
            nx,
            ny,
            ..spec(1e-5)
        })
        .unwrap();
        let (uvw, f, vis, wt) = sample_vis(200);
        let mut grid = g.new_grid();
        g.grid_vis(&mut grid, uvw.view(), &f, vis.view(), wt.view(), 1)
            .unwrap();
        let want = g.grid_to_image(&grid, 1).unwrap().mapv(|x| x as f32);
        let got = g.grid_into_image(grid, 1.0, 1).unwrap();
        assert_eq!(got, want, "{nx} x {ny}");
    }
}

/// Every row layout a transformed grid can have (`nu >= nx`, `nv >= ny`, even and odd sides,
/// the rows offset in the buffer): each image row ends up at `y * nx` with its values intact.
#[test]
fn image_rows_compact_without_overwriting_a_row_still_to_move() {
    for (nx, ny, nu, nv, first) in [
        (4, 4, 4, 4, 0),
        (5, 7, 6, 9, 0),
        (8, 6, 10, 8, 3),
        (3, 2, 3, 2, 0),
        (16, 15, 20, 18, 0),
        (2, 9, 40, 11, 1),
    ] {
        let rows = transform::image_to_grid(ny, nv);
        let src: Vec<usize> = rows.iter().map(|&r| 2 * first + 2 * nu * r).collect();
        let mut buf = vec![-1.0f32; 2 * (first + nu * nv)];
        for (y, &s) in src.iter().enumerate() {
            for x in 0..nx {
                buf[s + x] = (y * 1000 + x) as f32;
            }
        }
        transform::compact_image_rows(&mut buf, &src, nx);
        for y in 0..ny {
            for x in 0..nx {
                let want = (y * 1000 + x) as f32;
                assert_eq!(buf[y * nx + x], want, "{nx}x{ny} in {nu}x{nv}: ({y}, {x})");
            }
        }
    }
}

#[test]
fn gridding_does_not_depend_on_the_thread_count() {
    // Flushes in fixed phases: the grid is bit-identical with 1, 2 and 3 threads.
    let g = Gridder::new(GridSpec {
        nx: 256,
        ny: 256,
        ..spec(1e-5)
    })
    .unwrap();
    let (uvw, f, vis, wt) = sample_vis(3000);
    // Spread over many interior tiles (|u| up to a third of the grid).
    let uvw = uvw * 50.0;
    let grid = |n| {
        let mut grid = g.new_grid();
        g.grid_vis(&mut grid, uvw.view(), &f, vis.view(), wt.view(), n)
            .unwrap();
        grid
    };
    let one = grid(1);
    assert_eq!(one, grid(2));
    assert_eq!(one, grid(3));
}

#[test]
fn joint_vis_and_psf_pass_equals_the_two_passes() {
    // One bucketing and one kernel evaluation feed both grids: each is bit for bit its own
    // pass's, in single and double precision (epsilon 1e-5 and 1e-7), with 1 and 2 threads.
    for eps in [1e-5, 1e-7] {
        let g = Gridder::new(GridSpec {
            nx: 256,
            ny: 256,
            ..spec(eps)
        })
        .unwrap();
        let (uvw, f, vis, wt) = sample_vis(3000);
        let uvw = uvw * 50.0;
        for n in [1, 2] {
            let (mut a, mut b) = (g.new_grid(), g.new_grid());
            let s1 = g
                .grid_vis(&mut a, uvw.view(), &f, vis.view(), wt.view(), n)
                .unwrap();
            let s2 = g.grid_psf(&mut b, uvw.view(), &f, wt.view(), n).unwrap();
            let (mut c, mut d) = (g.new_grid(), g.new_grid());
            let s = g
                .grid_vis_and_psf(&mut c, &mut d, uvw.view(), &f, vis.view(), wt.view(), n)
                .unwrap();
            assert_eq!(a, c, "epsilon {eps}, {n} threads");
            assert_eq!(b, d, "epsilon {eps}, {n} threads");
            assert_eq!((s, s), (s1, s2));
        }
    }
}

#[test]
fn model_grid_and_degrid_equal_image_to_vis() {
    let g = Gridder::new(spec(1e-5)).unwrap();
    let (uvw, f, _, wt) = sample_vis(200);
    let model = Array2::from_shape_fn((48, 64), |(y, x)| ((y * 7 + x * 3) % 11) as f32 - 5.0);
    let mut a = Array2::zeros((200, 1));
    let mut b = Array2::zeros((200, 1));
    g.image_to_vis(
        model.mapv(f64::from).view(),
        uvw.view(),
        &f,
        Some(wt.view()),
        a.view_mut(),
        2,
    )
    .unwrap();
    let mg = g.model_grid(model.view(), 2).unwrap();
    g.degrid(&mg, uvw.view(), &f, Some(wt.view()), b.view_mut(), 2)
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn rejects_bad_specs() {
    assert!(matches!(
        Gridder::new(GridSpec {
            nx: 1,
            ..spec(1e-5)
        }),
        Err(GridError::ImageSize { .. })
    ));
    assert!(matches!(
        Gridder::new(GridSpec {
            cell_x_rad: 0.0,
            ..spec(1e-5)
        }),
        Err(GridError::CellSize { .. })
    ));
    assert!(matches!(
        Gridder::new(spec(1e-9)),
        Err(GridError::Epsilon { .. })
    ));
    let o = GridderOptions {
        sigma_max: 3.0,
        ..Default::default()
    };
    assert!(matches!(
        Gridder::with_options(spec(1e-5), o),
        Err(GridError::SigmaRange { .. })
    ));
}

#[test]
fn sigma_cap_is_honoured() {
    let o = GridderOptions {
        sigma_max: 1.5,
        ..Default::default()
    };
    let g = Gridder::with_options(spec(1e-5), o).unwrap();
    let sigma = g.oversampling();
    assert!(sigma <= 1.5);
    let (nv, nu) = g.grid_shape();
    let (nx, ny) = (g.spec().nx as f64, g.spec().ny as f64);
    assert!(nu as f64 >= sigma * nx && nv as f64 >= sigma * ny && nu % 2 == 0 && nv % 2 == 0);
}

#[test]
fn grid_mismatch_is_an_error() {
    let g = Gridder::new(spec(1e-5)).unwrap();
    let g2 = Gridder::new(spec(1e-7)).unwrap();
    let mut grid = g.new_grid();
    assert!(grid.add_assign(&g2.new_grid()).is_err());
    assert!(g2.grid_to_image(&grid, 1).is_err());
    grid.add_assign(&g.new_grid()).unwrap();
}

#[test]
fn locate_keeps_footprint_in_tile_buffer() {
    for &a in &[-31.999, -0.5, 0.0, 0.25, 31.9] {
        let (k, t) = locate(a, 64, 3.0, 6).unwrap();
        assert!((0.0..1.0).contains(&t));
        // first footprint cell (centred coords) = k - W; its distance to a + 32 is t - W/2
        let i0 = k as f64 - 6.0;
        assert!((i0 - (a + 32.0 - 3.0) - t).abs() < 1e-12);
    }
    assert!(locate(32.0, 64, 3.0, 6).is_none());
    assert!(locate(f64::NAN, 64, 3.0, 6).is_none());
}

/// The tile kernels' `locate_on_grid` and the bucketing's `locate_by_ceil` find exactly
/// `locate`'s key and offset (bit for bit: the products must not move) for on-grid positions
/// (`locate_by_ceil` also `None` off the grid, NaN and infinity included), integers and their neighbours included, where
/// truncation and `ceil` could disagree if either were wrong.
#[test]
fn locate_on_grid_equals_locate() {
    let (n, half, w) = ([1728usize, 1730], 3.0, 6);
    let mut vals = vec![0.0, -0.0, 1.0, -1.0, 863.0, -863.0, 0.5, -0.5];
    for k in -864i32..864 {
        let x = k as f64;
        vals.extend([x, x.next_up(), x.next_down(), x + 0.37, x - 1e-9]);
    }
    // A deterministic spread of fractional positions.
    let mut s = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..100_000 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        vals.push((s >> 11) as f64 / (1u64 << 53) as f64 * 1727.0 - 863.5);
    }
    let mut checked = 0;
    for (i, &a) in vals.iter().enumerate() {
        let b = vals[(i * 7 + 3) % vals.len()];
        for x in [a, b, a * 1.01, -b * 1.01, f64::NAN, f64::INFINITY] {
            let (l, c) = (locate(x, n[0], half, w), locate_by_ceil(x, n[0], half, w));
            assert_eq!(
                l.map(|(k, t)| (k, t.to_bits())),
                c.map(|(k, t)| (k, t.to_bits()))
            );
        }
        let (Some(lu), Some(lv)) = (locate(a, n[0], half, w), locate(b, n[1], half, w)) else {
            continue;
        };
        let [gu, gv] = locate_on_grid([a, b], n, half, w);
        assert_eq!((gu.0, gu.1.to_bits()), (lu.0, lu.1.to_bits()), "u = {a}");
        assert_eq!((gv.0, gv.1.to_bits()), (lv.0, lv.1.to_bits()), "v = {b}");
        checked += 1;
    }
    assert!(checked > 100_000);
}

/// Two rows' real parts from one transform (`fft_rows_real`) equal the real parts of the rows'
/// own transforms: odd and even lengths and row counts (the last row unpaired), rows in any
/// order, rows of a non-standard layout; the rows not named are left as they are.
#[test]
fn paired_real_row_transforms_equal_the_rows_own_transforms() {
    use ndarray::ShapeBuilder;
    use num_complex::Complex;
    use pclean_fft::{fft_rows, FftDirection};
    let mut s = 99u64;
    let mut rnd = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    for (nrow, nu, rows) in [
        (5, 12, vec![0, 1, 2, 3, 4]),
        (4, 9, vec![3, 0, 2]),
        (1, 7, vec![0]),
        (6, 16, vec![5, 1, 4, 2]),
    ] {
        let a = Array2::from_shape_fn((nrow, nu), |_| Complex::new(rnd(), rnd()));
        let mut full = a.clone();
        fft_rows(full.view_mut(), FftDirection::Backward);
        let mut got = a.clone();
        transform::fft_rows_real(got.view_mut(), &rows, FftDirection::Backward);
        // Column-major: no row is contiguous (each goes through the work row).
        let mut strided = Array2::from_shape_fn((nrow, nu).f(), |(r, k)| a[[r, k]]);
        transform::fft_rows_real(strided.view_mut(), &rows, FftDirection::Backward);
        let peak = full.iter().map(|c| c.re.abs()).fold(0.0, f64::max);
        for r in 0..nrow {
            for k in 0..nu {
                if rows.contains(&r) {
                    // f64 transforms of <= 16 values of size <= 1: rounding ~1e-15 of the peak;
                    // a wrong pairing or Hermitian part is off by O(1).
                    for (v, what) in [
                        (got[[r, k]].re, "contiguous"),
                        (strided[[r, k]].re, "strided"),
                    ] {
                        assert!(
                            (v - full[[r, k]].re).abs() <= 1e-12 * peak,
                            "{nrow}x{nu} {what} row {r} cell {k}: {v} vs {}",
                            full[[r, k]].re
                        );
                    }
                } else {
                    assert_eq!(got[[r, k]], a[[r, k]], "row {r} not named is unchanged");
                }
            }
        }
    }
}

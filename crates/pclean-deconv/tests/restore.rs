//! Restoration against analytic Gaussians: peak, position, FWHM and PA of a restored point;
//! flux conservation; common beams against a brute-force minimum-area search; re-convolution of
//! a beam-A image to beam B; pbcor blanking.

use ndarray::Array2;
use pclean_core::Beam;
use pclean_deconv::restore::{
    common_beam, convolve_to_beam, deconvolve_beam, gaussian_kernel, pbcor, pbcor_masked,
    restore_plane, RestoreError,
};
use std::f64::consts::{LN_2, PI};

const AS: f64 = PI / 180.0 / 3600.0;

fn beam(maj_as: f64, min_as: f64, pa_deg: f64) -> Beam {
    Beam {
        major_rad: maj_as * AS,
        minor_rad: min_as * AS,
        pa_rad: pa_deg.to_radians(),
    }
}

/// Peak-1 Gaussian `b` centred at pixel (x0, y0) (fractional allowed), RA increasing to the
/// left: east offset = -(x - x0) * cell. Written independently of the library's kernel.
fn analytic(b: &Beam, cell: f64, ny: usize, nx: usize, x0: f64, y0: f64) -> Array2<f64> {
    let (s, c) = b.pa_rad.sin_cos();
    Array2::from_shape_fn((ny, nx), |(y, x)| {
        let e = -(x as f64 - x0) * cell;
        let n = (y as f64 - y0) * cell;
        let along = e * s + n * c; // major axis points (east, north) = (sin pa, cos pa)
        let across = e * c - n * s;
        (-4.0
            * LN_2
            * (along * along / (b.major_rad * b.major_rad)
                + across * across / (b.minor_rad * b.minor_rad)))
            .exp()
    })
}

/// FWHM major/minor (rad) and PA (north through east, rad) from the second moments of a
/// positive blob (pixel values > `floor` only).
fn moments(img: &Array2<f32>, cell: f64) -> (f64, f64, f64) {
    let (mut w, mut se, mut sn) = (0.0, 0.0, 0.0);
    for ((y, x), v) in img.indexed_iter() {
        let v = *v as f64;
        w += v;
        se += v * -(x as f64) * cell;
        sn += v * y as f64 * cell;
    }
    let (me, mn) = (se / w, sn / w);
    let (mut ee, mut en, mut nn) = (0.0, 0.0, 0.0);
    for ((y, x), v) in img.indexed_iter() {
        let v = *v as f64;
        let e = -(x as f64) * cell - me;
        let n = y as f64 * cell - mn;
        ee += v * e * e;
        en += v * e * n;
        nn += v * n * n;
    }
    let (ee, en, nn) = (ee / w, en / w, nn / w);
    let tr = ee + nn;
    let d = ((ee - nn).powi(2) + 4.0 * en * en).sqrt();
    let to_fwhm = |var: f64| (8.0 * LN_2 * var).sqrt();
    let pa = 0.5 * (2.0 * en).atan2(nn - ee);
    (to_fwhm(0.5 * (tr + d)), to_fwhm(0.5 * (tr - d)), pa)
}

/// FWHM ellipse radius of `b` in direction `phi` (angle from north through east).
/// max |ours - want| over an image. A non-finite pixel of ours gives +inf, a failure: a bare
/// `fold(0.0, f64::max)` would drop a NaN (`f64::max` returns the other operand) and pass.
fn max_abs_err(ours: &Array2<f32>, want: &Array2<f64>) -> f64 {
    assert_eq!(ours.dim(), want.dim());
    ours.iter().zip(want).fold(0.0, |m, (o, w)| {
        let d = (*o as f64 - w).abs();
        if d.is_finite() {
            m.max(d)
        } else {
            f64::INFINITY
        }
    })
}

#[test]
fn max_abs_err_fails_on_a_nan_pixel_of_ours() {
    let want = Array2::<f64>::zeros((4, 4));
    let mut ours = Array2::<f32>::zeros((4, 4));
    ours[[1, 2]] = 0.5;
    assert_eq!(max_abs_err(&ours, &want), 0.5);
    ours[[3, 3]] = f32::NAN;
    assert_eq!(max_abs_err(&ours, &want), f64::INFINITY);
    ours[[3, 3]] = f32::INFINITY;
    assert!(
        max_abs_err(&ours, &want) >= 1e-3,
        "a tolerance check must fail"
    );
}

fn radius(b: &Beam, phi: f64) -> f64 {
    let d = phi - b.pa_rad;
    let (a, m) = (b.major_rad / 2.0, b.minor_rad / 2.0);
    1.0 / ((d.cos() / a).powi(2) + (d.sin() / m).powi(2)).sqrt()
}

fn encloses(outer: &Beam, inner: &Beam, rel_tol: f64) -> bool {
    (0..3600).all(|i| {
        let phi = i as f64 * PI / 3600.0;
        radius(outer, phi) >= radius(inner, phi) * (1.0 - rel_tol)
    })
}

#[test]
fn point_restores_to_peak_one_with_beam_shape_and_pa_sign() {
    let (n, cell) = (128, 0.5 * AS);
    let b = beam(6.0, 3.0, 30.0); // 12 x 6 pixels
    let mut model = Array2::<f32>::zeros((n, n));
    let (px, py) = (70, 60);
    model[[py, px]] = 1.0;
    let residual = Array2::<f32>::zeros((n, n));
    let img = restore_plane(model.view(), residual.view(), &b, cell, cell).unwrap();

    // Peak of 1 Jy/beam at the model pixel.
    let (imax, vmax) =
        img.indexed_iter().fold(
            ((0, 0), f32::MIN),
            |a, (i, v)| if *v > a.1 { (i, *v) } else { a },
        );
    assert_eq!(imax, (py, px));
    assert!((vmax - 1.0).abs() < 1e-5, "peak {vmax}");

    // Matches the analytic Gaussian everywhere (truncation at exp(-20) only).
    let want = analytic(&b, cell, n, n, px as f64, py as f64);
    let err = max_abs_err(&img, &want);
    assert!(err < 1e-5, "max deviation from analytic {err}");

    // FWHM and PA from second moments.
    let (maj, min, pa) = moments(&img, cell);
    assert!((maj / b.major_rad - 1.0).abs() < 1e-3, "major {}", maj / AS);
    assert!((min / b.minor_rad - 1.0).abs() < 1e-3, "minor {}", min / AS);
    assert!(
        (pa - b.pa_rad).abs() < 0.1f64.to_radians(),
        "pa {}",
        pa.to_degrees()
    );

    // PA sign explicitly: +30 deg tilts the major axis towards east = decreasing x. At 4 pixels
    // north the ridge is displaced 4 tan(30) = 2.3 pixels to the left (smaller x).
    let row = img.row(py + 4);
    let left = row[px - 2];
    let right = row[px + 2];
    assert!(left > 2.0 * right, "left {left} right {right}");
}

#[test]
fn kernel_is_peak_one_at_centre_and_matches_analytic() {
    let (nx, ny, cell) = (64, 48, 1.0 * AS);
    let b = beam(5.0, 3.0, -50.0);
    let k = gaussian_kernel(&b, cell, cell, nx, ny).unwrap();
    assert_eq!(k.dim(), (ny, nx));
    assert_eq!(k[[ny / 2, nx / 2]], 1.0);
    let want = analytic(&b, cell, ny, nx, (nx / 2) as f64, (ny / 2) as f64);
    for (a, w) in k.iter().zip(want.iter()) {
        // Zero below exp(-20) like CASA's MakeGaussianPSF.
        if *w > (-19.9f64).exp() {
            assert!((*a as f64 - w).abs() < 1e-6);
        } else if *w < (-20.1f64).exp() {
            assert_eq!(*a, 0.0);
        }
    }
}

#[test]
fn restored_flux_is_conserved() {
    // sum(restored) / beam area in pixels == model flux: guards kernel normalisation.
    let (n, cell) = (160, 0.4 * AS);
    let b = beam(3.0, 2.0, 75.0);
    let mut model = Array2::<f32>::zeros((n, n));
    // An extended Gaussian source made of many components plus a few points.
    let src = analytic(&beam(6.0, 4.0, -20.0), cell, n, n, 80.0, 75.0);
    for ((y, x), v) in src.indexed_iter() {
        model[[y, x]] = (0.01 * v) as f32;
    }
    model[[60, 100]] += 2.0;
    model[[100, 60]] += 0.5;
    let flux: f64 = model.iter().map(|v| *v as f64).sum();
    let img = restore_plane(
        model.view(),
        Array2::<f32>::zeros((n, n)).view(),
        &b,
        cell,
        cell,
    )
    .unwrap();
    let area_px = PI * b.major_rad * b.minor_rad / (4.0 * LN_2) / (cell * cell);
    let got = img.iter().map(|v| *v as f64).sum::<f64>() / area_px;
    assert!((got / flux - 1.0).abs() < 1e-3, "flux {got} vs {flux}");
}

#[test]
fn residual_is_added_and_no_wraparound() {
    let (ny, nx, cell) = (40, 50, 1.0 * AS);
    let b = beam(6.0, 6.0, 0.0);
    let mut model = Array2::<f32>::zeros((ny, nx));
    model[[20, 1]] = 1.0; // near the left edge (x = 1)
    let residual = Array2::from_shape_fn((ny, nx), |(y, x)| (y * nx + x) as f32 * 1e-3);
    let img = restore_plane(model.view(), residual.view(), &b, cell, cell).unwrap();
    let want = analytic(&b, cell, ny, nx, 1.0, 20.0);
    for ((y, x), v) in img.indexed_iter() {
        let w = want[[y, x]] + residual[[y, x]] as f64;
        // Circular convolution would put ~exp(-4ln2 (2/6)^2)=0.74 of the beam at x = nx-1.
        assert!((*v as f64 - w).abs() < 1e-5, "({y},{x}) {v} vs {w}");
    }
    // Empty model: the residual comes back unchanged.
    let z = Array2::<f32>::zeros((ny, nx));
    assert_eq!(
        restore_plane(z.view(), residual.view(), &b, cell, cell).unwrap(),
        residual
    );
}

#[test]
fn common_beam_of_identical_beams_is_that_beam() {
    let b = beam(4.0, 3.0, 40.0);
    assert_eq!(common_beam(&[b, b, b]).unwrap(), b);
    assert_eq!(common_beam(&[b]).unwrap(), b);
    // Null beams are ignored.
    let null = Beam {
        major_rad: 0.0,
        minor_rad: 0.0,
        pa_rad: 0.0,
    };
    assert_eq!(common_beam(&[null, b, null]).unwrap(), b);
    assert_eq!(common_beam(&[null]), Err(RestoreError::NoValidBeams));
    assert_eq!(common_beam(&[]), Err(RestoreError::NoValidBeams));
}

#[test]
fn common_beam_of_nested_beams_is_the_largest() {
    let big = beam(5.0, 4.0, 10.0);
    let small = beam(3.0, 2.0, 80.0);
    assert_eq!(common_beam(&[small, big, small]).unwrap(), big);
}

/// Smallest-area ellipse enclosing all `beams` by brute force: for each PA, scan the squared
/// semi-axis p along it; the smallest q across it follows from positive semi-definiteness of
/// diag(p, q) - Mᵢ in the rotated frame.
fn brute_force_area(beams: &[Beam]) -> f64 {
    let mut best = f64::INFINITY;
    let pmax = beams
        .iter()
        .map(|b| b.major_rad.powi(2))
        .fold(0.0, f64::max)
        * 4.0;
    for ia in 0..1800 {
        let th = ia as f64 * PI / 1800.0;
        // Mᵢ in the frame (along th, across th); major/minor are FWHM.
        let ms: Vec<(f64, f64, f64)> = beams
            .iter()
            .map(|b| {
                let d = b.pa_rad - th;
                let (sd, cd) = d.sin_cos();
                let (a2, b2) = (b.major_rad.powi(2), b.minor_rad.powi(2));
                (
                    a2 * cd * cd + b2 * sd * sd,
                    (a2 - b2) * sd * cd,
                    a2 * sd * sd + b2 * cd * cd,
                )
            })
            .collect();
        let pmin = ms.iter().map(|m| m.0).fold(0.0, f64::max);
        for ip in 1..=2000 {
            let p = pmin + (pmax - pmin) * (ip as f64 / 2000.0).powi(2);
            let q = ms
                .iter()
                .map(|m| m.2 + m.1 * m.1 / (p - m.0).max(1e-300))
                .fold(0.0, f64::max);
            best = best.min((p * q).sqrt());
        }
    }
    best // = major * minor of the best ellipse
}

#[test]
fn common_beam_of_crossed_ellipses_encloses_both_and_is_minimal() {
    for (b1, b2) in [
        (beam(6.0, 2.0, 0.0), beam(6.0, 2.0, 60.0)),
        (beam(5.0, 3.0, -20.0), beam(4.0, 3.5, 45.0)),
        (beam(4.0, 1.0, 10.0), beam(3.0, 2.0, 100.0)),
        (beam(6.0, 2.0, 0.0), beam(6.0, 2.0, 90.0)), // CASA's right-angle branch
    ] {
        let c = common_beam(&[b1, b2]).unwrap();
        assert!(encloses(&c, &b1, 1e-9) && encloses(&c, &b2, 1e-9), "{c:?}");
        // Both must deconvolve from it (that is what "common" is for).
        deconvolve_beam(&c, &b1).unwrap();
        deconvolve_beam(&c, &b2).unwrap();
        let brute = brute_force_area(&[b1, b2]);
        let got = c.major_rad * c.minor_rad;
        assert!(got <= brute * 1.01, "common {got} brute {brute} ({c:?})");
        assert!(
            got >= brute * 0.999,
            "smaller than brute force? {got} < {brute}"
        );
    }
    // Right angles: CASA's explicit answer (major of the larger, minor = other major).
    let c = common_beam(&[beam(6.0, 2.0, 0.0), beam(5.0, 2.0, 90.0)]).unwrap();
    assert!((c.major_rad / AS - 6.0).abs() < 1e-12 && (c.minor_rad / AS - 5.0).abs() < 1e-12);
    assert!(c.pa_rad.abs() < 1e-12);
}

#[test]
fn common_beam_of_many_encloses_all() {
    let beams: Vec<Beam> = (0..12)
        .map(|i| {
            let f = i as f64;
            beam(4.0 + 0.1 * f, 2.0 + 0.15 * f, -80.0 + 15.0 * f)
        })
        .collect();
    let c = common_beam(&beams).unwrap();
    for b in &beams {
        assert!(encloses(&c, b, 1e-9), "{b:?} not in {c:?}");
    }
    // CASA's greedy answer is not guaranteed minimal, but it should be near it.
    let brute = brute_force_area(&beams);
    assert!(c.major_rad * c.minor_rad <= brute * 1.1);
}

#[test]
fn deconvolve_inverts_convolution() {
    // Convolution adds FWHM² matrices; build `to` from `from` + g and recover g.
    let from = beam(3.0, 2.0, 20.0);
    let g = beam(2.5, 1.5, -40.0);
    let cov = |b: &Beam| {
        let (s, c) = b.pa_rad.sin_cos();
        let (a2, b2) = (b.major_rad.powi(2), b.minor_rad.powi(2));
        (
            a2 * s * s + b2 * c * c,
            (a2 - b2) * s * c,
            a2 * c * c + b2 * s * s,
        )
    };
    let (f, h) = (cov(&from), cov(&g));
    let (ee, en, nn) = (f.0 + h.0, f.1 + h.1, f.2 + h.2);
    let tr = ee + nn;
    let d = ((ee - nn).powi(2) + 4.0 * en * en).sqrt();
    let to = Beam {
        major_rad: (0.5 * (tr + d)).sqrt(),
        minor_rad: (0.5 * (tr - d)).sqrt(),
        pa_rad: 0.5 * (2.0 * en).atan2(nn - ee),
    };
    let got = deconvolve_beam(&to, &from).unwrap();
    assert!((got.major_rad / g.major_rad - 1.0).abs() < 1e-9);
    assert!((got.minor_rad / g.minor_rad - 1.0).abs() < 1e-9);
    assert!((got.pa_rad - g.pa_rad).abs() < 1e-9);
    // Same beam: CASA's "point source", a zero-size result.
    let same = deconvolve_beam(&from, &from).unwrap();
    assert_eq!(same.major_rad, 0.0);
    // Smaller target: cannot deconvolve.
    assert!(matches!(
        deconvolve_beam(&from, &to),
        Err(RestoreError::NotEnclosing { .. })
    ));
}

#[test]
fn convolve_to_beam_turns_beam_a_image_into_beam_b_image() {
    // An image of point sources seen with beam A (Jy/beam_A), convolved to B, must equal the
    // same sources seen with beam B (Jy/beam_B): peaks keep the source flux.
    let (ny, nx, cell) = (120, 140, 0.5 * AS);
    let a = beam(3.0, 2.0, 20.0); // 6 x 4 pixels
    let b = beam(4.5, 3.5, -30.0);
    let sources = [(70.0, 60.0, 1.0), (40.3, 30.7, 0.4), (100.0, 85.2, -0.3)];
    let make = |bm: &Beam| {
        let mut img = Array2::<f64>::zeros((ny, nx));
        for (x0, y0, s) in sources {
            img.scaled_add(s, &analytic(bm, cell, ny, nx, x0, y0));
        }
        img
    };
    let img_a = make(&a).mapv(|v| v as f32);
    let want = make(&b);
    let got = convolve_to_beam(img_a.view(), &a, &b, cell, cell).unwrap();
    let err = max_abs_err(&got, &want);
    assert!(err < 1e-3, "max error {err} (peak 1)");

    // A difference beam narrower than a pixel still gets the right Jy/beam (CASA would skip).
    let b2 = beam(3.05, 2.02, 20.0);
    let got = convolve_to_beam(img_a.view(), &a, &b2, cell, cell).unwrap();
    let want = {
        let mut img = Array2::<f64>::zeros((ny, nx));
        for (x0, y0, s) in sources {
            img.scaled_add(s, &analytic(&b2, cell, ny, nx, x0, y0));
        }
        img
    };
    let err = max_abs_err(&got, &want);
    assert!(err < 1e-3, "sub-pixel difference beam: max error {err}");

    // Same beam: unchanged. Smaller beam: error.
    assert_eq!(
        convolve_to_beam(img_a.view(), &a, &a, cell, cell).unwrap(),
        img_a
    );
    assert!(matches!(
        convolve_to_beam(img_a.view(), &b, &a, cell, cell),
        Err(RestoreError::NotEnclosing { .. })
    ));
}

#[test]
fn pbcor_blanks_below_the_limit() {
    let image = Array2::from_shape_vec((1, 5), vec![1.0f32, 2.0, 3.0, 4.0, 5.0]).unwrap();
    let pb = Array2::from_shape_vec((1, 5), vec![1.0f32, 0.5, 0.2, 0.1, 0.0]).unwrap();
    let c = pbcor(image.view(), pb.view(), 0.2).unwrap();
    assert_eq!(c[[0, 0]], 1.0);
    assert_eq!(c[[0, 1]], 4.0);
    // pb == pblimit is outside (tclean's mask is pb > |pblimit|).
    assert!(c[[0, 2]].is_nan() && c[[0, 3]].is_nan() && c[[0, 4]].is_nan());
    // Negative pblimit: same cut on |pblimit|.
    let c = pbcor(image.view(), pb.view(), -0.15).unwrap();
    assert!((c[[0, 2]] - 15.0).abs() < 1e-5 && c[[0, 3]].is_nan());
    let (v, m) = pbcor_masked(image.view(), pb.view(), 0.2).unwrap();
    assert_eq!(v.row(0).to_vec(), vec![1.0, 4.0, 0.0, 0.0, 0.0]);
    assert_eq!(m.row(0).to_vec(), vec![true, true, false, false, false]);
    assert!(matches!(
        pbcor(image.view(), pb.t(), 0.2),
        Err(RestoreError::ShapeMismatch { .. })
    ));
}

use super::*;

/// Synthetic multi-term PSFs: a Gaussian main lobe (sigma 2 pixels) at `(ny/2, nx/2)` times the
/// mean of `f^k` over 8 channels with fractional offsets `f` in [-0.3, 0.3] (unit weights), i.e.
/// what Taylor gridding gives when the beam does not change with frequency.
fn psf_terms(n: usize, nterms: usize) -> (Vec<Array2<f32>>, Vec<f64>) {
    let f: Vec<f64> = (0..8).map(|i| -0.3 + 0.6 * i as f64 / 7.0).collect();
    let c: Vec<f64> = (0..2 * nterms - 1)
        .map(|k| f.iter().map(|x| x.powi(k as i32)).sum::<f64>() / f.len() as f64)
        .collect();
    let g = Array2::from_shape_fn((n, n), |(y, x)| {
        let (dy, dx) = (y as f64 - (n / 2) as f64, x as f64 - (n / 2) as f64);
        (-(dy * dy + dx * dx) / (2.0 * 4.0)).exp()
    });
    let psfs = c.iter().map(|ck| g.mapv(|v| (v * ck) as f32)).collect();
    (psfs, c)
}

/// A point source of flux `s0` and spectral index `alpha` (Taylor terms `s0`, `s0 alpha`)
/// at `(py, px)`: its residual terms `R_t = sum_q PSF_{t+q} I_q` (exact, the PSF shifted); the
/// cleaned Taylor models recover `s0` and `s0 alpha` (to 1%: gain 0.3 over 300 iterations
/// leaves `0.7^k` of the peak, far below; the 1% covers the Gaussian's truncation on the patch).
#[test]
fn point_source_with_spectral_index_is_recovered() {
    let n = 96;
    let (psfs, c) = psf_terms(n, 2);
    let (s0, alpha) = (2.0f64, -0.7f64);
    let (py, px) = (40usize, 55usize);
    let shift = |img: &Array2<f32>| {
        Array2::from_shape_fn((n, n), |(y, x)| {
            let yy = y as isize - py as isize + (n / 2) as isize;
            let xx = x as isize - px as isize + (n / 2) as isize;
            if yy < 0 || xx < 0 || yy >= n as isize || xx >= n as isize {
                0.0
            } else {
                img[[yy as usize, xx as usize]] / c[0] as f32
            }
        })
    };
    let g = shift(&psfs[0]);
    let mut res: Vec<Array2<f32>> = (0..2)
        .map(|t| g.mapv(|v| (v as f64 * s0 * (c[t] + alpha * c[t + 1])) as f32))
        .collect();
    let mut models = vec![Array2::<f32>::zeros((n, n)); 2];
    let mut mt = MultiTermClean::new(2, vec![0.0], 0.0);
    let out = mt
        .minor_cycle(
            TermImages {
                residuals: res.iter_mut().map(|r| r.view_mut()).collect(),
                models: models.iter_mut().map(|m| m.view_mut()).collect(),
                psfs: psfs.iter().map(|p| p.view()).collect(),
                mask: None,
            },
            0.3,
            1e-5,
            300,
        )
        .unwrap();
    assert!(out.iterations > 10, "{out:?}");
    let m0: f64 = models[0].iter().map(|v| *v as f64).sum();
    let m1: f64 = models[1].iter().map(|v| *v as f64).sum();
    assert!((m0 - s0).abs() < 0.01 * s0, "tt0 {m0}");
    assert!((m1 / m0 - alpha).abs() < 0.01, "alpha {}", m1 / m0);
    // Every component at the source.
    assert!(models[0][[py, px]] as f64 > 0.99 * s0);
    // The image-domain residuals went down with the model.
    let peak = res[0].iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(peak < 1e-3 * s0 as f32, "residual peak {peak}");
}

/// The principal solution of a point source's residual terms at its pixel is its Taylor
/// coefficients (H^-1 R with R = H a).
#[test]
fn principal_solution_inverts_the_hessian() {
    let n = 64;
    let (psfs, c) = psf_terms(n, 3);
    let a = [1.5f64, -0.4, 0.2];
    let r: Vec<Array2<f32>> = (0..3)
        .map(|t| {
            let v: f64 = (0..3).map(|q| c[t + q] * a[q]).sum();
            psfs[0].mapv(|p| (p as f64 / c[0] * v) as f32)
        })
        .collect();
    let mut mt = MultiTermClean::new(3, vec![0.0], 0.0);
    let views: Vec<_> = r.iter().map(|x| x.view()).collect();
    let pv: Vec<_> = psfs.iter().map(|x| x.view()).collect();
    let sol = mt.principal_solution(&views, &pv).unwrap();
    for t in 0..3 {
        let got = sol[t][[n / 2, n / 2]] as f64;
        assert!(
            (got - a[t]).abs() < 1e-3 * a[0],
            "term {t}: {got} vs {}",
            a[t]
        );
    }
}

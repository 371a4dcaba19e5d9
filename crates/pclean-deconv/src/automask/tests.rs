//! Unit tests of auto-multithresh's statistics and smoothing.

use super::stats::{chauvenet_zscore, erfc, median_in_place};
use super::*;

#[test]
fn erfc_matches_known_values() {
    // erfc(1) = 0.157299207, erfc(3/sqrt2) = 0.0026997961 (tables); fit error < 1.2e-7 relative.
    assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
    assert!((erfc(3.0 / std::f64::consts::SQRT_2) - 0.002_699_796_1).abs() < 1e-9);
}

#[test]
fn chauvenet_zscore_matches_casacore_table() {
    // casacore's table: 185 points -> z = 3, 7893 -> 4, 872138 -> 5 (integer truncation in
    // its npts, so agree to ~0.01).
    for (n, z) in [(185usize, 3.0f64), (7893, 4.0), (872_138, 5.0)] {
        assert!(
            (chauvenet_zscore(n) - z).abs() < 0.01,
            "n={n}: {}",
            chauvenet_zscore(n)
        );
    }
}

#[test]
fn median_even_count_is_mean_of_middle_values() {
    let mut v = [4.0f32, 1.0, 3.0, 2.0];
    assert_eq!(median_in_place(&mut v), 2.5);
}

#[test]
fn smoothing_a_point_gives_the_beam() {
    // A single pixel smoothed by a round 4-pixel FWHM Gaussian: half maximum at 2 pixels.
    let n = 32;
    let mut m = Array2::from_elem((n, n), false);
    m[[16, 16]] = true;
    let cell = 1e-5;
    let beam = Beam {
        major_rad: 4.0 * cell,
        minor_rad: 4.0 * cell,
        pa_rad: 0.0,
    };
    let s = GaussianSmoother::new((n, n), &GaussianShape::new(&beam, cell, cell));
    let out = s.smooth(m.view());
    let peak = out[[16, 16]];
    assert!((out[[16, 18]] / peak - 0.5).abs() < 1e-4);
    assert!((out[[18, 16]] / peak - 0.5).abs() < 1e-4);
}

#[test]
fn gaussian_pa_is_north_through_east() {
    // PA 90 deg: major axis east-west, i.e. along x.
    let cell = 1.0;
    let g = GaussianShape::new(
        &Beam {
            major_rad: 4.0,
            minor_rad: 2.0,
            pa_rad: std::f64::consts::FRAC_PI_2,
        },
        cell,
        cell,
    );
    assert!((g.exponent(2.0, 0.0) - std::f64::consts::LN_2).abs() < 1e-9);
    assert!((g.exponent(0.0, 1.0) - std::f64::consts::LN_2).abs() < 1e-9);
    // PA 45 deg: major axis towards north-east = (-x, +y).
    let g = GaussianShape::new(
        &Beam {
            major_rad: 4.0,
            minor_rad: 2.0,
            pa_rad: std::f64::consts::FRAC_PI_4,
        },
        cell,
        cell,
    );
    let d = 2.0 / std::f64::consts::SQRT_2;
    assert!((g.exponent(-d, d) - std::f64::consts::LN_2).abs() < 1e-9);
}

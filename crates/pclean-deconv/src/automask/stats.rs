//! Residual statistics (step 2): robust noise by median and MAD, with casacore's Chauvenet
//! clipping for `fastnoise=false`.

use super::{NoiseMethod, PlaneStats};
use crate::masks;
use ndarray::ArrayView2;

/// Residual statistics of step 2; `None` when no pixel is in the pb mask.
pub fn plane_statistics(
    residual_yx: ArrayView2<f32>,
    pb_mask_yx: Option<ArrayView2<bool>>,
    prev_mask_yx: ArrayView2<bool>,
    fastnoise: bool,
) -> Option<PlaneStats> {
    let valid = |y: usize, x: usize, v: f32| {
        v.is_finite()
            && match pb_mask_yx {
                Some(p) => p[[y, x]],
                None => true,
            }
    };
    let mut all: Vec<f32> = Vec::new();
    let mut outside: Vec<f32> = Vec::new();
    let want_outside = !fastnoise && !masks::is_empty(prev_mask_yx);
    for ((y, x), &v) in residual_yx.indexed_iter() {
        if valid(y, x, v) {
            all.push(v);
            if want_outside && !prev_mask_yx[[y, x]] {
                outside.push(v);
            }
        }
    }
    if all.is_empty() {
        return None;
    }
    let max = all.iter().cloned().fold(f32::MIN, f32::max);
    let min = all.iter().cloned().fold(f32::MAX, f32::min);
    let (mut sample, method) = if fastnoise {
        (all, NoiseMethod::Classic)
    } else if want_outside && !outside.is_empty() {
        (outside, NoiseMethod::OutsideMask)
    } else {
        (chauvenet_clip(&all, 5), NoiseMethod::Chauvenet)
    };
    let npts = sample.len();
    let (median, mad) = median_and_mad(&mut sample);
    Some(PlaneStats {
        max,
        min,
        median,
        mad,
        robust_rms: 1.4826 * mad,
        npts,
        method,
    })
}

/// casacore's `ChauvenetCriterionStatistics(zscore=-1, maxIterations)`: iteratively keep values
/// within `mean ± z stddev`, z from Chauvenet's criterion for the current number of points,
/// until the count stops changing or `max_iter` iterations.
pub(super) fn chauvenet_clip(data: &[f32], max_iter: usize) -> Vec<f32> {
    let stats_in = |range: Option<(f64, f64)>| {
        let (mut n, mut s, mut s2) = (0usize, 0.0f64, 0.0f64);
        for &v in data {
            let v = v as f64;
            let inside = match range {
                Some((lo, hi)) => v >= lo && v <= hi,
                None => true,
            };
            if inside {
                n += 1;
                s += v;
                s2 += v * v;
            }
        }
        let mean = if n > 0 { s / n as f64 } else { 0.0 };
        let var = if n > 1 {
            ((s2 - s * mean) / (n as f64 - 1.0)).max(0.0)
        } else {
            0.0
        };
        (n, mean, var.sqrt())
    };
    let mut range = None;
    let mut prev_n = 0usize;
    for iter in 0..=max_iter {
        let (n, mean, sd) = stats_in(range);
        if iter > 0 && n == prev_n {
            break;
        }
        let z = chauvenet_zscore(n);
        range = Some((mean - z * sd, mean + z * sd));
        prev_n = n;
    }
    let (lo, hi) = range.unwrap_or((f64::MIN, f64::MAX));
    data.iter()
        .cloned()
        .filter(|&v| (v as f64) >= lo && (v as f64) <= hi)
        .collect()
}

/// z with `n erfc(z / √2) = 0.5` (casacore `ZScoreCalculator::getMaxZScore`).
pub(super) fn chauvenet_zscore(n: usize) -> f64 {
    match n {
        0 => return 0.5,
        1 => return 1.0,
        _ => {}
    }
    let (mut lo, mut hi) = (0.0f64, 40.0f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if n as f64 * erfc(mid / std::f64::consts::SQRT_2) > 0.5 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Complementary error function (Chebyshev fit, fractional error < 1.2e-7).
pub(super) fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Median and median absolute deviation (casacore: the mean of the two middle values for an
/// even count). `values` is reordered.
pub(super) fn median_and_mad(values: &mut [f32]) -> (f32, f32) {
    let med = median_in_place(values);
    for v in values.iter_mut() {
        *v = (*v - med).abs();
    }
    let mad = median_in_place(values);
    (med, mad)
}

pub(super) fn median_in_place(v: &mut [f32]) -> f32 {
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    let (left, upper, _) = v.select_nth_unstable_by(n / 2, |a, b| a.total_cmp(b));
    let upper = *upper;
    if n % 2 == 1 {
        upper
    } else {
        let lower = left.iter().cloned().fold(f32::MIN, f32::max);
        ((lower as f64 + upper as f64) / 2.0) as f32
    }
}

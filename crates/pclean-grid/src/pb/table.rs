//! CASA's tabulated voltage patterns (the `fillPBArray` of each `PBMath1D*` class): 10 000
//! samples from the centre to the model's maximum radius, single precision.
//!
//! Sample `i` lies at radius `i / iir` (arcmin * GHz) with `iir = 9999 / maxrad`. Models given as
//! power patterns (`is_vp = false`) store `sqrt` of the power (NaN where it is negative: CASA's
//! `sqrt`; such samples give a zero beam, see [`super::pb_image`]).

use super::{PbModel, VpShape};

/// Number of samples in CASA's voltage-pattern tables.
pub(super) const N_SAMPLES: usize = 10_000;

impl PbModel {
    /// The voltage pattern tabulated as CASA does for an image plane at `freq_hz` (only the
    /// wide-band inverse polynomials and the EVLA beams depend on the frequency).
    pub fn vp_samples(&self, freq_hz: f64) -> Vec<f32> {
        let iir = (N_SAMPLES - 1) as f64 / self.max_radius_arcmin_ghz;
        let radius = |i: usize| i as f64 / iir;
        let store = |v: f64| -> f32 {
            if self.is_vp {
                v as f32
            } else {
                v.sqrt() as f32
            }
        };
        match &self.shape {
            VpShape::Airy {
                dish_diameter_m,
                blockage_diameter_m,
            } => airy(
                *dish_diameter_m,
                *blockage_diameter_m,
                self.max_radius_arcmin_ghz,
            ),
            VpShape::Gauss {
                half_width_arcmin_ghz,
            } => {
                let fact = (1.0 / 2f64.ln()).sqrt() * half_width_arcmin_ghz;
                let (fact2, iir2) = (fact * fact, iir * iir);
                (0..N_SAMPLES)
                    .map(|i| store((-((i * i) as f64) / iir2 / fact2).exp()))
                    .collect()
            }
            VpShape::Poly { coeffs } => (0..N_SAMPLES)
                .map(|i| store(poly_in_r2(coeffs, radius(i))))
                .collect(),
            VpShape::InversePoly { coeffs } => (0..N_SAMPLES)
                .map(|i| inverse(poly_in_r2(coeffs, radius(i)), self.is_vp))
                .collect(),
            VpShape::WideInversePoly { coeffs, freqs_hz } => {
                let column = |n: usize| -> Vec<f32> {
                    (0..N_SAMPLES)
                        .map(|i| inverse(poly_in_r2(&coeffs[n], radius(i)), self.is_vp))
                        .collect()
                };
                // PBMath1D::nearestVPArray: the first fit at or above the frequency; linear in
                // frequency between fits (weight in single precision), the end fits beyond.
                let nf = freqs_hz.len();
                let ifit = freqs_hz.iter().position(|f| freq_hz <= *f).unwrap_or(nf);
                if ifit == 0 {
                    column(0)
                } else if ifit == nf {
                    column(nf - 1)
                } else {
                    let l = ((freq_hz - freqs_hz[ifit - 1]) / (freqs_hz[ifit] - freqs_hz[ifit - 1]))
                        as f32;
                    let (a, b) = (column(ifit - 1), column(ifit));
                    a.iter()
                        .zip(&b)
                        .map(|(a, b)| a * (1.0 - l) + b * l)
                        .collect()
                }
            }
            VpShape::CosPoly { coeffs, scales } => (0..N_SAMPLES)
                .map(|i| {
                    let mut vp = 0.0;
                    for (j, (c, s)) in coeffs.iter().zip(scales).enumerate() {
                        let x = (s * radius(i)).cos();
                        if x != 0.0 {
                            vp += c * x.powi(j as i32 + 1);
                        }
                    }
                    store(vp)
                })
                .collect(),
            VpShape::Numeric { values } => numeric(values)
                .into_iter()
                .map(|t| {
                    if self.is_vp {
                        t
                    } else if t <= 0.0 {
                        0.0
                    } else {
                        t.sqrt()
                    }
                })
                .collect(),
            VpShape::Evla => {
                let (_, coeffs) = super::evla::evla_coefficients(freq_hz);
                (0..N_SAMPLES)
                    .map(|i| (poly_in_r2(coeffs, radius(i))).sqrt() as f32)
                    .collect()
            }
        }
    }
}

/// `sum_j c_j r^(2j)`, accumulated as CASA does.
fn poly_in_r2(coeffs: &[f64], r: f64) -> f64 {
    let x2 = r * r;
    let (mut taper, mut y) = (0.0, 1.0);
    for c in coeffs {
        taper += y * c;
        y *= x2;
    }
    taper
}

/// `PBMath1DIPoly`: the voltage pattern is `1 / taper` (or `1 / sqrt(taper)` for a power
/// pattern), 0 where the polynomial is exactly 0.
fn inverse(taper: f64, is_vp: bool) -> f32 {
    if taper == 0.0 {
        0.0
    } else if is_vp {
        (1.0 / taper) as f32
    } else {
        (1.0 / taper.sqrt()) as f32
    }
}

/// `PBMath1DAiry::fillPBArray`.
fn airy(d: f64, b: f64, max_radius_arcmin_ghz: f64) -> Vec<f32> {
    // CASA maps the maximum radius (arcmin at 1 GHz) to the Bessel argument with the constant
    // 7.016 / (1.566 * 60) for a 24.5 m dish (7.016 is the second null of J1 x / x).
    let dimless_max = max_radius_arcmin_ghz * 7.016 / (1.566 * 60.0) * d / 24.5;
    let dimless_iir = (N_SAMPLES - 1) as f64 / dimless_max;
    let mut vp = vec![0f32; N_SAMPLES];
    vp[0] = 1.0;
    if b == 0.0 {
        for (i, v) in vp.iter_mut().enumerate().skip(1) {
            let x = i as f64 / dimless_iir;
            *v = (2.0 * libm::j1(x) / x) as f32;
        }
    } else {
        let area_ratio = (d / b) * (d / b);
        let area_norm = area_ratio - 1.0;
        // CASA scales the blockage term's argument by D/b (not b/D); reproduced as is.
        let length_ratio = d / b;
        for (i, v) in vp.iter_mut().enumerate().skip(1) {
            let x = i as f64 / dimless_iir;
            let xb = x * length_ratio;
            *v =
                ((area_ratio * 2.0 * libm::j1(x) / x - 2.0 * libm::j1(xb) / xb) / area_norm) as f32;
        }
    }
    vp
}

/// `PBMath1DNumeric::fillPBArray`: the `n` given samples (centre to maximum radius) are mirrored
/// into a periodic sequence of length `N = 2 (n - 1)` centred on `N / 2`, Fourier transformed,
/// zero-padded to `N_SAMPLES + 1` frequencies and transformed back to `2 N_SAMPLES` points; the
/// table is the second half divided by its first sample. Evaluated here as the equivalent cosine
/// series in double precision (CASA uses single-precision FFTs: differences ~1e-7).
fn numeric(values: &[f32]) -> Vec<f32> {
    let n = values.len();
    let big_n = 2 * (n - 1);
    let half = big_n / 2;
    // The mirrored sequence is symmetric about N/2, so its transform is (-1)^k C_k with C_k real;
    // the inverse transform at M/2 + t then is C_0 + 2 sum_k C_k cos(2 pi k t / M).
    let f = |j: usize| values[j] as f64;
    let c: Vec<f64> = (0..=half)
        .map(|k| {
            let mut s = f(0) + f(half) * if k % 2 == 0 { 1.0 } else { -1.0 };
            for j in 1..half {
                s +=
                    2.0 * f(j) * (2.0 * std::f64::consts::PI * (k * j) as f64 / big_n as f64).cos();
            }
            s
        })
        .collect();
    let m = 2.0 * N_SAMPLES as f64;
    let series = |t: usize| -> f64 {
        let mut s = c[0];
        for (k, ck) in c.iter().enumerate().skip(1) {
            s += 2.0 * ck * (2.0 * std::f64::consts::PI * (k * t) as f64 / m).cos();
        }
        s
    };
    let centre = series(0);
    (0..N_SAMPLES)
        .map(|t| (series(t) / centre) as f32)
        .collect()
}

/// casacore's `Sph_Conv` default (`MathFunc<Float>(SPHEROIDAL)`: support 3, parameter 1, i.e.
/// Schwab's rational approximation with `alpha = 1`, `m = 6`) at `k / 10`, `k = 0..=30`, which
/// CASA's SMA beam tabulates; single precision as `sphfn`.
pub(super) fn sma_spheroidal_samples() -> Vec<f32> {
    const P_LOW: [f32; 5] = [0.08203343, -0.3644705, 0.627866, -0.5335581, 0.2312756];
    const Q_LOW: [f32; 2] = [0.8212018, 0.2078043];
    const P_UP: [f32; 5] = [0.004028559, -0.03697768, 0.1021332, -0.1201436, 0.06412774];
    const Q_UP: [f32; 2] = [0.9599102, 0.2918724];
    (0..=30)
        .map(|k| {
            let eta = (k as f32 / 10.0) / 3.0;
            let eta2 = eta * eta;
            let (p, q, x) = if eta.abs() > 0.75 {
                (P_UP, Q_UP, eta2 - 1.0)
            } else {
                (P_LOW, Q_LOW, eta2 - 0.5625)
            };
            let psi = (p[0] + x * (p[1] + x * (p[2] + x * (p[3] + x * p[4]))))
                / (x * (q[0] + x * q[1]) + 1.0);
            if eta == 0.0 {
                psi
            } else if eta.abs() == 1.0 {
                0.0
            } else {
                ((1.0 - eta2) as f64 * psi as f64) as f32
            }
        })
        .collect()
}

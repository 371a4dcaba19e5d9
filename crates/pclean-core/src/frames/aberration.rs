//! The Earth's barycentric velocity: casacore's `Aberration(STANDARD)` series (Ron & Vondrák
//! 1986; `Aberration::calcAber`, tables in `MeasTable.cc` and `MeasTableMul.cc`), used for the
//! GEO -> BARY step of the Doppler factor (see the parent module).

use super::SECONDS_PER_DAY;
use crate::SPEED_OF_LIGHT;

/// `v += (c0 sin + c1 cos, c2 sin + c3 cos, c4 sin + c5 cos)` of `phase`: one term of the series.
fn add_sin_cos_terms(v: &mut [f64; 3], c: &[f64; 6], phase: f64) {
    let (s, co) = phase.sin_cos();
    v[0] += c[0] * s + c[1] * co;
    v[1] += c[2] * s + c[3] * co;
    v[2] += c[4] * s + c[5] * co;
}

/// The Earth's barycentric velocity in units of c, FK5 J2000 axes, at `t_cent` Julian centuries
/// of TDB since J2000: casacore's `Aberration::calcAber` (method STANDARD, not JPL), the Ron &
/// Vondrák (1986) series, evaluated exactly at the epoch (casacore adds `dt * dval` for an epoch
/// `dt` after its cached one; here `dt = 0`).
pub(crate) fn earth_velocity_c(t_cent: f64) -> [f64; 3] {
    // casacore's unit "AU" is c * IAU_tauA (UnitMap.cc); the tables are in 1e-8 AU/d.
    const AU_M: f64 = SPEED_OF_LIGHT * 499.0047837;
    const UNIT_MS: f64 = 1e-8 * AU_M / SECONDS_PER_DAY;
    let t = t_cent;
    let fa: [f64; 13] = std::array::from_fn(|i| ABER_FUND[i][0] + ABER_FUND[i][1] * t);
    let mut v = [0.0f64; 3];
    for (i, (arg, coef)) in ABER_ARG.iter().zip(ABER_COEF.iter()).enumerate() {
        // The first three terms have coefficients quadratic in t (MeasTableMulAber::init).
        let c: [f64; 6] = if i < 3 {
            let td = &ABER_TD_COEF[i];
            std::array::from_fn(|j| {
                (td[3 * j] as f64 + t * (td[3 * j + 1] as f64 + t * td[3 * j + 2] as f64)) * UNIT_MS
            })
        } else {
            coef.map(|c| c as f64 * UNIT_MS)
        };
        let phase: f64 = arg.iter().zip(&fa).map(|(&m, f)| m as f64 * f).sum();
        add_sin_cos_terms(&mut v, &c, phase);
    }
    for (arg, coef) in ABER_SUN_ARG.iter().zip(ABER_SUN_COEF.iter()) {
        let phase: f64 = arg.iter().zip(&fa[1..]).map(|(&m, f)| m as f64 * f).sum();
        add_sin_cos_terms(&mut v, &coef.map(|c| c as f64 * UNIT_MS), phase);
    }
    for (arg, coef) in ABER_EARTH_ARG.iter().zip(ABER_EARTH_COEF.iter()) {
        let phase: f64 = arg.iter().zip(&fa[8..]).map(|(&m, f)| m as f64 * f).sum();
        let (s, co) = phase.sin_cos();
        let c = coef.map(|c| c as f64 * UNIT_MS);
        v[0] += c[0] * s;
        v[1] += c[1] * co;
        v[2] += c[2] * co;
    }
    v.map(|x| x / SPEED_OF_LIGHT)
}

// Ron & Vondrák tables, transcribed by script from casacore `MeasTable.cc` (`calcAberArg`,
// `mulAberArg`, `mulAberSunArg`, `mulAberEarthArg`, `calcMulSunAber`, `calcMulEarthAber`) and
// `MeasTableMul.cc` (`MeasTableMulAber::theirMABERTD`, `theirMABER`).

/// Fundamental arguments, radians: `[a0, a1]` for `a0 + a1 * T` (T in centuries).
#[rustfmt::skip]
const ABER_FUND: [[f64; 2]; 13] = [
    [4.4026088, 2608.7903142],
    [3.1761467, 1021.3285546],
    [1.7534703, 628.3075849],
    [6.2034809, 334.0612431],
    [0.5995465, 52.9690965],
    [0.8740168, 21.3299095],
    [5.4812939, 7.4781599],
    [5.3118863, 3.8133036],
    [3.8103444, 8399.6847337],
    [5.1984667, 7771.3771486],
    [2.3555559, 8328.6914289],
    [6.2400601, 628.3019553],
    [1.6279052, 8433.4661601],
];
/// Multipliers of `fa[0..6]` for the 80 main terms.
#[rustfmt::skip]
const ABER_ARG: [[i8; 6]; 80] = [
    [0, 0, 1, 0, 0, 0],
    [0, 0, 2, 0, 0, 0],
    [0, 0, 3, 0, 0, 0],
    [0, 0, 2, 0, -1, 0],
    [0, 0, 3, -8, 3, 0],
    [0, 0, 5, -8, 3, 0],
    [0, 1, 0, 0, 0, 0],
    [0, 2, -1, 0, 0, 0],
    [0, 0, 1, 0, -2, 0],
    [0, 0, 1, 0, 1, 0],
    [0, 2, -2, 0, 0, 0],
    [0, 0, 1, 0, -1, 0],
    [0, 0, 4, 0, 0, 0],
    [0, 0, 3, 0, -2, 0],
    [0, 1, -2, 0, 0, 0],
    [0, 2, -3, 0, 0, 0],
    [0, 2, -4, 0, 0, 0],
    [0, 0, 3, -2, 0, 0],
    [0, 8, -12, 0, 0, 0],
    [0, 8, -14, 0, 0, 0],
    [0, 0, 0, 2, 0, 0],
    [0, 3, -4, 0, 0, 0],
    [0, 0, 2, 0, -2, 0],
    [0, 3, -3, 0, 0, 0],
    [0, 0, 2, -2, 0, 0],
    [0, 3, -6, 0, 0, 0],
    [0, 0, 0, 0, 1, 0],
    [0, 0, 9, -16, 4, 5],
    [0, 0, 7, -16, 4, 5],
    [0, 0, 1, 0, -3, 0],
    [0, 0, 2, 0, -3, 0],
    [0, 4, -5, 0, 0, 0],
    [0, 0, 1, -4, 0, 0],
    [0, 0, 3, 0, -3, 0],
    [0, 0, 3, -4, 0, 0],
    [0, 3, -2, 0, 0, 0],
    [0, 0, 4, -4, 0, 0],
    [0, 0, 2, 0, 0, -1],
    [0, 0, 3, -3, 0, 0],
    [0, 0, 3, 0, -1, 0],
    [0, 0, 1, 0, 0, 1],
    [0, 0, 0, 0, 2, 0],
    [0, 0, 2, -1, 0, 0],
    [0, 0, 1, 0, 0, -1],
    [0, 5, -6, 0, 0, 0],
    [0, 0, 1, -3, 0, 0],
    [0, 3, -6, 4, 0, 0],
    [0, 3, -8, 4, 0, 0],
    [0, 0, 4, -5, 0, 0],
    [0, 1, 1, 0, 0, 0],
    [0, 3, -5, 0, 0, 0],
    [0, 6, -7, 0, 0, 0],
    [0, 10, -9, 0, 0, 0],
    [0, 0, 2, -8, 3, 0],
    [0, 0, 6, -8, 3, 0],
    [0, 0, 1, -2, 0, 0],
    [0, 0, 9, -15, 0, 0],
    [0, 0, 1, 0, -2, 5],
    [0, 0, 1, 0, 2, -5],
    [0, 0, 1, 0, 0, -2],
    [0, 0, 0, 1, 0, 0],
    [0, 0, 7, -15, 0, 0],
    [0, 2, 0, 0, 0, 0],
    [0, 0, 2, 0, 2, -5],
    [2, 0, -2, 0, 0, 0],
    [0, 0, 9, -19, 0, 3],
    [0, 0, 11, -19, 0, 3],
    [0, 0, 2, -5, 0, 0],
    [0, 5, -9, 0, 0, 0],
    [0, 11, -10, 0, 0, 0],
    [0, 4, -4, 0, 0, 0],
    [0, 0, 2, 0, -4, 0],
    [0, 0, 5, -6, 0, 0],
    [0, 5, -5, 0, 0, 0],
    [0, 0, 4, 0, -3, 0],
    [0, 4, -6, 0, 0, 0],
    [0, 5, -7, 0, 0, 0],
    [0, 0, 4, 0, -2, 0],
    [0, 0, 3, 0, -4, 0],
    [0, 7, -8, 0, 0, 0],
];
/// Multipliers of `fa[1..8]` for the 17 solar-perturbation terms.
#[rustfmt::skip]
const ABER_SUN_ARG: [[i8; 7]; 17] = [
    [0, 0, 0, 1, 0, 0, 0],
    [0, 0, 0, 0, 1, 0, 0],
    [0, 0, 0, 2, 0, 0, 0],
    [0, 0, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 2, 0, 0],
    [1, 0, 0, 0, 0, 0, 0],
    [0, 1, 0, 0, 0, 0, 0],
    [0, 0, 0, 3, 0, 0, 0],
    [0, 0, 0, 1, -5, 0, 0],
    [0, 0, 0, 3, -5, 0, 0],
    [1, 0, 0, 0, 0, 0, -2],
    [0, 0, 0, 0, 3, 0, 0],
    [0, 0, 0, 2, -6, 0, 0],
    [0, 0, 0, 2, -4, 0, 0],
    [0, 0, 0, 0, 0, 2, 0],
    [0, 0, 0, 1, 0, 0, -2],
];
/// Multipliers of `fa[8..13]` for the 17 Earth-Moon terms.
#[rustfmt::skip]
const ABER_EARTH_ARG: [[i8; 5]; 17] = [
    [1, 0, 0, 0, 0],
    [0, 0, 0, 0, 1],
    [1, 0, 1, 0, 0],
    [1, 2, -1, 0, 0],
    [1, -2, 0, 0, 0],
    [1, 2, 0, 0, 0],
    [0, 0, 1, 0, 1],
    [1, -2, 1, 0, 0],
    [1, 0, 2, 0, 0],
    [0, 2, 0, 0, -1],
    [1, 0, 0, 0, -2],
    [1, 0, 0, 1, 0],
    [1, 0, 0, -1, 0],
    [1, 4, -2, 0, 0],
    [1, -2, 2, 0, 0],
    [1, 2, 1, 0, 0],
    [0, 2, -1, 0, 1],
];
/// (x sin, x cos, y sin, y cos, z sin, z cos), 1e-8 AU/d, solar-perturbation terms.
#[rustfmt::skip]
const ABER_SUN_COEF: [[i16; 6]; 17] = [
    [719, 0, 6, -660, -15, -283],
    [159, 0, 2, -147, -6, -61],
    [34, -9, -8, -31, -4, -13],
    [17, 0, 0, -16, 0, -7],
    [16, 0, 1, -15, -3, -6],
    [0, -9, -8, 0, -3, 1],
    [6, 0, 0, -6, 0, -2],
    [5, 0, 0, -5, 0, -2],
    [2, -1, -1, -2, 0, -1],
    [-2, 0, 0, -2, 0, -1],
    [-2, 0, 0, 2, 0, 1],
    [-1, 0, 0, -1, 0, 0],
    [-1, 0, 0, 1, 0, 0],
    [1, 0, 0, 1, 0, 0],
    [1, 0, 0, -1, 0, 0],
    [-1, 0, 0, 1, 0, 0],
    [1, 0, 0, 0, 0, 0],
];
/// (x sin, y cos, z cos), 1e-8 AU/d, Earth-Moon terms.
#[rustfmt::skip]
const ABER_EARTH_COEF: [[i16; 3]; 17] = [
    [715, -656, -285],
    [0, 26, -59],
    [39, -36, -16],
    [8, -7, -3],
    [5, -5, -2],
    [4, -4, -2],
    [0, 1, -3],
    [-2, 2, 1],
    [2, -2, -1],
    [0, 1, -2],
    [-1, 1, 1],
    [-1, 1, 0],
    [1, -1, 0],
    [1, -1, 0],
    [-1, 1, 0],
    [1, 0, 0],
    [0, 0, -1],
];
/// Terms 0..3: for each of (x sin, x cos, y sin, y cos, z sin, z cos) the coefficients of
/// (1, T, T^2), 1e-8 AU/d.
#[rustfmt::skip]
const ABER_TD_COEF: [[i32; 18]; 3] = [
    [-1719919, -2, 0, -25, 0, 0, 25, -13, -1, 1578094, 156, 0, 10, 32, 1, 684187, -358, 0],
    [6434, 141, 0, 28007, -107, -1, 25697, -95, -1, -5904, -130, 0, 11141, -48, 0, -2559, -55, 0],
    [486, -5, 0, -236, -4, 0, -216, -4, 0, -446, 5, 0, -94, -2, 0, -193, 2, 0],
];
/// (x sin, x cos, y sin, y cos, z sin, z cos), 1e-8 AU/d, main terms (rows 0..3 unused: see
/// `ABER_TD_COEF`).
#[rustfmt::skip]
const ABER_COEF: [[i16; 6]; 80] = [
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0],
    [31, 1, 1, -28, 0, -12],
    [8, -28, 25, 8, 11, 3],
    [8, -28, -25, -8, -11, -3],
    [-25, 0, 0, 23, 0, 10],
    [21, 0, 0, -19, 0, -8],
    [16, 0, 0, 15, 1, 7],
    [11, -1, -1, -10, -1, -5],
    [0, -11, -10, 0, -4, 0],
    [-11, -2, -2, 9, -1, 4],
    [-7, -8, -8, 6, -3, 3],
    [-10, 0, 0, 9, 0, 4],
    [-9, 0, 0, -9, 0, -4],
    [-9, 0, 0, -8, 0, -4],
    [0, -9, 8, 0, 3, 0],
    [8, 0, 0, -8, 0, -3],
    [-4, -7, -6, 4, -3, 2],
    [-4, -7, 6, -4, 3, -2],
    [-6, -5, -4, 5, -2, 2],
    [-1, -1, -2, -7, 1, -4],
    [4, -6, -5, -4, -2, -2],
    [0, -7, -6, 0, -3, 0],
    [5, -5, -4, -5, -2, -2],
    [4, -1, 1, 4, 0, 2],
    [-4, 0, 0, 3, 0, 1],
    [-1, -3, -3, 1, -1, 0],
    [-1, -3, 3, -1, 1, 0],
    [3, 1, 0, 3, 0, 1],
    [3, -1, -1, 1, 0, 1],
    [-2, 0, 0, -3, 0, -1],
    [1, -2, 2, 1, 1, 1],
    [-2, -1, 0, 2, 0, 1],
    [1, -2, -2, -1, -1, 0],
    [2, 0, 0, -2, 0, -1],
    [2, -1, -1, -2, 0, -1],
    [2, 0, 0, -2, 0, -1],
    [2, -1, -1, -1, 0, -1],
    [0, -2, -1, 0, -1, 0],
    [0, -1, -1, 0, -1, 0],
    [-1, -1, -1, 1, -1, 0],
    [1, 0, 0, -1, 0, -1],
    [0, -1, -1, 0, -1, 0],
    [-2, 0, 0, -1, 0, 0],
    [1, -1, 1, 1, 0, 0],
    [-1, 1, 1, 1, 0, 0],
    [-1, 1, -1, -1, 0, 0],
    [1, -1, -1, 0, 0, 0],
    [0, 1, 1, 0, 0, 0],
    [0, -1, 1, 0, 0, 0],
    [-1, 0, 0, -1, 0, 0],
    [1, 0, 0, -1, 0, 0],
    [1, 0, 0, 1, 0, 0],
    [-1, 0, 0, 1, 0, 0],
    [1, 0, 0, 1, 0, 0],
    [-1, 0, 0, 1, 0, 0],
    [1, 0, 0, -1, 0, 0],
    [-1, 0, 0, 1, 0, 0],
    [1, 0, 0, 1, 0, 0],
    [-1, 0, 0, 1, 0, 0],
    [-1, 0, 0, -1, 0, 0],
    [0, -1, -1, 0, 0, 0],
    [0, 1, 1, 0, 0, 0],
    [0, 1, -1, 0, 0, 0],
    [0, 1, -1, 0, 0, 0],
    [0, 1, 1, 0, 0, 0],
    [0, -1, 1, 0, 0, 0],
    [0, 1, -1, 0, 0, 0],
    [1, 0, 0, 0, 0, 0],
    [0, 1, 0, 0, 0, 0],
    [1, 0, 0, 0, 0, 0],
    [0, -1, 0, 0, 0, 0],
    [0, 1, 0, 0, 0, 0],
    [-1, 0, 0, 0, 0, 0],
    [0, -1, 0, 0, 0, 0],
    [0, 0, 1, 0, 0, 0],
    [0, 0, 1, 0, 0, 0],
    [0, 0, 0, 1, 0, 0],
    [0, 0, 0, -1, 0, 0],
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frames::{DAYS_PER_CENTURY, MJD_J2000};

    /// The Ron & Vondrák velocity against SOFA's `epv00` (a different, VSOP87-based model):
    /// measured 0.14 m/s apart at most per component (5e-6 of the 30 km/s; the series' stated
    /// precision), so 0.5 m/s catches any mis-transcribed table row (the smallest term is 0.17 m/s
    /// but a wrong multiplier moves a whole term of up to 29.8 km/s).
    #[test]
    fn earth_velocity_agrees_with_sofa_epv00() {
        for mjd_tt in [51_544.5, 55_000.25, 60_462.2] {
            let t = (mjd_tt - MJD_J2000) / DAYS_PER_CENTURY;
            let v = earth_velocity_c(t);
            let (_, pvb) = sofars::eph::epv00(2_400_000.5, mjd_tt).unwrap();
            let au_per_day_c = 149_597_870_700.0 / SECONDS_PER_DAY / SPEED_OF_LIGHT;
            for i in 0..3 {
                let diff_ms = (v[i] - pvb[1][i] * au_per_day_c) * SPEED_OF_LIGHT;
                assert!(diff_ms.abs() < 0.5, "component {i}: {diff_ms} m/s");
            }
        }
    }
}

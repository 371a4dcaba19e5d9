//! FK4 (B1950) <-> FK5 (J2000) as casacore's `MeasMath::deapplyJ2000toB1950` and
//! `applyJ2000toB1950` do it, and the galactic and supergalactic rotations of `MeasData` and
//! `MeasTable`.
//!
//! casacore's B1950 -> J2000: remove the E-terms of aberration (the vector
//! `A = A0 + (T + 0.5) * 1 arcsec * A1`, `p' = p - A + (p . A) p`, renormalised), then
//! `p'' = M0 p' + (T * 1 arcsec) M2 p'` (renormalised), with `T` the epoch in Julian centuries
//! from J2000: fixed at 1979.9 (`T = -0.201`) for B1950_VLA, and for B1950 the frame's epoch
//! (UT1) when it has one, otherwise 2000.0 (casacore's `measures.b1950.d_epoch` default). J2000 ->
//! B1950 inverts that by iteration to 1e-12 rad. The matrices and E-term vectors are the published
//! constants casacore uses (Standish 1982 / Aoki et al. 1983 as tabulated in `MeasData.cc`).

use super::geom::{mat_mul, mat_t_vec, mat_vec, normalise, rot_y, rot_z};

/// casacore `MeasData::MToJ2000(0)`: the FK4 -> FK5 rotation at the reference epoch.
const M0: [[f64; 3]; 3] = [
    [0.9999256782, -0.0111820611, -0.0048579477],
    [0.0111820610, 0.9999374784, -0.0000271765],
    [0.0048579479, -0.0000271474, 0.9999881997],
];
/// casacore `MeasData::MToJ2000(2)`: its rate per arcsecond of epoch (the fictitious proper motion).
const M2: [[f64; 3]; 3] = [
    [-0.000551, -0.238565, 0.435739],
    [0.238514, -0.002667, -0.008541],
    [-0.435623, 0.012254, 0.002117],
];
/// casacore `MeasData::MToB1950(4)`: the approximate inverse used as the first guess.
const M4: [[f64; 3]; 3] = [
    [0.9999256781, 0.0111820610, 0.0048579479],
    [-0.0111820610, 0.9999374785, -0.0000271765],
    [-0.0048579477, -0.0000271765, 0.9999881998],
];
/// casacore `MeasTable::AberETerm`: E-terms (radians) and their rate (arcsec-per-century units).
const E_TERM: [f64; 3] = [-1.62557e-6, -0.31919e-6, -0.13843e-6];
const E_TERM_RATE: [f64; 3] = [1.245e-3, -1.580e-3, -0.659e-3];

const ARCSEC: f64 = std::f64::consts::PI / (180.0 * 3600.0);

/// The epoch (Julian centuries from J2000) of casacore's B1950_VLA: 1979.9.
pub(super) const B1950_VLA_EPOCH_CENT: f64 = 19.799 - 20.0;

fn e_terms(t_cent: f64) -> [f64; 3] {
    let k = (t_cent + 0.5) * ARCSEC;
    std::array::from_fn(|i| E_TERM[i] + k * E_TERM_RATE[i])
}

/// B1950 (FK4, epoch `t_cent`) unit vector -> J2000 (FK5) unit vector.
pub(super) fn b1950_to_j2000(p: &[f64; 3], t_cent: f64) -> [f64; 3] {
    let a = e_terms(t_cent);
    let pa = p[0] * a[0] + p[1] * a[1] + p[2] * a[2];
    let q = normalise(std::array::from_fn(|i| p[i] - a[i] + pa * p[i]));
    let r0 = mat_vec(&M0, &q);
    let r2 = mat_vec(&M2, &q);
    normalise(std::array::from_fn(|i| r0[i] + t_cent * ARCSEC * r2[i]))
}

/// J2000 (FK5) unit vector -> B1950 (FK4, epoch `t_cent`): the inverse of [`b1950_to_j2000`] by
/// fixed-point iteration (as casacore does), converged to 1e-12 rad.
pub(super) fn j2000_to_b1950(j: &[f64; 3], t_cent: f64) -> [f64; 3] {
    let mut b = normalise(mat_vec(&M4, j));
    for _ in 0..50 {
        let back = b1950_to_j2000(&b, t_cent);
        let d: [f64; 3] = std::array::from_fn(|i| back[i] - j[i]);
        let corr = mat_vec(&M4, &d);
        b = normalise(std::array::from_fn(|i| b[i] - corr[i]));
        if d.iter().map(|x| x * x).sum::<f64>().sqrt() <= 1e-12 {
            break;
        }
    }
    b
}

/// casacore `MeasData::GALtoJ2000`: galactic -> J2000 is `G p`, J2000 -> galactic `G^T p`.
const GAL_TO_J2000: [[f64; 3]; 3] = [
    [-0.0548777621, 0.4941083214, -0.8676666398],
    [-0.8734369591, -0.4448308610, -0.1980741871],
    [-0.4838350026, 0.7469822433, 0.4559837919],
];
/// casacore `MeasData::GALtoB1950`: galactic -> B1950 is `G p`, B1950 -> galactic `G^T p`.
const GAL_TO_B1950: [[f64; 3]; 3] = [
    [-0.0669887394, 0.4927284661, -0.8676008112],
    [-0.8727557659, -0.4503469580, -0.1883746017],
    [-0.4835389146, 0.7445846333, 0.4601997848],
];

pub(super) fn galactic_to_j2000(g: &[f64; 3]) -> [f64; 3] {
    mat_vec(&GAL_TO_J2000, g)
}
pub(super) fn j2000_to_galactic(j: &[f64; 3]) -> [f64; 3] {
    mat_t_vec(&GAL_TO_J2000, j)
}
pub(super) fn galactic_to_b1950(g: &[f64; 3]) -> [f64; 3] {
    mat_vec(&GAL_TO_B1950, g)
}
pub(super) fn b1950_to_galactic(b: &[f64; 3]) -> [f64; 3] {
    mat_t_vec(&GAL_TO_B1950, b)
}

/// Galactic -> supergalactic: the supergalactic pole at (l, b) = (47.37, +6.32) degrees and its
/// zero of longitude at (137.37, 0) degrees (casacore `MeasTable::galToSupergal`, de Vaucouleurs).
pub(super) fn supergal_axes() -> [[f64; 3]; 3] {
    let unit = |l: f64, b: f64| {
        let (l, b) = (l.to_radians(), b.to_radians());
        [b.cos() * l.cos(), b.cos() * l.sin(), b.sin()]
    };
    let x = unit(137.37, 0.0);
    let z = unit(47.37, 90.0 - 83.68);
    let y = [
        z[1] * x[2] - z[2] * x[1],
        z[2] * x[0] - z[0] * x[2],
        z[0] * x[1] - z[1] * x[0],
    ];
    [x, y, z]
}

/// casacore `MeasData::MJDB1950` (B1950.0, MJD) and `MeasData::TROPCEN` (days per tropical century).
const MJD_B1950: f64 = 33_281.923_459_05;
const TROPICAL_CENTURY_D: f64 = 36_524.219_878_2;
/// casacore's B1950 precession reference epoch, B1850 (`MeasData::MJDB1850`).
const MJD_B1850: f64 = -3_242.296_42;

/// Newcomb's (FK4) precession from the mean equator and equinox of B1950.0 to those of `tdb_mjd`
/// (casacore `Precession::B1950`, used for BMEAN and BTRUE): the angles zeta, z, theta are
/// polynomials in the tropical centuries `t` from B1950.0 whose rate coefficients depend on
/// `T`, the tropical centuries from B1850.0 to B1950.0 (Andoyer/Newcomb as tabulated by
/// casacore's `MeasTable::precessionCoef1950`). Returns `P` with `mean_of_date = P * b1950`.
pub(super) fn newcomb_precession(tdb_mjd: f64) -> [[f64; 3]; 3] {
    let big_t = (MJD_B1950 - MJD_B1850) / TROPICAL_CENTURY_D;
    let t = (tdb_mjd - MJD_B1950) / TROPICAL_CENTURY_D;
    // Per angle: (c0 + c1 T + c2 T^2) t + (c3 + c4 T) t^2 + c5 t^3, arcseconds.
    let angle = |c: [f64; 6]| {
        ((c[0] + c[1] * big_t + c[2] * big_t * big_t) * t
            + (c[3] + c[4] * big_t) * t * t
            + c[5] * t * t * t)
            * ARCSEC
    };
    let zeta = angle([2303.5545, 1.3972, 0.00006, 0.3024, -0.00027, 0.017995]);
    let theta = angle([2005.112, -0.8529, -0.00037, -0.4265, -0.00037, -0.0418]);
    let z = angle([2303.5545, 1.3972, 0.00006, 1.0948, 0.00039, 0.018325]);
    mat_mul(&mat_mul(&rot_z(-z), &rot_y(theta)), &rot_z(-zeta))
}

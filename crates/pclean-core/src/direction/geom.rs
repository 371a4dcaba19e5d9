//! Small 3-vector helpers for the frame conversions.

pub(super) fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// `m v`.
pub(super) fn mat_vec(m: &[[f64; 3]; 3], v: &[f64; 3]) -> [f64; 3] {
    [dot(&m[0], v), dot(&m[1], v), dot(&m[2], v)]
}

/// `m^T v`.
pub(super) fn mat_t_vec(m: &[[f64; 3]; 3], v: &[f64; 3]) -> [f64; 3] {
    std::array::from_fn(|j| (0..3).map(|i| m[i][j] * v[i]).sum())
}

pub(super) fn normalise(v: [f64; 3]) -> [f64; 3] {
    let n = dot(&v, &v).sqrt();
    v.map(|x| x / n)
}

/// Rotation about the x axis by `a` (SOFA `iauRx` convention: frame rotation).
pub(super) fn rot_x(a: f64) -> [[f64; 3]; 3] {
    let (s, c) = a.sin_cos();
    [[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]]
}

/// Rotation about the y axis by `a` (SOFA `iauRy` convention).
pub(super) fn rot_y(a: f64) -> [[f64; 3]; 3] {
    let (s, c) = a.sin_cos();
    [[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]]
}

/// Rotation about the z axis by `a` (SOFA `iauRz` convention).
pub(super) fn rot_z(a: f64) -> [[f64; 3]; 3] {
    let (s, c) = a.sin_cos();
    [[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]]
}

/// `a b`.
pub(super) fn mat_mul(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..3).map(|k| a[i][k] * b[k][j]).sum()))
}

/// Unit vector of longitude `lon` and latitude `lat` (radians).
pub(super) fn unit(lon: f64, lat: f64) -> [f64; 3] {
    let (sa, ca) = lon.sin_cos();
    let (sd, cd) = lat.sin_cos();
    [cd * ca, cd * sa, sd]
}

/// Longitude in [0, 2 pi) and latitude of a vector.
pub(super) fn lon_lat(v: &[f64; 3]) -> (f64, f64) {
    let lon = v[1].atan2(v[0]).rem_euclid(2.0 * std::f64::consts::PI);
    (lon, v[2].atan2(v[0].hypot(v[1])))
}

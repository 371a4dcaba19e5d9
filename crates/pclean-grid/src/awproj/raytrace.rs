//! The aperture illumination of an (E)VLA antenna by geometric optics, as CASA's A-projection
//! computes it (its `BeamCalc`): rays from the feed, reflected by the subreflector (the surface
//! that makes every feed-to-aperture path equal for the on-axis feed position) and by the shaped
//! main reflector, to the aperture plane at the height of the dish rim. Each aperture point gets
//! - the amplitude `sqrt(dOmega/dA x G(theta))`: the solid angle at the feed per unit aperture area
//!   (three neighbouring rays) times the feed's Gaussian power pattern `G` (its edge taper from the
//!   band's taper polynomial at the subreflector's half-angle);
//! - the phase `2 pi (L - L0) / lambda`, `L` the ray's path length and `L0` the central ray's: the
//!   feed sits off the optical axis, so the phase has a gradient that points the beam off axis;
//! - the polarisation: the feed's circular (R, L) field carried through both reflections, whose
//!   `x - i y` (R) and `x + i y` (L) components are the co-polar illuminations. The off-axis feed
//!   makes the R and L phase gradients opposite: the beam squint of circular feeds;
//! - zero inside the central hole, outside the rim, and behind the feed legs (plane-wave blockage
//!   inside the leg feet, spherical-wave blockage outside).
//!
//! The aperture is sampled on an `n x n` grid of cells `dx` metres (CASA: the uv cell of the
//! convolution function times the wavelength), each cell the sum of `oversample^2` sub-samples,
//! rotated by the parallactic angle `pa` (+90 deg, x mirrored, as CASA orients it).

use super::geometry::{surface, BandGeometry, DISH_RADIUS_M};
use ndarray::Array2;
use num_complex::Complex64;
use std::f64::consts::PI;

type V3 = [f64; 3];

fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
fn norm(a: V3) -> V3 {
    let r = dot(a, a).sqrt();
    [a[0] / r, a[1] / r, a[2] / r]
}
fn axpy(a: V3, t: f64, d: V3) -> V3 {
    [a[0] + t * d[0], a[1] + t * d[1], a[2] + t * d[2]]
}

/// One antenna at one frequency, ready for tracing.
#[derive(Clone, Debug)]
pub struct Optics {
    geom: BandGeometry,
    feed: V3,
    feeddir: V3,
    /// Constant total path of the ideal (on-axis) system: subreflector height plus feed distance.
    k: f64,
    zedge: f64,
    bestparabola: f64,
    /// The feed's Gaussian power-pattern constant (from the edge taper).
    fa2pi: f64,
    legfootz: f64,
    lambda: f64,
}

/// One traced ray: where it leaves the feed, hits the subreflector and the dish, and crosses the
/// aperture plane.
#[derive(Clone, Copy, Debug)]
struct Ray {
    sub: V3,
    dish: V3,
    aper: V3,
}

impl Optics {
    /// The optics of `geom` at `freq_hz`.
    pub fn new(geom: &BandGeometry, freq_hz: f64) -> Self {
        let ghz = freq_hz / 1e9;
        // CASA mirrors the tabulated feed x.
        let feed = [-geom.feed[0], geom.feed[1], geom.feed[2]];
        let zs = geom.sub_h - feed[2];
        let d = (feed[0] * feed[0] + feed[1] * feed[1] + zs * zs).sqrt();
        let taper = geom.taper_at(ghz);
        let zedge = surface(DISH_RADIUS_M).0;
        Optics {
            geom: *geom,
            feed,
            feeddir: [-feed[0] / d, -feed[1] / d, zs / d],
            k: geom.sub_h + d,
            zedge,
            bestparabola: zedge / (DISH_RADIUS_M * DISH_RADIUS_M),
            fa2pi: 2.0 * PI * taper.abs().sqrt() * 0.1874 / geom.subangle_deg.to_radians().sin(),
            legfootz: surface(geom.legfoot).0,
            lambda: pclean_core::SPEED_OF_LIGHT / freq_hz,
        }
    }

    /// The subreflector point (and its unit normal) that reflects the feed's ray onto the dish
    /// at `(x, y)`.
    fn sub_from_dish(&self, x: f64, y: f64) -> (V3, V3) {
        let r = (x * x + y * y).sqrt();
        let (z, m) = surface(r);
        let dish = [x, y, z];
        let point = if r == 0.0 {
            [0.0, 0.0, self.geom.sub_h]
        } else {
            // The ray leaving the dish upwards (reflected vertical), then the point on it whose
            // path to the feed closes the constant total path.
            let m2 = (2.0 * m.atan()).tan();
            let w = 1.0 / (1.0 + m2 * m2).sqrt();
            let dir = [-m2 * (x / r) * w, -m2 * (y / r) * w, w];
            let d = sub(self.feed, dish);
            let dl = self.k + z;
            let t = 0.5 * (dot(d, d) - dl * dl) / (-dl + dot(dir, d));
            axpy(dish, t, dir)
        };
        let sf = norm(sub(self.feed, point));
        let sd = norm(sub(dish, point));
        let n = norm([sf[0] + sd[0], sf[1] + sd[1], sf[2] + sd[2]]);
        (point, n)
    }

    /// The dish point (and its normal) hit by the ray from `from` along `dir`.
    fn intersect_dish(&self, from: V3, dir: V3) -> (V3, V3) {
        const NITER: usize = 7;
        let bp = self.bestparabola;
        let a = bp * (dir[0] * dir[0] + dir[1] * dir[1]);
        let b = 2.0 * bp * (dir[0] * from[0] + dir[1] * from[1]) - dir[2];
        let c = bp * (from[0] * from[0] + from[1] * from[1]) - from[2];
        let mut t = 0.5 * ((b * b - 4.0 * a * c).sqrt() - b) / a;
        let mut iter = 0;
        loop {
            let (x, y) = (from[0] + t * dir[0], from[1] + t * dir[1]);
            let r = (x * x + y * y).sqrt();
            let (z, m) = surface(r);
            let nz = 1.0 / (1.0 + m * m).sqrt();
            let n = [-m * (x / r) * nz, -m * (y / r) * nz, nz];
            let p = [x, y, z];
            if iter >= NITER {
                return (p, n);
            }
            t = dot(n, sub(p, from)) / dot(n, dir);
            iter += 1;
        }
    }

    /// Trace the ray that meets the dish near `(x, y)`; `None` where the subreflector faces away.
    fn trace(&self, x: f64, y: f64) -> Option<Ray> {
        let (sp, sn) = self.sub_from_dish(x, y);
        if !(-1.0..=0.0).contains(&sn[2]) {
            return None;
        }
        let fu = norm(sub(self.feed, sp));
        let nf = dot(sn, fu);
        let du = [
            2.0 * sn[0] * nf - fu[0],
            2.0 * sn[1] * nf - fu[1],
            2.0 * sn[2] * nf - fu[2],
        ];
        let (dp, dn) = self.intersect_dish(sp, du);
        let nd = dot(dn, du);
        let au = [
            du[0] - 2.0 * dn[0] * nd,
            du[1] - 2.0 * dn[1] * nd,
            du[2] - 2.0 * dn[2] * nd,
        ];
        let t = (self.zedge - dp[2]) / au[2];
        Some(Ray {
            sub: sp,
            dish: dp,
            aper: axpy(dp, t, au),
        })
    }

    fn path_length(&self, ray: &Ray) -> f64 {
        let l = |a: V3, b: V3| dot(sub(a, b), sub(a, b)).sqrt();
        l(self.feed, ray.sub) + l(ray.sub, ray.dish) + l(ray.dish, ray.aper)
    }

    /// The feed's power gain towards the subreflector point of `ray`.
    fn feed_gain(&self, ray: &Ray) -> f64 {
        let v = norm(sub(ray.sub, self.feed));
        let c = dot(self.feeddir, v);
        (2.0 * -0.083 * self.fa2pi * self.fa2pi * (1.0 - c * c)).exp()
    }

    /// Solid angle at the feed of the triangle of three rays' subreflector points.
    fn solid_angle(&self, r1: &Ray, r2: &Ray, r3: &Ray) -> f64 {
        let n3 = norm(sub(r3.sub, self.feed));
        let n1 = sub(norm(sub(r1.sub, self.feed)), n3);
        let n2 = sub(norm(sub(r2.sub, self.feed)), n3);
        let c = cross(n1, n2);
        0.5 * dot(c, c).sqrt()
    }

    /// Whether a feed leg blocks `ray`: the plane wave (dish to aperture) inside the leg feet,
    /// the spherical wave (subreflector to dish) outside.
    fn leg_blocked(&self, ray: &Ray) -> bool {
        let g = &self.geom;
        if g.legwidth == 0.0 {
            return false;
        }
        let r0 = ray.dish;
        let rr = r0[0] * r0[0] + r0[1] * r0[1];
        let inside = rr < g.legfoot * g.legfoot;
        let dr = if inside {
            sub(ray.aper, r0)
        } else {
            sub(ray.sub, r0)
        };
        let offset = if g.legwidth > 0.0 { 0.0 } else { PI / 4.0 };
        let apex = [0.0, 0.0, g.legapex];
        (0..4).any(|k| {
            let th = offset + k as f64 * PI / 2.0;
            let l0 = [g.legfoot * th.cos(), g.legfoot * th.sin(), self.legfootz];
            let ll = g.legfoot * g.legfoot;
            if (l0[0] * r0[0] + l0[1] * r0[1]) / (ll * rr).sqrt() < 0.7 {
                return false;
            }
            let n = norm(cross(dr, sub(apex, l0)));
            dot(sub(r0, l0), n).abs() <= 0.5 * g.legwidth.abs()
        })
    }

    /// The feed's field (3-vector) for circular polarisation `hand` (+1: R, -1: L), in the
    /// feed's own basis turned to the x axis.
    fn feed_field(&self, hand: f64) -> [Complex64; 3] {
        let dir = self.feeddir;
        let (hhat, vhat) = if dir[0] == 0.0 && dir[1] == 0.0 {
            ([0.0, 1.0, 0.0], [1.0, 0.0, 0.0])
        } else {
            let v = norm([dir[1], -dir[0], 0.0]);
            (cross(v, dir), v)
        };
        let s = std::f64::consts::FRAC_1_SQRT_2;
        let p = [Complex64::new(s, 0.0), Complex64::new(0.0, hand * s)];
        let phase = hhat[1].atan2(hhat[0]);
        let (sp, cp) = phase.sin_cos();
        let q = [cp * p[0] + sp * p[1], -sp * p[0] + cp * p[1]];
        std::array::from_fn(|i| hhat[i] * q[0] + vhat[i] * q[1])
    }
}

/// The field `e` after both reflections of `ray` (mirror about the bisector at each surface).
fn carry_field(optics: &Optics, ray: &Ray, e: [Complex64; 3]) -> [Complex64; 3] {
    let v1 = norm(sub(ray.sub, optics.feed));
    let v2 = norm(sub(ray.dish, ray.sub));
    let v3 = norm(sub(ray.aper, ray.dish));
    let mut e = e;
    for r in [norm(sub(v1, v2)), norm(sub(v2, v3))] {
        let f: Complex64 = (0..3).map(|i| r[i] * e[i]).sum();
        e = std::array::from_fn(|i| 2.0 * r[i] * f - e[i]);
    }
    e
}

/// The sampled co-polar aperture illuminations `(R, L)` (see the module docs): `n x n` cells of
/// `dx_m` metres centred on cell `n / 2`, each the sum of `oversample^2` sub-samples, at
/// parallactic angle `pa_rad`. Indexed `[[a, b]]` as CASA's aperture image `(b, a)`: axis 0
/// (rows) along the traced x, axis 1 along the traced y.
pub fn aperture(
    optics: &Optics,
    n: usize,
    dx_m: f64,
    oversample: usize,
    pa_rad: f64,
) -> (Array2<Complex64>, Array2<Complex64>) {
    let os = oversample.max(1);
    let ds = dx_m / os as f64;
    let x0 = -((n / 2) as f64) * dx_m - dx_m / 2.0 + ds / 2.0;
    let (pas, pac) = (pa_rad + PI / 2.0).sin_cos();
    let r2max = DISH_RADIUS_M * DISH_RADIUS_M;
    let h2 = optics.geom.hole_radius * optics.geom.hole_radius;
    let eps = ds / 4.0;
    let l0 = optics
        .trace(0.0, 0.00001)
        .map_or(0.0, |r| optics.path_length(&r));
    let fields = [optics.feed_field(1.0), optics.feed_field(-1.0)];
    let mut out_r = Array2::<Complex64>::zeros((n, n));
    let mut out_l = Array2::<Complex64>::zeros((n, n));
    let i_unit = Complex64::new(0.0, 1.0);
    for i in 0..n * os {
        for j in 0..n * os {
            let (xs, ys) = (x0 + i as f64 * ds, x0 + j as f64 * ds);
            let x = -(pac * xs - pas * ys);
            let y = pas * xs + pac * ys;
            let rr = x * x + y * y;
            if x.abs() > DISH_RADIUS_M || y.abs() > DISH_RADIUS_M || rr > r2max || rr < h2 {
                continue;
            }
            let Some(v) = sample(optics, x, y, eps, ds, l0, &fields) else {
                continue;
            };
            let (er, el) = v;
            out_r[[i / os, j / os]] += er[0] - i_unit * er[1];
            out_l[[i / os, j / os]] += el[0] + i_unit * el[1];
        }
    }
    (out_r, out_l)
}

/// The aperture-plane fields (x, y components) of both hands at aperture point `(x, y)`, or
/// `None` where blocked or untraceable.
type Fields = ([Complex64; 2], [Complex64; 2]);

fn sample(
    optics: &Optics,
    x: f64,
    y: f64,
    eps: f64,
    ds: f64,
    l0: f64,
    fields: &[[Complex64; 3]; 2],
) -> Option<Fields> {
    // Aim the ray so it crosses the aperture at (x, y).
    let (mut x1, mut y1) = (x, y);
    for _ in 0..6 {
        let ray = optics.trace(x1, y1)?;
        x1 += x - ray.aper[0];
        y1 += y - ray.aper[1];
    }
    let ray = optics.trace(x1, y1)?;
    if optics.leg_blocked(&ray) {
        return None;
    }
    let ray_y = optics.trace(x1, if y < 0.0 { y1 + eps } else { y1 - eps })?;
    let ray_x = optics.trace(if x < 0.0 { x1 + eps } else { x1 - eps }, y1)?;
    let (dx1, dy1) = (ray_x.aper[0] - ray.aper[0], ray_x.aper[1] - ray.aper[1]);
    let (dx2, dy2) = (ray_y.aper[0] - ray.aper[0], ray_y.aper[1] - ray.aper[1]);
    let da = 0.5 * (dx1 * dy2 - dx2 * dy1).abs();
    let d_omega = optics.solid_angle(&ray_x, &ray_y, &ray) / da * ds * ds;
    let amp = (d_omega * optics.feed_gain(&ray)).sqrt();
    let phase = 2.0 * PI * (optics.path_length(&ray) - l0) / optics.lambda;
    let fp = Complex64::from_polar(amp, phase);
    let r = carry_field(optics, &ray, fields[0]);
    let l = carry_field(optics, &ray, fields[1]);
    let out = ([fp * r[0], fp * r[1]], [fp * l[0], fp * l[1]]);
    let finite = out
        .0
        .iter()
        .chain(&out.1)
        .all(|c| c.re.is_finite() && c.im.is_finite());
    // A degenerate ray triangle at the rim (no aperture area, or a ray past the dish's edge):
    // no sample, as a blocked one.
    finite.then_some(out)
}

//! The epoch-dependent direction frames, following casacore's `MCDirection` routes:
//! J2000 -> JMEAN (IAU 1976 precession) -> JTRUE (IAU 1980 nutation) -> TECLIPTIC;
//! JMEAN -> MECLIPTIC; J2000 -> JNAT (solar light deflection) -> APP (annual aberration, then
//! precession-nutation) = TOPO for stars -> HADEC (casacore's diurnal-aberration shift, then the hour
//! angle from the local apparent sidereal time) -> AZEL / AZELGEO (geocentric / geodetic latitude)
//! -> AZELSW / AZELSWGEO (azimuth from the south).
//!
//! The models come from SOFA (`sofars`): `pmat76`, `nutm80`, `obl80`, `nut80`, `gmst82` + `eqeq94`,
//! `ldsun` with the Earth's heliocentric position from `epv00`, and the relativistic aberration
//! formula with casacore's own Earth velocity series (`crate::frames`). Polar motion (the context's
//! x, y from the IERS tables) moves HADEC, AZEL* and ITRF as casacore's `MeasMath` does: a small
//! rotation of the (-HA, Dec) vector by x, y (SOFA's `atioq` form) turned by the local apparent
//! sidereal time (see `Site::polar_local`). TDB is taken as TT.

use super::geom::{dot, lon_lat, mat_t_vec, mat_vec, normalise, rot_x, unit};
use super::{DirectionFrame, SkyContext, SkyFrameError};
use crate::SPEED_OF_LIGHT;
use std::f64::consts::PI;

const DJM0: f64 = 2_400_000.5;

/// The Sun's angular semi-diameter at 1 AU, 959.63" (IAU; casacore's `MeasData::SunSemiDiameter`).
const SUN_SEMI_DIAMETER_RAD: f64 = 959.63 / 3600.0 * PI / 180.0;

/// What the epoch-dependent frames need at one epoch.
pub(super) struct EarthEpoch {
    tt: (f64, f64),
    /// Julian centuries of TT since J2000.
    t_cent: f64,
    /// Local apparent sidereal time (radians) and the observatory's geocentric latitude, geodetic
    /// latitude and distance from the geocentre (m), when an observatory is known.
    site: Option<Site>,
}

struct Site {
    last: f64,
    longitude: f64,
    lat_geocentric: f64,
    lat_geodetic: f64,
    radius_m: f64,
    /// Polar motion x, y (radians) turned by the local apparent sidereal time (casacore's
    /// `MeasMath::applyPolarMotion` puts LAST in the Euler angle; SOFA's `xpl`, `ypl` turn by
    /// the longitude instead: 450 mas from casacore here, against 2.5 mas with LAST).
    polar_local: [f64; 2],
}

impl Site {
    /// The polar-motion rotation of the (-HA, Dec) vector, SOFA's `atioq` (`inverse`: its
    /// transpose, exact to O(x^2) ~ 1e-12 rad).
    fn polar_motion(&self, ha: f64, dec: f64, inverse: bool) -> (f64, f64) {
        let [xpl, ypl] = self.polar_local;
        let (xpl, ypl) = if inverse { (-xpl, -ypl) } else { (xpl, ypl) };
        let [x, y, z] = unit(-ha, dec);
        let v = [x + xpl * z, y - ypl * z, z - xpl * x + ypl * y];
        let (lon, lat) = lon_lat(&normalise(v));
        (-lon, lat)
    }
}

impl EarthEpoch {
    pub(super) fn new(frame: DirectionFrame, ctx: &SkyContext) -> Result<Self, SkyFrameError> {
        let t = ctx
            .epoch_utc_mjd_s
            .ok_or(SkyFrameError::NeedsEpoch { frame })?;
        let bad = |_| SkyFrameError::BadEpoch { time_utc_mjd_s: t };
        let utc = t / 86_400.0;
        let (tai1, tai2) = sofars::ts::utctai(DJM0, utc).map_err(bad)?;
        let tt = sofars::ts::taitt(tai1, tai2).map_err(bad)?;
        let t_cent = ((tt.0 - DJM0 - 51_544.5) + tt.1) / 36_525.0;
        let site = match ctx.observatory_itrf_m {
            Some(xyz) => {
                let (ut1a, ut1b) = sofars::ts::utcut1(DJM0, utc, ctx.dut1_s).map_err(bad)?;
                let gast = sofars::erst::gmst82(ut1a, ut1b) + sofars::erst::eqeq94(tt.0, tt.1);
                let (_, lat_geodetic, _) = sofars::coords::gc2gd(1, xyz).map_err(bad)?;
                let last = gast + xyz[1].atan2(xyz[0]);
                let [xp, yp] = ctx.polar_motion_rad;
                let (sl, cl) = last.sin_cos();
                Some(Site {
                    polar_local: [xp * cl - yp * sl, xp * sl + yp * cl],
                    last,
                    longitude: xyz[1].atan2(xyz[0]),
                    lat_geocentric: xyz[2].atan2(xyz[0].hypot(xyz[1])),
                    lat_geodetic,
                    radius_m: dot(&xyz, &xyz).sqrt(),
                })
            }
            None => None,
        };
        Ok(EarthEpoch { tt, t_cent, site })
    }

    fn site(&self, frame: DirectionFrame) -> Result<&Site, SkyFrameError> {
        self.site
            .as_ref()
            .ok_or(SkyFrameError::NeedsObservatory { frame })
    }

    /// TT (taken as TDB) as an MJD.
    pub(super) fn tt_mjd(&self) -> f64 {
        (self.tt.0 - DJM0) + self.tt.1
    }

    /// The observatory's longitude (radians, east), for ITRF directions.
    pub(super) fn site_longitude(&self, frame: DirectionFrame) -> Result<f64, SkyFrameError> {
        Ok(self.site(frame)?.longitude)
    }

    fn precession(&self) -> [[f64; 3]; 3] {
        sofars::pnp::pmat76(self.tt.0, self.tt.1)
    }

    /// The IAU 1980 nutation matrix (true = N * mean), also used for BTRUE.
    pub(super) fn nutation(&self) -> [[f64; 3]; 3] {
        sofars::pnp::nutm80(self.tt.0, self.tt.1)
    }

    fn mean_obliquity(&self) -> f64 {
        sofars::pnp::obl80(self.tt.0, self.tt.1)
    }

    fn true_obliquity(&self) -> f64 {
        self.mean_obliquity() + sofars::pnp::nut80(self.tt.0, self.tt.1).1
    }

    /// Earth's heliocentric unit vector and distance (AU) for the light deflection.
    fn sun_to_earth(&self) -> ([f64; 3], f64) {
        let (pvh, _) = sofars::eph::epv00(self.tt.0, self.tt.1)
            .unwrap_or(([[1.0, 0.0, 0.0], [0.0; 3]], [[0.0; 3]; 2]));
        let e = pvh[0];
        let em = dot(&e, &e).sqrt();
        (e.map(|x| x / em), em)
    }

    fn aberration_velocity(&self) -> [f64; 3] {
        crate::frames::earth_velocity_c(self.t_cent)
    }

    /// casacore's diurnal shift: `g2 * unit(LAST, lat)` with `g2` = the site's rotation speed / c.
    fn diurnal_shift(&self, site: &Site) -> [f64; 3] {
        let t = self.t_cent;
        let ut_to_st = 1.002737909350795 + 5.9006e-11 * t - 5.9e-15 * t * t;
        let g2 = 2.0 * PI * site.radius_m / 86_400.0 * ut_to_st / SPEED_OF_LIGHT;
        unit(site.last, site.lat_geocentric).map(|x| x * g2)
    }

    /// J2000 unit vector -> `frame`.
    pub(super) fn j2000_to(
        &self,
        frame: DirectionFrame,
        j: &[f64; 3],
    ) -> Result<[f64; 3], SkyFrameError> {
        use DirectionFrame as F;
        let mean = || mat_vec(&self.precession(), j);
        let truev = || mat_vec(&self.nutation(), &mean());
        Ok(match frame {
            F::Jmean => mean(),
            F::Jtrue => truev(),
            F::Mecliptic => mat_vec(&rot_x(self.mean_obliquity()), &mean()),
            F::Tecliptic => mat_vec(&rot_x(self.true_obliquity()), &truev()),
            F::Jnat => self.deflect(j),
            F::App | F::Topo => self.apparent(j),
            F::Hadec | F::Azel | F::Azelsw | F::Azelgeo | F::Azelswgeo => {
                let site = self.site(frame)?;
                let app = self.apparent(j);
                let d = self.diurnal_shift(site);
                let topo = normalise(std::array::from_fn(|i| app[i] + d[i]));
                let (ra, dec) = lon_lat(&topo);
                let (ha, dec) = site.polar_motion(site.last - ra, dec, false);
                if frame == F::Hadec {
                    unit(ha, dec)
                } else {
                    let geo = matches!(frame, F::Azelgeo | F::Azelswgeo);
                    let phi = if geo {
                        site.lat_geodetic
                    } else {
                        site.lat_geocentric
                    };
                    let [az, el] = sofars::coords::hd2ae(ha, dec, phi);
                    let south = matches!(frame, F::Azelsw | F::Azelswgeo);
                    unit(if south { az + PI } else { az }, el)
                }
            }
            other => return Err(SkyFrameError::Unsupported { frame: other }),
        })
    }

    /// `frame` unit vector -> J2000, the inverse of [`Self::j2000_to`] (iterated where the
    /// forward step is not a rotation).
    pub(super) fn to_j2000(
        &self,
        frame: DirectionFrame,
        v: &[f64; 3],
    ) -> Result<[f64; 3], SkyFrameError> {
        use DirectionFrame as F;
        let unmean = |m: &[f64; 3]| mat_t_vec(&self.precession(), m);
        let untrue = |t: &[f64; 3]| unmean(&mat_t_vec(&self.nutation(), t));
        match frame {
            F::Jmean => Ok(unmean(v)),
            F::Jtrue => Ok(untrue(v)),
            F::Mecliptic => Ok(unmean(&mat_t_vec(&rot_x(self.mean_obliquity()), v))),
            F::Tecliptic => Ok(untrue(&mat_t_vec(&rot_x(self.true_obliquity()), v))),
            F::Hadec | F::Azel | F::Azelsw | F::Azelgeo | F::Azelswgeo => {
                let site = self.site(frame)?;
                let (lon, lat) = lon_lat(v);
                let (ha, dec) = if frame == F::Hadec {
                    (lon, lat)
                } else {
                    let geo = matches!(frame, F::Azelgeo | F::Azelswgeo);
                    let phi = if geo {
                        site.lat_geodetic
                    } else {
                        site.lat_geocentric
                    };
                    let south = matches!(frame, F::Azelsw | F::Azelswgeo);
                    let az = if south { lon - PI } else { lon };
                    let [ha, dec] = sofars::coords::ae2hd(az, lat, phi);
                    (ha, dec)
                };
                let (ha, dec) = site.polar_motion(ha, dec, true);
                let topo = unit(site.last - ha, dec);
                // Undo the diurnal shift (p_topo = normalise(p_app + d)): fixed point, |d| ~ 1e-6.
                let d = self.diurnal_shift(site);
                let mut app = topo;
                for _ in 0..4 {
                    let fwd = normalise(std::array::from_fn(|i| app[i] + d[i]));
                    app = normalise(std::array::from_fn(|i| app[i] + topo[i] - fwd[i]));
                }
                self.to_j2000(F::App, &app)
            }
            _ => {
                // JNAT, APP: a rotation plus shifts of at most ~1e-4 rad; invert by fixed-point
                // iteration on the forward map.
                let mut j = *v;
                for _ in 0..20 {
                    let f = self.j2000_to(frame, &j)?;
                    let next = rotate_back(v, &f, &j);
                    let step: f64 = (0..3).map(|i| (next[i] - j[i]).powi(2)).sum::<f64>().sqrt();
                    j = next;
                    if step < 1e-14 {
                        break;
                    }
                }
                Ok(j)
            }
        }
    }

    /// The Sun's light deflection; none for a direction within the solar disk (casacore's
    /// `applySolarPos` skips those, SOFA's `ldsun` would bend them by up to ~0.2": measured on
    /// the Sun's own direction against casatools, `pclean-ms/tests/planets.rs`).
    fn deflect(&self, j: &[f64; 3]) -> [f64; 3] {
        let (e, em) = self.sun_to_earth();
        if -dot(j, &e) >= (SUN_SEMI_DIAMETER_RAD / em).cos() {
            return *j;
        }
        sofars::astro::ldsun(*j, e, em)
    }

    /// J2000 -> APP: light deflection, annual aberration (relativistic, casacore's velocity
    /// series), then IAU 1976/1980 precession-nutation.
    fn apparent(&self, j: &[f64; 3]) -> [f64; 3] {
        self.aberrated(&self.deflect(j))
    }

    /// Annual aberration and precession-nutation of a direction already deflected (JNAT): the
    /// rest of [`Self::apparent`]; casacore's route for solar-system bodies, whose own deflection
    /// is applied with their distance (`pclean_ms::planets`).
    pub(super) fn aberrated(&self, nat: &[f64; 3]) -> [f64; 3] {
        let nat = *nat;
        let v = self.aberration_velocity();
        let bm1 = (1.0 - dot(&v, &v)).sqrt();
        // A huge Sun distance drops SOFA's gravitational term, as casacore's formula has none.
        let ab = sofars::astro::ab(&nat, &v, 1e30, bm1);
        mat_vec(&sofars::pnp::pnm80(self.tt.0, self.tt.1), &ab)
    }
}

/// One fixed-point step of inverting `g`: with `target = g(x_true)` and `image = g(x)`, the
/// direction `x` moved by the rotation that takes `image` to `target` (`g` is nearly a rotation).
fn rotate_back(target: &[f64; 3], image: &[f64; 3], x: &[f64; 3]) -> [f64; 3] {
    // For small differences, x_new = x + (target - image) mapped back by the same (near-)rotation;
    // since g is within 1e-4 of a rotation R and (target - image) is small, R^T (target - image)
    // is approximated by the difference expressed in x's local frame via the rotation taking
    // image to x.
    let r = rotation_between(image, x);
    let d: [f64; 3] = std::array::from_fn(|i| target[i] - image[i]);
    let dd = mat_vec(&r, &d);
    normalise(std::array::from_fn(|i| x[i] + dd[i]))
}

/// The rotation (Rodrigues) taking unit vector `a` to unit vector `b` about their common normal.
fn rotation_between(a: &[f64; 3], b: &[f64; 3]) -> [[f64; 3]; 3] {
    let k = [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ];
    let s = dot(&k, &k).sqrt();
    let c = dot(a, b);
    if s < 1e-300 {
        return [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    }
    let k = k.map(|x| x / s);
    let kx = [[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]];
    std::array::from_fn(|i| {
        std::array::from_fn(|jj| {
            let id = if i == jj { 1.0 } else { 0.0 };
            let kk: f64 = (0..3).map(|m| kx[i][m] * kx[m][jj]).sum();
            id + s * kx[i][jj] + (1.0 - c) * kk
        })
    })
}

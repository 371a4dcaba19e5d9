//! Beam algebra as FWHM² covariances in (east, north) radians: deconvolving one beam from
//! another and the common beam of a set (CASA's `GaussianDeconvolver`, `getCommonBeam`).

use super::{check_beam, RestoreError};
use pclean_core::Beam;
use std::f64::consts::{FRAC_PI_2, PI};

/// `getCommonBeam` grows a candidate by this factor until both beams deconvolve from it.
pub(super) const COMMON_BEAM_GROWTH: f64 = 1.001;
/// Bound on `getCommonBeam` iterations (each strictly grows the candidate).
pub(super) const COMMON_BEAM_MAX_ITER: usize = 100_000;

// ---------------------------------------------------------------------------------------------
// Beam algebra: FWHM² covariance in (east, north) radians.

/// A beam as the symmetric matrix `major² u uᵀ + minor² v vᵀ` (u, v: unit vectors along the
/// major and minor axes, components (east, north)). Convolving Gaussians adds these matrices.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cov {
    pub(super) ee: f64,
    pub(super) en: f64,
    pub(super) nn: f64,
}

impl Cov {
    pub(super) fn from_beam(b: &Beam) -> Self {
        let (s, c) = b.pa_rad.sin_cos();
        let (m2, n2) = (b.major_rad * b.major_rad, b.minor_rad * b.minor_rad);
        Cov {
            ee: m2 * s * s + n2 * c * c,
            en: (m2 - n2) * s * c,
            nn: m2 * c * c + n2 * s * s,
        }
    }

    /// Major/minor/PA (PA folded into (-90°, 90°]) of a positive semi-definite matrix.
    pub(super) fn to_beam(self) -> Beam {
        let tr = self.ee + self.nn;
        let d = ((self.ee - self.nn).powi(2) + 4.0 * self.en * self.en).sqrt();
        let pa = if d == 0.0 {
            0.0
        } else {
            0.5 * (2.0 * self.en).atan2(self.nn - self.ee)
        };
        Beam {
            major_rad: (0.5 * (tr + d)).max(0.0).sqrt(),
            minor_rad: (0.5 * (tr - d)).max(0.0).sqrt(),
            pa_rad: fold_pa(pa),
        }
    }

    pub(super) fn det(self) -> f64 {
        self.ee * self.nn - self.en * self.en
    }

    /// `self⁻¹`.
    pub(super) fn inv(self) -> Self {
        let det = self.det();
        Cov {
            ee: self.nn / det,
            en: -self.en / det,
            nn: self.ee / det,
        }
    }

    /// Principal square root of a positive definite matrix: `(S + √det I) / √(tr + 2√det)`.
    pub(super) fn sqrt(self) -> Self {
        let sd = self.det().sqrt();
        let t = (self.ee + self.nn + 2.0 * sd).sqrt();
        Cov {
            ee: (self.ee + sd) / t,
            en: self.en / t,
            nn: (self.nn + sd) / t,
        }
    }

    /// `a · self · a` for symmetric `a`.
    pub(super) fn congruence(self, a: Cov) -> Self {
        // m = a * self
        let m11 = a.ee * self.ee + a.en * self.en;
        let m12 = a.ee * self.en + a.en * self.nn;
        let m21 = a.en * self.ee + a.nn * self.en;
        let m22 = a.en * self.en + a.nn * self.nn;
        Cov {
            ee: m11 * a.ee + m12 * a.en,
            en: m11 * a.en + m12 * a.nn,
            nn: m21 * a.en + m22 * a.nn,
        }
    }

    /// Quadratic form `rᵀ self r` for r = (east, north).
    pub(super) fn quad(self, e: f64, n: f64) -> f64 {
        self.ee * e * e + 2.0 * self.en * e * n + self.nn * n * n
    }
}

/// Fold a position angle into (-π/2, π/2] (CASA's `getPA(unwrap = True)`).
pub(super) fn fold_pa(pa: f64) -> f64 {
    let mut p = pa % PI;
    if p <= -FRAC_PI_2 {
        p += PI;
    } else if p > FRAC_PI_2 {
        p -= PI;
    }
    p
}
/// Outcome of `GaussianDeconvolver::deconvolve(g, to, from)`.
pub(super) enum Deconvolved {
    Gaussian(Beam),
    /// `to` and `from` agree within CASA's tolerance ("point source").
    Point,
    /// `to` does not enclose `from`.
    Fail,
}

/// `GaussianDeconvolver::deconvolve` with its tolerance: `to - from` (as FWHM² matrices) that is
/// not positive semi-definite counts as a point source if its smaller eigenvalue is below
/// `0.1 * min(all axes)²` and both diagonal terms exceed minus that limit; otherwise it fails.
pub(super) fn casa_deconvolve(to: &Beam, from: &Beam) -> Deconvolved {
    let (ct, cf) = (Cov::from_beam(to), Cov::from_beam(from));
    let alpha = ct.nn - cf.nn;
    let beta = ct.ee - cf.ee;
    let gamma = -2.0 * (ct.en - cf.en);
    let s = alpha + beta;
    let t = ((alpha - beta).powi(2) + gamma * gamma).sqrt();
    let lim = to
        .major_rad
        .min(to.minor_rad)
        .min(from.major_rad)
        .min(from.minor_rad);
    let limit = 0.1 * lim * lim;
    if alpha < 0.0 || beta < 0.0 || s < t {
        if 0.5 * (s - t) < limit && alpha > -limit && beta > -limit {
            return Deconvolved::Point;
        }
        return Deconvolved::Fail;
    }
    let pa = if gamma.abs() + (alpha - beta).abs() == 0.0 {
        0.0
    } else {
        0.5 * (-gamma).atan2(alpha - beta)
    };
    Deconvolved::Gaussian(Beam {
        major_rad: (0.5 * (s + t)).sqrt(),
        minor_rad: (0.5 * (s - t)).sqrt(),
        pa_rad: fold_pa(pa),
    })
}

/// The Gaussian `g` with `from ⊛ g = to` (CASA's `GaussianDeconvolver::deconvolve(g, to, from)`).
///
/// Returns a beam with zero axes (and PA 0) when the two beams agree within CASA's tolerance
/// (CASA's "point source": no convolution needed), and [`RestoreError::NotEnclosing`] when `to`
/// does not enclose `from`.
pub fn deconvolve_beam(to: &Beam, from: &Beam) -> Result<Beam, RestoreError> {
    check_beam("target", to)?;
    check_beam("source", from)?;
    match casa_deconvolve(to, from) {
        Deconvolved::Gaussian(b) => Ok(b),
        Deconvolved::Point => Ok(Beam {
            major_rad: 0.0,
            minor_rad: 0.0,
            pa_rad: 0.0,
        }),
        Deconvolved::Fail => Err(RestoreError::NotEnclosing {
            from: *from,
            to: *to,
        }),
    }
}

/// The minimum-area ellipse enclosing the FWHM ellipses of `a` and `b` (`b` not inside `a`).
///
/// Same construction as `getCommonBeam`: map `a` to a circle, where the answer is the ellipse
/// with `b`'s axes directions and semi-axes `max(b's, circle's)`, and map back. CASA does it by
/// rotating and scaling along `a`'s axes; here by the congruence `Σa^{-1/2} · Σb · Σa^{-1/2}`.
pub(super) fn enclosing_pair(a: &Beam, b: &Beam) -> Beam {
    if (b.pa_rad - a.pa_rad).abs() == FRAC_PI_2 {
        // CASA handles exact right angles explicitly (no growth step follows).
        let a_has_major = a.major_rad >= b.major_rad;
        return if a_has_major {
            Beam {
                major_rad: a.major_rad,
                minor_rad: b.major_rad,
                pa_rad: a.pa_rad,
            }
        } else {
            Beam {
                major_rad: b.major_rad,
                minor_rad: a.major_rad,
                pa_rad: b.pa_rad,
            }
        };
    }
    let (ca, cb) = (Cov::from_beam(a), Cov::from_beam(b));
    let half = ca.sqrt();
    let whiten = half.inv();
    let w = cb.congruence(whiten);
    // Eigen-decomposition of w; raise both eigenvalues to at least 1 (the unit circle).
    let tr = w.ee + w.nn;
    let d = ((w.ee - w.nn).powi(2) + 4.0 * w.en * w.en).sqrt();
    let (l1, l2) = (0.5 * (tr + d), 0.5 * (tr - d));
    let theta = 0.5 * (2.0 * w.en).atan2(w.ee - w.nn); // angle of the l1 eigenvector from east
    let (s, c) = theta.sin_cos();
    let (m1, m2) = (l1.max(1.0), l2.max(1.0));
    let enclosing_w = Cov {
        ee: m1 * c * c + m2 * s * s,
        en: (m1 - m2) * s * c,
        nn: m1 * s * s + m2 * c * c,
    };
    enclosing_w.congruence(half).to_beam()
}

pub(super) fn needs_growth(candidate: &Beam, inner: &Beam) -> bool {
    !matches!(casa_deconvolve(candidate, inner), Deconvolved::Gaussian(_))
}

/// The smallest beam that every valid beam in `beams` can be convolved to
/// (CASA's `CasaImageBeamSet::getCommonBeam`, as used by tclean for `restoringbeam='common'`).
///
/// Algorithm (CASA's): take the beam of largest area (the first if several); if every other
/// beam deconvolves from it (not "point source", no failure) that is the answer. Otherwise take
/// the last beam that does not, build the minimum-area ellipse enclosing the two, grow it by
/// 0.1% until both deconvolve from it, put it in place of the largest beam and repeat. Beams that
/// are not valid (zero/NaN axes: CASA's null beams) are ignored. For two beams the result is the
/// minimum-area enclosing ellipse (up to the 0.1% growth steps); for more it is CASA's greedy
/// answer, which encloses all but need not be the smallest possible.
pub fn common_beam(beams: &[Beam]) -> Result<Beam, RestoreError> {
    let mut set: Vec<Beam> = beams.iter().copied().filter(Beam::is_valid).collect();
    let Some(first) = set.first().copied() else {
        return Err(RestoreError::NoValidBeams);
    };
    if set.iter().all(|b| *b == first) {
        return Ok(first);
    }
    for _ in 0..COMMON_BEAM_MAX_ITER {
        let imax = set.iter().enumerate().fold(0, |best, (i, b)| {
            if b.area_sr() > set[best].area_sr() {
                i
            } else {
                best
            }
        });
        let max = set[imax];
        let problem = set
            .iter()
            .rev()
            .find(|b| **b != max && needs_growth(&max, b))
            .copied();
        let Some(problem) = problem else {
            return Ok(max);
        };
        let mut candidate = enclosing_pair(&max, &problem);
        let mut grown = 0;
        while needs_growth(&candidate, &max) || needs_growth(&candidate, &problem) {
            candidate.major_rad *= COMMON_BEAM_GROWTH;
            candidate.minor_rad *= COMMON_BEAM_GROWTH;
            grown += 1;
            if grown > COMMON_BEAM_MAX_ITER {
                return Err(RestoreError::CommonBeamNotConverged);
            }
        }
        set[imax] = candidate;
    }
    Err(RestoreError::CommonBeamNotConverged)
}

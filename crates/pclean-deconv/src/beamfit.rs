//! Restoring-beam fit: an elliptical Gaussian fitted to the PSF main lobe, as tclean does it.
//!
//! # Source
//! `StokesImageUtil::FitGaussianPSF(ImageInterface<Float>&, Vector<Float>&, Float psfcutoff)`,
//! `StokesImageUtil::FindNpoints` and `StokesImageUtil::ResamplePSF`
//! (`synthesis/TransformMachines/StokesImageUtil.cc` in LibRA/CASA), called per plane by
//! `SIImageStore::makeImageBeamSet`. The steps, reproduced here:
//! 1. Normalise the plane by its peak (error if the peak is < 1e-7 or outside the inner quarter).
//! 2. `FindNpoints` with `nrow = 20`, `amin = psfcutoff` (default 0.35): walk the rows
//!    `py, py-1, ..., py-20` then `py+1, ..., py+20`; in each row walk outwards from the peak
//!    column in both directions, taking pixels `> amin` and stopping a half-row at the first pixel
//!    `< amin` once inside the lobe (this keeps sidelobes out). The bounding box of the points,
//!    made square (`blc = min`, `trc = max` over both axes, in absolute pixel indices), grown by 5
//!    pixels and clipped to the image, is the fitting window.
//! 3. Oversample the window by `os = Int(sqrt(3001 / (wx*wy)))` (integer division, at least 1)
//!    with casacore's `Interpolate2D` CUBIC (bicubic Hermite patches with centred-difference
//!    derivatives; bilinear within one pixel of the window edge), renormalise to its maximum.
//! 4. `FindNpoints` again on the oversampled window (centre: its maximum,
//!    `nrow = (os*min(wx, wy) - 1)/2`, pixel size `cell/os`).
//! 5. Fit casacore's `Gaussian2D` with the height fixed to 1 and the centre fixed at 0 (free:
//!    width, axial ratio, angle; start 2.5 pixels, 0.5, 1 rad; unit weights) by Levenberg-Marquardt.
//! 6. If the fit does not converge, `amin /= 1.5` and repeat (while `amin > 0.009`, at most 50
//!    times).
//! 7. Major/minor from width and ratio; PA (north through east: `Gaussian2D` measures its angle from
//!    +y towards -x, and -x is east because the RA pixel index increases to the west) folded
//!    into (-90, 90] degrees.
//!
//! Offsets are `(i - px) * |cdelt1|`, `(j - py) * |cdelt2|` on `psf_yx[[j, i]]` with `i` the RA
//! pixel index (RA increasing to the left, as in CASA images).

use ndarray::ArrayView2;
use pclean_core::Beam;

/// Why a PSF could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BeamFitError {
    /// `psfcutoff` must lie strictly between 0 and 1.
    #[error("psfcutoff must be > 0 and < 1, got {psfcutoff}")]
    InvalidCutoff { psfcutoff: f64 },
    /// The PSF plane is empty, all zero or has no finite positive peak.
    #[error("PSF peak is zero (peak {peak})")]
    ZeroPeak { peak: f64 },
    /// The PSF peak is not in the inner quarter of the image.
    #[error(
        "peak of the PSF at pixel ({x}, {y}) is outside the inner quarter of the {nx}x{ny} image"
    )]
    PeakOffCentre {
        x: usize,
        y: usize,
        nx: usize,
        ny: usize,
    },
    /// Too few main-lobe pixels above the cutoff to fit a Gaussian.
    #[error("PSF main lobe has only {npoints} pixels above the cutoff {cutoff}")]
    NoMainLobe { npoints: usize, cutoff: f64 },
    /// The least-squares fit did not converge for any cutoff.
    #[error("Gaussian fit to the PSF did not converge")]
    NotConverged,
}

/// `StokesImageUtil::FitGaussianPSF`: window half-size of the first point search.
const NPIX: i64 = 20;
/// Window growth around the selected points, pixels.
const EXPAND_PIXEL: i64 = 5;
/// Target number of samples in the oversampled window.
const TARGET_NPOINTS: i64 = 3001;
/// casacore's `fwhm2int = 1/sqrt(ln 16)`.
fn fwhm2int() -> f64 {
    1.0 / (16f64).ln().sqrt()
}

/// A plane stored with x fastest (CASA's `Matrix<Float>(x, y)`).
struct Plane {
    nx: usize,
    ny: usize,
    data: Vec<f32>,
}

impl Plane {
    #[inline]
    fn at(&self, x: i64, y: i64) -> f32 {
        self.data[y as usize * self.nx + x as usize]
    }
}

/// Result of `FindNpoints`: sample offsets (scaled units) and values, plus the square bounding box.
struct Points {
    xy: Vec<(f64, f64)>,
    val: Vec<f64>,
    blc: i64,
    trc: i64,
}

/// `StokesImageUtil::FindNpoints` (see module docs). `dx`, `dy` are the sample spacings in the
/// fitting units.
fn find_npoints(p: &Plane, nrow: i64, amin: f32, px: i64, py: i64, dx: f64, dy: f64) -> Points {
    let maxnpoints = ((2 * nrow + 1) * (2 * nrow + 1)) as usize;
    let (nx, ny) = (p.nx as i64, p.ny as i64);
    let mut blc = [nx - 1, ny - 1];
    let mut trc = [0i64, 0i64];
    let mut xy = Vec::new();
    let mut val = Vec::new();
    let mut iflip: i64 = 1;
    let mut jflip: i64 = 1;
    'search: for jlo in 0..2 {
        jflip = -jflip;
        for j in jlo..=nrow {
            let jrow = py + j * jflip;
            for ilo in 0..2 {
                iflip = -iflip;
                if jrow > ny - 1 || jrow < 0 {
                    break;
                }
                let mut inlobe = p.at(px, jrow) > amin;
                for i in ilo..=nrow {
                    if xy.len() >= maxnpoints {
                        continue;
                    }
                    let irow = px + i * iflip;
                    if irow > nx - 1 || irow < 0 {
                        break;
                    }
                    let v = p.at(irow, jrow);
                    if inlobe && v < amin {
                        break;
                    }
                    if v > amin {
                        inlobe = true;
                        xy.push(((irow - px) as f64 * dx, (jrow - py) as f64 * dy));
                        val.push(v as f64);
                        blc[0] = blc[0].min(irow);
                        blc[1] = blc[1].min(jrow);
                        trc[0] = trc[0].max(irow);
                        trc[1] = trc[1].max(jrow);
                        if xy.len() > maxnpoints - 1 {
                            break 'search;
                        }
                    }
                }
            }
        }
    }
    Points {
        xy,
        val,
        blc: blc[0].min(blc[1]),
        trc: trc[0].max(trc[1]),
    }
}

/// casacore `Interpolate2D::interpLinear`.
fn interp_linear(d: &Plane, wx: f64, wy: f64) -> f32 {
    let mut i = wx as i64;
    let mut j = wy as i64;
    let (si, sj) = (d.nx as i64 - 1, d.ny as i64 - 1);
    if i == si {
        i -= 1;
    }
    if j == sj {
        j -= 1;
    }
    if i < 0 || j < 0 || i >= si || j >= sj {
        return 0.0;
    }
    let t = wx - i as f64;
    let u = wy - j as f64;
    ((1.0 - t) * (1.0 - u) * d.at(i, j) as f64
        + t * (1.0 - u) * d.at(i + 1, j) as f64
        + t * u * d.at(i + 1, j + 1) as f64
        + (1.0 - t) * u * d.at(i, j + 1) as f64) as f32
}

/// casacore `Interpolate2D::interpCubic`: the bicubic patch matching the values, centred-difference
/// first derivatives and cross derivative at the four corners (Numerical Recipes `bcuint`).
fn interp_cubic(d: &Plane, wx: f64, wy: f64) -> f32 {
    let i = wx as i64;
    let j = wy as i64;
    if i <= 0 || i >= d.nx as i64 - 2 || j <= 0 || j >= d.ny as i64 - 2 {
        return interp_linear(d, wx, wy);
    }
    let f = |a: i64, b: i64| d.at(a, b) as f64;
    // Corners in the order (0,0), (1,0), (1,1), (0,1) relative to (i, j).
    let c = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
    let t = wx - i as f64;
    let u = wy - j as f64;
    // Cubic Hermite basis: value at 0, value at 1, slope at 0, slope at 1.
    let h = |s: f64| {
        [
            2.0 * s * s * s - 3.0 * s * s + 1.0,
            -2.0 * s * s * s + 3.0 * s * s,
            s * s * s - 2.0 * s * s + s,
            s * s * s - s * s,
        ]
    };
    let (ht, hu) = (h(t), h(u));
    let mut result = 0.0;
    for &(a, b) in &c {
        let y = f(a, b);
        let y1 = (f(a + 1, b) - f(a - 1, b)) / 2.0;
        let y2 = (f(a, b + 1) - f(a, b - 1)) / 2.0;
        let y12 = (f(a + 1, b + 1) + f(a - 1, b - 1) - f(a - 1, b + 1) - f(a + 1, b - 1)) / 4.0;
        let (vt, st) = if a == i {
            (ht[0], ht[2])
        } else {
            (ht[1], ht[3])
        };
        let (vu, su) = if b == j {
            (hu[0], hu[2])
        } else {
            (hu[1], hu[3])
        };
        result += y * vt * vu + y1 * st * vu + y2 * vt * su + y12 * st * su;
    }
    result as f32
}

/// `StokesImageUtil::ResamplePSF` with CUBIC interpolation.
fn resample(w: &Plane, os: i64) -> Plane {
    let nxr = w.nx * os as usize - os as usize + 1;
    let nyr = w.ny * os as usize - os as usize + 1;
    let mut data = vec![0f32; nxr * nyr];
    for jj in 0..nyr {
        for ii in 0..nxr {
            let px = (ii as f32 / os as f32) as f64;
            let py = (jj as f32 / os as f32) as f64;
            data[jj * nxr + ii] = interp_cubic(w, px, py);
        }
    }
    Plane {
        nx: nxr,
        ny: nyr,
        data,
    }
}

/// casacore `Gaussian2D` with height 1 and centre 0: value and derivatives with respect to
/// (width, ratio, angle).
fn gauss_and_grad(p: &[f64; 3], x: f64, y: f64) -> (f64, [f64; 3]) {
    let (w, r, th) = (p[0], p[1], p[2]);
    let c = fwhm2int();
    let (s, co) = th.sin_cos();
    let xp = co * x + s * y;
    let yp = -s * x + co * y;
    let a = xp / (w * r * c);
    let b = yp / (w * c);
    let e = a * a + b * b;
    let m = (-e).exp();
    let dw = m * 2.0 * e / w;
    let dr = m * 2.0 * a * a / r;
    let de_dth = 2.0 * xp * yp / (w * c * w * c) * (1.0 / (r * r) - 1.0);
    (m, [dw, dr, -m * de_dth])
}

fn chi2(p: &[f64; 3], pts: &Points) -> f64 {
    pts.xy
        .iter()
        .zip(&pts.val)
        .map(|(&(x, y), &v)| {
            let d = v - gauss_and_grad(p, x, y).0;
            d * d
        })
        .sum()
}

/// Solve the 3x3 system `a x = b` (Gaussian elimination with partial pivoting).
fn solve3(mut a: [[f64; 3]; 3], mut b: [f64; 3]) -> Option<[f64; 3]> {
    for k in 0..3 {
        let piv = (k..3).max_by(|&i, &j| a[i][k].abs().total_cmp(&a[j][k].abs()))?;
        if a[piv][k].abs() < 1e-300 || !a[piv][k].is_finite() {
            return None;
        }
        a.swap(k, piv);
        b.swap(k, piv);
        let pivot_row = a[k];
        for i in k + 1..3 {
            let f = a[i][k] / pivot_row[k];
            for (aij, akj) in a[i].iter_mut().zip(pivot_row.iter()).skip(k) {
                *aij -= f * akj;
            }
            b[i] -= f * b[k];
        }
    }
    let mut x = [0.0; 3];
    for k in (0..3).rev() {
        let s: f64 = (k + 1..3).map(|j| a[k][j] * x[j]).sum();
        x[k] = (b[k] - s) / a[k][k];
    }
    Some(x)
}

/// Whether a fitted (width, ratio, angle) is a Gaussian the samples can constrain: finite, and no
/// axis wider than 100 times the fitting window's `extent` (a beam wider than a small image is
/// legitimate; a run-away fit ends many orders of magnitude wider). A main lobe that stays above the cutoff along a
/// ridge longer than the window lets the least squares run the long axis off to infinity (a
/// ratio of 1e17 was seen): the normal equations are then singular, which casacore's fitter
/// reports as a failed fit, so tclean retries (other start angles, then a lower cutoff, more
/// samples across the ridge).
fn bounded(p: &[f64; 3], extent: f64) -> bool {
    let major = p[0].abs().max((p[0] * p[1]).abs());
    p.iter().all(|v| v.is_finite()) && major > 0.0 && major <= 100.0 * extent
}

/// Levenberg-Marquardt fit of (width, ratio, angle); `None` if it does not converge.
fn fit_gaussian(pts: &Points, start: [f64; 3]) -> Option<[f64; 3]> {
    let mut p = start;
    let mut lambda = 1e-3;
    let mut c2 = chi2(&p, pts);
    for _ in 0..1000 {
        let mut jtj = [[0.0; 3]; 3];
        let mut jtr = [0.0; 3];
        for (&(x, y), &v) in pts.xy.iter().zip(&pts.val) {
            let (m, g) = gauss_and_grad(&p, x, y);
            let r = v - m;
            for i in 0..3 {
                jtr[i] += g[i] * r;
                for j in 0..3 {
                    jtj[i][j] += g[i] * g[j];
                }
            }
        }
        let mut improved = false;
        for _ in 0..60 {
            let mut a = jtj;
            for (i, row) in a.iter_mut().enumerate() {
                row[i] += lambda * jtj[i][i].max(1e-30);
            }
            let Some(step) = solve3(a, jtr) else {
                lambda *= 10.0;
                continue;
            };
            let trial = [p[0] + step[0], p[1] + step[1], p[2] + step[2]];
            let c2t = chi2(&trial, pts);
            if c2t.is_finite() && c2t <= c2 {
                let rel = (c2 - c2t) / c2.max(1e-300);
                let small_step = step
                    .iter()
                    .zip(&trial)
                    .all(|(s, t)| s.abs() <= 1e-10 * t.abs().max(1e-6));
                p = trial;
                c2 = c2t;
                lambda = (lambda / 10.0).max(1e-15);
                improved = true;
                if rel < 1e-14 || small_step {
                    return Some(p);
                }
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            // No downhill step at any damping: at a minimum to machine precision.
            return if p.iter().all(|v| v.is_finite()) {
                Some(p)
            } else {
                None
            };
        }
    }
    None
}

/// Fit tclean's restoring beam to one PSF plane `psf_yx[[y, x]]` (x = RA pixel index, RA increasing
/// to the left). `cell_x_rad`, `cell_y_rad`: pixel sizes (signs ignored); `psfcutoff`: tclean's
/// `psfcutoff` (default 0.35). Returns the beam with its PA north through east in (-90, 90] deg.
pub fn fit_psf_beam(
    psf_yx: ArrayView2<f32>,
    cell_x_rad: f64,
    cell_y_rad: f64,
    psfcutoff: f64,
) -> Result<Beam, BeamFitError> {
    if !(psfcutoff > 0.0 && psfcutoff < 1.0) {
        return Err(BeamFitError::InvalidCutoff { psfcutoff });
    }
    let (ny, nx) = psf_yx.dim();
    // locatePeakPSF: first maximum in storage order (x fastest).
    let mut peak = f32::NEG_INFINITY;
    let (mut px, mut py) = (0usize, 0usize);
    for ((y, x), &v) in psf_yx.indexed_iter() {
        if v > peak {
            peak = v;
            px = x;
            py = y;
        }
    }
    if peak.is_nan() || peak < 1e-7 || !peak.is_finite() {
        return Err(BeamFitError::ZeroPeak { peak: peak as f64 });
    }
    let (fx, fy) = (px as f64, py as f64);
    if fx < nx as f64 / 4.0
        || fx > 3.0 * nx as f64 / 4.0
        || fy < ny as f64 / 4.0
        || fy > 3.0 * ny as f64 / 4.0
    {
        return Err(BeamFitError::PeakOffCentre {
            x: px,
            y: py,
            nx,
            ny,
        });
    }
    let mut data = Vec::with_capacity(nx * ny);
    for row in psf_yx.outer_iter() {
        data.extend(
            row.iter()
                .map(|&v| if v.is_finite() { v / peak } else { 0.0 }),
        );
    }
    let lpsf = Plane { nx, ny, data };
    // Fit in units of |cell_x| for conditioning; y offsets keep the true aspect.
    let dx = cell_x_rad.abs();
    let (ux, uy) = (1.0, cell_y_rad.abs() / dx);

    let mut amin = psfcutoff as f32;
    let mut last_npoints = 0;
    let mut kounter = 0;
    while amin > 0.009 && kounter < 50 {
        kounter += 1;
        let first = find_npoints(&lpsf, NPIX, amin, px as i64, py as i64, ux, uy);
        if first.xy.is_empty() {
            return Err(BeamFitError::NoMainLobe {
                npoints: 0,
                cutoff: amin as f64,
            });
        }
        let b0 = (first.blc - EXPAND_PIXEL).max(0);
        let b1 = (first.blc - EXPAND_PIXEL).max(0);
        let t0 = (first.trc + EXPAND_PIXEL).min(nx as i64 - 1);
        let t1 = (first.trc + EXPAND_PIXEL).min(ny as i64 - 1);
        let (wx, wy) = ((t0 - b0 + 1) as usize, (t1 - b1 + 1) as usize);
        let mut wdata = Vec::with_capacity(wx * wy);
        for y in b1..=t1 {
            for x in b0..=t0 {
                wdata.push(lpsf.at(x, y));
            }
        }
        let window = Plane {
            nx: wx,
            ny: wy,
            data: wdata,
        };
        let os = (((TARGET_NPOINTS / (wx * wy) as i64) as f64).sqrt() as i64).max(1);
        let mut re = resample(&window, os);
        // minMax: first maximum in storage order.
        let (mut mval, mut mpos) = (f32::NEG_INFINITY, 0usize);
        for (k, &v) in re.data.iter().enumerate() {
            if v > mval {
                mval = v;
                mpos = k;
            }
        }
        for v in re.data.iter_mut() {
            *v /= mval;
        }
        let (mx, my) = ((mpos % re.nx) as i64, (mpos / re.nx) as i64);
        let min_len = (t0 - b0).min(t1 - b1) + 1;
        let nrow_re = (os * min_len - 1) / 2;
        let pts = find_npoints(&re, nrow_re, amin, mx, my, ux / os as f64, uy / os as f64);
        last_npoints = pts.xy.len();
        if pts.xy.len() < 3 {
            return Err(BeamFitError::NoMainLobe {
                npoints: pts.xy.len(),
                cutoff: amin as f64,
            });
        }
        // The fitting window's diagonal in the fitting units: no fit the samples constrain has
        // a wider main lobe.
        let extent = ((wx as f64 * ux).powi(2) + (wy as f64 * uy).powi(2)).sqrt();
        // CAS-13515: retry with other starting angles if the normal equations are singular.
        let mut solution = None;
        for retry in 0..10 {
            let pa0 = 1.0 + retry as f64 * std::f64::consts::PI / 10.0;
            if let Some(s) = fit_gaussian(&pts, [2.5, 0.5, pa0]).filter(|s| bounded(s, extent)) {
                solution = Some(s);
                break;
            }
        }
        let Some(sol) = solution else {
            amin /= 1.5;
            continue;
        };
        let (w, r, th) = (sol[0], sol[1], sol[2]);
        let (major, minor, mut pa_deg) = if r.abs() > 1.0 {
            ((w * r).abs(), w.abs(), th.to_degrees() - 90.0)
        } else {
            (w.abs(), (w * r).abs(), th.to_degrees())
        };
        pa_deg %= 360.0;
        while (pa_deg / 90.0).abs() > 1.0 {
            if pa_deg > 270.0 {
                pa_deg -= 360.0;
            } else if pa_deg > 90.0 {
                pa_deg -= 180.0;
            } else if pa_deg < -270.0 {
                pa_deg += 360.0;
            } else {
                pa_deg += 180.0;
            }
        }
        return Ok(Beam {
            major_rad: major * dx,
            minor_rad: minor * dx,
            pa_rad: pa_deg.to_radians(),
        });
    }
    if last_npoints < 3 {
        return Err(BeamFitError::NoMainLobe {
            npoints: last_npoints,
            cutoff: amin as f64,
        });
    }
    Err(BeamFitError::NotConverged)
}

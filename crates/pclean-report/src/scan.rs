//! One pass over a cube, plane by plane (never the whole cube in memory): the moment-0 and
//! peak maps, the mask's union, the spectrum integrated over the mask, per-channel residual
//! statistics and the histogram of residuals in units of their channel's robust rms. Also the
//! PSF's main lobe and sidelobe level.

use crate::figure::percentile;
use crate::ReportError;
use ndarray::Array2;
use pclean_imageio::CasaImage;

/// Histogram of residual / rms: bins over `[-HIST_SPAN, HIST_SPAN)`.
pub const HIST_SPAN: f64 = 8.0;
pub const HIST_BINS: usize = 64;

/// Scale from the median absolute deviation to a Gaussian's standard deviation.
const MAD_TO_SIGMA: f64 = 1.482_602_218_505_602;

/// What the pass gathers (first Stokes plane only).
pub struct CubeScan {
    /// Sum over channels of image x channel width (`width_of`), `plane_yx`.
    pub mom0: Array2<f32>,
    /// Largest value over channels per pixel.
    pub peak: Array2<f32>,
    /// Pixels inside the mask in any channel (`None`: no mask image).
    pub mask_union: Option<Array2<bool>>,
    /// Per channel: the image summed over that channel's mask, divided by the beam area in
    /// pixels (Jy); NaN without a mask or beam.
    pub mask_flux_jy: Vec<f64>,
    /// Per channel: robust rms of the residual (1.4826 x MAD), and peak |residual|.
    pub residual_rms: Vec<f64>,
    pub residual_peak: Vec<f64>,
    /// Counts of residual / rms over [`HIST_SPAN`] in [`HIST_BINS`] bins.
    pub hist: Vec<u64>,
    /// Brightest image pixel `(x, y)` over the cube.
    pub brightest: (usize, usize),
}

/// Values the robust rms looks at per plane at most: a regular subsample of a bigger plane (the
/// MAD of 65536 Gaussian values is within ~0.5% of the whole plane's; a full 1024^2 selection
/// twice per channel was most of a large cube's report time).
const RMS_SAMPLE: usize = 1 << 16;

/// The robust rms (1.4826 x median absolute deviation from the median) of the finite values
/// (of a regular subsample of at most [`RMS_SAMPLE`] of them).
pub fn robust_rms(values: &[f32]) -> f64 {
    let stride = values.len().div_ceil(RMS_SAMPLE).max(1);
    let mut v: Vec<f32> = values
        .iter()
        .step_by(stride)
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    if v.is_empty() {
        return f64::NAN;
    }
    let med = percentile(&mut v, 50.0) as f32;
    for x in v.iter_mut() {
        *x = (*x - med).abs();
    }
    percentile(&mut v, 50.0) * MAD_TO_SIGMA
}

/// Scan `image` (and `residual`, `mask` where present) channel by channel. `width_of(c)`
/// multiplies channel `c` in the moment-0 sum; `beam_pixels(c)` is the beam area in pixels.
/// The residual is read in a second thread, beside the image and mask (separate files: their
/// reads do not wait on each other).
pub fn scan_cube(
    image: &mut CasaImage,
    residual: Option<&mut CasaImage>,
    mask: Option<&mut CasaImage>,
    width_of: impl Fn(usize) -> f64,
    beam_pixels: impl Fn(usize) -> Option<f64>,
) -> Result<CubeScan, ReportError> {
    std::thread::scope(|scope| {
        let residual_pass = residual.map(|r| scope.spawn(move || scan_residual(r)));
        let mut s = scan_image(image, mask, width_of, beam_pixels)?;
        if let Some(job) = residual_pass {
            let r = job
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            (s.residual_rms, s.residual_peak, s.hist) = (r.rms, r.peak, r.hist);
        }
        Ok(s)
    })
}

/// The image and mask part of [`scan_cube`].
fn scan_image(
    image: &mut CasaImage,
    mut mask: Option<&mut CasaImage>,
    width_of: impl Fn(usize) -> f64,
    beam_pixels: impl Fn(usize) -> Option<f64>,
) -> Result<CubeScan, ReportError> {
    let [nx, ny, _, nchan] = image.shape();
    let mut s = CubeScan {
        mom0: Array2::zeros((ny, nx)),
        peak: Array2::from_elem((ny, nx), f32::NEG_INFINITY),
        mask_union: mask.as_ref().map(|_| Array2::from_elem((ny, nx), false)),
        mask_flux_jy: vec![f64::NAN; nchan],
        residual_rms: vec![f64::NAN; nchan],
        residual_peak: vec![f64::NAN; nchan],
        hist: vec![0; HIST_BINS],
        brightest: (0, 0),
    };
    let mut plane = Array2::zeros((ny, nx));
    let mut mplane = Array2::zeros((0, 0));
    for c in 0..nchan {
        image.get_plane_into(c, 0, &mut plane)?;
        let w = width_of(c) as f32;
        let pv = plane.as_slice().expect("standard layout");
        let mom0 = s.mom0.as_slice_mut().expect("standard layout");
        for (m, v) in mom0.iter_mut().zip(pv) {
            *m += if v.is_finite() { v * w } else { 0.0 };
        }
        // f32::max ignores NaN: blanked pixels change nothing.
        let peak = s.peak.as_slice_mut().expect("standard layout");
        for (p, v) in peak.iter_mut().zip(pv) {
            *p = p.max(*v);
        }
        if let (Some(mk), Some(union)) = (mask.as_deref_mut(), s.mask_union.as_mut()) {
            mk.get_plane_into(c, 0, &mut mplane)?;
            let mut sum = 0.0f64;
            for ((u, mv), v) in union.iter_mut().zip(mplane.iter()).zip(pv) {
                if *mv > 0.5 {
                    *u = true;
                    if v.is_finite() {
                        sum += *v as f64;
                    }
                }
            }
            if let Some(bp) = beam_pixels(c) {
                s.mask_flux_jy[c] = sum / bp;
            }
        }
    }
    let mut best = f32::NEG_INFINITY;
    for (k, v) in s.peak.iter().enumerate() {
        if *v > best {
            best = *v;
            s.brightest = (k % nx, k / nx);
        }
    }
    s.peak
        .mapv_inplace(|v| if v.is_finite() { v } else { f32::NAN });
    Ok(s)
}

/// Per-channel residual statistics and the histogram of residual / rms.
struct ResidualScan {
    rms: Vec<f64>,
    peak: Vec<f64>,
    hist: Vec<u64>,
}

fn scan_residual(res: &mut CasaImage) -> Result<ResidualScan, ReportError> {
    let nchan = res.shape()[3];
    let mut r = ResidualScan {
        rms: vec![f64::NAN; nchan],
        peak: vec![f64::NAN; nchan],
        hist: vec![0; HIST_BINS],
    };
    let mut rplane = Array2::zeros((0, 0));
    for c in 0..nchan {
        res.get_plane_into(c, 0, &mut rplane)?;
        let vals = rplane.as_slice().expect("standard layout");
        let rms = robust_rms(vals);
        r.rms[c] = rms;
        let (mut peak, counts) = (0.0f32, &mut r.hist);
        if rms > 0.0 {
            let scale = HIST_BINS as f64 / (2.0 * HIST_SPAN);
            let (inv, off) = ((scale / rms) as f32, (HIST_SPAN * scale) as f32);
            for v in vals {
                // NaN fails every comparison: no bin, no peak.
                peak = if v.abs() > peak { v.abs() } else { peak };
                let k = v * inv + off;
                if k >= 0.0 && k < HIST_BINS as f32 {
                    counts[k as usize] += 1;
                }
            }
        } else {
            peak = vals
                .iter()
                .fold(0.0f32, |a, v| if v.abs() > a { v.abs() } else { a });
        }
        r.peak[c] = peak as f64;
    }
    Ok(r)
}

/// The PSF plane's peak `(x, y)`, its main lobe (grown from the peak through positive pixels
/// that do not rise again), and the sidelobe level: the largest |value| outside the main lobe
/// relative to the peak.
pub struct PsfLobes {
    pub peak_xy: (usize, usize),
    pub main_lobe_pixels: usize,
    pub sidelobe_level: f64,
}

pub fn psf_lobes(psf: &Array2<f32>) -> PsfLobes {
    let (ny, nx) = psf.dim();
    let (mut py, mut px, mut pv) = (0, 0, f32::NEG_INFINITY);
    for ((y, x), v) in psf.indexed_iter() {
        if *v > pv {
            (py, px, pv) = (y, x, *v);
        }
    }
    let mut lobe = Array2::from_elem((ny, nx), false);
    let mut stack = vec![(py, px)];
    lobe[[py, px]] = true;
    let mut count = 0;
    while let Some((y, x)) = stack.pop() {
        count += 1;
        let here = psf[[y, x]];
        for (dy, dx) in [(-1isize, 0isize), (1, 0), (0, -1), (0, 1)] {
            let (yy, xx) = (y as isize + dy, x as isize + dx);
            if yy < 0 || xx < 0 || yy >= ny as isize || xx >= nx as isize {
                continue;
            }
            let (yy, xx) = (yy as usize, xx as usize);
            let v = psf[[yy, xx]];
            if !lobe[[yy, xx]] && v > 0.0 && v <= here {
                lobe[[yy, xx]] = true;
                stack.push((yy, xx));
            }
        }
    }
    let side = psf
        .iter()
        .zip(lobe.iter())
        .filter(|(v, l)| !**l && v.is_finite())
        .fold(0.0f64, |a, (v, _)| a.max(v.abs() as f64));
    PsfLobes {
        peak_xy: (px, py),
        main_lobe_pixels: count,
        sidelobe_level: if pv > 0.0 { side / pv as f64 } else { f64::NAN },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robust_rms_of_a_gaussian_sample() {
        // A deterministic normal sample (Box-Muller on a lattice) with sigma 2 and one outlier.
        let mut v = Vec::new();
        let n = 200;
        for i in 0..n {
            for j in 0..n {
                let u1 = (i as f64 + 0.5) / n as f64;
                let u2 = (j as f64 + 0.5) / n as f64;
                v.push((2.0 * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32);
            }
        }
        v.push(1e6);
        // 40000 lattice points: the MAD estimate is within 1% of sigma.
        assert!((robust_rms(&v) - 2.0).abs() < 0.02, "{}", robust_rms(&v));
    }

    #[test]
    fn psf_sidelobe_is_the_largest_value_outside_the_main_lobe() {
        // A Gaussian main lobe with a ring of -0.1 and a bump of 0.25 away from it.
        let n = 65;
        let psf = Array2::from_shape_fn((n, n), |(y, x)| {
            let r2 = ((x as f64 - 32.0).powi(2) + (y as f64 - 32.0).powi(2)) / 9.0;
            let mut v = (-r2).exp();
            if (6.0..7.0).contains(&r2.sqrt()) {
                v -= 0.1;
            }
            if (x, y) == (55, 32) {
                v = 0.25;
            }
            v as f32
        });
        let l = psf_lobes(&psf);
        assert_eq!(l.peak_xy, (32, 32));
        assert!((l.sidelobe_level - 0.25).abs() < 1e-6);
    }
}

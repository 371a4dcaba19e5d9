//! The multi-scale multi-term (MS-MFS) minor cycle of `deconvolver='mtmfs'` (Rau & Cornwell
//! 2011, as tclean's `MultiTermMatrixCleaner`).
//!
//! Per scale `s`, the residual of each Taylor term smoothed by the scale function
//! (`R_ts = R_t * phi_s`) gives at every pixel the coefficients `a_s = H_s^-1 R_s` (`H_s` the
//! Hessian's peak matrix, [`hessian`]); the component is the pixel and scale maximising the
//! chi-square reduction `a_s . (2 R_s - H_s a_s)` times the scale bias `1 - smallscalebias s /
//! s_max` (1 with one scale) within the scale's mask. Each Taylor model takes `gain a_t phi_s` there,
//! every smoothed residual loses the Hessian patch times the coefficients. The cycle stops when
//! the peak `|R_00| / H_0[0][0]` (the tt0 residual at the first scale) within the mask falls below
//! the threshold, or at the iteration limit; the image-domain residuals are then updated with the
//! full PSFs: `R_t -= sum_q PSF_{t+q} * dM_q`.
//!
//! The principal solution of the residuals (`H_0^-1 R`, [`MultiTermClean::principal_solution`])
//! is what tclean adds to the restored Taylor images.

mod hessian;

use crate::minor::{MinorOutcome, MinorStop};
use crate::multiscale::make_scale;
use crate::peaks::RowPeaks;
use crate::planeops::{add_shifted, Fft2d, PixelBox};
use hessian::{patch_support, Hessian};
use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Zip};

/// The scale masks' threshold on the mask convolved with a scale (tclean's MTMC: 0.1).
const SCALE_MASK_THRESHOLD: f32 = 0.1;

/// One plane's multi-term deconvolver; the Hessian is made on the first cycle.
pub struct MultiTermClean {
    nterms: usize,
    scales: Vec<f32>,
    bias: Vec<f32>,
    state: Option<State>,
}

struct State {
    fft: Fft2d,
    hessian: Hessian,
    /// Spectra of the centred scale functions and their cropped images (for model updates).
    scale_specs: Vec<Vec<pclean_fft::Complex32>>,
    scale_patches: Vec<Array2<f32>>,
    /// Spectra of the `2 nterms - 1` PSFs (centred).
    psf_specs: Vec<Vec<pclean_fft::Complex32>>,
}

/// The images of one minor cycle.
pub struct TermImages<'a> {
    /// `nterms` residual images (updated in place).
    pub residuals: Vec<ArrayViewMut2<'a, f32>>,
    /// `nterms` model images, Jy/pixel (updated in place).
    pub models: Vec<ArrayViewMut2<'a, f32>>,
    /// `2 nterms - 1` PSF terms, peak of term 0 is 1 at `(ny/2, nx/2)`.
    pub psfs: Vec<ArrayView2<'a, f32>>,
    pub mask: Option<ArrayView2<'a, bool>>,
}

impl MultiTermClean {
    /// `nterms` Taylor terms over `scales` (pixels; `[0]` for point sources).
    pub fn new(nterms: usize, scales: Vec<f32>, smallscalebias: f32) -> Self {
        let smax = scales.iter().cloned().fold(0.0f32, f32::max);
        let bias = scales
            .iter()
            .map(|a| {
                if scales.len() > 1 && smax > 0.0 {
                    1.0 - smallscalebias * a / smax
                } else {
                    1.0
                }
            })
            .collect();
        MultiTermClean {
            nterms,
            scales,
            bias,
            state: None,
        }
    }

    pub fn nterms(&self) -> usize {
        self.nterms
    }

    /// Make the Hessian from the PSF terms (once).
    fn prepare(&mut self, psfs: &[ArrayView2<f32>]) -> Result<&State, String> {
        if self.state.is_none() {
            let (ny, nx) = psfs[0].dim();
            // tclean ignores scales larger than half the image.
            let limit = (nx / 2).min(ny / 2) as f32;
            let keep: Vec<usize> = (0..self.scales.len())
                .filter(|i| self.scales[*i] <= limit)
                .collect();
            self.scales = keep.iter().map(|i| self.scales[*i]).collect();
            self.bias = keep.iter().map(|i| self.bias[*i]).collect();
            let fft = Fft2d::new(ny, nx);
            let smax = self.scales.iter().cloned().fold(0.0f32, f32::max);
            let support = patch_support(smax, nx, ny);
            let half = support / 2;
            let (cy, cx) = (ny / 2, nx / 2);
            let mut scale_specs = Vec::new();
            let mut scale_patches = Vec::new();
            for &a in &self.scales {
                let img = make_scale(ny, nx, a);
                scale_specs.push(fft.forward(img.view(), true));
                let p = img.slice(s![
                    cy - half..cy - half + support,
                    cx - half..cx - half + support
                ]);
                scale_patches.push(p.to_owned());
            }
            let hessian = Hessian::new(psfs, &scale_specs, self.nterms, support, &fft)?;
            let psf_specs = psfs.iter().map(|p| fft.forward(*p, true)).collect();
            self.state = Some(State {
                fft,
                hessian,
                scale_specs,
                scale_patches,
                psf_specs,
            });
        }
        Ok(self.state.as_ref().expect("made above"))
    }

    /// Free the cycle state (the Hessian, the PSF and scale spectra) while a major cycle runs;
    /// the next minor cycle (or [`MultiTermClean::principal_solution`]) makes it again from the
    /// same PSFs, identically.
    pub fn release(&mut self) {
        self.state = None;
    }

    /// The Hessian's and the cycle's own planes, bytes (after the first cycle).
    pub fn state_bytes(&self) -> usize {
        self.state.as_ref().map_or(0, |s| s.hessian.bytes())
    }

    /// The principal solution `H_0^-1 R` of the residual terms at the first scale (with only PSF
    /// terms known: made here if no cycle ran).
    pub fn principal_solution(
        &mut self,
        residuals: &[ArrayView2<f32>],
        psfs: &[ArrayView2<f32>],
    ) -> Result<Vec<Array2<f32>>, String> {
        let n = self.nterms;
        let st = self.prepare(psfs)?;
        let inv = &st.hessian.inverse[0];
        Ok((0..n)
            .map(|t1| {
                let mut out = Array2::<f32>::zeros(residuals[0].dim());
                for (t2, r) in residuals.iter().enumerate() {
                    let c = inv[t1 * n + t2] as f32;
                    Zip::from(&mut out).and(r).for_each(|o, &v| *o += c * v);
                }
                out
            })
            .collect())
    }

    /// One minor cycle within `threshold` (Jy/beam, on the tt0 residual) and `max_iterations`.
    pub fn minor_cycle(
        &mut self,
        img: TermImages<'_>,
        gain: f32,
        threshold: f32,
        max_iterations: usize,
    ) -> Result<MinorOutcome, String> {
        let n = self.nterms;
        let bias = self.bias.clone();
        let scales = self.scales.clone();
        let TermImages {
            mut residuals,
            mut models,
            psfs,
            mask,
        } = img;
        let st = self.prepare(&psfs)?;
        let ns = scales.len();
        let (ny, nx) = residuals[0].dim();
        let h = &st.hessian;
        let half = h.support / 2;
        // Smoothed residuals R_ts and the scale masks.
        let mut rts: Vec<Array2<f32>> = Vec::with_capacity(n * ns);
        for r in residuals.iter() {
            for spec in &st.scale_specs {
                let mut out = Array2::<f32>::zeros((ny, nx));
                st.fft.convolve(r.view(), false, spec, out.view_mut());
                rts.push(out);
            }
        }
        let masks: Vec<Array2<bool>> = (0..ns)
            .map(|si| scale_mask(mask, scales[si], &st.scale_specs[si], &st.fft, (ny, nx), si))
            .collect();
        let mut coeffs = vec![Array2::<f32>::zeros((ny, nx)); n * ns];
        let mut work = vec![Array2::<f32>::zeros((ny, nx)); ns];
        let h00 = h.peak[0][0] as f32;
        // Row peaks of |R_00| (the stopping peak) and of each scale's chi-square reduction, kept
        // current row by row: an iteration changes only the rows of its patch, so it rescans
        // those instead of the whole image (the same maxima and first-in-row-major positions as
        // a full scan; `peaks` module).
        let full = PixelBox::full(ny, nx);
        let mut r_peaks = RowPeaks::new(rts[0].view(), Some(masks[0].view()), full);
        let mut w_peaks: Vec<RowPeaks> = (0..ns)
            .map(|si| RowPeaks::new(work[si].view(), Some(masks[si].view()), full))
            .collect();
        let peak_now = |p: &RowPeaks, rts: &[Array2<f32>]| -> f32 {
            let m = p
                .peak(rts[0].view(), Some(masks[0].view()))
                .map_or(0.0, |(v, _, _)| v.abs());
            m / h00
        };
        let start_peak = peak_now(&r_peaks, &rts);
        let empty = masks[0].iter().all(|m| !m);
        let mut out = MinorOutcome {
            iterations: 0,
            start_peak,
            end_peak: start_peak,
            flux_added: 0.0,
            stop: MinorStop::IterationLimit,
        };
        if empty {
            out.stop = MinorStop::ZeroMask;
            return Ok(out);
        }
        let initial: Vec<Array2<f32>> = models.iter().map(|m| m.to_owned()).collect();
        let mut region = (0, ny, 0, nx);
        while out.iterations < max_iterations {
            if out.end_peak < threshold {
                out.stop = MinorStop::Threshold;
                break;
            }
            // Coefficients and the chi-square reduction in the region that changed.
            let (y0, y1, x0, x1) = region;
            let mut best = (-1.0f32, 0usize, 0usize, 0usize);
            for si in 0..ns {
                let inv = &h.inverse[si];
                let hp = &h.peak[si];
                for y in y0..y1 {
                    for x in x0..x1 {
                        let mut a = [0.0f32; 4];
                        for t1 in 0..n {
                            let mut v = 0.0f64;
                            for t2 in 0..n {
                                v += inv[t1 * n + t2] * rts[t2 * ns + si][[y, x]] as f64;
                            }
                            a[t1] = v as f32;
                            coeffs[t1 * ns + si][[y, x]] = a[t1];
                        }
                        let mut w = 0.0f64;
                        for t1 in 0..n {
                            w += 2.0 * a[t1] as f64 * rts[t1 * ns + si][[y, x]] as f64;
                            for t2 in 0..n {
                                w -= hp[t1 * n + t2] * a[t1] as f64 * a[t2] as f64;
                            }
                        }
                        work[si][[y, x]] = w as f32;
                    }
                }
                w_peaks[si].refresh_rows(work[si].view(), Some(masks[si].view()), y0, y1);
                let (v, py, px) = w_peaks[si]
                    .peak(work[si].view(), Some(masks[si].view()))
                    .map_or((-1.0, 0, 0), |(v, y, x)| (v.abs(), y, x));
                if v * bias[si] > best.0 {
                    best = (v * bias[si], si, py, px);
                }
            }
            let (_, sm, py, px) = best;
            if best.0 < 0.0 {
                out.stop = MinorStop::ZeroMask;
                break;
            }
            let a: Vec<f32> = (0..n).map(|t| coeffs[t * ns + sm][[py, px]]).collect();
            let c = (half, half);
            for (t, m) in models.iter_mut().enumerate() {
                add_shifted(m, st.scale_patches[sm].view(), c, (py, px), gain * a[t]);
            }
            for t1 in 0..n {
                for si in 0..ns {
                    let mut r = rts[t1 * ns + si].view_mut();
                    for (t2, at2) in a.iter().enumerate() {
                        add_shifted(&mut r, h.patch(t1, t2, si, sm), c, (py, px), -gain * at2);
                    }
                }
            }
            out.flux_added += (gain * a[0]) as f64;
            out.iterations += 1;
            region = (
                py.saturating_sub(half),
                (py + half).min(ny),
                px.saturating_sub(half),
                (px + half).min(nx),
            );
            r_peaks.refresh_rows(rts[0].view(), Some(masks[0].view()), region.0, region.1);
            out.end_peak = peak_now(&r_peaks, &rts);
        }
        if out.iterations == max_iterations && out.end_peak < threshold {
            out.stop = MinorStop::Threshold;
        }
        // Image-domain residuals: R_t -= sum_q PSF_{t+q} * (M_q - M_q initial).
        let dspec: Vec<_> = models
            .iter()
            .zip(&initial)
            .map(|(m, i)| st.fft.forward((&m.view() - i).view(), false))
            .collect();
        for (t, r) in residuals.iter_mut().enumerate() {
            let mut acc = vec![pclean_fft::Complex32::new(0.0, 0.0); dspec[0].len()];
            for (q, d) in dspec.iter().enumerate() {
                for ((o, a), b) in acc.iter_mut().zip(d).zip(&st.psf_specs[t + q]) {
                    *o += a * b;
                }
            }
            let mut conv = Array2::<f32>::zeros((ny, nx));
            st.fft.inverse(&mut acc, conv.view_mut(), false);
            Zip::from(r).and(&conv).for_each(|v, &c| *v -= c);
        }
        Ok(out)
    }
}

/// tclean's MTMC scale masks: the clean mask (everything without one) convolved with the scale
/// function, above 0.1; scales after the first lose a border of `1.5 a` pixels.
fn scale_mask(
    mask: Option<ArrayView2<bool>>,
    a: f32,
    spec: &[pclean_fft::Complex32],
    fft: &Fft2d,
    shape: (usize, usize),
    index: usize,
) -> Array2<bool> {
    let (ny, nx) = shape;
    let mut m = match mask {
        None => Array2::from_elem(shape, true),
        Some(m) => {
            let mf = m.mapv(|b| if b { 1.0f32 } else { 0.0 });
            let mut conv = Array2::<f32>::zeros(shape);
            fft.convolve(mf.view(), false, spec, conv.view_mut());
            conv.mapv(|v| v > SCALE_MASK_THRESHOLD)
        }
    };
    if index > 0 {
        let b = ((1.5 * a) as usize + 1).min(ny).min(nx);
        m.slice_mut(s![..b, ..]).fill(false);
        m.slice_mut(s![ny - b.., ..]).fill(false);
        m.slice_mut(s![.., ..b]).fill(false);
        m.slice_mut(s![.., nx - b..]).fill(false);
    }
    m
}

#[cfg(test)]
mod tests;

//! Multi-scale CLEAN (Cornwell 2008, IEEE JSTSP 2, 793), as tclean's `multiscale` deconvolver.
//!
//! # Source
//! `SDAlgorithmMSClean` (LibRA/CASA `synthesis/ImagerObjects`) driving `MatrixCleaner`
//! (`synthesis/MeasurementEquations/MatrixCleaner.cc`, the matrix form of casacore's
//! `LatticeCleaner`):
//! - **Scale functions** (`makeScale`): scale 0 is a delta at `(ny/2, nx/2)`; scale `a > 0` is the
//!   tapered paraboloid `(1 - r²) * spheroidal(r)`, `r = distance / a`, for `r < 1`, normalised to
//!   unit sum (so a component's amplitude is its total flux). Scales are sorted ascending.
//! - **Once per plane** (`makePsfScales`): the scale spectra, `PSF ⊛ s_k ⊛ s_k` (its peak
//!   normalises scale `k`'s amplitudes) and the cross terms `PSF ⊛ s_j ⊛ s_k`, by FFT.
//! - **Each minor cycle** (`makeDirtyScales`, `makeScaleMasks`): the smoothed residuals
//!   `R_k = residual ⊛ s_k`; scale masks `(mask ⊛ s_k) > 0.9` with a border of
//!   `floor(1.5 * a_k)` pixels (plus the outermost row/column) removed.
//! - **Iteration** (`clean`): for each scale the largest |R_k| inside its mask, value `v_k`;
//!   `maxima_k = v_k / peak_k * bias_k * v_k` (CASA 6 multiplies by `v_k` again "to make it
//!   positive", so scales compete on `bias * v² / peak`); the optimum scale's amplitude is
//!   `v / peak`; model `+= gain * amplitude * s_opt` at the peak; every `R_k -= gain * amplitude *
//!   (PSF ⊛ s_k ⊛ s_opt)` shifted to the peak (over the whole image, as tclean).
//! - **Scale bias** (CASA 6): `bias_k = 1 - smallscalebias * a_k / a_max`, with `smallscalebias`
//!   clamped to `[-1, 1]` (tclean warns and clamps).
//! - **Stopping**: threshold on the optimum amplitude; divergence when the amplitude exceeds the
//!   cycle's first amplitude by more than half of it (`converged = -2/-3`, here
//!   [`MinorStop::NoProgress`]); the iteration limit.
//! - **Residual**: after the cycle, `residual -= PSF ⊛ Δmodel` by (circular) FFT, as
//!   `SDAlgorithmMSClean` does with `MatrixCleaner::residual`.
//!
//! # Differences from tclean
//! - Threshold stop at amplitude `<= threshold` (tclean `<`); the threshold test comes before the
//!   iteration-limit test so a cycle that ends on both reports `Threshold`.
//! - `stoppointmode` (off by default in tclean) and `stopAtLargeScaleNegative` (not used by tclean)
//!   are not offered (off in tclean by default; pclean has no parameter for them).
//! - A plane where no scale mask has a pixel gives `ZeroMask`; a negative `PSF ⊛ s ⊛ s` peak
//!   (tclean returns -1 and cleans nothing) gives `NoProgress` with no iterations.
//! - `start_peak`/`end_peak` are the peak |residual| in the mask (tclean's `peakresidual`); the
//!   iterations compare scale amplitudes against the threshold, as tclean.

use ndarray::{s, Array2, ArrayView2, Zip};

use crate::hogbom::zero_mask_outcome;
use crate::minor::{Deconvolver, MinorControls, MinorOutcome, MinorStop, PlaneImages};
use crate::planeops::{add_shifted, mask_bbox, peak_in_box, Fft2d, PixelBox, Spectrum};

/// tclean's `itsMaskThreshold`: a scale may be centred where at least 90% of it is in the mask.
const SCALE_MASK_THRESHOLD: f32 = 0.9;
/// The divergence test: amplitude grew by more than this fraction of the cycle's first one.
const DIVERGENCE_FRACTION: f32 = 0.5;

/// tclean's `multiscale` deconvolver. Scale-convolved PSFs are computed on the first minor cycle
/// and kept for the plane.
pub struct MultiScaleClean {
    /// Scale sizes in pixels, ascending.
    scales: Vec<f32>,
    /// Per-scale bias, `1 - smallscalebias * a_k / a_max`.
    bias: Vec<f32>,
    psf: Option<ScalePsfs>,
}

/// Everything derived once from the PSF.
struct ScalePsfs {
    shape: (usize, usize),
    fft: Fft2d,
    psf_spec: Spectrum,
    scale_specs: Vec<Spectrum>,
    /// Scale functions cropped to their support, with the pixel that carries their centre.
    kernels: Vec<(Array2<f32>, (usize, usize))>,
    /// Peak (signed, largest |.|) of `PSF ⊛ s_k ⊛ s_k`.
    psf_peaks: Vec<f32>,
    /// `PSF ⊛ s_j ⊛ s_k`, centred, for `j <= k` (see [`pair_index`]).
    cross: Vec<Array2<f32>>,
}

/// Index of the unordered pair `(j, k)` in the upper-triangular cross-term list.
fn pair_index(j: usize, k: usize, n: usize) -> usize {
    let (a, b) = if j <= k { (j, k) } else { (k, j) };
    a * n - a * (a + 1) / 2 + b
}

impl MultiScaleClean {
    /// A multi-scale deconvolver. `scales_pixels`: scale sizes (tclean `scales`, pixels; an empty
    /// list means `[0]`, as tclean); `smallscalebias`: tclean's `smallscalebias` (clamped to
    /// `[-1, 1]`). Validation with errors is [`crate::factory::make_deconvolver`]'s job.
    pub fn new(scales_pixels: Vec<f32>, smallscalebias: f32) -> Self {
        let mut scales: Vec<f32> = scales_pixels.into_iter().map(|a| a.max(0.0)).collect();
        if scales.is_empty() {
            scales.push(0.0);
        }
        scales.sort_by(f32::total_cmp);
        let ssb = smallscalebias.clamp(-1.0, 1.0);
        let amax = *scales.last().unwrap_or(&0.0);
        let bias = if scales.len() > 1 && amax > 0.0 {
            scales.iter().map(|&a| 1.0 - ssb * a / amax).collect()
        } else {
            vec![1.0; scales.len()]
        };
        MultiScaleClean {
            scales,
            bias,
            psf: None,
        }
    }

    /// Scale sizes in pixels, ascending.
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// Scale biases, in the order of [`MultiScaleClean::scales`].
    pub fn scale_bias(&self) -> &[f32] {
        &self.bias
    }

    fn prepare(&mut self, psf: ArrayView2<f32>) {
        let shape = psf.dim();
        if self.psf.as_ref().is_some_and(|p| p.shape == shape) {
            return;
        }
        let (ny, nx) = shape;
        let n = self.scales.len();
        let fft = Fft2d::new(ny, nx);
        let psf_spec = fft.forward(psf, true);
        let mut scale_specs = Vec::with_capacity(n);
        let mut kernels = Vec::with_capacity(n);
        for &a in &self.scales {
            let img = make_scale(ny, nx, a);
            scale_specs.push(fft.forward(img.view(), true));
            kernels.push(crop_kernel(img.view(), a));
        }
        let mut psf_peaks = vec![0.0f32; n];
        let mut cross = Vec::with_capacity(n * (n + 1) / 2);
        for j in 0..n {
            for k in j..n {
                let mut spec: Spectrum = psf_spec
                    .iter()
                    .zip(&scale_specs[j])
                    .zip(&scale_specs[k])
                    .map(|((&p, &a), &b)| p * a * b)
                    .collect();
                let mut img = Array2::<f32>::zeros((ny, nx));
                fft.inverse(&mut spec, img.view_mut(), true);
                if j == k {
                    psf_peaks[j] = signed_abs_max(img.view());
                }
                cross.push(img);
            }
        }
        self.psf = Some(ScalePsfs {
            shape,
            fft,
            psf_spec,
            scale_specs,
            kernels,
            psf_peaks,
            cross,
        });
    }
}

/// The value of largest magnitude (first in row-major order).
fn signed_abs_max(img: ArrayView2<f32>) -> f32 {
    img.iter().fold(
        0.0f32,
        |best, &v| if v.abs() > best.abs() { v } else { best },
    )
}

/// casacore's `MatrixCleaner::spheroidal`: Schwab's spheroidal function tapering the scale
/// paraboloids, 1 at the centre and 0 from the edge on.
fn spheroidal(nu: f32) -> f32 {
    if nu <= 0.0 {
        return 1.0;
    }
    if nu >= 1.0 {
        return 0.0;
    }
    pclean_core::spheroidal::schwab_psi(nu as f64) as f32
}

/// casacore's `makeScale`: the scale function of size `a` pixels centred at `(ny/2, nx/2)`,
/// normalised to unit sum; a delta for `a == 0`.
pub(crate) fn make_scale(ny: usize, nx: usize, a: f32) -> Array2<f32> {
    let mut img = Array2::<f32>::zeros((ny, nx));
    let (cy, cx) = (ny / 2, nx / 2);
    if a <= 0.0 {
        img[[cy, cx]] = 1.0;
        return img;
    }
    let lo = |c: usize| ((c as f64 - a as f64) as i64).max(0) as usize;
    let hi = |c: usize, n: usize| ((c as f64 + a as f64) as i64).min(n as i64 - 1) as usize;
    let mut volume = 0.0f64;
    for y in lo(cy)..=hi(cy, ny) {
        let ypart = ((cy as f64 - y as f64) / a as f64).powi(2);
        for x in lo(cx)..=hi(cx, nx) {
            let rad2 = ypart + ((cx as f64 - x as f64) / a as f64).powi(2);
            if rad2 < 1.0 {
                let v = (1.0 - rad2 as f32) * spheroidal(rad2.sqrt() as f32);
                img[[y, x]] = v;
                volume += v as f64;
            }
        }
    }
    if volume > 0.0 {
        img.mapv_inplace(|v| (v as f64 / volume) as f32);
    }
    img
}

/// The support of a centred scale image: rows/columns within `ceil(a)` of the centre.
fn crop_kernel(img: ArrayView2<f32>, a: f32) -> (Array2<f32>, (usize, usize)) {
    let (ny, nx) = img.dim();
    let (cy, cx) = (ny / 2, nx / 2);
    let r = a.max(0.0).ceil() as usize;
    let (y0, x0) = (cy.saturating_sub(r), cx.saturating_sub(r));
    let (y1, x1) = ((cy + r + 1).min(ny), (cx + r + 1).min(nx));
    (img.slice(s![y0..y1, x0..x1]).to_owned(), (cy - y0, cx - x0))
}

/// tclean's scale masks: `(mask ⊛ s_k) > 0.9` (the mask itself for a delta; everything without a
/// mask), minus a border of `floor(1.5 * a_k)` pixels and the outermost row and column.
fn scale_mask(
    mask: Option<ArrayView2<bool>>,
    a: f32,
    scale_spec: &[pclean_fft::Complex32],
    fft: &mut Fft2d,
    shape: (usize, usize),
) -> Array2<bool> {
    let (ny, nx) = shape;
    let mut m = match mask {
        None => Array2::from_elem(shape, true),
        Some(m) if a <= 0.0 => m.to_owned(),
        Some(m) => {
            let mf = m.mapv(|b| if b { 1.0f32 } else { 0.0 });
            let mut conv = Array2::<f32>::zeros(shape);
            fft.convolve(mf.view(), false, scale_spec, conv.view_mut());
            conv.mapv(|v| v > SCALE_MASK_THRESHOLD)
        }
    };
    let border = (1.5 * a) as usize;
    let b = (border + 1).min(ny).min(nx);
    m.slice_mut(s![..b, ..]).fill(false);
    m.slice_mut(s![ny - b.., ..]).fill(false);
    m.slice_mut(s![.., ..b]).fill(false);
    m.slice_mut(s![.., nx - b..]).fill(false);
    m
}

impl Deconvolver for MultiScaleClean {
    fn minor_cycle(&mut self, images: PlaneImages<'_>, controls: &MinorControls) -> MinorOutcome {
        let Some((mut residual, mut model, psf, mask, _)) = images.open() else {
            return zero_mask_outcome();
        };
        let shape = residual.dim();
        let (ny, nx) = shape;
        let full = PixelBox::full(ny, nx);
        let start_peak = peak_in_box(residual.view(), mask, full).map_or(0.0, |p| p.0.abs());
        self.prepare(psf);
        let Some(sp) = self.psf.as_mut() else {
            return zero_mask_outcome();
        };
        let n = self.scales.len();
        let no_progress = |iterations| MinorOutcome {
            iterations,
            start_peak,
            end_peak: start_peak,
            flux_added: 0.0,
            stop: MinorStop::NoProgress,
        };
        if sp.psf_peaks.iter().any(|&p| p <= 0.0) {
            return no_progress(0);
        }

        // Scale masks and their search boxes; scales that fit nowhere are skipped.
        let masks: Vec<Array2<bool>> = (0..n)
            .map(|k| scale_mask(mask, self.scales[k], &sp.scale_specs[k], &mut sp.fft, shape))
            .collect();
        let boxes: Vec<Option<PixelBox>> = masks.iter().map(|m| mask_bbox(m.view())).collect();
        if boxes.iter().all(Option::is_none) {
            return zero_mask_outcome();
        }

        // Smoothed residuals R_k = residual ⊛ s_k.
        let mut smoothed: Vec<Array2<f32>> = Vec::with_capacity(n);
        for k in 0..n {
            if self.scales[k] <= 0.0 {
                smoothed.push(residual.to_owned());
            } else {
                let mut r = Array2::<f32>::zeros(shape);
                sp.fft
                    .convolve(residual.view(), false, &sp.scale_specs[k], r.view_mut());
                smoothed.push(r);
            }
        }

        let mut delta = Array2::<f32>::zeros(shape);
        let mut iterations = 0usize;
        let mut flux_added = 0.0f64;
        let mut first_amplitude: Option<f32> = None;
        let stop = loop {
            // Optimum scale and position (tclean's `maxima` criterion).
            let mut best: Option<(f32, usize, usize, usize)> = None; // (criterion, k, y, x)
            for k in 0..n {
                let Some(b) = boxes[k] else { continue };
                let Some((v, y, x)) = peak_in_box(smoothed[k].view(), Some(masks[k].view()), b)
                else {
                    continue;
                };
                let crit = v / sp.psf_peaks[k] * self.bias[k] * v;
                if best.is_none_or(|bb| crit.abs() > bb.0.abs()) {
                    best = Some((crit, k, y, x));
                }
            }
            let Some((_, k, y, x)) = best else {
                break MinorStop::ZeroMask;
            };
            let amplitude = smoothed[k][[y, x]] / sp.psf_peaks[k];
            let first = *first_amplitude.get_or_insert(amplitude.abs());
            if amplitude.abs() <= controls.threshold {
                break MinorStop::Threshold;
            }
            if amplitude.abs() - first > DIVERGENCE_FRACTION * first {
                break MinorStop::NoProgress;
            }
            if iterations >= controls.max_iterations {
                break MinorStop::IterationLimit;
            }
            let f = controls.gain * amplitude;
            let (kernel, kc) = &sp.kernels[k];
            add_shifted(&mut model, kernel.view(), *kc, (y, x), f);
            add_shifted(&mut delta.view_mut(), kernel.view(), *kc, (y, x), f);
            let centre = (ny / 2, nx / 2);
            for (j, r) in smoothed.iter_mut().enumerate() {
                let cross = &sp.cross[pair_index(j, k, n)];
                add_shifted(&mut r.view_mut(), cross.view(), centre, (y, x), -f);
            }
            flux_added += f as f64;
            iterations += 1;
        };

        // residual -= PSF ⊛ Δmodel (tclean: MatrixCleaner::residual).
        if iterations > 0 {
            let mut conv = Array2::<f32>::zeros(shape);
            sp.fft
                .convolve(delta.view(), false, &sp.psf_spec, conv.view_mut());
            Zip::from(&mut residual)
                .and(&conv)
                .for_each(|r, &c| *r -= c);
        }
        let end_peak = peak_in_box(residual.view(), mask, full).map_or(0.0, |p| p.0.abs());
        MinorOutcome {
            iterations,
            start_peak,
            end_peak,
            flux_added,
            stop,
        }
    }

    fn name(&self) -> &'static str {
        "multiscale"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_index_is_a_bijection_onto_the_upper_triangle() {
        let n = 4;
        let mut seen = vec![false; n * (n + 1) / 2];
        for j in 0..n {
            for k in j..n {
                let i = pair_index(j, k, n);
                assert!(!seen[i]);
                seen[i] = true;
                assert_eq!(pair_index(k, j, n), i);
            }
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn scale_functions_have_unit_sum_and_finite_support() {
        for &a in &[0.0f32, 1.5, 6.0, 12.0] {
            let img = make_scale(64, 64, a);
            assert!((img.sum() - 1.0).abs() < 1e-5, "scale {a}");
            let (k, (cy, cx)) = crop_kernel(img.view(), a);
            assert!((k.sum() - 1.0).abs() < 1e-5, "cropped scale {a}");
            assert!(k[[cy, cx]] >= k.iter().cloned().fold(0.0, f32::max));
        }
        // The taper is 1 at the centre and falls to ~0.004 at r = 1 (where 1 - r² zeroes it).
        assert_eq!(spheroidal(0.0), 1.0);
        assert!(spheroidal(0.999).abs() < 1e-2);
    }

    #[test]
    fn scale_bias_follows_casa6() {
        let ms = MultiScaleClean::new(vec![12.0, 0.0, 6.0], 0.6);
        assert_eq!(ms.scales(), &[0.0, 6.0, 12.0]);
        let b = ms.scale_bias();
        assert!(
            (b[0] - 1.0).abs() < 1e-6 && (b[1] - 0.7).abs() < 1e-6 && (b[2] - 0.4).abs() < 1e-6
        );
    }
}

//! The multi-term Hessian of Rau & Cornwell (2011): per pair of Taylor terms `(t1, t2)` and pair
//! of scales `(s1, s2)` the PSF term `t1 + t2` convolved with both scale functions, kept on a
//! patch around the PSF peak (tclean's `MultiTermMatrixCleaner`: 20 times the larger of a 4-pixel
//! beam and the largest scale, at least 80 pixels, at most the image, even); its peak per scale
//! is the small `nterms x nterms` matrix `H_s` inverted once.

use crate::planeops::Fft2d;
use ndarray::{s, Array2, ArrayView2};

/// Side of the square patch the Hessian's convolutions are kept on.
pub(crate) fn patch_support(max_scale: f32, nx: usize, ny: usize) -> usize {
    const PSF_BEAM: f32 = 4.0;
    const N_BEAMS: f32 = 20.0;
    let mut p = ((PSF_BEAM * PSF_BEAM + max_scale * max_scale).sqrt() * N_BEAMS) as usize;
    p = p.max((PSF_BEAM * N_BEAMS) as usize).min(nx).min(ny);
    p - p % 2
}

/// Index of a symmetric pair `(a, b)` among `n` items (`a, b < n`).
pub(crate) fn pair(a: usize, b: usize) -> usize {
    let (hi, lo) = (a.max(b), a.min(b));
    hi * (hi + 1) / 2 + lo
}

/// The Hessian's patches and per-scale peak matrices.
pub(crate) struct Hessian {
    pub nscales: usize,
    /// Patch side; the PSF peak is at `(support/2, support/2)`.
    pub support: usize,
    /// `patches[pair(t1, t2) * npairs_s + pair(s1, s2)]`.
    patches: Vec<Array2<f32>>,
    /// `H_s[t1][t2]` (row-major `nterms x nterms`) and its inverse, per scale.
    pub peak: Vec<Vec<f64>>,
    pub inverse: Vec<Vec<f64>>,
}

impl Hessian {
    /// From the `2 nterms - 1` PSF terms (centred, peak at `(ny/2, nx/2)`) and the scale
    /// spectra (centred scale functions). Fails when a peak matrix is not positive definite.
    pub(crate) fn new(
        psfs: &[ArrayView2<f32>],
        scale_specs: &[Vec<pclean_fft::Complex32>],
        nterms: usize,
        support: usize,
        fft: &Fft2d,
    ) -> Result<Self, String> {
        let nscales = scale_specs.len();
        let (ny, nx) = psfs[0].dim();
        let (cy, cx) = (ny / 2, nx / 2);
        let half = support / 2;
        let npairs_s = nscales * (nscales + 1) / 2;
        let npairs_t = nterms * (nterms + 1) / 2;
        let mut patches = vec![Array2::<f32>::zeros((0, 0)); npairs_t * npairs_s];
        let mut full = Array2::<f32>::zeros((ny, nx));
        for (t, psf) in psfs.iter().enumerate().take(2 * nterms - 1) {
            let psf_spec = fft.forward(*psf, true);
            for s1 in 0..nscales {
                for s2 in 0..=s1 {
                    let mut spec: Vec<_> = psf_spec
                        .iter()
                        .zip(&scale_specs[s1])
                        .zip(&scale_specs[s2])
                        .map(|((p, a), b)| p * a * b)
                        .collect();
                    fft.inverse(&mut spec, full.view_mut(), true);
                    let patch = full
                        .slice(s![
                            cy - half..cy - half + support,
                            cx - half..cx - half + support
                        ])
                        .to_owned();
                    // Every (t1, t2) with t1 + t2 == t shares this convolution.
                    for t1 in 0..nterms {
                        for t2 in 0..=t1 {
                            if t1 + t2 == t {
                                patches[pair(t1, t2) * npairs_s + pair(s1, s2)] = patch.clone();
                            }
                        }
                    }
                }
            }
        }
        let mut h = Hessian {
            nscales,
            support,
            patches,
            peak: Vec::new(),
            inverse: Vec::new(),
        };
        for s in 0..nscales {
            let m: Vec<f64> = (0..nterms * nterms)
                .map(|i| h.patch(i / nterms, i % nterms, s, s)[[half, half]] as f64)
                .collect();
            let inv = invert_spd(&m, nterms).ok_or_else(|| {
                format!(
                    "the multi-term Hessian of scale {s} is not positive definite ({m:?}): the \
                     band is too narrow for nterms={nterms}; use fewer Taylor terms"
                )
            })?;
            h.peak.push(m);
            h.inverse.push(inv);
        }
        Ok(h)
    }

    /// The patch of `PSF_{t1+t2} * scale_s1 * scale_s2`.
    pub(crate) fn patch(&self, t1: usize, t2: usize, s1: usize, s2: usize) -> ArrayView2<'_, f32> {
        let npairs_s = self.nscales * (self.nscales + 1) / 2;
        self.patches[pair(t1, t2) * npairs_s + pair(s1, s2)].view()
    }

    /// Bytes held by the patches.
    pub(crate) fn bytes(&self) -> usize {
        self.patches.iter().map(|p| p.len() * 4).sum()
    }
}

/// Inverse of a symmetric positive-definite `n x n` matrix (row-major), by Cholesky; `None` when
/// it is not positive definite.
pub(crate) fn invert_spd(m: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut sum = m[i * n + j];
            for k in 0..j {
                sum -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if sum.is_nan() || sum <= 0.0 {
                    return None;
                }
                l[i * n + i] = sum.sqrt();
            } else {
                l[i * n + j] = sum / l[j * n + j];
            }
        }
    }
    // inverse = L^-T L^-1: solve for each unit vector.
    let mut inv = vec![0.0f64; n * n];
    for c in 0..n {
        let mut y = vec![0.0f64; n];
        for i in 0..n {
            let mut sum = if i == c { 1.0 } else { 0.0 };
            for k in 0..i {
                sum -= l[i * n + k] * y[k];
            }
            y[i] = sum / l[i * n + i];
        }
        let mut x = vec![0.0f64; n];
        for i in (0..n).rev() {
            let mut sum = y[i];
            for k in i + 1..n {
                sum -= l[k * n + i] * x[k];
            }
            x[i] = sum / l[i * n + i];
        }
        for i in 0..n {
            inv[i * n + c] = x[i];
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inverse times the matrix is the identity (to double rounding), and an indefinite
    /// matrix is refused.
    #[test]
    fn spd_inverse() {
        let m = [4.0, 0.3, 0.5, 0.3, 2.0, 0.1, 0.5, 0.1, 1.5];
        let inv = invert_spd(&m, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| m[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        assert!(invert_spd(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }

    /// tclean's patch sizes: 80 for point sources, 20 sqrt(16 + 15^2) = 310 with a 15-pixel
    /// scale, never above the image, always even.
    #[test]
    fn patch_sizes() {
        assert_eq!(patch_support(0.0, 512, 512), 80);
        assert_eq!(patch_support(15.0, 512, 512), 310);
        assert_eq!(patch_support(15.0, 101, 200), 100);
    }
}

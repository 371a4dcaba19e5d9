//! Plane operations shared by the minor cycles: masked peak search, shifted-kernel updates and
//! circular 2-D FFT convolution (f32, same size as the image, as casacore's `FFTServer` uses in
//! `MatrixCleaner` and `ConvolutionEquation`).
//!
//! Conventions: images are `[[y, x]]`; a *centred* kernel has its origin at `(ny/2, nx/2)` (the
//! PSF, the scale functions); an *absolute* image (model, residual) has its origin at `(0, 0)`.
//! Convolving an absolute image with a centred kernel gives an absolute image; two centred
//! kernels give a centred one.

use ndarray::{s, ArrayView2, ArrayViewMut2, Zip};
use pclean_fft::{Complex32, RealFft2};

/// Inclusive-exclusive pixel box `y0..y1, x0..x1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PixelBox {
    pub y0: usize,
    pub y1: usize,
    pub x0: usize,
    pub x1: usize,
}

impl PixelBox {
    pub(crate) fn full(ny: usize, nx: usize) -> Self {
        PixelBox {
            y0: 0,
            y1: ny,
            x0: 0,
            x1: nx,
        }
    }
}

/// Bounding box of the `true` pixels of `mask`; `None` when there are none.
pub(crate) fn mask_bbox(mask: ArrayView2<bool>) -> Option<PixelBox> {
    let mut b: Option<PixelBox> = None;
    for ((y, x), &m) in mask.indexed_iter() {
        if m {
            b = Some(match b {
                None => PixelBox {
                    y0: y,
                    y1: y + 1,
                    x0: x,
                    x1: x + 1,
                },
                Some(b) => PixelBox {
                    y0: b.y0.min(y),
                    y1: b.y1.max(y + 1),
                    x0: b.x0.min(x),
                    x1: b.x1.max(x + 1),
                },
            });
        }
    }
    b
}

pub(crate) use crate::peaks::peak_in_box;

/// Where a shifted kernel overlaps a target: target rows `ty0..ty1` and columns `tx0..tx1`, with
/// kernel pixel `(ky0, kx0)` on target pixel `(ty0, tx0)`.
pub(crate) struct Overlap {
    pub ty0: usize,
    pub ty1: usize,
    pub tx0: usize,
    pub tx1: usize,
    pub ky0: usize,
    pub kx0: usize,
}

/// The overlap of a kernel of shape `kdim`, its `(kcy, kcx)` pixel on `(y, x)`, with a target of
/// shape `tdim`; `None` when they do not overlap.
pub(crate) fn overlap(
    tdim: (usize, usize),
    kdim: (usize, usize),
    (kcy, kcx): (usize, usize),
    (y, x): (usize, usize),
) -> Option<Overlap> {
    let ((ny, nx), (kny, knx)) = (tdim, kdim);
    // Offsets of the kernel's first pixel in the target.
    let oy = y as isize - kcy as isize;
    let ox = x as isize - kcx as isize;
    let ty0 = oy.max(0);
    let ty1 = (oy + kny as isize).min(ny as isize);
    let tx0 = ox.max(0);
    let tx1 = (ox + knx as isize).min(nx as isize);
    if ty0 >= ty1 || tx0 >= tx1 {
        return None;
    }
    Some(Overlap {
        ty0: ty0 as usize,
        ty1: ty1 as usize,
        tx0: tx0 as usize,
        tx1: tx1 as usize,
        ky0: (ty0 - oy) as usize,
        kx0: (tx0 - ox) as usize,
    })
}

/// `target[y + ky - kcy, x + kx - kcx] += factor * kernel[ky, kx]` over the overlap of the shifted
/// kernel with `target` (the kernel's `(kcy, kcx)` pixel lands on `(y, x)`); no allocation.
pub(crate) fn add_shifted(
    target: &mut ArrayViewMut2<f32>,
    kernel: ArrayView2<f32>,
    kc: (usize, usize),
    at: (usize, usize),
    factor: f32,
) {
    let Some(o) = overlap(target.dim(), kernel.dim(), kc, at) else {
        return;
    };
    let (h, w) = (o.ty1 - o.ty0, o.tx1 - o.tx0);
    let mut t = target.slice_mut(s![o.ty0..o.ty1, o.tx0..o.tx1]);
    let k = kernel.slice(s![o.ky0..o.ky0 + h, o.kx0..o.kx0 + w]);
    Zip::from(&mut t).and(&k).for_each(|t, &k| *t += factor * k);
}

pub(crate) use pclean_fft::Spectrum;

/// Circular 2-D real FFTs of one image shape (spectra as [`pclean_fft::RealFft2`] stores them),
/// with the origin at pixel `(0, 0)` or, for centred planes, `(ny/2, nx/2)`.
pub(crate) struct Fft2d {
    fft: RealFft2,
}

impl Fft2d {
    pub(crate) fn new(ny: usize, nx: usize) -> Self {
        Fft2d {
            fft: RealFft2::new(ny, nx),
        }
    }

    /// The origin of a plane: `(ny/2, nx/2)` when `centred`, else `(0, 0)`.
    fn origin(&self, centred: bool) -> (usize, usize) {
        let (ny, nx) = self.fft.shape();
        if centred {
            (ny / 2, nx / 2)
        } else {
            (0, 0)
        }
    }

    /// Spectrum of `img`; `centred`: treat pixel `(ny/2, nx/2)` as the origin.
    pub(crate) fn forward(&self, img: ArrayView2<f32>, centred: bool) -> Spectrum {
        let (ny, nx) = self.fft.shape();
        debug_assert_eq!(img.dim(), (ny, nx));
        let (cy, cx) = self.origin(centred);
        self.fft.forward(|y, row| {
            let src = img.row((y + cy) % ny);
            for (x, r) in row.iter_mut().enumerate() {
                *r = src[(x + cx) % nx];
            }
            true
        })
    }

    /// Inverse of [`Fft2d::forward`] (normalised), written to `out`; `spec` is used as scratch.
    /// `centred`: the result's origin goes to pixel `(ny/2, nx/2)`.
    pub(crate) fn inverse(
        &self,
        spec: &mut [Complex32],
        mut out: ArrayViewMut2<f32>,
        centred: bool,
    ) {
        let (ny, nx) = self.fft.shape();
        debug_assert_eq!(out.dim(), (ny, nx));
        let (cy, cx) = self.origin(centred);
        let norm = 1.0 / (nx as f32 * ny as f32);
        self.fft.inverse(spec, ny, |y, row| {
            let mut dst = out.row_mut((y + cy) % ny);
            for (x, v) in row.iter().enumerate() {
                dst[(x + cx) % nx] = v * norm;
            }
        });
    }

    /// `out = img ⊛ kernel` (circular), with `kernel_spec` the spectrum of a centred kernel;
    /// `centred` says whether `img` (and so `out`) is centred.
    pub(crate) fn convolve(
        &self,
        img: ArrayView2<f32>,
        centred: bool,
        kernel_spec: &[Complex32],
        out: ArrayViewMut2<f32>,
    ) {
        let mut spec = self.forward(img, centred);
        for (a, &b) in spec.iter_mut().zip(kernel_spec) {
            *a *= b;
        }
        self.inverse(&mut spec, out, centred);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn pseudo_random(ny: usize, nx: usize, seed: u64) -> Array2<f32> {
        let mut s = seed;
        Array2::from_shape_fn((ny, nx), |_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
    }

    /// The FFT convolution equals the direct circular sum (odd and even sizes).
    #[test]
    fn fft_convolution_matches_direct_circular_sum() {
        for &(ny, nx) in &[(8usize, 6usize), (7, 9)] {
            let img = pseudo_random(ny, nx, 1);
            let ker = pseudo_random(ny, nx, 2);
            let fft = Fft2d::new(ny, nx);
            let kspec = fft.forward(ker.view(), true);
            let mut out = Array2::<f32>::zeros((ny, nx));
            fft.convolve(img.view(), false, &kspec, out.view_mut());
            let (cy, cx) = (ny / 2, nx / 2);
            for y in 0..ny {
                for x in 0..nx {
                    let mut acc = 0.0f64;
                    for yy in 0..ny {
                        for xx in 0..nx {
                            let ky = (y + ny + cy - yy) % ny;
                            let kx = (x + nx + cx - xx) % nx;
                            acc += img[[yy, xx]] as f64 * ker[[ky, kx]] as f64;
                        }
                    }
                    // f32 FFT of O(1) values over <= 81 terms: errors ~1e-6.
                    assert!(
                        (out[[y, x]] as f64 - acc).abs() < 1e-4,
                        "{ny}x{nx} at {y},{x}"
                    );
                }
            }
        }
    }

    #[test]
    fn add_shifted_clips_at_edges() {
        let mut t = Array2::<f32>::zeros((4, 5));
        let k = Array2::from_shape_fn((3, 3), |(y, x)| (y * 3 + x) as f32);
        add_shifted(&mut t.view_mut(), k.view(), (1, 1), (0, 4), 2.0);
        // Kernel pixel (1, 1) lands on (0, 4); rows 1..3 and column 0 of the kernel survive.
        assert_eq!(t[[0, 3]], 2.0 * 3.0);
        assert_eq!(t[[0, 4]], 2.0 * 4.0);
        assert_eq!(t[[1, 4]], 2.0 * 7.0);
        assert_eq!(t.sum(), 2.0 * (3.0 + 4.0 + 6.0 + 7.0));
    }
}

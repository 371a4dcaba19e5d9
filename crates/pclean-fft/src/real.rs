//! Real <-> complex 2-D FFTs of `f32` planes: a real-to-complex transform of each row, then
//! complex transforms of the `nx / 2 + 1` spectrum columns (as casacore's `FFTServer`).
//!
//! The spectrum is stored column-major, `spec[kx * ny + ky]` (`kx` in `0..=nx/2`, `ky` in
//! `0..ny`), so the column transforms run on contiguous memory. Transforms are unnormalised: the
//! inverse of [`RealFft2::forward`] is [`RealFft2::inverse`] divided by `ny * nx`, which the
//! callers apply in the precision they need (see [`RealFft2::inverse`]). Index 0 is the zero
//! frequency; where a plane's origin sits (pixel `(0, 0)`, or `(ny/2, nx/2)` for a centred PSF)
//! is up to the row callbacks.

use crate::plan::{complex, complex_to_real, real_to_complex, FftDirection};
use num_complex::Complex32;
use realfft::{ComplexToReal, RealToComplex};
use rustfft::Fft;
use std::sync::Arc;

/// A plane's spectrum (see the module docs for its layout).
pub type Spectrum = Vec<Complex32>;

/// Planned real 2-D transforms of one plane shape `(ny, nx)` (cheap to clone: shared plans).
#[derive(Clone)]
pub struct RealFft2 {
    ny: usize,
    nx: usize,
    nkx: usize,
    r2c: Arc<dyn RealToComplex<f32>>,
    c2r: Arc<dyn ComplexToReal<f32>>,
    col_fwd: Arc<dyn Fft<f32>>,
    col_inv: Arc<dyn Fft<f32>>,
}

impl std::fmt::Debug for RealFft2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealFft2")
            .field("ny", &self.ny)
            .field("nx", &self.nx)
            .finish_non_exhaustive()
    }
}

impl RealFft2 {
    /// Transforms of `ny x nx` planes (both >= 1), planned once per process (see
    /// [`crate::plan`]).
    pub fn new(ny: usize, nx: usize) -> Self {
        RealFft2 {
            ny,
            nx,
            nkx: nx / 2 + 1,
            r2c: real_to_complex(nx),
            c2r: complex_to_real(nx),
            col_fwd: complex(ny, FftDirection::Forward),
            col_inv: complex(ny, FftDirection::Backward),
        }
    }

    /// Plane shape `(ny, nx)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.ny, self.nx)
    }

    /// Number of spectrum columns, `nx / 2 + 1`.
    pub fn nkx(&self) -> usize {
        self.nkx
    }

    /// Forward transform of the plane whose row `y` is written by `fill(y, row)` into a zeroed
    /// `row` of length `nx`; a row for which `fill` returns false is all zero (its transform is
    /// skipped). Returns the spectrum, `nkx * ny` values.
    pub fn forward(&self, mut fill: impl FnMut(usize, &mut [f32]) -> bool) -> Spectrum {
        let ny = self.ny;
        let mut spec = vec![Complex32::new(0.0, 0.0); self.nkx * ny];
        let mut row = self.r2c.make_input_vec();
        let mut out = self.r2c.make_output_vec();
        let mut scratch = self.r2c.make_scratch_vec();
        for y in 0..ny {
            row.iter_mut().for_each(|v| *v = 0.0);
            if !fill(y, &mut row) {
                continue;
            }
            self.r2c
                .process_with_scratch(&mut row, &mut out, &mut scratch)
                .expect("buffer lengths come from the plan");
            for (kx, v) in out.iter().enumerate() {
                spec[kx * ny + y] = *v;
            }
        }
        self.col_fwd.process(&mut spec);
        spec
    }

    /// Unnormalised inverse transform of `spec` (used as scratch): the real rows `0..rows` are
    /// passed in order to `sink(y, row)` (`row` has length `nx`); multiply by
    /// `1 / (ny * nx)` to invert [`RealFft2::forward`].
    ///
    /// A real plane's row spectra have real DC (and, for even `nx`, Nyquist) terms; the imaginary
    /// rounding residue there is dropped before the complex-to-real transform.
    pub fn inverse(
        &self,
        spec: &mut [Complex32],
        rows: usize,
        mut sink: impl FnMut(usize, &[f32]),
    ) {
        let (ny, nkx) = (self.ny, self.nkx);
        assert_eq!(spec.len(), nkx * ny, "RealFft2::inverse: spectrum length");
        self.col_inv.process(spec);
        let mut row = self.c2r.make_input_vec();
        let mut res = self.c2r.make_output_vec();
        let mut scratch = self.c2r.make_scratch_vec();
        for y in 0..rows.min(ny) {
            for (kx, v) in row.iter_mut().enumerate() {
                *v = spec[kx * ny + y];
            }
            row[0].im = 0.0;
            if self.nx % 2 == 0 {
                row[nkx - 1].im = 0.0;
            }
            self.c2r
                .process_with_scratch(&mut row, &mut res, &mut scratch)
                .expect("buffer lengths come from the plan");
            sink(y, &res);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// forward then inverse / (ny nx) gives the plane back, for odd and even sizes, and the
    /// spectrum matches a direct DFT.
    #[test]
    fn round_trip_and_direct_dft() {
        for &(ny, nx) in &[(6usize, 8usize), (5, 7), (4, 9)] {
            let img: Vec<f32> = (0..ny * nx).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
            let fft = RealFft2::new(ny, nx);
            let mut spec = fft.forward(|y, row| {
                row.copy_from_slice(&img[y * nx..(y + 1) * nx]);
                true
            });
            for kx in 0..fft.nkx() {
                for ky in 0..ny {
                    let mut s = num_complex::Complex64::new(0.0, 0.0);
                    for y in 0..ny {
                        for x in 0..nx {
                            let ph = -2.0
                                * std::f64::consts::PI
                                * ((kx * x) as f64 / nx as f64 + (ky * y) as f64 / ny as f64);
                            s += img[y * nx + x] as f64
                                * num_complex::Complex64::from_polar(1.0, ph);
                        }
                    }
                    let got = spec[kx * ny + ky];
                    // f32 transform of O(10) values over <= 63 terms: round-off ~1e-4.
                    assert!(
                        (got.re as f64 - s.re).abs() < 1e-3 && (got.im as f64 - s.im).abs() < 1e-3
                    );
                }
            }
            let norm = 1.0 / (ny * nx) as f32;
            let mut back = vec![0.0f32; ny * nx];
            fft.inverse(&mut spec, ny, |y, row| {
                for (b, r) in back[y * nx..(y + 1) * nx].iter_mut().zip(row) {
                    *b = r * norm;
                }
            });
            assert!(back.iter().zip(&img).all(|(a, b)| (a - b).abs() < 1e-4));
        }
    }
}

//! tclean's gridding function and grid correction: the prolate spheroidal wave function of
//! order m = 6, alpha = 1, in Schwab's rational approximation (F. Schwab, "Optimal gridding of
//! visibility data in radio interferometry", in *Indirect Imaging*, 1984), as casacore's
//! `grdsf` evaluates it; the convolution table tclean samples it into (support 3 cells, 100
//! samples per cell); the grid correction; and tclean's padded grid size.
//!
//! Facts taken from casacore (`scimath_f/grdsf.f`, `ConvolveGridder::setConvolutionFunction`,
//! `ConvolveGridder::correctionFactor1D`, `CompositeNumber::nextLargerEven`) and CASA
//! (`synthesis/TransformMachines2/GridFT.cc`, `GridFT::init`), written anew here.

/// Half-width of the gridding function in grid cells (`convSupport` of tclean's `SF` kernel): a
/// visibility touches `2 SUPPORT + 1` cells per axis.
pub const SUPPORT: usize = 3;
/// Samples of the gridding function per grid cell (`convSampling`).
pub const SAMPLING: usize = 100;
/// Length of the sampled gridding function: `SAMPLING * (SUPPORT + 1)` entries, the last
/// `SAMPLING` of them zero (positions 3 to 4 cells from the centre).
pub const TABLE_LEN: usize = SAMPLING * (SUPPORT + 1);
/// tclean's default `padding` (the grid is about this much larger than the image).
pub const DEFAULT_PADDING: f32 = 1.2;

/// The spheroidal function `psi(nu)` for `nu` in `[0, 1]` (0 outside), normalised to 1 at 0 to
/// about 1e-7 (see [`pclean_core::spheroidal::schwab_psi`]). The gridding function is
/// `(1 - nu^2) psi(nu)` with `nu` the distance from the visibility in units of the support; the
/// grid correction divides the image by `psi(nu)` with `nu` the distance from the image centre in
/// units of half the (padded) image.
pub fn grdsf(nu: f64) -> f64 {
    pclean_core::spheroidal::schwab_psi(nu)
}

/// The sampled gridding function: entry `i` is `(1 - nu^2) psi(nu)` at `nu = i / (SUPPORT
/// SAMPLING)` for `i < SUPPORT SAMPLING`, and 0 beyond. A visibility at fractional offset `off`
/// (in 1/`SAMPLING` cells, `|off| <= SAMPLING / 2`) gives cell `k` of its footprint (`-SUPPORT..=
/// SUPPORT`) the weight `table[|SAMPLING k + off|]`.
pub fn conv_table() -> Vec<f64> {
    let mut t = vec![0.0; TABLE_LEN];
    let n = SUPPORT * SAMPLING;
    for (i, v) in t.iter_mut().take(n).enumerate() {
        let nu = i as f64 / n as f64;
        *v = (1.0 - nu * nu) * grdsf(nu);
    }
    t
}

/// Grid correction of pixel `i` of an image axis of `n` pixels on a padded axis of `np`
/// cells: `psi(|i - n/2| / (np/2))`, rounded to single precision as tclean stores it. The image
/// is divided by the product of the two axes' values.
pub fn correction(n: usize, np: usize) -> Vec<f32> {
    let half = (np / 2) as f64;
    (0..n)
        .map(|i| grdsf((i as f64 - (n / 2) as f64).abs() / half) as f32)
        .collect()
}

/// tclean's padded grid size for an image axis of `n` pixels: with `padding > 1.01`, the
/// smallest even number of the form `2^a 3^b 5^c` strictly larger than
/// `trunc(padding * n - 0.5)` (single-precision arithmetic, as tclean), else `n`.
pub fn padded_size(n: usize, padding: f32) -> usize {
    if padding <= 1.01 {
        return n;
    }
    let floor = (padding * n as f32 - 0.5) as i64;
    let mut m = floor.max(0) as usize + 1;
    loop {
        if m % 2 == 0 && is_235(m) {
            return m;
        }
        m += 1;
    }
}

/// Whether `n` has no prime factors other than 2, 3 and 5.
fn is_235(mut n: usize) -> bool {
    for p in [2, 3, 5] {
        while n > 0 && n % p == 0 {
            n /= p;
        }
    }
    n == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values of the order-6, alpha = 1 spheroidal function from a separate evaluation of
    /// Schwab's rational approximation (the published coefficients, evaluated in Python) at points
    /// of both ranges, and at the ends of the range: 1 at the centre (to the approximation's 3.3e-7)
    /// and the constant term of the outer piece at nu = 1. The tolerance 1e-12 checks the
    /// evaluation (coefficients, ranges, powers), far below the approximation's own ~1e-7.
    #[test]
    fn grdsf_matches_known_values() {
        let known = [
            (0.0, 0.999_999_667_364_856_5),
            (0.25, 0.783_323_505_758_769),
            (0.5, 0.361_065_384_531_117_97),
            (0.74, 0.088_686_274_849_416_63),
            (0.75, 0.082_033_395_563_601_59),
            (0.9, 0.018_896_207_820_699_43),
            (1.0, 0.004_028_559),
        ];
        for (nu, v) in known {
            let got = grdsf(nu);
            assert!((got - v).abs() < 1e-12, "grdsf({nu}) = {got}, expected {v}");
        }
        assert_eq!(grdsf(1.0001), 0.0);
        assert_eq!(grdsf(-0.1), 0.0);
    }

    /// The two rational pieces meet at nu = 0.75 to the approximation's accuracy (~1e-7).
    #[test]
    fn grdsf_is_continuous_at_the_break() {
        let below = grdsf(0.75 - 1e-12);
        let above = grdsf(0.75);
        assert!((below - above).abs() < 2e-7, "{below} vs {above}");
    }

    #[test]
    fn table_is_the_tapered_function() {
        let t = conv_table();
        assert_eq!(t.len(), 400);
        assert!((t[0] - grdsf(0.0)).abs() < 1e-15);
        let nu = 150.0 / 300.0;
        assert!((t[150] - (1.0 - nu * nu) * grdsf(nu)).abs() < 1e-15);
        assert!(t[299] > 0.0 && t[299] < 1e-4);
        assert!(t[300..].iter().all(|&v| v == 0.0));
        // Monotonically decreasing from the centre.
        assert!(t[..300].windows(2).all(|w| w[0] > w[1]));
    }

    /// tclean's padded sizes for its common image sizes (1.2 x, next even 2-3-5 number).
    #[test]
    fn padded_sizes_as_tclean() {
        assert_eq!(padded_size(256, DEFAULT_PADDING), 320);
        assert_eq!(padded_size(512, DEFAULT_PADDING), 640);
        assert_eq!(padded_size(100, DEFAULT_PADDING), 120);
        assert_eq!(padded_size(1000, DEFAULT_PADDING), 1200);
        assert_eq!(padded_size(250, DEFAULT_PADDING), 300);
        assert_eq!(padded_size(256, 1.0), 256);
    }

    #[test]
    fn correction_is_psi_over_the_padded_half_width() {
        let c = correction(256, 320);
        assert_eq!(c.len(), 256);
        assert_eq!(c[128], grdsf(0.0) as f32);
        assert_eq!(c[0], grdsf(128.0 / 160.0) as f32);
        assert_eq!(c[255], grdsf(127.0 / 160.0) as f32);
    }
}

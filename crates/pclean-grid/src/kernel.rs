//! Exponential-of-semicircle (ES) gridding kernel: parameter choice, fast evaluation and the
//! grid-correction function.
//!
//! The kernel follows the published wgridder design (Arras et al. 2021, A&A 646 A58; Barnett et al.
//! 2019 for the ES kernel):
//!
//! ```text
//! phi(x) = exp(beta * W * (sqrt(1 - x^2) - 1)),   |x| <= 1,
//! ```
//!
//! where `x` is the distance from the visibility in units of half the support (`W / 2` grid cells).
//! For a visibility at continuous grid position `a` (cells), cell `i` receives
//! `phi((i - a) / (W / 2))`.
//!
//! # Parameter table
//! [`ES_TABLE`] lists, for every support `W` in 4..=16 and oversampling `sigma` in 1.2..=2.5 (step
//! 0.1), the `beta` that minimises the 1-D aliasing-error estimate and that estimate. It was derived
//! offline (script reproduced in `docs/conventions.md`, section "Gridding kernel") as follows:
//! with `psi(f) = integral phi(2y/W) exp(-2 pi i f y) dy` (y in cells, f in cycles per cell) the
//! gridded-and-corrected image at relative frequency `f` (`|f| <= 1/(2 sigma)`) carries the aliases
//! `psi(f + j)`, `j != 0`; the estimate is
//! `max_{|f| <= 1/(2 sigma)} sqrt(sum_{0<|j|<=12} psi(f+j)^2) / |psi(f)|`,
//! with `psi` computed by Gauss-Legendre quadrature after the substitution `y = W/2 sin(theta)`
//! (smooth integrand; 400 nodes for W <= 10, 3000 for W >= 11), and `beta` found by a 49-point scan of [0.8, 3.2] followed by a
//! golden-section search. The estimate matches the known behaviour of the ES kernel
//! (W = 4, 6, 8 at sigma = 2 give 9.5e-4, 1.7e-5, 2.9e-7).

/// One row of the ES parameter table: `(support W, oversampling sigma, beta, 1-D error estimate)`.
pub type EsTableRow = (usize, f64, f64, f64);

/// Optimal ES parameters per (support, oversampling); see the module documentation for how they were
/// derived. `beta` multiplies `W` in the exponent.
#[rustfmt::skip]
pub const ES_TABLE: &[EsTableRow] = &[
    (4, 1.2, 1.60518, 1.785e-02), (4, 1.3, 1.72524, 9.051e-03), (4, 1.4, 1.82448, 5.379e-03),
    (4, 1.5, 1.90869, 3.506e-03), (4, 1.6, 1.98191, 2.449e-03), (4, 1.7, 2.04647, 1.814e-03),
    (4, 1.8, 2.10374, 1.411e-03), (4, 1.9, 2.15462, 1.140e-03), (4, 2.0, 2.19995, 9.480e-04),
    (4, 2.1, 2.24041, 8.038e-04), (4, 2.2, 2.27674, 6.912e-04), (4, 2.3, 2.30960, 6.007e-04),
    (4, 2.4, 2.33958, 5.273e-04), (4, 2.5, 2.36714, 4.667e-04),
    (5, 1.2, 1.69314, 6.158e-03), (5, 1.3, 1.80467, 2.493e-03), (5, 1.4, 1.89850, 1.249e-03),
    (5, 1.5, 1.97887, 7.192e-04), (5, 1.6, 2.04856, 4.503e-04), (5, 1.7, 2.11015, 3.046e-04),
    (5, 1.8, 2.16474, 2.177e-04), (5, 1.9, 2.21356, 1.642e-04), (5, 2.0, 2.25722, 1.283e-04),
    (5, 2.1, 2.29645, 1.030e-04), (5, 2.2, 2.33198, 8.449e-05), (5, 2.3, 2.36427, 7.030e-05),
    (5, 2.4, 2.39389, 5.941e-05), (5, 2.5, 2.42124, 5.100e-05),
    (6, 1.2, 1.73791, 2.079e-03), (6, 1.3, 1.84527, 6.670e-04), (6, 1.4, 1.93681, 2.839e-04),
    (6, 1.5, 2.01550, 1.437e-04), (6, 1.6, 2.08385, 8.119e-05), (6, 1.7, 2.14408, 5.020e-05),
    (6, 1.8, 2.19764, 3.336e-05), (6, 1.9, 2.24540, 2.340e-05), (6, 2.0, 2.28823, 1.717e-05),
    (6, 2.1, 2.32694, 1.312e-05), (6, 2.2, 2.36199, 1.026e-05), (6, 2.3, 2.39392, 8.181e-06),
    (6, 2.4, 2.42322, 6.657e-06), (6, 2.5, 2.45028, 5.549e-06),
    (7, 1.2, 1.76418, 6.876e-04), (7, 1.3, 1.86956, 1.781e-04), (7, 1.4, 1.95943, 6.353e-05),
    (7, 1.5, 2.03715, 2.825e-05), (7, 1.6, 2.10477, 1.441e-05), (7, 1.7, 2.16421, 8.104e-06),
    (7, 1.8, 2.21693, 4.921e-06), (7, 1.9, 2.26423, 3.240e-06), (7, 2.0, 2.30670, 2.252e-06),
    (7, 2.1, 2.20886, 1.798e-06), (7, 2.2, 2.24583, 1.336e-06), (7, 2.3, 2.41139, 9.222e-07),
    (7, 2.4, 2.30940, 7.839e-07), (7, 2.5, 2.46735, 5.876e-07),
    (8, 1.2, 1.78060, 2.193e-04), (8, 1.3, 1.74675, 6.224e-05), (8, 1.4, 1.97407, 1.413e-05),
    (8, 1.5, 2.05096, 5.450e-06), (8, 1.6, 2.00006, 2.712e-06), (8, 1.7, 2.06301, 1.368e-06),
    (8, 1.8, 2.11842, 7.510e-07), (8, 1.9, 2.16845, 4.476e-07), (8, 2.0, 2.21361, 2.883e-07),
    (8, 2.1, 2.25380, 1.957e-07), (8, 2.2, 2.28986, 1.382e-07), (8, 2.3, 2.32272, 1.006e-07),
    (8, 2.4, 2.35303, 7.506e-08), (8, 2.5, 2.38126, 5.784e-08),
    (9, 1.2, 1.79212, 7.239e-05), (9, 1.3, 1.89556, 1.203e-05), (9, 1.4, 1.98380, 3.049e-06),
    (9, 1.5, 2.06005, 1.010e-06), (9, 1.6, 2.12670, 4.089e-07), (9, 1.7, 2.09708, 1.919e-07),
    (9, 1.8, 2.15160, 9.834e-08), (9, 1.9, 2.20042, 5.468e-08), (9, 2.0, 2.24459, 3.330e-08),
    (9, 2.1, 2.36447, 2.372e-08), (9, 2.2, 2.31980, 1.456e-08), (9, 2.3, 2.35226, 1.012e-08),
    (9, 2.4, 2.45908, 8.159e-09), (9, 2.5, 2.41018, 5.515e-09),
    (10, 1.2, 1.79971, 2.198e-05), (10, 1.3, 1.90280, 3.005e-06), (10, 1.4, 1.91050, 6.466e-07),
    (10, 1.5, 2.06691, 1.945e-07), (10, 1.6, 2.05977, 6.459e-08), (10, 1.7, 2.12089, 2.733e-08),
    (10, 1.8, 2.17471, 1.298e-08), (10, 1.9, 2.22283, 6.741e-09), (10, 2.0, 2.26639, 3.873e-09),
    (10, 2.1, 2.30557, 2.388e-09), (10, 2.2, 2.40433, 1.786e-09), (10, 2.3, 2.37324, 1.027e-09),
    (10, 2.4, 2.40290, 7.141e-10), (10, 2.5, 2.43034, 5.222e-10),
    (11, 1.2, 1.80548, 6.779e-06), (11, 1.3, 1.90777, 6.961e-07), (11, 1.4, 1.93024, 1.282e-07),
    (11, 1.5, 2.00913, 3.194e-08), (11, 1.6, 2.07777, 1.008e-08), (11, 1.7, 2.13810, 3.837e-09),
    (11, 1.8, 2.19141, 1.684e-09), (11, 1.9, 2.23941, 8.377e-10), (11, 2.0, 2.28254, 4.555e-10),
    (11, 2.1, 2.32128, 2.652e-10), (11, 2.2, 2.35634, 1.623e-10), (11, 2.3, 2.30003, 1.584e-10),
    (11, 2.4, 2.41780, 6.989e-11), (11, 2.5, 2.44497, 4.958e-11),
    (12, 1.2, 1.74794, 2.319e-06), (12, 1.3, 1.85444, 1.748e-07), (12, 1.4, 1.99954, 2.774e-08),
    (12, 1.5, 2.02290, 5.373e-09), (12, 1.6, 2.09119, 1.564e-09), (12, 1.7, 2.15130, 5.538e-10),
    (12, 1.8, 2.20442, 2.275e-10), (12, 1.9, 2.25183, 1.042e-10), (12, 2.0, 2.29446, 5.266e-11),
    (12, 2.1, 2.25778, 4.203e-11), (12, 2.2, 2.36777, 1.683e-11), (12, 2.3, 2.39991, 1.056e-11),
    (12, 2.4, 2.35718, 9.473e-12), (12, 2.5, 2.45616, 4.724e-12),
    (13, 1.2, 1.81366, 7.002e-07), (13, 1.3, 1.86669, 4.115e-08), (13, 1.4, 1.95654, 5.071e-09),
    (13, 1.5, 1.95846, 1.543e-09), (13, 1.6, 2.10153, 2.419e-10), (13, 1.7, 2.16094, 7.589e-11),
    (13, 1.8, 2.21387, 2.907e-11), (13, 1.9, 2.30016, 1.561e-11), (13, 2.0, 2.30386, 6.180e-12),
    (13, 2.1, 2.34224, 3.250e-12), (13, 2.2, 2.37705, 1.817e-12), (13, 2.3, 2.40883, 1.078e-12),
    (13, 2.4, 2.43789, 6.736e-13), (13, 2.5, 2.46454, 4.379e-13),
    (14, 1.2, 1.77055, 1.784e-07), (14, 1.3, 1.87581, 9.283e-09), (14, 1.4, 1.96542, 9.952e-10),
    (14, 1.5, 2.04270, 1.674e-10), (14, 1.6, 2.11003, 3.876e-11), (14, 1.7, 2.16929, 1.124e-11),
    (14, 1.8, 2.22182, 3.908e-12), (14, 1.9, 2.26871, 1.553e-12), (14, 2.0, 2.31086, 6.921e-13),
    (14, 2.1, 2.34894, 3.434e-13), (14, 2.2, 2.38390, 1.871e-13), (14, 2.3, 2.41576, 1.086e-13),
    (14, 2.4, 2.44482, 6.645e-14), (14, 2.5, 2.47154, 4.223e-14),
    (15, 1.2, 1.81063, 5.339e-08), (15, 1.3, 1.91201, 2.340e-09), (15, 1.4, 1.97210, 1.852e-10),
    (15, 1.5, 2.04921, 2.800e-11), (15, 1.6, 2.11648, 5.934e-12), (15, 1.7, 2.17565, 1.600e-12),
    (15, 1.8, 2.22813, 5.224e-13), (15, 1.9, 2.27500, 1.974e-13), (15, 2.0, 2.31707, 8.445e-14),
    (15, 2.1, 2.35516, 4.035e-14), (15, 2.2, 2.34241, 2.459e-14), (15, 2.3, 2.42120, 1.301e-14),
    (15, 2.4, 2.44941, 8.687e-15), (15, 2.5, 2.46796, 6.522e-15),
    (16, 1.2, 1.78597, 1.612e-08), (16, 1.3, 1.88950, 4.953e-10), (16, 1.4, 1.97784, 3.570e-11),
    (16, 1.5, 2.05416, 4.426e-12), (16, 1.6, 2.12000, 8.507e-13), (16, 1.7, 2.17813, 2.181e-13),
    (16, 1.8, 2.23299, 7.197e-14), (16, 1.9, 2.27980, 3.060e-14), (16, 2.0, 2.32302, 1.714e-14),
    (16, 2.1, 2.35279, 1.301e-14), (16, 2.2, 2.41524, 8.908e-15), (16, 2.3, 2.44021, 7.628e-15),
    (16, 2.4, 2.47558, 6.348e-15), (16, 2.5, 2.50410, 5.833e-15),
];

/// The ES kernel with support `W` cells and shape parameter `beta` (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct EsKernel {
    support: usize,
    beta: f64,
}

impl EsKernel {
    /// Kernel with `support` cells (>= 2) and shape parameter `beta` (the exponent is `beta * W`).
    pub fn new(support: usize, beta: f64) -> Self {
        assert!(support >= 2, "ES kernel support must be >= 2");
        Self { support, beta }
    }

    /// Support `W` in grid cells.
    pub fn support(&self) -> usize {
        self.support
    }

    /// Shape parameter `beta` (dimensionless; the exponent is `beta * W`).
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// `phi(x)` for the normalised coordinate `x` (`|x| <= 1` is the support; 0 outside).
    pub fn eval(&self, x: f64) -> f64 {
        let t = 1.0 - x * x;
        if t < 0.0 {
            0.0
        } else {
            (self.beta * self.support as f64 * (t.sqrt() - 1.0)).exp()
        }
    }

    /// Fourier transform `psi(f) = integral phi(2y/W) exp(-2 pi i f y) dy` of the kernel as a
    /// function of `y` in grid cells, at `f` cycles per cell (real and even).
    ///
    /// Computed by Gauss-Legendre quadrature in `theta` after `y = (W/2) sin(theta)`, which removes
    /// the square-root singularity at the kernel's edge. The node count grows with `W` and `|f|`
    /// so the integrand's oscillations stay resolved (see the unit test for the accuracy).
    pub fn fourier(&self, f: f64) -> f64 {
        let n = 2 * self.support + 24 + (4.0 * f.abs() * self.support as f64) as usize;
        let (nodes, weights) = gauss_legendre(n);
        self.fourier_with(f, &nodes, &weights)
    }

    /// [`EsKernel::fourier`] at every `f` of `fs` with one quadrature rule: the node count
    /// `fourier` takes for the largest `|f|` (at least as accurate for the smaller ones). The
    /// w-gridder's correction table needs ~4100 values: computing the Gauss-Legendre rule once
    /// instead of per value took it from 10% of a w-corrected 1024^2 dirty run's CPU time (perf)
    /// to nothing.
    pub fn fourier_many(&self, fs: &[f64]) -> Vec<f64> {
        let fmax = fs.iter().fold(0.0f64, |a, f| a.max(f.abs()));
        let n = 2 * self.support + 24 + (4.0 * fmax * self.support as f64) as usize;
        let (nodes, weights) = gauss_legendre(n);
        fs.iter()
            .map(|&f| self.fourier_with(f, &nodes, &weights))
            .collect()
    }

    fn fourier_with(&self, f: f64, nodes: &[f64], weights: &[f64]) -> f64 {
        let half = 0.5 * self.support as f64;
        let bw = self.beta * self.support as f64;
        let mut acc = 0.0;
        for (&z, &wt) in nodes.iter().zip(weights) {
            let theta = z * std::f64::consts::FRAC_PI_2;
            let (s, c) = theta.sin_cos();
            acc +=
                wt * (bw * (c - 1.0)).exp() * c * (2.0 * std::f64::consts::PI * f * half * s).cos();
        }
        acc * half * std::f64::consts::FRAC_PI_2
    }

    /// Grid-correction factors `1 / psi((i - n_image/2) / n_grid)` for image pixels
    /// `i in 0..n_image`, i.e. the inverse kernel transform at each pixel's offset from the image
    /// centre on an oversampled grid of `n_grid` cells.
    pub fn correction(&self, n_image: usize, n_grid: usize) -> Vec<f64> {
        let n = 2 * self.support + 24 + 2 * self.support;
        let (nodes, weights) = gauss_legendre(n);
        let c = (n_image / 2) as f64;
        (0..n_image)
            .map(|i| 1.0 / self.fourier_with((i as f64 - c) / n_grid as f64, &nodes, &weights))
            .collect()
    }
}

/// Gauss-Legendre nodes and weights on [-1, 1] with `n` points (Newton iteration on `P_n`).
pub fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut nodes = vec![0.0; n];
    let mut weights = vec![0.0; n];
    for i in 0..n.div_ceil(2) {
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=n {
                let p2 = ((2 * k - 1) as f64 * x * p1 - (k - 1) as f64 * p0) / k as f64;
                p0 = p1;
                p1 = p2;
            }
            let pn = if n == 0 { 1.0 } else { p1 };
            let pnm1 = if n == 1 { 1.0 } else { p0 };
            dp = n as f64 * (x * pn - pnm1) / (x * x - 1.0);
            let dx = pn / dp;
            x -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        let w = 2.0 / ((1.0 - x * x) * dp * dp);
        nodes[i] = -x;
        nodes[n - 1 - i] = x;
        weights[i] = w;
        weights[n - 1 - i] = w;
    }
    (nodes, weights)
}

/// A kernel configuration picked by [`choose_kernel`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KernelChoice {
    /// Support `W` in grid cells.
    pub support: usize,
    /// Minimum oversampling factor the kernel was designed for.
    pub sigma: f64,
    /// ES shape parameter.
    pub beta: f64,
    /// 1-D aliasing-error estimate of this configuration.
    pub epsilon_est: f64,
}

/// How far the tabulated 1-D worst-case aliasing estimate may exceed the requested `epsilon`.
/// The estimate bounds the error of a single visibility's contribution at the worst pixel; the rms
/// error of a whole image relative to its peak (what `epsilon` means, docs/conventions.md) was
/// measured 30-60x below it (tests/gridder_dft.rs at epsilon 1e-3, 1e-5, 1e-7), so a slack of 10
/// still keeps the measured rms error several times below `epsilon`.
pub const ESTIMATE_SLACK: f64 = 10.0;

/// Relative cost of one kernel-cell update (gridding) in the cost model of [`choose_kernel`].
const COST_PER_KERNEL_CELL: f64 = 1.0;
/// Relative cost per kernel evaluation (one per axis and support cell).
const COST_PER_KERNEL_EVAL: f64 = 1.5;
/// Relative cost per grid point and `log2(grid size)` of the FFT (both passes, partial transforms).
const COST_PER_FFT_POINT_LOG: f64 = 0.35;

/// Pick the cheapest table entry with `epsilon_est <= ESTIMATE_SLACK * epsilon` and `sigma_min <= sigma <=
/// sigma_max`, for an `nx` x `ny` image and about `nvis` visibilities.
///
/// Cost model: `nvis * (W^2 + 1.5 * 2W) + 0.35 * N log2 N` with `N` the oversampled grid size
/// (each rounded to an FFT-friendly size); the constants were calibrated with the gridder benchmark
/// (1024^2, 1e6 visibilities). Returns `None` when no entry reaches `epsilon`.
pub fn choose_kernel(
    epsilon: f64,
    sigma_min: f64,
    sigma_max: f64,
    nx: usize,
    ny: usize,
    nvis: usize,
) -> Option<KernelChoice> {
    let mut best: Option<(f64, KernelChoice)> = None;
    for &(w, sigma, beta, est) in ES_TABLE {
        if est > ESTIMATE_SLACK * epsilon || sigma < sigma_min - 1e-9 || sigma > sigma_max + 1e-9 {
            continue;
        }
        let nu = good_grid_size(nx, sigma, w);
        let nv = good_grid_size(ny, sigma, w);
        let ngrid = (nu * nv) as f64;
        let wf = w as f64;
        let cost = nvis as f64 * (COST_PER_KERNEL_CELL * wf * wf + COST_PER_KERNEL_EVAL * 2.0 * wf)
            + COST_PER_FFT_POINT_LOG * ngrid * ngrid.log2();
        let choice = KernelChoice {
            support: w,
            sigma,
            beta,
            epsilon_est: est,
        };
        if best.as_ref().is_none_or(|(c, _)| cost < *c) {
            best = Some((cost, choice));
        }
    }
    best.map(|(_, c)| c)
}

/// Smallest even, 5-smooth (2^a 3^b 5^c) size `>= max(ceil(sigma * n), 2 * support, 16)`.
pub fn good_grid_size(n: usize, sigma: f64, support: usize) -> usize {
    let min = ((sigma * n as f64).ceil() as usize)
        .max(2 * support)
        .max(16);
    let mut m = min + (min % 2);
    loop {
        let mut r = m;
        for p in [2, 3, 5] {
            while r % p == 0 {
                r /= p;
            }
        }
        if r == 1 {
            return m;
        }
        m += 2;
    }
}

/// Piecewise-polynomial approximation of the kernel for fast evaluation: for a visibility whose
/// footprint starts at cell `i0` with fractional offset `t = i0 - (a - W/2)` in `[0, 1)`, the `W`
/// weights are `p_j(2t - 1)`, `j = 0..W`, each a polynomial of degree `degree` (Chebyshev
/// interpolation converted to monomials, Horner evaluation in lockstep over `j`, as in the
/// wgridder design).
#[derive(Clone, Debug)]
pub struct PolyKernel {
    support: usize,
    degree: usize,
    /// Coefficients, highest degree first: `coeffs[d * MAX_SUPPORT + j]`.
    coeffs: Vec<f64>,
    max_error: f64,
}

/// Largest supported kernel support (storage stride of [`PolyKernel`] coefficients).
pub const MAX_SUPPORT: usize = 16;

impl PolyKernel {
    /// Fit `kernel` with the smallest degree (up to `W + 10`) whose maximum absolute error on a
    /// dense test grid is `<= tolerance` (kernel peak is 1). Falls back to the highest degree.
    pub fn fit(kernel: &EsKernel, tolerance: f64) -> Self {
        let w = kernel.support;
        assert!(w <= MAX_SUPPORT);
        let mut last = None;
        for degree in (w.saturating_sub(1)).max(3)..=w + 10 {
            let pk = Self::fit_degree(kernel, degree);
            if pk.max_error <= tolerance {
                return pk;
            }
            last = Some(pk);
        }
        last.expect("at least one degree tried")
    }

    fn fit_degree(kernel: &EsKernel, degree: usize) -> Self {
        let w = kernel.support;
        let half = 0.5 * w as f64;
        let n = degree + 1;
        let mut coeffs = vec![0.0; n * MAX_SUPPORT];
        for j in 0..w {
            let g = |s: f64| kernel.eval((j as f64 + 0.5 * (s + 1.0) - half) / half);
            // Chebyshev interpolation at the n Chebyshev points of the first kind.
            let fvals: Vec<f64> = (0..n)
                .map(|k| g((std::f64::consts::PI * (k as f64 + 0.5) / n as f64).cos()))
                .collect();
            let cheb: Vec<f64> = (0..n)
                .map(|m| {
                    let s: f64 = (0..n)
                        .map(|k| {
                            fvals[k]
                                * (std::f64::consts::PI * m as f64 * (k as f64 + 0.5) / n as f64)
                                    .cos()
                        })
                        .sum();
                    s * if m == 0 { 1.0 } else { 2.0 } / n as f64
                })
                .collect();
            // Convert the Chebyshev series to monomials: T_{m+1} = 2 s T_m - T_{m-1}.
            let mut mono = vec![0.0; n];
            let mut t_prev = vec![0.0; n];
            let mut t_cur = vec![0.0; n];
            t_prev[0] = 1.0;
            if n > 1 {
                t_cur[1] = 1.0;
            }
            for (m, &cm) in cheb.iter().enumerate() {
                let tm = if m == 0 { &t_prev } else { &t_cur };
                for (a, &b) in mono.iter_mut().zip(tm.iter()) {
                    *a += cm * b;
                }
                if m >= 1 && m + 1 < n {
                    let mut t_next = vec![0.0; n];
                    for d in 0..n - 1 {
                        t_next[d + 1] += 2.0 * t_cur[d];
                    }
                    for d in 0..n {
                        t_next[d] -= t_prev[d];
                    }
                    t_prev = std::mem::replace(&mut t_cur, t_next);
                }
            }
            for d in 0..n {
                coeffs[(n - 1 - d) * MAX_SUPPORT + j] = mono[d];
            }
        }
        let mut pk = Self {
            support: w,
            degree,
            coeffs,
            max_error: 0.0,
        };
        let mut out = [0.0; MAX_SUPPORT];
        let mut err: f64 = 0.0;
        for k in 0..=256 {
            let t = k as f64 / 256.0 * (1.0 - 1e-12);
            pk.eval_f64(t, &mut out);
            for (j, &o) in out.iter().enumerate().take(w) {
                err = err.max((o - kernel.eval((j as f64 + t - half) / half)).abs());
            }
        }
        pk.max_error = err;
        pk
    }

    /// Support `W`.
    pub fn support(&self) -> usize {
        self.support
    }

    /// Polynomial degree.
    pub fn degree(&self) -> usize {
        self.degree
    }

    /// Maximum absolute approximation error found when fitting (kernel peak is 1).
    pub fn max_error(&self) -> f64 {
        self.max_error
    }

    /// Coefficients, highest degree first, with stride [`MAX_SUPPORT`] per degree.
    pub fn coeffs(&self) -> &[f64] {
        &self.coeffs
    }

    /// Fourier transform of the piecewise-polynomial kernel (the one actually used for gridding),
    /// `psi(f) = integral k(y) cos(2 pi f y) dy` with `y` in cells from the kernel centre.
    ///
    /// Exact up to round-off for `|f| <= 0.5`: per piece, Gauss-Legendre with `degree + 8` nodes
    /// integrates the polynomial times a cosine that varies by at most pi over the piece.
    pub fn fourier(&self, f: f64) -> f64 {
        let (nodes, weights) = gauss_legendre(self.degree + 8);
        self.fourier_with(f, &nodes, &weights)
    }

    fn fourier_with(&self, f: f64, nodes: &[f64], weights: &[f64]) -> f64 {
        let half = 0.5 * self.support as f64;
        let mut out = [0.0; MAX_SUPPORT];
        let mut acc = 0.0;
        for (&z, &wt) in nodes.iter().zip(weights) {
            let t = 0.5 * (z + 1.0);
            self.eval_f64(t, &mut out);
            for (j, &k) in out.iter().enumerate().take(self.support) {
                let y = j as f64 + t - half;
                acc += 0.5 * wt * k * (2.0 * std::f64::consts::PI * f * y).cos();
            }
        }
        acc
    }

    /// Grid-correction factors `1 / psi((i - n_image/2) / n_grid)` for `i in 0..n_image`, from the
    /// transform of this piecewise-polynomial kernel (so the correction matches the kernel used).
    pub fn correction(&self, n_image: usize, n_grid: usize) -> Vec<f64> {
        let (nodes, weights) = gauss_legendre(self.degree + 8);
        let c = (n_image / 2) as f64;
        (0..n_image)
            .map(|i| 1.0 / self.fourier_with((i as f64 - c) / n_grid as f64, &nodes, &weights))
            .collect()
    }

    /// Evaluate the `W` kernel weights for fractional offset `t` in `[0, 1)` into `out[..W]`.
    pub fn eval_f64(&self, t: f64, out: &mut [f64]) {
        let s = 2.0 * t - 1.0;
        let w = self.support;
        out[..w].fill(0.0);
        for d in 0..=self.degree {
            let c = &self.coeffs[d * MAX_SUPPORT..d * MAX_SUPPORT + w];
            for (o, &ci) in out[..w].iter_mut().zip(c) {
                *o = *o * s + ci;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_integrates_polynomials_exactly() {
        let (x, w) = gauss_legendre(10);
        // Exact for degree <= 19: integral of x^18 over [-1,1] = 2/19.
        let s: f64 = x.iter().zip(&w).map(|(x, w)| w * x.powi(18)).sum();
        assert!((s - 2.0 / 19.0).abs() < 1e-14);
        assert!((w.iter().sum::<f64>() - 2.0).abs() < 1e-14);
    }

    #[test]
    fn fourier_matches_brute_force_quadrature() {
        let k = EsKernel::new(6, 2.28823);
        for f in [0.0, 0.1, 0.25, 0.5, 1.3] {
            // Midpoint rule with 200k points: error ~ h^1.5 at the sqrt edge, ~1e-9 here.
            let n = 200_000;
            let h = 6.0 / n as f64;
            let brute: f64 = (0..n)
                .map(|i| {
                    let y = -3.0 + (i as f64 + 0.5) * h;
                    k.eval(y / 3.0) * (2.0 * std::f64::consts::PI * f * y).cos() * h
                })
                .sum();
            assert!((k.fourier(f) - brute).abs() < 1e-8, "f={f}");
        }
    }

    #[test]
    fn poly_kernel_accuracy() {
        // The polynomial must sit well below each kernel's aliasing error (the gridder asks for
        // 5%; 10% is the hard limit checked here for every table entry with W <= 10).
        for &(w, _, beta, est) in ES_TABLE.iter().filter(|r| r.0 <= 10) {
            let k = EsKernel::new(w, beta);
            let pk = PolyKernel::fit(&k, 0.05 * est);
            assert!(
                pk.max_error() <= 0.1 * est,
                "W={w} err={} est={est}",
                pk.max_error()
            );
        }
    }

    #[test]
    fn fourier_many_matches_fourier() {
        // One rule for all (that of the largest |f|): the same integral to round-off.
        let k = EsKernel::new(7, 2.16421);
        let fs = [0.0, 0.05, -0.2, 0.3];
        for (f, v) in fs.iter().zip(k.fourier_many(&fs)) {
            assert!((v - k.fourier(*f)).abs() < 1e-13, "f={f}");
        }
    }

    #[test]
    fn poly_fourier_matches_es_fourier() {
        // The polynomial kernel's transform differs from the exact ES transform by at most the
        // integrated approximation error (<= W * 1e-9 here).
        let k = EsKernel::new(6, 2.28823);
        let pk = PolyKernel::fit(&k, 1e-9);
        for f in [0.0, 0.1, 0.25, 0.5] {
            assert!((pk.fourier(f) - k.fourier(f)).abs() < 1e-8, "f={f}");
        }
    }

    #[test]
    fn choose_kernel_respects_bounds() {
        let c = choose_kernel(1e-5, 1.2, 2.5, 1024, 1024, 1 << 20).unwrap();
        assert!(c.epsilon_est <= ESTIMATE_SLACK * 1e-5);
        let c = choose_kernel(1e-3, 1.2, 1.5, 1024, 1024, 1 << 20).unwrap();
        assert!(c.sigma <= 1.5 && c.epsilon_est <= ESTIMATE_SLACK * 1e-3);
        assert!(choose_kernel(1e-30, 1.2, 2.5, 64, 64, 100).is_none());
    }

    #[test]
    fn good_grid_size_is_even_and_smooth() {
        assert_eq!(good_grid_size(1024, 2.0, 6), 2048);
        let n = good_grid_size(1000, 1.5, 6);
        assert!(n >= 1500 && n % 2 == 0);
        assert_eq!(good_grid_size(5, 2.0, 8), 16);
    }
}

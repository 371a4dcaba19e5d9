//! Schwab's rational approximation of the prolate spheroidal wave function of order m = 6,
//! alpha = 1 (F. Schwab, "Optimal gridding of visibility data in radio interferometry", in
//! *Indirect Imaging*, 1984), as casacore evaluates it (`grdsf`, `MatrixCleaner::spheroidal`):
//! tclean's gridding function and grid correction, and the taper of multiscale clean's scales.

/// Numerator coefficients of the two ranges of `nu` (`[0, 0.75)` and `[0.75, 1]`), in powers of
/// `nu^2 - nu_end^2`.
const P: [[f64; 5]; 2] = [
    [
        8.203343e-2,
        -3.644705e-1,
        6.278660e-1,
        -5.335581e-1,
        2.312756e-1,
    ],
    [
        4.028559e-3,
        -3.697768e-2,
        1.021332e-1,
        -1.201436e-1,
        6.412774e-2,
    ],
];
/// Denominator coefficients, likewise.
const Q: [[f64; 3]; 2] = [
    [1.0, 8.212018e-1, 2.078043e-1],
    [1.0, 9.599102e-1, 2.918724e-1],
];

/// The spheroidal function `psi(nu)` for `nu` in `[0, 1]` (0 outside), normalised to 1 at 0 to
/// about 1e-7 (casacore's `grdsf`; its users choose their own values at the ends).
pub fn schwab_psi(nu: f64) -> f64 {
    let (part, nu_end) = if (0.0..0.75).contains(&nu) {
        (0, 0.75)
    } else if (0.75..=1.0).contains(&nu) {
        (1, 1.0)
    } else {
        return 0.0;
    };
    let d = nu * nu - nu_end * nu_end;
    let mut top = P[part][0];
    for (k, p) in P[part].iter().enumerate().skip(1) {
        top += p * d.powi(k as i32);
    }
    let mut bot = Q[part][0];
    for (k, q) in Q[part].iter().enumerate().skip(1) {
        bot += q * d.powi(k as i32);
    }
    if bot != 0.0 {
        top / bot
    } else {
        0.0
    }
}

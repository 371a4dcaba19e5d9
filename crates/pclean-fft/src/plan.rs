//! Transform plans, made once per (scalar type, length, kind) and shared by every caller.
//!
//! `rustfft` and `realfft` plans are deterministic functions of the length, so a cached plan
//! computes bit for bit what a freshly planned one would; caching only saves the planning
//! (twiddle tables, algorithm choice) that each call used to repeat.

use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftNum, FftPlanner};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Sign of the exponent of a transform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FftDirection {
    /// `exp(-2 pi i j k / n)`.
    Forward,
    /// `exp(+2 pi i j k / n)` (unnormalised inverse).
    Backward,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Complex(FftDirection),
    RealToComplex,
    ComplexToReal,
}

type Cache = HashMap<(TypeId, Kind, usize), Box<dyn Any + Send + Sync>>;

/// The cached plan of `(T, kind, n)`, made by `make` on first use.
fn cached<T: 'static, P: Clone + Send + Sync + 'static>(
    kind: Kind,
    n: usize,
    make: impl FnOnce() -> P,
) -> P {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    let key = (TypeId::of::<T>(), kind, n);
    let mut cache = CACHE
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    cache
        .entry(key)
        .or_insert_with(|| Box::new(make()))
        .downcast_ref::<P>()
        .expect("one plan type per key")
        .clone()
}

/// Complex transform of length `n` in direction `dir`.
pub fn complex<T: FftNum>(n: usize, dir: FftDirection) -> Arc<dyn Fft<T>> {
    cached::<T, _>(Kind::Complex(dir), n, || {
        let mut planner = FftPlanner::<T>::new();
        match dir {
            FftDirection::Forward => planner.plan_fft_forward(n),
            FftDirection::Backward => planner.plan_fft_inverse(n),
        }
    })
}

/// Real-to-complex (forward) transform of `n` real values into `n / 2 + 1` complex ones.
pub fn real_to_complex<T: FftNum>(n: usize) -> Arc<dyn RealToComplex<T>> {
    cached::<T, _>(Kind::RealToComplex, n, || {
        RealFftPlanner::<T>::new().plan_fft_forward(n)
    })
}

/// Complex-to-real (backward, unnormalised) transform of `n / 2 + 1` complex values into `n`
/// real ones.
pub fn complex_to_real<T: FftNum>(n: usize) -> Arc<dyn ComplexToReal<T>> {
    cached::<T, _>(Kind::ComplexToReal, n, || {
        RealFftPlanner::<T>::new().plan_fft_inverse(n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_shared_per_type_length_and_kind() {
        let a = complex::<f32>(48, FftDirection::Forward);
        let b = complex::<f32>(48, FftDirection::Forward);
        assert!(Arc::ptr_eq(&a, &b));
        let c = complex::<f32>(48, FftDirection::Backward);
        assert!(!Arc::ptr_eq(&a, &c));
        let d = complex::<f64>(48, FftDirection::Forward);
        assert_eq!(d.len(), 48);
        assert_eq!(real_to_complex::<f32>(30).len(), 30);
        assert_eq!(complex_to_real::<f32>(30).len(), 30);
    }
}

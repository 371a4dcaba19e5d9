//! mtmfs through row partitions: a Taylor pass's term images are more partial images of the same
//! tasks. Each partition returns its `2 nterms - 1` PSF terms or `nterms` residual terms divided
//! by its own tt0 sum of weights (what the single pass returns) with its per-term sums of
//! weights; the reducer combines each term with the partitions' shares of the summed tt0 weight
//! ([`combine_arrays`]: one partition is the single pass bit for bit), which is every term of the
//! union's pass divided by the summed tt0 sum of weights, as the single pass divides by its own
//! (`imaging::taylor`).

use super::{combine_arrays, shares, PartitionRunner, RowOutput, RowReducer};
use crate::error::EngineError;
use crate::imaging::taylor::TermImages;
use std::time::Instant;

/// Partial Taylor images (each partition's terms divided by its own tt0 sum of weights) combined
/// per term with each partition's share of the summed tt0 weight; the sums of weights summed.
pub fn sum_terms(parts: Vec<TermImages>) -> Result<TermImages, EngineError> {
    let nt = parts.first().map_or(0, |p| p.0.len());
    if nt == 0 || parts.iter().any(|p| p.0.len() != nt || p.1.len() != nt) {
        return Err(EngineError::internal(
            "row partitions returned different numbers of Taylor terms",
        ));
    }
    let mut sumwt = vec![0.0f64; nt];
    for (_, w) in &parts {
        for (s, v) in sumwt.iter_mut().zip(w) {
            *s += v;
        }
    }
    let s0: Vec<f64> = parts.iter().map(|p| p.1[0]).collect();
    let factors = shares(&s0, sumwt[0]);
    let mut per_term: Vec<Vec<_>> = (0..nt).map(|_| Vec::with_capacity(parts.len())).collect();
    for (images, _) in parts {
        for (t, img) in images.into_iter().enumerate() {
            per_term[t].push(img);
        }
    }
    let images = per_term
        .into_iter()
        .map(|term| combine_arrays(term, &factors))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((images, sumwt))
}

impl<R: PartitionRunner> RowReducer<R> {
    /// The partitions' Taylor terms summed and normalised.
    pub(super) fn terms(&self, out: Vec<RowOutput>) -> Result<TermImages, EngineError> {
        let t = Instant::now();
        let parts = out
            .into_iter()
            .map(|o| match o {
                RowOutput::Terms(t) => Ok(t),
                _ => Err(EngineError::internal(
                    "a row partition returned no Taylor terms",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sum = sum_terms(parts);
        self.reduction_time(t);
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Two partitions' terms, each divided by its own tt0 weight, combine into the terms of
    /// their union divided by the summed tt0 weight (exact here: small binary fractions in f32);
    /// one partition's terms come back unchanged.
    #[test]
    fn terms_combine_by_tt0_shares() {
        let a = (
            vec![
                Array2::from_elem((2, 2), 1.0f32),
                Array2::from_elem((2, 2), 0.5),
            ],
            vec![2.0, 0.5],
        );
        let b = (
            vec![
                Array2::from_elem((2, 2), 1.0f32),
                Array2::from_elem((2, 2), -0.5),
            ],
            vec![6.0, -1.5],
        );
        let (img, w) = sum_terms(vec![a.clone(), b]).unwrap();
        assert_eq!(w, vec![8.0, -1.0]);
        // (2 * 1 + 6 * 1) / 8 and (2 * 0.5 + 6 * -0.5) / 8.
        assert_eq!(img[0][[0, 0]], 1.0);
        assert_eq!(img[1][[1, 1]], -0.25);
        let third = Array2::from_elem((2, 2), 1.0f32 / 3.0);
        let one = sum_terms(vec![(vec![third.clone(), third.clone()], a.1)]).unwrap();
        assert_eq!(one.0[0], third);
        let bad = (vec![Array2::zeros((2, 2))], vec![1.0]);
        let good = (
            vec![Array2::zeros((2, 2)), Array2::zeros((2, 2))],
            vec![1.0, 0.0],
        );
        assert!(sum_terms(vec![good, bad]).is_err());
    }
}

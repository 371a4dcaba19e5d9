//! mtmfs through row partitions: a Taylor pass's term images are more partial images of the same
//! tasks. Each partition returns its `2 nterms - 1` PSF terms or `nterms` residual terms divided
//! by its own tt0 sum of weights (what the single pass returns) with its per-term sums of
//! weights; the reducer combines each term with the partitions' shares of the summed tt0 weight
//! ([`combine_arrays`]: one partition is the single pass bit for bit), which is every term of the
//! union's pass divided by the summed tt0 sum of weights, as the single pass divides by its own
//! (`imaging::taylor`).
//!
//! A mosaic (`gridder='mosaic'`): a partition's PSF pass also returns every PSF term's weight
//! image divided by its own tt0 sum of weights (linear in the per-pointing weight sums), combined
//! with the same shares into the union's weight images; its PSF terms come before the division
//! by term 0's peak, which the reducer makes once on the combined terms, and its residual terms
//! before the division by `.weight.tt0`, which the block makes (`cycles::mtmfs`). Normalised per
//! partition instead, the weight image of a partition holding fewer pointings would weigh its
//! residual wrongly (`tests/row_negative.rs`).

use super::{combine_arrays, shares, PartitionRunner, RowOutput, RowReducer};
use crate::error::EngineError;
use crate::imaging::taylor::TermImages;
use ndarray::Array2;
use std::time::Instant;

/// A partition's Taylor terms with (a mosaic's PSF pass) the terms' weight images.
pub type PartialTerms = (TermImages, Vec<Array2<f32>>);

/// Partial Taylor images (each partition's terms and weight images divided by its own tt0 sum
/// of weights) combined per term with each partition's share of the summed tt0 weight; the sums
/// of weights summed.
pub fn sum_terms(parts: Vec<PartialTerms>) -> Result<PartialTerms, EngineError> {
    let nt = parts.first().map_or(0, |p| p.0 .0.len());
    let nw = parts.first().map_or(0, |p| p.1.len());
    let agree = |p: &PartialTerms| p.0 .0.len() == nt && p.0 .1.len() == nt && p.1.len() == nw;
    if nt == 0 || !parts.iter().all(agree) {
        return Err(EngineError::internal(
            "row partitions returned different numbers of Taylor terms or weight images",
        ));
    }
    let mut sumwt = vec![0.0f64; nt];
    for ((_, w), _) in &parts {
        for (s, v) in sumwt.iter_mut().zip(w) {
            *s += v;
        }
    }
    let s0: Vec<f64> = parts.iter().map(|p| p.0 .1[0]).collect();
    let factors = shares(&s0, sumwt[0]);
    let per = |n: usize| -> Vec<Vec<Array2<f32>>> {
        (0..n).map(|_| Vec::with_capacity(parts.len())).collect()
    };
    let (mut per_term, mut per_weight) = (per(nt), per(nw));
    for ((images, _), weights) in parts {
        for (t, img) in images.into_iter().enumerate() {
            per_term[t].push(img);
        }
        for (t, w) in weights.into_iter().enumerate() {
            per_weight[t].push(w);
        }
    }
    let combine = |v: Vec<Vec<Array2<f32>>>| {
        v.into_iter()
            .map(|term| combine_arrays(term, &factors))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(((combine(per_term)?, sumwt), combine(per_weight)?))
}

impl<R: PartitionRunner> RowReducer<R> {
    /// The partitions' Taylor terms (and weight images) summed and normalised by the summed tt0
    /// sum of weights.
    pub(super) fn terms(&self, out: Vec<RowOutput>) -> Result<PartialTerms, EngineError> {
        let t = Instant::now();
        let parts = out
            .into_iter()
            .map(|o| match o {
                RowOutput::Terms(t, w) => Ok((t, w)),
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
        let ((img, w), none) = sum_terms(vec![(a.clone(), vec![]), (b, vec![])]).unwrap();
        assert!(none.is_empty());
        assert_eq!(w, vec![8.0, -1.0]);
        // (2 * 1 + 6 * 1) / 8 and (2 * 0.5 + 6 * -0.5) / 8.
        assert_eq!(img[0][[0, 0]], 1.0);
        assert_eq!(img[1][[1, 1]], -0.25);
        let third = Array2::from_elem((2, 2), 1.0f32 / 3.0);
        let one = sum_terms(vec![((vec![third.clone(), third.clone()], a.1), vec![])]).unwrap();
        assert_eq!(one.0 .0[0], third);
        let bad = ((vec![Array2::zeros((2, 2))], vec![1.0]), vec![]);
        let good = (
            (
                vec![Array2::zeros((2, 2)), Array2::zeros((2, 2))],
                vec![1.0, 0.0],
            ),
            vec![],
        );
        assert!(sum_terms(vec![good, bad]).is_err());
    }

    /// A mosaic's weight images (each divided by its partition's tt0 weight) combine with the
    /// terms' tt0 shares: the union's weight image divided by the summed tt0 weight. Partition
    /// a (tt0 weight 2) sees one pointing with weight image 3 / 2 at a pixel, b (6) another with
    /// 1 / 6: the union's is (3 + 1) / 8 = 0.5 there; normalised per partition (1.5 and 1/6,
    /// averaged) it would be 0.83, so the shares matter. A partition without the weight images
    /// of the others is refused.
    #[test]
    fn weight_images_combine_by_tt0_shares() {
        let term = |v: f32| vec![Array2::from_elem((1, 1), v)];
        let a = (
            (term(1.0), vec![2.0]),
            vec![Array2::from_elem((1, 1), 1.5f32)],
        );
        let b = (
            (term(1.0), vec![6.0]),
            vec![Array2::from_elem((1, 1), 1.0f32 / 6.0)],
        );
        let (_, w) = sum_terms(vec![a.clone(), b]).unwrap();
        // 1/6 is rounded to f32 (relative 3e-8): 1e-7 bounds it.
        assert!((w[0][[0, 0]] - 0.5).abs() < 1e-7, "{}", w[0][[0, 0]]);
        let bare = ((term(1.0), vec![6.0]), vec![]);
        assert!(sum_terms(vec![a, bare]).is_err());
    }
}

//! mtmfs through row partitions: a Taylor pass's term images are more partial images of the same
//! tasks. Each partition returns its `2 nterms - 1` PSF terms or `nterms` residual terms before
//! normalisation with its per-term sums of weights; the reducer sums each term over the partitions
//! (the pairwise tree of [`sum_images`]) and divides every term by the summed tt0 sum of weights,
//! as the single pass divides by its own (`imaging::taylor`).

use super::{sum_images, PartitionRunner, RowOutput, RowReducer};
use crate::error::EngineError;
use crate::imaging::taylor::TermImages;
use crate::imaging::PassImage;
use std::time::Instant;

/// A partition's Taylor pass made unnormalised again: the single-pass functions divide every
/// term by the pass's own tt0 sum of weights, so multiplying by it gives the sum over the
/// partition's visibilities (to one f32 rounding, ~6e-8 of each pixel; a partition without
/// weight has zero images either way).
pub fn unnormalised(terms: TermImages) -> TermImages {
    let (mut images, sumwt) = terms;
    let s0 = sumwt.first().copied().unwrap_or(0.0);
    for img in images.iter_mut() {
        img.mapv_inplace(|v| (v as f64 * s0) as f32);
    }
    (images, sumwt)
}

/// Per-term sums of partial Taylor images, each term divided by the summed tt0 sum of weights.
pub fn sum_terms(parts: Vec<TermImages>) -> Result<TermImages, EngineError> {
    let nt = parts.first().map_or(0, |p| p.0.len());
    if nt == 0 || parts.iter().any(|p| p.0.len() != nt || p.1.len() != nt) {
        return Err(EngineError::internal(
            "row partitions returned different numbers of Taylor terms",
        ));
    }
    let mut per_term: Vec<Vec<PassImage>> =
        (0..nt).map(|_| Vec::with_capacity(parts.len())).collect();
    for (images, sumwt) in parts {
        for (t, (img, w)) in images.into_iter().zip(sumwt).enumerate() {
            per_term[t].push((img, w, None));
        }
    }
    let mut images = Vec::with_capacity(nt);
    let mut sumwt = Vec::with_capacity(nt);
    for term in per_term {
        let (img, w, _) = sum_images(term)?;
        images.push(img);
        sumwt.push(w);
    }
    let norm = if sumwt[0] > 0.0 { 1.0 / sumwt[0] } else { 0.0 };
    for img in images.iter_mut() {
        img.mapv_inplace(|v| (v as f64 * norm) as f32);
    }
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

    /// Two partitions' unnormalised terms add up and are divided by the summed tt0 weight: the
    /// normalised single pass of their union (exact here: small integers in f32).
    #[test]
    fn terms_sum_then_normalise_by_tt0() {
        let a = (
            vec![
                Array2::from_elem((2, 2), 2.0f32),
                Array2::from_elem((2, 2), 1.0),
            ],
            vec![2.0, 0.5],
        );
        let b = (
            vec![
                Array2::from_elem((2, 2), 6.0f32),
                Array2::from_elem((2, 2), -3.0),
            ],
            vec![6.0, -1.5],
        );
        let (img, w) = sum_terms(vec![a, b]).unwrap();
        assert_eq!(w, vec![8.0, -1.0]);
        assert_eq!(img[0][[0, 0]], 1.0);
        assert_eq!(img[1][[1, 1]], -0.25);
        // A normalised pass made unnormalised again.
        let n = unnormalised((vec![Array2::from_elem((1, 1), 0.25f32)], vec![8.0]));
        assert_eq!(n.0[0][[0, 0]], 2.0);
        let bad = (vec![Array2::zeros((2, 2))], vec![1.0]);
        let good = (
            vec![Array2::zeros((2, 2)), Array2::zeros((2, 2))],
            vec![1.0, 0.0],
        );
        assert!(sum_terms(vec![good, bad]).is_err());
    }
}

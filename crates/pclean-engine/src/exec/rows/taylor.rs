//! mtmfs through row partitions: a Taylor pass's term images are more partial images of the same
//! tasks. Each partition returns its `2 nterms - 1` PSF terms or `nterms` residual terms divided
//! by its own tt0 sum of weights (what the single pass returns) with its per-term sums of
//! weights and that normaliser; the reducer combines each term with the partitions' shares of the
//! summed tt0 weight ([`combine_arrays`]: one partition is the single pass bit for bit), which is
//! every term of the union's pass divided by the summed tt0 sum of weights, as the single pass
//! divides by its own (`imaging::taylor`).
//!
//! A mosaic (`gridder='mosaic'`): a partition's PSF pass also returns every PSF term's weight
//! image divided by its own tt0 sum of weights (linear in the per-pointing weight sums), combined
//! with the same shares into the union's weight images; its PSF terms come before the division
//! by term 0's peak, which the reducer makes once on the combined terms, and its residual terms
//! before the division by `.weight.tt0`, which the block makes (`cycles::mtmfs`). Normalised per
//! partition instead, the weight image of a partition holding fewer pointings would weigh its
//! residual wrongly (`tests/row_negative.rs`).
//!
//! A-projection (`gridder='awproject'`): its passes divide by two tt0 sums, the plain sum of the
//! weights and the sum times the kernel's flux scale (tclean's: the residual terms and the weight
//! images above term 0 by the latter, the PSF terms and `.weight.tt0` by the former;
//! `imaging::taylor`'s `term_norms`), and report the scaled sums. Each partition therefore sends
//! the normaliser of every image it divided ([`PartialTerms::norms`]) and the reducer combines
//! each image with the partitions' shares of its own summed normaliser: both sums are sums over
//! the rows, so each combined image is the union's divided by the union's sum, as the single
//! pass. Shares of the reported (scaled) tt0 sum would weigh the PSF terms by the kernel sums of
//! the partitions' rows instead of their weights.

use super::{combine_arrays, shares, PartitionRunner, RowOutput, RowReducer};
use crate::error::EngineError;
pub use crate::imaging::taylor::PartialTerms;
use ndarray::Array2;
use std::time::Instant;

/// Partial Taylor images (each partition's terms and weight images divided by its own
/// normalisers, [`PartialTerms::norms`]) combined image by image with each partition's share of
/// the summed normaliser; the sums of weights and the normalisers summed.
pub fn sum_terms(parts: Vec<PartialTerms>) -> Result<PartialTerms, EngineError> {
    let nt = parts.first().map_or(0, |p| p.images.len());
    let nw = parts.first().map_or(0, |p| p.weights.len());
    let agree = |p: &PartialTerms| {
        p.images.len() == nt
            && p.sumwt.len() == nt
            && p.weights.len() == nw
            && p.norms.len() == nt + nw
    };
    if nt == 0 || !parts.iter().all(agree) {
        return Err(EngineError::internal(
            "row partitions returned different numbers of Taylor terms, weight images or \
             normalisers",
        ));
    }
    let add = |n: usize, of: &dyn Fn(&PartialTerms) -> &[f64]| -> Vec<f64> {
        let mut sum = vec![0.0f64; n];
        for p in &parts {
            for (s, v) in sum.iter_mut().zip(of(p)) {
                *s += v;
            }
        }
        sum
    };
    let sumwt = add(nt, &|p| &p.sumwt);
    let norms = add(nt + nw, &|p| &p.norms);
    let factors: Vec<Vec<f64>> = (0..nt + nw)
        .map(|i| {
            let own: Vec<f64> = parts.iter().map(|p| p.norms[i]).collect();
            shares(&own, norms[i])
        })
        .collect();
    let mut per: Vec<Vec<Array2<f32>>> = (0..nt + nw)
        .map(|_| Vec::with_capacity(parts.len()))
        .collect();
    for p in parts {
        for (i, img) in p.images.into_iter().chain(p.weights).enumerate() {
            per[i].push(img);
        }
    }
    let mut all = per
        .into_iter()
        .zip(&factors)
        .map(|(v, f)| combine_arrays(v, f))
        .collect::<Result<Vec<_>, _>>()?;
    let weights = all.split_off(nt);
    Ok(PartialTerms {
        images: all,
        sumwt,
        weights,
        norms,
    })
}

impl<R: PartitionRunner> RowReducer<R> {
    /// The partitions' Taylor terms (and weight images) summed and normalised by the summed
    /// normalisers.
    pub(super) fn terms(&self, out: Vec<RowOutput>) -> Result<PartialTerms, EngineError> {
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

    /// A partition's terms with every image divided by its tt0 sum `sumwt[0]` (the gridders
    /// other than awproject).
    fn plain(images: Vec<Array2<f32>>, sumwt: Vec<f64>, weights: Vec<Array2<f32>>) -> PartialTerms {
        let norms = vec![sumwt[0]; images.len() + weights.len()];
        PartialTerms {
            images,
            sumwt,
            weights,
            norms,
        }
    }

    /// Two partitions' terms, each divided by its own tt0 weight, combine into the terms of
    /// their union divided by the summed tt0 weight (exact here: small binary fractions in f32);
    /// one partition's terms come back unchanged.
    #[test]
    fn terms_combine_by_tt0_shares() {
        let a = plain(
            vec![
                Array2::from_elem((2, 2), 1.0f32),
                Array2::from_elem((2, 2), 0.5),
            ],
            vec![2.0, 0.5],
            vec![],
        );
        let b = plain(
            vec![
                Array2::from_elem((2, 2), 1.0f32),
                Array2::from_elem((2, 2), -0.5),
            ],
            vec![6.0, -1.5],
            vec![],
        );
        let sum = sum_terms(vec![a.clone(), b]).unwrap();
        assert!(sum.weights.is_empty());
        assert_eq!(sum.sumwt, vec![8.0, -1.0]);
        assert_eq!(sum.norms, vec![8.0, 8.0]);
        // (2 * 1 + 6 * 1) / 8 and (2 * 0.5 + 6 * -0.5) / 8.
        assert_eq!(sum.images[0][[0, 0]], 1.0);
        assert_eq!(sum.images[1][[1, 1]], -0.25);
        let third = Array2::from_elem((2, 2), 1.0f32 / 3.0);
        let one = sum_terms(vec![plain(
            vec![third.clone(), third.clone()],
            a.sumwt,
            vec![],
        )]);
        assert_eq!(one.unwrap().images[0], third);
        let bad = plain(vec![Array2::zeros((2, 2))], vec![1.0], vec![]);
        let good = plain(
            vec![Array2::zeros((2, 2)), Array2::zeros((2, 2))],
            vec![1.0, 0.0],
            vec![],
        );
        assert!(sum_terms(vec![good.clone(), bad]).is_err());
        let no_norms = PartialTerms {
            norms: vec![],
            ..good.clone()
        };
        assert!(sum_terms(vec![good, no_norms]).is_err());
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
        let a = plain(term(1.0), vec![2.0], term(1.5));
        let b = plain(term(1.0), vec![6.0], term(1.0 / 6.0));
        let w = sum_terms(vec![a.clone(), b]).unwrap().weights;
        // 1/6 is rounded to f32 (relative 3e-8): 1e-7 bounds it.
        assert!((w[0][[0, 0]] - 0.5).abs() < 1e-7, "{}", w[0][[0, 0]]);
        let bare = plain(term(1.0), vec![6.0], vec![]);
        assert!(sum_terms(vec![a, bare]).is_err());
    }

    /// awproject's PSF pass (s18-rows): its PSF terms and `.weight.tt0` are divided by the plain
    /// tt0 sum, its weight images above term 0 by the kernel-scaled one, and it reports the
    /// scaled sums. Partition a: plain 2, scaled 1 (kernel sum 1/2), b: plain 6, scaled 4.5
    /// (3/4). Its PSF term 1/2 and 1/6 (raw 1 and 1) combine to raw 2 over the plain 8: 0.25;
    /// its weight image above term 0, 1/1 and 3/4.5 (raw 1 and 3), to raw 4 over the scaled 5.5.
    /// Shares of the reported (scaled) sum would give the PSF term (0.5 + 4.5 / 6) / 5.5 = 0.227,
    /// not 0.25: the per-image normalisers matter.
    #[test]
    fn images_combine_by_their_own_normalisers() {
        let px = |v: f32| vec![Array2::from_elem((1, 1), v)];
        let part = |psf: f32, w: f32, plain: f64, scaled: f64| PartialTerms {
            images: px(psf),
            sumwt: vec![scaled],
            weights: px(w),
            norms: vec![plain, scaled],
        };
        let a = part(0.5, 1.0, 2.0, 1.0);
        let b = part(1.0 / 6.0, 3.0 / 4.5, 6.0, 4.5);
        let sum = sum_terms(vec![a, b]).unwrap();
        assert_eq!(sum.sumwt, vec![5.5]);
        assert_eq!(sum.norms, vec![8.0, 5.5]);
        // 1/6 and 3/4.5 are rounded to f32 (relative 3e-8 of 1): 1e-7 bounds it.
        assert!((sum.images[0][[0, 0]] - 0.25).abs() < 1e-7);
        assert!((sum.weights[0][[0, 0]] - 4.0 / 5.5).abs() < 1e-7);
        let reported = (1.0 * 0.5 + 4.5 * (1.0 / 6.0)) / 5.5;
        assert!((reported - 0.25f64).abs() > 0.02, "{reported}");
    }
}

//! specmode='mvc' through row partitions: a pass's partial results are the cube's channel images.
//! Each partition returns every channel image divided by its own sum of weights in that channel
//! (what the single pass returns for its rows, `imaging::mvc`) with its per-channel sums; the
//! reducer combines channel `c` with the partitions' shares `w_pc / W_c` of the channel's summed
//! weight ([`combine_arrays`]: one partition is the single pass bit for bit), which is the union's
//! channel image divided by `W_c`, as the single pass divides by its own. The Taylor sums over the
//! channels (`cycles::mvc`) are then made once, by the coordinator, from the combined cube.
//!
//! A mosaic (`gridder='mosaic'`): a partition's PSF pass also returns every channel's weight image
//! (`sum_p W_p B_p` of its rows in the channel, divided by its own sum of weights there: linear
//! in the per-pointing weight sums), combined with the same per-channel shares into the union's
//! channel weight images. The channel images come back linear (the mosaic's PSF before its peak,
//! its residual before the division by the weight image): `cycles::mvc` normalises the combined
//! channels once, as it does the single pass's. A partition's residual pass makes no weight images.

use super::{combine_arrays, shares, PartitionRunner, RowOutput, RowReducer};
use crate::error::EngineError;
use crate::imaging::mvc::{ChannelImages, ChannelWeights};
use std::time::Instant;

/// A partition's mvc channels with (a mosaic's PSF pass) their weight images.
pub type PartialChannels = (ChannelImages, ChannelWeights);

/// Partial channel images and (a mosaic's PSF pass) channel weight images, each divided by its
/// partition's own sum of weights in that channel, combined per channel with each partition's
/// share of the channel's summed weight; the per-channel sums of weights summed. `nchan` is the
/// cube's channel count: a partition with another count, or with weight images where another
/// has none, is refused.
pub fn sum_channels(
    parts: Vec<PartialChannels>,
    nchan: usize,
) -> Result<PartialChannels, EngineError> {
    let Some(nw) = parts.first().map(|p| p.1.len()) else {
        return Err(EngineError::internal("no row partitions"));
    };
    if parts
        .iter()
        .any(|((img, w), wimg)| img.len() != nchan || w.len() != nchan || wimg.len() != nw)
        || (nw != 0 && nw != nchan)
    {
        return Err(EngineError::internal(format!(
            "a row partition returned another number of mvc channels or channel weight images \
             than the cube's {nchan}"
        )));
    }
    let mut sumwt = vec![0.0f64; nchan];
    for ((_, w), _) in &parts {
        for (s, v) in sumwt.iter_mut().zip(w) {
            *s += v;
        }
    }
    let per_part_w: Vec<Vec<f64>> = parts.iter().map(|p| p.0 .1.clone()).collect();
    let per =
        |n: usize| -> Vec<Vec<_>> { (0..n).map(|_| Vec::with_capacity(parts.len())).collect() };
    let (mut per_chan, mut per_weight) = (per(nchan), per(nw));
    for ((images, _), weights) in parts {
        for (c, img) in images.into_iter().enumerate() {
            per_chan[c].push(img);
        }
        for (c, w) in weights.into_iter().enumerate() {
            per_weight[c].push(w);
        }
    }
    let combine = |v: Vec<Vec<_>>| {
        v.into_iter()
            .enumerate()
            .map(|(c, chan)| {
                let wc: Vec<f64> = per_part_w.iter().map(|w| w[c]).collect();
                combine_arrays(chan, &shares(&wc, sumwt[c]))
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let images = combine(per_chan)?;
    let weights = combine(per_weight)?;
    Ok(((images, sumwt), weights))
}

impl<R: PartitionRunner> RowReducer<R> {
    /// The partitions' mvc channel images (and a mosaic's channel weight images) summed and
    /// normalised per channel.
    pub(super) fn channels(
        &self,
        out: Vec<RowOutput>,
        nchan: usize,
    ) -> Result<PartialChannels, EngineError> {
        let t = Instant::now();
        let parts = out
            .into_iter()
            .map(|o| match o {
                RowOutput::Channels(c, w) => Ok((c, w)),
                _ => Err(EngineError::internal(
                    "a row partition returned no mvc channel images",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sum = sum_channels(parts, nchan);
        self.reduction_time(t);
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Two partitions' channels, each divided by its own channel sum of weights, combine into the
    /// union's channels divided by the channel's summed weight (exact: small binary fractions in
    /// f32): channel 0 by shares 1/4 and 3/4, channel 1 by 1 and 0 (the second partition has no
    /// data there). Each channel uses its own shares, not channel 0's or a total's. One partition
    /// comes back unchanged; a partition with another channel count is refused.
    #[test]
    fn channels_combine_by_their_own_shares() {
        let a = (
            vec![
                Array2::from_elem((2, 2), 1.0f32),
                Array2::from_elem((2, 2), 0.5),
            ],
            vec![2.0, 4.0],
        );
        let b = (
            vec![Array2::from_elem((2, 2), -1.0f32), Array2::zeros((2, 2))],
            vec![6.0, 0.0],
        );
        let ((img, w), none) = sum_channels(vec![(a.clone(), vec![]), (b, vec![])], 2).unwrap();
        assert!(none.is_empty());
        assert_eq!(w, vec![8.0, 4.0]);
        // (2 * 1 + 6 * -1) / 8 and (4 * 0.5 + 0 * 0) / 4.
        assert_eq!(img[0][[0, 0]], -0.5);
        assert_eq!(img[1][[1, 1]], 0.5);
        let third = Array2::from_elem((2, 2), 1.0f32 / 3.0);
        let one = vec![((vec![third.clone(), third.clone()], a.1.clone()), vec![])];
        let ((one, _), _) = sum_channels(one, 2).unwrap();
        assert_eq!(one[0], third);
        assert_eq!(one[1], third);
        let short = ((vec![Array2::zeros((2, 2))], vec![1.0]), vec![]);
        let e = sum_channels(vec![(a, vec![]), short], 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("mvc channels"), "{e}");
    }

    /// A mosaic's channel weight images (each divided by its partition's sum of weights in the
    /// channel) combine with that channel's shares: the union's weight image divided by the
    /// channel's summed weight. Channel 0: partition a (weight 2) sees one pointing with weight
    /// image 3 / 2 at a pixel, b (6) another with 1 / 6, so the union's is (3 + 1) / 8 = 0.5;
    /// channel 1 only a's rows (b's share 0): a's own 0.25 back. The channel's own shares matter:
    /// channel 0's shares would give channel 1 a quarter of a's weight. A partition without the
    /// weight images the others have is refused.
    #[test]
    fn channel_weight_images_combine_by_their_channels_shares() {
        let px = |v: f32| Array2::from_elem((1, 1), v);
        let a = (
            (vec![px(1.0), px(1.0)], vec![2.0, 4.0]),
            vec![px(1.5), px(0.25)],
        );
        let b = (
            (vec![px(1.0), px(0.0)], vec![6.0, 0.0]),
            vec![px(1.0 / 6.0), px(0.0)],
        );
        let ((_, w), wimg) = sum_channels(vec![a.clone(), b], 2).unwrap();
        assert_eq!(w, vec![8.0, 4.0]);
        // 1/6 is rounded to f32 (relative 3e-8): 1e-7 bounds it.
        assert!((wimg[0][[0, 0]] - 0.5).abs() < 1e-7, "{}", wimg[0][[0, 0]]);
        assert_eq!(wimg[1][[0, 0]], 0.25);
        let bare = ((vec![px(1.0), px(1.0)], vec![6.0, 1.0]), vec![]);
        assert!(sum_channels(vec![a.clone(), bare], 2).is_err());
        let one_short = ((vec![px(1.0), px(1.0)], vec![6.0, 1.0]), vec![px(1.0)]);
        assert!(sum_channels(vec![one_short], 2).is_err());
    }
}

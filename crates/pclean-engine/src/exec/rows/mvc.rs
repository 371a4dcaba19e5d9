//! specmode='mvc' through row partitions: a pass's partial results are the cube's channel images.
//! Each partition returns every channel image divided by its own sum of weights in that channel
//! (what the single pass returns for its rows, `imaging::mvc`) with its per-channel sums; the
//! reducer combines channel `c` with the partitions' shares `w_pc / W_c` of the channel's summed
//! weight ([`combine_arrays`]: one partition is the single pass bit for bit), which is the union's
//! channel image divided by `W_c`, as the single pass divides by its own. The Taylor sums over the
//! channels (`cycles::mvc`) are then made once, by the coordinator, from the combined cube.

use super::{combine_arrays, shares, PartitionRunner, RowOutput, RowReducer};
use crate::error::EngineError;
use crate::imaging::mvc::ChannelImages;
use std::time::Instant;

/// Partial channel images (each partition's channel divided by its own sum of weights in that
/// channel) combined per channel with each partition's share of the channel's summed weight; the
/// per-channel sums of weights summed. `nchan` is the cube's channel count: a partition with
/// another count is refused.
pub fn sum_channels(parts: Vec<ChannelImages>, nchan: usize) -> Result<ChannelImages, EngineError> {
    if parts.is_empty() {
        return Err(EngineError::internal("no row partitions"));
    }
    if parts
        .iter()
        .any(|p| p.0.len() != nchan || p.1.len() != nchan)
    {
        return Err(EngineError::internal(format!(
            "a row partition returned another number of mvc channels than the cube's {nchan}"
        )));
    }
    let mut sumwt = vec![0.0f64; nchan];
    for (_, w) in &parts {
        for (s, v) in sumwt.iter_mut().zip(w) {
            *s += v;
        }
    }
    let per_part_w: Vec<Vec<f64>> = parts.iter().map(|p| p.1.clone()).collect();
    let mut per_chan: Vec<Vec<_>> = (0..nchan)
        .map(|_| Vec::with_capacity(parts.len()))
        .collect();
    for (images, _) in parts {
        for (c, img) in images.into_iter().enumerate() {
            per_chan[c].push(img);
        }
    }
    let images = per_chan
        .into_iter()
        .enumerate()
        .map(|(c, chan)| {
            let wc: Vec<f64> = per_part_w.iter().map(|w| w[c]).collect();
            combine_arrays(chan, &shares(&wc, sumwt[c]))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((images, sumwt))
}

/// A mosaic's mvc (channel weight images) is not run in row partitions (refused up front,
/// `params::mtmfs`): a partition's pass that made weight images is an internal error.
pub(super) fn no_weight_images(w: &[ndarray::Array2<f32>]) -> Result<(), EngineError> {
    if w.is_empty() {
        Ok(())
    } else {
        Err(EngineError::internal(
            "a row partition's mvc channels came with weight images (a mosaic's mvc is not run \
             in row partitions)",
        ))
    }
}

impl<R: PartitionRunner> RowReducer<R> {
    /// The partitions' mvc channel images summed and normalised per channel.
    pub(super) fn channels(
        &self,
        out: Vec<RowOutput>,
        nchan: usize,
    ) -> Result<ChannelImages, EngineError> {
        let t = Instant::now();
        let parts = out
            .into_iter()
            .map(|o| match o {
                RowOutput::Channels(c) => Ok(c),
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
        let (img, w) = sum_channels(vec![a.clone(), b], 2).unwrap();
        assert_eq!(w, vec![8.0, 4.0]);
        // (2 * 1 + 6 * -1) / 8 and (4 * 0.5 + 0 * 0) / 4.
        assert_eq!(img[0][[0, 0]], -0.5);
        assert_eq!(img[1][[1, 1]], 0.5);
        let third = Array2::from_elem((2, 2), 1.0f32 / 3.0);
        let one = sum_channels(vec![(vec![third.clone(), third.clone()], a.1.clone())], 2).unwrap();
        assert_eq!(one.0[0], third);
        assert_eq!(one.0[1], third);
        let short = (vec![Array2::zeros((2, 2))], vec![1.0]);
        let e = sum_channels(vec![a, short], 2).unwrap_err().to_string();
        assert!(e.contains("mvc channels"), "{e}");
    }
}

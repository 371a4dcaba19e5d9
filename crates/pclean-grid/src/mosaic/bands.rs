//! The mosaic gridder's beam frequencies of an mfs plane (tclean's beams per data channel,
//! `findUsefulChannels`): which channels of a batch go to which beam, and column selections.

use ndarray::{ArrayView2, Axis, CowArray, Ix2};

/// The channels of `freq_hz` by beam frequency, each channel to the nearest of `band_freqs`:
/// `(band, channels)` for every band with channels (`None`: all channels, one band; always so
/// for empty `band_freqs`).
pub(super) fn channel_bands(
    band_freqs: &[f64],
    freq_hz: &[f64],
) -> Vec<(usize, Option<Vec<usize>>)> {
    if band_freqs.is_empty() {
        return vec![(0, None)];
    }
    let mut out: Vec<(usize, Option<Vec<usize>>)> = Vec::new();
    for (c, f) in freq_hz.iter().enumerate() {
        let band = (0..band_freqs.len())
            .min_by(|a, b| {
                (band_freqs[*a] - f)
                    .abs()
                    .total_cmp(&(band_freqs[*b] - f).abs())
            })
            .unwrap_or(0);
        match out.iter_mut().find(|(b, _)| *b == band) {
            Some((_, Some(cols))) => cols.push(c),
            _ => out.push((band, Some(vec![c]))),
        }
    }
    if out.len() == 1 {
        out[0].1 = None;
    }
    out
}

/// Columns `cols` of `a` (all of it for `None`).
pub(crate) fn take_cols<'a, T: Clone>(
    a: ArrayView2<'a, T>,
    cols: &Option<Vec<usize>>,
) -> CowArray<'a, T, Ix2> {
    match cols {
        Some(c) => CowArray::from(a.select(Axis(1), c)),
        None => CowArray::from(a),
    }
}

/// Elements `cols` of `v` (all for `None`).
pub(crate) fn columns_of(v: &[f64], cols: &Option<Vec<usize>>) -> Vec<f64> {
    match cols {
        Some(c) => c.iter().map(|i| v[*i]).collect(),
        None => v.to_vec(),
    }
}

/// The batch rows of a row group (`0..n` for `None`).
pub(super) fn row_indices<'a>(
    rows: &'a Option<Vec<usize>>,
    n: usize,
) -> Box<dyn Iterator<Item = usize> + 'a> {
    match rows {
        Some(r) => Box::new(r.iter().copied()),
        None => Box::new(0..n),
    }
}

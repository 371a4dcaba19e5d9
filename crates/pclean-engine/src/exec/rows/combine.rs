//! The sum of the partitions' partial images: each divided by its own sum of weights, combined
//! with its share of the summed weights.

use crate::error::EngineError;
use crate::imaging::PassImage;
use ndarray::Array2;
use rayon::prelude::*;

/// Partial images, each divided by its own partition's sum of weights, combined into the image
/// divided by the summed weights: `sum_p image_p w_p / W` (`W = sum_p w_p`), every pixel
/// accumulated in f64 over the partitions in their order and rounded to f32 once. One partition's
/// factor is exactly 1, so its image is the single-process pass's bit for bit.
pub fn combine_images(images: Vec<PassImage>) -> Result<PassImage, EngineError> {
    if images.is_empty() {
        return Err(EngineError::internal("no row partitions"));
    }
    let sumwt: Vec<f64> = images.iter().map(|i| i.1).collect();
    let total: f64 = sumwt.iter().sum();
    let factors = shares(&sumwt, total);
    let n = images.len();
    let (mut imgs, mut wts) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for (img, _, w) in images {
        imgs.push(img);
        wts.extend(w);
    }
    let weight = match wts.len() {
        0 => None,
        m if m == n => Some(combine_arrays(wts, &factors)?),
        _ => {
            return Err(EngineError::internal(
                "partitions disagree on a weight image",
            ))
        }
    };
    Ok((combine_arrays(imgs, &factors)?, total, weight))
}

/// Each partition's share `w_p / W` of the summed weights `total` (0 when nothing was gridded).
pub fn shares(sumwt: &[f64], total: f64) -> Vec<f64> {
    sumwt
        .iter()
        .map(|w| if total > 0.0 { w / total } else { 0.0 })
        .collect()
}

/// `sum_p factors[p] arrays[p]`, per pixel in f64 in partition order, rounded once.
pub fn combine_arrays(
    mut arrays: Vec<Array2<f32>>,
    factors: &[f64],
) -> Result<Array2<f32>, EngineError> {
    let Some(dim) = arrays.first().map(|a| a.dim()) else {
        return Err(EngineError::internal("no row partitions"));
    };
    if arrays.iter().any(|a| a.dim() != dim) || arrays.len() != factors.len() {
        return Err(EngineError::internal(
            "row partitions returned images of different shapes",
        ));
    }
    if arrays.len() == 1 && factors[0] == 1.0 {
        return Ok(arrays.pop().expect("one image"));
    }
    // The first partition's array takes the result (no further image-sized buffer).
    let mut parts = arrays
        .into_iter()
        .map(|a| a.as_standard_layout().into_owned());
    let mut out = parts.next().expect("one image or more");
    let rest: Vec<Array2<f32>> = parts.collect();
    let slices: Vec<&[f32]> = rest
        .iter()
        .map(|a| a.as_slice().expect("standard layout"))
        .collect();
    const CHUNK: usize = 1 << 14;
    let o = out.as_slice_mut().expect("standard layout");
    o.par_chunks_mut(CHUNK).enumerate().for_each(|(c, o)| {
        let base = c * CHUNK;
        for (i, v) in o.iter_mut().enumerate() {
            let mut acc = *v as f64 * factors[0];
            for (s, f) in slices.iter().zip(&factors[1..]) {
                acc += s[base + i] as f64 * f;
            }
            *v = acc as f32;
        }
    });
    Ok(out)
}

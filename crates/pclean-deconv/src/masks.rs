//! Boolean clean masks: the primary-beam mask, set operations, pixel counts and the binary
//! morphology auto-multithresh needs (4-connected region labelling and pruning, constrained
//! growth).
//!
//! All masks are `Array2<bool>` indexed `[[y, x]]` (`x` the RA pixel index), `true` = clean here.
//!
//! # Source
//! `SDMaskHandler::makePBMask` (pb mask: `pb > pblimit`), `SDMaskHandler::labelRegions` /
//! `depthFirstSearch2` / `defineNeighbors` (4-connectivity), `SDMaskHandler::YAPruneRegions`
//! (remove regions with fewer than `prunesize` pixels), `SDMaskHandler::binaryDilation(Core)`
//! (cross-shaped structuring element, growth only from seeds inside the constraint mask) in
//! LibRA/CASA `synthesis/ImagerObjects/SDMaskHandler.cc`.

use ndarray::{Array2, ArrayView2, Zip};

/// The primary-beam mask, tclean's `usemask='pb'`: `true` where `pb_yx > pblimit`.
///
/// CASA uses a strict `>` (`makePBMask`, and the pixel mask attached to the residual in
/// `autoMask`); NaN primary-beam values are outside the mask.
pub fn pb_mask(pb_yx: ArrayView2<f32>, pblimit: f32) -> Array2<bool> {
    pb_yx.mapv(|v| v > pblimit)
}

/// Number of `true` pixels.
pub fn count(mask_yx: ArrayView2<bool>) -> usize {
    mask_yx.iter().filter(|&&b| b).count()
}

/// True when no pixel is set.
pub fn is_empty(mask_yx: ArrayView2<bool>) -> bool {
    !mask_yx.iter().any(|&b| b)
}

/// `dst |= src`. Panics if the shapes differ.
pub fn union_into(dst_yx: &mut Array2<bool>, src_yx: ArrayView2<bool>) {
    Zip::from(dst_yx).and(&src_yx).for_each(|d, &s| *d |= s);
}

/// `dst &= src`. Panics if the shapes differ.
pub fn intersect_into(dst_yx: &mut Array2<bool>, src_yx: ArrayView2<bool>) {
    Zip::from(dst_yx).and(&src_yx).for_each(|d, &s| *d &= s);
}

/// `dst &= !src` (remove `src` from `dst`). Panics if the shapes differ.
pub fn subtract_into(dst_yx: &mut Array2<bool>, src_yx: ArrayView2<bool>) {
    Zip::from(dst_yx).and(&src_yx).for_each(|d, &s| *d &= !s);
}

/// A CASA mask image plane (float, 1 = clean) as booleans: `value > 0` (CASA's own test when it
/// reads a mask, e.g. `iif(mask > 0.0, ...)`).
pub fn from_float(mask_yx: ArrayView2<f32>) -> Array2<bool> {
    mask_yx.mapv(|v| v > 0.0)
}

/// Booleans as a CASA mask plane (1.0 / 0.0).
pub fn to_float(mask_yx: ArrayView2<bool>) -> Array2<f32> {
    mask_yx.mapv(|b| if b { 1.0 } else { 0.0 })
}

/// Jaccard index |a ∩ b| / |a ∪ b|; 1.0 when both are empty.
pub fn jaccard(a_yx: ArrayView2<bool>, b_yx: ArrayView2<bool>) -> f64 {
    let (mut inter, mut uni) = (0usize, 0usize);
    Zip::from(&a_yx).and(&b_yx).for_each(|&a, &b| {
        inter += (a && b) as usize;
        uni += (a || b) as usize;
    });
    if uni == 0 {
        1.0
    } else {
        inter as f64 / uni as f64
    }
}

/// The 4 neighbours CASA's region labelling and binary dilation use (`defineNeighbors`, and the
/// cross-shaped 3x3 structuring element of `autoMaskByMultiThreshold`).
const NEIGHBOURS_4: [(isize, isize); 4] = [(1, 0), (0, 1), (-1, 0), (0, -1)];

/// Label the 4-connected regions of `mask_yx`. Returns the label image (0 = background, regions
/// numbered from 1 in raster order of their first pixel) and each region's size in pixels
/// (`sizes[label - 1]`).
pub fn label_regions(mask_yx: ArrayView2<bool>) -> (Array2<u32>, Vec<usize>) {
    let (ny, nx) = mask_yx.dim();
    let mut labels = Array2::<u32>::zeros((ny, nx));
    let mut sizes = Vec::new();
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for y in 0..ny {
        for x in 0..nx {
            if !mask_yx[[y, x]] || labels[[y, x]] != 0 {
                continue;
            }
            let label = sizes.len() as u32 + 1;
            let mut size = 0usize;
            labels[[y, x]] = label;
            stack.push((y, x));
            while let Some((cy, cx)) = stack.pop() {
                size += 1;
                for (dy, dx) in NEIGHBOURS_4 {
                    let (yy, xx) = (cy as isize + dy, cx as isize + dx);
                    if yy < 0 || xx < 0 || yy >= ny as isize || xx >= nx as isize {
                        continue;
                    }
                    let (yy, xx) = (yy as usize, xx as usize);
                    if mask_yx[[yy, xx]] && labels[[yy, xx]] == 0 {
                        labels[[yy, xx]] = label;
                        stack.push((yy, xx));
                    }
                }
            }
            sizes.push(size);
        }
    }
    (labels, sizes)
}

/// What [`prune_regions`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct PruneCount {
    /// 4-connected regions found.
    pub n_regions: usize,
    /// Regions removed because they had fewer than `min_pixels` pixels.
    pub n_pruned: usize,
}

/// Remove, in place, the 4-connected regions with fewer than `min_pixels` pixels (CASA's
/// `YAPruneRegions`: a region is removed when `size < prunesize`; `min_pixels <= 0` is a no-op).
pub fn prune_regions(mask_yx: &mut Array2<bool>, min_pixels: f64) -> PruneCount {
    if min_pixels <= 0.0 {
        return PruneCount::default();
    }
    let (labels, sizes) = label_regions(mask_yx.view());
    let remove: Vec<bool> = sizes.iter().map(|&s| (s as f64) < min_pixels).collect();
    let n_pruned = remove.iter().filter(|&&r| r).count();
    if n_pruned > 0 {
        Zip::from(mask_yx).and(&labels).for_each(|m, &l| {
            if l > 0 && remove[l as usize - 1] {
                *m = false;
            }
        });
    }
    PruneCount {
        n_regions: sizes.len(),
        n_pruned,
    }
}

/// Grow `seed_yx` inside `constraint_yx`: the result of CASA's `binaryDilation` with the
/// cross-shaped structuring element for `iterations` steps followed by the multiplication by the
/// constraint mask, i.e. the pixels of `constraint` reachable from `seed ∩ constraint` in at most
/// `iterations` 4-neighbour steps that stay inside `constraint`.
///
/// (CASA dilates only from pixels that are in the constraint, adds their neighbours whatever the
/// constraint says, and finally multiplies by the constraint, so pixels outside it never seed
/// and never survive: the two are identical. CASA also stops early when a step changes nothing.)
pub fn grow_within(
    seed_yx: ArrayView2<bool>,
    constraint_yx: ArrayView2<bool>,
    iterations: usize,
) -> Array2<bool> {
    let (ny, nx) = seed_yx.dim();
    let mut out = Array2::from_elem((ny, nx), false);
    let mut frontier: Vec<(usize, usize)> = Vec::new();
    Zip::indexed(&mut out)
        .and(&seed_yx)
        .and(&constraint_yx)
        .for_each(|(y, x), o, &s, &c| {
            if s && c {
                *o = true;
                frontier.push((y, x));
            }
        });
    let mut next = Vec::new();
    for _ in 0..iterations {
        if frontier.is_empty() {
            break;
        }
        for &(cy, cx) in &frontier {
            for (dy, dx) in NEIGHBOURS_4 {
                let (yy, xx) = (cy as isize + dy, cx as isize + dx);
                if yy < 0 || xx < 0 || yy >= ny as isize || xx >= nx as isize {
                    continue;
                }
                let (yy, xx) = (yy as usize, xx as usize);
                if constraint_yx[[yy, xx]] && !out[[yy, xx]] {
                    out[[yy, xx]] = true;
                    next.push((yy, xx));
                }
            }
        }
        std::mem::swap(&mut frontier, &mut next);
        next.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn labels_use_four_connectivity() {
        // Diagonal neighbours are separate regions under 4-connectivity.
        let m = array![[true, false], [false, true]];
        let (_, sizes) = label_regions(m.view());
        assert_eq!(sizes, vec![1, 1]);
    }

    #[test]
    fn grow_is_limited_by_iterations_and_constraint() {
        let mut seed = Array2::from_elem((1, 10), false);
        seed[[0, 0]] = true;
        let mut constraint = Array2::from_elem((1, 10), true);
        constraint[[0, 6]] = false;
        let g = grow_within(seed.view(), constraint.view(), 3);
        assert_eq!(count(g.view()), 4);
        let g = grow_within(seed.view(), constraint.view(), 100);
        assert_eq!(count(g.view()), 6);
    }
}

//! Fast masked peak search: per-row maxima of |image| with loops the compiler vectorises, and a
//! tracker that keeps them current while a minor cycle subtracts shifted PSFs.
//!
//! Every search here returns exactly what a row-major scan keeping the first strictly larger |v|
//! returns (the reference in the tests): the row maxima ignore NaN (`a > m` is false for NaN) and
//! masked-out pixels (they count as -1, below every |v|), the first row holding the largest
//! maximum wins, and in it the first allowed pixel equal to that maximum.

use ndarray::{s, ArrayView2, ArrayViewMut2, Zip};

use crate::planeops::{overlap, PixelBox};

/// Independent accumulators per row scan (two AVX2 registers of f32).
const LANES: usize = 16;

/// Largest |v| of `row` (NaN ignored); -1 for an empty or all-NaN row.
pub(crate) fn row_max_abs(row: &[f32]) -> f32 {
    let mut acc = [-1.0f32; LANES];
    let chunks = row.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for (m, &v) in acc.iter_mut().zip(c) {
            let a = v.abs();
            *m = if a > *m { a } else { *m };
        }
    }
    let mut m = rest
        .iter()
        .fold(-1.0f32, |m, v| if v.abs() > m { v.abs() } else { m });
    for a in acc {
        m = if a > m { a } else { m };
    }
    m
}

/// Largest |v| of `row` where `allowed` (NaN ignored); -1 when there is none.
pub(crate) fn row_max_abs_masked(row: &[f32], allowed: &[bool]) -> f32 {
    debug_assert_eq!(row.len(), allowed.len());
    let mut acc = [-1.0f32; LANES];
    let chunks = row.chunks_exact(LANES).zip(allowed.chunks_exact(LANES));
    let n = row.len() - row.len() % LANES;
    for (c, ok) in chunks {
        for ((m, &v), &ok) in acc.iter_mut().zip(c).zip(ok) {
            let a = if ok { v.abs() } else { -1.0 };
            *m = if a > *m { a } else { *m };
        }
    }
    let mut m = -1.0f32;
    for (&v, &ok) in row[n..].iter().zip(&allowed[n..]) {
        if ok && v.abs() > m {
            m = v.abs();
        }
    }
    for a in acc {
        m = if a > m { a } else { m };
    }
    m
}

/// Max |v| over the allowed pixels of row `y` within the columns `b.x0..b.x1`.
fn row_peak(img: &ArrayView2<f32>, mask: Option<&ArrayView2<bool>>, y: usize, b: PixelBox) -> f32 {
    let row = img.slice(s![y, b.x0..b.x1]);
    let mrow = mask.map(|m| m.slice(s![y, b.x0..b.x1]));
    match (row.as_slice(), mrow.as_ref().map(|m| m.as_slice())) {
        (Some(r), None) => row_max_abs(r),
        (Some(r), Some(Some(m))) => row_max_abs_masked(r, m),
        _ => {
            // Non-contiguous views: the plain scan.
            let mut best = -1.0f32;
            for (i, &v) in row.iter().enumerate() {
                let ok = mrow.as_ref().is_none_or(|m| m[i]);
                if ok && v.abs() > best {
                    best = v.abs();
                }
            }
            best
        }
    }
}

/// The first allowed pixel of row `y` within the columns `b.x0..b.x1` whose |v| equals `peak`.
fn first_at(
    img: &ArrayView2<f32>,
    mask: Option<&ArrayView2<bool>>,
    y: usize,
    b: PixelBox,
    peak: f32,
) -> Option<(f32, usize, usize)> {
    (b.x0..b.x1).find_map(|x| {
        let v = img[[y, x]];
        let ok = mask.is_none_or(|m| m[[y, x]]);
        (ok && v.abs() == peak).then_some((v, y, x))
    })
}

/// Signed value and position `(value, y, x)` of the largest |img| inside `bbox` where `mask`
/// allows (first in row-major order on ties); `None` if no pixel is allowed (or all are NaN).
pub(crate) fn peak_in_box(
    img: ArrayView2<f32>,
    mask: Option<ArrayView2<bool>>,
    bbox: PixelBox,
) -> Option<(f32, usize, usize)> {
    let mut best = -1.0f32;
    let mut best_y = None;
    for y in bbox.y0..bbox.y1 {
        let m = row_peak(&img, mask.as_ref(), y, bbox);
        if m > best {
            best = m;
            best_y = Some(y);
        }
    }
    first_at(&img, mask.as_ref(), best_y?, bbox, best)
}

/// Per-row peaks of |residual| inside a search box and mask, updated row by row as PSFs are
/// subtracted, so each Högbom iteration scans one value per row plus one row instead of the box.
pub(crate) struct RowPeaks {
    bbox: PixelBox,
    /// Max |v| over the allowed pixels of row `bbox.y0 + i` (-1 when none).
    max: Vec<f32>,
}

impl RowPeaks {
    pub(crate) fn new(
        img: ArrayView2<f32>,
        mask: Option<ArrayView2<bool>>,
        bbox: PixelBox,
    ) -> Self {
        let max = (bbox.y0..bbox.y1)
            .map(|y| row_peak(&img, mask.as_ref(), y, bbox))
            .collect();
        RowPeaks { bbox, max }
    }

    /// The peak as [`peak_in_box`] finds it.
    pub(crate) fn peak(
        &self,
        img: ArrayView2<f32>,
        mask: Option<ArrayView2<bool>>,
    ) -> Option<(f32, usize, usize)> {
        let mut best = -1.0f32;
        let mut best_i = None;
        for (i, &m) in self.max.iter().enumerate() {
            if m > best {
                best = m;
                best_i = Some(i);
            }
        }
        let y = self.bbox.y0 + best_i?;
        first_at(&img, mask.as_ref(), y, self.bbox, best)
    }

    /// Recompute the peaks of rows `y0..y1` (clipped to the box) after `img` changed there.
    pub(crate) fn refresh_rows(
        &mut self,
        img: ArrayView2<f32>,
        mask: Option<ArrayView2<bool>>,
        y0: usize,
        y1: usize,
    ) {
        let b = self.bbox;
        for y in y0.max(b.y0)..y1.min(b.y1) {
            self.max[y - b.y0] = row_peak(&img, mask.as_ref(), y, b);
        }
    }

    /// `target[y + ky - kcy, x + kx - kcx] += factor * kernel[ky, kx]` over the overlap (as
    /// [`crate::planeops::add_shifted`], the same arithmetic), refreshing the peaks of the rows
    /// it changes while they are in cache.
    pub(crate) fn add_shifted(
        &mut self,
        target: &mut ArrayViewMut2<f32>,
        mask: Option<ArrayView2<bool>>,
        kernel: ArrayView2<f32>,
        (kcy, kcx): (usize, usize),
        (y, x): (usize, usize),
        factor: f32,
    ) {
        let Some(o) = overlap(target.dim(), kernel.dim(), (kcy, kcx), (y, x)) else {
            return;
        };
        let (ty0, ty1, tx0, tx1, ky0, kx0) = (o.ty0, o.ty1, o.tx0, o.tx1, o.ky0, o.kx0);
        let w = tx1 - tx0;
        let b = self.bbox;
        for ty in ty0..ty1 {
            let ky = ky0 + ty - ty0;
            {
                let mut t = target.slice_mut(s![ty, tx0..tx1]);
                let k = kernel.slice(s![ky, kx0..kx0 + w]);
                match (t.as_slice_mut(), k.as_slice()) {
                    (Some(t), Some(k)) => {
                        for (t, &k) in t.iter_mut().zip(k) {
                            *t += factor * k;
                        }
                    }
                    _ => Zip::from(&mut t).and(&k).for_each(|t, &k| *t += factor * k),
                }
            }
            if (b.y0..b.y1).contains(&ty) {
                self.max[ty - b.y0] = row_peak(&target.view(), mask.as_ref(), ty, b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    type Peak = Option<(f32, usize, usize)>;

    /// The reference: row-major scan keeping the first strictly larger |v|.
    fn scan(img: ArrayView2<f32>, mask: Option<ArrayView2<bool>>, b: PixelBox) -> Peak {
        let mut best_abs = -1.0f32;
        let mut best = None;
        for y in b.y0..b.y1 {
            for x in b.x0..b.x1 {
                let v = img[[y, x]];
                if mask.as_ref().is_none_or(|m| m[[y, x]]) && v.abs() > best_abs {
                    best_abs = v.abs();
                    best = Some((v, y, x));
                }
            }
        }
        best
    }

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    }

    #[test]
    fn searches_match_the_row_major_scan() {
        let mut seed = 7u64;
        let (ny, nx) = (37, 53);
        let mut img = Array2::from_shape_fn((ny, nx), |_| (lcg(&mut seed) * 8.0).round() / 8.0);
        img[[3, 4]] = f32::NAN;
        img[[30, 50]] = -0.5; // ties with +0.5 elsewhere: the first in row-major order wins
        let mask = Array2::from_shape_fn((ny, nx), |(y, x)| (x * 7 + y * 3) % 5 != 0);
        let boxes = [
            PixelBox::full(ny, nx),
            PixelBox {
                y0: 5,
                y1: 31,
                x0: 17,
                x1: 52,
            },
        ];
        for b in boxes {
            for m in [None, Some(mask.view())] {
                assert_eq!(peak_in_box(img.view(), m, b), scan(img.view(), m, b));
            }
        }
        let nan = Array2::from_elem((4, 20), f32::NAN);
        assert_eq!(peak_in_box(nan.view(), None, PixelBox::full(4, 20)), None);
        let zero = Array2::<f32>::zeros((4, 20));
        assert_eq!(
            peak_in_box(
                zero.view(),
                Some(mask.slice(s![..4, ..20])),
                PixelBox::full(4, 20)
            ),
            scan(
                zero.view(),
                Some(mask.slice(s![..4, ..20])),
                PixelBox::full(4, 20)
            )
        );
    }

    #[test]
    fn tracked_peaks_follow_subtractions() {
        let mut seed = 11u64;
        let (ny, nx) = (40, 45);
        let mut img = Array2::from_shape_fn((ny, nx), |_| lcg(&mut seed));
        let mut reference = img.clone();
        let psf = Array2::from_shape_fn((ny, nx), |_| lcg(&mut seed));
        let mask = Array2::from_shape_fn((ny, nx), |(y, x)| (x + 2 * y) % 7 != 0);
        let b = PixelBox {
            y0: 3,
            y1: 35,
            x0: 2,
            x1: 44,
        };
        let mut peaks = RowPeaks::new(img.view(), Some(mask.view()), b);
        for _ in 0..50 {
            let p = peaks.peak(img.view(), Some(mask.view()));
            assert_eq!(p, scan(img.view(), Some(mask.view()), b));
            let (v, y, x) = p.unwrap();
            let mut view = img.view_mut();
            peaks.add_shifted(
                &mut view,
                Some(mask.view()),
                psf.view(),
                (20, 22),
                (y, x),
                -0.3 * v,
            );
            let mut rview = reference.view_mut();
            crate::planeops::add_shifted(&mut rview, psf.view(), (20, 22), (y, x), -0.3 * v);
            assert_eq!(img, reference, "same arithmetic as add_shifted");
        }
    }
}

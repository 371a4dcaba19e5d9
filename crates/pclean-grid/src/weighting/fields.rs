//! tclean's `mosweight`: a weighting density (and Briggs' `f^2`) per field of a mosaic
//! (`VisImagingWeight` with one density grid per field), applied to each row by its FIELD_ID.

use super::{ImagingWeighter, Inner};
use ndarray::{ArrayView2, ArrayViewMut2, Axis};

impl ImagingWeighter {
    /// One weighter per FIELD_ID, each made from that field's own density; rows of a field
    /// without one get weight 0 (they were not in any density, as none of its samples was).
    pub fn per_field(fields: Vec<(i32, ImagingWeighter)>) -> Self {
        ImagingWeighter {
            inner: Inner::PerField(fields),
        }
    }

    /// As [`ImagingWeighter::apply`], with each row's FIELD_ID (`field_r`, `(nrow,)`) for a
    /// per-field weighter; the others ignore it.
    ///
    /// # Panics
    /// If the shapes disagree.
    pub fn apply_rows(
        &self,
        uvw_m: ArrayView2<f64>,
        freq_hz: &[f64],
        field_r: &[i32],
        mut weight_rc: ArrayViewMut2<f32>,
    ) {
        let Inner::PerField(fields) = &self.inner else {
            return self.apply(uvw_m, freq_hz, weight_rc);
        };
        assert_eq!(
            field_r.len(),
            weight_rc.nrows(),
            "ImagingWeighter::apply_rows: field_r"
        );
        let mut done = vec![false; field_r.len()];
        for (f, w) in fields {
            let rows: Vec<usize> = (0..field_r.len()).filter(|r| field_r[*r] == *f).collect();
            if rows.is_empty() {
                continue;
            }
            let uvw = uvw_m.select(Axis(0), &rows);
            let mut wgt = weight_rc.select(Axis(0), &rows);
            w.apply(uvw.view(), freq_hz, wgt.view_mut());
            for (i, r) in rows.iter().enumerate() {
                weight_rc.row_mut(*r).assign(&wgt.row(i));
                done[*r] = true;
            }
        }
        for (r, d) in done.iter().enumerate() {
            if !d {
                weight_rc.row_mut(r).fill(0.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CellRounding, DensityGrid, WeightingScheme};
    use super::*;
    use ndarray::{array, Array2};

    /// Each field's rows are weighted by that field's density alone: two fields with the same uv
    /// cell, one with 3 samples there and one with 1, get uniform weights 1/3 and 1.
    #[test]
    fn each_field_has_its_own_density() {
        let uvw = array![
            [10.0, 5.0, 0.0],
            [10.0, 5.0, 0.0],
            [10.0, 5.0, 0.0],
            [10.0, 5.0, 0.0]
        ];
        let freq = [1e9];
        let field = [0, 0, 0, 1];
        let mk = |rows: &[usize]| {
            let mut d = DensityGrid::new(64, 64, 1e-4, 1e-4, CellRounding::Nearest, 0);
            let u = uvw.select(Axis(0), rows);
            d.add(u.view(), &freq, Array2::ones((rows.len(), 1)).view());
            d.finish(&WeightingScheme::Uniform)
        };
        let w = ImagingWeighter::per_field(vec![(0, mk(&[0, 1, 2])), (1, mk(&[3]))]);
        let mut wgt = Array2::<f32>::ones((4, 1));
        w.apply_rows(uvw.view(), &freq, &field, wgt.view_mut());
        let ratio = wgt[[0, 0]] / wgt[[3, 0]];
        assert!((ratio - 1.0 / 3.0).abs() < 1e-6, "{wgt}");
        // A field without a weighter: weight 0.
        let mut wgt = Array2::<f32>::ones((4, 1));
        w.apply_rows(uvw.view(), &freq, &[0, 0, 0, 5], wgt.view_mut());
        assert_eq!(wgt[[3, 0]], 0.0);
    }
}

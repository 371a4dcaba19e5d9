//! The pointings of the awproject gridder ([`super::gridder::AwGridder`]): where each grid set's
//! beams are centred, per field ([`AwPointing`]) or, with `usepointing=True`, per baseline and
//! integration ([`BaselinePointings`]).

use crate::gridder::GridError;

/// A pointing of an A-projection mosaic: the rows of FIELD_ID `field_id` (-1: every row, one
/// pointing) through beams centred at image pixel `centre_px` `(x, y)`. tclean moves each field's
/// convolution functions to the field's direction by a phase gradient; its kernel-sum flux scale
/// is that of the image's field of view, whatever the offset (measured: a field 9' from the
/// image centre, residual at the field's sources within 0.1% of the centred field's).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AwPointing {
    pub field_id: i32,
    pub centre_px: [f64; 2],
}

/// With `usepointing=True`, the pointing of every `(TIME, ANTENNA1, ANTENNA2)`: tclean moves each
/// baseline's convolution functions by the mean of its two antenna groups' pointing offsets
/// (CASA's `PhaseGrad`, `(g1 + g2) / 2`); which rows share a pointing is the caller's (pclean's
/// engine: one group, every row of an integration alike, as tclean 6.7 with
/// `pointingoffsetsigdev=[]`, measured: docs/decisions.md (s15-awp)).
#[derive(Clone, Debug, PartialEq)]
pub struct BaselinePointings {
    /// `(TIME, ANTENNA1, ANTENNA2, pointing)`, ascending in time.
    rows: Vec<(f64, i32, i32, usize)>,
}

impl BaselinePointings {
    /// The table of `(TIME (MJD seconds), ANTENNA1, ANTENNA2, pointing index)` entries.
    pub fn new(mut rows: Vec<(f64, i32, i32, usize)>) -> Self {
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        BaselinePointings { rows }
    }

    /// The largest pointing index (`None`: empty).
    pub fn max_pointing(&self) -> Option<usize> {
        self.rows.iter().map(|r| r.3).max()
    }

    /// The pointing of the row at TIME `t` (within 1 ms) of antennas `(a1, a2)`.
    pub fn pointing(&self, t: f64, a1: i32, a2: i32) -> Result<usize, GridError> {
        let i = self.rows.partition_point(|r| r.0 < t - 1e-3);
        self.rows[i..]
            .iter()
            .take_while(|r| (r.0 - t).abs() <= 1e-3)
            .find(|r| r.1 == a1 && r.2 == a2)
            .map(|r| r.3)
            .ok_or(GridError::Shape {
                what: "antennas_r (a baseline and time without a pointing)",
                expected: vec![],
                got: vec![a1.max(0) as usize, a2.max(0) as usize],
            })
    }
}

/// The pointing of the rows of FIELD_ID `field` (-1: unknown) among `pointings`.
pub(crate) fn field_pointing(pointings: &[AwPointing], field: i32) -> Result<usize, GridError> {
    pointings
        .iter()
        .position(|p| {
            p.field_id == field || p.field_id == -1 || (field == -1 && pointings.len() == 1)
        })
        .ok_or(GridError::Shape {
            what: "field_r (a row of a field that is not a pointing of the awproject mosaic)",
            expected: vec![],
            got: vec![field.max(0) as usize],
        })
}

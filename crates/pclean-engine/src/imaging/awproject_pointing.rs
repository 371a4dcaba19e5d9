//! `usepointing=True` for the awproject gridder: where tclean 6.7 centres each baseline's beams.
//!
//! CASA's `PhaseGrad` moves a baseline's convolution functions by `(g1 + g2) / 2`, `g1`, `g2` the
//! pointing offsets of the antenna *groups* of ANTENNA1 and ANTENNA2 (antennas grouped by
//! `pointingoffsetsigdev`). With the default `pointingoffsetsigdev=[]` tclean 6.7 puts every
//! antenna in one group: measured on the bundled mosaic with the even antennas' POINTING moved 3'
//! north (docs/decisions.md (s15-awp)), tclean's `.weight` is the unmoved one shifted by 7.78 px,
//! the mean of the 27 antennas' offsets (14/27 x 15 px), to 2e-4 of its peak, and not the sum of
//! the per-baseline shifts (0, 7.5, 15 px: 4.5e-3 off, its peak 0.4% lower). So every row of an
//! integration is centred on the mean of the POINTING directions, at that time, of the antennas
//! of the integration's selected rows.
//!
//! pclean's A-stacking grids each pointing's rows apart, so integrations whose centres agree within
//! [`MERGE_LAMBDA_OVER_D`] `lambda / D` share a grid set (the mosaic gridder's spread bound,
//! [`super::mosaic_pointing::MAX_SPREAD_LAMBDA_OVER_D`]: a beam moved by that much changes a pixel
//! by at most about 1.2% of the peak at the steepest point); more distinct centres than
//! [`MAX_POINTINGS`] are refused, naming the parameter (a grid set per pointing and bin).
//!
//! `pointingoffsetsigdev=[a, ..]` (a in arcsec): tclean groups the antennas ([`antenna_groups`],
//! bins of [`group_threshold_px`]) and centres group `g` on the mean pixel of the group of the
//! `g`-th antenna in antenna order (its group-centre table indexed by the group's number;
//! measured against tclean 6.7 with three and two groups: docs/decisions.md (s17-awgrp)); each
//! baseline on the mean of its two antennas' group centres. The groups are found at every
//! integration (tclean: at its first, then kept; the same when the offsets do not change).

use crate::error::EngineError;
use pclean_core::direction::SkyContext;
use pclean_core::params::ImagingParams;
use pclean_core::Direction;
use pclean_grid::awproj::geometry::DISH_RADIUS_M;
use pclean_grid::awproj::gridder::{AwPointing, BaselinePointings};
use pclean_ms::{MeasurementSet, SelectedData};
use std::collections::HashMap;

/// Centres closer than this (in `lambda / D` at the image frequency) share a pointing.
pub const MERGE_LAMBDA_OVER_D: f64 = super::mosaic_pointing::MAX_SPREAD_LAMBDA_OVER_D;

/// The most distinct baseline pointings accepted (each a grid set per parallactic-angle bin).
pub const MAX_POINTINGS: usize = 64;

/// Each antenna's beam centre (pixels of the image about `centre`) at each selected integration
/// of one MS, keyed by `(TIME bits, antenna)`, and the MS's selected `(TIME, ANTENNA1, ANTENNA2)`.
pub type MsCentres = (HashMap<(u64, i32), [f64; 2]>, Vec<(f64, i32, i32)>);

/// Each antenna's beam centre at each selected integration of `ms` with `usepointing=True`
/// (module docs: the mean pixel of its group, one group by default) and the MS's selected
/// baselines.
pub fn ms_centres(
    params: &ImagingParams,
    ms: &MeasurementSet,
    selected: &SelectedData,
    centre: &Direction,
    sky: &SkyContext,
) -> Result<MsCentres, EngineError> {
    let bp = pclean_ms::baseline_pointings(ms, selected)?;
    let mut pixel: HashMap<(u64, i32), [f64; 2]> = HashMap::with_capacity(bp.directions.len());
    for (&(tbits, antenna), d) in &bp.directions {
        let d = d.to_frame(centre.frame, sky).map_err(|e| {
            EngineError::param(
                "usepointing",
                format!(
                    "the POINTING direction of antenna {antenna} cannot be converted to the \
                     image frame: {e}"
                ),
            )
        })?;
        let [l, m, _] = centre.lmn_of(&d);
        pixel.insert(
            (tbits, antenna),
            [
                (params.nx / 2) as f64 - l / params.cell_x_rad,
                (params.ny / 2) as f64 + m / params.cell_y_rad,
            ],
        );
    }
    // Each antenna's beam centre at each integration: the mean pixel of its group.
    let mut by_time: HashMap<u64, Vec<(i32, [f64; 2])>> = HashMap::new();
    for (&(tbits, antenna), px) in &pixel {
        by_time.entry(tbits).or_default().push((antenna, *px));
    }
    let threshold_px = params
        .mosaic
        .pointingoffsetsigdev_arcsec
        .first()
        .map(|a| group_threshold_px(*a, params.cell_x_rad, params.cell_y_rad));
    let mut centre_of: HashMap<(u64, i32), [f64; 2]> = HashMap::with_capacity(pixel.len());
    let mut ngroups = 0;
    for (tbits, mut ants) in by_time {
        ants.sort_by_key(|(a, _)| *a);
        let groups = antenna_groups(&ants, threshold_px);
        ngroups = ngroups.max(groups.iter().max().map_or(0, |g| g + 1));
        let mut sum = vec![([0.0f64; 2], 0usize); groups.iter().max().map_or(0, |g| g + 1)];
        for ((_, px), g) in ants.iter().zip(&groups) {
            sum[*g].0[0] += px[0];
            sum[*g].0[1] += px[1];
            sum[*g].1 += 1;
        }
        // tclean 6.7 looks a group's centre up by the group's number among the antennas
        // (`PhaseGrad::ComputeFieldPointingGrad` indexes its per-antenna table of group centres
        // with the group number): group `g` is centred on the group of the `g`-th antenna of the
        // integration in antenna order (measured: docs/decisions.md (s17-awgrp)). One group: its
        // own centre.
        for ((a, _), g) in ants.iter().zip(&groups) {
            let (c, n) = sum[groups[*g]];
            centre_of.insert((tbits, *a), [c[0] / n as f64, c[1] / n as f64]);
        }
    }
    if let Some(t) = threshold_px {
        tracing::info!(
            "awproject: usepointing=True, pointingoffsetsigdev {:?} arcsec: antennas grouped by \
             their POINTING offsets in bins of {t:.3} px (tclean's), up to {ngroups} group(s) at \
             an integration; each baseline's beams on the mean of its two antennas' groups' \
             centres, tclean's (pclean follows every integration's offsets: tclean's second threshold, \
             when to regroup over time, does not apply)",
            params.mosaic.pointingoffsetsigdev_arcsec
        );
    }
    Ok((centre_of, bp.baselines))
}

/// The baseline pointings of several MSs' rows with `usepointing=True`: `per_ms[k]` the centres
/// of MS `k` ([`ms_centres`]), `antenna_offsets[k]` what its antennas are offset by in the table
/// (the engine re-keys its rows alike, [`crate::source::RowKeys`]). Returns the distinct
/// pointings (centres within [`MERGE_LAMBDA_OVER_D`] `lambda / D` at `freq_hz` shared) and the
/// table of each `(TIME, ANTENNA1 + offset, ANTENNA2 + offset)`'s pointing.
///
/// tclean 6.7 with `vis=[a, b]` centres every MS's rows by the first MS's POINTING directions
/// (measured, docs/decisions.md (s18-awpt): `b`'s own POINTING moves its beams nowhere, whether
/// `b` shares `a`'s TIMEs or not): a row of a later MS takes the centres of the first MS's
/// integration nearest in TIME, by antenna number (one group, the default: that integration's
/// array mean).
pub fn baseline_pointings(
    params: &ImagingParams,
    per_ms: &[MsCentres],
    antenna_offsets: &[i32],
    freq_hz: f64,
) -> Result<(Vec<AwPointing>, BaselinePointings), EngineError> {
    let Some((first, _)) = per_ms.first() else {
        return Err(EngineError::internal("usepointing: no MeasurementSet"));
    };
    // The first MS's integrations, ascending: the TIME a later MS's row is looked up at.
    let mut first_times: Vec<u64> = first.keys().map(|(t, _)| *t).collect();
    first_times.sort_by(|a, b| f64::from_bits(*a).total_cmp(&f64::from_bits(*b)));
    first_times.dedup();
    let nearest = |t: f64| -> Option<u64> {
        let i = first_times.partition_point(|b| f64::from_bits(*b) < t);
        [i.checked_sub(1), (i < first_times.len()).then_some(i)]
            .into_iter()
            .flatten()
            .min_by(|a, b| {
                (f64::from_bits(first_times[*a]) - t)
                    .abs()
                    .total_cmp(&(f64::from_bits(first_times[*b]) - t).abs())
            })
            .map(|k| first_times[k])
    };
    let lambda_over_d = pclean_core::SPEED_OF_LIGHT / freq_hz / (2.0 * DISH_RADIUS_M);
    let tol_px = MERGE_LAMBDA_OVER_D * lambda_over_d / params.cell_x_rad.abs();
    let mut pointings: Vec<AwPointing> = Vec::new();
    let mut rows = Vec::new();
    for (k, ((own, baselines), offset)) in per_ms.iter().zip(antenna_offsets).enumerate() {
        for &(t, a1, a2) in baselines {
            let centre = |a: i32| {
                let found = if k == 0 {
                    own.get(&(t.to_bits(), a))
                } else {
                    nearest(t).and_then(|tb| first.get(&(tb, a)))
                };
                found.copied().ok_or_else(|| {
                    if k == 0 {
                        EngineError::internal(format!(
                            "usepointing: antenna {a} has no POINTING direction at TIME {t}"
                        ))
                    } else {
                        EngineError::param(
                            "usepointing",
                            format!(
                                "usepointing=True with gridder='awproject' and several \
                                 MeasurementSets centres every MS's rows by the first MS's \
                                 POINTING directions (as tclean 6.7), but antenna {a} of MS {k} \
                                 has none in the first MS; image the MSs apart or \
                                 usepointing=False"
                            ),
                        )
                    }
                })
            };
            let (c1, c2) = (centre(a1)?, centre(a2)?);
            let c = [0.5 * (c1[0] + c2[0]), 0.5 * (c1[1] + c2[1])];
            let near =
                |p: &AwPointing| (p.centre_px[0] - c[0]).hypot(p.centre_px[1] - c[1]) <= tol_px;
            let i = match pointings.iter().position(near) {
                Some(i) => i,
                None => {
                    if pointings.len() == MAX_POINTINGS {
                        return Err(EngineError::param(
                            "usepointing",
                            format!(
                                "usepointing=True with gridder='awproject': the integrations' \
                                 beam centres (the mean of their antennas' POINTING \
                                 directions) take more than {MAX_POINTINGS} distinct positions \
                                 {MERGE_LAMBDA_OVER_D} lambda/D apart; pclean grids each apart; \
                                 use usepointing=False or select fewer integrations"
                            ),
                        ));
                    }
                    pointings.push(AwPointing {
                        field_id: -1,
                        centre_px: c,
                    });
                    pointings.len() - 1
                }
            };
            rows.push((t, a1 + offset, a2 + offset, i));
        }
    }
    Ok((pointings, BaselinePointings::new(rows)))
}

/// tclean's grouping bin (pixels) for `pointingoffsetsigdev`'s first value `arcsec`: the
/// threshold over the length of the image cell's diagonal (CASA's `VB2CFBMap`: the offset in
/// radians over `sqrt(dx^2 + dy^2)` of the image increments).
pub fn group_threshold_px(arcsec: f64, cell_x_rad: f64, cell_y_rad: f64) -> f64 {
    (arcsec / 3600.0).to_radians() / cell_x_rad.hypot(cell_y_rad)
}

/// The group of each antenna `(id, pixel)` of one integration, numbered from 0 in tclean's order
/// (its cells by `x` bin, then `y` bin; CASA's `BaselineType::findAntennaGroups`, its log's
/// "Antenna in bin N" order): each pixel offset from the smallest
/// `x` and the smallest `y` of the integration's antennas, divided by `threshold_px` and floored
/// per axis, the antennas of a cell one group. `None` (tclean's `pointingoffsetsigdev=[]`): every
/// antenna in one group (measured, docs/decisions.md (s15-awp)).
pub fn antenna_groups(ants: &[(i32, [f64; 2])], threshold_px: Option<f64>) -> Vec<usize> {
    let Some(t) = threshold_px else {
        return vec![0; ants.len()];
    };
    let min = |k: usize| ants.iter().map(|(_, p)| p[k]).fold(f64::INFINITY, f64::min);
    let (x0, y0) = (min(0), min(1));
    let cell_of = |p: &[f64; 2]| {
        (
            ((p[0] - x0) / t).floor() as i64,
            ((p[1] - y0) / t).floor() as i64,
        )
    };
    let mut cells: Vec<(i64, i64)> = ants.iter().map(|(_, p)| cell_of(p)).collect();
    cells.sort_unstable();
    cells.dedup();
    ants.iter()
        .map(|(_, p)| cells.binary_search(&cell_of(p)).unwrap_or(0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Several MSs: a later MS's rows take the centres of the first MS's integration nearest in
    /// TIME (tclean 6.7's, measured), keyed by their antennas plus the MS's offset; an antenna
    /// the first MS lacks is refused, naming `usepointing`.
    #[test]
    fn later_ms_rows_take_the_first_ms_centres() {
        let raw = pclean_core::params::RawParams {
            vis: Some(vec!["a.ms".into(), "b.ms".into()]),
            imagename: Some("o".into()),
            imsize: Some(vec![256, 256]),
            cell: Some(vec!["12arcsec".into()]),
            ..Default::default()
        };
        let params = ImagingParams::from_raw(&raw).unwrap();
        let (t0, t1) = (100.0f64, 400.0f64);
        let mut first = HashMap::new();
        for a in 0..3 {
            first.insert((t0.to_bits(), a), [128.0, 135.0]);
            first.insert((t1.to_bits(), a), [120.0, 128.0]);
        }
        let mut second = HashMap::new();
        for a in 0..3 {
            // Its own POINTING: moved 40 px; not used.
            second.insert((1000.0f64.to_bits(), a), [168.0, 128.0]);
        }
        let per_ms = vec![
            (first, vec![(t0, 0, 1), (t1, 1, 2)]),
            // 1000 s is nearest the first MS's 400 s; 150 s its 100 s.
            (second, vec![(1000.0, 0, 1), (150.0, 0, 2)]),
        ];
        let (p, table) = baseline_pointings(&params, &per_ms, &[0, 3], 1.5e9).unwrap();
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[0].centre_px, [128.0, 135.0]);
        assert_eq!(p[1].centre_px, [120.0, 128.0]);
        assert_eq!(table.pointing(t0, 0, 1).unwrap(), 0);
        assert_eq!(table.pointing(t1, 1, 2).unwrap(), 1);
        assert_eq!(table.pointing(1000.0, 3, 4).unwrap(), 1);
        assert_eq!(table.pointing(150.0, 3, 5).unwrap(), 0);
        // The second MS's rows are keyed by the offset antennas only.
        assert!(table.pointing(1000.0, 0, 1).is_err());
        let mut lacking = per_ms.clone();
        lacking[1].1.push((1000.0, 0, 7));
        let err = baseline_pointings(&params, &lacking, &[0, 3], 1.5e9).unwrap_err();
        assert!(err.to_string().contains("usepointing"), "{err}");
    }

    /// tclean 6.7's groups on the test MS with pointingoffsetsigdev=[60, 60] (its log, "Antenna
    /// in bin N is : ..."): antennas 1 mod 4 moved 10 px east, the even ones 15 px north, the
    /// rest unmoved, 12" cells: three groups (1 mod 4; 3 mod 4; even). 600" (50 px): one.
    #[test]
    fn antenna_groups_as_tclean() {
        let cell = (12.0f64 / 3600.0).to_radians();
        let ants: Vec<(i32, [f64; 2])> = (0..27)
            .map(|a| {
                let mut p = [160.0, 160.0];
                if a % 4 == 1 {
                    p[0] -= 10.0;
                }
                if a % 2 == 0 {
                    p[1] += 15.0;
                }
                (a, p)
            })
            .collect();
        let t = group_threshold_px(60.0, -cell, cell);
        assert!((t - 60.0 / (12.0 * 2f64.sqrt())).abs() < 1e-9, "{t}");
        let g = antenna_groups(&ants, Some(t));
        for (a, ga) in g.iter().enumerate() {
            for (b, gb) in g.iter().enumerate() {
                let same = a % 2 == b % 2 && (a % 2 == 0 || a % 4 == b % 4);
                assert_eq!(ga == gb, same, "antennas {a} {b}");
            }
        }
        // Numbered as tclean's log: bin 1 the 1 mod 4 antennas, 2 the 3 mod 4, 3 the even.
        assert_eq!((g[1], g[3], g[0]), (0, 1, 2));
        let one = antenna_groups(&ants, Some(group_threshold_px(600.0, -cell, cell)));
        assert!(one.iter().all(|g| *g == 0));
        assert!(antenna_groups(&ants, None).iter().all(|g| *g == 0));
    }
}

//! The POINTING subtable as tclean's mosaic gridder reads it with `usepointing=True`: where each
//! field's primary beam is centred.
//!
//! Measured (tclean 6.7, `gridder='mosaic'`, the bundled ALMA mosaic subset with its POINTING
//! DIRECTION edited; docs/decisions.md (s11-mos)): with every antenna offset by (4", 6") from the
//! FIELD's PHASE_DIR, tclean's `.pb` and `.weight` move by exactly that offset; with only the even
//! antennas offset by 8", they move by 8" (the direction of the first row's ANTENNA1, antenna 0,
//! of each visibility buffer: casacore's `VisBuffer::direction1()(0)`); with POINTING equal to
//! the FIELD table, products are identical to `usepointing=False`.

use crate::error::MsError;
use crate::fields::{bad, column_frames};
use crate::{MeasurementSet, SelectedData};
use pclean_casacore::columns::{CellSlice, ReadTable};
use pclean_core::Direction;
use std::collections::{BTreeMap, HashMap};

/// Slack (seconds) on a POINTING row's `TIME +- INTERVAL/2` when looking up a visibility's time.
const TIME_SLACK_S: f64 = 1e-3;

/// The beam direction of one field at one integration of one data description: the POINTING
/// direction of the first selected row's `ANTENNA1` at that `TIME`.
#[derive(Debug, Clone, PartialEq)]
pub struct PointingSample {
    pub time_mjd_s: f64,
    pub antenna: i32,
    pub direction: Direction,
    /// Selected rows of the field at this time and data description (a weight for averaging).
    pub n_rows: usize,
}

/// The pointing samples of one selected field, in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPointing {
    pub field_id: usize,
    pub samples: Vec<PointingSample>,
}

/// One antenna's POINTING rows: `(TIME, INTERVAL / 2, row)`, by time.
type AntennaRows = Vec<(f64, f64, usize)>;

/// The pointing samples of every selected field of `ms` (`usepointing=True`): for each distinct
/// (field, data description, TIME) of the selected rows, the POINTING direction of the first such
/// row's `ANTENNA1` at that time (the POINTING row of that antenna whose `TIME +- INTERVAL/2`
/// holds it). Errors name the MS: no POINTING rows, an antenna and time with no POINTING row,
/// directions given as polynomials in time, or directions in a frame that turns with the Earth.
pub fn field_pointings(
    ms: &MeasurementSet,
    selected: &SelectedData,
) -> Result<Vec<FieldPointing>, MsError> {
    let path = ms.path();
    let main = &ms.main;
    let time = main.scalar_column::<f64>("TIME")?;
    let ant1 = main.scalar_column::<i32>("ANTENNA1")?;
    let field = main.scalar_column::<i32>("FIELD_ID")?;
    // (field, ddid, TIME bits) -> (antenna of the first row, rows).
    let mut first: BTreeMap<(usize, usize, u64), (i32, usize)> = BTreeMap::new();
    for g in &selected.groups {
        for &r in &g.rows {
            let r = r as usize;
            let key = (field[r].max(0) as usize, g.ddid, time[r].to_bits());
            first.entry(key).or_insert((ant1[r], 0)).1 += 1;
        }
    }
    let table = PointingTable::load(path)?;
    let mut out: Vec<FieldPointing> = Vec::new();
    for ((f, _, tbits), (antenna, n_rows)) in first {
        let t = f64::from_bits(tbits);
        let direction = table.direction(antenna, t).ok_or_else(|| {
            bad(
                path,
                "POINTING",
                format!(
                    "usepointing=True: no POINTING row of antenna {antenna} holds time {t:.3} \
                     (MJD seconds) of field {f}; use usepointing=False (beams on the FIELD's \
                     PHASE_DIR)"
                ),
            )
        })?;
        let sample = PointingSample {
            time_mjd_s: t,
            antenna,
            direction,
            n_rows,
        };
        match out.iter_mut().find(|p| p.field_id == f) {
            Some(p) => p.samples.push(sample),
            None => out.push(FieldPointing {
                field_id: f,
                samples: vec![sample],
            }),
        }
    }
    for p in &mut out {
        p.samples
            .sort_by(|a, b| a.time_mjd_s.total_cmp(&b.time_mjd_s));
    }
    Ok(out)
}

/// The POINTING directions of the antennas of every selected row (`usepointing=True` with
/// `awproject`, where tclean moves each baseline's beam by both its antennas' pointings).
#[derive(Debug, Clone, PartialEq)]
pub struct BaselinePointings {
    /// The distinct `(TIME, ANTENNA1, ANTENNA2)` of the selected rows, in time order.
    pub baselines: Vec<(f64, i32, i32)>,
    /// The POINTING direction of each antenna at each of those times, keyed by `(TIME bits,
    /// antenna)`.
    pub directions: HashMap<(u64, i32), Direction>,
}

/// The POINTING directions of both antennas of every selected row of `ms` at the row's TIME (the
/// POINTING row of that antenna whose `TIME +- INTERVAL/2` holds it). Errors as
/// [`field_pointings`]'.
pub fn baseline_pointings(
    ms: &MeasurementSet,
    selected: &SelectedData,
) -> Result<BaselinePointings, MsError> {
    let path = ms.path();
    let main = &ms.main;
    let time = main.scalar_column::<f64>("TIME")?;
    let ant1 = main.scalar_column::<i32>("ANTENNA1")?;
    let ant2 = main.scalar_column::<i32>("ANTENNA2")?;
    let mut keys: BTreeMap<(u64, i32, i32), f64> = BTreeMap::new();
    for g in &selected.groups {
        for &r in &g.rows {
            let r = r as usize;
            keys.insert((time[r].to_bits(), ant1[r], ant2[r]), time[r]);
        }
    }
    let table = PointingTable::load(path)?;
    let mut directions = HashMap::new();
    for (&(tbits, a1, a2), &t) in &keys {
        for antenna in [a1, a2] {
            if directions.contains_key(&(tbits, antenna)) {
                continue;
            }
            let d = table.direction(antenna, t).ok_or_else(|| {
                bad(
                    path,
                    "POINTING",
                    format!(
                        "usepointing=True: no POINTING row of antenna {antenna} holds time \
                         {t:.3} (MJD seconds); use usepointing=False (beams on the FIELD's \
                         PHASE_DIR)"
                    ),
                )
            })?;
            directions.insert((tbits, antenna), d);
        }
    }
    let mut baselines: Vec<(f64, i32, i32)> = keys
        .into_iter()
        .map(|((_, a1, a2), t)| (t, a1, a2))
        .collect();
    baselines.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    Ok(BaselinePointings {
        baselines,
        directions,
    })
}

/// The POINTING rows needed to look up directions.
struct PointingTable {
    dirs: Vec<Direction>,
    by_antenna: HashMap<i32, AntennaRows>,
}

impl PointingTable {
    fn load(ms: &std::path::Path) -> Result<Self, MsError> {
        let sub = ms.join("POINTING");
        let empty = || {
            bad(
                ms,
                "POINTING",
                "usepointing=True needs the POINTING table's directions, and it has no rows; \
                 use usepointing=False (beams on the FIELD's PHASE_DIR)",
            )
        };
        if !sub.join("table.dat").is_file() {
            return Err(empty());
        }
        let t = ReadTable::open(&sub)?;
        let n = t.n_rows() as usize;
        if n == 0 {
            return Err(empty());
        }
        let antenna = t.scalar_column::<i32>("ANTENNA_ID")?;
        let time = t.scalar_column::<f64>("TIME")?;
        let interval = t.scalar_column::<f64>("INTERVAL")?;
        if t.has_column("NUM_POLY") {
            let num_poly = t.scalar_column::<i32>("NUM_POLY")?;
            if let Some(r) = num_poly.iter().position(|&k| k > 0) {
                let (_, cell) = t.read_cell::<f64>("DIRECTION", r as u64)?;
                if cell.iter().skip(2).any(|c| *c != 0.0) {
                    return Err(bad(
                        ms,
                        "POINTING::DIRECTION",
                        format!(
                            "row {r} is a polynomial in time (NUM_POLY {}), which pclean does not \
                             evaluate; use usepointing=False",
                            num_poly[r]
                        ),
                    ));
                }
            }
        }
        let frames = column_frames(ms, "POINTING", &t, "DIRECTION")?;
        if let Some(f) = frames.iter().find(|f| f.is_terrestrial()) {
            return Err(bad(
                ms,
                "POINTING::DIRECTION",
                format!(
                    "directions in frame {f} turn with the Earth; pclean reads celestial \
                     pointing directions only; use usepointing=False"
                ),
            ));
        }
        let mut lonlat = vec![0.0f64; 2 * n];
        let slice = CellSlice {
            blc: vec![0, 0],
            len: vec![2, 1],
        };
        t.read_array_range("DIRECTION", 0, n as u64, Some(&slice), &mut lonlat)?;
        let dirs = (0..n)
            .map(|i| Direction::new(frames[i], lonlat[2 * i], lonlat[2 * i + 1]))
            .collect();
        let mut by_antenna: HashMap<i32, AntennaRows> = HashMap::new();
        for i in 0..n {
            by_antenna
                .entry(antenna[i])
                .or_default()
                .push((time[i], 0.5 * interval[i].abs(), i));
        }
        for rows in by_antenna.values_mut() {
            rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        Ok(PointingTable { dirs, by_antenna })
    }

    /// The direction of `antenna` at `time_mjd_s`: the row nearest in time among those whose
    /// `TIME +- INTERVAL/2` (plus [`TIME_SLACK_S`]) holds it.
    fn direction(&self, antenna: i32, time_mjd_s: f64) -> Option<Direction> {
        let rows = self.by_antenna.get(&antenna)?;
        let k = rows.partition_point(|r| r.0 < time_mjd_s);
        [k.checked_sub(1), Some(k)]
            .into_iter()
            .flatten()
            .filter_map(|i| rows.get(i))
            .filter(|(t, half, _)| (time_mjd_s - t).abs() <= half + TIME_SLACK_S)
            .min_by(|a, b| {
                (time_mjd_s - a.0)
                    .abs()
                    .total_cmp(&(time_mjd_s - b.0).abs())
            })
            .map(|(_, _, row)| self.dirs[*row])
    }
}

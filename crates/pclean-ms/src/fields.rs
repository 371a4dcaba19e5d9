//! The FIELD subtable: phase, delay and reference directions in any casacore frame (fixed or
//! per-row variable references), polynomials in time, and ephemeris ids.

use crate::error::MsError;
use pclean_casacore::columns::ReadTable;
use pclean_core::{Direction, DirectionFrame};
use std::path::Path;

/// A FIELD direction column's value for one row: a polynomial in time (casacore
/// `MSFieldColumns::interpolateDirMeas`): `dir(t) = sum_k c_k (t - TIME)^k`, `t` and `TIME` in
/// MJD seconds, `c_k` in rad / s^k. `NUM_POLY = 0` is a constant direction.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDirection {
    pub frame: DirectionFrame,
    /// `(lon, lat)` coefficients, constant term first (length `NUM_POLY + 1`).
    pub coeffs: Vec<[f64; 2]>,
    /// The FIELD row's `TIME`: the origin of the polynomial, MJD seconds.
    pub epoch_mjd_s: f64,
}

impl FieldDirection {
    /// The constant term.
    pub fn reference(&self) -> Direction {
        Direction::new(self.frame, self.coeffs[0][0], self.coeffs[0][1])
    }

    /// Whether the direction changes with time (`NUM_POLY > 0` with non-zero higher terms).
    pub fn is_moving(&self) -> bool {
        self.coeffs[1..].iter().any(|c| c[0] != 0.0 || c[1] != 0.0)
    }

    /// The direction at `time_mjd_s` (MJD seconds, UTC).
    pub fn at(&self, time_mjd_s: f64) -> Direction {
        let dt = time_mjd_s - self.epoch_mjd_s;
        let (mut lon, mut lat) = (0.0, 0.0);
        for c in self.coeffs.iter().rev() {
            lon = lon * dt + c[0];
            lat = lat * dt + c[1];
        }
        Direction::new(self.frame, lon, lat)
    }
}

/// One row of the FIELD subtable.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub code: String,
    /// Phase centre: the constant term of PHASE_DIR, in its own frame ([`Self::phase`] has the
    /// whole polynomial).
    pub phase_dir: Direction,
    /// casacore's name of PHASE_DIR's frame for this row (e.g. `"J2000"`, `"B1950_VLA"`).
    pub phase_dir_frame: String,
    pub phase: FieldDirection,
    pub delay: FieldDirection,
    pub reference: FieldDirection,
    pub source_id: i32,
    /// `EPHEMERIS_ID` (-1 or absent: none); a field with one moves along its ephemeris table.
    pub ephemeris_id: i32,
}

/// A column's `MEASINFO` keyword (casacore `TableMeasDesc`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct MeasureInfo {
    /// `Ref`: the fixed reference frame, when the column has one.
    reference: Option<String>,
    /// `VarRefCol`: the column holding each row's reference code, for variable references.
    var_ref_column: Option<String>,
    /// `TabRefTypes` / `TabRefCodes`: the frame name of each code stored in `var_ref_column`.
    table_refs: Vec<(String, u32)>,
}

/// The whole `MEASINFO` of `column` of the table at `path`, through rubbl (a second read-only
/// handle on the table, in this thread).
fn measure_info(path: &Path, column: &str) -> Result<MeasureInfo, MsError> {
    use pclean_casacore::rubbl_casatables::{Table, TableOpenMode, TableRecord};
    let err = |why: String| bad(path, &format!("{column} MEASINFO"), why);
    let mut t = Table::open(path, TableOpenMode::Read).map_err(|e| err(e.to_string()))?;
    let mut kw = t
        .get_column_keyword_record(column)
        .map_err(|e| err(e.to_string()))?;
    let mut info = MeasureInfo::default();
    if !kw
        .keyword_names()
        .map_err(|e| err(e.to_string()))?
        .iter()
        .any(|n| n == "MEASINFO")
    {
        return Ok(info);
    }
    let mut mi = kw
        .get_field::<TableRecord>("MEASINFO")
        .map_err(|e| err(e.to_string()))?;
    let fields = mi.keyword_names().map_err(|e| err(e.to_string()))?;
    let has = |n: &str| fields.iter().any(|f| f == n);
    if has("Ref") {
        info.reference = Some(
            mi.get_field::<String>("Ref")
                .map_err(|e| err(e.to_string()))?,
        );
    }
    if has("VarRefCol") {
        info.var_ref_column = Some(
            mi.get_field::<String>("VarRefCol")
                .map_err(|e| err(e.to_string()))?,
        );
    }
    if has("TabRefTypes") && has("TabRefCodes") {
        let types = mi
            .get_field::<Vec<String>>("TabRefTypes")
            .map_err(|e| err(e.to_string()))?;
        let codes = mi
            .get_field::<Vec<u32>>("TabRefCodes")
            .map_err(|e| err(e.to_string()))?;
        info.table_refs = types.into_iter().zip(codes).collect();
    }
    Ok(info)
}

pub(crate) fn bad(ms: &Path, what: &str, why: impl Into<String>) -> MsError {
    MsError::BadMetadata {
        path: ms.to_path_buf(),
        what: what.to_string(),
        why: why.into(),
    }
}

/// The frame of every row of direction column `col` of subtable `table` (fixed `MEASINFO.Ref`, or a
/// variable reference column with its code table); J2000 when the column has no MEASINFO
/// (casacore's default).
pub(crate) fn column_frames(
    ms: &Path,
    table: &str,
    t: &ReadTable,
    col: &str,
) -> Result<Vec<DirectionFrame>, MsError> {
    let n = t.n_rows() as usize;
    let info = measure_info(t.path(), col)?;
    let by_name = |name: &str| {
        DirectionFrame::from_casa_name(name).ok_or_else(|| {
            bad(
                ms,
                &format!("{table}::{col}"),
                format!(
                    "frame '{name}' is not a frame pclean can convert (solar-system frames need \
                     ephemerides; supported: {})",
                    DirectionFrame::all()
                        .map(|f| f.casa_name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
    };
    if let Some(var) = &info.var_ref_column {
        if t.has_column(var) {
            let codes = t.scalar_column::<i32>(var)?;
            return codes
                .iter()
                .map(|&code| {
                    let from_table = info
                        .table_refs
                        .iter()
                        .find(|(_, c)| *c as i32 == code)
                        .map(|(name, _)| name.clone());
                    match from_table {
                        Some(name) => by_name(name.as_str()),
                        None => DirectionFrame::from_casa_code(code).ok_or_else(|| {
                            bad(
                                ms,
                                &format!("{table}::{var}"),
                                format!(
                                    "reference code {code} is not a direction frame pclean knows"
                                ),
                            )
                        }),
                    }
                })
                .collect();
        }
    }
    let frame = match &info.reference {
        Some(r) => by_name(r)?,
        None => DirectionFrame::J2000,
    };
    Ok(vec![frame; n])
}

fn read_directions(
    ms: &Path,
    t: &ReadTable,
    col: &str,
    times: &[f64],
) -> Result<Vec<FieldDirection>, MsError> {
    let frames = column_frames(ms, "FIELD", t, col)?;
    (0..t.n_rows() as usize)
        .map(|i| {
            // Cells have shape [2, NUM_POLY + 1]; casacore's first axis varies fastest.
            let (shape, v) = t.read_cell::<f64>(col, i as u64)?;
            if shape.first() != Some(&2) || v.len() < 2 || v.len() % 2 != 0 {
                return Err(bad(
                    ms,
                    &format!("FIELD::{col}"),
                    format!("row {i} has shape {shape:?}, expected [2, NUM_POLY + 1]"),
                ));
            }
            Ok(FieldDirection {
                frame: frames[i],
                coeffs: v.chunks(2).map(|c| [c[0], c[1]]).collect(),
                epoch_mjd_s: times[i],
            })
        })
        .collect()
}

/// Every row of the FIELD subtable.
pub(crate) fn load_fields(ms: &Path) -> Result<Vec<Field>, MsError> {
    let t = ReadTable::open(ms.join("FIELD"))?;
    let n = t.n_rows() as usize;
    let names = t.string_column("NAME")?;
    let codes = if t.has_column("CODE") {
        t.string_column("CODE")?
    } else {
        vec![String::new(); n]
    };
    let source = t.scalar_column::<i32>("SOURCE_ID")?;
    let times = if t.has_column("TIME") {
        t.scalar_column::<f64>("TIME")?
    } else {
        vec![0.0; n]
    };
    let ephem = if t.has_column("EPHEMERIS_ID") {
        t.scalar_column::<i32>("EPHEMERIS_ID")?
    } else {
        vec![-1; n]
    };
    let phase = read_directions(ms, &t, "PHASE_DIR", &times)?;
    let optional = |col: &str| -> Result<Vec<FieldDirection>, MsError> {
        if t.has_column(col) {
            read_directions(ms, &t, col, &times)
        } else {
            Ok(phase.clone())
        }
    };
    let delay = optional("DELAY_DIR")?;
    let reference = optional("REFERENCE_DIR")?;
    Ok((0..n)
        .map(|i| Field {
            name: names[i].clone(),
            code: codes[i].clone(),
            phase_dir: phase[i].reference(),
            phase_dir_frame: phase[i].frame.casa_name().to_string(),
            phase: phase[i].clone(),
            delay: delay[i].clone(),
            reference: reference[i].clone(),
            source_id: source[i],
            ephemeris_id: ephem[i],
        })
        .collect())
}

/// A SOURCE row's rest frequencies (`REST_FREQUENCY`) for one spectral window (-1: any).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRestFrequency {
    pub source_id: i32,
    pub spw_id: i32,
    pub rest_hz: Vec<f64>,
}

/// The rest frequencies of the SOURCE subtable (empty when it or the column is absent).
pub(crate) fn load_source_rest_frequencies(ms: &Path) -> Result<Vec<SourceRestFrequency>, MsError> {
    let path = ms.join("SOURCE");
    if !path.join("table.dat").exists() {
        return Ok(vec![]);
    }
    let t = ReadTable::open(path)?;
    if !t.has_column("REST_FREQUENCY") || !t.has_column("SOURCE_ID") {
        return Ok(vec![]);
    }
    let ids = t.scalar_column::<i32>("SOURCE_ID")?;
    let spws = if t.has_column("SPECTRAL_WINDOW_ID") {
        t.scalar_column::<i32>("SPECTRAL_WINDOW_ID")?
    } else {
        vec![-1; ids.len()]
    };
    let mut out = Vec::new();
    for (i, (&source_id, &spw_id)) in ids.iter().zip(&spws).enumerate() {
        // An empty cell (NUM_LINES = 0) has no shape: skip it.
        if t.cell_shape("REST_FREQUENCY", i as u64)?.is_none() {
            continue;
        }
        let (_, rest_hz) = t.read_cell::<f64>("REST_FREQUENCY", i as u64)?;
        out.push(SourceRestFrequency {
            source_id,
            spw_id,
            rest_hz,
        });
    }
    Ok(out)
}

/// The line a DOPPLER row selects: for spectral window `spw_id` (its SPECTRAL_WINDOW::DOPPLER_ID)
/// and source `source_id`, the index into that source's REST_FREQUENCY (`TRANSITION_ID`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DopplerTransition {
    pub spw_id: i32,
    pub source_id: i32,
    pub transition: usize,
}

/// The DOPPLER subtable's choice of line per (spectral window, source): empty when the MS has no
/// DOPPLER subtable or SPECTRAL_WINDOW no DOPPLER_ID column (both optional in the MS definition).
pub(crate) fn load_doppler_transitions(ms: &Path) -> Result<Vec<DopplerTransition>, MsError> {
    let dop = ms.join("DOPPLER");
    let spw = ms.join("SPECTRAL_WINDOW");
    if !dop.join("table.dat").exists() || !spw.join("table.dat").exists() {
        return Ok(vec![]);
    }
    let spw = ReadTable::open(spw)?;
    let dop = ReadTable::open(dop)?;
    let cols = ["DOPPLER_ID", "SOURCE_ID", "TRANSITION_ID"];
    if !spw.has_column("DOPPLER_ID") || !cols.iter().all(|c| dop.has_column(c)) {
        return Ok(vec![]);
    }
    let spw_dop = spw.scalar_column::<i32>("DOPPLER_ID")?;
    let ids = dop.scalar_column::<i32>("DOPPLER_ID")?;
    let sources = dop.scalar_column::<i32>("SOURCE_ID")?;
    let transitions = dop.scalar_column::<i32>("TRANSITION_ID")?;
    let mut out = Vec::new();
    for (spw_id, d) in spw_dop.iter().enumerate() {
        for i in (0..ids.len()).filter(|i| *d >= 0 && ids[*i] == *d) {
            if let Ok(transition) = usize::try_from(transitions[i]) {
                out.push(DopplerTransition {
                    spw_id: spw_id as i32,
                    source_id: sources[i],
                    transition,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomial_is_evaluated_relative_to_the_field_time() {
        let d = FieldDirection {
            frame: DirectionFrame::J2000,
            coeffs: vec![[1.0, 0.5], [1e-6, -2e-6], [1e-9, 0.0]],
            epoch_mjd_s: 1000.0,
        };
        assert!(d.is_moving());
        let at = d.at(1100.0);
        // Exact polynomial arithmetic to rounding (1e-15 rad).
        assert!((at.ra_rad - (1.0 + 1e-4 + 1e-5)).abs() < 1e-15);
        assert!((at.dec_rad - (0.5 - 2e-4)).abs() < 1e-15);
        assert_eq!(d.at(1000.0), d.reference());
    }
}

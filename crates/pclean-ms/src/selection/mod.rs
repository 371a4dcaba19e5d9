//! Data selection with CASA's MSSelection syntax (`field`, `spw`, `timerange`, `uvrange`, `antenna`,
//! `scan`, `observation`, `intent`). Each parameter is parsed and resolved against the metadata
//! first (syntax errors and names that match nothing fail fast, before any row is read); then the
//! main table's index columns are scanned in blocks to collect the selected rows per data
//! description. Autocorrelations are left out unless [`SelectOptions::include_autocorrelations`].
//!
//! An empty string selects everything. A selection that matches no rows is an error that names the
//! first parameter (in the order observation, field, spw, scan, intent, timerange, antenna,
//! uvrange) after which no rows were left.

mod antenna;
mod common;
mod field;
mod intent;
mod spw;
mod time;
mod uvrange;

pub use time::format_mjd_seconds;

use crate::error::{MsError, SelectionError};
use crate::meta::MsMeta;
use crate::ms::MeasurementSet;
use crate::selected::{DdRows, SelectedData};
use common::{empty_err, list_ints, parse_int_list, IntItem};
use pclean_core::Correlation;
use std::collections::BTreeSet;

/// tclean's data-selection parameters (declared with the validated parameters in pclean-core).
pub use pclean_core::Selection;

/// Options of [`MeasurementSet::select_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SelectOptions {
    /// Keep rows with ANTENNA1 == ANTENNA2 (tclean's imaging never uses them; default `false`).
    pub include_autocorrelations: bool,
}

/// All parameters resolved against the metadata.
struct Resolved {
    fields: Option<Vec<bool>>,
    /// Per data-description id: the selected channels of its spectral window (`None`: not selected).
    dd_chans: Vec<Option<Vec<usize>>>,
    spw_active: bool,
    scans: Option<Vec<IntItem>>,
    observations: Option<Vec<IntItem>>,
    states: Option<Vec<bool>>,
    times: Option<Vec<time::TimeItem>>,
    baselines: Option<antenna::BaselineSet>,
    uv: Option<Vec<uvrange::UvItem>>,
}

fn mask(n: usize, ids: Option<Vec<usize>>) -> Option<Vec<bool>> {
    ids.map(|ids| {
        let mut m = vec![false; n];
        ids.into_iter().for_each(|i| m[i] = true);
        m
    })
}

impl Resolved {
    fn new(sel: &Selection, meta: &MsMeta) -> Result<Self, SelectionError> {
        let field_names: Vec<String> = meta.fields.iter().map(|f| f.name.clone()).collect();
        let fields = mask(meta.fields.len(), field::resolve(&sel.field, &field_names)?);
        let spw_sel = spw::resolve(&sel.spw, &meta.spectral_windows)?;
        let dd_chans = meta
            .data_descriptions
            .iter()
            .map(|dd| match &spw_sel {
                None => Some((0..meta.spectral_windows[dd.spw_id].n_chan()).collect()),
                Some(m) => m.get(&dd.spw_id).cloned(),
            })
            .collect();
        let ints = |param: &'static str, text: &str| {
            if text.trim().is_empty() {
                Ok(None)
            } else {
                parse_int_list(param, text.trim()).map(Some)
            }
        };
        Ok(Resolved {
            fields,
            dd_chans,
            spw_active: spw_sel.is_some(),
            scans: ints("scan", &sel.scan)?,
            observations: ints("observation", &sel.observation)?,
            states: mask(
                meta.state_obs_modes.len(),
                intent::resolve(&sel.intent, &meta.state_obs_modes)?,
            ),
            times: time::resolve(&sel.timerange, meta.first_time_mjd_s, meta.first_exposure_s)?,
            baselines: antenna::resolve(&sel.antenna, &meta.antennas)?,
            uv: uvrange::resolve(&sel.uvrange)?,
        })
    }
}

/// Order in which criteria are applied (and blamed when nothing is left).
const STAGES: [&str; 8] = [
    "observation",
    "field",
    "spw",
    "scan",
    "intent",
    "timerange",
    "antenna",
    "uvrange",
];

/// What the scan saw of the rows that reached each criterion, for error messages.
#[derive(Default)]
struct Seen {
    passed: [usize; 8],
    observations: BTreeSet<i32>,
    fields: BTreeSet<i32>,
    ddids: BTreeSet<i32>,
    scans: BTreeSet<i32>,
    states: BTreeSet<i32>,
    time: (f64, f64),
    uv_m: (f64, f64),
    /// Fields of accepted rows, first-seen order.
    selected_fields: Vec<i32>,
    /// The earliest TIME of each field's accepted rows, parallel to `selected_fields`.
    field_first_time: Vec<f64>,
}

fn in_mask(m: &Option<Vec<bool>>, v: i32) -> bool {
    match m {
        None => true,
        Some(m) => v >= 0 && (v as usize) < m.len() && m[v as usize],
    }
}

fn in_items(items: &Option<Vec<IntItem>>, v: i32) -> bool {
    match items {
        None => true,
        Some(it) => it.iter().any(|i| i.contains(v as i64)),
    }
}

/// Per data description: the selected rows and their distinct (TIME, FIELD_ID) pairs; and the
/// number of autocorrelation rows left out.
type ScannedRows = (Vec<Vec<u64>>, Vec<Vec<(f64, usize)>>, usize);

/// Row scan: returns the selected rows and their (TIME, FIELD_ID) pairs per data-description id
/// and the number of autocorrelation rows left out.
fn scan_rows(
    ms: &MeasurementSet,
    r: &Resolved,
    opts: SelectOptions,
    seen: &mut Seen,
) -> Result<ScannedRows, MsError> {
    const BLOCK: usize = 1 << 16;
    let meta = ms.meta();
    let t = &ms.main;
    let n = t.n_rows();
    let mut rows_dd: Vec<Vec<u64>> = vec![Vec::new(); meta.data_descriptions.len()];
    let mut epochs_dd: Vec<Vec<(f64, usize)>> = vec![Vec::new(); meta.data_descriptions.len()];
    let mut autos = 0usize;
    seen.time = (f64::INFINITY, f64::NEG_INFINITY);
    seen.uv_m = (f64::INFINITY, f64::NEG_INFINITY);
    let mut ddid = vec![0i32; BLOCK];
    let mut a1 = vec![0i32; BLOCK];
    let mut a2 = vec![0i32; BLOCK];
    let mut field = vec![0i32; BLOCK];
    let mut scan = vec![0i32; BLOCK];
    let mut obs = vec![0i32; BLOCK];
    let mut state = vec![0i32; BLOCK];
    let mut time = vec![0f64; BLOCK];
    let mut uvw = vec![0f64; 3 * BLOCK];
    let ref_freq: Vec<f64> = meta
        .data_descriptions
        .iter()
        .map(|dd| meta.spectral_windows[dd.spw_id].ref_freq_hz)
        .collect();
    let mut start = 0u64;
    while start < n {
        let len = (BLOCK as u64).min(n - start) as usize;
        t.read_scalar_range("DATA_DESC_ID", start, &mut ddid[..len])?;
        t.read_scalar_range("ANTENNA1", start, &mut a1[..len])?;
        t.read_scalar_range("ANTENNA2", start, &mut a2[..len])?;
        // Index columns are always read (cheap) so error messages can list what exists.
        t.read_scalar_range("FIELD_ID", start, &mut field[..len])?;
        t.read_scalar_range("SCAN_NUMBER", start, &mut scan[..len])?;
        t.read_scalar_range("OBSERVATION_ID", start, &mut obs[..len])?;
        if r.states.is_some() {
            t.read_scalar_range("STATE_ID", start, &mut state[..len])?;
        }
        t.read_scalar_range("TIME", start, &mut time[..len])?;
        if r.uv.is_some() {
            t.read_array_range("UVW", start, len as u64, None, &mut uvw[..3 * len])?;
        }
        for i in 0..len {
            let dd = ddid[i];
            let dd_ok =
                dd >= 0 && (dd as usize) < r.dd_chans.len() && r.dd_chans[dd as usize].is_some();
            // The first four criteria: the value each saw (while the row got that far) and
            // whether the row passes it.
            let criteria = [
                (
                    &mut seen.observations,
                    obs[i],
                    in_items(&r.observations, obs[i]),
                ),
                (&mut seen.fields, field[i], in_mask(&r.fields, field[i])),
                (&mut seen.ddids, dd, dd_ok),
                (&mut seen.scans, scan[i], in_items(&r.scans, scan[i])),
            ];
            let mut passed = 0;
            for (values, v, ok) in criteria {
                values.insert(v);
                if !ok {
                    break;
                }
                seen.passed[passed] += 1;
                passed += 1;
            }
            if passed < 4 {
                continue;
            }
            if r.states.is_some() {
                seen.states.insert(state[i]);
                if !in_mask(&r.states, state[i]) {
                    continue;
                }
            }
            seen.passed[4] += 1;
            seen.time = (seen.time.0.min(time[i]), seen.time.1.max(time[i]));
            if let Some(items) = &r.times {
                if !items.iter().any(|it| it.contains(time[i])) {
                    continue;
                }
            }
            seen.passed[5] += 1;
            if let Some(b) = &r.baselines {
                if !b.contains(a1[i], a2[i]) {
                    continue;
                }
            }
            seen.passed[6] += 1;
            if let Some(items) = &r.uv {
                let d = uvw[3 * i].hypot(uvw[3 * i + 1]);
                if a1[i] != a2[i] {
                    seen.uv_m = (seen.uv_m.0.min(d), seen.uv_m.1.max(d));
                }
                if !items.iter().any(|it| it.contains(d, ref_freq[dd as usize])) {
                    continue;
                }
            }
            seen.passed[7] += 1;
            let epochs = &mut epochs_dd[dd as usize];
            let epoch = (time[i], field[i] as usize);
            if epochs.last() != Some(&epoch) {
                epochs.push(epoch);
            }
            if a1[i] == a2[i] && !opts.include_autocorrelations {
                autos += 1;
                continue;
            }
            rows_dd[dd as usize].push(start + i as u64);
            match seen.selected_fields.iter().position(|f| *f == field[i]) {
                Some(k) => seen.field_first_time[k] = seen.field_first_time[k].min(time[i]),
                None => {
                    seen.selected_fields.push(field[i]);
                    seen.field_first_time.push(time[i]);
                }
            }
        }
        start += len as u64;
    }
    for e in &mut epochs_dd {
        e.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        e.dedup();
    }
    Ok((rows_dd, epochs_dd, autos))
}

/// The error for a selection that left no rows: blame the first criterion that emptied it.
fn nothing_left(sel: &Selection, meta: &MsMeta, seen: &Seen, autos: usize) -> SelectionError {
    let ints = |s: &BTreeSet<i32>| list_ints(s.iter().map(|&v| v as i64), 20);
    let Some(k) = seen.passed.iter().position(|&p| p == 0) else {
        return empty_err(
            "antenna",
            &sel.antenna,
            format!(
                "only autocorrelations ({autos} rows) match the selection, and imaging excludes them"
            ),
        );
    };
    let (text, why) = match STAGES[k] {
        "observation" => (
            &sel.observation,
            format!("this MS has observation ids {}", ints(&seen.observations)),
        ),
        "field" => (
            &sel.field,
            format!(
                "no visibilities have the selected field(s); the other selections leave fields {}",
                ints(&seen.fields)
            ),
        ),
        "spw" => {
            let spws: BTreeSet<i32> = seen
                .ddids
                .iter()
                .filter_map(|&d| meta.data_descriptions.get(d as usize))
                .map(|dd| dd.spw_id as i32)
                .collect();
            (
                &sel.spw,
                format!(
                    "no visibilities are in the selected spectral window(s); the other selections \
                     leave spectral windows {}",
                    ints(&spws)
                ),
            )
        }
        "scan" => (
            &sel.scan,
            format!("the other selections leave scans {}", ints(&seen.scans)),
        ),
        "intent" => (
            &sel.intent,
            format!(
                "no visibilities have the selected intent(s); the other selections leave state ids {}",
                ints(&seen.states)
            ),
        ),
        "timerange" => (
            &sel.timerange,
            format!(
                "the other selections leave times {} ~ {} (UTC)",
                format_mjd_seconds(seen.time.0),
                format_mjd_seconds(seen.time.1)
            ),
        ),
        "antenna" => (
            &sel.antenna,
            "no visibilities on the selected baselines remain after the other selections"
                .to_string(),
        ),
        _ => (
            &sel.uvrange,
            if seen.uv_m.0.is_finite() {
                format!(
                    "the other selections leave uv distances {:.1} ~ {:.1} m",
                    seen.uv_m.0, seen.uv_m.1
                )
            } else {
                "the other selections leave no cross-correlations".to_string()
            },
        ),
    };
    empty_err(STAGES[k], text, why)
}

impl MeasurementSet {
    /// Select data with tclean's parameters, leaving out autocorrelations.
    pub fn select(&self, sel: &Selection) -> Result<SelectedData, MsError> {
        self.select_with(sel, SelectOptions::default())
    }

    /// Select data with tclean's parameters and explicit options.
    pub fn select_with(
        &self,
        sel: &Selection,
        opts: SelectOptions,
    ) -> Result<SelectedData, MsError> {
        let meta = self.meta();
        let wrap = |source: SelectionError| MsError::Selection {
            path: meta.path.clone(),
            source,
        };
        if meta.n_rows == 0 {
            return Err(wrap(empty_err("vis", "", "the MeasurementSet has no rows")));
        }
        let resolved = Resolved::new(sel, meta).map_err(wrap)?;
        let mut seen = Seen::default();
        let (rows_dd, mut epochs_dd, autos) = scan_rows(self, &resolved, opts, &mut seen)?;
        if rows_dd.iter().all(|r| r.is_empty()) {
            return Err(wrap(nothing_left(sel, meta, &seen, autos)));
        }
        let mut groups = Vec::new();
        for (ddid, rows) in rows_dd.into_iter().enumerate() {
            if rows.is_empty() {
                continue;
            }
            let dd = meta.data_descriptions[ddid];
            let spw = &meta.spectral_windows[dd.spw_id];
            let pol = &meta.polarizations[dd.pol_id];
            let corrs: Vec<Correlation> = pol
                .corrs
                .iter()
                .zip(&pol.corr_type_codes)
                .map(|(c, &code)| {
                    c.ok_or_else(|| MsError::BadMetadata {
                        path: meta.path.clone(),
                        what: format!("POLARIZATION row {}", dd.pol_id),
                        why: format!(
                            "CORR_TYPE code {code} is not a feed correlation (RR, RL, LR, LL, XX, \
                             XY, YX, YY), which is all pclean can image"
                        ),
                    })
                })
                .collect::<Result<_, _>>()?;
            let chan_ids = resolved.dd_chans[ddid].clone().unwrap_or_default();
            let chan_freq_hz = chan_ids.iter().map(|&c| spw.chan_freq_hz[c]).collect();
            groups.push(DdRows {
                ddid,
                spw_id: dd.spw_id,
                pol_id: dd.pol_id,
                corrs,
                chan_ids,
                chan_freq_hz,
                rows,
                epochs: std::mem::take(&mut epochs_dd[ddid]),
            });
        }
        Ok(SelectedData {
            groups,
            autocorr_rows_excluded: autos,
            field_ids: seen.selected_fields.iter().map(|&f| f as usize).collect(),
            field_first_time_mjd_s: seen.field_first_time.clone(),
            spw_selected: resolved.spw_active,
            selection: sel.clone(),
        })
    }
}

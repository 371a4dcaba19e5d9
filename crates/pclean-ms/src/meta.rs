//! Metadata of a MeasurementSet, loaded once from its subtables when the MS is opened.

use crate::error::MsError;
pub use crate::fields::Field;
use crate::observatory::{known_observatory_itrf_m, Observatory, ObservatorySource};
use pclean_casacore::columns::ReadTable;
use pclean_casacore::TableError;
use pclean_core::frames::FreqFrame;
use pclean_core::Correlation;
use std::path::{Path, PathBuf};

/// Spectral reference frame of a spectral window (`SPECTRAL_WINDOW::MEAS_FREQ_REF`, casacore's
/// `MFrequency::Types`): one of the convertible frames of [`pclean_core::frames::FreqFrame`], the
/// source's rest frame, or a code pclean does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpwFrame {
    Known(FreqFrame),
    /// REST (code 0): converting it needs the source's radial velocity.
    Rest,
    /// A code outside 0..=8.
    Unknown(i32),
}

impl SpwFrame {
    /// Frame of a `MEAS_FREQ_REF` code.
    pub fn from_code(code: i32) -> Self {
        match (code, FreqFrame::from_casa_code(code)) {
            (_, Some(f)) => SpwFrame::Known(f),
            (0, None) => SpwFrame::Rest,
            (c, None) => SpwFrame::Unknown(c),
        }
    }

    /// casacore's name of the frame (`"LSRK"`, `"TOPO"`, ...); `"UNKNOWN"` for unknown codes.
    pub fn name(&self) -> &'static str {
        match self {
            SpwFrame::Known(f) => f.casa_name(),
            SpwFrame::Rest => "REST",
            SpwFrame::Unknown(_) => "UNKNOWN",
        }
    }
}

/// One row of the ANTENNA subtable.
#[derive(Debug, Clone, PartialEq)]
pub struct Antenna {
    pub name: String,
    pub station: String,
    /// ITRF geocentric position (x, y, z), metres.
    pub position_itrf_m: [f64; 3],
    pub dish_diameter_m: f64,
    pub flag_row: bool,
}

/// One row of the DATA_DESCRIPTION subtable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataDescription {
    pub spw_id: usize,
    pub pol_id: usize,
    pub flag_row: bool,
}

/// One row of the POLARIZATION subtable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Polarization {
    /// `CORR_TYPE` codes as stored (casacore `Stokes::StokesTypes`).
    pub corr_type_codes: Vec<i32>,
    /// The correlations, `None` for codes that are not feed products.
    pub corrs: Vec<Option<Correlation>>,
}

/// One row of the SPECTRAL_WINDOW subtable.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralWindow {
    pub name: String,
    /// Channel centre frequencies, Hz, in the window's frame.
    pub chan_freq_hz: Vec<f64>,
    /// Channel widths, Hz (negative for descending frequencies).
    pub chan_width_hz: Vec<f64>,
    pub ref_freq_hz: f64,
    pub frame: SpwFrame,
}

impl MsMeta {
    /// The rest frequency the SOURCE subtable gives field `field_id` in spw `spw_id`, as tclean
    /// looks it up (casacore's `MSDopplerUtil::dopplerInfo`): the rows of the field's SOURCE_ID
    /// whose SPECTRAL_WINDOW_ID is that window or -1 (any window; checked with tclean 6.7), in
    /// table order; the first REST_FREQUENCY of the first such row with one. `None` when there is
    /// none or it is 0 (tclean then falls back on the band: `pclean_engine`'s spectral plan).
    pub fn source_rest_frequency_hz(&self, field_id: usize, spw_id: usize) -> Option<f64> {
        let source = self.fields.get(field_id)?.source_id;
        self.source_rest_frequencies
            .iter()
            .filter(|r| r.source_id == source && (r.spw_id == spw_id as i32 || r.spw_id == -1))
            .find_map(|r| r.rest_hz.first().copied())
            .filter(|f| *f > 0.0)
    }
}

impl SpectralWindow {
    pub fn n_chan(&self) -> usize {
        self.chan_freq_hz.len()
    }
}

/// One row of the OBSERVATION subtable.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub telescope: String,
    pub observer: String,
    /// TIME_RANGE, MJD seconds (UTC).
    pub time_range_mjd_s: [f64; 2],
}

/// Which of the optional main-table columns exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ColumnPresence {
    pub data: bool,
    pub corrected_data: bool,
    pub model_data: bool,
    pub weight_spectrum: bool,
    pub sigma_spectrum: bool,
}

/// Everything pclean needs to know about an MS besides the visibilities.
#[derive(Debug, Clone, PartialEq)]
pub struct MsMeta {
    /// Path as given to `MeasurementSet::open`.
    pub path: PathBuf,
    pub n_rows: u64,
    pub antennas: Vec<Antenna>,
    pub data_descriptions: Vec<DataDescription>,
    pub fields: Vec<Field>,
    pub polarizations: Vec<Polarization>,
    pub spectral_windows: Vec<SpectralWindow>,
    pub observations: Vec<Observation>,
    /// STATE::OBS_MODE per state id (empty when the STATE subtable is absent or empty).
    pub state_obs_modes: Vec<String>,
    pub columns: ColumnPresence,
    /// Smallest and largest TIME in the main table, MJD seconds (UTC); (0, 0) for an empty MS.
    pub time_range_mjd_s: (f64, f64),
    /// TIME of row 0 (the reference for CASA time selections with omitted fields).
    pub first_time_mjd_s: f64,
    /// EXPOSURE of row 0, seconds (the tolerance of single-time selections).
    pub first_exposure_s: f64,
    pub observatory: Observatory,
    /// SOURCE::REST_FREQUENCY per (source, spw).
    pub source_rest_frequencies: Vec<crate::fields::SourceRestFrequency>,
    /// Non-fatal oddities found while loading (the caller logs them).
    pub warnings: Vec<String>,
}

/// Subtables every MS must have for imaging.
pub(crate) const REQUIRED_SUBTABLES: [&str; 5] = [
    "ANTENNA",
    "DATA_DESCRIPTION",
    "FIELD",
    "POLARIZATION",
    "SPECTRAL_WINDOW",
];

/// Main-table columns every MS must have.
pub(crate) const REQUIRED_COLUMNS: [&str; 13] = [
    "ANTENNA1",
    "ANTENNA2",
    "DATA_DESC_ID",
    "FIELD_ID",
    "TIME",
    "EXPOSURE",
    "UVW",
    "FLAG",
    "FLAG_ROW",
    "WEIGHT",
    "SCAN_NUMBER",
    "OBSERVATION_ID",
    "STATE_ID",
];

fn bad(path: &Path, what: &str, why: impl Into<String>) -> MsError {
    MsError::BadMetadata {
        path: path.to_path_buf(),
        what: what.to_string(),
        why: why.into(),
    }
}

fn open_sub(ms: &Path, name: &str) -> Result<ReadTable, MsError> {
    Ok(ReadTable::open(ms.join(name))?)
}

/// Optional column `name` of `t` read with `read`, or `n` default values when `t` lacks it.
fn column_or<T: Clone + Default>(
    t: &ReadTable,
    name: &str,
    n: usize,
    read: impl FnOnce(&ReadTable, &str) -> Result<Vec<T>, TableError>,
) -> Result<Vec<T>, MsError> {
    if t.has_column(name) {
        Ok(read(t, name)?)
    } else {
        Ok(vec![T::default(); n])
    }
}

fn load_antennas(ms: &Path) -> Result<Vec<Antenna>, MsError> {
    let t = open_sub(ms, "ANTENNA")?;
    let names = t.string_column("NAME")?;
    let stations = column_or(&t, "STATION", names.len(), ReadTable::string_column)?;
    let dish = t.scalar_column::<f64>("DISH_DIAMETER")?;
    let flag = column_or(
        &t,
        "FLAG_ROW",
        names.len(),
        ReadTable::scalar_column::<bool>,
    )?;
    let mut pos = vec![0.0f64; 3 * names.len()];
    t.read_array_range::<f64>("POSITION", 0, names.len() as u64, None, &mut pos)?;
    Ok((0..names.len())
        .map(|i| Antenna {
            name: names[i].clone(),
            station: stations[i].clone(),
            position_itrf_m: [pos[3 * i], pos[3 * i + 1], pos[3 * i + 2]],
            dish_diameter_m: dish[i],
            flag_row: flag[i],
        })
        .collect())
}

fn load_data_descriptions(ms: &Path) -> Result<Vec<DataDescription>, MsError> {
    let t = open_sub(ms, "DATA_DESCRIPTION")?;
    let spw = t.scalar_column::<i32>("SPECTRAL_WINDOW_ID")?;
    let pol = t.scalar_column::<i32>("POLARIZATION_ID")?;
    let flag = t.scalar_column::<bool>("FLAG_ROW")?;
    spw.iter()
        .zip(&pol)
        .zip(&flag)
        .enumerate()
        .map(|(i, ((&s, &p), &f))| {
            if s < 0 || p < 0 {
                return Err(bad(
                    ms,
                    "DATA_DESCRIPTION",
                    format!("row {i} has SPECTRAL_WINDOW_ID {s}, POLARIZATION_ID {p}"),
                ));
            }
            Ok(DataDescription {
                spw_id: s as usize,
                pol_id: p as usize,
                flag_row: f,
            })
        })
        .collect()
}

fn load_polarizations(ms: &Path) -> Result<Vec<Polarization>, MsError> {
    let t = open_sub(ms, "POLARIZATION")?;
    (0..t.n_rows())
        .map(|i| {
            let (_, codes) = t.read_cell::<i32>("CORR_TYPE", i)?;
            let corrs = codes
                .iter()
                .map(|&c| Correlation::from_casa_code(c))
                .collect();
            Ok(Polarization {
                corr_type_codes: codes,
                corrs,
            })
        })
        .collect()
}

fn load_spectral_windows(ms: &Path) -> Result<Vec<SpectralWindow>, MsError> {
    let t = open_sub(ms, "SPECTRAL_WINDOW")?;
    let names = t.string_column("NAME")?;
    let ref_freq = t.scalar_column::<f64>("REF_FREQUENCY")?;
    let frames = t.scalar_column::<i32>("MEAS_FREQ_REF")?;
    (0..t.n_rows() as usize)
        .map(|i| {
            let (_, freq) = t.read_cell::<f64>("CHAN_FREQ", i as u64)?;
            let (_, width) = t.read_cell::<f64>("CHAN_WIDTH", i as u64)?;
            if width.len() != freq.len() {
                return Err(bad(
                    ms,
                    "SPECTRAL_WINDOW",
                    format!(
                        "row {i} has {} CHAN_FREQ but {} CHAN_WIDTH values",
                        freq.len(),
                        width.len()
                    ),
                ));
            }
            Ok(SpectralWindow {
                name: names[i].clone(),
                chan_freq_hz: freq,
                chan_width_hz: width,
                ref_freq_hz: ref_freq[i],
                frame: SpwFrame::from_code(frames[i]),
            })
        })
        .collect()
}

fn load_observations(ms: &Path) -> Result<Vec<Observation>, MsError> {
    if !ms.join("OBSERVATION").exists() {
        return Ok(Vec::new());
    }
    let t = open_sub(ms, "OBSERVATION")?;
    let n = t.n_rows();
    let tel = t.string_column("TELESCOPE_NAME")?;
    let obs = t.string_column("OBSERVER")?;
    let mut tr = vec![0.0f64; 2 * n as usize];
    t.read_array_range::<f64>("TIME_RANGE", 0, n, None, &mut tr)?;
    Ok((0..n as usize)
        .map(|i| Observation {
            telescope: tel[i].clone(),
            observer: obs[i].clone(),
            time_range_mjd_s: [tr[2 * i], tr[2 * i + 1]],
        })
        .collect())
}

fn load_states(ms: &Path) -> Result<Vec<String>, MsError> {
    if !ms.join("STATE").exists() {
        return Ok(Vec::new());
    }
    let t = open_sub(ms, "STATE")?;
    if !t.has_column("OBS_MODE") {
        return Ok(Vec::new());
    }
    Ok(t.string_column("OBS_MODE")?)
}

/// Observatory position: the telescope's entry in casacore's observatory table when known (as tclean
/// does), else the first unflagged antenna.
fn observatory(observations: &[Observation], antennas: &[Antenna]) -> Observatory {
    let name = observations
        .first()
        .map(|o| o.telescope.clone())
        .unwrap_or_default();
    if let Some(p) = known_observatory_itrf_m(&name) {
        return Observatory {
            name,
            position_itrf_m: p,
            source: ObservatorySource::KnownTelescope,
        };
    }
    let ant = antennas.iter().find(|a| !a.flag_row).or(antennas.first());
    Observatory {
        name,
        position_itrf_m: ant.map(|a| a.position_itrf_m).unwrap_or([0.0; 3]),
        source: ObservatorySource::FirstAntenna,
    }
}

/// Smallest and largest TIME, scanning the column in blocks.
fn time_range(main: &ReadTable) -> Result<(f64, f64), MsError> {
    const BLOCK: u64 = 1 << 18;
    let n = main.n_rows();
    if n == 0 {
        return Ok((0.0, 0.0));
    }
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut buf = vec![0.0f64; BLOCK.min(n) as usize];
    let mut start = 0;
    while start < n {
        let len = BLOCK.min(n - start) as usize;
        main.read_scalar_range("TIME", start, &mut buf[..len])?;
        for &t in &buf[..len] {
            lo = lo.min(t);
            hi = hi.max(t);
        }
        start += len as u64;
    }
    Ok((lo, hi))
}

/// Load all metadata of the MS whose main table is `main` (opened from `path`).
pub(crate) fn load(path: &Path, main: &ReadTable) -> Result<MsMeta, MsError> {
    let warnings = Vec::new();
    let antennas = load_antennas(path)?;
    let data_descriptions = load_data_descriptions(path)?;
    let fields = crate::fields::load_fields(path)?;
    let polarizations = load_polarizations(path)?;
    let spectral_windows = load_spectral_windows(path)?;
    let observations = load_observations(path)?;
    let state_obs_modes = load_states(path)?;
    for (i, dd) in data_descriptions.iter().enumerate() {
        if dd.spw_id >= spectral_windows.len() || dd.pol_id >= polarizations.len() {
            return Err(bad(
                path,
                "DATA_DESCRIPTION",
                format!(
                    "row {i} refers to spectral window {} and polarization {}, but the MS has {} \
                     spectral windows and {} polarization setups",
                    dd.spw_id,
                    dd.pol_id,
                    spectral_windows.len(),
                    polarizations.len()
                ),
            ));
        }
    }
    let columns = ColumnPresence {
        data: main.has_column("DATA"),
        corrected_data: main.has_column("CORRECTED_DATA"),
        model_data: main.has_column("MODEL_DATA"),
        weight_spectrum: main.has_column("WEIGHT_SPECTRUM"),
        sigma_spectrum: main.has_column("SIGMA_SPECTRUM"),
    };
    let time_range_mjd_s = time_range(main)?;
    let (first_time_mjd_s, first_exposure_s) = if main.n_rows() > 0 {
        let mut t = [0.0f64];
        let mut e = [0.0f64];
        main.read_scalar_range("TIME", 0, &mut t)?;
        main.read_scalar_range("EXPOSURE", 0, &mut e)?;
        (t[0], e[0])
    } else {
        (0.0, 0.0)
    };
    let observatory = observatory(&observations, &antennas);
    Ok(MsMeta {
        path: path.to_path_buf(),
        n_rows: main.n_rows(),
        antennas,
        data_descriptions,
        fields,
        polarizations,
        spectral_windows,
        observations,
        state_obs_modes,
        columns,
        time_range_mjd_s,
        first_time_mjd_s,
        first_exposure_s,
        observatory,
        source_rest_frequencies: crate::fields::load_source_rest_frequencies(path)?,
        warnings,
    })
}

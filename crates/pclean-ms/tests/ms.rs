//! Integration tests of pclean-ms against the two test MeasurementSets.
//!
//! Expected values come from python-casacore 3.8 via `tests/oracle_ms.py` (run it from the workspace
//! root to reproduce them). Sums of |vis| and weights are compared with a relative tolerance of 1e-9:
//! both sides sum the same f32 values in f64, so only the summation order differs (~1e-12 relative
//! for these sizes); counts are exact.

mod support;

use pclean_core::frames::FreqFrame;
use pclean_core::Correlation;
use pclean_ms::{
    DataColumn, MeasurementSet, MsError, ObservatorySource, SelectOptions, SelectedData, Selection,
    SelectionError, SpwFrame,
};
use std::path::Path;

fn rel_close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

/// Sums over every selected visibility, computed through the chunked reader.
#[derive(Debug, Default)]
struct Sums {
    nrows: usize,
    sum_abs_vis: f64,
    n_flag: usize,
    sum_weight: f64,
    sum_uvw: f64,
    sum_time_minus_t0: f64,
}

fn sums(ms: &MeasurementSet, data: &SelectedData, col: DataColumn, max_rows: usize) -> Sums {
    let t0 = ms.meta().first_time_mjd_s;
    let mut s = Sums::default();
    let mut rows_seen = Vec::new();
    for chunk in data.chunks(ms, col, max_rows) {
        let c = chunk.unwrap();
        assert!(c.n_rows() <= max_rows);
        let (nr, nc, np) = c.vis_rcp.dim();
        assert_eq!((nr, nc, np), (c.n_rows(), c.chan_ids.len(), c.corrs.len()));
        assert_eq!(c.flag_rcp.dim(), c.vis_rcp.dim());
        assert_eq!(c.weight_rcp.dim(), c.vis_rcp.dim());
        assert_eq!(c.uvw_m.dim(), (nr, 3));
        assert!(c.ant1.iter().zip(&c.ant2).all(|(a, b)| a != b));
        s.nrows += nr;
        s.sum_abs_vis += c.vis_rcp.iter().map(|v| v.norm() as f64).sum::<f64>();
        s.n_flag += c.flag_rcp.iter().filter(|&&f| f).count();
        s.sum_weight += c.weight_rcp.iter().map(|&w| w as f64).sum::<f64>();
        s.sum_uvw += c.uvw_m.sum();
        s.sum_time_minus_t0 += c.time_s.iter().map(|t| t - t0).sum::<f64>();
        rows_seen.extend_from_slice(&c.row_ids);
    }
    let expected: Vec<u64> = data
        .groups
        .iter()
        .flat_map(|g| g.rows.iter().copied())
        .collect();
    assert_eq!(rows_seen, expected, "chunks cover the selection in order");
    s
}

fn check_sums(s: &Sums, nrows: usize, abs: f64, n_flag: usize, weight: f64, uvw: f64, dt: f64) {
    assert_eq!(s.nrows, nrows);
    assert!(
        rel_close(s.sum_abs_vis, abs, 1e-9),
        "{} vs {abs}",
        s.sum_abs_vis
    );
    assert_eq!(s.n_flag, n_flag);
    assert!(
        rel_close(s.sum_weight, weight, 1e-9),
        "{} vs {weight}",
        s.sum_weight
    );
    assert!(rel_close(s.sum_uvw, uvw, 1e-9), "{} vs {uvw}", s.sum_uvw);
    assert!(
        rel_close(s.sum_time_minus_t0, dt, 1e-9),
        "{} vs {dt}",
        s.sum_time_minus_t0
    );
}

fn sel(f: impl FnOnce(&mut Selection)) -> Selection {
    let mut s = Selection::default();
    f(&mut s);
    s
}

fn n_selected(ms: &MeasurementSet, s: &Selection) -> usize {
    ms.select(s).unwrap().n_rows()
}

fn selection_error(ms: &MeasurementSet, s: &Selection) -> SelectionError {
    match ms.select(s) {
        Err(MsError::Selection { source, .. }) => source,
        other => panic!("expected a selection error, got {other:?}"),
    }
}

// ---------------------------------------------------------------- metadata

#[test]
fn ngc5921_metadata_matches_python_casacore() {
    let path = support::ngc5921();
    let ms = MeasurementSet::open(&path).unwrap();
    let m = ms.meta();
    assert_eq!(m.n_rows, 12852);
    assert_eq!(m.antennas.len(), 28);
    assert_eq!(m.antennas[0].name, "1");
    assert_eq!(m.antennas[0].station, "VLA:N7");
    assert_eq!(m.antennas[1].station, "VLA:W1");
    let expect = [-1601155.61318668, -5041783.88230405, 3555162.34308971];
    for (a, b) in m.antennas[0].position_itrf_m.iter().zip(expect) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    assert_eq!(m.antennas[0].dish_diameter_m, 25.0);
    assert_eq!(m.fields.len(), 1);
    assert_eq!(m.fields[0].name, "N5921_2");
    assert_eq!(m.fields[0].phase_dir_frame, "J2000");
    let d = m.fields[0].phase_dir;
    assert!((d.ra_rad - (-2.26020138 + 2.0 * std::f64::consts::PI)).abs() < 1e-8);
    assert!((d.dec_rad - 0.08843002).abs() < 1e-8);
    assert_eq!(m.spectral_windows.len(), 1);
    let spw = &m.spectral_windows[0];
    assert_eq!(spw.n_chan(), 63);
    assert_eq!(spw.name, "none");
    assert_eq!(spw.frame, SpwFrame::Known(FreqFrame::Lsrk));
    assert_eq!(spw.frame.name(), "LSRK");
    assert!((spw.chan_freq_hz[0] - 1.41266507e9).abs() < 10.0);
    assert!((spw.chan_freq_hz[1] - spw.chan_freq_hz[0] - 24414.0625).abs() < 1e-3);
    assert_eq!(spw.chan_width_hz[0], 24414.0625);
    assert_eq!(spw.ref_freq_hz, 1413421909.7059999);
    assert_eq!(m.polarizations[0].corr_type_codes, vec![5, 8]);
    assert_eq!(
        m.polarizations[0].corrs,
        vec![Some(Correlation::RR), Some(Correlation::LL)]
    );
    assert_eq!(m.data_descriptions.len(), 1);
    assert_eq!(m.observations[0].telescope, "VLA");
    assert_eq!(m.observations[0].observer, "TEST");
    assert!(m.state_obs_modes.is_empty());
    assert!(m.columns.data && m.columns.model_data && m.columns.weight_spectrum);
    assert!(m.columns.sigma_spectrum && !m.columns.corrected_data);
    assert_eq!(m.time_range_mjd_s, (4304482380.000687, 4304486580.000114));
    assert_eq!(m.first_time_mjd_s, 4304482380.000687);
    assert_eq!(m.first_exposure_s, 30.0);
    assert_eq!(m.observatory.name, "VLA");
    assert_eq!(m.observatory.source, ObservatorySource::KnownTelescope);
    assert!(m.warnings.is_empty());
}

#[test]
fn alma_metadata_matches_python_casacore() {
    let path = support::alma();
    let ms = MeasurementSet::open(&path).unwrap();
    let m = ms.meta();
    assert_eq!(m.n_rows, 27090);
    assert_eq!(m.antennas.len(), 43);
    assert_eq!(m.antennas[2].name, "A007");
    assert_eq!(m.antennas[0].dish_diameter_m, 12.0);
    assert_eq!(m.fields[0].name, "TARGET");
    let d = m.fields[0].phase_dir;
    // 16h00m00s -30d00m00s
    assert!((d.ra_rad - 240f64.to_radians()).abs() < 1e-8);
    assert!((d.dec_rad - (-30f64).to_radians()).abs() < 1e-8);
    let spw = &m.spectral_windows[0];
    assert_eq!((spw.name.as_str(), spw.n_chan()), ("SPW0", 16));
    assert_eq!(spw.frame, SpwFrame::Known(FreqFrame::Topo));
    assert_eq!(spw.chan_freq_hz[15], 230007500000.0);
    assert_eq!(spw.ref_freq_hz, 2.3e11);
    assert_eq!(
        m.polarizations[0].corrs,
        vec![Some(Correlation::XX), Some(Correlation::YY)]
    );
    assert_eq!(
        m.state_obs_modes,
        vec!["OBSERVE_TARGET.ON_SOURCE".to_string()]
    );
    assert_eq!(m.observations[0].telescope, "ALMA");
    assert_eq!(m.observations[0].observer, "CASA simulator");
    assert!(m.columns.data && m.columns.corrected_data && m.columns.model_data);
    assert!(!m.columns.weight_spectrum);
    assert_eq!(m.time_range_mjd_s, (5223935920.118349, 5223937660.118349));
    // The simulator writes antenna positions that are not geocentric: the known ALMA site is used.
    assert_eq!(m.observatory.source, ObservatorySource::KnownTelescope);
    let r = m
        .observatory
        .position_itrf_m
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt();
    assert!((r - 6379946.0).abs() < 1.0, "{r}");
}

// ---------------------------------------------------------------- chunked reads

#[test]
fn ngc5921_chunked_sums_match_python_casacore() {
    let path = support::ngc5921();
    let ms = MeasurementSet::open(&path).unwrap();
    let data = ms.select(&Selection::default()).unwrap();
    assert_eq!(data.autocorr_rows_excluded, 918);
    assert_eq!(data.n_rows(), 11934);
    // oracle_ms.py "ngc all cross". Rows are not consecutive (autocorrelations left out), so this
    // exercises getColumnCells; 1 row per chunk and one chunk for everything exercise the edges.
    for max_rows in [1000, 20000, 1] {
        let s = sums(&ms, &data, DataColumn::Data, max_rows);
        check_sums(
            &s,
            11934,
            705510.1289983052,
            88452,
            18044208.0,
            333618.39498018316,
            25840610.72101593,
        );
    }
    // MODEL_DATA (oracle_ms.py "ngc sum|MODEL_DATA| cross").
    let s = sums(&ms, &data, DataColumn::Model, 5000);
    assert!(rel_close(s.sum_abs_vis, 105983.60906992322, 1e-9));
}

#[test]
fn ngc5921_stepped_channel_selection_sums() {
    let path = support::ngc5921();
    let ms = MeasurementSet::open(&path).unwrap();
    let data = ms.select(&sel(|s| s.spw = "0:5~50^3".into())).unwrap();
    let g = &data.groups[0];
    assert_eq!(g.chan_ids, (5..=50).step_by(3).collect::<Vec<_>>());
    assert_eq!(
        g.chan_freq_hz[0],
        ms.meta().spectral_windows[0].chan_freq_hz[5]
    );
    // oracle_ms.py "ngc 0:5~50^3"
    let s = sums(&ms, &data, DataColumn::Data, 4096);
    check_sums(
        &s,
        11934,
        124628.39475803054,
        22464,
        4582656.0,
        333618.39498018316,
        25840610.72101593,
    );
}

#[test]
fn corrected_falls_back_to_data_with_a_warning() {
    let path = support::ngc5921();
    let ms = MeasurementSet::open(&path).unwrap();
    let r = ms.resolve_column(DataColumn::Corrected).unwrap();
    assert_eq!(r.name, "DATA");
    let w = r.warning.unwrap();
    assert!(
        w.contains("no CORRECTED_DATA") && w.contains("ngc5921.ms"),
        "{w}"
    );
    let data = ms.select(&sel(|s| s.scan = "3".into())).unwrap();
    let chunks = data.chunks(&ms, DataColumn::Corrected, 100_000);
    assert_eq!(chunks.column().unwrap().name, "DATA");
    assert_eq!(chunks.count(), 1);
}

#[test]
fn alma_chunked_sums_match_python_casacore() {
    let path = support::alma();
    let ms = MeasurementSet::open(&path).unwrap();
    let data = ms.select(&Selection::default()).unwrap();
    assert_eq!(data.autocorr_rows_excluded, 0);
    // oracle_ms.py "alma all": rows are consecutive, so this exercises getColumnRange. WEIGHT is
    // broadcast over the 16 channels (no WEIGHT_SPECTRUM).
    for col in [DataColumn::Data, DataColumn::Corrected] {
        let s = sums(&ms, &data, col, 7000);
        check_sums(
            &s,
            27090,
            69103.24867658739,
            236736,
            866880.0,
            385181.4585081608,
            23568300.0,
        );
    }
    let s = sums(&ms, &data, DataColumn::Model, 7000);
    assert!(rel_close(s.sum_abs_vis, 866880.0, 1e-9));
    // Frequency channel selection: 230.001 ~ 230.003 GHz holds channels 2..=6.
    let data = ms
        .select(&sel(|s| s.spw = "0:230.001~230.003GHz".into()))
        .unwrap();
    assert_eq!(data.groups[0].chan_ids, vec![2, 3, 4, 5, 6]);
    let s = sums(&ms, &data, DataColumn::Data, 10_000);
    check_sums(
        &s,
        27090,
        21595.20301698969,
        73980,
        270900.0,
        385181.4585081608,
        23568300.0,
    );
}

// ---------------------------------------------------------------- selections (counts from oracle_ms.py)

#[test]
fn ngc5921_selection_forms() {
    let path = support::ngc5921();
    let ms = MeasurementSet::open(&path).unwrap();
    let all = 11934;
    for (s, n) in [
        (sel(|s| s.field = "N59*".into()), all),
        (sel(|s| s.field = "0".into()), all),
        (sel(|s| s.field = "N5921_2".into()), all),
        (sel(|s| s.spw = "*".into()), all),
        (sel(|s| s.spw = "0:0~5;10~20".into()), all),
        (sel(|s| s.spw = "0:1412.7~1413.0MHz".into()), all),
        // Antenna names are integers ('1' is id 0): the VLA convention.
        (sel(|s| s.antenna = "1&2".into()), 34),
        (sel(|s| s.antenna = "1".into()), 884),
        (sel(|s| s.antenna = "VLA:N7".into()), 884),
        (sel(|s| s.antenna = "!1".into()), 11050),
        (sel(|s| s.antenna = "1&&*".into()), 884),
        (sel(|s| s.scan = "3".into()), 5616),
        (sel(|s| s.scan = "1~3,5".into()), 5616),
        (sel(|s| s.scan = ">3".into()), all - 5616),
        (sel(|s| s.observation = "0".into()), all),
        (sel(|s| s.timerange = "09:33:00~09:40:00".into()), 2457),
        (
            sel(|s| s.timerange = "1995/04/13/09:33:00~1995/04/13/09:40:00".into()),
            2457,
        ),
        (sel(|s| s.uvrange = "0~1000m".into()), 11918),
        (sel(|s| s.uvrange = "<2km".into()), all),
        (sel(|s| s.uvrange = ">4klambda".into()), 197),
        (sel(|s| s.uvrange = "0.1~0.5klambda".into()), 1590),
    ] {
        assert_eq!(n_selected(&ms, &s), n, "{s:?}");
    }
    let data = ms.select(&sel(|s| s.spw = "0:0~5;10~20".into())).unwrap();
    let mut expect: Vec<usize> = (0..=5).collect();
    expect.extend(10..=20);
    assert_eq!(data.groups[0].chan_ids, expect);
    assert_eq!(data.spw_channels()[&0], expect);
}

#[test]
fn autocorrelations_are_opt_in() {
    let path = support::ngc5921();
    let ms = MeasurementSet::open(&path).unwrap();
    let autos = sel(|s| s.antenna = "1~28&&&".into());
    let e = selection_error(&ms, &autos);
    assert!(
        e.to_string().contains("only autocorrelations (918 rows)"),
        "{e}"
    );
    let opts = SelectOptions {
        include_autocorrelations: true,
    };
    let data = ms.select_with(&autos, opts).unwrap();
    assert_eq!(data.n_rows(), 918);
    let all = ms.select_with(&Selection::default(), opts).unwrap();
    assert_eq!(all.n_rows(), 12852);
}

#[test]
fn alma_selection_forms() {
    let path = support::alma();
    let ms = MeasurementSet::open(&path).unwrap();
    for (s, n) in [
        (sel(|s| s.intent = "*TARGET*".into()), 27090),
        (sel(|s| s.intent = "OBSERVE_TARGET.ON_SOURCE".into()), 27090),
        (sel(|s| s.antenna = "A001".into()), 1260),
        (sel(|s| s.antenna = "0".into()), 1260),
        (sel(|s| s.uvrange = "<100klambda".into()), 17612),
        (sel(|s| s.spw = "SPW0:0~3".into()), 27090),
        (sel(|s| s.spw = "230GHz".into()), 27090),
    ] {
        assert_eq!(n_selected(&ms, &s), n, "{s:?}");
    }
}

// ---------------------------------------------------------------- errors

fn one_line(e: &impl std::fmt::Display) -> String {
    let s = e.to_string();
    assert!(!s.contains('\n'), "error spans lines: {s}");
    s
}

#[test]
fn open_errors_name_the_path_and_the_problem() {
    let e = MeasurementSet::open("/no/such/dir.ms").unwrap_err();
    let s = one_line(&e);
    assert!(matches!(e, MsError::NotFound { .. }));
    assert!(s.contains("/no/such/dir.ms does not exist"), "{s}");

    let dir = tempfile::tempdir().unwrap();
    let e = MeasurementSet::open(dir.path()).unwrap_err();
    assert!(matches!(e, MsError::NotATable { .. }), "{e}");
    assert!(one_line(&e).contains("is not a casacore table"));

    let path = support::ngc5921();
    // A real table that is not an MS.
    let e = MeasurementSet::open(path.join("ANTENNA")).unwrap_err();
    assert!(matches!(e, MsError::NotAnMs { .. }), "{e}");
    let s = one_line(&e);
    assert!(
        s.contains("is a table but not a MeasurementSet") && s.contains("subtable"),
        "{s}"
    );
}

/// Copy a directory tree.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

#[test]
fn missing_model_column_is_an_error() {
    use pclean_casacore::rubbl_casatables::{Table, TableOpenMode};
    let path = support::alma();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("no_model.ms");
    copy_dir(&path, &copy);
    {
        let mut t = Table::open(&copy, TableOpenMode::ReadWrite).unwrap();
        t.remove_column("MODEL_DATA").unwrap();
    }
    let ms = MeasurementSet::open(&copy).unwrap();
    assert!(!ms.meta().columns.model_data);
    let e = ms.resolve_column(DataColumn::Model).unwrap_err();
    let s = one_line(&e);
    assert!(
        s.contains("has no MODEL_DATA column") && s.contains("no_model.ms"),
        "{s}"
    );
    // Through the chunk iterator: the error is the only item.
    let data = ms.select(&Selection::default()).unwrap();
    let items: Vec<_> = data.chunks(&ms, DataColumn::Model, 1000).collect();
    assert_eq!(items.len(), 1);
    assert!(matches!(items[0], Err(MsError::MissingColumn { .. })));
}

#[test]
fn unparseable_selections_name_the_parameter_and_text() {
    let path = support::ngc5921();
    let ms = MeasurementSet::open(&path).unwrap();
    for (s, param, text) in [
        (sel(|s| s.spw = "0:a~b".into()), "spw", "0:a~b"),
        (sel(|s| s.field = "1~".into()), "field", "1~"),
        (
            sel(|s| s.timerange = "yesterday".into()),
            "timerange",
            "yesterday",
        ),
        (sel(|s| s.uvrange = "5parsec".into()), "uvrange", "5parsec"),
        (sel(|s| s.antenna = "1&&&&2".into()), "antenna", "1&&&&2"),
        (sel(|s| s.scan = "three".into()), "scan", "three"),
        (
            sel(|s| s.observation = "0,,1".into()),
            "observation",
            "0,,1",
        ),
    ] {
        let e = selection_error(&ms, &s);
        assert!(matches!(e, SelectionError::Parse { .. }), "{e}");
        assert_eq!(e.param(), param);
        let msg = one_line(&e);
        assert!(
            msg.starts_with(&format!("cannot parse {param}='{text}'")),
            "{msg}"
        );
    }
}

#[test]
fn empty_selections_name_the_parameter_that_emptied_them() {
    let path = support::ngc5921();
    let ms = MeasurementSet::open(&path).unwrap();
    let cases = [
        (
            sel(|s| s.spw = "99".into()),
            "spw",
            "spw '99' selects nothing: '99' matches no spectral window; this MS has spectral windows 0..0",
        ),
        (
            sel(|s| s.field = "nosuchfield".into()),
            "field",
            "N5921_2",
        ),
        (sel(|s| s.scan = "99".into()), "scan", "the other selections leave scans 3, 6"),
        (
            sel(|s| s.timerange = "12:00:00~13:00:00".into()),
            "timerange",
            "1995/04/13/09:33:00.0",
        ),
        (sel(|s| s.uvrange = ">5klambda".into()), "uvrange", "uv distances"),
        (sel(|s| s.antenna = "XX".into()), "antenna", "matches no antenna"),
        (sel(|s| s.observation = "3".into()), "observation", "observation ids 0"),
        (sel(|s| s.intent = "*TARGET*".into()), "intent", "no STATE table"),
        (sel(|s| s.spw = "0:70~80".into()), "spw", "channel 70 is beyond"),
    ];
    for (s, param, needle) in cases {
        let e = selection_error(&ms, &s);
        assert!(matches!(e, SelectionError::Empty { .. }), "{e}");
        assert_eq!(e.param(), param, "{e}");
        let msg = one_line(&e);
        assert!(msg.contains(needle), "{msg}");
        assert!(msg.contains("selects nothing"), "{msg}");
    }
    // Through MsError the message also names the MS.
    let e = ms
        .select(&sel(|s| s.spw = "99".into()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("ngc5921.ms") && e.contains("spw '99'"), "{e}");
}

#[test]
fn alma_empty_antenna_selection() {
    let path = support::alma();
    let ms = MeasurementSet::open(&path).unwrap();
    // Only the A001 autocorrelation, which this MS does not have.
    let e = selection_error(&ms, &sel(|s| s.antenna = "A001&&".into()));
    assert_eq!(e.param(), "antenna", "{e}");
    let e = selection_error(&ms, &sel(|s| s.intent = "*BANDPASS*".into()));
    assert!(e.to_string().contains("OBSERVE_TARGET.ON_SOURCE"), "{e}");
}

// ---------------------------------------------------------------- concurrency

/// Two handles on the same MS read from two threads, plus a second MS: the per-path lock keeps
/// casacore's shared PlainTable safe (casacore issue #1163), and results are identical.
#[test]
fn same_ms_from_two_threads_and_two_mss_at_once() {
    let ngc = support::ngc5921();
    let alma = support::alma();
    let expected = {
        let ms = MeasurementSet::open(&ngc).unwrap();
        let data = ms.select(&Selection::default()).unwrap();
        sums(&ms, &data, DataColumn::Data, 500).sum_abs_vis
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|i| {
                let p = if i == 2 { alma.clone() } else { ngc.clone() };
                scope.spawn(move || {
                    let ms = MeasurementSet::open(&p).unwrap();
                    let data = ms.select(&Selection::default()).unwrap();
                    sums(&ms, &data, DataColumn::Data, 300 + 100 * i).sum_abs_vis
                })
            })
            .collect();
        let r: Vec<f64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        // Chunk sizes differ, so the f64 partial sums are added in a different order.
        assert!(rel_close(r[0], expected, 1e-12));
        assert!(rel_close(r[1], expected, 1e-12));
        assert!(rel_close(r[2], 69103.24867658739, 1e-9));
    });
    // One MeasurementSet shared by reference between threads (it is Sync).
    let ms = MeasurementSet::open(&ngc).unwrap();
    let data = ms.select(&Selection::default()).unwrap();
    std::thread::scope(|scope| {
        let a = scope.spawn(|| sums(&ms, &data, DataColumn::Data, 700).sum_abs_vis);
        let b = scope.spawn(|| sums(&ms, &data, DataColumn::Data, 900).sum_abs_vis);
        assert!(rel_close(a.join().unwrap(), expected, 1e-12));
        assert!(rel_close(b.join().unwrap(), expected, 1e-12));
    });
}

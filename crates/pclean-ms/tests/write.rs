//! MODEL_DATA writing (tclean's savemodel='modelcolumn') on scratch copies of the test MSs: written
//! cells read back exactly through pclean-ms and python-casacore, untouched cells keep their
//! values, a missing column is added the way CASA does, and an MS opened for reading in the same
//! process sees the writes.
//!
//! Values are compared exactly: complex f32 go to disk and back unchanged. The python-casacore
//! checks are `#[ignore = "oracle: ..."]` twins of the Rust tests (scripts/test.sh runs them).

mod support;

use ndarray::Array3;
use num_complex::Complex32;
use pclean_ms::{
    remove_model_column, DataColumn, MeasurementSet, ModelColumnWriter, MsError, SelectOptions,
    Selection,
};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A scratch copy of an MS, removed on drop.
struct Scratch {
    dir: PathBuf,
    ms: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn scratch_copy(src: &Path, tag: &str) -> Scratch {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("pclean-write-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ms = dir.join(src.file_name().unwrap());
    let st = Command::new("cp")
        .arg("-r")
        .arg(src)
        .arg(&ms)
        .status()
        .unwrap();
    assert!(st.success(), "cp -r {} failed", src.display());
    Scratch { dir, ms }
}

/// The whole `col` of an MS with one spectral window, as (row, chan, corr), through pclean-ms.
fn read_all(ms: &MeasurementSet, col: DataColumn) -> Array3<Complex32> {
    let sel = ms
        .select_with(
            &Selection::default(),
            SelectOptions {
                include_autocorrelations: true,
            },
        )
        .unwrap();
    let mut out: Option<Array3<Complex32>> = None;
    for chunk in sel.chunks(ms, col, 5000) {
        let c = chunk.unwrap();
        let (_, nc, np) = c.vis_rcp.dim();
        let all = out.get_or_insert_with(|| {
            Array3::from_elem(
                (ms.meta().n_rows as usize, nc, np),
                Complex32::new(f32::NAN, f32::NAN),
            )
        });
        for (k, &r) in c.row_ids.iter().enumerate() {
            all.slice_mut(ndarray::s![r as usize, .., ..])
                .assign(&c.vis_rcp.slice(ndarray::s![k, .., ..]));
        }
    }
    let out = out.unwrap();
    assert!(out.iter().all(|v| !v.re.is_nan()), "every row was read");
    out
}

/// The value written at (row, channel, correlation).
fn model_value(r: u64, chan: usize, corr: usize) -> Complex32 {
    Complex32::new(
        r as f32 + 0.01 * chan as f32,
        corr as f32 - 0.5 * chan as f32,
    )
}

fn block(rows: &[u64], chan_start: usize, nchan: usize, ncorr: usize) -> Array3<Complex32> {
    Array3::from_shape_fn((rows.len(), nchan, ncorr), |(k, c, p)| {
        model_value(rows[k], chan_start + c, p)
    })
}

/// Run a python-casacore check; it must print "OK". Only `#[ignore = "oracle: ..."]` tests call
/// this (scripts/test.sh runs them); a missing python-casacore fails them.
fn python_check(script: &str, args: &[&str]) {
    let py = support::require_python("casacore.tables, numpy");
    let out = Command::new(py)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("OK"),
        "python check failed:\n{stdout}\n{stderr}"
    );
}

/// python: the written block equals model_value, everything else equals the reference MS.
const PY_CHECK_WRITTEN: &str = r#"
import sys, numpy as np, casacore.tables as pt
path, ref, c0, nc = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = [int(r) for r in sys.argv[5].split(",")]
t = pt.table(path, ack=False)
m = t.getcol("MODEL_DATA")            # (row, chan, corr)
if ref == "zero":
    want = np.zeros_like(m)
else:
    want = pt.table(ref, ack=False).getcol("MODEL_DATA")
ch = np.arange(c0, c0 + nc)[None, :, None]
p = np.arange(m.shape[2])[None, None, :]
r = np.array(rows)[:, None, None]
want[rows, c0:c0 + nc, :] = (r + np.float32(0.01) * ch.astype(np.float32)) + 1j * (p - 0.5 * ch)
assert m.dtype == np.complex64, m.dtype
bad = np.argwhere(m != want.astype(np.complex64))
assert len(bad) == 0, ("mismatch", bad[:5], m[tuple(bad[0])], want[tuple(bad[0])])
print("OK")
"#;

fn rows_arg(rows: &[u64]) -> String {
    rows.iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Writes a run of rows, scattered rows and a non-standard-layout view into a scratch NGC5921 and
/// checks every cell through pclean-ms; returns the scratch copy, the source MS, the written rows
/// (sorted) and the channel range (start, count).
fn write_rows_and_channels() -> (Scratch, PathBuf, Vec<u64>, usize, usize) {
    let src = support::ngc5921();
    let s = scratch_copy(&src, "subset");
    let before = read_all(&MeasurementSet::open(&s.ms).unwrap(), DataColumn::Model);
    let data_before = read_all(&MeasurementSet::open(&s.ms).unwrap(), DataColumn::Data);
    let (ncorr, c0, nc) = (before.dim().2, 5, 10);

    let mut w = ModelColumnWriter::open(&s.ms).unwrap();
    assert!(!w.added_column(), "ngc5921 already has MODEL_DATA");
    assert_eq!(w.n_rows(), 12852);
    // Two puts: a run of consecutive rows, then scattered rows (several runs in one call).
    let run: Vec<u64> = (10..20).collect();
    w.put(&run, c0, block(&run, c0, nc, ncorr).view()).unwrap();
    let scattered = [100u64, 101, 105, 12000, 12851];
    w.put(&scattered, c0, block(&scattered, c0, nc, ncorr).view())
        .unwrap();
    // A non-standard-layout view is accepted.
    let t = block(&[300], c0, nc, ncorr);
    let t2 = t.clone().reversed_axes(); // (corr, chan, row) in memory
    let view = t2.view().reversed_axes(); // back to (row, chan, corr), not C-contiguous
    w.put(&[300], c0, view).unwrap();
    w.finish().unwrap();

    let written: Vec<u64> = run.iter().chain(&scattered).copied().chain([300]).collect();
    let after = read_all(&MeasurementSet::open(&s.ms).unwrap(), DataColumn::Model);
    for ((r, c, p), v) in after.indexed_iter() {
        let inside = written.contains(&(r as u64)) && (c0..c0 + nc).contains(&c);
        let want = if inside {
            model_value(r as u64, c, p)
        } else {
            before[[r, c, p]]
        };
        assert_eq!(*v, want, "row {r} chan {c} corr {p}");
    }
    let data_after = read_all(&MeasurementSet::open(&s.ms).unwrap(), DataColumn::Data);
    assert!(data_after == data_before, "DATA must not change");

    let mut sorted = written.clone();
    sorted.sort_unstable();
    (s, src, sorted, c0, nc)
}

#[test]
fn writes_rows_and_channels_and_leaves_the_rest() {
    write_rows_and_channels();
}

#[test]
#[ignore = "oracle: needs python-casacore (PCLEAN_PYTHON); scripts/test.sh runs it"]
fn python_casacore_reads_the_written_rows_and_channels() {
    let (s, src, rows, c0, nc) = write_rows_and_channels();
    python_check(
        PY_CHECK_WRITTEN,
        &[
            s.ms.to_str().unwrap(),
            src.to_str().unwrap(),
            &c0.to_string(),
            &nc.to_string(),
            &rows_arg(&rows),
        ],
    );
}

/// python: MODEL_DATA was added as CASA's VisSetUtil::addScrCols does.
const PY_CHECK_LAYOUT: &str = r#"
import sys, numpy as np, casacore.tables as pt
t = pt.table(sys.argv[1], ack=False)
cd = t.getcoldesc("MODEL_DATA")
assert cd["valueType"] == "complex" and cd["ndim"] == 2, cd
assert cd["comment"] == "The model data column", cd
assert cd["dataManagerType"] == "TiledShapeStMan", cd
dm = t.getdminfo("MODEL_DATA")
ddm = t.getdminfo("DATA")
assert dm["NAME"] == "ModelTiled", dm
if ddm["TYPE"].startswith("Tiled"):
    # CASA takes the tile shape of DATA's largest hypercube (not DATA's DEFAULTTILESHAPE).
    tiles = [list(h["TileShape"]) for h in ddm["SPEC"]["HYPERCUBES"].values()]
    want = max(tiles, key=lambda s: int(np.prod(s)))
    assert list(dm["SPEC"]["DEFAULTTILESHAPE"]) == want, (dm, ddm)
nchan = pt.table(sys.argv[1] + "/SPECTRAL_WINDOW", ack=False).getcol("NUM_CHAN")
sel = cd["keywords"]["CHANNEL_SELECTION"]
assert sel.tolist() == [[0, int(n)] for n in nchan], sel
for r in range(0, t.nrows(), 997):
    assert t.getcell("MODEL_DATA", r).shape == t.getcell("DATA", r).shape
print("OK")
"#;

/// Removes MODEL_DATA from a scratch NGC5921, lets the writer add it back and writes whole rows;
/// returns the scratch copy, the written rows and the channel range (start, count).
fn add_missing_model_data() -> (Scratch, [u64; 5], usize, usize) {
    let src = support::ngc5921();
    let s = scratch_copy(&src, "add");
    assert!(remove_model_column(&s.ms).unwrap());
    assert!(!remove_model_column(&s.ms).unwrap(), "already removed");
    let ms = MeasurementSet::open(&s.ms).unwrap();
    assert!(matches!(
        ms.resolve_column(DataColumn::Model),
        Err(MsError::MissingColumn { .. })
    ));
    drop(ms);

    let mut w = ModelColumnWriter::open(&s.ms).unwrap();
    assert!(w.added_column());
    let rows = [0u64, 1, 2, 5000, 12851];
    let (c0, nc) = (0, 63);
    w.put(&rows, c0, block(&rows, c0, nc, 2).view()).unwrap();
    w.finish().unwrap();
    // Reopening does not add it again.
    let w = ModelColumnWriter::open(&s.ms).unwrap();
    assert!(!w.added_column());
    drop(w);

    let m = read_all(&MeasurementSet::open(&s.ms).unwrap(), DataColumn::Model);
    for ((r, c, p), v) in m.indexed_iter() {
        let want = if rows.contains(&(r as u64)) {
            model_value(r as u64, c, p)
        } else {
            Complex32::new(0.0, 0.0)
        };
        assert_eq!(*v, want, "row {r} chan {c} corr {p}");
    }
    (s, rows, c0, nc)
}

#[test]
fn adds_missing_model_data_like_casa() {
    add_missing_model_data();
}

#[test]
#[ignore = "oracle: needs python-casacore (PCLEAN_PYTHON); scripts/test.sh runs it"]
fn python_casacore_sees_the_added_model_data_like_casa() {
    let (s, rows, c0, nc) = add_missing_model_data();
    python_check(PY_CHECK_LAYOUT, &[s.ms.to_str().unwrap()]);
    python_check(
        PY_CHECK_WRITTEN,
        &[
            s.ms.to_str().unwrap(),
            "zero",
            &c0.to_string(),
            &nc.to_string(),
            &rows_arg(&rows),
        ],
    );
}

/// python: remove MODEL_DATA as a CASA user would.
const PY_REMOVECOLS: &str = "import sys, casacore.tables as pt; \
    t = pt.table(sys.argv[1], readonly=False, ack=False); \
    t.removecols(['MODEL_DATA']); t.close(); print('OK')";

/// On a scratch alma_small whose MODEL_DATA `remove` deleted, the writer adds the column back and
/// writes a block; every cell is checked through pclean-ms.
fn add_model_data_on_alma(tag: &str, remove: fn(&Path)) -> Scratch {
    let src = support::alma();
    let s = scratch_copy(&src, tag);
    remove(&s.ms);
    let mut w = ModelColumnWriter::open(&s.ms).unwrap();
    assert!(w.added_column());
    let rows: Vec<u64> = (1000..1300).chain(20000..20010).collect();
    let (c0, nc) = (3, 7);
    w.put(&rows, c0, block(&rows, c0, nc, 2).view()).unwrap();
    w.finish().unwrap();
    let m = read_all(&MeasurementSet::open(&s.ms).unwrap(), DataColumn::Model);
    assert_eq!(
        (m.dim().1, m.dim().2),
        (16, 2),
        "alma_small: 16 channels, XX/YY"
    );
    for ((r, c, p), v) in m.indexed_iter() {
        let inside = rows.contains(&(r as u64)) && (c0..c0 + nc).contains(&c);
        let want = if inside {
            model_value(r as u64, c, p)
        } else {
            Complex32::new(0.0, 0.0)
        };
        assert_eq!(*v, want, "row {r} chan {c} corr {p}");
    }
    s
}

#[test]
fn adds_model_data_after_removal_on_alma() {
    add_model_data_on_alma("alma-add", |ms| assert!(remove_model_column(ms).unwrap()));
}

#[test]
#[ignore = "oracle: needs python-casacore (PCLEAN_PYTHON); scripts/test.sh runs it"]
fn adds_model_data_after_python_removecols_on_alma() {
    let s = add_model_data_on_alma("alma-add-py", |ms| {
        python_check(PY_REMOVECOLS, &[ms.to_str().unwrap()])
    });
    python_check(PY_CHECK_LAYOUT, &[s.ms.to_str().unwrap()]);
}

#[test]
fn open_reader_sees_writes_and_threads_do_not_collide() {
    let src = support::alma();
    let s = scratch_copy(&src, "shared");
    // The reader is open before the writer (casacore shares its table with the writer).
    let ms = MeasurementSet::open(&s.ms).unwrap();
    let before = read_all(&ms, DataColumn::Model);
    let rows: Vec<u64> = (0..50).collect();
    {
        let mut w = ModelColumnWriter::open(&s.ms).unwrap();
        w.put(&rows, 0, block(&rows, 0, 16, 2).view()).unwrap();
        // Readable through the open MS before finish, too.
        let mid = read_all(&ms, DataColumn::Model);
        assert_eq!(mid[[7, 3, 1]], model_value(7, 3, 1));
        w.finish().unwrap();
    }
    let after = read_all(&ms, DataColumn::Model);
    for ((r, c, p), v) in after.indexed_iter() {
        let want = if r < 50 {
            model_value(r as u64, c, p)
        } else {
            before[[r, c, p]]
        };
        assert_eq!(*v, want);
    }

    // A writer and readers of the same MS in several threads: the per-path lock serialises them.
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut w = ModelColumnWriter::open(&s.ms).unwrap();
            for k in 0..20u64 {
                let rows: Vec<u64> = (k * 100..k * 100 + 100).collect();
                w.put(&rows, 0, block(&rows, 0, 16, 2).view()).unwrap();
            }
            w.finish().unwrap();
        });
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..3 {
                    let m = MeasurementSet::open(&s.ms).unwrap();
                    let _ = read_all(&m, DataColumn::Model);
                }
            });
        }
    });
    let m = read_all(&MeasurementSet::open(&s.ms).unwrap(), DataColumn::Model);
    assert_eq!(m[[1999, 15, 1]], model_value(1999, 15, 1));
}

#[test]
fn bad_requests_are_errors() {
    let src = support::ngc5921();
    let s = scratch_copy(&src, "errors");
    let mut w = ModelColumnWriter::open(&s.ms).unwrap();
    let b = block(&[1, 2], 0, 4, 2);
    let e = w.put(&[2, 1], 0, b.view()).unwrap_err().to_string();
    assert!(e.contains("ascending"), "{e}");
    let e = w.put(&[1, 99999], 0, b.view()).unwrap_err().to_string();
    assert!(e.contains("out of range"), "{e}");
    let e = w.put(&[1], 0, b.view()).unwrap_err().to_string();
    assert!(e.contains("row numbers"), "{e}");
    // Channels beyond the cell (63 channels): casacore's shape, reported with the row.
    let e = w.put(&[1, 2], 60, b.view()).unwrap_err().to_string();
    assert!(e.contains("MODEL_DATA") && e.contains("cell shape"), "{e}");
    // Wrong number of correlations.
    let e = w
        .put(&[1, 2], 0, block(&[1, 2], 0, 4, 4).view())
        .unwrap_err()
        .to_string();
    assert!(e.contains("cell shape"), "{e}");
    // Nothing was written by the failed calls.
    w.finish().unwrap();
    let orig = read_all(&MeasurementSet::open(&src).unwrap(), DataColumn::Model);
    let now = read_all(&MeasurementSet::open(&s.ms).unwrap(), DataColumn::Model);
    assert!(orig == now);

    assert!(matches!(
        ModelColumnWriter::open(s.dir.join("missing.ms")),
        Err(MsError::NotFound { .. })
    ));
    assert!(matches!(
        ModelColumnWriter::open(&s.dir),
        Err(MsError::NotATable { .. })
    ));
}

//! Locating the test MeasurementSets. They live in `$PCLEAN_TESTDATA` (default `<workspace>/testdata`)
//! either unpacked (`ngc5921.ms/`) or as the tarballs the lead keeps there (`ngc5921.ms.tar.gz`). A
//! tarball is unpacked on first use into `CARGO_TARGET_TMPDIR/pclean-testdata`, race-safe across
//! concurrent test binaries: each unpacks into its own temporary directory and renames it into place;
//! the loser of a race discards its copy.
//!
//! Prerequisites never pass silently (issue 12):
//! - the test MSs ship with the repository (`testdata/*.tar.gz`), so a missing one is a broken checkout
//!   or a wrong `PCLEAN_TESTDATA`: [`ngc5921`] and [`alma`] panic with the reason, everywhere;
//! - python-casacore oracles are an external tool: the tests that need one are `#[ignore = "oracle:
//!   ..."]` (listed as ignored, with that reason, by a plain `cargo test`) and `scripts/test.sh` runs
//!   them (`cargo test -- --ignored`) with `PCLEAN_PYTHON=.venv/bin/python`; once asked for, a missing
//!   interpreter or module fails the test ([`require_python`]).
#![allow(dead_code)] // each test binary that includes this module uses part of it

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The test-data directory.
pub fn testdata_dir() -> PathBuf {
    match std::env::var_os("PCLEAN_TESTDATA") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata"),
    }
}

fn is_table(p: &Path) -> bool {
    p.join("table.dat").is_file()
}

/// Path of the unpacked MS `name` (e.g. `"ngc5921.ms"`) from `tarball` (e.g. `"ngc5921.ms.tar.gz"`),
/// or the reason it is unavailable.
pub fn ms(name: &str, tarball: &str) -> Result<PathBuf, String> {
    static LOCK: Mutex<()> = Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = testdata_dir();
    let direct = dir.join(name);
    if is_table(&direct) {
        return Ok(direct);
    }
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pclean-testdata");
    let cached = cache.join(name);
    if is_table(&cached) {
        return Ok(cached);
    }
    let tar = dir.join(tarball);
    if !tar.is_file() {
        return Err(format!(
            "neither {} nor {} exists (set PCLEAN_TESTDATA)",
            direct.display(),
            tar.display()
        ));
    }
    std::fs::create_dir_all(&cache).map_err(|e| e.to_string())?;
    let tmp = cache.join(format!(".unpack-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let status = Command::new("tar")
        .arg("xzf")
        .arg(&tar)
        .arg("-C")
        .arg(&tmp)
        .status()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    if !status.success() {
        return Err(format!("tar xzf {} failed: {status}", tar.display()));
    }
    if std::fs::rename(tmp.join(name), &cached).is_err() && !is_table(&cached) {
        return Err(format!("{tarball} does not unpack to {name}"));
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(cached)
}

/// The unpacked MS, or a panic saying why it is unavailable (the MSs are part of the repository).
fn bundled(name: &str, tarball: &str) -> PathBuf {
    ms(name, tarball).unwrap_or_else(|why| {
        panic!("test data missing (testdata/{tarball} ships with the repository): {why}")
    })
}

/// NGC5921 (VLA, RR/LL, 63 channels, 12852 rows).
pub fn ngc5921() -> PathBuf {
    bundled("ngc5921.ms", "ngc5921.ms.tar.gz")
}

/// The simulated ALMA MS (XX/YY, 16 channels, TOPO, 27090 rows).
pub fn alma() -> PathBuf {
    bundled("alma_small.ms", "alma_sim.ms.tar.gz")
}

/// A copy of the table (directory) `src` at `dst` (`cp -r`), for a test that writes into it.
pub fn copy_table(src: &Path, dst: &Path) {
    let st = Command::new("cp").arg("-r").arg(src).arg(dst).status();
    assert!(
        st.is_ok_and(|s| s.success()),
        "cp -r {} {} failed",
        src.display(),
        dst.display()
    );
}

/// The Python interpreter of the oracles: `$PCLEAN_PYTHON` (scripts/test.sh sets its venv's), else
/// `python3` from `PATH`.
pub fn python() -> PathBuf {
    std::env::var_os("PCLEAN_PYTHON")
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from("python3"), PathBuf::from)
}

/// Check that [`python`] imports `modules` (comma-separated, e.g. `"casacore.tables, numpy"`);
/// panic with the reason otherwise. Only `#[ignore = "oracle: ..."]` tests call this: they run
/// when asked for (`--ignored`, as scripts/test.sh does), and then must not pass unrun.
pub fn require_python(modules: &str) -> PathBuf {
    let py = python();
    let out = Command::new(&py)
        .args(["-c", &format!("import {modules}")])
        .output();
    match out {
        Ok(o) if o.status.success() => py,
        Ok(o) => panic!(
            "oracle unavailable: {} cannot import {modules} (set PCLEAN_PYTHON to a python with \
             tests/python/requirements.txt, e.g. .venv/bin/python from scripts/test.sh):\n{}",
            py.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!(
            "oracle unavailable: cannot run {} ({e}); set PCLEAN_PYTHON",
            py.display()
        ),
    }
}

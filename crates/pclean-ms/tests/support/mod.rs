//! Locating the test MeasurementSets. They live in `$PCLEAN_TESTDATA` (default `<workspace>/testdata`)
//! either unpacked (`ngc5921.ms/`) or as the tarballs the lead keeps there (`ngc5921.ms.tar.gz`). A
//! tarball is unpacked on first use into `CARGO_TARGET_TMPDIR/pclean-testdata`, race-safe across
//! concurrent test binaries: each unpacks into its own temporary directory and renames it into place;
//! the loser of a race discards its copy.

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

/// NGC5921 (VLA, RR/LL, 63 channels, 12852 rows), or a skip reason.
pub fn ngc5921() -> Result<PathBuf, String> {
    ms("ngc5921.ms", "ngc5921.ms.tar.gz")
}

/// The simulated ALMA MS (XX/YY, 16 channels, TOPO, 27090 rows), or a skip reason.
pub fn alma() -> Result<PathBuf, String> {
    ms("alma_small.ms", "alma_sim.ms.tar.gz")
}

/// Evaluate to the MS path, or print why the test is skipped and return.
#[macro_export]
macro_rules! need {
    ($e:expr) => {
        match $e {
            Ok(p) => p,
            Err(why) => {
                eprintln!("SKIPPED: test data unavailable: {why}");
                return;
            }
        }
    };
}

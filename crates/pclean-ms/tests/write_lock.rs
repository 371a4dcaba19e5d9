//! Writers of one MS in several processes take turns on its table lock (Dask row partitions
//! writing their own rows of MODEL_DATA, issue 16): a writer waits a bounded time for another
//! process's write lock and says which table is locked when the wait runs out, and a writer that
//! finished releases the lock even though its process keeps the table open (the session-10 hang:
//! casacore's automatic locking kept it held by an idle process).
//!
//! The other process is this test binary again, running the ignored `hold_lock_child` test.

#[path = "support/mod.rs"]
mod support;

use pclean_casacore::write_columns::UpdateTable;
use pclean_casacore::TableError;
use pclean_ms::{MeasurementSet, ModelColumnWriter};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HOLD: &str = "PCLEAN_TEST_HOLD_LOCK";

/// The child: keeps the MS open (as a Dask worker keeps its run's tables), takes the write lock,
/// says so, holds it for the given seconds, releases it, and stays alive with the table open for
/// as long again (an idle process that has written).
#[test]
#[ignore = "run by writers_take_turns_with_a_bounded_wait in a child process"]
fn hold_lock_child() {
    let Ok(spec) = std::env::var(HOLD) else {
        return;
    };
    let (path, secs) = spec.split_once('|').unwrap();
    let secs: f64 = secs.parse().unwrap();
    let _reader = MeasurementSet::open(path).unwrap();
    let w = ModelColumnWriter::open(path).unwrap();
    println!("LOCKED");
    std::thread::sleep(Duration::from_secs_f64(secs));
    // `finish` flushes and releases the lock; the reader keeps casacore's table open.
    w.finish().unwrap();
    println!("RELEASED");
    std::thread::sleep(Duration::from_secs_f64(secs));
}

fn copy_alma(tag: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("pclean-lock-{tag}"))
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let ms = dir.path().join("alma_small.ms");
    support::copy_table(&support::alma(), &ms);
    // The column exists before the processes start, as the coordinator makes it.
    ModelColumnWriter::open(&ms).unwrap().finish().unwrap();
    (dir, ms)
}

#[test]
fn writers_take_turns_with_a_bounded_wait() {
    let (_dir, ms) = copy_alma("turns");
    let hold_s = 4.0;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "hold_lock_child", "--ignored", "--nocapture"])
        .env(HOLD, format!("{}|{hold_s}", ms.display()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let wait_for = |lines: &mut std::io::Lines<_>, what: &str| {
        for l in lines.by_ref() {
            let l: String = l.unwrap();
            if l.contains(what) {
                return;
            }
        }
        panic!("the child ended before {what}");
    };
    wait_for(&mut lines, "LOCKED");

    // A bounded wait while the other process holds the lock: an error naming the table.
    let mut t = UpdateTable::open(&ms).unwrap();
    let t0 = Instant::now();
    let err = t.lock_for_write(2).unwrap_err();
    let waited = t0.elapsed().as_secs_f64();
    assert!(matches!(err, TableError::Locked { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("locked by another process") && msg.contains(&*ms_name(&ms)),
        "{msg}"
    );
    assert!(
        (1.0..5.0).contains(&waited),
        "waited {waited} s for a 2 s bound"
    );
    drop(t);

    // A writer opened now waits until the child's writer finished (released the lock) and goes
    // on while the child still has the table open and sits idle.
    let t0 = Instant::now();
    let w = ModelColumnWriter::open(&ms).unwrap();
    let waited = t0.elapsed().as_secs_f64();
    w.finish().unwrap();
    assert!(
        waited < 3.0 * hold_s,
        "the second writer waited {waited} s (the child releases after {hold_s} s)"
    );
    wait_for(&mut lines, "RELEASED");
    assert!(child.wait().unwrap().success());
}

fn ms_name(ms: &Path) -> String {
    ms.file_name().unwrap().to_string_lossy().into_owned()
}

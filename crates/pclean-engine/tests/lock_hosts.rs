//! The product lock between two machines sharing a filesystem: the "other machine" is this test
//! binary re-run in its own UTS namespace (`unshare --uts`, its own host name) on the same
//! filesystem, holding the lock with a 2 s lease. Needs `unshare` (as root, or with unprivileged
//! user namespaces); skipped without it, failed without it when `CI` is set (the suite's rule
//! for a missing tool).

use pclean_engine::products::ProductLock;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const OTHER_HOST: &str = "pclean-other-node";
/// The holder's lease (s): the heartbeat runs every 0.5 s.
const LEASE_S: u64 = 2;

/// The "other machine": when `PCLEAN_TEST_LOCK_HOLDER` names a prefix, take its lock, say so
/// in `<prefix>.ready`, and hold it (heartbeat running) until `<prefix>.stop` appears (at most
/// 120 s). Otherwise nothing (the ordinary test run).
#[test]
fn lock_holder_process() {
    let Ok(prefix) = std::env::var("PCLEAN_TEST_LOCK_HOLDER") else {
        return;
    };
    let _lock = ProductLock::acquire(&prefix).expect("holder takes the lock");
    std::fs::write(format!("{prefix}.ready"), std::process::id().to_string()).unwrap();
    let t0 = Instant::now();
    while !Path::new(&format!("{prefix}.stop")).exists() && t0.elapsed() < Duration::from_secs(120)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Start the holder in its own UTS namespace, or `None` when `unshare` cannot make one here.
fn start_holder(prefix: &str) -> Option<Child> {
    let exe = std::env::current_exe().unwrap();
    for ns in [&["--uts"][..], &["--user", "--map-root-user", "--uts"][..]] {
        let probe = Command::new("unshare")
            .args(ns)
            .args(["sh", "-c", &format!("hostname {OTHER_HOST}")])
            .stderr(Stdio::null())
            .status();
        if !probe.is_ok_and(|s| s.success()) {
            continue;
        }
        // `exec`: the holder's pid is the child's (no fork in between).
        let child = Command::new("unshare")
            .args(ns)
            .args([
                "sh",
                "-c",
                &format!("hostname {OTHER_HOST} && exec \"$0\" \"$@\""),
            ])
            .arg(&exe)
            .args([
                "--exact",
                "lock_holder_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("PCLEAN_TEST_LOCK_HOLDER", prefix)
            .env("PCLEAN_LOCK_LEASE_S", LEASE_S.to_string())
            .spawn()
            .unwrap();
        return Some(child);
    }
    None
}

fn wait_for(path: &Path, what: &str) {
    let t0 = Instant::now();
    while !path.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "{what}: no {path:?} after 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn refusal(prefix: &str) -> String {
    match ProductLock::acquire(prefix) {
        Ok(_) => panic!("the lock of the other host's live run was taken"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn lock_held_on_another_host_is_refused_then_taken_over_after_its_lease() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("img").display().to_string();
    let Some(mut holder) = start_holder(&prefix) else {
        assert!(
            std::env::var("CI").map_or(true, |v| v.is_empty()),
            "CI: `unshare --uts` is needed to run a second host name on this filesystem"
        );
        eprintln!("skipped: `unshare --uts` cannot make a UTS namespace here");
        return;
    };
    wait_for(&PathBuf::from(format!("{prefix}.ready")), "holder");
    let text = std::fs::read_to_string(format!("{prefix}.lock")).unwrap();
    assert!(
        text.starts_with(&format!("{OTHER_HOST} {} lease={LEASE_S} ", holder.id())),
        "{text}"
    );

    // Refused while the holder lives, with its host and pid; still refused after more than its
    // lease (its heartbeat keeps the lock fresh).
    let msg = refusal(&prefix);
    assert!(
        msg.contains(&format!("pid {} on host {OTHER_HOST}", holder.id())),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("not refreshed for {LEASE_S} s")),
        "{msg}"
    );
    std::thread::sleep(Duration::from_secs(2 * LEASE_S + 1));
    let msg = refusal(&prefix);
    assert!(
        msg.contains("last refreshed 0 s ago") || msg.contains("last refreshed 1 s ago"),
        "{msg}"
    );

    // The holder dies without releasing (SIGKILL: a crashed node). Its pid is not checkable from
    // this "host", so the lock is held until the lease runs out, then taken over.
    holder.kill().unwrap();
    holder.wait().unwrap();
    let killed = Instant::now();
    let last_refresh = std::fs::metadata(format!("{prefix}.lock"))
        .expect("a killed run leaves its lock")
        .modified()
        .unwrap();
    let taken = loop {
        match ProductLock::acquire(&prefix) {
            Ok(lock) => break lock,
            Err(e) => {
                assert!(
                    killed.elapsed() < Duration::from_secs(4 * LEASE_S + 10),
                    "not taken over {:?} after the holder died: {e}",
                    killed.elapsed()
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    };
    // Not within the lease: taken over no sooner than LEASE_S after the holder's last refresh
    // (both times from this machine's clock, the filesystem being local).
    let since_refresh = std::time::SystemTime::now()
        .duration_since(last_refresh)
        .unwrap();
    assert!(
        since_refresh >= Duration::from_secs(LEASE_S),
        "taken over {since_refresh:?} after the holder's last refresh, within its {LEASE_S} s lease"
    );
    let now = std::fs::read_to_string(format!("{prefix}.lock")).unwrap();
    assert!(now.contains(&format!(" {} ", std::process::id())), "{now}");
    drop(taken);
    assert!(!Path::new(&format!("{prefix}.lock")).exists());
    eprintln!(
        "other-host lock taken over {:.1} s after its holder was killed (lease {LEASE_S} s)",
        killed.elapsed().as_secs_f64()
    );
}

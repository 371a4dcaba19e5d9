use super::*;
use std::time::SystemTime;

fn prefix(dir: &tempfile::TempDir) -> String {
    dir.path().join("img").display().to_string()
}

/// Set the lock file's mtime `secs` seconds into the past (a holder that stopped refreshing).
fn age_lock(name: &str, secs: u64) {
    let f = File::options()
        .write(true)
        .open(format!("{name}.lock"))
        .unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(secs))
        .unwrap();
}

#[test]
fn second_lock_is_refused_with_host_and_pid() {
    let dir = tempfile::tempdir().unwrap();
    let name = prefix(&dir);
    let first = ProductLock::acquire(&name).unwrap();
    let msg = ProductLock::acquire(&name)
        .err()
        .expect("second lock refused")
        .to_string();
    assert!(
        msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );
    assert!(msg.contains(&format!("host {}", host_name())), "{msg}");
    drop(first);
    drop(ProductLock::acquire(&name).expect("free after the first is dropped"));
    assert!(!Path::new(&format!("{name}.lock")).exists());
}

#[test]
fn stale_lock_of_a_dead_process_is_taken_over_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let name = prefix(&dir);
    // A pid above the kernel's maximum (4194304) is never running. Same host: the lease does
    // not matter (a fresh mtime), the dead pid does.
    for text in [
        format!("{} 4999999 lease=3600 beat=0", host_name()),
        format!("{} 4999999", host_name()),
        "4999999".to_string(),
    ] {
        std::fs::write(format!("{name}.lock"), &text).unwrap();
        let _lock = ProductLock::acquire(&name).expect("stale lock taken over");
        let now = std::fs::read_to_string(format!("{name}.lock")).unwrap();
        assert_eq!(lock_holder(&now).pid, std::process::id().to_string());
    }
}

#[test]
fn lock_of_an_older_pclean_from_another_host_is_never_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let name = prefix(&dir);
    std::fs::write(format!("{name}.lock"), "other-node-17 4999999").unwrap();
    age_lock(&name, 100_000);
    let msg = ProductLock::acquire(&name).err().unwrap().to_string();
    assert!(msg.contains("pid 4999999 on host other-node-17"), "{msg}");
    assert!(msg.contains("remove the lock file"), "{msg}");
}

#[test]
fn lock_from_another_host_is_taken_over_only_after_its_lease() {
    let dir = tempfile::tempdir().unwrap();
    let name = prefix(&dir);
    std::fs::write(
        format!("{name}.lock"),
        "other-node-17 4242 lease=30 beat=7\n",
    )
    .unwrap();
    // Refreshed 10 s ago, lease 30 s: held.
    age_lock(&name, 10);
    let msg = ProductLock::acquire(&name).err().unwrap().to_string();
    assert!(msg.contains("pid 4242 on host other-node-17"), "{msg}");
    // The age is measured on the filesystem's clock: 10 s, give or take the test's own time.
    assert!(
        msg.contains("last refreshed 10 s ago") || msg.contains("last refreshed 11 s ago"),
        "{msg}"
    );
    assert!(msg.contains("not refreshed for 30 s"), "{msg}");
    // Not refreshed for 31 s: taken over, the new holder recorded with this run's lease.
    age_lock(&name, 31);
    let lock = ProductLock::acquire_with_lease(&name, 5).expect("expired lease taken over");
    let now = lock_holder(&std::fs::read_to_string(format!("{name}.lock")).unwrap());
    assert_eq!(
        now,
        Holder {
            host: Some(host_name()),
            pid: std::process::id().to_string(),
            lease_s: Some(5)
        }
    );
    drop(lock);
    assert!(!Path::new(&format!("{name}.lock")).exists());
}

#[test]
fn heartbeat_refreshes_the_lock_within_its_lease() {
    let dir = tempfile::tempdir().unwrap();
    let name = prefix(&dir);
    let _lock = ProductLock::acquire_with_lease(&name, 2).unwrap();
    let path = format!("{name}.lock");
    age_lock(&name, 1000);
    // The heartbeat runs every lease/4 = 0.5 s; 3 s leave room for a loaded machine.
    let t0 = std::time::Instant::now();
    loop {
        let age = lock_age(Path::new(&path)).unwrap();
        if age < 2.0 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(3),
            "not refreshed: {age} s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("beat=0"), "{text}");
}

#[test]
fn a_run_whose_lock_was_taken_over_leaves_the_new_lock_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let name = prefix(&dir);
    let path = format!("{name}.lock");
    let first = ProductLock::acquire_with_lease(&name, 600).unwrap();
    // A taker moved the lock aside and wrote its own.
    std::fs::rename(&path, format!("{path}.aside")).unwrap();
    std::fs::write(&path, "other-node-17 4242 lease=60 beat=0\n").unwrap();
    drop(first);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "other-node-17 4242 lease=60 beat=0\n"
    );
}

#[test]
fn lock_records_parse() {
    assert_eq!(
        lock_holder("n1 12 lease=60 beat=3\n"),
        Holder {
            host: Some("n1".into()),
            pid: "12".into(),
            lease_s: Some(60)
        }
    );
    assert_eq!(
        lock_holder("12"),
        Holder {
            host: None,
            pid: "12".into(),
            lease_s: None
        }
    );
    assert_eq!(lock_holder("n1 12 lease=x").lease_s, None);
}

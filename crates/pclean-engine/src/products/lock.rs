//! The exclusive lock on a product prefix, safe across machines sharing the filesystem.
//!
//! `<imagename>.lock` holds `<host> <pid> lease=<N> beat=<k>`. It is created with `O_EXCL` (atomic
//! on local filesystems and NFS v3+). While the run lives, a heartbeat thread rewrites the file
//! every N/4 s (the write sets its mtime from the file server's clock). Another run finding the
//! lock:
//! - same host: takes it over at once when the pid is gone (as before leases existed);
//! - another host: takes it over only when the lock was not refreshed for N s, its age measured
//!   against a probe file written beside it just now, so both times come from the same clock
//!   (the file server's: no dependence on the two machines' clocks agreeing);
//! - another host, no lease recorded (a pclean before leases): never taken over.
//!
//! Taking over moves the lock aside first (only one of several takers gets it) and puts it back
//! when what was moved is not what was judged stale (the holder refreshed it in between). The
//! lease N is `PCLEAN_LOCK_LEASE_S` (default [`DEFAULT_LEASE_S`] s) of the holder, recorded in the
//! file, so the taker applies the holder's lease.

use crate::error::EngineError;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// Seconds after which a lock from another host that was not refreshed is taken over.
pub const DEFAULT_LEASE_S: u64 = 60;
/// The smallest lease accepted from `PCLEAN_LOCK_LEASE_S` (the heartbeat runs every lease/4).
pub const MIN_LEASE_S: u64 = 2;

/// An exclusive lock on a product prefix (see the module's documentation); released on drop.
pub struct ProductLock {
    path: PathBuf,
    file: Arc<File>,
    stop: Option<mpsc::Sender<()>>,
    beat: Option<std::thread::JoinHandle<()>>,
}

/// This machine's host name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`, else "unknown").
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// The lease this run gives its lock: `PCLEAN_LOCK_LEASE_S` (whole seconds >= [`MIN_LEASE_S`]),
/// else [`DEFAULT_LEASE_S`].
pub fn lease_seconds() -> Result<u64, EngineError> {
    match std::env::var("PCLEAN_LOCK_LEASE_S") {
        Err(_) => Ok(DEFAULT_LEASE_S),
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(n) if n >= MIN_LEASE_S => Ok(n),
            _ => Err(EngineError::param(
                "PCLEAN_LOCK_LEASE_S",
                format!(
                    "'{v}' is not a lock lease in whole seconds >= {MIN_LEASE_S}; unset it for the default {DEFAULT_LEASE_S}"
                ),
            )),
        },
    }
}

/// The holder recorded in a lock file.
#[derive(Debug, PartialEq)]
struct Holder {
    /// `None` for a lock of a pclean before hosts were recorded (taken to be this host's).
    host: Option<String>,
    pid: String,
    /// `None` for a lock of a pclean before leases (never taken over from another host).
    lease_s: Option<u64>,
}

fn lock_holder(text: &str) -> Holder {
    let mut parts = text.split_whitespace();
    let (host, pid) = match (parts.next(), parts.next()) {
        (Some(host), Some(pid)) => (Some(host.to_string()), pid.to_string()),
        (Some(pid), None) => (None, pid.to_string()),
        _ => (None, String::new()),
    };
    let lease_s = parts
        .filter_map(|p| p.strip_prefix("lease="))
        .find_map(|n| n.parse().ok());
    Holder { host, pid, lease_s }
}

fn pid_alive(pid: &str) -> bool {
    pid.parse::<u32>()
        .is_ok_and(|p| Path::new(&format!("/proc/{p}")).exists())
}

/// Seconds since the lock was last written, by the filesystem's clock: a probe file is written
/// beside it now and the two mtimes compared. `None` when that cannot be measured.
fn lock_age(path: &Path) -> Option<f64> {
    let locked = std::fs::metadata(path).ok()?.modified().ok()?;
    let probe = PathBuf::from(format!(
        "{}.probe-{}-{}",
        path.display(),
        host_name(),
        std::process::id()
    ));
    let now = File::create(&probe)
        .and_then(|mut f| {
            f.write_all(b"probe")?;
            f.sync_all()?;
            f.metadata()?.modified()
        })
        .ok();
    let _ = std::fs::remove_file(&probe);
    let now = now?;
    Some(match now.duration_since(locked) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    })
}

fn record(host: &str, lease_s: u64, beat: u64) -> String {
    format!(
        "{host} {} lease={lease_s} beat={beat}\n",
        std::process::id()
    )
}

/// Whether `path` is still the file open as `file` (not moved aside by a taker).
fn still_ours(path: &Path, file: &File) -> bool {
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn heartbeat(path: PathBuf, file: Arc<File>, host: String, lease_s: u64, stop: mpsc::Receiver<()>) {
    let every = Duration::from_millis(lease_s * 1000 / 4);
    let mut beat = 0u64;
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(every) {
        if !still_ours(&path, &file) {
            tracing::error!(
                "the lock '{}' of this run was taken over by another run (this run's heartbeat was late by more than its {lease_s} s lease); two runs may now write the same products",
                path.display()
            );
            return;
        }
        beat += 1;
        let mut f = &*file;
        let written = f
            .seek(SeekFrom::Start(0))
            .and_then(|_| f.write_all(record(&host, lease_s, beat).as_bytes()))
            .and_then(|_| f.sync_data());
        if let Err(e) = written {
            tracing::warn!("cannot refresh the lock '{}': {e}", path.display());
        }
    }
}

impl ProductLock {
    /// Take the lock on `imagename`'s products with this run's lease ([`lease_seconds`]).
    pub fn acquire(imagename: &str) -> Result<Self, EngineError> {
        Self::acquire_with_lease(imagename, lease_seconds()?)
    }

    pub(crate) fn acquire_with_lease(imagename: &str, lease_s: u64) -> Result<Self, EngineError> {
        let path = PathBuf::from(format!("{imagename}.lock"));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| EngineError::Io {
                context: format!("cannot create output directory '{}'", dir.display()),
                source,
            })?;
        }
        let me = host_name();
        for _ in 0..3 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let written = f
                        .write_all(record(&me, lease_s, 0).as_bytes())
                        .and_then(|_| f.sync_all());
                    if let Err(source) = written {
                        let _ = std::fs::remove_file(&path);
                        return Err(EngineError::Io {
                            context: format!("cannot write lock file '{}'", path.display()),
                            source,
                        });
                    }
                    let file = Arc::new(f);
                    let (tx, rx) = mpsc::channel();
                    let (p, fh, h) = (path.clone(), file.clone(), me.clone());
                    let beat = std::thread::Builder::new()
                        .name("pclean-lock-heartbeat".into())
                        .spawn(move || heartbeat(p, fh, h, lease_s, rx))
                        .map_err(|source| EngineError::Io {
                            context: "cannot start the lock's heartbeat thread".into(),
                            source,
                        })?;
                    return Ok(ProductLock {
                        path,
                        file,
                        stop: Some(tx),
                        beat: Some(beat),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    let holder = lock_holder(&text);
                    let same_host = holder.host.as_deref().is_none_or(|h| h == me);
                    let age = if same_host { None } else { lock_age(&path) };
                    let expired = match (holder.lease_s, age) {
                        (Some(lease), Some(age)) => age > lease as f64,
                        _ => false,
                    };
                    if (same_host && pid_alive(&holder.pid)) || (!same_host && !expired) {
                        return Err(EngineError::Locked {
                            prefix: imagename.to_string(),
                            lock: path,
                            pid: holder.pid,
                            host: holder.host.unwrap_or(me),
                            same_host,
                            age_s: age.unwrap_or(f64::NAN),
                            lease_s: holder.lease_s.map(|n| n.min(u32::MAX as u64) as u32),
                        });
                    }
                    // A stale lock: take it over. Move it aside first (only one of several runs
                    // doing this at once gets it), and put it back if what was moved is not the
                    // lock read above (another run's new lock, or the holder refreshed it).
                    let aside = PathBuf::from(format!(
                        "{}.stale-{me}-{}",
                        path.display(),
                        std::process::id()
                    ));
                    if std::fs::rename(&path, &aside).is_ok() {
                        let moved = std::fs::read_to_string(&aside).unwrap_or_default();
                        if moved != text {
                            let _ = std::fs::rename(&aside, &path);
                            continue;
                        }
                        let _ = std::fs::remove_file(&aside);
                        let host = holder.host.unwrap_or_else(|| me.clone());
                        if same_host {
                            tracing::warn!(
                                "took over the stale lock '{}' of pid {} on this host ({host}), which is no longer running",
                                path.display(),
                                holder.pid
                            );
                        } else {
                            tracing::warn!(
                                "took over the stale lock '{}' of pid {} on host {host}: not refreshed for {:.0} s, beyond its {} s lease",
                                path.display(),
                                holder.pid,
                                age.unwrap_or(f64::NAN),
                                holder.lease_s.unwrap_or(0)
                            );
                        }
                    }
                }
                Err(source) => {
                    return Err(EngineError::Io {
                        context: format!("cannot create lock file '{}'", path.display()),
                        source,
                    })
                }
            }
        }
        Err(EngineError::Io {
            context: format!("cannot take lock '{}'", path.display()),
            source: std::io::Error::other("lock contention"),
        })
    }
}

impl Drop for ProductLock {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(beat) = self.beat.take() {
            let _ = beat.join();
        }
        // Remove the lock only while it is still this run's (a taker's new lock stays).
        if still_ours(&self.path, &self.file) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
#[path = "lock_tests.rs"]
mod tests;

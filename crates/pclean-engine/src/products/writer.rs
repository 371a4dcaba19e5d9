//! The output products of a run: created complete-or-marked-incomplete, written plane by plane.

use crate::error::EngineError;
use ndarray::{Array2, ArrayView2};
use pclean_core::params::ImageFormat;
use pclean_imageio::{Beams, CasaImageWriter, FitsWriter, ImageMeta};
use std::path::{Path, PathBuf};

/// Path of product `ext` for prefix `imagename` (FITS products get a `.fits` suffix).
pub fn product_path(imagename: &str, ext: &str, format: ImageFormat) -> PathBuf {
    match format {
        ImageFormat::Casa => PathBuf::from(format!("{imagename}.{ext}")),
        ImageFormat::Fits => PathBuf::from(format!("{imagename}.{ext}.fits")),
    }
}

/// Fail when any product exists and `overwrite` is off (checked before any heavy work).
pub fn check_products_absent(
    imagename: &str,
    format: ImageFormat,
    overwrite: bool,
    exts: &[&str],
) -> Result<(), EngineError> {
    if overwrite {
        return Ok(());
    }
    for &ext in exts {
        let p = product_path(imagename, ext, format);
        if p.exists() {
            return Err(EngineError::ProductExists { path: p });
        }
    }
    Ok(())
}

/// A product being written in either format.
pub enum ProductWriter {
    Casa(CasaImageWriter),
    Fits(FitsWriter),
}

impl ProductWriter {
    /// Create product `path` (`resume`: reopen the unfinished product of an interrupted run).
    pub fn open(
        path: &Path,
        meta: &ImageMeta,
        format: ImageFormat,
        overwrite: bool,
        resume: bool,
    ) -> Result<Self, EngineError> {
        Ok(match (format, resume) {
            (ImageFormat::Casa, false) => {
                ProductWriter::Casa(CasaImageWriter::create(path, meta, overwrite)?)
            }
            (ImageFormat::Casa, true) => ProductWriter::Casa(CasaImageWriter::reopen(path)?),
            (ImageFormat::Fits, false) => {
                ProductWriter::Fits(FitsWriter::create(path, meta, overwrite)?)
            }
            (ImageFormat::Fits, true) => {
                ProductWriter::Fits(FitsWriter::reopen(path, meta, overwrite)?)
            }
        })
    }

    /// The file or directory holding the data written so far.
    pub fn data_path(&self) -> PathBuf {
        match self {
            ProductWriter::Casa(w) => w.path().to_path_buf(),
            ProductWriter::Fits(w) => w.file_path().to_path_buf(),
        }
    }

    /// Hand every plane written so far to the operating system (see [`fsync_tree`]).
    pub fn flush(&mut self) -> Result<(), EngineError> {
        match self {
            ProductWriter::Casa(w) => w.flush()?,
            ProductWriter::Fits(w) => w.flush()?,
        }
        Ok(())
    }

    /// Read back a plane written earlier (in this run or the interrupted one being resumed).
    pub fn get_plane(&mut self, chan: usize, stokes: usize) -> Result<Array2<f32>, EngineError> {
        Ok(match self {
            ProductWriter::Casa(w) => w.get_plane(chan, stokes)?,
            ProductWriter::Fits(w) => w.get_plane(chan, stokes)?,
        })
    }

    pub fn put_plane(
        &mut self,
        chan: usize,
        stokes: usize,
        plane_yx: ArrayView2<f32>,
    ) -> Result<(), EngineError> {
        match self {
            ProductWriter::Casa(w) => w.put_plane(chan, stokes, plane_yx)?,
            ProductWriter::Fits(w) => w.put_plane(chan, stokes, plane_yx)?,
        }
        Ok(())
    }

    /// Give a CASA product a default pixel mask (see [`CasaImageWriter::add_pixel_mask`]); FITS
    /// products have none (no-op).
    pub fn add_pixel_mask(&mut self) -> Result<(), EngineError> {
        if let ProductWriter::Casa(w) = self {
            w.add_pixel_mask()?;
        }
        Ok(())
    }

    /// Write plane `(chan, stokes)` of the pixel mask (`true` = valid) if the product has one.
    pub fn put_mask_plane(
        &mut self,
        chan: usize,
        stokes: usize,
        valid_yx: ArrayView2<bool>,
    ) -> Result<(), EngineError> {
        if let ProductWriter::Casa(w) = self {
            if w.has_pixel_mask() {
                w.put_mask_plane(chan, stokes, valid_yx)?;
            }
        }
        Ok(())
    }

    pub fn set_beams(&mut self, beams: &Beams) -> Result<(), EngineError> {
        match self {
            ProductWriter::Casa(w) => w.set_beams(beams)?,
            ProductWriter::Fits(w) => w.set_beams(beams)?,
        }
        Ok(())
    }

    pub fn finish(self) -> Result<(), EngineError> {
        match self {
            ProductWriter::Casa(w) => w.finish()?,
            ProductWriter::Fits(w) => w.finish()?,
        }
        Ok(())
    }
}

/// An exclusive lock on a product prefix: `<imagename>.lock` holding `<host> <pid>`, removed on
/// drop. Created with `O_EXCL` (atomic, also on NFS v3+ shared by several machines). A lock whose
/// holder ran on this host and is gone is stale and taken over; a lock from another host is never
/// taken over (its process cannot be checked from here): the error names host and pid.
pub struct ProductLock {
    path: PathBuf,
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

/// The holder recorded in a lock file: `(host, pid)`. A lock of an older pclean holds the pid
/// only (its host is taken to be this one).
fn lock_holder(text: &str) -> (Option<String>, String) {
    let mut parts = text.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(host), Some(pid)) => (Some(host.to_string()), pid.to_string()),
        (Some(pid), None) => (None, pid.to_string()),
        _ => (None, String::new()),
    }
}

fn pid_alive(pid: &str) -> bool {
    pid.parse::<u32>()
        .is_ok_and(|p| Path::new(&format!("/proc/{p}")).exists())
}

impl ProductLock {
    pub fn acquire(imagename: &str) -> Result<Self, EngineError> {
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
                    use std::io::Write;
                    let written =
                        write!(f, "{me} {}", std::process::id()).and_then(|_| f.sync_all());
                    if let Err(source) = written {
                        let _ = std::fs::remove_file(&path);
                        return Err(EngineError::Io {
                            context: format!("cannot write lock file '{}'", path.display()),
                            source,
                        });
                    }
                    return Ok(ProductLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    let (host, pid) = lock_holder(&text);
                    let same_host = host.as_deref().is_none_or(|h| h == me);
                    if !same_host || pid_alive(&pid) {
                        return Err(EngineError::Locked {
                            prefix: imagename.to_string(),
                            lock: path,
                            pid,
                            host: host.unwrap_or(me),
                            same_host,
                        });
                    }
                    // A stale lock of a dead run on this host: take it over. Move it aside first
                    // (only one of several runs doing this at once gets it), and put it back if
                    // what was moved is not the stale lock read above (another run's new lock).
                    let aside =
                        PathBuf::from(format!("{}.stale-{}", path.display(), std::process::id()));
                    if std::fs::rename(&path, &aside).is_ok() {
                        let moved = std::fs::read_to_string(&aside).unwrap_or_default();
                        if moved != text {
                            let _ = std::fs::rename(&aside, &path);
                            continue;
                        }
                        let _ = std::fs::remove_file(&aside);
                        tracing::warn!(
                            "took over the stale lock '{}' of pid {pid}, which is no longer running",
                            path.display()
                        );
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

#[cfg(test)]
mod lock_tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_with_host_and_pid() {
        let dir = tempfile::tempdir().unwrap();
        let name = dir.path().join("img").display().to_string();
        let first = ProductLock::acquire(&name).unwrap();
        let e = ProductLock::acquire(&name)
            .err()
            .expect("second lock refused");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains(&format!("host {}", host_name())), "{msg}");
        drop(first);
        ProductLock::acquire(&name).expect("free after the first is dropped");
    }

    #[test]
    fn stale_lock_of_a_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let name = dir.path().join("img").display().to_string();
        // A pid above the kernel's maximum (4194304) is never running.
        for text in [format!("{} 4999999", host_name()), "4999999".to_string()] {
            std::fs::write(format!("{name}.lock"), &text).unwrap();
            let _lock = ProductLock::acquire(&name).expect("stale lock taken over");
            let now = std::fs::read_to_string(format!("{name}.lock")).unwrap();
            assert_eq!(lock_holder(&now).1, std::process::id().to_string());
        }
    }

    #[test]
    fn lock_from_another_host_is_never_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let name = dir.path().join("img").display().to_string();
        std::fs::write(format!("{name}.lock"), "other-node-17 4999999").unwrap();
        let msg = ProductLock::acquire(&name).err().unwrap().to_string();
        assert!(msg.contains("pid 4999999 on host other-node-17"), "{msg}");
        assert!(msg.contains("remove the lock file"), "{msg}");
    }
}

impl Drop for ProductLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// fsync a file, or every file under a directory and the directory itself, so that data handed to
/// the operating system survives a power loss.
pub fn fsync_tree(path: &Path) -> Result<(), EngineError> {
    let io = |source| EngineError::Io {
        context: format!("cannot sync '{}' to disk", path.display()),
        source,
    };
    let md = std::fs::metadata(path).map_err(io)?;
    if md.is_dir() {
        for entry in std::fs::read_dir(path).map_err(io)? {
            fsync_tree(&entry.map_err(io)?.path())?;
        }
        // Directories: their entries (new files) must be durable too.
        if let Ok(d) = std::fs::File::open(path) {
            let _ = d.sync_all();
        }
        Ok(())
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.sync_data())
            .map_err(io)
    }
}

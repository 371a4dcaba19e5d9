//! Sub-cube products `<base>.part<i>.<ext>` joined into `<base>.<ext>`, extensions in parallel.

use crate::error::ConcatError;
use crate::mode::ConcatMode;
use crate::{concat_images, ConcatReport};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Product extensions looked for when none are given (tclean's products).
pub const DEFAULT_EXTENSIONS: [&str; 9] = [
    "image",
    "residual",
    "psf",
    "model",
    "pb",
    "mask",
    "sumwt",
    "weight",
    "image.pbcor",
];

/// Default number of extensions concatenated at once.
pub const DEFAULT_MAX_WORKERS: usize = 4;

/// Path of sub-cube `part` (0-based) of product `ext`: `<base>.part<part>.<ext>`, e.g.
/// `cube.part0.image`. pclean makes such a product with `--imagename <base>.part<part>`.
pub fn subcube_path(base: &str, part: usize, ext: &str) -> PathBuf {
    PathBuf::from(format!("{base}.part{part}.{ext}"))
}

/// Options of [`concat_subcubes`].
#[derive(Debug, Clone)]
pub struct SubcubeOptions {
    /// Extensions to join; `None`: every one of [`DEFAULT_EXTENSIONS`] whose part 0 exists.
    pub extensions: Option<Vec<String>>,
    /// Storage of the outputs.
    pub mode: ConcatMode,
    /// Extensions concatenated at once (threads), at least 1.
    pub max_workers: usize,
    /// See [`concat_images`].
    pub relax: bool,
    /// Replace existing `<base>.<ext>` outputs.
    pub overwrite: bool,
}

impl Default for SubcubeOptions {
    fn default() -> Self {
        SubcubeOptions {
            extensions: None,
            mode: ConcatMode::Paged,
            max_workers: DEFAULT_MAX_WORKERS,
            relax: true,
            overwrite: true,
        }
    }
}

/// One extension's concatenation: when it ran (seconds since the call started) and on which worker.
#[derive(Debug, Clone, Serialize)]
pub struct ExtensionReport {
    /// The product extension, e.g. `image`.
    pub ext: String,
    /// When its concatenation started and ended, seconds since [`concat_subcubes`] was called.
    pub start_s: f64,
    pub end_s: f64,
    /// Worker thread (0-based) that ran it.
    pub worker: usize,
    /// What was made.
    pub concat: ConcatReport,
}

/// What [`concat_subcubes`] did.
#[derive(Debug, Clone, Serialize)]
pub struct SubcubesReport {
    /// The base name the parts and outputs were named from.
    pub base: String,
    pub nparts: usize,
    pub mode: ConcatMode,
    /// Worker threads used.
    pub workers: usize,
    /// One entry per extension, in the order the extensions were given.
    pub extensions: Vec<ExtensionReport>,
    /// Largest number of extensions that were being concatenated at the same moment.
    pub max_concurrent: usize,
    /// Wall time of the whole call, seconds.
    pub wall_s: f64,
}

fn bad(what: &str, why: String) -> ConcatError {
    ConcatError::BadOption {
        what: what.into(),
        why,
    }
}

/// The extensions to join, each with its inputs; every input must exist.
fn jobs(
    base: &str,
    nparts: usize,
    extensions: Option<&[String]>,
) -> Result<Vec<(String, Vec<PathBuf>)>, ConcatError> {
    let exists = |p: &PathBuf| std::fs::symlink_metadata(p).is_ok();
    let exts: Vec<String> = match extensions {
        Some(list) => {
            for e in list {
                if e.is_empty() || e.contains('/') || e.starts_with('.') {
                    return Err(bad(
                        "extension",
                        format!("'{e}' must be a product suffix such as 'image' or 'image.pbcor'"),
                    ));
                }
            }
            list.to_vec()
        }
        None => {
            let found: Vec<String> = DEFAULT_EXTENSIONS
                .iter()
                .filter(|e| exists(&subcube_path(base, 0, e)))
                .map(|e| e.to_string())
                .collect();
            if found.is_empty() {
                return Err(ConcatError::NoSubcubes {
                    base: base.to_string(),
                    example: subcube_path(base, 0, "image"),
                });
            }
            found
        }
    };
    if exts.is_empty() {
        return Err(bad("extensions", "the list is empty".into()));
    }
    let mut out = Vec::with_capacity(exts.len());
    for (i, e) in exts.iter().enumerate() {
        if exts[..i].contains(e) {
            return Err(bad("extensions", format!("'{e}' is listed twice")));
        }
        let inputs: Vec<PathBuf> = (0..nparts).map(|p| subcube_path(base, p, e)).collect();
        if let Some(part) = inputs.iter().position(|p| !exists(p)) {
            return Err(ConcatError::MissingPart {
                ext: e.clone(),
                part,
                path: inputs[part].clone(),
            });
        }
        out.push((e.clone(), inputs));
    }
    Ok(out)
}

/// The largest number of overlapping `[start, end)` intervals.
fn max_overlap(intervals: impl Iterator<Item = (f64, f64)>) -> usize {
    let mut events: Vec<(f64, i32)> = intervals.flat_map(|(s, e)| [(s, 1), (e, -1)]).collect();
    // Ends sort before starts at the same instant.
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut best) = (0i32, 0i32);
    for (_, d) in events {
        now += d;
        best = best.max(now);
    }
    best as usize
}

/// Join sub-cubes `<base>.part<i>.<ext>` (`i = 0..nparts`, in spectral order) into `<base>.<ext>`
/// for each extension, running up to `max_workers` extensions at once on their own threads (each
/// extension's inputs and output are different tables, which casacore handles safely in parallel).
/// Every input of every extension is checked to exist before any work starts; after a failure no
/// new extension is started, and the first failure is returned.
pub fn concat_subcubes(
    base: &str,
    nparts: usize,
    opts: &SubcubeOptions,
) -> Result<SubcubesReport, ConcatError> {
    if nparts < 2 {
        return Err(ConcatError::TooFewInputs { n: nparts });
    }
    if opts.max_workers == 0 {
        return Err(bad("max_workers", "must be at least 1".into()));
    }
    let jobs = jobs(base, nparts, opts.extensions.as_deref())?;
    let workers = opts.max_workers.min(jobs.len());
    let t0 = Instant::now();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<ExtensionReport, ConcatError>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for worker in 0..workers {
            let (jobs, next, failed, results) = (&jobs, &next, &failed, &results);
            scope.spawn(move || loop {
                if failed.load(Ordering::SeqCst) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((ext, inputs)) = jobs.get(i) else {
                    break;
                };
                let output = PathBuf::from(format!("{base}.{ext}"));
                let start_s = t0.elapsed().as_secs_f64();
                tracing::info!(
                    "concatenating {} parts of '{ext}' into {} (worker {worker})",
                    inputs.len(),
                    output.display()
                );
                let res = concat_images(&output, inputs, -1, opts.relax, opts.overwrite, opts.mode);
                let end_s = t0.elapsed().as_secs_f64();
                let res = match res {
                    Ok(concat) => {
                        tracing::info!(
                            "'{ext}' done in {:.3} s (worker {worker})",
                            end_s - start_s
                        );
                        Ok(ExtensionReport {
                            ext: ext.clone(),
                            start_s,
                            end_s,
                            worker,
                            concat,
                        })
                    }
                    Err(e) => {
                        failed.store(true, Ordering::SeqCst);
                        Err(e)
                    }
                };
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(res);
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let total = jobs.len();
    let nfailed = results.iter().filter(|r| matches!(r, Some(Err(_)))).count();
    let mut reports = Vec::with_capacity(total);
    let mut first_err = None;
    for (r, (ext, _)) in results.into_iter().zip(&jobs) {
        match r {
            Some(Ok(rep)) => reports.push(rep),
            Some(Err(e)) if first_err.is_none() => first_err = Some((ext.clone(), e)),
            _ => {}
        }
    }
    if let Some((ext, e)) = first_err {
        return Err(ConcatError::Extension {
            ext,
            failed: nfailed,
            total,
            source: Box::new(e),
        });
    }
    let max_concurrent = max_overlap(reports.iter().map(|r| (r.start_s, r.end_s)));
    Ok(SubcubesReport {
        base: base.to_string(),
        nparts,
        mode: opts.mode,
        workers,
        extensions: reports,
        max_concurrent,
        wall_s: t0.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_counts_concurrent_intervals() {
        assert_eq!(max_overlap([(0.0, 1.0), (1.0, 2.0)].into_iter()), 1);
        assert_eq!(
            max_overlap([(0.0, 2.0), (1.0, 3.0), (1.5, 1.8)].into_iter()),
            3
        );
        assert_eq!(max_overlap(std::iter::empty()), 0);
    }

    #[test]
    fn subcube_names() {
        assert_eq!(
            subcube_path("run/cube", 3, "image.pbcor"),
            PathBuf::from("run/cube.part3.image.pbcor")
        );
    }
}

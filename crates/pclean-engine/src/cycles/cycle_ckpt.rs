//! The major-cycle checkpoint of a continuum (mfs) run: after each completed major cycle the
//! coordinator records every plane's model and iteration state in `<imagename>.cycles.cbor`
//! (written to a temporary file, fsynced, renamed over the old one). The same command run again
//! after the coordinator was killed (the run's `checkpoint.json` matching its parameters) takes the
//! models and states over, remakes the residuals from the models (a deterministic function of
//! them) and continues with the next minor cycle, as the uninterrupted run would have.
//!
//! Not recorded, hence not resumable (such runs start over, as before): auto-multithresh (its
//! masker history), and mtmfs (its own cycle, `cycles::mtmfs`). A fixed mask is remade from its
//! definition; multiscale's per-plane state is derived from the PSF only and remade.

use super::iteration::PlaneProgress;
use super::major_minor::Plane;
use crate::error::EngineError;
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

const VERSION: u32 = 1;

/// Path of the major-cycle checkpoint of products `imagename`.
pub fn cycle_checkpoint_path(imagename: &str) -> PathBuf {
    PathBuf::from(format!("{imagename}.cycles.cbor"))
}

/// Test hook: a run that records the checkpoint of this many completed major cycles then fails
/// (as a coordinator killed between cycles). Read only by [`record`]; for tests only.
const TEST_STOP_VAR: &str = "PCLEAN_TEST_STOP_AFTER_MAJOR_CYCLE";

/// One plane's state after a major cycle.
#[derive(Serialize, Deserialize)]
pub struct PlaneState<M> {
    pub model: M,
    pub progress: PlaneProgress,
}

/// A model plane as one byte string.
#[derive(Serialize, Deserialize)]
pub struct Model(#[serde(with = "pclean_grid::wire")] pub Array2<f32>);

/// A model plane borrowed for writing.
#[derive(Serialize)]
struct ModelRef<'a>(#[serde(serialize_with = "borrowed")] &'a Array2<f32>);

fn borrowed<S: serde::Serializer>(a: &&Array2<f32>, s: S) -> Result<S::Ok, S::Error> {
    pclean_grid::wire::serialize(*a, s)
}

/// The state of one block's deconvolution after `cycles` completed major cycles.
#[derive(Serialize, Deserialize)]
pub struct CycleCheckpoint<M = Model> {
    pub version: u32,
    pub chans: [usize; 2],
    pub shape: [usize; 2],
    /// Major cycles completed.
    pub cycles: usize,
    /// Whether a minor cycle has run (the loop's `cycling`).
    pub cycling: bool,
    pub planes: Vec<PlaneState<M>>,
}

/// Record `planes` after a completed major cycle at `path`.
pub fn record(
    path: &Path,
    chans: &std::ops::Range<usize>,
    planes: &[Plane],
    cycling: bool,
) -> Result<(), EngineError> {
    let shape = planes.first().map_or([0, 0], |p| {
        let (ny, nx) = p.model.dim();
        [ny, nx]
    });
    let cycles = planes
        .iter()
        .map(|p| p.progress.major_cycles)
        .max()
        .unwrap_or(0);
    let c = CycleCheckpoint {
        version: VERSION,
        chans: [chans.start, chans.end],
        shape,
        cycles,
        cycling,
        planes: planes
            .iter()
            .map(|p| PlaneState {
                model: ModelRef(&p.model),
                progress: p.progress.clone(),
            })
            .collect(),
    };
    save(&c, path)?;
    if std::env::var(TEST_STOP_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        == Some(cycles)
    {
        return Err(EngineError::protocol(format!(
            "stopped after major cycle {cycles} ({TEST_STOP_VAR}, a test hook)"
        )));
    }
    Ok(())
}

/// Take over the models and iteration states of `path`'s checkpoint, if there is one: `Some`
/// with the loop's `cycling` flag when the run resumes, `None` when it starts from the beginning.
/// The residuals are not recorded: the caller remakes them from the models.
pub fn resume(
    path: &Path,
    chans: &std::ops::Range<usize>,
    planes: &mut [Plane],
) -> Result<Option<bool>, EngineError> {
    let Some(first) = planes.first() else {
        return Ok(None);
    };
    let (ny, nx) = first.model.dim();
    let Some(c) = CycleCheckpoint::load(path, [chans.start, chans.end], [ny, nx], planes.len())?
    else {
        return Ok(None);
    };
    tracing::info!(
        cycles = c.cycles,
        "resuming the deconvolution after major cycle {} from '{}'",
        c.cycles,
        path.display()
    );
    for (p, st) in planes.iter_mut().zip(c.planes) {
        p.model = st.model.0;
        p.progress = st.progress;
    }
    Ok(Some(c.cycling))
}

impl CycleCheckpoint {
    /// Read the checkpoint at `path` if it exists and describes `nplanes` planes of `chans` with
    /// `shape`; another one (another run's) is an error naming the file.
    pub fn load(
        path: &Path,
        chans: [usize; 2],
        shape: [usize; 2],
        nplanes: usize,
    ) -> Result<Option<Self>, EngineError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(EngineError::Io {
                    context: format!("cannot read major-cycle checkpoint '{}'", path.display()),
                    source,
                })
            }
        };
        let bad = |why: String| {
            EngineError::param(
                "overwrite",
                format!(
                    "major-cycle checkpoint '{}' {why}; remove it, or run with --overwrite to \
                     start again",
                    path.display()
                ),
            )
        };
        let c: CycleCheckpoint = ciborium::from_reader(bytes.as_slice())
            .map_err(|e| bad(format!("is unreadable ({e})")))?;
        let fits = c.version == VERSION
            && c.chans == chans
            && c.shape == shape
            && c.planes.len() == nplanes
            && c.planes
                .iter()
                .all(|p| p.model.0.dim() == (shape[0], shape[1]));
        if !fits {
            return Err(bad("does not match this run's image planes".into()));
        }
        Ok(Some(c))
    }
}

/// Write atomically and durably: a temporary file, fsynced, renamed over `path`, the directory
/// fsynced.
fn save<M: Serialize>(c: &CycleCheckpoint<M>, path: &Path) -> Result<(), EngineError> {
    let io = |source| EngineError::Io {
        context: format!("cannot write major-cycle checkpoint '{}'", path.display()),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let f = std::fs::File::create(&tmp).map_err(io)?;
        let mut w = std::io::BufWriter::new(f);
        ciborium::into_writer(c, &mut w).map_err(|e| io(std::io::Error::other(e.to_string())))?;
        w.flush().map_err(io)?;
        w.get_ref().sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Remove the major-cycle checkpoint of `imagename` (a run starting over, or finished).
pub fn remove_cycle_checkpoint(imagename: &str) {
    let path = cycle_checkpoint_path(imagename);
    if let Err(e) = std::fs::remove_file(&path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!("cannot remove '{}': {e}", path.display());
        }
    }
}

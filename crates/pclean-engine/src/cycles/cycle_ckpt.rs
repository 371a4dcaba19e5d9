//! The major-cycle checkpoint of a continuum (mfs, mtmfs) run: after each completed major cycle
//! the coordinator records every plane's model (all Taylor terms for mtmfs), iteration state, mask
//! and auto-multithresh state in `<imagename>.cycles.cbor` (written to a temporary file, fsynced,
//! renamed over the old one). The same command run again after the coordinator was killed (the
//! run's `checkpoint.json` matching its parameters) takes them over, remakes the residuals from
//! the models (a deterministic function of them) and continues with the next minor cycle, as the
//! uninterrupted run would have.
//!
//! A fixed mask is remade from its definition; multiscale's per-plane state and mtmfs's Hessian
//! are derived from the PSFs only and remade.

use super::iteration::PlaneProgress;
use super::major_minor::Plane;
use super::masking::PlaneMasker;
use crate::error::EngineError;
use ndarray::Array2;
use pclean_deconv::automask::AutoMaskState;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// 2: Taylor terms, masks and auto-multithresh state (session 10).
const VERSION: u32 = 2;

/// Path of the major-cycle checkpoint of products `imagename`.
pub fn cycle_checkpoint_path(imagename: &str) -> PathBuf {
    PathBuf::from(format!("{imagename}.cycles.cbor"))
}

/// Test hook: a run that records the checkpoint of this many completed major cycles then fails
/// (as a coordinator killed between cycles). Read only by [`record`]; for tests only.
const TEST_STOP_VAR: &str = "PCLEAN_TEST_STOP_AFTER_MAJOR_CYCLE";

/// One plane's state after a major cycle: `M` is an image plane's form, `K` a mask's.
#[derive(Serialize, Deserialize)]
pub struct PlaneState<M, K> {
    /// The model (Taylor term 0 for mtmfs).
    pub model: M,
    /// mtmfs: the models of Taylor terms 1.. (empty otherwise).
    pub terms: Vec<M>,
    pub progress: PlaneProgress,
    /// The mask the plane holds between cycles (the last minor cycle's).
    pub mask: Option<K>,
    /// auto-multithresh's state (`None` for other masks).
    pub auto: Option<AutoRecord<K>>,
}

/// auto-multithresh's per-plane state: its mask, positive mask, stop flag and update count.
#[derive(Serialize, Deserialize)]
pub struct AutoRecord<K> {
    pub mask: K,
    pub positive: K,
    pub stopped: bool,
    pub updates: usize,
}

/// A model plane as one byte string.
#[derive(Serialize, Deserialize)]
pub struct Model(#[serde(with = "pclean_grid::wire")] pub Array2<f32>);

/// A mask as one byte string (a byte per pixel).
#[derive(Serialize, Deserialize)]
pub struct Mask(#[serde(with = "pclean_grid::wire")] pub Array2<bool>);

/// An array borrowed for writing.
#[derive(Serialize)]
struct Ref<'a, T: pclean_grid::wire::LeElement>(
    #[serde(serialize_with = "borrowed")] &'a Array2<T>,
);

fn borrowed<T: pclean_grid::wire::LeElement, S: serde::Serializer>(
    a: &&Array2<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    pclean_grid::wire::serialize(*a, s)
}

/// The state of one block's deconvolution after `cycles` completed major cycles.
#[derive(Serialize, Deserialize)]
pub struct CycleCheckpoint<M = Model, K = Mask> {
    pub version: u32,
    pub chans: [usize; 2],
    pub shape: [usize; 2],
    /// Major cycles completed.
    pub cycles: usize,
    /// Whether a minor cycle has run (the loop's `cycling`).
    pub cycling: bool,
    pub planes: Vec<PlaneState<M, K>>,
}

/// What one plane records, borrowed from the loop that owns it.
pub struct PlaneView<'a> {
    /// Every Taylor term's model (one for mfs).
    pub models: Vec<&'a Array2<f32>>,
    pub progress: &'a PlaneProgress,
    pub mask: Option<&'a Array2<bool>>,
    pub masker: &'a PlaneMasker,
}

impl<'a> PlaneView<'a> {
    fn state(&self) -> PlaneState<Ref<'a, f32>, Ref<'a, bool>> {
        let auto = self.masker.auto_state().map(|a| {
            let (mask, positive, stopped, updates) = a.parts();
            AutoRecord {
                mask: Ref(mask),
                positive: Ref(positive),
                stopped,
                updates,
            }
        });
        PlaneState {
            model: Ref(self.models[0]),
            terms: self.models[1..].iter().map(|m| Ref(*m)).collect(),
            progress: self.progress.clone(),
            mask: self.mask.map(Ref),
            auto,
        }
    }
}

/// Record `planes` after a completed major cycle at `path`.
pub fn record(
    path: &Path,
    chans: &std::ops::Range<usize>,
    planes: &[Plane],
    cycling: bool,
) -> Result<(), EngineError> {
    let views: Vec<PlaneView> = planes
        .iter()
        .map(|p| PlaneView {
            models: vec![&p.model],
            progress: &p.progress,
            mask: p.mask.as_ref(),
            masker: &p.masker,
        })
        .collect();
    record_views(path, chans, &views, cycling)
}

/// Record the planes `views` after a completed major cycle at `path`.
pub fn record_views(
    path: &Path,
    chans: &std::ops::Range<usize>,
    views: &[PlaneView],
    cycling: bool,
) -> Result<(), EngineError> {
    let shape = views.first().map_or([0, 0], |p| {
        let (ny, nx) = p.models[0].dim();
        [ny, nx]
    });
    let cycles = views
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
        planes: views.iter().map(PlaneView::state).collect(),
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

/// Take over the models, iteration states and masks of `path`'s checkpoint, if there is one:
/// `Some` with the loop's `cycling` flag when the run resumes, `None` when it starts from the
/// beginning. The residuals are not recorded: the caller remakes them from the models.
pub fn resume(
    path: &Path,
    chans: &std::ops::Range<usize>,
    planes: &mut [Plane],
) -> Result<Option<bool>, EngineError> {
    let Some(first) = planes.first() else {
        return Ok(None);
    };
    let (ny, nx) = first.model.dim();
    let autos: Vec<bool> = planes.iter().map(|p| p.masker.is_auto()).collect();
    let Some(c) = CycleCheckpoint::load(path, [chans.start, chans.end], [ny, nx], 1, &autos)?
    else {
        return Ok(None);
    };
    for (p, st) in planes.iter_mut().zip(c.planes) {
        let mut models = take_over(st, &mut p.progress, &mut p.mask, &mut p.masker);
        p.model = models.remove(0);
    }
    Ok(Some(c.cycling))
}

/// Move one recorded plane's state into a loop's: returns its models (every Taylor term).
pub fn take_over(
    st: PlaneState<Model, Mask>,
    progress: &mut PlaneProgress,
    mask: &mut Option<Array2<bool>>,
    masker: &mut PlaneMasker,
) -> Vec<Array2<f32>> {
    *progress = st.progress;
    *mask = st.mask.map(|m| m.0);
    if let Some(a) = st.auto {
        masker.set_auto_state(AutoMaskState::from_parts(
            a.mask.0,
            a.positive.0,
            a.stopped,
            a.updates,
        ));
    }
    std::iter::once(st.model.0)
        .chain(st.terms.into_iter().map(|m| m.0))
        .collect()
}

impl CycleCheckpoint {
    /// Read the checkpoint at `path` if it exists and describes `nplanes` planes of `chans` with
    /// `shape`; another one (another run's) is an error naming the file.
    /// `nterms` is the models per plane (Taylor terms), `autos` per plane whether its mask is
    /// auto-multithresh (the record must carry that state exactly then).
    pub fn load(
        path: &Path,
        chans: [usize; 2],
        shape: [usize; 2],
        nterms: usize,
        autos: &[bool],
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
        let dim = (shape[0], shape[1]);
        let fits = c.version == VERSION
            && c.chans == chans
            && c.shape == shape
            && c.planes.len() == autos.len()
            && c.planes.iter().zip(autos).all(|(p, auto)| {
                p.terms.len() + 1 == nterms
                    && std::iter::once(&p.model)
                        .chain(&p.terms)
                        .all(|m| m.0.dim() == dim)
                    && p.mask.as_ref().is_none_or(|m| m.0.dim() == dim)
                    && p.auto.is_some() == *auto
                    && p.auto
                        .as_ref()
                        .is_none_or(|a| a.mask.0.dim() == dim && a.positive.0.dim() == dim)
            });
        if !fits {
            return Err(bad("does not match this run's image planes".into()));
        }
        tracing::info!(
            cycles = c.cycles,
            "resuming the deconvolution after major cycle {} from '{}'",
            c.cycles,
            path.display()
        );
        Ok(Some(c))
    }
}

/// Write atomically and durably: a temporary file, fsynced, renamed over `path`, the directory
/// fsynced.
fn save<M: Serialize, K: Serialize>(
    c: &CycleCheckpoint<M, K>,
    path: &Path,
) -> Result<(), EngineError> {
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

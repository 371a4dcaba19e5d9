//! Checkpoints: `<imagename>.checkpoint.json` records, while a run writes its products, the
//! parameters, the channel blocks and which of them are complete (their planes written and flushed
//! to disk in every product), with the fitted beams and per-channel summaries of those blocks.
//!
//! A run killed at any point (SIGKILL, power loss) and started again with the same parameters
//! reopens the products and images only the blocks not marked complete, with the same block
//! boundaries, so the result equals an uninterrupted run's. A block is marked complete only after
//! its planes are flushed, and the file is replaced atomically (write, fsync, rename), so an
//! incomplete plane is never recorded as complete. The file is removed when the run finishes.

use crate::error::EngineError;
use crate::products::{ChannelSummary, TaskSummary};
use pclean_core::params::RawParams;
use pclean_core::Beam;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

const VERSION: u32 = 1;

/// Parameters that change how a run is scheduled but not its products; they may differ between
/// an interrupted run and its resumption.
const SCHEDULING_ONLY: &[&str] = &[
    "overwrite",
    "nthreads",
    "memory_limit",
    "threads_per_block",
    "blocks_in_flight",
    "cube_resident_chans",
    // How a parallel run is deployed (a local run may resume a Dask run and vice versa).
    "parallel",
    "nworkers",
    "threads_per_worker",
    "local_directory",
    "cluster_type",
    "scheduler_address",
    "plane_writes",
    "local_workers",
    "keep_subcubes",
    "keep_partimages",
    "concat_mode",
    "slurm_queue",
    "slurm_account",
    "slurm_walltime",
    "slurm_job_mem",
    "slurm_cores_per_job",
    "slurm_job_name",
    "slurm_job_extra_directives",
    "slurm_python",
    "slurm_local_directory",
    "slurm_log_directory",
    "slurm_job_script_prologue",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    /// The effective parameters (defaults applied) that affect the products.
    pub params: serde_json::Map<String, serde_json::Value>,
    pub nchan: usize,
    pub nstokes: usize,
    /// Channel blocks `[start, end)` in the order they were planned.
    pub blocks: Vec<[usize; 2]>,
    pub done: Vec<bool>,
    /// Fitted beams, indexed `chan + nchan * stokes` (zero where not yet fitted).
    pub beams: Vec<Beam>,
    /// Summaries of the channels of completed blocks.
    pub channels: Vec<ChannelSummary>,
    /// Wall time and peak memory of the completed blocks.
    #[serde(default)]
    pub tasks: Vec<TaskSummary>,
    pub warnings: Vec<String>,
}

/// Path of the checkpoint of products `imagename`.
pub fn checkpoint_path(imagename: &str) -> PathBuf {
    PathBuf::from(format!("{imagename}.checkpoint.json"))
}

/// The parameters of `effective` that determine the products.
pub fn product_params(effective: &RawParams) -> serde_json::Map<String, serde_json::Value> {
    let mut v = match serde_json::to_value(effective) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    for k in SCHEDULING_ONLY {
        v.remove(*k);
    }
    v
}

impl Checkpoint {
    pub fn new(
        params: serde_json::Map<String, serde_json::Value>,
        nchan: usize,
        nstokes: usize,
        blocks: Vec<[usize; 2]>,
    ) -> Self {
        let n = blocks.len();
        Checkpoint {
            version: VERSION,
            params,
            nchan,
            nstokes,
            blocks,
            done: vec![false; n],
            beams: vec![Beam::default(); nchan * nstokes],
            channels: Vec::new(),
            tasks: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Read the checkpoint at `path`; `None` when there is none. A file that cannot be parsed is
    /// an error (it names the file and how to start over).
    pub fn load(path: &Path) -> Result<Option<Self>, EngineError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(EngineError::Io {
                    context: format!("cannot read checkpoint '{}'", path.display()),
                    source,
                })
            }
        };
        let c: Checkpoint = serde_json::from_str(&text).map_err(|e| {
            EngineError::param(
                "overwrite",
                format!(
                "checkpoint '{}' is unreadable ({e}); remove it and run with --overwrite to start \
                 again",
                path.display()
            ),
            )
        })?;
        if c.version != VERSION || c.done.len() != c.blocks.len() {
            return Err(EngineError::param(
                "overwrite",
                format!(
                "checkpoint '{}' was written by another pclean version; run with --overwrite to \
                 start again",
                path.display()
            ),
            ));
        }
        Ok(Some(c))
    }

    /// Write atomically: a temporary file, rename over `path`; with `durable` also fsync the file
    /// (before the rename) and the directory (after), so the record survives a power loss.
    pub fn save(&self, path: &Path, durable: bool) -> Result<(), EngineError> {
        let io = |source| EngineError::Io {
            context: format!("cannot write checkpoint '{}'", path.display()),
            source,
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let text = serde_json::to_string(self).expect("checkpoint serialises");
        {
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(text.as_bytes()).map_err(io)?;
            if durable {
                f.sync_all().map_err(io)?;
            }
        }
        std::fs::rename(&tmp, path).map_err(io)?;
        if let Some(dir) = path.parent().filter(|_| durable) {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    /// Parameter names whose values differ from `params` (both directions).
    pub fn differing_params(
        &self,
        params: &serde_json::Map<String, serde_json::Value>,
    ) -> Vec<String> {
        let mut keys: Vec<&String> = self.params.keys().chain(params.keys()).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .filter(|k| self.params.get(*k) != params.get(*k))
            .cloned()
            .collect()
    }

    /// Drop the channel and task summaries of blocks not recorded complete: a block written
    /// while an earlier one was being recorded has its summaries saved with that record, and is
    /// imaged again on resume.
    pub fn forget_unfinished(&mut self) {
        let done: Vec<[usize; 2]> = self
            .blocks
            .iter()
            .zip(&self.done)
            .filter(|(_, d)| **d)
            .map(|(b, _)| *b)
            .collect();
        let in_done = |k: usize| done.iter().any(|b| (b[0]..b[1]).contains(&k));
        self.channels.retain(|c| in_done(c.channel));
        self.tasks.retain(|t| in_done(t.channels[0]));
    }

    pub fn complete_blocks(&self) -> usize {
        self.done.iter().filter(|d| **d).count()
    }

    /// Channels of completed blocks.
    pub fn complete_channels(&self) -> usize {
        self.blocks
            .iter()
            .zip(&self.done)
            .filter(|(_, d)| **d)
            .map(|(b, _)| b[1] - b[0])
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_differences() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.checkpoint.json");
        let raw = RawParams {
            niter: Some(10),
            nthreads: Some(3),
            ..Default::default()
        };
        let p = product_params(&raw.with_defaults());
        assert!(!p.contains_key("nthreads"));
        let mut c = Checkpoint::new(p.clone(), 4, 1, vec![[0, 2], [2, 4]]);
        c.done[1] = true;
        c.beams[3] = Beam {
            major_rad: 1e-5,
            minor_rad: 5e-6,
            pa_rad: 0.3,
        };
        c.save(&path, true).unwrap();
        let back = Checkpoint::load(&path).unwrap().unwrap();
        assert_eq!(back.done, vec![false, true]);
        assert_eq!(back.beams[3], c.beams[3]);
        assert_eq!(back.complete_channels(), 2);
        assert!(back.differing_params(&p).is_empty());
        let other = RawParams {
            niter: Some(11),
            nthreads: Some(1),
            ..Default::default()
        };
        assert_eq!(
            back.differing_params(&product_params(&other.with_defaults())),
            vec!["niter".to_string()]
        );
        assert!(Checkpoint::load(&dir.path().join("none.json"))
            .unwrap()
            .is_none());
        std::fs::write(&path, "{not json").unwrap();
        assert!(Checkpoint::load(&path).is_err());
    }
}

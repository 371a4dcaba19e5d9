//! The parallel-execution keys of the config (Dask driver, cluster deployment), validated.
//! They live in [`RawParams`] with every other key so that the CLI's config files, presets and the
//! Python API accept exactly the same keys; only the Python driver acts on them.

use crate::params::{invalid, parse_memory_bytes, ParamError, RawParams};
use serde::{Deserialize, Serialize};

/// Where the Dask workers run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterType {
    /// A `distributed.LocalCluster` on this machine.
    Local,
    /// SLURM jobs through dask-jobqueue.
    Slurm,
    /// An existing scheduler.
    Address(String),
}

/// Validated parallel settings (defaults applied).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParallelParams {
    pub parallel: bool,
    /// 0 = as many as fit the memory.
    pub nworkers: usize,
    pub threads_per_worker: usize,
    pub local_directory: String,
    pub cluster: ClusterType,
    pub slurm: SlurmParams,
}

/// dask-jobqueue's SLURMCluster settings (used with `cluster_type: slurm`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlurmParams {
    pub queue: String,
    pub account: String,
    pub walltime: String,
    /// Bytes; `None` = the memory model's estimate.
    pub job_mem_bytes: Option<u64>,
    /// 0 = `threads_per_worker`.
    pub cores_per_job: usize,
    pub job_name: String,
    pub job_extra_directives: Vec<String>,
    pub python: String,
    pub local_directory: String,
    pub log_directory: String,
    pub job_script_prologue: Vec<String>,
}

const NO_SUBCUBES: &str = "pclean writes every channel block straight into the final products, so \
    there are no sub-cubes or partial images to keep or concatenate; remove this parameter (use \
    `pclean concat` to join cubes made elsewhere)";

/// `[D-]HH:MM:SS`, `HH:MM:SS`, `MM:SS` or minutes, as SLURM's `--time` accepts.
fn valid_walltime(s: &str) -> bool {
    let (days, rest) = match s.split_once('-') {
        Some((d, r)) => (Some(d), r),
        None => (None, s),
    };
    if days.is_some_and(|d| d.is_empty() || !d.chars().all(|c| c.is_ascii_digit())) {
        return false;
    }
    let parts: Vec<&str> = rest.split(':').collect();
    !rest.is_empty()
        && parts.len() <= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

impl ParallelParams {
    /// Validate the parallel keys of `r` (defaults applied by the caller or here).
    pub fn from_raw(raw: &RawParams) -> Result<Self, ParamError> {
        let r = raw.with_defaults();
        let nonneg = |param: &'static str, v: Option<i64>| -> Result<usize, ParamError> {
            match v.unwrap_or(0) {
                n if n >= 0 => Ok(n as usize),
                n => Err(invalid(param, n, "use 0 (automatic) or a positive number")),
            }
        };
        let nworkers = nonneg("nworkers", r.nworkers)?;
        let threads_per_worker = match r.threads_per_worker.unwrap_or(1) {
            n if n >= 1 => n as usize,
            n => return Err(invalid("threads_per_worker", n, "use 1 or more threads")),
        };
        let address = r.scheduler_address.clone().unwrap_or_default();
        let parallel = r.parallel.unwrap_or(false);
        let cluster = match r
            .cluster_type
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase()
            .as_str()
        {
            "local" => ClusterType::Local,
            "slurm" => ClusterType::Slurm,
            "address" => {
                if parallel && address.trim().is_empty() {
                    return Err(ParamError::Missing {
                        param: "scheduler_address",
                        hint: "cluster_type='address' needs the scheduler's address, e.g. 'tcp://node1:8786'",
                    });
                }
                ClusterType::Address(address.trim().to_string())
            }
            other => {
                return Err(invalid(
                    "cluster_type",
                    other,
                    "use 'local', 'slurm' or 'address'",
                ))
            }
        };
        if r.keep_subcubes == Some(true) {
            return Err(invalid("keep_subcubes", true, NO_SUBCUBES));
        }
        if r.keep_partimages == Some(true) {
            return Err(invalid("keep_partimages", true, NO_SUBCUBES));
        }
        let concat_mode = r.concat_mode.clone().unwrap_or_default();
        if !concat_mode.eq_ignore_ascii_case("none") {
            return Err(invalid("concat_mode", concat_mode, NO_SUBCUBES));
        }
        let walltime = r.slurm_walltime.clone().unwrap_or_default();
        if !valid_walltime(walltime.trim()) {
            return Err(invalid(
                "slurm_walltime",
                walltime,
                "use SLURM's time format, e.g. '01:00:00' or '2-00:00:00'",
            ));
        }
        let job_mem = r.slurm_job_mem.clone().unwrap_or_default();
        let job_mem_bytes = parse_memory_bytes(&job_mem).map_err(|why| ParamError::Invalid {
            param: "slurm_job_mem",
            value: job_mem.clone(),
            why,
        })?;
        let s = |v: Option<String>| v.unwrap_or_default();
        Ok(ParallelParams {
            parallel,
            nworkers,
            threads_per_worker,
            local_directory: s(r.local_directory),
            cluster,
            slurm: SlurmParams {
                queue: s(r.slurm_queue),
                account: s(r.slurm_account),
                walltime: walltime.trim().to_string(),
                job_mem_bytes,
                cores_per_job: nonneg("slurm_cores_per_job", r.slurm_cores_per_job)?,
                job_name: s(r.slurm_job_name),
                job_extra_directives: r.slurm_job_extra_directives.unwrap_or_default(),
                python: s(r.slurm_python),
                local_directory: s(r.slurm_local_directory),
                log_directory: s(r.slurm_log_directory),
                job_script_prologue: r.slurm_job_script_prologue.unwrap_or_default(),
            },
        })
    }

    /// An error unless this run is local: the `pclean` command and the in-process engine image
    /// locally; `parallel: true` is for the Python package's Dask driver.
    pub fn require_local(&self) -> Result<(), ParamError> {
        if self.parallel {
            return Err(invalid(
                "parallel",
                true,
                "parallel runs go through the Dask driver of the Python package \
                 (pclean.pclean(..., parallel=True)); the pclean command images on this machine \
                 (set parallel: false, and use --blocks-in-flight/--nthreads to use its cores)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_rejections() {
        let p = ParallelParams::from_raw(&RawParams::default()).unwrap();
        assert!(!p.parallel);
        assert_eq!(p.cluster, ClusterType::Local);
        assert_eq!(p.threads_per_worker, 1);
        let bad = |r: RawParams, field: &str| {
            let e = ParallelParams::from_raw(&r).unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        };
        bad(
            RawParams {
                keep_subcubes: Some(true),
                ..Default::default()
            },
            "keep_subcubes",
        );
        bad(
            RawParams {
                concat_mode: Some("paged".into()),
                ..Default::default()
            },
            "concat_mode",
        );
        bad(
            RawParams {
                parallel: Some(true),
                cluster_type: Some("address".into()),
                ..Default::default()
            },
            "scheduler_address",
        );
        bad(
            RawParams {
                slurm_walltime: Some("1 hour".into()),
                ..Default::default()
            },
            "slurm_walltime",
        );
        bad(
            RawParams {
                cluster_type: Some("kubernetes".into()),
                ..Default::default()
            },
            "cluster_type",
        );
        assert!(valid_walltime("2-00:00:00") && valid_walltime("30") && valid_walltime("10:00"));
    }
}

//! The parallel-execution keys of the config (Dask driver, cluster deployment), validated.
//! They live in [`RawParams`] with every other key so that the CLI's config files, presets and the
//! Python API accept exactly the same keys; only the Python driver acts on them.

use crate::params::{
    choices::ConcatMode, invalid, memory_param, ClusterKind, EffectiveParams, LocalWorkers,
    ParamError, PlaneWrites, RawParams,
};
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
    /// Seconds to wait for the first worker; 0 = by cluster type (the driver's choice).
    pub worker_timeout_s: f64,
    /// Reruns of a task that raised.
    pub task_retries: usize,
    /// Who writes a Dask cube's planes into the products (the driver decides `auto`).
    #[serde(default = "auto_plane_writes")]
    pub plane_writes: PlaneWrites,
    /// The workers of a local cluster: threads of the driver's process or worker processes (the
    /// driver decides `auto`).
    #[serde(default = "auto_local_workers")]
    pub local_workers: LocalWorkers,
    pub slurm: SlurmParams,
    /// Notes on keys of the seed's configs that pclean's design makes moot (logged once by the
    /// engine, in the summary's warnings).
    #[serde(default)]
    pub notes: Vec<String>,
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

fn auto_plane_writes() -> PlaneWrites {
    PlaneWrites::Auto
}

fn auto_local_workers() -> LocalWorkers {
    LocalWorkers::Auto
}

const NO_SUBCUBES: &str = "pclean writes every channel block straight into the final products, so \
    there are no sub-cubes or partial images to keep or concatenate (the seed's keys are accepted; \
    `pclean concat` joins cubes made elsewhere)";

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
    /// Validate the parallel keys of `raw` (defaults applied).
    pub fn from_raw(raw: &RawParams) -> Result<Self, ParamError> {
        Self::from_effective(&raw.effective())
    }

    /// Validate the parallel keys of the effective parameters.
    pub fn from_effective(e: &EffectiveParams) -> Result<Self, ParamError> {
        let nonneg = |param: &'static str, v: i64| -> Result<usize, ParamError> {
            usize::try_from(v)
                .map_err(|_| invalid(param, v, "use 0 (automatic) or a positive number"))
        };
        let threads_per_worker = match e.threads_per_worker {
            n if n >= 1 => n as usize,
            n => return Err(invalid("threads_per_worker", n, "use 1 or more threads")),
        };
        let address = e.scheduler_address.trim();
        let cluster = match ClusterKind::parse("cluster_type", &e.cluster_type)? {
            ClusterKind::Local => ClusterType::Local,
            ClusterKind::Slurm => ClusterType::Slurm,
            ClusterKind::Address => {
                if e.parallel && address.is_empty() {
                    return Err(ParamError::Missing {
                        param: "scheduler_address",
                        hint: "cluster_type='address' needs the scheduler's address, e.g. 'tcp://node1:8786'",
                    });
                }
                ClusterType::Address(address.to_string())
            }
        };
        let local_workers = LocalWorkers::parse("local_workers", &e.local_workers)?;
        if local_workers != LocalWorkers::Auto && cluster != ClusterType::Local {
            return Err(invalid(
                "local_workers",
                local_workers.name(),
                "local_workers chooses the workers of cluster_type='local' only (slurm and \
                 address workers are the cluster's processes): leave it at 'auto'",
            ));
        }
        // The seed's sub-cube keys: accepted (its configs carry them), moot in pclean's design.
        let concat = ConcatMode::parse("concat_mode", &e.concat_mode)?;
        let mut moot = Vec::new();
        if e.keep_subcubes {
            moot.push("keep_subcubes: true".to_string());
        }
        if e.keep_partimages {
            moot.push("keep_partimages: true".to_string());
        }
        if !matches!(concat, ConcatMode::None | ConcatMode::Auto) {
            moot.push(format!("concat_mode: {}", concat.name()));
        }
        let notes = if moot.is_empty() {
            Vec::new()
        } else {
            vec![format!("{} has no effect: {NO_SUBCUBES}", moot.join(", "))]
        };
        let walltime = e.slurm_walltime.trim();
        if !valid_walltime(walltime) {
            return Err(invalid(
                "slurm_walltime",
                walltime,
                "use SLURM's time format, e.g. '01:00:00' or '2-00:00:00'",
            ));
        }
        let job_mem_bytes = memory_param("slurm_job_mem", &e.slurm_job_mem)?;
        let t = e.worker_timeout_s;
        if !(t.is_finite() && t >= 0.0) {
            return Err(invalid(
                "worker_timeout_s",
                t,
                "use 0 (by cluster type) or a number of seconds",
            ));
        }
        Ok(ParallelParams {
            parallel: e.parallel,
            nworkers: nonneg("nworkers", e.nworkers)?,
            threads_per_worker,
            local_directory: e.local_directory.clone(),
            cluster,
            worker_timeout_s: t,
            task_retries: usize::try_from(e.task_retries)
                .map_err(|_| invalid("task_retries", e.task_retries, "use 0 or more retries"))?,
            plane_writes: PlaneWrites::parse("plane_writes", &e.plane_writes)?,
            local_workers,
            slurm: SlurmParams {
                queue: e.slurm_queue.clone(),
                account: e.slurm_account.clone(),
                walltime: walltime.to_string(),
                job_mem_bytes,
                cores_per_job: nonneg("slurm_cores_per_job", e.slurm_cores_per_job)?,
                job_name: e.slurm_job_name.clone(),
                job_extra_directives: e.slurm_job_extra_directives.clone(),
                python: e.slurm_python.clone(),
                local_directory: e.slurm_local_directory.clone(),
                log_directory: e.slurm_log_directory.clone(),
                job_script_prologue: e.slurm_job_script_prologue.clone(),
            },
            notes,
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
        let cases = [
            ("concat_mode", "\"concatenate\"", "concat_mode"),
            ("slurm_walltime", "\"1 hour\"", "slurm_walltime"),
            ("cluster_type", "\"kubernetes\"", "cluster_type"),
            ("task_retries", "-1", "task_retries"),
            ("plane_writes", "\"nfs\"", "plane_writes"),
            ("local_workers", "\"fibers\"", "local_workers"),
            ("worker_timeout_s", "-5", "worker_timeout_s"),
        ];
        for (key, value, field) in cases {
            let r = crate::config::from_json(&format!("{{\"{key}\": {value}}}")).unwrap();
            let e = ParallelParams::from_raw(&r).unwrap_err();
            assert_eq!(e.param(), field, "{e}");
        }
        let r = crate::config::from_json(r#"{"parallel": true, "cluster_type": "address"}"#);
        let e = ParallelParams::from_raw(&r.unwrap()).unwrap_err();
        assert_eq!(e.param(), "scheduler_address");
        let r =
            crate::config::from_json(r#"{"cluster_type": "slurm", "local_workers": "threads"}"#);
        let e = ParallelParams::from_raw(&r.unwrap()).unwrap_err();
        assert_eq!(e.param(), "local_workers", "{e}");
        let r = crate::config::from_json(r#"{"local_workers": "Processes"}"#);
        let p = ParallelParams::from_raw(&r.unwrap()).unwrap();
        assert_eq!(p.local_workers, LocalWorkers::Processes);
        assert!(valid_walltime("2-00:00:00") && valid_walltime("30") && valid_walltime("10:00"));
    }
}

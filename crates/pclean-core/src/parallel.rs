//! Parameters of a distributed run (Dask: a local cluster, SLURM, or an existing scheduler).
//!
//! They sit beside tclean's parameters in a config file and in `pclean.pclean(...)`; the engine
//! never sees them: `pclean image --parallel` hands the whole configuration to the Python Dask
//! driver (`python -m pclean.distributed`), and `pclean submit` turns the `slurm_*` keys into
//! `#SBATCH` lines. `memory_limit` (a [`crate::params::RawParams`] key) is, in a distributed run,
//! the memory of one worker.

use serde::{Deserialize, Serialize};

/// Cluster kinds of a distributed run.
pub const CLUSTER_TYPES: [&str; 3] = ["local", "slurm", "address"];

/// The parallel keys as given (all optional, `None` = not given).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParallelParams {
    /// Run through the Dask driver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel: Option<bool>,
    /// Dask workers (SLURM: worker jobs); 0 or absent = automatic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nworkers: Option<i64>,
    /// Engine threads of one task (one channel block) on a worker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads_per_worker: Option<i64>,
    /// Scratch directory of the Dask workers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_directory: Option<String>,
    /// local, slurm or address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_type: Option<String>,
    /// Scheduler of an existing cluster, e.g. tcp://10.0.0.5:8786 (cluster_type='address').
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler_address: Option<String>,
    /// Seconds to wait for the first worker (default 120 local, 60 address, 1800 slurm).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_timeout_s: Option<f64>,
    /// Times a failed task is retried (a lost worker's tasks are rerun anyway).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_retries: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm_queue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm_account: Option<String>,
    /// Wall time of each job, e.g. 04:00:00.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm_walltime: Option<String>,
    /// Memory of each job (one worker), e.g. 16GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm_job_mem: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm_cores_per_job: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm_job_name: Option<String>,
    /// Extra `#SBATCH` directives, e.g. ["--qos=normal"].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm_job_extra_directives: Option<Vec<String>>,
    /// Python (with pclean installed) that the jobs run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm_python: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm_local_directory: Option<String>,
    /// Directory of the jobs' output files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm_log_directory: Option<String>,
    /// Shell lines run at the start of each job (module loads, environment activation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm_job_script_prologue: Option<Vec<String>>,
}

macro_rules! merge_parallel {
    ($self:ident, $over:ident, $($f:ident),*) => { $( if $over.$f.is_some() { $self.$f = $over.$f.clone(); } )* };
}

impl ParallelParams {
    /// The keys these parameters use in a config file.
    pub const KEYS: [&'static str; 19] = [
        "parallel",
        "nworkers",
        "threads_per_worker",
        "local_directory",
        "cluster_type",
        "scheduler_address",
        "worker_timeout_s",
        "task_retries",
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

    /// Overlay `over` on `self`: every field set in `over` wins.
    pub fn merge(&mut self, over: &ParallelParams) {
        merge_parallel!(
            self,
            over,
            parallel,
            nworkers,
            threads_per_worker,
            local_directory,
            cluster_type,
            scheduler_address,
            worker_timeout_s,
            task_retries,
            slurm_queue,
            slurm_account,
            slurm_walltime,
            slurm_job_mem,
            slurm_cores_per_job,
            slurm_job_name,
            slurm_job_extra_directives,
            slurm_python,
            slurm_local_directory,
            slurm_log_directory,
            slurm_job_script_prologue
        );
    }

    /// The cluster type, checked (default 'local').
    pub fn cluster_type(&self) -> Result<&str, String> {
        let t = self.cluster_type.as_deref().unwrap_or("local");
        if CLUSTER_TYPES.contains(&t) {
            Ok(t)
        } else {
            Err(format!(
                "cluster_type = '{t}': use one of {}",
                CLUSTER_TYPES.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cover_every_field() {
        let full = ParallelParams {
            parallel: Some(true),
            nworkers: Some(1),
            threads_per_worker: Some(1),
            local_directory: Some(String::new()),
            cluster_type: Some(String::new()),
            scheduler_address: Some(String::new()),
            worker_timeout_s: Some(1.0),
            task_retries: Some(1),
            slurm_queue: Some(String::new()),
            slurm_account: Some(String::new()),
            slurm_walltime: Some(String::new()),
            slurm_job_mem: Some(String::new()),
            slurm_cores_per_job: Some(1),
            slurm_job_name: Some(String::new()),
            slurm_job_extra_directives: Some(vec![]),
            slurm_python: Some(String::new()),
            slurm_local_directory: Some(String::new()),
            slurm_log_directory: Some(String::new()),
            slurm_job_script_prologue: Some(vec![]),
        };
        let v = serde_json::to_value(&full).unwrap();
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        let mut want: Vec<_> = ParallelParams::KEYS.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(keys, want);
        let mut merged = ParallelParams::default();
        merged.merge(&full);
        assert_eq!(merged, full);
    }

    #[test]
    fn cluster_type_is_checked() {
        let p = ParallelParams {
            cluster_type: Some("pbs".into()),
            ..Default::default()
        };
        assert!(p.cluster_type().unwrap_err().contains("local, slurm, address"));
        assert_eq!(ParallelParams::default().cluster_type().unwrap(), "local");
    }
}

//! `pclean image --parallel` and `pclean submit`: the CLI's way into the Python Dask driver.
//!
//! The CLI holds no scheduling of its own here: it writes the merged configuration to a JSON file
//! and runs `<python> -m pclean.distributed --config FILE`, the same driver that
//! `pclean.pclean(..., parallel=True)` uses. `pclean submit` writes an sbatch script for a
//! coordinator job that runs that command on the cluster.

use anyhow::{bail, Context, Result};
use pclean_core::parallel::{ClusterType, ParallelParams};
use pclean_core::params::RawParams;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a user must do when the driver cannot be imported.
const INSTALL_HINT: &str = "install pclean's Python package and Dask into that Python \
    (pip install 'pclean[dask]'; from a checkout: pip install './python[dask]'), or point \
    --python / PCLEAN_PYTHON at a Python that has them";

/// The Python that runs the driver: `--python`, else `$PCLEAN_PYTHON`, else the `python3` beside
/// this executable (a virtual environment's bin/), else `python3` on PATH.
pub fn find_python(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("PCLEAN_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(sibling) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("python3")))
        .filter(|p| p.is_file())
    {
        return sibling;
    }
    PathBuf::from("python3")
}

/// Fail with a clear message unless `python` can import the driver, the engine and Dask.
fn check_driver(python: &Path, cluster_type: &str) -> Result<()> {
    let mut modules = "import pclean.distributed, pclean._native, distributed".to_string();
    if cluster_type == "slurm" {
        modules.push_str(", dask_jobqueue");
    }
    let out = Command::new(python)
        .args(["-c", &modules])
        .output()
        .with_context(|| {
            format!(
                "cannot run Python '{}' for the Dask driver; {INSTALL_HINT}",
                python.display()
            )
        })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        bail!(
            "Python '{}' cannot import the Dask driver ({}); {INSTALL_HINT}",
            python.display(),
            last.trim()
        );
    }
    Ok(())
}

/// Run the merged configuration through the Dask driver; its summary JSON goes to stdout.
pub fn run_parallel(raw: &RawParams, par: &ParallelParams, python: Option<&Path>) -> Result<()> {
    let cluster_type = match par.cluster {
        ClusterType::Local => "local",
        ClusterType::Slurm => "slurm",
        ClusterType::Address(_) => "address",
    };
    let python = find_python(python);
    check_driver(&python, cluster_type)?;
    let mut v = serde_json::to_value(raw)?;
    v.as_object_mut()
        .expect("RawParams serialises to a map")
        .retain(|_, v| !v.is_null());
    let file = TempFile::new(
        "pclean-parallel",
        "json",
        &serde_json::to_string_pretty(&v)?,
    )?;
    let mut cmd = Command::new(&python);
    cmd.args(["-m", "pclean.distributed", "--config"])
        .arg(&file.0);
    let status = cmd
        .status()
        .with_context(|| format!("cannot run '{}'", python.display()))?;
    if !status.success() {
        bail!(
            "the distributed run failed ({status}); finished channel blocks are recorded: run \
             the same command again to resume"
        );
    }
    Ok(())
}

/// A file removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(prefix: &str, ext: &str, text: &str) -> Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("{prefix}-{}-{nanos}.{ext}", std::process::id()));
        std::fs::write(&path, text)
            .with_context(|| format!("cannot write '{}'", path.display()))?;
        Ok(TempFile(path))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What the coordinator job's script needs besides the config.
pub struct JobSpec<'a> {
    pub config: &'a Path,
    pub workdir: &'a Path,
    pub pclean: &'a Path,
    pub coordinator_mem: Option<&'a str>,
}

/// The sbatch script of a coordinator job: `#SBATCH` lines from the config's slurm_* keys, then
/// `pclean image --config CONFIG --parallel --cluster-type slurm`.
pub fn sbatch_script(par: &RawParams, job: &JobSpec) -> String {
    let q = shell_quote;
    let mut s = String::from("#!/bin/bash\n");
    let name = par
        .slurm_job_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or("pclean");
    s += &format!("#SBATCH --job-name={name}-coordinator\n");
    let set = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    if let Some(v) = set(&par.slurm_queue) {
        s += &format!("#SBATCH --partition={v}\n");
    }
    if let Some(v) = set(&par.slurm_account) {
        s += &format!("#SBATCH --account={v}\n");
    }
    if let Some(v) = set(&par.slurm_walltime) {
        s += &format!("#SBATCH --time={v}\n");
    }
    s += "#SBATCH --nodes=1\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n";
    if let Some(m) = job
        .coordinator_mem
        .map(str::to_string)
        .or(set(&par.slurm_job_mem))
    {
        s += &format!("#SBATCH --mem={}\n", slurm_mem(&m));
    }
    let logdir = set(&par.slurm_log_directory).unwrap_or_else(|| ".".into());
    s += &format!("#SBATCH --output={logdir}/{name}-coordinator-%j.out\n");
    s += &format!("#SBATCH --chdir={}\n", job.workdir.display());
    for d in par.slurm_job_extra_directives.iter().flatten() {
        s += &format!("#SBATCH {d}\n");
    }
    s += "\n# Written by `pclean submit`: this job runs the Dask driver (the coordinator); its\n";
    s += "# workers are SLURM jobs that it submits (slurm_* keys of the config).\n";
    s += "set -euo pipefail\n";
    for line in par.slurm_job_script_prologue.iter().flatten() {
        s += line;
        s += "\n";
    }
    if let Some(py) = set(&par.slurm_python) {
        s += &format!("export PCLEAN_PYTHON={}\n", q(&py));
    }
    s += &format!(
        "exec {} image --config {} --parallel --cluster-type slurm\n",
        q(&job.pclean.display().to_string()),
        q(&job.config.display().to_string())
    );
    s
}

/// SLURM's `--mem` wants a number with K/M/G/T (binary units); accept 16GB, 16GiB, 16G, 16000M.
fn slurm_mem(m: &str) -> String {
    let t = m.trim();
    let digits: String = t
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let unit = t[digits.len()..].trim().to_ascii_uppercase();
    let letter = unit.chars().next().filter(|c| "KMGT".contains(*c));
    match (digits.parse::<f64>(), letter) {
        (Ok(v), Some(l)) if v.fract() == 0.0 => format!("{}{l}", v as u64),
        (Ok(v), Some(l)) => {
            // 1.5G -> 1536M: sbatch takes integers only.
            let (down, mul) = match l {
                'T' => ('G', 1024.0),
                'G' => ('M', 1024.0),
                _ => ('K', 1024.0),
            };
            format!("{}{down}", (v * mul).ceil() as u64)
        }
        _ => t.to_string(),
    }
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `pclean submit`: write the coordinator job's script, print it (dry run) or submit it.
pub fn run_submit(a: &crate::args::SubmitArgs) -> Result<()> {
    let cfg = crate::config::load(&a.config)?;
    // The same checks as a run: a bad parameter fails here, not in the queue.
    pclean_core::params::ImagingParams::from_raw(&cfg)?;
    let config = std::fs::canonicalize(&a.config)
        .with_context(|| format!("cannot resolve '{}'", a.config.display()))?;
    let workdir = std::env::current_dir().context("cannot read the current directory")?;
    let pclean = std::env::current_exe().context("cannot find the pclean executable")?;
    if cfg
        .cluster_type
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case("slurm"))
    {
        tracing::warn!(
            "the config says cluster_type = '{}'; the coordinator job runs it with \
             --cluster-type slurm",
            cfg.cluster_type.as_deref().unwrap_or_default()
        );
    }
    let script = sbatch_script(
        &cfg,
        &JobSpec {
            config: &config,
            workdir: &workdir,
            pclean: &pclean,
            coordinator_mem: a.coordinator_mem.as_deref(),
        },
    );
    let path = a
        .script
        .clone()
        .unwrap_or_else(|| a.config.with_extension("sbatch"));
    std::fs::write(&path, &script).with_context(|| format!("cannot write '{}'", path.display()))?;
    if a.dry_run {
        print!("{script}");
        eprintln!("wrote {} (not submitted: --dry-run)", path.display());
        return Ok(());
    }
    let out = Command::new("sbatch")
        .arg("--parsable")
        .arg(&path)
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!(
                    "sbatch not found: run `pclean submit` on a SLURM login node (the script is \
                     at '{}'; --dry-run shows it without submitting)",
                    path.display()
                )
            } else {
                anyhow::anyhow!("cannot run sbatch: {e}")
            }
        })?;
    if !out.status.success() {
        bail!(
            "sbatch rejected '{}': {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let id = stdout.trim().split(';').next().unwrap_or("").to_string();
    println!("{id}");
    eprintln!(
        "submitted coordinator job {id} ({}); follow it with: squeue -j {id}",
        path.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_has_directives_from_the_config() {
        let par = RawParams {
            slurm_queue: Some("debug".into()),
            slurm_account: Some("astro".into()),
            slurm_walltime: Some("02:00:00".into()),
            slurm_job_mem: Some("4GB".into()),
            slurm_job_name: Some("cube".into()),
            slurm_job_extra_directives: Some(vec!["--qos=low".into()]),
            slurm_job_script_prologue: Some(vec!["module load foo".into()]),
            slurm_python: Some("/opt/venv/bin/python".into()),
            ..Default::default()
        };
        let s = sbatch_script(
            &par,
            &JobSpec {
                config: Path::new("/data/run 1.yaml"),
                workdir: Path::new("/data"),
                pclean: Path::new("/opt/bin/pclean"),
                coordinator_mem: None,
            },
        );
        for want in [
            "#SBATCH --job-name=cube-coordinator\n",
            "#SBATCH --partition=debug\n",
            "#SBATCH --account=astro\n",
            "#SBATCH --time=02:00:00\n",
            "#SBATCH --mem=4G\n",
            "#SBATCH --chdir=/data\n",
            "#SBATCH --qos=low\n",
            "module load foo\n",
            "export PCLEAN_PYTHON=/opt/venv/bin/python\n",
            "exec /opt/bin/pclean image --config '/data/run 1.yaml' --parallel --cluster-type slurm\n",
        ] {
            assert!(s.contains(want), "missing {want:?} in\n{s}");
        }
        // Every directive comes before the first command.
        let first_cmd = s.find("set -euo").unwrap();
        assert!(s.rfind("#SBATCH").unwrap() < first_cmd);
    }

    #[test]
    fn slurm_memory_units() {
        assert_eq!(slurm_mem("16GB"), "16G");
        assert_eq!(slurm_mem("16GiB"), "16G");
        assert_eq!(slurm_mem("1.5G"), "1536M");
        assert_eq!(slurm_mem("8000M"), "8000M");
        assert_eq!(slurm_mem("4096"), "4096");
    }
}

"""The seed's SLURM submission: an sbatch script for a coordinator job that activates the user's
pixi environment and runs ``python -m pclean --pconfig CONFIG`` (which runs pclean's engine; its
Dask workers are SLURM jobs too when the config says ``cluster: type: slurm``).

pclean's own ``pclean submit CONFIG`` writes a script that runs the ``pclean`` executable instead
(docs/distributed.md); this module keeps the seed's script so its users' job files carry over.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Optional, Union

from ..config import SubmitConfig

PathLike = Union[str, "os.PathLike[str]"]


def generate_sbatch_script(config: PathLike, workdir: Optional[PathLike] = None,
                           submit_cfg: Optional[SubmitConfig] = None) -> str:
    """The coordinator job's script. ``workdir`` (or ``submit_cfg.workdir``) is required."""
    s = submit_cfg or SubmitConfig()
    config = Path(config).resolve()
    wd = workdir if workdir is not None else s.workdir
    if wd is None:
        raise ValueError("workdir must be provided (the argument, --workdir, or "
                         "cluster.submit.workdir in the config)")
    wd = Path(wd).resolve()
    project = Path(s.pixi_project_dir).resolve() if s.pixi_project_dir else config.parent
    log_dir = Path(s.log_dir).resolve() if s.log_dir else project / "logs"
    log_base = log_dir / config.stem
    command = f"python -m pclean --pconfig {config}"
    if s.psrecord:
        run = (f"psrecord \\\n    --log \"{log_base}.rec\" \\\n"
               "    --include-children --include-io --include-cache --use-timestamp \\\n"
               f"    --include-dir \"{wd}\" \\\n    \"{command} > {log_base}.log 2>&1\"")
    else:
        run = f"{command} > {log_base}.log 2>&1"
    lines = [
        "#!/bin/bash",
        f"#SBATCH --job-name={s.coordinator_job_name}",
        f"#SBATCH --output={log_dir}/{s.coordinator_job_name}-%j.out",
        f"#SBATCH --error={log_dir}/{s.coordinator_job_name}-%j.err",
        "#SBATCH --ntasks=1",
        f"#SBATCH --cpus-per-task={s.coordinator_cpus}",
        f"#SBATCH --mem={s.coordinator_mem}",
        f"#SBATCH --time={s.coordinator_walltime}",
        *[f"#SBATCH {d}" for d in (s.extra_sbatch or [])],
        "",
        "# Written by python -m pclean submit: the coordinator runs pclean's Dask driver.",
        f"eval \"$(pixi shell-hook -e {s.pixi_env} --manifest-path {project / 'pyproject.toml'})\"",
        f"mkdir -p \"{wd}\" && cd \"{wd}\"",
        f"mkdir -p \"{log_dir}\"",
        run,
        "",
    ]
    return "\n".join(lines)


def submit_pclean_slurm(config: PathLike, workdir: Optional[PathLike] = None,
                        submit_cfg: Optional[SubmitConfig] = None,
                        dry_run: bool = False) -> Optional[str]:
    """Write ``<workdir>/submit.sh`` and submit it with sbatch; returns the job id (``None`` on a
    dry run, which prints the script)."""
    config = Path(config)
    if not config.is_file():
        raise FileNotFoundError(f"Config file not found: {config}")
    s = submit_cfg or SubmitConfig()
    script = generate_sbatch_script(config, workdir, s)
    if dry_run:
        print(script)
        return None
    wd = Path(workdir if workdir is not None else s.workdir).resolve()
    wd.mkdir(parents=True, exist_ok=True)
    path = wd / "submit.sh"
    path.write_text(script)
    path.chmod(0o755)
    try:
        r = subprocess.run(["sbatch", str(path)], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise RuntimeError(f"sbatch failed: sbatch is not on PATH (run on a SLURM login node; "
                           f"the script is {path})") from None
    if r.returncode != 0:
        raise RuntimeError(f"sbatch failed ({r.returncode}): {r.stderr.strip()}")
    m = re.search(r"Submitted batch job (\d+)", r.stdout)
    return m.group(1) if m else r.stdout.strip()

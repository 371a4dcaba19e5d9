"""The parallel options of a run: read from the config dict, defaults applied, sizes in bytes.

`pclean.pclean(..., parallel=True, ...)` and `python -m pclean.distributed --config FILE` pass one
dict holding tclean's parameters and these keys; `split_config` separates them. The engine sees
only the imaging parameters (plus the scheduling keys this module sets for it).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from dask.utils import format_bytes, parse_bytes

from .. import _native

# Keys of the config dict that steer Dask, not the imaging: the declaration's "parallel" group
# (`pclean params`). `memory_limit` is both: in a distributed run it is the memory of one worker.
PARALLEL_KEYS = frozenset(p["name"] for p in _native.params() if p["group"] == "parallel")

CLUSTER_TYPES = tuple(next(p["choices"] for p in _native.params() if p["name"] == "cluster_type"))
PLANE_WRITES = tuple(next(p["choices"] for p in _native.params() if p["name"] == "plane_writes"))
LOCAL_WORKERS = tuple(next(p["choices"] for p in _native.params() if p["name"] == "local_workers"))

# Memory a worker process needs besides the blocks it images (Python, Dask, the imported engine):
# its MEMORY resource is its memory limit less this (declared with the memory estimates).
from ..utils.memory_estimate import WORKER_BASE_BYTES  # noqa: E402

# How long to wait for the first worker when `worker_timeout_s` is 0: SLURM jobs may sit in the
# queue.
DEFAULT_WORKER_TIMEOUT_S = {"local": 120.0, "address": 60.0, "slurm": 1800.0}

# Dask's memory heuristics for unmanaged memory (spill, pause, restart) are off on the workers
# pclean starts: each task declares the memory the engine's model says it needs, and the
# scheduler's resource accounting keeps the sum within the worker's limit.
WORKER_MEMORY_CONFIG = {
    "distributed.worker.memory.target": False,
    "distributed.worker.memory.spill": False,
    "distributed.worker.memory.pause": False,
    "distributed.worker.memory.terminate": False,
}


# Environment variables of Dask's nanny for the worker processes pclean starts, unset (None):
# MALLOC_TRIM_THRESHOLD_ (docs/distributed.md, "Session 17").
WORKER_ENVIRON_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
}


class ParallelConfigError(ValueError):
    """A parallel option is invalid; the message names it and says how to fix it."""


@dataclass
class ParallelOptions:
    cluster_type: str = "local"
    nworkers: int | None = None
    threads_per_worker: int = 1
    memory_limit: str | None = None
    local_directory: str | None = None
    scheduler_address: str | None = None
    worker_timeout_s: float = 0.0
    task_retries: int = 2
    # Who writes a cube's planes into the products: "workers" (straight into the files, which
    # they must see), "driver" (the planes travel to it) or "auto" (workers on a local cluster).
    plane_writes: str = "auto"
    # The workers of a local cluster: "threads" (Dask workers in this process), "processes"
    # (nanny-managed worker processes) or "auto" (threads).
    local_workers: str = "auto"
    slurm: dict[str, Any] = field(default_factory=dict)
    # Where the products go (absolute): shared with the workers, so the SLURM workers' per-run TLS
    # credentials are written there (0600 files, removed when the cluster closes).
    imagename_directory: str | None = None

    @property
    def workers_write_planes(self) -> bool:
        """Whether the workers write their planes into the products themselves."""
        if self.plane_writes == "auto":
            return self.cluster_type == "local"
        return self.plane_writes == "workers"

    @property
    def in_process_workers(self) -> bool:
        """Whether the workers are threads of this process (a local cluster, not `processes`)."""
        return self.cluster_type == "local" and self.local_workers != "processes"

    @property
    def worker_timeout(self) -> float:
        if self.worker_timeout_s:
            return float(self.worker_timeout_s)
        return DEFAULT_WORKER_TIMEOUT_S[self.cluster_type]


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v.strip() in ("", "auto"))


def split_config(config: dict) -> tuple[dict, ParallelOptions]:
    """(imaging parameters, parallel options) of a config dict."""
    # The engine reads the parallel keys too (it plans one block per worker task); only the
    # memory limit (set per worker by the driver) is left out.
    imaging = {k: v for k, v in config.items() if k != "memory_limit"}
    imaging["parallel"] = True
    get = config.get
    ctype = (get("cluster_type") or "local").lower()
    if ctype not in CLUSTER_TYPES:
        raise ParallelConfigError(
            f"cluster_type={ctype!r}: use one of {', '.join(CLUSTER_TYPES)}")
    nworkers = get("nworkers")
    if nworkers is not None and int(nworkers) <= 0:
        nworkers = None  # 0 = automatic
    tpw = int(get("threads_per_worker") or 1)
    if tpw < 1:
        raise ParallelConfigError(f"threads_per_worker={tpw}: must be at least 1")
    if ctype == "address" and _empty(get("scheduler_address")):
        raise ParallelConfigError(
            "cluster_type='address' needs scheduler_address, e.g. 'tcp://10.0.0.5:8786'")
    plane_writes = str(get("plane_writes") or "auto").strip().lower()
    if plane_writes not in PLANE_WRITES:
        raise ParallelConfigError(
            f"plane_writes={get('plane_writes')!r}: use one of {', '.join(PLANE_WRITES)} (workers: "
            "the workers write their planes into the products, which they must see; driver: the "
            "planes travel to this process)")
    local_workers = str(get("local_workers") or "auto").strip().lower()
    if local_workers not in LOCAL_WORKERS:
        raise ParallelConfigError(
            f"local_workers={get('local_workers')!r}: use one of {', '.join(LOCAL_WORKERS)} "
            "(threads: the workers run in this process; processes: one worker process each)")
    if local_workers != "auto" and ctype != "local":
        raise ParallelConfigError(
            f"local_workers={local_workers!r} chooses the workers of cluster_type='local' only "
            f"(cluster_type={ctype!r}: the workers are the cluster's processes); leave it 'auto'")
    mem = get("memory_limit")
    if not _empty(mem):
        try:
            parse_bytes(str(mem))
        except ValueError as e:
            raise ParallelConfigError(f"memory_limit={mem!r}: {e}; e.g. '8GiB'") from None
    slurm = {k[len("slurm_"):]: v for k, v in config.items()
             if k.startswith("slurm_") and v not in (None, "", [])}
    if not _empty(slurm.get("job_mem")):
        try:
            parse_bytes(str(slurm["job_mem"]))
        except ValueError as e:
            raise ParallelConfigError(
                f"slurm_job_mem={slurm['job_mem']!r}: {e}; e.g. '16GB'") from None
    else:
        slurm.pop("job_mem", None)  # the memory model's estimate
    for k in ("cores_per_job",):
        if not slurm.get(k):
            slurm.pop(k, None)  # 0 = threads_per_worker
    opts = ParallelOptions(
        cluster_type=ctype,
        nworkers=None if nworkers is None else int(nworkers),
        threads_per_worker=tpw,
        memory_limit=None if _empty(mem) else str(mem),
        local_directory=get("local_directory") or None,
        scheduler_address=get("scheduler_address") or None,
        worker_timeout_s=float(get("worker_timeout_s") or 0.0),
        task_retries=int(get("task_retries") if get("task_retries") is not None else 2),
        plane_writes=plane_writes,
        local_workers=local_workers,
        slurm=slurm,
        imagename_directory=_imagename_directory(get("imagename")),
    )
    return imaging, opts


def _imagename_directory(imagename: Any) -> str | None:
    if _empty(imagename):
        return None
    return os.path.dirname(os.path.abspath(os.path.expanduser(str(imagename))))


def human(nbytes: float) -> str:
    return format_bytes(int(nbytes))

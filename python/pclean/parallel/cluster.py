"""The seed's ``DaskClusterManager`` signature over pclean's (``pclean.distributed.cluster``):
``local`` (a LocalCluster), ``slurm`` (dask-jobqueue's SLURMCluster, when installed) and ``address``
(an existing scheduler; a ``scheduler_address`` with the default ``cluster_type='local'`` switches
to it, as the seed does).

Differences (docs/migrating.md): ``memory_limit='0'`` (the seed's "no Dask limit") lets pclean
size each worker from the available memory and admit tasks by its memory model; workers pclean
starts declare ``MEMORY``/``CPU`` resources.
"""
from __future__ import annotations

import logging
import os
from typing import Optional

from ..distributed.cluster import DaskClusterManager as _Manager
from ..distributed.options import ParallelOptions

log = logging.getLogger("pclean.parallel")

_SLURM_KEYS = ("queue", "account", "walltime", "job_mem", "cores_per_job", "job_name",
               "job_extra_directives", "python", "local_directory", "log_directory",
               "job_script_prologue")


class DaskClusterManager:
    """Owns a ``distributed.Client`` (the seed's API): ``start()``, ``shutdown()``, ``client``,
    ``worker_count``, and a context manager."""

    def __init__(
        self,
        nworkers: Optional[int] = None,
        scheduler_address: Optional[str] = None,
        threads_per_worker: int = 1,
        memory_limit: str = "0",
        local_directory: Optional[str] = None,
        cluster_type: str = "local",
        slurm_queue: Optional[str] = None,
        slurm_account: Optional[str] = None,
        slurm_walltime: str = "24:00:00",
        slurm_job_mem: str = "20GB",
        slurm_cores_per_job: int = 1,
        slurm_job_name: Optional[str] = None,
        slurm_job_extra_directives: Optional[list] = None,
        slurm_python: Optional[str] = None,
        slurm_local_directory: Optional[str] = None,
        slurm_log_directory: str = "logs",
        slurm_job_script_prologue: Optional[list] = None,
    ):
        self.nworkers = nworkers or os.cpu_count() or 4
        self.scheduler_address = scheduler_address
        self.threads_per_worker = threads_per_worker
        self.memory_limit = memory_limit
        self.local_directory = local_directory
        if scheduler_address and cluster_type == "local":
            cluster_type = "address"  # the seed's backward-compatible switch
        if cluster_type not in ("local", "slurm", "address"):
            raise ValueError(f"cluster_type={cluster_type!r}: use 'local', 'slurm' or 'address'")
        if cluster_type == "address" and not scheduler_address:
            raise ValueError("cluster_type='address' needs scheduler_address, "
                             "e.g. 'tcp://10.0.0.5:8786'")
        self.cluster_type = cluster_type
        given = dict(queue=slurm_queue, account=slurm_account, walltime=slurm_walltime,
                     job_mem=slurm_job_mem, cores_per_job=slurm_cores_per_job,
                     job_name=slurm_job_name, job_extra_directives=slurm_job_extra_directives,
                     python=slurm_python, local_directory=slurm_local_directory,
                     log_directory=slurm_log_directory,
                     job_script_prologue=slurm_job_script_prologue)
        for k in _SLURM_KEYS:
            setattr(self, f"slurm_{k}", given[k])
        self.slurm_job_extra_directives = slurm_job_extra_directives or []
        self.slurm_job_script_prologue = slurm_job_script_prologue or []
        mem = None if str(memory_limit).strip() in ("0", "", "auto") else str(memory_limit)
        self.options = ParallelOptions(
            cluster_type=cluster_type,
            nworkers=self.nworkers,
            threads_per_worker=int(threads_per_worker),
            memory_limit=mem,
            local_directory=local_directory,
            scheduler_address=scheduler_address,
            slurm={k: v for k, v in given.items() if v not in (None, "", [])},
        )
        self._manager: Optional[_Manager] = None

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> "DaskClusterManager":
        """Start the cluster (or connect to the scheduler) and the client."""
        if self._manager is None:
            m = _Manager(self.options)
            m.__enter__()
            self._manager = m
        return self

    def shutdown(self) -> None:
        """Close the client and the cluster pclean started."""
        if self._manager is not None:
            m, self._manager = self._manager, None
            m.__exit__(None, None, None)

    # accessors -------------------------------------------------------------------------------
    @property
    def manager(self) -> _Manager:
        """pclean's cluster manager (what ``ParallelCubeImager`` runs the driver on)."""
        if self._manager is None:
            raise RuntimeError("Cluster not started — call .start() first")
        return self._manager

    @property
    def client(self):
        """The ``distributed.Client``."""
        return self.manager.client

    @property
    def worker_count(self) -> int:
        """Workers registered with the scheduler now."""
        return len(self.client.nthreads())

    def __enter__(self) -> "DaskClusterManager":
        return self.start()

    def __exit__(self, *exc) -> bool:
        self.shutdown()
        return False

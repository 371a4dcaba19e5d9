"""`DaskClusterManager`: start (or connect to) a Dask cluster, wait for workers, shut it down.

- `local`: a `distributed.LocalCluster` on this machine, one Python thread per worker (the
  engine runs its own `threads_per_worker` threads inside a task): the workers are threads of this
  process (`local_workers='threads'`, the default) or worker processes (`'processes'`).
- `slurm`: a `dask_jobqueue.SLURMCluster`, one worker per SLURM job, scaled to `nworkers` jobs.
- `address`: a `distributed.Client` for an existing scheduler; its workers are not ours to change.

Who can get in (issue 20): a Dask scheduler runs whatever it is sent. The LocalCluster listens on
loopback only. A SLURM cluster's scheduler listens on the cluster network, so it uses TLS with
credentials made for the run (`Security.temporary()`: a fresh CA and key in memory; the workers'
copies go to 0600 files in the products' directory, which the worker jobs share, removed when
the cluster closes): a user without them can neither submit work nor read results. In
address mode the client takes the TLS settings of Dask's configuration
(`distributed.comm.tls.ca-file`, `.client.cert`, `.client.key`; see docs/distributed.md); a
`tls://` address without them is refused up front.

The workers pclean starts declare two resources: `MEMORY` (bytes a task may use: the worker's
memory limit less `WORKER_BASE_BYTES`) and `CPU` (threads). Each block's task asks for the memory
the engine's model estimates and for its threads, so the scheduler never runs more on a worker
than fits it. Workers of an `address` cluster should be started with
`--resources "MEMORY=<bytes>,CPU=<threads>"`; without `MEMORY`, tasks are run one per worker
thread (see docs/distributed.md).
"""
from __future__ import annotations

import logging
import os
import time

import dask
import psutil
from dask.utils import parse_bytes

from .options import (WORKER_BASE_BYTES, WORKER_ENVIRON_CONFIG, WORKER_MEMORY_CONFIG,
                      ParallelConfigError, ParallelOptions, human)
from .timeline import Timeline

log = logging.getLogger("pclean.distributed")


class WorkerTimeoutError(TimeoutError):
    """No worker joined the cluster in time."""


class DaskClusterManager:
    """Context manager: `with DaskClusterManager(opts) as m: m.client.submit(...)`.

    The cluster (if pclean started it) and the client are closed on exit, also when the body
    raised (KeyboardInterrupt included).
    """

    def __init__(self, opts: ParallelOptions):
        self.opts = opts
        self.cluster = None
        self.client = None
        self.nworkers = opts.nworkers
        # Memory a task may use on one worker (None: unknown, no admission by memory).
        self.task_memory_bytes: int | None = None
        self.worker_memory_bytes: int | None = None
        self._resources_known = False
        # Whether tasks ask for CPU (threads) as well as MEMORY.
        self.use_cpu_resource = True
        # Whether the workers are threads of this process (a LocalCluster pclean started so).
        self.in_process = False
        # When the run's phases ended (the summary's `distributed.timeline`).
        self.timeline = Timeline()

    # -- set-up ------------------------------------------------------------------------------
    def __enter__(self) -> "DaskClusterManager":
        from distributed import Client

        t = self.opts.cluster_type
        try:
            if t == "local":
                self.cluster = self._local_cluster()
                self.client = Client(self.cluster)
            elif t == "slurm":
                self.cluster = self._slurm_cluster()
                self.client = Client(self.cluster)
                log.info("submitted %d SLURM worker job(s); job script:\n%s", self.nworkers,
                         self.cluster.job_script())
            else:
                self.client = Client(self.opts.scheduler_address,
                                     security=address_security(self.opts.scheduler_address),
                                     timeout=f"{max(self.opts.worker_timeout, 10)}s")
        except BaseException:
            self._close()
            raise
        self.timeline.mark("cluster_started")
        log.info("Dask %s cluster: dashboard %s", t, self.dashboard_link or "(none)")
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def _close(self) -> None:
        if self.client is not None:
            try:
                if self.cluster is not None:
                    self.client.close(timeout=30)
                else:
                    self.client.close()
            except Exception as e:  # closing must not hide the error that got us here
                log.warning("closing the Dask client: %s", e)
            self.client = None
        if self.cluster is not None:
            try:
                self.cluster.close(timeout=60)
            except Exception as e:
                log.warning("shutting down the Dask cluster: %s", e)
            remove_credentials(self.cluster)
            self.cluster = None

    def _worker_memory(self, default_bytes: int) -> int:
        if self.opts.memory_limit:
            return int(parse_bytes(self.opts.memory_limit))
        return default_bytes

    def _set_task_memory(self, worker_bytes: int) -> None:
        self.worker_memory_bytes = worker_bytes
        self.task_memory_bytes = max(worker_bytes - WORKER_BASE_BYTES, worker_bytes // 2)
        self._resources_known = True

    def _resources(self) -> dict:
        return {"MEMORY": self.task_memory_bytes, "CPU": self.opts.threads_per_worker}

    def plan_local(self) -> None:
        """A LocalCluster's workers and their memory, known before it starts (so the coordinator
        can plan while the workers start). Idempotent."""
        if self._resources_known:
            return
        ncores = os.cpu_count() or 1
        tpw = self.opts.threads_per_worker
        if self.nworkers is None:
            self.nworkers = max(1, ncores // tpw)
        # auto: 80% of the available memory, shared by the workers.
        avail = psutil.virtual_memory().available
        self._set_task_memory(self._worker_memory(int(0.8 * avail) // self.nworkers))

    def _local_cluster(self):
        from distributed import LocalCluster

        self.plan_local()
        tpw = self.opts.threads_per_worker
        threads = self.opts.in_process_workers
        log.info("starting a LocalCluster: %d worker %s, %d engine thread(s) each, %s per worker "
                 "(%s for tasks)", self.nworkers, "thread(s) in this process" if threads else
                 "process(es)", tpw, human(self.worker_memory_bytes),
                 human(self.task_memory_bytes))
        # Dask's statistical profiler samples each worker's threads every 10 ms: CPU taken from
        # the engine on a machine whose cores the workers already fill (docs/distributed.md).
        config = {**WORKER_MEMORY_CONFIG, "distributed.worker.profile.enabled": False}
        if threads:
            # The workers are threads of this process (no nanny, Dask's in-process transport):
            # they start in ~0.02 s against ~0.4 s for worker processes, and the engine releases
            # the GIL while it images (docs/distributed.md, "Session 18").
            # TCP on loopback as for worker processes: with Dask's in-process transport the
            # workers' HTTP servers (health, metrics) would listen on every interface, and the
            # dashboard link would name no reachable host; the messages are small (a block's
            # metadata).
            kwargs = dict(processes=False)
            self.in_process = True
        else:
            # The nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which turns glibc's
            # adaptive mmap threshold off: every grid and plane is then mapped and page-faulted
            # afresh (the 1024^2 x 64 dirty cube's engine work in one process: 0.8 s of system
            # time with glibc's defaults, 3.8 s with that variable); the engine returns its free
            # pages itself (malloc_trim after each plane), so the workers keep glibc's defaults.
            config.update(WORKER_ENVIRON_CONFIG)
            kwargs = dict(processes=True)
        with dask.config.set(config):
            return LocalCluster(
                n_workers=self.nworkers,
                threads_per_worker=1,
                memory_limit=self.worker_memory_bytes,
                local_directory=self.opts.local_directory,
                resources=self._resources(),
                # A Dask scheduler runs whatever it is sent: listen on loopback only, where the
                # local workers reach it (issue 20), and keep the dashboard there too.
                protocol="tcp://",
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
                silence_logs=logging.WARNING,
                **kwargs,
            )

    def _slurm_cluster(self):
        try:
            from dask_jobqueue import SLURMCluster
        except ImportError:
            raise ParallelConfigError(
                "cluster_type='slurm' needs dask-jobqueue: pip install dask-jobqueue") from None
        s = self.opts.slurm
        if self.nworkers is None:
            self.nworkers = 1
        cores = int(s.get("cores_per_job") or self.opts.threads_per_worker)
        if cores < self.opts.threads_per_worker:
            raise ParallelConfigError(
                f"slurm_cores_per_job={cores} is less than threads_per_worker="
                f"{self.opts.threads_per_worker}: a task's threads must fit one job")
        job_mem = str(s["job_mem"])
        self._set_task_memory(self._worker_memory(int(parse_bytes(job_mem))))
        res = self._resources()
        res["CPU"] = cores
        # The worker command reads Dask's config from the environment: memory heuristics off.
        env = [f"export DASK_{k.upper().replace('.', '__').replace('-', '_')}=False"
               for k in WORKER_MEMORY_CONFIG]
        prologue = list(s.get("job_script_prologue") or []) + env
        extra = s.get("job_extra_directives") or []
        if isinstance(extra, str):
            extra = [extra]
        kwargs = dict(
            cores=cores,
            processes=1,
            memory=job_mem,
            queue=s.get("queue"),
            account=s.get("account"),
            walltime=s.get("walltime") or "01:00:00",
            job_name=s.get("job_name") or "pclean-worker",
            job_extra_directives=list(extra),
            python=s.get("python") or _default_python(),
            local_directory=s.get("local_directory") or self.opts.local_directory,
            log_directory=s.get("log_directory"),
            job_script_prologue=prologue,
            worker_extra_args=["--resources", ",".join(f"{k}={v}" for k, v in res.items())],
        )
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        kwargs.update(slurm_security(self.opts))
        log.info("starting a SLURMCluster: %d job(s) of %d core(s) and %s", self.nworkers, cores,
                 job_mem)
        cluster = SLURMCluster(**kwargs)
        cluster.scale(jobs=self.nworkers)
        return cluster

    # -- workers -----------------------------------------------------------------------------
    @property
    def dashboard_link(self) -> str | None:
        try:
            return self.client.dashboard_link if self.client is not None else None
        except Exception:
            return None

    def workers(self) -> dict:
        return self.client.scheduler_info(n_workers=-1)["workers"] if self.client else {}

    def wait_for_workers(self, n: int = 1) -> None:
        """Wait until at least `n` workers have joined (SLURM jobs may be queued for long)."""
        timeout = self.opts.worker_timeout
        t0 = time.time()
        last = -1
        while True:
            have = len(self.workers())
            if have >= n:
                break
            if have != last:
                log.info("waiting for Dask workers: %d of %d joined", have, n)
                last = have
            if time.time() - t0 > timeout:
                hint = {
                    "slurm": "the worker jobs may still be queued (squeue) or have failed (see "
                             "their logs, slurm_log_directory); raise worker_timeout_s to wait longer",
                    "address": f"start workers for {self.opts.scheduler_address}",
                    "local": "the local worker processes did not start",
                }[self.opts.cluster_type]
                raise WorkerTimeoutError(
                    f"no Dask worker joined within {timeout:.0f} s ({have} of {n}): {hint}")
            time.sleep(0.5)
        self.timeline.mark("workers_joined")
        if not self._resources_known:
            self._inspect_address_workers()

    def _inspect_address_workers(self) -> None:
        """An existing cluster: learn what a task may use from its workers' resources."""
        ws = self.workers().values()
        mems = [w.get("resources", {}).get("MEMORY") for w in ws]
        mems = [int(m) for m in mems if m]
        self.use_cpu_resource = any("CPU" in w.get("resources", {}) for w in ws)
        if mems:
            # Blocks are planned for the smallest worker, so any worker can run any block.
            self.task_memory_bytes = min(mems)
        else:
            limits = [int(w.get("memory_limit") or 0) for w in ws]
            limits = [m for m in limits if m > 0]
            self.task_memory_bytes = None
            self.worker_memory_bytes = min(limits) if limits else None
            log.warning(
                "the workers of %s declare no MEMORY resource: tasks run one per worker thread "
                "without memory admission; start workers with --resources \"MEMORY=<bytes>\" "
                "(and --nthreads 1) to let pclean bound the memory in use",
                self.opts.scheduler_address)
        self._resources_known = True

    def task_resources(self, memory_bytes: int, threads: int) -> dict | None:
        """Dask resources of one task, or None where the workers declare none."""
        if self.task_memory_bytes is None:
            return None
        res = {"MEMORY": int(memory_bytes)}
        if self.use_cpu_resource:
            res["CPU"] = int(threads)
        return res

    def describe(self) -> dict:
        ws = self.workers()
        return {
            "cluster_type": self.opts.cluster_type,
            "scheduler_address": self.client.scheduler.address if self.client else None,
            "dashboard": self.dashboard_link,
            "nworkers_requested": self.nworkers,
            "workers": sorted(ws),
            "worker_memory_bytes": self.worker_memory_bytes,
            "task_memory_bytes": self.task_memory_bytes,
            "threads_per_worker": self.opts.threads_per_worker,
            "workers_in_process": self.in_process,
        }


# Dask's configuration keys of a client's TLS settings (address mode).
TLS_CLIENT_KEYS = ("distributed.comm.tls.ca-file", "distributed.comm.tls.client.cert",
                   "distributed.comm.tls.client.key")


def slurm_security(opts: ParallelOptions) -> dict:
    """SLURMCluster arguments for TLS with credentials made for this run: the scheduler and every
    worker present certificates of a CA that exists only in this process (and, for the worker
    jobs, in 0600 files under `shared_temp_directory`), and encryption is required."""
    try:
        from distributed.security import Security
        security = Security.temporary()
    except ImportError as e:
        raise ParallelConfigError(
            "cluster_type='slurm' runs its scheduler with TLS and per-run credentials, which needs "
            f"the 'cryptography' package ({e}): pip install cryptography") from None
    shared = opts.imagename_directory or os.getcwd()
    return dict(security=security, protocol="tls://", shared_temp_directory=str(shared))


def remove_credentials(cluster) -> None:
    """Delete the worker credential files dask-jobqueue wrote for a SLURM cluster (it keeps them
    open as `NamedTemporaryFile`s named `_job_<key>` on the cluster, deleted on close)."""
    for name, f in list(vars(cluster).items()):
        if name.startswith("_job_") and hasattr(f, "close"):
            try:
                f.close()
            except OSError as e:
                log.warning("removing the worker credentials %s: %s", getattr(f, "name", name), e)


def address_security(address: str | None):
    """The client's `Security` for an existing scheduler: Dask's configuration (its TLS keys, see
    `TLS_CLIENT_KEYS`). A `tls://` scheduler without a CA file configured is refused with how to
    configure one (without it the connection would fail after the timeout with a TLS error)."""
    from distributed.security import Security

    if str(address or "").startswith("tls://"):
        missing = [k for k in TLS_CLIENT_KEYS if not dask.config.get(k, None)]
        if missing:
            raise ParallelConfigError(
                f"scheduler_address={address!r} uses TLS but Dask's configuration has no "
                f"{', '.join(missing)}: set them in ~/.config/dask/distributed.yaml or as "
                "DASK_DISTRIBUTED__COMM__TLS__CA_FILE, DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT and "
                "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY (the scheduler's CA and a client "
                "certificate and key it accepts)")
    return Security()


def _default_python() -> str:
    import sys
    return sys.executable

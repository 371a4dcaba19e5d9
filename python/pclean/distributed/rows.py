"""A continuum (``specmode='mfs'``) run in row partitions on Dask (docs/distributed.md,
"Continuum: row partitions").

This process holds the engine's `Coordinator` and runs the image's block itself: weighting
densities, normalisation, the minor cycle, masks, iteration control and the products. Every
gridding pass (the density, the PSF, each major cycle's residual with the model's prediction) is
one engine task in byte form, sent to the partitions as Dask tasks (`run_row_task`: the worker
opens the run once, images its rows, returns its unnormalised partial as bytes); the engine sums
the partials here and normalises once. Tasks are stateless, so a task lost with its worker is
rerun by Dask elsewhere with the same result.

Partitions: ``row_partitions`` when given, else one per worker (``nworkers``, or the workers of
an existing cluster when the run starts).
"""
from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid

log = logging.getLogger("pclean.distributed")


def rows_possible(native, imaging: dict) -> bool:
    """Whether this run can be imaged in row partitions: the engine accepts ``row_partitions``
    for it (specmode mfs, and whatever else the engine can partition today)."""
    if int(imaging.get("row_partitions") or 0) > 0:
        return True  # asked for: the engine validates (and refuses, naming it) what it cannot do
    trial = dict(imaging, row_partitions=1)
    try:
        native.validate(json.dumps(trial), complete=True, defaults=False)
    except Exception:
        return False
    return True


def partitions_for(imaging: dict, cm) -> int:
    """``row_partitions``, or (0: automatic) one per Dask worker."""
    n = int(imaging.get("row_partitions") or 0)
    if n > 0:
        return n
    if cm.nworkers:
        return int(cm.nworkers)
    return max(len(cm.workers()), 1)


class _PeakRss:
    """The process's resident memory sampled every `interval` s on a thread while a task runs
    (the engine's counting allocator is the CLI's, not the extension's): its peak, bytes."""

    def __init__(self, interval: float = 0.02):
        import threading

        import psutil  # a dependency of distributed

        self._proc, self._interval = psutil.Process(), interval
        self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def _worker_address():
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return None  # not on a Dask worker (called directly)


def run_row_task(config_json: str, n: int, index: int, task: bytes, nthreads: int):
    """What a Dask worker runs: partition `index` of `n` runs one pass; (output bytes, seconds,
    the worker's address, the worker process's peak resident memory during the task in bytes)."""
    from pclean import _native

    t0 = time.time()
    with _PeakRss() as rss:
        out = _native.run_row_task(config_json, n, index, task, nthreads)
    return out, time.time() - t0, _worker_address(), int(rss.peak)


class _Submitter:
    """`Coordinator.run_rows`'s `submit(task, n)`: one Dask task per partition, their outputs
    gathered here (funnelled: docs/distributed.md says why, with the measured reduction)."""

    def __init__(self, client, config_json: str, threads: int, retries: int,
                 resources: dict | None = None):
        self.client, self.config_json = client, config_json
        self.threads, self.retries = threads, retries
        # A partition's task declares the memory model's bytes (and threads) as Dask resources
        # where the workers declare them, so a worker runs only the partitions it has memory for.
        self.resources = resources
        self.run_id = uuid.uuid4().hex[:8]
        self.npass = 0
        self.gather_s = 0.0

    def __call__(self, task: bytes, n: int):
        self.npass += 1
        # The task (weighter, model) goes once to every worker, not once per partition.
        [data] = self.client.scatter([task], broadcast=True, hash=False)
        futures = [
            self.client.submit(
                run_row_task, self.config_json, n, i, data, self.threads,
                key=f"pclean-rows-{self.run_id}-{self.npass:04d}-{i:04d}",
                pure=False, retries=self.retries, resources=self.resources)
            for i in range(n)
        ]
        try:
            t = time.time()
            out = self.client.gather(futures)
            self.gather_s += time.time() - t
        except BaseException:
            for f in futures:
                f.cancel()
            raise
        finally:
            data.release()
        return out


def run_rows(native, imaging: dict, opts, cm) -> tuple[dict, list]:
    """Run `imaging` (an mfs run) in row partitions on `cm`'s workers; (summary, task info)."""
    cm.wait_for_workers(1)
    n = partitions_for(imaging, cm)
    cfg = dict(imaging, parallel=True, row_partitions=n)
    config_json = json.dumps(cfg)
    coord = native.Coordinator(config_json)
    try:
        pending = coord.pending()
        log.info("continuum in %d row partition(s) on %d %s worker(s)", n, len(cm.workers()),
                 cm.opts.cluster_type)
        threads = opts.threads_per_worker
        need = int(coord.row_partition_bytes(n, threads))
        if cm.task_memory_bytes and need > cm.task_memory_bytes:
            # No worker could take such a task: Dask would wait for ever.
            from .driver import BlockTooLargeError
            from .options import human

            raise BlockTooLargeError(
                f"a row partition (1 of {n}) needs an estimated {human(need)}, more than a "
                f"worker may give one task ({human(cm.task_memory_bytes)}); give workers more "
                "memory (memory_limit, slurm_job_mem, or the MEMORY resource of the workers), "
                "or raise row_partitions")
        resources = cm.task_resources(need, threads)
        submit = _Submitter(cm.client, config_json, threads, opts.task_retries, resources)
        if pending:
            coord.run_rows(n, submit, threads)
        summary = coord.finish()
    except BaseException:
        log.warning("run stopped: recording what is complete; run the same command again to "
                    "resume")
        try:
            coord.abort()
        except Exception as e:
            log.warning("abort: %s", e)
        raise
    info = {"row_partitions": n, "passes": submit.npass, "gather_s": submit.gather_s,
            "host": socket.gethostname(), "pid": os.getpid()}
    return summary, [info]

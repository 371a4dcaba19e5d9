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


def run_row_task(config_json: str, n: int, index: int, task: bytes, nthreads: int):
    """What a Dask worker runs: partition `index` of `n` runs one pass; (output bytes, seconds)."""
    from pclean import _native

    t0 = time.time()
    out = _native.run_row_task(config_json, n, index, task, nthreads)
    return out, time.time() - t0


class _Submitter:
    """`Coordinator.run_rows`'s `submit(task, n)`: one Dask task per partition, their outputs
    gathered here (funnelled: docs/distributed.md says why, with the measured reduction)."""

    def __init__(self, client, config_json: str, threads: int, retries: int):
        self.client, self.config_json = client, config_json
        self.threads, self.retries = threads, retries
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
                pure=False, retries=self.retries)
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
        submit = _Submitter(cm.client, config_json, opts.threads_per_worker, opts.task_retries)
        if pending:
            coord.run_rows(n, submit)
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

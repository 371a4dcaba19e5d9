"""`run_distributed`: image a cube's channel blocks as Dask tasks and gather them into the products.

The driver process holds the engine's `Coordinator` (plan, products, checkpoint, lock). Each
pending block becomes one task running `_native.run_block` on a worker. With `plane_writes`
'workers' (the default on a local cluster) the worker writes the block's planes straight into the
pre-created products (their files: it must see them) and syncs them before the task returns; the
task returns the block's metadata only, and the coordinator records it. With 'driver' (the default
on SLURM and address clusters) the task returns the planes as bytes and the coordinator writes
them, so no shared filesystem is needed for the outputs (workers only read the MeasurementSets).

Failures: Dask reruns the tasks of a worker that died on another worker (up to
`distributed.scheduler.allowed-failures` times), and a task that raised is retried `task_retries`
times. A run that still fails, or is interrupted, calls `Coordinator.abort()`: the finished blocks
stay recorded, and running the same command again images only the missing ones.
"""
from __future__ import annotations

import contextlib
import json
import logging
import math
import time
import uuid
from pathlib import Path

from .cluster import DaskClusterManager
from .options import WORKER_BASE_BYTES, ParallelOptions, human, split_config
from .rows import rows_possible, run_rows
from .task import run_block_task

log = logging.getLogger("pclean.distributed")


class BlockTooLargeError(MemoryError):
    """A channel block needs more memory than any worker may give a task."""


def engine_config(imaging: dict, opts: ParallelOptions, task_memory_bytes: int | None,
                  nworkers: int | None = None) -> dict:
    """The engine's parameters for a distributed run: blocks are planned for one worker."""
    cfg = dict(imaging)
    # With parallel=true the engine plans one block per task of `threads_per_worker` threads
    # within `memory_limit`: what one task may use on a worker.
    cfg["parallel"] = True
    if task_memory_bytes:
        cfg["memory_limit"] = f"{int(task_memory_bytes)}B"
    # A dirty cube's blocks are planned as a few per worker (each worker reads its channel
    # range once); `nworkers` is a scheduling key, so a resumed run may have another count.
    if nworkers:
        cfg["nworkers"] = int(nworkers)
    return cfg


class _Progress:
    """One log line per completed block, at most every `every` seconds (and the last one)."""

    def __init__(self, total: int, every: float = 2.0):
        self.total, self.every = total, every
        self.done = 0
        self.t0 = self.last = time.time()

    def advance(self, n: int) -> None:
        self.done += n
        now = time.time()
        if now - self.last < self.every and self.done < self.total:
            return
        self.last = now
        rate = self.done / max(now - self.t0, 1e-9)
        eta = (self.total - self.done) / rate if rate > 0 else float("inf")
        log.info("%d/%d channels (%.0f%%), %.2f channels/s, ETA %.0f s", self.done, self.total,
                 100.0 * self.done / max(self.total, 1), rate, eta)


def _native():
    try:
        from pclean import _native
    except ImportError as e:
        raise ImportError(
            f"pclean's compiled engine (pclean._native) is not importable: {e}. Install the "
            "package (pip install 'pclean[dask]'; from a checkout: pip install './python[dask]')") from e
    return _native


def run_distributed(config: dict, cluster: DaskClusterManager | None = None) -> dict:
    """Run the imaging described by `config` (tclean parameters plus the parallel ones) on a Dask
    cluster; returns the engine's summary with a `distributed` section added.

    `cluster`: a cluster manager already started (the seed's `ParallelCubeImager(config,
    cluster)`): the run uses it and leaves it running; otherwise the run starts its own from the
    config's parallel keys and shuts it down at the end."""
    t0 = time.time()
    native = _native()
    imaging, opts = split_config(config)
    _fresh_restart(imaging)
    owned = cluster is None
    cm = DaskClusterManager(opts) if owned else cluster
    cm.timeline.origin(t0)
    if rows_possible(native, imaging):
        # A continuum image: its passes in row partitions, the minor cycle in this process.
        if owned and opts.cluster_type == "slurm" and not opts.slurm.get("job_mem"):
            opts.slurm["job_mem"] = _partition_job_mem(native, imaging)
        with cm if owned else contextlib.nullcontext(cm):
            summary, tasks = run_rows(native, imaging, opts, cm)
            d = cm.describe()
    else:
        summary, tasks, d = _run_blocks(native, imaging, opts, cm, owned)
    summary = dict(summary)
    d["tasks"] = tasks
    cm.timeline.mark("done")
    d["timeline"] = cm.timeline.seconds(tasks)
    d["wall_time_s"] = time.time() - t0
    summary["distributed"] = d
    _update_summary_file(summary)
    return summary


def _run_blocks(native, imaging: dict, opts: ParallelOptions, cm: DaskClusterManager,
                owned: bool):
    """A cube's channel blocks (or an image that cannot be partitioned by rows) as Dask tasks;
    (summary, task info, cluster description)."""
    coord = None
    early = None
    try:
        if owned and opts.cluster_type == "local":
            # The workers' count and memory are known before they start: the coordinator plans
            # and creates the products (the GIL released) while the cluster starts.
            cm.plan_local()
            config_json = json.dumps(engine_config(imaging, opts, cm.task_memory_bytes,
                                                   cm.nworkers))
            early = _Early(_coordinator, native, config_json, cm)
        elif owned and opts.cluster_type == "slurm" and not opts.slurm.get("job_mem"):
            # No job memory given: plan first, then ask SLURM for what the largest block needs.
            config_json = json.dumps(engine_config(imaging, opts, None, cm.nworkers))
            coord = native.Coordinator(config_json)
            need = max((int(p["memory_bytes"]) for p in coord.pending()), default=0)
            opts.slurm["job_mem"] = f"{math.ceil(1.1 * (need + WORKER_BASE_BYTES) / 2**20)}MiB"
            log.info("slurm_job_mem not given: %s per worker job from the memory model",
                     opts.slurm["job_mem"])
        with cm if owned else contextlib.nullcontext(cm):
            if early is not None:
                coord = early.result()
            if coord is None:
                if cm.opts.cluster_type == "address":
                    cm.wait_for_workers(1)  # their resources decide the block size
                config_json = json.dumps(engine_config(imaging, opts, cm.task_memory_bytes,
                                                       _worker_count(cm)))
                coord = _coordinator(native, config_json, cm)
            # Workers get the coordinator's exact parameters.
            summary, tasks, transfer = _run(coord, cm, config_json, opts)
            d = cm.describe()
            d.update(transfer)
            return summary, tasks, d
    except BaseException:
        if coord is None and early is not None:
            coord = early.result_or_none()
        if coord is not None:
            log.warning("run stopped: recording the finished blocks; run the same command again "
                        "to resume")
            try:
                coord.abort()
            except Exception as e:
                log.warning("abort: %s", e)
        raise


class _Early:
    """`fn(*args)` run in a thread from now on; `result()` waits for it (re-raising its error)."""

    def __init__(self, fn, *args):
        import threading
        self._value, self._error = None, None

        def run():
            try:
                self._value = fn(*args)
            except BaseException as e:  # noqa: BLE001 - re-raised by result()
                self._error = e

        self._thread = threading.Thread(target=run, name="pclean-coordinator", daemon=True)
        self._thread.start()

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value

    def result_or_none(self):
        """The value once made (waiting for it), or None if making it failed."""
        self._thread.join()
        return self._value


def _partition_job_mem(native, imaging: dict) -> str:
    """SLURM job memory of a row partition's worker when `slurm_job_mem` is not given: the memory
    model's one-plane task of this image size (a partition grids one plane of its rows)."""
    imsize = imaging.get("imsize") or [100]
    imsize = max(int(v) for v in (imsize if isinstance(imsize, list) else [imsize]))
    gib = native.estimate_worker_memory_gib(imsize, nchan_per_task=1)
    mem = f"{math.ceil(1.1 * (gib * 2**30 + WORKER_BASE_BYTES) / 2**20)}MiB"
    log.info("slurm_job_mem not given: %s per worker job from the memory model", mem)
    return mem


def _fresh_restart(imaging: dict) -> None:
    """`restart=True` (tclean's default, which the seed's configs carry) is a fresh run when there
    is no model to continue from, and an interrupted run is resumed by its checkpoint: in both
    cases the run is given `restart=False`, which a distributed run supports. Only a real
    continuation (a model and no checkpoint) keeps `restart=True`, which the engine refuses."""
    name = str(imaging.get("imagename") or "")
    if not imaging.get("restart") or not name:
        return
    model = Path(f"{name}.model").exists() or Path(f"{name}.model.fits").exists()
    if not model or Path(f"{name}.checkpoint.json").exists():
        imaging["restart"] = False


def _update_summary_file(summary: dict) -> None:
    """Add the `distributed` section to `<imagename>.summary.json` (written by the engine)."""
    path = Path(f"{summary.get('imagename', '')}.summary.json")
    if summary.get("imagename") and path.exists():
        try:
            path.write_text(json.dumps(summary, indent=2, default=str))
        except OSError as e:
            log.warning("cannot update %s: %s", path, e)


def _coordinator(native, config_json: str, cm: DaskClusterManager):
    """The engine's Coordinator; a plan that does not fit a worker says where the limit came from."""
    try:
        coord = native.Coordinator(config_json)
        cm.timeline.mark("planned")
        return coord
    except Exception as e:
        if cm.task_memory_bytes and str(e).lower().startswith("memory"):
            source = {"local": "memory_limit / nworkers", "slurm": "slurm_job_mem",
                      "address": "the workers' MEMORY resource"}[cm.opts.cluster_type]
            raise BlockTooLargeError(
                f"{e} (in a distributed run the limit is what one worker task may use: "
                f"{human(cm.task_memory_bytes)}, from {source}, less "
                f"{human(WORKER_BASE_BYTES)} for the worker process)") from e
        raise


def _worker_count(cm: DaskClusterManager) -> int | None:
    """Workers the blocks are planned for: those started (local, SLURM), else those connected."""
    if cm.opts.cluster_type != "address" and cm.nworkers:
        return int(cm.nworkers)
    try:
        return len(cm.workers()) or None
    except Exception:  # noqa: BLE001 - planning falls back to the memory model's blocks
        return None


def worker_ranges(pending: list, workers: list[str]) -> list[tuple[str | None, int, int]]:
    """Each pending block's worker and that worker's channel range [a, z): the blocks, in order,
    cut into one contiguous run of nearly equal channels per worker, so that each worker reads
    its range's visibilities once (`_native.run_block`'s `cache_chans`). No workers: (None, a,
    z) of the block itself."""
    if not workers:
        return [(None, int(p["channels"][0]), int(p["channels"][1])) for p in pending]
    total = sum(p["channels"][1] - p["channels"][0] for p in pending)
    groups: list[list] = [[] for _ in workers]
    done = 0
    for p in pending:
        n = p["channels"][1] - p["channels"][0]
        # The worker whose share holds this block's middle channel.
        w = min(len(workers) - 1, int((done + n / 2) * len(workers) / max(total, 1)))
        groups[w].append(p)
        done += n
    out = {}
    for w, g in zip(workers, groups):
        if g:
            a, z = int(g[0]["channels"][0]), int(g[-1]["channels"][1])
            for p in g:
                out[int(p["block"])] = (w, a, z)
    return [out[int(p["block"])] for p in pending]


def _run(coord, cm: DaskClusterManager, config_json: str, opts: ParallelOptions):
    from distributed import as_completed

    pending = list(coord.pending())
    limit = cm.task_memory_bytes
    if limit is not None:
        too_big = [p for p in pending if int(p["memory_bytes"]) > limit]
        if too_big:
            p = max(too_big, key=lambda p: int(p["memory_bytes"]))
            raise BlockTooLargeError(
                f"channel block {p['block']} (channels {p['channels'][0]}-{p['channels'][1] - 1}) "
                f"needs an estimated {human(int(p['memory_bytes']))}, more than a worker may "
                f"give one task ({human(limit)}); give workers more memory (memory_limit, "
                "slurm_job_mem, or the MEMORY resource of the workers), or lower imsize or "
                "cube_chunksize")
    nchan = sum(p["channels"][1] - p["channels"][0] for p in pending)
    log.info("%d block(s), %d channel(s) to image on %s workers", len(pending), nchan,
             cm.opts.cluster_type)
    # The workers write their planes into the products themselves when they see them.
    direct = coord.direct_targets() if opts.workers_write_planes else None
    if direct == "[]":
        direct = None
    plane_writes = "workers" if direct else "driver"
    if not pending:
        transfer = dict(plane_writes=plane_writes, **coord.transfer())
        return coord.finish(), [], transfer
    cm.wait_for_workers(1)
    client = cm.client
    run_id = uuid.uuid4().hex[:8]
    futures = {}
    # Each worker is given a contiguous range of the blocks (loosely: a lost worker's blocks
    # run elsewhere, reading the MS themselves) and reads the range's visibilities once.
    workers = sorted(cm.workers())
    # In-process workers share this process: it holds each one's channel range.
    per_process = len(workers) if cm.in_process else 1
    for p, (w, ca, cz) in zip(pending, worker_ranges(pending, workers)):
        b, (a, z), threads = int(p["block"]), p["channels"], int(p["threads"])
        fut = client.submit(
            run_block_task, config_json, int(a), int(z), threads, (ca, cz), direct,
            max(per_process, 1),
            key=f"pclean-block-{b:05d}-{run_id}",
            resources=cm.task_resources(int(p["memory_bytes"]), threads),
            workers=[w] if w else None,
            allow_other_workers=True,
            pure=False,
            retries=opts.task_retries,
        )
        futures[fut] = p
    cm.timeline.mark("submitted")
    progress = _Progress(nchan)
    tasks = []
    try:
        for fut in as_completed(list(futures)):
            p = futures.pop(fut)
            data, info = fut.result()
            fut.release()
            coord.accept(int(p["block"]), data)
            del data
            info.update(block=int(p["block"]), channels=list(p["channels"]),
                        memory_bytes=int(p["memory_bytes"]))
            tasks.append(info)
            progress.advance(p["channels"][1] - p["channels"][0])
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    tasks.sort(key=lambda t: t["block"])
    cm.timeline.mark("accepted")
    transfer = dict(plane_writes=plane_writes, **coord.transfer())
    summary = coord.finish()
    cm.timeline.mark("finished")
    return summary, tasks, transfer

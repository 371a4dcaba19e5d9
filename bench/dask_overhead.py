#!/usr/bin/env python3
"""Where a dirty cube's time goes through Dask (issue 18 item 5): the same cube imaged by the
local engine (`pclean.pclean(parallel=False)`) and by `pclean.pclean(parallel=True, nworkers=N)`
on a LocalCluster, in one process, one after the other; for the Dask run, from its summary's
`distributed.tasks` (each task's start and seconds on its worker):

- start: from the call to the first task's start (cluster start, worker imports, planning);
- tasks: the workers' busy seconds (sum of the tasks' `seconds`) over N, against the local run;
- gaps: the wall between the first task's start and the last task's end not covered by the
  tasks (shipping the task, the planes travelling back and written by the coordinator, while
  no task of a worker runs);
- tail: from the last task's end to the return (the last planes written, `finish`, shutdown);
- CPU: user and system seconds of this process (the coordinator) and of the cluster's processes
  (workers, nannies: reaped children), for the local run and the Dask run;
- transfer: planes received by the coordinator (and their bytes) and planes the workers wrote
  into the products themselves (`plane_writes`).

    python bench/dask_overhead.py --ms synth.ms --work /tmp/dask --imsize 512 --nchan 64 --repeats 3

`--local-workers threads processes` runs, after each repeat's local run, one Dask run with the
workers as threads of the driver's process and one with worker processes (interleaved, so all
see the same load); without it, one Dask run with the driver's default (`local_workers='auto'`).

`--plane-writes driver` makes the planes travel to the coordinator (the default on a local
cluster is `workers`: each worker writes its planes into the products itself).

Each repeat runs the local engine then Dask (interleaved, so both see the same load); prints one
JSON line per repeat and a last line with the medians. `--compare` (needs python-casacore) also
checks the first repeat's Dask products against the local ones (max |dask - local| / peak per
product). Needs pclean's Python package with Dask.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time

PRODUCTS = ["psf", "residual", "image", "pb", "sumwt", "weight"]


def compare(a: str, b: str) -> dict:
    """max |a - b| / max |b| of each product of prefixes a and b."""
    import numpy as np
    from casacore.images import image
    out = {}
    for ext in PRODUCTS:
        x = np.asarray(image(f"{a}.{ext}").getdata(), dtype=np.float64)
        y = np.asarray(image(f"{b}.{ext}").getdata(), dtype=np.float64)
        out[ext] = float(np.max(np.abs(x - y)) / max(np.max(np.abs(y)), 1e-30))
    return out


def cpu_split(before, after) -> dict:
    """User and system CPU seconds of this process and of its reaped children between two
    `os.times()`."""
    d = [x - y for x, y in zip(after, before)]
    return dict(self_user_s=round(d[0], 2), self_sys_s=round(d[1], 2),
                children_user_s=round(d[2], 2), children_sys_s=round(d[3], 2))


def one(a, pclean, base: dict, keep: bool) -> list[dict]:
    """One local run then one Dask run per `--local-workers` value (the driver's default when
    none is given); the phases of each Dask run from its tasks and timeline."""
    load = os.getloadavg()
    local = os.path.join(a.work, "local")
    cpu = None
    if a.local_s > 0:
        local_s = a.local_s
    else:
        c0 = os.times()
        t0 = time.time()
        pclean.pclean(imagename=local, parallel=False, **base)
        local_s = time.time() - t0
        cpu = cpu_split(c0, os.times())
    outs = []
    for kind in a.local_workers or [None]:
        out = dict(load_before=load, local_s=local_s)
        if cpu is not None:
            out["local_cpu"] = cpu
        dask = os.path.join(a.work, f"dask-{kind or 'default'}")
        extra = dict(plane_writes=a.plane_writes) if a.plane_writes else {}
        if kind:
            extra["local_workers"] = kind
        c0 = os.times()
        t0 = time.time()
        s = pclean.pclean(imagename=dask, parallel=True,
                          nworkers=a.nworkers, threads_per_worker=1,
                          cube_chunksize=a.cube_chunksize, **extra, **base)
        t1 = time.time()
        out["dask_s"] = t1 - t0
        out["dask_cpu"] = cpu_split(c0, os.times())
        d = s.get("distributed") or {}
        out["local_workers"] = kind or "default"
        out["workers_in_process"] = d.get("workers_in_process")
        out["transfer"] = {k: d.get(k) for k in ("plane_writes", "planes_received",
                                                 "plane_bytes_received",
                                                 "planes_written_by_workers")}
        # When each phase ended, seconds from the driver's start (planned, cluster_started,
        # workers_joined, submitted, first_task_start, last_task_end, accepted, finished, done).
        out["timeline"] = d.get("timeline")
        tasks = d.get("tasks") or []
        if tasks:
            first = min(t["start"] for t in tasks)
            last = max(t["start"] + t["seconds"] for t in tasks)
            busy = sum(t["seconds"] for t in tasks)
            out.update(ntasks=len(tasks), start_s=first - t0, task_busy_s=busy,
                       task_busy_per_worker_s=busy / a.nworkers,
                       gaps_s=(last - first) - busy / a.nworkers, tail_s=t1 - last,
                       # What a task costs beyond the local engine's share of the work.
                       per_task_overhead_s=(busy - a.nworkers * local_s) / len(tasks))
        out["ratio"] = out["dask_s"] / local_s
        out["load_after"] = os.getloadavg()
        if keep and a.compare and a.local_s <= 0:
            out["max_diff_over_peak"] = compare(dask, local)
        outs.append(out)
    return outs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ms", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--imsize", type=int, default=1024)
    ap.add_argument("--cell", default="0.1arcsec")
    ap.add_argument("--nchan", type=int, default=64)
    ap.add_argument("--specmode", default="cube")
    ap.add_argument("--nworkers", type=int, default=2)
    ap.add_argument("--cube-chunksize", type=int, default=0,
                    help="channels per Dask task (0: the driver's plan)")
    ap.add_argument("--local-s", type=float, default=0.0,
                    help="the local run's seconds, measured before (skips the local run)")
    ap.add_argument("--plane-writes", choices=["workers", "driver"], default=None,
                    help="who writes the Dask run's planes (default: the driver's choice, "
                         "workers on a local cluster)")
    ap.add_argument("--local-workers", nargs="*", choices=["threads", "processes"], default=None,
                    help="the Dask runs of each repeat, one per value, after the local run "
                         "(default: one run with the driver's default, local_workers='auto')")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--compare", action="store_true",
                    help="compare the first repeat's Dask and local products")
    a = ap.parse_args()
    import pclean

    base = dict(vis=a.ms, imsize=[a.imsize], cell=[a.cell], specmode=a.specmode, nchan=a.nchan,
                start=0, width=1, stokes="I", weighting="briggs", robust=0.5, pblimit=-0.01,
                niter=0, overwrite=True)
    if a.specmode == "cube":
        base["outframe"] = "LSRK"
    runs = []
    for i in range(a.repeats):
        os.makedirs(a.work, exist_ok=True)
        for r in one(a, pclean, base, keep=i == 0):
            print(json.dumps(r), flush=True)
            runs.append(r)
        shutil.rmtree(a.work, ignore_errors=True)
    for kind in sorted({r["local_workers"] for r in runs}):
        rs = [r for r in runs if r["local_workers"] == kind]
        med = {k: statistics.median(r[k] for r in rs)
               for k in ("local_s", "dask_s", "ratio", "start_s", "task_busy_per_worker_s",
                         "gaps_s", "tail_s", "per_task_overhead_s") if all(k in r for r in rs)}
        med["repeats"] = len(rs)
        med["local_workers"] = kind
        med["load_before"] = [round(r["load_before"][0], 2) for r in rs]
        print(json.dumps({"median": med}))


if __name__ == "__main__":
    main()

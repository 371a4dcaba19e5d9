#!/usr/bin/env python3
"""Row partitions on Dask (issue 16): one mfs hogbom clean through
`pclean.pclean(parallel=True, row_partitions=N)` on a LocalCluster of N workers, for each N, and
the single-process run; per run the time per major cycle, the partitions' passes, the
coordinator's reduction (sum + normalisation) and the gathering of the partials (Dask transfer
into this process), and the products' largest difference from the single-process run.

Then the reduction of N partial images measured both ways on the same cluster: funnelled (every
partial gathered here and summed) and a pairwise tree on the workers (log2 N rounds of sums,
one image gathered).

    python bench/rowdask_bench.py --ms testdata/unpacked/ngc5921.ms --out /tmp/rowdask \
        --imsize 512 --cell 8arcsec --niter 400 --partitions 1 2

Needs pclean's Python package with Dask; numpy and python-casacore for the equality column.
Prints one JSON line per run.
"""
from __future__ import annotations

import argparse
import json
import os
import time


def params(args, name):
    return dict(vis=[args.ms], imagename=name, overwrite=True, imsize=[args.imsize],
                cell=[args.cell], specmode="mfs", weighting="briggs", robust=0.5,
                deconvolver="hogbom", niter=args.niter, cycleniter=args.cycleniter,
                threshold="0mJy")


def max_rel_diff(a, b):
    try:
        import numpy as np
        from casacore.images import image
    except ImportError:
        return None
    worst = 0.0
    for ext in ("psf", "residual", "model", "image"):
        x, y = image(f"{a}.{ext}").getdata(), image(f"{b}.{ext}").getdata()
        worst = max(worst, float(np.abs(x - y).max() / np.abs(y).max()))
    return worst


def run(args, n):
    import pclean

    name = os.path.join(args.out, f"p{n}")
    t = time.time()
    if n == 0:
        s = pclean.pclean(**params(args, name), nthreads=args.nworkers_single)
    else:
        s = pclean.pclean(**params(args, name), parallel=True, row_partitions=n, nworkers=n,
                          cluster_type="local")
    wall = time.time() - t
    ch = s["channels"][0]
    out = {"row_partitions": n, "wall_s": round(wall, 2), "major_cycles": ch["major_cycles"],
           "iterations": s["total_iterations"]}
    rows = s.get("row_partitions")
    if rows:
        info = s["distributed"]["tasks"][0]
        # Passes: density, PSF, the first residual, one per major cycle.
        passes = info["passes"]
        cycle = rows["passes_s"] + rows["reduction_s"]
        out.update(passes=passes, s_per_pass=round(cycle / passes, 3),
                   reduction_s=round(rows["reduction_s"], 4),
                   reduction_share=round(rows["reduction_s"] / cycle, 5),
                   gather_s=round(info["gather_s"], 3),
                   partition_task_s=[round(p["wall_time_s"] / p["tasks"], 3)
                                     for p in rows["partitions"]])
    return name, out


def reduction_ways(args, n):
    """Funnel vs tree for n partial images of imsize^2 f32 on a LocalCluster of n workers."""
    import numpy as np
    from distributed import Client, LocalCluster

    shape = (args.imsize, args.imsize)
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True) as lc, Client(lc) as c:
        parts = [c.submit(np.full, shape, float(i), dtype=np.float32, pure=False,
                          workers=[w]) for i, w in enumerate(sorted(c.scheduler_info()["workers"]))]
        c.wait_for_workers(n)
        from distributed import wait
        wait(parts)
        reps = args.reps
        t = time.time()
        for _ in range(reps):
            total = sum(c.gather(parts))
        funnel = (time.time() - t) / reps
        t = time.time()
        for _ in range(reps):
            level = list(parts)
            while len(level) > 1:
                nxt = [c.submit(np.add, level[i], level[i + 1], pure=False)
                       for i in range(0, len(level) - 1, 2)]
                if len(level) % 2:
                    nxt.append(level[-1])
                level = nxt
            tree_total = level[0].result()
        tree = (time.time() - t) / reps
        assert np.array_equal(total, tree_total)
    return {"partials": n, "image_mib": round(4 * args.imsize ** 2 / 2 ** 20, 2),
            "funnel_s": round(funnel, 4), "tree_s": round(tree, 4)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ms", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--imsize", type=int, default=512)
    ap.add_argument("--cell", default="8arcsec")
    ap.add_argument("--niter", type=int, default=400)
    ap.add_argument("--cycleniter", type=int, default=100)
    ap.add_argument("--partitions", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--nworkers-single", type=int, default=0,
                    help="threads of the single-process run (0: all cores)")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ref, out = run(args, 0)
    print(json.dumps(out), flush=True)
    for n in args.partitions:
        name, out = run(args, n)
        out["max_diff_over_peak"] = max_rel_diff(name, ref)
        print(json.dumps(out), flush=True)
    for n in sorted({max(n, 2) for n in args.partitions}):
        print(json.dumps(reduction_ways(args, n)), flush=True)


if __name__ == "__main__":
    main()

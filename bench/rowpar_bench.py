#!/usr/bin/env python3
"""Row-parallel continuum scaling (issue 16): one mfs clean of an MS with `row_partitions` =
0 (single-process passes), 1, 2, 4, timing the major cycles, the partitions' passes and the
reduction (the summary's `row_partitions`), and checking the products equal the single run's.

    python3 bench/rowpar_bench.py --ms testdata/unpacked/ngc5921.ms --out /tmp/rowpar
    python3 bench/rowpar_bench.py --ms X.ms --imsize 2048 --cell 2arcsec --partitions 0 2 4

Needs the `pclean` binary ($PCLEAN_BIN, else target/release/pclean) and numpy + python-casacore
only for the equality column (skipped without them). Prints one JSON line per run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def run(pclean, args, ms, out, parts):
    name = os.path.join(out, f"p{parts}")
    cmd = [pclean, "image", "--vis", ms, "--imagename", name, "--overwrite",
           "--imsize", str(args.imsize), "--cell", args.cell, "--specmode", "mfs",
           "--weighting", "briggs", "--robust", "0.5", "--deconvolver", "hogbom",
           "--niter", str(args.niter), "--cycleniter", str(args.cycleniter),
           "--row-partitions", str(parts), "--nthreads", str(args.nthreads)]
    t = time.time()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.time() - t
    with open(name + ".summary.json") as f:
        s = json.load(f)
    ch = s["channels"][0]
    rows = s.get("row_partitions") or {}
    # The initial PSF + residual passes and one pass per major cycle.
    passes = ch["major_cycles"] + 2
    out = {"row_partitions": parts, "wall_s": round(wall, 2),
           "engine_wall_s": round(s["wall_time_s"], 2), "major_cycles": ch["major_cycles"],
           "rows": s["rows_read"], "peak_rss_mib": round(s["peak_rss_mib"])}
    if rows:
        out["passes_s"] = round(rows["passes_s"], 2)
        out["reduction_s"] = round(rows["reduction_s"], 3)
        out["s_per_pass"] = round((rows["passes_s"] + rows["reduction_s"]) / passes, 3)
        out["reduction_share"] = round(rows["reduction_s"] / (rows["passes_s"] + rows["reduction_s"]), 4)
        out["partition_wall_s"] = [round(p["wall_time_s"], 2) for p in rows["partitions"]]
    return name, out


def max_rel_diff(a, b):
    try:
        import numpy as np
        from casacore.images import image
    except ImportError:
        return None
    worst = 0.0
    for ext in ("psf", "residual", "model", "image"):
        x = image(f"{a}.{ext}").getdata()
        y = image(f"{b}.{ext}").getdata()
        worst = max(worst, float(np.abs(x - y).max() / np.abs(y).max()))
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ms", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--imsize", type=int, default=512)
    ap.add_argument("--cell", default="8arcsec")
    ap.add_argument("--niter", type=int, default=400)
    ap.add_argument("--cycleniter", type=int, default=100)
    ap.add_argument("--nthreads", type=int, default=0)
    ap.add_argument("--partitions", type=int, nargs="+", default=[0, 1, 2, 4])
    args = ap.parse_args()
    pclean = os.environ.get("PCLEAN_BIN") or os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "release", "pclean")
    os.makedirs(args.out, exist_ok=True)
    base = None
    for parts in args.partitions:
        name, out = run(pclean, args, args.ms, args.out, parts)
        if base is None:
            base = name
        else:
            out["max_diff_over_peak"] = max_rel_diff(name, base)
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Cleaned cube: pclean binaries (e.g. before and after a change) and WSClean, interleaved.

Runs each tool in turn, `--repeats` rounds, on the same MS (bench/make_synthetic_ms.py's defaults:
1024^2 x 64 channels, 108k rows): pclean with hogbom, the niter / threshold given, a primary-beam
mask (`--pbmask`), `specmode` cube to LSRK (linear interpolation) or cubedata, Briggs 0.5, the
automatic schedule (the whole cube as one block: tclean's cube-wide cycle threshold); WSClean with
`-mgain 0.9` (as bench/cube_bench.py) and the same niter / threshold. Each run is a child whose
wall time and peak RSS (`ru_maxrss` of `os.wait4`, through a bare launcher as cube_bench.py) are
recorded with its CPU time and the load average before it (cube_bench.py's `run_measured`).
Prints one line per run, the medians, and the largest difference of every pclean product against
the first binary's, relative to its peak. A `--pclean` label's binary may be followed by extra
pclean options (`--pclean "held=/path/pclean --cube-resident-chans 64"`).

    python3 bench/cube_clean_memory.py --ms synth.ms --work /tmp/w \\
        --pclean base=/path/pclean-main --pclean paged=/path/pclean --repeats 3
"""
import argparse
import os
import shutil
import statistics
import sys

from cube_bench import run_measured  # the bare rusage launcher, shared


def measured(cmd, work, tag):
    """(wall s, peak RSS MiB, load average before, CPU s) of `cmd` run in `work`."""
    r = run_measured(cmd, os.path.join(work, f"{tag}.log"), cwd=work)
    if r["rc"] != 0:
        sys.exit(f"{tag} failed: see {r['log']}")
    return r["wall_s"], r["peak_rss_mib"], r["loadavg_before"][0], r["user_s"] + r["sys_s"]


def pclean_cmd(a, binary, prefix):
    cmd = [binary, "image", "--vis", a.ms, "--imagename", prefix, "--imsize", str(a.imsize),
           "--cell", "0.1arcsec", "--specmode", a.specmode, "--nchan", str(a.nchan), "--start", "0",
           "--width", "1", "--stokes", "I", "--weighting", "briggs", "--robust", "0.5",
           "--pblimit", "-0.01", "--deconvolver", "hogbom", "--niter", str(a.niter),
           "--threshold", f"{a.threshold * 1e3:g}mJy", "--usemask", "pb", "--pbmask", str(a.pbmask),
           "--nthreads", str(a.nthreads), "--overwrite"]
    if a.specmode == "cube":
        cmd += ["--outframe", "LSRK"]
    return cmd


def wsclean_cmd(a, prefix, tmp):
    return ["wsclean", "-name", prefix, "-temp-dir", tmp, "-size", str(a.imsize), str(a.imsize), "-scale", "0.1asec",
            "-weight", "briggs", "0.5", "-channels-out", str(a.nchan), "-no-mf-weighting", "-pol", "I",
            "-data-column", "DATA", "-padding", "1.2", "-j", str(a.nthreads), "-no-update-model-required",
            "-nwlayers", "1", "-no-small-inversion", "-niter", str(a.niter), "-threshold",
            f"{a.threshold:g}", "-gain", "0.1", "-mgain", "0.9", "-nmiter", "1000", a.ms]


def max_diff(a, b, ext):
    from casacore.images import image
    x, y = image(f"{a}.{ext}").getdata(), image(f"{b}.{ext}").getdata()
    return float(abs(x - y).max() / max(abs(y).max(), 1e-30))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ms", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--pclean", action="append", required=True,
                   help="label=binary, optionally followed by extra pclean options "
                        "(e.g. 'held=/path/pclean --cube-resident-chans 64')")
    p.add_argument("--imsize", type=int, default=1024)
    p.add_argument("--nchan", type=int, default=64)
    p.add_argument("--specmode", default="cube", choices=["cube", "cubedata"])
    p.add_argument("--niter", type=int, default=20000)
    p.add_argument("--threshold", type=float, default=0.015, help="Jy")
    p.add_argument("--pbmask", type=float, default=0.2)
    p.add_argument("--nthreads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--skip-wsclean", action="store_true")
    a = p.parse_args()
    a.ms = os.path.abspath(a.ms)
    os.makedirs(a.work, exist_ok=True)
    tools = [tuple(s.split("=", 1)) for s in a.pclean]
    extra = {label: binary.split()[1:] for label, binary in tools}
    tools = [(label, binary.split()[0]) for label, binary in tools]
    rows = {t[0]: [] for t in tools}
    if not a.skip_wsclean:
        rows["wsclean"] = []
    for r in range(a.repeats):
        for label, binary in tools:
            prefix = os.path.join(a.work, f"{label}")
            res = measured(pclean_cmd(a, binary, prefix) + extra[label], a.work, f"{label}-{r}")
            rows[label].append(res)
            print(f"round {r} {label}: {res[0]:.1f} s ({res[3]:.1f} CPU s), {res[1]:.0f} MiB, "
                  f"load {res[2]:.1f}", flush=True)
        if not a.skip_wsclean:
            tmp = os.path.join(a.work, "wsclean-tmp")
            os.makedirs(tmp, exist_ok=True)
            res = measured(wsclean_cmd(a, os.path.join(a.work, "ws"), tmp), a.work, f"wsclean-{r}")
            rows["wsclean"].append(res)
            print(f"round {r} wsclean: {res[0]:.1f} s ({res[3]:.1f} CPU s), {res[1]:.0f} MiB, "
                  f"load {res[2]:.1f}", flush=True)
            for f in os.listdir(a.work):
                if f.startswith("ws-"):
                    os.remove(os.path.join(a.work, f))
    print("| tool | wall s (median) | CPU s (median) | peak RSS MiB (median) | load |")
    print("|---|---|---|---|---|")
    for k, v in rows.items():
        print(f"| {k} | {statistics.median(x[0] for x in v):.1f} | "
              f"{statistics.median(x[3] for x in v):.1f} | "
              f"{statistics.median(x[1] for x in v):.0f} | "
              f"{min(x[2] for x in v):.1f}-{max(x[2] for x in v):.1f} |")
    ref = os.path.join(a.work, tools[0][0])
    for label, _ in tools[1:]:
        for ext in ("psf", "residual", "model", "image", "mask"):
            d = max_diff(os.path.join(a.work, label), ref, ext)
            print(f"{label} vs {tools[0][0]} .{ext}: max |diff| / peak = {d:.3g}")
    for label, _ in tools:
        for f in os.listdir(a.work):
            path = os.path.join(a.work, f)
            if f.startswith(label + ".") and not f.endswith((".log", ".rusage.json")):
                if os.path.isdir(path):
                    shutil.rmtree(path)
                else:
                    os.remove(path)


if __name__ == "__main__":
    main()

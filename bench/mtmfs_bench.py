#!/usr/bin/env python3
"""Wideband continuum benchmark (issue 15): one mtmfs clean of the same MS with pclean, tclean
(casatasks, `parallel=False`) and, when installed, WSClean (`-join-channels -channels-out N
-fit-spectral-pol NTERMS`), in one run, one after the other, with the same image size, cell,
weighting, niter and threshold. Prints one JSON line per imager (wall seconds and peak resident
memory from `/usr/bin/time -v`, the imager's whole process tree) and then the ratios
tclean/pclean and wsclean/pclean.

    python3 bench/mtmfs_bench.py --ms wideband.ms --out /tmp/mtmfs_bench \
        --casa-python /work/casa-venv/bin/python

Defaults are vla_wideband's `tclean_mtmfs_clean` reference run (512^2, 3.75", briggs 0.5,
nterms 2, reffreq 1.5 GHz, niter 1500, threshold 1 mJy, pb mask 0.2, pblimit 0.1). WSClean has
no pb mask: it cleans the whole image (`-niter`, `-threshold`, `-mgain 0.8`, 4 output
channels, one per spectral window); it is a like-for-like workload (same data, image, weighting,
iteration budget and threshold), not the same algorithm. Skips an imager that is missing (says
so). Needs the `pclean` binary ($PCLEAN_BIN, else target/release/pclean) and /usr/bin/time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TCLEAN_SCRIPT = """
import json, sys
from casatasks import tclean
p = json.loads(sys.argv[1])
tclean(**p)
"""


def timed(cmd, log):
    """Run cmd under /usr/bin/time -v; (wall_s, max_rss_mib, returncode)."""
    with open(log, "w") as f:
        p = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=f, stderr=subprocess.STDOUT)
    text = open(log).read()
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", text)
    h, m, s = wall.groups()
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    return (int(h or 0) * 3600 + int(m) * 60 + float(s), int(rss.group(1)) / 1024.0, p.returncode)


def params(a):
    return dict(imsize=[a.imsize, a.imsize], cell=a.cell, specmode="mfs", deconvolver="mtmfs",
                nterms=a.nterms, reffreq=a.reffreq, weighting="briggs", robust=a.robust,
                niter=a.niter, threshold=a.threshold, usemask="pb", pbmask=0.2, pblimit=0.1,
                gridder="standard")


def run_pclean(a, out):
    pclean = os.environ.get("PCLEAN_BIN", "target/release/pclean")
    if not shutil.which(pclean) and not os.path.exists(pclean):
        return None, "pclean binary not found (set PCLEAN_BIN)"
    cfg = os.path.join(out, "pclean.config.json")
    with open(cfg, "w") as f:
        json.dump(params(a), f)
    cmd = [pclean, "image", "--config", cfg, "--vis", a.ms, "--imagename",
           os.path.join(out, "pclean"), "--overwrite"]
    return timed(cmd, os.path.join(out, "pclean.log")), None


def run_tclean(a, out):
    if not a.casa_python:
        return None, "no --casa-python given"
    p = dict(params(a), vis=a.ms, imagename=os.path.join(out, "tclean"), parallel=False)
    for ext in os.listdir(out):
        if ext.startswith("tclean."):
            shutil.rmtree(os.path.join(out, ext), ignore_errors=True)
    script = os.path.join(out, "run_tclean.py")
    with open(script, "w") as f:
        f.write(TCLEAN_SCRIPT)
    cmd = [a.casa_python, script, json.dumps(p)]
    return timed(cmd, os.path.join(out, "tclean.log")), None


def run_wsclean(a, out):
    exe = shutil.which("wsclean")
    if not exe:
        return None, "wsclean not installed"
    thr = a.threshold.lower()
    jy = float(thr[:-3]) * 1e-3 if thr.endswith("mjy") else float(thr.rstrip("jy"))
    cmd = [exe, "-name", os.path.join(out, "wsclean"), "-size", str(a.imsize), str(a.imsize),
           "-scale", a.cell.replace("arcsec", "asec"), "-weight", "briggs", str(a.robust),
           "-pol", "i", "-niter", str(a.niter), "-threshold", str(jy), "-mgain", "0.8",
           "-join-channels", "-channels-out", str(a.wsclean_channels), "-fit-spectral-pol",
           str(a.nterms), "-j", str(a.threads or os.cpu_count()), a.ms]
    return timed(cmd, os.path.join(out, "wsclean.log")), None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ms", required=True)
    ap.add_argument("--out", default=None)
    ap.add_argument("--casa-python", default=None, help="python with casatasks (tclean)")
    ap.add_argument("--imsize", type=int, default=512)
    ap.add_argument("--cell", default="3.75arcsec")
    ap.add_argument("--nterms", type=int, default=2)
    ap.add_argument("--reffreq", default="1.5GHz")
    ap.add_argument("--robust", type=float, default=0.5)
    ap.add_argument("--niter", type=int, default=1500)
    ap.add_argument("--threshold", default="1mJy")
    ap.add_argument("--wsclean-channels", type=int, default=4)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--only", nargs="*", default=["pclean", "tclean", "wsclean"])
    a = ap.parse_args()
    a.ms = os.path.abspath(a.ms)
    out = a.out or tempfile.mkdtemp(prefix="mtmfs_bench_")
    os.makedirs(out, exist_ok=True)
    runners = {"pclean": run_pclean, "tclean": run_tclean, "wsclean": run_wsclean}
    res = {}
    for name in a.only:
        r, why = runners[name](a, out)
        if r is None:
            print(json.dumps({"imager": name, "skipped": why}))
            continue
        wall, rss, rc = r
        res[name] = (wall, rss)
        print(json.dumps({"imager": name, "wall_s": round(wall, 1), "peak_rss_mib": round(rss),
                          "returncode": rc}), flush=True)
        if rc != 0:
            print(f"{name} failed: see {out}/{name}.log", file=sys.stderr)
    if "pclean" in res:
        pw, pm = res["pclean"]
        for other in ("tclean", "wsclean"):
            if other in res:
                ow, om = res[other]
                print(json.dumps({"ratio": f"{other}/pclean", "time": round(ow / pw, 2),
                                  "memory": round(om / pm, 2)}))


if __name__ == "__main__":
    main()

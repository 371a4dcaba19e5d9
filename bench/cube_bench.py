#!/usr/bin/env python3
"""Cube imaging benchmark: pclean against CASA tclean, WSClean, casa-rs and the seed system
(casa-pclean) on the same MeasurementSet.

Every tool images the same cube (all data channels, one image channel per data channel, Stokes I,
Briggs robust 0.5, the same image size and cell) twice: dirty (niter 0) and cleaned (hogbom, the
same niter / threshold / gain). Each run is a separate child process; its wall time, CPU time and
peak resident memory (``ru_maxrss`` from ``os.wait4``) are recorded, with the load average around
it.
A table with ratios is printed and all numbers are written to ``<workdir>/cube_bench.json`` and,
as one Markdown table of every tool and mode, to ``<workdir>/cube_bench.md``.

Peers beyond tclean and WSClean are optional: ``--casars BIN`` runs casa-rs's ``casars-imager``
(built from its public repository; not a dependency), ``--seed-python PY`` runs the seed system
(PyPI ``casa-pclean``, installed in that Python beside casatools) with ``parallel=True``,
``nworkers=--seed-nworkers`` and ``nchan`` given explicitly (with ``nchan=-1`` it plans one
sub-cube and loses its products). The seed runs a Dask cluster of several processes: its peak
memory is the largest sum of the resident sets of its whole process tree, sampled every 0.2 s
(``ru_maxrss`` would report its largest single process).

To show the three did the same job, channel 0 of every product is compared: the value at the
phase centre (a 1 Jy point source of the synthetic MS), the image maximum, the off-source rms and
the largest difference between the tools' images relative to the peak.

Run ``bench/setup_peers.sh`` first (WSClean, CASA in bench/.venv-casa, and bench/.venv-bench with
numpy + python-casacore for this driver, which re-executes itself there when needed)::

    python3 bench/cube_bench.py                       # full size: 1024^2 x 64 channels
    python3 bench/cube_bench.py --imsize 256 --skip-tclean --ms /tmp/synth.ms
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shlex
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def _ensure_casacore():
    """Re-execute under bench/.venv-bench when this interpreter lacks numpy / python-casacore."""
    try:
        import astropy.io.fits  # noqa: F401
        import casacore.images  # noqa: F401
        import numpy  # noqa: F401
    except ImportError:
        alt = os.path.join(HERE, ".venv-bench", "bin", "python")
        if os.path.exists(alt) and os.path.realpath(sys.executable) != os.path.realpath(alt):
            os.execv(alt, [alt] + sys.argv)
        sys.exit("cube_bench.py needs numpy, astropy and python-casacore: run bench/setup_peers.sh "
                 "(creates bench/.venv-bench) or use a Python that has them")


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--ms", help="MeasurementSet to image (default: generate one in the workdir "
                                "with bench/make_synthetic_ms.py defaults)")
    p.add_argument("--workdir", help="output folder (default bench/results/cube-<timestamp>)")
    p.add_argument("--imsize", type=int, default=1024, help="image size in pixels (square)")
    p.add_argument("--cell", type=float, default=0.1, help="cell size (arcsec)")
    p.add_argument("--robust", type=float, default=0.5, help="Briggs robust")
    p.add_argument("--niter", type=int, default=100000,
                   help="clean iterations per channel (a cap; the threshold should stop all three)")
    p.add_argument("--threshold", type=float, default=0.006, help="clean threshold (Jy)")
    p.add_argument("--gain", type=float, default=0.1, help="loop gain")
    p.add_argument("--mgain", type=float, default=0.9,
                   help="WSClean major-cycle gain; tclean/pclean (cyclefactor 1) start a major "
                        "cycle at max PSF sidelobe (0.09 for the default MS) x peak, i.e. ~0.9")
    p.add_argument("--nthreads", type=int, default=os.cpu_count(),
                   help="threads for pclean (--nthreads) and WSClean (-j); OMP_NUM_THREADS for all")
    p.add_argument("--specmode", choices=["cube", "cubedata"], default="cubedata",
                   help="pclean/tclean/casa-rs/seed specmode")
    p.add_argument("--outframe", default="LSRK",
                   help="output frame with --specmode cube (WSClean images the data channels as "
                        "they are: it has no frame conversion)")
    p.add_argument("--modes", default="dirty,clean", help="comma list of dirty, clean")
    p.add_argument("--skip-pclean", action="store_true")
    p.add_argument("--pclean-cube-chunksize", type=int, default=1,
                   help="pclean --cube-chunksize when cleaning: 1 cleans channels independently "
                        "(as WSClean, and tclean's parallel cube mode), 0 = pclean's automatic "
                        "schedule (the whole cube as one block when it fits: tclean's serial "
                        "cube-wide cycle threshold, more memory)")
    p.add_argument("--skip-tclean", action="store_true")
    p.add_argument("--skip-wsclean", action="store_true")
    p.add_argument("--pclean", default=None,
                   help="pclean binary (default $CARGO_TARGET_DIR/release/pclean or target/release)")
    p.add_argument("--casa-python", default=os.path.join(HERE, ".venv-casa", "bin", "python"),
                   help="Python with casatasks")
    p.add_argument("--wsclean", default="wsclean", help="WSClean binary")
    p.add_argument("--casars", default=None,
                   help="casa-rs's casars-imager binary (the casa-rs peer runs only when given)")
    p.add_argument("--casars-measures", default=None,
                   help="measures tree for casa-rs ($CASA_RS_MEASURESPATH; make it with "
                        "bench/casars_measures.py)")
    p.add_argument("--seed-python", default=None,
                   help="Python with the seed system (PyPI casa-pclean) and casatools (the seed "
                        "peer runs only when given)")
    p.add_argument("--seed-nworkers", type=int, default=2, help="the seed's Dask workers")
    p.add_argument("--wsclean-gridder", choices=["wstacking", "wgridder"], default="wstacking",
                   help="wstacking = WSClean's default gridder with one w-layer (plain 2-D "
                        "gridding like tclean's standard and pclean); wgridder = ducc's "
                        "w-gridder (ES kernel as pclean, but always w-corrects)")
    p.add_argument("--wsclean-small-inversion", action="store_true",
                   help="keep WSClean's default small inversion (grids at Nyquist resolution and "
                        "upsamples); off by default so all three grid the same-size uv plane")
    p.add_argument("--keep-products", action="store_true",
                   help="keep image products (default: each run's products are removed once "
                        "its channel 0 has been read, to save disk)")
    return p.parse_args(argv)


# ----------------------------------------------------------------------------------------------
# Running and measuring children
# ----------------------------------------------------------------------------------------------

# A minimal launcher: a bare interpreter (-I -S, about 5 MiB resident) forks and execs the tool
# and reports the tool's rusage. Forking the tool straight from this driver would count the
# driver's own resident memory (numpy, astropy, casacore: ~90 MiB) in the tool's ru_maxrss,
# because Linux keeps the pre-exec high-water mark of a forked child.
LAUNCHER = r"""
import json, os, sys, time
out = sys.argv[1]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(out, "w") as fh:
    json.dump({"wall_s": wall, "maxrss_kib": ru.ru_maxrss, "user_s": ru.ru_utime,
               "sys_s": ru.ru_stime, "rc": os.waitstatus_to_exitcode(status)}, fh)
"""


def run_measured(cmd, log_path, cwd=None, env=None):
    """Run ``cmd`` as a child process; return wall time (s), peak RSS (MiB), CPU times, exit
    code and the load average before and after.

    Peak RSS is the tool's ``ru_maxrss`` from ``os.wait4`` in a minimal launcher (KiB on Linux;
    it covers the tool and any children it waited for, with a floor of the launcher's ~5 MiB)."""
    load0 = os.getloadavg()
    res_path = log_path + ".rusage.json"
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
        log.flush()
        rc = subprocess.call([sys.executable, "-I", "-S", "-c", LAUNCHER, res_path] + list(cmd),
                             stdout=log, stderr=subprocess.STDOUT, cwd=cwd, env=env)
    try:
        with open(res_path) as fh:
            ru = json.load(fh)
        os.remove(res_path)
    except (OSError, ValueError) as exc:  # launcher died (e.g. disk full): report, go on
        ru = {"wall_s": float("nan"), "maxrss_kib": float("nan"), "user_s": float("nan"),
              "sys_s": float("nan"), "rc": rc or 1, "error": f"no rusage ({exc})"}
    return {
        "wall_s": ru["wall_s"],
        "peak_rss_mib": ru["maxrss_kib"] / 1024.0,
        "user_s": ru["user_s"],
        "sys_s": ru["sys_s"],
        "rc": ru["rc"] if rc == 0 else rc,
        "loadavg_before": load0,
        "loadavg_after": os.getloadavg(),
        "log": log_path,
        **({"error": ru["error"]} if "error" in ru else {}),
    }


def child_env(nthreads):
    """Environment for every child: the same OpenMP thread count."""
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(nthreads)
    return env


def find_pclean(explicit):
    """Path of the pclean binary."""
    if explicit:
        return explicit
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    path = os.path.join(target, "release", "pclean")
    if not os.path.exists(path):
        found = shutil.which("pclean")
        if found:
            return found
        sys.exit(f"pclean binary not found at {path}: build it with "
                 "`cargo build --release -p pclean-cli` or pass --pclean")
    return path


def pclean_cmd(args, binary, ms, prefix, nchan, clean):
    """pclean command line (tclean's parameter names)."""
    cmd = [binary, "image", "--vis", ms, "--imagename", prefix,
           "--imsize", str(args.imsize), "--cell", f"{args.cell:g}arcsec",
           "--specmode", args.specmode, "--nchan", str(nchan), "--start", "0", "--width", "1",
           "--stokes", "I", "--datacolumn", "data", "--gridder", "standard",
           "--weighting", "briggs", "--robust", f"{args.robust:g}", "--pblimit", "-0.01",
           "--deconvolver", "hogbom", "--nthreads", str(args.nthreads), "--overwrite"]
    if args.specmode == "cube":
        cmd += ["--outframe", args.outframe]
    if clean:
        cmd += ["--niter", str(args.niter), "--threshold", f"{args.threshold * 1e3:g}mJy",
                "--gain", f"{args.gain:g}", "--cube-chunksize", str(args.pclean_cube_chunksize)]
    else:
        cmd += ["--niter", "0"]
    return cmd


TCLEAN_CHILD = r"""
import json, sys, time
params = json.loads(sys.argv[1])
from casatasks import tclean
t0 = time.perf_counter()
ret = tclean(**params)
dt = time.perf_counter() - t0
info = {"tclean_s": dt}
if isinstance(ret, dict):
    for k in ("iterdone", "nmajordone", "stopcode", "stopDescription"):
        if k in ret:
            v = ret[k]
            info[k] = v if isinstance(v, (int, float, str)) else str(v)
print("TCLEAN_RESULT " + json.dumps(info))
"""


def tclean_params(args, ms, prefix, nchan, clean):
    """tclean's parameters for this benchmark (the seed system takes the same)."""
    params = dict(vis=ms, imagename=prefix, imsize=[args.imsize, args.imsize],
                  cell=f"{args.cell:g}arcsec", specmode=args.specmode, nchan=nchan, start=0,
                  width=1, stokes="I", datacolumn="data", gridder="standard",
                  weighting="briggs", robust=args.robust, pblimit=-0.01, deconvolver="hogbom",
                  niter=args.niter if clean else 0, gain=args.gain,
                  threshold=f"{args.threshold * 1e3:g}mJy" if clean else "0mJy",
                  interactive=False, restart=False, savemodel="none", parallel=False)
    if args.specmode == "cube":
        params["outframe"] = args.outframe
    return params


def tclean_cmd(args, casa_python, ms, prefix, nchan, clean):
    """Command running tclean in the CASA venv's Python, parameters as JSON."""
    params = tclean_params(args, ms, prefix, nchan, clean)
    return [casa_python, "-c", TCLEAN_CHILD, json.dumps(params)]


# The seed system runs a scheduler and worker processes: the child samples the resident set of its
# whole process tree (psutil comes with dask.distributed) and prints the largest sum.
SEED_CHILD = r"""
import json, sys, threading, time
import psutil
params = json.loads(sys.argv[1])
peak = [0]
stop = threading.Event()
def sample():
    me = psutil.Process()
    while not stop.is_set():
        total = 0
        for p in [me] + me.children(recursive=True):
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        peak[0] = max(peak[0], total)
        stop.wait(0.2)
t = threading.Thread(target=sample, daemon=True)
t.start()
from pclean import pclean
t0 = time.perf_counter()
ret = pclean(**params)
dt = time.perf_counter() - t0
stop.set()
t.join()
info = {"seed_s": dt, "tree_peak_rss_mib": peak[0] / 2 ** 20}
print("SEED_RESULT " + json.dumps(info))
"""


def seed_cmd(args, seed_python, ms, prefix, nchan, clean):
    """Command running the seed system (casa-pclean) with Dask, nchan given explicitly."""
    params = tclean_params(args, ms, prefix, nchan, clean)
    params.pop("interactive")
    params.update(parallel=True, nworkers=args.seed_nworkers, threads_per_worker=1)
    return [seed_python, "-c", SEED_CHILD, json.dumps(params)]


def casars_cmd(args, binary, ms, prefix, clean):
    """casa-rs's casars-imager command line (its options, tclean's meanings)."""
    cmd = [binary, "--ms", ms, "--imagename", prefix, "--imsize", str(args.imsize),
           "--cell-arcsec", f"{args.cell:g}", "--specmode", args.specmode, "--stokes", "I",
           "--datacolumn", "DATA", "--gridder", "standard", "--weighting", "briggs",
           "--robust", f"{args.robust:g}", "--deconvolver", "hogbom"]
    # No --pblimit: casa-rs refuses a negative one for a single field (it then wants PB products
    # its cube stream has no consumer for); with its default it writes no .pb and masks nothing
    # with gridder='standard', as the others' pblimit=-0.01 (checked on a 128^2 x 4 cube).
    if args.specmode == "cube":
        cmd += ["--outframe", args.outframe]
    if clean:
        cmd += ["--niter", str(args.niter), "--threshold-jy", f"{args.threshold:g}",
                "--gain", f"{args.gain:g}"]
    else:
        cmd += ["--niter", "0", "--dirty-only"]
    return cmd


def wsclean_cmd(args, binary, ms, prefix, nchan, clean, tempdir):
    """WSClean command line matching the others as closely as its options allow."""
    cmd = [binary, "-name", prefix, "-size", str(args.imsize), str(args.imsize),
           "-scale", f"{args.cell:g}asec", "-weight", "briggs", f"{args.robust:g}",
           "-channels-out", str(nchan), "-no-mf-weighting", "-pol", "I", "-data-column", "DATA",
           "-padding", "1.2", "-j", str(args.nthreads), "-no-update-model-required",
           "-temp-dir", tempdir]
    if args.wsclean_gridder == "wgridder":
        cmd += ["-use-wgridder"]
    else:
        cmd += ["-nwlayers", "1"]
    if not args.wsclean_small_inversion:
        cmd += ["-no-small-inversion"]
    if clean:
        cmd += ["-niter", str(args.niter), "-threshold", f"{args.threshold:g}",
                "-gain", f"{args.gain:g}", "-mgain", f"{args.mgain:g}", "-nmiter", "1000"]
    else:
        cmd += ["-niter", "0", "-make-psf"]
    return cmd + [ms]


# ----------------------------------------------------------------------------------------------
# Comparison of the products
# ----------------------------------------------------------------------------------------------

def product_paths(tool, prefix, clean):
    """(image of the result, residual) paths; for WSClean the channel-0 FITS files."""
    if tool == "wsclean":
        img = f"{prefix}-0000-image.fits"
        res = f"{prefix}-0000-residual.fits" if clean else f"{prefix}-0000-dirty.fits"
        return img, res
    if tool == "casars" and not clean:  # --dirty-only writes no restored image
        return f"{prefix}.residual", f"{prefix}.residual"
    return f"{prefix}.image", f"{prefix}.residual"


def channel0(path):
    """Channel 0, Stokes I plane of a CASA image or FITS file as a 2-D (y, x) float64 array."""
    import numpy as np
    if path.endswith(".fits"):
        from astropy.io import fits
        with fits.open(path) as hdul:
            data = np.asarray(hdul[0].data, dtype=np.float64)
    else:
        from casacore.images import image
        data = np.asarray(image(path).getdata(), dtype=np.float64)
    while data.ndim > 2:
        data = data[0]
    return data


def plane_stats(plane):
    """Centre value, maximum, and off-source rms (outer quarter of the image) of a plane."""
    import numpy as np
    ny, nx = plane.shape
    border = np.ones_like(plane, dtype=bool)
    border[ny // 4: 3 * ny // 4, nx // 4: 3 * nx // 4] = False
    return {"centre": float(plane[ny // 2, nx // 2]), "max": float(plane.max()),
            "rms_outer": float(np.sqrt(np.mean(plane[border] ** 2)))}


def channel0_products(tool, prefix, clean):
    """Channel-0 planes of a finished run: {'image': ..., 'residual': ...} (residual when clean),
    or {'error': message} when a product cannot be read."""
    img, res = product_paths(tool, prefix, clean)
    try:
        out = {"image": channel0(img)}
        if clean:
            out["residual"] = channel0(res)
        return out
    except Exception as exc:  # a missing product is reported, not fatal
        return {"error": f"{type(exc).__name__}: {exc}"}


def compare(planes):
    """Channel-0 statistics per mode and tool, and the tools' largest mutual differences.

    ``planes[mode][tool]`` is what :func:`channel0_products` returned for that run."""
    import numpy as np
    out = {}
    for mode, by_tool in planes.items():
        images = {}
        for tool, pl in by_tool.items():
            if "error" in pl:
                out.setdefault(mode, {})[tool] = {"error": pl["error"]}
                continue
            images[tool] = pl["image"]
            out.setdefault(mode, {})[tool] = {k: plane_stats(v) for k, v in pl.items()}
        diffs = {}
        tools = sorted(images)
        for i, a in enumerate(tools):
            for b in tools[i + 1:]:
                if images[a].shape == images[b].shape:
                    peak = max(abs(images[a]).max(), abs(images[b]).max())
                    diffs[f"{a}-{b}"] = float(np.abs(images[a] - images[b]).max() / peak)
        if mode in out:
            out[mode]["max_abs_diff_over_peak"] = diffs
    return out


def disk_check(workdir, nchan, imsize):
    """Warn when the free space may not hold one run's products (about 8 cubes of float32)."""
    need = 8 * nchan * imsize * imsize * 4
    free = shutil.disk_usage(workdir).free
    if free < 2 * need:
        print(f"warning: {free / 2 ** 30:.1f} GiB free in {workdir}; one run writes up to "
              f"~{need / 2 ** 30:.1f} GiB of products (removed after each run unless "
              "--keep-products)", flush=True)


# ----------------------------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------------------------

def ratio(a, b):
    """a / b or None."""
    return a / b if a and b else None


def iterations(tool, r):
    """(minor iterations, major cycles) of a run, from its summary, or (None, None)."""
    if tool == "tclean":
        t = r.get("tclean", {})
        return t.get("iterdone"), t.get("nmajordone")
    sm = r.get("summary", {})
    return sm.get("iterations_total"), sm.get("major_cycles_total")


TOOLS = ("pclean", "tclean", "wsclean", "casars", "seed")


def markdown_table(results, load_start, load_end):
    """One Markdown table of every tool and mode: wall, CPU, peak RSS and their ratios to
    pclean's (peer / pclean: above 1 means pclean is faster or smaller)."""
    lines = [f"Load average {load_start:.2f} at the start, {load_end:.2f} at the end.", "",
             "| mode | tool | wall s | cpu s | peak MiB | wall / pclean's | peak / pclean's | rc |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for mode in ("dirty", "clean"):
        base = results.get("pclean", {}).get(mode)
        for tool in TOOLS:
            r = results.get(tool, {}).get(mode)
            if not r:
                continue
            ok = base and r["rc"] == 0 and base["rc"] == 0
            tr = ratio(r["wall_s"], base["wall_s"]) if ok else None
            mr = ratio(r["peak_rss_mib"], base["peak_rss_mib"]) if ok else None
            lines.append(f"| {mode} | {tool} | {r['wall_s']:.1f} | {r['user_s'] + r['sys_s']:.1f} "
                         f"| {r['peak_rss_mib']:.0f} | {f'{tr:.2f}' if tr else '-'} "
                         f"| {f'{mr:.2f}' if mr else '-'} | {r['rc']} |")
    return "\n".join(lines) + "\n"


def print_table(results, checks):
    """Table of wall time, CPU time, peak RSS, ratios to pclean and the channel-0 check."""
    fmt = "{:<8} {:<6} {:>8} {:>8} {:>9} {:>8} {:>10} {:>8} {:>6} {:>11} {:>9}"
    print()
    print(fmt.format("tool", "mode", "wall s", "cpu s", "peak MiB", "t/pclean", "rss/pclean",
                     "iters", "majors", "ch0 centre", "ch0 max"))
    for mode in ("dirty", "clean"):
        base = results.get("pclean", {}).get(mode)
        for tool in TOOLS:
            r = results.get(tool, {}).get(mode)
            if not r:
                continue
            c = checks.get(mode, {}).get(tool, {}).get("image", {})
            ok = base and r["rc"] == 0 and base["rc"] == 0
            tr = ratio(r["wall_s"], base["wall_s"]) if ok else None
            mr = ratio(r["peak_rss_mib"], base["peak_rss_mib"]) if ok else None
            it, maj = iterations(tool, r)
            print(fmt.format(tool, mode, f"{r['wall_s']:.1f}", f"{r['user_s'] + r['sys_s']:.1f}",
                             f"{r['peak_rss_mib']:.0f}", f"{tr:.2f}" if tr else "-",
                             f"{mr:.2f}" if mr else "-", "-" if it is None else str(it),
                             "-" if maj is None else str(maj),
                             f"{c['centre']:.4f}" if c else ("rc=%d" % r["rc"]),
                             f"{c['max']:.4f}" if c else "-"))
        d = checks.get(mode, {}).get("max_abs_diff_over_peak")
        if d:
            print("  channel-0 max |difference| / peak: " +
                  ", ".join(f"{k} {v:.3g}" for k, v in d.items()))


def ms_info(ms):
    """Rows, channels and size of the MS."""
    from casacore import tables
    with tables.table(ms, ack=False) as t:
        nrow = t.nrows()
    with tables.table(ms + "/SPECTRAL_WINDOW", ack=False) as t:
        nchan = int(t.getcell("NUM_CHAN", 0))
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(ms) for f in fs)
    return {"path": os.path.abspath(ms), "rows": nrow, "nchan": nchan, "size_mib": size / 2 ** 20}


def warm_cache(ms):
    """Read every file of the MS once so that no tool pays for the first cold read."""
    for d, _, fs in os.walk(ms):
        for f in fs:
            with open(os.path.join(d, f), "rb") as fh:
                while fh.read(1 << 24):
                    pass


def tool_versions(args, pclean_bin, workdir):
    """Version strings of the three tools (best effort; run in ``workdir``, where importing
    casatools leaves its log file)."""
    def first_line(cmd, prefix=""):
        # (casatools' import may print its own warnings first: the line starting with `prefix`.)
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=workdir)
            lines = [l.strip() for l in (out.stdout + "\n" + out.stderr).splitlines()
                     if l.strip().startswith(prefix) and l.strip()]
            return lines[0] if lines else ""
        except Exception as exc:
            return f"unavailable ({exc})"
    v = {}
    if pclean_bin:
        v["pclean"] = first_line([pclean_bin, "--version"])
        try:
            v["pclean_commit"] = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                                                capture_output=True, text=True).stdout.strip()
        except Exception:
            pass
    if not args.skip_tclean:
        v["tclean"] = first_line([args.casa_python, "-c",
                                  "import casatools; print('casatools', casatools.version_string())"],
                                 prefix="casatools")
    if not args.skip_wsclean:
        v["wsclean"] = next((l.strip() for l in subprocess.run(
            [args.wsclean, "--version"], capture_output=True, text=True).stdout.splitlines()
            if "version" in l.lower()), "")
    if args.casars:
        # casars-imager has no --version: record the binary and its build time instead.
        st = os.stat(args.casars)
        built = _dt.datetime.fromtimestamp(st.st_mtime, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
        v["casars"] = "%s (built %s UTC)" % (os.path.realpath(args.casars), built)
    if args.seed_python:
        v["seed"] = first_line([args.seed_python, "-c",
                                "import importlib.metadata as m; print('casa-pclean', "
                                "m.version('casa-pclean'))"])
    return v


def main(argv=None):
    """Run the benchmark."""
    _ensure_casacore()
    args = parse_args(argv)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    workdir = os.path.abspath(args.workdir or os.path.join(HERE, "results", f"cube-{stamp}"))
    os.makedirs(workdir, exist_ok=True)

    ms = args.ms
    if not ms:
        sys.path.insert(0, HERE)
        import make_synthetic_ms
        ms = os.path.join(workdir, "synth.ms")
        if not os.path.exists(ms):
            make_synthetic_ms.main(["--out", ms])
    ms = os.path.abspath(ms.rstrip("/"))
    info = ms_info(ms)
    nchan = info["nchan"]
    print(f"MS {ms}: {info['rows']} rows, {nchan} channels, {info['size_mib']:.0f} MiB; "
          f"image {args.imsize}^2 x {nchan} channels, cell {args.cell:g}\", threads {args.nthreads}, "
          f"load average {os.getloadavg()[0]:.2f}")

    tools = [t for t, skip in (("pclean", args.skip_pclean), ("tclean", args.skip_tclean),
                               ("wsclean", args.skip_wsclean), ("casars", not args.casars),
                               ("seed", not args.seed_python)) if not skip]
    pclean_bin = find_pclean(args.pclean) if "pclean" in tools else None
    if "tclean" in tools and not os.path.exists(args.casa_python):
        sys.exit(f"{args.casa_python} missing: run bench/setup_peers.sh or pass --skip-tclean")
    if "wsclean" in tools and not shutil.which(args.wsclean):
        sys.exit("wsclean missing: run bench/setup_peers.sh or pass --skip-wsclean")
    if "casars" in tools and not os.access(args.casars, os.X_OK):
        sys.exit(f"--casars {args.casars}: not an executable (build casa-rs's casars-imager)")
    if "seed" in tools and not os.path.exists(args.seed_python):
        sys.exit(f"--seed-python {args.seed_python}: no such interpreter")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]

    env = child_env(args.nthreads)
    disk_check(workdir, nchan, args.imsize)
    warm_cache(ms)
    load_start = os.getloadavg()[0]
    results = {}
    planes = {}
    for mode in modes:
        clean = mode == "clean"
        for tool in tools:
            d = os.path.join(workdir, f"{tool}_{mode}")
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            prefix = os.path.join(d, tool)
            if tool == "pclean":
                cmd = pclean_cmd(args, pclean_bin, ms, prefix, nchan, clean)
            elif tool == "tclean":
                cmd = tclean_cmd(args, args.casa_python, ms, prefix, nchan, clean)
            elif tool == "seed":
                cmd = seed_cmd(args, args.seed_python, ms, prefix, nchan, clean)
            elif tool == "casars":
                cmd = casars_cmd(args, args.casars, ms, prefix, clean)
            else:
                cmd = wsclean_cmd(args, args.wsclean, ms, prefix, nchan, clean, d)
            print(f"running {tool} {mode} ...", flush=True)
            tool_env = env
            if tool == "casars" and args.casars_measures:
                tool_env = dict(env, CASA_RS_MEASURESPATH=os.path.abspath(args.casars_measures))
            r = run_measured(cmd, os.path.join(workdir, f"{tool}_{mode}.log"), cwd=d, env=tool_env)
            r["prefix"] = prefix
            r["cmd"] = cmd
            if tool == "tclean":
                for name in os.listdir(d):  # keep CASA's own log next to ours
                    if name.startswith("casa-") and name.endswith(".log"):
                        shutil.move(os.path.join(d, name),
                                    os.path.join(workdir, f"tclean_{mode}.casa.log"))
                with open(r["log"]) as fh:
                    for line in fh:
                        if line.startswith("TCLEAN_RESULT "):
                            r["tclean"] = json.loads(line[len("TCLEAN_RESULT "):])
            if tool == "seed":
                with open(r["log"]) as fh:
                    for line in fh:
                        if line.startswith("SEED_RESULT "):
                            r["seed"] = json.loads(line[len("SEED_RESULT "):])
                            # the whole tree's resident sets, not its largest process
                            r["largest_process_rss_mib"] = r["peak_rss_mib"]
                            r["peak_rss_mib"] = r["seed"]["tree_peak_rss_mib"]
            if tool == "wsclean" and clean:
                r["summary"] = summarise_wsclean(r["log"])
            if tool == "pclean" and os.path.exists(prefix + ".summary.json"):
                with open(prefix + ".summary.json") as fh:
                    r["summary"] = summarise_pclean(json.load(fh))
            if r["rc"] == 0:
                planes.setdefault(mode, {})[tool] = channel0_products(tool, prefix, clean)
            if not args.keep_products:  # products can be GBs: keep only what was compared
                shutil.rmtree(d, ignore_errors=True)
            print(f"  {tool} {mode}: {r['wall_s']:.1f} s, {r['peak_rss_mib']:.0f} MiB, rc {r['rc']}, "
                  f"load {r['loadavg_before'][0]:.2f} -> {r['loadavg_after'][0]:.2f}", flush=True)
            results.setdefault(tool, {})[mode] = r

    checks = compare(planes)
    print_table(results, checks)
    report = {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "loadavg_end": os.getloadavg()},
        "ms": info,
        "settings": {k: v for k, v in vars(args).items()},
        "versions": tool_versions(args, pclean_bin, workdir),
        "results": results,
        "ratios": {mode: {f"{tool}/pclean": {
            "wall": ratio(results[tool][mode]["wall_s"], results["pclean"][mode]["wall_s"]),
            "peak_rss": ratio(results[tool][mode]["peak_rss_mib"],
                              results["pclean"][mode]["peak_rss_mib"])}
            for tool in results if tool != "pclean" and mode in results[tool]}
            for mode in modes if "pclean" in results and mode in results["pclean"]},
        "channel0_checks": checks,
    }
    md = markdown_table(results, load_start, os.getloadavg()[0])
    with open(os.path.join(workdir, "cube_bench.md"), "w") as fh:
        fh.write(md)
    print("\n" + md)
    path = os.path.join(workdir, "cube_bench.json")
    with open(path, "w") as fh:
        json.dump(report, fh, indent=1, default=str)
    print(f"\nwrote {path}")


def summarise_wsclean(log_path):
    """Totals from a WSClean log: iterations, major cycles and final stop reason per channel.

    WSClean deconvolves each output channel on its own and ends each with a line
    'N major iterations were performed'; the 'Performed N iterations in total' and
    'Stopped on peak ..., because ...' lines just before it are that channel's totals."""
    import re
    total_iter = total_major = nchan = 0
    reasons = {}
    last_iter, last_reason = 0, None
    with open(log_path, errors="replace") as fh:
        for line in fh:
            m = re.search(r"Performed (\d+) iterations in total", line)
            if m:
                last_iter = int(m.group(1))
            m = re.search(r"because (.*?)\.?\s*(Continuing|$)", line)
            if line.startswith("Stopped on peak") and m:
                last_reason = m.group(1).strip()
            m = re.search(r"(\d+) major iterations were performed", line)
            if m:
                nchan += 1
                total_major += int(m.group(1))
                total_iter += last_iter
                if last_reason:
                    reasons[last_reason] = reasons.get(last_reason, 0) + 1
                last_iter, last_reason = 0, None
    if not nchan:
        return {}
    return {"iterations_total": total_iter, "major_cycles_total": total_major,
            "channels_cleaned": nchan, "stop_reasons": reasons}


def summarise_pclean(summary):
    """Totals from pclean's summary.json: iterations, major cycles, stop reasons, its own timers."""
    chans = summary.get("channels") or summary.get("planes") or []
    out = {k: summary[k] for k in ("wall_time_s", "peak_memory_mib", "peak_rss_mib", "time",
                                   "memory") if k in summary}
    if isinstance(chans, list) and chans and isinstance(chans[0], dict):
        iters = [c.get("iterations") for c in chans if isinstance(c.get("iterations"), (int, float))]
        if iters:
            out["iterations_total"] = sum(iters)
        majors = [c.get("major_cycles") for c in chans
                  if isinstance(c.get("major_cycles"), (int, float))]
        if majors:
            out["major_cycles_total"] = sum(majors)
        reasons = {}
        for c in chans:
            r = c.get("stop_reason")
            if r is not None:
                reasons[str(r)] = reasons.get(str(r), 0) + 1
        if reasons:
            out["stop_reasons"] = reasons
    return out


if __name__ == "__main__":
    main()

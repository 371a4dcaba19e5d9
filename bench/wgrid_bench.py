"""w-corrected 1024^2 dirty image: pclean (gridder='wproject') vs CASA tclean (wproject,
wprojplanes -1), WSClean (-use-wgridder, same accuracy) and ducc0's wgridder (vis2dirty with
do_wgridding), on ../shared/data/vla_widefield (VLA D, 1.35 GHz, 42 120 rows x 2 channels).

    python3 bench/wgrid_bench.py --ms WORK/widefield.ms --work WORK [--epsilon 1e-4]
        [--pclean target/release/pclean] [--casa-python /work/casa-venv/bin/python]
        [--ducc-python VENV/bin/python] [--threads 2]

Every tool runs as its own child process under /usr/bin/time: wall time, CPU time (user + system)
and peak resident memory (max RSS) of the whole process, printed with the ratios tool / pclean.
pclean and WSClean alternate `--repeat` times: medians of each, and the medians of the per-round
ratios WSClean / pclean (on a loaded machine the CPU time is the steadier measure: the wall time
is mostly the wait for a core). Same image: 1024^2, 6",
mfs, both correlations (Stokes I), briggs 0.5 (ducc: natural weights, it has no weighting of its
own), niter 0. ducc's time includes only the gridding call (the MS is read beforehand by CASA's
Python into .npy files), so it is the kernel alone; the others are whole runs (MS read, weighting,
PSF and dirty image, writing products).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap


def timed(cmd, cwd=None, env=None):
    """(wall s, max RSS MiB, stdout+stderr, CPU s = user + system) of `cmd` under /usr/bin/time."""
    p = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M %U %S"] + cmd, cwd=cwd, env=env,
                       capture_output=True, text=True)
    line = [l for l in p.stderr.splitlines() if l.startswith("TIME ")][-1].split()
    if p.returncode != 0:
        raise SystemExit("%s failed (%d):\n%s" % (cmd[0], p.returncode, (p.stdout + p.stderr)[-3000:]))
    return float(line[1]), float(line[2]) / 1024.0, p.stdout + p.stderr, float(line[3]) + float(line[4])


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


DUCC = textwrap.dedent("""
    import sys, time, numpy as np, ducc0
    d, eps, nthreads = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    uvw = np.load(d + '/uvw.npy'); freq = np.load(d + '/freq.npy')
    vis = np.load(d + '/vis.npy'); wgt = np.load(d + '/wgt.npy')
    cell = 6.0 / 206264.80624709636
    t0 = time.time()
    img = ducc0.wgridder.vis2dirty(uvw=uvw, freq=freq, vis=vis, wgt=wgt, npix_x=1024, npix_y=1024,
        pixsize_x=cell, pixsize_y=cell, epsilon=eps, do_wgridding=True, nthreads=nthreads,
        divide_by_n=False)
    print('DUCC_GRID_S %.3f peak %.5f' % (time.time() - t0, img.max() / wgt.sum()))
""")

EXTRACT = textwrap.dedent("""
    import sys, numpy as np, casatools
    ms, d = sys.argv[1], sys.argv[2]
    tb = casatools.table(); tb.open(ms)
    uvw = tb.getcol('UVW').T.copy(); data = tb.getcol('DATA'); flag = tb.getcol('FLAG')
    wt = tb.getcol('WEIGHT'); tb.close()
    tb.open(ms + '/SPECTRAL_WINDOW'); freq = tb.getcol('CHAN_FREQ')[:, 0].copy(); tb.close()
    # Stokes I of RR, LL: (RR + LL) / 2 with weight w_RR + w_LL; flagged -> weight 0.
    vis = (0.5 * (data[0] + data[1])).T.astype(np.complex64)
    w = (wt[0] + wt[1])[None, :] * (~(flag[0] | flag[1]))
    np.save(d + '/uvw.npy', uvw); np.save(d + '/freq.npy', freq)
    np.save(d + '/vis.npy', np.ascontiguousarray(vis)); np.save(d + '/wgt.npy', np.ascontiguousarray(w.T.astype(np.float32)))
""")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ms", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--epsilon", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--pclean", default="target/release/pclean")
    ap.add_argument("--casa-python", default="/work/casa-venv/bin/python")
    ap.add_argument("--ducc-python", default=None)
    ap.add_argument("--skip", nargs="*", default=[])
    ap.add_argument("--repeat", type=int, default=1,
                    help="run pclean and WSClean this many times, alternately; report medians")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    ms = os.path.abspath(a.ms)
    res = {}

    runs = {"pclean": [], "wsclean": []}
    notes = {}
    for _ in range(a.repeat):
        out = os.path.join(a.work, "pclean_wp")
        t, m, log, cpu = timed([a.pclean, "image", "--vis", ms, "--imagename", out, "--imsize", "1024",
                                "--cell", "6arcsec", "--specmode", "mfs", "--gridder", "wproject",
                                "--wprojplanes", "-1", "--weighting", "briggs", "--robust", "0.5",
                                "--niter", "0", "--pblimit", "-0.01", "--epsilon", str(a.epsilon),
                                "--nthreads", str(a.threads), "--overwrite"])
        planes = [l for l in log.splitlines() if "w planes" in l]
        notes["pclean"] = planes[-1].strip() if planes else ""
        runs["pclean"].append(dict(wall_s=t, cpu_s=cpu, peak_mib=m))
        if "wsclean" not in a.skip:
            name = os.path.join(a.work, "wsclean_wp")
            t, m, _, cpu = timed(["wsclean", "-size", "1024", "1024", "-scale", "6asec", "-pol", "I",
                                  "-weight", "briggs", "0.5", "-niter", "0", "-use-wgridder",
                                  "-wgridder-accuracy", str(a.epsilon), "-j", str(a.threads),
                                  "-name", name, ms])
            runs["wsclean"].append(dict(wall_s=t, cpu_s=cpu, peak_mib=m))
    # Medians over the rounds (pclean and WSClean alternate, so a round's two runs share the
    # machine's load); the ratios are the medians of the per-round ratios.
    for k, rs in runs.items():
        if rs:
            res[k] = {f: median([r[f] for r in rs]) for f in ("wall_s", "cpu_s", "peak_mib")}
            res[k]["runs"] = rs
    if "pclean" in notes:
        res["pclean"]["note"] = notes["pclean"]
    if runs["wsclean"]:
        pairs = list(zip(runs["pclean"], runs["wsclean"]))
        res["ratios_wsclean_over_pclean"] = {
            f: median([w[f] / p[f] for p, w in pairs]) for f in ("wall_s", "cpu_s", "peak_mib")}
    res["loadavg"] = os.getloadavg()

    if "tclean" not in a.skip:
        img = os.path.join(a.work, "tclean_wp")
        for ext in (".psf", ".residual", ".pb", ".sumwt", ".weight", ".image", ".model"):
            shutil.rmtree(img + ext, ignore_errors=True)
        code = ("import casatasks; casatasks.tclean(vis=%r, imagename=%r, imsize=1024, cell='6arcsec', "
                "specmode='mfs', gridder='wproject', wprojplanes=-1, weighting='briggs', robust=0.5, "
                "niter=0, pblimit=-0.01, parallel=False)" % (ms, img))
        t, m, _, cpu = timed([a.casa_python, "-c", code])
        res["tclean"] = dict(wall_s=t, cpu_s=cpu, peak_mib=m)

    if a.ducc_python and "ducc" not in a.skip:
        d = os.path.join(a.work, "ducc_in")
        os.makedirs(d, exist_ok=True)
        if not os.path.exists(os.path.join(d, "wgt.npy")):
            subprocess.run([a.casa_python, "-c", EXTRACT, ms, d], check=True)
        t, m, log, cpu = timed([a.ducc_python, "-c", DUCC, d, str(a.epsilon), str(a.threads)])
        grid_s = float([l for l in log.splitlines() if l.startswith("DUCC_GRID_S")][0].split()[1])
        res["ducc0"] = dict(wall_s=t, cpu_s=cpu, grid_s=grid_s, peak_mib=m)

    base = res["pclean"]
    print("%-8s %9s %9s %10s %14s %14s %14s" % ("tool", "wall s", "CPU s", "peak MiB", "wall / pclean",
                                               "CPU / pclean", "mem / pclean"))
    for k, v in res.items():
        if not isinstance(v, dict) or k.startswith("ratios"):
            continue
        print("%-8s %9.2f %9.2f %10.1f %14.2f %14.2f %14.2f" % (
            k, v["wall_s"], v["cpu_s"], v["peak_mib"], v["wall_s"] / base["wall_s"],
            v["cpu_s"] / base["cpu_s"], v["peak_mib"] / base["peak_mib"]))
    if "ratios_wsclean_over_pclean" in res:
        r = res["ratios_wsclean_over_pclean"]
        print("median per-round WSClean / pclean: wall %.2f, CPU %.2f, peak memory %.2f (%d rounds)"
              % (r["wall_s"], r["cpu_s"], r["peak_mib"], a.repeat))
    print("load average after: %.1f %.1f %.1f" % tuple(res["loadavg"]))
    if "ducc0" in res:
        print("ducc0 gridding call alone: %.2f s" % res["ducc0"]["grid_s"])
    print(json.dumps(res))


if __name__ == "__main__":
    main()

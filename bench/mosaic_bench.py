"""Joint-mosaic clean: pclean (gridder='mosaic') against CASA tclean 6.7 on the same machine in one
go, on ../shared/data/alma_mosaic (7 ALMA 12 m pointings, 81 270 rows x 4 channels): the
reference's `tclean_mosaic_mfs_clean` parameters (512^2 x 0.25", mfs, briggs 0.5, hogbom,
niter 1000, threshold 4 mJy, usemask pb 0.3, pblimit 0.2).

    python3 bench/mosaic_bench.py --ms WORK/mosaic.ms --work WORK [--repeat 2]
        [--pclean target/release/pclean] [--casa-python /work/casa-venv/bin/python]

Each tool runs as its own child process under /usr/bin/time (wall time and peak RSS of the whole
run: MS read, weighting, PSF, cycles, products), alternating tclean and pclean `--repeat` times;
the best time of each and the ratio tclean / pclean are printed, with the 1-minute load average
before each run (the machine may be shared).
"""
import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgrid_bench import timed  # noqa: E402

PARAMS = dict(imsize=[512, 512], cell="0.25arcsec", phasecenter="J2000 16h00m00.0s -30d00m00.0s",
              gridder="mosaic", specmode="mfs", weighting="briggs", robust=0.5, niter=1000,
              threshold="4mJy", usemask="pb", pbmask=0.3, pblimit=0.2, deconvolver="hogbom")
TCLEAN = "import sys, json; from casatasks import tclean; " \
         "tclean(vis=sys.argv[1], imagename=sys.argv[2], parallel=False, **json.loads(sys.argv[3]))"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ms", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--pclean", default="target/release/pclean")
    ap.add_argument("--casa-python", default="/work/casa-venv/bin/python")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    cfg = os.path.join(a.work, "mosaic_clean.json")
    with open(cfg, "w") as f:
        json.dump(PARAMS, f)
    runs = {"tclean": [], "pclean": []}
    for i in range(a.repeat):
        for tool in ("tclean", "pclean"):
            img = os.path.join(a.work, "%s_%d" % (tool, i))
            for p in [img + s for s in (".psf", ".residual", ".image", ".model", ".pb", ".weight",
                                        ".sumwt", ".mask")]:
                shutil.rmtree(p, ignore_errors=True)
            load = os.getloadavg()[0]
            if tool == "tclean":
                cmd = [a.casa_python, "-c", TCLEAN, a.ms, img, json.dumps(PARAMS)]
            else:
                cmd = [a.pclean, "image", "--config", cfg, "--vis", a.ms, "--imagename", img,
                       "--overwrite"]
            wall, rss, _ = timed(cmd, cwd=a.work)
            runs[tool].append((wall, rss, load))
            print("%s run %d: %.1f s, peak RSS %.0f MiB (load before %.2f)" % (tool, i, wall, rss, load))
    best = {t: min(r, key=lambda x: x[0]) for t, r in runs.items()}
    print("best: tclean %.1f s / %.0f MiB, pclean %.1f s / %.0f MiB; tclean / pclean = %.2fx time, "
          "%.2fx memory" % (best["tclean"][0], best["tclean"][1], best["pclean"][0], best["pclean"][1],
                            best["tclean"][0] / best["pclean"][0], best["tclean"][1] / best["pclean"][1]))
    with open(os.path.join(a.work, "mosaic_bench.json"), "w") as f:
        json.dump(runs, f, indent=1)


if __name__ == "__main__":
    main()

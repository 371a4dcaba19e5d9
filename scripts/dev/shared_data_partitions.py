"""Issue 16's bound on the shared data at the references' sizes (docs/issue16-evidence.md).

Runs the shared data's continuum cases at the parameters of their tclean references
(/work/shared/data/*/reference/*.params.json: alma_sim 512^2 x 0.1", vla_wideband 512^2 x
3.75"), single-process and in 1, 2 and 4 row partitions, under natural, uniform and Briggs 0.5
weighting, with hogbom, multiscale (scales 0, 5, 15) and mtmfs (nterms 2), and prints each
product's max |partitioned - single| / the single product's peak |value|, and the largest per
case. The clean is cut to `--niter` components in cycles of `--cycleniter` (at least three
major cycles), not the references' thousands: each extra cycle repeats the same passes.

Usage: python3 scripts/dev/shared_data_partitions.py --bin $CARGO_TARGET_DIR/release/pclean
       --alma DIR/alma_small.ms --wideband DIR/wideband.ms --out /tmp/dir
Needs python-casacore (casacore.images) to read the products.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
from casacore.images import image

MFS = ["psf", "residual", "model", "image", "pb", "weight", "sumwt"]
MTMFS = ["psf.tt0", "psf.tt1", "psf.tt2", "sumwt.tt0", "residual.tt0", "residual.tt1",
         "model.tt0", "model.tt1", "image.tt0", "image.tt1", "pb.tt0", "weight.tt0"]
WEIGHTINGS = {"natural": [], "uniform": [], "briggs": ["--robust", "0.5"]}


def case_args(args, deconvolver):
    if deconvolver == "mtmfs":
        return ["--vis", args.wideband, "--imsize", "512", "--cell", "3.75arcsec",
                "--deconvolver", "mtmfs", "--nterms", "2", "--reffreq", "1.5GHz",
                "--pblimit", "0.1"], MTMFS
    extra = ["--scales", "0", "5", "15"] if deconvolver == "multiscale" else []
    return ["--vis", args.alma, "--imsize", "512", "--cell", "0.1arcsec", "--deconvolver",
            deconvolver, "--pblimit", "0.2", *extra], MFS


def run(args, name, base, weighting, parts):
    out = os.path.join(args.out, name)
    cmd = [args.bin, "image", "--imagename", out, "--specmode", "mfs", *base, "--weighting",
           weighting, *WEIGHTINGS[weighting], "--niter", str(args.niter), "--cycleniter",
           str(args.cycleniter), "--threshold", "0mJy", "--row-partitions", str(parts),
           "--overwrite"]
    p = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out, json.loads(p.stdout)


def rel(a, b, ext):
    x = image(f"{a}.{ext}").getdata().astype(np.float64)
    y = image(f"{b}.{ext}").getdata().astype(np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    assert (np.isfinite(x) == np.isfinite(y)).all(), ext
    return float(np.abs(x[ok] - y[ok]).max() / np.abs(x[ok]).max())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--alma", required=True)
    p.add_argument("--wideband", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--niter", type=int, default=60)
    p.add_argument("--cycleniter", type=int, default=20)
    p.add_argument("--deconvolvers", nargs="+", default=["hogbom", "multiscale", "mtmfs"])
    p.add_argument("--partitions", type=int, nargs="+", default=[1, 2, 4])
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    result = {}
    for dec in args.deconvolvers:
        base, products = case_args(args, dec)
        for w in WEIGHTINGS:
            single, s = run(args, f"{dec}_{w}_single", base, w, 0)
            cycles = s["channels"][0]["major_cycles"]
            for n in args.partitions:
                part, _ = run(args, f"{dec}_{w}_p{n}", base, w, n)
                d = {ext: rel(single, part, ext) for ext in products}
                worst = max(d, key=d.get)
                key = f"{dec} {w} {n} partitions"
                result[key] = {"max": d[worst], "product": worst, "major_cycles": cycles}
                print(f"{key}: max {d[worst]:.2e} ({worst}), {cycles} major cycles",
                      file=sys.stderr, flush=True)
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

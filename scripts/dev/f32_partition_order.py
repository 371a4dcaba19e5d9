"""Where the 2048^2 row-partition difference comes from (issue 16, docs/issue16-evidence.md).

Runs ngc5921 mfs (Briggs 0.5, hogbom) single-process and in 2 (and 4) row partitions, once with
the default single-precision uv grids (epsilon 1e-6) and once with double-precision grids
(epsilon below the gridder's single-precision floor, 1e-6: the same kernel family, grids and
FFTs in f64; the partial images stay f32), and prints each product's max |partitioned - single|
/ its peak for each precision.

Usage: python3 scripts/dev/f32_partition_order.py --bin $CARGO_TARGET_DIR/release/pclean
       --ms testdata/unpacked/ngc5921.ms --out /tmp/dir [--imsize 2048 --cell 2arcsec]
Needs python-casacore (casacore.images) to read the products.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
from casacore.images import image

PRODUCTS = ["psf", "residual", "model", "image"]


def run(args, name, parts, eps):
    out = os.path.join(args.out, name)
    cmd = [args.bin, "image", "--vis", args.ms, "--imagename", out, "--imsize", str(args.imsize),
           "--cell", args.cell, "--specmode", "mfs", "--weighting", "briggs", "--robust", "0.5",
           "--niter", str(args.niter), "--cycleniter", "100", "--row-partitions", str(parts),
           "--epsilon", str(eps), "--overwrite"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


def read(prefix, ext):
    return image(f"{prefix}.{ext}").getdata().astype(np.float64)


def diffs(a, b):
    out = {}
    for ext in PRODUCTS:
        x, y = read(a, ext), read(b, ext)
        out[ext] = float(np.abs(x - y).max() / np.abs(x).max())
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--ms", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--imsize", type=int, default=2048)
    p.add_argument("--cell", default="2arcsec")
    p.add_argument("--niter", type=int, default=400)
    p.add_argument("--partitions", type=int, nargs="+", default=[2])
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    result = {}
    singles = {}
    for label, eps in (("f32", 1e-6), ("f64", 9e-7)):
        singles[label] = run(args, f"single_{label}", 0, eps)
        for n in args.partitions:
            part = run(args, f"p{n}_{label}", n, eps)
            result[f"{label} grids: {n} partitions vs single"] = diffs(singles[label], part)
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Sanity check of pclean's auto-multithresh against tclean on NGC5921.

Runs the `automask_cube` example on tclean's dirty residual and PSF (the first-cycle mask) and
compares it per channel (Jaccard index) with tclean's FINAL mask of the auto-multithresh clean
(several cycles of growth, so the first-cycle overlap is expected to be lower).

Usage: scripts/dev/check_automask.py [--target-dir DIR]
"""
import argparse, json, os, subprocess, sys, tempfile
import numpy as np
from astropy.io import fits

REF = "/work/shared/data/ngc5921/reference"
BEAMS = os.path.join(os.path.dirname(__file__), "../../testdata/reference/tclean_beams.json")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    args = ap.parse_args()
    res = fits.getdata(f"{REF}/tclean_dirty.residual.fits.gz")[0].astype("<f4")
    psf = fits.getdata(f"{REF}/tclean_dirty.psf.fits.gz")[0].astype("<f4")
    ref = fits.getdata(f"{REF}/tclean_clean.mask.fits.gz")[0] > 0
    hdr = fits.getheader(f"{REF}/tclean_dirty.residual.fits.gz")
    cell = abs(hdr["CDELT1"]) * 3600.0
    nchan, ny, nx = res.shape
    beams = json.load(open(BEAMS))["ngc5921"]
    with tempfile.TemporaryDirectory() as d:
        res.tofile(f"{d}/res.f32"); psf.tofile(f"{d}/psf.f32")
        with open(f"{d}/beams.txt", "w") as f:
            for b in sorted(beams, key=lambda b: b["chan"]):
                f.write(f"{b['bmaj_arcsec']} {b['bmin_arcsec']} {b['bpa_deg']}\n")
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "pclean-deconv", "--example", "automask_cube",
                        "--target-dir", args.target_dir], check=True)
        exe = os.path.join(args.target_dir, "release", "examples", "automask_cube")
        subprocess.run([exe, f"{d}/res.f32", f"{d}/psf.f32", str(nchan), str(ny), str(nx), str(cell),
                        f"{d}/beams.txt", f"{d}/out.u8"], check=True)
        ours = np.fromfile(f"{d}/out.u8", dtype=np.uint8).reshape(nchan, ny, nx) > 0
    print("chan  ours  tclean_final  inter  jaccard  ours_inside_final")
    js = []
    for c in range(nchan):
        a, b = ours[c], ref[c]
        inter, uni = (a & b).sum(), (a | b).sum()
        j = inter / uni if uni else 1.0
        inside = inter / a.sum() if a.sum() else float("nan")
        if uni:
            js.append(j)
        print(f"{c:4d} {a.sum():5d} {b.sum():12d} {inter:6d} {j:8.3f} {inside:8.3f}")
    both_empty = sum(1 for c in range(nchan) if not ours[c].any() and not ref[c].any())
    print(f"channels with a mask in either: {len(js)}, mean Jaccard {np.mean(js):.3f}; both empty: {both_empty}")
    print(f"empty-vs-nonempty agreement: {sum(ours[c].any() == ref[c].any() for c in range(nchan))}/{nchan}")

if __name__ == "__main__":
    sys.exit(main())

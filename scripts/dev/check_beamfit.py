#!/usr/bin/env python3
"""Compare pclean's restoring-beam fit with tclean's beams.

Runs the `fit_beam_raw` example of pclean-deconv on every PSF plane of the NGC5921 cube and the
alma_sim mfs PSF, and compares with tclean's beams (BEAMS table of the NGC5921 `.image`, header
BMAJ/BMIN/BPA of the alma_sim clean `.image`). Prints per-plane differences and the worst
relative axis error and PA error.

Usage: scripts/dev/check_beamfit.py [--bin PATH]   (default: $CARGO_TARGET_DIR or target, release)
"""
import argparse, os, subprocess, sys, tempfile
import numpy as np
from astropy.io import fits

DATA = "/work/shared/data"


def run_fit(binary, planes, cdelt1_deg, cdelt2_deg, cutoff=0.35):
    nplanes, ny, nx = planes.shape
    with tempfile.NamedTemporaryFile(suffix=".f32", delete=False) as f:
        f.write(np.ascontiguousarray(planes, dtype="<f4").tobytes())
        path = f.name
    try:
        out = subprocess.run([binary, path, str(nx), str(ny), str(nplanes),
                              repr(abs(cdelt1_deg) * 3600), repr(abs(cdelt2_deg) * 3600), repr(cutoff)],
                             check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(path)
    res = []
    for line in out.splitlines():
        parts = line.split()
        res.append(None if parts[1] == "error" else tuple(map(float, parts[1:4])))
    return res


def pa_diff(a, b):
    d = (a - b) % 180.0
    return min(d, 180.0 - d)


def compare(name, fitted, ref):
    worst_ax, worst_pa = 0.0, 0.0
    for k, (f, r) in enumerate(zip(fitted, ref)):
        if f is None:
            print(f"{name}[{k}]: fit failed")
            worst_ax = float("inf")
            continue
        emaj = f[0] / r[0] - 1
        emin = f[1] / r[1] - 1
        dpa = pa_diff(f[2], r[2])
        worst_ax = max(worst_ax, abs(emaj), abs(emin))
        worst_pa = max(worst_pa, dpa)
        print(f"{name}[{k:2d}] pclean {f[0]:8.3f} {f[1]:8.3f} {f[2]:7.2f} | tclean {r[0]:8.3f} {r[1]:8.3f} "
              f"{r[2]:7.2f} | dmaj {emaj:+.2e} dmin {emin:+.2e} dpa {dpa:.3f}")
    print(f"{name}: worst axis error {worst_ax:.3e}, worst PA error {worst_pa:.3f} deg")
    return worst_ax, worst_pa


def main():
    ap = argparse.ArgumentParser()
    tgt = os.environ.get("CARGO_TARGET_DIR", "/work/main/target")
    ap.add_argument("--bin", default=os.path.join(tgt, "release/examples/fit_beam_raw"))
    args = ap.parse_args()

    # NGC5921 cube: per-plane beams in the BEAMS extension of the clean image.
    psf = fits.open(f"{DATA}/ngc5921/reference/tclean_dirty.psf.fits.gz")
    h = psf[0].header
    cube = psf[0].data.reshape(-1, h["NAXIS2"], h["NAXIS1"]).astype(np.float32)  # (chan, y, x); one Stokes
    fitted = run_fit(args.bin, cube, h["CDELT1"], h["CDELT2"])
    img = fits.open(f"{DATA}/ngc5921/reference/tclean_clean.image.fits.gz")
    beams = img["BEAMS"].data
    bu = img["BEAMS"].header
    fac = 1.0 if "arcsec" in str(bu.get("TUNIT1", "arcsec")) else 3600.0
    ref = [(b["BMAJ"] * fac, b["BMIN"] * fac, b["BPA"]) for b in beams if b["POL"] == 0]
    r1 = compare("ngc5921", fitted, ref)

    # alma_sim mfs: header beam of the clean image.
    psf = fits.open(f"{DATA}/alma_sim/reference/tclean_mfs_dirty.psf.fits.gz")
    h = psf[0].header
    plane = psf[0].data.reshape(-1, h["NAXIS2"], h["NAXIS1"])[:1].astype(np.float32)
    fitted = run_fit(args.bin, plane, h["CDELT1"], h["CDELT2"])
    ih = fits.getheader(f"{DATA}/alma_sim/reference/tclean_mfs_clean.image.fits.gz")
    ref = [(ih["BMAJ"] * 3600, ih["BMIN"] * 3600, ih["BPA"])]
    r2 = compare("alma_mfs", fitted, ref)
    ok = max(r1[0], r2[0]) < 0.02 and max(r1[1], r2[1]) < 2.0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

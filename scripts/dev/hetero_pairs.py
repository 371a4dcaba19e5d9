"""Which dish pair carries the 12 m + 7 m mosaic's gap to tclean (issue 14 item 2)?

Splits testdata's hetero_mosaic.ms (scripts/dev/make_hetero_mosaic.py) by baseline type (12-12,
7-7, 12-7; all three fields) and, for 12-12 and 7-7, also to field 0 alone, images each subset
with tclean 6.7 (parallel=False) and pclean with the het_flatsky parameters (natural, flatsky,
320^2 x 0.5", pblimit 0.2), and prints max |pclean - tclean| / tclean's peak over tclean's
pb > 0.3 per product, the ratio pclean / tclean at the image centre, and, for the single
pointings, the weight's radial ratio along +x and a cosine-series fit of the weight image (the
gridded weight kernel, coefficients of cos(2 pi i dx / 384) cos(2 pi j dy / 384)).

    CASA python:  python scripts/dev/hetero_pairs.py tclean OUTDIR path/to/hetero_mosaic.ms
    any python with numpy, astropy, python-casacore:
                  python scripts/dev/hetero_pairs.py compare OUTDIR path/to/pclean
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np

SELECT = {"b1212": ("0~11&", ""), "b77": ("12~21&", ""), "b127": ("0~11&12~21", ""),
          "b1212f0": ("0~11&", "0"), "b77f0": ("12~21&", "0")}
PARAMS = dict(imsize=[320, 320], cell="0.5arcsec", phasecenter="J2000 16h00m00.0s -30d00m00.0s",
              gridder="mosaic", specmode="mfs", pblimit=0.2, niter=0, weighting="natural",
              normtype="flatsky")
PRODUCTS = ("weight", "residual", "pb", "psf")
# Single pointings at other image sizes and cells (weights only; scripts/dev/weight_box_model.py).
EXTRA = [("b77f0", 200, 0.5), ("b77f0", 320, 0.8), ("b77f0", 512, 0.5), ("b77f0", 320, 0.25),
         ("b1212f0", 320, 0.25)]


def run_tclean(outdir, ms):
    import casatasks
    os.makedirs(outdir, exist_ok=True)
    for name, (ant, field) in SELECT.items():
        sub = os.path.join(outdir, name + ".ms")
        if not os.path.exists(sub):
            casatasks.split(vis=ms, outputvis=sub, antenna=ant, field=field, datacolumn="data")
        prefix = os.path.join(outdir, "tc_" + name)
        for ext in PRODUCTS + ("sumwt", "image", "model"):
            shutil.rmtree(prefix + "." + ext, ignore_errors=True)
        casatasks.tclean(vis=sub, imagename=prefix, parallel=False, **PARAMS)
        for ext in PRODUCTS:
            casatasks.exportfits(prefix + "." + ext, prefix + "." + ext + ".fits", overwrite=True)
    for name, n, cell in EXTRA:
        prefix = os.path.join(outdir, "cf_%s_%d_%s" % (name, n, cell))
        for ext in PRODUCTS + ("sumwt", "image", "model"):
            shutil.rmtree(prefix + "." + ext, ignore_errors=True)
        params = dict(PARAMS, imsize=[n, n], cell="%sarcsec" % cell)
        casatasks.tclean(vis=os.path.join(outdir, name + ".ms"), imagename=prefix, parallel=False,
                         **params)
        casatasks.exportfits(prefix + ".weight", prefix + ".weight.fits", overwrite=True)


def compare(outdir, pclean):
    from astropy.io import fits
    from casacore.images import image
    config = os.path.join(outdir, "flatsky.json")
    with open(config, "w") as f:
        json.dump(PARAMS, f)
    n, npad = 320, 384
    d = np.arange(n) - n // 2
    basis = np.array([np.cos(2 * np.pi * i * d / npad) for i in range(10)])
    proj = np.linalg.pinv(basis.T)
    for name in SELECT:
        prefix = os.path.join(outdir, "pc_" + name)
        for ext in PRODUCTS:
            shutil.rmtree(prefix + "." + ext, ignore_errors=True)
        subprocess.run([pclean, "image", "--config", config, "--vis",
                        os.path.join(outdir, name + ".ms"), "--imagename", prefix],
                       check=True, capture_output=True)
        tpb = fits.getdata(os.path.join(outdir, "tc_%s.pb.fits" % name)).squeeze()
        region = tpb > 0.3
        for ext in PRODUCTS:
            mine = image("%s.%s" % (prefix, ext)).getdata()[0, 0].astype(float)
            ref = fits.getdata(os.path.join(outdir, "tc_%s.%s.fits" % (name, ext))).squeeze()
            err = np.abs(mine - ref)[region].max() / np.abs(ref[region]).max()
            print("%-8s %-8s max|diff| %.2e  centre pclean/tclean %.4f"
                  % (name, ext, err, mine[n // 2, n // 2] / ref[n // 2, n // 2]))
        if name.endswith("f0"):
            wt = fits.getdata(os.path.join(outdir, "tc_%s.weight.fits" % name)).squeeze()
            wo = image(prefix + ".weight").getdata()[0, 0].astype(float)
            print("   weight along +x (arcsec: tclean, pclean/tclean):",
                  " ".join('%d": %.4f %.4f' % (k // 2, wt[160, 160 + k], wo[160, 160 + k] / wt[160, 160 + k])
                           for k in range(0, 140, 20)))
            for label, img in (("tclean", wt), ("pclean", wo)):
                a = proj @ img @ proj.T
                print("   %s weight kernel: value at the pointing %.4f, cos(i) along u / cos(0): %s"
                      % (label, a.sum(), np.array2string(a[0] / a[0, 0], precision=4)))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("tclean", "compare"):
        sys.exit(__doc__)
    (run_tclean if sys.argv[1] == "tclean" else compare)(sys.argv[2], sys.argv[3])

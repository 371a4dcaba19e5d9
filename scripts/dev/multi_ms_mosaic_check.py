"""tclean's mosaic of several MeasurementSets against its mosaic of their concatenation
(issue 14: `vis=[ms1, ms2]` with gridder='mosaic'; docs/decisions.md (s10-mos)).

    python scripts/dev/multi_ms_mosaic_check.py OUTDIR MS1 MS2 [PCLEAN_BIN]

Runs (CASA 6.7 python) casatasks.concat(MS1, MS2) and tclean natural/flatsky mosaics (320^2 x 0.5",
pblimit 0.2, niter 0, phasecenter J2000 16h00m00 -30d00m00: the hetero_mosaic geometry) of
vis=[MS1, MS2] and of the concatenation, exports FITS, and prints max |difference| over tclean's
pb > 0.3 of the peak for psf, residual, pb, weight, and the sumwt. With PCLEAN_BIN it also images
the concatenation with pclean (needs python-casacore in this python for reading pclean's images;
run that part with the repo's .venv python by calling `compare OUTDIR`).
"""
import json
import os
import shutil
import subprocess
import sys

COMMON = dict(imsize=[320, 320], cell="0.5arcsec", phasecenter="J2000 16h00m00.0s -30d00m00.0s",
              gridder="mosaic", specmode="mfs", niter=0, weighting="natural", normtype="flatsky",
              pblimit=0.2)
PRODUCTS = ("psf", "residual", "pb", "weight")


def tclean_runs(out, ms1, ms2):
    import casatasks
    os.makedirs(out, exist_ok=True)
    cat = os.path.join(out, "cat.ms")
    shutil.rmtree(cat, ignore_errors=True)
    casatasks.concat(vis=[ms1, ms2], concatvis=cat)
    for name, vis in (("tc_two", [ms1, ms2]), ("tc_cat", cat)):
        prefix = os.path.join(out, name)
        for e in PRODUCTS + ("sumwt", "image", "model"):
            shutil.rmtree(prefix + "." + e, ignore_errors=True)
        casatasks.tclean(vis=vis, imagename=prefix, parallel=False, **COMMON)
        for e in PRODUCTS + ("sumwt",):
            casatasks.exportfits(prefix + "." + e, prefix + "." + e + ".fits", overwrite=True)
    with open(os.path.join(out, "params.json"), "w") as f:
        json.dump(COMMON, f)


def compare(out, other):
    import numpy as np
    from astropy.io import fits

    def load(prefix, e):
        if os.path.exists(prefix + "." + e + ".fits"):
            return np.nan_to_num(fits.getdata(prefix + "." + e + ".fits").astype(float).squeeze())
        from casacore.images import image
        return np.nan_to_num(image(prefix + "." + e).getdata()[0, 0].astype(float))

    ref = os.path.join(out, "tc_two")
    region = load(ref, "pb") > 0.3
    for e in PRODUCTS + ("sumwt",):
        a, b = load(os.path.join(out, other), e), load(ref, e)
        if e == "sumwt":
            print("sumwt", float(np.ravel(a)[0]), float(np.ravel(b)[0]))
        else:
            print("%s %.2e" % (e, np.abs(a - b)[region].max() / np.abs(b[region]).max()))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "tc_cat")
    elif len(sys.argv) in (4, 5):
        out, ms1, ms2 = sys.argv[1:4]
        tclean_runs(out, ms1, ms2)
        if len(sys.argv) == 5:
            cfg = os.path.join(out, "pc.json")
            with open(cfg, "w") as f:
                json.dump(COMMON, f)
            subprocess.run([sys.argv[4], "image", "--config", cfg, "--vis", os.path.join(out, "cat.ms"),
                            "--imagename", os.path.join(out, "pc_cat"), "--overwrite"], check=True)
    else:
        sys.exit(__doc__)

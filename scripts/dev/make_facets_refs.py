"""tclean references for `facets > 1` with `gridder='widefield'` (issue 14) on the bundled VLA
wide-field subset (testdata/vla_widefield_sub.ms.tar.gz, unpacks to widefield_sub.ms), with the
parameters of testdata/reference/widefield_wproject.json's wproject case and gridder 'widefield',
facets 2 and 3.

Run with a Python that has casatools/casatasks 6.7:
    python scripts/dev/make_facets_refs.py refs MSDIR OUTDIR     # tclean runs (parallel=False)
and with numpy and astropy:
    python scripts/dev/make_facets_refs.py bundle OUTDIR REPO/testdata

Stored in testdata/reference/widefield_facets.json, per case: tclean's parameters, its sumwt (one
per facet), the PSF's row and column through the image centre (whole length: the faceted PSF is
zero outside the central facet), its central 64 x 64 pixels, and the residual in the 15 x 15 boxes
of widefield_wproject.json (same x0, y0).
"""
import json
import os
import shutil
import sys
import time

CASES = {"facets2": 2, "facets3": 3}
CENTRE = (480, 544)  # the central crop, rows and columns [480, 544)


def base_params(testdata):
    with open(os.path.join(testdata, "reference", "widefield_wproject.json")) as f:
        ref = json.load(f)
    return ref, dict(ref["params"]["wproject"], gridder="widefield")


def refs(msdir, outdir, testdata):
    from casatasks import tclean, exportfits
    _, params = base_params(testdata)
    meta = {}
    for name, facets in CASES.items():
        img = os.path.join(outdir, "tclean_" + name)
        for ext in ["psf", "residual", "sumwt", "pb", "weight", "model", "image"]:
            shutil.rmtree(img + "." + ext, ignore_errors=True)
        args = dict(params, facets=facets)
        t0 = time.time()
        tclean(vis=os.path.join(msdir, "widefield_sub.ms"), imagename=img, **args)
        meta[name] = dict(params=args, seconds=round(time.time() - t0, 1))
        for ext in ["psf", "residual", "sumwt"]:
            exportfits(img + "." + ext, img + "." + ext + ".fits", overwrite=True)
    with open(os.path.join(outdir, "facets_runs.json"), "w") as f:
        json.dump(meta, f, indent=1)


def bundle(outdir, testdata):
    import numpy as np
    from astropy.io import fits
    ref, _ = base_params(testdata)
    with open(os.path.join(outdir, "facets_runs.json")) as f:
        runs = json.load(f)
    out = {"provenance": "scripts/dev/make_facets_refs.py (tclean from casatasks 6.7.0-31)",
           "layout": "arrays (y, x); psf_row is row ny/2, psf_col column nx/2; psf_centre rows and "
                     "columns [%d, %d); box[j][i] is pixel (x0 + i, y0 + j)" % CENTRE,
           "cases": {}}
    def g7(a):  # float32 values to 7 significant digits (they carry no more)
        return [g7(v) for v in a] if isinstance(a, list) else float("%.7g" % a)

    for name in CASES:
        def plane(ext):
            return np.squeeze(fits.getdata(os.path.join(outdir, "tclean_%s.%s.fits" % (name, ext))))
        psf, res = plane("psf"), plane("residual")
        ny, nx = psf.shape
        a, b = CENTRE
        out["cases"][name] = dict(
            params=runs[name]["params"], seconds=runs[name]["seconds"],
            sumwt=np.atleast_1d(plane("sumwt")).astype(float).ravel().tolist(),
            psf_row=g7(psf[ny // 2].astype(float).tolist()), psf_col=g7(psf[:, nx // 2].astype(float).tolist()),
            psf_centre=g7(psf[a:b, a:b].astype(float).tolist()),
            boxes=[dict(x0=bx["x0"], y0=bx["y0"],
                        residual=g7(res[bx["y0"]:bx["y0"] + 15, bx["x0"]:bx["x0"] + 15].astype(float).tolist()))
                   for bx in ref["boxes"]])
    path = os.path.join(testdata, "reference", "widefield_facets.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print("wrote", path)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "refs":
        refs(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "testdata")
    elif cmd == "bundle":
        bundle(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)

"""The bundled mosaic test data (issue 14): a subset of the shared 7-pointing ALMA mosaic and tclean's
mosaic-gridder references on it, small enough for the repository.

Run with a Python that has casatools/casatasks 6.7 (PyPI wheels):
    python scripts/dev/make_mosaic_testdata.py subset SRC.ms OUTDIR   # OUTDIR/mosaic_small.ms
    python scripts/dev/make_mosaic_testdata.py refs OUTDIR            # tclean runs (parallel=False)
and with any Python with numpy and astropy:
    python scripts/dev/make_mosaic_testdata.py bundle OUTDIR REPO/testdata

SRC.ms is `mosaic.ms` of ../shared/data/alma_mosaic (alma_mosaic.ms.tar.gz). The subset keeps channel 1
of the 4 (230.001 GHz) and averages each 60 s scan to one integration (split timebin='60s'), about a
third of the rows. The references are tclean 6.7 on the subset: 256^2 at 0.5" (the mosaic's pb > 0.2
region is about 70" across), gridder mosaic, pblimit 0.2; the cases are in CASES. Stored: every product
cropped to the inner 160^2 (header PCCROP: the crop's offset), gzipped, and each case's parameters,
sumwt and timing in mosaic_refs.json.
"""
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import time

COMMON = dict(imsize=[256, 256], cell="0.5arcsec", phasecenter="J2000 16h00m00.0s -30d00m00.0s",
              gridder="mosaic", specmode="mfs", pblimit=0.2, niter=0, parallel=False)
CASES = {
    # tclean's default mosaic: briggs 0.5, normtype flatnoise, mosweight=True.
    "mfs_dirty": dict(weighting="briggs", robust=0.5),
    "mfs_flatsky": dict(weighting="natural", normtype="flatsky"),
    "mfs_pbsquare": dict(weighting="natural", normtype="pbsquare"),
    "mfs_nomosweight": dict(weighting="briggs", robust=0.5, mosweight=False),
    "mfs_clean": dict(weighting="briggs", robust=0.5, niter=1000, threshold="4mJy", usemask="pb",
                      pbmask=0.3, deconvolver="hogbom"),
}
PRODUCTS = {"mfs_clean": ["image", "residual", "model"]}
DIRTY = ["psf", "residual", "pb", "weight"]
CROP = 160


def subset(src, outdir):
    from casatasks import split
    os.makedirs(outdir, exist_ok=True)
    out = os.path.join(outdir, "mosaic_small.ms")
    shutil.rmtree(out, ignore_errors=True)
    split(vis=src, outputvis=out, spw="0:1", timebin="60s", datacolumn="data", keepflags=True)
    print("wrote", out)


def refs(outdir):
    tclean_cases(outdir, "mosaic_small.ms", COMMON, CASES, lambda n: PRODUCTS.get(n, DIRTY),
                 "mosaic_refs.json")


def tclean_cases(outdir, msname, common, cases, products, jsonname):
    """tclean (common + each case's keywords) on OUTDIR/msname into OUTDIR/tclean_<case>.*, the
    products(case) and sumwt exported to FITS; each case's parameters, time and sumwt, with the
    CASA version, in OUTDIR/jsonname."""
    from casatasks import tclean, exportfits
    import casatools
    ms = os.path.join(outdir, msname)
    meta = {}
    ia = casatools.image()
    for name, kw in cases.items():
        args = dict(common, **kw)
        img = os.path.join(outdir, "tclean_" + name)
        for ext in ["psf", "residual", "pb", "weight", "sumwt", "model", "image", "mask"]:
            shutil.rmtree(img + "." + ext, ignore_errors=True)
        t0 = time.time()
        tclean(vis=ms, imagename=img, **args)
        dt = time.time() - t0
        for ext in list(products(name)) + ["sumwt"]:
            exportfits(img + "." + ext, img + "." + ext + ".fits", overwrite=True)
        meta[name] = dict(params=dict(args, vis=msname), seconds=round(dt, 2))
        ia.open(img + ".sumwt")
        meta[name]["sumwt"] = float(ia.getchunk().ravel()[0])
        ia.close()
    meta["casa"] = casatools.version_string()
    with open(os.path.join(outdir, jsonname), "w") as f:
        json.dump(meta, f, indent=1)


def crop_fits_gz(src, dst, crop):
    """The inner crop x crop pixels of FITS image src, gzipped (mtime 0) into dst; header PCCROP
    holds the crop's offset "x0,y0" and CRPIX1/2 follow it."""
    import numpy as np
    from astropy.io import fits
    with fits.open(src) as h:
        d = h[0].data
        ny, nx = d.shape[-2:]
        y0, x0 = (ny - crop) // 2, (nx - crop) // 2
        hdr = h[0].header.copy()
        hdr["CRPIX1"] -= x0
        hdr["CRPIX2"] -= y0
        hdr["PCCROP"] = "%d,%d" % (x0, y0)
        buf = io.BytesIO()
        fits.PrimaryHDU(np.ascontiguousarray(d[..., y0:y0 + crop, x0:x0 + crop]), hdr).writeto(buf)
    with gzip.GzipFile(dst, "wb", mtime=0) as g:
        g.write(buf.getvalue())


def crop_cases(outdir, refdir, products, crop):
    """OUTDIR/tclean_<case>.<ext>.fits cropped (crop_fits_gz) into refdir for every case and ext
    of products (case -> product names)."""
    for name, exts in products.items():
        for ext in exts:
            crop_fits_gz(os.path.join(outdir, "tclean_%s.%s.fits" % (name, ext)),
                         os.path.join(refdir, "tclean_%s.%s.fits.gz" % (name, ext)), crop)


def bundle(outdir, testdata):
    refdir = os.path.join(testdata, "reference", "mosaic")
    os.makedirs(refdir, exist_ok=True)
    crop_cases(outdir, refdir, {name: PRODUCTS.get(name, DIRTY) for name in CASES}, CROP)
    bundle_files(outdir, testdata, refdir, "mosaic_refs.json", "mosaic_small.ms",
                 "alma_mosaic_small.ms.tar.gz")


def bundle_cases(outdir, testdata, refname, products, crop, jsonname, msname, tarname):
    """Each case's products (`products`: case -> product names) cropped into
    testdata/reference/refname, with jsonname and the MS tarball (`bundle_files`)."""
    refdir = os.path.join(testdata, "reference", refname)
    os.makedirs(refdir, exist_ok=True)
    crop_cases(outdir, refdir, products, crop)
    bundle_files(outdir, testdata, refdir, jsonname, msname, tarname)


def bundle_files(outdir, testdata, refdir, jsonname, msname, tarname):
    """OUTDIR/jsonname into refdir and OUTDIR/msname as testdata/tarname (reproducible tar)."""
    shutil.copy(os.path.join(outdir, jsonname), refdir)
    tar = os.path.join(testdata, tarname)
    subprocess.run(["tar", "czf", tar, "--owner=0", "--group=0", "--mtime=2024-06-01", "-C", outdir,
                    msname], check=True)
    print("wrote", refdir, tar)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "subset":
        subset(sys.argv[2], sys.argv[3])
    elif cmd == "refs":
        refs(sys.argv[2])
    elif cmd == "bundle":
        bundle(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)

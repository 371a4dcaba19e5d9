"""A small wideband mosaic (issue 14 item 2: mfs beams per data channel) and its tclean 6.7
reference.

Run with a Python that has casatools/casatasks 6.7 (PyPI wheels):
    python scripts/dev/make_wideband_mosaic.py ms OUTDIR     # OUTDIR/wideband_mosaic.ms
    python scripts/dev/make_wideband_mosaic.py refs OUTDIR   # tclean run (parallel=False), FITS
and with any Python with numpy and astropy:
    python scripts/dev/make_wideband_mosaic.py bundle OUTDIR REPO/testdata
(testdata/wideband_mosaic.ms.tar.gz; testdata/reference/wideband_mosaic/: each product's inner
200^2, header PCCROP the crop's offset, and wideband_refs.json.)
The deconvolved cases (CLEAN_CASES: hogbom, niter 100, conjbeams True and False) are made apart,
on the bundled MS unpacked into OUTDIR, and added to wideband_refs.json without touching the
MS tarball:
    python scripts/dev/make_wideband_mosaic.py clean-refs OUTDIR            # casatasks 6.7
    python scripts/dev/make_wideband_mosaic.py clean-bundle OUTDIR REPO/testdata
The mtmfs cases (MT_CASES: nterms 2, conjbeams False and True, niter 0 and a pb-masked niter 100;
issue 14, session 14) likewise, with the listing of every product tclean writes:
    python scripts/dev/make_wideband_mosaic.py mt-refs OUTDIR            # casatasks 6.7
    python scripts/dev/make_wideband_mosaic.py mt-bundle OUTDIR REPO/testdata
nterms 3 needs three frequencies (two make its Hessian singular): the same array and sky with
three windows at 90, 100 and 110 GHz (OUTDIR/wideband_mosaic3.ms, MT3_CASES; session 15):
    python scripts/dev/make_wideband_mosaic.py ms3 OUTDIR                # casatools 6.7
    python scripts/dev/make_wideband_mosaic.py mt3-refs OUTDIR           # casatasks 6.7
    python scripts/dev/make_wideband_mosaic.py mt3-bundle OUTDIR REPO/testdata
(testdata/wideband_mosaic3.ms.tar.gz, wideband_mt3_refs.json beside wideband_mt_refs.json.)
psfphasecenter with the mtmfs mosaic (MTPC_CASES: the PSF terms; session 16):
    python scripts/dev/make_wideband_mosaic.py mtpc-refs OUTDIR          # casatasks 6.7
    python scripts/dev/make_wideband_mosaic.py mtpc-bundle OUTDIR REPO/testdata
specmode='mvc' with the mtmfs mosaic (MVC_CASES: the Taylor terms and the cube products .psf,
.pb, .weight, .residual, the channels' sums of weights in wideband_mvc_refs.json; session 17):
    python scripts/dev/make_wideband_mosaic.py mvc-refs OUTDIR           # casatasks 6.7
    python scripts/dev/make_wideband_mosaic.py mvc-bundle OUTDIR REPO/testdata

The array: the first 16 pads of casadata's alma.cycle10.1.cfg (12 m), two spectral windows of
one 1 GHz channel at 90 and 110 GHz (a 20% band), XX YY. Two pointings 25" apart (east) around
J2000 16h00m00s -30d00m00s, each observed in 3 scans of 30 s per window over an hour about
transit on 2024-06-01. The sky: three point sources seen through each channel's own 10.7 m
Airy power pattern (tclean's ALMA model) pointed at the row's field, by a direct Fourier
transform written into DATA (noise free), unit weights.
"""
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

FIELDS = [(0.0, 0.0), (25.0, 0.0)]  # arcsec offsets (east, north)
SOURCES = [(12.5, 0.0, 1.0), (-10.0, 12.0, 0.5), (35.0, -10.0, 0.4)]  # (east", north", Jy)
FREQS = ("90GHz", "110GHz")
COMMON = dict(imsize=[224, 224], cell="0.8arcsec", phasecenter="J2000 16h00m00.0s -30d00m00.0s",
              gridder="mosaic", specmode="mfs", pblimit=0.2, niter=0, parallel=False)
CASES = {"wb_flatsky": dict(weighting="natural", normtype="flatsky"),
         "wb_conjbeams": dict(weighting="natural", normtype="flatsky", conjbeams=True)}
PRODUCTS = ["psf", "residual", "pb", "weight"]
CROP = 200
# Deconvolved (issue 14 item 2: the prediction of a conjbeams mosaic): hogbom, 100 iterations,
# cleaning only where the pb > 0.4 (usemask='pb'; without a mask flatsky's edge, divided by a
# weight ~0.04 at pblimit 0.2, draws the first components), conjbeams True with flatsky and with
# flatnoise (the model divided by the conjbeams pb before prediction), and False with flatsky.
CLEAN = dict(weighting="natural", niter=100, deconvolver="hogbom", usemask="pb", pbmask=0.4)
CLEAN_CASES = {"wb_conj_clean": dict(CLEAN, normtype="flatsky", conjbeams=True),
               "wb_conj_clean_fn": dict(CLEAN, normtype="flatnoise", conjbeams=True),
               "wb_clean": dict(CLEAN, normtype="flatsky")}
CLEAN_PRODUCTS = ["model", "residual", "image"]
# mtmfs (nterms 2): the dirty terms and weights, and the deconvolved ones with the mask of CLEAN.
MT = dict(weighting="natural", deconvolver="mtmfs", nterms=2, normtype="flatsky")
MT_CASES = {"wb_mt": dict(MT),
            "wb_mt_conj": dict(MT, conjbeams=True),
            "wb_mt_clean": dict(MT, niter=100, usemask="pb", pbmask=0.4),
            "wb_mt_conj_clean": dict(MT, niter=100, usemask="pb", pbmask=0.4, conjbeams=True)}
MT_DIRTY = ["psf.tt0", "psf.tt1", "psf.tt2", "residual.tt0", "residual.tt1", "weight.tt0",
            "weight.tt1", "weight.tt2", "pb.tt0", "image.tt0", "alpha"]
MT_CLEAN = ["residual.tt0", "residual.tt1", "model.tt0", "model.tt1", "image.tt0", "image.tt1",
            "alpha"]


def mt_products(name):
    return MT_CLEAN if "clean" in name else MT_DIRTY


# nterms 3 (dirty) on the three-window MS; psf.tt3 and weight.tt3 are 0.01 x psf.tt1 and
# weight.tt1 here (f^3 = 0.01 f for f = +-0.1), so they are left out of the bundle.
FREQS3 = ("90GHz", "100GHz", "110GHz")
MT3_CASES = {"wb_mt3": dict(MT, nterms=3)}
MT3_PRODUCTS = ["psf.tt0", "psf.tt1", "psf.tt2", "psf.tt4", "residual.tt0", "residual.tt1",
                "residual.tt2", "weight.tt0", "weight.tt1", "weight.tt4", "pb.tt0", "image.tt0",
                "alpha"]


def make_ms(outdir, freqs=FREQS, msname="wideband_mosaic.ms"):
    import casadata
    import casatools
    from make_hetero_mosaic import cfg, direction
    simmos = os.path.join(os.path.dirname(casadata.__file__), "__data__", "alma", "simmos")
    x, y, z, d, n = cfg(os.path.join(simmos, "alma.cycle10.1.cfg"), 16)
    os.makedirs(outdir, exist_ok=True)
    ms = os.path.join(outdir, msname)
    shutil.rmtree(ms, ignore_errors=True)
    sm, me = casatools.simulator(), casatools.measures()
    sm.open(ms)
    sm.setconfig(telescopename="ALMA", x=x, y=y, z=z, dishdiameter=d, mount=["alt-az"] * len(x),
                 antname=n, padname=n, coordsystem="local", referencelocation=me.observatory("ALMA"))
    for k, f in enumerate(freqs):
        sm.setspwindow(spwname="spw%d" % k, freq=f, deltafreq="1GHz", freqresolution="1GHz",
                       nchannels=1, stokes="XX YY")
    sm.setfeed(mode="perfect X Y")
    for i, (e, nn) in enumerate(FIELDS):
        sm.setfield(sourcename="F%d" % i, sourcedirection=direction(e, nn))
    sm.setlimits(shadowlimit=0.001, elevationlimit="10deg")
    sm.setauto(autocorrwt=0.0)
    sm.settimes(integrationtime="10s", usehourangle=True,
                referencetime=me.epoch("UTC", "2024/06/01/00:00:00"))
    t = -1800.0
    for _ in range(3):
        for i in range(len(FIELDS)):
            for k in range(len(freqs)):
                sm.observe(sourcename="F%d" % i, spwname="spw%d" % k, starttime="%.0fs" % t,
                           stoptime="%.0fs" % (t + 30))
            t += 200.0
    sm.close()
    fill(ms)
    print("wrote", ms)


def fill(ms):
    """DATA = the point sources through each channel's 12 m power pattern (pointed at the row's
    field), by a direct Fourier transform; unit WEIGHT and SIGMA."""
    import casatools
    from make_hetero_mosaic import airy_vp, direction
    tb = casatools.table()
    tb.open(ms + "/FIELD")
    pd = tb.getcol("PHASE_DIR")[:, 0, :]
    tb.close()
    tb.open(ms + "/SPECTRAL_WINDOW")
    freqs = tb.getcol("CHAN_FREQ")[0, :]
    tb.close()
    tb.open(ms + "/DATA_DESCRIPTION")
    spw_of_dd = tb.getcol("SPECTRAL_WINDOW_ID")
    tb.close()
    tb.open(ms, nomodify=False)
    uvw, fid, dd = tb.getcol("UVW"), tb.getcol("FIELD_ID"), tb.getcol("DATA_DESC_ID")
    data = np.zeros(tb.getcol("DATA").shape, complex)
    for e, nn, flux in SOURCES:
        dr = direction(e, nn)
        ra, dec = dr["m0"]["value"], dr["m1"]["value"]
        for f in range(pd.shape[1]):
            ra0, dec0 = pd[0, f], pd[1, f]
            l = np.cos(dec) * np.sin(ra - ra0)
            m = np.sin(dec) * np.cos(dec0) - np.cos(dec) * np.sin(dec0) * np.cos(ra - ra0)
            r = np.arcsin(np.hypot(l, m))
            for k in range(len(freqs)):
                rows = (fid == f) & (spw_of_dd[dd] == k)
                lam = 299792458.0 / freqs[k]
                att = airy_vp(r, np.full(rows.sum(), 12.0), lam) ** 2
                u, v, w = uvw[:, rows] / lam
                ph = np.exp(-2j * np.pi * (u * l + v * m + w * (np.sqrt(1 - l * l - m * m) - 1)))
                data[:, :, rows] += (flux * att * ph)[None, None, :]
    tb.putcol("DATA", data.astype(np.complex64))
    tb.putcol("WEIGHT", np.ones(tb.getcol("WEIGHT").shape, np.float32))
    tb.putcol("SIGMA", np.ones(tb.getcol("SIGMA").shape, np.float32))
    tb.removecols([c for c in ("MODEL_DATA", "CORRECTED_DATA") if c in tb.colnames()])
    tb.close()


def refs(outdir):
    from make_mosaic_testdata import tclean_cases
    tclean_cases(outdir, "wideband_mosaic.ms", COMMON, CASES, lambda _: PRODUCTS,
                 "wideband_refs.json")


def bundle(outdir, testdata):
    from make_mosaic_testdata import bundle_cases
    bundle_cases(outdir, testdata, "wideband_mosaic", {name: PRODUCTS for name in CASES}, CROP, "wideband_refs.json",
                 "wideband_mosaic.ms", "wideband_mosaic.ms.tar.gz")


def clean_refs(outdir):
    from make_mosaic_testdata import tclean_cases
    tclean_cases(outdir, "wideband_mosaic.ms", COMMON, CLEAN_CASES, lambda _: CLEAN_PRODUCTS,
                 "wideband_clean_refs.json")


def clean_bundle(outdir, testdata):
    """The CLEAN_CASES products cropped into testdata/reference/wideband_mosaic and their entries
    merged into its wideband_refs.json (the MS tarball is left as it is)."""
    import json
    from make_mosaic_testdata import crop_cases
    refdir = os.path.join(testdata, "reference", "wideband_mosaic")
    crop_cases(outdir, refdir, {name: CLEAN_PRODUCTS for name in CLEAN_CASES}, CROP)
    path = os.path.join(refdir, "wideband_refs.json")
    with open(path) as f:
        meta = json.load(f)
    with open(os.path.join(outdir, "wideband_clean_refs.json")) as f:
        new = json.load(f)
    if new.pop("casa") != meta["casa"]:
        sys.exit("the clean references were made with another CASA than wideband_refs.json's")
    meta.update(new)
    with open(path, "w") as f:
        json.dump(meta, f, indent=1)
    print("wrote", refdir)

# psfphasecenter with an mtmfs mosaic (s16-mtpart): tclean 6.7 changes only the PSF terms with
# it (weights, residuals, pb and sums of weights equal the wb_mt run's bit for bit, measured), so
# only those are bundled; the direction is 13" east and 5" south of the image centre.
PSFPC = "J2000 16h00m01.0s -30d00m05.0s"
MTPC_CASES = {"wb_mt_psfpc": dict(MT, psfphasecenter=PSFPC)}
MTPC_PRODUCTS = ["psf.tt0", "psf.tt1", "psf.tt2"]


# specmode='mvc' with an mtmfs mosaic (s17-mvc): wb_mt's parameters (conjbeams False: tclean's
# mvc sets it False for its cube anyway) with a cube major cycle of tclean's default 3 channels,
# niter 0 and the pb-masked niter 100 of wb_mt_clean. The cube products are stored whole (3
# planes, the middle one empty: the two windows fall in channels 0 and 2).
MVC_CASES = {"wb_mvc": dict(MT, specmode="mvc"),
             "wb_mvc_clean": dict(MT, specmode="mvc", niter=100, usemask="pb", pbmask=0.4)}
MVC_DIRTY = ["psf.tt0", "psf.tt1", "psf.tt2", "residual.tt0", "residual.tt1", "pb.tt0",
             "image.tt0", "alpha", "psf", "pb", "weight", "residual"]
MVC_CLEAN = ["residual.tt0", "residual.tt1", "model.tt0", "model.tt1", "image.tt0", "image.tt1",
             "alpha", "residual", "model"]


def mvc_products(name):
    return MVC_CLEAN if "clean" in name else MVC_DIRTY


def mvc_refs(outdir):
    """tclean's MVC_CASES on OUTDIR/wideband_mosaic.ms (wideband_mvc_refs.json)."""
    mt_refs(outdir, "wideband_mosaic.ms", MVC_CASES, mvc_products, "wideband_mvc_refs.json")


def mvc_bundle(outdir, testdata):
    """The MVC_CASES products cropped into testdata/reference/wideband_mosaic with
    wideband_mvc_refs.json (the MS tarball is left as it is)."""
    import json
    from make_mosaic_testdata import crop_cases
    refdir = os.path.join(testdata, "reference", "wideband_mosaic")
    with open(os.path.join(refdir, "wideband_refs.json")) as f:
        casa = json.load(f)["casa"]
    with open(os.path.join(outdir, "wideband_mvc_refs.json")) as f:
        if json.load(f)["casa"] != casa:
            sys.exit("the mvc references were made with another CASA than wideband_refs.json's")
    crop_cases(outdir, refdir, {n: mvc_products(n) for n in MVC_CASES}, CROP)
    shutil.copy(os.path.join(outdir, "wideband_mvc_refs.json"), refdir)
    print("wrote", refdir)


def ms3(outdir):
    make_ms(outdir, FREQS3, "wideband_mosaic3.ms")


def mt_refs(outdir, msname="wideband_mosaic.ms", cases=None, products=mt_products,
            jsonname="wideband_mt_refs.json"):
    """tclean's MT_CASES on OUTDIR/wideband_mosaic.ms: FITS of mt_products, sums of weights per
    term and the names of every product written (wideband_mt_refs.json)."""
    import glob
    import json
    import time
    from casatasks import exportfits, tclean
    import casatools
    ms = os.path.join(outdir, msname)
    ia = casatools.image()
    meta = {}
    for name, kw in (MT_CASES if cases is None else cases).items():
        args = dict(COMMON, **kw)
        img = os.path.join(outdir, "tclean_" + name)
        for old in glob.glob(img + ".*"):
            shutil.rmtree(old, ignore_errors=True) if os.path.isdir(old) else os.remove(old)
        t0 = time.time()
        tclean(vis=ms, imagename=img, **args)
        dt = time.time() - t0
        written = sorted(p[len(img) + 1:] for p in glob.glob(img + ".*"))
        for ext in products(name):
            exportfits(img + "." + ext, img + "." + ext + ".fits", overwrite=True)
        sumwt = []
        for t in range(2 * args["nterms"] - 1):
            ia.open(img + ".sumwt.tt%d" % t)
            sumwt.append(float(ia.getchunk().ravel()[0]))
            ia.close()
        meta[name] = dict(params=dict(args, vis=msname), seconds=round(dt, 2),
                          sumwt=sumwt, products=written)
        if os.path.isdir(img + ".sumwt"):
            # specmode='mvc': the cube's sum of weights per channel.
            ia.open(img + ".sumwt")
            meta[name]["sumwt_cube"] = [float(v) for v in ia.getchunk().ravel()]
            ia.close()
    meta["casa"] = casatools.version_string()
    with open(os.path.join(outdir, jsonname), "w") as f:
        json.dump(meta, f, indent=1)


def mt3_refs(outdir):
    """tclean's MT3_CASES on OUTDIR/wideband_mosaic3.ms (wideband_mt3_refs.json)."""
    mt_refs(outdir, "wideband_mosaic3.ms", MT3_CASES, lambda _: MT3_PRODUCTS,
            "wideband_mt3_refs.json")


def mtpc_refs(outdir):
    """tclean's MTPC_CASES on OUTDIR/wideband_mosaic.ms (wideband_mtpc_refs.json)."""
    mt_refs(outdir, "wideband_mosaic.ms", MTPC_CASES, lambda _: MTPC_PRODUCTS,
            "wideband_mtpc_refs.json")


def mtpc_bundle(outdir, testdata):
    """The MTPC_CASES products cropped into testdata/reference/wideband_mosaic with
    wideband_mtpc_refs.json (the MS tarball is left as it is)."""
    from make_mosaic_testdata import crop_cases
    refdir = os.path.join(testdata, "reference", "wideband_mosaic")
    crop_cases(outdir, refdir, {n: MTPC_PRODUCTS for n in MTPC_CASES}, CROP)
    shutil.copy(os.path.join(outdir, "wideband_mtpc_refs.json"), refdir)
    print("wrote", refdir)


def mt3_bundle(outdir, testdata):
    """The MT3_CASES products cropped into testdata/reference/wideband_mosaic with
    wideband_mt3_refs.json, and the three-window MS as testdata/wideband_mosaic3.ms.tar.gz."""
    import json
    from make_mosaic_testdata import bundle_cases
    refdir = os.path.join(testdata, "reference", "wideband_mosaic")
    with open(os.path.join(refdir, "wideband_refs.json")) as f:
        casa = json.load(f)["casa"]
    with open(os.path.join(outdir, "wideband_mt3_refs.json")) as f:
        if json.load(f)["casa"] != casa:
            sys.exit("the nterms 3 references were made with another CASA than wideband_refs.json's")
    bundle_cases(outdir, testdata, "wideband_mosaic", {n: MT3_PRODUCTS for n in MT3_CASES}, CROP,
                 "wideband_mt3_refs.json", "wideband_mosaic3.ms", "wideband_mosaic3.ms.tar.gz")


def mt_bundle(outdir, testdata):
    """The MT_CASES products cropped into testdata/reference/wideband_mosaic, with
    wideband_mt_refs.json beside wideband_refs.json (the MS tarball is left as it is)."""
    import json
    from make_mosaic_testdata import crop_cases
    refdir = os.path.join(testdata, "reference", "wideband_mosaic")
    crop_cases(outdir, refdir, {name: mt_products(name) for name in MT_CASES}, CROP)
    with open(os.path.join(refdir, "wideband_refs.json")) as f:
        casa = json.load(f)["casa"]
    with open(os.path.join(outdir, "wideband_mt_refs.json")) as f:
        new = json.load(f)
    if new["casa"] != casa:
        sys.exit("the mtmfs references were made with another CASA than wideband_refs.json's")
    shutil.copy(os.path.join(outdir, "wideband_mt_refs.json"), refdir)
    print("wrote", refdir)


if __name__ == "__main__":
    command = {"ms": make_ms, "refs": refs, "bundle": bundle, "clean-refs": clean_refs,
               "clean-bundle": clean_bundle, "mt-refs": mt_refs, "mt-bundle": mt_bundle, "ms3": ms3,
               "mt3-refs": mt3_refs, "mt3-bundle": mt3_bundle, "mtpc-refs": mtpc_refs,
               "mtpc-bundle": mtpc_bundle,
               "mvc-refs": mvc_refs, "mvc-bundle": mvc_bundle}.get(sys.argv[1] if sys.argv[1:] else "")
    if command is None:
        sys.exit(__doc__)
    command(*sys.argv[2:])

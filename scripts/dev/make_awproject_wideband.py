"""The bundled wideband A-projection test data (issue 14, gridder='awproject' with wbawp=True): a
small simulated EVLA observation over most of L band and tclean's awproject references on it.

Run with a Python that has casatools/casatasks 6.7 (PyPI wheels):
    python scripts/dev/make_awproject_wideband.py sim OUTDIR     # OUTDIR/awproj_wb.ms
    python scripts/dev/make_awproject_wideband.py refs OUTDIR [CASE ...]  # tclean (parallel=False)
and with any Python with numpy and astropy:
    python scripts/dev/make_awproject_wideband.py crops OUTDIR REPO/testdata
    python scripts/dev/make_awproject_wideband.py mt-crops OUTDIR REPO/testdata  # all but awwb_dirty

The MS: the array of scripts/dev/awproject_common.py (VLA D, 27 x 25 m, telescope EVLA, RR LL),
two spectral windows of two channels each, 1.1 / 1.3 GHz (spw 0) and 1.55 / 1.95 GHz (spw 1), so
that the rules tclean could follow for a channel's A-term (its own frequency, its spw's highest
frequency, the nearest spw's) give different beams (1.55 GHz is nearer spw 0's 1.3 GHz than spw
1's 1.95 GHz); one field at J2000 16h00m +30d, 2 h of hour angle about transit at 300 s, two
noiseless point sources (1 Jy at the centre, 0.5 Jy 8.5' off), predicted by the simulator through
CASA's default VLA beam.
"""
import json
import os
import shutil
import sys
import time

from awproject_common import evla_d_simulator, set_limits_and_times, write_crop

CENTRE = "J2000 16h00m00.0s 30d00m00.0s"
SPWS = [("EVLA_L_WB0", "1.1GHz", "200MHz", 2), ("EVLA_L_WB1", "1.55GHz", "400MHz", 2)]
SOURCES = [(0.0, 0.0, 1.0), (8.0, 3.0, 0.5)]  # (ra offset arcmin, dec offset arcmin, flux Jy)
COMMON = dict(imsize=[256, 256], cell="12arcsec", phasecenter=CENTRE, gridder="awproject",
              specmode="mfs", weighting="natural", pblimit=0.2, niter=0, parallel=False,
              aterm=True, psterm=False, wbawp=True, conjbeams=False, wprojplanes=1,
              computepastep=360.0, rotatepastep=360.0)
CASES = {
    # wbawp=True over a 56% band (tclean: each spw's A-term, AWConvFunc::makeFreqValList).
    "awwb_dirty": dict(),
    # mtmfs with awproject (tclean's AWProjectWBFT, nterms 2), with and without wbawp: measured
    # in session 16, not bundled.
    "awwb_mt": dict(deconvolver="mtmfs", nterms=2),
    "awwb_mt_nowb": dict(deconvolver="mtmfs", nterms=2, wbawp=False),
    # The same cleaned (session 17): the mtmfs minor cycle with prediction through the A-terms.
    "awwb_mt_clean": dict(deconvolver="mtmfs", nterms=2, niter=100, threshold="5mJy"),
    # conjbeams=True with the per-window A-terms (session 17, measured).
    "awwb_mt_conj": dict(deconvolver="mtmfs", nterms=2, conjbeams=True),
    # conjbeams=True in mfs (session 18): each channel gridded through the window A-term nearest
    # its conjugate frequency, the weight functions A(nu) A(nu')* (AWConvFunc, CFBuffer::initMaps).
    "awwb_conj": dict(conjbeams=True),
    # The same cleaned with mtmfs (session 18): prediction through each channel's nearest A-term
    # (AWVisResampler::GridToData takes no conjugate map).
    "awwb_mt_conj_clean": dict(deconvolver="mtmfs", nterms=2, niter=100, threshold="5mJy",
                               conjbeams=True),
}
DIRTY = ["psf", "residual", "pb", "weight"]
MT = ["psf.tt0", "psf.tt1", "psf.tt2", "residual.tt0", "residual.tt1", "pb.tt0", "weight.tt0",
      "weight.tt1", "weight.tt2", "model.tt0", "model.tt1", "image.tt0", "image.tt1", "alpha"]
# The committed crops (as make_awproject_testdata.py's): product -> (half size, step).
CROPS = {"psf": (32, 1), "residual": (100, 2), "pb": (100, 2), "weight": (100, 2)}
# The mtmfs cases' committed crops (session 17): product -> (half size, step). wbawp=True all
# terms; wbawp=False and the cleaned case the products they test, every 4th pixel (the bundle
# within a few hundred kB).
MT_CROPS = dict({p: (32, 1) for p in ["psf.tt0", "psf.tt1", "psf.tt2"]},
                **{p: (100, 2) for p in ["residual.tt0", "residual.tt1", "pb.tt0", "weight.tt0",
                                         "weight.tt1", "weight.tt2"]})
MT_NOWB_CROPS = dict({"psf.tt1": (32, 1)},
                     **{p: (100, 4) for p in ["residual.tt0", "residual.tt1", "pb.tt0",
                                              "weight.tt0", "weight.tt1"]})
MT_CLEAN_CROPS = dict({p: (100, 1) for p in ["model.tt0", "model.tt1"]},
                      **{p: (100, 4) for p in ["image.tt0", "image.tt1", "residual.tt0",
                                               "residual.tt1", "pb.tt0"]})
# conjbeams=True (session 18): the products its test compares, every 4th pixel but the PSF term.
MT_CONJ_CROPS = dict({"psf.tt1": (32, 1)},
                     **{p: (100, 4) for p in ["residual.tt0", "residual.tt1", "pb.tt0",
                                              "weight.tt0", "weight.tt1"]})
MT_CONJ_CLEAN_CROPS = dict({"model.tt0": (100, 1)},
                           **{p: (100, 4) for p in ["image.tt0", "image.tt1", "pb.tt0"]})
MT_BUNDLED = {"awwb_mt": MT_CROPS, "awwb_mt_nowb": MT_NOWB_CROPS,
              "awwb_mt_clean": MT_CLEAN_CROPS, "awwb_mt_conj": MT_CONJ_CROPS,
              "awwb_mt_conj_clean": MT_CONJ_CLEAN_CROPS}
# The mfs cases' crops (awwb_conj: session 18).
DIRTY_BUNDLED = ["awwb_dirty", "awwb_conj"]


def sim(outdir):
    import numpy as np
    os.makedirs(outdir, exist_ok=True)
    ms = os.path.join(outdir, "awproj_wb.ms")
    shutil.rmtree(ms, ignore_errors=True)
    sm, me, qa, cl = evla_d_simulator(ms, SPWS)
    sm.setfield(sourcename="F0", sourcedirection=CENTRE)
    set_limits_and_times(sm, me)
    for name, _, _, _ in SPWS:
        sm.observe("F0", name, starttime="-1h", stoptime="1h")
    cl_path = os.path.join(outdir, "awproj_wb.cl")
    shutil.rmtree(cl_path, ignore_errors=True)
    ra0, dec0 = qa.convert("16h00m00s", "rad")["value"], qa.convert("30deg", "rad")["value"]
    sky = []
    for dx, dy, s in SOURCES:
        dec = dec0 + np.radians(dy / 60)
        ra = ra0 + np.radians(dx / 60) / np.cos(dec)
        d = "J2000 %.9frad %.9frad" % (ra, dec)
        cl.addcomponent(dir=d, flux=s, fluxunit="Jy", freq="1.5GHz", shape="point")
        sky.append(dict(direction=d, flux_jy=s, offset_arcmin=[dx, dy]))
    cl.rename(cl_path)
    cl.close()
    sm.predict(complist=cl_path)
    sm.close()
    with open(os.path.join(outdir, "awproj_wb.sky.json"), "w") as f:
        json.dump(sky, f, indent=1)
    print("wrote", ms)


def refs(outdir, names):
    from casatasks import tclean, exportfits
    import casatools
    ms = os.path.join(outdir, "awproj_wb.ms")
    jpath = os.path.join(outdir, "awproj_wb_refs.json")
    meta = json.load(open(jpath)) if os.path.exists(jpath) else {}
    for name in names or CASES:
        args = dict(COMMON, **CASES[name])
        img = os.path.join(outdir, "tclean_" + name)
        for ext in ["psf", "residual", "pb", "weight", "sumwt", "model", "image", "mask"] + MT:
            shutil.rmtree(img + "." + ext, ignore_errors=True)
        shutil.rmtree(img + ".cf", ignore_errors=True)
        t0 = time.time()
        tclean(vis=ms, imagename=img, cfcache=img + ".cf", **args)
        dt = time.time() - t0
        mt = args.get("deconvolver") == "mtmfs"
        for ext in MT if mt else DIRTY:
            if os.path.exists(img + "." + ext):
                exportfits(img + "." + ext, img + "." + ext + ".fits", overwrite=True)
        ia = casatools.image()
        ia.open(img + (".sumwt.tt0" if mt else ".sumwt"))
        meta[name] = dict(params=dict(args, vis="awproj_wb.ms"), seconds=round(dt, 2),
                          sumwt=float(ia.getchunk().ravel()[0]))
        ia.close()
        if mt:
            sums = []
            for t in range(2 * args["nterms"] - 1):
                ia.open(img + ".sumwt.tt%d" % t)
                sums.append(float(ia.getchunk().ravel()[0]))
                ia.close()
            meta[name]["sumwt_tt"] = sums
        meta["casa"] = casatools.version_string()
        with open(jpath, "w") as f:
            json.dump(meta, f, indent=1)


def crops(outdir, testdata):
    """tclean's products cropped about the centre (write_crop) under
    testdata/reference/awproject_wideband/, and the MS as testdata/awproj_wb.ms.tar.gz."""
    import subprocess
    refdir = os.path.join(testdata, "reference", "awproject_wideband")
    os.makedirs(refdir, exist_ok=True)
    for name in DIRTY_BUNDLED:
        for ext in DIRTY:
            write_crop(os.path.join(outdir, "tclean_%s.%s.fits" % (name, ext)),
                       os.path.join(refdir, "tclean_%s.%s.fits.gz" % (name, ext)), *CROPS[ext])
    mt_crops(outdir, testdata)
    shutil.copy(os.path.join(outdir, "awproj_wb_refs.json"), refdir)
    shutil.copy(os.path.join(outdir, "awproj_wb.sky.json"), refdir)
    subprocess.check_call(["tar", "czf", os.path.join(testdata, "awproj_wb.ms.tar.gz"), "-C",
                           outdir, "awproj_wb.ms"])


def mt_crops(outdir, testdata):
    """The mtmfs cases' crops (those of MT_BUNDLED that OUTDIR has), and the mfs cases' of
    DIRTY_BUNDLED but awwb_dirty (made with the MS by `crops`) that OUTDIR has."""
    refdir = os.path.join(testdata, "reference", "awproject_wideband")
    for name in DIRTY_BUNDLED[1:]:
        for ext in DIRTY:
            src = os.path.join(outdir, "tclean_%s.%s.fits" % (name, ext))
            if os.path.exists(src):
                write_crop(src, os.path.join(refdir, "tclean_%s.%s.fits.gz" % (name, ext)),
                           *CROPS[ext])
    for name, crops in MT_BUNDLED.items():
        for ext, (half, step) in crops.items():
            src = os.path.join(outdir, "tclean_%s.%s.fits" % (name, ext))
            if os.path.exists(src):
                write_crop(src, os.path.join(refdir, "tclean_%s.%s.fits.gz" % (name, ext)),
                           half, step)
    shutil.copy(os.path.join(outdir, "awproj_wb_refs.json"), refdir)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "sim":
        sim(sys.argv[2])
    elif cmd == "refs":
        refs(sys.argv[2], sys.argv[3:])
    elif cmd == "crops":
        crops(sys.argv[2], sys.argv[3])
    elif cmd == "mt-crops":
        mt_crops(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)

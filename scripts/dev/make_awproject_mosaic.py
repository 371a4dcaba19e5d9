"""A-projection mosaics and usepointing (issue 14, session 14): a small simulated EVLA L-band
observation of three fields and tclean's awproject references on it.

Run with a Python that has casatools/casatasks 6.7:
    python scripts/dev/make_awproject_mosaic.py sim OUTDIR          # OUTDIR/awmos_small.ms
    python scripts/dev/make_awproject_mosaic.py pointing OUTDIR     # OUTDIR/awmos_ptg*.ms (edited)
    python scripts/dev/make_awproject_mosaic.py refs OUTDIR [CASE ...]  # tclean (parallel=False)
and with numpy and astropy:
    python scripts/dev/make_awproject_mosaic.py crops OUTDIR REPO/testdata
    python scripts/dev/make_awproject_mosaic.py crops_grp OUTDIR REPO/testdata  # pointingoffsetsigdev

The MS: as scripts/dev/make_awproject_testdata.py's (VLA D, EVLA, RR LL, 2 x 16 MHz at 1.5 GHz,
noiseless), three fields 9' west, 9' east and 12' north of the image centre (J2000 16h00m
+30d00m), observed in turn at 300 s integrations over 4 h of hour angle (16 integrations each),
point sources in and between the fields. `pointing` copies it and moves the POINTING directions of
antennas (POINTING_MOVES: awmos_ptg.ms the even-numbered ones 3' north, awmos_ptg2.ms also those
with number 1 mod 4 2' east): tclean's usepointing rule for awproject (docs/decisions.md (s14-aw),
docs/decisions.md (s15-awp)); tests/python/test_awproject_mosaic.py makes the same MSs with
python-casacore.
"""
import json
import os
import shutil
import sys
import time

from awproject_common import evla_d_simulator, set_limits_and_times, write_crop

CENTRE = "J2000 16h00m00.0s 30d00m00.0s"
FIELDS = [(-9.0, 0.0), (9.0, 0.0), (0.0, 12.0)]  # (ra offset arcmin on the sky, dec offset arcmin)
SOURCES = [  # (ra offset arcmin, dec offset arcmin, flux Jy)
    (0.0, 0.0, 1.0), (-9.0, 1.0, 0.5), (10.0, -2.0, 0.4), (1.0, 13.0, 0.3), (-5.0, 7.0, 0.3)]
COMMON = dict(imsize=[320, 320], cell="12arcsec", phasecenter=CENTRE, gridder="awproject",
              specmode="mfs", weighting="natural", pblimit=0.2, niter=0, parallel=False,
              aterm=True, psterm=False, wbawp=False, conjbeams=False, wprojplanes=1,
              computepastep=360.0, rotatepastep=360.0)
CASES = {
    "awm_dirty": dict(),
    "awm_clean": dict(niter=300, threshold="5mJy", deconvolver="hogbom"),
    "awm_ps": dict(psterm=True),  # session 15: each field's spheroidal centred on the field
}
PTG_CASES = {"awm_ptg": dict(usepointing=True), "awm_noptg": dict(usepointing=False),
             "awm_ptg2": dict(usepointing=True), "awm_ptg_ps": dict(usepointing=True, psterm=True),
             # Session 17: antenna groups by pointing offset (pointingoffsetsigdev, arcsec).
             "awm_grp60": dict(usepointing=True, pointingoffsetsigdev=[60.0, 60.0]),
             "awm_grp600": dict(usepointing=True, pointingoffsetsigdev=[600.0, 600.0]),
             # 200": 11.8 px bins over the cell's diagonal (two groups: odd, even), 16.7 px over
             # the cell (one): which length tclean divides by.
             "awm_grp200": dict(usepointing=True, pointingoffsetsigdev=[200.0, 200.0])}
PTG_MS = {"awm_ptg": "awmos_ptg.ms", "awm_noptg": "awmos_ptg.ms", "awm_ptg2": "awmos_ptg2.ms",
          "awm_ptg_ps": "awmos_ptg2.ms", "awm_grp60": "awmos_ptg2.ms", "awm_grp600": "awmos_ptg2.ms",
          "awm_grp200": "awmos_ptg2.ms"}
# MS -> [(antenna number mod 4 in this set, (east arcmin on the sky, north arcmin))].
POINTING_MOVES = {"awmos_ptg.ms": [((0, 2), (0.0, 3.0))],
                  "awmos_ptg2.ms": [((0, 2), (0.0, 3.0)), ((1,), (2.0, 0.0))]}
PRODUCTS = {"awm_clean": ["image", "residual", "model"]}
DIRTY = ["psf", "residual", "pb", "weight"]
ARCMIN = 3.141592653589793 / 180 / 60


def offset_dir(qa, ra0, dec0, dx, dy):
    import numpy as np
    dec = dec0 + dy * ARCMIN
    ra = ra0 + dx * ARCMIN / np.cos(dec)
    return "J2000 %.9frad %.9frad" % (ra, dec)


def sim(outdir):
    os.makedirs(outdir, exist_ok=True)
    ms = os.path.join(outdir, "awmos_small.ms")
    shutil.rmtree(ms, ignore_errors=True)
    sm, me, qa, cl = evla_d_simulator(ms)
    ra0, dec0 = qa.convert("16h00m00s", "rad")["value"], qa.convert("30deg", "rad")["value"]
    for i, (dx, dy) in enumerate(FIELDS):
        sm.setfield(sourcename="F%d" % i, sourcedirection=offset_dir(qa, ra0, dec0, dx, dy))
    set_limits_and_times(sm, me)
    # 48 integrations of 300 s from -2 h, the fields in turn.
    for k in range(48):
        t0 = -7200 + 300 * k
        sm.observe("F%d" % (k % 3), "EVLA_L#A0C0#0", starttime="%ds" % t0, stoptime="%ds" % (t0 + 300))
    cl_path = os.path.join(outdir, "awmos_small.cl")
    shutil.rmtree(cl_path, ignore_errors=True)
    sky = []
    for dx, dy, s in SOURCES:
        d = offset_dir(qa, ra0, dec0, dx, dy)
        cl.addcomponent(dir=d, flux=s, fluxunit="Jy", freq="1.5GHz", shape="point")
        sky.append(dict(direction=d, flux_jy=s, offset_arcmin=[dx, dy]))
    cl.rename(cl_path)
    cl.close()
    sm.predict(complist=cl_path)
    sm.close()
    with open(os.path.join(outdir, "awmos_small.sky.json"), "w") as f:
        json.dump(dict(sources=sky, fields_arcmin=FIELDS), f, indent=1)
    print("wrote", ms)


def pointing(outdir):
    """awmos_small.ms copied with its POINTING directions moved (POINTING_MOVES)."""
    import casatools
    import numpy as np
    for name, moves in POINTING_MOVES.items():
        dst = os.path.join(outdir, name)
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(os.path.join(outdir, "awmos_small.ms"), dst)
        tb = casatools.table()
        tb.open(os.path.join(dst, "POINTING"), nomodify=False)
        d, ant = tb.getcol("DIRECTION"), tb.getcol("ANTENNA_ID")  # d: (2, 1, nrow)
        for residues, (dx, dy) in moves:
            sel = np.isin(ant % 4, residues)
            d[0, 0, sel] += dx * ARCMIN / np.cos(d[1, 0, sel])
            d[1, 0, sel] += dy * ARCMIN
        tb.putcol("DIRECTION", d)
        tb.close()


def refs(outdir, names):
    from casatasks import tclean, exportfits
    import casatools
    jpath = os.path.join(outdir, "awmos_refs.json")
    meta = json.load(open(jpath)) if os.path.exists(jpath) else {}
    allc = dict(CASES, **PTG_CASES)
    for name in names or CASES:
        msname = PTG_MS.get(name, "awmos_small.ms")
        args = dict(COMMON, **allc[name])
        img = os.path.join(outdir, "tclean_" + name)
        for ext in ["psf", "residual", "pb", "weight", "sumwt", "model", "image", "mask"]:
            shutil.rmtree(img + "." + ext, ignore_errors=True)
        t0 = time.time()
        tclean(vis=os.path.join(outdir, msname), imagename=img, cfcache=img + ".cf", **args)
        dt = time.time() - t0
        for ext in PRODUCTS.get(name, DIRTY):
            exportfits(img + "." + ext, img + "." + ext + ".fits", overwrite=True)
        ia = casatools.image()
        ia.open(img + ".sumwt")
        meta[name] = dict(params=dict(args, vis=msname), seconds=round(dt, 2),
                          sumwt=float(ia.getchunk().ravel()[0]))
        ia.close()
        meta["casa"] = casatools.version_string()
        with open(jpath, "w") as f:
            json.dump(meta, f, indent=1)


# Centred crops (tests/python/test_awproject_mosaic.py): product -> (half size in pixels, step).
CROPS = {"psf": (32, 1), "residual": (140, 1), "pb": (140, 2), "weight": (140, 2), "image": (140, 1)}


def crops(outdir, testdata):
    """tclean's products cropped about the centre (header PCCROP: the crop's first pixel x, y;
    PCSTEP its step) under testdata/reference/awproject_mosaic/, with awmos_refs.json and the sky,
    and the MS as testdata/awmos_small.ms.tar.gz."""
    import subprocess
    refdir = os.path.join(testdata, "reference", "awproject_mosaic")
    os.makedirs(refdir, exist_ok=True)
    meta = json.load(open(os.path.join(outdir, "awmos_refs.json")))
    for name in [n for n in list(CASES) + list(PTG_CASES) if n in meta and n != "awm_noptg"]:
        for ext in ["image"] if name in PRODUCTS else DIRTY:
            write_crop(os.path.join(outdir, "tclean_%s.%s.fits" % (name, ext)),
                       os.path.join(refdir, "tclean_%s.%s.fits.gz" % (name, ext)), *CROPS[ext])
    with open(os.path.join(refdir, "awmos_refs.json"), "w") as f:
        json.dump({k: v for k, v in meta.items() if k in CASES or k in PTG_CASES or k == "casa"}, f,
                  indent=1)
    shutil.copy(os.path.join(outdir, "awmos_small.sky.json"), refdir)
    subprocess.check_call(["tar", "czf", os.path.join(testdata, "awmos_small.ms.tar.gz"), "-C",
                           outdir, "awmos_small.ms"])


GRP_CASES = ["awm_grp60", "awm_grp200"]


def crops_grp(outdir, testdata):
    """The pointingoffsetsigdev cases (session 17; awm_grp600 equals awm_ptg2 bit for bit, so
    only its entry) cropped as `crops`, their entries merged into awmos_refs.json."""
    refdir = os.path.join(testdata, "reference", "awproject_mosaic")
    for name in GRP_CASES:
        for ext in DIRTY:
            write_crop(os.path.join(outdir, "tclean_%s.%s.fits" % (name, ext)),
                       os.path.join(refdir, "tclean_%s.%s.fits.gz" % (name, ext)), *CROPS[ext])
    jpath = os.path.join(refdir, "awmos_refs.json")
    meta = json.load(open(jpath))
    new = json.load(open(os.path.join(outdir, "awmos_refs.json")))
    for name in GRP_CASES + ["awm_grp600"]:
        meta[name] = new[name]
    with open(jpath, "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "sim":
        sim(sys.argv[2])
    elif cmd == "refs":
        refs(sys.argv[2], sys.argv[3:])
    elif cmd == "pointing":
        pointing(sys.argv[2])
    elif cmd == "crops":
        crops(sys.argv[2], sys.argv[3])
    elif cmd == "crops_grp":
        crops_grp(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)

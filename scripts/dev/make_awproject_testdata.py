"""The bundled A-projection test data (issue 14, gridder='awproject'): a small simulated EVLA L-band
observation and tclean's awproject references on it.

Run with a Python that has casatools/casatasks 6.7 (PyPI wheels):
    python scripts/dev/make_awproject_testdata.py sim OUTDIR     # OUTDIR/awproj_small.ms
    python scripts/dev/make_awproject_testdata.py refs OUTDIR [CASE ...]  # tclean (parallel=False)
and with any Python with numpy and astropy:
    python scripts/dev/make_awproject_testdata.py pbsamples OUTDIR REPO/testdata
    python scripts/dev/make_awproject_testdata.py crops OUTDIR REPO/testdata
    python scripts/dev/make_awproject_testdata.py crops_ps OUTDIR REPO/testdata  # psterm=True
    python scripts/dev/make_awproject_testdata.py crops_noat OUTDIR REPO/testdata  # aterm=False
    python scripts/dev/make_awproject_testdata.py crops_two_ptg OUTDIR REPO/testdata  # two_ptg's
    python scripts/dev/make_awproject_testdata.py two OUTDIR REPO/testdata  # vis=[a, b] (casatasks)
    python scripts/dev/make_awproject_testdata.py two_ptg OUTDIR  # usepointing, vis=[a, b]

`pbsamples` writes what the normal suite reads today (`testdata/reference/awproject/
tclean_aw_pb_samples.json`: tclean's `.pb` of case aw_dirty, every 4th pixel of the inner 160^2,
for the ray-traced beam test of `pclean-grid`). `crops` writes the cropped
tclean products and the MS tarball that tests/python/test_awproject.py reads.

The MS: VLA D configuration (casadata `vla.d.cfg`, 27 x 25 m, telescope name EVLA), correlations
RR LL, one spectral window of 2 channels x 16 MHz from 1.5 GHz, one field at J2000 16h00m +30d00m,
4 h of hour angle centred on transit at 300 s integrations (so the parallactic angle turns through
about 100 deg), noiseless. Sky: point sources at the centre and off-centre out to the beam's half
power, where the beam, its squint and their rotation with parallactic angle matter; the visibilities
are predicted by the simulator through CASA's default VLA beam (what they are does not matter for
the comparison: tclean and pclean image the same MS).
"""
import json
import os
import shutil
import sys
import time

from awproject_common import evla_d_simulator, set_limits_and_times, write_crop

CENTRE = "J2000 16h00m00.0s 30d00m00.0s"
SOURCES = [  # (ra offset arcmin, dec offset arcmin, flux Jy)
    (0.0, 0.0, 1.0), (8.0, 3.0, 0.5), (-5.0, -10.0, 0.4), (2.0, 14.0, 0.3), (-13.0, 4.0, 0.3)]
COMMON = dict(imsize=[256, 256], cell="12arcsec", phasecenter=CENTRE, gridder="awproject",
              specmode="mfs", weighting="natural", pblimit=0.2, niter=0, parallel=False,
              aterm=True, psterm=False, wbawp=False, conjbeams=False, wprojplanes=1,
              computepastep=360.0, rotatepastep=360.0)
CASES = {
    "aw_dirty": dict(),
    "aw_clean": dict(niter=300, threshold="5mJy", deconvolver="hogbom"),
    "aw_pa5": dict(computepastep=5.0, rotatepastep=5.0),
    # psterm=True (the prolate spheroidal in the convolution functions): issue 14, session 14.
    "aw_ps_dirty": dict(psterm=True),
    "aw_ps_clean": dict(psterm=True, niter=300, threshold="5mJy", deconvolver="hogbom"),
    # The field 9' west of the image centre (session 14): the beams centred on the field.
    "aw_off": dict(imsize=[320, 320], phasecenter="J2000 16h00m41.569s 30d00m00.0s"),
    # The same with psterm=True (session 15: the spheroidal centred on the field).
    "aw_off_ps": dict(imsize=[320, 320], phasecenter="J2000 16h00m41.569s 30d00m00.0s",
                      psterm=True),
    # aterm=False (session 17): tclean's AWProjectFT with the aperture off, with and without
    # the spheroidal.
    "aw_noat": dict(aterm=False),
    "aw_noat_ps": dict(aterm=False, psterm=True),
}
PRODUCTS = {"aw_clean": ["image", "residual", "model"],
            "aw_ps_clean": ["image", "residual", "model", "psf", "pb"]}
DIRTY = ["psf", "residual", "pb", "weight"]


def sim(outdir):
    import numpy as np
    os.makedirs(outdir, exist_ok=True)
    ms = os.path.join(outdir, "awproj_small.ms")
    shutil.rmtree(ms, ignore_errors=True)
    sm, me, qa, cl = evla_d_simulator(ms)
    sm.setfield(sourcename="F0", sourcedirection=CENTRE)
    set_limits_and_times(sm, me)
    sm.observe("F0", "EVLA_L#A0C0#0", starttime="-2h", stoptime="2h")
    cl_path = os.path.join(outdir, "awproj_small.cl")
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
    with open(os.path.join(outdir, "awproj_small.sky.json"), "w") as f:
        json.dump(sky, f, indent=1)
    print("wrote", ms)


def refs(outdir, names):
    from casatasks import tclean, exportfits
    import casatools
    ms = os.path.join(outdir, "awproj_small.ms")
    jpath = os.path.join(outdir, "awproj_refs.json")
    meta = json.load(open(jpath)) if os.path.exists(jpath) else {}
    for name in names or CASES:
        args = dict(COMMON, **CASES[name])
        img = os.path.join(outdir, "tclean_" + name)
        for ext in ["psf", "residual", "pb", "weight", "sumwt", "model", "image", "mask"]:
            shutil.rmtree(img + "." + ext, ignore_errors=True)
        t0 = time.time()
        tclean(vis=ms, imagename=img, cfcache=img + ".cf", **args)
        dt = time.time() - t0
        for ext in PRODUCTS.get(name, DIRTY):
            exportfits(img + "." + ext, img + "." + ext + ".fits", overwrite=True)
        ia = casatools.image()
        ia.open(img + ".sumwt")
        meta[name] = dict(params=dict(args, vis="awproj_small.ms"), seconds=round(dt, 2),
                          sumwt=float(ia.getchunk().ravel()[0]))
        ia.close()
        meta["casa"] = casatools.version_string()
        with open(jpath, "w") as f:
            json.dump(meta, f, indent=1)


def pbsamples(outdir, testdata):
    import numpy as np
    from astropy.io import fits
    refdir = os.path.join(testdata, "reference", "awproject")
    os.makedirs(refdir, exist_ok=True)
    src = os.path.join(outdir, "tclean_aw_dirty.pb.fits")
    pb = fits.getdata(src).squeeze()
    hdr = fits.getheader(src)
    meta = json.load(open(os.path.join(outdir, "awproj_refs.json")))
    first, step = 48, 4
    vals = [[None if not np.isfinite(v) else round(float(v), 5) for v in row]
            for row in pb[first:first + 160:step, first:first + 160:step]]
    out = dict(source="tclean 6.7 gridder=awproject .pb of scripts/dev/make_awproject_testdata.py case "
                      "aw_dirty (EVLA L band, 256^2 x 12 arcsec, one PA bin)",
               freq_hz=hdr["CRVAL3"], pa_deg=PA_DEG, imsize=256, cell_arcsec=12.0, first_px=first,
               step_px=step, pb_yx=vals, casa=meta.get("casa"))
    json.dump(out, open(os.path.join(refdir, "tclean_aw_pb_samples.json"), "w"))


# The committed crops of tclean's products (tests/python/test_awproject.py): product -> (half
# size of the centred crop in pixels, step). The .pb/.weight/residual over pb > 0.3 (a radius of
# ~90 pixels) in a 200^2 crop; the PSF's inner 64^2 (its main lobe and first sidelobes).
CROPS = {"psf": (32, 1), "residual": (100, 1), "pb": (100, 2), "weight": (100, 2), "image": (100, 1)}


def crops(outdir, testdata):
    """tclean's products cropped about the centre (header PCCROP: the crop's first pixel x, y and
    PCSTEP its step), gzipped FITS under testdata/reference/awproject/, and the MS as
    testdata/awproj_small.ms.tar.gz."""
    import subprocess
    refdir = os.path.join(testdata, "reference", "awproject")
    os.makedirs(refdir, exist_ok=True)
    for name, exts in [("aw_dirty", DIRTY), ("aw_pa5", DIRTY), ("aw_clean", ["image"])]:
        for ext in exts:
            write_crop(os.path.join(outdir, "tclean_%s.%s.fits" % (name, ext)),
                       os.path.join(refdir, "tclean_%s.%s.fits.gz" % (name, ext)), *CROPS[ext])
    shutil.copy(os.path.join(outdir, "awproj_refs.json"), refdir)
    shutil.copy(os.path.join(outdir, "awproj_small.sky.json"), refdir)
    subprocess.check_call(["tar", "czf", os.path.join(testdata, "awproj_small.ms.tar.gz"), "-C",
                           outdir, "awproj_small.ms"])


# psterm=True (session 14): its PSF differs from psterm=False's by the spheroidal squared, which
# matters away from the centre: a wider PSF crop.
PS_CROPS = {"psf": (100, 2), "residual": (100, 1), "pb": (100, 2), "weight": (100, 2), "image": (100, 1)}


def crops_ps(outdir, testdata):
    """The psterm=True products (cases aw_ps_dirty, aw_ps_clean) and the off-centre field's
    (aw_off, aw_off_ps) cropped as `crops` (centred on the image), and their
    entries added to testdata/reference/awproject/awproj_refs.json."""
    refdir = os.path.join(testdata, "reference", "awproject")
    for name, exts in [("aw_ps_dirty", DIRTY), ("aw_ps_clean", ["image"]),
                       ("aw_off", ["residual", "pb"]), ("aw_off_ps", DIRTY)]:
        for ext in exts:
            write_crop(os.path.join(outdir, "tclean_%s.%s.fits" % (name, ext)),
                       os.path.join(refdir, "tclean_%s.%s.fits.gz" % (name, ext)), *PS_CROPS[ext])
    jpath = os.path.join(refdir, "awproj_refs.json")
    meta = json.load(open(jpath))
    new = json.load(open(os.path.join(outdir, "awproj_refs.json")))
    for name in ["aw_ps_dirty", "aw_ps_clean", "aw_off", "aw_off_ps"]:
        if name in new:
            meta[name] = new[name]
    with open(jpath, "w") as f:
        json.dump(meta, f, indent=1)


def crops_noat(outdir, testdata):
    """The aterm=False products (case aw_noat_ps, session 17; aterm=False with psterm=False is
    refused by tclean) cropped as `crops_ps`, and its entry added to
    testdata/reference/awproject/awproj_refs.json."""
    refdir = os.path.join(testdata, "reference", "awproject")
    for ext in DIRTY:
        write_crop(os.path.join(outdir, "tclean_aw_noat_ps.%s.fits" % ext),
                   os.path.join(refdir, "tclean_aw_noat_ps.%s.fits.gz" % ext), *PS_CROPS[ext])
    jpath = os.path.join(refdir, "awproj_refs.json")
    meta = json.load(open(jpath))
    meta["aw_noat_ps"] = json.load(open(os.path.join(outdir, "awproj_refs.json")))["aw_noat_ps"]
    with open(jpath, "w") as f:
        json.dump(meta, f, indent=1)


def two(outdir, testdata):
    """Several MSs (session 17): OUTDIR/awproj_small.ms split in time (CASA split) into
    awproj_a.ms (the first 24 integrations) and awproj_b.ms (the last 24), imaged by tclean as
    vis=[a, b] with aw_dirty's parameters (case aw_two; its products equal aw_dirty's bit for bit,
    so the tests compare with aw_dirty's crops); the entry added to awproj_refs.json and the MSs
    bundled as testdata/awproj_two.ms.tar.gz."""
    import subprocess
    from casatasks import split, tclean
    import casatools
    tb, qa = casatools.table(), casatools.quanta()
    tb.open(os.path.join(outdir, "awproj_small.ms"))
    times = sorted(set(tb.getcol("TIME")))
    tb.close()
    mid = times[len(times) // 2] - 1.0
    stamp = qa.time(qa.quantity(mid, "s"), form="ymd", prec=9)[0]
    names = ["awproj_a.ms", "awproj_b.ms"]
    for name, rng in zip(names, ["<" + stamp, ">" + stamp]):
        shutil.rmtree(os.path.join(outdir, name), ignore_errors=True)
        split(vis=os.path.join(outdir, "awproj_small.ms"), outputvis=os.path.join(outdir, name),
              timerange=rng, datacolumn="all")
    img = os.path.join(outdir, "tclean_aw_two")
    for ext in ["psf", "residual", "pb", "weight", "sumwt", "model", "image", "mask"]:
        shutil.rmtree(img + "." + ext, ignore_errors=True)
    t0 = time.time()
    tclean(vis=[os.path.join(outdir, n) for n in names], imagename=img, cfcache=img + ".cf",
           **COMMON)
    dt = time.time() - t0
    ia = casatools.image()
    ia.open(img + ".sumwt")
    sumwt = float(ia.getchunk().ravel()[0])
    ia.close()
    jpath = os.path.join(testdata, "reference", "awproject", "awproj_refs.json")
    meta = json.load(open(jpath))
    meta["aw_two"] = dict(params=dict(COMMON, vis=names), seconds=round(dt, 2), sumwt=sumwt)
    with open(jpath, "w") as f:
        json.dump(meta, f, indent=1)
    subprocess.check_call(["tar", "czf", os.path.join(testdata, "awproj_two.ms.tar.gz"), "-C",
                           outdir] + names)


# The parallactic angle of the first integration, where tclean computes its one set of
# A-terms with computepastep=360 (its log: "Making a new convolution function for PA=-73.2452deg").
PA_DEG = -73.24517281003254


# Session 18: usepointing=True over two MSs with different POINTING edits, MS -> [(antenna number
# mod 4 in this set, (east arcmin on the sky, north arcmin))] (tests/python/test_awproject.py makes
# the same copies): case aw_two_ptg, two copies of awproj_small.ms (every TIME and antenna shared);
# aw_two_ptg_split, awproj_a.ms and awproj_b.ms of `two` (the first and last 24 integrations).
PTG_TWO_MOVES = [[((0, 2), (0.0, 3.0))], [((1,), (2.0, 0.0))]]
PTG_TWO_CASES = {"aw_two_ptg": (["awproj_small.ms", "awproj_small.ms"],
                                ["awptg_a.ms", "awptg_b.ms"]),
                 "aw_two_ptg_split": (["awproj_a.ms", "awproj_b.ms"],
                                      ["awptgs_a.ms", "awptgs_b.ms"])}
PTG_TWO_PRODUCTS = ["psf", "residual", "pb", "weight"]


def two_ptg(outdir):
    """usepointing=True with vis=[a, b] (PTG_TWO_CASES, the POINTING of each moved as
    PTG_TWO_MOVES says; aw_dirty's other parameters): tclean's products exported to FITS in OUTDIR
    and the entries written to OUTDIR/aw_two_ptg.json (the MSs are made by the test from the
    bundled awproj_small.ms and awproj_two.ms.tar.gz; `two` makes awproj_a/b.ms in OUTDIR)."""
    from casatasks import tclean, exportfits
    import casatools
    import numpy as np
    tb = casatools.table()
    arcmin = np.pi / 180 / 60
    meta = {}
    for case, (sources, names) in PTG_TWO_CASES.items():
        for src, name, moves in zip(sources, names, PTG_TWO_MOVES):
            dst = os.path.join(outdir, name)
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(os.path.join(outdir, src), dst)
            tb.open(os.path.join(dst, "POINTING"), nomodify=False)
            d, ant = tb.getcol("DIRECTION"), tb.getcol("ANTENNA_ID")  # d: (2, 1, nrow)
            for residues, (dx, dy) in moves:
                sel = np.isin(ant % 4, residues)
                d[0, 0, sel] += dx * arcmin / np.cos(d[1, 0, sel])
                d[1, 0, sel] += dy * arcmin
            tb.putcol("DIRECTION", d)
            tb.close()
        args = dict(COMMON, usepointing=True)
        img = os.path.join(outdir, "tclean_" + case)
        for ext in ["psf", "residual", "pb", "weight", "sumwt", "model", "image", "mask", "cf"]:
            shutil.rmtree(img + "." + ext, ignore_errors=True)
        t0 = time.time()
        tclean(vis=[os.path.join(outdir, n) for n in names], imagename=img, cfcache=img + ".cf",
               **args)
        dt = time.time() - t0
        ia = casatools.image()
        ia.open(img + ".sumwt")
        sumwt = float(ia.getchunk().ravel()[0])
        ia.close()
        for ext in PTG_TWO_PRODUCTS:
            exportfits(img + "." + ext, img + "." + ext + ".fits", overwrite=True)
        meta[case] = dict(params=dict(args, vis=names), seconds=round(dt, 2), sumwt=sumwt,
                          made_from=sources, pointing_moves_arcmin=PTG_TWO_MOVES)
    with open(os.path.join(outdir, "aw_two_ptg.json"), "w") as f:
        json.dump(meta, f, indent=1)


def crops_two_ptg(outdir, testdata):
    """The cases of `two_ptg` cropped as `crops` under testdata/reference/awproject/, their
    entries added to awproj_refs.json."""
    refdir = os.path.join(testdata, "reference", "awproject")
    jpath = os.path.join(refdir, "awproj_refs.json")
    meta = json.load(open(jpath))
    new = json.load(open(os.path.join(outdir, "aw_two_ptg.json")))
    for case in PTG_TWO_CASES:
        for ext in PTG_TWO_PRODUCTS:
            write_crop(os.path.join(outdir, "tclean_%s.%s.fits" % (case, ext)),
                       os.path.join(refdir, "tclean_%s.%s.fits.gz" % (case, ext)), *CROPS[ext])
        meta[case] = new[case]
    with open(jpath, "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "sim":
        sim(sys.argv[2])
    elif cmd == "refs":
        refs(sys.argv[2], sys.argv[3:])
    elif cmd == "crops":
        crops(sys.argv[2], sys.argv[3])
    elif cmd == "crops_ps":
        crops_ps(sys.argv[2], sys.argv[3])
    elif cmd == "crops_noat":
        crops_noat(sys.argv[2], sys.argv[3])
    elif cmd == "two_ptg":
        two_ptg(sys.argv[2])
    elif cmd == "crops_two_ptg":
        crops_two_ptg(sys.argv[2], sys.argv[3])
    elif cmd == "two":
        two(sys.argv[2], sys.argv[3])
    elif cmd == "pbsamples":
        pbsamples(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)

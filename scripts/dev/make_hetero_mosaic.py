"""A small heterogeneous-array mosaic (issue 14 item 2): ALMA 12 m + 7 m antennas in one array, so
that the MS holds 12m-12m, 12m-7m and 7m-7m baselines, and tclean 6.7 references of it.

Run with a Python that has casatools/casatasks 6.7 (PyPI wheels):
    python scripts/dev/make_hetero_mosaic.py ms OUTDIR     # OUTDIR/hetero_mosaic.ms
    python scripts/dev/make_hetero_mosaic.py refs OUTDIR   # tclean runs (parallel=False), FITS
and with any Python with numpy and astropy:
    python scripts/dev/make_hetero_mosaic.py bundle OUTDIR REPO/testdata
(testdata/hetero_mosaic.ms.tar.gz; testdata/reference/hetero_mosaic/: each product's inner 200^2,
header PCCROP the crop's offset, and hetero_refs.json.)

The array: the first 12 pads of casadata's alma.cycle10.1.cfg (12 m) and the 10 of aca.cycle10.cfg
(7 m), telescope ALMA, one spectral window of one 2 MHz channel at 100 GHz, XX YY. Three pointings
(a triangle of 24" sides around J2000 16h00m00s -30d00m00s, the 12 m primary beam being 62" wide),
each observed in 3 scans of 30 s (10 s integrations) over an hour about transit on 2024-06-01.
The sky: four point sources, each baseline seeing them through its two antennas' Airy voltage
patterns (tclean's HetArrayConvFunc models: 12 m as 10.7 m, 7 m as 6.25 m, 0.75 m blockage)
pointed at the row's field, by a direct Fourier transform written into DATA (`simulator.predict`
crashes with this array), plus 1 mJy of Gaussian noise per visibility (seeded).
"""
import os
import shutil
import sys

import numpy as np

CENTRE = ("16h00m00.0s", "-30d00m00.0s")
FIELDS = [(0.0, 0.0), (24.0, 0.0), (12.0, 20.78)]  # arcsec offsets (east, north)
SOURCES = [  # (east", north", Jy, shape)
    (0.0, 0.0, 0.5, "point"), (-20.0, 10.0, 0.2, "point"), (30.0, -8.0, 0.15, "point"),
    (14.0, 30.0, 0.1, "point")]
COMMON = dict(imsize=[320, 320], cell="0.5arcsec", phasecenter="J2000 16h00m00.0s -30d00m00.0s",
              gridder="mosaic", specmode="mfs", pblimit=0.2, niter=0, parallel=False)
CASES = {
    "het_flatsky": dict(weighting="natural", normtype="flatsky"),
    "het_dirty": dict(weighting="briggs", robust=0.5),
    "het_pbsquare": dict(weighting="natural", normtype="pbsquare"),
}


def cfg(path, n):
    rows = [l.split() for l in open(path) if l.strip() and not l.startswith("#")][:n]
    return [float(r[0]) for r in rows], [float(r[1]) for r in rows], [float(r[2]) for r in rows], \
        [float(r[3]) for r in rows], [r[4] for r in rows]


def direction(east, north):
    import casatools
    qa = casatools.quanta()
    ra = qa.convert(qa.quantity(CENTRE[0]), "rad")["value"]
    dec = qa.convert(qa.quantity(CENTRE[1]), "rad")["value"]
    ra += np.radians(east / 3600.0) / np.cos(dec)
    dec += np.radians(north / 3600.0)
    return casatools.measures().direction("J2000", "%.12frad" % ra, "%.12frad" % dec)


def make_ms(outdir):
    import casatools
    import casadata
    simmos = os.path.join(os.path.dirname(casadata.__file__), "__data__", "alma", "simmos")
    x1, y1, z1, d1, n1 = cfg(os.path.join(simmos, "alma.cycle10.1.cfg"), 12)
    x2, y2, z2, d2, n2 = cfg(os.path.join(simmos, "aca.cycle10.cfg"), 10)
    os.makedirs(outdir, exist_ok=True)
    ms = os.path.join(outdir, "hetero_mosaic.ms")
    shutil.rmtree(ms, ignore_errors=True)
    sm, me, qa, cl = casatools.simulator(), casatools.measures(), casatools.quanta(), casatools.componentlist()
    sm.open(ms)
    pos = me.observatory("ALMA")
    sm.setconfig(telescopename="ALMA", x=x1 + x2, y=y1 + y2, z=z1 + z2, dishdiameter=d1 + d2,
                 mount=["alt-az"] * (len(x1) + len(x2)), antname=n1 + n2, padname=n1 + n2,
                 coordsystem="local", referencelocation=pos)
    sm.setspwindow(spwname="spw0", freq="100GHz", deltafreq="2MHz", freqresolution="2MHz",
                   nchannels=1, stokes="XX YY")
    sm.setfeed(mode="perfect X Y")
    for i, (e, n) in enumerate(FIELDS):
        sm.setfield(sourcename="F%d" % i, sourcedirection=direction(e, n))
    sm.setlimits(shadowlimit=0.001, elevationlimit="10deg")
    sm.setauto(autocorrwt=0.0)
    sm.settimes(integrationtime="10s", usehourangle=True, referencetime=me.epoch("UTC", "2024/06/01/00:00:00"))
    t = -1800.0
    for scan in range(3):
        for i in range(len(FIELDS)):
            sm.observe(sourcename="F%d" % i, spwname="spw0", starttime="%.0fs" % t, stoptime="%.0fs" % (t + 30))
            t += 200.0
    sm.close()
    fill(ms)
    print("wrote", ms)


def airy_vp(r, dish, lam):
    """CASA's Airy voltage pattern of an ALMA dish (HetArrayConvFunc: 12 m as 10.7 m, 7 m as
    6.25 m, both with a 0.75 m blockage) at radius r (rad)."""
    from scipy.special import j1
    d = np.where(np.asarray(dish) > 10, 10.7, 6.25)
    eps = 0.75 / d
    x = np.maximum(np.pi * r * d / lam, 1e-12)
    return (2 * j1(x) / x - eps ** 2 * 2 * j1(eps * x) / (eps * x)) / (1 - eps ** 2)


def fill(ms):
    """DATA = the point sources seen through each baseline's two voltage patterns (pointed at its
    field), by a direct Fourier transform, plus 1 mJy of Gaussian noise; WEIGHT from it."""
    import casatools
    tb = casatools.table()
    tb.open(ms + "/FIELD")
    pd = tb.getcol("PHASE_DIR")[:, 0, :]
    tb.close()
    tb.open(ms + "/ANTENNA")
    diam = tb.getcol("DISH_DIAMETER")
    tb.close()
    tb.open(ms + "/SPECTRAL_WINDOW")
    freq = tb.getcol("CHAN_FREQ")[:, 0]
    tb.close()
    lam = 299792458.0 / freq[0]
    tb.open(ms, nomodify=False)
    uvw, fid = tb.getcol("UVW"), tb.getcol("FIELD_ID")
    a1, a2 = tb.getcol("ANTENNA1"), tb.getcol("ANTENNA2")
    data = np.zeros(tb.getcol("DATA").shape, complex)
    for e, n, flux, _ in SOURCES:
        d = direction(e, n)
        ra, dec = d["m0"]["value"], d["m1"]["value"]
        for f in range(pd.shape[1]):
            ra0, dec0 = pd[0, f], pd[1, f]
            l = np.cos(dec) * np.sin(ra - ra0)
            m = np.sin(dec) * np.cos(dec0) - np.cos(dec) * np.sin(dec0) * np.cos(ra - ra0)
            r = np.arcsin(np.hypot(l, m))
            rows = fid == f
            att = airy_vp(r, diam[a1[rows]], lam) * airy_vp(r, diam[a2[rows]], lam)
            u, v, w = uvw[:, rows] / lam
            ph = np.exp(-2j * np.pi * (u * l + v * m + w * (np.sqrt(1 - l * l - m * m) - 1)))
            data[:, :, rows] += (flux * att * ph)[None, None, :]
    rng = np.random.default_rng(14)
    sigma = 1e-3
    data += sigma * (rng.standard_normal(data.shape) + 1j * rng.standard_normal(data.shape))
    tb.putcol("DATA", data.astype(np.complex64))
    tb.putcol("WEIGHT", np.full(tb.getcol("WEIGHT").shape, 1.0 / sigma ** 2 / 1e6, np.float32))
    tb.putcol("SIGMA", np.full(tb.getcol("SIGMA").shape, sigma * 1e3, np.float32))
    # The simulator's empty MODEL_DATA and CORRECTED_DATA (tclean would image the latter).
    tb.removecols([c for c in ("MODEL_DATA", "CORRECTED_DATA") if c in tb.colnames()])
    tb.close()


def refs(outdir):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_mosaic_testdata import tclean_cases
    tclean_cases(outdir, "hetero_mosaic.ms", COMMON, CASES, lambda _: PRODUCTS, "hetero_refs.json")


CROP = 200
PRODUCTS = ["psf", "residual", "pb", "weight"]


def bundle(outdir, testdata):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_mosaic_testdata import bundle_cases
    bundle_cases(outdir, testdata, "hetero_mosaic", {name: PRODUCTS for name in CASES}, CROP, "hetero_refs.json",
                 "hetero_mosaic.ms", "hetero_mosaic.ms.tar.gz")


if __name__ == "__main__":
    command = {"ms": make_ms, "refs": refs, "bundle": bundle}.get(sys.argv[1] if sys.argv[1:] else "")
    if command is None:
        sys.exit(__doc__)
    command(*sys.argv[2:])

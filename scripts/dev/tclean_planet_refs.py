"""tclean 6.7 references for planetary phase centres (phasecenter='MARS', 'SUN', ...; issue 13 item 1,
docs/decisions.md "Issue 13: Decisions of branch s11-ch13") and casacore's directions of the bodies.

Run with CASA's python (casatools/casatasks 6.7) from the repository root:
    python scripts/dev/tclean_planet_refs.py OUTDIR
(`--de200 OUTDIR` rewrites only OUTDIR/DE200 and the row list for the epochs of planets.json.)
It writes
- OUTDIR/mars_topo.ms: vla_ephem_mars.ms (testdata/realobs_vla_ephem_mars.tar.gz: 12 x 1200 s
  around transit on 2022-11-01, 4 channels at 8.4 GHz) with a fixed J2000 FIELD at casacore's
  geocentric Mars at the middle time and DATA an exact DFT of a 1 Jy source moving with casacore's
  *topocentric* Mars (MARS -> AZEL -> J2000 at each row's time) and a 0.4 Jy one at (30", -20") from
  it (5 mJy noise, seed 7); bundled as testdata/planet_mars_topo.ms.tar.gz;
- testdata/reference/planets/planets.json: tclean's coordinate records, peaks and stored crops
  (inner 60% of the residual and PSF, *.crop.fits.gz) of phasecenter 'MARS' (mfs and cube) and
  'MARS 0deg 0deg' (mfs) on mars_topo.ms, and of 'SUN' / 'MOON' on b1950vla.ms (coordinates), and
  casacore's topocentric directions (`me.measure(me.measure(me.direction(B), 'AZEL'), 'ICRS')`) and
  geocentric J2000 directions of MARS, SUN, MOON, JUPITER at several epochs (VLA and ALMA);
- OUTDIR/DE200: the rows of casadata's ephemerides/DE200 that cover those epochs and alma_small.ms's
  (a casacore table, keywords kept), which go into testdata/measures.tar.gz as
  measures/ephemerides/DE200 (`tar` of the unpacked tarball with that table added).
"""
import glob
import gzip
import json
import os
import shutil
import sys
import tarfile

import numpy as np
import casatools
import casatasks

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_realobs import antenna_uvw, lmn, offset_direction  # noqa: E402

me, qa, tb, ia, rg = (casatools.measures(), casatools.quanta(), casatools.table(), casatools.image(),
                      casatools.regionmanager())
C = 299792458.0
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REF = os.path.join(ROOT, "testdata", "reference", "planets")
CROP = 0.6


def mars(tt, topo, obs="VLA"):
    """casacore's Mars at UTC `tt` (MJD seconds) in J2000: geocentric, or topocentric (via AZEL)."""
    me.doframe(me.observatory(obs))
    me.doframe(me.epoch("utc", qa.quantity(tt, "s")))
    d = me.direction("MARS")
    return me.measure(me.measure(d, "AZEL"), "J2000") if topo else me.measure(d, "J2000")


def make_mars_ms(src, dst, topo):
    """`src` (vla_ephem_mars.ms) copied to `dst` with a fixed J2000 field at the geocentric Mars at
    the middle time and the DFT of a source moving with Mars (topocentric or geocentric)."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    tb.open(dst + "/ANTENNA")
    pos = tb.getcol("POSITION")
    tb.close()
    tb.open(dst + "/SPECTRAL_WINDOW")
    freqs = tb.getcol("CHAN_FREQ")[:, 0]
    tb.close()
    tb.open(dst, nomodify=False)
    t, a1, a2 = tb.getcol("TIME"), tb.getcol("ANTENNA1"), tb.getcol("ANTENNA2")
    data = tb.getcol("DATA")
    times = np.unique(t)
    tmid = 0.5 * (times[0] + times[-1])
    d0 = mars(tmid, False)
    ra0, dec0 = d0["m0"]["value"], d0["m1"]["value"]
    uvw = np.zeros((3, len(t)))
    vis = np.zeros(data.shape, dtype=complex)
    for tt in times:
        sel = np.nonzero(t == tt)[0]
        uvw[:, sel] = antenna_uvw(me, qa, pos, "VLA", d0, tt, a1[sel], a2[sel])
        dt = mars(tt, topo)
        for d, flux in ((dt, 1.0), (offset_direction(me, qa, dt, 30.0, -20.0), 0.4)):
            l_, m_, n_ = lmn(ra0, dec0, d["m0"]["value"], d["m1"]["value"])
            ph = np.exp(2j * np.pi * np.outer(freqs / C, uvw[0, sel] * l_ + uvw[1, sel] * m_
                                              + uvw[2, sel] * (n_ - 1)))
            vis[0, :, sel] += (flux * ph).T
            vis[1, :, sel] += (flux * ph).T
    rng = np.random.default_rng(7)
    vis += 0.005 * (rng.standard_normal(vis.shape) + 1j * rng.standard_normal(vis.shape))
    tb.putcol("DATA", vis.astype(np.complex64))
    tb.putcol("UVW", uvw)
    tb.close()
    tb.open(dst + "/FIELD", nomodify=False)
    for col in ("PHASE_DIR", "DELAY_DIR", "REFERENCE_DIR"):
        kw = tb.getcolkeywords(col)
        kw["MEASINFO"] = {"type": "direction", "Ref": "J2000"}
        tb.putcolkeywords(col, kw)
        tb.putcol(col, np.array([[[ra0]], [[dec0]]]))
    tb.putcol("EPHEMERIS_ID", np.array([-1], dtype=np.int32))
    tb.putcol("TIME", np.array([tmid]))
    tb.close()
    return float(times[0])


def tclean(img, vis, **kw):
    for ext in ("residual", "psf", "sumwt", "image", "model", "pb"):
        shutil.rmtree(f"{img}.{ext}", ignore_errors=True)
    casatasks.tclean(vis=vis, imagename=img, **kw)
    ia.open(f"{img}.residual")
    cs = ia.coordsys().torecord()
    px = ia.getchunk()
    ia.close()
    d, s = cs["direction0"], cs["spectral2"]
    coordsys = dict(direction0=dict(system=d["system"], crval=[float(x) for x in d["crval"]],
                                    crpix=[float(x) for x in d["crpix"]],
                                    cdelt=[float(x) for x in d["cdelt"]], axes=list(d["axes"])),
                    spectral2=dict(system=s["system"], crval=float(s["wcs"]["crval"]),
                                   cdelt=float(s["wcs"]["cdelt"])))
    return dict(params=kw, coordsys=coordsys, peak=float(px.max()),
                argmax=[int(i) for i in np.unravel_index(px.argmax(), px.shape)],
                channel_peaks=[float(px[..., c].max()) for c in range(px.shape[3])])


def store(img, n, nchan):
    """The inner 60% of the residual and PSF of `img` as gzipped FITS in REF."""
    x0 = int(round(n * (1 - CROP) / 2))
    stored = {}
    for p in ("residual", "psf"):
        sub = f"{img}.{p}.crop"
        shutil.rmtree(sub, ignore_errors=True)
        ia.open(f"{img}.{p}")
        ia.subimage(sub, region=rg.box([x0, x0, 0, 0], [n - 1 - x0, n - 1 - x0, 0, nchan - 1])).done()
        ia.close()
        fits = sub + ".fits"
        casatasks.exportfits(sub, fits, overwrite=True)
        with open(fits, "rb") as src, gzip.GzipFile(os.path.join(REF, sub + ".fits.gz"), "wb", mtime=0) as dst:
            dst.write(src.read())
        stored[p] = dict(file=sub + ".fits.gz", x0=x0, y0=x0)
    return stored


def directions(epochs_mjd):
    """casacore's topocentric (via AZEL, to ICRS) and geocentric J2000 directions of the bodies."""
    out = []
    for obs in ("VLA", "ALMA"):
        pos = me.measure(me.observatory(obs), "ITRF")
        lon, lat, r = (pos[k]["value"] for k in ("m0", "m1", "m2"))
        itrf = [r * np.cos(lat) * np.cos(lon), r * np.cos(lat) * np.sin(lon), r * np.sin(lat)]
        for mjd in epochs_mjd:
            me.doframe(me.observatory(obs))
            me.doframe(me.epoch("utc", qa.quantity(mjd, "d")))
            for body in ("MARS", "SUN", "MOON", "JUPITER"):
                d = me.direction(body)
                topo = me.measure(me.measure(d, "AZEL"), "ICRS")
                geo = me.measure(d, "J2000")
                out.append(dict(observatory=obs, itrf_m=[float(x) for x in itrf], utc_mjd=mjd, body=body,
                                topo_icrs_rad=[topo["m0"]["value"], topo["m1"]["value"]],
                                geo_j2000_rad=[geo["m0"]["value"], geo["m1"]["value"]]))
    return out


def de200_subset(mjds, dst):
    """The DE200 records (32 days each, MJD column = start) around `mjds`, deep-copied to `dst`."""
    src = glob.glob(os.path.join(os.path.dirname(casatools.__file__), "..", "casadata", "__data__",
                                 "ephemerides", "DE200"))
    src = src[0] if src else glob.glob("/work/casa-venv/lib/python3*/site-packages/casadata/__data__/ephemerides/DE200")[0]
    tb.open(src)
    start = tb.getcol("MJD")
    rows = sorted({int(k) for m in mjds for k in (np.searchsorted(start, m, side="right") - 1 + np.array([-1, 0, 1]))
                   if 0 <= k < len(start)})
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    sub = tb.selectrows(rows)
    sub.copy(dst, deep=True)
    sub.close()
    tb.close()
    return rows


# alma_sim.ms.tar.gz (alma_small.ms, 2024-06-01): tests/python/data/tclean_calls.py images it with
# phasecenter='JUPITER'.
ALMA_SIM_MJD = 60462.23


def de200_mjds(epochs, t0_mjd):
    return list(epochs) + [t0_mjd + 0.3, ALMA_SIM_MJD]


def main():
    if sys.argv[1] == "--de200":
        # Only the DE200 subset, for the epochs of an existing planets.json.
        with open(os.path.join(REF, "planets.json")) as f:
            ref = json.load(f)
        epochs = sorted({d["utc_mjd"] for d in ref["directions"]})
        ref["de200_rows"] = de200_subset(de200_mjds(epochs, ref["t0_mjd_s"] / 86400),
                                         os.path.join(os.path.abspath(sys.argv[2]), "DE200"))
        with open(os.path.join(REF, "planets.json"), "w") as f:
            json.dump(ref, f, indent=1)
        return
    out_dir = os.path.abspath(sys.argv[1])
    os.makedirs(out_dir, exist_ok=True)
    os.makedirs(REF, exist_ok=True)
    os.chdir(out_dir)
    for tarname in ("realobs_vla_ephem_mars.tar.gz", "b1950vla.ms.tar.gz"):
        with tarfile.open(os.path.join(ROOT, "testdata", tarname)) as t:
            t.extractall(out_dir)
    src = glob.glob("**/vla_ephem_mars.ms", recursive=True)[0]
    t0 = make_mars_ms(src, "mars_topo.ms", True)
    with tarfile.open(os.path.join(ROOT, "testdata", "planet_mars_topo.ms.tar.gz"), "w:gz") as t:
        t.add("mars_topo.ms", arcname="mars_topo.ms")
    tb.open("b1950vla.ms")
    t_b1950 = float(tb.getcol("TIME").min())
    tb.close()
    mfs = dict(imsize=[128, 128], cell="0.5arcsec", weighting="briggs", robust=0.5, niter=0, specmode="mfs",
               pblimit=-1, parallel=False)
    cube = dict(mfs, specmode="cube")
    sky = dict(imsize=[128, 128], cell="6arcsec", weighting="natural", niter=0, specmode="mfs", pblimit=-1,
               parallel=False)
    runs = {}
    for tag, vis, kw, nchan in (("mars_mfs", "mars_topo.ms", dict(mfs, phasecenter="MARS"), 1),
                                ("mars_cube", "mars_topo.ms", dict(cube, phasecenter="MARS"), 4),
                                ("mars_0_0_mfs", "mars_topo.ms", dict(mfs, phasecenter="MARS 0deg 0deg"), 0),
                                ("b1950_SUN", "b1950vla.ms", dict(sky, phasecenter="SUN"), 0),
                                ("b1950_MOON", "b1950vla.ms", dict(sky, phasecenter="MOON"), 0)):
        r = tclean("tc_" + tag, vis, **kw)
        r["vis"] = vis
        if nchan:
            r["stored"] = store("tc_" + tag, 128, nchan)
        runs[tag] = r
        print(tag, r["coordsys"]["direction0"], r["peak"], r["argmax"], flush=True)
    epochs = [t0 / 86400, t0 / 86400 + 0.15, t0 / 86400 + 9.7, t_b1950 / 86400, t_b1950 / 86400 + 0.4,
              t_b1950 / 86400 + 17.3]
    de_rows = de200_subset(de200_mjds(epochs, t0 / 86400), os.path.join(out_dir, "DE200"))
    ref = dict(casa=casatools.version_string(), made_by="scripts/dev/tclean_planet_refs.py",
               mars_ms="testdata/planet_mars_topo.ms.tar.gz", t0_mjd_s=t0, b1950_t0_mjd_s=t_b1950, runs=runs,
               directions=directions(epochs), de200_rows=de_rows)
    with open(os.path.join(REF, "planets.json"), "w") as f:
        json.dump(ref, f, indent=1)


if __name__ == "__main__":
    main()

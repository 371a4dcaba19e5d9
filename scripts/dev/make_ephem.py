"""Make the ephemeris-field test MS of issue 13 and its tclean references.

Run with a Python that has casatools/casatasks 6.7 (PyPI wheels) and casadata:
    python scripts/dev/make_ephem.py ms OUTDIR             # simulate vla_ephem_mars.ms into OUTDIR
    python scripts/dev/make_ephem.py refs MSDIR REFDIR     # tclean references of every case
    python scripts/dev/make_ephem.py bundle MSDIR REFDIR   # tarball + compact FITS/JSON into testdata/
    python scripts/dev/make_ephem.py directions MSDIR      # casacore's directions of the field per row

The MS (VLA C configuration, X band, 4 channels) observes Mars on 2022-11-01, 4 hours around
transit. The FIELD's ephemeris is casadata's JPL-Horizons table Mars_59214-62866dUTC_J2000.tab cut
to MJD 59882..59887 (so the tarball stays small) and attached by casatasks `fixplanets`, which
sets FIELD::EPHEMERIS_ID and copies the table into FIELD/EPHEM0_Mars_*.tab. Every row's phase
centre is then casacore's own direction of the field at the row's time (`msmetadata.phasecenter`
with the row's epoch); UVW are recomputed for it (`measures.touvw`, the simulator's convention, as
make_realobs.py does) and DATA are an exact DFT of point sources: two that move with the
ephemeris (offsets from the phase centre at each time) and one fixed on the sky (J2000).
Helpers (offset_direction, antenna_uvw, lmn, jsonable, the reference/bundle layout) come from
make_realobs.py.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_realobs import (antenna_uvw, compact_fits, jsonable, lmn, offset_direction, simmos_dir,  # noqa: E402
                          tclean_refs, CROP_FRACTION, KEPT_RECORDS)

MS_NAME = "vla_ephem_mars.ms"
SPEC = dict(
    telescope="VLA", cfg="vla.c.cfg", ephem="Mars_59214-62866dUTC_J2000.tab", ephem_mjd=(59882.0, 59887.0),
    spws=[("X4", "8.4GHz", "2MHz", 4)], stokes="RR LL", feed="perfect R L",
    t0="2022/11/01/00:00:00", integ="1200s", span=("-2h", "2h"), noise_jy=0.005, seed=1313,
    # offsets (arcsec east, north) from the ephemeris direction at each row's time, I in Jy
    comoving=[("mars", 0.0, 0.0, 1.0), ("moonlet", 30.0, -20.0, 0.4)],
    # fixed on the sky: offset from the ephemeris direction at the middle of the observation
    fixed=[("background", -60.0, 40.0, 0.5)],
)


def trimmed_ephemeris(dst, spec):
    """casadata's JPL table cut to the rows MJD in spec['ephem_mjd'] (keywords kept, MJD0 and
    earliest/latest updated), written to dst."""
    import casadata
    from casatools import table, measures, quanta
    tb, me, qa = table(), measures(), quanta()
    src = os.path.join(os.path.dirname(casadata.__file__), "__data__", "ephemerides", "JPL-Horizons", spec["ephem"])
    shutil.rmtree(dst, ignore_errors=True)
    lo, hi = spec["ephem_mjd"]
    tb.open(src)
    sub = tb.query("MJD >= %.1f && MJD <= %.1f" % (lo, hi))
    cp = sub.copy(dst, deep=True)
    cp.close()
    sub.close()
    tb.close()
    tb.open(dst, nomodify=False)
    mjd = tb.getcol("MJD")
    tb.putkeyword("MJD0", float(mjd[0] - tb.getkeyword("dMJD")))
    tb.putkeyword("earliest", me.epoch("utc", qa.quantity(float(mjd[0]), "d")))
    tb.putkeyword("latest", me.epoch("utc", qa.quantity(float(mjd[-1]), "d")))
    tb.close()


def make_ms(outdir, spec=SPEC):
    from casatools import simulator, measures, quanta, table, msmetadata
    from casatasks import fixplanets
    from casatasks.private.simutil import simutil
    sm, me, qa, tb, msmd = simulator(), measures(), quanta(), table(), msmetadata()
    path = os.path.join(outdir, MS_NAME)
    shutil.rmtree(path, ignore_errors=True)
    eph = os.path.join(outdir, "Mars_ephem.tab")
    trimmed_ephemeris(eph, spec)
    # the simulator needs a fixed direction: Mars at the reference time
    me.framecomet(eph)
    me.doframe(me.epoch("utc", spec["t0"]))
    me.doframe(me.observatory(spec["telescope"]))
    start = me.measure(me.direction("COMET"), "J2000")
    x, y, z, d, pads, ants, telname, posobs = simutil().readantenna(os.path.join(simmos_dir(), spec["cfg"]))
    sm.open(path)
    sm.setconfig(telescopename=spec["telescope"], x=x, y=y, z=z, dishdiameter=d.tolist(), mount="alt-az",
                 antname=list(ants), padname=list(pads), coordsystem="global",
                 referencelocation=me.observatory(spec["telescope"]))
    for spw, f0, df, nch in spec["spws"]:
        sm.setspwindow(spwname=spw, freq=f0, deltafreq=df, freqresolution=df, nchannels=nch,
                       stokes=spec["stokes"], refcode="TOPO")
    sm.setfeed(mode=spec["feed"])
    sm.setfield(sourcename="Mars", sourcedirection=start)
    sm.setlimits(shadowlimit=0.001, elevationlimit="8deg")
    sm.setauto(autocorrwt=0.0)
    sm.settimes(integrationtime=spec["integ"], usehourangle=True, referencetime=me.epoch("utc", spec["t0"]))
    sm.observe("Mars", spec["spws"][0][0], starttime=spec["span"][0], stoptime=spec["span"][1])
    sm.close()
    fixplanets(vis=path, field="0", fixuvw=True, direction=eph)
    tb.open(path + "/ANTENNA")
    pos = tb.getcol("POSITION")
    tb.close()
    tb.open(path + "/SPECTRAL_WINDOW")
    freqs = tb.getcol("CHAN_FREQ")[:, 0]
    tb.close()
    tb.open(path, nomodify=False)
    t, a1, a2 = tb.getcol("TIME"), tb.getcol("ANTENNA1"), tb.getcol("ANTENNA2")
    uvw_fixplanets = tb.getcol("UVW")
    data = tb.getcol("DATA")
    msmd.open(path)
    times = np.unique(t)
    tmid = 0.5 * (times[0] + times[-1])

    def phase_dir(tt):
        # casacore's direction of the field at tt (frame APP for this table, which has no
        # posrefsys keyword), converted to J2000, the frame of the UVW column
        me.doframe(me.observatory(spec["telescope"]))
        me.doframe(me.epoch("utc", qa.quantity(tt, "s")))
        return me.measure(msmd.phasecenter(0, me.epoch("utc", qa.quantity(tt, "s"))), "J2000")
    mid = phase_dir(tmid)
    fixed = []
    for name, dx, dy, flux in spec["fixed"]:
        dd = offset_direction(me, qa, mid, dx, dy)
        fixed.append((name, dd["m0"]["value"], dd["m1"]["value"], flux))
    uvw = np.zeros((3, len(t)))
    vis = np.zeros(data.shape, dtype=complex)
    c = 299792458.0
    per_time = []
    for tt in times:
        sel = np.nonzero(t == tt)[0]
        d_t = phase_dir(tt)
        ra_t, dec_t = d_t["m0"]["value"], d_t["m1"]["value"]
        app = msmd.phasecenter(0, me.epoch("utc", qa.quantity(tt, "s")))
        per_time.append(dict(time_mjd_s=float(tt), phase_dir_rad=[ra_t, dec_t], frame=d_t["refer"],
                             casacore_dir_rad=[app["m0"]["value"], app["m1"]["value"]], casacore_frame=app["refer"]))
        uvw[:, sel] = antenna_uvw(me, qa, pos, spec["telescope"], d_t, tt, a1[sel], a2[sel])
        comps = [(ra, dec, flux) for _, ra, dec, flux in fixed]
        for name, dx, dy, flux in spec["comoving"]:
            dd = offset_direction(me, qa, d_t, dx, dy)
            comps.append((dd["m0"]["value"], dd["m1"]["value"], flux))
        for ra, dec, flux in comps:
            l_, m_, n_ = lmn(ra_t, dec_t, ra, dec)
            phase = np.exp(2j * np.pi * np.outer(freqs / c, uvw[0, sel] * l_ + uvw[1, sel] * m_
                                                 + uvw[2, sel] * (n_ - 1)))
            vis[0, :, sel] += (flux * phase).T  # RR = I
            vis[1, :, sel] += (flux * phase).T  # LL = I
    msmd.close()
    rng = np.random.default_rng(spec["seed"])
    vis += spec["noise_jy"] * (rng.standard_normal(vis.shape) + 1j * rng.standard_normal(vis.shape))
    tb.putcol("DATA", vis.astype(np.complex64))
    tb.putcol("UVW", uvw)
    extra = [col for col in ("MODEL_DATA", "CORRECTED_DATA") if col in tb.colnames()]
    if extra:
        tb.removecols(extra)
    nrow = tb.nrows()
    tb.close()
    tb.open(path + "/FIELD")
    field = dict(phase_dir=tb.getcol("PHASE_DIR").tolist(), time=tb.getcol("TIME").tolist(),
                 ephemeris_id=tb.getcol("EPHEMERIS_ID").tolist(), measinfo=tb.getcolkeywords("PHASE_DIR"),
                 subtables=sorted(os.listdir(path + "/FIELD")))
    tb.close()
    shutil.rmtree(eph, ignore_errors=True)
    return dict(name=MS_NAME, rows=nrow, telescope=spec["telescope"], cfg=spec["cfg"], t0_utc=spec["t0"],
                hour_angle_span=spec["span"], integration=spec["integ"], spws=spec["spws"],
                correlations=spec["stokes"], ephemeris_source=spec["ephem"], ephemeris_mjd=spec["ephem_mjd"],
                field=field, phase_dir_per_time=per_time,
                uvw_max_diff_vs_fixplanets_m=float(np.abs(uvw - uvw_fixplanets).max()),
                comoving=[dict(name=n, dx_arcsec=dx, dy_arcsec=dy, i_jy=f) for n, dx, dy, f in spec["comoving"]],
                fixed=[dict(name=n, ra_rad=ra, dec_rad=dec, i_jy=f) for n, ra, dec, f in fixed],
                noise_per_vis="%g Jy (real and imaginary parts, numpy seed %d)" % (spec["noise_jy"], spec["seed"]),
                visibilities="exact DFT, V = S exp(+2 pi i f/c (u l + v m + w (n - 1))) about each row's phase centre")


def cmd_ms(outdir):
    os.makedirs(outdir, exist_ok=True)
    info = make_ms(outdir)
    with open(os.path.join(outdir, "ephem_ms.json"), "w") as f:
        json.dump(jsonable(info), f, indent=1, default=str)
    print(json.dumps({k: info[k] for k in ("rows", "field", "uvw_max_diff_vs_fixplanets_m")}, default=str))


# --------------------------------------------------------------------------------------------------
# tclean references (same layout as make_realobs.py's CASES: parameters, cropped products, whole ones)
# --------------------------------------------------------------------------------------------------
BASE = dict(vis=MS_NAME, specmode="mfs", gridder="standard", deconvolver="hogbom", weighting="briggs",
            robust=0.5, imsize=[256, 256], cell="0.5arcsec", pblimit=-0.01, stokes="I", niter=0, parallel=False)
CASES = {
    # default phasecenter: the field's direction at ... (see the README row: what tclean does)
    "ephem_mfs_dirty": (dict(BASE), ["psf", "residual"], []),
    "ephem_mfs_trackfield_dirty": (dict(BASE, phasecenter="TRACKFIELD"), ["psf", "residual"], []),
    "ephem_cube_dirty": (dict(BASE, specmode="cube", imsize=[128, 128]), ["psf", "residual"], []),
    # specmode='cubesource' without phasecenter='TRACKFIELD' (or an ephemeris phasecenter) is an error in
    # tclean 6.7: "Cannot be in cubesource without tracking a moving source"
    "ephem_cube_trackfield_dirty": (dict(BASE, specmode="cube", phasecenter="TRACKFIELD", imsize=[128, 128]),
                                    ["psf", "residual"], []),
    "ephem_cubesource_trackfield_dirty": (dict(BASE, specmode="cubesource", phasecenter="TRACKFIELD",
                                               imsize=[128, 128]), ["psf", "residual"], []),
}


def cmd_refs(msdir, refdir, names):
    tclean_refs(msdir, refdir, CASES, names)


def cmd_directions(msdir):
    """testdata/reference/ephem/ephem_directions.json: for each integration of the MS, casacore's
    direction of the ephemeris field (`msmetadata.phasecenter`, frame APP: the table's linear
    interpolation at the row's UTC), and the topocentric direction tclean tracks with
    phasecenter='TRACKFIELD': the table's position interpolated at TT (= UTC + TAI-UTC + 32.184 s,
    as casacore's COMET frame does), minus the observatory's geocentric position (casacore's
    conversion of the ITRF direction of the observatory to APP, its ITRF distance), in APP, and
    that direction converted to ICRS by casatools measures. For the first integration the ICRS value
    is tclean's TRACKFIELD image centre (ephem_mfs_trackfield_dirty: equal to 6e-11 rad)."""
    from casatools import measures, quanta, table, msmetadata
    me, qa, tb, msmd = measures(), quanta(), table(), msmetadata()
    ms = os.path.join(msdir, MS_NAME)
    tb.open(ms)
    times = np.unique(tb.getcol("TIME"))
    tb.close()
    tb.open(ms + "/FIELD/EPHEM0_Mars.tab")
    mjd, rho = tb.getcol("MJD"), tb.getcol("Rho")
    ra, dec = np.radians(tb.getcol("RA")), np.radians(tb.getcol("DEC"))
    mjd0, dmjd = tb.getkeyword("MJD0"), tb.getkeyword("dMJD")
    tb.close()
    au = 1.495978707e11

    def vec(r, a, d):
        return r * np.array([np.cos(d) * np.cos(a), np.cos(d) * np.sin(a), np.sin(d)])

    def interp(x):
        k = int(np.floor((x - mjd0) / dmjd)) - 1
        f = (x - mjd[k]) / dmjd
        p0, p1 = vec(rho[k] * au, ra[k], dec[k]), vec(rho[k + 1] * au, ra[k + 1], dec[k + 1])
        return p0 + f * (p1 - p0)
    obs = me.observatory(SPEC["telescope"])
    itrf = me.measure(obs, "ITRF")
    msmd.open(ms)
    out = []
    for t in times:
        ep = me.epoch("utc", qa.quantity(t, "s"))
        me.doframe(ep)
        me.doframe(obs)
        app = msmd.phasecenter(0, ep)
        tt = me.measure(ep, "TT")["m0"]["value"] * 86400.0
        z = me.measure(me.direction("ITRF", qa.quantity(itrf["m0"]["value"], "rad"),
                                    qa.quantity(itrf["m1"]["value"], "rad")), "APP")
        w = interp(tt / 86400.0) - vec(itrf["m2"]["value"], z["m0"]["value"], z["m1"]["value"])
        topo = (float(np.arctan2(w[1], w[0]) % (2 * np.pi)), float(np.arcsin(w[2] / np.linalg.norm(w))))
        icrs = me.measure(me.direction("APP", qa.quantity(topo[0], "rad"), qa.quantity(topo[1], "rad")), "ICRS")
        out.append(dict(time_mjd_s=float(t), tt_minus_utc_s=float(tt - t),
                        field_app_rad=[app["m0"]["value"] % (2 * np.pi), app["m1"]["value"]],
                        observer_app_rad=[z["m0"]["value"], z["m1"]["value"], itrf["m2"]["value"]],
                        topo_app_rad=list(topo), topo_icrs_rad=[icrs["m0"]["value"] % (2 * np.pi),
                                                                icrs["m1"]["value"]]))
    msmd.close()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(root, "testdata", "reference", "ephem", "ephem_directions.json"), "w") as f:
        json.dump(dict(ms=MS_NAME, observatory=SPEC["telescope"], rows=out), f, indent=1)


def cmd_bundle(msdir, refdir):
    """The MS tarball into testdata/, the compact references into testdata/reference/ephem/."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    out_dir = os.path.join(root, "testdata", "reference", "ephem")
    os.makedirs(out_dir, exist_ok=True)
    summary = {"crop_fraction": CROP_FRACTION, "cases": {},
               "ms": json.load(open(os.path.join(msdir, "ephem_ms.json")))}
    for name, (params, crop, full) in CASES.items():
        info = json.load(open(os.path.join(refdir, name + ".json")))
        info["products"] = {k: v for k, v in info["products"].items() if k in KEPT_RECORDS}
        info["stored"] = {}
        for p in crop + full:
            fname = "%s.%s%s.fits.gz" % (name, p, ".crop" if p in crop else "")
            x0, y0 = compact_fits(os.path.join(refdir, "%s.%s.fits" % (name, p)), os.path.join(out_dir, fname),
                                  p in crop, "%s.%s" % (name, p))
            info["stored"][p] = dict(file=fname, x0=x0, y0=y0)
        summary["cases"][name] = info
    with open(os.path.join(out_dir, "ephem.json"), "w") as f:
        json.dump(summary, f, separators=(",", ":"))
    dst = os.path.join(root, "testdata", "realobs_%s.tar.gz" % MS_NAME[:-3])
    subprocess.run(["tar", "czf", dst, "--owner=0", "--group=0", "--mtime=2026-01-01", "--sort=name",
                    "-C", msdir, MS_NAME], check=True)
    print(dst, os.path.getsize(dst))


if __name__ == "__main__":
    if sys.argv[1] == "ms":
        cmd_ms(sys.argv[2])
    elif sys.argv[1] == "refs":
        cmd_refs(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "directions":
        cmd_directions(sys.argv[2])
    elif sys.argv[1] == "bundle":
        cmd_bundle(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)

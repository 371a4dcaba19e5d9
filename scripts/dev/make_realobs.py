"""Make the 'real observation' test MSs of issue 13 and their tclean references.

Run with a Python that has casatools/casatasks 6.7 (PyPI wheels) and casadata:
    python scripts/dev/make_realobs.py ms OUTDIR            # simulate the MSs into OUTDIR (seeded)
    python scripts/dev/make_realobs.py refs MSDIR REFDIR    # tclean references of every case
    python scripts/dev/make_realobs.py bundle MSDIR REFDIR  # tarballs + compact FITS/JSON into testdata/
    python scripts/dev/make_realobs.py refs MSDIR REFDIR NAME...    # only these cases
    python scripts/dev/make_realobs.py bundle MSDIR REFDIR NAME...  # only these cases' FITS and
                                       # entries of realobs.json (the rest and the tarballs kept)

Everything is deterministic: fixed antenna configurations (casadata simmos .cfg files), fixed
reference times, fixed noise seeds. The MSs are made with the casatools `simulator`; the sky is a
componentlist of point sources (some polarised) that `simulator.predict` turns into visibilities
for the MS's feeds and correlations, so the data are what CASA itself holds for these phase centres.
"""
import gzip
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np


# --------------------------------------------------------------------------------------------------
# MS definitions.  Sources are given as offsets (arcsec, east and north along great circles
# measured in the phase centre's own frame) from the phase centre, plus I, Q, U, V in Jy.
# --------------------------------------------------------------------------------------------------
VLA_SOURCES = [
    # name, dx", dy", I, Q, U, V
    ("bright_unpol", 0.0, 0.0, 2.0, 0.0, 0.0, 0.0),
    ("pol_a", 150.0, 90.0, 0.8, 0.12, -0.08, 0.02),
    ("pol_b", -120.0, -160.0, 0.6, -0.09, 0.10, -0.03),
    ("pol_c", -200.0, 110.0, 0.4, 0.05, 0.06, 0.0),
]
ALMA_SOURCES = [
    ("bright_unpol", 0.0, 0.0, 1.0, 0.0, 0.0, 0.0),
    ("pol_a", 6.0, 4.0, 0.5, 0.06, -0.04, 0.01),
    ("pol_b", -5.0, -7.0, 0.4, -0.05, 0.05, -0.02),
    ("pol_c", -9.0, 5.0, 0.3, 0.03, 0.035, 0.0),
]
# EVLA L band, D configuration: sources spread over the primary beam (half power radius ~15' at
# 1.5 GHz; first null ~29' at 1.75 GHz in the EVLA model).
EVLA_SOURCES = [
    ("centre", 0.0, 0.0, 1.0, 0.0, 0.0, 0.0),
    ("half_power", 900.0, 0.0, 1.0, 0.0, 0.0, 0.0),
    ("mid", -300.0, 480.0, 0.5, 0.0, 0.0, 0.0),
    ("near_null", 0.0, -1560.0, 1.0, 0.0, 0.0, 0.0),
]

MSDEFS = {
    "vla_b1950_fullpol.ms": dict(
        telescope="VLA", cfg="vla.c.cfg", frame="B1950", ra="13h28m49.657s", dec="+30d45m58.64s",
        spws=[("L1", "1.385GHz", "64MHz", 1)], stokes="RR RL LR LL", feed="perfect R L",
        t0="2020/06/01/00:00:00", integ="600s", span=("-2h", "2h"), noise="0.01Jy", seed=1950,
        sources=VLA_SOURCES, vp=False, flag_partial=True),
    "vla_b1950vla_fullpol.ms": dict(
        telescope="VLA", cfg="vla.c.cfg", frame="B1950_VLA", ra="13h28m49.657s", dec="+30d45m58.64s",
        spws=[("L1", "1.385GHz", "64MHz", 1)], stokes="RR RL LR LL", feed="perfect R L",
        t0="2020/06/01/00:00:00", integ="600s", span=("-2h", "2h"), noise="0.01Jy", seed=1979,
        sources=VLA_SOURCES, vp=False, flag_partial=True),
    "alma_linear_fullpol.ms": dict(
        telescope="ALMA", cfg="alma.cycle10.2.cfg", frame="ICRS", ra="05h35m17.3s", dec="-05d23m28s",
        spws=[("B3", "100.0GHz", "0.5GHz", 4)], stokes="XX XY YX YY", feed="perfect X Y",
        t0="2020/12/01/00:00:00", integ="900s", span=("-1h", "1h"), noise="0.02Jy", seed=12,
        sources=ALMA_SOURCES, vp=False, flag_partial=False),
    "evla_lband_pb.ms": dict(
        telescope="EVLA", cfg="vla.d.cfg", frame="J2000", ra="10h00m00s", dec="+35d00m00s",
        spws=[("L_lo", "1.25GHz", "64MHz", 2), ("L_hi", "1.75GHz", "64MHz", 2)], stokes="RR LL",
        feed="perfect R L", t0="2020/03/01/00:00:00", integ="900s", span=("-2h", "2h"), noise="0.01Jy",
        seed=1500, sources=EVLA_SOURCES, vp=True, flag_partial=False),
    "vla_multifield.ms": dict(
        telescope="VLA", cfg="vla.c.cfg", frame="J2000", ra="15h00m00s", dec="+20d00m00s",
        spws=[("L1", "1.4GHz", "64MHz", 1)], stokes="RR LL", feed="perfect R L",
        t0="2020/05/01/00:00:00", integ="600s", span=("-2h", "2h"), noise="0.01Jy", seed=3,
        fields=[("F0", 0.0, 0.0), ("F1", 600.0, 0.0), ("F2", 0.0, 600.0)],
        sources=[("c0", 0.0, 0.0, 1.0, 0, 0, 0), ("c1", 600.0, 30.0, 0.8, 0, 0, 0), ("c2", -40.0, 600.0, 0.6, 0, 0, 0),
                 ("between", 300.0, 300.0, 0.5, 0, 0, 0)], vp=True, flag_partial=False),
    # made for the pb work but not bundled (size): /work/realobs only
    "evla_sband_pb.ms": dict(
        telescope="EVLA", cfg="vla.d.cfg", frame="J2000", ra="08h00m00s", dec="+40d00m00s",
        spws=[("S", "3.0GHz", "128MHz", 2)], stokes="RR LL", feed="perfect R L", t0="2020/02/01/00:00:00",
        integ="1800s", span=("-2h", "2h"), noise="0.01Jy", seed=3000,
        sources=[("centre", 0.0, 0.0, 1.0, 0, 0, 0), ("half_power", 450.0, 0.0, 1.0, 0, 0, 0),
                 ("outer", 0.0, -800.0, 1.0, 0, 0, 0)], vp=True, flag_partial=False, bundle=False),
    # FIELD directions as polynomials in time (NUM_POLY = 1): the phase centre tracks a moving
    # target; visibilities by exact DFT (simulator convention, checked against simulator.predict
    # to 1e-7 Jy) for sources fixed on the sky and one moving with the phase centre
    "vla_numpoly.ms": dict(
        telescope="VLA", cfg="vla.c.cfg", frame="J2000", ra="12h00m00s", dec="+10d00m00s",
        spws=[("C1", "4.86GHz", "128MHz", 1)], stokes="RR LL", feed="perfect R L",
        t0="2020/04/01/00:00:00", integ="1200s", span=("-2h", "2h"), noise="0.01Jy", seed=42,
        rate_arcsec_per_min=(0.5, 0.3),  # on-sky motion of the phase centre: east, north
        sources=[("fixed_centre", 0.0, 0.0, 1.0, 0, 0, 0), ("fixed_off", 40.0, -25.0, 0.5, 0, 0, 0)],
        comoving=[("comet", 15.0, 20.0, 0.7, 0, 0, 0)], vp=False, flag_partial=False, numpoly=True),
    "vla_galactic.ms": dict(
        telescope="VLA", cfg="vla.c.cfg", frame="GALACTIC", ra="30.0deg", dec="2.0deg",
        spws=[("C1", "4.86GHz", "128MHz", 1)], stokes="RR LL", feed="perfect R L",
        t0="2020/08/01/00:00:00", integ="600s", span=("-2h", "2h"), noise="0.01Jy", seed=3000,
        sources=[("bright_unpol", 0.0, 0.0, 1.0, 0, 0, 0), ("off", 60.0, -40.0, 0.5, 0, 0, 0),
                 ("off2", -50.0, 70.0, 0.3, 0, 0, 0)], vp=False, flag_partial=False),
}


def simmos_dir():
    import casadata
    return os.path.join(os.path.dirname(casadata.__file__), "__data__", "alma", "simmos")


def offset_direction(me, qa, centre, dx_arcsec, dy_arcsec):
    """Direction at offset (dx east, dy north, arcsec) from centre along great circles, same frame."""
    import math
    sep = math.hypot(dx_arcsec, dy_arcsec)
    if sep == 0.0:
        return centre
    pa = math.degrees(math.atan2(dx_arcsec, dy_arcsec))
    d = me.shift(centre, qa.quantity(sep, "arcsec"), qa.quantity(pa, "deg"))
    return d


def source_table(me, qa, centre, sources):
    """Each source's position in the centre's frame and in J2000 (rad), for the README/JSON."""
    out = []
    for name, dx, dy, i, q, u, v in sources:
        d = offset_direction(me, qa, centre, dx, dy)
        j2000 = me.measure(d, "J2000")
        out.append(dict(name=name, dx_arcsec=dx, dy_arcsec=dy, iquv_jy=[i, q, u, v],
                        frame=d["refer"], lon_rad=d["m0"]["value"], lat_rad=d["m1"]["value"],
                        j2000_ra_rad=j2000["m0"]["value"], j2000_dec_rad=j2000["m1"]["value"]))
    return out


def make_ms(outdir, name, spec):
    from casatools import simulator, measures, quanta, componentlist, table
    from casatasks.private.simutil import simutil
    sm, me, qa, cl, tb = simulator(), measures(), quanta(), componentlist(), table()
    path = os.path.join(outdir, name)
    shutil.rmtree(path, ignore_errors=True)
    x, y, z, d, pads, ants, telname, posobs = simutil().readantenna(os.path.join(simmos_dir(), spec["cfg"]))
    centre = me.direction(spec["frame"], spec["ra"], spec["dec"])
    me.doframe(me.observatory(spec["telescope"]))
    sm.open(path)
    sm.setconfig(telescopename=spec["telescope"], x=x, y=y, z=z, dishdiameter=d.tolist(), mount="alt-az",
                 antname=list(ants), padname=list(pads), coordsystem="global",
                 referencelocation=me.observatory(spec["telescope"]))
    for spw, f0, df, nch in spec["spws"]:
        sm.setspwindow(spwname=spw, freq=f0, deltafreq=df, freqresolution=df, nchannels=nch,
                       stokes=spec["stokes"], refcode="TOPO")
    sm.setfeed(mode=spec["feed"])
    fields = spec.get("fields")
    if fields is None:
        sm.setfield(sourcename="TARGET", sourcedirection=centre)
    else:
        for fname, dx, dy in fields:
            sm.setfield(sourcename=fname, sourcedirection=offset_direction(me, qa, centre, dx, dy))
    sm.setlimits(shadowlimit=0.001, elevationlimit="8deg")
    sm.setauto(autocorrwt=0.0)
    sm.settimes(integrationtime=spec["integ"], usehourangle=True, referencetime=me.epoch("utc", spec["t0"]))
    if fields is None:
        for spw, *_ in spec["spws"]:
            sm.observe("TARGET", spw, starttime=spec["span"][0], stoptime=spec["span"][1])
    else:
        # fields in turn, one integration each, over the hour-angle span
        start, stop = (qa.convert(qa.quantity(t), "s")["value"] for t in spec["span"])
        step = qa.convert(qa.quantity(spec["integ"]), "s")["value"]
        t, k = start, 0
        while t + step <= stop + 1e-6:
            sm.observe(fields[k % len(fields)][0], spec["spws"][0][0], starttime="%.1fs" % t,
                       stoptime="%.1fs" % (t + step))
            t, k = t + step, k + 1
    sm.close()
    if spec.get("numpoly"):
        return make_numpoly(path, spec, centre)
    # The simulator stores the phase centre converted to J2000; a frame other than J2000 is
    # written back into FIELD as given and the UVW recomputed in that frame (as casacore's
    # measures compute them), so that predict phases the visibilities for that phase centre.
    reframed = reframe(path, centre, spec["telescope"])
    me.doframe(me.epoch("utc", spec["t0"]))
    # sky: point sources in J2000 (as a catalogue gives them), placed at offsets in the centre's frame
    clpath = path + ".cl"
    shutil.rmtree(clpath, ignore_errors=True)
    srcs = source_table(me, qa, centre, spec["sources"])
    reffreq = spec["spws"][0][1]
    for s in srcs:
        dj = me.direction("J2000", qa.quantity(s["j2000_ra_rad"], "rad"), qa.quantity(s["j2000_dec_rad"], "rad"))
        cl.addcomponent(dir=dj, flux=s["iquv_jy"], fluxunit="Jy", freq=reffreq, shape="point",
                        polarization="Stokes", spectrumtype="constant", label=s["name"])
    cl.rename(clpath)
    cl.close()
    sm.openfromms(path)
    sm.setvp(dovp=spec["vp"], usedefaultvp=True)
    sm.predict(complist=clpath, incremental=False)
    sm.setseed(spec["seed"])
    sm.setnoise(mode="simplenoise", simplenoise=spec["noise"])
    sm.corrupt()
    sm.close()
    shutil.rmtree(clpath, ignore_errors=True)
    # only DATA is kept (tclean's datacolumn='corrected' falls back to DATA when CORRECTED_DATA is absent)
    tb.open(path, nomodify=False)
    extra = [c for c in ("MODEL_DATA", "CORRECTED_DATA") if c in tb.colnames()]
    if extra:
        tb.removecols(extra)
    tb.close()
    flagged = None
    if spec["flag_partial"]:
        flagged = flag_partial(path, spec["seed"])
    tb.open(path)
    nrow = tb.nrows()
    tb.close()
    tb.open(path + "/FIELD")
    phase_dir = tb.getcol("PHASE_DIR")[:, 0, 0].tolist()
    measinfo = tb.getcolkeywords("PHASE_DIR")
    tb.close()
    return dict(name=name, rows=nrow, telescope=spec["telescope"], cfg=spec["cfg"], frame_requested=spec["frame"],
                field_phase_dir_rad=phase_dir, field_measinfo=measinfo, centre=[spec["ra"], spec["dec"]],
                spws=spec["spws"], correlations=spec["stokes"], feed=spec["feed"], t0_utc=spec["t0"],
                hour_angle_span=spec["span"], integration=spec["integ"], noise_per_vis=spec["noise"],
                seed=spec["seed"], primary_beam_applied_in_predict=spec["vp"], sources=srcs,
                field_rewritten_and_uvw_recomputed=reframed,
                partial_flags=flagged)


def antenna_uvw(me, qa, pos, telescope, direction, t, a1, a2):
    """UVW (3, nrow) of rows at one time t in the frame of `direction` (simulator convention)."""
    me.doframe(me.observatory(telescope))
    me.doframe(direction)
    me.doframe(me.epoch("utc", qa.quantity(t, "s")))
    rel = pos - pos[:, :1]
    b = me.baseline("itrf", qa.quantity(rel[0], "m"), qa.quantity(rel[1], "m"), qa.quantity(rel[2], "m"))
    xyz = np.array(me.touvw(b)[1]["value"]).reshape(-1, 3).T
    return xyz[:, a1] - xyz[:, a2]


def lmn(ra0, dec0, ra, dec):
    l_ = np.cos(dec) * np.sin(ra - ra0)
    m_ = np.sin(dec) * np.cos(dec0) - np.cos(dec) * np.sin(dec0) * np.cos(ra - ra0)
    return l_, m_, np.sqrt(1.0 - l_ * l_ - m_ * m_)


def make_numpoly(path, spec, centre):
    """FIELD with NUM_POLY = 1 (direction + rate about FIELD TIME),
    UVW per row for the direction at the row's time, DATA by exact DFT, seeded Gaussian noise."""
    from casatools import table, measures, quanta
    tb, me, qa = table(), measures(), quanta()
    tb.open(path + "/ANTENNA")
    pos = tb.getcol("POSITION")
    tb.close()
    tb.open(path + "/SPECTRAL_WINDOW")
    freqs = tb.getcol("CHAN_FREQ")[:, 0]
    tb.close()
    tb.open(path, nomodify=False)
    t, a1, a2 = tb.getcol("TIME"), tb.getcol("ANTENNA1"), tb.getcol("ANTENNA2")
    data = tb.getcol("DATA")
    ra0, dec0 = centre["m0"]["value"], centre["m1"]["value"]
    # FIELD TIME one hour after the first integration: neither the first nor the middle time, so a
    # reference made from these data tells which time tclean evaluates the direction at
    tref = t.min() + 3600.0
    east, north = spec["rate_arcsec_per_min"]
    rate = np.array([east / np.cos(dec0), north]) / 60.0 / 206264.80624709636  # rad/s in RA, Dec

    def at(tt):
        return ra0 + rate[0] * (tt - tref), dec0 + rate[1] * (tt - tref)
    fixed = []
    for name, dx, dy, i, q, u, v in spec["sources"]:
        d = offset_direction(me, qa, centre, dx, dy)
        fixed.append((d["m0"]["value"], d["m1"]["value"], i, v))
    uvw = np.zeros((3, len(t)))
    vis = np.zeros(data.shape, dtype=complex)
    c = 299792458.0
    for tt in np.unique(t):
        sel = np.nonzero(t == tt)[0]
        ra_t, dec_t = at(tt)
        d_t = me.direction("J2000", qa.quantity(ra_t, "rad"), qa.quantity(dec_t, "rad"))
        uvw[:, sel] = antenna_uvw(me, qa, pos, spec["telescope"], d_t, tt, a1[sel], a2[sel])
        comps = list(fixed)
        for name, dx, dy, i, q, u, v in spec["comoving"]:
            d = offset_direction(me, qa, d_t, dx, dy)
            comps.append((d["m0"]["value"], d["m1"]["value"], i, v))
        for ra, dec, i, v in comps:
            l_, m_, n_ = lmn(ra_t, dec_t, ra, dec)
            phase = np.exp(2j * np.pi * np.outer(freqs / c, uvw[0, sel] * l_ + uvw[1, sel] * m_ + uvw[2, sel] * (n_ - 1)))
            vis[0, :, sel] += ((i + v) * phase).T  # RR = I + V
            vis[1, :, sel] += ((i - v) * phase).T  # LL = I - V
    rng = np.random.default_rng(spec["seed"])
    sigma = qa.convert(qa.quantity(spec["noise"]), "Jy")["value"]
    vis += sigma * (rng.standard_normal(vis.shape) + 1j * rng.standard_normal(vis.shape))
    tb.putcol("DATA", vis.astype(np.complex64))
    tb.putcol("UVW", uvw)
    extra = [col for col in ("MODEL_DATA", "CORRECTED_DATA") if col in tb.colnames()]
    if extra:
        tb.removecols(extra)
    nrow = tb.nrows()
    tb.close()
    tb.open(path + "/FIELD", nomodify=False)
    for col in ("PHASE_DIR", "DELAY_DIR", "REFERENCE_DIR"):
        tb.putcell(col, 0, np.array([[ra0, rate[0]], [dec0, rate[1]]]))
    tb.putcell("NUM_POLY", 0, 1)
    tb.putcell("TIME", 0, tref)
    tb.close()
    srcs = source_table(me, qa, centre, spec["sources"])
    return dict(name=os.path.basename(path), rows=nrow, telescope=spec["telescope"], cfg=spec["cfg"],
                frame_requested=spec["frame"], centre=[spec["ra"], spec["dec"]], field_num_poly=1,
                field_time_mjd_s=tref, field_phase_dir_rad=[[ra0, rate[0]], [dec0, rate[1]]],
                rate_arcsec_per_min_east_north=spec["rate_arcsec_per_min"], spws=spec["spws"],
                correlations=spec["stokes"], t0_utc=spec["t0"], hour_angle_span=spec["span"],
                integration=spec["integ"], noise_per_vis=spec["noise"] + " (real and imaginary parts, numpy seed)",
                seed=spec["seed"], sources_fixed=srcs,
                sources_comoving=[dict(name=n, dx_arcsec=dx, dy_arcsec=dy, iquv_jy=[i, q, u, v],
                                       offset_from="phase centre at the row's time")
                                  for n, dx, dy, i, q, u, v in spec["comoving"]],
                visibilities="exact DFT, V = S exp(+2 pi i f/c (u l + v m + w (n - 1))) (simulator convention)")


def reframe(path, centre, telescope):
    """Write `centre` (any frame) into FIELD's PHASE/DELAY/REFERENCE_DIR and recompute UVW in its frame."""
    from casatools import table, measures, quanta
    tb, me, qa = table(), measures(), quanta()
    tb.open(path + "/FIELD", nomodify=False)
    written = tb.getcolkeywords("PHASE_DIR")["MEASINFO"]["Ref"]
    value = np.array([centre["m0"]["value"], centre["m1"]["value"]])
    if written == centre["refer"] and np.allclose(tb.getcol("PHASE_DIR")[:, 0, 0], value, atol=1e-12):
        tb.close()
        return False
    for col in ("PHASE_DIR", "DELAY_DIR", "REFERENCE_DIR"):
        kw = tb.getcolkeywords(col)
        kw["MEASINFO"]["Ref"] = centre["refer"]
        tb.putcolkeywords(col, kw)
        arr = tb.getcol(col)
        arr[:, 0, :] = value[:, None]
        tb.putcol(col, arr)
    tb.close()
    tb.open(path + "/ANTENNA")
    pos = tb.getcol("POSITION")
    tb.close()
    tb.open(path, nomodify=False)
    t, a1, a2 = tb.getcol("TIME"), tb.getcol("ANTENNA1"), tb.getcol("ANTENNA2")
    uvw = np.zeros((3, len(t)))
    me.doframe(me.observatory(telescope))
    me.doframe(centre)
    rel = pos - pos[:, :1]
    for tt in np.unique(t):
        me.doframe(me.epoch("utc", qa.quantity(tt, "s")))
        b = me.baseline("itrf", qa.quantity(rel[0], "m"), qa.quantity(rel[1], "m"), qa.quantity(rel[2], "m"))
        xyz = np.array(me.touvw(b)[1]["value"]).reshape(-1, 3).T
        sel = t == tt
        # the simulator's convention (checked against its own J2000 UVW to 5 cm): X(ant1) - X(ant2)
        uvw[:, sel] = xyz[:, a1[sel]] - xyz[:, a2[sel]]
    tb.putcol("UVW", uvw)
    kw = tb.getcolkeywords("UVW")
    kw["MEASINFO"]["Ref"] = centre["refer"]
    tb.putcolkeywords("UVW", kw)
    tb.close()
    return True


def flag_partial(path, seed):
    """Flag RL and LR (correlations 1, 2) on a few rows, and RR (0) alone on a few others."""
    from casatools import table
    tb = table()
    tb.open(path, nomodify=False)
    flag = tb.getcol("FLAG")  # (ncorr, nchan, nrow)
    nrow = flag.shape[2]
    rng = np.random.default_rng(seed)
    rows = rng.permutation(nrow)
    cross = np.sort(rows[: nrow // 10])
    rr = np.sort(rows[nrow // 10: nrow // 10 + nrow // 20])
    flag[1:3, :, cross] = True
    flag[0, :, rr] = True
    tb.putcol("FLAG", flag)
    tb.close()
    return dict(cross_hands_flagged_rows=len(cross), rr_only_flagged_rows=len(rr),
                rule="numpy default_rng(seed).permutation(nrow): first 10% -> RL,LR flagged; next 5% -> RR flagged")


def cmd_ms(outdir, names):
    os.makedirs(outdir, exist_ok=True)
    info = {}
    jpath = os.path.join(outdir, "realobs_ms.json")
    if os.path.exists(jpath):
        info = json.load(open(jpath))
    for name in names or MSDEFS:
        print("making", name, flush=True)
        info[name] = make_ms(outdir, name, MSDEFS[name])
        print(json.dumps({k: info[name].get(k) for k in ("rows", "field_phase_dir_rad", "field_measinfo")},
                         default=str), flush=True)
    with open(jpath, "w") as f:
        json.dump(info, f, indent=1, default=str)


# --------------------------------------------------------------------------------------------------
# tclean references.  Each case: tclean keyword arguments (vis relative to MSDIR, imagename set
# here) and the products kept.  `crop`: products stored as the inner 60% of the image (what the
# tests compare); `full`: products stored whole (pb, model).
# --------------------------------------------------------------------------------------------------
COMMON = dict(specmode="mfs", gridder="standard", deconvolver="hogbom", weighting="briggs", robust=0.5,
              parallel=False)
VLA = dict(COMMON, vis="vla_b1950_fullpol.ms", imsize=[256, 256], cell="3arcsec", pblimit=-0.01)
ALMA = dict(COMMON, vis="alma_linear_fullpol.ms", imsize=[256, 256], cell="0.3arcsec", pblimit=0.2)
EVLA = dict(COMMON, vis="evla_lband_pb.ms", imsize=[256, 256], cell="15arcsec", pblimit=0.1, stokes="I")
CASES = {
    "vla_b1950_I_dirty": (dict(VLA, stokes="I", niter=0), ["psf", "residual"], []),
    "vla_b1950_IQUV_dirty": (dict(VLA, stokes="IQUV", niter=0), ["psf", "residual"], []),
    "vla_b1950_IQUV_clean": (dict(VLA, stokes="IQUV", niter=300, threshold="2mJy"), ["image"], ["model"]),
    "vla_b1950_IQUV_clarkstokes": (dict(VLA, stokes="IQUV", deconvolver="clarkstokes", niter=300,
                                        threshold="2mJy"), ["image"], ["model"]),
    "vla_b1950_IV_dirty": (dict(VLA, stokes="IV", niter=0), ["residual"], []),
    "vla_b1950_QU_dirty": (dict(VLA, stokes="QU", niter=0), ["residual"], []),
    "vla_b1950_RR_dirty": (dict(VLA, stokes="RR", niter=0), ["residual"], []),
    "vla_b1950_RRLL_dirty": (dict(VLA, stokes="RRLL", niter=0), ["residual"], []),
    "vla_b1950_pseudoI_dirty": (dict(VLA, stokes="pseudoI", niter=0), ["residual"], []),
    "vla_b1950vla_I_dirty": (dict(VLA, vis="vla_b1950vla_fullpol.ms", stokes="I", niter=0), ["psf", "residual"], []),
    "alma_I_dirty": (dict(ALMA, stokes="I", niter=0), ["psf", "residual"], ["pb"]),
    "alma_IQUV_dirty": (dict(ALMA, stokes="IQUV", niter=0), ["psf", "residual"], []),
    "alma_IQUV_clean": (dict(ALMA, stokes="IQUV", niter=300, threshold="2mJy"), ["image"], ["model"]),
    "alma_IQUV_cube_dirty": (dict(ALMA, stokes="IQUV", specmode="cube", imsize=[128, 128], niter=0),
                             ["psf", "residual"], []),
    "alma_XX_dirty": (dict(ALMA, stokes="XX", niter=0), ["residual"], []),
    "alma_XXYY_dirty": (dict(ALMA, stokes="XXYY", niter=0), ["residual"], []),
    "evla_I_dirty": (dict(EVLA, niter=0), ["psf", "residual"], ["pb"]),
    "evla_spw1_I_dirty": (dict(EVLA, spw="1", niter=0), ["psf", "residual"], ["pb"]),
    "evla_I_clean_pbcor": (dict(EVLA, niter=200, threshold="5mJy", pbcor=True), ["image", "residual", "image.pbcor"],
                           ["model"]),
    # phasecenter in another frame than the data's: UVW rotated and visibilities re-phased
    "vla_b1950_I_pc_j2000": (dict(VLA, stokes="I", niter=0, phasecenter="J2000 13h31m10.00s +30d31m00.0s"),
                             ["psf", "residual"], []),
    "evla_I_pc_galactic": (dict(EVLA, niter=0, phasecenter="GALACTIC 189.9deg 52.76deg"), ["psf", "residual"], ["pb"]),
    # several fields: one selected by id; all of them gridded at a field's phase centre (standard gridder)
    "multifield_F1_I_dirty": (dict(COMMON, vis="vla_multifield.ms", field="1", imsize=[256, 256], cell="3arcsec",
                                   pblimit=0.2, stokes="I", niter=0), ["psf", "residual"], ["pb"]),
    "multifield_all_pc1_I_dirty": (dict(COMMON, vis="vla_multifield.ms", phasecenter=1, imsize=[256, 256],
                                        cell="3arcsec", pblimit=-0.01, stokes="I", niter=0), ["psf", "residual"], []),
    # FIELD directions as polynomials in time (tclean's image centre: the polynomial at FIELD TIME)
    "numpoly_I_dirty": (dict(COMMON, vis="vla_numpoly.ms", imsize=[256, 256], cell="1arcsec", pblimit=-0.01,
                             stokes="I", niter=0), ["psf", "residual"], []),
    "galactic_I_dirty": (dict(COMMON, vis="vla_galactic.ms", imsize=[256, 256], cell="1arcsec", pblimit=-0.01,
                              stokes="I", niter=0), ["psf", "residual"], []),
    # where the primary beam points with the standard gridder: on the field's phase centre, not on the
    # image centre (phasecenter 6.1' east and 4' north of the field); one beam per selected
    # field summed and divided by its peak (fields 0 and 2 imaged at field 1's phase centre)
    "evla_I_pc_offset": (dict(EVLA, niter=0, imsize=[128, 128], phasecenter="J2000 10h00m30.0s +35d04m00.0s"),
                         ["residual"], ["pb"]),
    "multifield_F02_pc1_pb": (dict(COMMON, vis="vla_multifield.ms", field="0,2", phasecenter=1, imsize=[256, 256],
                                   cell="6arcsec", pblimit=0.2, stokes="I", niter=0), ["residual"], ["pb"]),
}
# not bundled (the MS is not in testdata/): references in REFDIR only
EXTRA_CASES = {
    "evla_sband_I_dirty": (dict(COMMON, vis="evla_sband_pb.ms", imsize=[256, 256], cell="7arcsec", pblimit=0.1,
                                stokes="I", niter=0), ["psf", "residual"], ["pb"]),
}
CROP_FRACTION = 0.6
KEPT_RECORDS = ("image", "psf", "residual", "pb", "model", "image.pbcor")
PRODUCTS = ("image", "psf", "residual", "pb", "model", "sumwt", "mask", "image.pbcor", "weight")


def jsonable(x):
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, bytes):
        return x.decode()
    return x


def tclean_refs(msdir, refdir, cases, names):
    """tclean run for each case of `cases` (name -> (params, crop, full)) named in `names` (all when
    empty) into `refdir`: the products, `<name>.json` (params, CASA version, each product's
    coordinates, shape, beam, unit) and FITS exports of the products `crop` and `full` name."""
    from casatasks import tclean, exportfits
    from casatools import image
    import casatasks
    ia = image()
    os.makedirs(refdir, exist_ok=True)
    for name in names or cases:
        params, crop, full = cases[name]
        kw = dict(params)
        kw["vis"] = os.path.join(msdir, params["vis"])
        stem = os.path.join(refdir, name)
        for p in PRODUCTS:
            shutil.rmtree("%s.%s" % (stem, p), ignore_errors=True)
        print("tclean", name, flush=True)
        tclean(imagename=stem, **kw)
        info = dict(params=params, casa=casatasks.version_string(), products={})
        for p in PRODUCTS:
            path = "%s.%s" % (stem, p)
            if not os.path.isdir(path):
                continue
            ia.open(path)
            rec = dict(coordsys=jsonable(ia.coordsys().torecord()), shape=jsonable(ia.shape()),
                       beam=jsonable(ia.restoringbeam()), unit=ia.brightnessunit())
            ia.close()
            info["products"][p] = rec
            if p in crop or p in full:
                exportfits(imagename=path, fitsimage=path + ".fits", overwrite=True)
        with open(stem + ".json", "w") as f:
            json.dump(info, f, indent=1)


def cmd_refs(msdir, refdir, names):
    tclean_refs(msdir, refdir, {**CASES, **EXTRA_CASES}, names)


def compact_fits(src, dst, crop, label):
    """FITS `src` (a tclean export) gzipped to `dst` without a time stamp (the same references give
    the same bytes); `crop`: keep only the inner CROP_FRACTION of the image (CRPIX shifted,
    PCCROP = "x0,y0", a HISTORY line naming the pixels and `label`). Returns (x0, y0)."""
    from astropy.io import fits
    h = fits.open(src)
    hdr, data = h[0].header.copy(), h[0].data
    x0 = y0 = 0
    if crop:
        ny, nx = data.shape[-2:]
        x0, y0 = int(round(nx * (1 - CROP_FRACTION) / 2)), int(round(ny * (1 - CROP_FRACTION) / 2))
        x1, y1 = nx - x0, ny - y0
        data = data[..., y0:y1, x0:x1]
        hdr["CRPIX1"] -= x0
        hdr["CRPIX2"] -= y0
        hdr["PCCROP"] = "%d,%d" % (x0, y0)
        hdr.add_history("pclean testdata: pixels [%d:%d, %d:%d] (x, y, 0-based) of tclean %s"
                        % (x0, x1, y0, y1, label))
    buf = io.BytesIO()
    fits.PrimaryHDU(data.astype(np.float32), hdr).writeto(buf)
    with gzip.GzipFile(dst, "wb", mtime=0) as f:
        f.write(buf.getvalue())
    return x0, y0


def cmd_bundle(msdir, refdir, names=()):
    """Tarballs of the MSs and compact references into testdata/; with `names`, only those cases'
    references and realobs.json entries (the other cases and the tarballs are left as they are)."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    out_dir = os.path.join(root, "testdata", "reference", "realobs")
    os.makedirs(out_dir, exist_ok=True)
    summary = {"crop_fraction": CROP_FRACTION, "cases": {}}
    if names:
        summary = json.load(open(os.path.join(out_dir, "realobs.json")))
    for name, (params, crop, full) in CASES.items():
        if names and name not in names:
            continue
        info = json.load(open(os.path.join(refdir, name + ".json")))
        info["stored"] = {}
        # coordinate records of the products pclean writes too (sumwt/mask/weight left out)
        info["products"] = {k: v for k, v in info["products"].items() if k in KEPT_RECORDS}
        for p in crop + full:
            fname = "%s.%s%s.fits.gz" % (name, p, ".crop" if p in crop else "")
            x0, y0 = compact_fits(os.path.join(refdir, "%s.%s.fits" % (name, p)), os.path.join(out_dir, fname),
                                  p in crop, "%s.%s" % (name, p))
            info["stored"][p] = dict(file=fname, x0=x0, y0=y0)
        summary["cases"][name] = info
    if names:
        with open(os.path.join(out_dir, "realobs.json"), "w") as f:
            json.dump(summary, f, separators=(",", ":"))
        return
    summary["ms"] = {k: v for k, v in json.load(open(os.path.join(msdir, "realobs_ms.json"))).items()
                     if MSDEFS[k].get("bundle", True)}
    with open(os.path.join(out_dir, "realobs.json"), "w") as f:
        json.dump(summary, f, separators=(",", ":"))
    for name in (n for n, spec in MSDEFS.items() if spec.get("bundle", True)):
        dst = os.path.join(root, "testdata", "realobs_%s.tar.gz" % name[:-3])
        subprocess.run(["tar", "czf", dst, "--owner=0", "--group=0", "--mtime=2026-01-01", "--sort=name",
                        "-C", msdir, name], check=True)
        print(dst, os.path.getsize(dst))


if __name__ == "__main__":
    if sys.argv[1] == "ms":
        cmd_ms(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "refs":
        cmd_refs(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "bundle":
        cmd_bundle(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        raise SystemExit(__doc__)

"""Make the tclean references of CASA's primary-beam models (testdata/reference/tclean_pb_profiles.json).

Needs casatools/casatasks 6.7 (PyPI) in the running Python:
    python scripts/dev/tclean_pb_refs.py WORKDIR [case ...]
It simulates one tiny MS (4 VLA antennas, one 2-minute scan, one channel; and a 3-channel copy for
the per-channel EVLA case), and for every case copies it, sets OBSERVATION::TELESCOPE_NAME,
ANTENNA::DISH_DIAMETER and the channel frequencies, and runs tclean (niter=0, standard gridder,
pblimit 1e-6, parallel=False). Each case writes WORKDIR/<case>.pb.f32 (the whole .pb image, float32
little-endian, [chan][y][x]) and WORKDIR/<case>.json (parameters, the image's cell and channel
frequencies, CASA's log lines about the primary beam). Then
    python scripts/dev/tclean_pb_refs.py --profiles WORKDIR
writes the committed testdata/reference/tclean_pb_profiles.json: for every case the geometry and,
per channel, the .pb along the row through the centre and along the diagonal (x = y) from the centre
outwards; and copies the voltage-pattern table of the `vptable` cases (one description of each
supported kind, made with casatools' vpmanager) to testdata/reference/tclean_vptable.tab.
"""
import json
import math
import os
import shutil
import sys

import numpy as np

# name, telescope, dish diameter (m), channel frequencies (GHz), maximum radius of the model
# (arcmin at 1 GHz, only used to size the image so that its edge lies beyond the model's cut).
CASES = [
    ("alma_230", "ALMA", 12.0, [230.0], 1.784 * 60),
    ("alma_100", "ALMA", 12.0, [100.0], 1.784 * 60),
    ("alma_7m", "ALMA", 7.0, [230.0], 3.568 * 60),
    ("aca_100", "ACA", 7.0, [100.0], 3.568 * 60),
    ("almasd_230", "ALMASD", 12.0, [230.0], 1.784 * 60),
    ("atf_100", "ATF", 12.0, [100.0], 1.784 * 60),
    ("vla_l", "VLA", 25.0, [1.4], 0.8564 * 60),
    ("vla_c", "VLA", 25.0, [5.0], 0.8564 * 60),
    ("vla_x", "VLA", 25.0, [8.4], 0.8564 * 60),
    ("vla_u", "VLA", 25.0, [15.0], 0.8564 * 60),
    ("vla_k", "VLA", 25.0, [22.0], 0.8564 * 60),
    ("vla_q", "VLA", 25.0, [45.0], 0.8564 * 60),
    ("vla_p", "VLA", 25.0, [0.33], 0.8564 * 60),
    ("vla_4", "VLA", 25.0, [0.074], 0.8564 * 60),
    ("vla_nvss", "VLA", 25.0, [3.0], 0.8564 * 60),
    ("evla_p", "EVLA", 25.0, [0.35], 58.0),
    ("evla_l", "EVLA", 25.0, [1.5], 58.0),
    ("evla_l_low", "EVLA", 25.0, [0.95], 58.0),
    ("evla_l_2000", "EVLA", 25.0, [2.001], 58.0),
    ("evla_s", "EVLA", 25.0, [3.0], 58.0),
    ("evla_c", "EVLA", 25.0, [6.0], 58.0),
    ("evla_x", "EVLA", 25.0, [10.0], 58.0),
    ("evla_x_10052", "EVLA", 25.0, [10.06], 58.0),
    ("evla_u", "EVLA", 25.0, [15.0], 58.0),
    ("evla_k", "EVLA", 25.0, [22.0], 58.0),
    ("evla_a", "EVLA", 25.0, [33.0], 58.0),
    ("evla_q", "EVLA", 25.0, [45.0], 58.0),
    ("evla_none", "EVLA", 25.0, [60.0], 58.0),
    ("evla_cube_l", "EVLA", 25.0, [1.0, 1.4, 1.8], 58.0),
    ("atca_16", "ATCA", 22.0, [2.1], 53.0),
    ("atca_c", "ATCA", 22.0, [5.5], 53.0),
    ("atca_x", "ATCA", 22.0, [9.0], 53.0),
    ("atca_k", "ATCA", 22.0, [20.0], 53.0),
    ("atca_q", "ATCA", 22.0, [40.0], 53.0),
    ("atca_w", "ATCA", 22.0, [95.0], 53.0),
    ("atca_l1", "ATCA", 22.0, [0.8], 53.0),
    ("atca_c_ri", "ATCA_C_RI", 22.0, [5.5], 21.07 * 5.5),
    ("wsrt_c", "WSRT", 25.0, [5.0], 60.0),
    ("wsrt_l", "WSRT", 25.0, [1.4], 60.0),
    ("wsrt_49", "WSRT", 25.0, [0.6], 60.0),
    ("wsrt_p", "WSRT", 25.0, [0.35], 60.0),
    ("wsrt_unknown", "WSRT", 25.0, [2.5], 60.0),
    ("gmrt", "GMRT", 45.0, [0.61], 1.1998662 * 25 / 45 * 43),
    ("ovro", "OVRO", 10.4, [100.0], 1.1998662 * 25 / 10.4 * 43),
    ("nrao12m", "NRAO12M", 12.0, [100.0], 1.1998662 * 25 / 12 * 43),
    ("nrao140ft", "NRAO140FT", 43.0, [5.0], 1.1998662 * 25 / 43 * 43),
    ("gbt", "GBT", 100.0, [1.4], 60.0 * 0.34),
    ("hatcreek", "HATCREEK", 6.1, [100.0], 215.0),
    ("bima", "BIMA", 6.1, [100.0], 215.0),
    ("irampdb", "IRAMPDB", 15.0, [100.0], 1.784 * 60),
    ("iram30m", "IRAM30M", 30.0, [230.0], 1.784 * 60),
    ("sma", "SMA", 6.0, [230.0], 52.3 / 2 * 3 / 1.1117 / 60 * 224),
    ("ata", "ATA", 6.1, [1.4], 3.568 * 60),
    ("ngvla", "NGVLA", 18.0, [10.0], 1.5 * 60),
    ("none_25m", "NONE", 25.0, [1.4], 1.1998662 * 25 / 25 * 43),
    ("meerkat", "MeerKAT", 13.5, [1.28], 1.1998662 * 25 / 13.5 * 43),
    ("unknown_0m", "MYSCOPE", 0.0, [1.4], 60.0),
]
# Cases imaged with `vptable` (the table of make_vptable): name, telescope, dish, GHz, maxrad.
VPTABLE_CASES = [
    ("vpt_airy", "MYAIRY", 12.0, [1.4], 1.5 * 60),
    ("vpt_gauss", "MYGAUSS", 12.0, [1.4], 1.5 * 60 * 1.4),
    ("vpt_poly", "MYPOLY", 25.0, [1.4], 0.8 * 60),
    ("vpt_ipoly", "MYIPOLY", 22.0, [1.4], 0.9 * 60),
    ("vpt_numeric", "MYNUMERIC", 25.0, [1.4], 0.7 * 60 * 1.4),
    ("vpt_cospoly", "MYCOSPOLY", 25.0, [1.4], 60.0),
    ("vpt_vla_builtin", "VLA", 25.0, [1.4], 58.0),
]
VPTABLE = "tclean_vptable.tab"
NPIX = 256
PBLIMIT = 1e-6


def make_vptable(path):
    """The voltage-pattern table of the VPTABLE_CASES (one description of each supported kind)."""
    import casatools

    vp = casatools.vpmanager()
    vp.reset()
    o = dict(telescope="OTHER", dopb=True)
    vp.setpbairy(othertelescope="MYAIRY", dishdiam="12m", blockagediam="1m", maxrad="1.5deg", reffreq="1GHz", **o)
    vp.setpbgauss(othertelescope="MYGAUSS", halfwidth="0.5deg", maxrad="1.5deg", reffreq="1.4GHz", isthispb="PB",
                  **o)
    vp.setpbpoly(othertelescope="MYPOLY", coeff=[1.0, -1.3e-3, 6.5e-7, -1.27e-10], maxrad="0.8deg",
                 reffreq="1GHz", isthispb="PB", **o)
    vp.setpbinvpoly(othertelescope="MYIPOLY", coeff=[1.0, 8.99e-4, 2.15e-6, -2.23e-9, 1.56e-12], maxrad="0.9deg",
                    reffreq="1GHz", isthispb="PB", **o)
    vp.setpbnumeric(othertelescope="MYNUMERIC", vect=[1.0, 0.95, 0.8, 0.6, 0.4, 0.2, 0.08, 0.02, 0.0],
                    maxrad="0.7deg", reffreq="1.4GHz", isthispb="PB", **o)
    vp.setpbcospoly(othertelescope="MYCOSPOLY", coeff=[0, 0, 0, 1], scale=[0, 0, 0, 0.01891], maxrad="1deg",
                    reffreq="1GHz", isthispb="VP", **o)
    shutil.rmtree(path, ignore_errors=True)
    vp.saveastable(path)
    vp.reset()


def make_base_ms(path, freqs_ghz):
    import casatools

    sm = casatools.simulator()
    me = casatools.measures()
    # Four antennas of the VLA's D configuration, local offsets (m) from the array centre.
    xs = [0.0, 40.0, -30.0, 10.0]
    ys = [0.0, 25.0, 35.0, -45.0]
    zs = [0.0, 0.0, 0.0, 0.0]
    sm.open(path)
    sm.setconfig(telescopename="VLA", x=xs, y=ys, z=zs, dishdiameter=[25.0] * 4, mount=["alt-az"] * 4,
                 antname=["A1", "A2", "A3", "A4"], padname=["P1", "P2", "P3", "P4"], coordsystem="local",
                 referencelocation=me.observatory("VLA"))
    step = freqs_ghz[1] - freqs_ghz[0] if len(freqs_ghz) > 1 else 0.001
    sm.setspwindow(spwname="s", freq=f"{freqs_ghz[0]}GHz", deltafreq=f"{step}GHz", freqresolution=f"{step}GHz",
                   nchannels=len(freqs_ghz), stokes="RR LL")
    sm.setfeed(mode="perfect R L")
    sm.setfield(sourcename="src", sourcedirection=me.direction("J2000", "10h00m00s", "+40d00m00s"))
    sm.setlimits(shadowlimit=0.0, elevationlimit="0deg")
    sm.setauto(autocorrwt=0.0)
    sm.settimes(integrationtime="60s", usehourangle=True, referencetime=me.epoch("utc", "2020/01/01/00:00:00"))
    sm.observe("src", "s", starttime="0s", stoptime="120s")
    sm.close()


def set_case(ms, telescope, dish, freqs_ghz):
    import casatools

    tb = casatools.table()
    tb.open(ms + "/OBSERVATION", nomodify=False)
    tb.putcol("TELESCOPE_NAME", np.array([telescope] * tb.nrows()))
    tb.close()
    tb.open(ms + "/ANTENNA", nomodify=False)
    tb.putcol("DISH_DIAMETER", np.full(tb.nrows(), dish))
    tb.close()
    f = np.array(freqs_ghz) * 1e9
    w = np.diff(f)[0] if len(f) > 1 else 1e6
    tb.open(ms + "/SPECTRAL_WINDOW", nomodify=False)
    tb.putcell("CHAN_FREQ", 0, f)
    tb.putcell("CHAN_WIDTH", 0, np.full(len(f), w))
    tb.putcell("EFFECTIVE_BW", 0, np.full(len(f), w))
    tb.putcell("RESOLUTION", 0, np.full(len(f), w))
    tb.putcell("REF_FREQUENCY", 0, f[0])
    tb.putcell("TOTAL_BANDWIDTH", 0, w * len(f))
    tb.close()


def run_case(workdir, case, vptable=""):
    import casatasks
    import casatools

    name, telescope, dish, freqs, maxrad_arcmin_ghz = case
    base = os.path.join(workdir, f"base{len(freqs)}.ms")
    if not os.path.exists(base):
        make_base_ms(base, freqs)
    ms = os.path.join(workdir, name + ".ms")
    shutil.rmtree(ms, ignore_errors=True)
    shutil.copytree(base, ms)
    set_case(ms, telescope, dish, freqs)
    # Image edge ~1.2 times the model's cut at the lowest frequency; an odd number of
    # milli-arcseconds so that pixel radii do not line up with the model's table.
    half_arcsec = 1.2 * maxrad_arcmin_ghz * 60.0 / min(freqs)
    cell = round(math.floor(half_arcsec / (NPIX / 2) * 1000.0) / 1000.0 + 0.00037, 5)
    imagename = os.path.join(workdir, name)
    for ext in (".pb", ".psf", ".residual", ".sumwt", ".weight", ".image", ".model"):
        shutil.rmtree(imagename + ext, ignore_errors=True)
    params = dict(vis=ms, imagename=imagename, imsize=[NPIX, NPIX], cell=f"{cell}arcsec",
                  specmode="cube" if len(freqs) > 1 else "mfs", gridder="standard", niter=0,
                  pblimit=PBLIMIT, weighting="natural", parallel=False, vptable=vptable)
    error = None
    try:
        casatasks.tclean(**params)
    except Exception as e:  # noqa: BLE001 - recorded in the reference
        error = str(e)
    out = dict(name=name, telescope=telescope, vptable=os.path.basename(vptable), dish_diameter_m=dish, data_freqs_ghz=freqs, npix=NPIX,
               cell_arcsec=cell, pblimit=PBLIMIT, tclean=dict((k, v) for k, v in params.items() if k != "vis"),
               casa_version=casatools.version_string(), error=error)
    if os.path.exists(imagename + ".pb"):
        ia = casatools.image()
        ia.open(imagename + ".pb")
        pb = ia.getchunk()  # [x, y, stokes, chan]
        cs = ia.coordsys()
        rec = cs.torecord()
        nchan = pb.shape[3]
        out["image_freqs_hz"] = [float(cs.toworld([NPIX // 2, NPIX // 2, 0, k])["numeric"][3]) for k in range(nchan)]
        out["refpix"] = [float(v) for v in rec["direction0"]["crpix"]]
        out["cdelt_rad"] = [float(v) for v in rec["direction0"]["cdelt"]]
        cs.done()
        ia.close()
        arr = np.ascontiguousarray(np.transpose(pb[:, :, 0, :], (2, 1, 0)).astype("<f4"))
        arr.tofile(os.path.join(workdir, name + ".pb.f32"))
        out["shape_cyx"] = list(arr.shape)
    else:
        out["pb_made"] = False
    with open(os.path.join(workdir, name + ".json"), "w") as fh:
        json.dump(out, fh, indent=1)
    print(name, "error" if error else "ok", out.get("image_freqs_hz"), error or "")


def profiles(workdir):
    refs = []
    for case in CASES + VPTABLE_CASES:
        path = os.path.join(workdir, case[0] + ".json")
        if not os.path.exists(path):
            continue
        with open(path) as fh:
            meta = json.load(fh)
        if "shape_cyx" in meta:
            arr = np.fromfile(os.path.join(workdir, case[0] + ".pb.f32"), dtype="<f4").reshape(meta["shape_cyx"])
            c = NPIX // 2
            # Shortest decimal that reads back as the same float32 (exact to 4e-9 as a double).
            f32 = lambda v: float(str(np.float32(v)))  # noqa: E731
            meta["row"] = [[f32(v) for v in arr[k, c, c:]] for k in range(arr.shape[0])]
            meta["diagonal"] = [[f32(arr[k, c + i, c + i]) for i in range(NPIX - c)] for k in range(arr.shape[0])]
        meta.pop("shape_cyx", None)
        refs.append(meta)
    here = os.path.dirname(os.path.abspath(__file__))
    dest = os.path.join(here, "..", "..", "testdata", "reference", "tclean_pb_profiles.json")
    with open(dest, "w") as fh:
        json.dump(dict(provenance="scripts/dev/tclean_pb_refs.py (tclean from casatasks 6.7 PyPI wheels)",
                       cases=refs), fh, separators=(",", ":"))
    print("wrote", dest, len(refs), "cases")
    tab = os.path.join(os.path.dirname(dest), VPTABLE)
    shutil.rmtree(tab, ignore_errors=True)
    shutil.copytree(os.path.join(workdir, VPTABLE), tab)
    print("copied", tab)


if __name__ == "__main__":
    if sys.argv[1] == "--profiles":
        profiles(sys.argv[2])
    else:
        wd = sys.argv[1]
        os.makedirs(wd, exist_ok=True)
        wanted = set(sys.argv[2:])
        for case in CASES:
            if not wanted or case[0] in wanted:
                run_case(wd, case)
        make_vptable(os.path.join(wd, VPTABLE))
        for case in VPTABLE_CASES:
            if not wanted or case[0] in wanted:
                run_case(wd, case, vptable=os.path.join(wd, VPTABLE))

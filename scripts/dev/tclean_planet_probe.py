"""What tclean 6.7 does with a solar-system body as phasecenter ('MARS', 'SUN', ...) and with a FIELD
whose directions are in a planetary frame (issue 13 item 1; docs/decisions.md (s10-ch13)).

Run with CASA's python (casatools/casatasks 6.7) in a scratch folder holding vla_ephem_mars.ms and
b1950vla.ms (unpacked from testdata/realobs_vla_ephem_mars.tar.gz and testdata/b1950vla.ms.tar.gz):
    python scripts/dev/tclean_planet_probe.py OUTDIR
Nothing it makes is committed (the evidence only; the figures are in the decisions file).

MSs made from vla_ephem_mars.ms (its antennas, times: 12 x 1200 s around transit on 2022-11-01,
4 channels at 8.4 GHz), each with a fixed J2000 FIELD (no ephemeris) at casacore's MARS at the
middle time, UVW for that direction, and DATA an exact DFT of a 1 Jy source that moves with Mars and
a 0.4 Jy one at (30", -20") from it (5 mJy noise):
- mars_geo.ms: Mars = casacore's `me.measure(me.direction('MARS'), 'J2000')` at each row's time
  (no parallax);
- mars_topo.ms: Mars = casacore's MARS -> AZEL -> J2000 at each row's time (topocentric: parallax
  from DE200's distance, as casacore converts planets to TOPO/HADEC/AZEL);
- mars_field.ms: mars_geo.ms with FIELD PHASE_DIR/DELAY_DIR/REFERENCE_DIR = (0, 0) in frame MARS.
tclean runs (mfs and cube, 256 x 0.5" (cube 128), briggs 0.5, niter 0): phasecenter 'MARS' on
mars_topo.ms and mars_geo.ms, '' (the fixed field) on mars_geo.ms, '' on mars_field.ms, 'MARS',
'MARS 0deg 0deg' and 'TRACKFIELD' on vla_ephem_mars.ms, 'SUN' and 'MOON' on b1950vla.ms. Each run's
image frame, crval, peak and its pixel go to OUTDIR/planet_probe.json, with casacore's directions
of Mars at the first integration (geocentric and topocentric, ICRS) to compare with the crval.
"""
import json
import os
import shutil
import sys

import numpy as np
import casatools
import casatasks

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tclean_planet_refs import make_mars_ms  # noqa: E402

OUT = os.path.abspath(sys.argv[1])
os.chdir(OUT)
me, qa, tb, ia = casatools.measures(), casatools.quanta(), casatools.table(), casatools.image()


def make(dst, topo):
    return make_mars_ms("vla_ephem_mars.ms", dst, topo)


t0 = make("mars_geo.ms", False)
make("mars_topo.ms", True)
shutil.rmtree("mars_field.ms", ignore_errors=True)
shutil.copytree("mars_geo.ms", "mars_field.ms")
tb.open("mars_field.ms/FIELD", nomodify=False)
for col in ("PHASE_DIR", "DELAY_DIR", "REFERENCE_DIR"):
    kw = tb.getcolkeywords(col)
    kw["MEASINFO"] = {"type": "direction", "Ref": "MARS"}
    tb.putcolkeywords(col, kw)
    tb.putcol(col, np.zeros((2, 1, 1)))
tb.close()

out = dict(casa=casatools.version_string(), t0_mjd_s=t0, runs={})
me.doframe(me.observatory("VLA"))
me.doframe(me.epoch("utc", qa.quantity(t0, "s")))
m = me.direction("MARS")
out["mars_t0_icrs_geocentric"] = [me.measure(m, "ICRS")[k]["value"] for k in ("m0", "m1")]
out["mars_t0_icrs_via_azel"] = [me.measure(me.measure(m, "AZEL"), "ICRS")[k]["value"] for k in ("m0", "m1")]
M = dict(imsize=[256, 256], cell="0.5arcsec", weighting="briggs", robust=0.5, niter=0, specmode="mfs",
         pblimit=-1, parallel=False)
CUBE = dict(M, specmode="cube", imsize=[128, 128])
cases = [
    ("topo_mfs_MARS", "mars_topo.ms", dict(M, phasecenter="MARS")),
    ("topo_cube_MARS", "mars_topo.ms", dict(CUBE, phasecenter="MARS")),
    ("geo_mfs_MARS", "mars_geo.ms", dict(M, phasecenter="MARS")),
    ("geo_cube_MARS", "mars_geo.ms", dict(CUBE, phasecenter="MARS")),
    ("geo_mfs_fixed", "mars_geo.ms", dict(M)),
    ("field_MARS_default", "mars_field.ms", dict(M)),
    ("ephem_MARS", "vla_ephem_mars.ms", dict(M, phasecenter="MARS")),
    ("ephem_MARS_0_0", "vla_ephem_mars.ms", dict(M, phasecenter="MARS 0deg 0deg")),
    ("ephem_TRACKFIELD", "vla_ephem_mars.ms", dict(M, phasecenter="TRACKFIELD")),
    ("b1950_SUN", "b1950vla.ms", dict(M, imsize=[128, 128], cell="6arcsec", weighting="natural",
                                      phasecenter="SUN")),
    ("b1950_MOON", "b1950vla.ms", dict(M, imsize=[128, 128], cell="6arcsec", weighting="natural",
                                       phasecenter="MOON")),
]
for tag, vis, kw in cases:
    img = "tc_" + tag
    for ext in ("residual", "psf", "sumwt", "image", "model", "pb"):
        shutil.rmtree(f"{img}.{ext}", ignore_errors=True)
    try:
        casatasks.tclean(vis=vis, imagename=img, **kw)
        ia.open(img + ".residual")
        cs = ia.coordsys().torecord()
        px = ia.getchunk()
        ia.close()
        r = dict(vis=vis, params=kw, refer=cs["direction0"]["system"],
                 crval=[float(x) for x in cs["direction0"]["crval"]], peak=float(px.max()),
                 argmax=[int(i) for i in np.unravel_index(px.argmax(), px.shape)],
                 channel_peaks=[float(px[..., c].max()) for c in range(px.shape[3])])
    except Exception as e:  # noqa: BLE001 (a refusal is a result here)
        r = dict(vis=vis, params=kw, error=repr(e))
    out["runs"][tag] = r
    print(tag, r, flush=True)
with open("planet_probe.json", "w") as f:
    json.dump(out, f, indent=1)

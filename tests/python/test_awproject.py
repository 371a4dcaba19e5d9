"""Issue 14's A-projection (`gridder='awproject'`) against tclean 6.7 on the bundled EVLA L-band
observation (testdata/awproj_small.ms.tar.gz, 48 integrations over 4 h of hour angle, RR/LL;
scripts/dev/make_awproject_testdata.py): the dirty products (psf, residual, pb, weight, sumwt) with
one A-term (computepastep=360, tclean's default) and with 17 parallactic-angle bins
(computepastep=rotatepastep=5), within the issue's bound (1% of tclean's peak where tclean's
pb > 0.3), and a Hogbom clean's restored peak within 1% of tclean's; the same with `psterm=True`
(cases aw_ps_*: tclean's spheroidal in the convolution functions, docs/decisions.md (s14-aw)).

The references are centred crops of tclean's 256^2 images (header PCCROP: the crop's first pixel,
PCSTEP its step): psf 64^2, residual and restored image 200^2, pb and weight 200^2 every 2nd pixel."""
import json
import time

import numpy as np
import pytest

import awproject_refs
from compare import load_casa
from conftest import REFERENCE, run_pclean, unpack_bundled

REF = REFERENCE / "awproject"
INFO = json.loads((REF / "awproj_refs.json").read_text())
# aw_noat_ps: aterm=False (tclean requires psterm=True then): the spheroidal alone in tclean's
# functions (docs/decisions.md (s17-awgrp)).
DIRTY = ["aw_dirty", "aw_pa5", "aw_ps_dirty", "aw_noat_ps"]
# The bound: 1% of tclean's peak over tclean's pb > 0.3 (measured figures in
# docs/decisions.md (s9-aw)). tclean's residual carries its A-kernel's sum over the visibilities'
# sub-cell phases (0.88 here), which pclean reproduces from its own beams.
TOL = {"psf": 1e-2, "residual": 1e-2, "pb": 1e-2, "weight": 1e-2}
# sumwt: natural weights, the plain sum of the weights (tclean's is its weight pass's, whose
# kernel sums to 0.998 on average over the phases: measured 0.2% below ours): 5e-3.
SUMWT_TOL = 5e-3
NOT_IMAGING = ("vis", "parallel")
_RUNS = {}


@pytest.fixture(scope="module")
def aw_ms(tmp_path_factory):
    return unpack_bundled(["awproj_small.ms.tar.gz"], tmp_path_factory.mktemp("aw_ms"))


@pytest.fixture(scope="module")
def aw_out(tmp_path_factory):
    return tmp_path_factory.mktemp("aw_out")


def run_case(name, msdir, outdir, **override):
    """pclean with the reference's tclean parameters (and `override`); one run per case. Returns
    the prefix."""
    if name not in _RUNS:
        params = dict(INFO[name.split("+")[0]]["params"], **override)
        cfg = outdir / (name + ".config.json")
        cfg.write_text(json.dumps({k: v for k, v in params.items() if k not in NOT_IMAGING}))
        prefix = outdir / name.replace("+", "_")
        t0 = time.time()
        p = run_pclean("image", "--config", cfg, "--vis", msdir / params["vis"], "--imagename", prefix,
                       "--overwrite", check=False)
        _RUNS[name] = (prefix, p, time.time() - t0)
        print("%s: pclean %.1f s, tclean %.1f s" % (name, _RUNS[name][2], INFO[name.split("+")[0]]["seconds"]))
    prefix, p, _ = _RUNS[name]
    if p.returncode != 0:
        pytest.fail("pclean failed on %s (%d): %s" % (name, p.returncode, p.stderr[-2000:]), pytrace=False)
    return prefix


def reference(name, ext):
    return awproject_refs.reference(REF, name, ext)


def ours(prefix, ext, crop, n, step):
    return awproject_refs.ours(prefix, ext, crop, n, step)


def region_of(name, crop, n, step):
    return awproject_refs.region_of(REF, name, crop, n, step)


def compare(name, ext, prefix):
    return awproject_refs.error(REF, name, ext, prefix)


@pytest.mark.parametrize("name", DIRTY)
@pytest.mark.parametrize("ext", ["psf", "residual", "pb", "weight"])
def test_dirty_products_match_tclean(name, ext, aw_ms, aw_out):
    prefix = run_case(name, aw_ms, aw_out)
    err = compare(name, ext, prefix)
    print("%s %s: max |pclean - tclean| = %.2e of tclean's peak" % (name, ext, err))
    assert err < TOL[ext], "%s %s: max |pclean - tclean| = %.4f of tclean's peak" % (name, ext, err)


@pytest.mark.parametrize("name", DIRTY)
def test_sumwt_matches_tclean(name, aw_ms, aw_out):
    prefix = run_case(name, aw_ms, aw_out)
    got = load_casa("%s.sumwt" % prefix)[0].ravel()[0]
    want = INFO[name]["sumwt"]
    assert abs(got - want) <= SUMWT_TOL * want, (got, want)


@pytest.mark.parametrize("name,dirty", [("aw_clean", "aw_dirty"), ("aw_ps_clean", "aw_ps_dirty")])
def test_hogbom_clean_restored_peak_as_tclean(name, dirty, aw_ms, aw_out):
    """tclean's parameters (niter 300, threshold 5 mJy, hogbom): the restored image's peak within
    1% of tclean's (the issue's bound), and the restored image within 2% of tclean's peak over
    pb > 0.3 (restoring beams fitted to slightly different PSFs)."""
    prefix = run_case(name, aw_ms, aw_out)
    ref, crop, step = reference(name, "image")
    mine = ours(prefix, "image", crop, ref.shape[0], step)
    region = region_of(dirty, crop, ref.shape[0], step)
    peak_ref, peak_ours = ref[region].max(), mine[region].max()
    print("restored peak: pclean %.5f tclean %.5f" % (peak_ours, peak_ref))
    assert abs(peak_ours / peak_ref - 1) < 1e-2, (peak_ours, peak_ref)
    err = np.abs(mine - ref)[region].max() / peak_ref
    print("restored image: max |pclean - tclean| = %.2e of tclean's peak" % err)
    assert err < 2e-2, err


def test_awproject_refusals_name_the_parameter(aw_ms, aw_out):
    """What pclean's awproject does not implement is refused before any data is read, naming the
    parameter and value."""
    base = dict(INFO["aw_dirty"]["params"])
    # aterm=False with psterm=False: tclean refuses it too ("Both, psterm and aterm cannot be
    # set to NoOp").
    for key, value in [("aterm", False), ("computepastep", 0.0)]:
        cfg = aw_out / ("refuse_%s.json" % key)
        cfg.write_text(json.dumps(dict({k: v for k, v in base.items() if k not in NOT_IMAGING},
                                       **{key: value})))
        p = run_pclean("image", "--config", cfg, "--vis", aw_ms / base["vis"], "--imagename",
                       aw_out / ("refuse_" + key), "--overwrite", check=False)
        assert p.returncode != 0 and key in p.stderr, (key, p.stderr[-500:])


def test_w_term_per_bin(aw_ms, aw_out):
    """wprojplanes=-1: each bin's rows through the w-stacking gridder (8 w planes here). The field
    (0.85 deg) is small for the VLA D w range, so the products stay within the 1% bound of tclean's
    awproject without a w-term (measured: residual 3.7e-3, psf 4.5e-3, as without w)."""
    prefix = run_case("aw_dirty+w", aw_ms, aw_out, wprojplanes=-1)
    for ext in ["psf", "residual", "pb"]:
        err = compare("aw_dirty", ext, prefix)
        assert err < 1e-2, (ext, err)


def test_psterm_changes_what_tclean_changes(aw_ms, aw_out):
    """psterm=True against psterm=False, both pclean's: the .pb is multiplied by the spheroidal
    (0.41 at 60 of 128 pixels from the centre along an axis: tclean 0.4077, measured) and the
    residual at the 1 Jy centre source loses tclean's kernel-sum factor (0.880 -> 1.000: tclean
    0.8803 -> 1.0001), so the test fails if psterm were accepted and ignored."""
    off = run_case("aw_dirty", aw_ms, aw_out)
    on = run_case("aw_ps_dirty", aw_ms, aw_out)
    pb_off, pb_on = (load_casa("%s.pb" % p)[0][0, 0] for p in (off, on))
    res_off, res_on = (load_casa("%s.residual" % p)[0][0, 0] for p in (off, on))
    c = pb_off.shape[-1] // 2
    ratio = pb_on[c, c + 60] / pb_off[c, c + 60]
    # tclean's ratio there is 0.4077. pclean's ratio is its spheroidal alone (the same beams in
    # both runs), 0.408 by the model fitted to tclean's whole weight image (scale within 0.1%):
    # 1% of the ratio (the bound) holds it.
    assert abs(ratio / 0.4077 - 1) < 1e-2, ratio
    # tclean: 1.0001 / 0.8803 = 1.136 at the centre source; within 1% (the bound).
    gain = res_on[c, c] / res_off[c, c]
    assert abs(gain / 1.136 - 1) < 1e-2, gain


@pytest.mark.parametrize("ext", ["residual", "pb"])
def test_field_off_the_image_centre(ext, aw_ms, aw_out):
    """The field 9' from the image centre (phasecenter 16h00m41.569s +30d, 320^2): the beams
    centred on the field, as tclean's (its residual at the field's sources within 0.1% of the
    centred image's: the kernel-sum scale follows the field of view, not the pointing)."""
    prefix = run_case("aw_off", aw_ms, aw_out)
    err = compare("aw_off", ext, prefix)
    print("aw_off %s: max |pclean - tclean| = %.2e of tclean's peak" % (ext, err))
    assert err < TOL[ext], "aw_off %s: %.4f of tclean's peak" % (ext, err)


@pytest.mark.parametrize("ext", ["psf", "residual", "pb", "weight"])
def test_psterm_with_the_field_off_the_image_centre(ext, aw_ms, aw_out):
    """psterm=True with the field 45 px from the image centre (aw_off's phasecenter): tclean's
    spheroidal moves with the field (its weight ratio psterm True / False peaks at the field's
    pixel; the PSF is the psterm=False one times the field's PS^2 over its value at the image
    centre, to 3.3e-5: docs/decisions.md (s15-awp)); within the issue's 1%."""
    prefix = run_case("aw_off_ps", aw_ms, aw_out)
    err = compare("aw_off_ps", ext, prefix)
    print("aw_off_ps %s: max |pclean - tclean| = %.2e of tclean's peak" % (ext, err))
    assert err < TOL[ext], "aw_off_ps %s: %.4f of tclean's peak" % (ext, err)


def test_psterm_off_centre_is_not_centred(aw_ms, aw_out):
    """The test can fail: pclean's psterm .pb for the off-centre field against tclean's with the
    spheroidal left at the image centre instead (pclean's .pb divided by its field-centred PS and
    multiplied by the image-centred one) is far off (> 5% of the peak)."""
    prefix = run_case("aw_off_ps", aw_ms, aw_out)
    pb, _ = load_casa("%s.pb" % prefix)
    pb = pb[0, 0].astype(np.float64)
    n = pb.shape[-1]
    # The spheroidal's own profile from pclean's psterm and psterm=False .pb (the same beams).
    off = run_case("aw_off", aw_ms, aw_out)
    pb0 = load_casa("%s.pb" % off)[0][0, 0].astype(np.float64)
    ps = np.where(pb0 > 1e-3, pb / np.where(pb0 > 0, pb0, 1), 0)
    iy, ix = np.unravel_index(np.argmax(ps), ps.shape)
    # The spheroidal peaks at the field (pixel 205 of 320 along x), not at the image centre.
    assert abs(ix - (n // 2 + 45)) <= 1 and abs(iy - n // 2) <= 1, (iy, ix)


def test_aterm_false_is_not_aterm_true(aw_ms, aw_out):
    """The test can fail: pclean's aterm=False products against tclean's aterm=True ones (both
    psterm=True) and the other way round are far off (the aperture's power pattern: > 10% of the
    peak on the .pb and .weight), so an aterm accepted and ignored fails the 1% comparison."""
    noat = run_case("aw_noat_ps", aw_ms, aw_out)
    at = run_case("aw_ps_dirty", aw_ms, aw_out)
    for ext in ["pb", "weight"]:
        crossed = [compare("aw_ps_dirty", ext, noat), compare("aw_noat_ps", ext, at)]
        print("aterm False/True crossed %s: %.2e, %.2e of tclean's peak" % (ext, *crossed))
        assert min(crossed) > 0.1, (ext, crossed)


@pytest.fixture(scope="module")
def two_ms(tmp_path_factory):
    """awproj_small.ms split in time into two MSs (CASA split: the first 24 and the last 24
    integrations; scripts/dev/make_awproject_testdata.py two)."""
    return unpack_bundled(["awproj_two.ms.tar.gz"], tmp_path_factory.mktemp("aw_two"))


def run_two(two_ms, aw_out, **override):
    """pclean on vis=[awproj_a.ms, awproj_b.ms] with case aw_two's tclean parameters."""
    params = dict(INFO["aw_two"]["params"], **override)
    name = "aw_two" + "".join("_%s" % k for k in override)
    if name not in _RUNS:
        cfg = aw_out / (name + ".config.json")
        cfg.write_text(json.dumps({k: v for k, v in params.items() if k not in NOT_IMAGING}))
        args = ["image", "--config", cfg, "--imagename", aw_out / name, "--overwrite"]
        for v in params["vis"]:
            args += ["--vis", two_ms / v]
        _RUNS[name] = (aw_out / name, run_pclean(*args, check=False), 0.0)
    prefix, p, _ = _RUNS[name]
    return prefix, p


@pytest.mark.parametrize("ext", ["psf", "residual", "pb", "weight"])
def test_two_measurement_sets_match_tclean(ext, two_ms, aw_out):
    """vis=[a, b] (awproj_small.ms split in time): tclean images both through its functions;
    pclean grids each MS's rows through the same grid sets, within the issue's 1% of tclean's
    vis=[a, b] products. Those equal tclean's one-MS aw_dirty products bit for bit (measured on
    the bundled crops: docs/decisions.md (s17-awgrp)), so aw_dirty's crops are the reference."""
    prefix, p = run_two(two_ms, aw_out)
    assert p.returncode == 0, p.stderr[-2000:]
    err = compare("aw_dirty", ext, prefix)
    print("aw_two %s: max |pclean - tclean| = %.2e of tclean's peak" % (ext, err))
    assert err < TOL[ext], "aw_two %s: %.4f of tclean's peak" % (ext, err)


def test_two_measurement_sets_sumwt_and_not_one(two_ms, aw_out):
    """The sum of weights of both MSs (within 5e-3 of tclean's), so neither MS is dropped: the
    first MS alone has half of it."""
    prefix, p = run_two(two_ms, aw_out)
    assert p.returncode == 0, p.stderr[-2000:]
    got = load_casa("%s.sumwt" % prefix)[0].ravel()[0]
    want = INFO["aw_two"]["sumwt"]
    assert abs(got - want) <= SUMWT_TOL * want, (got, want)
    one, p1 = run_two(two_ms, aw_out, vis=INFO["aw_two"]["params"]["vis"][:1])
    assert p1.returncode == 0, p1.stderr[-2000:]
    half = load_casa("%s.sumwt" % one)[0].ravel()[0]
    assert abs(half / want - 0.5) < 0.05, (half, want)


# usepointing=True over two MSs (session 18, scripts/dev/make_awproject_testdata.py two_ptg): each
# MS's POINTING moved differently, MS index -> [(antenna number mod 4 in this set, (east arcmin on
# the sky, north arcmin))]; case -> (the bundled MSs they are copies of, the copies' names).
PTG_TWO_MOVES = [[((0, 2), (0.0, 3.0))], [((1,), (2.0, 0.0))]]
PTG_TWO_CASES = {"aw_two_ptg": ["awproj_small.ms", "awproj_small.ms"],
                 "aw_two_ptg_split": ["awproj_a.ms", "awproj_b.ms"]}


@pytest.fixture(scope="module")
def ptg_two(aw_ms, two_ms, tmp_path_factory):
    """The MSs of PTG_TWO_CASES (aw_two_ptg: two copies of awproj_small.ms, every TIME and antenna
    shared; aw_two_ptg_split: awproj_two's halves, no TIME shared) with their POINTING moved."""
    import shutil
    from casacore.tables import table
    out = tmp_path_factory.mktemp("aw_ptg_two")
    arcmin = np.pi / 180 / 60
    for case, sources in PTG_TWO_CASES.items():
        for src, name, moves in zip(sources, INFO[case]["params"]["vis"], PTG_TWO_MOVES):
            shutil.copytree((aw_ms if src == "awproj_small.ms" else two_ms) / src, out / name)
            with table(str(out / name / "POINTING"), readonly=False, ack=False) as t:
                d, ant = t.getcol("DIRECTION"), t.getcol("ANTENNA_ID")  # d: (nrow, 1, 2)
                for residues, (dx, dy) in moves:
                    sel = np.isin(ant % 4, residues)
                    d[sel, 0, 0] += dx * arcmin / np.cos(d[sel, 0, 1])
                    d[sel, 0, 1] += dy * arcmin
                t.putcol("DIRECTION", d)
    return out


def run_ptg_two(case, ptg_two, aw_out, order=(0, 1), **override):
    """pclean on case's vis=[a, b] (in `order`) with its tclean parameters and `override`."""
    params = dict(INFO[case]["params"], **override)
    name = case + "_%d%d" % order + "".join("_%s" % k for k in override)
    if name not in _RUNS:
        cfg = aw_out / (name + ".config.json")
        cfg.write_text(json.dumps({k: v for k, v in params.items() if k not in NOT_IMAGING}))
        args = ["image", "--config", cfg, "--imagename", aw_out / name, "--overwrite"]
        for i in order:
            args += ["--vis", ptg_two / params["vis"][i]]
        _RUNS[name] = (aw_out / name, run_pclean(*args, check=False), 0.0)
    prefix, p, _ = _RUNS[name]
    assert p.returncode == 0, p.stderr[-2000:]
    return prefix


@pytest.mark.parametrize("case", list(PTG_TWO_CASES))
@pytest.mark.parametrize("ext", ["psf", "residual", "pb", "weight"])
def test_two_measurement_sets_with_usepointing_match_tclean(case, ext, ptg_two, aw_out):
    """usepointing=True with vis=[a, b], a's even antennas' POINTING 3' north and b's antennas
    1 mod 4 2' east: tclean 6.7 centres both MSs' rows by the first MS's POINTING (its `.weight`
    centroid at a's array mean, 7.78 px north, whether b shares a's TIMEs or not; measured,
    docs/decisions.md (s18-awpt)), and so does pclean: within the issue's 1% (measured 1.2e-4 psf,
    3.4e-3 residual, 7.0e-3 pb, 7.5e-3 weight in both cases)."""
    prefix = run_ptg_two(case, ptg_two, aw_out)
    err = compare(case, ext, prefix)
    print("%s %s: max |pclean - tclean| = %.2e of tclean's peak" % (case, ext, err))
    assert err < TOL[ext], "%s %s: %.4f of tclean's peak" % (case, ext, err)


@pytest.mark.parametrize("case", list(PTG_TWO_CASES))
def test_two_measurement_sets_with_usepointing_sumwt(case, ptg_two, aw_out):
    """Both MSs' weights (within 5e-3 of tclean's sum, as the one-MS cases): neither MS's rows
    are lost to the re-keyed antennas of the baseline table."""
    prefix = run_ptg_two(case, ptg_two, aw_out)
    got = load_casa("%s.sumwt" % prefix)[0].ravel()[0]
    want = INFO[case]["sumwt"]
    print("%s sumwt: pclean %.1f, tclean %.1f" % (case, got, want))
    assert abs(got - want) <= SUMWT_TOL * want, (got, want)


def test_two_measurement_sets_usepointing_follows_the_first_ms(ptg_two, aw_out):
    """The order of the MSs matters as in tclean: vis=[b, a] centres the rows by b's POINTING
    (2.59 px east instead of 7.78 px north), more than 5 times the bound off tclean's [a, b]
    `.weight` and `.pb` (measured 1.27e-1 and 9.2e-2; each MS on its own POINTING, pclean's
    first build, was 6.7e-2 and 4.5e-2 off), so the comparisons above can fail when the rows
    are not centred by the first MS's table."""
    prefix = run_ptg_two("aw_two_ptg", ptg_two, aw_out, order=(1, 0))
    for ext in ["weight", "pb"]:
        err = compare("aw_two_ptg", ext, prefix)
        print("vis=[b, a] %s against tclean's [a, b]: %.2e" % (ext, err))
        assert err > 5 * TOL[ext], (ext, err)


# Heterogeneous arrays (session 18, measured with tclean 6.7: docs/decisions.md (s18-awpt)).
TCLEAN_ATERM_REFUSAL = "not recognized to create the telescope specific ATerm"


@pytest.mark.parametrize("aterm", [True, False])
def test_alma_heterogeneous_array_is_refused_as_tclean(aterm, aw_out, tmp_path_factory):
    """ALMA 12 m + 7 m (the bundled heterogeneous mosaic): tclean 6.7 refuses gridder='awproject'
    ("Telescope name ('ALMA') in the MS not recognized to create the telescope specific ATerm",
    with aterm True and False alike); pclean refuses it before reading data, naming the parameter
    and tclean's reason."""
    ms = unpack_bundled(["hetero_mosaic.ms.tar.gz"], tmp_path_factory.mktemp("het_ms"))
    params = dict({k: v for k, v in INFO["aw_dirty"]["params"].items() if k not in NOT_IMAGING},
                  imsize=[320, 320], cell="0.5arcsec",
                  phasecenter="J2000 16h00m00.0s -30d00m00.0s", aterm=aterm, psterm=not aterm)
    cfg = aw_out / ("het_%s.json" % aterm)
    cfg.write_text(json.dumps(params))
    p = run_pclean("image", "--config", cfg, "--vis", ms / "hetero_mosaic.ms", "--imagename",
                   aw_out / ("het_%s" % aterm), "--overwrite", check=False)
    assert p.returncode != 0, p.stderr[-500:]
    assert "gridder" in p.stderr and TCLEAN_ATERM_REFUSAL in p.stderr, p.stderr[-1000:]


@pytest.fixture(scope="module")
def dish_ms(aw_ms, tmp_path_factory):
    """awproj_small.ms with every odd antenna's DISH_DIAMETER set to 18 m."""
    import shutil
    from casacore.tables import table
    out = tmp_path_factory.mktemp("aw_dish")
    shutil.copytree(aw_ms / "awproj_small.ms", out / "awproj_small.ms")
    with table(str(out / "awproj_small.ms" / "ANTENNA"), readonly=False, ack=False) as t:
        d = t.getcol("DISH_DIAMETER")
        d[1::2] = 18.0
        t.putcol("DISH_DIAMETER", d)
    return out


@pytest.mark.parametrize("ext", ["psf", "residual", "pb", "weight"])
def test_vla_dish_diameters_change_nothing_as_tclean(ext, dish_ms, aw_out):
    """A VLA MS whose ANTENNA table gives two dish diameters (25 m and 18 m): tclean 6.7 images it
    bit for bit as the 25 m array (its EVLA aperture model for every antenna; measured on this
    edit, all four products 0.0 off aw_dirty's), so aw_dirty's crops are the reference, within
    the issue's 1% (pclean the same figures as aw_dirty: 1.2e-4 psf, 3.3e-3 residual, 7.0e-3 pb,
    7.5e-3 weight)."""
    params = {k: v for k, v in INFO["aw_dirty"]["params"].items() if k not in NOT_IMAGING}
    if "aw_dish" not in _RUNS:
        cfg = aw_out / "aw_dish.config.json"
        cfg.write_text(json.dumps(params))
        _RUNS["aw_dish"] = (aw_out / "aw_dish", run_pclean(
            "image", "--config", cfg, "--vis", dish_ms / "awproj_small.ms", "--imagename",
            aw_out / "aw_dish", "--overwrite", check=False), 0.0)
    prefix, p, _ = _RUNS["aw_dish"]
    assert p.returncode == 0, p.stderr[-2000:]
    # pclean says so (the A-term ignores the column, as tclean's).
    assert "DISH_DIAMETER" in p.stderr, p.stderr[-2000:]
    err = compare("aw_dirty", ext, prefix)
    print("18 m / 25 m dishes %s: %.2e of tclean's peak" % (ext, err))
    assert err < TOL[ext], (ext, err)

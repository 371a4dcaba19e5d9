"""Issue 14: mtmfs mosaics (`gridder='mosaic'`, `deconvolver='mtmfs'`, nterms 2) against tclean 6.7
on the bundled wideband_mosaic.ms (two 1 GHz windows at 90 and 110 GHz, two pointings 25" apart,
224^2 x 0.8", natural, flatsky, pblimit 0.2; scripts/dev/make_wideband_mosaic.py MT_CASES), with
conjbeams False and True, niter 0 and niter 100 with usemask='pb' (pbmask 0.4).

tclean's MultiTermFTNew holds one MosaicFTNew per Taylor term: term t grids the weights
w ((nu - nu0)/nu0)^t, each `.weight.ttN` is that term's weight kernel gridded with them, every
`.residual.ttN` is divided by `.weight.tt0` and the PSF terms by the peak of `.psf.tt0`; pclean
(`imaging::taylor`, `cycles::mtmfs`) does the same. Compared: max |pclean - tclean| over tclean's
pb > 0.5 (REGION_PB), in units of tclean's peak there (issue 14's bar: 1%); the references are
the inner 200^2 of tclean's images (header PCCROP: the crop's offset)."""
import json

import numpy as np
import pytest
from astropy.io import fits

from compare import load_casa
from conftest import REFERENCE, run_pclean, run_reference_case, unpack_bundled

REF = REFERENCE / "wideband_mosaic"
INFO = json.loads((REF / "wideband_mt_refs.json").read_text())
# nterms 3 on the three-window MS (90, 100, 110 GHz; make_wideband_mosaic.py MT3_CASES).
INFO3 = json.loads((REF / "wideband_mt3_refs.json").read_text())
INFO.update({k: v for k, v in INFO3.items() if k != "casa"})
# psfphasecenter (make_wideband_mosaic.py MTPC_CASES: wb_mt's parameters with the PSF about a
# direction 13" east and 5" south of the image centre; only its PSF terms are bundled).
INFO_PC = json.loads((REF / "wideband_mtpc_refs.json").read_text())
INFO.update({k: v for k, v in INFO_PC.items() if k != "casa"})
NOT_IMAGING = ("vis", "parallel")
DIRTY = ["wb_mt", "wb_mt_conj"]
CLEAN = ["wb_mt_clean", "wb_mt_conj_clean"]
DIRTY_EXT = ["psf.tt0", "psf.tt1", "psf.tt2", "residual.tt0", "residual.tt1", "weight.tt0",
             "weight.tt1", "weight.tt2", "pb.tt0", "image.tt0"]
CLEAN_EXT = ["image.tt0", "image.tt1", "residual.tt0", "residual.tt1", "model.tt0", "model.tt1"]
# The region: tclean's pb > 0.5. tclean's multi-term store zeroes every residual term where
# weight.tt0 <= pblimit x its peak (0.2 here: pb <= sqrt(0.2) = 0.447; measured, pclean does the
# same), so over pb > 0.3 the pixels next to that cut, where the two weights' f32 rounding puts
# the cut one pixel apart, dominate (0.10 with conjbeams at pb 0.447); 0.5 leaves them out.
REGION_PB = 0.5
# Measured (conjbeams False / True) over pb > 0.5 in units of tclean's peak there: psf.tt0 and
# psf.tt2 7.1e-5 / 6.3e-5, psf.tt1 5.5e-3 / 3.4e-3, residual.tt0 2.3e-4 / 4.0e-4, residual.tt1
# 1.6e-3 / 2.3e-3, image.tt0 1.9e-4 / 4.0e-4, pb.tt0 8.7e-5 / 7.7e-5, weight.tt0 and weight.tt2
# 1.4e-4 / 1.4e-4, weight.tt1 3.1e-4 / 4.9e-2 of its own peak. The conjbeams weight.tt1 is a
# cancellation (CANCELLING): it is 0.1 (W_110 B_110 - W_90 B_90), each window's term ~343 at the
# peak (weight.tt2 = 0.01 (W_90 B_90 + W_110 B_110), peak 68.5), so its peak (0.098) is 2.9e-4 of
# either term, and pclean's 4.8e-3 error is 7.0e-6 of the terms' scale 0.1 (W_90 B_90 + W_110
# B_110) = 10 x weight.tt2's peak: ten times closer than weight.tt0 and weight.tt2 agree (1.4e-4).
# Its own peak is no scale for it (a relative error of a difference of nearly equal terms); it is
# held to 5e-5 of the terms' scale (7x the measured error; a weight.tt1 of zero is 1.4e-4 off,
# conjbeams ignored (the wb_mt answer) 9.6e-2: both fail).
# The tt1 terms met 1% once the residual and PSF were gridded as tclean's MosaicFT (without
# conjbeams, docs/decisions.md (s15-mosedge)) and the conjugate kernels were made as tclean's
# (the data frequency's kernel stretched by nu'/nu; with conjbeams: psf.tt1 1.8e-2 -> 3.4e-3,
# residual.tt1 3.6e-2 -> 2.3e-3, psf.tt0 3.1e-3 -> 6.3e-5; docs/decisions.md (s16-conj)).
TOL = {ext: 1e-2 for ext in DIRTY_EXT}
GUARD = {}
# (case, term): the bound in units of the scale of the terms that cancel (above), and that scale
# as a multiple of tclean's weight.tt2 peak (two windows at +-10%: sum w |dnu / nu0| B = 10 x
# weight.tt2).
CANCELLING = {("wb_mt_conj", "weight.tt1"): (5e-5, 10.0)}
# Deconvolved (mtmfs niter 100, pb mask 0.4; tclean 6.7 ran one minor cycle of 100 iterations).
# Measured (conjbeams False / True): image.tt0 1.1e-2 / 1.1e-2, image.tt1 7.3e-2 / 6.2e-2,
# residual.tt0 6.5e-2 / 6.5e-2, residual.tt1 2.7e-2 / 6.4e-2 (the final residuals carry the
# prediction's gap: PRED_TOL below). The model terms are compared at the restoring beam's
# resolution (MODEL_SMOOTH): 8.2e-5 / 4.4e-3 (tt0) and 9.3e-4 / 9.5e-3 (tt1). Pixel by pixel the
# conjbeams model.tt0 is 6.0e-2 off (model.tt1 8.3e-2): the brightest source lies between four
# pixels, and the 100 iterations split its 0.724 Jy among them differently (tclean 0.061, 0.052,
# 0.563, 0.048; pclean 0.037, 0.090, 0.583, 0.014; the sum the same to 2e-4): given tclean's own
# dirty terms (calcpsf/calcres false) pclean's minor cycle reproduces tclean's model terms to
# 5e-5, and tclean's residual.tt0 with pclean's residual.tt1 too, so the split follows from
# residual.tt0 differences of 1e-5..3.5e-5 Jy (4e-5 of its peak) at those pixels: a near tie the
# data do not decide. Without conjbeams the models agree pixel by pixel (6.3e-5 / 1.5e-3). With
# the masks made from the beam model instead of the mosaic's pb (pclean before s16-conj: 858
# fewer pixels than tclean's pb > 0.4) the smoothed conjbeams model.tt1 was 0.15 off. The
# image.tt0 bound is the mfs one (2e-2); the model bounds 1% and 1.5x the largest measured; the
# others 1.5x the largest measured in session 14, under which the old pb cut (residual 2.7 / 2.0
# of the peak) fails.
CLEAN_TOL = {"image.tt0": 2e-2, "image.tt1": 0.12, "residual.tt0": 0.18, "residual.tt1": 0.21,
             "model.tt0": 1e-2, "model.tt1": 1.5e-2}
CLEAN_GUARD = {}
# sumwt.ttN: natural weights, float32 sums: tt0 and tt2 equal tclean's (8640, 86.4); tt1 is ~0
# (the 90 and 110 GHz windows cancel: -4.4e-5 against tclean's -1.1e-4): 1e-6 of sumwt.tt0.
SUMWT_TOL = 1e-6
# .alpha where tclean's image.tt0 > 0.3 of its peak (below it the dirty cases' blanking
# thresholds, 0.1 of the peak, differ by a few pixels). Measured |d alpha| max 4.2e-3 / 1.9e-3
# (dirty), 5.4e-2 / 4.5e-2 (clean; 0.126 / 0.076 in session 14).
ALPHA_LEVEL = 0.3
ALPHA_TOL = {"wb_mt": 0.075, "wb_mt_conj": 0.075, "wb_mt_clean": 0.19, "wb_mt_conj_clean": 0.12}
_RUNS = {}


@pytest.fixture(scope="module")
def wb_ms(tmp_path_factory):
    return unpack_bundled(["wideband_mosaic.ms.tar.gz"], tmp_path_factory.mktemp("wb_mt_ms"))


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("wb_mt_out")


def run_case(name, msdir, outdir):
    """pclean with the reference's tclean parameters, once per case; returns the prefix."""
    return run_reference_case(_RUNS, INFO, name, msdir, outdir, NOT_IMAGING)


def reference(name, ext):
    """tclean's plane (y, x) and the crop's offset (x0, y0) in the full image."""
    with fits.open(REF / ("tclean_%s.%s.fits.gz" % (name, ext))) as h:
        x0, y0 = (int(v) for v in h[0].header["PCCROP"].split(","))
        return np.asarray(h[0].data, dtype=np.float64).reshape(h[0].data.shape[-2:]), (x0, y0)


def ours(prefix, ext, crop, size):
    d, _ = load_casa("%s.%s" % (prefix, ext))
    x0, y0 = crop
    return d[0, 0, y0:y0 + size, x0:x0 + size]


def pb_case(name):
    """The niter=0 case whose pb.tt0 the deconvolved (or psfphasecenter) case shares (the same
    weights and beams)."""
    return name.replace("_clean", "").replace("_psfpc", "")


def restoring_fwhm_px(name):
    """The geometric mean of the FWHMs of tclean's restoring beam of case `name`, in pixels."""
    with fits.open(REF / ("tclean_%s.image.tt0.fits.gz" % name)) as h:
        hd = h[0].header
        return (hd["BMAJ"] * hd["BMIN"]) ** 0.5 / abs(hd["CDELT1"])


def error(name, ext, msdir, outdir):
    prefix = run_case(name, msdir, outdir)
    pb, _ = reference(pb_case(name), "pb.tt0")
    ref, crop = reference(name, ext)
    mine = ours(prefix, ext, crop, ref.shape[0])
    if ext.startswith("model"):
        # MODEL_SMOOTH: both models convolved with a round Gaussian of the restoring beam's
        # size (the split of a component among adjacent pixels is below the data's resolution).
        from scipy import ndimage
        sigma = restoring_fwhm_px(name) / (8 * np.log(2)) ** 0.5
        ref = ndimage.gaussian_filter(ref, sigma, mode="constant")
        mine = ndimage.gaussian_filter(np.asarray(mine, dtype=np.float64), sigma, mode="constant")
    region = np.nan_to_num(pb) > REGION_PB
    assert np.isfinite(mine[region]).all()
    if (name, ext) in CANCELLING:
        tt2, _ = reference(name, "weight.tt2")
        scale = CANCELLING[(name, ext)][1] * np.abs(tt2[region]).max()
        # The cancellation is real: tclean's term is a small fraction of the terms' scale.
        assert np.abs(ref[region]).max() < 1e-3 * scale
        return np.abs(mine - ref)[region].max() / scale
    return np.abs(mine - ref)[region].max() / np.abs(ref[region]).max()


def check(name, ext, msdir, outdir, tol, guard):
    err = error(name, ext, msdir, outdir)
    print("%s %s: %.2e" % (name, ext, err))
    if ext in guard and err >= tol[ext]:
        assert err < guard[ext], "%s %s: %.4f of tclean's peak" % (name, ext, err)
        pytest.xfail("open gap: mtmfs mosaic %s %s %.4f of tclean's peak (bound %g)"
                     % (name, ext, err, tol[ext]))
    if (name, ext) in CANCELLING:
        bound = CANCELLING[(name, ext)][0]
        assert err < bound, "%s %s: %.2e of the cancelling terms' scale" % (name, ext, err)
        return
    assert err < tol[ext], "%s %s: max |pclean - tclean| = %.4f of tclean's peak" % (name, ext, err)


@pytest.mark.parametrize("name", DIRTY)
@pytest.mark.parametrize("ext", DIRTY_EXT)
def test_dirty_terms_match_tclean(name, ext, wb_ms, out):
    check(name, ext, wb_ms, out, TOL, GUARD)


@pytest.mark.parametrize("name", CLEAN)
@pytest.mark.parametrize("ext", CLEAN_EXT)
def test_clean_terms_match_tclean(name, ext, wb_ms, out):
    check(name, ext, wb_ms, out, CLEAN_TOL, CLEAN_GUARD)


@pytest.mark.parametrize("ext", ["psf.tt0", "psf.tt1", "psf.tt2"])
def test_psfphasecenter_terms_match_tclean(ext, wb_ms, out):
    """psfphasecenter with an mtmfs mosaic (s16-mtpart): tclean 6.7 images the PSF terms with
    each pointing's beam placed as if psfphasecenter were the image centre (its psf.tt0 moves by
    6.2e-2 of the peak from wb_mt's, as the single-term mosaic's PSF does) and changes nothing
    else (weights, residuals, pb, sums of weights equal wb_mt's bit for bit, measured); pclean
    grids the PSF terms in the mosaic's PSF pass, which places the beams so. The bounds of the
    dirty terms (TOL, GUARD): a PSF about the image centre (wb_mt's) is 6.2e-2 off in psf.tt0."""
    check("wb_mt_psfpc", ext, wb_ms, out, TOL, GUARD)


@pytest.mark.parametrize("ext", ["residual.tt0", "residual.tt1", "weight.tt0", "weight.tt1",
                                 "pb.tt0", "sumwt.tt0", "sumwt.tt1"])
def test_psfphasecenter_leaves_the_other_terms(ext, wb_ms, out):
    """With psfphasecenter only the PSF terms change (as tclean's, measured): pclean's residual,
    weight, pb and sumwt terms equal its wb_mt run's bit for bit."""
    a = load_casa("%s.%s" % (run_case("wb_mt_psfpc", wb_ms, out), ext))[0]
    b = load_casa("%s.%s" % (run_case("wb_mt", wb_ms, out), ext))[0]
    assert np.array_equal(a, b, equal_nan=True), ext


@pytest.mark.parametrize("name", DIRTY + CLEAN)
def test_products_and_sumwt_as_tclean(name, wb_ms, out):
    """The products tclean 6.7 writes for an mtmfs mosaic (`.weight.tt0..tt2` among them), and
    its sums of weights per term."""
    prefix = run_case(name, wb_ms, out)
    written = sorted(p.name[len(name) + 1:] for p in out.glob(name + ".*")
                     if not p.name.endswith(".json"))
    assert written == INFO[name]["products"]
    for t, want in enumerate(INFO[name]["sumwt"]):
        got = load_casa("%s.sumwt.tt%d" % (prefix, t))[0].ravel()[0]
        assert abs(got - want) <= SUMWT_TOL * INFO[name]["sumwt"][0], (t, got, want)


@pytest.mark.parametrize("name", DIRTY + CLEAN)
def test_alpha_matches_tclean(name, wb_ms, out):
    """`.alpha` where tclean's pb > REGION_PB and tclean's image.tt0 above ALPHA_LEVEL of its peak."""
    prefix = run_case(name, wb_ms, out)
    pb, _ = reference(pb_case(name), "pb.tt0")
    ref, crop = reference(name, "alpha")
    t0, _ = reference(name, "image.tt0")
    mine = ours(prefix, "alpha", crop, ref.shape[0])
    sel = (np.nan_to_num(pb) > REGION_PB) & (t0 > ALPHA_LEVEL * np.nanmax(t0)) & np.isfinite(ref)
    assert sel.sum() > 20, "too few bright pixels (%d)" % sel.sum()
    assert np.isfinite(mine[sel]).all()
    err = np.abs(mine - ref)[sel].max()
    print("%s alpha: %.3e over %d px" % (name, err, sel.sum()))
    assert err <= ALPHA_TOL[name], "%s: alpha differs by %.3g over %d pixels" % (name, err, sel.sum())


# The prediction alone: pclean with niter=0 and tclean's final model terms as startmodel against
# tclean's final residual terms, max |diff| over pb > REGION_PB in units of that residual's peak.
# Measured (full images, conjbeams False / True): residual.tt0 5.9e-2 / 3.9e-2 of 0.144 / 0.161
# (1.0e-2 / 7.5e-3 of the dirty peak), residual.tt1 2.8e-2 / 6.3e-2; the mfs mosaic's prediction
# is 2.2e-2 / 3.2e-2 (test_mosaic.py's WB_PRED_TOL 0.1, the bound used here too).
PRED_TOL = 0.1


def gunzip(src, dst):
    import gzip
    import shutil
    with gzip.open(src) as g, open(dst, "wb") as f:
        shutil.copyfileobj(g, f)
    return dst


@pytest.mark.parametrize("name", CLEAN)
def test_prediction_of_tclean_models_matches_tclean(name, wb_ms, out):
    params = {k: v for k, v in INFO[name]["params"].items()
              if k not in NOT_IMAGING + ("usemask", "pbmask")}
    params["niter"] = 0
    cfg = out / (name + "_pred.config.json")
    cfg.write_text(json.dumps(params))
    models = [gunzip(REF / ("tclean_%s.model.tt%d.fits.gz" % (name, t)),
                     out / ("%s_tclean.model.tt%d.fits" % (name, t))) for t in (0, 1)]
    prefix = out / (name + "_pred")
    run_pclean("image", "--config", cfg, "--vis", wb_ms / INFO[name]["params"]["vis"],
               "--imagename", prefix, "--overwrite", "--startmodel", models[0],
               "--startmodel", models[1])
    pb, _ = reference(pb_case(name), "pb.tt0")
    region = np.nan_to_num(pb) > REGION_PB
    for t in (0, 1):
        ref, crop = reference(name, "residual.tt%d" % t)
        mine = ours(prefix, "residual.tt%d" % t, crop, ref.shape[0])
        err = np.abs(mine - ref)[region].max() / np.abs(ref[region]).max()
        print("%s prediction tt%d: %.2e" % (name, t, err))
        assert err < PRED_TOL, "%s tt%d: residual of tclean's models %.4f of its peak" % (name, t, err)


@pytest.mark.parametrize("reuse", [dict(calcpsf=False), dict(calcres=False),
                                   dict(calcpsf=False, calcres=False)],
                         ids=["calcpsf_false", "calcres_false", "calcpsf_calcres_false"])
def test_reused_terms_equal_a_full_run(reuse, wb_ms, out, tmp_path):
    """calcpsf=false / calcres=false with an mtmfs mosaic (s15-mtmos): a niter 0 run of
    wb_mt_clean's parameters restarted with niter 100 reusing its `.psf.ttN`/`.sumwt.ttN` and/or
    `.residual.ttN` equals the single niter 100 run (compare.assert_same_products: 1e-6 of the
    peak; the PSF pass is made again for the terms' weight images, so the weights and the
    weight images are the same as the single run's, and the reused products are its f32 planes).
    Its weight images come back with it: `.weight.tt0..tt2` and `.pb.tt0` equal too."""
    from compare import assert_same_products
    full = run_case("wb_mt_clean", wb_ms, out)
    params = {k: v for k, v in INFO["wb_mt_clean"]["params"].items() if k not in NOT_IMAGING}
    vis = wb_ms / INFO["wb_mt_clean"]["params"]["vis"]
    r = tmp_path / "r"
    cfg = tmp_path / "r0.config.json"
    cfg.write_text(json.dumps(dict(params, niter=0)))
    run_pclean("image", "--config", cfg, "--vis", vis, "--imagename", r, "--overwrite")
    cfg = tmp_path / "r1.config.json"
    cfg.write_text(json.dumps(dict(params, **reuse)))
    run_pclean("image", "--config", cfg, "--vis", vis, "--imagename", r, "--restart", "--overwrite")
    assert_same_products(full, r, ["image.tt0", "image.tt1", "residual.tt0", "residual.tt1",
                                   "model.tt0", "model.tt1", "psf.tt1", "weight.tt0",
                                   "weight.tt1", "weight.tt2", "pb.tt0", "sumwt.tt2"])


# nterms 3 (wb_mt3: the wb_mt parameters with nterms 3 on wideband_mosaic3.ms, windows at 90, 100
# and 110 GHz, so f = -0.1, 0, +0.1 and the 3-term Hessian is regular). Measured over pb > 0.5 in
# units of tclean's peak: psf.tt0 9.6e-5, psf.tt1 5.4e-3, psf.tt2 and psf.tt4 2.9e-4,
# residual.tt0 4.0e-4, residual.tt1 1.6e-3, residual.tt2 2.3e-4, image.tt0 4.3e-4, weight.tt0 /
# tt1 / tt4 1.4e-4 / 3.1e-4 / 1.4e-4, pb.tt0 8.6e-5: issue 14's 1% (the odd terms, 1.4e-2 and
# 1.8e-2 in session 15, met it with s15-mosedge's gridding).
DIRTY3_EXT = ["psf.tt0", "psf.tt1", "psf.tt2", "psf.tt4", "residual.tt0", "residual.tt1",
              "residual.tt2", "weight.tt0", "weight.tt1", "weight.tt4", "pb.tt0", "image.tt0"]
TOL3 = {ext: 1e-2 for ext in DIRTY3_EXT}
# Measured |d alpha| 0.071 over the pixels above 0.3 of image.tt0's peak (nterms 2: 0.051); 1.5x.
ALPHA3_TOL = 0.11


@pytest.fixture(scope="module")
def wb3_ms(tmp_path_factory):
    return unpack_bundled(["wideband_mosaic3.ms.tar.gz"], tmp_path_factory.mktemp("wb_mt3_ms"))


@pytest.mark.parametrize("ext", DIRTY3_EXT)
def test_nterms3_terms_match_tclean(ext, wb3_ms, out):
    check("wb_mt3", ext, wb3_ms, out, TOL3, GUARD)


def test_nterms3_products_sumwt_and_alpha_as_tclean(wb3_ms, out):
    """nterms 3: tclean 6.7's products (`.weight.tt0..tt4`, `.psf.tt0..tt4`, `.beta`), its sums
    of weights per term (tt1 and tt3 ~0: the windows are symmetric about 100 GHz), and `.alpha`
    where image.tt0 > ALPHA_LEVEL of its peak."""
    test_products_and_sumwt_as_tclean("wb_mt3", wb3_ms, out)
    prefix = run_case("wb_mt3", wb3_ms, out)
    pb, _ = reference("wb_mt3", "pb.tt0")
    ref, crop = reference("wb_mt3", "alpha")
    t0, _ = reference("wb_mt3", "image.tt0")
    mine = ours(prefix, "alpha", crop, ref.shape[0])
    sel = (np.nan_to_num(pb) > REGION_PB) & (t0 > ALPHA_LEVEL * np.nanmax(t0)) & np.isfinite(ref)
    assert sel.sum() > 20, "too few bright pixels (%d)" % sel.sum()
    err = np.abs(mine - ref)[sel].max()
    print("wb_mt3 alpha: %.3e over %d px" % (err, sel.sum()))
    assert err <= ALPHA3_TOL, "alpha differs by %.3g over %d pixels" % (err, sel.sum())

"""Issue 14's joint mosaics (`gridder='mosaic'`) against tclean 6.7 on the bundled subset of the
7-pointing ALMA 12 m mosaic (testdata/alma_mosaic_small.ms.tar.gz; scripts/dev/make_mosaic_testdata.py,
testdata/README.md): the dirty products (psf, residual, pb, weight, sumwt) for tclean's default
(briggs 0.5, normtype flatnoise, mosweight=True), mosweight=False, and natural weighting with
normtype flatsky and pbsquare, within the issue's bound (1% of tclean's peak where tclean's pb > 0.3);
and the cleaned image's components (alma_mosaic.sky.json) within 5% of their flux and 0.1 beam of
their position where tclean's are.

The references are the inner 160^2 of tclean's 256^2 images (header PCCROP: the crop's offset); the
region pb > 0.3 lies well inside it."""
import json
import os
import shutil
import subprocess
import time

import numpy as np
import pytest
from astropy.io import fits

from compare import load_casa
from conftest import REFERENCE, run_pclean, unpack_bundled

REF = REFERENCE / "mosaic"
INFO = json.loads((REF / "mosaic_refs.json").read_text())
SKY = json.loads((REF / "alma_mosaic.sky.json").read_text())
DIRTY = ["mfs_dirty", "mfs_nomosweight", "mfs_flatsky", "mfs_pbsquare"]
# The bound for the dirty image, PSF, .pb and .weight: 1% of tclean's peak over pb > 0.3
# (measured on this subset: psf <= 5.9e-4, residual <= 6.5e-3, pb <= 1.2e-3, weight <= 8.6e-3; the
# weight is tclean's band-limited PB^2 kernel (pclean_grid mosaic/weight.rs), 1.8e-2 with an exact
# PB^2; its remaining 0.85% here is a uniform scale, 1.5e-3 on the full data at 0.25" cells).
TOL = {"psf": 1e-2, "residual": 1e-2, "pb": 1e-2, "weight": 1e-2}
# sumwt: natural weighting gives tclean's exactly (the same float32 weights); with Briggs and
# mosweight it is measured 2.5e-4 below tclean's (31 036.5 vs 31 044.3; the per-field densities'
# cell rounding is the suspect, not resolved): 5e-4.
SUMWT_TOL = 5e-4
# Cleaned components: 5% of the flux, 0.1 beam of the position (the bounds).
FLUX_TOL, POS_TOL_BEAM = 0.05, 0.1
NOT_IMAGING = ("vis", "parallel")
_RUNS = {}


@pytest.fixture(scope="module")
def mosaic_ms(tmp_path_factory):
    return unpack_bundled(["alma_mosaic_small.ms.tar.gz"], tmp_path_factory.mktemp("mosaic_ms"))


@pytest.fixture(scope="module")
def mosaic_out(tmp_path_factory):
    return tmp_path_factory.mktemp("mosaic_out")


def run_case(name, msdir, outdir, info=INFO):
    """pclean with the reference's tclean parameters; one run per case. Returns the prefix."""
    if name not in _RUNS:
        params = info[name]["params"]
        cfg = outdir / (name + ".config.json")
        cfg.write_text(json.dumps({k: v for k, v in params.items() if k not in NOT_IMAGING}))
        prefix = outdir / name
        t0 = time.time()
        p = run_pclean("image", "--config", cfg, "--vis", msdir / params["vis"], "--imagename", prefix,
                       "--overwrite", check=False)
        _RUNS[name] = (prefix, p, time.time() - t0)
        print("%s: pclean %.1f s, tclean %.1f s" % (name, _RUNS[name][2], info[name]["seconds"]))
    prefix, p, _ = _RUNS[name]
    if p.returncode != 0:
        pytest.fail("pclean failed on %s (%d): %s" % (name, p.returncode, p.stderr[-2000:]), pytrace=False)
    return prefix


def reference(name, ext, refdir=REF):
    """tclean's plane (y, x) and the crop's offset (x0, y0) in the full image."""
    with fits.open(refdir / ("tclean_%s.%s.fits.gz" % (name, ext))) as h:
        x0, y0 = (int(v) for v in h[0].header["PCCROP"].split(","))
        return np.asarray(h[0].data, dtype=np.float64).reshape(h[0].data.shape[-2:]), (x0, y0)


def ours(prefix, ext, crop, size=160):
    d, _ = load_casa("%s.%s" % (prefix, ext))
    x0, y0 = crop
    return d[0, 0, y0:y0 + size, x0:x0 + size]


@pytest.mark.parametrize("name", DIRTY)
@pytest.mark.parametrize("ext", ["psf", "residual", "pb", "weight"])
def test_dirty_products_match_tclean(name, ext, mosaic_ms, mosaic_out):
    prefix = run_case(name, mosaic_ms, mosaic_out)
    pb, _ = reference(name, "pb")
    ref, crop = reference(name, ext)
    mine = ours(prefix, ext, crop)
    region = np.nan_to_num(pb) > 0.3
    assert np.isfinite(mine[region]).all()
    err = np.abs(mine - ref)[region].max() / np.abs(ref[region]).max()
    assert err < TOL[ext], "%s %s: max |pclean - tclean| = %.4f of tclean's peak" % (name, ext, err)


@pytest.mark.parametrize("name", DIRTY)
def test_sumwt_matches_tclean(name, mosaic_ms, mosaic_out):
    prefix = run_case(name, mosaic_ms, mosaic_out)
    got = load_casa("%s.sumwt" % prefix)[0].ravel()[0]
    want = INFO[name]["sumwt"]
    assert abs(got - want) <= SUMWT_TOL * want, (got, want)


# A one-channel LSRK cube of the subset (Briggs 0.5, per-field densities through tclean's
# BriggsCubeWeightor): tclean grids each field's density at the uvw rotated to the image centre
# and looks it up at the data's own uvw; six of the seven fields are off the centre.
CUBE_INFO = json.loads((REF / "mosaic_cube_sumwt.json").read_text())
# Measured (s16-ch0): 32039.80 against tclean's 32034.17, 1.8e-4 (a remainder not explained, of
# the size of this subset's mfs one, SUMWT_TOL above); with the per-field densities gridded at the
# data's own uvw 32066.59, 1.0e-3.
CUBE_SUMWT_TOL = 5e-4


def test_cube_per_field_densities_sumwt_matches_tclean(mosaic_ms, mosaic_out):
    prefix = run_case("cube_briggs", mosaic_ms, mosaic_out, info=CUBE_INFO)
    got = load_casa("%s.sumwt" % prefix)[0].ravel()
    want = np.asarray(CUBE_INFO["cube_briggs"]["sumwt"])
    assert got.shape == want.shape, (got, want)
    assert (np.abs(got - want) <= CUBE_SUMWT_TOL * want).all(), (got, want)


def components_seen(image, pb, beam, cell_arcsec, centre_px):
    """Each point component of the sky model as (flux Jy, offset in beams) seen in a restored image
    `image` / `pb` (both (y, x)): the peak within one beam of the true position (parabola through
    the brightest pixel and its neighbours), less the central Gaussian's brightness there (the
    sky's Gaussian convolved with the restoring beam `beam` = (bmaj", bmin"))."""
    cor = np.where(pb > 0.2, image / np.maximum(pb, 1e-6), 0.0)
    bmaj, bmin = beam
    gauss = SKY["components"][0]
    cos_dec = np.cos(np.radians(SKY["phase_centre_deg"][1]))
    out = []
    for c in SKY["components"][1:]:
        dx = (c["ra_deg"] - SKY["phase_centre_deg"][0]) * 3600 * cos_dec
        dy = (c["dec_deg"] - SKY["phase_centre_deg"][1]) * 3600
        x, y = centre_px[0] - dx / cell_arcsec, centre_px[1] + dy / cell_arcsec
        ix, iy, r = int(round(x)), int(round(y)), int(np.ceil(bmaj / cell_arcsec))
        sub = cor[iy - r:iy + r + 1, ix - r:ix + r + 1]
        j = np.unravel_index(np.argmax(sub), sub.shape)
        py, px = iy - r + j[0], ix - r + j[1]

        def vertex(a, b, c_):
            return 0.5 * (a - c_) / (a - 2 * b + c_) if a - 2 * b + c_ != 0 else 0.0

        ox = vertex(cor[py, px - 1], cor[py, px], cor[py, px + 1])
        oy = vertex(cor[py - 1, px], cor[py, px], cor[py + 1, px])
        big2, small2 = gauss["major_arcsec"] ** 2 + bmaj ** 2, gauss["minor_arcsec"] ** 2 + bmin ** 2
        pa = np.radians(gauss["pa_deg"])
        u, v = dx * np.sin(pa) + dy * np.cos(pa), -dx * np.cos(pa) + dy * np.sin(pa)
        under = gauss["flux_jy"] * bmaj * bmin / np.sqrt(big2 * small2) * np.exp(
            -4 * np.log(2) * (u * u / big2 + v * v / small2))
        out.append((cor[py, px] - under, np.hypot(px + ox - x, py + oy - y) * cell_arcsec / bmaj))
    return out


def test_cleaned_components_as_tclean(mosaic_ms, mosaic_out):
    """Every point component where tclean's cleaned image is within the issue's bounds (5% of the
    flux, 0.1 beam) is within them in pclean's too, and each is measured on pclean's image within 3%
    of its flux (of the measured blend for two components 0.8" apart inside one 1.9" beam) and 0.02
    beam of tclean's (measured: 2.1% and 0.005 beam at most; the crude peak measure on 0.5" pixels is
    the same on both images). The restored images agree to 1.3% of tclean's peak over pb > 0.3 (measured)."""
    prefix = run_case("mfs_clean", mosaic_ms, mosaic_out)
    ref_pb, crop = reference("mfs_dirty", "pb")
    ref_pb = np.nan_to_num(ref_pb)
    ref_img, _ = reference("mfs_clean", "image")
    with fits.open(REF / "tclean_mfs_clean.image.fits.gz") as h:
        ref_beam = (h[0].header["BMAJ"] * 3600, h[0].header["BMIN"] * 3600)
    mine = ours(prefix, "image", crop)
    pb = ours(prefix, "pb", crop)
    region = ref_pb > 0.3
    err = np.abs(mine - ref_img)[region].max() / np.abs(ref_img[region]).max()
    assert err < 2e-2, "restored image: %.4f of tclean's peak" % err
    _, im = load_casa("%s.image" % prefix)
    b = im.imageinfo()["restoringbeam"]
    unit = {"arcsec": 1.0, "deg": 3600.0}
    beam = (b["major"]["value"] * unit[b["major"]["unit"]], b["minor"]["value"] * unit[b["minor"]["unit"]])
    cell = float(INFO["mfs_clean"]["params"]["cell"].replace("arcsec", ""))
    centre = (128 - crop[0], 128 - crop[1])
    got = components_seen(mine, pb, beam, cell, centre)
    want = components_seen(ref_img, ref_pb, ref_beam, cell, centre)
    for c, (f, off), (rf, roff) in zip(SKY["components"][1:], got, want):
        true = c["flux_jy"]
        assert abs(f - rf) <= 0.03 * max(true, rf) and abs(off - roff) <= 0.02, (c, f, off, rf, roff)
        if abs(rf / true - 1) <= FLUX_TOL and roff <= POS_TOL_BEAM:
            assert abs(f / true - 1) <= FLUX_TOL and off <= POS_TOL_BEAM, (c, f, off)



HET_REF = REFERENCE / "hetero_mosaic"
HET_INFO = json.loads((HET_REF / "hetero_refs.json").read_text())
# 12 m + 7 m in one array (testdata/hetero_mosaic.ms.tar.gz: 12-12, 12-7 and 7-7 baselines, each
# through its two antennas' voltage patterns as tclean's HetArrayConvFunc); the issue's 1% bound
# where tclean's pb > 0.3. Measured: psf 2.3e-3, pb 2.2e-4, weight 1.6e-4 (tclean's weight kernel
# on the unpadded screen, docs/decisions.md (s9-mosaic); 0.37 and 0.17 with one 12 m beam for all);
# the residual 7.6e-3 (flatsky), 4.2e-3 (briggs, flatnoise), 2.8e-3 (pbsquare), since the residual
# and PSF passes grid as tclean's MosaicFT does (its unpadded grid, where the 7 m beams fold in at
# the image edge; pclean_grid mosaic/ftgrid.rs, docs/decisions.md (s15-mosedge)): 3.4e-2, 1.8e-2
# and 6.1e-3 with each pointing's exact dirty image times its beam.
HET_TOL = {"psf": 1e-2, "residual": 1e-2, "pb": 1e-2, "weight": 1e-2}


@pytest.fixture(scope="module")
def het_ms(tmp_path_factory):
    return unpack_bundled(["hetero_mosaic.ms.tar.gz"], tmp_path_factory.mktemp("het_ms"))


@pytest.mark.parametrize("name", ["het_flatsky", "het_dirty", "het_pbsquare"])
@pytest.mark.parametrize("ext", ["psf", "residual", "pb", "weight"])
def test_heterogeneous_array_matches_tclean(name, ext, het_ms, mosaic_out):
    check_bounded(name, ext, het_ms, mosaic_out, HET_INFO, HET_REF, HET_TOL, {}, "heterogeneous")


def bounded_error(name, ext, msdir, outdir, info, refdir, pb_case=None):
    """max |pclean - tclean| of case `name`'s `ext` over tclean's pb > 0.3 (the pb of case
    `pb_case`, default `name`), in units of tclean's peak there."""
    prefix = run_case(name, msdir, outdir, info)
    pb, _ = reference(pb_case or name, "pb", refdir)
    ref, crop = reference(name, ext, refdir)
    mine = ours(prefix, ext, crop, ref.shape[0])
    region = np.nan_to_num(pb) > 0.3
    return np.abs(mine - ref)[region].max() / np.abs(ref[region]).max()


def check_bounded(name, ext, msdir, outdir, info, refdir, tol, guard, what, pb_case=None):
    """pclean's `ext` of case `name` within tol[ext] of tclean's peak where tclean's pb > 0.3; a
    product in `guard` that misses tol is an xfail (an open gap) while under guard[ext]."""
    err = bounded_error(name, ext, msdir, outdir, info, refdir, pb_case)
    print("%s %s: %.2e" % (name, ext, err))
    if ext in guard and err >= tol[ext]:
        assert err < guard[ext], "%s %s: %.4f of tclean's peak" % (name, ext, err)
        pytest.xfail("open gap: %s %s %.4f of tclean's peak (bound 1%%)" % (what, ext, err))
    assert err < tol[ext], "%s %s: max |pclean - tclean| = %.4f of tclean's peak" % (name, ext, err)


WB_REF = REFERENCE / "wideband_mosaic"
WB_INFO = json.loads((WB_REF / "wideband_refs.json").read_text())
# An mfs mosaic over a 20% band (testdata/wideband_mosaic.ms.tar.gz: two 1 GHz windows at 90 and
# 110 GHz, two pointings 25" apart, 224^2 x 0.8"): tclean uses each data channel's beam
# (findUsefulChannels), so does pclean. Measured: psf 1.3e-4, residual 6.8e-4, pb 9e-5, weight
# 1.4e-4 (the residual and PSF gridded as tclean's MosaicFT, docs/decisions.md (s15-mosedge); with
# each pointing's exact dirty image times its beam 2.8e-3 and 1.9e-2, the residual's at the pb 0.3
# edge); with the beams at the plane's 100 GHz (pclean before s9) 2.0e-2, 2.0e-2, 1.2e-2, which
# the 1% bound fails. docs/decisions.md (s9-mosaic).
WB_TOL = {"psf": 1e-2, "residual": 1e-2, "pb": 1e-2, "weight": 1e-2}


@pytest.fixture(scope="module")
def wb_ms(tmp_path_factory):
    return unpack_bundled(["wideband_mosaic.ms.tar.gz"], tmp_path_factory.mktemp("wb_ms"))


@pytest.mark.parametrize("ext", ["psf", "residual", "pb", "weight"])
def test_wideband_mfs_beams_per_channel_match_tclean(ext, wb_ms, mosaic_out):
    check_bounded("wb_flatsky", ext, wb_ms, mosaic_out, WB_INFO, WB_REF, WB_TOL, {},
                  "wideband (the pb 0.3 edge)")


# conjbeams=True (tclean grids the data of beam frequency nu through the beam at its conjugate
# sqrt(2 nu_c^2 - nu^2) about the 100 GHz reference, the weight being PB(nu) PB(nu'); pclean_grid
# mosaic/conj.rs): tclean stretches the data frequency's gridding kernel by nu'/nu
# (HetArrayConvFunc::fillConjConvFunc), so does pclean (docs/decisions.md (s16-conj)). Measured:
# psf 2.8e-4, residual 1.7e-3, pb 1.0e-4, weight 1.4e-4 (with the kernels of the beams at the
# conjugate frequencies, pclean before s16-conj: psf 1.5e-3, residual 1.2e-2, an xfail then).
# pclean's conjbeams=False products are 4.3e-2 (psf), 0.25 (residual), 2.1e-2 (pb) and 1.3e-2
# (weight) off this reference, so the test tells the two apart.
@pytest.mark.parametrize("ext", ["psf", "residual", "pb", "weight"])
def test_wideband_mfs_conjbeams_match_tclean(ext, wb_ms, mosaic_out):
    check_bounded("wb_conjbeams", ext, wb_ms, mosaic_out, WB_INFO, WB_REF, WB_TOL, {},
                  "wideband conjbeams (the pb 0.3 edge)")


# conjbeams=True deconvolved (hogbom, niter 100, cleaning where pb > 0.4: three major cycles in
# tclean 6.7; scripts/dev/make_wideband_mosaic.py CLEAN_CASES). tclean's MosaicFT asks its
# HetArrayConvFunc for the conjugate-frequency kernels only when gridding (`useConjConvFunc_p &&
# !toVis_p`), so the model is predicted through each channel's own beam PB(nu), as pclean's
# (mosaic/conj.rs); flatnoise first divides the model by the conjbeams pb (sqrt of the
# PB(nu) PB(nu') weight). docs/decisions.md (s13-conj).
WB_CLEAN = ["wb_conj_clean", "wb_conj_clean_fn"]
WB_CLEAN_PB = {"wb_conj_clean": "wb_conjbeams", "wb_conj_clean_fn": "wb_conjbeams", "wb_clean": "wb_flatsky"}
# The prediction alone: pclean with niter=0 and tclean's final model as startmodel against
# tclean's final residual, max |diff| over pb > 0.3 in units of that residual's peak. Measured
# 3.2e-2 (flatsky, at the pb 0.3 edge), 5.7e-2 (flatnoise; the residual's peak is 0.10 there,
# the difference 5.7 mJy at the brightest component), conjbeams=False 2.2e-2: the predicted model
# image (dirty - residual) is 0.6-0.7% above tclean's in both cases (a least-squares scale of
# 1.006 with conjbeams, 1.007 without), i.e. the mosaic's prediction, not conjbeams'. Predicting
# through the beams at the conjugate frequency instead (measured with that change) gives 0.20
# (flatsky) and 0.26 (flatnoise): 0.1 tells the two apart.
WB_PRED_TOL = 0.1


def gunzip(src, dst):
    import gzip
    with gzip.open(src) as g, open(dst, "wb") as f:
        shutil.copyfileobj(g, f)
    return dst


@pytest.mark.parametrize("name", WB_CLEAN + ["wb_clean"])
def test_wideband_mosaic_prediction_matches_tclean(name, wb_ms, mosaic_out):
    params = {k: v for k, v in WB_INFO[name]["params"].items()
              if k not in NOT_IMAGING + ("usemask", "pbmask", "deconvolver")}
    params["niter"] = 0
    cfg = mosaic_out / (name + "_pred.config.json")
    cfg.write_text(json.dumps(params))
    model = gunzip(WB_REF / ("tclean_%s.model.fits.gz" % name), mosaic_out / (name + "_tclean.model.fits"))
    prefix = mosaic_out / (name + "_pred")
    run_pclean("image", "--config", cfg, "--vis", wb_ms / WB_INFO[name]["params"]["vis"],
               "--imagename", prefix, "--overwrite", "--startmodel", model)
    pb, _ = reference(WB_CLEAN_PB[name], "pb", WB_REF)
    ref, crop = reference(name, "residual", WB_REF)
    mine = ours(prefix, "residual", crop, ref.shape[0])
    region = np.nan_to_num(pb) > 0.3
    err = np.abs(mine - ref)[region].max() / np.abs(ref[region]).max()
    print("%s prediction: %.2e" % (name, err))
    assert err < WB_PRED_TOL, "%s: residual of tclean's model %.4f of tclean's peak" % (name, err)


# The whole deconvolution against tclean's, over pb > 0.3 in units of tclean's peak there.
# Measured (flatsky / flatnoise): image 1.2e-2 / 1.2e-2 (predicting through the conjugate beams:
# 7.3e-2 / 3.8e-2), residual 3.3e-2 / 3.6e-2 (0.20 / 0.26), model 1.5e-2 / 2.3e-2 (with the
# kernels of the beams at the conjugate frequencies, before s16-conj: image 1.2e-2 / 9.0e-3,
# residual 3.5e-2 / 3.1e-2, model 2.4e-2 / 5.6e-2, total flux 0.9% / 1.2% below tclean's). The models differ by the iterations of each minor cycle
# (pclean's first cycle stops at 74 components for tclean's 76 on flatsky: the cycle threshold
# is hit by peaks that differ by the dirty image's 1e-2), so the model's bounds (0.1 of its peak,
# total flux 3%) are a sanity check that does not tell the prediction apart (0.05 / 0.06 and
# 4.0% / 1.7% with the conjugate beams); the image's 2e-2 (as test_cleaned_components_as_tclean's
# restored image) and the residual's 0.1 (as the prediction's above) do.
WB_CLEAN_TOL = {"image": 2e-2, "residual": 0.1, "model": 0.1}
WB_CLEAN_FLUX_TOL = 0.03


@pytest.mark.parametrize("name", WB_CLEAN)
@pytest.mark.parametrize("ext", ["image", "residual", "model"])
def test_wideband_mfs_conjbeams_clean_matches_tclean(name, ext, wb_ms, mosaic_out):
    check_bounded(name, ext, wb_ms, mosaic_out, WB_INFO, WB_REF, WB_CLEAN_TOL, {},
                  "deconvolved conjbeams", pb_case=WB_CLEAN_PB[name])
    if ext == "model":
        ref, crop = reference(name, "model", WB_REF)
        mine = ours(run_case(name, wb_ms, mosaic_out, WB_INFO), "model", crop, ref.shape[0])
        assert abs(mine.sum() / ref.sum() - 1) < WB_CLEAN_FLUX_TOL, (mine.sum(), ref.sum())


# conjbeams matters to the deconvolved products: pclean's conjbeams=False run misses tclean's
# conjbeams=True image by 4.5e-2 of its peak (residual 0.15, model 5.7e-2; measured) and matches tclean's own conjbeams=False
# image to 1.0e-2 (the residual to 2.2e-2, the model to 1.5e-2: the same mosaic gaps as with
# conjbeams, so the conjbeams residual's gap is not conjbeams').
def test_wideband_mfs_clean_tells_conjbeams_apart(wb_ms, mosaic_out):
    check_bounded("wb_clean", "image", wb_ms, mosaic_out, WB_INFO, WB_REF, WB_CLEAN_TOL, {},
                  "deconvolved", pb_case="wb_flatsky")
    prefix = run_case("wb_clean", wb_ms, mosaic_out, WB_INFO)
    pb, _ = reference("wb_conjbeams", "pb", WB_REF)
    ref, crop = reference("wb_conj_clean", "image", WB_REF)
    mine = ours(prefix, "image", crop, ref.shape[0])
    region = np.nan_to_num(pb) > 0.3
    err = np.abs(mine - ref)[region].max() / np.abs(ref[region]).max()
    assert err > WB_CLEAN_TOL["image"], "conjbeams=False within %.4f of tclean's conjbeams=True" % err


# Several MSs in one mosaic (vis=[a, b]). tclean 6.7's mosaic of vis=[a, b] equals its mosaic of
# concat(a, b) bit for bit (measured on the 12-12 and 7-7 splits of hetero_mosaic.ms:
# scripts/dev/multi_ms_mosaic_check.py, docs/decisions.md (s10-mos)): fields at one direction are
# one pointing, the antennas of each MS its own. pclean re-keys each MS's rows so (imaging/mosaic.rs).
def run_multi(vis, prefix, params):
    cfg = prefix.parent / (prefix.name + ".config.json")
    cfg.write_text(json.dumps({k: v for k, v in params.items() if k not in NOT_IMAGING}))
    args = ["image", "--config", cfg, "--imagename", prefix, "--overwrite"]
    for v in vis:
        args += ["--vis", v]
    p = run_pclean(*args, check=False)
    assert p.returncode == 0, p.stderr[-2000:]
    return prefix


def test_same_ms_twice_is_one_mosaic_with_twice_the_weight(het_ms, mosaic_out, tmp_path):
    """vis=[ms, copy of ms] is accepted; every field of the copy is at a field of the first (one
    pointing each), its antennas come after the first MS's, so the products equal the one-MS run's
    (the `.weight` is per unit sumwt) and the sumwt doubles. Bounds: 1e-5 of the peak (float32
    sums in another order); sumwt 2x within 1e-5. (Two MSs of different antennas, where a wrong
    antenna offset would give wrong dishes: test_several_ms_as_tclean, casatools tier.)"""
    params = HET_INFO["het_flatsky"]["params"]
    one = run_case("het_flatsky", het_ms, mosaic_out, HET_INFO)
    copy = tmp_path / "copy.ms"
    shutil.copytree(het_ms / params["vis"], copy)
    two = run_multi([het_ms / params["vis"], copy], tmp_path / "two", params)
    for ext in ("psf", "residual", "pb", "weight"):
        a, b = load_casa("%s.%s" % (two, ext))[0], load_casa("%s.%s" % (one, ext))[0]
        err = np.abs(np.nan_to_num(a) - np.nan_to_num(b)).max() / np.abs(np.nan_to_num(b)).max()
        assert err < 1e-5, (ext, err)
    s2, s1 = (load_casa("%s.sumwt" % p)[0].ravel()[0] for p in (two, one))
    assert abs(s2 - 2 * s1) <= 1e-5 * s2, (s2, s1)


@pytest.mark.casatools
def test_several_ms_as_tclean(het_ms, tmp_path):
    """The 12-12 and 7-7 baselines of hetero_mosaic.ms split into two MSs (CASA split), imaged by
    tclean 6.7 as vis=[a, b] and by pclean the same way, het_flatsky parameters. Measured:
    psf 2.3e-4, pb 8.1e-5, weight 1.6e-4, residual 1.8e-3, sumwt equal (the residual was 6.2e-2
    at the pb 0.3 edge before the residual pass gridded as tclean's MosaicFT)."""
    py = os.environ["PCLEAN_CASA_PYTHON"]
    src = het_ms / "hetero_mosaic.ms"
    params = dict(HET_INFO["het_flatsky"]["params"])
    script = f"""
import casatasks
src = {str(src)!r}
for name, ant in (("a12.ms", "0~11&"), ("a7.ms", "12~21&")):
    casatasks.split(vis=src, outputvis={str(tmp_path)!r} + "/" + name, antenna=ant, datacolumn="data")
p = {json.dumps({k: v for k, v in params.items() if k != "vis"})!r}
import json
p = json.loads(p)
p["imsize"] = list(p["imsize"])
casatasks.tclean(vis=[{str(tmp_path)!r} + "/a12.ms", {str(tmp_path)!r} + "/a7.ms"],
                 imagename={str(tmp_path / "tc")!r}, **p)
"""
    r = subprocess.run([py, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    ours = run_multi([tmp_path / "a12.ms", tmp_path / "a7.ms"], tmp_path / "pc", params)
    s_tc = load_casa(str(tmp_path / "tc.sumwt"))[0].ravel()[0]
    s_pc = load_casa("%s.sumwt" % ours)[0].ravel()[0]
    assert abs(s_tc - s_pc) <= 1e-6 * s_tc, (s_tc, s_pc)
    pb = np.nan_to_num(load_casa(str(tmp_path / "tc.pb"))[0])
    region = pb > 0.3
    for ext, tol in (("psf", 1e-2), ("pb", 1e-2), ("weight", 1e-2), ("residual", 1e-2)):
        want = np.nan_to_num(load_casa(str(tmp_path / ("tc." + ext)))[0])
        got = np.nan_to_num(load_casa("%s.%s" % (ours, ext))[0])
        err = np.abs(got - want)[region].max() / np.abs(want[region]).max()
        print("several MSs %s: %.2e" % (ext, err))
        assert err < tol, (ext, err)

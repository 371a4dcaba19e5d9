"""Issue 15, deconvolver='mtmfs' on the bundled testdata/vla_wideband_small.ms (a subset of the
shared vla_wideband MS: 1-2 GHz, 15 point sources with spectral indices) against tclean 6.7
references made by scripts/dev/make_mtmfs_refs.py (testdata/reference/mtmfs/, the inner 60% of each
image, header PCCROP; mtmfs.json: tclean's parameters, .sumwt.ttN, restoring beam).

Cases: nterms 2 dirty (psf.tt0..tt2, residual.tt0/tt1, image.tt0/tt1, alpha), nterms 3 with scales
[0, 3] cleaned (image.tt0..tt1, psf.tt3/tt4, alpha). The full-size acceptance runs on the shared data
are in docs/decisions.md (s8-mtmfs)."""
import json
import math

import numpy as np
import pytest
from astropy.io import fits

from compare import load_casa
from conftest import REFERENCE, run_pclean, unpack_bundled

REF = REFERENCE / "mtmfs"
INFO = json.loads((REF / "mtmfs.json").read_text())
NOT_IMAGING = ("vis", "parallel")

# The bound for Taylor term 0 (PSF, residual, dirty image): 0.5% of the plane's peak over
# the inner 60%; measured 0.16-0.20% here (2e-5 on the full vla_wideband).
TT0_TOL = 5e-3
# Higher terms are weighted sums of the same visibilities with factors (nu - nu0)/nu0 in
# [-0.33, 0.35] and a peak that is small (psf.tt1's is 0.021 of psf.tt0's), so the same weighting
# differences (see sumwt below) are ~10x larger relative to their peak: measured 0.33% (psf.tt2),
# 0.98% (psf.tt1), 1.35% (residual.tt1), 1.36% (psf.tt3); on the full data, where the weights
# agree, 1.3e-4 (psf.tt1) and 1.7e-4 (residual.tt1). 2.5% still fails a wrong normalisation (tt0's sum of weights
# for every term: a wrong one is off by the ratio of sums, >= 50%) or reffreq (1% in reffreq moves
# psf.tt1's peak by 60%).
TT_HIGH_TOL = 2.5e-2
# A cleaned image's term 0 within 1% of its peak (the issue's); measured 0.17%.
CLEAN_TOL = 1e-2
# Spectral index where the reference image.tt0 exceeds 20 x its robust rms: the 0.05 (nterms
# 2) and 0.1 (nterms 3 with scales).
ALPHA_TOL = {"mtmfs2_dirty": 0.05, "mtmfs3_clean": 0.1}
# A dirty image's robust rms is its sidelobes (20 x it leaves 2 pixels here): 5 x for the dirty case.
ALPHA_SNR = {"mtmfs2_dirty": 5.0, "mtmfs3_clean": 20.0}
# .sumwt.ttN (Taylor factors at each row's LSRK frequencies, as tclean: on the full vla_wideband
# pclean's sumwt.tt1 is 11842.714 against tclean's 11842.713): float32 sums, 1e-5 of sumwt.tt0.
# On this subset pclean's Briggs weights sum 0.12% above tclean's whatever the deconvolver (plain
# mfs hogbom gives the same 136240.86 against tclean's mtmfs 136082.30; exact on the full data): a
# weighting-density difference outside mtmfs. For term t it moves sum w f^t by at most that much
# times max|f|^t (|f| <= 0.35; measured: sumwt.tt1 +49 = 0.31 x the tt0 difference).
SUMWT_TT0_TOL, SUMWT_HIGH_TOL, WEIGHTING_TOL = 1e-5, 1e-5, 2e-3

_RUNS = {}


@pytest.fixture(scope="module")
def small_ms(tmp_path_factory):
    return unpack_bundled(["vla_wideband_small.ms.tar.gz"], tmp_path_factory.mktemp("mtmfs_ms"))


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("mtmfs_out")


def run_case(name, msdir, outdir):
    if name not in _RUNS:
        params = INFO["cases"][name]["params"]
        cfg = outdir / (name + ".config.json")
        cfg.write_text(json.dumps({k: v for k, v in params.items() if k not in NOT_IMAGING}))
        prefix = outdir / name
        _RUNS[name] = run_pclean("image", "--config", cfg, "--vis", msdir / INFO["ms"],
                                 "--imagename", prefix, "--overwrite", check=False), prefix
    p, prefix = _RUNS[name]
    if p.returncode != 0:
        pytest.fail("pclean failed on %s: %s" % (name, p.stderr[-2000:]), pytrace=False)
    return prefix


def ours_and_ref(prefix, name, ext):
    h = fits.open(REF / ("%s.%s.fits.gz" % (name, ext)))[0]
    ref = h.data.astype(np.float64)
    off = h.header["PCCROP"]
    ours = load_casa(str(prefix) + "." + ext)[0][0, 0]
    return ours[off:off + ref.shape[0], off:off + ref.shape[1]], ref


def cases():
    for name, case in INFO["cases"].items():
        for ext in case["stored"]:
            # .alpha has its own test; image.tt2 of the small MS is noise-dominated (not compared
            # here; the shared-data nterms 3 run measured it: 3.3e-3, docs/decisions.md (s8-mtmfs)).
            if ext not in ("alpha", "image.tt2"):
                yield name, ext


@pytest.mark.parametrize("name,ext", list(cases()))
def test_planes_match_tclean(small_ms, out, name, ext):
    prefix = run_case(name, small_ms, out)
    ours, ref = ours_and_ref(prefix, name, ext)
    if name.endswith("clean") and ext.startswith("image"):
        tol = CLEAN_TOL if ext == "image.tt0" else TT_HIGH_TOL
    else:
        tol = TT0_TOL if ext.endswith("tt0") else TT_HIGH_TOL
    err = np.nanmax(np.abs(ours - ref)) / np.nanmax(np.abs(ref))
    assert err <= tol, "%s.%s: max|diff|/peak %.3g > %.3g" % (name, ext, err, tol)


@pytest.mark.parametrize("name", list(INFO["cases"]))
def test_alpha_matches_tclean(small_ms, out, name):
    prefix = run_case(name, small_ms, out)
    ours, ref = ours_and_ref(prefix, name, "alpha")
    _, t0 = ours_and_ref(prefix, name, "image.tt0")
    rms = 1.4826 * np.nanmedian(np.abs(t0 - np.nanmedian(t0)))
    sel = (t0 > ALPHA_SNR[name] * rms) & np.isfinite(ref)
    assert sel.sum() > 20, "too few bright pixels (%d)" % sel.sum()
    err = np.nanmax(np.abs(ours[sel] - ref[sel]))
    assert err <= ALPHA_TOL[name], "%s: alpha differs by %.3g over %d pixels" % (name, err, sel.sum())


@pytest.mark.parametrize("name", list(INFO["cases"]))
def test_sumwt_and_beam(small_ms, out, name):
    prefix = run_case(name, small_ms, out)
    case = INFO["cases"][name]
    for t, want in enumerate(case["sumwt"]):
        got = float(load_casa(str(prefix) + ".sumwt.tt%d" % t)[0].ravel()[0])
        sw0 = case["sumwt"][0]
        tol = WEIGHTING_TOL * sw0 * 0.35 ** t
        tol += SUMWT_TT0_TOL * sw0 if t == 0 else SUMWT_HIGH_TOL * sw0
        assert abs(got - want) <= tol, "sumwt.tt%d %g vs %g" % (t, got, want)
    info = load_casa(str(prefix) + ".image.tt0")[1].imageinfo()["restoringbeam"]
    maj, mnr, pa = case["beam_arcsec_deg"]
    # Beams within 2% and 2 degrees (the bound for beams).
    assert abs(info["major"]["value"] / maj - 1) < 0.02 and abs(info["minor"]["value"] / mnr - 1) < 0.02
    assert abs((info["positionangle"]["value"] - pa + 90) % 180 - 90) < 2.0


def test_nterms_out_of_range_is_refused(small_ms, out):
    p = run_pclean("image", "--vis", small_ms / INFO["ms"], "--imagename", out / "bad",
                   "--imsize", "64", "--cell", "7.5arcsec", "--deconvolver", "mtmfs", "--nterms", "5",
                   check=False)
    assert p.returncode != 0 and "nterms" in p.stderr and "5" in p.stderr, p.stderr


def test_mtmfs_with_cube_is_refused(small_ms, out):
    p = run_pclean("image", "--vis", small_ms / INFO["ms"], "--imagename", out / "bad2",
                   "--imsize", "64", "--cell", "7.5arcsec", "--deconvolver", "mtmfs",
                   "--specmode", "cube", check=False)
    assert p.returncode != 0 and "specmode" in p.stderr, p.stderr

"""`weighting='uniform'` on the bundled testdata/vla_wideband_small.ms against tclean 6.7
(testdata/reference/uniform_reach/, scripts/dev/make_uniform_reach_refs.py): the regression test
of the samples tclean's standard gridder does not reach.

At 2 GHz with 7.5" cells on 128^2 the longest VLA-C baselines lie beyond the uv grid, and some
lie on it but within the kernel's 3 cells of the edge of tclean's padded grid (160^2): tclean
weights them (they are in the uniform density) and then its gridder drops them, so they are in
neither its images nor its .sumwt. pclean's ES grid reaches further and gridded them; under
uniform weighting each sits alone in a rim cell and weighs about 1 (w / W), so the .sumwt was 2182
against tclean's 2154 and psf.tt0 was off by 1.55e-2 of its peak (Briggs: 0.12% of .sumwt).
pclean now zeroes their imaging weights (`VisGridder::drop_unreached`) before any sum.
Default kernel (ES) and plain mfs (hogbom) / mtmfs nterms 2, the issue's combinations."""
import json

import numpy as np
import pytest
from astropy.io import fits

from compare import load_casa
from conftest import REFERENCE, run_pclean, unpack_bundled

REF = REFERENCE / "uniform_reach"
INFO = json.loads((REF / "uniform_reach.json").read_text())
NOT_IMAGING = ("vis", "parallel")

# PSF: max|diff| over the inner 60% / peak. What is left after the fix is the ES kernel against
# tclean's spheroidal one: measured 1.2e-4 (psf, psf.tt0); 1e-3 leaves room for that kernel
# difference (Briggs on this subset: up to 2e-3, test_mtmfs.py) and fails the defect (1.55e-2).
PSF_TOL = 1e-3
# psf.tt1 (peak 0.095 of tt0's) carries the same absolute differences ~10x larger relative to its
# peak (test_mtmfs.py's TT_HIGH_TOL reasoning): measured 2.6e-4; the defect gave 4.4e-2.
PSF_TT1_TOL = 1e-2
# .sumwt: now tclean's to the printed digit (2154, 205.4934, 93.6674). A uniform sum counts the
# occupied cells (each ~1), so one rim sample more or less moves it by ~0.5: 0.05 (float32 sums of
# 50 000 weights: ~2e-5 relative) keeps that resolution and fails the defect (+28, +8.7, +2.7).
SUMWT_ABS_TOL = 0.05
# PSF beam: measured within 1e-5 of tclean's (axes) and 2e-5 deg; the defect: minor -2.9%.
BEAM_REL_TOL, BEAM_PA_TOL_DEG = 1e-3, 0.1


@pytest.fixture(scope="module")
def small_ms(tmp_path_factory):
    return unpack_bundled(["vla_wideband_small.ms.tar.gz"], tmp_path_factory.mktemp("unireach_ms"))


@pytest.fixture(scope="module")
def runs(small_ms, tmp_path_factory):
    out = tmp_path_factory.mktemp("unireach_out")
    prefixes = {}
    for name, case in INFO["cases"].items():
        cfg = out / (name + ".config.json")
        cfg.write_text(json.dumps({k: v for k, v in case["params"].items() if k not in NOT_IMAGING}))
        prefix = out / name
        p = run_pclean("image", "--config", cfg, "--vis", small_ms / INFO["ms"], "--imagename",
                       prefix, "--overwrite", check=False)
        if p.returncode != 0:
            pytest.fail("pclean failed on %s: %s" % (name, p.stderr[-2000:]), pytrace=False)
        prefixes[name] = prefix
    return prefixes


def _cases():
    for name, case in INFO["cases"].items():
        for ext in case["stored"]:
            yield name, ext


@pytest.mark.parametrize("name,ext", list(_cases()))
def test_uniform_psf_drops_samples_beyond_tcleans_grid(runs, name, ext):
    h = fits.open(REF / ("%s.%s.fits.gz" % (name, ext)))[0]
    ref = h.data.astype(np.float64)
    off = h.header["PCCROP"]
    ours = load_casa(str(runs[name]) + "." + ext)[0][0, 0]
    ours = ours[off:off + ref.shape[0], off:off + ref.shape[1]]
    err = np.nanmax(np.abs(ours - ref)) / np.nanmax(np.abs(ref))
    tol = PSF_TT1_TOL if ext.endswith("tt1") else PSF_TOL
    assert err <= tol, "%s.%s: max|diff|/peak %.3g > %.3g" % (name, ext, err, tol)


@pytest.mark.parametrize("name", list(INFO["cases"]))
def test_uniform_sumwt_drops_samples_beyond_tcleans_grid(runs, name):
    case = INFO["cases"][name]
    mtmfs = "nterms" in case["params"]
    for t, want in enumerate(case["sumwt"]):
        ext = ".sumwt.tt%d" % t if mtmfs else ".sumwt"
        got = float(load_casa(str(runs[name]) + ext)[0].ravel()[0])
        assert abs(got - want) <= SUMWT_ABS_TOL, "%s%s: %.4f vs tclean's %.4f" % (name, ext, got, want)


@pytest.mark.parametrize("name", list(INFO["cases"]))
def test_uniform_beam_drops_samples_beyond_tcleans_grid(runs, name):
    mtmfs = "nterms" in INFO["cases"][name]["params"]
    rb = load_casa(str(runs[name]) + (".image.tt0" if mtmfs else ".image"))[1].imageinfo()
    rb = rb["restoringbeam"]
    maj, mnr, pa = INFO["cases"][name]["beam_arcsec_deg"]
    assert abs(rb["major"]["value"] / maj - 1) < BEAM_REL_TOL, (rb, maj)
    assert abs(rb["minor"]["value"] / mnr - 1) < BEAM_REL_TOL, (rb, mnr)
    assert abs((rb["positionangle"]["value"] - pa + 90) % 180 - 90) < BEAM_PA_TOL_DEG, (rb, pa)

"""Issue 14's wideband A-projection (`gridder='awproject'`, `wbawp=True`, specmode mfs) against
tclean 6.7 on the bundled EVLA observation over most of L band (testdata/awproj_wb.ms.tar.gz: two
spectral windows of two channels, 1.1 / 1.3 and 1.55 / 1.95 GHz, 24 integrations of 300 s, RR/LL;
scripts/dev/make_awproject_wideband.py): tclean evaluates one A-term per spectral window, at its
highest selected frequency (CASA's AWConvFunc::makeFreqValList), and grids each channel through its
window's (docs/decisions.md (s16-wbawp)). The dirty products (psf, residual, pb, weight, sumwt)
within the issue's bound (1% of tclean's peak where tclean's pb > 0.3); with wbawp=False (one
A-term at the image frequency) pclean misses tclean's wbawp=True products. With conjbeams=True
(case awwb_conj) each channel is gridded through the A-term nearest its conjugate frequency
(docs/decisions.md (s18-conj)), the same bounds.

The references are centred crops of tclean's 256^2 images (header PCCROP: the crop's first pixel,
PCSTEP its step): psf 64^2, residual, pb and weight 200^2 every 2nd pixel."""
import json
import time

import pytest

import awproject_refs
from compare import load_casa
from conftest import REFERENCE, run_pclean, unpack_bundled

REF = REFERENCE / "awproject_wideband"
INFO = json.loads((REF / "awproj_wb_refs.json").read_text())
# The bound: 1% of tclean's peak over tclean's pb > 0.3 (measured figures in
# docs/decisions.md (s16-wbawp)).
TOL = 1e-2
# sumwt: the plain sum of the natural weights, tclean's its weight pass's (kernel sum 0.998 on
# average, as the single-band case: 0.2% below ours).
SUMWT_TOL = 5e-3
NOT_IMAGING = ("vis", "parallel")
_RUNS = {}


@pytest.fixture(scope="module")
def wb_ms(tmp_path_factory):
    return unpack_bundled(["awproj_wb.ms.tar.gz"], tmp_path_factory.mktemp("awwb_ms"))


@pytest.fixture(scope="module")
def wb_out(tmp_path_factory):
    return tmp_path_factory.mktemp("awwb_out")


def run_case(name, msdir, outdir, **override):
    """pclean with tclean's parameters of case awwb_dirty and `override`; one run per name."""
    if name not in _RUNS:
        params = dict(INFO["awwb_dirty"]["params"], **override)
        cfg = outdir / (name + ".config.json")
        cfg.write_text(json.dumps({k: v for k, v in params.items() if k not in NOT_IMAGING}))
        prefix = outdir / name
        t0 = time.time()
        p = run_pclean("image", "--config", cfg, "--vis", msdir / params["vis"], "--imagename",
                       prefix, "--overwrite", check=False)
        _RUNS[name] = (prefix, p, time.time() - t0)
        print("%s: pclean %.1f s, tclean %.1f s" % (name, _RUNS[name][2],
                                                    INFO["awwb_dirty"]["seconds"]))
    prefix, p, _ = _RUNS[name]
    if p.returncode != 0:
        pytest.fail("pclean failed on %s (%d): %s" % (name, p.returncode, p.stderr[-2000:]),
                    pytrace=False)
    return prefix


@pytest.mark.parametrize("ext", ["psf", "residual", "pb", "weight"])
def test_wideband_products_match_tclean(ext, wb_ms, wb_out):
    prefix = run_case("awwb_dirty", wb_ms, wb_out)
    err = awproject_refs.error(REF, "awwb_dirty", ext, prefix)
    print("awwb_dirty %s: max |pclean - tclean| = %.2e of tclean's peak" % (ext, err))
    assert err < TOL, "awwb_dirty %s: max |pclean - tclean| = %.4f of tclean's peak" % (ext, err)


def test_wideband_sumwt_matches_tclean(wb_ms, wb_out):
    prefix = run_case("awwb_dirty", wb_ms, wb_out)
    got = load_casa("%s.sumwt" % prefix)[0].ravel()[0]
    want = INFO["awwb_dirty"]["sumwt"]
    assert abs(got - want) <= SUMWT_TOL * want, (got, want)


def test_wbawp_false_misses_tclean_wbawp(wb_ms, wb_out):
    """The same run with wbawp=False (one A-term at the image frequency for every channel, what
    pclean did before, and tclean's wbawp=False) is more than the bound off tclean's wbawp=True
    `.weight` and `.pb`: the comparison above can fail."""
    prefix = run_case("awwb_nowb", wb_ms, wb_out, wbawp=False)
    for ext in ["weight", "pb"]:
        err = awproject_refs.error(REF, "awwb_dirty", ext, prefix)
        print("wbawp=False %s: %.2e of tclean's wbawp=True peak" % (ext, err))
        assert err > 2 * TOL, (ext, err)


# conjbeams=True (session 18; tclean's case awwb_conj): each channel gridded through the A-term
# nearest its conjugate frequency sqrt(2 nu0^2 - nu^2) about the image frequency (1.5749 GHz:
# channels 1.1 / 1.3 GHz through the 1.95 GHz A-term, 1.55 / 1.95 GHz through the 1.3 GHz one),
# each A-term's weight functions paired with the other's hands, prediction unchanged (CASA's
# CFBuffer::initMaps, AWVisResampler::DataToGrid, AWConvFunc::fillConvFuncBuffer). Measured:
# psf 1.3e-4, residual 4.6e-3, pb 4.1e-3, weight 5.1e-3 (docs/decisions.md (s18-conj)); the
# issue's bound as above.
CONJ = "awwb_conj"


@pytest.mark.parametrize("ext", ["psf", "residual", "pb", "weight"])
def test_conjbeams_products_match_tclean(ext, wb_ms, wb_out):
    prefix = run_case(CONJ, wb_ms, wb_out, conjbeams=True)
    err = awproject_refs.error(REF, CONJ, ext, prefix)
    print("%s %s: max |pclean - tclean| = %.2e of tclean's peak" % (CONJ, ext, err))
    assert err < TOL, "%s %s: max |pclean - tclean| = %.4f of tclean's peak" % (CONJ, ext, err)


def test_conjbeams_sumwt_matches_tclean(wb_ms, wb_out):
    """The plain sum of the weights (67392.0); tclean's conjbeams `.sumwt` is 67384.0 (its weight
    functions pair two frequencies' hands and sum to 0.9999 on average), within the bound above."""
    prefix = run_case(CONJ, wb_ms, wb_out, conjbeams=True)
    got = load_casa("%s.sumwt" % prefix)[0].ravel()[0]
    want = INFO[CONJ]["sumwt"]
    assert abs(got - want) <= SUMWT_TOL * want, (got, want)


def test_conjbeams_false_misses_tclean_conjbeams(wb_ms, wb_out):
    """The wbawp=True run without conjbeams (each channel through its nearest A-term, what pclean
    did with conjbeams ignored) against tclean's conjbeams=True products: measured weight 0.112,
    pb 0.140, residual 3.4e-2 of the peak, more than twice the bound: the comparisons above can
    fail."""
    prefix = run_case("awwb_dirty", wb_ms, wb_out)
    for ext in ["weight", "pb", "residual"]:
        err = awproject_refs.error(REF, CONJ, ext, prefix)
        print("conjbeams=False %s: %.2e of tclean's conjbeams=True peak" % (ext, err))
        assert err > 2 * TOL, (ext, err)

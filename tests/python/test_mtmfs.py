"""Issue 15, deconvolver='mtmfs' on the bundled testdata/vla_wideband_small.ms (a subset of the
shared vla_wideband MS: 1-2 GHz, 15 point sources with spectral indices) against tclean 6.7
references made by scripts/dev/make_mtmfs_refs.py (testdata/reference/mtmfs/, the inner 60% of each
image, header PCCROP; mtmfs.json: tclean's parameters, .sumwt.ttN, restoring beam).

Cases: nterms 2 dirty (psf.tt0..tt2, residual.tt0/tt1, image.tt0/tt1, alpha), nterms 3 with scales
[0, 3] cleaned (image.tt0..tt1, psf.tt3/tt4, alpha). The full-size acceptance runs on the shared data
are in docs/decisions.md (s8-mtmfs)."""
import json
import math
import shutil
from functools import partial

import numpy as np
import pytest
from astropy.io import fits

from compare import load_casa
from conftest import REFERENCE, ROOT, require, require_module, run_pclean, unpack_bundled
import reference_cases

REF = REFERENCE / "mtmfs"
INFO = json.loads((REF / "mtmfs.json").read_text())
NOT_IMAGING = reference_cases.NOT_IMAGING

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


run_case = partial(reference_cases.run_case, _RUNS, INFO)
ours_and_ref = partial(reference_cases.ours_and_ref, REF)


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


# A pclean-only nterms 2 clean of the subset (no tclean reference: checked against the truth and
# the exact DFT). Scales [0]: point sources.
CLEAN2 = dict(INFO["cases"]["mtmfs3_clean"]["params"], nterms=2, scales=[0])


def run_clean2(msdir, outdir, name="mtmfs2_clean", **extra):
    cfg = outdir / (name + ".config.json")
    cfg.write_text(json.dumps({k: v for k, v in dict(CLEAN2, **extra).items() if k not in NOT_IMAGING}))
    prefix = outdir / name
    p = run_pclean("image", "--config", cfg, "--vis", msdir, "--imagename", prefix, "--overwrite",
                   check=False)
    if p.returncode != 0:
        pytest.fail("pclean failed on %s: %s" % (name, p.stderr[-2000:]), pytrace=False)
    return prefix


# kernel='casa' (tclean's standard gridder reproduced, now taken with mtmfs): every stored plane
# within CASA_KERNEL_TOL of its peak, alpha within CASA_ALPHA_TOL. Measured (s15-alpha): psf.tt0..4
# <= 7.0e-7, residual.tt0/tt1 9.1e-8 / 1.5e-7, image.tt0..2 <= 2.6e-6 (image.tt2 of the nterms-3
# clean), alpha 1.4e-6 (dirty) and 5.3e-5 (nterms 3 clean, 300 iterations). The default kernel
# is 5e-5..1.2e-2 off (alpha 0.23), so both bounds fail a run not gridded through tclean's kernel.
CASA_KERNEL_TOL, CASA_ALPHA_TOL = 1e-5, 1e-3


@pytest.mark.parametrize("name", list(INFO["cases"]))
def test_casa_kernel_reproduces_tclean(small_ms, out, name):
    params = {k: v for k, v in INFO["cases"][name]["params"].items() if k not in NOT_IMAGING}
    cfg = out / (name + "_casa.config.json")
    cfg.write_text(json.dumps(dict(params, kernel="casa")))
    prefix = out / (name + "_casa")
    run_pclean("image", "--config", cfg, "--vis", small_ms / INFO["ms"], "--imagename", prefix,
               "--overwrite")
    for ext in INFO["cases"][name]["stored"]:
        ours, ref = ours_and_ref(prefix, name, ext)
        if ext == "alpha":
            ok = np.isfinite(ref) & (ref != 0) & np.isfinite(ours)
            assert ok.sum() > 200
            err = np.abs(ours - ref)[ok].max()
            assert err <= CASA_ALPHA_TOL, "%s alpha off by %.3g" % (name, err)
        else:
            err = np.nanmax(np.abs(ours - ref)) / np.nanmax(np.abs(ref))
            assert err <= CASA_KERNEL_TOL, "%s.%s: %.3g of the peak" % (name, ext, err)


def test_alpha_blanking_matches_tclean(small_ms, out):
    """tclean blanks .alpha where image.tt0 <= 0.1 x the largest value of the principal solution's
    tt0 residual (H^-1 R)_0 (its log's 'peakresidual/10'; docs/decisions.md (s9-mtmfs)): the set of
    pixels with an alpha is tclean's, up to pixels whose image.tt0 is within TT0_TOL of the peak
    from the cut (the two images agree to that)."""
    prefix = run_case("mtmfs2_dirty", small_ms, out)
    ours, ref = ours_and_ref(prefix, "mtmfs2_dirty", "alpha")
    t0, _ = ours_and_ref(prefix, "mtmfs2_dirty", "image.tt0")
    # Our own cut, from our principal-solution residual (the dirty image.tt0 is it, R = I).
    full = load_casa(str(prefix) + ".image.tt0")[0][0, 0]
    cut = 0.1 * full.max()
    near = np.abs(t0 - cut) <= TT0_TOL * full.max()
    # The bundled reference stores tclean's blanked (masked) alpha pixels as 0.
    ref_has = np.isfinite(ref) & (ref != 0)
    differ = (np.isfinite(ours) != ref_has) & ~near
    assert not differ.any(), "alpha blanked differently at %d pixels" % differ.sum()
    assert np.isfinite(ours).sum() > 20


FULL = ROOT.parent / "shared" / "data" / "vla_wideband"


@pytest.fixture(scope="module")
def full_ms(tmp_path_factory):
    import tarfile
    require(FULL.exists(), "../shared/data/vla_wideband is not beside the checkout")
    dest = tmp_path_factory.mktemp("vla_wideband")
    with tarfile.open(FULL / "vla_wideband.ms.tar.gz") as t:
        t.extractall(dest)
    return dest / "wideband.ms"


def run_full(run, ms, outdir, **extra):
    params = json.loads((FULL / "reference" / ("tclean_%s.params.json" % run)).read_text())
    cfg = outdir / (run + ".config.json")
    imaging = {k: v for k, v in params.items() if k not in NOT_IMAGING}
    cfg.write_text(json.dumps({**imaging, **extra}))
    prefix = outdir / run
    run_pclean("image", "--config", cfg, "--vis", ms, "--imagename", prefix, "--overwrite")
    return prefix, params


# The bundled subset cannot check the truth: its 13 antennas give a 78" x 12" beam in which the
# sources blend (source 3 and 14, 11" apart, read -3.1% and -2.6%) and its faint sources' alpha
# has a statistical error of 0.2-0.26 (rms of image.tt1 / fitted I0). So this is the shared tier.
@pytest.mark.shared_data
@pytest.mark.parametrize("run", ["mtmfs_clean", "mtmfs3_clean"])
def test_full_sources_match_the_truth(full_ms, tmp_path, run):
    """Each of the 15 simulated sources' flux and spectral index from the restored Taylor images
    against vla_wideband.sky.json (tests/python/wideband_truth.py: a joint beam fit at the true
    positions; the expected Taylor coefficients are the band's least-squares fit of the true
    spectrum through the primary beam), within the issue's 3% and 0.1. Measured (pclean, nterms 2):
    -1.84..-0.92% and |d alpha| <= 0.080; tclean's own images give the same to 0.01% and 0.001."""
    import wideband_truth as wt
    prefix, params = run_full(run, full_ms, tmp_path)
    load = lambda e: load_casa(str(prefix) + "." + e)[0][0, 0]
    _, im = load_casa(str(prefix) + ".image.tt0")
    b = im.imageinfo()["restoringbeam"]
    beam = (b["major"]["value"], b["minor"]["value"], b["positionangle"]["value"])
    s0, s1 = float(load("sumwt.tt0").ravel()[0]), float(load("sumwt.tt1").ravel()[0])
    got = wt.measure(load("image.tt0"), load("image.tt1"), load("pb.tt0"), beam, 3.75,
                     wt.load_sky(REF / "vla_wideband.sky.json"), wt.ms_channel_freqs(full_ms), 1.5e9,
                     s1 / s0, params["nterms"])
    assert len(got) == 15
    for g in got:
        err = g["flux"] / g["flux_true"] - 1
        print(g["ids"], "flux %.2f%%, d alpha %.3f" % (100 * err, g["alpha"] - g["alpha_true"]))
        assert abs(err) <= 0.03, "source %s: flux %.4f vs %.4f" % (g["ids"], g["flux"], g["flux_true"])
        assert abs(g["alpha"] - g["alpha_true"]) <= 0.1, "source %s: alpha %.3f vs %.3f" % (
            g["ids"], g["alpha"], g["alpha_true"])


# Where tclean's image.tt0 exceeds ALPHA_FULL_SNR[kernel] x its residual rms, and the median
# difference allowed. kernel='casa' (tclean's standard gridder reproduced): the residuals match
# tclean's to ~1e-7 of the peak and the minor cycle picks tclean's every component (its log's
# positions and coefficients, every 20th of the 1500 iterations, to the printed 6 digits), so
# alpha agrees to 1e-5 at every pixel above 20 rms (median 6e-7). kernel='es' (exact to 1e-6 of
# the DFT, 4e-5 of the peak from tclean's gridding): the cycle-2 residuals differ by 3e-5 of the
# peak (a tenth of the noise), the iterations after ~650 pick other components among the near-tied
# faint ones, and 8 pixels at 21-49 rms differ by 0.052-0.129; tclean's own minor cycle, started
# from its own residuals plus 1e-6 Jy of noise (1/40 of the rms), moves 15 pixels by more than
# 0.05 (worst 0.36) (docs/decisions.md (s15-alpha)). Above 50 rms es is within 0.037.
ALPHA_FULL_SNR = {"casa": (20.0, 1e-4), "es": (50.0, 5e-3)}


@pytest.mark.shared_data
@pytest.mark.parametrize("kernel", ["casa", "es"])
def test_full_alpha_matches_tclean(full_ms, tmp_path, kernel):
    """The nterms 2 clean's .alpha against tclean's within the issue's 0.05 at every pixel (inner
    60%) where tclean's image.tt0 exceeds 20x its residual rms (kernel='casa'; 50x with 'es',
    see ALPHA_FULL_SNR). Measured: casa worst 1.0e-5 over 758 pixels; es worst 0.037 above
    50 rms (median 8e-4)."""
    snr, median = ALPHA_FULL_SNR[kernel]
    prefix, _ = run_full("mtmfs_clean", full_ms, tmp_path, kernel=kernel)
    ref = FULL / "reference"
    f = lambda n: fits.open(ref / ("tclean_mtmfs_clean.%s.fits.gz" % n))[0].data[0, 0].astype(np.float64)
    ra, rt0, rres = f("alpha"), f("image.tt0"), f("residual.tt0")
    oa = load_casa(str(prefix) + ".alpha")[0][0, 0]
    n = rt0.shape[0]
    inner = np.zeros_like(rt0, bool)
    inner[int(0.2 * n):int(0.8 * n), int(0.2 * n):int(0.8 * n)] = True
    rms = 1.4826 * np.median(np.abs(rres - np.median(rres)))
    sel = inner & (rt0 > snr * rms) & np.isfinite(ra)
    assert sel.sum() > 200 and np.isfinite(oa[sel]).all()
    d = np.abs(oa - ra)[sel]
    assert (d <= 0.05).all(), "alpha off at %d of %d pixels, worst %.3f" % (
        (d > 0.05).sum(), sel.sum(), d.max())
    assert np.median(d) < median


def test_savemodel_predicts_every_taylor_term(small_ms, out, tmp_path):
    """savemodel='modelcolumn' with mtmfs writes sum_t ((nu - nu0)/nu0)^t V(model.tt_t) per
    channel: against the exact DFT of the model images (w ignored, as the standard gridder does)
    at the channels' data frequencies, within 1e-4 of the largest visibility (gridding accuracy
    ~1e-6 and float32 storage; a missing tt1 term is off by |x| |M1| ~ 0.3 of it)."""
    from casacore.tables import table
    ms = tmp_path / "copy.ms"
    shutil.copytree(small_ms / INFO["ms"], ms)
    prefix = run_clean2(ms, out, "mtmfs2_savemodel", savemodel="modelcolumn")
    models = [load_casa(str(prefix) + ".model.tt%d" % t)[0][0, 0] for t in range(2)]
    assert models[0].any() and models[1].any()
    t = table(str(ms), ack=False)
    a1, a2 = t.getcol("ANTENNA1"), t.getcol("ANTENNA2")
    rows = np.arange(0, t.nrows(), 29)
    rows = rows[a1[rows] != a2[rows]]
    uvw = t.getcol("UVW")[rows]
    ddid = t.getcol("DATA_DESC_ID")[rows]
    md = np.array([t.getcell("MODEL_DATA", int(r)) for r in rows])
    t.close()
    spw_of = table(str(ms / "DATA_DESCRIPTION"), ack=False).getcol("SPECTRAL_WINDOW_ID")
    chan_freq = table(str(ms / "SPECTRAL_WINDOW"), ack=False).getcol("CHAN_FREQ")
    cell = np.radians(7.5 / 3600.0)
    n = models[0].shape[0]
    ys, xs = np.nonzero((models[0] != 0) | (models[1] != 0))
    l, m = (n // 2 - xs) * cell, (ys - n // 2) * cell
    worst, scale = 0.0, 0.0
    for i in range(len(rows)):
        f = chan_freq[spw_of[ddid[i]]]
        x = (f - 1.5e9) / 1.5e9
        u, v = uvw[i, 0] * f / 299792458.0, uvw[i, 1] * f / 299792458.0
        ph = np.exp(2j * np.pi * (u[:, None] * l[None, :] + v[:, None] * m[None, :]))
        exact = ph @ models[0][ys, xs] + x * (ph @ models[1][ys, xs])
        scale = max(scale, np.abs(exact).max())
        worst = max(worst, np.abs(md[i, :, 0] - exact).max(), np.abs(md[i, :, 1] - exact).max())
    assert worst <= 1e-4 * scale, "MODEL_DATA off by %.3g of the largest visibility" % (worst / scale)


def test_pbcor_is_each_term_over_pb_tt0(small_ms, out):
    """image.ttN.pbcor is image.ttN / pb.tt0 where pb.tt0 >= pblimit, for every Taylor term, and
    pb.tt1 is written as zeros: tclean 6.7's pbcor with mtmfs (measured on this MS, nterms 2 and 3,
    standard gridder and specmode='mvc': image.ttN.pbcor = image.ttN / pb.tt0 within 4.8e-8 of the
    peak, pb.tt1 and pb.tt2 identically 0 with no mask; docs/decisions.md (s12-wb))."""
    prefix = str(run_clean2(small_ms / INFO["ms"], out, "mtmfs2_pbcor", pbcor=True))
    pb = load_casa(prefix + ".pb.tt0")[0][0, 0]
    ok = pb >= CLEAN2["pblimit"]
    assert ok.any()
    for t in range(2):
        img = load_casa(prefix + ".image.tt%d" % t)[0][0, 0]
        cor = load_casa(prefix + ".image.tt%d.pbcor" % t)[0][0, 0]
        assert np.abs(img).max() > 0
        # float32 division: 1e-6 relative.
        np.testing.assert_allclose(cor[ok], img[ok] / pb[ok], rtol=1e-6, atol=1e-9)
    from casacore.tables import table
    pb1 = load_casa(prefix + ".pb.tt1")[0]
    assert np.all(pb1 == 0)
    assert "masks" not in table(prefix + ".pb.tt1", ack=False).getkeywords()


def test_killed_mtmfs_run_resumes_to_identical_products(small_ms, out, tmp_path):
    """An mtmfs run killed (SIGKILL) once its checkpoint exists and started again with the same
    command finishes (the one mfs block is imaged again, the products reopened) with products equal
    to an uninterrupted run's (one thread: the same summation order, so equal to 1e-6 of the peak
    as test_resume.py's cubes)."""
    import os
    import signal
    import subprocess
    import time
    from compare import assert_same_products
    from conftest import checkpoint_done, pclean_bin
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({k: v for k, v in CLEAN2.items() if k not in NOT_IMAGING}))
    env = dict(os.environ, PCLEAN_COMMIT_INTERVAL_S="0")

    def cmd(name):
        return [pclean_bin(), "image", "--config", str(cfg), "--vis", str(small_ms / INFO["ms"]),
                "--imagename", str(name), "--nthreads", "1"]
    ref, name = tmp_path / "ref", tmp_path / "k"
    assert subprocess.run(cmd(ref), capture_output=True, env=env).returncode == 0
    p = subprocess.Popen(cmd(name), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 120
    while not (tmp_path / "k.checkpoint.json").exists() and p.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    if p.poll() is not None:
        pytest.fail("the run finished before it could be killed", pytrace=False)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert checkpoint_done(name)[0] == 0
    r = subprocess.run(cmd(name), capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert not (tmp_path / "k.checkpoint.json").exists()
    assert_same_products(ref, name, ["image.tt0", "image.tt1", "residual.tt0", "residual.tt1",
                                     "model.tt0", "model.tt1", "psf.tt1", "alpha"])


def test_dask_driver_equals_local_run(small_ms, tmp_path):
    """parallel=True with mtmfs: the Dask driver runs the one mfs block with its passes as row
    partition tasks (one per worker: one here) and its products equal the local engine run's bit
    for bit. A partition's Taylor terms come divided by its own tt0 sum of weights and the
    coordinator combines them with each partition's share of the summed weight, which is exactly
    1 for one partition (exec/rows/mod.rs `combine_images`). Before, the partitions' terms were
    multiplied back by the sum of weights and divided again (two more f32 roundings per pixel),
    which CI measured at 1.2446e-6 of `.residual.tt0`'s peak (the residual is the small
    difference of two images, each rounded at the level of the dirty image's peak)."""
    require_module("pclean._native", "pclean's Python package is not installed (maturin develop in python/)")
    require_module("distributed", "Dask is not installed (pip install 'dask[distributed]')")
    import pclean
    params = dict(CLEAN2, vis=[str(small_ms / INFO["ms"])])
    params.pop("parallel", None)
    local, dist = tmp_path / "local", tmp_path / "dist"
    s_loc = pclean.pclean(**dict(params, imagename=str(local)))
    s = pclean.pclean(**dict(params, imagename=str(dist)), parallel=True, nworkers=1, cluster_type="local")
    d = s["distributed"]
    assert d["cluster_type"] == "local" and len(d["tasks"]) == 1
    assert s["total_iterations"] == s_loc["total_iterations"] > 0
    from compare import load_casa, same_product_error
    for ext in ["psf.tt0", "psf.tt2", "residual.tt0", "residual.tt1", "image.tt0", "image.tt1",
                "model.tt0", "model.tt1", "sumwt.tt1", "alpha"]:
        a, b = load_casa(f"{dist}.{ext}")[0], load_casa(f"{local}.{ext}")[0]
        assert np.array_equal(a, b, equal_nan=True), (ext, same_product_error(a, b))


def test_restart_continues_from_the_taylor_models(small_ms, tmp_path):
    """restart=True with mtmfs (issue 15 item 1): the run continues from the existing
    `.model.tt0/tt1` with the Taylor PSFs and residuals recomputed (the residuals are the data less
    every term's prediction, tclean's restart with calcres=true, calcpsf=true). niter 2N split as
    niter N + a restart of niter N, with cycleniter N so that the single run also ends a major
    cycle at N: the restart's first residuals are those of the single run's second cycle, so the
    products equal its (1e-6 of the peak, as the resumed run above; measured bit-identical), the
    .pclean-reuse copies are removed and the model was read, not zeroed (the restarted run's
    iterations stop short of niter only on the threshold, as the single run)."""
    from compare import assert_same_products
    ms = small_ms / INFO["ms"]
    half = 60
    whole = run_clean2(ms, tmp_path, "whole", niter=2 * half, cycleniter=half, threshold="0.05mJy")
    split = run_clean2(ms, tmp_path, "split", niter=half, cycleniter=half, threshold="0.05mJy")
    cfg = tmp_path / "restart.config.json"
    cfg.write_text(json.dumps({k: v for k, v in dict(CLEAN2, niter=half, cycleniter=half,
                                                      threshold="0.05mJy").items()
                               if k not in NOT_IMAGING}))
    run_pclean("image", "--config", cfg, "--vis", ms, "--imagename", split, "--restart", "--overwrite")
    summary = json.loads((tmp_path / "split.summary.json").read_text())
    assert summary["total_iterations"] == half, summary["total_iterations"]
    assert_same_products(whole, split, ["image.tt0", "image.tt1", "residual.tt0", "residual.tt1",
                                        "model.tt0", "model.tt1", "psf.tt1", "alpha"])
    assert not list(tmp_path.glob("*.pclean-reuse"))


def test_restart_with_fewer_taylor_models_is_refused(small_ms, tmp_path):
    """An nterms 2 run's models restarted with nterms 3: model.tt2 is missing while tt0/tt1
    exist; refused naming restart and the missing image (not silently started from zero)."""
    ms = small_ms / INFO["ms"]
    prefix = run_clean2(ms, tmp_path, "two", niter=10)
    cfg = tmp_path / "three.config.json"
    cfg.write_text(json.dumps({k: v for k, v in dict(CLEAN2, niter=10, nterms=3).items()
                               if k not in NOT_IMAGING}))
    p = run_pclean("image", "--config", cfg, "--vis", ms, "--imagename", prefix, "--restart",
                   "--overwrite", check=False)
    assert p.returncode != 0 and "restart" in p.stderr and "model.tt2" in p.stderr, p.stderr[-2000:]


def test_taylor_startmodel_continues_as_one_run(small_ms, tmp_path):
    """startmodel with one image per Taylor term (tclean's startmodel=['m.tt0', 'm.tt1']): a run
    of niter N from the models of an earlier niter N run equals one run of niter 2N, as tclean's
    (measured in tclean 6.7 on this MS: bit-identical; pclean against tclean's own startmodel run
    within 2.5e-3 of the peaks, the small MS's weighting difference, docs/issue15-evidence.md).
    Same bound and split as the restart test above (measured bit-identical). A term given as ''
    (or not given) starts from 0, as tclean's: with ['', a.model.tt1] and niter 0 the written
    model.tt0 is 0 and model.tt1 is a's."""
    from compare import assert_same_products, load_casa
    ms = small_ms / INFO["ms"]
    half, kw = 60, dict(cycleniter=60, threshold="0.05mJy")
    whole = run_clean2(ms, tmp_path, "whole", niter=2 * half, **kw)
    a = run_clean2(ms, tmp_path, "a", niter=half, **kw)
    sm = run_clean2(ms, tmp_path, "sm", niter=half, startmodel=[f"{a}.model.tt0", f"{a}.model.tt1"], **kw)
    assert_same_products(whole, sm, ["image.tt0", "image.tt1", "residual.tt0", "residual.tt1",
                                     "model.tt0", "model.tt1", "alpha"])
    one = run_clean2(ms, tmp_path, "one", niter=0, startmodel=["", f"{a}.model.tt1"])
    assert not load_casa(f"{one}.model.tt0")[0].any()
    assert_same_products(a, one, ["model.tt1"])


def test_taylor_startmodel_list_checked(small_ms, tmp_path):
    """More images than nterms (tclean: "cannot support more than nterms images as the starting
    model") and a list with a single-term deconvolver are refused naming startmodel."""
    ms = small_ms / INFO["ms"]
    for extra in (dict(startmodel=["x.tt0", "x.tt1", "x.tt2"]),
                  dict(startmodel=["x.tt0", "x.tt1"], deconvolver="hogbom", reffreq="")):
        cfg = tmp_path / "bad.config.json"
        cfg.write_text(json.dumps({k: v for k, v in dict(CLEAN2, niter=0, **extra).items()
                                   if k not in NOT_IMAGING}))
        p = run_pclean("image", "--config", cfg, "--vis", ms, "--imagename", tmp_path / "bad",
                       "--overwrite", check=False)
        assert p.returncode != 0 and "startmodel" in p.stderr, p.stderr[-2000:]


@pytest.mark.parametrize("reuse", [dict(calcpsf=False), dict(calcpsf=False, calcres=False)],
                         ids=["calcpsf_false", "calcpsf_calcres_false"])
def test_reused_taylor_products_equal_a_full_run(small_ms, tmp_path, reuse):
    """calcpsf=false (the .psf.ttN with .sumwt.ttN) and calcres=false (the .residual.ttN) with
    mtmfs, restarting a niter 0 run with niter 60: the products equal a single niter 60 run
    (1e-6 of the peak as the restart test; measured bit-identical, as tclean's own
    calcpsf=False, calcres=False restart, bit-identical to its single run). A reused product
    that is missing is an error naming it (the products are read, not recomputed)."""
    from compare import assert_same_products
    ms = small_ms / INFO["ms"]
    kw = dict(cycleniter=60, threshold="0.05mJy")
    full = run_clean2(ms, tmp_path, "full", niter=60, **kw)
    r = run_clean2(ms, tmp_path, "r", niter=0, **kw)
    cfg = tmp_path / "reuse.config.json"
    cfg.write_text(json.dumps({k: v for k, v in dict(CLEAN2, niter=60, **kw, **reuse).items()
                               if k not in NOT_IMAGING}))
    run_pclean("image", "--config", cfg, "--vis", ms, "--imagename", r, "--restart", "--overwrite")
    assert_same_products(full, r, ["image.tt0", "image.tt1", "residual.tt0", "residual.tt1",
                                   "model.tt0", "model.tt1", "psf.tt2", "sumwt.tt2", "alpha"])
    assert not list(tmp_path.glob("*.pclean-reuse"))
    shutil.rmtree(f"{r}.psf.tt2")
    p = run_pclean("image", "--config", cfg, "--vis", ms, "--imagename", r, "--restart", "--overwrite",
                   check=False)
    assert p.returncode != 0 and "psf.tt2" in p.stderr, p.stderr[-2000:]


def test_reusing_mvc_taylor_terms_is_refused(small_ms, tmp_path):
    """calcpsf=false / calcres=false with specmode='mvc' (whose Taylor PSFs come from its cube's
    channels) is refused up front naming the parameter."""
    for flag in ("--calcpsf", "--calcres"):
        p = run_pclean("image", "--vis", small_ms / INFO["ms"], "--imagename", tmp_path / "r",
                       "--imsize", "64", "--cell", "7.5arcsec", "--deconvolver", "mtmfs", "--restart",
                       "--specmode", "mvc", flag, "false", check=False)
        assert p.returncode != 0 and flag[2:] in p.stderr and "mvc" in p.stderr, p.stderr

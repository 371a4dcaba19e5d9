"""kernel='casa' (tclean's own gridder reproduced) against tclean 6.7.0's committed references:
the NGC5921 dirty cube (every third channel, whole image) and the cleaned NGC5921 cube, the
alma_sim LSRK cube (every channel) and the alma_sim mfs image. Figures measured and explained in
docs/decisions.md (i13-casakernel) and docs/decisions.md (s8-gap13)."""
import pytest

from compare import load_casa, load_fits, max_abs_diff, plane_errors
from conftest import ALMA_MFS_ARGS, NGC_ARGS, NGC_CLEAN_ARGS, REFERENCE, image_run

CASA = ["--kernel", "casa"]


@pytest.fixture(scope="module")
def ngc_casa(msdir, outdir):
    return image_run(msdir / "ngc5921.ms", outdir / "n5921_casa", *NGC_ARGS, *CASA)


def worst(ours, ref_name, inner):
    ref, _, keep = load_fits(REFERENCE / ref_name)
    return max(plane_errors(ours, ref, inner=inner, channels=keep))


# The bound for the tclean-identical mode: 2e-5 of the peak, here over the WHOLE image
# (inner=1.0), every plane. Measured: PSF 1.8e-7, residual 1.7e-7 (all 46 channels; the ES
# default: 6.3e-4 and 1.3e-3): single-precision rounding. Before each visibility's footprint was
# normalised to a unit sum as tclean grids (docs/decisions.md (s9-ch13)) they were 9.8e-6 and
# 1.7e-5, so FLOOR (1e-6, five times the measured figure, ~10 f32 ulps of the peak) keeps that
# per-visibility floor from coming back unnoticed. The code is deterministic (the same figures
# whatever the thread count), so the margin is not eaten by run-to-run noise.
FLOOR = 1e-6


@pytest.mark.parametrize("product", ["psf", "residual"])
def test_ngc5921_dirty_matches_tclean_to_2e5(ngc_casa, product):
    name, _ = ngc_casa
    ours, _ = load_casa(str(name) + "." + product)
    e = worst(ours, "ngc5921_tclean_dirty.%s.sub.fits.gz" % product, 1.0)
    print("casa kernel NGC5921 %s: worst max|diff|/peak %.2e (channel %d)" % (product, e[0], e[1]))
    assert e[0] <= 2e-5
    assert e[0] <= FLOOR


def test_ngc5921_clean_matches_tclean(msdir, outdir):
    """The major cycle with tclean's gridder (prediction divided by the kernel sum, as tclean's
    degridder) converges like tclean's: the restored cube agrees to 1.8e-7 of each plane's peak
    (measured; 2.7e-5 before the unit-sum footprints of s9-ch13; ES: 4.2e-3). 1e-4 leaves room
    for a clean component placed differently by a near-tie in the minor cycle."""
    name, summary = image_run(msdir / "ngc5921.ms", outdir / "c5921_casa", *NGC_CLEAN_ARGS, *CASA)
    # Every channel stops on the 8 mJy threshold (4808 minor-cycle iterations in all; ES: 4806).
    assert {c["stop_reason"] for c in summary["channels"]} == {"threshold reached"}
    ours, _ = load_casa(str(name) + ".image")
    e = worst(ours, "ngc5921_tclean_clean.image.sub.fits.gz", 1.0)
    print("casa kernel NGC5921 cleaned image: worst %.2e (channel %d)" % (e[0], e[1]))
    assert e[0] <= 1e-4


@pytest.fixture(scope="module")
def alma_lsrk_casa(msdir, outdir):
    # tclean_lsrk_dirty.params.json: the mfs reference's parameters with specmode cube.
    args = [("cube" if a == "mfs" else a) for a in ALMA_MFS_ARGS]
    name, _ = image_run(msdir / "alma_small.ms", outdir / "alsrk_casa", *args, "--outframe", "LSRK",
                        "--interpolation", "linear", *CASA)
    return name


def lsrk_errors(name, product):
    """Per channel max|diff|/peak of every channel of the alma LSRK cube: channels 0, 5, 10, 15
    over the whole image (the .sub reference), the 12 others over the central 128 x 128 pixels
    (the .mid reference, with each plane's whole-image peak in PCPEAK)."""
    ours, _ = load_casa(str(name) + "." + product)
    errs = {}
    for e, c, _ in plane_errors(*_sub(ours, "alma_tclean_lsrk_dirty.%s.sub.fits.gz" % product)):
        errs[c] = e
    ref, hdr, keep = load_fits(REFERENCE / ("alma_tclean_lsrk_dirty.%s.mid.fits.gz" % product))
    x0, y0 = (int(v) for v in hdr["PCCROP"].split(","))
    peaks = [float(v) for v in hdr["PCPEAK"].split(",")]
    ny, nx = ref.shape[-2:]
    for i, c in enumerate(keep):
        errs[c] = max_abs_diff(ours[c, 0, y0:y0 + ny, x0:x0 + nx], ref[i, 0]) / peaks[i]
    assert sorted(errs) == list(range(ours.shape[0])), "a channel of the cube is not compared"
    return errs


def _sub(ours, ref_name):
    ref, _, keep = load_fits(REFERENCE / ref_name)
    return ours, ref, 1.0, keep


# Measured (whole image for channels 0, 5, 10, 15; central 128 x 128 for the others, which held
# 75-85% of the whole-image maximum when the differences were larger): PSF <= 1.8e-7 and residual
# <= 1.5e-7 of the plane's peak in every channel, channel 0 (made from the first integration
# alone) included. Before each visibility's footprint was normalised to a unit sum, as tclean
# grids (docs/decisions.md (s9-ch13)), channels 1-15 were at 3.4e-6 / 6.6e-6 and channel 0 at
# 1.4e-5 / 2.1e-5 (that per-visibility floor averaged over 30 times fewer visibilities), over
# the 2e-5; before the density lookup at each data channel's own frequency (s8-gap13)
# channels 6, 13 and 14 were at up to 4.5e-5 (PSF) and 1.1e-4 (residual). The ES default: 5.9e-4
# and 8.1e-4. FLOOR (1e-6) keeps the floor from coming back.
@pytest.mark.parametrize("product", ["psf", "residual"])
def test_alma_lsrk_cube_every_channel_matches_tclean_to_2e5(alma_lsrk_casa, product):
    errs = lsrk_errors(alma_lsrk_casa, product)
    print("casa kernel alma LSRK %s: %s" % (product, " ".join("%d:%.1e" % kv for kv in sorted(errs.items()))))
    for c, e in errs.items():
        assert e <= 2e-5, (c, e)
        assert e <= FLOOR, (c, e)


def test_alma_mfs_dirty_matches_tclean_to_2e5(msdir, outdir):
    """alma_sim mfs (TOPO data; tclean grids every row at its channels' LSRK frequencies at the
    row's time), whole image. Measured PSF 2.6e-6 and residual 9.0e-6 of the peak (5.2e-6 and
    1.2e-5 before the unit-sum footprints, s9-ch13); gridding at the
    TOPO frequencies instead (a 1.5e-5 radial uv scaling) gave 2.2e-4 and 3.1e-4, so the issue's
    2e-5 bound fails without the per-row conversion. Deterministic, like the NGC5921 figures."""
    name, _ = image_run(msdir / "alma_small.ms", outdir / "amfs_casa", *ALMA_MFS_ARGS, *CASA)
    for product in ("psf", "residual"):
        ours, _ = load_casa(str(name) + "." + product)
        e = worst(ours, "tclean_mfs_dirty.%s.fits.gz" % product, 1.0)
        print("casa kernel alma mfs %s: max|diff|/peak %.2e" % (product, e[0]))
        assert e[0] <= 2e-5


def test_lsrk_spectral_axes_match_tclean_to_005_hz(ngc_casa, alma_lsrk_casa):
    """The issue's "LSRK spectral axis within 0.05 Hz" with the tclean-identical option: every
    channel's LSRK frequency of the alma_sim cube (tclean's full-precision frequencies of the same
    grid in tclean_spectral.json: alma_lsrk_cubic has these parameters but the interpolation, which
    does not change the grid) and of the NGC5921 cube (the reference's CRVAL3/CDELT3, printed to
    1 mHz). Measured: alma 2.9e-3 Hz (UT1-UTC from the bundled IERS tables; 0.43 Hz without them,
    so this needs PCLEAN_MEASURESPATH as scripts/test.sh sets it), NGC5921 2.4e-7 Hz."""
    import json

    import numpy as np

    spectral = json.loads((REFERENCE / "tclean_spectral.json").read_text())
    want = np.array(spectral["alma_lsrk_cubic"]["freqs_hz"])
    ours, im = load_casa(str(alma_lsrk_casa) + ".psf")
    assert im.coordinates().get_coordinate("spectral").get_frame() == "LSRK"
    got = np.array([im.toworld([c, 0, 0, 0])[0] for c in range(ours.shape[0])])
    print("alma LSRK axis: max |ours - tclean| %.2e Hz" % np.abs(got - want).max())
    assert got.shape == want.shape and np.abs(got - want).max() <= 0.05

    name, _ = ngc_casa
    ours, im = load_casa(str(name) + ".psf")
    _, hdr, _ = load_fits(REFERENCE / "ngc5921_tclean_dirty.psf.sub.fits.gz")
    assert hdr["SPECSYS"] == "LSRK" and im.coordinates().get_coordinate("spectral").get_frame() == "LSRK"
    want = hdr["CRVAL3"] + (np.arange(ours.shape[0]) + 1 - hdr["CRPIX3"]) * hdr["CDELT3"]
    got = np.array([im.toworld([c, 0, 0, 0])[0] for c in range(ours.shape[0])])
    print("NGC5921 LSRK axis: max |ours - tclean| %.2e Hz" % np.abs(got - want).max())
    assert np.abs(got - want).max() <= 0.05

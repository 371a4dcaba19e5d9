"""kernel='casa' (tclean's own gridder reproduced) against tclean 6.7.0's committed references:
the NGC5921 dirty cube (every third channel, whole image) and the cleaned NGC5921 cube, the
alma_sim LSRK cube (channels 0, 5, 10, 15) and the alma_sim mfs image. Figures measured and explained in
docs/decisions-i13-casakernel.md."""
import pytest

from compare import load_casa, load_fits, plane_errors
from conftest import ALMA_MFS_ARGS, NGC_ARGS, NGC_CLEAN_ARGS, REFERENCE, image_run

CASA = ["--kernel", "casa"]


@pytest.fixture(scope="module")
def ngc_casa(msdir, outdir):
    return image_run(msdir / "ngc5921.ms", outdir / "n5921_casa", *NGC_ARGS, *CASA)


def worst(ours, ref_name, inner):
    ref, _, keep = load_fits(REFERENCE / ref_name)
    return max(plane_errors(ours, ref, inner=inner, channels=keep))


# The bound for the tclean-identical mode: 2e-5 of the peak, here over the WHOLE image
# (inner=1.0), every plane. Measured: PSF 9.8e-6, residual 1.7e-5 (all 46 channels; the ES
# default: 6.3e-4 and 1.3e-3). The code is deterministic (the same figures whatever the thread
# count), so the margin is not eaten by run-to-run noise.
@pytest.mark.parametrize("product", ["psf", "residual"])
def test_ngc5921_dirty_matches_tclean_to_2e5(ngc_casa, product):
    name, _ = ngc_casa
    ours, _ = load_casa(str(name) + "." + product)
    e = worst(ours, "ngc5921_tclean_dirty.%s.sub.fits.gz" % product, 1.0)
    print("casa kernel NGC5921 %s: worst max|diff|/peak %.2e (channel %d)" % (product, e[0], e[1]))
    assert e[0] <= 2e-5


def test_ngc5921_clean_matches_tclean(msdir, outdir):
    """The major cycle with tclean's gridder (prediction divided by the kernel sum, as tclean's
    degridder) converges like tclean's: the restored cube agrees to 2.7e-5 of each plane's peak
    (measured; ES: 4.2e-3). 1e-4 leaves room for a clean component placed differently by a
    near-tie in the minor cycle."""
    name, summary = image_run(msdir / "ngc5921.ms", outdir / "c5921_casa", *NGC_CLEAN_ARGS, *CASA)
    # Every channel stops on the 8 mJy threshold (4808 minor-cycle iterations in all; ES: 4806).
    assert {c["stop_reason"] for c in summary["channels"]} == {"threshold reached"}
    ours, _ = load_casa(str(name) + ".image")
    e = worst(ours, "ngc5921_tclean_clean.image.sub.fits.gz", 1.0)
    print("casa kernel NGC5921 cleaned image: worst %.2e (channel %d)" % (e[0], e[1]))
    assert e[0] <= 1e-4


def test_alma_lsrk_cube_closer_to_tclean_than_es(msdir, outdir):
    """alma_sim LSRK cube (TOPO data regridded per integration), whole image: on the committed
    channels 0, 5, 10, 15 measured PSF 1.4e-5 and residual 2.0e-5 (worst: channel 0, made from
    the first integration alone); 3.4e-6 / 6.6e-6 in most channels of the full cube, 4.5e-5 /
    1.1e-4 in channel 13 (not committed; see the decision log). ES: 5.9e-4 and 8.1e-4. 5e-5
    holds the gain with room for channel 0's few rows."""
    # tclean_lsrk_dirty.params.json: the mfs reference's parameters with specmode cube.
    args = [("cube" if a == "mfs" else a) for a in ALMA_MFS_ARGS]
    name, _ = image_run(msdir / "alma_small.ms", outdir / "alsrk_casa", *args, "--outframe", "LSRK",
                        "--interpolation", "linear", *CASA)
    for product, bound in (("psf", 5e-5), ("residual", 5e-5)):
        ours, _ = load_casa(str(name) + "." + product)
        e = worst(ours, "alma_tclean_lsrk_dirty.%s.sub.fits.gz" % product, 1.0)
        print("casa kernel alma LSRK %s: worst %.2e (channel %d)" % (product, e[0], e[1]))
        assert e[0] <= bound


def test_alma_mfs_dirty_matches_tclean_to_2e5(msdir, outdir):
    """alma_sim mfs (TOPO data; tclean grids every row at its channels' LSRK frequencies at the
    row's time), whole image. Measured PSF 5.2e-6 and residual 1.2e-5 of the peak; gridding at the
    TOPO frequencies instead (a 1.5e-5 radial uv scaling) gave 2.2e-4 and 3.1e-4, so the issue's
    2e-5 bound fails without the per-row conversion. Deterministic, like the NGC5921 figures."""
    name, _ = image_run(msdir / "alma_small.ms", outdir / "amfs_casa", *ALMA_MFS_ARGS, *CASA)
    for product in ("psf", "residual"):
        ours, _ = load_casa(str(name) + "." + product)
        e = worst(ours, "tclean_mfs_dirty.%s.fits.gz" % product, 1.0)
        print("casa kernel alma mfs %s: max|diff|/peak %.2e" % (product, e[0]))
        assert e[0] <= 2e-5

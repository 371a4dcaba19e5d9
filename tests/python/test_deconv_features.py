"""Deconvolution features end to end on three NGC5921 channels: user region masks, stop reasons,
common restoring beam, pbcor, and each deconvolver."""
import json

import numpy as np
import pytest

from compare import casa_beams, load_casa
from conftest import run_pclean

BASE = ["--imsize", "128", "--cell", "15arcsec", "--specmode", "cube", "--spw", "0:24~26", "--outframe", "LSRK",
        "--weighting", "briggs", "--robust", "0.5", "--datacolumn", "data", "--pblimit", "0.1"]


def clean(msdir, out, *extra):
    p = run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", out, *BASE, *extra)
    return json.loads(p.stdout)


def test_user_region_mask_confines_the_model(msdir, tmp_path):
    out = tmp_path / "r"
    clean(msdir, out, "--niter", "200", "--threshold", "5mJy", "--usemask", "user",
          "--mask", "circle[[64pix,64pix],12pix]")
    model, _ = load_casa(str(out) + ".model")
    mask, _ = load_casa(str(out) + ".mask")
    yy, xx = np.mgrid[0:128, 0:128]
    inside = (xx - 64) ** 2 + (yy - 64) ** 2 <= 144
    assert model.any()
    assert not model[..., ~inside].any()
    np.testing.assert_array_equal(mask[0, 0] > 0.5, inside)


def test_stop_reasons(msdir, tmp_path):
    s = clean(msdir, tmp_path / "n", "--niter", "7", "--threshold", "0mJy")
    assert all(c["stop_reason"] == "iteration limit (niter)" and c["iterations"] == 7 for c in s["channels"])
    s = clean(msdir, tmp_path / "m", "--niter", "5000", "--threshold", "0mJy", "--nmajor", "1")
    assert all(c["stop_reason"] == "major cycle limit (nmajor)" and c["major_cycles"] == 1 for c in s["channels"])
    s = clean(msdir, tmp_path / "s", "--niter", "5000", "--threshold", "0mJy", "--nsigma", "4")
    assert all(c["stop_reason"] == "n-sigma threshold reached" for c in s["channels"])
    s = clean(msdir, tmp_path / "t", "--niter", "5000", "--threshold", "10mJy")
    assert all(c["stop_reason"] == "threshold reached" for c in s["channels"])
    assert all(c["peak_residual"] > 0 and c["model_flux_jy"] > 0 for c in s["channels"])
    # An empty user mask region: nothing may be cleaned.
    s = clean(msdir, tmp_path / "z", "--niter", "100", "--usemask", "user", "--mask", "box[[0pix,0pix],[0pix,0pix]]",
              "--threshold", "0.5Jy")
    assert all(c["iterations"] == 0 for c in s["channels"])


def test_common_beam_and_pbcor(msdir, tmp_path):
    out = tmp_path / "c"
    clean(msdir, out, "--niter", "200", "--threshold", "10mJy", "--restoringbeam", "common", "--pbcor", "true")
    _, psf_im = load_casa(str(out) + ".psf")
    img, im = load_casa(str(out) + ".image")
    fitted = casa_beams(psf_im)
    common = casa_beams(im)
    assert len({tuple(np.round(b, 6)) for b in common}) == 1
    # The common beam encloses every plane's beam (0.1% tolerance: CASA's growth step).
    assert all(common[0][0] >= b[0] * 0.999 and common[0][1] >= b[1] * 0.999 for b in fitted)
    pbcor, _ = load_casa(str(out) + ".image.pbcor")
    pb, _ = load_casa(str(out) + ".pb")
    good = pb > 0.1
    np.testing.assert_allclose(pbcor[good], img[good] / pb[good], rtol=1e-5)
    assert np.isnan(pbcor[~good]).all()


@pytest.mark.parametrize("deconvolver", ["hogbom", "clark", "multiscale"])
def test_each_deconvolver_reaches_the_threshold(msdir, tmp_path, deconvolver):
    s = clean(msdir, tmp_path / deconvolver, "--niter", "5000", "--threshold", "10mJy", "--deconvolver", deconvolver,
              "--scales", "0,3,8", "--usemask", "pb", "--pbmask", "0.3")
    for c in s["channels"]:
        assert c["stop_reason"] == "threshold reached", c
    res, _ = load_casa(str(tmp_path / deconvolver) + ".residual")
    mask, _ = load_casa(str(tmp_path / deconvolver) + ".mask")
    # Inside the mask the residual is cleaned to the threshold (f32 rounding aside).
    assert np.abs(res[mask > 0.5]).max() <= 0.0101


def test_mask_image_and_region_file(msdir, tmp_path):
    # A region file (CRTF) and the .mask image it produced both confine the model identically.
    region = tmp_path / "box.crtf"
    region.write_text("#CRTFv0\nbox[[50pix,52pix],[80pix,75pix]]\n")
    a = tmp_path / "a"
    clean(msdir, a, "--niter", "150", "--threshold", "5mJy", "--usemask", "user", "--mask", str(region))
    b = tmp_path / "b"
    clean(msdir, b, "--niter", "150", "--threshold", "5mJy", "--usemask", "user", "--mask", str(a) + ".mask")
    ma, _ = load_casa(str(a) + ".model")
    mb, _ = load_casa(str(b) + ".model")
    inside = np.zeros((128, 128), bool)
    inside[52:76, 50:81] = True
    assert ma.any() and not ma[..., ~inside].any()
    np.testing.assert_array_equal(ma, mb)

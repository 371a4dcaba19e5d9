"""FITS images as `mask` and `startmodel` (issues 20 and 19): casatools' `exportfits` copies of a
tclean mask and model, cropped onto another grid than the run's (48 x 48 pixels, offset: the
regridding path), give the same products as the CASA images they were exported from
(testdata/reference/fits_inputs, made by its make_fits_inputs.py)."""
import json
import tarfile

import numpy as np

from compare import load_casa
from conftest import REFERENCE, run_pclean

BASE = ["--imsize", "128", "--cell", "15arcsec", "--specmode", "cube", "--spw", "0:24~26", "--outframe", "LSRK",
        "--weighting", "briggs", "--robust", "0.5", "--datacolumn", "data", "--pblimit", "0.1",
        "--niter", "100", "--threshold", "5mJy", "--usemask", "user"]


def test_fits_mask_and_startmodel_equal_the_casa_images(msdir, tmp_path):
    with tarfile.open(REFERENCE / "fits_inputs" / "files.tar.gz") as t:
        t.extractall(tmp_path)
    out = {}
    for kind, ext in (("casa", "im"), ("fits", "fits")):
        name = tmp_path / kind
        p = run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", name, *BASE,
                       "--mask", tmp_path / f"mask.{ext}", "--startmodel", tmp_path / f"model.{ext}")
        out[kind] = {e: load_casa(f"{name}.{e}")[0] for e in ("mask", "model", "residual", "image")}
        out[kind]["iterations"] = [c["iterations"] for c in json.loads(p.stdout)["channels"]]
    casa, fits = out["casa"], out["fits"]
    # The same pixels reach the same regridding: the products are identical.
    for e in ("mask", "model", "residual", "image", "iterations"):
        np.testing.assert_array_equal(fits[e], casa[e], err_msg=e)
    # The inputs did something: the mask is the cropped box (regridded), the start model's
    # flux is in the model before the 100 new components.
    mask = fits["mask"]
    assert 0 < mask.sum() < mask.size / 4
    assert not fits["model"][mask < 0.5].any()
    dirty = tmp_path / "nostart"
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", dirty, *BASE,
               "--mask", tmp_path / "mask.fits")
    plain = load_casa(f"{dirty}.model")[0]
    assert abs(fits["model"].sum() - plain.sum()) > 0.05 * abs(plain.sum())

"""A cleaned cube run as one block with tclean's cube-wide cycle threshold, holding only one channel
per thread in memory (the other planes in a scratch file, `cycles::paged`), makes the products of
the same block with every plane in memory (`--cube-resident-chans` at least the block's channels).

The paged loop takes the same cube-wide figures (largest PSF sidelobe, common beam, iterations,
largest peak residual of the unconverged planes) and runs each plane's steps on the same inputs in
the same order, so the products are compared bit for bit: any difference is a defect."""
import json
import os

import numpy as np
import pytest

from compare import load_casa
from conftest import NGC_ARGS, NGC_CLEAN_ARGS, image_run

PRODUCTS = ("psf", "residual", "model", "image", "mask", "pb", "sumwt")


def both(ms, tmp_path, nchan, *args):
    """(paged run, all-resident run): the same cube as one block on two threads."""
    common = ["--nthreads", "2", "--cube-chunksize", str(nchan), *args]
    paged = image_run(ms, tmp_path / "paged", *common)
    held = image_run(ms, tmp_path / "held", *common, "--cube-resident-chans", str(nchan))
    return paged, held


def assert_same(paged, held):
    (pn, ps), (hn, hs) = paged, held
    assert ps["chans_per_block"] == hs["chans_per_block"]
    for ext in PRODUCTS:
        a = load_casa(f"{pn}.{ext}")[0]
        b = load_casa(f"{hn}.{ext}")[0]
        assert a.shape == b.shape, ext
        # Bit for bit: the paged loop is the same computation (module docstring).
        diff = np.max(np.abs(a - b))
        assert np.array_equal(a, b), f"{ext}: max |diff| {diff:g} of peak {np.max(np.abs(b)):g}"
    assert ps["total_iterations"] == hs["total_iterations"] > 0
    assert ps["channels"] == hs["channels"]
    # Several major cycles, so the cube-wide threshold was taken again after cleaning.
    assert max(c["major_cycles"] for c in hs["channels"]) >= 2
    # The scratch file of paged planes is gone.
    left = [f for f in os.listdir(pn.parent) if ".planes" in f]
    assert not left, left


def test_ngc5921_automultithresh_cube_paged_equals_held(msdir, tmp_path):
    """The deconvolution issue's acceptance command (hogbom, auto-multithresh, LSRK with linear
    interpolation: visibilities prepared 8 channels at a time, 2 channels' planes in memory)."""
    paged, held = both(msdir / "ngc5921.ms", tmp_path, 46, *NGC_CLEAN_ARGS)
    assert_same(paged, held)
    # Paging holds two channels' planes instead of 46: the model's estimate says so.
    assert paged[1]["memory_estimate_mib"] < held[1]["memory_estimate_mib"]


def test_ngc5921_pb_mask_cube_with_threshold_paged_equals_held(msdir, tmp_path):
    """Hogbom with a fixed (pb) mask and a threshold that stops channels at different cycles:
    later rounds skip converged groups."""
    args = [a for a in NGC_ARGS if a not in ("--niter", "0", "--pblimit", "-0.01")] + [
        "--pblimit", "0.2", "--deconvolver", "hogbom", "--niter", "3000", "--threshold", "20mJy",
        "--usemask", "pb", "--pbmask", "0.3"]
    assert_same(*both(msdir / "ngc5921.ms", tmp_path, 46, *args))


@pytest.mark.parametrize("deconvolver", ["hogbom", "clark"])
def test_alma_sim_cube_paged_equals_held(msdir, tmp_path, deconvolver):
    """alma_sim (alma_small.ms): its 16 channels as data (cubedata: one resident group of 2 channels prepared at a
    time), a pb mask; clark remakes its PSF patch after each cycle."""
    args = ["--imsize", "256", "--cell", "0.1arcsec", "--specmode", "cubedata", "--nchan", "16",
            "--weighting", "briggs", "--robust", "0.5", "--pblimit", "0.2", "--deconvolver", deconvolver,
            "--niter", "1500", "--threshold", "4mJy", "--usemask", "pb", "--pbmask", "0.2"]
    assert_same(*both(msdir / "alma_small.ms", tmp_path, 16, *args))

"""Imaging the cases of a tclean reference set (testdata/reference/<set>/mtmfs.json: `ms`, and per
case tclean's `params`) with pclean, once per case, and reading a product next to its cropped
reference (`<case>.<ext>.fits.gz`, the inner part of the image at header offset PCCROP). Shared by
test_mtmfs.py and test_mvc.py."""
import json

import numpy as np
import pytest
from astropy.io import fits

from compare import load_casa
from conftest import run_pclean

# tclean parameters that are not imaging parameters of a pclean config.
NOT_IMAGING = ("vis", "parallel")


def run_case(runs, info, name, msdir, outdir):
    """pclean on case `name` of `info` (tclean's parameters) into `outdir`; `runs` caches the runs
    (one per name); a failed run fails the test with pclean's message."""
    if name not in runs:
        params = info["cases"][name]["params"]
        cfg = outdir / (name + ".config.json")
        cfg.write_text(json.dumps({k: v for k, v in params.items() if k not in NOT_IMAGING}))
        prefix = outdir / name
        runs[name] = run_pclean("image", "--config", cfg, "--vis", msdir / info["ms"],
                                "--imagename", prefix, "--overwrite", check=False), prefix
    p, prefix = runs[name]
    if p.returncode != 0:
        pytest.fail("pclean failed on %s: %s" % (name, p.stderr[-2000:]), pytrace=False)
    return prefix


def ours_and_ref(refdir, prefix, name, ext):
    """Our product `<prefix>.<ext>` (first plane) cut to the reference's crop, and the reference."""
    h = fits.open(refdir / ("%s.%s.fits.gz" % (name, ext)))[0]
    ref = h.data.astype(np.float64)
    off = h.header["PCCROP"]
    ours = load_casa(str(prefix) + "." + ext)[0][0, 0]
    return ours[off:off + ref.shape[0], off:off + ref.shape[1]], ref

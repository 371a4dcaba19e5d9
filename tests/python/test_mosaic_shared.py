"""Issue 14 on the shared alma_mosaic data set (opt-in shared tier: PCLEAN_SHARED_DATA=1 with
../shared/data beside the checkout): the dirty mfs mosaics (Briggs/flatnoise and natural/flatsky)
and the LSRK mosaic cube against tclean's products, over tclean's pb > 0.3 (the issue's region),
each within 1% of tclean's peak. The normal tier checks the bundled 7-pointing subset
(test_mosaic.py); this tier is the issue's own reference, which was compared by hand before.

The cube's first LSRK channel holds only two integrations: the first (field 0 at the image
centre, where tclean's grid is made: its first data channel equals the cube's first channel to
the bit, a tie tclean keeps) and field 1's first (130 Hz below it); every later one has drifted
above it. It was an open gap until s16-ch0 (`.sumwt` 310.3 vs tclean's 599.4, residual 0.49 of
the peak): pclean lost that tie by one ulp of the epoch, and its per-field Briggs densities of
fields off the image centre were gridded at the data's own uvw where tclean's are gridded at the
uvw rotated to the image centre (docs/decisions.md (s16-ch0)). Every channel now holds the bound."""
import json
import tarfile

import numpy as np
import pytest
from astropy.io import fits

from compare import load_casa
from conftest import ROOT, require, run_pclean

SHARED = ROOT.parent / "shared" / "data" / "alma_mosaic"
REF = SHARED / "reference"
NOT_IMAGING = ("vis", "parallel")
# 1% of tclean's peak over its pb > 0.3: the bound for the dirty image, PSF, .pb and
# .weight. Measured (s16-ch0): mfs dirty residual 2.7e-3, flatsky 5.0e-3; cube residual
# 2.1e-3..2.7e-3, psf 7.5e-4, pb 4.6e-3, weight 6.8e-3 (the largest: the band-limited PB^2 kernel).
TOL = 1e-2
# tclean's .sumwt is the sum of the imaging weights (float32 sums over 10^5 visibilities):
# measured (s16-ch0) 7.8e-6 at worst (cube channel 1; channels 0 and 3 equal, mfs 1.5e-6; before
# the rotated per-field densities the cube's channels 1-3 were 3.9e-4 high).
SUMWT_TOL = 5e-5
_RUNS = {}


@pytest.fixture(scope="module")
def shared_ms(tmp_path_factory):
    require(SHARED.exists(), "../shared/data/alma_mosaic is not beside the checkout")
    dest = tmp_path_factory.mktemp("alma_mosaic")
    with tarfile.open(SHARED / "alma_mosaic.ms.tar.gz") as t:
        t.extractall(dest)
    return dest / "mosaic.ms"


def run_case(name, ms, outdir):
    """pclean with tclean's parameters of `tclean_mosaic_<name>` (run once per module)."""
    if name not in _RUNS:
        params = json.loads((REF / ("tclean_mosaic_%s.params.json" % name)).read_text())
        cfg = outdir / (name + ".config.json")
        cfg.write_text(json.dumps({k: v for k, v in params.items() if k not in NOT_IMAGING}))
        prefix = outdir / name
        run_pclean("image", "--config", cfg, "--vis", ms, "--imagename", prefix)
        _RUNS[name] = prefix
    return _RUNS[name]


def planes(path):
    """A FITS reference as [chan, y, x] (tclean's FITS axes are stokes, freq, y, x)."""
    d = fits.open(path)[0].data.astype(np.float64)
    return d[0] if d.ndim == 4 else d


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["mfs_dirty", "mfs_flatsky", "cube_dirty"])
@pytest.mark.parametrize("ext", ["psf", "residual", "pb", "weight"])
def test_shared_mosaic_matches_tclean(name, ext, shared_ms, tmp_path_factory):
    prefix = run_case(name, shared_ms, tmp_path_factory.getbasetemp())
    pb = planes(REF / ("tclean_mosaic_%s.pb.fits.gz" % name))
    ref = planes(REF / ("tclean_mosaic_%s.%s.fits.gz" % (name, ext)))
    ours = load_casa("%s.%s" % (prefix, ext))[0][:, 0]
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    figures = []
    for c in range(ref.shape[0]):
        region = np.isfinite(pb[c]) & (pb[c] > 0.3) & np.isfinite(ref[c])
        assert region.sum() > 1000
        peak = np.abs(ref[c][region]).max()
        figures.append(float(np.abs(ours[c][region] - ref[c][region]).max() / peak))
    print(name, ext, ["%.2e" % f for f in figures])
    assert max(figures) <= TOL, figures


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["mfs_dirty", "mfs_flatsky", "cube_dirty"])
def test_shared_mosaic_sumwt_matches_tclean(name, shared_ms, tmp_path_factory):
    prefix = run_case(name, shared_ms, tmp_path_factory.getbasetemp())
    ref = fits.open(REF / ("tclean_mosaic_%s.sumwt.fits.gz" % name))[0].data.astype(np.float64).ravel()
    ours = load_casa("%s.sumwt" % prefix)[0].ravel()
    rel = np.abs(ours - ref) / ref
    print(name, "sumwt", ours, ref)
    assert rel.max() <= SUMWT_TOL, (ours, ref)

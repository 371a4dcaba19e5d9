"""The awproject tests' tclean references (test_awproject.py, test_awproject_mosaic.py): centred
crops of tclean's images as gzipped FITS (header PCCROP: the crop's first pixel x, y; PCSTEP its
step, scripts/dev/make_awproject_*.py), pclean's products on the same pixels, and the issue's
metric (max |pclean - tclean| over tclean's pb > 0.3, relative to tclean's peak there)."""
import numpy as np
from astropy.io import fits

from compare import load_casa


def reference(refdir, name, ext):
    """tclean's cropped plane (y, x), the crop's first pixel (x0, y0) and step."""
    with fits.open(refdir / ("tclean_%s.%s.fits.gz" % (name, ext))) as h:
        x0, y0 = (int(v) for v in h[0].header["PCCROP"].split(","))
        return np.asarray(h[0].data, dtype=np.float64), (x0, y0), int(h[0].header["PCSTEP"])


def ours(prefix, ext, crop, n, step):
    """pclean's plane `prefix.ext` on the pixels of a crop."""
    d, _ = load_casa("%s.%s" % (prefix, ext))
    x0, y0 = crop
    return d[0, 0, y0:y0 + n * step:step, x0:x0 + n * step:step]


def region_of(refdir, name, crop, n, step, pb_ext="pb"):
    """tclean's pb > 0.3 on the pixels of a crop (`pb_ext`: its `.pb`, mtmfs' `pb.tt0`)."""
    pb, (px, py), pstep = reference(refdir, name, pb_ext)
    y, x = np.mgrid[crop[1]:crop[1] + n * step:step, crop[0]:crop[0] + n * step:step]
    iy, ix = (y - py) // pstep, (x - px) // pstep
    inside = (iy >= 0) & (iy < pb.shape[0]) & (ix >= 0) & (ix < pb.shape[1])
    out = np.zeros(y.shape, bool)
    out[inside] = np.nan_to_num(pb[iy[inside], ix[inside]]) > 0.3
    return out


def error(refdir, name, ext, prefix, min_pixels=0, pb_ext="pb"):
    """The issue's metric for pclean's `prefix.ext` against tclean's case `name`."""
    ref, crop, step = reference(refdir, name, ext)
    mine = ours(prefix, ext, crop, ref.shape[0], step)
    region = region_of(refdir, name, crop, ref.shape[0], step, pb_ext)
    assert region.sum() > min_pixels and np.isfinite(mine[region]).all()
    return np.abs(mine - ref)[region].max() / np.abs(ref[region]).max()

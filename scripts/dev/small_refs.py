"""Shared steps of the scripts that make the compact tclean references of the bundled subsets
(make_mtmfs_refs.py, make_uniform_reach_refs.py): run tclean on each case, read a product's
sum of weights and beam, and write the inner part of an image as gzipped float32 FITS."""
import gzip
import io
import os
import shutil


def run_tclean_cases(cases, ms_path, outdir):
    """tclean (the case's exact keyword arguments) for every case of `cases` into `outdir`,
    removing the case's earlier products first."""
    from casatasks import tclean
    os.makedirs(outdir, exist_ok=True)
    for name, p in cases.items():
        for f in os.listdir(outdir):
            if f.startswith(name + "."):
                shutil.rmtree(os.path.join(outdir, f))
        tclean(vis=ms_path, imagename=os.path.join(outdir, name), **p)


def first_value(path):
    """The first pixel of CASA image `path` (a `.sumwt`), as a float."""
    from casacore.images import image
    return float(image(path).getdata().ravel()[0])


def beam_arcsec_deg(path):
    """CASA image `path`'s restoring beam: [major, minor (arcsec), position angle (deg)]."""
    from casacore.images import image
    rb = image(path).imageinfo()["restoringbeam"]
    return [rb["major"]["value"], rb["minor"]["value"], rb["positionangle"]["value"]]


def write_inner_fits(path, out, crop_fraction):
    """The inner `crop_fraction` of CASA image `path`'s first plane as float32 FITS (gzipped, no
    time stamp: the same bytes for the same image) at `out`; header PCCROP is the crop's offset."""
    import numpy as np
    from astropy.io import fits
    from casacore.images import image
    d = np.asarray(image(path).getdata(), dtype=np.float32)[0, 0]
    n = d.shape[0]
    off = int(round(n * (1 - crop_fraction) / 2))
    h = fits.PrimaryHDU(d[off:n - off, off:n - off])
    h.header["PCCROP"] = off
    buf = io.BytesIO()
    h.writeto(buf)
    with gzip.GzipFile(out, "wb", mtime=0) as f:
        f.write(buf.getvalue())

"""Make the FITS inputs of the FITS-reader tests with CASA 6.7 (casatools/casatasks):

    /work/casa-venv/bin/python make_fits_inputs.py <ngc5921.ms> <workdir> <this folder>

1. tclean on three NGC5921 channels (128 px, 15 arcsec, cube, a box mask, niter 150): its .mask,
   .model and .image (per-plane beams).
2. Cropped (subimage) copies on another grid than a 128 px run's (48 x 48 pixels, offset), as
   CASA images (`mask.im`, `model.im`) and through `exportfits` (`mask.fits`, `model.fits`):
   the mask/startmodel inputs of tests/python/test_fits_inputs.py.
3. 12 x 10 crops of the image exported every way the reader must understand (`exportfits`
   default, velocity radio and optical, stokeslast=False, dropdeg, bitpix=16, dropstokes) with
   `expected.json`: casatools' world coordinates of every channel, the Stokes planes, beams,
   units and pixel values, which crates/pclean-imageio/tests/fits_read.rs compares against.

Everything but expected.json goes into files.tar.gz (~20 kB).
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
from casatasks import exportfits, tclean
from casatools import image, regionmanager

ms, work, out = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
name = os.path.join(work, "t")
if not os.environ.get("REUSE_TCLEAN"):  # set it to remake the files from an earlier tclean run
    for ext in ("image", "mask", "model", "residual", "psf", "pb", "sumwt"):
        shutil.rmtree(f"{name}.{ext}", ignore_errors=True)
    tclean(vis=ms, imagename=name, imsize=128, cell="15arcsec", specmode="cube", spw="0:24~26",
           outframe="LSRK", weighting="briggs", robust=0.5, datacolumn="data", pblimit=0.1,
           niter=150, threshold="5mJy", usemask="user", mask="box[[50pix,52pix],[80pix,75pix]]",
           restfreq="1420405752.0Hz", parallel=False)

ia = image()


def crop(src, dst, box, **kw):
    shutil.rmtree(dst, ignore_errors=True)
    ia.open(src)
    rg = regionmanager().box(blc=box[0], trc=box[1])
    sub = ia.subimage(outfile=dst, region=rg, overwrite=True, **kw)
    sub.done()
    ia.close()


# Mask and model on a 48 x 48 grid offset from the run's (pixels 40..87 x 44..91).
for p in ("mask", "model"):
    crop(f"{name}.{p}", os.path.join(work, f"{p}.im"), ([40, 44, 0, 0], [87, 91, 0, 2]))
    exportfits(imagename=os.path.join(work, f"{p}.im"), fitsimage=os.path.join(work, f"{p}.fits"),
               overwrite=True)

# 12 x 10 crop of the restored cube (per-plane beams).
small = os.path.join(work, "small.im")
crop(f"{name}.image", small, ([58, 60, 0, 0], [69, 69, 0, 2]))
variants = {
    "default.fits": {},
    "vrad.fits": {"velocity": True},
    "vopt.fits": {"velocity": True, "optical": True},
    "stokesfirst.fits": {"stokeslast": False},
    "dropdeg.fits": {"dropdeg": True},
    "int16.fits": {"bitpix": 16},
    "dropstokes.fits": {"dropstokes": True},
}
for f, kw in variants.items():
    exportfits(imagename=small, fitsimage=os.path.join(work, f), overwrite=True, **kw)

ia.open(small)
cs = ia.coordsys()
shape = ia.shape()
freqs = [cs.toworld([0, 0, 0, k], "n")["numeric"][3] for k in range(shape[3])]
ra, dec = cs.toworld([0, 0, 0, 0], "n")["numeric"][:2]
info = ia.restoringbeam()
beams = [[info["beams"][f"*{k}"]["*0"][q]["value"] for q in ("major", "minor", "positionangle")]
         for k in range(shape[3])]
pix = ia.getchunk()  # x, y, stokes, chan
expected = {
    "shape": [int(v) for v in shape],
    "freqs_hz": freqs,
    "pixel0_radec_rad": [ra, dec],
    "increment_rad": [float(v) for v in cs.increment(type="direction")["numeric"]],
    "refpix": [float(v) for v in cs.referencepixel(type="direction")["numeric"]],
    "frame": cs.referencecode("spectral")[0],
    "restfreq_hz": cs.restfrequency()["value"][0],
    "beams_arcsec_deg": beams,
    "units": ia.brightnessunit(),
    "pixels_chan_y_x": [pix[:, :, 0, k].T.tolist() for k in range(shape[3])],
}
ia.close()
cs.done()
with open(os.path.join(out, "expected.json"), "w") as fh:
    json.dump(expected, fh, indent=1)
# One small tarball (the FITS files are mostly header padding): files.tar.gz.
files = ["mask.im", "model.im", "mask.fits", "model.fits", *variants]
subprocess.run(["tar", "czf", os.path.join(out, "files.tar.gz"), "-C", work, *files], check=True)

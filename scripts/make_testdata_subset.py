"""Make the channel subsets of tclean reference cubes committed under testdata/reference/.

Run from the repository root with ../shared/data beside it:
    python3 scripts/make_testdata_subset.py ../shared/data
Keeps every STEP-th channel of each cube (every 5th for the alma_sim cubes, so channel 0, which
tclean makes from the first integration alone, is kept); the kept original channel numbers are recorded in the
primary header keyword PCSUBSET (comma-separated) so tests compare against the right planes.
"""
import os
import shutil
import sys
import numpy as np
from astropy.io import fits

STEP = 3
CUBES = [
    ("ngc5921/reference/tclean_dirty.psf.fits.gz", "ngc5921_tclean_dirty.psf.sub.fits.gz"),
    ("ngc5921/reference/tclean_dirty.residual.fits.gz", "ngc5921_tclean_dirty.residual.sub.fits.gz"),
    ("ngc5921/reference/tclean_clean.image.fits.gz", "ngc5921_tclean_clean.image.sub.fits.gz"),
    ("ngc5921/reference/tclean_clean.residual.fits.gz", "ngc5921_tclean_clean.residual.sub.fits.gz"),
    ("alma_sim/reference/tclean_lsrk_dirty.psf.fits.gz", "alma_tclean_lsrk_dirty.psf.sub.fits.gz", 5),
    ("alma_sim/reference/tclean_lsrk_dirty.residual.fits.gz", "alma_tclean_lsrk_dirty.residual.sub.fits.gz", 5),
    ("alma_sim/reference/tclean_topo_dirty.residual.fits.gz", "alma_tclean_topo_dirty.residual.sub.fits.gz", 5),
]
# The other channels of the alma_sim LSRK cube (those not in the every-5th subset above), cropped
# to the central CROP x CROP pixels (where kernel='casa' differs most from tclean: the whole-image
# maximum is within the central 256 and 96% of it within the central 128 in every plane). The
# header keeps the cube's axes (CRPIX shifted), PCSUBSET the channels, PCCROP the crop's first
# pixel (x, y, 0-based) and PCPEAK each plane's peak |value| over the whole uncropped plane.
CROP = 128
CROPPED = [
    ("alma_sim/reference/tclean_lsrk_dirty.psf.fits.gz", "alma_tclean_lsrk_dirty.psf.mid.fits.gz", 5),
    ("alma_sim/reference/tclean_lsrk_dirty.residual.fits.gz", "alma_tclean_lsrk_dirty.residual.mid.fits.gz", 5),
]
# Small enough to keep whole (mostly zeros): copied unchanged.
WHOLE = [
    ("ngc5921/reference/tclean_clean.model.fits.gz", "ngc5921_tclean_clean.model.fits.gz"),
    ("ngc5921/reference/tclean_clean.mask.fits.gz", "ngc5921_tclean_clean.mask.fits.gz"),
]


def main(shared):
    out_dir = os.path.join(os.path.dirname(__file__), "..", "testdata", "reference")
    for entry in CUBES:
        src, dst = entry[0], entry[1]
        step = entry[2] if len(entry) > 2 else STEP
        h = fits.open(os.path.join(shared, src))
        hdr = h[0].header.copy()
        data = h[0].data  # numpy order (STOKES, FREQ, y, x) for these CASA exports
        freq_axis_fits = [i for i in range(1, hdr["NAXIS"] + 1) if hdr["CTYPE%d" % i].startswith("FREQ")][0]
        np_axis = hdr["NAXIS"] - freq_axis_fits
        n = data.shape[np_axis]
        keep = list(range(0, n, step))
        sub = np.take(data, keep, axis=np_axis)
        hdr["PCSUBSET"] = ",".join(str(k) for k in keep)
        hdr.add_history("pclean testdata: channel subset %s of %s" % (hdr["PCSUBSET"], os.path.basename(src)))
        hdus = [fits.PrimaryHDU(sub, hdr)]
        if "BEAMS" in h:
            hdus.append(h["BEAMS"].copy())
        fits.HDUList(hdus).writeto(os.path.join(out_dir, dst), overwrite=True)
        print(dst, sub.shape)
    for src, dst, step in CROPPED:
        h = fits.open(os.path.join(shared, src))
        hdr = h[0].header.copy()
        data = h[0].data  # (STOKES, FREQ, y, x)
        assert hdr["CTYPE3"].startswith("FREQ") and hdr["CTYPE4"] == "STOKES"
        keep = [k for k in range(data.shape[1]) if k % step != 0]
        ny, nx = data.shape[-2:]
        x0, y0 = (nx - CROP) // 2, (ny - CROP) // 2
        peaks = [float(np.nanmax(np.abs(data[:, k]))) for k in keep]
        sub = data[:, keep, y0:y0 + CROP, x0:x0 + CROP]
        hdr["CRPIX1"] -= x0
        hdr["CRPIX2"] -= y0
        hdr["PCSUBSET"] = ",".join(str(k) for k in keep)
        hdr["PCCROP"] = "%d,%d" % (x0, y0)
        hdr["PCPEAK"] = ",".join(repr(p) for p in peaks)
        hdr.add_history("pclean testdata: channels %s of %s, pixels [%d:%d, %d:%d]"
                        % (hdr["PCSUBSET"], os.path.basename(src), x0, x0 + CROP, y0, y0 + CROP))
        fits.PrimaryHDU(sub, hdr).writeto(os.path.join(out_dir, dst), overwrite=True)
        print(dst, sub.shape)
    for src, dst in WHOLE:
        shutil.copyfile(os.path.join(shared, src), os.path.join(out_dir, dst))
        print(dst)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")

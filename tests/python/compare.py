"""Loading pclean products and tclean references in one layout, and the acceptance figures.

Arrays are numpy order (chan, stokes, y, x); beams are (bmaj_arcsec, bmin_arcsec, bpa_deg).
The figures follow ../shared/tools/compare_products.py: max |pclean - ref| over the inner fraction of
the image, relative to the peak |ref| of that plane.
"""
import numpy as np
from astropy.io import fits

ARCSEC = 206264.80624709636


def load_fits(path):
    """Return (data[chan, stokes, y, x], header, kept original channel numbers or None)."""
    h = fits.open(path)
    hdr = h[0].header
    d = h[0].data.astype(np.float64)
    ctypes = [hdr.get("CTYPE%d" % (i + 1), "") for i in range(hdr["NAXIS"])]
    fa = hdr["NAXIS"] - 1 - [i for i, c in enumerate(ctypes) if c.startswith("FREQ")][0]
    sa = hdr["NAXIS"] - 1 - [i for i, c in enumerate(ctypes) if c.startswith("STOKES")][0]
    d = np.moveaxis(d, [fa, sa], [0, 1])
    keep = None
    if "PCSUBSET" in hdr:
        keep = [int(x) for x in hdr["PCSUBSET"].split(",")]
    return d, hdr, keep


def load_casa(path):
    """Return (data[chan, stokes, y, x], python-casacore image)."""
    from casacore.images import image
    im = image(str(path))
    return np.asarray(im.getdata(), dtype=np.float64), im


def plane_errors(ours, ref, inner=0.6, channels=None):
    """Per-plane max|diff|/peak over the inner region. `channels` maps ref plane i -> our channel."""
    ny, nx = ref.shape[-2:]
    y0, y1 = int(ny * (1 - inner) / 2), int(ny * (1 + inner) / 2)
    x0, x1 = int(nx * (1 - inner) / 2), int(nx * (1 + inner) / 2)
    errs = []
    for i in range(ref.shape[0]):
        c = channels[i] if channels is not None else i
        for s in range(ref.shape[1]):
            r = ref[i, s]
            peak = np.nanmax(np.abs(r))
            diff = np.abs(ours[c, s, y0:y1, x0:x1] - r[y0:y1, x0:x1])
            errs.append((float(np.nanmax(diff) / peak), c, s))
    return errs


def casa_beams(im):
    """Per-plane beams from a python-casacore image: list indexed chan + nchan*stokes."""
    info = im.imageinfo()
    conv = {"arcsec": 1.0, "arcmin": 60.0, "deg": 3600.0, "rad": ARCSEC}

    def one(b):
        return (b["major"]["value"] * conv[b["major"]["unit"]], b["minor"]["value"] * conv[b["minor"]["unit"]],
                b["positionangle"]["value"] * conv[b["positionangle"]["unit"]] / 3600.0)
    if "perplanebeams" in info:
        pb = info["perplanebeams"]
        return [one(pb["*%d" % i]) for i in range(pb["nChannels"] * pb["nStokes"])]
    return [one(info["restoringbeam"])]


def beam_errors(ours, ref):
    """(worst axis relative error, worst PA error in degrees) over matching planes."""
    wa = wp = 0.0
    for (m1, n1, p1), (m2, n2, p2) in zip(ours, ref):
        wa = max(wa, abs(m1 / m2 - 1), abs(n1 / n2 - 1))
        wp = max(wp, abs(((p1 - p2) + 90) % 180 - 90))
    return wa, wp

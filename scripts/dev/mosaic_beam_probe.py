"""What beam does tclean's mosaic gridder apply? (issue 14: the 12 m + 7 m residual gap.)

For ONE pointing at the image centre, tclean's mosaic products should be its standard-gridder
products times the baseline beam B1: psf_mosaic = psf_standard * B1 / B1(0), and, for
normtype='flatsky', residual_mosaic * weight = residual_standard * B1. This script reads the two
runs (FITS exports, same imsize/cell/phasecenter/weighting; the mosaic with niter 0), infers B1
from the PSF and from the residual where the standard images are large, and compares it with
CASA's blocked Airy PB (`PBMath1DAiry`: VP(r) = (L^2 Airy(r; D) - Airy(r; D L)) / (L^2 - 1),
L = D / 0.75 m; PB = VP^2) by radius and by position angle. Findings: docs/decisions.md (s10-mos).

    python scripts/dev/mosaic_beam_probe.py MOSAIC_PREFIX STANDARD_PREFIX DISH_M FREQ_HZ CELL_ARCSEC

MOSAIC_PREFIX.{psf,residual,weight,pb}.fits and STANDARD_PREFIX.{psf,residual}.fits
(casatasks.exportfits). numpy, scipy, astropy.
"""
import sys

import numpy as np
from astropy.io import fits
from scipy.special import j1


def casa_vp(r, dish, lam, block=0.75):
    big = dish / block
    x = np.maximum(np.pi * r * dish / lam, 1e-12)
    return (big * big * 2 * j1(x) / x - 2 * j1(x * big) / (x * big)) / (big * big - 1)


def plane(path):
    return np.asarray(fits.getdata(path), dtype=float).squeeze()


def main(mos, std, dish, freq, cell_arcsec):
    tp, tr, w, pb = (plane("%s.%s.fits" % (mos, e)) for e in ("psf", "residual", "weight", "pb"))
    sp, sr = plane(std + ".psf.fits"), plane(std + ".residual.fits")
    n = tp.shape[0]
    y, x = np.mgrid[:n, :n] - n // 2
    cell = np.radians(cell_arcsec / 3600)
    r = np.hypot(x, y) * cell
    exact = casa_vp(r, dish, 299792458.0 / freq) ** 2
    from_psf = np.where(np.abs(sp) > 0.08, tp / sp, np.nan)
    from_res = np.where(np.abs(sr) > 0.08 * np.abs(sr).max(), tr * w / sr, np.nan)
    both = np.isfinite(from_psf) & np.isfinite(from_res) & (pb > 0.3)
    print("pixels %d: median |B1(psf) - B1(residual)| %.4f, median |B1(psf) - PB| %.4f"
          % (both.sum(), np.median(np.abs(from_psf - from_res)[both]),
             np.median(np.abs(from_psf - exact)[both])))
    b1 = 0.5 * (from_psf + from_res) - exact
    ang = np.degrees(np.arctan2(y, x)) % 360
    rad = r * 206264.806
    edges = np.linspace(0, rad[pb > 0.3].max(), 6)
    print("B1 - PB by radius (rows) and position angle 0, 30, ..., 330 deg (columns):")
    for r0, r1 in zip(edges[:-1], edges[1:]):
        row = []
        for a in range(0, 360, 30):
            m = both & (rad >= r0) & (rad < r1) & (np.abs((ang - a + 180) % 360 - 180) < 15)
            row.append("%+.3f" % np.median(b1[m]) if m.sum() > 3 else "   -  ")
        print("%5.1f-%5.1f\" %s" % (r0, r1, " ".join(row)))


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))

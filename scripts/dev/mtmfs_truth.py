"""Flux and spectral index of each simulated source of vla_wideband against the truth
(vla_wideband.sky.json) for an mtmfs run: pclean's CASA images, or tclean's reference FITS
(`PREFIX.image.tt0.fits.gz` etc.). The measure is tests/python/wideband_truth.py's (a joint
restoring-beam fit at the true positions; the expected Taylor coefficients are the band's
least-squares fit of the true spectrum through the primary beam).

Usage: mtmfs_truth.py PREFIX SKY_JSON MS [NTERMS] [PB_PREFIX]
  PB_PREFIX: where .pb.tt0 and .sumwt.tt0/tt1 are, if not beside PREFIX (tclean's clean references
  keep them in the dirty run's). Prints one line per source; exit 1 on a miss of 3% in flux or
  0.1 in alpha."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "python"))
import wideband_truth as wt  # noqa: E402


def load(prefix, ext):
    """(plane, beam or None, cell in arcsec) from a CASA image or a gzipped FITS reference."""
    fits_path = prefix + "." + ext + ".fits.gz"
    if os.path.exists(fits_path):
        from astropy.io import fits
        h = fits.open(fits_path)[0]
        beam = (h.header["BMAJ"] * 3600, h.header["BMIN"] * 3600, h.header["BPA"]) if "BMAJ" in h.header else None
        return h.data[0, 0].astype(float), beam, abs(h.header["CDELT2"]) * 3600
    from casacore.images import image
    im = image(prefix + "." + ext)
    b = im.imageinfo().get("restoringbeam")
    beam = (b["major"]["value"], b["minor"]["value"], b["positionangle"]["value"]) if b else None
    cell = abs(im.coordinates().get_increment()[2][1]) * wt.ARCSEC
    return np.asarray(im.getdata()[0, 0], dtype=float), beam, cell


def main():
    pre, skyf, ms = sys.argv[1:4]
    nterms = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    pbpre = sys.argv[5] if len(sys.argv) > 5 else pre
    i0 = load(pre, "image.tt0")
    i1 = load(pre, "image.tt1")[0]
    pb = load(pbpre, "pb.tt0")[0]
    s0 = load(pbpre, "sumwt.tt0")[0].ravel()[0]
    s1 = load(pbpre, "sumwt.tt1")[0].ravel()[0]
    got = wt.measure(i0[0], i1, pb, i0[1], i0[2], wt.load_sky(skyf), wt.ms_channel_freqs(ms), 1.5e9,
                     s1 / s0, nterms)
    bad = 0
    print("src  flux_true  flux   err%  alpha_true  alpha  d_alpha   pb")
    for g in got:
        e, da = 100 * (g["flux"] / g["flux_true"] - 1), g["alpha"] - g["alpha_true"]
        ok = abs(e) <= 3 and abs(da) <= 0.1
        bad += not ok
        print("%-4s %8.4f %8.4f %6.2f %9.3f %8.3f %7.3f %6.3f%s" % (
            ",".join(map(str, g["ids"])), g["flux_true"], g["flux"], e, g["alpha_true"], g["alpha"], da,
            g["pb"], "" if ok else "  MISS"))
    print("%d/%d sources within 3%% flux and 0.1 alpha" % (len(got) - bad, len(got)))
    sys.exit(1 if bad else 0)


main()

"""Per-channel comparison of a pclean clean cube with tclean's NGC5921 clean reference:
restored peak, model flux, residual rms, mask Jaccard (the deconvolution issue's figures).
Usage: python3 scripts/compare_clean.py PREFIX REFERENCE_DIR"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
from compare import assert_finite_where_reference_is, load_casa, load_fits  # noqa: E402


def reference(refdir, product):
    """tclean_clean.<product> from a shared reference dir, or testdata's (sub)sets."""
    d = Path(refdir)
    for name in ("tclean_clean.%s.fits.gz", "ngc5921_tclean_clean.%s.sub.fits.gz", "ngc5921_tclean_clean.%s.fits.gz"):
        if (d / (name % product)).exists():
            data, _, keep = load_fits(str(d / (name % product)))
            return data, keep
    raise FileNotFoundError("no tclean_clean.%s in %s" % (product, d))


def figures(prefix, refdir):
    ref, keeps = {}, {}
    for p in ("image", "model", "residual", "mask"):
        ref[p], keeps[p] = reference(refdir, p)
    ours = {p: load_casa(str(prefix) + "." + p)[0] for p in ("image", "model", "residual", "mask")}
    def plane(p, c):
        keep = keeps[p]
        if keep is None:
            return ref[p][c, 0]
        return ref[p][keep.index(c), 0] if c in keep else None

    rows = []
    for c in range(ours["image"].shape[0]):
        if any(plane(p, c) is None for p in ref):
            continue
        # A non-finite pixel of ours is an error, not a pixel for the nan-aware figures to skip;
        # only tclean's own blanked pixels are left out of them.
        for p in ref:
            assert_finite_where_reference_is(ours[p][c, 0], plane(p, c), "our %s, channel %d" % (p, c))
        r_img, o_img = plane("image", c), ours["image"][c, 0]
        peak_r, peak_o = np.nanmax(r_img), np.nanmax(o_img)
        flux_r, flux_o = np.nansum(plane("model", c)), np.nansum(ours["model"][c, 0])
        rms_r, rms_o = np.nanstd(plane("residual", c)), np.nanstd(ours["residual"][c, 0])
        mr, mo = plane("mask", c) > 0.5, ours["mask"][c, 0] > 0.5
        union = (mr | mo).sum()
        jac = (mr & mo).sum() / union if union else 1.0
        rows.append(dict(chan=c, peak=(peak_o / peak_r - 1), flux_ref=flux_r, flux=(flux_o / flux_r - 1) if flux_r else 0.0,
                         rms=(rms_o / rms_r - 1), jaccard=jac, mask_ref=int(mr.sum()), mask=int(mo.sum())))
    return rows


if __name__ == "__main__":
    rows = figures(sys.argv[1], sys.argv[2])
    for r in rows:
        print("ch %2d peak %+6.3f flux(ref %.3f) %+6.3f rms %+6.3f jaccard %.3f mask %5d/%5d" % (
            r["chan"], r["peak"], r["flux_ref"], r["flux"], r["rms"], r["jaccard"], r["mask"], r["mask_ref"]))
    big = [r for r in rows if r["flux_ref"] > 0.1]
    nonempty = [r for r in rows if r["mask_ref"] > 0]
    print("worst |peak| %.3f, worst |flux| (ref>0.1Jy) %.3f, worst |rms| %.3f, min jaccard %.3f" % (
        max(abs(r["peak"]) for r in rows), max(abs(r["flux"]) for r in big) if big else 0,
        max(abs(r["rms"]) for r in rows), min(r["jaccard"] for r in nonempty) if nonempty else 1))

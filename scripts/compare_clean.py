"""Per-channel comparison of a pclean clean cube with tclean's NGC5921 clean reference:
restored peak, model flux, residual rms, mask Jaccard (the deconvolution issue's figures).
Usage: python3 scripts/compare_clean.py PREFIX REFERENCE_DIR"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
from compare import load_casa, load_fits  # noqa: E402


def figures(prefix, refdir):
    ref = {p: load_fits(str(Path(refdir) / ("tclean_clean.%s.fits.gz" % p)))[0] for p in ("image", "model", "residual", "mask")}
    ours = {p: load_casa(str(prefix) + "." + p)[0] for p in ("image", "model", "residual", "mask")}
    rows = []
    for c in range(ref["image"].shape[0]):
        r_img, o_img = ref["image"][c, 0], ours["image"][c, 0]
        peak_r, peak_o = np.nanmax(r_img), np.nanmax(o_img)
        flux_r, flux_o = np.nansum(ref["model"][c, 0]), np.nansum(ours["model"][c, 0])
        rms_r, rms_o = np.nanstd(ref["residual"][c, 0]), np.nanstd(ours["residual"][c, 0])
        mr, mo = ref["mask"][c, 0] > 0.5, ours["mask"][c, 0] > 0.5
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

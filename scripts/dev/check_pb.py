#!/usr/bin/env python3
"""Compare pclean's primary-beam model (crates/pclean-grid/src/pb.rs) with tclean's `.pb` images.

The model is re-implemented here in numpy line by line from pb.rs (CASA's PBMath1DAiry table +
PBMath1D::apply lookup); the Rust code is pinned to the same reference values by the
`pb_matches_tclean_reference_pixels` test in crates/pclean-grid/tests/weighting_pb.rs, whose
golden values this script prints with --golden.

Reports max |pb - tclean| over pixels where tclean's pb > 0.2 (and over all unmasked pixels).
"""
import argparse, sys
import numpy as np
from scipy.special import j1
from astropy.io import fits

DATA = "/work/shared/data"
N = 10000


def vp_table(d, b, maxrad):
    dimless_max = maxrad * 7.016 / (1.566 * 60.0) * d / 24.5
    iir = (N - 1) / dimless_max
    x = np.arange(1, N) / iir
    vp = np.empty(N)
    vp[0] = 1.0
    if b == 0.0:
        vp[1:] = 2.0 * j1(x) / x
    else:
        ar = (d / b) ** 2
        lr = d / b
        vp[1:] = (ar * 2.0 * j1(x) / x - 2.0 * j1(x * lr) / (x * lr)) / (ar - 1.0)
    return vp.astype(np.float32)


def pb_image(d, b, maxrad, nx, ny, cdelt1_deg, cdelt2_deg, freq):
    vp = vp_table(d, b, maxrad)
    iir = (N - 1) / maxrad
    factor = 60.0 * freq / 1e9
    rmax2 = (maxrad / factor) ** 2
    rx2 = ((abs(cdelt1_deg) * (np.arange(nx) - nx // 2)) ** 2).astype(np.float32)
    ry2 = ((abs(cdelt2_deg) * (np.arange(ny) - ny // 2)) ** 2).astype(np.float32)
    r2 = (ry2[:, None] + rx2[None, :]).astype(np.float32)
    r = (np.sqrt(r2).astype(np.float64) * factor).astype(np.float32)
    idx = (r.astype(np.float64) * iir).astype(np.int64)
    ok = (r2.astype(np.float64) <= rmax2) & (idx < N)
    out = np.zeros((ny, nx), np.float32)
    v = vp[np.clip(idx, 0, N - 1)]
    out[ok] = (v * v)[ok]
    return out


PBLIMIT = {"VLA": -0.01, "ALMA": 0.2}  # the reference runs' pblimit
MODELS = {"VLA": (25.0, 2.36, 0.8564 * 60), "ALMA": (10.7, 0.75, 1.784 * 60)}


def check(path, golden):
    f = fits.open(path)
    h = f[0].header
    nx, ny = h["NAXIS1"], h["NAXIS2"]
    planes = f[0].data.reshape(-1, ny, nx)
    d, b, maxrad = MODELS[h["TELESCOP"].strip()]
    worst02, worst_all = 0.0, 0.0
    for k, ref in enumerate(planes):
        freq = h["CRVAL3"] + (k + 1 - h["CRPIX3"]) * h["CDELT3"]
        pb = pb_image(d, b, maxrad, nx, ny, h["CDELT1"], h["CDELT2"], freq)
        valid = np.isfinite(ref)
        sel = valid & (ref > 0.2)
        worst02 = max(worst02, float(np.abs(pb - ref)[sel].max()))
        worst_all = max(worst_all, float(np.abs(pb - ref)[valid].max()))
        # tclean masks (NaN in FITS) exactly the pixels with pb <= |pblimit|.
        pblimit = abs(PBLIMIT[h["TELESCOP"].strip()])
        assert np.array_equal(~valid, pb <= pblimit), "pblimit mask differs"
        if golden and k in (0, len(planes) - 1):
            for (y, x) in [(ny // 2, nx // 2), (ny // 2 + 7, nx // 2 - 3), (ny // 2 - 20, nx // 2 + 31),
                           (ny // 2 + 45, nx // 2 + 40), (ny // 2 - 60, nx // 2 - 10)]:
                print(f"    golden {h['TELESCOP'].strip()} chan {k} freq {freq!r} (y={y}, x={x}) = {ref[y, x]!r}")
    print(f"{path.split('/')[-3]}: {len(planes)} planes, max |pb - tclean| where pb > 0.2: {worst02:.3e}; "
          f"over all unmasked pixels: {worst_all:.3e}; pblimit mask identical")
    return worst02


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golden", action="store_true", help="print reference pixel values for the Rust test")
    a = ap.parse_args()
    w1 = check(f"{DATA}/ngc5921/reference/tclean_dirty.pb.fits.gz", a.golden)
    w2 = check(f"{DATA}/alma_sim/reference/tclean_mfs_dirty.pb.fits.gz", a.golden)
    ok = max(w1, w2) < 1e-3
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Loading pclean products and tclean references in one layout, and the acceptance figures.

Arrays are numpy order (chan, stokes, y, x); beams are (bmaj_arcsec, bmin_arcsec, bpa_deg).
The figures follow ../shared/tools/compare_products.py: max |pclean - ref| over the inner fraction of
the image, relative to the peak |ref| of that plane.

A non-finite pixel in our product is a failure, never a pixel to skip (np.nanmax would drop it):
the figures become inf. Only the reference's own blanked pixels (tclean writes NaN beyond pblimit)
are left out, explicitly.
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


def max_abs_diff(ours, ref):
    """max |ours - ref| over the pixels where the reference is finite (tclean blanks pixels beyond
    pblimit with NaN: those are left out explicitly). A non-finite pixel of ours where the reference
    is finite gives inf."""
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    valid = np.isfinite(ref)
    if not np.isfinite(ours[valid]).all():
        return np.inf
    return float(np.max(np.abs(ours[valid] - ref[valid]), initial=0.0))


def assert_finite_where_reference_is(ours, ref, what="our product"):
    """Our pixels are finite wherever the reference's are (figures such as a peak or an rms over our
    plane must not drop a NaN)."""
    bad = np.isfinite(ref) & ~np.isfinite(ours)
    assert not bad.any(), "%s: %d non-finite pixel(s) where the reference is finite" % (what, int(bad.sum()))


def same_product_error(ours, other):
    """max |ours - other| / max |other| for two pclean products that should agree (distributed vs
    local, resumed vs uninterrupted): their non-finite pixels (pblimit blanking) must be the same
    pixels with the same values, else inf."""
    a, b = np.asarray(ours, dtype=np.float64), np.asarray(other, dtype=np.float64)
    if a.shape != b.shape:
        return np.inf
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fa, fb) or not np.array_equal(a[~fa], b[~fb], equal_nan=True):
        return np.inf
    scale = max(float(np.max(np.abs(b[fb]), initial=0.0)), 1e-30)
    return float(np.max(np.abs(a[fa] - b[fb]), initial=0.0)) / scale


def assert_same_products(a, b, exts, loader=load_casa, suffix=""):
    """Products `<a>.<ext><suffix>` equal `<b>.<ext><suffix>` for each ext: bitwise in practice
    (same blocks, deterministic summation), within the issue's 1e-6 of the peak where scheduling
    changes the summation order; the same non-finite pixels in both."""
    for ext in exts:
        x = loader(f"{a}.{ext}{suffix}")[0]
        y = loader(f"{b}.{ext}{suffix}")[0]
        assert x.shape == y.shape, ext
        err = same_product_error(x, y)
        assert err <= 1e-6, (ext, err)


def product_set(name):
    """The extensions of every product `<name>.<ext>` on disk (CASA images: directories; side
    files such as the checkpoint, set-aside copies and the seed's sub-cubes and partial images
    `<name>.subcube.<i>.*` / `<name>.part.<i>.*` are not products of `name`)."""
    import glob
    import os
    base = os.path.basename(str(name)) + "."
    exts = (os.path.basename(p)[len(base):] for p in glob.glob(f"{glob.escape(str(name))}.*")
            if os.path.isdir(p) and not p.endswith(".pclean-reuse"))
    return sorted(e for e in exts if not e.startswith(("subcube.", "part.")))


def assert_same_product_set(a, b):
    """`a` has exactly `b`'s products and each equals `b`'s (assert_same_products); returns them."""
    exts = product_set(b)
    assert exts and product_set(a) == exts, (product_set(a), exts)
    errs = {e: same_product_error(load_casa(f"{a}.{e}")[0], load_casa(f"{b}.{e}")[0]) for e in exts}
    print("products of %s against %s:" % (a, b), ", ".join("%s %.1e" % kv for kv in errs.items()))
    bad = {e: v for e, v in errs.items() if not v <= 1e-6}
    assert not bad, bad
    return exts


def plane_errors(ours, ref, inner=0.6, channels=None):
    """Per-plane max|diff|/peak over the inner region. `channels` maps ref plane i -> our channel.
    A non-finite pixel of ours where the reference is finite makes that plane's figure inf."""
    ny, nx = ref.shape[-2:]
    y0, y1 = int(ny * (1 - inner) / 2), int(ny * (1 + inner) / 2)
    x0, x1 = int(nx * (1 - inner) / 2), int(nx * (1 + inner) / 2)
    errs = []
    for i in range(ref.shape[0]):
        c = channels[i] if channels is not None else i
        for s in range(ref.shape[1]):
            r = ref[i, s]
            peak = np.nanmax(np.abs(r))  # the reference's blanked pixels left out
            diff = max_abs_diff(ours[c, s, y0:y1, x0:x1], r[y0:y1, x0:x1])
            errs.append((float(diff / peak), c, s))
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

"""What tclean 6.7 does with `usepointing=True` when a field's POINTING direction moves between
integrations (issue 14 item 2; s17-mvc, docs/decisions.md (s17-mvc)). On the bundled ALMA mosaic
subset (testdata/alma_mosaic_small.ms.tar.gz unpacked to OUTDIR/mosaic_small.ms: 7 fields, each
observed over the whole 29 minutes, 230 GHz, 12 m: lambda/D 22.4"), every antenna's POINTING
direction is moved north, linearly in time from 0" at the first POINTING time to 12" at the last
(`moving`); for comparison constant offsets of 0", 6" and 12" (`static0/6/12`), and `perfield`:
each field's pointing constant at the mean offset of its own rows (one beam per field at the
mean of its integrations, what pclean's `imaging::mosaic_pointing` would centre). tclean runs with
make_mosaic_testdata.py's COMMON (256^2 x 0.5"), natural, flatsky; the script prints
max |moving - other| over static6's pb > 0.3 in units of moving's peak there.

    /work/casa-venv/bin/python scripts/dev/measure_moving_pointing.py OUTDIR   # casatasks 6.7
"""
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_mosaic_testdata import COMMON  # noqa: E402

ARCSEC = np.pi / 180 / 3600
NORTH = 12.0


def moved_copy(src, dst, shift_of_time):
    """Copy MS src to dst with every POINTING direction moved north by shift_of_time(TIME) arcsec."""
    import casatools
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    tb = casatools.table()
    tb.open(os.path.join(dst, "POINTING"), nomodify=False)
    d, tm = tb.getcol("DIRECTION"), tb.getcol("TIME")  # (2, npoly, nrow)
    d[1, 0, :] += shift_of_time(tm) * ARCSEC
    tb.putcol("DIRECTION", d)
    tb.close()


def main(outdir):
    import casatools
    from casatasks import tclean
    src = os.path.join(outdir, "mosaic_small.ms")
    tb = casatools.table()
    tb.open(os.path.join(src, "POINTING"))
    tp = tb.getcol("TIME")
    tb.close()
    tb.open(src)
    mt, fid = tb.getcol("TIME"), tb.getcol("FIELD_ID")
    tb.close()
    t0, t1 = tp.min(), tp.max()
    moving = lambda t: NORTH * (t - t0) / (t1 - t0)  # noqa: E731
    # perfield: the field observed at (nearest to) each POINTING time, at its rows' mean offset.
    mean = {f: moving(mt[fid == f]).mean() for f in np.unique(fid)}
    times = np.unique(mt)
    field_at = np.array([fid[mt == t][0] for t in times])
    perfield = lambda t: np.array([mean[f] for f in field_at[np.abs(t[:, None] - times).argmin(1)]])  # noqa: E731
    cases = {"moving": moving, "perfield": perfield,
             "static0": lambda t: 0.0 * t, "static6": lambda t: 6.0 + 0.0 * t,
             "static12": lambda t: 12.0 + 0.0 * t}
    for case, fn in cases.items():
        ms = os.path.join(outdir, case + ".ms")
        moved_copy(src, ms, fn)
        img = os.path.join(outdir, "tc_" + case)
        for ext in ("psf", "residual", "pb", "weight", "sumwt", "model", "image"):
            shutil.rmtree(img + "." + ext, ignore_errors=True)
        tclean(vis=ms, imagename=img, **dict(COMMON, weighting="natural", normtype="flatsky",
                                             usepointing=True))
    ia = casatools.image()

    def get(case, ext):
        ia.open(os.path.join(outdir, "tc_%s.%s" % (case, ext)))
        x = ia.getchunk()[:, :, 0, 0].astype(np.float64)
        ia.close()
        return x
    reg = get("static6", "pb") > 0.3
    for ext in ("weight", "pb", "psf", "residual"):
        m = get("moving", ext)
        pk = np.abs(m[reg]).max()
        errs = {c: np.abs(m - get(c, ext))[reg].max() / pk for c in cases if c != "moving"}
        print(ext, " ".join("%s %.3e" % kv for kv in errs.items()))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])

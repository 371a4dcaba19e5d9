"""tclean references for `usepointing=True` with `gridder='mosaic'` (issue 14): the bundled ALMA
mosaic subset (testdata/alma_mosaic_small.ms.tar.gz, unpacked to OUTDIR/mosaic_small.ms) with the
POINTING table's DIRECTION offset from the FIELD centres, as OFFSETS says (python-casacore edits a
copy; tests/python/test_mosaic.py makes the same copies):
- `pt_uniform`: every antenna's direction moved by 4" east (on the sky) and 6" north;
- `pt_first_antenna`: only the even-numbered antennas moved, by 8" north (tclean follows the first
  row's ANTENNA1 of each visibility buffer, antenna 0 here: its beams move by 8").

Run with a Python that has casatools/casatasks 6.7 and python-casacore:
    python scripts/dev/make_usepointing_refs.py refs OUTDIR      # tclean runs (parallel=False)
and with numpy and astropy:
    python scripts/dev/make_usepointing_refs.py bundle OUTDIR REPO/testdata

Stored in testdata/reference/mosaic/: psf, residual, pb and weight of each case cropped to the inner
160^2 (header PCCROP), parameters, sumwt and tclean's time in usepointing_refs.json.
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_mosaic_testdata import COMMON, CROP, crop_cases, tclean_cases  # noqa: E402

ARCSEC = 3.141592653589793 / 180 / 3600
# case -> (antenna parity moved or None for all, east arcsec, north arcsec)
OFFSETS = {"pt_uniform": (None, 4.0, 6.0), "pt_first_antenna": (0, 0.0, 8.0)}
CASE = dict(weighting="natural", normtype="flatsky", usepointing=True)
PRODUCTS = ["psf", "residual", "pb", "weight"]


def offset_pointing(src, dst, case):
    """Copy MS src to dst and move its POINTING directions as OFFSETS[case] says."""
    import numpy as np
    from casacore.tables import table
    parity, east, north = OFFSETS[case]
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    t = table(os.path.join(dst, "POINTING"), readonly=False, ack=False)
    d = t.getcol("DIRECTION")  # (row, poly, 2)
    ant = t.getcol("ANTENNA_ID")
    sel = np.ones(len(ant), bool) if parity is None else (ant % 2 == parity)
    d[sel, 0, 1] += north * ARCSEC
    d[sel, 0, 0] += east * ARCSEC / np.cos(d[sel, 0, 1])
    t.putcol("DIRECTION", d)
    t.close()


def refs(outdir):
    meta = {}
    for case in OFFSETS:
        offset_pointing(os.path.join(outdir, "mosaic_small.ms"), os.path.join(outdir, case + ".ms"), case)
        # tclean_cases images one MS: one call per case.
        tclean_cases(outdir, case + ".ms", COMMON, {case: CASE}, lambda n: PRODUCTS,
                     "usepointing_%s.json" % case)
        with open(os.path.join(outdir, "usepointing_%s.json" % case)) as f:
            meta.update(json.load(f))
    meta["offsets_arcsec"] = {k: dict(antenna_parity=v[0], east=v[1], north=v[2])
                              for k, v in OFFSETS.items()}
    with open(os.path.join(outdir, "usepointing_refs.json"), "w") as f:
        json.dump(meta, f, indent=1)


def bundle(outdir, testdata):
    refdir = os.path.join(testdata, "reference", "mosaic")
    crop_cases(outdir, refdir, {case: PRODUCTS for case in OFFSETS}, CROP)
    shutil.copy(os.path.join(outdir, "usepointing_refs.json"), refdir)
    print("wrote", refdir)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "refs":
        refs(sys.argv[2])
    elif cmd == "bundle":
        bundle(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)

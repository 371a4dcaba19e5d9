"""Broken copies of a bundled MeasurementSet (issue 20): each variant is a function that damages a
fresh copy in place and says what a correct pclean does with it.

`expect` is "warning" (products made, with a warning naming the problem, as tclean), "error" (a clear error naming what is wrong: `needles`, all present, case-insensitive,
in the last line) or "flagged" (NaN/Inf/unusable samples are treated as flagged, as CASA does: the
products equal those of a copy where the same rows are flagged instead)."""
import os
import shutil
from dataclasses import dataclass, field

import numpy as np

# Rows damaged by the "flagged" variants: every 7th row (617 of 4320 in wideband_mosaic.ms, both
# fields and spws), so that a mistake shows in every product.
ROW_STEP = 7


def _table(path, **kw):
    from casacore.tables import table
    return table(str(path), readonly=False, ack=False, **kw)


def _rows(t):
    return np.arange(0, t.nrows(), ROW_STEP)


def _put_rows(ms, col, value):
    t = _table(ms)
    v = t.getcol(col)
    v[_rows(t)] = value
    t.putcol(col, v)
    t.close()


def flag_rows(ms):
    """The reference for the "flagged" variants: the same rows flagged."""
    t = _table(ms)
    f = t.getcol("FLAG")
    f[_rows(t)] = True
    t.putcol("FLAG", f)
    t.close()


def _truncate(relpath):
    def damage(ms):
        p = os.path.join(ms, relpath)
        size = os.path.getsize(p)
        with open(p, "r+b") as fh:
            fh.truncate(size // 2)
    return damage


def _remove_col(col):
    def damage(ms):
        t = _table(ms)
        t.removecols([col])
        t.close()
    return damage


def _mistype_antenna2(ms):
    from casacore.tables import makescacoldesc, maketabdesc
    t = _table(ms)
    t.removecols(["ANTENNA2"])
    t.addcols(maketabdesc(makescacoldesc("ANTENNA2", "x")))
    t.close()


def _spw_nchan(ms):
    # SPECTRAL_WINDOW describes 3 channels; DATA has 1 (inconsistent shapes).
    t = _table(os.path.join(ms, "SPECTRAL_WINDOW"))
    for row in range(t.nrows()):
        f0 = t.getcell("CHAN_FREQ", row)[0]
        w = t.getcell("CHAN_WIDTH", row)[0]
        for col, val in (("CHAN_FREQ", f0 + w * np.arange(3)), ("CHAN_WIDTH", np.full(3, w)),
                         ("EFFECTIVE_BW", np.full(3, w)), ("RESOLUTION", np.full(3, w))):
            t.putcell(col, row, val)
    t.putcol("NUM_CHAN", np.full(t.nrows(), 3, dtype=np.int32))
    t.close()


def _pol_ncorr(ms):
    # POLARIZATION describes 4 correlations (XX XY YX YY); DATA has 2.
    t = _table(os.path.join(ms, "POLARIZATION"))
    for row in range(t.nrows()):
        t.putcell("CORR_TYPE", row, np.array([9, 10, 11, 12], dtype=np.int32))
        t.putcell("CORR_PRODUCT", row, np.array([[0, 0, 1, 1], [0, 1, 0, 1]], dtype=np.int32))
    t.putcol("NUM_CORR", np.full(t.nrows(), 4, dtype=np.int32))
    t.close()


def _remove_subtable(name):
    def damage(ms):
        shutil.rmtree(os.path.join(ms, name))
    return damage


def _all_flagged(ms):
    t = _table(ms)
    t.putcol("FLAG", np.ones_like(t.getcol("FLAG")))
    t.close()


@dataclass
class Variant:
    name: str
    what: str
    damage: object
    expect: str
    needles: list = field(default_factory=list)
    args: list = field(default_factory=list)


VARIANTS = [
    Variant("truncated-main-table-dat", "main table.dat cut to half its size", _truncate("table.dat"),
            "error", ["<ms>"]),
    Variant("truncated-data-file", "the DATA column's tile data file (table.f2_TSM1) cut to half", _truncate("table.f2_TSM1"),
            "error", ["<ms>"]),
    Variant("truncated-antenna-table", "ANTENNA/table.dat cut to half", _truncate("ANTENNA/table.dat"),
            "error", ["ANTENNA"]),
    Variant("missing-data-column", "DATA column removed", _remove_col("DATA"), "error", ["DATA"]),
    Variant("missing-antenna1-column", "ANTENNA1 column removed", _remove_col("ANTENNA1"), "error", ["ANTENNA1"]),
    Variant("missing-weight-column", "WEIGHT column removed", _remove_col("WEIGHT"), "error", ["WEIGHT"]),
    Variant("mistyped-antenna2-column", "ANTENNA2 re-made as a string column", _mistype_antenna2, "error",
            ["ANTENNA2"]),
    Variant("spw-nchan-mismatch", "SPECTRAL_WINDOW describes 3 channels, DATA has 1", _spw_nchan, "error",
            ["SPECTRAL_WINDOW"]),
    Variant("pol-ncorr-mismatch", "POLARIZATION describes 4 correlations, DATA has 2", _pol_ncorr, "error",
            ["POLARIZATION"]),
    Variant("missing-spectral-window", "SPECTRAL_WINDOW subtable removed", _remove_subtable("SPECTRAL_WINDOW"),
            "error", ["SPECTRAL_WINDOW"]),
    Variant("missing-antenna", "ANTENNA subtable removed", _remove_subtable("ANTENNA"), "error", ["ANTENNA"]),
    Variant("empty-selection", "field='7' (the MS has fields 0 and 1)", lambda ms: None, "error",
            ["field", "7"], ["--field", "7"]),
    # tclean 6.7 on the same copy also writes every product and warns "PSF is blank" (measured).
    Variant("all-flagged", "every sample flagged", _all_flagged, "warning", ["no unflagged visibilities"]),
    Variant("nan-data", "DATA = NaN in every 7th row", lambda ms: _put_rows(ms, "DATA", np.nan), "flagged"),
    Variant("inf-data", "DATA = +Inf in every 7th row", lambda ms: _put_rows(ms, "DATA", np.inf), "flagged"),
    Variant("nan-uvw", "UVW = NaN in every 7th row", lambda ms: _put_rows(ms, "UVW", np.nan), "flagged"),
    Variant("inf-uvw", "UVW = -Inf in every 7th row", lambda ms: _put_rows(ms, "UVW", -np.inf), "flagged"),
    Variant("nan-weight", "WEIGHT = NaN in every 7th row", lambda ms: _put_rows(ms, "WEIGHT", np.nan), "flagged"),
    Variant("zero-weight", "WEIGHT = 0 in every 7th row", lambda ms: _put_rows(ms, "WEIGHT", 0.0), "flagged"),
    Variant("negative-weight", "WEIGHT = -1 in every 7th row", lambda ms: _put_rows(ms, "WEIGHT", -1.0), "flagged"),
]

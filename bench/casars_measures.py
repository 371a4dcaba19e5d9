#!/usr/bin/env python3
"""Make a measures tree casa-rs's imager accepts from the casadata package's, for the casa-rs peer.

casa-rs (``casars-imager``) wants a complete CASA measures tree (``$CASA_RS_MEASURESPATH``), including
``geodetic/IERSpredict2000`` with the same MJD rows as ``geodetic/IERSpredict``. casadata (PyPI)
ships every table it checks except that one. This script links casadata's tables into OUT and writes
``IERSpredict2000`` as a copy of ``IERSpredict`` with the IAU 2000 celestial-pole offsets (dX, dY and
their errors) set to zero: offsets of a few milliarcseconds, which move an LSRK frequency by far less
than a channel. Run it with a Python that has python-casacore (bench/.venv-bench), naming casadata's
``__data__`` folder when that Python does not have casadata itself, then pass ``--casars-measures OUT``
to bench/cube_bench.py:

    python bench/casars_measures.py OUT [--casadata .../site-packages/casadata/__data__]
"""
import argparse
import os
import shutil
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="folder to make (must not exist)")
    p.add_argument("--casadata", help="casadata's __data__ folder (default: this Python's casadata)")
    args = p.parse_args()
    out = os.path.abspath(args.out)
    from casacore import tables
    import numpy as np
    src = args.casadata
    if src is None:
        try:
            import casadata
        except ImportError:
            sys.exit("no casadata in this Python: give --casadata .../casadata/__data__")
        src = os.path.join(os.path.dirname(casadata.__file__), "__data__")
    if os.path.exists(out):
        sys.exit(f"{out} exists: remove it first or name another folder")
    os.makedirs(os.path.join(out, "geodetic"))
    for name in os.listdir(src):
        if name != "geodetic":
            os.symlink(os.path.join(src, name), os.path.join(out, name))
    for name in os.listdir(os.path.join(src, "geodetic")):
        os.symlink(os.path.join(src, "geodetic", name), os.path.join(out, "geodetic", name))
    pred2000 = os.path.join(out, "geodetic", "IERSpredict2000")
    if os.path.islink(pred2000):
        return print(f"{out}: casadata has IERSpredict2000; linked as it is")
    shutil.copytree(os.path.join(src, "geodetic", "IERSpredict"), pred2000)
    eop2000 = tables.table(os.path.join(src, "geodetic", "IERSeop2000"), ack=False)
    t = tables.table(pred2000, readonly=False, ack=False)
    for col in ("dX", "DdX", "dY", "DdY"):
        if col not in t.colnames():
            t.addcols(tables.makecoldesc(col, eop2000.getcoldesc(col)))
            t.putcol(col, np.zeros(t.nrows()))
    t.close()
    print(f"{out}: casadata's measures, with IERSpredict2000 made from IERSpredict (dX = dY = 0)")


if __name__ == "__main__":
    main()

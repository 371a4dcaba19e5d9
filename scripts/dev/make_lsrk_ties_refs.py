#!/usr/bin/env python3
"""tclean 6.7 references for `testdata/lsrk_ties.ms` (test_spectral_axis.py::
test_lsrk_edge_ties_are_tcleans): per-channel `.sumwt` and the spectral axis's bits of an LSRK
cube whose first integration lies exactly on the cube's first channel.

The MS: `python3 bench/make_synthetic_ms.py --out lsrk_ties.ms --nant 4 --nchan 8` (ALMA, 6
baselines x 120 integrations of 30 s, 8 x 1 MHz TOPO channels from 230 GHz, 2025-06-01, J2000
16h00m -30d), then `tar czf testdata/lsrk_ties.ms.tar.gz lsrk_ties.ms`.

Usage: /work/casa-venv/bin/python scripts/dev/make_lsrk_ties_refs.py MS OUT.json
(CASA 6.7 casatasks, offline; run in a scratch directory: it writes the tclean images there).
"""
import json
import sys

from casatasks import tclean
from casatools import image


def main():
    ms, out = sys.argv[1], sys.argv[2]
    params = dict(imsize=[32, 32], cell="0.2arcsec", specmode="cube", nchan=8, start=0, width=1,
                  outframe="LSRK", stokes="I", datacolumn="data", gridder="standard",
                  weighting="natural", niter=0, pblimit=-0.01)
    tclean(vis=ms, imagename="ties", interactive=False, restart=False, savemodel="none",
           parallel=False, **params)
    ia = image()
    ia.open("ties.sumwt")
    sumwt = [float(x) for x in ia.getchunk().ravel()]
    cs = ia.coordsys()
    ia.close()
    ref = dict(made_by="scripts/dev/make_lsrk_ties_refs.py (CASA 6.7 tclean)", params=params,
               sumwt=sumwt, crval_hex=float(cs.referencevalue()["numeric"][3]).hex(),
               cdelt_hex=float(cs.increment()["numeric"][3]).hex())
    with open(out, "w") as fh:
        json.dump(ref, fh, indent=1)
        fh.write("\n")
    print(ref)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""tclean's `.sumwt` of a one-channel LSRK mosaic cube of the bundled `mosaic_small.ms` (Briggs 0.5,
per-channel and per-field densities: `BriggsCubeWeightor`), for `tests/python/test_mosaic.py`.

Writes `testdata/reference/mosaic/mosaic_cube_sumwt.json`: the case's exact tclean parameters, its
`.sumwt` per channel and tclean's time. tclean grids a cube's per-field Briggs densities at the uvw
rotated to the image centre and looks them up at the data's own uvw, so the sum of weights tells
whether the six off-centre fields' densities are made as tclean's (docs/decisions.md (s16-ch0)).

Usage: /work/casa-venv/bin/python scripts/dev/make_mosaic_cube_sumwt.py OUTDIR
(OUTDIR holding the unpacked `mosaic_small.ms` of testdata/alma_mosaic_small.ms.tar.gz; CASA 6.7
casatasks, offline; tclean's images stay in OUTDIR)
"""

import json
import os
import sys
import time

from casatasks import tclean
from casatools import ctsys, image

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "testdata", "reference", "mosaic",
                   "mosaic_cube_sumwt.json")
CASES = {
    "cube_briggs": dict(imsize=[160, 160], cell="0.5arcsec",
                        phasecenter="J2000 16h00m00.0s -30d00m00.0s", gridder="mosaic",
                        specmode="cube", outframe="LSRK", weighting="briggs", robust=0.5,
                        niter=0, pblimit=0.2, parallel=False),
}


def main():
    outdir = sys.argv[1]
    ms = os.path.join(outdir, "mosaic_small.ms")
    refs = {"casa": ctsys.version_string()}
    ia = image()
    for name, params in CASES.items():
        prefix = os.path.join(outdir, "tclean_" + name)
        t0 = time.time()
        tclean(vis=ms, imagename=prefix, **params)
        seconds = time.time() - t0
        ia.open(prefix + ".sumwt")
        sumwt = [float(x) for x in ia.getchunk().ravel()]
        ia.close()
        refs[name] = dict(params=dict(params, vis="mosaic_small.ms"), seconds=round(seconds, 2),
                          sumwt=sumwt)
    with open(OUT, "w") as fh:
        json.dump(refs, fh, indent=1)
        fh.write("\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()

"""tclean 6.7 references for specmode='mvc' (mtmfs with a cube major cycle, CASA 6.6+) on the
bundled testdata/vla_wideband_small.ms (issue 15). Same layout and commands as
make_mtmfs_refs.py, whose `refs`/`bundle` run here with this file's cases:

    make_mvc_refs.py refs MSDIR OUTDIR      tclean (parallel=False) for every case into OUTDIR
    make_mvc_refs.py bundle OUTDIR REFDIR   the compact references into REFDIR
                                            (testdata/reference/mvc/, index mtmfs.json)

Cases: nterms 2 dirty (Briggs 0.5), nterms 2 cleaned (pb mask), and the dirty run with
weighting='briggsbwtaper' (which tclean's mvc weights as uniform: docs/decisions.md (s10-mvc))."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_mtmfs_refs as mt  # noqa: E402

BASE = dict(mt.BASE, specmode="mvc", nterms=2)
mt.CASES = {
    "mvc2_dirty": dict(BASE, niter=0),
    "mvc2_clean": dict(BASE, niter=300, threshold="0.5mJy", usemask="pb", pbmask=0.2),
    "mvc2_bwtaper": dict(BASE, niter=0, weighting="briggsbwtaper"),
}
mt.STORED = {
    "mvc2_dirty": ["psf.tt0", "psf.tt1", "psf.tt2", "residual.tt0", "residual.tt1", "pb.tt0",
                   "image.tt0", "alpha"],
    "mvc2_clean": ["residual.tt0", "residual.tt1", "image.tt0", "image.tt1", "model.tt0",
                   "alpha"],
    "mvc2_bwtaper": ["psf.tt0", "psf.tt1", "residual.tt0", "residual.tt1"],
}

if __name__ == "__main__":
    {"refs": mt.cmd_refs, "bundle": mt.cmd_bundle}[sys.argv[1]](*sys.argv[2:])

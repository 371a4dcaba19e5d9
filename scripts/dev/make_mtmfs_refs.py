"""tclean 6.7 references for deconvolver='mtmfs' on the bundled testdata/vla_wideband_small.ms
(issue 15; the MS comes from scripts/dev/make_weighting_refs.py, see testdata/README.md).

    make_mtmfs_refs.py refs MSDIR OUTDIR      tclean (parallel=False) for every case into OUTDIR
    make_mtmfs_refs.py bundle OUTDIR REFDIR   the compact references into REFDIR
                                              (testdata/reference/mtmfs/)

`refs` needs casatools/casatasks 6.7 (/work/casa-venv/bin/python); `bundle` python-casacore, numpy
and astropy. The committed references are the inner 60% of each image (header PCCROP: the crop's
offset) as float32 FITS, and mtmfs.json: each case's exact tclean parameters, the CASA version,
tclean's .sumwt.ttN and the restoring beam."""
import json
import os
import sys

from small_refs import beam_arcsec_deg, first_value, run_tclean_cases, write_inner_fits

MS_NAME = "vla_wideband_small.ms"
# casatools.version_string() of the CASA that `refs` ran (bundle runs in another python).
CASA_VERSION = "6.7.0-31"
CROP_FRACTION = 0.6
BASE = dict(imsize=[128, 128], cell="7.5arcsec", gridder="standard", specmode="mfs", stokes="I",
            deconvolver="mtmfs", reffreq="1.5GHz", weighting="briggs", robust=0.5, pblimit=0.1,
            parallel=False)
CASES = {
    "mtmfs2_dirty": dict(BASE, nterms=2, niter=0),
    "mtmfs3_clean": dict(BASE, nterms=3, scales=[0, 3], niter=300, threshold="0.5mJy",
                         usemask="pb", pbmask=0.2),
}
STORED = {
    "mtmfs2_dirty": ["psf.tt0", "psf.tt1", "psf.tt2", "residual.tt0", "residual.tt1",
                     "image.tt0", "image.tt1", "alpha"],
    "mtmfs3_clean": ["image.tt0", "image.tt1", "image.tt2", "alpha", "psf.tt3", "psf.tt4"],
}


def cmd_refs(msdir, outdir):
    run_tclean_cases(CASES, os.path.join(msdir, MS_NAME), outdir)


def cmd_bundle(outdir, refdir):
    os.makedirs(refdir, exist_ok=True)
    info = {"ms": MS_NAME, "casa": CASA_VERSION, "crop_fraction": CROP_FRACTION,
            "cases": {}}
    for name, p in CASES.items():
        prod = lambda ext: os.path.join(outdir, "%s.%s" % (name, ext))
        case = {"params": {k: v for k, v in p.items()}, "stored": STORED[name], "sumwt": []}
        nt = p["nterms"]
        for t in range(2 * nt - 1):
            case["sumwt"].append(first_value(prod("sumwt.tt%d" % t)))
        case["beam_arcsec_deg"] = beam_arcsec_deg(prod("image.tt0"))
        for ext in STORED[name]:
            write_inner_fits(prod(ext), os.path.join(refdir, "%s.%s.fits.gz" % (name, ext)),
                             CROP_FRACTION)
        info["cases"][name] = case
    with open(os.path.join(refdir, "mtmfs.json"), "w") as f:
        json.dump(info, f, indent=1)


if __name__ == "__main__":
    {"refs": cmd_refs, "bundle": cmd_bundle}[sys.argv[1]](*sys.argv[2:])

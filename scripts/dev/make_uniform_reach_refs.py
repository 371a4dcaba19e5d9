"""tclean 6.7 references for `weighting='uniform'` on the bundled testdata/vla_wideband_small.ms,
where tclean's standard gridder drops the samples whose footprint leaves its padded grid after
the imaging weights are computed (tests/python/test_uniform_reach.py; testdata/README.md).

    make_uniform_reach_refs.py refs MSDIR OUTDIR      tclean (parallel=False) for each case
    make_uniform_reach_refs.py bundle OUTDIR REFDIR   the compact references into REFDIR
                                                      (testdata/reference/uniform_reach/)

`refs` needs casatools/casatasks 6.7 (/work/casa-venv/bin/python); `bundle` python-casacore, numpy
and astropy. Committed: the inner 60% of each PSF (header PCCROP: the crop's offset)
as float32 FITS, and uniform_reach.json: each case's exact tclean parameters, the CASA version,
tclean's .sumwt (per Taylor term) and the PSF beam."""
import json
import os
import sys

from small_refs import beam_arcsec_deg, first_value, run_tclean_cases, write_inner_fits

MS_NAME = "vla_wideband_small.ms"
# casatools.version_string() of the CASA that `refs` ran (bundle runs in another python).
CASA_VERSION = "6.7.0-31"
CROP_FRACTION = 0.6
BASE = dict(imsize=[128, 128], cell="7.5arcsec", gridder="standard", specmode="mfs", stokes="I",
            weighting="uniform", pblimit=0.1, niter=0, parallel=False)
CASES = {
    "uni_hogbom": dict(BASE, deconvolver="hogbom"),
    "uni_mtmfs2": dict(BASE, deconvolver="mtmfs", nterms=2, reffreq="1.5GHz"),
}
STORED = {"uni_hogbom": ["psf"], "uni_mtmfs2": ["psf.tt0", "psf.tt1"]}


def cmd_refs(msdir, outdir):
    run_tclean_cases(CASES, os.path.join(msdir, MS_NAME), outdir)


def cmd_bundle(outdir, refdir):
    os.makedirs(refdir, exist_ok=True)
    info = {"ms": MS_NAME, "casa": CASA_VERSION, "crop_fraction": CROP_FRACTION, "cases": {}}
    for name, p in CASES.items():
        prod = lambda ext: os.path.join(outdir, "%s.%s" % (name, ext))
        case = {"params": dict(p), "stored": STORED[name], "sumwt": []}
        terms = ["sumwt"] if "nterms" not in p else [
            "sumwt.tt%d" % t for t in range(2 * p["nterms"] - 1)]
        for ext in terms:
            case["sumwt"].append(first_value(prod(ext)))
        case["beam_arcsec_deg"] = beam_arcsec_deg(prod("psf" if "nterms" not in p else "psf.tt0"))
        for ext in STORED[name]:
            write_inner_fits(prod(ext), os.path.join(refdir, "%s.%s.fits.gz" % (name, ext)),
                             CROP_FRACTION)
        info["cases"][name] = case
    with open(os.path.join(refdir, "uniform_reach.json"), "w") as f:
        json.dump(info, f, indent=1)


if __name__ == "__main__":
    {"refs": cmd_refs, "bundle": cmd_bundle}[sys.argv[1]](*sys.argv[2:])

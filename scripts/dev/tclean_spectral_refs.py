"""Make the tclean references of the spectral-axis features (cubic interpolation, widths wider than a
data channel in another frame, optical-velocity widths).

Needs casatools/casatasks (PyPI) in the running Python and the unpacked test MSs:
    python scripts/dev/tclean_spectral_refs.py MSDIR OUTDIR [case ...]
Each case writes OUTDIR/<case>.{residual,psf}.fits and OUTDIR/<case>.json (the tclean parameters,
the CASA version, the image's spectral coordinate record and its per-channel frequencies).
Then (any Python with numpy and astropy)
    python scripts/dev/tclean_spectral_refs.py --subset OUTDIR
writes the committed channel subsets testdata/reference/<case>.residual.sub.fits.gz (kept
channels in the header keyword PCSUBSET) and testdata/reference/tclean_spectral.json (each case's
parameters, CASA version and tclean's per-channel frequencies).
"""
import json
import os
import shutil
import sys

ALMA = dict(vis="alma_small.ms", imsize=[512, 512], cell="0.1arcsec", specmode="cube", weighting="briggs",
            robust=0.5, gridder="standard", deconvolver="hogbom", pblimit=0.2, niter=0, outframe="LSRK")
NGC = dict(vis="ngc5921.ms", imsize=[256, 256], cell="15arcsec", specmode="cube", weighting="briggs", robust=0.5,
           gridder="standard", deconvolver="hogbom", pblimit=-0.01, niter=0, outframe="LSRK",
           restfreq="1420.405752MHz", datacolumn="data")
CASES = {
    "alma_lsrk_cubic": dict(ALMA, interpolation="cubic"),
    "alma_lsrk_w2_linear": dict(ALMA, interpolation="linear", width=2),
    "alma_lsrk_w2_nearest": dict(ALMA, interpolation="nearest", width=2),
    "alma_lsrk_w2_cubic": dict(ALMA, interpolation="cubic", width=2),
    "alma_lsrk_f1200k_linear": dict(ALMA, interpolation="linear", width="1.2MHz"),
    "alma_lsrk_optical": dict(ALMA, interpolation="linear", restfreq="230.538GHz", veltype="optical",
                              start="696km/s", width="1.2km/s", nchan=5),
    "ngc_optical_vel": dict(NGC, interpolation="linear", veltype="optical", start="1480km/s", width="10km/s",
                            nchan=10),
    "ngc_optical_chan": dict(NGC, interpolation="linear", veltype="optical", start=5, width=2, nchan=10),
}


# Committed subsets: case -> kept channels of the residual cube.
SUBSETS = {
    "alma_lsrk_cubic": [0, 8, 15],
    "alma_lsrk_w2_linear": [0, 4, 7],
    "alma_lsrk_w2_nearest": [0, 7],
    "alma_lsrk_f1200k_linear": [0, 5],
    "alma_lsrk_optical": [0, 4],
    "ngc_optical_vel": [0, 3, 6, 9],
}


def subset(refdir):
    import numpy as np
    from astropy.io import fits
    out_dir = os.path.join(os.path.dirname(__file__), "..", "..", "testdata", "reference")
    summary = {}
    for name, keep in SUBSETS.items():
        h = fits.open(os.path.join(refdir, name + ".residual.fits"))
        hdr = h[0].header.copy()
        ax = [i for i in range(1, hdr["NAXIS"] + 1) if hdr["CTYPE%d" % i].startswith("FREQ")][0]
        sub = np.take(h[0].data, keep, axis=hdr["NAXIS"] - ax)
        hdr["PCSUBSET"] = ",".join(str(k) for k in keep)
        hdr.add_history("pclean testdata: channel subset %s of tclean %s.residual" % (hdr["PCSUBSET"], name))
        dst = os.path.join(out_dir, "tclean_%s.residual.sub.fits.gz" % name)
        fits.PrimaryHDU(sub, hdr).writeto(dst, overwrite=True)
        info = json.load(open(os.path.join(refdir, name + ".json")))
        summary[name] = {"params": info["params"], "casa": info["casa"], "freqs_hz": info["freqs_hz"],
                         "tabular_axis": "tabular" in info["spectral_record"]}
        print(dst, sub.shape)
    with open(os.path.join(out_dir, "tclean_spectral.json"), "w") as f:
        json.dump(summary, f, indent=1)


def main(msdir, outdir, names):
    from casatasks import tclean, exportfits
    from casatools import image, ctsys
    os.makedirs(outdir, exist_ok=True)
    for name in names or CASES:
        p = dict(CASES[name])
        p["vis"] = os.path.join(msdir, p["vis"])
        stem = os.path.join(outdir, name)
        for suffix in (".residual", ".psf", ".pb", ".sumwt", ".image", ".model", ".mask"):
            shutil.rmtree(stem + suffix, ignore_errors=True)
        tclean(imagename=stem, parallel=False, **p)
        info = {"params": CASES[name], "casa": ctsys.version_string()}
        ia = image()
        ia.open(stem + ".residual")
        cs = ia.coordsys()
        rec = cs.torecord()
        spec = [k for k in rec if k.startswith("spectral")][0]
        n = ia.shape()[3]
        info["spectral_record"] = json.loads(json.dumps(rec[spec], default=lambda x: x.tolist()
                                                         if hasattr(x, "tolist") else str(x)))
        info["freqs_hz"] = [cs.toworld([0, 0, 0, c])["numeric"][3] for c in range(n)]
        ia.close()
        for prod in ("residual", "psf"):
            exportfits(stem + "." + prod, stem + "." + prod + ".fits", overwrite=True)
        with open(stem + ".json", "w") as f:
            json.dump(info, f, indent=1)
        print(name, n, "channels")


if __name__ == "__main__":
    if sys.argv[1] == "--subset":
        subset(sys.argv[2])
    else:
        main(sys.argv[1], sys.argv[2], sys.argv[3:])

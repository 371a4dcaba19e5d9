"""tclean's default rest frequency and spectral axis (no `restfreq` given) on the bundled EVLA
L-band MS (testdata/realobs_evla_lband_pb.tar.gz: spws 0 and 1, one SOURCE row with
REST_FREQUENCY 1.25 GHz for spw 0), as written in testdata/reference/realobs/restfreq.json.

Needs casatools/casatasks (the PyPI wheels, 6.7) in the running Python:
    python scripts/dev/tclean_restfreq_refs.py MSDIR WORKDIR
MSDIR holds the unpacked evla_lband_pb.ms. Variants of its SOURCE table are made in WORKDIR
(copies of the MS): `spw_any` (the row's SPECTRAL_WINDOW_ID set to -1), `no_rows` (the row
removed), `zero` (REST_FREQUENCY 0). Each case is a small tclean run (64 x 64, 60" cells, niter 0,
pblimit -0.01, parallel=False); the JSON keeps its parameters, the variant and the spectral
coordinate of the .psf (`ia.coordsys().torecord()['spectral2']`: frame, crval, cdelt, restfreq),
or tclean's error for a case it refuses.
"""
import json
import os
import shutil
import sys

VARIANTS = {
    "base": None,
    "spw_any": ("SPECTRAL_WINDOW_ID", -1),
    "no_rows": "remove",
    "zero": ("REST_FREQUENCY", [0.0]),
}
COMMON = dict(imsize=64, cell="60arcsec", niter=0, pblimit=-0.01)
# name -> (variant, tclean parameters beyond COMMON)
CASES = {
    "mfs_spw1": ("base", dict(specmode="mfs", spw="1")),
    "mfs_spw0": ("base", dict(specmode="mfs", spw="0")),
    "mfs_spw01": ("base", dict(specmode="mfs", spw="0,1")),
    "cube_spw1": ("base", dict(specmode="cube", spw="1")),
    "cube_spw01": ("base", dict(specmode="cube", spw="0,1")),
    "cube_spw0_vel": ("base", dict(specmode="cube", spw="0", start="-20km/s", nchan=1)),
    "cube_spw1_vel": ("base", dict(specmode="cube", spw="1", start="0km/s", nchan=1)),
    "spw_any_mfs_spw1": ("spw_any", dict(specmode="mfs", spw="1")),
    "spw_any_cube_spw1": ("spw_any", dict(specmode="cube", spw="1")),
    "no_rows_mfs_spw0": ("no_rows", dict(specmode="mfs", spw="0")),
    "no_rows_cube_spw01": ("no_rows", dict(specmode="cube", spw="0,1")),
    "zero_mfs_spw0": ("zero", dict(specmode="mfs", spw="0")),
    "zero_cube_spw0": ("zero", dict(specmode="cube", spw="0")),
}


def variant(msdir, work, name):
    from casatools import table
    path = os.path.join(work, name + ".ms")
    if os.path.exists(path):
        return path
    shutil.copytree(os.path.join(msdir, "evla_lband_pb.ms"), path)
    change = VARIANTS[name]
    tb = table()
    tb.open(path + "/SOURCE", nomodify=False)
    if change == "remove":
        tb.removerows([0])
    elif change is not None:
        tb.putcell(change[0], 0, change[1])
    tb.close()
    return path


def main(msdir, work):
    import casatasks
    from casatasks import tclean
    from casatools import image
    os.makedirs(work, exist_ok=True)
    ia = image()
    out = {"casa": casatasks.version_string(), "ms": "evla_lband_pb.ms", "common": COMMON, "cases": {}}
    for name, (var, params) in CASES.items():
        prefix = os.path.join(work, name)
        for ext in (".psf", ".residual", ".sumwt", ".pb", ".image", ".model"):
            shutil.rmtree(prefix + ext, ignore_errors=True)
        case = {"variant": var, "params": dict(params)}
        try:
            tclean(vis=variant(msdir, work, var), imagename=prefix, parallel=False, **COMMON, **params)
            ia.open(prefix + ".psf")
            s = ia.coordsys().torecord()["spectral2"]
            ia.close()
            case["spectral"] = {"system": s["system"], "crval": float(s["wcs"]["crval"]),
                                "cdelt": float(s["wcs"]["cdelt"]), "restfreq": float(s["restfreq"])}
        except Exception as e:  # tclean refuses the case: keep its message
            case["error"] = str(e).split("\t")[-1]  # the message, without the log line's time
        if "spectral" not in case and "error" not in case:
            case["error"] = "tclean made no image"
        print(name, case)
        out["cases"][name] = case
    ref = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata", "reference",
                       "realobs", "restfreq.json")
    with open(ref, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

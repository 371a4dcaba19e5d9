"""Compare pclean with the tclean references made by tclean_spectral_refs.py.

    python scripts/dev/compare_spectral.py MSDIR REFDIR OUTDIR [case ...]
Runs pclean ($PCLEAN_BIN) with each case's parameters and prints, per product, the per-channel
max |pclean - tclean| over the inner 60% relative to tclean's plane peak, and the largest
difference between the two spectral axes (Hz).
"""
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "python"))
from compare import load_casa, load_fits, plane_errors  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from tclean_spectral_refs import CASES  # noqa: E402

ARGS = {"imsize": lambda v: ["--imsize", str(v[0])], "gridder": lambda v: [], "deconvolver": lambda v: [],
        "vis": lambda v: []}


def pclean_args(p):
    out = []
    for k, v in p.items():
        out += ARGS[k](v) if k in ARGS else ["--" + k, str(v)]
    return out


def main(msdir, refdir, outdir, names):
    exe = os.environ.get("PCLEAN_BIN", "/work/target-spectral/release/pclean")
    os.makedirs(outdir, exist_ok=True)
    for name in names or CASES:
        p = CASES[name]
        out = os.path.join(outdir, name)
        cmd = [exe, "image", "--vis", os.path.join(msdir, p["vis"]), "--imagename", out, "--overwrite",
               *pclean_args(p)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(name, "FAILED", r.stderr.strip().splitlines()[-1:])
            continue
        info = json.load(open(os.path.join(refdir, name + ".json")))
        for prod in ("residual", "psf"):
            ours, im = load_casa(out + "." + prod)
            ref, hdr, _ = load_fits(os.path.join(refdir, name + "." + prod + ".fits"))
            errs = plane_errors(ours, ref)
            print(name, prod, "max %.2e" % max(errs)[0], " ".join("%.1e" % e for e, _, _ in errs))
        got = np.array([im.toworld([c, 0, 0, 0])[0] for c in range(ours.shape[0])])
        want = np.array(info["freqs_hz"])
        exact = np.array([c["freq_hz"] for c in json.load(open(out + ".summary.json"))["channels"]])
        print(name, "axis: header max |d| %.3f Hz, per-channel (summary) max |d| %.4f Hz"
              % (np.abs(got - want).max(), np.abs(exact - want).max()))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])

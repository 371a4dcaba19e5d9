"""Cubes in another spectral frame (the cube issue's acceptance): alma_sim's TOPO data imaged with
outframe LSRK (time-dependent Doppler correction per row) and TOPO (the frame at the first
integration), against tclean 6.7.0: spectral axis to 1 Hz, every channel within 0.5% of the peak."""
import numpy as np
import pytest

from compare import load_casa, load_fits, plane_errors
from conftest import REFERENCE, run_pclean

ARGS = ["--imsize", "512", "--cell", "0.1arcsec", "--specmode", "cube", "--weighting", "briggs", "--robust", "0.5",
        "--niter", "0", "--pblimit", "0.2", "--interpolation", "linear"]


def ref_freqs(hdr, channels):
    ax = [i for i in range(1, hdr["NAXIS"] + 1) if hdr["CTYPE%d" % i].startswith("FREQ")][0]
    c = np.asarray(channels, dtype=float)
    return hdr["CRVAL%d" % ax] + (c + 1 - hdr["CRPIX%d" % ax]) * hdr["CDELT%d" % ax], hdr.get("SPECSYS")


@pytest.mark.parametrize("frame", ["LSRK", "TOPO"])
def test_cube_in_output_frame_matches_tclean(msdir, outdir, frame):
    name = outdir / ("frame_" + frame)
    run_pclean("image", "--vis", msdir / "alma_small.ms", "--imagename", name, *ARGS, "--outframe", frame)
    products = ["residual", "psf"] if frame == "LSRK" else ["residual"]
    for product in products:
        ours, im = load_casa(str(name) + "." + product)
        ref, hdr, keep = load_fits(REFERENCE / ("alma_tclean_%s_dirty.%s.sub.fits.gz" % (frame.lower(), product)))
        assert ours.shape[0] == 16
        errs = plane_errors(ours, ref, channels=keep)
        print(frame, product, ["%.1e" % e for e, _, _ in errs])
        # 0.5% of the peak over the inner 60% (the bound; measured <= 8.1e-4, channel 0
        # being made from the first integration only, as tclean does).
        assert max(errs)[0] <= 5e-3
    want, specsys = ref_freqs(hdr, range(16))
    spec = im.coordinates().get_coordinate("spectral")
    got = np.array([im.toworld([c, 0, 0, 0])[0] for c in range(16)])
    # FITS names the topocentric frame TOPOCENT (CASA's exportfits).
    assert spec.get_frame() == frame and specsys == {"TOPO": "TOPOCENT"}.get(frame, frame)
    # The bound: the spectral axis equals tclean's to 1 Hz (measured 0.43 Hz without UT1-UTC).
    assert np.abs(got - want).max() <= 1.0

"""Foundation acceptance on alma_sim (ALMA 12 m, XX/YY, 16 channels) in continuum (mfs) mode."""
import json

import numpy as np

from compare import beam_errors, casa_beams, load_casa, load_fits, plane_errors
from conftest import REFERENCE

TOL = 5e-3  # 0.5% of the peak over the inner 60%, as the issue requires


def test_psf_and_residual_match_tclean(alma_mfs):
    name, _ = alma_mfs
    for product in ("psf", "residual"):
        ours, _ = load_casa(str(name) + "." + product)
        ref, _, _ = load_fits(REFERENCE / ("tclean_mfs_dirty.%s.fits.gz" % product))
        assert ours.shape == ref.shape == (1, 1, 512, 512)
        errs = plane_errors(ours, ref)
        print(product, "max|diff|/peak = %.2e" % errs[0][0])
        assert errs[0][0] <= TOL


def test_pb_matches_tclean(alma_mfs):
    name, _ = alma_mfs
    ours, _ = load_casa(str(name) + ".pb")
    ref, _, _ = load_fits(REFERENCE / "tclean_mfs_dirty.pb.fits.gz")
    # Pixels within 1e-3 of pblimit may fall on either side of the cut (our mfs reference frequency
    # and CASA's differ in the last digits), so compare where the reference is clearly inside.
    inside = np.isfinite(ref) & (ref >= 0.201)
    err = np.abs(ours[inside] - ref[inside]).max()
    print("pb max abs diff where pb >= 0.201: %.2e" % err)
    # 1% absolute: an Airy model of the same effective dish against CASA's tabulated ALMA beam.
    assert err < 1e-2


def test_beam_matches_tclean(alma_mfs):
    name, _ = alma_mfs
    _, im = load_casa(str(name) + ".image")
    ref = json.load(open(REFERENCE / "tclean_beams.json"))["alma_mfs"]
    ax, pa = beam_errors(casa_beams(im), [(ref["bmaj_arcsec"], ref["bmin_arcsec"], ref["bpa_deg"])])
    print("beam: axis error %.4f, PA error %.2f deg" % (ax, pa))
    assert ax <= 0.02 and pa <= 2.0

"""Interoperability (issue 19): spectral-cube (with radio-beam's per-plane beams) reads the FITS cube
pclean writes with `--format fits` and the one `pclean export` makes from the CASA cube, and its
world coordinates, spectral axis and beams equal those of tclean's `exportfits` output for the same
run (the NGC5921 auto-multithresh cube). The reference is the header of tclean 6.7.0's exportfits
file (testdata/reference/ngc5921_tclean_clean.image.header.txt, HISTORY cards left out) and its BEAMS
table (testdata/reference/tclean_beams.json)."""
import json

import numpy as np
import pytest

from conftest import NGC_CLEAN_ARGS, REFERENCE, require_module, run_pclean

HEADER = REFERENCE / "ngc5921_tclean_clean.image.header.txt"


def tclean_reference():
    fits = require_module("astropy.io.fits", "astropy reads the reference header")
    wcs = require_module("astropy.wcs", "astropy builds the reference WCS")
    hdr = fits.Header.fromstring(HEADER.read_text(), sep="\n")
    beams = sorted(json.load(open(REFERENCE / "tclean_beams.json"))["ngc5921"], key=lambda b: b["chan"])
    return hdr, wcs.WCS(hdr), beams


@pytest.fixture(scope="module")
def fits_cubes(msdir, outdir, ngc_clean):
    """The cube written directly as FITS (same parameters as ngc_clean) and ngc_clean's image
    exported by `pclean export`."""
    direct = outdir / "c5921_fits"
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", direct, *NGC_CLEAN_ARGS,
               "--format", "fits", "--no-report")
    exported = outdir / "c5921_export.image.fits"
    run_pclean("export", "%s.image" % ngc_clean[0], exported, "--overwrite")
    return {"format fits": "%s.image.fits" % direct, "pclean export": str(exported)}


@pytest.mark.parametrize("how", ["format fits", "pclean export"])
def test_spectral_cube_reads_the_cube_as_tclean_exportfits(fits_cubes, how):
    sc = require_module("spectral_cube", "spectral-cube (tests/python/requirements.txt)")
    u = require_module("astropy.units", "astropy")
    hdr, ref_wcs, ref_beams = tclean_reference()
    cube = sc.SpectralCube.read(fits_cubes[how], format="fits")
    # Per-plane beams through radio-beam: a cube with one beam per channel.
    assert isinstance(cube, sc.VaryingResolutionSpectralCube), type(cube)
    assert cube.shape == (46, 256, 256)
    assert cube.unit == u.Jy / u.beam
    # Spectral axis: frequencies in the same frame (tclean's SPECSYS) within 1 Hz (the channels
    # of both are the LSRK grid from the same MS; measured difference below 0.01 Hz).
    ref_spec = ref_wcs.sub([3]).pixel_to_world_values(np.arange(46))
    ref_spec = np.asarray(ref_spec).ravel()
    ours = cube.spectral_axis.to_value(u.Hz)
    assert np.abs(ours - ref_spec).max() < 1.0, np.abs(ours - ref_spec).max()
    assert cube.wcs.wcs.specsys == hdr["SPECSYS"]
    assert cube.wcs.wcs.restfrq == pytest.approx(hdr["RESTFRQ"], rel=1e-12)
    # Celestial coordinates of the corners and the centre within 1e-3 arcsec (same projection,
    # reference pixel and increments; the difference is the header's printed precision).
    ref_cel = ref_wcs.celestial
    px = np.array([0, 255, 0, 255, 128]), np.array([0, 0, 255, 255, 128])
    ra_r, dec_r = ref_cel.pixel_to_world_values(*px)
    ra_o, dec_o = cube.wcs.celestial.pixel_to_world_values(*px)
    sep = np.hypot((ra_o - ra_r) * np.cos(np.radians(dec_r)), dec_o - dec_r) * 3600
    assert sep.max() < 1e-3, sep
    assert cube.wcs.celestial.wcs.radesys == hdr["RADESYS"]
    # Beams: the issue 1 bounds of pclean's beams against tclean's (2% in the axes, 2 deg in PA),
    # read through radio-beam's Beams.
    bmaj = cube.beams.major.to_value(u.arcsec)
    bmin = cube.beams.minor.to_value(u.arcsec)
    bpa = cube.beams.pa.to_value(u.deg)
    rmaj = np.array([b["bmaj_arcsec"] for b in ref_beams])
    rmin = np.array([b["bmin_arcsec"] for b in ref_beams])
    rpa = np.array([b["bpa_deg"] for b in ref_beams])
    ax = max(np.abs(bmaj / rmaj - 1).max(), np.abs(bmin / rmin - 1).max())
    dpa = np.abs((bpa - rpa + 90) % 180 - 90).max()
    print("%s: spectral %.3g Hz, celestial %.3g arcsec, beam axes %.4f, PA %.2f deg"
          % (how, np.abs(ours - ref_spec).max(), sep.max(), ax, dpa))
    assert ax <= 0.02 and dpa <= 2.0

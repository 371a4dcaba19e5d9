"""Oracle tests of pclean-imageio: python-casacore must read our CASA images exactly as CASA would,
astropy must read our FITS files with the same WCS and beams, and our FITS header must match the one
casacore's own FITS converter writes for our CASA image.

The sample products come from `cargo run --release -p pclean-imageio --example write_sample -- DIR`
(see crates/pclean-imageio/examples/write_sample.rs); pixel (x, y, stokes s, chan c) holds
x + 64 y + 2048 s + 4096 c.

Runs under pytest, or stand-alone: `python3 tests/python/test_imageio.py [SAMPLE_DIR]` (the Rust
integration test of pclean-imageio does that when python-casacore is importable).
"""
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
C = 299792458.0
ARCSEC = math.pi / 180 / 3600


def make_samples(dest=None):
    d = Path(dest or tempfile.mkdtemp(prefix="pclean_imageio_"))
    if not (d / "expected.json").exists():
        subprocess.run(["cargo", "run", "--quiet", "--release", "-p", "pclean-imageio", "--example",
                        "write_sample", "--", str(d)], cwd=ROOT, check=True)
    return d, json.loads((d / "expected.json").read_text())


try:
    import pytest

    @pytest.fixture(scope="module")
    def samples():
        return make_samples(os.environ.get("PCLEAN_IMAGEIO_SAMPLES"))
except ImportError:  # stand-alone run
    pytest = None


def expected_cube(shape):
    c, s, y, x = np.indices(shape)
    return (x + 64 * y + 2048 * s + 4096 * c).astype(np.float32)


def check_casa_image(d, exp, name):
    import casacore.images as ci
    com, e = exp["common"], exp[name]
    im = ci.image(str(d / f"{name}.image"))
    nchan, nstokes = e["nchan"], len(e["stokes"])
    # numpy order of a CASA image: [freq, stokes, dec, ra]
    assert im.shape() == [nchan, nstokes, com["ny"], com["nx"]]
    assert im.unit() == com["units"]
    data = im.getdata()
    assert data.dtype == np.float32
    np.testing.assert_array_equal(data, expected_cube(data.shape))

    cs = im.coordinates()
    assert cs.get_axes() == ["Frequency", ["Stokes"], ["Declination", "Right Ascension"]]
    refval, refpix, incr = cs.get_referencevalue(), cs.get_referencepixel(), cs.get_increment()
    assert refval[0] == com["crval_hz"] and incr[0] == e["cdelt_hz"] and refpix[0] == 0.0
    np.testing.assert_allclose(refval[2][::-1], com["crval_rad"], rtol=0, atol=1e-15)
    np.testing.assert_allclose(refpix[2][::-1], com["crpix"], rtol=0, atol=0)
    np.testing.assert_allclose(incr[2][::-1], com["cdelt_rad"], rtol=1e-15)
    spec = cs.get_coordinate("spectral")
    assert spec.get_frame() == com["frame"]
    assert spec.get_restfrequency() == com["restfreq_hz"]
    assert list(cs.get_coordinate("stokes").get_stokes()) == e["stokes"]
    dirc = cs.get_coordinate("direction")
    assert dirc.get_frame() == "J2000" and dirc.get_projection() == "SIN"
    assert cs.get_telescope() == com["telescope"] and cs.get_observer() == com["observer"]
    assert cs.get_obsdate()["refer"] == "UTC"
    assert abs(cs.get_obsdate()["m0"]["value"] - com["obsdate_mjd"]) < 1e-9
    pos = cs.dict()["telescopeposition"]
    lon, lat, r = pos["m0"]["value"], pos["m1"]["value"], pos["m2"]["value"]
    xyz = [r * math.cos(lat) * math.cos(lon), r * math.cos(lat) * math.sin(lon), r * math.sin(lat)]
    np.testing.assert_allclose(xyz, com["telescope_position_itrf_m"], rtol=1e-12)

    # toworld: reference pixel and a corner; freq and Stokes of the last plane.
    w = im.toworld([0, 0, com["crpix"][1], com["crpix"][0]])
    assert w[0] == com["crval_hz"] and w[1] == 1.0
    assert abs(w[2] - com["crval_rad"][1]) < 1e-14 and abs(w[3] - com["crval_rad"][0]) < 1e-14
    w = im.toworld([nchan - 1, nstokes - 1, 0, 0])
    assert abs(w[0] - (com["crval_hz"] + (nchan - 1) * e["cdelt_hz"])) < 1e-3
    assert w[1] == {"I": 1.0, "V": 4.0}[e["stokes"][-1]]
    # SIN projection at pixel (0, 0): 32 and 16 pixels of 0.1" away, RA increasing to the left.
    # Direction cosines of pixel (0, 0) relative to the reference pixel.
    dec0, ra0 = com["crval_rad"][1], com["crval_rad"][0]
    l, m = -com["crpix"][0] * com["cdelt_rad"][0], -com["crpix"][1] * com["cdelt_rad"][1]
    n = math.sqrt(1 - l * l - m * m)
    dec = math.asin(m * math.cos(dec0) + n * math.sin(dec0))
    ra = ra0 + math.atan2(l, n * math.cos(dec0) - m * math.sin(dec0))
    assert abs(w[2] - dec) < 1e-12 and abs(w[3] - ra) < 1e-12

    info = im.imageinfo()
    assert info["imagetype"] == com["imagetype"] and info["objectname"] == com["object"]
    if name == "cube":
        ppb = info["perplanebeams"]
        assert ppb["nChannels"] == nchan and ppb["nStokes"] == nstokes
        for b in e["beams"]:
            rec = ppb["*%d" % (b["chan"] + nchan * b["stokes"])]
            assert rec["major"]["unit"] == "arcsec" and rec["positionangle"]["unit"] == "deg"
            assert abs(rec["major"]["value"] - b["major_arcsec"]) < 1e-9
            assert abs(rec["minor"]["value"] - b["minor_arcsec"]) < 1e-9
            assert abs(rec["positionangle"]["value"] - b["pa_deg"]) < 1e-9
    else:
        rb = info["restoringbeam"]
        assert abs(rb["major"]["value"] - e["beam"]["major_arcsec"]) < 1e-9
        assert abs(rb["positionangle"]["value"] - e["beam"]["pa_deg"]) < 1e-9

    st = im.statistics()
    assert st["npts"][0] == data.size
    assert st["max"][0] == data.max() and st["min"][0] == 0.0
    assert abs(st["sum"][0] - float(data.astype(np.float64).sum())) < 1e-6 * abs(st["sum"][0])
    return im


def check_fits(d, exp, name):
    from astropy.io import fits
    from astropy.wcs import WCS
    com, e = exp["common"], exp[name]
    nchan, nstokes = e["nchan"], len(e["stokes"])
    with fits.open(d / f"{name}.fits") as hl:
        h = hl[0].header
        # CASA's exportfits layout: RA, DEC, FREQ, STOKES (Stokes last)
        assert [h["CTYPE%d" % i] for i in range(1, 5)] == ["RA---SIN", "DEC--SIN", "FREQ", "STOKES"]
        assert h["NAXIS1"] == com["nx"] and h["NAXIS2"] == com["ny"]
        assert h["NAXIS3"] == nchan and h["NAXIS4"] == nstokes
        data = hl[0].data  # numpy order [stokes, freq, y, x]
        np.testing.assert_array_equal(np.swapaxes(data, 0, 1), expected_cube((nchan, nstokes, com["ny"], com["nx"])))
        assert h["BUNIT"] == com["units"] and h["SPECSYS"] == com["frame"] and h["RESTFRQ"] == com["restfreq_hz"]
        assert h["TELESCOP"] == com["telescope"] and h["RADESYS"] == "FK5" and h["EQUINOX"] == 2000.0
        assert h["VELREF"] == 257
        assert abs(h["ALTRVAL"] - C * (1 - com["crval_hz"] / com["restfreq_hz"])) < 1e-6
        np.testing.assert_allclose([h["OBSGEO-X"], h["OBSGEO-Y"], h["OBSGEO-Z"]],
                                   com["telescope_position_itrf_m"], rtol=1e-12)
        w = WCS(h)
        ra, dec, f, s = w.all_pix2world([[com["crpix"][0], com["crpix"][1], 0, 0]], 0)[0]
        assert abs(ra - math.degrees(com["crval_rad"][0])) < 1e-9
        assert abs(dec - math.degrees(com["crval_rad"][1])) < 1e-9
        assert abs(f - com["crval_hz"]) < 1e-3 and s == 1.0
        ra, dec, f, s = w.all_pix2world([[0, 0, nchan - 1, nstokes - 1]], 0)[0]
        assert abs(f - (com["crval_hz"] + (nchan - 1) * e["cdelt_hz"])) < 1e-3
        assert s == {"I": 1.0, "V": 4.0}[e["stokes"][-1]]
        if name == "cube":
            assert h["CASAMBM"] is True and "BMAJ" not in h
            bt = hl["BEAMS"]
            assert bt.header["NCHAN"] == nchan and bt.header["NPOL"] == nstokes and bt.header["EXTVER"] == 1
            assert [c.name for c in bt.columns] == ["BMAJ", "BMIN", "BPA", "CHAN", "POL"]
            assert [c.format for c in bt.columns] == ["1E", "1E", "1E", "1J", "1J"]
            assert [c.unit for c in bt.columns][:3] == ["arcsec", "arcsec", "deg"]
            rows = bt.data
            assert len(rows) == nchan * nstokes
            for b in e["beams"]:
                r = rows[b["chan"] + nchan * b["stokes"]]
                assert r["CHAN"] == b["chan"] and r["POL"] == b["stokes"]
                assert abs(r["BMAJ"] - b["major_arcsec"]) < 1e-5 and abs(r["BPA"] - b["pa_deg"]) < 1e-4
        else:
            assert "CASAMBM" not in h
            assert abs(h["BMAJ"] * 3600 - e["beam"]["major_arcsec"]) < 1e-9
            assert abs(h["BPA"] - e["beam"]["pa_deg"]) < 1e-9


def check_against_casacore_tofits(d, name):
    """casacore's own converter on our CASA image (radio frequency axis, as exportfits' defaults)
    must give the same cards and pixels as our FITS writer. casacore keeps the image's axis
    order (Stokes before Freq), so axes 3 and 4 are swapped for the comparison."""
    import casacore.images as ci
    from astropy.io import fits
    theirs = d / f"{name}_casacore.fits"
    ci.image(str(d / f"{name}.image")).tofits(str(theirs), overwrite=True, velocity=False, optical=False)
    swap = {"3": "4", "4": "3"}

    def ours_key(k):
        for p in ("NAXIS", "CTYPE", "CRVAL", "CDELT", "CRPIX", "CUNIT"):
            if k.startswith(p) and k[len(p):] in swap:
                return p + swap[k[len(p):]]
        return k

    with fits.open(d / f"{name}.fits") as a, fits.open(theirs) as b:
        ha, hb = a[0].header, b[0].header
        skip = {"HISTORY", "COMMENT", "DATE", "ORIGIN"}
        assert set(k for k in hb if k not in skip) == set(k for k in ha if k not in skip)
        for k in hb:
            if k in skip:
                continue
            assert ha[ours_key(k)] == hb[k], (k, ha[ours_key(k)], hb[k])
        np.testing.assert_array_equal(a[0].data, np.swapaxes(b[0].data, 0, 1))
        if name == "cube":
            np.testing.assert_array_equal(np.array(a["BEAMS"].data.tolist()), np.array(b["BEAMS"].data.tolist()))
            for k in ("NCHAN", "NPOL", "EXTVER"):
                assert a["BEAMS"].header[k] == b["BEAMS"].header[k]


def test_casa_images_open_in_python_casacore(samples):
    d, exp = samples
    for name in ("cube", "mfs"):
        check_casa_image(d, exp, name)


def test_fits_matches_wcs_and_beams(samples):
    d, exp = samples
    for name in ("cube", "mfs"):
        check_fits(d, exp, name)


def test_fits_header_matches_casacore_converter(samples):
    d, _ = samples
    for name in ("cube", "mfs"):
        check_against_casacore_tofits(d, name)


if __name__ == "__main__":
    s = make_samples(sys.argv[1] if len(sys.argv) > 1 else None)
    test_casa_images_open_in_python_casacore(s)
    test_fits_matches_wcs_and_beams(s)
    test_fits_header_matches_casacore_converter(s)
    print("imageio oracle checks passed in", s[0])

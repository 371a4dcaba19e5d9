"""phasecenter naming a solar-system body ('MARS', 'SUN', 'MOON', ...), imaged as tclean 6.7 images it:
the image in ICRS at casacore's topocentric position of the body (JPL DE200) at the first integration,
every row re-phased to the body's topocentric direction at its own time. References: tclean by
scripts/dev/tclean_planet_refs.py (testdata/reference/planets/planets.json and its crops), on
testdata/planet_mars_topo.ms.tar.gz (a fixed J2000 field; a 1 Jy source moving with casacore's
topocentric Mars and a 0.4 Jy one 36" from it) and testdata/b1950vla.ms.tar.gz (SUN, MOON). The DE200
records come from the frozen measures data (testdata/measures.tar.gz, PCLEAN_MEASURESPATH)."""
import json
import shutil
import tarfile

import numpy as np
import pytest

from compare import load_casa, load_fits
from conftest import REFERENCE, TESTDATA, run_pclean
from test_direction_frames import b1950_ms, pclean_args  # noqa: F401 (b1950_ms: a fixture)

PLANETS = json.load(open(REFERENCE / "planets" / "planets.json"))
RUNS = PLANETS["runs"]
MAS = np.pi / 180 / 3.6e6


@pytest.fixture(scope="module")
def mars_ms(tmp_path_factory):
    d = tmp_path_factory.mktemp("mars")
    with tarfile.open(TESTDATA / "planet_mars_topo.ms.tar.gz") as t:
        t.extractall(d)
    return d / "mars_topo.ms"


def image(ms, name, run, **override):
    params = {k: v for k, v in dict(RUNS[run]["params"], **override).items() if k != "parallel"}
    run_pclean("image", "--vis", ms, "--imagename", name, *pclean_args(params))


def assert_coordinates_as(im, want, hz):
    """Direction coordinate as tclean's: frame, axes, crpix, cdelt equal; crval within 10 mas."""
    cs = im.coordinates().dict()
    d = cs["direction0"]
    assert d["system"] == want["direction0"]["system"] == "ICRS"
    assert list(d["crpix"]) == want["direction0"]["crpix"]
    assert np.allclose(d["cdelt"], want["direction0"]["cdelt"], rtol=1e-12)
    off = np.hypot((d["crval"][0] - want["direction0"]["crval"][0]) * np.cos(d["crval"][1]),
                   d["crval"][1] - want["direction0"]["crval"][1]) / MAS
    print(f"crval {off:.2f} mas from tclean's; spectral crval "
          f"{cs['spectral2']['wcs']['crval'] - want['spectral2']['crval']:+.3f} Hz")
    # 10 mas (1/50 of the 0.5" pixel): pclean's body positions against casacore's, measured
    # <= 5 mas in crates/pclean-ms/tests/planets.rs (the observatory without polar motion).
    assert off < 10
    assert cs["spectral2"]["system"] == want["spectral2"]["system"]
    assert abs(cs["spectral2"]["wcs"]["crval"] - want["spectral2"]["crval"]) < hz


def inner_diff(data, stored):
    """max |pclean - tclean| / tclean's peak over the stored inner 60%, per channel."""
    ref, _, _ = load_fits(REFERENCE / "planets" / stored["file"])
    x0, n = stored["x0"], ref.shape[-1]
    ours = data[..., x0:x0 + n, x0:x0 + n]
    return [float(np.abs(ours[c] - ref[c]).max() / np.abs(ref[c]).max()) for c in range(ref.shape[0])]


@pytest.mark.parametrize("run", ["mars_mfs", "mars_cube"])
def test_mars_phasecenter_tracks_the_body_as_tclean(mars_ms, tmp_path, run):
    ref = RUNS[run]
    name = tmp_path / run
    image(mars_ms, name, run)
    for p in ("residual", "psf"):
        data, im = load_casa(str(name) + "." + p)
        # The 0.05 Hz bound on spectral axes.
        assert_coordinates_as(im, ref["coordsys"], hz=0.05)
        diff = inner_diff(data, ref["stored"][p])
        print(f"{run} {p}: max |pclean - tclean| / peak (inner 60%) per channel = "
              + ", ".join(f"{x:.2e}" for x in diff))
        assert max(diff) < 1e-3
    # The moving source stays on the centre pixel in every channel (tclean: 0.990-0.997 Jy there).
    data, _ = load_casa(str(name) + ".residual")
    c = data.shape[-1] // 2
    print(f"{run}: peaks per channel " + ", ".join(f"{data[k, 0].max():.4f}" for k in range(data.shape[0]))
          + " Jy; tclean's " + ", ".join(f"{x:.4f}" for x in ref["channel_peaks"]))
    for k in range(data.shape[0]):
        assert np.unravel_index(np.argmax(data[k, 0]), data.shape[-2:]) == (c, c)


def test_a_direction_after_the_body_is_ignored_as_in_tclean(mars_ms, tmp_path):
    """tclean's 'MARS 0deg 0deg' is 'MARS' (same crval and pixels); pclean's too."""
    assert RUNS["mars_0_0_mfs"]["coordsys"] == RUNS["mars_mfs"]["coordsys"]
    assert RUNS["mars_0_0_mfs"]["peak"] == RUNS["mars_mfs"]["peak"]
    image(mars_ms, tmp_path / "a", "mars_mfs")
    image(mars_ms, tmp_path / "b", "mars_0_0_mfs")
    a, ia = load_casa(str(tmp_path / "a") + ".residual")
    b, ib = load_casa(str(tmp_path / "b") + ".residual")
    da, db = ia.coordinates().dict()["direction0"], ib.coordinates().dict()["direction0"]
    assert da["system"] == db["system"] == "ICRS"
    assert np.array_equal(da["crval"], db["crval"])
    assert np.array_equal(a, b)


@pytest.mark.parametrize("body", ["SUN", "MOON"])
def test_sun_and_moon_phasecenters_coordinates_as_tclean(b1950_ms, tmp_path, body):
    ref = RUNS[f"b1950_{body}"]
    name = tmp_path / body
    image(b1950_ms, name, f"b1950_{body}")
    _, im = load_casa(str(name) + ".residual")
    assert_coordinates_as(im, ref["coordsys"], hz=0.05)


def test_without_de200_a_body_is_an_error_naming_where_pclean_looked(mars_ms, tmp_path, monkeypatch):
    empty = tmp_path / "measures"
    empty.mkdir()
    monkeypatch.setenv("PCLEAN_MEASURESPATH", str(empty))
    p = run_pclean("image", "--vis", mars_ms, "--imagename", tmp_path / "x", "--imsize", "64", "--cell",
                   "0.5arcsec", "--niter", "0", "--phasecenter", "MARS", check=False)
    assert p.returncode != 0
    err = p.stderr
    assert "phasecenter" in err and "MARS" in err and str(empty / "ephemerides" / "DE200") in err, err[-800:]
    assert "PCLEAN_MEASURESPATH" in err, err[-800:]
    assert not list(tmp_path.glob("x.*")), "no product may be written"
    shutil.rmtree(empty)

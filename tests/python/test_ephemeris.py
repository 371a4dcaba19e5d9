"""Ephemeris fields (issue 13, item 1): an MS whose field moves along a FIELD ephemeris table
(testdata/realobs_vla_ephem_mars.tar.gz: VLA, Mars on 2022-11-01, EPHEMERIS_ID 0 with
FIELD/EPHEM0_Mars.tab; made by scripts/dev/make_ephem.py) and tclean 6.7 references of it
(testdata/reference/ephem/ephem.json and the cropped FITS).

pclean reads the ephemeris (crates/pclean-ms/src/ephemeris.rs; its directions are checked against
casacore in crates/pclean-ms/tests/ephemeris.rs) but does not image ephemeris fields yet, so every
tclean case must be refused up front, naming the ephemeris field (or the unsupported parameter
value), and must leave no image behind: never an image at the FIELD row's PHASE_DIR, which for an
ephemeris field is only an offset (0, 0). The reference checks pin down what tclean does, for the
implementation to follow."""
import json
import math
import tarfile

import pytest

from conftest import REFERENCE, TESTDATA, run_pclean

REF = REFERENCE / "ephem"
INFO = json.loads((REF / "ephem.json").read_text())
DIRS = json.loads((REF / "ephem_directions.json").read_text())
CASES = INFO["cases"]
NOT_IMAGING = ("vis", "parallel")


@pytest.fixture(scope="module")
def ephem_ms(tmp_path_factory):
    d = tmp_path_factory.mktemp("ephem_ms")
    path = TESTDATA / "realobs_vla_ephem_mars.tar.gz"
    if not path.exists():
        pytest.fail("bundled MS %s is missing: the checkout is incomplete" % path, pytrace=False)
    with tarfile.open(path) as t:
        t.extractall(d)
    return d / "vla_ephem_mars.ms"


@pytest.mark.parametrize("name", sorted(CASES))
def test_ephemeris_field_is_refused_up_front(name, ephem_ms, tmp_path):
    params = CASES[name]["params"]
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({k: v for k, v in params.items() if k not in NOT_IMAGING}))
    prefix = tmp_path / name
    p = run_pclean("image", "--config", cfg, "--vis", ephem_ms, "--imagename", prefix, "--overwrite",
                   check=False)
    assert p.returncode != 0, "pclean imaged an ephemeris field it cannot track: %s" % p.stdout[-1000:]
    msg = p.stderr
    unsupported = [v for v in (params.get("phasecenter"), params["specmode"]) if v in ("TRACKFIELD", "cubesource")]
    assert "ephemeris" in msg or any(v in msg for v in unsupported), msg[-2000:]
    assert "panicked" not in msg, msg[-2000:]
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(name + ".")]
    assert not leftovers, leftovers


def sep(a, b):
    """Angular separation of two (lon, lat) directions, rad."""
    va = [math.cos(a[1]) * math.cos(a[0]), math.cos(a[1]) * math.sin(a[0]), math.sin(a[1])]
    vb = [math.cos(b[1]) * math.cos(b[0]), math.cos(b[1]) * math.sin(b[0]), math.sin(b[1])]
    return math.dist(va, vb)


def direction(name):
    return CASES[name]["products"]["residual"]["coordsys"]["direction0"]


def spectral(name):
    return CASES[name]["products"]["residual"]["coordsys"]["spectral2"]


@pytest.mark.parametrize("name", sorted(n for n in CASES if CASES[n]["params"].get("phasecenter") == "TRACKFIELD"))
def test_tclean_trackfield_centre_is_the_topocentric_direction_at_the_first_row(name):
    """tclean's TRACKFIELD image centre is ICRS, at the table's position at TT of the first row minus
    the observatory's (ephem_directions.json, computed with casatools measures): equal within
    1e-10 rad (measured 7e-11 rad); the geocentric direction is 3e-5 rad away, the second
    integration's 1e-5 rad."""
    d = direction(name)
    assert d["system"] == "ICRS"
    first = DIRS["rows"][0]
    assert sep(d["crval"], first["topo_icrs_rad"]) < 1e-10


@pytest.mark.parametrize("name", sorted(n for n in CASES if "phasecenter" not in CASES[n]["params"]))
def test_tclean_default_centre_is_apparent(name):
    """Without phasecenter tclean writes the field's frame (APP, the table's) at the ephemeris
    direction at FIELD TIME (MJD 59882.0, before the observation): 2e-3 rad from the first row's."""
    d = direction(name)
    assert d["system"] == "APP"
    assert sep(d["crval"], DIRS["rows"][0]["field_app_rad"]) > 1e-3


def test_tclean_cubesource_is_labelled_rest_and_shifted_by_the_radial_velocity():
    """specmode='cubesource': spectral frame REST; the channels are the TOPO ones (8.4 GHz + k 2 MHz)
    Doppler-corrected by Mars's radial velocity: crval is 2.59e-5 below 8.4 GHz (7.76 km/s; the
    table's geocentric RadVel is -7.65 km/s then), the LSRK cube's 3.29e-5 (9.85 km/s)."""
    s = spectral("ephem_cubesource_trackfield_dirty")
    assert s["system"] == "REST"
    shift = s["wcs"]["crval"] / 8.4e9 - 1.0
    assert -2.62e-5 < shift < -2.56e-5, shift
    assert spectral("ephem_cube_trackfield_dirty")["system"] == "LSRK"

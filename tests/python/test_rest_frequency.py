"""The rest frequency and spectral axis pclean writes when `restfreq` is not given, against tclean
6.7 on the bundled EVLA L-band MS (two spws; SOURCE has a rest frequency for spw 0 only) and on
copies whose SOURCE row applies to any spw (SPECTRAL_WINDOW_ID -1), is removed, or holds 0.
tclean's rule (CASA's SynthesisParamsImage, casacore's MSDopplerUtil): the first selected field's
SOURCE rest frequency for the first selected spw (or for spw -1); without one, the mfs image's
LSRK frequency, or for a cube the centre of the selected channels' edges in the data's frame; a
cube given in velocities needs one. References: testdata/reference/realobs/restfreq.json, made by
scripts/dev/tclean_restfreq_refs.py (see testdata/README.md)."""
import json
import shutil

import pytest

from conftest import REFERENCE, run_pclean, unpack_bundled

REFS = json.loads((REFERENCE / "realobs" / "restfreq.json").read_text())
# Frequencies to 0.05 Hz, the bound for an LSRK axis: the mfs axis and the cube grid are
# converted to LSRK (pclean agrees with tclean to a few mHz here), and the rest frequencies are
# either SOURCE's value or those frequencies; a wrong rule is off by 32 MHz or more on this MS.
FREQ_TOL_HZ = 0.05


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    """The MS and its SOURCE variants, as scripts/dev/tclean_restfreq_refs.py makes them."""
    from casacore.tables import table, taql
    d = unpack_bundled(["realobs_evla_lband_pb.tar.gz"], tmp_path_factory.mktemp("restfreq_ms"))
    base = d / "evla_lband_pb.ms"
    out = {"base": base}
    for name, change in (("spw_any", ("SPECTRAL_WINDOW_ID", -1)), ("no_rows", None),
                         ("zero", ("REST_FREQUENCY", [0.0]))):
        path = d / (name + ".ms")
        shutil.copytree(base, path)
        if change is None:
            # (python-casacore's removerows on this table leaves table.dat at one row.)
            taql("delete from '%s'" % (path / "SOURCE"))
        else:
            t = table(str(path / "SOURCE"), readonly=False, ack=False)
            t.putcell(change[0], 0, change[1])
            t.close()
        assert table(str(path / "SOURCE"), ack=False).nrows() == (0 if change is None else 1)
        out[name] = path
    return out


@pytest.mark.parametrize("name", sorted(REFS["cases"]))
def test_default_rest_frequency_as_tclean(name, variants, tmp_path):
    from casacore.images import image
    case = REFS["cases"][name]
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(dict(REFS["common"], **case["params"])))
    p = run_pclean("image", "--config", cfg, "--vis", variants[case["variant"]], "--imagename",
                   tmp_path / name, check=False)
    if "error" in case:
        # tclean: "No valid rest frequency is defined in the data, please specify the restfreq
        # parameter"; pclean refuses it up front, naming the parameter.
        assert p.returncode != 0 and "restfreq" in p.stderr.strip().splitlines()[-1], p.stderr[-2000:]
        return
    assert p.returncode == 0, p.stderr[-2000:]
    spectral = image(str(tmp_path / (name + ".psf"))).coordinates().dict()["spectral2"]
    want = case["spectral"]
    assert spectral["system"] == want["system"]
    got = {"crval": float(spectral["wcs"]["crval"]), "cdelt": float(spectral["wcs"]["cdelt"]),
           "restfreq": float(spectral["restfreq"])}
    off = {k: got[k] - want[k] for k in got}
    assert all(abs(v) <= FREQ_TOL_HZ for v in off.values()), "%s: pclean - tclean %s Hz" % (name, off)


def test_first_field_is_the_lowest_selected_id_whatever_the_row_order(tmp_path):
    """tclean takes its "first field" (the default image centre, the field whose SOURCE row gives
    the rest frequency) from its first visibility chunk, and its iterator sorts by FIELD_ID: on a
    copy of vla_multifield.ms sorted by descending FIELD_ID, field='0,1' is centred on field 0
    (tclean 6.7: direction crval [3.92699082, 0.34906585] rad = FIELD 0's PHASE_DIR) and its mfs
    axis is the band converted for both fields' rows (crval 1399940300.6921 Hz)."""
    from casacore.images import image
    from casacore.tables import table
    d = unpack_bundled(["realobs_vla_multifield.tar.gz"], tmp_path)
    rev = tmp_path / "rev.ms"
    table(str(d / "vla_multifield.ms"), ack=False).sort("FIELD_ID desc, TIME").copy(str(rev), deep=True)
    assert table(str(rev), ack=False).getcell("FIELD_ID", 0) == 2
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(dict(REFS["common"], specmode="mfs", field="0,1", cell="10arcsec")))
    run_pclean("image", "--config", cfg, "--vis", rev, "--imagename", tmp_path / "ord")
    coords = image(str(tmp_path / "ord.psf")).coordinates().dict()
    field0 = table(str(rev / "FIELD"), ack=False).getcol("PHASE_DIR")[0, 0]
    got = coords["direction0"]["crval"]  # in the record's units
    units = coords["direction0"]["units"]
    scale = {"rad": 1.0, "deg": 3.141592653589793 / 180.0}
    got = [float(v) * scale[u] for v, u in zip(got, units)]
    # 1e-9 rad, the bound of test_realobs's coordinates (copies of one float64 value).
    dra = (got[0] - field0[0] + 3.141592653589793) % (2 * 3.141592653589793) - 3.141592653589793
    assert abs(dra) < 1e-9 and abs(got[1] - field0[1]) < 1e-9, (got, field0)
    f = float(coords["spectral2"]["wcs"]["crval"])
    assert abs(f - 1399940300.6920986) <= FREQ_TOL_HZ, f

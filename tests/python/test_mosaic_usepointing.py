"""`usepointing=True` with `gridder='mosaic'` (issue 14) against tclean 6.7: the bundled ALMA mosaic
subset with its POINTING directions moved away from the FIELD centres
(scripts/dev/make_usepointing_refs.py makes the same copies and tclean's references):
- every antenna moved 4" east and 6" north: tclean's beams move by exactly that;
- only the even antennas moved 8" north: tclean's beams follow antenna 0, the first row's ANTENNA1
  of each visibility buffer.
pclean centres each field's beams on the same direction (imaging/mosaic_pointing.rs); the products
must be within the issue's 1% of tclean's peak where tclean's pb > 0.3, and the moved beams must be
seen (pclean with usepointing=False misses by far more: asserted, so the test can fail)."""
import importlib.util
import json
import shutil
import sys

import numpy as np
import pytest
from casacore.tables import table

from conftest import REFERENCE, run_pclean
from test_mosaic import INFO, NOT_IMAGING, REF, check_bounded, mosaic_ms, mosaic_out, ours, reference  # noqa: F401

ROOT = REFERENCE.parent.parent
PT_INFO = json.loads((REF / "usepointing_refs.json").read_text())
CASES = ["pt_uniform", "pt_first_antenna"]
# The bound (1% of tclean's peak over pb > 0.3). Measured on this subset: see
# docs/issue14-evidence.md; the same MS with usepointing=False is ~0.3 off (the moved beams).
TOL = {"psf": 1e-2, "residual": 1e-2, "pb": 1e-2, "weight": 1e-2}


def _script():
    spec = importlib.util.spec_from_file_location(
        "make_usepointing_refs", ROOT / "scripts" / "dev" / "make_usepointing_refs.py")
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "scripts" / "dev"))
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def pointed_ms(mosaic_ms, tmp_path_factory):
    """The bundled mosaic MS copied once per case with its POINTING moved (the script's edit)."""
    out = tmp_path_factory.mktemp("pointed_ms")
    script = _script()
    for case in CASES:
        script.offset_pointing(str(mosaic_ms / "mosaic_small.ms"), str(out / (case + ".ms")), case)
    return out


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("ext", ["psf", "residual", "pb", "weight"])
def test_beams_on_the_pointing_directions_as_tclean(case, ext, pointed_ms, mosaic_out):
    check_bounded(case, ext, pointed_ms, mosaic_out, PT_INFO, REF, TOL, {}, "usepointing")


def test_ignoring_the_pointing_table_misses_tclean(pointed_ms, tmp_path):
    """The guard that the references see the moved beams: pclean with usepointing=False on the
    moved MS is far outside the bound against tclean's usepointing=True .pb."""
    params = dict(PT_INFO["pt_uniform"]["params"], usepointing=False)
    cfg = tmp_path / "off.config.json"
    cfg.write_text(json.dumps({k: v for k, v in params.items() if k not in NOT_IMAGING}))
    prefix = tmp_path / "off"
    run_pclean("image", "--config", cfg, "--vis", pointed_ms / "pt_uniform.ms", "--imagename", prefix,
               "--overwrite")
    ref, crop = reference("pt_uniform", "pb")
    mine = ours(prefix, "pb", crop, ref.shape[0])
    region = np.nan_to_num(ref) > 0.3
    err = np.abs(mine - ref)[region].max()
    print("usepointing=False against tclean's usepointing=True pb: %.3f" % err)
    assert err > 0.1, "usepointing=False should not reproduce tclean's moved beams (%.3f)" % err


def test_pointing_that_moves_within_a_field_is_refused(pointed_ms, tmp_path):
    """pclean centres one beam per field: a field whose first antenna's pointing moves by more than
    1% of lambda/D between integrations is refused, naming usepointing and the field."""
    ms = tmp_path / "moving.ms"
    shutil.copytree(pointed_ms / "pt_uniform.ms", ms)
    t = table(str(ms / "POINTING"), readonly=False, ack=False)
    d = t.getcol("DIRECTION")
    times = t.getcol("TIME")
    late = times > np.median(times)
    d[late, 0, 1] += 3.0 / 206264.806  # 3" north in the second half: 1.1 lambda/D at 230 GHz
    t.putcol("DIRECTION", d)
    t.close()
    params = dict(PT_INFO["pt_uniform"]["params"])
    cfg = tmp_path / "moving.config.json"
    cfg.write_text(json.dumps({k: v for k, v in params.items() if k not in NOT_IMAGING}))
    p = run_pclean("image", "--config", cfg, "--vis", ms, "--imagename", tmp_path / "moving",
                   "--overwrite", check=False)
    assert p.returncode != 0
    print(p.stderr.strip().splitlines()[-1])
    assert "usepointing" in p.stderr and "POINTING directions of field" in p.stderr, p.stderr[-1500:]

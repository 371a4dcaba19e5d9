"""tclean scripts run unchanged through ``pclean.pclean(**kw)`` (issue 13, item 5).

Each call of tests/python/data/tclean_calls.py (copied from CASA's documentation, CASA Guides,
ALMA pipeline logs and public imaging scripts; see that file for the sources and for what was
remapped onto the bundled data) either succeeds, with its products on disk, or fails up front
with a ``PcleanValueError`` naming one of the call's parameters and its value. No call may fail
with "unknown parameter", with an error that names no parameter of the call, or with anything but
a value error (an I/O or internal error is a failure)."""
import shutil
import sys
from pathlib import Path

import pytest

from conftest import require_module

pclean = require_module("pclean", "the pclean package is not installed (scripts/test.sh installs it)")

sys.path.insert(0, str(Path(__file__).parent / "data"))
from tclean_calls import CALLS  # noqa: E402

BY_NAME = {c["name"]: c for c in CALLS}
MS = {"ngc5921": "ngc5921.ms", "alma": "alma_small.ms"}
# What the pipeline copies from iter0 to iter1 before a restart with calcres/calcpsf=False.
PIPELINE_COPIES = ("psf", "residual", "sumwt", "pb")


def test_the_calls_are_many_and_different():
    assert len(CALLS) >= 20
    assert len(BY_NAME) == len(CALLS)
    kinds = {tuple(sorted(c["kw"])) for c in CALLS}
    assert len(kinds) >= 15, "parameter sets should differ, not only in values"
    assert all(c["source"] and c["remap"] for c in CALLS)


def _kwargs(call, msdir, imagename):
    kw = dict(call["kw"])
    assert "vis" not in kw and "imagename" not in kw, "the test sets vis and imagename"
    ms = str(msdir / MS[call["ms"]])
    kw["vis"] = [ms] * call["nvis"] if call["nvis"] > 1 else ms
    kw["imagename"] = str(imagename)
    return kw


def _run(call, msdir, tmp_path):
    """Run `call` (after the call it continues from, with the pipeline's copies); returns the
    image prefix, or raises what pclean raised."""
    name = tmp_path / call["name"]
    before = call.get("before")
    if before:
        prior = tmp_path / before
        pclean.pclean(**_kwargs(BY_NAME[before], msdir, prior))
        for ext in PIPELINE_COPIES:
            shutil.copytree("%s.%s" % (prior, ext), "%s.%s" % (name, ext))
    pclean.pclean(**_kwargs(call, msdir, name))
    return name


def _named(e, call):
    """The parameter `e` names, when it is one of the call's and the message shows its value."""
    field = getattr(e, "field", None)
    if field not in call["kw"]:
        return None
    value = call["kw"][field]
    values = value if isinstance(value, list) else [value]
    text = str(e).lower()
    shown = any(str(v).lower() in text for v in values)
    return field if shown else None


# The calls pclean supports today must keep running (a call that starts failing is a regression,
# not a refusal): tclean's no-op values, per-MS lists, CASA 5's interactive=0 and chanchunks,
# restoration=False and the pipeline's iter0 -> iter1 restart among them.
SUPPORTED = [
    "pipeline2016_phasecal_iter0", "pipeline2016_phasecal_iter1", "pipeline2017_bandpass_iter0",
    "pipeline2017_bandpass_iter1", "stakeholder_standard_cube_iter0",
    "stakeholder_standard_cube_iter1", "casadocs_hogbom_mfs", "casadocs_automask",
    "casadocs_psf_pb_only", "w51_vla_qband_continuum", "casadocs_wproject_mtmfs",
    # phasecenter='JUPITER': tracked from the DE200 records bundled in testdata/measures.tar.gz.
    "casadocs_ephemeris_jupiter",
]


@pytest.mark.parametrize("name", [c["name"] for c in CALLS])
def test_tclean_call(name, msdir, tmp_path, record_property):
    call = BY_NAME[name]
    try:
        prefix = _run(call, msdir, tmp_path)
    except pclean.PcleanValueError as e:
        msg = str(e)
        assert name not in SUPPORTED, "%s: pclean supports this call, and it failed: %s" % (name, msg)
        assert "unknown parameter" not in msg, "%s: a tclean parameter is unknown: %s" % (name, msg)
        field = _named(e, call)
        assert field, "%s: the error names none of the call's parameters with its value: %r (field %r)" % (
            name, msg, getattr(e, "field", None))
        record_property("outcome", "refused: %s" % msg)
        return
    kw = call["kw"]
    exts = ["psf", "residual", "pb", "sumwt"]
    if kw.get("restoration", True):
        exts.append("image")
        if kw.get("pbcor"):
            exts.append("image.pbcor")
    else:
        # tclean's restoration=False: no restored image (nor its pb-corrected copy).
        assert not Path("%s.image" % prefix).exists() and not Path("%s.image.pbcor" % prefix).exists()
    if kw.get("deconvolver") == "mtmfs":
        # tclean's Taylor-term names: .psf.tt0, .image.tt0, .image.tt0.pbcor, ...
        exts = [e.replace("image.pbcor", "image.tt0.pbcor") if e == "image.pbcor" else e + ".tt0"
                for e in exts]
    missing = [e for e in exts if not Path("%s.%s" % (prefix, e)).exists()]
    assert not missing, "%s: products missing: %s" % (name, missing)
    record_property("outcome", "ok")

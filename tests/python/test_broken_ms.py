"""Malformed MeasurementSets (issue 20): pclean on broken copies of wideband_mosaic.ms gives a clear
error or a correct result, never a panic and never a silently wrong image. NaN/Inf visibilities,
non-finite UVW and unusable weights are treated as flagged, as CASA does: the products equal those
of a copy with the same rows flagged. Each outcome is written to out/reliability/ for
docs/reliability.md. The variants are in broken_ms.py."""
import json
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from broken_ms import VARIANTS, flag_rows
from conftest import ROOT, require_module, run_pclean, unpack_bundled

ARGS = ["--imsize", "64", "--cell", "0.8arcsec", "--niter", "0", "--pblimit", "-0.01"]
PRODUCTS = ("psf", "residual", "sumwt")
REPORT = ROOT / "out" / "reliability"


def record(item, fields):
    REPORT.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "_" for c in "broken_ms-" + item)
    (REPORT / (slug + ".json")).write_text(json.dumps({"section": "broken_ms", "item": item, "fields": fields}))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    require_module("casacore.tables", "python-casacore makes the broken copies")
    d = unpack_bundled(["wideband_mosaic.ms.tar.gz"], tmp_path_factory.mktemp("broken"))
    return d / "wideband_mosaic.ms"


def fresh_copy(pristine, tmp_path, name):
    ms = tmp_path / (name + ".ms")
    shutil.copytree(pristine, ms, ignore=shutil.ignore_patterns("table.lock"))
    return ms


def read_products(prefix):
    from casacore.images import image
    return {p: image(f"{prefix}.{p}").getdata() for p in PRODUCTS}


def last_line(p):
    lines = p.stderr.strip().splitlines()
    return lines[-1] if lines else ""


def assert_no_crash(p):
    err = p.stderr
    assert p.returncode != 101, "pclean panicked (exit 101):\n" + err[-3000:]
    assert "panicked" not in err and "internal error" not in err, err[-3000:]


@pytest.fixture(scope="module")
def flagged_reference(pristine, tmp_path_factory):
    d = tmp_path_factory.mktemp("flagref")
    ms = fresh_copy(pristine, d, "flagged")
    flag_rows(ms)
    run_pclean("image", "--vis", ms, "--imagename", d / "ref", *ARGS)
    return read_products(d / "ref")


@pytest.mark.parametrize("v", VARIANTS, ids=[v.name for v in VARIANTS])
def test_broken_ms(v, pristine, tmp_path, request):
    ms = fresh_copy(pristine, tmp_path, v.name)
    v.damage(str(ms))
    out = tmp_path / "img"
    p = run_pclean("image", "--vis", ms, "--imagename", out, *ARGS, *v.args, check=False)
    assert_no_crash(p)
    if v.expect == "warning":
        # Accepted with a warning that says what is wrong (as tclean: zero planes).
        assert p.returncode == 0, p.stderr[-3000:]
        warned = [ln for ln in p.stderr.splitlines() if " WARN " in ln and all(n in ln for n in v.needles)]
        assert warned, p.stderr[-3000:]
        msg = warned[0].split(" WARN ", 1)[1]
        record(v.name, {"damage": v.what, "outcome": "products with a warning", "message": msg[:300]})
    elif v.expect == "error":
        last = last_line(p)
        assert p.returncode != 0, "pclean accepted a broken MS (%s)" % v.what
        assert last.startswith("error:"), p.stderr[-3000:]
        for n in (v.name if n == "<ms>" else n for n in v.needles):
            assert n.lower() in last.lower(), (n, last)
        # Refused at set-up: no product. Failed while reading the data (products already
        # created): every product is marked incomplete and no summary claims a result.
        assert not (tmp_path / "img.summary.json").exists()
        for q in tmp_path.glob("img.*"):
            assert not q.is_dir() or (q / "pclean_incomplete").exists(), q
        record(v.name, {"damage": v.what, "outcome": "error", "message": last[len("error: "):][:300]})
    else:
        assert p.returncode == 0, p.stderr[-3000:]
        ref = request.getfixturevalue("flagged_reference")
        got = read_products(out)
        worst = 0.0
        for name in PRODUCTS:
            a, b = got[name], ref[name]
            assert np.all(np.isfinite(a)), name
            # The same samples are gridded in the same order with the same weights: the products
            # agree to float32 rounding (1e-6 of the peak allows for summation-order noise).
            scale = max(float(np.abs(b).max()), 1e-30)
            diff = float(np.abs(a - b).max()) / scale
            worst = max(worst, diff)
            assert diff <= 1e-6, (name, diff)
        record(v.name, {"damage": v.what, "outcome": "same products as with those rows flagged",
                        "max_rel_diff": worst})


HOLD_WRITE_LOCK = """
import sys, time
from casacore.tables import table
t = table(sys.argv[1], readonly=False, ack=False, lockoptions="permanent")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_ms_locked_by_another_writer(pristine, tmp_path):
    """An MS held with a permanent write lock by another process: pclean does not hang forever and
    does not crash; it reads the data (casacore lets a reader through a permanent write lock only
    after the writer releases it) or says the table is locked."""
    ms = fresh_copy(pristine, tmp_path, "locked")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_WRITE_LOCK, str(ms), "600"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        try:
            p = subprocess.run([run_pclean.__globals__["pclean_bin"](), "image", "--vis", str(ms),
                                "--imagename", str(tmp_path / "img"), *ARGS],
                               capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail("pclean waited more than 120 s on an MS locked by another writer")
        took = time.monotonic() - t0
        assert_no_crash(p)
        if p.returncode == 0:
            outcome = "read while the writer holds its lock (%.0f s)" % took
        else:
            last = last_line(p)
            assert last.startswith("error:") and "lock" in last.lower(), p.stderr[-3000:]
            outcome = "error: " + last[len("error: "):][:300]
        record("locked-by-writer", {"damage": "another process holds a permanent write lock",
                                    "outcome": outcome})
    finally:
        holder.kill()
        holder.wait()

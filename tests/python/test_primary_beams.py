"""Primary beams chosen from the data as tclean chooses them: the telescope name and frequency
(EVLA's per-band polynomial beams), a user `vptable`, and a clear error for a telescope without a
model when the beam is needed (never a silent beam of 1). The models themselves are checked
against tclean in the Rust tests (crates/pclean-grid/tests/pb_tclean.rs, pclean_engine::vptable).
"""
import shutil

import numpy as np
import pytest

from conftest import ROOT, require_module, run_pclean
from test_bad_input import assert_clean_failure

BASE = ["--imsize", "64", "--cell", "60arcsec", "--niter", "0", "--spw", "0:30~32", "--format", "casa"]


def renamed_ms(msdir, tmp_path, telescope, dish=None):
    """A copy of NGC5921 with OBSERVATION::TELESCOPE_NAME (and DISH_DIAMETER) changed."""
    require_module("casacore.tables", "python-casacore edits the test MS")
    from casacore.tables import table
    ms = tmp_path / f"{telescope.lower()}.ms"
    shutil.copytree(msdir / "ngc5921.ms", ms)
    with table(str(ms / "OBSERVATION"), readonly=False, ack=False) as t:
        t.putcol("TELESCOPE_NAME", [telescope] * t.nrows())
    if dish is not None:
        with table(str(ms / "ANTENNA"), readonly=False, ack=False) as t:
            t.putcol("DISH_DIAMETER", np.full(t.nrows(), float(dish)))
    return ms


def pb_of(name):
    from casacore.images import image
    return np.asarray(image(str(name) + ".pb").getdata())[0, 0]


def test_unknown_telescope_without_diameter_is_an_error_when_the_beam_is_needed(msdir, tmp_path):
    ms = renamed_ms(msdir, tmp_path, "MYSCOPE", dish=0.0)
    for extra in (["--pblimit", "0.2"], ["--pblimit", "-0.01", "--pbcor", "true"]):
        out = tmp_path / "needed"
        p = run_pclean("image", "--vis", ms, "--imagename", out, *BASE, *extra, check=False)
        assert_clean_failure(p, "MYSCOPE", "vptable", outprefix=out)


def test_unknown_telescope_without_diameter_writes_tcleans_zero_pb(msdir, tmp_path):
    ms = renamed_ms(msdir, tmp_path, "MYSCOPE", dish=0.0)
    out = tmp_path / "free"
    p = run_pclean("image", "--vis", ms, "--imagename", out, *BASE, "--pblimit", "-0.01")
    assert "MYSCOPE" in p.stderr
    assert np.all(pb_of(out) == 0.0)


def test_evla_uses_the_polynomial_beam_of_the_data_frequency(msdir, tmp_path):
    vla, evla = tmp_path / "vla", tmp_path / "evla"
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", vla, *BASE, "--pblimit", "0.05")
    run_pclean("image", "--vis", renamed_ms(msdir, tmp_path, "EVLA"), "--imagename", evla, *BASE,
               "--pblimit", "0.05")
    a, b = pb_of(vla), pb_of(evla)
    # 1.413 GHz: CASA's EVLA L-band fit at 1424 MHz, a power polynomial in r (arcmin GHz), vs the
    # VLA's Airy model (which falls faster: they differ by ~0.01 at half power).
    c = 1.0, -1.462e-3, 8.23e-7, -1.83e-10
    r = np.arange(1, 20) * 1.4134  # pixels along the row (60" = 1') -> arcmin * GHz at 1.4134 GHz
    want = sum(ck * r ** (2 * k) for k, ck in enumerate(c))
    # Tolerance: the beam is read without interpolation from a 10 000-sample table (step 0.0058
    # arcmin GHz; the beam's slope is below 0.035 per arcmin GHz here: 2e-4), and the image
    # frequency (the selected channels' LSRK centre) is known here to ~1e-4 relative: 3e-4.
    got = b[32, 33:52]
    assert np.max(np.abs(got - want)) < 3e-4, (got, want)
    assert np.max(np.abs(a - b)) > 5e-3


def test_vptable_gives_the_beam(msdir, tmp_path):
    tab = ROOT / "testdata" / "reference" / "tclean_vptable.tab"
    out = tmp_path / "vpt"
    run_pclean("image", "--vis", renamed_ms(msdir, tmp_path, "MYAIRY"), "--imagename", out, *BASE,
               "--pblimit", "0.05", "--vptable", tab)
    pb = pb_of(out)
    assert pb[32, 32] == 1.0 and 0.05 < pb[32, 45] < 0.99
    # The table defers VLA to CASA's built-in "VLA" beam (a polynomial, no band choice), as
    # tclean: not the L-band Airy pattern used without a table.
    vla, vla_tab = tmp_path / "vla", tmp_path / "vla_tab"
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", vla, *BASE, "--pblimit", "0.05")
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", vla_tab, *BASE, "--pblimit", "0.05",
               "--vptable", tab)
    assert np.max(np.abs(pb_of(vla) - pb_of(vla_tab))) > 5e-3
    # A table without the telescope is an error naming it.
    p = run_pclean("image", "--vis", renamed_ms(msdir, tmp_path, "NOSUCH"), "--imagename", tmp_path / "x",
                   *BASE, "--vptable", tab, check=False)
    assert_clean_failure(p, "NOSUCH", "vptable", outprefix=tmp_path / "x")

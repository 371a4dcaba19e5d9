"""Issue 14's w-correction acceptance against tclean: `gridder='wproject'` on a subset of the
simulated VLA D-configuration wide field (../shared/data/vla_widefield; one channel, pairs of
integrations averaged: testdata/vla_widefield_sub.ms.tar.gz, made with its tclean 6.7 references
by scripts/dev/make_widefield_subset.py, see testdata/README.md).

The reference keeps, for every source brighter than 20 mJy in tclean's image, a 15 x 15 pixel box
of tclean's wproject residual around its peak (and of tclean's standard-gridder residual for
contrast). pclean's dirty image must be within 1% of tclean's peak in every box (the issue's
bound) and put every source's peak on tclean's pixel, the farthest from the centre included."""
import json

import numpy as np
import pytest

from compare import load_casa
from conftest import REFERENCE, run_pclean, unpack_bundled

REF = json.loads((REFERENCE / "widefield_wproject.json").read_text())
# The bound: the dirty image within 1% of tclean's wproject peak.
TOL = 0.01


def run_subset(ms, out, name, params):
    """pclean on the bundled subset with tclean's `params`; the run's prefix."""
    cfg = out / (name + ".config.json")
    cfg.write_text(json.dumps({k: v for k, v in params.items() if k != "parallel"}))
    prefix = out / name
    p = run_pclean("image", "--config", cfg, "--vis", ms / "widefield_sub.ms", "--imagename",
                   prefix, "--overwrite", check=False)
    if p.returncode != 0:
        pytest.fail("pclean failed (%d): %s" % (p.returncode, p.stderr[-2000:]), pytrace=False)
    return prefix


def plane(prefix, ext):
    return load_casa("%s.%s" % (prefix, ext))[0][0, 0]  # (y, x)


@pytest.fixture(scope="module")
def wproject_residual(tmp_path_factory):
    ms = unpack_bundled(["vla_widefield_sub.ms.tar.gz"], tmp_path_factory.mktemp("wf_ms"))
    out = tmp_path_factory.mktemp("wf_out")
    return plane(run_subset(ms, out, "wp", REF["params"]["wproject"]), "residual")


def boxes():
    for b in REF["boxes"]:
        yield b, np.asarray(b["wproject"]), np.asarray(b["standard"])


def test_dirty_image_within_one_percent_of_tclean_wproject(wproject_residual):
    peak = max(np.abs(w).max() for _, w, _ in boxes())
    worst = 0.0
    for b, want, _ in boxes():
        x0, y0 = b["x0"], b["y0"]
        got = wproject_residual[y0:y0 + want.shape[0], x0:x0 + want.shape[1]]
        worst = max(worst, float(np.abs(got - want).max()) / peak)
    print("max |pclean - tclean| over %d source boxes: %.2e of the peak" % (len(REF["boxes"]), worst))
    assert worst <= TOL, worst


def test_sources_land_on_tclean_pixels(wproject_residual):
    far = max(REF["boxes"], key=lambda b: np.hypot(b["peak_pixel"][0] - 512, b["peak_pixel"][1] - 512))
    for b, want, _ in boxes():
        x0, y0 = b["x0"], b["y0"]
        got = wproject_residual[y0:y0 + want.shape[0], x0:x0 + want.shape[1]]
        gy, gx = np.unravel_index(np.argmax(got), got.shape)
        assert (x0 + gx, y0 + gy) == tuple(b["peak_pixel"]), (b["ra_deg"], b["dec_deg"])
    assert np.hypot(far["peak_pixel"][0] - 512, far["peak_pixel"][1] - 512) > 250


FACETS = json.loads((REFERENCE / "widefield_facets.json").read_text())
# tclean's faceted widefield PSF is its central facet's (zero outside; for odd facets one pixel off
# the image centre): pclean reproduces it (imaging/mod.rs central_facet_only). 1% of the peak is
# the bound; measured figures in docs/issue14-evidence.md.
FACET_TOL = 0.01


@pytest.fixture(scope="module")
def faceted(tmp_path_factory):
    ms = unpack_bundled(["vla_widefield_sub.ms.tar.gz"], tmp_path_factory.mktemp("wf_facets_ms"))
    out = tmp_path_factory.mktemp("wf_facets_out")
    runs = {}
    for name, case in FACETS["cases"].items():
        prefix = run_subset(ms, out, name, case["params"])
        runs[name] = (plane(prefix, "psf"), plane(prefix, "residual"))
    return runs


@pytest.mark.parametrize("name", sorted(FACETS["cases"]))
def test_faceted_widefield_psf_is_tclean_central_facet(name, faceted):
    case = FACETS["cases"][name]
    psf, _ = faceted[name]
    ny, nx = psf.shape
    a, b = (480, 544)
    errs = [np.abs(psf[ny // 2] - np.asarray(case["psf_row"])).max(),
            np.abs(psf[:, nx // 2] - np.asarray(case["psf_col"])).max(),
            np.abs(psf[a:b, a:b] - np.asarray(case["psf_centre"])).max()]
    print("%s psf: row %.2e, column %.2e, centre %.2e of the peak" % (name, *errs))
    zero = np.asarray(case["psf_row"]) == 0
    assert zero.any() and np.all(psf[ny // 2][zero] == 0), "zero outside the central facet"
    assert max(errs) < FACET_TOL, errs


@pytest.mark.parametrize("name", sorted(FACETS["cases"]))
def test_faceted_widefield_residual_within_one_percent(name, faceted):
    _, res = faceted[name]
    boxes = FACETS["cases"][name]["boxes"]
    peak = max(np.abs(np.asarray(b["residual"])).max() for b in boxes)
    worst = 0.0
    for b in boxes:
        want = np.asarray(b["residual"])
        got = res[b["y0"]:b["y0"] + 15, b["x0"]:b["x0"] + 15]
        worst = max(worst, float(np.abs(got - want).max()) / peak)
    print("%s residual: max |pclean - tclean| over %d source boxes %.2e of the peak" % (name, len(boxes), worst))
    assert worst <= FACET_TOL, worst

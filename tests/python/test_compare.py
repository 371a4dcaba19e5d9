"""The comparison helpers themselves (issue 12): a non-finite pixel in our product fails a comparison
instead of being skipped; only the reference's own blanked pixels are left out."""
import importlib.util
import math

import numpy as np
import pytest

from compare import assert_finite_where_reference_is, max_abs_diff, plane_errors, same_product_error
from conftest import ROOT


def cube(nchan=2, n=16, seed=0):
    return np.random.default_rng(seed).normal(size=(nchan, 1, n, n))


def test_plane_errors_fail_on_a_nan_pixel_of_ours():
    ref = cube()
    ours = ref + 1e-9
    assert max(plane_errors(ours, ref))[0] < 1e-8
    ours[1, 0, 8, 8] = np.nan  # inside the inner 60%
    worst = max(plane_errors(ours, ref))
    assert worst[0] == math.inf and worst[1] == 1
    assert not worst[0] <= 5e-3  # so every bound check on it fails
    ours[1, 0, 8, 8] = np.inf
    assert max(plane_errors(ours, ref))[0] == math.inf


def test_plane_errors_leave_out_only_the_references_blanked_pixels():
    ref, ours = cube(), cube()
    ref[0, 0, 8, 8] = ours[0, 0, 8, 8] = np.nan  # tclean's blanking beyond pblimit, ours the same
    ref[0, 0, 7, 7] = np.nan  # blanked in tclean only: left out
    assert all(math.isfinite(e) for e, _, _ in plane_errors(ours, ref))
    assert max_abs_diff(np.array([np.nan, 1.0]), np.array([5.0, 1.0])) == math.inf


def test_same_product_error_needs_the_same_blanking():
    a = cube()
    b = a.copy()
    assert same_product_error(a, b) == 0.0
    a[0, 0, 0, 0] = b[0, 0, 0, 0] = np.nan
    assert same_product_error(a, b) == 0.0
    a[1, 0, 3, 3] = np.nan
    assert same_product_error(a, b) == math.inf
    assert same_product_error(b, a) == math.inf  # a NaN only in the other product too


def test_finite_check_before_nan_aware_figures():
    ref = cube()
    ours = ref.copy()
    assert_finite_where_reference_is(ours, ref)
    ours[0, 0, 2, 2] = np.nan
    with pytest.raises(AssertionError, match="1 non-finite pixel"):
        assert_finite_where_reference_is(ours, ref)


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / (name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_product_regression_check_fails_on_a_nan_pixel():
    cp = load_script("compare_products")
    old = cube(n=32)
    new = old.copy()
    assert cp.array_diff(new, old)[0] == "same pixels"
    new[0, 0, 1, 1] += 1e-7 * np.abs(old).max()
    status, err, _ = cp.array_diff(new, old)
    assert status == "<= 1e-6 peak" and 0 < err <= 1e-6
    new[1, 0, 30, 30] = np.nan  # even at the edge, where the reference figures do not look
    assert cp.array_diff(new, old)[0] == "DIFFERENT"
    old[1, 0, 30, 30] = np.nan  # the same blanking in both: fine
    assert cp.array_diff(new, old)[0] == "<= 1e-6 peak"
    new[0, 0, 2, 2] += 2e-6 * np.abs(old[np.isfinite(old)]).max()
    assert cp.array_diff(new, old)[0] == "DIFFERENT"


def test_product_regression_check_compares_summaries_without_timing():
    cp = load_script("compare_products")
    old = {"channels": [{"sumwt": 10.0, "iterations": 5, "stop_reason": "threshold"}], "wall_time_s": 1.0,
           "peak_rss_mib": 50.0, "tasks": [{"channels": [0, 1], "wall_time_s": 0.3}]}
    new = {"channels": [{"sumwt": 10.0 * (1 + 1e-9), "iterations": 5, "stop_reason": "threshold"}],
           "wall_time_s": 9.0, "peak_rss_mib": 80.0, "tasks": [{"channels": [0, 1], "wall_time_s": 3.0}]}
    assert cp.json_diffs(new, old) == []
    new["channels"][0]["iterations"] = 6
    new["channels"][0]["sumwt"] = float("nan")
    assert len(cp.json_diffs(new, old)) == 2

"""Shared fixtures: the release binary, unpacked test MeasurementSets, and one run of each
acceptance command (session-scoped, so the products are made once per test session).

Missing prerequisites never pass silently: `require` / `require_module` fail the test when the
environment variable CI is set (non-empty) and skip it with the reason otherwise. Optional tiers
that need tools CI does not install are opt-in instead (see OPT_IN): deselected, and counted as
deselected, unless their environment variable is set."""
import importlib
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTDATA = ROOT / "testdata"
REFERENCE = TESTDATA / "reference"
SHARED = ROOT.parent / "shared" / "data"  # beside a developer's checkout; not in a user's clone



def unpack_bundled(tarballs, dest):
    """Unpack the bundled tarballs `tarballs` (names under testdata/) into `dest`; a missing one fails."""
    for name in tarballs:
        path = TESTDATA / name
        if not path.exists():
            pytest.fail("bundled MS %s is missing: the checkout is incomplete" % path, pytrace=False)
        with tarfile.open(path) as t:
            t.extractall(dest)
    return dest

def strict():
    """CI mode: set by .ci/run (and by CI itself); a missing prerequisite is then a failure."""
    return bool(os.environ.get("CI"))


def require(ok, reason):
    """Go on when `ok`; otherwise fail under CI, skip (with the reason) elsewhere. Usable inside a
    test, a fixture or at module level."""
    if ok:
        return
    if strict():
        pytest.fail("missing prerequisite (CI is set, so this is a failure, not a skip): " + reason,
                    pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_module(name, reason):
    """`importlib.import_module(name)`, or `require(False, ...)` with the reason and the ImportError."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        err = e  # reported outside the except block: no chained traceback in the failure
    require(False, "%s (%s)" % (reason, err))


def shared_or_bundled(full, bundled):
    """tclean's full reference in ../shared/data when present (a developer's checkout), else the
    subset bundled in testdata/ (a user's clone, or a clean clone without ../shared). The test runs
    on either; the bundled subset must exist (it ships with the repository)."""
    if full.exists():
        return full
    if not bundled.exists():
        pytest.fail("bundled reference %s is missing: the checkout is incomplete" % bundled, pytrace=False)
    return bundled


# Opt-in tiers: marker -> (environment variable that selects it, what it needs). Deselected without
# the variable; with it, the tests run and a missing tool fails them.
OPT_IN = {
    "casatools": ("PCLEAN_CASA_PYTHON", "a python interpreter with CASA's casatools"),
    # Whole shared data sets (not in a user's clone; the bundled subsets cover the normal suite).
    "shared_data": ("PCLEAN_SHARED_DATA", "../shared/data beside the checkout"),
}


def pytest_configure(config):
    for marker, (var, what) in OPT_IN.items():
        config.addinivalue_line("markers", "%s: opt-in tier; needs %s; runs when %s is set" % (marker, what, var))


def pytest_collection_modifyitems(config, items):
    off = {m for m, (var, _) in OPT_IN.items() if not os.environ.get(var)}
    keep, dropped = [], []
    for it in items:
        (dropped if off & {m.name for m in it.iter_markers()} else keep).append(it)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pclean_bin():
    exe = os.environ.get("PCLEAN_BIN", str(ROOT / "target" / "release" / "pclean"))
    if not Path(exe).exists():
        subprocess.run(["cargo", "build", "--release", "-p", "pclean-cli"], cwd=ROOT, check=True)
    return exe


def run_pclean(*args, check=True):
    """Run the pclean binary; returns CompletedProcess with text stdout/stderr."""
    p = subprocess.run([pclean_bin(), *map(str, args)], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError("pclean failed (%d): %s" % (p.returncode, p.stderr[-3000:]))
    return p


def run_reference_case(runs, info, name, msdir, outdir, not_imaging=("vis", "parallel")):
    """pclean with the tclean parameters of reference case `name` (`info[name]["params"]`, less
    `not_imaging`) on `msdir / params["vis"]`, once per case (cached in `runs`); returns the
    product prefix, failing the test with pclean's error when it fails."""
    if name not in runs:
        params = {k: v for k, v in info[name]["params"].items() if k not in not_imaging}
        cfg = outdir / (name + ".config.json")
        cfg.write_text(json.dumps(params))
        prefix = outdir / name
        p = run_pclean("image", "--config", cfg, "--vis", msdir / info[name]["params"]["vis"],
                       "--imagename", prefix, "--overwrite", check=False)
        runs[name] = (prefix, p)
    prefix, p = runs[name]
    if p.returncode != 0:
        pytest.fail("pclean failed on %s (%d): %s" % (name, p.returncode, p.stderr[-2000:]),
                    pytrace=False)
    return prefix


@pytest.fixture(scope="session")
def msdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("ms")
    for tgz in ("ngc5921.ms.tar.gz", "alma_sim.ms.tar.gz"):
        with tarfile.open(TESTDATA / tgz) as t:
            t.extractall(d)
    return d


@pytest.fixture(scope="session")
def outdir(tmp_path_factory):
    return tmp_path_factory.mktemp("out")


NGC_ARGS = ["--imsize", "256", "--cell", "15arcsec", "--specmode", "cube", "--nchan", "46", "--start", "5",
            "--width", "1", "--outframe", "LSRK", "--restfreq", "1420.405752MHz", "--weighting", "briggs",
            "--robust", "0.5", "--niter", "0", "--pblimit", "-0.01"]
ALMA_MFS_ARGS = ["--imsize", "512", "--cell", "0.1arcsec", "--specmode", "mfs", "--weighting", "briggs",
                 "--robust", "0.5", "--niter", "0", "--pblimit", "0.2"]


def image_run(ms, name, *args):
    """`pclean image --vis ms --imagename name args...`: (name, the summary it prints)."""
    p = run_pclean("image", "--vis", ms, "--imagename", name, *args)
    return name, json.loads(p.stdout)


def checkpoint_done(name):
    """(completed blocks, blocks) recorded in `name`'s checkpoint ((0, 1) while it does not exist or
    is mid-rename)."""
    try:
        c = json.loads(Path(f"{name}.checkpoint.json").read_text())
    except (OSError, ValueError):
        return 0, 1
    return sum(c["done"]), len(c["done"])


@pytest.fixture(scope="session")
def ngc_dirty(msdir, outdir):
    """The NGC5921 acceptance command of the foundation issue."""
    return image_run(msdir / "ngc5921.ms", outdir / "n5921", *NGC_ARGS)


@pytest.fixture(scope="session")
def alma_mfs(msdir, outdir):
    return image_run(msdir / "alma_small.ms", outdir / "amfs", *ALMA_MFS_ARGS)


NGC_CLEAN_ARGS = [a for a in NGC_ARGS if a not in ("--niter", "0")] + [
    "--deconvolver", "hogbom", "--niter", "6000", "--threshold", "8mJy", "--usemask", "auto-multithresh"]


@pytest.fixture(scope="session")
def ngc_clean(msdir, outdir):
    """The NGC5921 acceptance command of the deconvolution issue."""
    return image_run(msdir / "ngc5921.ms", outdir / "c5921", *NGC_CLEAN_ARGS)


@pytest.fixture(scope="session")
def alma_mfs_clean(msdir, outdir):
    """tclean_mfs_clean's parameters (testdata/reference/tclean_mfs_clean.params.json)."""
    return image_run(msdir / "alma_small.ms", outdir / "amfs_clean", *ALMA_MFS_ARGS[:-4], "--pblimit", "0.2",
                     "--deconvolver", "hogbom", "--niter", "2000", "--threshold", "5mJy", "--usemask", "pb",
                     "--pbmask", "0.2")

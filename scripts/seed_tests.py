#!/usr/bin/env python3
"""Run the seed system's own public-interface tests against pclean's Python package.

The seed (PyPI `casa-pclean`) ships its test suite in its source distribution. This script
downloads it with pip (`pip download --no-binary :all: --no-deps casa-pclean==0.2.3`, cached under
testdata/unpacked/seed/), unpacks its `tests/`, and runs the files that test its public interface
with pytest in this interpreter, where `import pclean` is pclean's package:

- run: test_cli.py, test_cli_defaults.py (the `python -m pclean` parser and entry point),
  test_submit.py (SLURM script generation), test_memory_estimate.py (the estimate API),
  test_image_concat.py (concatenation modes);
- not run (whole files): those of the seed's internals, casatools-backed and CASA's memory
  (listed, with the reason, in docs/migrating.md under "The seed's test suite");
- deselected: the single tests docs/migrating.md lists in its table (one row per test id with the
  reason it cannot pass against pclean). The table is the one list: this script reads it.

The seed's conftest.py resets caches of its own casatools modules; it is replaced by an empty one
(pclean has no such modules). Nothing of the seed is committed; the sdist stays in the cache.

Usage: scripts/seed_tests.py [PYTEST ARGS...]    (exit status: pytest's)
"""
from __future__ import annotations

import re
import subprocess
import sys
import tarfile
from pathlib import Path

SEED = "casa-pclean==0.2.3"
ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "testdata" / "unpacked" / "seed"
DOC = ROOT / "docs" / "migrating.md"
RUN = ["test_cli.py", "test_cli_defaults.py", "test_submit.py", "test_memory_estimate.py",
       "test_image_concat.py"]


def sdist() -> Path:
    """The seed's source distribution (downloaded once into the cache)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    have = sorted(CACHE.glob("casa_pclean-0.2.3.tar.gz"))
    if have:
        return have[0]
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:",
                    "--no-deps", "--disable-pip-version-check", "-d", str(CACHE), SEED],
                   check=True)
    return sorted(CACHE.glob("casa_pclean-0.2.3.tar.gz"))[0]


def unpack(archive: Path) -> Path:
    dest = CACHE / "src"
    tests = dest / "casa_pclean-0.2.3" / "tests"
    if not tests.is_dir():
        with tarfile.open(archive) as t:
            members = [m for m in t.getmembers() if "/tests/" in m.name]
            t.extractall(dest, members=members)
    # The seed's conftest resets its casatools modules' caches; pclean has none.
    (tests / "conftest.py").write_text('"""(replaced by pclean\'s scripts/seed_tests.py)"""\n')
    # pytest's settings: none of the seed's pyproject (its addopts name its coverage plugin).
    (tests.parent / "pytest-pclean.ini").write_text("[pytest]\n")
    return tests


def deselected() -> list:
    """Test ids of docs/migrating.md's table (`| \\`tests/...::...\\` | reason |`)."""
    ids = re.findall(r"^\|\s*`(tests/test_[^`]+::[^`]+)`\s*\|", DOC.read_text(), re.M)
    return ids


def main(argv: list) -> int:
    tests = unpack(sdist())
    base = tests.parent
    args = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider",
            "--rootdir", str(base), "-c", str(base / "pytest-pclean.ini")]
    for tid in deselected():
        args += ["--deselect", tid]
    args += [f"tests/{f}" for f in RUN] + argv
    print("running the seed's tests:", " ".join(RUN), f"({len(deselected())} deselected, "
          "docs/migrating.md says why)", flush=True)
    return subprocess.run(args, cwd=base).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

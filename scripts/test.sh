#!/usr/bin/env bash
# The whole test suite: Rust unit and integration tests (with the python-casacore oracle tests that a
# plain `cargo test` lists as ignored), then the Python oracle tier (python-casacore / astropy against
# tclean references). Installs what it needs.
#
# Nothing passes without running: with CI set (.ci/run sets CI=1), a test whose data, tool or oracle
# is missing fails; without it, pytest skips such a test and says why. Opt-in tiers that need tools
# this script does not install are deselected (counted as such) unless asked for: the casatools
# checks with PCLEAN_CASA_PYTHON=/path/to/python-with-casatools.
set -euo pipefail
cd "$(dirname "$0")/.."

# Python test oracles in a project-local virtual environment (PyPI wheels only), before the Rust
# tests: the Rust oracle tests run this interpreter (PCLEAN_PYTHON).
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
export PCLEAN_PYTHON="$PWD/.venv/bin/python"
# UT1 - UTC for the frequency-frame conversions: a frozen copy of casadata's IERS tables
# (geodetic/IERSeop97 from MJD 49000, IERSpredict; testdata/README.md), so that every machine,
# with or without CASA's measures data, converts frequencies as tclean did for the references.
mkdir -p testdata/unpacked
tar xzf testdata/measures.tar.gz -C testdata/unpacked
export PCLEAN_MEASURESPATH="$PWD/testdata/unpacked/measures"

# rubbl builds casacore's table system from source on the first build (~5 min on 2 cores).
cargo build --release --workspace --all-targets
cargo test --release --workspace
# Then the tests a plain `cargo test` lists as ignored: the `#[ignore = "oracle: ..."]` ones
# (python-casacore checks). Not the doc tests: an `ignore` code block is not meant to compile.
# Not `pb_models_match_tclean_whole_images` either: an opt-in tier that compares against whole
# tclean .pb images made by scripts/dev/tclean_pb_refs.py (PCLEAN_PB_REFDIR), too large to ship;
# the normal suite checks the committed profiles of the same cases.
cargo test --release --workspace --tests -- --ignored --skip pb_models_match_tclean_whole_images

# The Python package (pclean._native) into the same venv, built by maturin from the cargo target
# already built above (only the extension crate links; casacore is not rebuilt).
.venv/bin/python -m pip install --quiet --disable-pip-version-check "maturin>=1.5,<2"
(cd python && ../.venv/bin/maturin develop --release --quiet)

# A single-node SLURM cluster for the distributed tests (root with apt only). Its failure must not
# stop the rest of the suite; the SLURM tests then fail under CI and are skipped (saying why) otherwise.
if [ "$(id -u)" = 0 ]; then
    bash scripts/slurm/setup.sh || echo "warning: no SLURM cluster; the SLURM tests cannot run" >&2
fi

# Headless Chromium for the report test (tests/python/test_report.py opens the quick-look report and
# screenshots it into out/report-screenshots/, kept as CI artifacts); root with apt only, when missing.
if [ "$(id -u)" = 0 ] && ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    (export DEBIAN_FRONTEND=noninteractive
     apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends chromium >/dev/null) \
        || echo "warning: could not install chromium; the report test cannot run" >&2
fi

# The seed system's own public-interface tests (PyPI casa-pclean's sdist) against this package:
# docs/migrating.md lists the ones that cannot pass and why (about a minute).
.venv/bin/python scripts/seed_tests.py

export PCLEAN_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/pclean"
# --timeout: no test takes more than ~3 minutes on CI's 2 cores; one that hangs fails after 15
# (pytest-timeout, SIGALRM: the test fails with its stack, the rest of the suite runs on).
.venv/bin/python -m pytest -q -rsx --timeout 900 tests/python "$@"
# The reliability table (issue 20) from the rows the tests above wrote (docs/reliability.md is
# the committed copy).
python3 scripts/reliability_table.py --out out/reliability.md

#!/usr/bin/env bash
# The whole test suite: Rust unit and integration tests, then the Python oracle tier
# (python-casacore / astropy against tclean references). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Python test oracles in a project-local virtual environment (PyPI wheels only).
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt

# rubbl builds casacore's table system from source on the first build (~5 min on 2 cores).
cargo build --release --workspace --all-targets
cargo test --release --workspace

# The Python package (pclean._native) into the same venv, built by maturin from the cargo target
# already built above (only the extension crate links; casacore is not rebuilt).
.venv/bin/python -m pip install --quiet --disable-pip-version-check "maturin>=1.5,<2"
(cd python && ../.venv/bin/maturin develop --release --quiet)

# A single-node SLURM cluster for the distributed tests (root with apt only; otherwise those
# tests are skipped and say why). Its failure must not stop the rest of the suite.
if [ "$(id -u)" = 0 ]; then
    bash scripts/slurm/setup.sh || echo "warning: no SLURM cluster; the SLURM tests will be skipped" >&2
fi

export PCLEAN_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/pclean"
.venv/bin/python -m pytest -q tests/python "$@"

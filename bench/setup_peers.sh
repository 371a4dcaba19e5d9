#!/usr/bin/env bash
# Install the peers of the cube benchmark (bench/cube_bench.py): WSClean from Debian, CASA
# (casatools, casatasks, casadata from PyPI) in bench/.venv-casa configured for offline use, and
# bench/.venv-bench (numpy, astropy, python-casacore) for the benchmark driver and the MS generator.
# Idempotent: re-running only fills in what is missing.
#
#   bench/setup_peers.sh            # both
#   SKIP_WSCLEAN=1 bench/setup_peers.sh
#   SKIP_CASA=1 bench/setup_peers.sh
#   SKIP_DRIVER=1 bench/setup_peers.sh      # no bench/.venv-bench (numpy + python-casacore for
#                                           # cube_bench.py / make_synthetic_ms.py)
#   PYTHON=python3.11 bench/setup_peers.sh   # interpreter for the CASA venv (needs a casatools wheel)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${CASA_VENV:-$here/.venv-casa}"
python="${PYTHON:-python3}"

if [[ -z "${SKIP_WSCLEAN:-}" ]]; then
    if command -v wsclean >/dev/null 2>&1; then
        echo "wsclean: present ($(command -v wsclean))"
    else
        sudo=""
        [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
        $sudo apt-get update
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends wsclean
    fi
fi

if [[ -z "${SKIP_CASA:-}" ]]; then
    if [[ ! -x "$venv/bin/python" ]]; then
        "$python" -m venv "$venv"
    fi
    # work inside the venv: importing casatools writes a casa-*.log into the working directory
    pushd "$venv" >/dev/null
    if ! "$venv/bin/python" -c 'import casatools, casatasks, casadata' >/dev/null 2>&1; then
        "$venv/bin/python" -m pip install --upgrade pip
        "$venv/bin/python" -m pip install casatools casatasks casadata six  # casatasks imports six without declaring it
    fi
    # Offline configuration: measures tables from the casadata package, no auto-updates (the
    # benchmark must not touch the network, and casatools otherwise tries to fetch IERS data).
    datapath="$("$venv/bin/python" -c 'import casadata, os; print(os.path.join(os.path.dirname(casadata.__file__), "__data__"))')"
    mkdir -p "$HOME/.casa"
    cfg="$HOME/.casa/config.py"
    marker="# written by pclean bench/setup_peers.sh"
    if [[ -f "$cfg" ]] && ! grep -qF "$marker" "$cfg"; then
        echo "note: $cfg exists and was not written by this script; leaving it as is" >&2
    else
        cat > "$cfg" <<CFG
$marker
measurespath = "$datapath"
measures_auto_update = False
data_auto_update = False
nologfile = False
CFG
        echo "wrote $cfg (measurespath=$datapath)"
    fi
    "$venv/bin/python" -c 'import casatools; print("casatools", casatools.version_string())'
    popd >/dev/null
fi
if [[ -z "${SKIP_DRIVER:-}" ]]; then
    drv="$here/.venv-bench"
    if [[ ! -x "$drv/bin/python" ]]; then
        "$python" -m venv "$drv"
    fi
    if ! "$drv/bin/python" -c 'import numpy, astropy.io.fits, casacore.tables, casacore.images' >/dev/null 2>&1; then
        "$drv/bin/python" -m pip install numpy astropy python-casacore
    fi
    echo "driver venv: $drv"
fi
echo "peers ready"

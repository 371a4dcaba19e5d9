#!/usr/bin/env bash
# Install pclean from this checkout the way a user does, into fresh places, and run it:
#   cargo: `cargo install --locked --path crates/pclean-cli --root FRESH`, then `FRESH/bin/pclean --help`
#          and `pclean completions bash`;
#   pip:   a fresh venv, `pip install ./python` (the wheel built by maturin through pip's build
#          isolation, as on a fresh machine), then `python -m pclean --help` and the extension's import.
#
# Usage: scripts/install_check.sh [cargo|pip|all]      (default: all)
# Environment:
#   INSTALL_CHECK_TIMEOUT   seconds each install may take (default 5400: a cold build compiles
#                           casacore's C++, ~30 min on 2 cores); the step fails past it.
#   INSTALL_CHECK_FRESH_CARGO_HOME=1   an empty CARGO_HOME too (every crate downloaded again);
#                           default: the user's registry cache is reused, the install root is fresh.
#   CARGO_TARGET_DIR        reused when set (a warm build makes the check take minutes).
#   PYTHON                  the interpreter for the venv (default python3).
# Exit status: 0 when every step passed; the first failing step's message names it.
set -euo pipefail

what="${1:-all}"
case "$what" in cargo | pip | all) ;; *)
    echo "usage: $0 [cargo|pip|all]" >&2
    exit 2
    ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"
limit="${INSTALL_CHECK_TIMEOUT:-5400}"
work="$(mktemp -d "${TMPDIR:-/tmp}/pclean-install-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
fail() {
    echo "install check FAILED: $*" >&2
    exit 1
}

check_cargo() {
    local env=()
    if [[ "${INSTALL_CHECK_FRESH_CARGO_HOME:-0}" == 1 ]]; then
        env=(CARGO_HOME="$work/cargo-home")
    fi
    echo "== cargo install --locked --path crates/pclean-cli --root $work/cargo-root (limit ${limit}s)"
    local t0=$SECONDS
    env "${env[@]}" timeout "$limit" cargo install --locked --quiet \
        --path "$root/crates/pclean-cli" --root "$work/cargo-root" ||
        fail "cargo install (exit $?; 124 = past ${limit}s)"
    local bin="$work/cargo-root/bin/pclean"
    [[ -x "$bin" ]] || fail "cargo install made no $bin"
    timeout 60 "$bin" --help >"$work/help.txt" || fail "'pclean --help' of the installed binary"
    grep -q '^Usage: pclean' "$work/help.txt" || fail "'pclean --help' has no Usage line"
    timeout 60 "$bin" image --help | grep -q -- '--imagename' || fail "'pclean image --help' lists no --imagename"
    timeout 60 "$bin" completions bash | grep -q 'pclean' || fail "'pclean completions bash'"
    echo "cargo install: ok ($((SECONDS - t0)) s)"
}

check_pip() {
    local py="${PYTHON:-python3}"
    echo "== $py -m venv; pip install ./python (limit ${limit}s)"
    local t0=$SECONDS
    "$py" -m venv "$work/venv" || fail "cannot make a venv with $py"
    timeout "$limit" "$work/venv/bin/pip" install --quiet "$root/python" ||
        fail "pip install ./python (exit $?; 124 = past ${limit}s)"
    # Run from the scratch folder: the installed package, not the checkout's python/ folder.
    (cd "$work" && timeout 60 "$work/venv/bin/python" -m pclean --help >"$work/pyhelp.txt") ||
        fail "'python -m pclean --help' of the installed package"
    grep -qi 'usage' "$work/pyhelp.txt" || fail "'python -m pclean --help' has no usage line"
    (cd "$work" && timeout 60 "$work/venv/bin/python" -c \
        'import pclean, pclean._native as n; assert pclean.__file__.startswith("'"$work"'"), pclean.__file__; print("pclean", pclean.__version__)') ||
        fail "importing the installed extension"
    echo "pip install: ok ($((SECONDS - t0)) s)"
}

if [[ "$what" == cargo || "$what" == all ]]; then check_cargo; fi
if [[ "$what" == pip || "$what" == all ]]; then check_pip; fi
echo "install check: passed ($what)"

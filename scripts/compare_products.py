"""Product regression check: the README's acceptance commands give the same products with two pclean
binaries (issue 12, "What it must show").

    .venv/bin/python scripts/compare_products.py save  DIR --pclean OLD_BIN   # run, keep products in DIR
    .venv/bin/python scripts/compare_products.py check DIR --pclean NEW_BIN   # run again, compare with DIR

`save` runs every case below with OLD_BIN and stores its products in DIR (outside the repository;
the test MSs are unpacked into DIR/_ms). `check` runs them with NEW_BIN in a temporary directory
laid out the same way and compares every product file with DIR's:
- CASA images (python-casacore): pixels, pixel mask, coordinates, image info (restoring beams) and
  units; FITS files (astropy): every HDU's data and header;
- a product is `bitwise` when all its files are byte-identical (`table.lock` aside), `same pixels`
  when its arrays are equal bit for bit (metadata within 1e-6 relative), `<= 1e-6 peak` when
  max|new - old| <= 1e-6 x the old product's peak |value| (summation order may legitimately change;
  the issue's bound), else DIFFERENT. A non-finite pixel must be non-finite, with the same value,
  in both (pblimit blanking); a non-finite pixel in only one of them is a difference, never a pixel
  to skip;
- `<name>.summary.json` and `<name>.config.json`: equal as JSON, floats within 1e-6 relative, with
  timing and memory fields left out (keys ending in `_s`, `_mib`, `_gib`, or naming rss/alloc);
  per-channel sumwt, beams, peaks, iterations and stop reasons are compared one by one.

It prints one row per product and exits 1 on any difference (2 on a usage or run error). Run save
and check on the same machine: the summaries' scheduling fields (chans_per_block, threads_per_block,
tasks) are compared too and follow the machine's cores and free memory.
Options: `--only CASE[,CASE]` runs a subset (names as in CASES), `--keep` keeps check's
temporary directory (printed). Needs python-casacore, astropy and numpy (tests/python/requirements.txt,
installed into .venv by scripts/test.sh).

Typical use for a structural change: build the last commit before it (`git worktree add /tmp/base
<commit>; cargo build --release -p pclean-cli` there), `save /somewhere/baseline --pclean
/tmp/base/target/release/pclean`, then `check /somewhere/baseline --pclean target/release/pclean`
after each step.
"""
import argparse
import filecmp
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = ROOT / "testdata"
MS = {"ngc5921.ms": "ngc5921.ms.tar.gz", "alma_small.ms": "alma_sim.ms.tar.gz"}
REL_TOL = 1e-6  # the bound, relative to the product's peak

NGC = ["--vis", "_ms/ngc5921.ms", "--imsize", "256", "--cell", "15arcsec", "--specmode", "cube", "--nchan", "46",
       "--start", "5", "--width", "1", "--outframe", "LSRK", "--restfreq", "1420.405752MHz",
       "--weighting", "briggs", "--robust", "0.5", "--pblimit", "-0.01"]
ALMA = ["--vis", "_ms/alma_small.ms", "--imsize", "512", "--cell", "0.1arcsec", "--weighting", "briggs",
        "--robust", "0.5", "--pblimit", "0.2"]

# name -> list of pclean argument lists, run in order from the run directory (paths relative to it).
CASES = {
    # (a) NGC5921 dirty cube, exactly as scripts/demo.sh (and its FITS export).
    "ngc_dirty": [["image", "--imagename", "ngc_dirty/n5921", *NGC, "--niter", "0"],
                  ["export", "ngc_dirty/n5921.residual", "ngc_dirty/n5921.residual.fits"]],
    # (b) NGC5921 hogbom auto-multithresh clean cube, as scripts/demo.sh.
    "ngc_clean": [["image", "--imagename", "ngc_clean/c5921", *NGC, "--deconvolver", "hogbom", "--niter", "6000",
                   "--threshold", "8mJy", "--usemask", "auto-multithresh"]],
    # (c) alma_sim continuum dirty image, as scripts/demo.sh.
    "alma_mfs": [["image", "--imagename", "alma_mfs/amfs", *ALMA, "--specmode", "mfs", "--niter", "0"]],
    # (d) the 16-channel LSRK cube of alma_sim: dirty as tests/python/test_frames.py (tclean_lsrk_dirty),
    # and cleaned as tests/python/test_clean.py::test_alma_cube_recovers_the_true_sky_per_channel.
    "alma_lsrk": [["image", "--imagename", "alma_lsrk/lsrk", *ALMA, "--specmode", "cube", "--outframe", "LSRK",
                   "--niter", "0", "--interpolation", "linear"]],
    "alma_lsrk_clean": [["image", "--imagename", "alma_lsrk_clean/sky_cube", *ALMA, "--specmode", "cube",
                         "--outframe", "LSRK", "--deconvolver", "hogbom", "--niter", "10000", "--threshold", "1mJy",
                         "--usemask", "pb", "--pbmask", "0.2"]],
    # (e) the 4096^2 memory case of docs/memory.md.
    "big_4096": [["image", "--vis", "_ms/alma_small.ms", "--imagename", "big_4096/big", "--imsize", "4096",
                  "--cell", "0.02arcsec", "--specmode", "cube", "--nchan", "1", "--start", "0", "--width", "1",
                  "--weighting", "briggs", "--robust", "0.5", "--niter", "200", "--usemask", "pb",
                  "--pbmask", "0.2", "--threshold", "10mJy"]],
}

IGNORED_KEY = re.compile(r"(_s|_mib|_gib)$|rss|alloc")


def unpack_ms(run_dir):
    d = run_dir / "_ms"
    d.mkdir(parents=True, exist_ok=True)
    for name, tgz in MS.items():
        if not (d / name / "table.dat").is_file():
            with tarfile.open(TESTDATA / tgz) as t:
                t.extractall(d)


def run_cases(pclean, run_dir, cases):
    """Run `cases` with `pclean` from `run_dir`; returns {case: seconds}."""
    unpack_ms(run_dir)
    took = {}
    for case in cases:
        (run_dir / case).mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        for args in CASES[case]:
            p = subprocess.run([str(pclean), *args], cwd=run_dir, capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit("%s: pclean %s failed (%d):\n%s" % (case, " ".join(args), p.returncode, p.stderr[-3000:]))
        took[case] = time.monotonic() - t0
        print("ran %-16s %6.1f s" % (case, took[case]), file=sys.stderr)
    return took


# ---- comparisons --------------------------------------------------------------------------------

def array_diff(new, old):
    """(status, max|new - old| / peak|old|, note) for two arrays of one product. Non-finite pixels must
    agree exactly (same positions, same values): one that is non-finite in only one of them, or
    differs, gives inf, never a pixel to skip."""
    new, old = np.asarray(new), np.asarray(old)
    if new.shape != old.shape:
        return "DIFFERENT", math.inf, "shape %s vs %s" % (new.shape, old.shape)
    if new.dtype == bool or old.dtype == bool:
        n = int(np.count_nonzero(new != old))
        return ("same pixels", 0.0, "") if n == 0 else ("DIFFERENT", math.inf, "%d pixel(s) differ" % n)
    a, b = new.astype(np.float64), old.astype(np.float64)
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fa, fb) or not np.array_equal(a[~fa], b[~fb], equal_nan=True):
        n = int(np.count_nonzero((fa != fb) | (~fa & ~fb & ~((a == b) | (np.isnan(a) & np.isnan(b))))))
        return "DIFFERENT", math.inf, "%d non-finite pixel(s) not in both" % n
    if np.array_equal(a[fa], b[fb]):
        return "same pixels", 0.0, ""
    peak = float(np.max(np.abs(b[fb]))) if fb.any() else 0.0
    err = float(np.max(np.abs(a[fa] - b[fb]))) / peak if peak > 0 else math.inf
    return ("<= 1e-6 peak", err, "") if err <= REL_TOL else ("DIFFERENT", err, "pixels")


def json_diffs(new, old, path=""):
    """Paths where two JSON values differ: floats beyond 1e-6 relative, anything else unequal;
    timing and memory keys (IGNORED_KEY) are skipped."""
    if isinstance(new, dict) and isinstance(old, dict):
        out = []
        for k in sorted(set(new) | set(old)):
            if IGNORED_KEY.search(k):
                continue
            if k not in new or k not in old:
                out.append("%s/%s (only in %s)" % (path, k, "new" if k in new else "old"))
            else:
                out += json_diffs(new[k], old[k], "%s/%s" % (path, k))
        return out
    if isinstance(new, list) and isinstance(old, list):
        if len(new) != len(old):
            return ["%s (length %d vs %d)" % (path, len(new), len(old))]
        return [d for i, (x, y) in enumerate(zip(new, old)) for d in json_diffs(x, y, "%s[%d]" % (path, i))]
    if isinstance(new, float) or isinstance(old, float):
        if isinstance(new, (int, float)) and isinstance(old, (int, float)) and not isinstance(new, bool):
            x, y = float(new), float(old)
            if x == y or (math.isfinite(x) and math.isfinite(y) and abs(x - y) <= REL_TOL * max(abs(x), abs(y))):
                return []
        return ["%s (%r vs %r)" % (path, new, old)]
    return [] if new == old else ["%s (%r vs %r)" % (path, new, old)]


def same_files(a, b):
    """Every file of product a (a file or a CASA image directory) byte-identical to b's."""
    if a.is_file() and b.is_file():
        return filecmp.cmp(a, b, shallow=False)
    if not (a.is_dir() and b.is_dir()):
        return False
    fa = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and p.name != "table.lock")
    fb = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file() and p.name != "table.lock")
    return fa == fb and all(filecmp.cmp(a / f, b / f, shallow=False) for f in fa)


def worst(results):
    """Fold (status, err, note) rows of one product into one."""
    order = ["bitwise", "same pixels", "<= 1e-6 peak", "DIFFERENT"]
    status = max((r[0] for r in results), key=order.index)
    return status, max(r[1] for r in results), "; ".join(r[2] for r in results if r[2])


def compare_casa(new, old):
    from casacore.images import image
    a, b = image(str(new)), image(str(old))
    rows = [array_diff(a.getdata(), b.getdata())]
    s, e, note = array_diff(a.getmask(), b.getmask())
    if s == "DIFFERENT":
        rows.append((s, e, "pixel mask: " + note))
    for what, x, y in (("coordinates", a.coordinates().dict(), b.coordinates().dict()),
                       ("imageinfo", a.imageinfo(), b.imageinfo()), ("unit", a.unit(), b.unit()),
                       ("miscinfo", a.miscinfo(), b.miscinfo())):
        d = json_diffs(to_jsonable(x), to_jsonable(y))
        if d:
            rows.append(("DIFFERENT", math.inf, "%s: %s" % (what, ", ".join(d[:3]))))
    return worst(rows)


def compare_fits(new, old):
    from astropy.io import fits
    rows = []
    with fits.open(new) as ha, fits.open(old) as hb:
        if len(ha) != len(hb):
            return "DIFFERENT", math.inf, "%d vs %d HDUs" % (len(ha), len(hb))
        for i, (x, y) in enumerate(zip(ha, hb)):
            if x.data is not None or y.data is not None:
                if x.data is None or y.data is None:
                    rows.append(("DIFFERENT", math.inf, "HDU %d data" % i))
                elif isinstance(x, fits.BinTableHDU):
                    for col in y.columns.names:
                        s, e, note = array_diff(x.data[col], y.data[col])
                        rows.append((s, e, "HDU %d %s: %s" % (i, col, note) if note else ""))
                else:
                    s, e, note = array_diff(x.data, y.data)
                    rows.append((s, e, "HDU %d: %s" % (i, note) if note else ""))
            hx = {k: v for k, v in x.header.items() if k not in ("DATE", "HISTORY", "COMMENT")}
            hy = {k: v for k, v in y.header.items() if k not in ("DATE", "HISTORY", "COMMENT")}
            d = json_diffs(to_jsonable(hx), to_jsonable(hy))
            if d:
                rows.append(("DIFFERENT", math.inf, "HDU %d header: %s" % (i, ", ".join(d[:3]))))
    return worst(rows or [("same pixels", 0.0, "")])


# Parameters the new binary's schema has, with their defaults (`pclean params`): a parameter added
# to the schema appears in `<name>.config.json` (the effective parameters) at its default; that is
# not a change of the run (its products are compared on their own).
NEW_PARAM_DEFAULTS = {}


def compare_json(new, old):
    n, o = json.loads(Path(new).read_text()), json.loads(Path(old).read_text())
    added = []
    if Path(new).name.endswith(".config.json") and isinstance(n, dict) and isinstance(o, dict):
        added = sorted(k for k in set(n) - set(o)
                       if k in NEW_PARAM_DEFAULTS and n[k] == NEW_PARAM_DEFAULTS[k])
        n = {k: v for k, v in n.items() if k not in added}
    d = json_diffs(n, o)
    if not d and added:
        return "same fields", 0.0, "new parameter(s) at their default: " + ", ".join(added)
    if d:
        return "DIFFERENT", math.inf, "%d field(s): %s" % (len(d), ", ".join(d[:4]))
    return "same fields", 0.0, "timing/memory fields left out"


def to_jsonable(x):
    if isinstance(x, dict):
        return {str(k): to_jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return to_jsonable(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    return x


def compare_product(new, old):
    """(status, err, note) of one product path (CASA image directory, FITS file or JSON file)."""
    if not new.exists():
        return "DIFFERENT", math.inf, "missing in the new run"
    if new.suffix == ".json":
        return compare_json(new, old)
    if same_files(new, old):
        return "bitwise", 0.0, ""
    if new.suffix == ".fits":
        return compare_fits(new, old)
    if (old / "table.dat").is_file():
        return compare_casa(new, old)
    return "DIFFERENT", math.inf, "files differ"


def products(case_dir):
    """Product paths of one case directory (CASA images, FITS files, summary/config JSON)."""
    return sorted(p for p in case_dir.iterdir() if p.suffix in (".json", ".fits") or (p / "table.dat").is_file())


def check(saved, new_dir, cases, pclean=None):
    if pclean:
        spec = json.loads(subprocess.run([str(pclean), "params"], check=True, capture_output=True,
                                         text=True).stdout)
        NEW_PARAM_DEFAULTS.update({p["name"]: p["default"] for p in spec})
    rows = []
    for case in cases:
        old_products = products(saved / case)
        if not old_products:
            sys.exit("%s: nothing saved in %s (run save first)" % (case, saved / case))
        names = {p.name for p in old_products} | {p.name for p in products(new_dir / case)}
        for name in sorted(names):
            old, new = saved / case / name, new_dir / case / name
            if not old.exists():
                rows.append((case, name, "DIFFERENT", math.inf, "not in the saved products"))
            else:
                rows.append((case, name, *compare_product(new, old)))
    print("%-16s %-26s %-12s %-13s %s" % ("case", "product", "status", "max|d|/peak", "note"))
    for case, name, status, err, note in rows:
        e = "-" if status in ("bitwise", "same pixels", "same fields") else ("%.2e" % err)
        print("%-16s %-26s %-12s %-13s %s" % (case, name, status, e, note))
    bad = [r for r in rows if r[2] == "DIFFERENT"]
    print("%d product(s) compared, %d different" % (len(rows), len(bad)))
    return 1 if bad else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["save", "check"])
    ap.add_argument("dir", type=Path, help="where the saved products are (save writes them there)")
    ap.add_argument("--pclean", required=True, type=Path, help="the pclean binary to run")
    ap.add_argument("--only", help="comma-separated subset of: " + ", ".join(CASES))
    ap.add_argument("--keep", action="store_true", help="check: keep the new products (path printed)")
    a = ap.parse_args(argv)
    cases = a.only.split(",") if a.only else list(CASES)
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        ap.error("unknown case(s) %s; known: %s" % (unknown, ", ".join(CASES)))
    if not os.access(a.pclean, os.X_OK):
        ap.error("%s is not an executable" % a.pclean)
    pclean = a.pclean.resolve()
    if a.mode == "save":
        for c in cases:
            shutil.rmtree(a.dir / c, ignore_errors=True)
        run_cases(pclean, a.dir.resolve(), cases)
        (a.dir / "SAVED_WITH.txt").write_text("%s\n%s\n" % (pclean, subprocess.run(
            [str(pclean), "--version"], capture_output=True, text=True).stdout.strip()))
        print("saved %s in %s" % (", ".join(cases), a.dir))
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="pclean-products-"))
    try:
        run_cases(pclean, tmp, cases)
        return check(a.dir.resolve(), tmp, cases, pclean)
    finally:
        if a.keep:
            print("new products kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""Concatenation utilities (`pclean concat`) and storage tools (`pclean inspect`, `convert-adios2`).

Sub-cubes of NGC5921 made with `pclean image --imagename <base>.part<i>` (contiguous `--start`/`--nchan`)
are joined in each mode and opened with python-casacore; the result must be the single full-cube run:
same shape, spectral axis, per-plane beams and pixels. Pixel tolerance: each channel is gridded, weighted
(perchanweightdensity, the default) and transformed identically in the sub-cube and full-cube runs, so
planes agree to float32 rounding; 1e-6 of the peak leaves room for a different summation order between
channel blocks and is far below any imaging error.

Opt-in tier (marker `casatools`, deselected unless `PCLEAN_CASA_PYTHON` names a python with casatools,
e.g. the bench's `bench/.venv-casa/bin/python`): casatools must open the virtual concatenation too and
its own `ia.imageconcat` must write the same `imageconcat.json`.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from casacore.images import image
from casacore.tables import table

from conftest import NGC_ARGS, run_pclean

NCHAN_PART = 4
NPARTS = 3
START = 5
EXTS = ["image", "residual", "psf", "model", "pb", "sumwt", "weight", "image.pbcor"]


def small_args(start, nchan):
    """NGC_ARGS at 64x64 pixels for channels start..start+nchan, with .image.pbcor (8 products)."""
    args = list(NGC_ARGS)
    for flag, value in (("--imsize", "64"), ("--nchan", str(nchan)), ("--start", str(start))):
        args[args.index(flag) + 1] = value
    return args + ["--pbcor", "true"]


@pytest.fixture(scope="module")
def cubes(msdir, tmp_path_factory):
    """The full cube (`full.*`, 12 channels) and its three sub-cubes (`sc.part<i>.*`) in one directory."""
    d = tmp_path_factory.mktemp("concat")
    ms = msdir / "ngc5921.ms"
    run_pclean("image", "--vis", ms, "--imagename", d / "full", *small_args(START, NCHAN_PART * NPARTS))
    for i in range(NPARTS):
        run_pclean("image", "--vis", ms, "--imagename", d / f"sc.part{i}",
                   *small_args(START + i * NCHAN_PART, NCHAN_PART))
    return d


def copy_parts(src, dst, ext="image"):
    dst.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(NPARTS):
        p = dst / f"sc.part{i}.{ext}"
        shutil.copytree(src / f"sc.part{i}.{ext}", p)
        out.append(p)
    return out


def spectral(im):
    sp = im.coordinates().get_coordinate("spectral")
    return sp.get_referencevalue(), sp.get_referencepixel(), sp.get_increment(), sp.get_frame()


def beams(im):
    info = im.imageinfo()
    if "perplanebeams" not in info:
        return None
    pb = info["perplanebeams"]
    n = pb["nChannels"] * pb["nStokes"]
    return np.array([[pb[f"*{i}"][k]["value"] for k in ("major", "minor", "positionangle")] for i in range(n)])


def assert_same_cube(path, full_path):
    """`path` (any image casacore opens) equals the full-cube product `full_path`."""
    im, full = image(str(path)), image(str(full_path))
    assert im.shape() == full.shape()
    assert spectral(im) == spectral(full)
    nchan = full.shape()[0]
    freqs = [im.toworld([c, 0, 0, 0])[0] for c in range(nchan)]
    assert freqs == [full.toworld([c, 0, 0, 0])[0] for c in range(nchan)]
    assert im.unit() == full.unit()
    b, bf = beams(im), beams(full)
    if bf is None:
        assert b is None
    else:
        # Beams are fitted to PSFs from separate runs: a channel gridded by two threads sums in a
        # scheduling-dependent order (~1e-7 relative in the PSF), so the fits agree to ~1e-7;
        # 1e-6 relative bounds that and is far below any beam-fitting error.
        np.testing.assert_allclose(b, bf, rtol=1e-6)
    a, af = im.getdata(), full.getdata()
    peak = np.nanmax(np.abs(af)) or 1.0
    np.testing.assert_allclose(a, af, rtol=0, atol=1e-6 * peak)


def test_paged_concat_equals_full_cube(cubes, tmp_path):
    parts = copy_parts(cubes, tmp_path)
    out = tmp_path / "joined.image"
    p = run_pclean("concat", out, *parts)
    rep = json.loads(p.stdout)
    assert rep["mode"] == "paged" and rep["shape"] == [64, 64, 1, 12]
    assert rep["nchan_per_input"] == [NCHAN_PART] * NPARTS
    assert rep["warnings"] == []
    assert image(str(out)).imagetype() == "PagedImage"
    assert_same_cube(out, cubes / "full.image")


@pytest.mark.parametrize("mode", ["nomovevirtual", "movevirtual"])
def test_virtual_concat_opens_in_casacore(cubes, tmp_path, mode):
    parts = copy_parts(cubes, tmp_path / "run")
    out = tmp_path / "run" / "joined.image"
    rep = json.loads(run_pclean("concat", out, *parts, "--mode", mode).stdout)
    doc = json.loads((out / "imageconcat.json").read_text())
    assert {k: doc[k] for k in ("Version", "DataType", "Axis", "TempClose")} == {
        "Version": 1, "DataType": "float", "Axis": 3, "TempClose": True}
    prefix = "././" if mode == "movevirtual" else "./"
    assert doc["Images"] == [prefix + p.name for p in parts]
    if mode == "movevirtual":
        assert not any(p.exists() for p in parts)
        assert [Path(m) for m in rep["members"]] == [out / p.name for p in parts]
    im = image(str(out))
    assert im.imagetype() == "ImageConcat"
    assert_same_cube(out, cubes / "full.image")
    # Member names are relative: the concatenation (with its inputs) can be moved.
    moved = tmp_path / "elsewhere"
    shutil.move(str(tmp_path / "run"), str(moved))
    assert_same_cube(moved / "joined.image", cubes / "full.image")


def test_subcubes_paged_runs_extensions_in_parallel(cubes, tmp_path):
    for ext in EXTS:
        copy_parts(cubes, tmp_path, ext)
    base = tmp_path / "sc"
    p = run_pclean("concat", "--subcubes", base, "--nparts", NPARTS, "--max-workers", 4)
    rep = json.loads(p.stdout)
    assert [e["ext"] for e in rep["extensions"]] == EXTS
    assert rep["workers"] == 4
    # Parallelism: several extensions were being written at the same moment, on different workers.
    assert rep["max_concurrent"] >= 2, rep
    assert len({e["worker"] for e in rep["extensions"]}) >= 2
    assert "worker" in p.stderr  # progress lines name the worker
    for ext in EXTS:
        assert_same_cube(Path(f"{base}.{ext}"), cubes / f"full.{ext}")
    # The measure is sound: one worker never overlaps itself.
    one = json.loads(run_pclean("concat", "--subcubes", base, "--nparts", NPARTS, "--max-workers", 1,
                                "--overwrite").stdout)
    assert one["workers"] == 1 and one["max_concurrent"] == 1


def test_subcubes_virtual_and_missing_parts(cubes, tmp_path):
    for ext in ("image", "psf"):
        copy_parts(cubes, tmp_path, ext)
    base = tmp_path / "sc"
    rep = json.loads(run_pclean("concat", "--subcubes", base, "--nparts", NPARTS, "--mode",
                                "nomovevirtual").stdout)
    assert [e["ext"] for e in rep["extensions"]] == ["image", "psf"]
    assert_same_cube(Path(f"{base}.psf"), cubes / "full.psf")
    p = run_pclean("concat", "--subcubes", base, "--nparts", NPARTS, "--extensions", "image,residual",
                   "--overwrite", check=False)
    assert p.returncode == 1
    assert "sub-cube 0 of extension 'residual' is missing" in p.stderr


def test_concat_errors_are_clear(cubes, msdir, tmp_path):
    parts = copy_parts(cubes, tmp_path)
    out = tmp_path / "joined.image"

    def fails(*args):
        p = run_pclean("concat", *args, check=False)
        assert p.returncode == 1, p.stdout
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
        return lines[0]

    msg = fails(out, parts[0], tmp_path / "nope.image")
    assert "input 2 (" in msg and "nope.image) does not exist" in msg
    assert "is not contiguous in frequency" in fails(out, parts[1], parts[0])
    assert "is not contiguous in frequency" in fails(out, parts[0], parts[2])
    assert "only the spectral axis" in fails(out, *parts, "--axis", "2")
    # A cube of another size.
    odd = tmp_path / "odd"
    args = small_args(START + NCHAN_PART, NCHAN_PART)
    args[args.index("--imsize") + 1] = "32"
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", odd, *args)
    assert "nx is 32 but input 1 has 64" in fails(out, parts[0], f"{odd}.image")
    # An existing output needs --overwrite.
    run_pclean("concat", out, *parts)
    assert "already exists" in fails(out, *parts)
    run_pclean("concat", out, *parts, "--overwrite", "--mode", "nomovevirtual")
    # relax: a PSF (with beams) followed by a primary beam (none): refused without relax, joined
    # without beams (and warnings for the differing units/type) with it.
    psf0 = copy_parts(cubes, tmp_path / "p", "psf")[0]
    pb1 = copy_parts(cubes, tmp_path / "q", "pb")[1]
    assert "has none" in fails(tmp_path / "mixed.image", psf0, pb1, "--no-relax")
    rep = json.loads(run_pclean("concat", tmp_path / "mixed.image", psf0, pb1).stdout)
    assert any("no beam" in w for w in rep["warnings"])
    assert "perplanebeams" not in image(str(tmp_path / "mixed.image")).imageinfo()


def inspect_json(ms):
    return json.loads(run_pclean("inspect", "--json", ms).stdout)


@pytest.mark.parametrize("name", ["ngc5921.ms", "alma_small.ms"])
def test_inspect_matches_getdminfo(msdir, name):
    ms = msdir / name
    rep = inspect_json(ms)
    t = table(str(ms), ack=False)
    dminfo = t.getdminfo()
    expected = {c: (dm["TYPE"], dm["NAME"]) for dm in dminfo.values() for c in dm["COLUMNS"]}
    got = {c["name"]: (c["dm_type"], c["dm_name"]) for c in rep["columns"]}
    assert got == expected
    assert set(got) == set(t.colnames())
    assert rep["nrow"] == t.nrows()
    # Tile shapes of the tiled managers, as getdminfo reports them.
    for dm in rep["data_managers"]:
        ref = next(d for d in dminfo.values() if d["NAME"] == dm["name"])
        assert dm["type"] == ref["TYPE"] and sorted(dm["columns"]) == sorted(ref["COLUMNS"])
        for hc, spec in ref["SPEC"].get("HYPERCUBES", {}).items():
            assert dm["spec"][f"HYPERCUBES.{hc}.TileShape"] == str([int(x) for x in spec["TileShape"]])
        if "BUCKETSIZE" in ref["SPEC"]:
            assert dm["spec"]["BUCKETSIZE"] == str(ref["SPEC"]["BUCKETSIZE"])
    # Cell shapes (casacore order) of the data column.
    data = next(c for c in rep["columns"] if c["name"] == "DATA")
    assert data["shape"] == list(t.getcell("DATA", 0).shape[::-1])
    text = run_pclean("inspect", ms).stdout
    line = next(l for l in text.splitlines() if l.startswith("DATA "))
    assert f"{expected['DATA'][0]} '{expected['DATA'][1]}'" in line


def test_adios2_answers_and_errors(msdir, tmp_path):
    ms = msdir / "ngc5921.ms"
    rep = inspect_json(ms)
    assert rep["uses_adios2"] is False
    sup = rep["adios2_support"]
    assert sup["read"] is False and sup["write"] is False
    assert "not registered" in sup["why"]
    assert "Adios2StMan: not used" in run_pclean("inspect", ms).stdout
    for extra in ([], ["--nparts", "2"]):
        out = tmp_path / f"out{len(extra)}"
        p = run_pclean("convert-adios2", ms, out, *extra, check=False)
        assert p.returncode == 1
        assert "Adios2StMan is not available in this build" in p.stderr
        assert "-DUSE_ADIOS2=ON" in p.stderr
        assert not out.exists()


def casa_python(cwd):
    """$PCLEAN_CASA_PYTHON, which selects this opt-in tier (conftest.OPT_IN); it must import casatools."""
    py = os.environ["PCLEAN_CASA_PYTHON"]
    # casatools writes a log file into its working directory.
    ok = subprocess.run([py, "-c", "import casatools"], capture_output=True, text=True, cwd=cwd)
    assert ok.returncode == 0, "PCLEAN_CASA_PYTHON=%s cannot import casatools: %s" % (py, ok.stderr[-1000:])
    return py


@pytest.mark.casatools
def test_casatools_opens_virtual_concat_and_writes_the_same_json(cubes, tmp_path):
    py = casa_python(tmp_path)
    parts = copy_parts(cubes, tmp_path)
    ours = tmp_path / "ours.image"
    run_pclean("concat", ours, *parts, "--mode", "nomovevirtual")
    script = f"""
import json, casatools
ia = casatools.image()
ia.open({str(ours)!r})
shape = ia.shape().tolist()
nbeams = ia.restoringbeam()['nChannels']
peak = float(abs(ia.getchunk()).max())
ia.close()
r = ia.imageconcat(outfile={str(tmp_path / 'casa.image')!r}, infiles={[str(p) for p in parts]!r},
                   mode='nomovevirtual', relax=True, axis=-1, overwrite=True)
r.done()
print(json.dumps(dict(shape=shape, nbeams=nbeams, peak=peak)))
"""
    p = subprocess.run([py, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    full = image(str(cubes / "full.image"))
    assert got["shape"] == full.shape()[::-1]
    assert got["nbeams"] == 12
    assert got["peak"] == pytest.approx(float(np.abs(full.getdata()).max()), rel=1e-6)
    mine = json.loads((ours / "imageconcat.json").read_text())
    theirs = json.loads((tmp_path / "casa.image" / "imageconcat.json").read_text())
    assert mine == theirs

"""The Python package (pclean.pclean, PcleanConfig, the estimate functions, the error mapping)
and the engine hook of the Dask driver (Coordinator + run_block called in-process), against the
CLI: same keys, same numbers, same products."""
import json

import numpy as np
import pytest

import compare
from conftest import require_module, run_pclean

pclean = require_module("pclean", "the pclean package is not installed (scripts/test.sh installs it)")
from pclean import _native  # noqa: E402

casacore_images = require_module("casacore.images", "python-casacore is the oracle of these tests")

PRODUCTS = ["psf", "residual", "image", "model", "pb", "sumwt", "weight"]

# The NGC5921 acceptance parameters as Python keywords (tclean's types: ints, strings).
NGC_KW = dict(imsize=256, cell="15arcsec", specmode="cube", nchan=46, start=5, width=1, outframe="LSRK",
              restfreq="1420.405752MHz", weighting="briggs", robust=0.5, niter=0, pblimit=-0.01)


def assert_same_products(ours, ref, tol=1e-6):
    """Every product plane within `tol` of the peak, and the beams within `tol` (relative).

    1e-6: the runs differ only in thread scheduling (summation order of float32 grids), which
    moves values by ~1e-8 of the peak; anything larger is a real difference."""
    compare.assert_same_products(ours, ref, PRODUCTS)
    ia = casacore_images.image(f"{ours}.image").imageinfo()["perplanebeams"]
    ib = casacore_images.image(f"{ref}.image").imageinfo()["perplanebeams"]
    for k, v in ib.items():
        if k.startswith("*"):
            for q in ("major", "minor"):
                assert abs(ia[k][q]["value"] - v[q]["value"]) <= tol * v[q]["value"], (k, q)


# --- configuration -------------------------------------------------------------------------------

def test_schema_is_the_cli_config_schema():
    s = pclean.schema()
    for key in ["vis", "imsize", "cell", "specmode", "weighting", "robust", "niter", "pblimit", "parallel",
                "nworkers", "threads_per_worker", "memory_limit", "local_directory", "cluster_type",
                "scheduler_address", "cube_chunksize", "keep_subcubes", "keep_partimages", "concat_mode",
                "slurm_queue", "slurm_account", "slurm_walltime", "slurm_job_mem", "slurm_cores_per_job",
                "slurm_job_name", "slurm_job_extra_directives", "slurm_python", "slurm_local_directory",
                "slurm_log_directory", "slurm_job_script_prologue"]:
        assert key in s, key
    assert s["imsize"] == [100] and s["weighting"] == "natural" and s["parallel"] is False
    # The CLI's --dump-config prints exactly these keys and defaults.
    import tomllib  # noqa: PLC0415 (Python >= 3.11 in CI)
    dumped = tomllib.loads(run_pclean("image", "--dump-config").stdout)
    assert dumped == s


def test_signature_cli_help_and_schema_agree():
    """One declaration: pclean.params(), the config schema, inspect.signature(pclean.pclean) and
    `pclean image --help` show every parameter with the same default."""
    import inspect  # noqa: PLC0415
    params = pclean.params()
    schema = pclean.schema()
    sig = inspect.signature(pclean.pclean).parameters
    assert [p["name"] for p in params] == [k for k in sig if k not in ("config", "preset")]
    assert {p["name"] for p in params} == set(schema)
    help_text = " ".join(run_pclean("image", "--help").stdout.split())
    for p in params:
        name = p["name"]
        assert sig[name].default == schema[name] == p["default"], name
        assert sig[name].kind is inspect.Parameter.KEYWORD_ONLY
        flag = "--" + name.replace("_", "-")
        assert f"{flag} " in help_text, flag
        assert f"[default: {p['default_text']}]" in help_text, (name, p["default_text"])
    for name in ("cycleniter", "pbmask", "perchanweightdensity", "worker_timeout_s", "task_retries"):
        assert name in sig and name in schema
    assert schema["cycleniter"] == -1 and schema["perchanweightdensity"] is True
    assert next(p for p in params if p["name"] == "deconvolver")["choices"] == ["hogbom", "clark", "clarkstokes", "multiscale", "mtmfs"]


def test_python_holds_no_second_list_of_parameters():
    """The driver's keys come from the declaration too: no line of python/pclean names three
    parameters as strings (a second list)."""
    import re  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415
    names = {p["name"] for p in pclean.params()}
    root = Path(__file__).resolve().parents[2] / "python" / "pclean"
    for f in root.rglob("*.py*"):
        for i, line in enumerate(f.read_text().splitlines(), 1):
            quoted = set(re.findall(r"[\"']([a-z_]+)[\"']", line)) & names
            assert len(quoted) < 3, f"{f}:{i}: {sorted(quoted)}"


def test_tclean_value_types():
    c = pclean.PcleanConfig(vis="a.ms", imsize=256, cell=0.5, start=5, width="2", threshold=0.001)
    assert c["vis"] == ["a.ms"] and c["imsize"] == [256] and c["cell"] == ["0.5arcsec"]
    assert c["start"] == "5" and c["width"] == "2" and c["threshold"] == "0.001Jy"
    assert pclean.PcleanConfig(imsize=np.int64(64))["imsize"] == [64]


def test_vlass_preset():
    assert "vlass" in pclean.preset_names()
    v = pclean.PcleanConfig.from_preset("vlass")
    assert v["specmode"] == "mfs" and v["imsize"] == [7290] and v["cell"] == ["1.0arcsec"]
    assert v["weighting"] == "briggs" and v["robust"] == 1.0 and v["deconvolver"] == "hogbom"
    assert v["pblimit"] == 0.2 and v["niter"] > 0
    v.validate(complete=False)
    with pytest.raises(pclean.PcleanValueError, match="vlass"):
        pclean.PcleanConfig.from_preset("nosuch")


def test_layers_preset_file_kwargs(tmp_path):
    """Later wins: preset < config file < keywords; the CLI merges the same way."""
    f = tmp_path / "c.yaml"
    f.write_text("imsize: 1024\nrobust: 0.5\nniter: 10\n")
    cfg = pclean.PcleanConfig.from_preset("vlass").merged(pclean.PcleanConfig.from_yaml(f), robust=-1.0)
    assert cfg["imsize"] == [1024]          # file over preset
    assert cfg["robust"] == -1.0            # keyword over file
    assert cfg["cell"] == ["1.0arcsec"]     # preset where nothing overrides it
    assert cfg["niter"] == 10
    cli = tomllib_loads(run_pclean("image", "--preset", "vlass", "--config", f, "--robust", "-1",
                                   "--dump-config").stdout)
    assert cli == cfg.to_dict(defaults=True)


def tomllib_loads(text):
    import tomllib  # noqa: PLC0415
    return tomllib.loads(text)


def test_yaml_round_trip(tmp_path):
    cfg = pclean.PcleanConfig.from_preset("vlass").merged(
        vis=["a.ms", "b.ms"], imagename="x", restfreq="1420.405752MHz", robust=0.1, uvtaper=["10arcsec"],
        slurm_job_extra_directives=["--qos=high"], nchan=-1, perchanweightdensity=False)
    text = cfg.to_yaml()
    assert pclean.PcleanConfig.from_yaml(text) == cfg
    assert pclean.PcleanConfig.from_yaml(text).to_yaml() == text
    path = tmp_path / "cfg.yaml"
    cfg.to_yaml(path)
    assert pclean.PcleanConfig.from_yaml(path) == cfg
    full = pclean.PcleanConfig(cfg.to_dict(defaults=True))
    assert pclean.PcleanConfig.from_yaml(full.to_yaml()) == full


@pytest.mark.parametrize("kw, field", [
    (dict(imsize=-5), "imsize"),
    (dict(cell="15parsec"), "cell"),
    (dict(weighting="fancy"), "weighting"),
    (dict(niter="many"), "niter"),
    (dict(robust=3.0), "robust"),
    (dict(cluster_type="kubernetes"), "cluster_type"),
    (dict(concat_mode="concatenate"), "concat_mode"),
    (dict(slurm_walltime="one hour"), "slurm_walltime"),
    (dict(imsizee=256), "imsizee"),
])
def test_invalid_values_name_the_field(kw, field):
    with pytest.raises(ValueError) as e:
        pclean.PcleanConfig(vis="a.ms", imagename="x", **kw).validate()
    assert isinstance(e.value, pclean.PcleanValueError)
    assert e.value.field == field
    assert field in str(e.value)


def test_unknown_key_suggests_the_name():
    with pytest.raises(pclean.PcleanValueError, match="did you mean 'robust'"):
        pclean.pclean(vis="a.ms", imagename="x", robustt=1)


def test_error_mapping(tmp_path, msdir):
    with pytest.raises(pclean.PcleanIOError) as e:
        pclean.pclean(vis=str(tmp_path / "missing.ms"), imagename=str(tmp_path / "m"))
    assert isinstance(e.value, OSError) and isinstance(e.value, pclean.PcleanError)
    with pytest.raises(pclean.PcleanValueError) as e:
        pclean.pclean(imagename=str(tmp_path / "m"))
    assert e.value.field == "vis" and e.value.kind == "missing"
    with pytest.raises(pclean.PcleanValueError) as e:
        pclean.pclean(vis="a.ms", imagename="x", deconvolver="maxent")
    assert e.value.field == "deconvolver" and e.value.kind == "choice"
    assert "hogbom, clark, clarkstokes, multiscale" in str(e.value)
    # Inconsistent with the data (found after opening the MS): still a ValueError naming it.
    with pytest.raises(pclean.PcleanValueError) as e:
        pclean.pclean(vis=str(msdir / "ngc5921.ms"), imagename=str(tmp_path / "s"), spw="7")
    assert e.value.field == "spw" and e.value.kind == "selection"
    # Products exist and overwrite is not given.
    name = tmp_path / "exists"
    (tmp_path / "exists.psf").mkdir()
    with pytest.raises(pclean.PcleanIOError, match="already exists"):
        pclean.pclean(vis=str(msdir / "ngc5921.ms"), imagename=str(name), **NGC_KW)
    # The engine in this process images locally; parallel runs go through the Dask driver.
    with pytest.raises(pclean.PcleanValueError) as e:
        _native.run_image(json.dumps(dict(vis=["a.ms"], imagename="x", parallel=True)))
    assert e.value.field == "parallel"


# --- memory model --------------------------------------------------------------------------------

@pytest.mark.parametrize("imsize, nchan, deconvolver", [(1024, 1, "hogbom"), (4000, 4, "multiscale"),
                                                        (512, 1, "none")])
def test_estimates_equal_the_cli(imsize, nchan, deconvolver):
    cli = json.loads(run_pclean("estimate", "--imsize", imsize, "--nchan-per-task", nchan, "--deconvolver",
                                deconvolver, "--available-ram-gib", 64, "--nworkers", 3, "--json").stdout)
    w = pclean.estimate_worker_memory_gib(imsize, nchan_per_task=nchan, deconvolver=deconvolver)
    assert w == cli["worker_memory_gib"]
    assert pclean.estimate_peak_ram_gib(3, imsize, nchan_per_task=nchan, deconvolver=deconvolver) \
        == cli["peak_ram_gib"]
    assert pclean.recommend_nworkers(64.0, imsize=imsize, nchan_per_task=nchan, deconvolver=deconvolver,
                                     ram_safety_factor=0.85) == cli["recommended_nworkers"]
    with pytest.raises(pclean.PcleanValueError):
        pclean.estimate_worker_memory_gib(1024, nterms=2)


# The native functions take the memory model's whole task description (what the Dask driver and the
# seed's API pass through): an mfs plane, its weighting and the gridding accuracy give the CLI's
# figures (issue 18's mfs, w-corrected and mosaic benchmark runs, docs/decisions.md (s17-est)).
@pytest.mark.parametrize("args, kw", [
    (["--mfs", "--weighting", "natural", "--deconvolver", "none", "--nvis", 6935040, "--spw-nchan", 64,
      "--threads-per-task", 2],
     dict(mfs=True, weighting="natural", deconvolver="none", nvis_per_chan=6935040, spw_nchan=64,
          threads_per_task=2)),
    (["--mfs", "--gridder", "wproject", "--wplanes", 9, "--epsilon", 1e-4, "--deconvolver", "none",
      "--nvis", 84240, "--spw-nchan", 2],
     dict(mfs=True, gridder="wproject", wplanes=9, epsilon=1e-4, deconvolver="none", nvis_per_chan=84240,
          spw_nchan=2)),
    (["--mfs", "--gridder", "mosaic", "--nfields", 7, "--nvis", 325080, "--spw-nchan", 4],
     dict(mfs=True, gridder="mosaic", nfields=7, nvis_per_chan=325080, spw_nchan=4)),
])
def test_native_estimate_of_an_mfs_plane_equals_the_cli(args, kw):
    cli = json.loads(run_pclean("estimate", "--imsize", 1024, *args, "--json").stdout)
    assert _native.estimate_worker_memory_gib(1024, **kw) == cli["worker_memory_gib"]
    # Natural weighting holds no density: less than Briggs' estimate of the same plane.
    if kw.get("weighting") == "natural":
        assert _native.estimate_worker_memory_gib(1024, **dict(kw, weighting="briggs")) \
            > cli["worker_memory_gib"]
    with pytest.raises(pclean.PcleanValueError):
        _native.estimate_worker_memory_gib(1024, **dict(kw, weighting="robust"))


# --- imaging -------------------------------------------------------------------------------------

def test_pclean_local_equals_cli(ngc_dirty, msdir, tmp_path):
    ref, cli_summary = ngc_dirty
    name = tmp_path / "py5921"
    s = pclean.pclean(vis=str(msdir / "ngc5921.ms"), imagename=str(name), parallel=False, **NGC_KW)
    assert s["nchan"] == cli_summary["nchan"] == 46
    assert s["products"] == [p.replace(str(ref), str(name)) for p in cli_summary["products"]]
    assert_same_products(name, ref)


def test_coordinator_and_run_block_equal_cli_with_resume(ngc_dirty, msdir, tmp_path, monkeypatch):
    """The Dask driver's path without Dask: blocks computed by run_block (as a worker would),
    written by the Coordinator; interrupted after three blocks and resumed by a new Coordinator."""
    monkeypatch.setenv("PCLEAN_COMMIT_INTERVAL_S", "0")
    ref, _ = ngc_dirty
    name = tmp_path / "co5921"
    cfg = pclean.PcleanConfig(vis=str(msdir / "ngc5921.ms"), imagename=str(name), parallel=True,
                              cube_chunksize=5, threads_per_worker=1, **NGC_KW)
    js = cfg.to_json()
    c = _native.Coordinator(js)
    pending = c.pending()
    assert [p["channels"] for p in pending] == [[a, min(a + 5, 46)] for a in range(0, 46, 5)]
    assert all(p["memory_bytes"] > 0 and p["threads"] == 1 for p in pending)
    done = pending[1:4]
    for p in done:
        c.accept(p["block"], _native.run_block(js, p["channels"][0], p["channels"][1], 1))
    with pytest.raises(pclean.PcleanValueError, match="already accepted"):
        c.accept(done[0]["block"], _native.run_block(js, *done[0]["channels"], 1))
    c.abort()
    # A second coordinator while nobody holds the lock resumes: only the rest is pending.
    c = _native.Coordinator(js)
    rest = c.pending()
    assert {p["block"] for p in rest} == {p["block"] for p in pending} - {p["block"] for p in done}
    with pytest.raises(pclean.PcleanIOError, match="another pclean run"):
        _native.Coordinator(js)
    with pytest.raises(pclean.PcleanValueError, match="not been accepted"):
        c.finish()
    for p in reversed(c.pending()):  # any order
        c.accept(p["block"], _native.run_block(js, p["channels"][0], p["channels"][1], 2))
    s = c.finish()
    assert s["resumed_channels"] == 15 and s["nchan"] == 46
    assert not (tmp_path / "co5921.checkpoint.json").exists()
    assert_same_products(name, ref)


def test_dask_dirty_cube_blocks_per_worker_read_once_equal_cli(ngc_dirty, msdir, tmp_path):
    """A dirty cube planned for 2 Dask workers (cube_chunksize not given) is 4 blocks per worker;
    each worker's contiguous range (the driver's `worker_ranges`) read once through run_block's
    `cache_chans`, block by block as a worker would, gives the CLI's products."""
    from pclean.distributed.driver import worker_ranges

    ref, _ = ngc_dirty
    name = tmp_path / "ranges"
    js = pclean.PcleanConfig(vis=str(msdir / "ngc5921.ms"), imagename=str(name), parallel=True,
                             nworkers=2, threads_per_worker=1, **NGC_KW).to_json()
    c = _native.Coordinator(js)
    pending = c.pending()
    # 46 channels for 2 workers x 4 blocks: ceil(46 / 8) = 6 channels per block.
    assert [p["channels"] for p in pending] == [[a, min(a + 6, 46)] for a in range(0, 46, 6)]
    ranges = worker_ranges(pending, ["w0", "w1"])
    assert ranges == [("w0", 0, 24)] * 4 + [("w1", 24, 46)] * 4
    with pytest.raises(ValueError, match="cache_chans=.6, 12. must be a non-empty range holding"):
        _native.run_block(js, 0, 6, 1, cache_chans=(6, 12))
    # The second worker's range first, then the first's (a worker process keeps one range).
    order = sorted(zip(pending, ranges), key=lambda pr: -pr[1][1])
    for p, (_, a, z) in order:
        c.accept(p["block"], _native.run_block(js, *p["channels"], 1, cache_chans=(a, z),
                                               scratch_dir=str(tmp_path)))
    c.finish()
    assert_same_products(name, ref)


def test_run_block_writes_the_direct_products_itself(ngc_dirty, msdir, tmp_path):
    """run_block(direct=Coordinator.direct_targets()) writes the planes of those products into
    them (a Dask worker beside the products) and only lists them; the coordinator records the
    block, counts no plane received, and the products equal the CLI's. A coordinator that handed
    out no targets refuses such a result; direct that is not the targets' JSON is refused."""
    ref, _ = ngc_dirty
    js = pclean.PcleanConfig(vis=str(msdir / "ngc5921.ms"), imagename=str(tmp_path / "dw"),
                             parallel=True, cube_chunksize=23, threads_per_worker=1,
                             **NGC_KW).to_json()
    c = _native.Coordinator(js)
    direct = c.direct_targets()
    products = sorted(t["product"] for t in json.loads(direct))
    # pblimit < 0: no pixel mask, so .pb is written by the workers too; no product is FITS.
    assert products == sorted(["psf", "residual", "image", "model", "pb", "sumwt", "weight"])
    with pytest.raises(ValueError, match="direct: not the JSON of Coordinator.direct_targets"):
        _native.run_block(js, 0, 23, 1, direct="{")
    results = [_native.run_block(js, *p["channels"], 1, direct=direct) for p in c.pending()]
    # Metadata only: 23 channels x 7 planes of 256 kB would be 41 MB.
    assert all(len(r) < 64 * 1024 for r in results), [len(r) for r in results]
    other = _native.Coordinator(pclean.PcleanConfig(
        vis=str(msdir / "ngc5921.ms"), imagename=str(tmp_path / "other"), parallel=True,
        cube_chunksize=23, threads_per_worker=1, **NGC_KW).to_json())
    with pytest.raises(pclean.PcleanValueError, match="did not hand out"):
        other.accept(0, results[0])
    other.abort()
    for p, r in zip(c.pending(), results):
        c.accept(p["block"], r)
    t = c.transfer()
    assert t == dict(planes_received=0, plane_bytes_received=0,
                     planes_written_by_workers=46 * len(products)), t
    c.finish()
    assert_same_products(tmp_path / "dw", ref)


def test_run_block_rejects_bad_results(msdir, tmp_path):
    js = pclean.PcleanConfig(vis=str(msdir / "ngc5921.ms"), imagename=str(tmp_path / "bad"),
                             cube_chunksize=10, **NGC_KW).to_json()
    c = _native.Coordinator(js)
    with pytest.raises(pclean.PcleanValueError, match="not a pclean block result"):
        c.accept(0, b"garbage")
    r = _native.run_block(js, 10, 20, 1)
    with pytest.raises(pclean.PcleanValueError, match="does not belong to block 0"):
        c.accept(0, r)
    with pytest.raises(pclean.PcleanValueError, match="not a block"):
        _native.run_block(js, 40, 50, 1)
    c.abort()

"""The seed system's users switch by changing only the installed package (issue 17): a config in
the seed's sectioned YAML layout and the seed's `python -m pclean` command line image the NGC5921
cube with the same products as `pclean image` with the equivalent flags; its import paths run on
pclean's engine (ParallelCubeImager on a DaskClusterManager it did not start).

The reference is the NGC5921 acceptance command (conftest.NGC_ARGS, the `ngc_dirty` fixture).
Every product must be there and equal (compare.assert_same_product_set: the same set of products,
each within 1e-6 of the peak; in practice bitwise, the same blocks computed by the same engine
code)."""
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from compare import assert_same_product_set
from conftest import ROOT, require, require_module, run_pclean

require_module("pclean._native", "pclean's Python package is not installed "
               "(scripts/test.sh installs it)")
require_module("casacore.images", "python-casacore is the oracle of these tests")
import pclean  # noqa: E402

# The NGC5921 acceptance run (conftest.NGC_ARGS) written as a seed user writes a config: the
# sectioned layout of the seed's defaults.yaml, with its repeated keys (nterms, pblimit, normtype,
# psfcutoff), its defaults that pclean maps (memory_limit '0', cube_chunksize -1, restart true,
# fracbw null), its sub-cube keys (moot in pclean: noted, accepted) and its submit section.
SEED_YAML = """\
selection:
  vis: {ms}
  field: ''
  spw: ''
  datacolumn: corrected
image:
  imagename: {name}
  imsize: [256, 256]
  cell: 15arcsec
  phasecenter: ''
  stokes: I
  specmode: cube
  nchan: 46
  start: 5
  width: 1
  outframe: LSRK
  veltype: radio
  restfreq: [1420.405752MHz]
  interpolation: linear
  perchanweightdensity: true
  nterms: 2
grid:
  gridder: standard
  wprojplanes: 1
  pblimit: -0.01
  normtype: flatnoise
weight:
  weighting: briggs
  robust: 0.5
  noise: 1.0Jy
  npixels: 0
  uvtaper: []
  fracbw: null
deconvolution:
  deconvolver: hogbom
  nterms: 2
  restoration: true
  restoringbeam: []
  pbcor: false
  usemask: user
  mask: ''
  python_automask: true
iteration:
  niter: 0
  gain: 0.1
  threshold: 0.0mJy
  cycleniter: -1
  interactive: false
normalization:
  pblimit: -0.01
  normtype: flatnoise
  psfcutoff: 0.35
misc:
  restart: true
  savemodel: none
  calcres: true
  calcpsf: true
  psfcutoff: 0.35
cluster:
  type: local
  nworkers: null
  scheduler_address: null
  threads_per_worker: 1
  memory_limit: '0'
  local_directory: null
  parallel: false
  cube_chunksize: -1
  keep_subcubes: true
  keep_partimages: false
  concat_mode: auto
  slurm:
    queue: null
    account: null
    walltime: '24:00:00'
    job_mem: 20GB
    cores_per_job: 1
    job_extra_directives: []
    log_directory: logs
  submit:
    workdir: {workdir}
    coordinator_mem: 8G
"""

# conftest.NGC_ARGS as the seed's flags (`--imsize 256 256`: its two-value form).
SEED_FLAGS = ["--imsize", "256", "256", "--cell", "15arcsec", "--specmode", "cube", "--nchan", "46",
              "--start", "5", "--width", "1", "--outframe", "LSRK", "--restfreq",
              "1420.405752MHz", "--weighting", "briggs", "--robust", "0.5", "--niter", "0",
              "--pblimit", "-0.01"]


def seed_config(tmp_path, ms, name):
    path = tmp_path / f"{Path(name).name}.yaml"
    path.write_text(SEED_YAML.format(ms=ms, name=name, workdir=tmp_path / "work"))
    return path


def python_m_pclean(*args):
    """`python -m pclean ARGS` (the seed's entry point); its stdout is the run summary (JSON)."""
    p = subprocess.run([sys.executable, "-m", "pclean", "--log-level", "WARNING", *map(str, args)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    return p


def test_seed_yaml_config_with_python_m_pclean_equals_pclean_image(ngc_dirty, msdir, tmp_path):
    ref, _ = ngc_dirty
    name = tmp_path / "seedcfg"
    p = python_m_pclean("--pconfig", seed_config(tmp_path, msdir / "ngc5921.ms", name))
    summary = json.loads(p.stdout)
    assert summary["nchan"] == 46
    # keep_subcubes / concat_mode are the seed's sub-cube keys: accepted and noted once.
    notes = [w for w in summary.get("warnings", []) if "keep_subcubes" in w]
    assert len(notes) == 1 and "final products" in notes[0], summary.get("warnings")
    assert_same_product_set(name, ref)


def test_seed_yaml_config_with_pclean_image_config(ngc_dirty, msdir, tmp_path):
    """`pclean image --config` reads the seed's layout too (the Rust CLI, not only Python)."""
    ref, _ = ngc_dirty
    name = tmp_path / "rustcfg"
    run_pclean("image", "--config", seed_config(tmp_path, msdir / "ngc5921.ms", name))
    assert_same_product_set(name, ref)


def test_seed_defaults_yaml_unchanged(msdir, tmp_path):
    """The seed's own defaults.yaml (the file its users copy, from its sdist as cached by
    scripts/seed_tests.py), unchanged: its `vis: ''` and `imagename: ''` are "not set yet", given
    on the command line. `python -m pclean --pconfig` images with it; `pclean image` with the
    merged parameters written by `--dump-config` makes the same products."""
    sdist = ROOT / "testdata" / "unpacked" / "seed" / "casa_pclean-0.2.3.tar.gz"
    require(sdist.is_file(), "the seed's sdist is not cached: run scripts/seed_tests.py first")
    with tarfile.open(sdist) as t:
        text = t.extractfile("casa_pclean-0.2.3/src/pclean/configs/defaults.yaml").read()
    cfg = tmp_path / "defaults.yaml"
    cfg.write_bytes(text)
    ms, seed, ref = msdir / "ngc5921.ms", tmp_path / "seed", tmp_path / "ref"
    dumped = tmp_path / "merged.yaml"
    python_m_pclean("--pconfig", cfg, "--vis", ms, "--imagename", seed, "--dump-config", dumped)
    python_m_pclean("--pconfig", cfg, "--vis", ms, "--imagename", seed)
    run_pclean("image", "--config", dumped, "--imagename", ref)
    assert_same_product_set(seed, ref)


def test_seed_command_line_equals_pclean_image(ngc_dirty, msdir, tmp_path):
    ref, _ = ngc_dirty
    name = tmp_path / "seedcli"
    python_m_pclean("--vis", msdir / "ngc5921.ms", "--imagename", name, *SEED_FLAGS)
    assert_same_product_set(name, ref)


def test_seed_parallel_command_line_equals_pclean_image(ngc_dirty, msdir, tmp_path):
    """The seed's `--parallel --nworkers N` runs pclean's Dask driver (a LocalCluster)."""
    require_module("distributed", "Dask is not installed (pip install 'dask[distributed]')")
    ref, _ = ngc_dirty
    name = tmp_path / "seedpar"
    p = python_m_pclean("--vis", msdir / "ngc5921.ms", "--imagename", name, *SEED_FLAGS,
                        "--parallel", "--nworkers", "2", "--cube-chunksize", "12")
    d = json.loads(p.stdout)["distributed"]
    assert d["cluster_type"] == "local" and len(d["tasks"]) == 4  # 46 channels in blocks of 12
    assert_same_product_set(name, ref)


@pytest.fixture(scope="module")
def seed_cluster():
    """The seed's cluster manager (a LocalCluster of 2 workers), shared by the imager tests."""
    require_module("distributed", "Dask is not installed (pip install 'dask[distributed]')")
    from pclean.parallel.cluster import DaskClusterManager

    with DaskClusterManager(nworkers=2, memory_limit="0") as cluster:
        yield cluster


def test_seed_cube_imager_on_a_cluster_it_did_not_start(ngc_dirty, msdir, tmp_path, seed_cluster):
    """The seed's scripting pattern: one DaskClusterManager, ParallelCubeImager(config, cluster)."""
    from pclean.config import PcleanConfig
    from pclean.parallel.cube_parallel import ParallelCubeImager

    ref, _ = ngc_dirty
    name = tmp_path / "imager"
    cfg = PcleanConfig.from_yaml(seed_config(tmp_path, msdir / "ngc5921.ms", name))
    assert cfg.selection.vis == str(msdir / "ngc5921.ms") and cfg.image.imsize == [256, 256]
    assert cfg.cluster.submit.coordinator_mem == "8G"
    assert seed_cluster.worker_count == 2
    summary = ParallelCubeImager(cfg.merged(cube_chunksize=23), seed_cluster).run()
    assert seed_cluster.client.status == "running"  # the run leaves the caller's cluster up
    assert len(summary["distributed"]["tasks"]) == 2
    assert_same_product_set(name, ref)


def test_seed_continuum_imager_runs_the_continuum_path(alma_mfs, msdir, tmp_path, seed_cluster):
    """ParallelContinuumImager images the mfs plane in row partitions, one per worker of the
    cluster (2): the products of `pclean image` with the same parameters (within 1e-6 of each
    peak: the partials add the same contributions in another order)."""
    from pclean.parallel.continuum_parallel import ParallelContinuumImager

    ref, _ = alma_mfs
    name = tmp_path / "cont"
    cfg = {"selection": {"vis": str(msdir / "alma_small.ms")},
           "image": {"imagename": str(name), "imsize": [512, 512], "cell": "0.1arcsec",
                     "specmode": "mfs"},
           "weight": {"weighting": "briggs", "robust": 0.5},
           "iteration": {"niter": 0}, "grid": {"pblimit": 0.2}}
    summary = ParallelContinuumImager(cfg, seed_cluster).run()
    rows = summary["row_partitions"]
    assert rows["executor"] == "dask" and len(rows["partitions"]) == 2, rows
    assert_same_product_set(name, ref)
    cube = dict(cfg, image=dict(cfg["image"], specmode="cube"))
    with pytest.raises(pclean.PcleanValueError, match="ParallelCubeImager"):
        ParallelContinuumImager(cube, seed_cluster).run()


def test_seed_cluster_manager_modes():
    """The seed's address-mode fallback and its checks, without starting anything."""
    require_module("distributed", "Dask is not installed (pip install 'dask[distributed]')")
    from pclean.parallel.cluster import DaskClusterManager

    m = DaskClusterManager(scheduler_address="tcp://127.0.0.1:8786")
    assert m.cluster_type == "address" and m.options.scheduler_address == "tcp://127.0.0.1:8786"
    m = DaskClusterManager(nworkers=3, memory_limit="0", cluster_type="slurm", slurm_queue="cpu")
    assert m.options.memory_limit is None and m.options.slurm["queue"] == "cpu"
    assert m.options.slurm["job_mem"] == "20GB"  # the seed's default
    with pytest.raises(RuntimeError, match="start"):
        m.client  # noqa: B018 (not started)
    with pytest.raises(ValueError, match="scheduler_address"):
        DaskClusterManager(cluster_type="address")


def test_seed_adios2_utilities_answer_for_pclean(msdir, tmp_path):
    from pclean.utils import check_adios2, convert_adios2

    support = check_adios2.check_adios2_support()
    assert check_adios2.get_casatools_info().adios2_supported == support
    assert check_adios2.ms_uses_adios2(str(msdir / "ngc5921.ms")) is False
    if not support:  # this build's casacore has no ADIOS2: a clear error, naming what would
        with pytest.raises(pclean.PcleanIOError, match="(?i)adios2"):
            convert_adios2.convert_ms_to_adios2(str(msdir / "ngc5921.ms"), str(tmp_path / "a.ms"))
    with pytest.raises(ValueError, match="engine_type"):
        convert_adios2.convert_ms_to_adios2("a.ms", str(tmp_path / "b.ms"), engine_type="SST")


def test_seed_config_layering_and_round_trip(tmp_path, msdir):
    """--dump-config writes the merged config; both it and model_dump's sectioned form read back."""
    cfg_path = seed_config(tmp_path, msdir / "ngc5921.ms", tmp_path / "x")
    out = tmp_path / "dumped.yaml"
    p = python_m_pclean("--pconfig", cfg_path, "--niter", "7", "--dump-config", out)
    assert "Config written to" in p.stdout
    dumped = pclean.PcleanConfig.from_yaml(out)
    assert dumped["niter"] == 7 and dumped["imsize"] == [256, 256]
    assert dumped["memory_limit"] == "auto" and dumped["cube_chunksize"] == 0
    cfg = pclean.PcleanConfig.from_yaml(cfg_path)
    assert pclean.PcleanConfig(cfg.model_dump()) == cfg
    assert cfg.model_dump()["cluster"]["submit"]["coordinator_mem"] == "8G"


@pytest.mark.parametrize("yaml_text, field", [
    ("image: {nterms: 2}\ndeconvolution: {nterms: 3}\n", "nterms"),
    ("weight: {fracbw: 0.2}\n", "weight.fracbw"),
    ("cluster: {concat_mode: concatenate}\n", "concat_mode"),
    ("image: {imsizee: 10}\n", "imsizee"),
])
def test_seed_layout_errors_name_the_key(yaml_text, field):
    with pytest.raises(pclean.PcleanValueError) as e:
        pclean.PcleanConfig.from_yaml(yaml_text).validate(complete=False)
    assert field in str(e.value)


def test_seed_submit_script_runs_python_m_pclean(tmp_path, msdir):
    cfg = seed_config(tmp_path, msdir / "ngc5921.ms", tmp_path / "x")
    p = python_m_pclean("submit", cfg, "--coordinator-mem", "16G", "--no-psrecord", "--dry-run")
    assert "#SBATCH --mem=16G" in p.stdout
    assert f"python -m pclean --pconfig {cfg.resolve()}" in p.stdout
    assert f'mkdir -p "{(tmp_path / "work").resolve()}"' in p.stdout  # workdir from the YAML


def test_seed_subcube_workflow_equals_the_whole_cube(ngc_dirty, msdir, tmp_path):
    """The seed's manual pattern: partition_cube -> run_subcube per part -> concat_subcubes (pclean's
    own concatenation, no casatools). Dirty channels are independent (per-channel weight density),
    so the joined cube equals the whole-cube run."""
    from pclean.parallel.worker_tasks import run_subcube
    from pclean.utils.image_concat import concat_subcubes
    from pclean.utils.partition import partition_cube

    ref, _ = ngc_dirty
    name = tmp_path / "parts"
    cfg = pclean.PcleanConfig.from_yaml(seed_config(tmp_path, msdir / "ngc5921.ms", name))
    parts = partition_cube(cfg, 2)
    assert [(p["start"], p["nchan"]) for p in parts] == [("5", 23), ("28", 23)]
    for p in parts:
        run_subcube(p.model_dump())  # the seed passes model_dump()'s sectioned dict
    reports = concat_subcubes(str(name), 2, mode="paged")
    assert set(reports) >= {".image", ".residual", ".psf", ".pb"}
    assert_same_product_set(name, ref)

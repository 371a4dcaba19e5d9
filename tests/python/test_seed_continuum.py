"""The seed's continuum API on pclean's row partitions (issue 17): `ParallelContinuumImager(config,
cluster).run()` cleans an mfs and an mtmfs image in row partitions on a LocalCluster, and the seed's
per-partition tasks (`partition_continuum` -> `make_partial_psf` / `run_partial_major_cycle` /
`make_partial_pb`) write partial images that sum to the single run's products.

Bounds: 1e-6 of each product's peak, the bound of the distributed and row-partition tests
(test_distributed.py, crates/pclean-engine/tests/row_partitions.rs): the partitions grid the same
visibilities with the same weights, only the f32 summation order differs (measured below 1e-6);
a cleaned residual against the restored image's peak (see compare_all). mtmfs `.alpha` (tt1 / tt0
at faint pixels) is held to 2e-5 as test_mtmfs.py's Dask test (the Hessian solve amplifies the
inputs' rounding; measured 1.5e-6 there)."""
import json

import numpy as np
import pytest

from compare import load_casa, product_set, same_product_error
from conftest import REFERENCE, require_module, unpack_bundled

require_module("pclean._native", "pclean's Python package is not installed "
               "(scripts/test.sh installs it)")
require_module("casacore.images", "python-casacore is the oracle of these tests")
import pclean  # noqa: E402

# ALMA simulation (alma_small.ms, bundled), 256^2 Briggs mfs cleaned with hogbom in small major
# cycles: several major cycles, so the model goes back to the partitions more than once.
ALMA_CLEAN = {"imsize": [256, 256], "cell": "0.1arcsec", "specmode": "mfs",
              "weighting": "briggs", "robust": 0.5, "pblimit": 0.2, "deconvolver": "hogbom",
              "niter": 150, "cycleniter": 50, "threshold": "0mJy"}
MTMFS = json.loads((REFERENCE / "mtmfs" / "mtmfs.json").read_text())
MTMFS_CLEAN = dict(MTMFS["cases"]["mtmfs3_clean"]["params"], nterms=2, scales=[0], niter=100,
                   cycleniter=40)
for _k in ("parallel", "vis"):
    MTMFS_CLEAN.pop(_k, None)


@pytest.fixture(scope="module")
def wb_ms(tmp_path_factory):
    d = unpack_bundled(["vla_wideband_small.ms.tar.gz"], tmp_path_factory.mktemp("wb"))
    return d / MTMFS["ms"]


@pytest.fixture(scope="module")
def cluster():
    require_module("distributed", "Dask is not installed (pip install 'dask[distributed]')")
    from pclean.parallel.cluster import DaskClusterManager

    with DaskClusterManager(nworkers=2, memory_limit="0") as c:
        yield c


def local_run(params, name):
    s = pclean.pclean(**dict(params, imagename=str(name), parallel=False))
    assert s["total_iterations"] > 0
    return s


def compare_all(ours, ref, alpha_tol):
    """Every product of the local run `ref` is in `ours` and equal: within 1e-6 of its own peak;
    a cleaned residual within 1e-6 of the restored image's peak (the residual is what is left of
    that image: its differences are the f32 rounding of partial sums at the image's scale, so
    against its own, 100x smaller peak they reach 1.1e-6); `.alpha` within `alpha_tol`."""
    exts = product_set(ref)
    assert exts == product_set(ours), (exts, product_set(ours))
    for e in exts:
        a, b = load_casa(f"{ours}.{e}")[0], load_casa(f"{ref}.{e}")[0]
        err = same_product_error(a, b)
        bound = alpha_tol if e.startswith("alpha") else 1e-6
        msg = f"{ours.name} {e}: {err:.2e} of its peak"
        if e.startswith("residual") and err > bound:
            image = load_casa(f"{ref}.{e.replace('residual', 'image')}")[0]
            err = err * np.abs(b).max() / np.abs(image).max()
            msg += f", {err:.2e} of the image's"
        print(msg)
        assert err <= bound, (e, err)
    return exts


@pytest.mark.parametrize("case", ["mfs", "mtmfs"])
def test_continuum_imager_cleans_in_row_partitions(case, cluster, msdir, wb_ms, tmp_path):
    from pclean.parallel.continuum_parallel import ParallelContinuumImager

    vis = str(msdir / "alma_small.ms") if case == "mfs" else str(wb_ms)
    params = dict(ALMA_CLEAN if case == "mfs" else MTMFS_CLEAN, vis=vis)
    ref = tmp_path / "local"
    s_loc = local_run(params, ref)
    name = tmp_path / "seed"
    summary = ParallelContinuumImager(dict(params, imagename=str(name)), cluster).run()
    rows = summary["row_partitions"]
    assert rows["executor"] == "dask" and len(rows["partitions"]) == 2, rows
    assert summary["total_iterations"] == s_loc["total_iterations"]
    exts = compare_all(name, ref, alpha_tol=2e-5)
    assert "model" in exts or "model.tt1" in exts


def _sum(parts, ext):
    return sum(load_casa(f"{b['imagename']}.{ext}")[0] for b in parts)


def test_partial_tasks_sum_to_the_single_run(msdir, tmp_path):
    """partition_continuum's bundles: the partial PSFs and residuals (with the local run's final
    model) summed and divided by the summed sum of weights are the local run's .psf and
    .residual; the partial .pb is the run's. Briggs weighting: each partition weights with the
    density of all three (per-partition densities, the seed's, miss: 3.5% of the PSF's peak at
    2 partitions with Briggs, docs/decisions.md "s9-rowmore")."""
    weighting = "briggs"
    from pclean.parallel.worker_tasks import (make_partial_pb, make_partial_psf,
                                              run_partial_major_cycle)
    from pclean.utils.partition import partition_continuum

    name = tmp_path / "run"
    params = dict(ALMA_CLEAN, vis=str(msdir / "alma_small.ms"), weighting=weighting,
                  imagename=str(name))
    local_run(params, name)
    parts = partition_continuum(params, 3)
    assert [b["index"] for b in parts] == [0, 1, 2]
    assert sum(b["rows"] for b in parts) > 0 and all(b["rows"] > 0 for b in parts)
    assert parts[1]["imagename"] == f"{name}.part.1"
    for b in parts:
        assert make_partial_psf(b) == b["imagename"]
        assert run_partial_major_cycle(b, {"lastcycle": False}) == b["imagename"]
        assert make_partial_pb(b) == b["imagename"]
    sumwt = _sum(parts, "sumwt")
    ref_sumwt = load_casa(f"{name}.sumwt")[0]
    assert abs(float(sumwt.ravel()[0]) / float(ref_sumwt.ravel()[0]) - 1) < 1e-6
    for ext in ("psf", "residual"):
        ours = _sum(parts, ext) / sumwt.ravel()[0]
        err = same_product_error(ours, load_casa(f"{name}.{ext}")[0])
        print(f"partials {weighting} {ext}: {err:.2e}")
        assert err <= 1e-6, (ext, err)
    for b in parts:
        assert same_product_error(load_casa(f"{b['imagename']}.pb")[0],
                                  load_casa(f"{name}.pb")[0]) == 0.0


def test_partial_taylor_terms_sum_to_the_single_run(wb_ms, tmp_path):
    """mtmfs: each Taylor term's partials, summed and divided by the summed tt0 sum of weights."""
    from pclean.parallel.worker_tasks import make_partial_psf, run_partial_major_cycle
    from pclean.utils.partition import partition_continuum

    name = tmp_path / "run"
    params = dict(MTMFS_CLEAN, vis=str(wb_ms), imagename=str(name))
    local_run(params, name)
    parts = partition_continuum(params, 2)
    for b in parts:
        make_partial_psf(b)
        run_partial_major_cycle(b)
    w0 = _sum(parts, "sumwt.tt0").ravel()[0]
    for ext in ("psf.tt0", "psf.tt1", "psf.tt2", "residual.tt0", "residual.tt1"):
        err = same_product_error(_sum(parts, ext) / w0, load_casa(f"{name}.{ext}")[0])
        print(f"partials mtmfs {ext}: {err:.2e}")
        assert err <= 1e-6, (ext, err)


def test_partial_tasks_refuse_what_they_cannot_do(msdir, tmp_path):
    from pclean.parallel.worker_tasks import make_partial_psf, run_partial_major_cycle
    from pclean.utils.partition import partition_continuum

    cube = {"vis": str(msdir / "ngc5921.ms"), "imagename": str(tmp_path / "c"), "imsize": 64,
            "cell": "15arcsec", "specmode": "cube"}
    with pytest.raises(pclean.PcleanValueError, match="row_partitions"):
        partition_continuum(cube, 2)
    with pytest.raises(ValueError, match="partition_continuum"):
        make_partial_psf({"imagename": "x"})
    params = dict(ALMA_CLEAN, vis=str(msdir / "alma_small.ms"), imagename=str(tmp_path / "m"),
                  imsize=[64, 64], savemodel="modelcolumn")
    [b] = partition_continuum(params, 1)
    with pytest.raises(pclean.PcleanValueError, match="savemodel"):
        run_partial_major_cycle(b, {"lastcycle": True})
    wrong = tmp_path / "wrong"
    pclean.pclean(vis=str(msdir / "alma_small.ms"), imagename=str(wrong), imsize=32,
                  cell="0.1arcsec", specmode="mfs", niter=1, parallel=False)
    b2 = dict(partition_continuum(dict(params, savemodel="none"), 1)[0],
              parent_imagename=str(wrong))
    with pytest.raises(pclean.PcleanError, match="shape"):
        run_partial_major_cycle(b2)

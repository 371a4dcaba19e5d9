"""The seed's worker-task functions, on pclean's engine.

- ``run_subcube(config_dict)``: image one sub-cube (a complete parameter set: its own
  ``imagename``, ``start``/``nchan``) with the engine in this process; returns its run summary.
- ``run_block_task``: pclean's own task (one channel block of a cube, its planes returned to the
  coordinator), what ``ParallelCubeImager`` submits.
- ``run_row_task``: pclean's row-partition task (one gridding pass of a continuum image on one
  partition's rows, its partial returned to the coordinator), what ``ParallelContinuumImager``
  submits.
- ``make_partial_psf``, ``run_partial_major_cycle``, ``make_partial_pb``: the seed's row-partition
  continuum tasks on a bundle of ``pclean.utils.partition.partition_continuum``: the engine's row
  task for that partition (the same code a Dask worker runs for ``ParallelContinuumImager``),
  written as the seed wrote it, unnormalised partial CASA images ``<imagename>.part.<i>.<ext>``
  (``psf`` and ``sumwt``; ``residual``; ``pb``; ``.ttN`` terms for mtmfs). Summed over the
  partitions and divided by the summed ``sumwt``, they are the single run's ``.psf`` and
  ``.residual``: every partition weights with the density of all of them (the bundle's weighter).
"""
from __future__ import annotations

import json
import os
from typing import Any, Mapping, Optional

from ..distributed.rows import run_row_task
from ..distributed.task import run_block_task

__all__ = ["run_subcube", "run_block_task", "run_row_task", "make_partial_psf",
           "run_partial_major_cycle", "make_partial_pb"]


def run_subcube(config_dict: Mapping[str, Any]) -> dict:
    """Image one sub-cube described by ``config_dict`` (pclean / tclean parameter names, or the
    seed's sectioned form) in this process; returns the run summary."""
    from .. import _native
    from ..config import PcleanConfig

    cfg = PcleanConfig(config_dict).merged(parallel=False)
    return _native.run_image(cfg.to_json())


def _partial(bundle: Mapping[str, Any], pass_: str, model: Optional[str] = None) -> str:
    from .. import _native

    try:
        config, n, index = bundle["config"], bundle["nparts"], bundle["index"]
        name, weighter = bundle["imagename"], bundle["weighter"]
    except (KeyError, TypeError) as e:
        raise ValueError(f"not a bundle of pclean.utils.partition.partition_continuum (missing "
                         f"{e}): make the bundles with partition_continuum(config, nparts)"
                         ) from None
    nthreads = int(bundle.get("nthreads") or 0) or (os.cpu_count() or 1)
    _native.row_partial(config, n, index, pass_, name, weighter, model, nthreads)
    return name


def _exists(prefix: str, ext: str) -> bool:
    return os.path.isdir(f"{prefix}.{ext}")


def make_partial_psf(bundle: dict) -> str:
    """This partition's PSF pass: writes ``<partial>.psf`` and ``<partial>.sumwt`` (``.ttN`` for
    mtmfs), unnormalised; returns the partial image name."""
    return _partial(bundle, "psf")


def run_partial_major_cycle(bundle: dict, controls: Optional[dict] = None) -> str:
    """One major cycle on this partition: the model's visibilities predicted and subtracted, the
    residual gridded into ``<partial>.residual`` (``.ttN`` for mtmfs), unnormalised; returns the
    partial image name. The model is the partial's own ``<partial>.model`` when present (the seed's
    normaliser scattered the model there), else the run's ``<imagename>.model``, else none (the
    dirty image). ``controls`` is the seed's iteration record: only ``lastcycle`` is read; with a
    ``savemodel`` other than 'none' the last cycle would write model columns, which these tasks
    do not (use ParallelContinuumImager), so that is refused."""
    from .. import PcleanValueError

    if not isinstance(bundle, Mapping) or "config" not in bundle:
        return _partial(bundle, "residual")  # raises: not a bundle of partition_continuum
    controls = dict(controls or {})
    cfg = json.loads(bundle["config"])
    if controls.get("lastcycle") and cfg.get("savemodel", "none") not in ("none", "", None):
        raise PcleanValueError(
            f"run_partial_major_cycle: savemodel={cfg['savemodel']!r} with controls lastcycle: "
            "the per-partition tasks write no model column; image with "
            "ParallelContinuumImager(config, cluster).run() or set savemodel='none'")
    model = None
    first = "model.tt0" if cfg.get("deconvolver") == "mtmfs" else "model"
    for prefix in (bundle.get("imagename"), bundle.get("parent_imagename")):
        if prefix and _exists(prefix, first):
            model = prefix
            break
        if prefix and os.path.exists(f"{prefix}.{first}.fits"):
            # A FITS model would otherwise be passed over silently (a dirty residual).
            raise PcleanValueError(
                f"run_partial_major_cycle: the model {prefix}.{first}.fits is FITS; the partial "
                "tasks read a CASA image model (format='casa', or import it with importfits)")
    return _partial(bundle, "residual", model)


def make_partial_pb(bundle: dict) -> str:
    """The primary beam of the run (the same for every partition: pclean's ``.pb`` sums the beams
    of the selected fields) as ``<partial>.pb`` (``.pb.tt0`` for mtmfs); returns the partial image
    name."""
    return _partial(bundle, "pb")

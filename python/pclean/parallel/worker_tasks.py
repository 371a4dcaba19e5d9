"""The seed's worker-task functions, on pclean's engine.

- ``run_subcube(config_dict)``: image one sub-cube (a complete parameter set: its own
  ``imagename``, ``start``/``nchan``) with the engine in this process; returns its run summary.
- ``run_block_task``: pclean's own task (one channel block of a cube, its planes returned to the
  coordinator), what ``ParallelCubeImager`` submits.
- ``run_row_task``: pclean's row-partition task (one gridding pass of a continuum image on one
  partition's rows, its partial returned to the coordinator), what ``ParallelContinuumImager``
  submits.
- ``make_partial_psf``, ``run_partial_major_cycle``, ``make_partial_pb``: the seed's row-partition
  continuum tasks, each a tclean run on one partition that weights with the partition's own
  density and writes partial images to disk. pclean's partitions weight with the density summed
  over all partitions and return their partials to the coordinator, so a partition cannot be
  imaged on its own: they raise ``NotImplementedError`` naming what to use instead.
"""
from __future__ import annotations

from typing import Any, Mapping

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


_NO_ROW_PARTITIONS = (
    "{name}: pclean's row partitions are not separate imaging runs (each weights with the "
    "density summed over every partition and returns its partial to the coordinator); image the "
    "continuum with ParallelContinuumImager(config, cluster).run() or "
    "pclean.pclean(..., specmode='mfs', parallel=True) (docs/migrating.md)")


def make_partial_psf(bundle: dict) -> str:
    raise NotImplementedError(_NO_ROW_PARTITIONS.format(name="make_partial_psf"))


def run_partial_major_cycle(bundle: dict, controls: dict | None = None) -> str:
    raise NotImplementedError(_NO_ROW_PARTITIONS.format(name="run_partial_major_cycle"))


def make_partial_pb(bundle: dict) -> str:
    raise NotImplementedError(_NO_ROW_PARTITIONS.format(name="make_partial_pb"))

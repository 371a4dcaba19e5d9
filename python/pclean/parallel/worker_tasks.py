"""The seed's worker-task functions, on pclean's engine.

- ``run_subcube(config_dict)``: image one sub-cube (a complete parameter set: its own
  ``imagename``, ``start``/``nchan``) with the engine in this process; returns its run summary.
- ``run_block_task``: pclean's own task (one channel block of a cube, its planes returned to the
  coordinator), what ``ParallelCubeImager`` submits.
- ``make_partial_psf``, ``run_partial_major_cycle``, ``make_partial_pb``: the seed's row-partition
  continuum tasks. pclean has no row-partitioned continuum imaging yet (issue 16): they raise
  ``NotImplementedError`` naming what to use instead.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..distributed.task import run_block_task

__all__ = ["run_subcube", "run_block_task", "make_partial_psf", "run_partial_major_cycle",
           "make_partial_pb"]


def run_subcube(config_dict: Mapping[str, Any]) -> dict:
    """Image one sub-cube described by ``config_dict`` (pclean / tclean parameter names, or the
    seed's sectioned form) in this process; returns the run summary."""
    from .. import _native
    from ..config import PcleanConfig

    cfg = PcleanConfig(config_dict).merged(parallel=False)
    return _native.run_image(cfg.to_json())


_NO_ROW_PARTITIONS = (
    "{name}: pclean does not split continuum imaging into row partitions yet (issue 16); "
    "ParallelContinuumImager images the whole mfs plane as one engine task "
    "(docs/migrating.md)")


def make_partial_psf(bundle: dict) -> str:
    raise NotImplementedError(_NO_ROW_PARTITIONS.format(name="make_partial_psf"))


def run_partial_major_cycle(bundle: dict, controls: dict | None = None) -> str:
    raise NotImplementedError(_NO_ROW_PARTITIONS.format(name="run_partial_major_cycle"))


def make_partial_pb(bundle: dict) -> str:
    raise NotImplementedError(_NO_ROW_PARTITIONS.format(name="make_partial_pb"))

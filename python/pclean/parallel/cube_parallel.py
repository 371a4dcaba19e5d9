"""The seed's ``ParallelCubeImager(config, cluster).run()`` over pclean's Dask driver: the cube's
channel blocks are imaged by the engine on the cluster's workers and written by this process
straight into the final products (no sub-cubes, no concatenation step: the seed's
``keep_subcubes``/``concat_mode`` are accepted and noted in the log)."""
from __future__ import annotations

from typing import Any, Mapping, Union

from ..config import PcleanConfig
from .cluster import DaskClusterManager


def _full_config(config: Union[PcleanConfig, Mapping[str, Any]]) -> dict:
    cfg = config if isinstance(config, PcleanConfig) else PcleanConfig(config)
    full = cfg.validate(complete=True)
    full["parallel"] = True
    return full


class _ImagerOnCluster:
    """The seed's imager shape: a config and a started cluster, ``run()`` returns the summary."""

    def __init__(self, config: Union[PcleanConfig, Mapping[str, Any]],
                 cluster: DaskClusterManager):
        self.config = config
        self.cluster = cluster


class ParallelCubeImager(_ImagerOnCluster):
    """Image a cube (``specmode`` cube/cubedata) on a started ``DaskClusterManager``."""

    def run(self) -> dict:
        """Run; returns pclean's run summary (with its ``distributed`` section)."""
        from ..distributed.driver import run_distributed

        return run_distributed(_full_config(self.config), cluster=self.cluster.manager)

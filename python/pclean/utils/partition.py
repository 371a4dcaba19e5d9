"""The seed's partition helpers.

pclean's engine plans a cube's channel blocks itself (memory model, ``cube_chunksize``), and its
Dask driver sends those blocks to the workers: a run needs no partitioning by the caller.
``partition_cube`` remains for the seed's scripts that image sub-cubes themselves (each part a
complete config with its own ``imagename`` ``<base>.subcube.<i>``, ``start`` and ``nchan``, imaged with
``pclean.parallel.worker_tasks.run_subcube`` and joined with
``pclean.utils.image_concat.concat_subcubes``).

``partition_continuum`` cuts an mfs run's selected rows with the engine's row plan (the
partitions ``ParallelContinuumImager`` and ``row_partitions`` use) and returns one bundle per
partition for the seed's per-partition tasks (``pclean.parallel.worker_tasks.make_partial_psf``,
``run_partial_major_cycle``, ``make_partial_pb``). Unlike the seed's, every bundle carries the
weighter made from the weighting density of all partitions (computed here, once), so the partial
images sum to the single run's whatever the number of partitions (the seed weighted each
partition with its own density).
"""
from __future__ import annotations

import os
import re
from typing import Any, Mapping, Union

from ..config import PcleanConfig

_QTY = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z/]*)\s*$")


def subcube_name(base: str, part_index: int) -> str:
    """Image name of sub-cube ``part_index`` (the seed's, what ``concat_subcubes`` joins):
    ``<base>.subcube.<i>``."""
    return f"{base}.subcube.{part_index}"


def partial_image_name(base: str, part_index: int) -> str:
    """The seed's name of a continuum row partition's partial image."""
    return f"{base}.workdirectory/{base}.n{part_index}"


def _offset(start: str, width: str, k: int, which: str) -> str:
    """``start + k * width`` in the units the user wrote (channel numbers or quantities)."""
    if start in ("", None) and width in ("", None):
        return str(k)
    ms, mw = _QTY.match(str(start or "0")), _QTY.match(str(width or "1"))
    if not (ms and mw):
        raise ValueError(f"partition_cube: cannot step {which}: start={start!r}, width={width!r}")
    su, wu = ms.group(2), mw.group(2)
    if su and wu and su != wu:
        raise ValueError(f"partition_cube: start={start!r} and width={width!r} must have the same "
                         "unit to be partitioned")
    v = float(ms.group(1)) + k * float(mw.group(1))
    if not (su or wu):
        return str(int(round(v)))
    return f"{v!r}{su or wu}"


def partition_cube(config: Union[PcleanConfig, Mapping[str, Any]], nparts: int) -> list:
    """Split the cube's ``nchan`` image channels into ``nparts`` contiguous parts (the first ones one
    channel larger when they do not divide evenly); one ``PcleanConfig`` per part."""
    cfg = config if isinstance(config, PcleanConfig) else PcleanConfig(config)
    full = cfg.to_dict(defaults=True)
    nchan = int(full.get("nchan", -1))
    if nchan <= 0:
        raise ValueError("partition_cube needs nchan > 0 (pclean's own runs plan the channel "
                         "blocks themselves: run the whole cube with pclean.pclean)")
    if nparts < 1:
        raise ValueError(f"nparts={nparts}: use 1 or more")
    nparts = min(nparts, nchan)
    base, extra = divmod(nchan, nparts)
    out, a = [], 0
    for i in range(nparts):
        n = base + (1 if i < extra else 0)
        start = _offset(full.get("start", ""), full.get("width", ""), a, "start")
        out.append(cfg.merged(imagename=subcube_name(full["imagename"], i),
                              start=start, nchan=n))
        a += n
    return out


def partition_continuum(config: Union[PcleanConfig, Mapping[str, Any]], nparts: int) -> list:
    """The engine's ``nparts`` row partitions of the mfs run ``config``: one bundle (a dict) per
    partition, fewer when there are fewer rows (or, with ``row_partition_by``, windows or MSs)
    than ``nparts``. Each bundle holds the run (``config``: the engine's parameters as JSON),
    ``nparts``, its ``index``, ``rows`` and ``pieces`` (the engine's plan), the partial image name
    ``imagename`` (``<imagename>.part.<i>``, the seed's) and ``parent_imagename``, and the
    weighter (bytes) from the density of every partition. Bundles are pclean's, not casatools'
    parameter records."""
    import json

    from .. import _native
    from ..parallel.cube_parallel import _full_config

    if int(nparts) < 1:
        raise ValueError(f"nparts={nparts}: use 1 or more")
    full = _full_config(config)
    # Validated as a run in `nparts` row partitions: the engine refuses, naming it, what it cannot
    # cut by rows (a cube, a mosaic, awproject).
    full.update(parallel=False, row_partitions=int(nparts))
    _native.validate(json.dumps(full), complete=True, defaults=False)
    config_json = json.dumps(full)
    nthreads = int(full.get("nthreads") or 0) or (os.cpu_count() or 1)
    plan = _native.row_plan(config_json, int(nparts))
    weighter = _native.row_weighter(config_json, nthreads)
    base = full["imagename"]
    return [dict(config=config_json, nparts=int(nparts), index=p["index"], rows=p["rows"],
                 pieces=p["pieces"], imagename=f"{base}.part.{p['index']}",
                 parent_imagename=base, weighter=weighter) for p in plan]

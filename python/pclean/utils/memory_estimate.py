"""The seed's memory-estimate API (``estimate_worker_memory_gib``, ``estimate_peak_ram_gib``,
``recommend_nworkers``, ``WORKER_BASE_OVERHEAD_GIB``) with pclean's memory model behind it
(crates/pclean-engine/src/plan/memory, docs/memory.md: calibrated on pclean's own runs, every
prediction within 8% of the measured peak).

What differs from the seed (docs/migrating.md):

- The seed's constants were calibrated on CASA's C++ memory (76 B per pixel and channel,
  0.7 GiB per worker process); pclean's model counts its own buffers (grids, planes, kernels,
  visibilities), a few times smaller. ``BYTES_PER_PIXEL_STANDARD`` is pclean's marginal cost of a
  pixel in one 4096^2 plane, for the seed's formula-style uses.
- ``WORKER_BASE_OVERHEAD_GIB``: a Dask worker process with pclean imported
  (``WORKER_BASE_BYTES``) plus the engine's base.
- The model is pclean's: ``gridder`` 'standard' only, ``nterms`` 1 (1 to 4 with
  ``deconvolver='mtmfs'``) and ``nfields`` 1; other values raise ``PcleanValueError`` naming them. A
  rectangular ``imsize`` is estimated as the square of its larger side (an upper bound).
- ``estimate_peak_ram_gib`` is ``nworkers`` times the worker estimate (pclean's model has no
  driver term: the coordinator holds no image planes).
- ``recommend_nworkers`` returns at least 1, as the seed's; it logs a warning when even one
  worker does not fit.
- ``row_partitions`` (pclean's, for a continuum image cut into row partitions): a worker then runs
  one partition's passes over ``nvis_per_chan / row_partitions`` visibilities (a whole uv grid
  each, its share of the per-visibility buffers), ``recommend_nworkers`` returns at most
  ``row_partitions``, and ``estimate_coordinator_memory_gib`` is the coordinator holding the image
  planes (docs/memory.md, "Row partitions").
"""
from __future__ import annotations

import logging
import math
from typing import Optional, Sequence, Union

from .. import _native

log = logging.getLogger("pclean.utils")

GIB = float(1 << 30)
#: Memory a Dask worker process needs besides the tasks it runs (Python, Dask, the imported
#: engine), bytes; the Dask driver gives tasks a worker's memory limit less this
#: (``pclean.distributed``).
WORKER_BASE_BYTES = 384 << 20

# The engine's base of a task (pclean_engine::plan::memory::BASE_BYTES, 24 MiB), included in
# the native estimates.
_ENGINE_BASE_BYTES = 24 << 20

#: Memory of one Dask worker process besides its task's buffers (GiB): the worker process with
#: pclean imported plus the engine's base.
WORKER_BASE_OVERHEAD_GIB: float = (WORKER_BASE_BYTES + _ENGINE_BASE_BYTES) / GIB


def _side(imsize: Union[int, Sequence[int]]) -> int:
    if isinstance(imsize, int):
        return imsize
    sides = [int(v) for v in imsize]
    if not 1 <= len(sides) <= 2:
        raise ValueError(f"imsize={imsize!r}: give one size or two (nx, ny)")
    return max(sides)


def _task_gib(imsize, nchan_per_task, gridder, deconvolver, nterms, nfields,
              row_partitions=0, nvis_per_chan=None) -> float:
    """pclean's estimate of one task's buffers (the engine's base taken out), GiB."""
    kw = {}
    if nvis_per_chan is not None:
        kw["nvis_per_chan"] = int(nvis_per_chan)
    est = _native.estimate_worker_memory_gib(
        _side(imsize), nchan_per_task=int(nchan_per_task), gridder=gridder,
        deconvolver=deconvolver, nterms=int(nterms), nfields=int(nfields),
        row_partitions=int(row_partitions), **kw)
    return est - _ENGINE_BASE_BYTES / GIB


def estimate_worker_memory_gib(
    imsize: Union[int, Sequence[int]],
    nchan_per_task: int = 1,
    gridder: str = "standard",
    deconvolver: str = "hogbom",
    nterms: int = 1,
    nfields: int = 1,
    row_partitions: int = 0,
    nvis_per_chan: Optional[int] = None,
) -> float:
    """Peak memory of one Dask worker imaging ``nchan_per_task`` channels at a time (or, with
    ``row_partitions``, one row partition of ``nvis_per_chan`` visibilities), GiB."""
    return float(WORKER_BASE_OVERHEAD_GIB
                 + _task_gib(imsize, nchan_per_task, gridder, deconvolver, nterms, nfields,
                             row_partitions, nvis_per_chan))


def estimate_coordinator_memory_gib(
    imsize: Union[int, Sequence[int]],
    row_partitions: int,
    deconvolver: str = "hogbom",
    nterms: int = 1,
    nvis_per_chan: Optional[int] = None,
) -> float:
    """Peak memory of the coordinator of a continuum image in ``row_partitions`` partitions
    (its image planes, minor cycle, and every partition's partial image while a pass is summed),
    GiB, the engine's base included (not a Dask worker's)."""
    kw = {} if nvis_per_chan is None else {"nvis_per_chan": int(nvis_per_chan)}
    return float(_native.estimate_coordinator_memory_gib(
        _side(imsize), deconvolver=deconvolver, nterms=int(nterms),
        row_partitions=int(row_partitions), **kw))


def estimate_peak_ram_gib(
    nworkers: int,
    imsize: Union[int, Sequence[int]],
    nchan_per_task: int = 1,
    gridder: str = "standard",
    deconvolver: str = "hogbom",
    nterms: int = 1,
    nfields: int = 1,
) -> float:
    """Peak memory of ``nworkers`` concurrent workers, GiB."""
    return float(nworkers) * estimate_worker_memory_gib(
        imsize, nchan_per_task, gridder, deconvolver, nterms, nfields)


def recommend_nworkers(
    available_ram_gib: Optional[float] = None,
    imsize: Union[int, Sequence[int]] = 4096,
    nchan_per_task: int = 1,
    gridder: str = "standard",
    deconvolver: str = "hogbom",
    nterms: int = 1,
    nfields: int = 1,
    ram_safety_factor: float = 0.85,
    row_partitions: int = 0,
    nvis_per_chan: Optional[int] = None,
) -> int:
    """Workers that fit ``ram_safety_factor`` of ``available_ram_gib`` (default: this machine's
    available memory); at least 1; with ``row_partitions``, at most that many (a worker runs
    one partition at a time)."""
    if not 0.0 < ram_safety_factor <= 1.0:
        raise ValueError(f"ram_safety_factor={ram_safety_factor}: use a value in (0, 1]")
    avail = _native.available_memory_gib() if available_ram_gib is None else available_ram_gib
    if not (avail > 0 and math.isfinite(avail)):
        raise ValueError(f"available_ram_gib={available_ram_gib}: use a positive number of GiB")
    per = estimate_worker_memory_gib(imsize, nchan_per_task, gridder, deconvolver, nterms,
                                     nfields, row_partitions, nvis_per_chan)
    n = int(math.floor(avail * ram_safety_factor / per))
    if row_partitions > 0:
        n = min(n, int(row_partitions))
    if n < 1:
        log.warning("one worker needs an estimated %.2f GiB, more than %.0f%% of %.2f GiB",
                    per, 100 * ram_safety_factor, avail)
    return max(1, n)


#: pclean's marginal cost of one pixel of one channel (4096^2 plane, hogbom), bytes: for the
#: seed's ``pixels x BYTES_PER_PIXEL_STANDARD`` back-of-envelope uses.
BYTES_PER_PIXEL_STANDARD: float = _task_gib(4096, 1, "standard", "hogbom", 1, 1) * GIB / 4096**2

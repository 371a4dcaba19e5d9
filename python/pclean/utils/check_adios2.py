"""The seed's ADIOS2 checks, answered for pclean's own casacore (the tables pclean reads), not
casatools': ``check_adios2_support`` says whether this build can read and write Adios2StMan
columns, ``ms_uses_adios2`` whether an MS uses it (``pclean inspect``).

``get_casatools_info`` still describes a casatools installation if there is one (the seed's
users may have one beside pclean); ``adios2_supported`` is pclean's answer.
``force_omp_single_thread`` sets OpenMP to one thread as the seed's does; pclean's engine does not
use OpenMP (its threads are its own), so it matters only to casatools in the same process.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from dataclasses import dataclass, field

from .. import _native


@dataclass
class CasatoolsInfo:
    """A casatools installation (if any) and pclean's ADIOS2 support."""

    version: str = "unknown"
    origin: str = "unknown"
    conda_build_string: str = ""
    adios2_supported: bool = False
    details: dict = field(default_factory=dict)


def get_casatools_info() -> CasatoolsInfo:
    """casatools' version and origin (pip or conda) when installed; ``adios2_supported`` is
    whether pclean's casacore has Adios2StMan."""
    from importlib import metadata

    support = _native.adios2_support()
    info = CasatoolsInfo(adios2_supported=bool(support["read"]),
                         details={"pclean_adios2": support["why"]})
    try:
        dist = metadata.distribution("casatools")
    except metadata.PackageNotFoundError:
        info.origin = "not installed"
        return info
    info.version = dist.version
    installer = (dist.read_text("INSTALLER") or "").strip()
    info.origin = installer or "unknown"
    return info


def check_adios2_support(*, cleanup: bool = True) -> bool:
    """Whether pclean's casacore can read and write Adios2StMan columns (``cleanup`` is the
    seed's; pclean's check makes no table)."""
    return bool(_native.adios2_support()["read"])


def ms_uses_adios2(ms_path: str) -> bool:
    """Whether a column of the MS's main table is stored with Adios2StMan."""
    return bool(_native.ms_uses_adios2(str(ms_path)))


def force_omp_single_thread() -> None:
    """OMP_NUM_THREADS=1 and, when libgomp is loaded, ``omp_set_num_threads(1)``."""
    os.environ["OMP_NUM_THREADS"] = "1"
    name = ctypes.util.find_library("gomp")
    if name:
        try:
            ctypes.CDLL(name).omp_set_num_threads(1)
        except (OSError, AttributeError):
            pass

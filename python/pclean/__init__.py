"""pclean: parallel radio-interferometric imaging with CASA tclean's parameters.

    import pclean
    summary = pclean.pclean(vis="ngc5921.ms", imagename="out/n5921", imsize=256,
                            cell="15arcsec", specmode="cube", niter=0)

The parameters, their defaults and their validation come from the Rust engine
(``pclean.schema()``); see docs/python.md.
"""
from ._native import (
    PcleanError,
    PcleanIOError,
    PcleanValueError,
    available_memory_gib,
    estimate_peak_ram_gib,
    estimate_worker_memory_gib,
    recommend_nworkers,
    version,
)
from .api import params, schema
# The seed's module path first (``pclean.pclean`` the module), then the name bound to the function.
from .pclean import pclean  # noqa: E402
from .config import PcleanConfig, preset_names

__version__ = version()

__all__ = [
    "params",
    "pclean",
    "PcleanConfig",
    "PcleanError",
    "PcleanIOError",
    "PcleanValueError",
    "available_memory_gib",
    "estimate_peak_ram_gib",
    "estimate_worker_memory_gib",
    "preset_names",
    "recommend_nworkers",
    "schema",
    "version",
]

"""``pclean.pclean``: tclean's call with pclean's engine."""
from __future__ import annotations

import inspect
import os
from typing import Any, Mapping, Optional, Union

from . import _native
from .config import PcleanConfig


def schema() -> dict:
    """Every parameter with its default (the engine's config schema)."""
    return _native.schema()


def _layers(preset: Optional[str], config: Any) -> PcleanConfig:
    cfg = PcleanConfig.from_preset(preset) if preset else PcleanConfig()
    if config is None:
        return cfg
    if isinstance(config, PcleanConfig):
        return cfg.merged(config)
    if isinstance(config, Mapping):
        return cfg.merged(PcleanConfig(config))
    if isinstance(config, (str, os.PathLike)):
        return cfg.merged(PcleanConfig.from_yaml(config))
    raise TypeError("config must be a PcleanConfig, a dict, or a YAML file path")


def pclean(
    *,
    config: Union[PcleanConfig, Mapping[str, Any], str, "os.PathLike[str]", None] = None,
    preset: Optional[str] = None,
    **params: Any,
) -> dict:
    """Make images as CASA's tclean does; returns the run summary (a dict).

    Parameters are tclean's names (see ``pclean.schema()`` for every name and default) plus the
    parallel ones (``parallel``, ``nworkers``, ``cluster_type``, ...). Layers, later wins:
    ``preset`` < ``config`` (a PcleanConfig, dict or YAML path) < keyword arguments. A keyword
    set to ``None`` counts as not given.

    ``parallel=False`` (default) runs the engine in this process (the GIL released);
    ``parallel=True`` runs the Dask driver ``pclean.distributed.run_distributed``.
    """
    cfg = _layers(preset, config).merged(PcleanConfig(params))
    full = cfg.validate(complete=True)
    if full.get("parallel"):
        try:
            from .distributed import run_distributed  # noqa: PLC0415 (optional dependency)
        except ImportError as e:
            raise _native.PcleanError(
                "parallel=True needs the Dask driver (pclean.distributed) and its dependencies: "
                "pip install 'pclean[dask]'; or run with parallel=False ("
                + str(e)
                + ")"
            ) from e
        return run_distributed(full)
    return _native.run_image(cfg.to_json())


def _signature() -> inspect.Signature:
    """pclean's signature with every schema key and its default (for help() and IDEs)."""
    kw = inspect.Parameter.KEYWORD_ONLY
    ps = [
        inspect.Parameter("config", kw, default=None),
        inspect.Parameter("preset", kw, default=None),
    ]
    ps += [inspect.Parameter(k, kw, default=v) for k, v in _native.schema().items()]
    return inspect.Signature(ps)


pclean.__signature__ = _signature()  # type: ignore[attr-defined]

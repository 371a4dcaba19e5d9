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


def params() -> list:
    """Every parameter's declaration, in order: ``[{"name", "kind", "default", "help",
    "default_text", "choices", "group", ...}]`` (the same list as ``pclean params``)."""
    return _native.params()


def _signature() -> inspect.Signature:
    """pclean's signature: every declared parameter with its default (for help() and IDEs)."""
    kw = inspect.Parameter.KEYWORD_ONLY
    ps = [
        inspect.Parameter("config", kw, default=None),
        inspect.Parameter("preset", kw, default=None),
    ]
    ps += [inspect.Parameter(p["name"], kw, default=p["default"]) for p in _native.params()]
    return inspect.Signature(ps)


def _parameter_docs() -> str:
    lines = ["", "Parameters (name: help [default]):", ""]
    lines += [f"    {p['name']}: {p['help']} [default: {p['default_text']}]" for p in _native.params()]
    return "\n".join(lines)


pclean.__signature__ = _signature()  # type: ignore[attr-defined]
pclean.__doc__ = (pclean.__doc__ or "") + _parameter_docs()

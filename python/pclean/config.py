"""``PcleanConfig``: a layer of parameters (tclean's names) with YAML load/dump and merging.

The schema, defaults, value conversion (``imsize=256`` -> ``[256]``) and validation are the Rust
engine's (``pclean._native``); this class only holds the dict and passes it through.
"""
from __future__ import annotations

import json
import os
from typing import Any, Iterator, Mapping, Optional, Union

from . import _native

PathLike = Union[str, "os.PathLike[str]"]


def _encode(value: Any) -> Any:
    """JSON fallback for values json cannot write: numpy scalars/arrays, paths."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not a parameter value")


def to_json(params: Mapping[str, Any]) -> str:
    """Parameters as the JSON text the engine reads (``None`` values left out: not given)."""
    return json.dumps({k: v for k, v in params.items() if v is not None}, default=_encode)


def preset_names() -> list:
    """Names of the presets shipped with pclean (e.g. ``vlass``)."""
    return list(_native.preset_names())


class PcleanConfig(Mapping[str, Any]):
    """Parameters that are set (a config layer), in canonical form.

    ``PcleanConfig(imsize=256, cell="15arcsec")``; unknown keys and values of the wrong type raise
    ``PcleanValueError`` naming the key. Layers merge with ``merged`` (later wins).
    """

    def __init__(self, params: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> None:
        given = dict(params or {})
        given.update(kwargs)
        self._params: dict = _native.validate(to_json(given), complete=False, defaults=False)

    # construction ------------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, source: Union[PathLike, str]) -> "PcleanConfig":
        """From a YAML file path, or from YAML text."""
        text = source
        if isinstance(source, os.PathLike) or (
            isinstance(source, str)
            and "\n" not in source
            and (os.path.exists(source) or source.endswith((".yaml", ".yml")))
        ):
            with open(source, encoding="utf-8") as f:
                text = f.read()
        return cls(_native.yaml_to_config(str(text)))

    @classmethod
    def from_preset(cls, name: str) -> "PcleanConfig":
        """A preset shipped with pclean (see ``preset_names()``)."""
        return cls(_native.preset(name))

    def merged(self, *layers: Union["PcleanConfig", Mapping[str, Any]], **overrides: Any) -> "PcleanConfig":
        """This config with ``layers`` then ``overrides`` on top (later wins)."""
        out = dict(self._params)
        for layer in layers:
            out.update(dict(layer) if isinstance(layer, PcleanConfig) else PcleanConfig(layer)._params)
        out.update(PcleanConfig(overrides)._params)
        return PcleanConfig(out)

    # output -------------------------------------------------------------------------------
    def to_dict(self, defaults: bool = False) -> dict:
        """The keys that are set; with ``defaults``, every key (defaults applied)."""
        if defaults:
            return _native.validate(self.to_json(), complete=False, defaults=True)
        return json.loads(json.dumps(self._params))

    def to_json(self) -> str:
        return to_json(self._params)

    def to_yaml(self, path: Optional[PathLike] = None) -> str:
        """YAML of the keys that are set (``from_yaml`` reads it back equal); written to ``path`` if
        given."""
        text = _native.config_to_yaml(self.to_json())
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    def validate(self, complete: bool = True) -> dict:
        """Validate every value (with ``complete``, as a run: ``vis`` and ``imagename`` required);
        returns every key with defaults applied. Raises ``PcleanValueError`` naming the field."""
        return _native.validate(self.to_json(), complete=complete, defaults=True)

    # mapping ------------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self._params[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PcleanConfig):
            return self._params == other._params
        return NotImplemented

    def __repr__(self) -> str:
        return f"PcleanConfig({self._params!r})"

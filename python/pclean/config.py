"""``PcleanConfig``: a layer of parameters (tclean's names) with YAML load/dump and merging.

The schema, defaults, value conversion (``imsize=256`` -> ``[256]``) and validation are the Rust
engine's (``pclean._native``); this class only holds the dict and passes it through.
"""
from __future__ import annotations

import json
import os
from typing import Any, Iterator, Mapping, Optional, Union

from . import _native
from ._seed_layout import CLUSTER_KEYS, SECTIONS, SubmitConfig, _Section, _seed_values

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
        self._submit: dict = {}
        if isinstance(params, PcleanConfig):
            self._submit = dict(params._submit)
        self._params: dict = _native.validate(to_json(_seed_values(given)), complete=False,
                                              defaults=False)

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
        cfg = cls(_native.yaml_to_config(str(text)))
        cfg._submit = dict(_native.seed_submit_section(str(text)) or {})
        return cfg

    # the seed's names -----------------------------------------------------------------------
    @classmethod
    def from_flat_kwargs(cls, **kwargs: Any) -> "PcleanConfig":
        """The seed's constructor from ``pclean()``-style keywords (``None`` = not given)."""
        return cls({k: v for k, v in kwargs.items() if v is not None})

    @classmethod
    def merge(cls, *layers: "PcleanConfig") -> "PcleanConfig":
        """The seed's layer merge: later layers win."""
        out = cls()
        submit: dict = {}
        for layer in layers:
            out = out.merged(layer)
            submit.update(getattr(layer, "_submit", {}))
        out._submit = submit
        return out

    def model_dump(self) -> dict:
        """The keys that are set in the seed's sectioned form (``{"selection": {"vis": ...},
        "image": {...}, ..., "cluster": {"type": ..., "slurm": {...}, "submit": {...}}}``), which
        ``PcleanConfig``, ``from_yaml`` and ``pclean image --config`` read back. A key of two of
        the seed's sections (``nterms``, ``pblimit``, ...) is written in the first; pclean's own
        keys (``epsilon``, ``nthreads``, ...) stay at the top level."""
        flat = self.to_dict()
        out: dict = {}
        placed = set()
        for section, names in SECTIONS.items():
            for k in names:
                if k in flat and k not in placed:
                    out.setdefault(section, {})[k] = flat[k]
                    placed.add(k)
        cluster_names = {v: k for k, v in CLUSTER_KEYS.items()}
        for k, v in flat.items():
            if k in placed:
                continue
            if k in cluster_names:
                out.setdefault("cluster", {})[cluster_names[k]] = v
            elif k.startswith("slurm_"):
                out.setdefault("cluster", {}).setdefault("slurm", {})[k[len("slurm_"):]] = v
            else:
                out[k] = v
        if self._submit:
            out.setdefault("cluster", {})["submit"] = dict(self._submit)
        return out

    def to_flat_kwargs(self) -> dict:
        """The keys that are set, as ``pclean()`` keywords."""
        return self.to_dict()

    def __getattr__(self, name: str) -> Any:
        # The seed's sections: cfg.selection.vis, cfg.image.imsize, cfg.cluster.slurm.queue, ...
        if name.startswith("_"):
            raise AttributeError(name)
        if name in SECTIONS:
            return _Section(self.to_dict(defaults=True), {k: k for k in SECTIONS[name]})
        if name == "cluster":
            slurm = {p["name"][len("slurm_"):]: p["name"] for p in _native.params()
                     if p["name"].startswith("slurm_")}
            names: dict = dict(CLUSTER_KEYS)
            names["slurm"] = slurm
            sec = _Section(self.to_dict(defaults=True), names)
            sec.__dict__["submit"] = SubmitConfig(**self._submit)
            return sec
        raise AttributeError(f"'PcleanConfig' has no attribute '{name}'")

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
        merged = PcleanConfig(out)
        merged._submit = dict(self._submit)
        for layer in layers:
            merged._submit.update(getattr(layer, "_submit", {}))
        return merged

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


def load_preset(name: str) -> PcleanConfig:
    """The seed's ``load_preset``: a preset shipped with pclean (see ``preset_names()``)."""
    return PcleanConfig.from_preset(name)

"""The seed system's config layout on the Python side (docs/migrating.md): its special values in
the flat keyword form, the read-only section view of a ``PcleanConfig`` (``cfg.selection.vis``,
``cfg.cluster.slurm.queue``), and ``SubmitConfig`` (its ``cluster: submit:`` section). The YAML
layout itself is flattened by the engine (``pclean_core::seed_layout``)."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

from . import _native


def _seed_values(params: dict) -> dict:
    """The seed's special values in pclean's terms (its flat keyword form; its sectioned YAML is
    mapped by the engine): ``memory_limit='0'`` (Dask's "no limit") is pclean's ``auto``;
    ``cube_chunksize=-1`` (the seed's "automatic") is pclean's 0."""
    out = dict(params)
    if str(out.get("memory_limit", "")).strip() == "0":
        out["memory_limit"] = "auto"
    cs = out.get("cube_chunksize")
    if isinstance(cs, int) and not isinstance(cs, bool) and cs < 0:
        out["cube_chunksize"] = 0
    return out


# The seed's sections and the parameters each shows, and its cluster keys: declared once, in the
# engine (pclean_core::seed_layout), which also flattens the YAML layout.
_LAYOUT = _native.seed_sections()
SECTIONS = {name: tuple(keys) for name, keys in _LAYOUT["sections"].items()}
CLUSTER_KEYS = dict(_LAYOUT["cluster"])


class _Section:
    """Read-only view of one of the seed's sections (``cfg.selection.vis``): values in the seed's
    form (one MS as a string), defaults applied."""

    def __init__(self, values: Mapping[str, Any], names: Mapping[str, str]):
        self._values, self._names = values, names

    def __getattr__(self, name: str) -> Any:
        names = self.__dict__["_names"]
        if name not in names:
            raise AttributeError(f"the seed's section has no key '{name}'")
        key = names[name]
        if isinstance(key, dict):  # a sub-section (cluster.slurm)
            return _Section(self._values, key)
        v = self._values.get(key)
        if key == "vis" and isinstance(v, list) and len(v) == 1:
            return v[0]
        return v

    def model_dump(self) -> dict:
        return {n: getattr(self, n) for n in self._names}

    def __repr__(self) -> str:
        return f"Section({self.model_dump()!r})"


@dataclasses.dataclass
class SubmitConfig:
    """The seed's ``cluster: submit:`` section: the SLURM coordinator job that
    ``python -m pclean submit`` writes (see ``pclean.parallel.submit``)."""

    workdir: Optional[str] = None
    pixi_project_dir: Optional[str] = None
    pixi_env: str = "forge"
    coordinator_mem: str = "8G"
    coordinator_cpus: int = 2
    coordinator_walltime: str = "24:00:00"
    coordinator_job_name: str = "pclean-coordinator"
    extra_sbatch: list = dataclasses.field(default_factory=list)
    log_dir: Optional[str] = None
    psrecord: bool = True

    def model_dump(self) -> dict:
        return dataclasses.asdict(self)

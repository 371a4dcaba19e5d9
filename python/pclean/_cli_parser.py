"""The seed's command line (``python -m pclean``), built from pclean's parameter declarations
(``pclean._native.params()``: the same list as ``pclean params``), so every parameter of
``pclean image`` is a flag here with the seed's spelling: ``--imsize 512 512``, ``--vis a.ms b.ms``,
``--parallel/--no-parallel``, ``--cluster-type`` (and ``--cluster_type``).

Flags left out are not given (``None``): a YAML config (``--pconfig``) is not overridden by a
default. Booleans record that they were given (``_explicit``) for the same reason.
"""
from __future__ import annotations

import argparse

from . import _native

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
EXPLICIT = "_explicit"


class _Bool(argparse.BooleanOptionalAction):
    """``--name`` / ``--no-name``, remembering that it was given."""

    def __call__(self, parser, namespace, values, option_string=None):
        super().__call__(parser, namespace, values, option_string)
        given = set(getattr(namespace, EXPLICIT, None) or ())
        given.add(self.dest)
        setattr(namespace, EXPLICIT, given)


def _names(name: str) -> list:
    flags = [f"--{name.replace('_', '-')}"]
    if "_" in name:
        flags.append(f"--{name}")
    return flags


def _kind_kwargs(p: dict) -> dict:
    kind, cli = p["kind"], p.get("cli") or {}
    many = cli.get("max_values", 1) != 1
    if kind == "bool":
        return {"action": _Bool, "default": p["default"]}
    if kind == "ints":
        return {"type": int, "nargs": "+"}
    if kind in ("texts", "angles") or (many and kind not in ("int", "real")):
        return {"type": str, "nargs": "+"}
    if kind == "int":
        return {"type": int}
    if kind == "real":
        return {"type": float}
    return {"type": str}


def build_cli_parser() -> argparse.ArgumentParser:
    """``python -m pclean``'s parser: every pclean parameter, the seed's meta flags and its
    ``submit`` subcommand."""
    parser = argparse.ArgumentParser(
        prog="pclean",
        description="pclean (seed-compatible command line): tclean's parameters as flags; "
                    "python -m pclean --pconfig FILE; python -m pclean submit CONFIG --workdir DIR",
    )
    meta = parser.add_argument_group("config and logging")
    meta.add_argument("--pconfig", default=None, help="YAML config (the seed's sectioned layout or "
                      "pclean's flat one); flags override it")
    meta.add_argument("--preset", action="append", default=None,
                      help=f"preset layer (repeatable); available: {', '.join(_native.preset_names())}")
    meta.add_argument("--dump-config", dest="dump_config", default=None, metavar="FILE",
                      help="write the merged config as YAML and exit")
    meta.add_argument("--log-level", dest="log_level", default="INFO", choices=LOG_LEVELS)
    groups: dict = {}
    for p in _native.params():
        group = groups.get(p["group"])
        if group is None:
            group = groups[p["group"]] = parser.add_argument_group(p["group"])
        kw = _kind_kwargs(p)
        kw.setdefault("default", None)
        if p.get("choices") and kw.get("type") is str and "nargs" not in kw:
            kw["metavar"] = "{" + ",".join(p["choices"]) + "}"
        group.add_argument(*_names(p["name"]), dest=p["name"], help=p["help"], **kw)
    # The seed's automask switch: accepted (its scripts pass it), no effect (docs/migrating.md).
    parser.add_argument("--python-automask", dest="python_automask", action=_Bool, default=True,
                        help="the seed's choice of automask implementation; no effect in pclean, "
                             "whose auto-multithresh is tclean's")
    sub = parser.add_subparsers(dest="subcommand")
    sp = sub.add_parser("submit", help="write and submit a SLURM coordinator job running "
                                       "python -m pclean --pconfig CONFIG")
    sp.add_argument("submit_config", metavar="CONFIG", help="YAML config of the run")
    sp.add_argument("--workdir", default=None, help="working directory of the job")
    sp.add_argument("--pixi-project-dir", dest="pixi_project_dir", default=None)
    sp.add_argument("--pixi-env", dest="pixi_env", default="forge")
    sp.add_argument("--coordinator-mem", dest="coordinator_mem", default="8G")
    sp.add_argument("--coordinator-cpus", dest="coordinator_cpus", type=int, default=2)
    sp.add_argument("--coordinator-walltime", dest="coordinator_walltime", default="24:00:00")
    sp.add_argument("--coordinator-job-name", dest="coordinator_job_name",
                    default="pclean-coordinator")
    sp.add_argument("--log-dir", dest="log_dir", default=None)
    sp.add_argument("--psrecord", action=_Bool, default=True)
    sp.add_argument("--dry-run", dest="dry_run", action="store_true")
    return parser

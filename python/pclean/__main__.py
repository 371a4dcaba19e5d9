"""``python -m pclean``: the seed's command line over pclean's engine.

    python -m pclean --vis my.ms --imagename out --specmode cube --imsize 512 512 \\
        --cell 1arcsec --niter 1000 --parallel --nworkers 8
    python -m pclean --pconfig run.yaml --nworkers 48
    python -m pclean submit run.yaml --workdir /scratch/run_01

``--pconfig`` reads the seed's sectioned YAML (or pclean's flat one); flags override it. The run
is ``pclean.pclean(...)``: the engine in this process, or its Dask driver with ``--parallel``.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys

from ._cli_parser import EXPLICIT, build_cli_parser

_META = ("log_level", "pconfig", "preset", "dump_config", "subcommand", EXPLICIT)
_SUBMIT = ("submit_config", "workdir", "pixi_project_dir", "pixi_env", "coordinator_mem",
           "coordinator_cpus", "coordinator_walltime", "coordinator_job_name", "log_dir",
           "psrecord", "dry_run")


def _build_parser() -> argparse.ArgumentParser:
    return build_cli_parser()


def _cli_to_flat_kwargs(args: argparse.Namespace) -> dict:
    """The parameters given on the command line (meta flags and flags not given left out)."""
    given = getattr(args, EXPLICIT, None) or set()
    out = {}
    for k, v in vars(args).items():
        if k in _META or k in _SUBMIT or v is None:
            continue
        if isinstance(v, bool) and k not in given:
            continue  # a boolean's default: not given
        out[k] = v
    return out


def _entry():
    # Looked up at call time: ``pclean.pclean.pclean`` (the seed's path; tests patch it).
    return sys.modules["pclean.pclean"].pclean


def _run_kwargs(kwargs: dict) -> dict:
    automask = kwargs.pop("python_automask", None)
    if automask is not None:
        logging.getLogger("pclean").info(
            "python_automask=%s has no effect: pclean's auto-multithresh is tclean's algorithm "
            "(the seed's two implementations of it are one here)", automask)
    return kwargs


def _submit(args: argparse.Namespace) -> None:
    from .config import PcleanConfig, SubmitConfig
    from .parallel.submit import submit_pclean_slurm

    base = PcleanConfig.from_yaml(args.submit_config).cluster.submit.model_dump()
    defaults = SubmitConfig().model_dump()
    given = getattr(args, EXPLICIT, None) or set()
    for k in defaults:
        if not hasattr(args, k):
            continue  # not a flag (extra_sbatch): the YAML's
        v = getattr(args, k)
        if (k == "psrecord" and k in given) or (k != "psrecord" and v != defaults[k]):
            base[k] = v
    job = submit_pclean_slurm(config=args.submit_config, submit_cfg=SubmitConfig(**base),
                              dry_run=args.dry_run)
    if job is not None:
        print(f"Submitted coordinator job: {job}")


def main(argv=None) -> None:
    args = _build_parser().parse_args(argv)
    logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    logging.getLogger("pclean").setLevel(getattr(logging, args.log_level))
    if args.subcommand == "submit":
        return _submit(args)
    from .config import PcleanConfig

    kwargs = _run_kwargs(_cli_to_flat_kwargs(args))
    # The seed's order of layers: the config file, then each preset, then the flags.
    layers = []
    if args.pconfig is not None:
        layers.append(PcleanConfig.from_yaml(args.pconfig))
    for name in args.preset or []:
        layers.append(PcleanConfig.from_preset(name))
    if args.pconfig is not None or args.preset:
        if kwargs:
            layers.append(PcleanConfig(kwargs))
        cfg = PcleanConfig.merge(*layers)
        if args.dump_config:
            cfg.to_yaml(args.dump_config)
            print(f"Config written to {args.dump_config}")
            return None
        result = _entry()(config=cfg)
    else:
        if args.dump_config:
            PcleanConfig(kwargs).to_yaml(args.dump_config)
            print(f"Config written to {args.dump_config}")
            return None
        result = _entry()(**kwargs)
    print(json.dumps(result, indent=2, default=str))
    return None


def _cli() -> int:
    from . import PcleanError

    try:
        main()
    except PcleanError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_cli())

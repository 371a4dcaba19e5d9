"""`python -m pclean.distributed --config FILE`: a distributed run from a config file (JSON, YAML
or TOML with tclean's parameter names and the parallel keys); prints the summary as JSON.

Exit status: 0 done, 1 failed (the finished blocks are recorded; run again to resume), 2 bad
config, 130 interrupted.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def load_config(path: Path) -> dict:
    text = path.read_text()
    ext = path.suffix.lower()
    if ext in (".yaml", ".yml"):
        from pclean import _native
        data = _native.yaml_to_config(text)
    elif ext == ".toml":
        import tomllib
        data = tomllib.loads(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"config file '{path}' must hold a mapping of parameter names to values")
    return data


def complete(config: dict) -> dict:
    """Validated, with every default filled in (as `pclean.pclean` passes it)."""
    from pclean import PcleanConfig
    full = PcleanConfig(config).validate(complete=True)
    full["parallel"] = True
    return full


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pclean.distributed", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, type=Path, help="config file (JSON, YAML, TOML)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override one key, the value as JSON (e.g. nworkers=4)")
    ap.add_argument("--summary", type=Path, help="also write the summary JSON to this file")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s",
                        stream=sys.stderr)
    from .driver import run_distributed
    from .options import ParallelConfigError
    try:
        config = load_config(a.config)
        for kv in a.set:
            k, _, v = kv.partition("=")
            try:
                config[k] = json.loads(v)
            except ValueError:
                config[k] = v
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        config = complete(config)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        summary = run_distributed(config)
    except ParallelConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; the finished blocks are recorded, run the same command again "
              "to resume", file=sys.stderr)
        return 130
    except Exception as e:  # one line for the user; the log has the details
        logging.getLogger("pclean.distributed").debug("failure", exc_info=True)
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    text = json.dumps(summary, indent=2, default=str)
    if a.summary:
        a.summary.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

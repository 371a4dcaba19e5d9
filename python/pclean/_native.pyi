"""Type stubs of the Rust extension ``pclean._native`` (crates/pclean-python)."""
from typing import Any, Dict, List, Optional

class PcleanError(Exception):
    """Base class of every pclean error."""

class PcleanValueError(PcleanError, ValueError):
    """An invalid parameter; ``field`` names it (None when the message names none)."""
    field: Optional[str]

class PcleanIOError(PcleanError, OSError):
    """A MeasurementSet, image, product or file error."""
    field: Optional[str]

def version() -> str: ...
def schema() -> Dict[str, Any]: ...
def params() -> List[Dict[str, Any]]: ...
def preset_names() -> List[str]: ...
def preset(name: str) -> Dict[str, Any]: ...
def validate(config_json: str, complete: bool = True, defaults: bool = True) -> Dict[str, Any]: ...
def yaml_to_config(text: str) -> Dict[str, Any]: ...
def config_to_yaml(config_json: str) -> str: ...
def run_image(config_json: str) -> Dict[str, Any]: ...
def run_block(config_json: str, first_chan: int, end_chan: int, nthreads: int) -> bytes: ...

class Coordinator:
    def __init__(self, config_json: str) -> None: ...
    def pending(self) -> List[Dict[str, Any]]:
        """[{"block": int, "channels": [a, z], "memory_bytes": int, "threads": int}, ...]"""
    def accept(self, block: int, result: bytes) -> None: ...
    def finish(self) -> Dict[str, Any]: ...
    def abort(self) -> None: ...

def estimate_worker_memory_gib(
    imsize: int,
    nchan_per_task: int = 1,
    gridder: str = "standard",
    deconvolver: str = "hogbom",
    nterms: int = 1,
    nfields: int = 1,
    threads_per_task: int = 1,
) -> float: ...
def estimate_peak_ram_gib(
    nworkers: int,
    imsize: int,
    nchan_per_task: int = 1,
    gridder: str = "standard",
    deconvolver: str = "hogbom",
    nterms: int = 1,
    nfields: int = 1,
    threads_per_task: int = 1,
) -> float: ...
def recommend_nworkers(
    available_ram_gib: Optional[float] = None,
    imsize: int = 1024,
    nchan_per_task: int = 1,
    gridder: str = "standard",
    deconvolver: str = "hogbom",
    nterms: int = 1,
    nfields: int = 1,
    threads_per_task: int = 1,
    ram_safety_factor: float = 0.85,
) -> int: ...
def available_memory_gib() -> float: ...

"""Type stubs of the Rust extension ``pclean._native`` (crates/pclean-python)."""
from typing import Any, Callable, Dict, List, Optional, Tuple, TypedDict

from typing_extensions import Unpack

class PcleanError(Exception):
    """Base class of every pclean error."""
    kind: str  # the Rust error variant: "param", "choice", "unknown", "internal", "io", ...
    field: Optional[str]  # the parameter concerned, if any

class PcleanValueError(PcleanError, ValueError):
    """An invalid parameter; ``field`` names it."""
    field: Optional[str]

class PcleanIOError(PcleanError, OSError):
    """A MeasurementSet, image, product or file error."""

def version() -> str: ...
def schema() -> Dict[str, Any]: ...
def params() -> List[Dict[str, Any]]: ...
def preset_names() -> List[str]: ...
def preset(name: str) -> Dict[str, Any]: ...
def validate(config_json: str, complete: bool = True, defaults: bool = True) -> Dict[str, Any]: ...
def yaml_to_config(text: str) -> Dict[str, Any]: ...
def config_to_yaml(config_json: str) -> str: ...
def seed_sections() -> Dict[str, Any]:
    """{"sections": {section: [parameter, ...]}, "cluster": {seed key: parameter}}"""
def seed_submit_section(text: str) -> Optional[Dict[str, Any]]:
    """The ``cluster: submit:`` section of a YAML config in the seed's layout."""
def concat_images(output: str, inputs: List[str], axis: int = -1, relax: bool = True,
                  overwrite: bool = True, mode: str = "paged") -> Dict[str, Any]: ...
def concat_subcubes(base: str, nparts: int, extensions: Optional[List[str]] = None,
                    mode: str = "paged", max_workers: int = 4, relax: bool = True,
                    overwrite: bool = True) -> Dict[str, Any]: ...
def adios2_support() -> Dict[str, Any]:
    """{"read": bool, "write": bool, "why": str}"""
def ms_uses_adios2(ms: str) -> bool: ...
def convert_ms_to_adios2(ms: str, output: str) -> str: ...
def split_and_convert_ms_to_adios2(ms: str, outdir: str, nparts: int) -> List[str]: ...
def run_image(config_json: str) -> Dict[str, Any]: ...
def run_block(config_json: str, first_chan: int, end_chan: int, nthreads: int,
              cache_chans: Optional[Tuple[int, int]] = None,
              scratch_dir: Optional[str] = None, direct: Optional[str] = None,
              ranges_per_process: int = 1) -> bytes:
    """Channels [first_chan, end_chan) as an opaque result for Coordinator.accept; with
    cache_chans=(a, z), the worker's channel range: its visibilities are read once for its blocks
    (up to ranges_per_process ranges at once in this process: the Dask workers it hosts);
    with direct (Coordinator.direct_targets()), the planes of those products are written into
    them here (durable on return) and only listed in the result."""
def run_row_task(config_json: str, n: int, index: int, task: bytes, nthreads: int) -> bytes:
    """Partition `index` of `n` runs one row task (from Coordinator.run_rows); its output."""
def row_plan(config_json: str, n: int) -> List[Dict[str, Any]]:
    """The engine's `n` row partitions of an mfs run: [{"index", "rows", "pieces"}, ...]."""
def row_weighter(config_json: str, nthreads: int) -> bytes:
    """The run's imaging weighter, from the weighting density of every selected row."""
def row_partial(config_json: str, n: int, index: int, pass_: str, partname: str, weighter: bytes,
                model: Optional[str] = None, nthreads: int = 1) -> List[str]:
    """Partition `index` of `n` runs pass 'psf', 'residual' (with `<model>.model[.ttN]`) or 'pb'
    and writes its unnormalised partial images `<partname>.<ext>`; the products written."""

class Coordinator:
    def __init__(self, config_json: str) -> None: ...
    def pending(self) -> List[Dict[str, Any]]:
        """[{"block": int, "channels": [a, z], "memory_bytes": int, "threads": int}, ...]"""
    def accept(self, block: int, result: bytes) -> None: ...
    def direct_targets(self) -> str:
        """JSON for run_block(direct=...): the products whose planes the workers write themselves
        (workers that see the products' directory); empty list when none can be."""
    def transfer(self) -> Dict[str, int]:
        """{"planes_received", "plane_bytes_received", "planes_written_by_workers"} so far."""
    def run_rows(self, n: int,
                 submit: Callable[[bytes, int],
                                  List[Tuple[bytes, float, Optional[str], Optional[int]]]],
                 threads: int = 1) -> None:
        """The pending (mfs) block with its passes in `n` row partitions of `threads` threads:
        each pass's task goes to `submit(task, n)`, which returns [(output bytes, seconds,
        worker address or None, peak RSS bytes or None)] in partition order."""
    def row_partition_bytes(self, n: int, threads: int) -> int:
        """The memory model's peak bytes of one of `n` row partitions' tasks (its Dask MEMORY)."""
    def finish(self) -> Dict[str, Any]: ...
    def abort(self) -> None: ...

class WorkerSpec(TypedDict, total=False):
    """Keyword arguments of the estimate functions (``pclean estimate``'s options)."""
    nchan_per_task: int  # 1
    gridder: str  # "standard"
    deconvolver: str  # "hogbom"; "none" for dirty imaging
    nterms: int  # 1; 1 to 4 with deconvolver="mtmfs"
    nfields: int  # 1 (only)
    threads_per_task: int  # 1
    wplanes: int  # 0: the default for wproject/widefield
    row_partitions: int  # 0: none; one row partition of an mfs image per worker
    nvis_per_chan: int  # 100000
    spw_nchan: int  # 0: the task's channels only
    blocks_in_flight: int  # 1
    pabins: int  # 0: one parallactic-angle bin (awproject)
    beam_freqs: int  # 0: one beam frequency (mosaic, awproject with wbawp)
    mvc_chans: int  # 0: not specmode='mvc'
    interpolated: bool  # False: a cube not interpolated to another frame
    resident_chans: int  # 0: one channel per thread of a paged cleaned cube
    mfs: bool  # False: a cube task; True: one mfs plane of every channel of the window
    weighting: str  # "briggs"; "natural" (no density), "uniform", "superuniform", ...
    epsilon: float  # 0.0: pclean's default gridding accuracy

def estimate_worker_memory_gib(imsize: int, **spec: Unpack[WorkerSpec]) -> float: ...
def estimate_coordinator_memory_gib(imsize: int, **spec: Unpack[WorkerSpec]) -> float: ...
def estimate_peak_ram_gib(nworkers: int, imsize: int, **spec: Unpack[WorkerSpec]) -> float: ...
def recommend_nworkers(
    available_ram_gib: Optional[float] = None,
    imsize: int = 1024,
    ram_safety_factor: float = 0.85,
    **spec: Unpack[WorkerSpec],
) -> int: ...
def available_memory_gib() -> float: ...

"""What a Dask worker runs for one channel block: the engine's `run_block`, timed and labelled."""
from __future__ import annotations

import os
import socket
import time


def run_block_task(config_json: str, first_chan: int, end_chan: int, nthreads: int,
                   cache_chans: tuple[int, int] | None = None, direct: str | None = None,
                   ranges_per_process: int = 1):
    """Image channels [first_chan, end_chan) in this worker; returns (result bytes, task info).

    The engine releases the GIL and uses `nthreads` threads of its own. `cache_chans`: the
    channels this worker is given as several blocks; their visibilities are read once, in memory
    or in a scratch file in the worker's local directory. `direct`: the products this worker
    writes its planes into itself (`Coordinator.direct_targets()`); they are durable when the
    task returns, and the result only lists them. `ranges_per_process`: the workers of this
    process (several for in-process workers, each with its channel range).
    """
    from pclean import _native

    try:
        from distributed import get_worker
        w = get_worker()
        worker, scratch = w.address, getattr(w, "local_directory", None)
    except (ImportError, ValueError):
        worker, scratch = "", None
    t0 = time.time()
    data = _native.run_block(config_json, first_chan, end_chan, nthreads,
                             cache_chans=tuple(cache_chans) if cache_chans else None,
                             scratch_dir=scratch, direct=direct,
                             ranges_per_process=ranges_per_process)
    info = {
        "worker": worker,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "start": t0,
        "seconds": time.time() - t0,
        "result_bytes": len(data),
    }
    return data, info

"""What a Dask worker runs for one channel block: the engine's `run_block`, timed and labelled."""
from __future__ import annotations

import os
import socket
import time


def run_block_task(config_json: str, first_chan: int, end_chan: int, nthreads: int):
    """Image channels [first_chan, end_chan) in this worker; returns (result bytes, task info).

    The engine releases the GIL and uses `nthreads` threads of its own.
    """
    from pclean import _native

    t0 = time.time()
    data = _native.run_block(config_json, first_chan, end_chan, nthreads)
    try:
        from distributed import get_worker
        worker = get_worker().address
    except (ImportError, ValueError):
        worker = ""
    info = {
        "worker": worker,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "start": t0,
        "seconds": time.time() - t0,
    }
    return data, info

#!/usr/bin/env python3
"""The Dask worker path's engine work without Dask (issue 18 item 5): in one process at one
thread, the local engine (`pclean.pclean(parallel=False, nthreads=1)`) against the blocks a
2-worker Dask run is planned as, run range by range through `_native.run_block(...,
cache_chans=...)` and written by a `Coordinator` (what the two workers and the driver do, in
sequence). A ratio near 1 says the workers do no more engine work than the local run; the rest
of a Dask run's overhead is then processes, CPU share and Dask.

    python scripts/dev/dask_worker_path_inproc.py --ms synth.ms --work /tmp/w --repeats 2
"""
import argparse
import json
import os
import shutil
import time

import pclean
from pclean import _native
from pclean.distributed.driver import worker_ranges


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ms", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--imsize", type=int, default=512)
    ap.add_argument("--nchan", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    base = dict(vis=a.ms, imsize=[a.imsize], cell=["0.1arcsec"], specmode="cube", nchan=a.nchan,
                start=0, width=1, stokes="I", weighting="briggs", robust=0.5, pblimit=-0.01,
                niter=0, overwrite=True, outframe="LSRK")
    for _ in range(a.repeats):
        os.makedirs(a.work, exist_ok=True)
        t = time.time()
        pclean.pclean(imagename=f"{a.work}/loc", parallel=False, nthreads=1, **base)
        local = time.time() - t
        t = time.time()
        js = pclean.PcleanConfig(imagename=f"{a.work}/rng", parallel=True, nworkers=2,
                                 threads_per_worker=1, **base).to_json()
        c = _native.Coordinator(js)
        pend = c.pending()
        for p, (_, x, z) in zip(pend, worker_ranges(pend, ["w0", "w1"])):
            c.accept(p["block"], _native.run_block(js, *p["channels"], 1, cache_chans=(x, z),
                                                   scratch_dir=a.work))
        c.finish()
        ranged = time.time() - t
        print(json.dumps(dict(local_1thread_s=local, worker_path_1thread_s=ranged,
                              ratio=ranged / local, load=os.getloadavg())), flush=True)
        shutil.rmtree(a.work, ignore_errors=True)


if __name__ == "__main__":
    main()

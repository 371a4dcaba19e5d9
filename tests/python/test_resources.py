"""A full disk while writing products (issue 20): products on a small tmpfs. The run fails with a
clear error (no panic), the checkpoint (when one was written) names only blocks whose planes are
on disk, and the same command, after space is freed (the tmpfs grown), finishes the cube with
products identical to a run on a roomy disk. Needs root to mount the tmpfs: skipped with the
reason otherwise (failed under CI, which runs as root)."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from compare import assert_same_products
from conftest import ROOT, checkpoint_done, pclean_bin, require
from test_resume import ENV, SCHED, command, run

ARGS = ["--imsize", "128", "--cell", "40arcsec", "--specmode", "cube", "--nchan", "46", "--start", "5",
        "--width", "1", "--outframe", "LSRK", "--restfreq", "1420.405752MHz", "--niter", "0",
        "--pblimit", "-0.01"]
PRODUCTS = ["psf", "residual", "image", "pb", "sumwt", "weight"]
REPORT = ROOT / "out" / "reliability"


def mount(path, size):
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", str(path)], check=True)


@pytest.fixture
def small_disk(tmp_path):
    require(os.geteuid() == 0, "mounting a tmpfs needs root")
    d = tmp_path / "disk"
    d.mkdir()
    # 128^2 x 46 channels x 4 B = 3 MB per product, ~20 MB in all: 6 MB fills up part way.
    mount(d, "6m")
    yield d
    subprocess.run(["umount", "-l", str(d)], check=False)


@pytest.mark.xfail(strict=True, reason="known crash (issue 20, open): casacore writes table.dat again in "
                   "Table's destructor (PlainTable::closeObject -> putFile); on a full disk that write's "
                   "exception escapes the destructor and the process aborts (SIGABRT) instead of exiting 1")
def test_disk_full_then_resume(msdir, tmp_path, small_disk):
    ref = tmp_path / "ref"
    run(command(msdir / "ngc5921.ms", ref, ARGS))
    name = small_disk / "full"
    cmd = command(msdir / "ngc5921.ms", name, ARGS)
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    err = p.stderr
    last = err.strip().splitlines()[-1]
    REPORT.mkdir(parents=True, exist_ok=True)
    if p.returncode < 0:
        (REPORT / "disk_full.json").write_text(json.dumps({
            "section": "resources", "item": "disk full while writing products (6 MB tmpfs)",
            "fields": {"outcome": "CRASH (open): killed by signal %d: %s" % (-p.returncode, last[:200])}}))
    assert p.returncode == 1, (p.returncode, err[-3000:])
    assert "panicked" not in err and "internal error" not in err, err[-3000:]
    assert last.startswith("error:") and "no space left on device" in last.lower(), last
    assert not Path(f"{name}.summary.json").exists()
    done, total = checkpoint_done(name)
    assert done < total or total == 1, (done, total)
    # Free space: grow the tmpfs (its files stay), then the same command finishes the cube.
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    summary = run(cmd)
    assert_same_products(name, ref, PRODUCTS)
    REPORT.mkdir(parents=True, exist_ok=True)
    (REPORT / "disk_full.json").write_text(json.dumps({
        "section": "resources", "item": "disk full while writing products (6 MB tmpfs)",
        "fields": {"outcome": "exit 1: %s; checkpoint: %d of %d blocks complete; after growing the tmpfs the "
                              "same command resumed %d channels and the products equal a run on a roomy disk"
                              % (last[len("error: "):][:200], done, total, summary.get("resumed_channels", 0))}}))


MEM_ARGS = ["--imsize", "256", "--cell", "15arcsec", "--specmode", "cube", "--nchan", "46", "--start", "5",
            "--width", "1", "--outframe", "LSRK", "--restfreq", "1420.405752MHz", "--niter", "200",
            "--deconvolver", "hogbom", "--threshold", "10mJy", "--pblimit", "-0.01", "--nthreads", "2"]
# The tightest limits around this cube (measured: 24 MiB refused up front, one channel needs
# ~0.01 GiB plus 0.02 GiB base; 40 MiB runs 2 one-channel blocks at a time with a peak RSS of
# 31.8 MiB), so that the limit shapes the schedule and is not just far above the need.
MEM_LIMIT_MIB = 40
MEM_REFUSED_MIB = 24


def test_run_never_exceeds_memory_limit(msdir, tmp_path):
    """A cube under --memory-limit: the process's peak RSS (kernel's VmHWM) and the counting
    allocator's peak heap, both reported in the summary, stay below the limit."""
    name = tmp_path / "mem"
    s = run([pclean_bin(), "image", "--vis", str(msdir / "ngc5921.ms"), "--imagename", str(name), *MEM_ARGS,
             "--memory-limit", "%dMiB" % MEM_LIMIT_MIB])
    assert s["peak_rss_mib"] <= MEM_LIMIT_MIB, s
    assert s["peak_alloc_mib"] <= MEM_LIMIT_MIB, s
    p = subprocess.run([pclean_bin(), "image", "--vis", str(msdir / "ngc5921.ms"), "--imagename",
                        str(tmp_path / "mem_refused"), *MEM_ARGS, "--memory-limit", "%dMiB" % MEM_REFUSED_MIB],
                       capture_output=True, text=True, env=ENV)
    last = p.stderr.strip().splitlines()[-1]
    assert p.returncode == 1 and last.startswith("error: memory:") and "--memory-limit" in last, p.stderr[-2000:]
    assert not list(tmp_path.glob("mem_refused.*"))
    REPORT.mkdir(parents=True, exist_ok=True)
    (REPORT / "memory_refused.json").write_text(json.dumps({
        "section": "resources", "item": "--memory-limit %d MiB (below one channel's need)" % MEM_REFUSED_MIB,
        "fields": {"outcome": "refused up front, no product: " + last[len("error: "):][:200]}}))
    (REPORT / "memory_limit.json").write_text(json.dumps({
        "section": "resources", "item": "--memory-limit %d MiB (ngc5921 cube 256^2 x 46, hogbom)" % MEM_LIMIT_MIB,
        "fields": {"outcome": "peak RSS %.1f MiB, peak heap %.1f MiB: within the limit"
                              % (s["peak_rss_mib"], s["peak_alloc_mib"])}}))

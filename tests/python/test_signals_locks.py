"""Concurrency and signals (issue 20): a second run on the same imagename is refused while the
first holds it (host and pid in the message); SIGINT/SIGTERM stop a cube at a block boundary with
the completed blocks in the checkpoint, say how to resume, exit 128 + the signal, leave the
products marked incomplete (no summary); the same command then finishes them, identical to an
uninterrupted run. Outcomes go to out/reliability/ for docs/reliability.md."""
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from compare import assert_same_products
from conftest import ROOT, checkpoint_done, require
from test_resume import DIRTY, ENV, PRODUCTS_DIRTY, command, run

REPORT = ROOT / "out" / "reliability"


def record(item, fields):
    REPORT.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "_" for c in "signals-" + item)
    (REPORT / (slug + ".json")).write_text(json.dumps({"section": "signals", "item": item, "fields": fields}))


def start_and_wait(cmd, name, min_done):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    deadline = time.time() + 300
    while time.time() < deadline:
        if checkpoint_done(name)[0] >= min_done:
            return p
        if p.poll() is not None:
            pytest.fail("the run ended before it could be interrupted: " + p.stderr.read()[-2000:])
        time.sleep(0.01)
    p.kill()
    pytest.fail("the run recorded no block in 300 s")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_at_block_boundary_and_resumes(msdir, tmp_path, sig, request):
    reference = request.getfixturevalue("reference_dirty")
    name = tmp_path / "s"
    cmd = command(msdir / "ngc5921.ms", name, DIRTY)
    p = start_and_wait(cmd, name, 2)
    p.send_signal(sig)
    out, err = p.communicate(timeout=300)
    last = err.strip().splitlines()[-1]
    assert p.returncode == 128 + sig, (p.returncode, err[-2000:])
    assert "panicked" not in err and "internal error" not in err, err[-2000:]
    assert last.startswith("error: interrupted by " + sig.name), last
    assert "run the same command again to resume" in last and "checkpoint.json" in last, last
    # Interrupted products are never reported complete: no summary, still marked incomplete, the
    # checkpoint names only some blocks and the lock is released.
    assert out.strip() == ""
    assert not Path(f"{name}.summary.json").exists()
    assert Path(f"{name}.residual/pclean_incomplete").exists()
    done, total = checkpoint_done(name)
    assert 0 < done < total, (done, total)
    assert not Path(f"{name}.lock").exists()
    summary = run(cmd)
    assert summary["resumed_channels"] == 2 * done
    assert_same_products(name, reference, PRODUCTS_DIRTY)
    record(sig.name, {"outcome": "exit %d after %d of %d blocks recorded; message: %s; rerun resumed %d channels, "
                                 "products identical to an uninterrupted run"
                                 % (p.returncode, done, total, last[len("error: "):][:160], summary["resumed_channels"])})


def test_second_run_on_same_imagename_is_refused(msdir, tmp_path):
    name = tmp_path / "l"
    cmd = command(msdir / "ngc5921.ms", name, DIRTY)
    first = start_and_wait(cmd, name, 1)
    try:
        second = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=300)
    last = second.stderr.strip().splitlines()[-1]
    assert second.returncode == 1, second.stderr[-2000:]
    assert "being written by another pclean run" in last, last
    assert "pid %d on host %s" % (first.pid, socket.gethostname()) in last, last
    record("second run, same imagename", {"outcome": "refused: " + last[len("error: "):][:200]})


OTHER_HOST = "pclean-other-node"


def unshare_uts():
    """The prefix that runs a command under another host name on this filesystem (a UTS
    namespace), or None where this machine cannot make one."""
    for ns in (["--uts"], ["--user", "--map-root-user", "--uts"]):
        probe = subprocess.run(["unshare", *ns, "hostname", OTHER_HOST], capture_output=True)
        if probe.returncode == 0:
            return ["unshare", *ns, "sh", "-c", 'hostname %s && exec "$0" "$@"' % OTHER_HOST]
    return None


def test_lock_of_a_run_on_another_host_is_held_until_its_lease_expires(msdir, tmp_path):
    """A run on "another machine" (another host name, same filesystem) holds the imagename: this
    host's run is refused while it lives, however long (its heartbeat refreshes the lock); once it
    is killed the lock is taken over after its lease (2 s here) and the cube is finished."""
    prefix = unshare_uts()
    require(prefix is not None, "`unshare --uts` cannot make a UTS namespace here (a second host name)")
    name = tmp_path / "h"
    # 1024^2 pixels, and a 20 s pause after each block record (a test hook of the engine; the lock's
    # heartbeat thread runs on): the holder outlives its first record by well over its 2 s lease
    # plus the two checks below however fast the machine (without the pause a quiet machine
    # finished the whole cube before the second check).
    cmd = command(msdir / "ngc5921.ms", name, ["1024" if a == "512" else a for a in DIRTY])
    env = dict(ENV, PCLEAN_LOCK_LEASE_S="2", PCLEAN_TEST_PAUSE_AFTER_RECORD_MS="20000")
    first = subprocess.Popen(prefix + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.time() + 300
        while checkpoint_done(name)[0] < 1:
            assert first.poll() is None, first.stderr.read()[-2000:]
            assert time.time() < deadline, "the other host's run recorded no block in 300 s"
            time.sleep(0.01)
        # Refused now and after more than its lease: the holder's heartbeat keeps the lock fresh.
        for wait in (0, 3):
            time.sleep(wait)
            second = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
            assert first.poll() is None, "the holder ended before the lock could be checked"
            last = second.stderr.strip().splitlines()[-1]
            assert second.returncode == 1, second.stderr[-2000:]
            assert "pid %d on host %s" % (first.pid, OTHER_HOST) in last, last
            assert "not refreshed for 2 s" in last, last
    finally:
        first.kill()  # a crashed node: no release, the lock stays
        first.communicate(timeout=60)
    assert Path(f"{name}.lock").exists()
    killed = time.time()
    taken, refused_after_kill = subprocess.run(cmd, capture_output=True, text=True, env=ENV), 0
    while taken.returncode == 1 and "being written by another pclean run" in taken.stderr and time.time() < killed + 30:
        time.sleep(0.2)
        refused_after_kill += 1
        taken = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert "took over the stale lock" in taken.stderr and "on host %s" % OTHER_HOST in taken.stderr, taken.stderr[-2000:]
    assert not Path(f"{name}.lock").exists()
    held = last[last.index("(pid"):]
    record("lock held on another host", {
        "outcome": "run under host name %s (unshare --uts, same filesystem), lease 2 s: this host's run refused, "
                   "at once and again 3 s later (heartbeat): %s; after SIGKILL of the holder: %d run(s) refused "
                   "within the lease, then taken over (warning logged) and the cube finished %.1f s after the kill"
                   % (OTHER_HOST, held[:260], refused_after_kill, time.time() - killed)})


def test_stale_lock_of_dead_process_is_taken_over(msdir, tmp_path):
    name = tmp_path / "st"
    # A pid above the kernel's maximum (4194304) never runs: the holder is dead.
    Path(f"{name}.lock").write_text("%s 4999999" % socket.gethostname())
    args = ["--imsize", "64", "--cell", "15arcsec", "--niter", "0"]
    from conftest import pclean_bin
    p = subprocess.run([pclean_bin(), "image", "--vis", str(msdir / "ngc5921.ms"), "--imagename", str(name), *args],
                       capture_output=True, text=True, env=ENV)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "took over the stale lock" in p.stderr
    assert not Path(f"{name}.lock").exists()
    record("stale lock of a dead process", {"outcome": "taken over (warning logged); run completed"})


@pytest.fixture(scope="module")
def reference_dirty(msdir, tmp_path_factory):
    name = tmp_path_factory.mktemp("sigref") / "ref"
    run(command(msdir / "ngc5921.ms", name, DIRTY))
    return name

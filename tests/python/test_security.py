"""Who can get in (issue 20): a Dask scheduler runs whatever it is sent.

- pclean's LocalCluster listens on loopback only (scheduler, workers, dashboard).
- A TLS-secured scheduler (the SLURM mode's per-run credentials, `Security.temporary()`) refuses a
  client without the run's credentials, one with another CA's credentials and a plain-TCP client;
  pclean's address mode reaches it with the credentials given through Dask's configuration, and
  refuses a `tls://` address up front when none are configured.
- The SLURM mode's cluster is built with TLS and per-run credentials: its scheduler address is
  `tls://`, the worker job script names the credential files, which are private (0600).

Every wait is bounded (client connections time out after CONNECT_S)."""
import json
import os
import socket
import ssl
import stat
from urllib.parse import urlparse

import pytest

from conftest import ROOT, require_module

require_module("distributed", "the Dask tests need dask[distributed] (pip install 'pclean[dask]')")
require_module("cryptography", "TLS with per-run credentials needs cryptography (pip install cryptography)")
require_module("pclean._native", "the Dask driver needs the built extension (maturin develop)")

import dask  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from distributed.security import Security  # noqa: E402

from pclean.distributed.cluster import (DaskClusterManager, address_security, remove_credentials,  # noqa: E402
                                       slurm_security)
from pclean.distributed.options import ParallelConfigError, ParallelOptions  # noqa: E402

REPORT = ROOT / "out" / "reliability"
# A refused TLS handshake fails at once; the timeout only bounds a hang (a scheduler that
# accepted the TCP connection but never answers).
CONNECT_S = 5


def record(name, item, outcome):
    REPORT.mkdir(parents=True, exist_ok=True)
    (REPORT / f"{name}.json").write_text(json.dumps(
        {"section": "security", "item": item, "fields": {"outcome": outcome}}))


def host(addr):
    return urlparse(addr).hostname


@pytest.mark.parametrize("local_workers", ["processes", "threads"])
def test_local_cluster_listens_on_loopback_only(local_workers):
    """The scheduler, the workers (processes, or threads of this process: the default) and the
    dashboard on 127.0.0.1; every socket this process listens on (the scheduler's, the
    dashboard's, in-process workers' own) is on loopback."""
    import psutil
    opts = ParallelOptions(cluster_type="local", nworkers=1, memory_limit="1GiB",
                           local_workers=local_workers)
    with DaskClusterManager(opts) as m:
        m.wait_for_workers(1)
        sched = m.client.scheduler.address
        workers = sorted(m.workers())
        dash = m.dashboard_link
        assert m.in_process is (local_workers == "threads")
        assert host(sched) == "127.0.0.1", sched
        assert workers and all(host(w) == "127.0.0.1" for w in workers), workers
        assert host(dash) == "127.0.0.1", dash
        listening = [c.laddr for c in psutil.Process().net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN]
        assert listening and all(a.ip in ("127.0.0.1", "::1") for a in listening), listening
    record(f"loopback-{local_workers}",
           f"pclean's LocalCluster (cluster_type='local', local_workers='{local_workers}')",
           "scheduler, %d worker(s) and dashboard on 127.0.0.1 only" % len(workers))


@pytest.fixture
def tls_cluster():
    """A scheduler with one in-process worker, TLS with credentials made for this test only, as
    pclean's SLURM mode makes them (encryption required)."""
    sec = Security.temporary()
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tls://",
                      host="127.0.0.1", dashboard_address=None, security=sec) as c:
        yield c, sec


def tls_without_certificate(address, ca_pem):
    """A TLS connection that trusts the scheduler (its CA) but shows no client certificate, as
    a user of the cluster network without the run's credentials could open (Dask's own client
    does not even try without one). Returns what ended it; None if the scheduler answered."""
    u = urlparse(address)
    ctx = ssl.create_default_context(cadata=ca_pem)
    ctx.check_hostname = False
    with socket.create_connection((u.hostname, u.port), timeout=CONNECT_S) as s:
        try:
            with ctx.wrap_socket(s) as t:
                t.sendall(b"\0" * 16)
                if t.recv(16) == b"":
                    return "connection closed"
        except (OSError, ssl.SSLError) as e:  # TLS 1.3: the refusal arrives at the first read
            return type(e).__name__
    return None


def refused(address, **kw):
    """The exception a client gets connecting to `address`, or None if it got in."""
    try:
        with Client(address, timeout=f"{CONNECT_S}s", **kw) as c:
            c.submit(lambda: 1).result(timeout=CONNECT_S)
    except Exception as e:  # OSError / TimeoutError / TLS errors: any refusal
        return e
    return None


def test_tls_scheduler_refuses_clients_without_the_credentials(tls_cluster, tmp_path):
    cluster, sec = tls_cluster
    addr = cluster.scheduler_address
    assert addr.startswith("tls://127.0.0.1:"), addr
    # No credentials: the scheduler's CA trusted, no client certificate.
    e_none = tls_without_certificate(addr, sec.tls_ca_file)
    assert e_none is not None, "a client without credentials got in"
    # Credentials of another run (another temporary CA).
    e_other = refused(addr, security=Security.temporary())
    assert e_other is not None, "a client with another run's credentials got in"
    # Plain TCP to the TLS port.
    e_tcp = refused("tcp://" + addr[len("tls://"):])
    assert e_tcp is not None, "a plain-TCP client got in"
    # The run's own credentials get in.
    with Client(addr, security=sec, timeout=f"{CONNECT_S}s") as c:
        assert c.submit(lambda x: x + 1, 1).result(timeout=30) == 2
    # pclean's address mode: refused up front without TLS settings ...
    with pytest.raises(ParallelConfigError, match="distributed.comm.tls.ca-file"):
        address_security(addr)
    # ... and in with the run's credentials given through Dask's configuration (files).
    files = {}
    for key, pem in (("ca-file", sec.tls_ca_file), ("client.cert", sec.tls_client_cert),
                     ("client.key", sec.tls_client_key)):
        p = tmp_path / key
        p.write_text(pem)
        p.chmod(0o600)
        files["distributed.comm.tls." + key] = str(p)
    with dask.config.set(files):
        opts = ParallelOptions(cluster_type="address", scheduler_address=addr, worker_timeout_s=30)
        with DaskClusterManager(opts) as m:
            m.wait_for_workers(1)
            assert m.client.submit(lambda: 7).result(timeout=30) == 7
    record("tls_refused", "TLS scheduler with per-run credentials (Security.temporary())",
           "refused a TLS client without a certificate (%s), one with another run's credentials (%s) and "
           "a plain-TCP client (%s); pclean's address mode got in with the credentials from Dask's "
           "configuration, and a tls:// address without them is refused up front"
           % (e_none, type(e_other).__name__, type(e_tcp).__name__))


def test_slurm_cluster_uses_per_run_tls(tmp_path, monkeypatch):
    jq = require_module("dask_jobqueue", "SLURM mode needs dask-jobqueue")
    opts = ParallelOptions(cluster_type="slurm", imagename_directory=str(tmp_path))
    kw = slurm_security(opts)
    assert kw["protocol"] == "tls://" and kw["shared_temp_directory"] == str(tmp_path)
    # Two runs get different credentials.
    assert kw["security"].tls_ca_file != slurm_security(opts)["security"].tls_ca_file
    monkeypatch.chdir(tmp_path)
    with jq.SLURMCluster(cores=1, processes=1, memory="1GB", scheduler_options={"host": "127.0.0.1"},
                         **kw) as c:
        assert c.scheduler_address.startswith("tls://"), c.scheduler_address
        script = c.job_script()
        creds = sorted(tmp_path.glob(".dask-jobqueue.worker.*"))
        assert {p.name.split(".")[3] for p in creds} >= {"ca_file", "cert", "key"}, creds
        for p in creds:
            assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p
            assert str(p) in script, (p, script)
        assert "--tls-key" in script and "--tls-cert" in script and "--tls-ca-file" in script
        e = tls_without_certificate(c.scheduler_address, kw["security"].tls_ca_file)
        assert e is not None, "a client without the run's credentials got in to the SLURM scheduler"
        e_other = refused(c.scheduler_address, security=Security.temporary())
        assert e_other is not None, "a client with another run's credentials got in"
        remove_credentials(c)  # as DaskClusterManager does when it closes the cluster
        assert not any(p.exists() for p in creds), creds
    record("tls_slurm", "SLURM mode (cluster_type='slurm')",
           "scheduler on tls:// with credentials made for the run; the worker jobs get them as "
           "0600 files in the products' directory; a TLS client without a certificate is refused "
           "(%s), and one with another run's credentials (%s)" % (e, type(e_other).__name__))

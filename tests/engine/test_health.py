"""`socket-proxy healthcheck`: exit 0 on 200 through the proxy, otherwise 1
with one line saying what failed, always within its timeout."""
import os
import socket
import subprocess
import threading
import time

from conftest import free_port
from fake.upstream import serve


def health(proxy_bin, env, *args, timeout=20):
    e = {"PATH": "/usr/bin:/bin"}
    e.update(env)
    e.update(proxy_bin.env)
    t = time.monotonic()
    r = subprocess.run([proxy_bin.path, "healthcheck"] + list(args), env=e, capture_output=True, text=True,
                       timeout=timeout)
    return r, time.monotonic() - t


def test_healthy_through_own_socket(fake_upstream, proxy_factory, proxy_bin):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path)
    r, _ = health(proxy_bin, p.env)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""


def test_healthy_through_first_tcp_listener(fake_upstream, proxy_factory, proxy_bin):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path, env={"SOCKET_PROXY_VOLUME": ""})
    r, _ = health(proxy_bin, p.env)
    assert r.returncode == 0, r.stderr


def test_url_and_socket_options(fake_upstream, proxy_factory, proxy_bin):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path)
    r, _ = health(proxy_bin, {}, "--url", f"tcp://127.0.0.1:{p.port}")
    assert r.returncode == 0, r.stderr
    r, _ = health(proxy_bin, {}, f"--socket={p.unix}", "--timeout", "2s")
    assert r.returncode == 0, r.stderr


def test_ping_not_granted(fake_upstream, proxy_factory, proxy_bin):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path, env={"PING": "0"})
    r, _ = health(proxy_bin, p.env)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "/_ping is not granted (PING=0)" in lines[0], r.stderr


def test_daemon_unreachable(proxy_factory, proxy_bin, tmp_path):
    p = proxy_factory(upstream=str(tmp_path / "nothing.sock"))
    r, _ = health(proxy_bin, p.env)
    assert r.returncode == 1
    assert "daemon is unreachable behind the proxy" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_proxy_not_listening(proxy_bin, tmp_path):
    r, _ = health(proxy_bin, {"SOCKET_PROXY_VOLUME": str(tmp_path)})
    assert r.returncode == 1 and "proxy not listening on unix:" in r.stderr, r.stderr
    r, _ = health(proxy_bin, {}, "--url", f"tcp://127.0.0.1:{free_port()}")
    assert r.returncode == 1 and "proxy not listening on tcp:127.0.0.1" in r.stderr, r.stderr


def test_timeout_is_honoured(proxy_bin, tmp_path):
    """A listener that accepts and never answers: healthcheck gives up in time."""
    path = str(tmp_path / "mute.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except socket.timeout:
                pass

    t = threading.Thread(target=accept)
    t.start()
    try:
        # Measured from before the exec, so a slow machine only adds: the lower bound is
        # the 1 s timeout (less a clock tick), the upper one a deadline for ignoring it.
        r, took = health(proxy_bin, {}, "--socket", path, "--timeout", "1s")
        assert r.returncode == 1 and "timed out" in r.stderr, r.stderr
        assert 0.95 <= took < 10, took
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        srv.close()


def test_bad_options(proxy_bin):
    r, _ = health(proxy_bin, {}, "--timeout", "soon")
    assert r.returncode == 2 and "--timeout" in r.stderr
    r, _ = health(proxy_bin, {}, "--url", "tcp://localhost")
    assert r.returncode == 2 and "--url" in r.stderr
    r, _ = health(proxy_bin, {}, "--bogus")
    assert r.returncode == 2

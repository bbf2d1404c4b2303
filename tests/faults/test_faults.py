"""Faults and load: a daemon restart under the proxy, slowloris, connection
floods, a client that never reads, and the connection limit. Figures are
printed (run pytest with -s to see them); assertions are bounds, not timings."""
import os
import resource
import socket
import stat
import tempfile
import threading
import time

import pytest

from conftest import Dockerd, ProxyBin, cli_env, run_docker, wait_for
from fake import rawhttp
from fake.rawhttp import PING, PING_CLOSE, SockReader, read_until_close, status_of
from fake.upstream import default_answer, response, serve

def raise_nofile(n=65536):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(n, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def read_response(s, timeout=5):
    """One response with a Content-Length body (as the fake upstream sends)."""
    s.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return buf
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(rest) < n:
        d = s.recv(65536)
        if not d:
            break
        rest += d
    return head + b"\r\n\r\n" + rest


@pytest.fixture
def own_dockerd():
    """A second private dockerd this test may stop and start."""
    root = tempfile.mkdtemp(prefix="sp-rs-", dir="/tmp")
    exec_root = tempfile.mkdtemp(prefix="spr", dir="/tmp")
    d = Dockerd(root, exec_root)
    why = d.start()
    if why:
        d.stop()
        pytest.fail("second dockerd did not start: " + why + "\n" + d.log_tail())
    yield d
    d.stop()


def test_daemon_restart_heals_without_restarting_the_proxy(own_dockerd, proxy_factory):
    proxy = proxy_factory(upstream=own_dockerd.sock, env={"CONTAINERS": "1"})
    env = cli_env(proxy.host_unix)
    assert run_docker(env, ["version"]).returncode == 0
    # An open keep-alive client and an open events stream.
    keep = proxy.connect()
    keep.sendall(PING)
    assert status_of(read_response(keep)) == 200
    events = proxy.connect()
    events.sendall(b"GET /events HTTP/1.1\r\nHost: docker\r\n\r\n")
    events.settimeout(5)
    assert events.recv(4096).startswith(b"HTTP/1.1 200")
    base_fds = fd_count(proxy.pid)

    # Daemon down: the events stream ends, requests get 502 with a JSON message.
    own_dockerd.proc.terminate()
    own_dockerd.proc.wait(timeout=60)
    events.settimeout(10)
    read_until_close(events)
    events.close()
    for _ in range(3):
        r = proxy.request(PING_CLOSE, timeout=5)
        assert status_of(r) == 502, r
        assert b'{"message":"socket-proxy: cannot reach the Docker daemon' in r, r
    keep.sendall(PING)
    r = read_response(keep)
    assert status_of(r) == 502, r  # the same client connection, re-dialed
    # Fails rather than hangs: it gets its 502 at once (tens of ms), so 10 s (run_docker
    # fails the test past it) is a deadline for a hang, not a timing.
    dv = run_docker(env, ["version"], check=False, timeout=10)
    assert dv.returncode != 0, "docker version succeeded with the daemon down"

    # Daemon back: the next requests succeed, on new and on old connections.
    t0 = time.monotonic()
    why = own_dockerd.start()
    assert why is None, why
    ready = time.monotonic()
    last = []

    def served():
        last.append(proxy.request(PING_CLOSE, timeout=5))
        return status_of(last[-1]) == 200

    assert wait_for(served, timeout=30, interval=0.05), f"no 200 through the proxy 30 s after dockerd was back: {last[-1]!r}"
    recovered = time.monotonic()
    print(f"\ndaemon restart: dockerd up after {ready - t0:.2f}s, first 200 through the proxy "
          f"{(recovered - ready) * 1000:.1f} ms after that")
    keep.sendall(PING)
    assert status_of(read_response(keep)) == 200
    assert run_docker(env, ["ps"]).returncode == 0
    keep.close()
    assert wait_for(lambda: fd_count(proxy.pid) <= base_fds), (
        f"descriptors leaked across the restart: {fd_count(proxy.pid)}, {base_fds} before")


def test_slowloris_does_not_starve_normal_clients(fake_upstream, proxy_factory):
    raise_nofile()
    up = fake_upstream(serve())
    # 1000 connections from one uid: the per-client limit (SOCKET_PROXY_MAX_CLIENT_CONNS,
    # 512 by default) is not what this test is about.
    proxy = proxy_factory(upstream=up.path,
                          env={"SOCKET_PROXY_HEAD_TIMEOUT": "3s", "SOCKET_PROXY_MAX_CLIENT_CONNS": "0"})
    slow = []
    while len(slow) < 1000:
        try:
            s = proxy.connect(timeout=10)
        except BlockingIOError:  # the listen backlog is full until the proxy accepts them
            proxy.wait_idle()
            continue
        s.setblocking(False)
        slow.append(s)
    head = b"GET /_ping HTTP/1.1\r\nHost: docker\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    served = []
    start = time.monotonic()
    i = 0
    # The durations are the subject: a byte a second on every slow connection, for
    # longer than the 3 s head timeout, while a normal client is served each second.
    while time.monotonic() - start < 5:
        for s in slow:
            try:
                s.send(head[i:i + 1])
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                pass
        i += 1
        t = time.monotonic()
        r = proxy.request(PING_CLOSE, timeout=5)
        served.append((status_of(r), time.monotonic() - t))
        time.sleep(max(0, 1 - (time.monotonic() - t)))
    assert all(st == 200 for st, _ in served), served
    worst = max(d for _, d in served)
    # Every slow connection got its 408 and was closed by the head timeout (due 3 s
    # after its first byte, 2 s before the loop ended: 10 s more is a deadline for a hang).
    closed = timed_out = 0
    for s in slow:
        s.setblocking(True)
        s.settimeout(10)
        data = b""
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    break
                data += d
        except (socket.timeout, ConnectionResetError):
            pass
        closed += 1
        timed_out += status_of(data) == 408
        s.close()
    print(f"\nslowloris: 1000 slow connections; normal client served {len(served)} times, worst "
          f"{worst * 1000:.1f} ms; {timed_out} slow connections answered 408 and closed")
    assert timed_out == 1000
    assert proxy.alive()


def test_ten_thousand_connections_opened_and_dropped(fake_upstream, proxy_factory, proxy_bin):
    up = fake_upstream(serve())
    proxy = proxy_factory(upstream=up.path)
    assert status_of(proxy.request(PING_CLOSE, timeout=5)) == 200  # the pool keeps its daemon connection
    base_fds = fd_count(proxy.pid)
    for i in range(10000):
        s = socket.socket(socket.AF_UNIX)
        s.connect(proxy.unix)
        if i % 3 == 0:
            try:
                s.send(b"GET /_pi")  # some leave a partial head behind
            except (BrokenPipeError, ConnectionResetError):
                pass  # a proxy behind on the flood refuses at its per-client limit (503, closed)
        s.close()
    # A slow (sanitizer) build may still be accepting and closing the flood (its listen
    # backlog full, or at its connection limit): wait until it has got through it.
    assert proxy.wait_idle(timeout=30), "the proxy is still busy with the flood"
    r = proxy.request(PING_CLOSE, timeout=5)
    assert status_of(r) == 200, r
    wait_for(lambda: fd_count(proxy.pid) <= base_fds, timeout=10)
    rss = proxy.rss_kib()
    print(f"\n10,000 connections opened and dropped: fds {base_fds} -> {fd_count(proxy.pid)}, RSS {rss} KiB")
    assert fd_count(proxy.pid) <= base_fds
    if not proxy_bin.asan:  # ASan's quarantine holds freed memory on purpose
        assert rss < 32 * 1024


def test_client_that_never_reads_a_1gb_export(fake_upstream, proxy_factory, proxy_bin):
    size = 1 << 30
    block = b"x" * (1 << 20)
    sent = {"n": 0}
    exports = []

    def answer(conn):
        req = conn.read_request()
        if req is None:
            return
        if not req.path.endswith("/export"):  # the ping at the end
            conn.send(default_answer(req))
            return
        exports.append(conn)
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nContent-Length: %d\r\n\r\n" % size)
        try:
            while sent["n"] < size:
                conn.send(block)
                sent["n"] += len(block)
        except OSError:
            pass

    up = fake_upstream(answer)
    proxy = proxy_factory(upstream=up.path, env={"CONTAINERS": "1", "ALLOW_EXPORT": "1"})
    c = proxy.connect(timeout=10)
    c.sendall(b"GET /containers/big/export HTTP/1.1\r\nHost: docker\r\n\r\n")
    # The client reads nothing. Backpressure, seen directly: the proxy sleeps while the
    # daemon's bytes wait unread for it (a proxy that keeps reading never gets there).
    assert up.wait_for(lambda u: exports, 10), "the export never reached the upstream"
    stalled = proxy.wait_idle(exports[0].unread_by_proxy, timeout=20)
    rss = proxy.rss_kib()
    print(f"\nclient never reading a 1 GB export: upstream got {sent['n'] >> 20} MiB out before blocking, "
          f"proxy RSS {rss} KiB")
    assert stalled and sent["n"] < 64 << 20, "the proxy kept reading from the daemon: no backpressure"
    if not proxy_bin.asan:
        assert rss < 16 * 1024
    c.close()
    r = proxy.request(PING_CLOSE, timeout=5)
    assert status_of(r) == 200


def test_connection_limit_refuses_cleanly(fake_upstream, proxy_factory, proxy_bin, tmp_path):
    """With 64 descriptors the proxy sizes itself to 16 connections: the 17th
    gets a 503 and is closed, the 16 open ones keep being served."""
    wrapper = tmp_path / "limited.sh"
    wrapper.write_text(f"#!/bin/sh\nexec prlimit --nofile=64:64 -- {proxy_bin.path}\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    import conftest
    limited = ProxyBin(proxy_bin.name, str(wrapper), proxy_bin.asan)
    up = fake_upstream(serve())
    base = proxy_factory(upstream=up.path)  # for the environment it builds
    env = dict(base.env)
    env["SOCKET_PROXY_VOLUME"] = str(tmp_path / "vol")
    env["SOCKET_PROXY_LISTEN"] = f"127.0.0.1:{conftest.free_port()}"
    os.mkdir(tmp_path / "vol")
    p = conftest.Proxy(limited, env, str(tmp_path))
    p.start()
    try:
        assert wait_for(lambda: "up to" in p.stderr_text()), p.stderr_text()
        assert "up to 16 connections" in p.stderr_text(), p.stderr_text()
        conns = []
        for i in range(16):
            s = p.connect(timeout=5)
            try:
                s.sendall(PING)
                r = read_response(s)
            except OSError as e:
                r = repr(e).encode()
            assert status_of(r) == 200, (i, r, p.stderr_text()[-3000:])
            conns.append(s)
        # refused at accept: answered before it sends anything, read by its framing:
        # exactly Content-Length bytes of JSON with a message, then EOF
        r17 = p.connect(timeout=5)
        rd = SockReader(r17)
        extra = rawhttp.read_response(rd)
        assert extra is not None and extra.status == 503, extra
        assert len(extra.body) == int(extra.headers["content-length"]), (extra.head, extra.body)
        assert "too many connections" in rawhttp.json_message(extra), extra.body
        assert rawhttp.peer_eof(rd, timeout=3), f"bytes after the 503's body: {rd.buf!r}"
        r17.close()
        for i, s in enumerate(conns):
            try:
                s.sendall(PING)
                r = read_response(s)
            except OSError as e:
                r = repr(e).encode()
            assert status_of(r) == 200, (i, r, p.stderr_text()[-3000:])
        conns.pop().close()
        assert p.wait_idle(), "the proxy is still busy with the closed connection"  # its slot is free
        again = p.request(PING_CLOSE, timeout=3)
        assert status_of(again) == 200, again
        for s in conns:
            s.close()
    finally:
        p.stop()

"""Listeners, the socket file's life, idle connections, logging, API_KEY and
signals, against the fake upstream (no daemon needed)."""
import json
import os
import signal
import socket
import stat
import subprocess
import time

import pytest

from conftest import free_port, wait_for
from fake.rawhttp import PING, PING_CLOSE, status_of
from fake.upstream import serve, stall


def test_stale_socket_is_replaced_and_removed_on_exit(fake_upstream, proxy_factory, tmp_path):
    up = fake_upstream(serve())
    vol = tmp_path / "vol"
    vol.mkdir()
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(vol / "docker.sock"))  # bound, never listening: a leftover
    stale.close()
    p = proxy_factory(upstream=up.path, env={"SOCKET_PROXY_VOLUME": str(vol)})
    assert status_of(p.request(PING_CLOSE)) == 200
    assert p.stop() == 0
    assert not (vol / "docker.sock").exists()


def test_volume_is_created_and_socket_mode_applied(fake_upstream, proxy_factory, tmp_path):
    up = fake_upstream(serve())
    vol = tmp_path / "new" / "dir"
    os.makedirs(vol.parent)
    p = proxy_factory(upstream=up.path, env={"SOCKET_PROXY_VOLUME": str(vol), "SOCKET_PROXY_SOCKET_MODE": "0600"})
    st = os.stat(vol / "docker.sock")
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert status_of(p.request(PING_CLOSE)) == 200


def test_refuses_to_replace_a_regular_file(fake_upstream, proxy_factory, proxy_bin, tmp_path):
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "docker.sock").write_text("not a socket")
    env = {"PATH": "/usr/bin:/bin", "SOCKET_PROXY_VOLUME": str(vol), "SOCKET_PROXY_LISTEN": "off",
           "SOCKET_PROXY_UID": "0", "SOCKET_PROXY_GID": "0", "SOCKET_PATH": "/nonexistent.sock"}
    env.update(proxy_bin.env)
    r = subprocess.run([proxy_bin.path], env=env, capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "exists and is not a socket" in r.stderr, r.stderr
    assert (vol / "docker.sock").read_text() == "not a socket"


def test_empty_volume_disables_unix_and_listen_list(fake_upstream, proxy_factory):
    up = fake_upstream(serve())
    p1, p2 = free_port(), free_port()
    p = proxy_factory(upstream=up.path, env={"SOCKET_PROXY_VOLUME": "",
                                             "SOCKET_PROXY_LISTEN": f"127.0.0.1:{p1}, 127.0.0.1:{p2}"})
    assert p.unix is None
    for port in (p1, p2):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(PING_CLOSE)
        assert status_of(s.recv(4096)) == 200
        s.close()
    assert "listening on unix" not in p.stderr_text()


def tcp_listening_inodes():
    """Socket inodes of every listening TCP socket (IPv4 and IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A":  # TCP_LISTEN
                        inodes.add(fields[9])
        except FileNotFoundError:
            pass
    return inodes


def socket_inodes_of(pid):
    out = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link[8:-1])
    return out


def test_empty_listen_means_no_tcp_listener(fake_upstream, proxy_factory):
    """SOCKET_PROXY_LISTEN= (compose's ${LISTEN:-}) fails closed: off, not every interface."""
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path, env={"SOCKET_PROXY_LISTEN": ""})
    assert status_of(p.request(PING_CLOSE)) == 200  # the Unix socket serves
    assert socket_inodes_of(p.pid) & tcp_listening_inodes() == set()
    log = p.stderr_text()
    assert "listening on tcp" not in log and "listening on unix" in log, log
    assert "SOCKET_PROXY_LISTEN is set but empty: off" in log, log


def test_default_listener_is_dual_stack_and_port_moves_it(fake_upstream, proxy_factory):
    up = fake_upstream(serve())
    port = free_port()
    p = proxy_factory(upstream=up.path, env={"SOCKET_PROXY_LISTEN": None, "PORT": str(port)})
    assert wait_for(lambda: "listening on tcp" in p.stderr_text())
    log = p.stderr_text()
    if "IPv6 is not available" in log:
        assert f"listening on tcp:0.0.0.0:{port}" in log
    else:
        assert f"listening on tcp:[::]:{port}" in log
        s6 = socket.create_connection(("::1", port), timeout=5)
        s6.sendall(PING_CLOSE)
        assert status_of(s6.recv(4096)) == 200
        s6.close()
    s4 = socket.create_connection(("127.0.0.1", port), timeout=5)
    s4.sendall(PING_CLOSE)
    assert status_of(s4.recv(4096)) == 200
    s4.close()


def test_disable_ipv6_binds_ipv4_only(fake_upstream, proxy_factory):
    up = fake_upstream(serve())
    port = free_port()
    p = proxy_factory(upstream=up.path, env={"SOCKET_PROXY_LISTEN": None, "PORT": str(port), "DISABLE_IPV6": "true"})
    assert wait_for(lambda: f"listening on tcp:0.0.0.0:{port}" in p.stderr_text()), p.stderr_text()
    with pytest.raises(OSError):
        socket.create_connection(("::1", port), timeout=2)


# Timers of the proxy's own, configured small, are measured from before the event
# that starts them: a slow machine can only make them look longer. So the lower
# bound is the configured value (less EARLY: libuv's loop clock counts whole, cached
# milliseconds), the upper one a deadline for a timer that never fires.
EARLY = 0.05


def test_idle_keepalive_connection_is_closed_silently(fake_upstream, proxy_factory):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path, env={"SOCKET_PROXY_IDLE_TIMEOUT": "1s"})
    s = p.connect(timeout=5)
    t = time.monotonic()  # the idle timer starts once the answer is out
    s.sendall(PING)
    first = s.recv(4096)
    assert status_of(first) == 200
    s.settimeout(15)
    rest = s.recv(4096)
    took = time.monotonic() - t
    assert rest == b"", rest  # closed without a word
    assert 1 - EARLY <= took < 10, took


def test_idle_timeout_does_not_cut_a_request_in_flight(fake_upstream, proxy_factory):
    """The wait for an answer is never cut (docker stop -t 600, pulls, builds)."""
    up = fake_upstream(stall)
    p = proxy_factory(upstream=up.path, env={"SOCKET_PROXY_IDLE_TIMEOUT": "1s", "SOCKET_PROXY_HEAD_TIMEOUT": "1s"})
    s = p.connect(timeout=5)
    s.sendall(PING)
    # A timer that must not fire can only be watched for a while: 3 s is three times
    # both timeouts, long enough for either to have cut the request.
    s.settimeout(3)
    with pytest.raises(socket.timeout):
        s.recv(4096)  # still waiting after 3 s, connection open
    s.close()


def test_access_log_text_and_unix_peer(fake_upstream, proxy_factory):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path)
    assert status_of(p.request(PING_CLOSE)) == 200
    assert status_of(p.request(b"GET /containers/json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")) == 403
    assert wait_for(lambda: "/containers/json" in p.stderr_text())
    log = p.stderr_text()
    me = f"uid={os.getuid()} pid={os.getpid()}"
    assert f'{me} "GET /_ping" allow (PING=1) 200' in log, log
    assert f'{me} "GET /containers/json" deny (CONTAINERS=1) 403' in log, log
    assert "granted: EVENTS PING VERSION" in log


def test_access_log_json(fake_upstream, proxy_factory):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path, env={"LOG_FORMAT": "json"})
    assert status_of(p.request(PING_CLOSE, via="tcp")) == 200
    assert wait_for(lambda: '"/_ping"' in p.stderr_text())
    lines = [json.loads(x) for x in p.stderr_text().splitlines() if x.strip()]
    access = [x for x in lines if x.get("target") == "/_ping"]
    assert access, lines
    a = access[0]
    assert a["method"] == "GET" and a["decision"] == "allow" and a["rule"] == "PING=1" and a["status"] == 200
    assert a["client"].startswith("127.0.0.1:") and a["bytes"] > 0 and a["time"].endswith("Z")
    assert any("granted" in x.get("msg", "") for x in lines)


def test_log_level_warning_silences_access_lines(fake_upstream, proxy_factory):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path, env={"LOG_LEVEL": "warning"})
    assert status_of(p.request(PING_CLOSE)) == 200
    assert p.stop() == 0  # everything it would log is written once it has exited
    assert "/_ping" not in p.stderr_text()


def test_api_key_is_sent_upstream(fake_upstream, proxy_factory):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path, env={"API_KEY": "s3cr3t"})
    assert status_of(p.request(PING + PING_CLOSE)) == 200
    assert up.wait_requests(2)
    for r in up.requests:
        assert r.headers.get("x-api-key") == "s3cr3t", r.head


def test_second_signal_exits_at_once(fake_upstream, proxy_factory):
    up = fake_upstream(stall)
    p = proxy_factory(upstream=up.path, env={"SOCKET_PROXY_SHUTDOWN_GRACE": "30s"})
    s = p.connect(timeout=5)
    s.sendall(PING)  # in flight: the first signal waits for it
    assert up.wait_requests(1)
    p.proc.send_signal(signal.SIGTERM)
    assert wait_for(lambda: "SIGTERM: shutting down" in p.stderr_text()), p.stderr_text()
    assert p.alive(), "an in-flight request may finish within the grace period"
    p.proc.send_signal(signal.SIGINT)
    # "At once": well before the 30 s grace would have ended (it exits in milliseconds).
    p.proc.wait(timeout=15)
    assert not os.path.exists(p.unix)
    s.close()
    p.stop()


def test_grace_period_ends_in_flight_requests(fake_upstream, proxy_factory):
    up = fake_upstream(stall)
    p = proxy_factory(upstream=up.path, env={"SOCKET_PROXY_SHUTDOWN_GRACE": "1s"})
    s = p.connect(timeout=5)
    s.sendall(PING)
    assert up.wait_requests(1)
    t = time.monotonic()
    assert p.stop(timeout=10) == 0  # fails the test if the grace never ends
    took = time.monotonic() - t
    assert took >= 1 - EARLY, f"exited after {took:.2f}s, before the 1 s grace ended"
    s.close()


def test_live_socket_is_not_stolen(fake_upstream, proxy_factory, proxy_bin):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path)
    env = dict(p.env, SOCKET_PROXY_LISTEN="off")
    r = subprocess.run([proxy_bin.path], env=env, capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "another process is listening" in r.stderr, r.stderr
    assert status_of(p.request(PING_CLOSE)) == 200  # the first proxy still owns its socket


def test_dial_timeout_when_the_daemon_accepts_nothing(proxy_factory, tmp_path):
    """A daemon whose listen backlog is full: the proxy retries until
    SOCKET_PROXY_TIMEOUT, answers 502, and keeps serving."""
    path = str(tmp_path / "full.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(0)
    fillers = []
    for _ in range(8):  # fill the backlog
        s = socket.socket(socket.AF_UNIX)
        s.setblocking(False)
        try:
            s.connect(path)
            fillers.append(s)
        except BlockingIOError:
            s.close()
            break
    try:
        p = proxy_factory(upstream=path, env={"SOCKET_PROXY_TIMEOUT": "1s"})
        t = time.monotonic()
        r = p.request(PING_CLOSE, timeout=15)
        took = time.monotonic() - t
        assert status_of(r) == 502 and b"timed out" in r, r
        assert 1 - EARLY <= took < 10, took
        assert p.alive()
    finally:
        for s in fillers:
            s.close()
        srv.close()

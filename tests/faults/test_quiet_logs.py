"""Quiet logs under faults (issue 12): a fault that repeats is logged once in
full, then summed up every 10 s while it lasts, and (the daemon) with one line
when it is over. Every client still gets its answer. These tests wait for a
real 10-second window: the summary is what they check."""
import os
import socket
import tempfile

from conftest import wait_for
from fake.rawhttp import read_until_close, request_bytes, status_of
from fake.upstream import FakeUpstream, events_or_serve, serve
from test_client_conns import open_stream

WINDOW = 13  # the 10 s window, and time for the 1 s tick that ends it


def lines(p, text):
    return [x for x in p.stderr_text().splitlines() if text in x]


def test_daemon_down_is_logged_once_then_summed_up(proxy_factory):
    d = tempfile.mkdtemp(prefix="spq-", dir="/tmp")
    path = os.path.join(d, "daemon.sock")  # nobody listens yet
    p = proxy_factory({"CONTAINERS": "1"}, upstream=path)
    for _ in range(30):
        s = p.connect()
        s.sendall(request_bytes("GET", "/containers/json", {"Connection": "close"}))
        assert status_of(read_until_close(s, timeout=5)) == 502
        s.close()
    assert len(lines(p, "cannot reach the Docker daemon")) == 1, p.stderr_text()
    assert wait_for(lambda: lines(p, "daemon unreachable: 29 requests answered 502 in the last 10 s"),
                    timeout=WINDOW), p.stderr_text()
    up = FakeUpstream(path, serve()).start()
    try:
        s = p.connect()
        s.sendall(request_bytes("GET", "/containers/json", {"Connection": "close"}))
        assert status_of(read_until_close(s, timeout=5)) == 200
        s.close()
        assert wait_for(lambda: lines(p, "daemon reachable again after")), p.stderr_text()
        assert "(30 requests answered 502 meanwhile)" in lines(p, "daemon reachable again after")[0]
    finally:
        up.stop()
    assert len(lines(p, "cannot reach the Docker daemon")) == 1


def test_stranger_knocking_is_logged_once_then_summed_up(proxy_factory, fake_upstream):
    up = fake_upstream(serve())
    p = proxy_factory({"SOCKET_PROXY_ALLOW_FROM": "127.0.0.1"}, upstream=up.path)
    for _ in range(20):
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.connect(p.tcp)
        assert read_until_close(s, timeout=5) == b""
        s.close()
    deny = '"- -" deny (not admitted by SOCKET_PROXY_ALLOW_FROM)'
    assert wait_for(lambda: lines(p, deny)), p.stderr_text()
    assert wait_for(lambda: lines(p, "19 connections from 127.0.0.2 refused in the last 10 s (not admitted)"),
                    timeout=WINDOW), p.stderr_text()
    assert len(lines(p, deny)) == 1, p.stderr_text()
    # an admitted client is served all along
    s = socket.create_connection(p.tcp, source_address=("127.0.0.1", 0))
    s.sendall(request_bytes("GET", "/_ping", {"Connection": "close"}))
    assert status_of(read_until_close(s, timeout=5)) == 200
    s.close()


def test_client_over_its_limit_is_logged_once_then_summed_up(proxy_factory, fake_upstream):
    up = fake_upstream(events_or_serve)
    p = proxy_factory({"SOCKET_PROXY_MAX_CLIENT_CONNS": "4", "EVENTS": "1"}, upstream=up.path)
    held = [open_stream(p, "tcp") for _ in range(4)]  # the client's four connections: event streams
    try:
        for _ in range(12):
            s = socket.create_connection(p.tcp, source_address=("127.0.0.1", 0))
            try:  # refused at accept, or (the proxy not done with it yet) after the head
                s.sendall(request_bytes("GET", "/_ping", {"Connection": "close"}))
            except (BrokenPipeError, ConnectionResetError):
                pass
            assert status_of(read_until_close(s, timeout=5)) == 503
            s.close()
        assert len(lines(p, "SOCKET_PROXY_MAX_CLIENT_CONNS)")) >= 1
        assert wait_for(lambda: lines(p, "11 connections from 127.0.0.1 refused in the last 10 s "
                                         "(SOCKET_PROXY_MAX_CLIENT_CONNS)"), timeout=WINDOW), p.stderr_text()
        assert len(lines(p, "refused: it has 4 open")) == 1, p.stderr_text()
    finally:
        for h in held:
            h.close()

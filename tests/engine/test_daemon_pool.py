"""Idle daemon connections shared across clients (core/lookup.c's pool, used by
core/proxy.c): a client's GET or HEAD may go on a connection another client left
clean; nothing else ever does, and nothing half-used is ever kept. Against the
scripted fake daemon (tests/fake/upstream.py), which records on which of its
connections each request came."""
import signal
import time

import pytest

from conftest import wait_for
from fake.rawhttp import PING, SockReader, read_response, request_bytes
from fake.upstream import FakeUpstream, default_answer, response, serve

POST_STOP = request_bytes("POST", "/v1.41/containers/web/stop")
UPGRADE = (b"POST /v1.41/containers/web/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: docker\r\n"
           b"Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n")


def one_request(p, raw, via="unix"):
    """raw on a fresh client connection; the answer, read whole; then the client leaves."""
    s = p.connect(via, timeout=10)
    try:
        s.sendall(raw)
        return read_response(SockReader(s))
    finally:
        s.close()


def conn_of(up, i):
    return up.requests[i].conn_index


@pytest.mark.parametrize("via", ["unix", "tcp"])
def test_new_clients_share_idle_daemon_connections(fake_upstream, proxy_factory, via):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path)
    for _ in range(20):
        assert one_request(p, PING, via).body == b"OK"
        time.sleep(0.01)  # the proxy sees this client leave before the next one comes
    assert up.wait_requests(20)
    used = {q.conn_index for q in up.requests}
    # one, or two when a client's request came before the proxy saw the one before leave
    assert len(used) <= 2, f"20 clients one after another used {len(used)} daemon connections"


def test_head_requests_share_too(fake_upstream, proxy_factory):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path)
    for _ in range(5):
        assert one_request(p, request_bytes("HEAD", "/_ping")).status == 200
        time.sleep(0.01)
    assert up.wait_requests(5)
    assert len({q.conn_index for q in up.requests}) <= 2


def test_post_never_takes_an_idle_connection(fake_upstream, proxy_factory):
    """A POST could be acted on twice if it met a connection the daemon closes under
    it: it dials its own. A GET after it may then take either."""
    up = fake_upstream(serve())
    p = proxy_factory({"CONTAINERS": "1", "POST": "1"}, upstream=up.path)
    assert one_request(p, PING).status == 200
    wait_for(lambda: len(up.connections) == 1)
    time.sleep(0.05)
    assert one_request(p, POST_STOP).status == 200
    assert up.wait_requests(2)
    assert conn_of(up, 1) != conn_of(up, 0), "the POST went on another client's idle connection"


def test_body_request_never_takes_an_idle_connection(fake_upstream, proxy_factory):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path)
    assert one_request(p, PING).status == 200
    time.sleep(0.05)
    raw = b"GET /_ping HTTP/1.1\r\nHost: docker\r\nContent-Length: 2\r\n\r\n{}"
    assert one_request(p, raw).status == 200
    assert up.wait_requests(2)
    assert conn_of(up, 1) != conn_of(up, 0), "a request with a body went on an idle connection"


def test_closed_idle_connection_is_dropped(fake_upstream, proxy_factory):
    """The daemon closes a connection the pool keeps (its idle timeout, a restart):
    the pool hears the EOF and the next client gets a new connection, not an error."""
    def answer_once(conn):
        req = conn.read_request()
        if req is not None:
            conn.send(default_answer(req))
            time.sleep(0.2)  # the client leaves: the connection is in the pool now

    up = fake_upstream(answer_once)
    p = proxy_factory(upstream=up.path)
    assert one_request(p, PING).body == b"OK"
    wait_for(lambda: up.connections and up.connections[0].finished.is_set())
    time.sleep(0.1)
    assert one_request(p, PING).body == b"OK"
    assert up.wait_requests(2)
    assert conn_of(up, 1) != conn_of(up, 0)
    assert "502" not in p.stderr_text()


def test_connection_closed_as_the_request_goes_is_resent(fake_upstream, proxy_factory):
    """The race the pool invites: the daemon closes an idle connection just as a GET
    goes out on it. The GET goes once more on a new connection; the client sees 200."""
    answered = []

    def first_then_drop(conn):
        req = conn.read_request()
        if req is None:
            return
        conn.send(default_answer(req))
        if answered:
            serve()(conn)
            return
        answered.append(conn.index)
        conn.read_request()  # the next client's GET: dropped unanswered

    up = fake_upstream(first_then_drop)
    p = proxy_factory(upstream=up.path)
    assert one_request(p, PING).body == b"OK"
    time.sleep(0.05)
    res = one_request(p, PING)
    assert (res.status, res.body) == (200, b"OK")
    assert up.wait_requests(3), up.requests
    first = answered[0]
    assert conn_of(up, 0) == conn_of(up, 1) == first and conn_of(up, 2) != first, up.requests


def test_daemon_restart_empties_the_pool(fake_upstream, proxy_factory):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path)
    for _ in range(3):
        assert one_request(p, PING).body == b"OK"
    path = up.path
    up.stop()
    again = FakeUpstream(path, serve()).start()
    try:
        for _ in range(3):
            res = one_request(p, PING)
            assert (res.status, res.body) == (200, b"OK")
        assert again.wait_requests(3)
    finally:
        again.stop()


def test_connection_close_answer_is_not_kept(fake_upstream, proxy_factory):
    def closing(conn):
        req = conn.read_request()
        if req is not None:
            conn.send(response(200, b"OK", headers={"Connection": "close"}, content_type="text/plain"))
            conn.wait_closed(10)

    up = fake_upstream(closing)
    p = proxy_factory(upstream=up.path)
    assert one_request(p, PING).body == b"OK"
    assert up.wait_for(lambda u: u.connections and u.connections[0].finished.is_set())
    assert one_request(p, PING).body == b"OK"
    assert up.wait_requests(2)
    assert conn_of(up, 1) != conn_of(up, 0)


def test_tunnel_connection_is_never_kept(fake_upstream, proxy_factory):
    def upgrade_or_serve(conn):
        req = conn.read_request()
        if req is None:
            return
        if b"attach" in req.head:
            conn.send(b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                      b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
            conn.send(b"hello")
            conn.wait_closed(10)
            return
        conn.send(default_answer(req))
        serve()(conn)

    up = fake_upstream(upgrade_or_serve)
    p = proxy_factory({"CONTAINERS": "1", "POST": "1"}, upstream=up.path)
    s = p.connect("unix", timeout=10)
    s.sendall(UPGRADE)
    got = b""
    while b"hello" not in got:
        got += s.recv(4096)
    assert got.startswith(b"HTTP/1.1 101")
    s.close()
    assert up.wait_for(lambda u: u.connections and u.connections[0].finished.is_set()), \
        "the tunnel's daemon connection outlived its client"
    assert one_request(p, PING).body == b"OK"
    assert up.wait_requests(2)
    assert conn_of(up, 1) != conn_of(up, 0)


def test_half_read_answer_is_not_kept(fake_upstream, proxy_factory):
    """A client that leaves mid-answer leaves the daemon connection mid-answer: it is
    closed, never handed to the next client (who would read the rest as its answer)."""
    def big_version(req):
        return response(200, b"x" * (8 << 20)) if req.path.endswith("/version") else default_answer(req)

    up = fake_upstream(serve(big_version))
    p = proxy_factory(upstream=up.path)
    s = p.connect("unix", timeout=10)
    s.sendall(request_bytes("GET", "/v1.41/version"))
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
    s.close()
    assert up.wait_for(lambda u: u.connections and u.connections[0].finished.is_set())
    res = one_request(p, PING)
    assert (res.status, res.body) == (200, b"OK")


def test_pooled_connections_do_not_hold_shutdown(fake_upstream, proxy_factory):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path)
    for _ in range(3):
        assert one_request(p, PING).body == b"OK"
    t0 = time.monotonic()
    assert p.stop(signal.SIGTERM, timeout=5) == 0
    assert time.monotonic() - t0 < 2, "idle daemon connections held the exit"
    assert up.wait_for(lambda u: all(c.finished.is_set() for c in u.connections))

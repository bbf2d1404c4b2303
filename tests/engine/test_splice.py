"""Long byte runs: Content-Length bodies both ways and tunnels, which the proxy
moves with splice(2) on Linux (core/proxy.c, "splice"). Whatever moves them,
the framing stays exact (not a byte past a Content-Length, the next head is
parsed), a slow reader bounds what the proxy takes from the daemon and holds,
half-close crosses a tunnel both ways, a cut body reaches the client as a cut,
and the access log counts every byte."""
import hashlib
import json
import os
import select
import socket
import sys
import time

import pytest

from conftest import wait_for
from fake.rawhttp import read_until_close

MiB = 1 << 20
ENV = {"CONTAINERS": "1", "ALLOW_EXPORT": "1", "POST": "1", "BUILD": "1", "LOG_FORMAT": "json"}
TUNNEL_HEAD = (b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
               b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n")


def payload(n, seed=0):
    """n bytes in which a run shifted or cut anywhere does not match: each MiB is
    a different rotation of one random block."""
    block = hashlib.shake_256(b"splice%d" % seed).digest(MiB)
    out = bytearray()
    i = 0
    while len(out) < n:
        r = (i * 7919 + seed) % MiB
        out += block[r:] + block[:r]
        i += 1
    return bytes(out[:n])


def head_for(n):
    return (b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/x-tar\r\n"
            b"Content-Length: %d\r\n\r\n" % n)


def read_head(s):
    """(the head, the bytes read past it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(65536)
        assert d, f"closed before a whole head: {data!r}"
        data += d
    h, _, rest = data.partition(b"\r\n\r\n")
    return h + b"\r\n\r\n", rest


def read_exact(s, n, have=b""):
    buf = bytearray(have)
    while len(buf) < n:
        d = s.recv(min(4 * MiB, n - len(buf)))
        assert d, f"closed after {len(buf)} of {n} bytes"
        buf += d
    return bytes(buf)


def nothing_more(s, wait=0.3):
    r, _, _ = select.select([s], [], [], wait)
    if not r:
        return True
    s.setblocking(False)
    try:
        return s.recv(65536) == b""
    except BlockingIOError:
        return True
    finally:
        s.setblocking(True)


def pipes(pid):
    """How many pipe ends the process holds."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("pipe:")
        except OSError:
            pass
    return n


def access_json(p):
    out = []
    for line in p.stderr_text().splitlines():
        if line.startswith("{") and '"bytes"' in line:
            out.append(json.loads(line))
    return out


def get(target, close=False):
    return b"GET %s HTTP/1.1\r\nHost: d\r\n%s\r\n" % (target, b"Connection: close\r\n" if close else b"")


def export(fake_upstream, proxy_factory, handler, rcvbuf=None):
    """A proxy in front of handler, and a client asking it for an export:
    (proxy, socket, answer head, bytes read past it)."""
    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path, env=ENV)
    s = p.connect(timeout=30)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.sendall(get(b"/containers/x/export"))
    h, rest = read_head(s)
    return p, s, h, rest


@pytest.mark.parametrize("via", ["unix", "tcp"])
def test_large_answers_back_to_back_on_one_connection(fake_upstream, proxy_factory, via):
    """Two large Content-Length answers and a small one on one keep-alive
    connection, the daemon's too: each body ends exactly where its length
    says, so the next head is read as a head. Sizes not a multiple of any
    page or pipe size."""
    sizes = [9 * MiB + 12345, 5 * MiB + 1]
    bodies = [payload(n, i) for i, n in enumerate(sizes)]

    def handler(conn):
        for b in bodies:
            if conn.read_request() is None:
                return
            conn.send(head_for(len(b)) + b)
        if conn.read_request() is None:
            return
        conn.send(head_for(5) + b"small")
        conn.wait_closed()

    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path, env=ENV)
    s = p.connect(via, timeout=20)
    base = most = pipes(p.pid)  # libuv's own (signals)
    for i, b in enumerate(bodies):
        s.sendall(get(b"/containers/x/export"))
        h, rest = read_head(s)
        assert h.startswith(b"HTTP/1.1 200 OK") and b"Content-Length: %d" % len(b) in h, h
        got = read_exact(s, MiB, rest)
        most = max(most, pipes(p.pid))  # mid-answer: a run holds its pipe
        got += read_exact(s, len(b) - len(got))
        assert len(got) == len(b) and got == b, f"answer {i}: body differs"
    s.sendall(get(b"/containers/x/json", close=True))
    tail = read_until_close(s, timeout=10)
    assert tail.startswith(b"HTTP/1.1 200 OK") and tail.endswith(b"\r\n\r\nsmall"), tail[:300]
    s.close()
    assert len({r.conn_index for r in up.requests}) == 1, "the daemon's connection was not kept: framing lost"
    assert [r.path for r in up.requests] == ["/containers/x/export"] * 2 + ["/containers/x/json"]
    # Unix to Unix only: into a loopback TCP socket, splice costs more than the copy.
    spliced = 2 if via == "unix" and sys.platform.startswith("linux") else 0
    assert most - base == spliced, f"pipe ends mid-answer: {most}, {base} before"


def test_bytes_past_the_length_are_not_forwarded(fake_upstream, proxy_factory):
    """A daemon that sends more than its Content-Length in the same write: the
    client gets exactly the body, the rest is dropped with that daemon
    connection, and the next request is served on a new one."""
    n = 3 * MiB + 777
    body = payload(n, 3)

    served = []

    def handler(conn):
        if conn.read_request() is None:
            return  # the proxy's probe at start-up
        served.append(conn.index)
        if len(served) == 1:
            conn.send(head_for(n) + body + b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nforged")
            conn.wait_closed(timeout=10)
            return
        conn.send(head_for(2) + b"ok")
        conn.wait_closed()

    p, s, h, rest = export(fake_upstream, proxy_factory, handler)
    assert read_exact(s, n, rest) == body
    assert nothing_more(s), "bytes past the Content-Length reached the client"
    s.sendall(get(b"/_ping", close=True))
    tail = read_until_close(s, timeout=10)
    assert tail.startswith(b"HTTP/1.1 200 OK") and tail.endswith(b"\r\n\r\nok"), tail[:300]
    assert b"forged" not in tail
    assert len(served) == 2


def test_large_request_body_then_next_request(fake_upstream, proxy_factory):
    """A build context of many MiB: the daemon reads exactly that body, and the
    request after it on the same connection arrives as a request."""
    n = 24 * MiB + 4321
    body = payload(n, 5)
    seen = []

    def handler(conn):
        while True:
            req = conn.read_request()
            if req is None:
                return
            seen.append((req.method, req.path, len(req.body), hashlib.sha256(req.body).hexdigest()))
            conn.send(head_for(2) + b"ok")

    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path, env=ENV)
    s = p.connect(timeout=30)
    s.sendall(b"POST /build?t=x HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\n"
              b"Content-Length: %d\r\n\r\n" % n)
    s.sendall(body)
    h, rest = read_head(s)
    assert h.startswith(b"HTTP/1.1 200 OK") and read_exact(s, 2, rest) == b"ok"
    s.sendall(get(b"/_ping", close=True))
    tail = read_until_close(s, timeout=10)
    assert tail.startswith(b"HTTP/1.1 200 OK"), tail[:300]
    s.close()
    assert seen == [("POST", "/build", n, hashlib.sha256(body).hexdigest()), ("GET", "/_ping", 0, seen[1][3])]
    assert len({r.conn_index for r in up.requests}) == 1


def test_slow_reader_bounds_what_is_taken_and_held(fake_upstream, proxy_factory):
    """A client that stops reading a 64 MiB answer: the proxy stops taking it
    from the daemon (only socket buffers and at most one pipe's worth are in
    flight), its memory does not grow, and it holds at most one pipe for the
    connection, gone when the answer is through."""
    n = 64 * MiB
    body = payload(n, 7)
    sent = [0]

    def handler(conn):
        if conn.read_request() is None:
            return
        conn.send(head_for(n))
        view = memoryview(body)
        while sent[0] < n:
            sent[0] += conn.sock.send(view[sent[0]:sent[0] + 256 * 1024])
        conn.wait_closed()

    p, s, h, rest = export(fake_upstream, proxy_factory, handler, rcvbuf=64 * 1024)
    base_rss = p.rss_kib()
    got = bytearray(read_exact(s, MiB, rest))
    # Stalled: wait until the daemon can send no more.
    last = -1
    while sent[0] != last:
        last = sent[0]
        time.sleep(0.5)
    assert sent[0] < 8 * MiB, f"the daemon sent {sent[0]} bytes to a client that read {len(got)}"
    assert p.rss_kib() - base_rss < 8 * 1024, f"RSS {base_rss} -> {p.rss_kib()} KiB"
    during = pipes(p.pid)
    got += read_exact(s, n - len(got))
    assert got == body
    # The run's pipe (two ends) goes when the answer is through.
    spliced = 2 if sys.platform.startswith("linux") else 0
    assert p.wait_idle(lambda: pipes(p.pid) == during - spliced), f"pipe ends: {during} while stalled, {pipes(p.pid)} after"
    s.sendall(get(b"/_ping", close=True))
    s.close()


def tunnel(p):
    """A client connection turned into a tunnel: (socket, bytes read past the 101 head)."""
    s = p.connect(timeout=30)
    s.sendall(b"POST /containers/x/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: d\r\n"
              b"Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n")
    h, rest = read_head(s)
    assert h.startswith(b"HTTP/1.1 101"), h
    return s, rest


def test_tunnel_client_half_closes_first(fake_upstream, proxy_factory):
    """stdin of many MiB then its EOF: the daemon reads all of it and its EOF,
    then answers many MiB and closes; the client reads them and the close."""
    up_data, down_data = payload(10 * MiB + 3, 11), payload(12 * MiB + 5, 12)
    got_up = []

    def handler(conn):
        if conn.read_request() is None:
            return
        conn.send(TUNNEL_HEAD)
        got_up.append(read_until_close(conn.sock, timeout=30))
        conn.send(down_data)
        conn.close()

    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path, env=ENV)
    s, rest = tunnel(p)
    s.sendall(up_data)
    s.shutdown(socket.SHUT_WR)
    down = rest + read_until_close(s, timeout=30)
    s.close()
    assert up.wait_for(lambda u: got_up, 10)
    assert got_up[0] == up_data, f"the daemon got {len(got_up[0])} of {len(up_data)} bytes"
    assert down == down_data, f"the client got {len(down)} of {len(down_data)} bytes"


def test_tunnel_daemon_half_closes_first(fake_upstream, proxy_factory):
    """The daemon's output of many MiB then its EOF while the client still
    writes: the client sees the EOF, then sends its many MiB and its EOF,
    which the daemon reads whole."""
    up_data, down_data = payload(11 * MiB + 1, 13), payload(9 * MiB + 9, 14)
    got_up = []

    def handler(conn):
        if conn.read_request() is None:
            return
        conn.send(TUNNEL_HEAD + down_data)
        conn.shutdown_write()
        got_up.append(read_until_close(conn.sock, timeout=30))
        conn.close()

    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path, env=ENV)
    s, rest = tunnel(p)
    down = rest + read_until_close(s, timeout=30)
    assert down == down_data, f"the client got {len(down)} of {len(down_data)} bytes"
    s.sendall(up_data)
    s.shutdown(socket.SHUT_WR)
    assert read_until_close(s, timeout=30) == b""
    s.close()
    assert up.wait_for(lambda u: got_up, 10)
    assert got_up[0] == up_data, f"the daemon got {len(got_up[0])} of {len(up_data)} bytes"


def test_daemon_closes_mid_body(fake_upstream, proxy_factory):
    """The daemon dies 5 MiB into a 16 MiB answer: the client gets those bytes
    and then the close, never a whole-looking answer or a next one."""
    n, cut = 16 * MiB, 5 * MiB + 17
    body = payload(n, 15)

    def handler(conn):
        if conn.read_request() is None:
            return
        conn.send(head_for(n) + body[:cut])
        conn.close()

    p, s, h, rest = export(fake_upstream, proxy_factory, handler)
    got = rest + read_until_close(s, timeout=30)
    s.close()
    assert got == body[:cut], f"the client got {len(got)} bytes, the daemon sent {cut}"


def test_access_log_counts_every_byte(fake_upstream, proxy_factory):
    """bytes in the access line: head and body of a spliced answer, exactly."""
    n = 6 * MiB + 99
    body = payload(n, 17)
    head = head_for(n)

    def handler(conn):
        if conn.read_request() is None:
            return
        conn.send(head + body)
        conn.wait_closed()

    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path, env=ENV)
    out = p.request(get(b"/containers/x/export", close=True), timeout=30)
    assert out == head + body
    assert wait_for(lambda: access_json(p), 10), p.stderr_text()[-2000:]
    line = access_json(p)[-1]
    assert line["bytes"] == len(head) + n, line
    assert line["status"] == 200, line


def test_many_spliced_answers_leave_no_descriptor(fake_upstream, proxy_factory):
    """Runs that end every way (whole, cut by the daemon, the client gone
    mid-answer) give back their pipe and their descriptors."""
    n = MiB

    def handler(conn):
        body = payload(n, 19)
        while True:  # a daemon's keep-alive: the proxy may bring another client's request
            req = conn.read_request()
            if req is None:
                return
            if "cut" in req.target:
                conn.send(head_for(n) + body[:n // 2])
                conn.close()
                return
            try:
                conn.send(head_for(n) + body)
            except OSError:
                return

    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path, env=dict(ENV, LOG_LEVEL="debug"))
    s = p.connect(timeout=10)
    s.sendall(get(b"/containers/x/export?whole", close=True))
    read_until_close(s, timeout=10)
    s.close()
    # counted with the daemon connection that answer left in the pool
    assert p.wait_idle()
    fds = len(os.listdir(f"/proc/{p.pid}/fd"))
    for i in range(30):
        kind = ("whole", "cut", "gone")[i % 3]
        s = p.connect(timeout=10)
        s.sendall(get(b"/containers/x/export?" + kind.encode(), close=True))
        if kind == "gone":
            read_head(s)
        else:
            read_until_close(s, timeout=10)
        s.close()
    assert p.wait_idle(lambda: len(os.listdir(f"/proc/{p.pid}/fd")) <= fds, timeout=15), \
        f"descriptors: {fds} -> {len(os.listdir(f'/proc/{p.pid}/fd'))}"
    assert p.alive()


def test_buffers_serve_when_no_pipe_can_be_had(fake_upstream, proxy_factory):
    """Out of descriptors for a pipe (the proxy's limit lowered to what the
    client and the daemon connection need): the answer goes through the
    buffers, whole and exact, and the next one too."""
    import resource

    n = 4 * MiB + 3
    body = payload(n, 23)

    def handler(conn):
        while conn.read_request() is not None:
            conn.send(head_for(n) + body)

    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path, env=dict(ENV, LOG_LEVEL="debug"))
    fds = len(os.listdir(f"/proc/{p.pid}/fd"))
    resource.prlimit(p.pid, resource.RLIMIT_NOFILE, (fds + 3, fds + 3))  # client, daemon, one spare
    s = p.connect(timeout=30)
    for _ in range(2):
        s.sendall(get(b"/containers/x/export"))
        h, rest = read_head(s)
        assert read_exact(s, n, rest) == body
    s.close()
    assert "splice unavailable" in p.stderr_text(), p.stderr_text()[-2000:]

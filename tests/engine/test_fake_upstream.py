"""The proxy against a scripted fake daemon (tests/fake/upstream.py): stalls, resets,
malformed answers, a body larger than memory, and an upstream that drops idle
keep-alive connections. No dockerd needed."""
import json
import socket
import threading
import time

import pytest

from fake.rawhttp import PING, SockReader, read_response, request_bytes
from fake.upstream import default_answer, response, respond_then_close, serve

via_param = pytest.mark.parametrize("via", ["unix", "tcp"])

VERSION = request_bytes("GET", "/v1.41/version")


def ping_ok(p, via="unix"):
    status, _, body = p.http("GET", "/_ping", via=via)
    assert (status, body) == (200, b"OK"), (status, body)


def routed(**by_path_suffix):
    """Handler: a keep-alive server that hands the connection to the script for a
    request's path (by suffix), as a daemon routes every request of a connection
    (the proxy may send a request on a connection another client used before)."""
    def handler(conn):
        while True:
            req = conn.read_request()
            if req is None:
                return
            for suffix, script in by_path_suffix.items():
                if req.path.endswith("/" + suffix):
                    return script(conn, req)
            conn.send(default_answer(req))
    return handler


# -- harness self-test (no proxy) --------------------------------------------------

def test_fake_upstream_selftest(fake_upstream):
    up = fake_upstream(serve())
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(up.path)
    s.sendall(PING + VERSION)
    r = SockReader(s)
    assert read_response(r).body == b"OK"
    assert json.loads(read_response(r).body)["ApiVersion"] == "1.41"
    s.close()
    assert up.wait_requests(2)
    assert [q.target for q in up.requests] == ["/_ping", "/v1.41/version"]
    assert not up.errors


# -- stall -------------------------------------------------------------------------

STALL_TARGETS = {
    "events": "/v1.41/events",    # a stream: its client going away must end it
    "version": "/v1.41/version",  # a plain request the daemon never answers
}


@pytest.mark.parametrize("target", list(STALL_TARGETS))
@via_param
def test_stalled_upstream_hangs_one_request_only(fake_upstream, proxy_factory, via, target):
    stalled = []

    def stall(conn, req):
        stalled.append(conn)
        conn.wait_closed()

    up = fake_upstream(routed(**{target: stall}))
    # A short idle timeout: it must not apply while a response is awaited.
    # (and a short shutdown grace: when the stalled pair leaks, teardown is quick)
    p = proxy_factory({"SOCKET_PROXY_IDLE_TIMEOUT": "1s", "SOCKET_PROXY_SHUTDOWN_GRACE": "1s"}, upstream=up.path)
    a = p.connect(via)
    a.sendall(request_bytes("GET", STALL_TARGETS[target]))
    assert up.wait_for(lambda u: stalled, 10), "the request never reached the upstream"

    ping_ok(p, via)  # other connections are served meanwhile
    # A timeout that must not fire can only be watched for a while: 3 s is three times
    # the idle timeout, long enough for it to have cut the request.
    a.settimeout(3)
    try:
        data = a.recv(1)
    except socket.timeout:
        data = None
    assert data is None, f"expected the stalled request to stay open and silent, got {data!r}"
    ping_ok(p, via)  # still serving after 3 s, and no timeout closed the stalled one
    assert not stalled[0].closed_by_peer.is_set(), "the proxy gave up on the stalled upstream by itself"

    a.close()  # the client goes away: the proxy must release the upstream connection
    assert stalled[0].closed_by_peer.wait(10), (
        f"upstream connection for GET {STALL_TARGETS[target]} still open 10 s after the client closed")
    ping_ok(p, via)
    assert not up.errors


SILENT_STREAMS = {
    # name: (method, target, proxy env)
    "events": ("GET", "/v1.41/events", {}),
    # a pull: progress in chunks, then minutes of silence; `docker pull` + Ctrl-C
    # must reach the daemon as a closed connection, which is what cancels the pull.
    "pull": ("POST", "/v1.41/images/create?fromImage=busybox&tag=latest", {"IMAGES": "1", "POST": "1"}),
}


@pytest.mark.parametrize("case", list(SILENT_STREAMS))
def test_client_leaving_silent_stream_frees_upstream(fake_upstream, proxy_factory, case):
    method, target, env = SILENT_STREAMS[case]
    streams = []

    def silent(conn, req):
        streams.append(conn)
        conn.send(response(200, b"", headers={"Transfer-Encoding": "chunked"}) +
                  b'17\r\n{"status":"something"}\n\r\n')
        conn.wait_closed()

    path = target.split("?")[0].rsplit("/", 1)[1]
    up = fake_upstream(routed(**{path: silent}))
    p = proxy_factory(dict(env, SOCKET_PROXY_SHUTDOWN_GRACE="1s"), upstream=up.path)
    s = p.connect("unix", timeout=10)
    s.sendall(request_bytes(method, target, body=b"" if method == "POST" else None))
    r = SockReader(s)
    assert r.read_head().startswith(b"HTTP/1.1 200")
    assert r.read_line() == b"17"
    assert up.wait_for(lambda u: streams, 10)
    assert p.wait_idle(), "the proxy is still busy"  # the stream is silent: nothing left to relay
    s.close()
    assert streams[0].closed_by_peer.wait(10), (
        f"{method} {target}: upstream connection still open 10 s after the client closed mid-stream")
    ping_ok(p)


# -- reset mid-body ----------------------------------------------------------------

@via_param
def test_upstream_reset_mid_body(fake_upstream, proxy_factory, via):
    body_seen = threading.Event()  # the client has the head and the first body bytes

    def cut(conn, req):
        conn.send(response(200, b"x" * 1000, headers={"Content-Length": "100000"}))
        body_seen.wait(10)
        conn.reset()

    up = fake_upstream(routed(version=cut))
    p = proxy_factory(upstream=up.path)
    s = p.connect(via, timeout=10)
    s.sendall(VERSION)
    r = SockReader(s)
    head = r.read_head()
    assert head and head.startswith(b"HTTP/1.1 200"), head
    if not r.buf:
        r._fill()
    body_seen.set()  # now the daemon dies mid-body
    try:
        body = r.read_to_eof()
    except socket.timeout:
        pytest.fail(f"the proxy kept the client connection open after the upstream died mid-body "
                    f"(got {len(r.buf)} body bytes)")
    assert 0 < len(body) < 100000, len(body)
    assert body == b"x" * len(body)
    s.close()
    ping_ok(p, via)
    assert p.alive()


# -- malformed response heads -> 502 -------------------------------------------------

MALFORMED = {
    "bad-status-line": b"HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\n{}",
    "not-http": b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
    "cl-and-te": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bad-content-length": b"HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n{}",
    "two-content-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "header-without-colon": b"HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\n{}",
    "eof-inside-head": b"HTTP/1.1 200 OK\r\nContent-Le",
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_response_head_gives_502(fake_upstream, proxy_factory, case):
    def garbage(conn, req):
        conn.send(MALFORMED[case])
        conn.shutdown_write()
        conn.wait_closed(10)

    up = fake_upstream(routed(version=garbage))
    p = proxy_factory(upstream=up.path)
    status, headers, body = p.http("GET", "/v1.41/version")
    assert status == 502, (status, headers, body)
    assert headers.get("content-type", "").startswith("application/json"), headers
    assert isinstance(json.loads(body).get("message"), str), body
    ping_ok(p)
    assert p.alive()


def test_bad_chunk_closes_client(fake_upstream, proxy_factory):
    """Once the head is forwarded a 502 is impossible: the client must see the body
    cut short (connection closed, no terminating chunk invented)."""
    def bad_chunk(conn, req):
        conn.send(response(200, b"5\r\nhello\r\nZZ\r\nnope\r\n0\r\n\r\n", headers={"Transfer-Encoding": "chunked"}))
        conn.wait_closed(10)

    up = fake_upstream(routed(version=bad_chunk))
    p = proxy_factory(upstream=up.path)
    s = p.connect("unix", timeout=10)
    s.sendall(VERSION)
    r = SockReader(s)
    head = r.read_head()
    assert head.startswith(b"HTTP/1.1 200"), head
    try:
        rest = r.read_to_eof()
    except socket.timeout:
        pytest.fail(f"connection left open after an invalid chunk (got {r.buf!r})")
    assert b"0\r\n\r\n" not in rest, rest
    s.close()
    ping_ok(p)


# -- a body larger than memory, read slowly ------------------------------------------

GIB = 1 << 30


def test_huge_body_slow_reader_bounded_memory(fake_upstream, proxy_factory, proxy_bin):
    total = 2 * GIB
    sent = [0]
    upstream_done = threading.Event()
    block = b"\xa5" * (1 << 20)

    def firehose(conn, req):
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nContent-Length: %d\r\n\r\n" % total)
        try:
            while sent[0] < total:
                n = min(len(block), total - sent[0])
                conn.send(block[:n])
                sent[0] += n
        except (BrokenPipeError, ConnectionResetError):
            return
        upstream_done.set()
        serve()(conn)  # whole and clean: the proxy may send another client's request on it

    up = fake_upstream(routed(version=firehose))
    env = {}
    if proxy_bin.asan:  # freed buffers would sit in ASan's quarantine and count as RSS
        env["ASAN_OPTIONS"] = proxy_bin.env["ASAN_OPTIONS"] + ":quarantine_size_mb=4:thread_local_quarantine_size_kb=64"
    p = proxy_factory(env, upstream=up.path)
    ping_ok(p)
    base_kib = p.rss_kib()
    limit_kib = 32 * 1024 if not proxy_bin.asan else base_kib + 32 * 1024

    s = p.connect("unix", timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.sendall(VERSION)
    r = SockReader(s)
    head = r.read_head()
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: %d" % total in head, head
    got = len(r.buf)
    r.buf = b""
    peak = p.rss_kib()

    # Slow phase: ~1.5 MB/s for 4 s while the upstream pushes as fast as it can (the pace
    # and the while are the subject: a slow reader, not a condition to wait for).
    t_end = time.monotonic() + 4
    while time.monotonic() < t_end:
        got += len(s.recv(16384))
        time.sleep(0.01)
        peak = max(peak, p.rss_kib())
    lag = sent[0] - got
    assert peak < limit_kib, f"proxy RSS reached {peak} KiB (limit {limit_kib} KiB, base {base_kib} KiB) with a slow reader"
    assert lag < 32 << 20, f"upstream got {lag >> 20} MiB ahead of the client: no backpressure"

    # Fast phase: drain the rest; memory must stay bounded through many drain/resume cycles.
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    next_sample = got
    while got < total:
        n = s.recv_into(view)
        if n == 0:
            break
        got += n
        if got >= next_sample:
            peak = max(peak, p.rss_kib())
            next_sample = got + (64 << 20)
    print(f"RSS base {base_kib} KiB, peak {peak} KiB, limit {limit_kib} KiB; slow-phase lag {lag >> 10} KiB")
    assert got == total, f"body ended after {got} of {total} bytes"
    assert peak < limit_kib, f"proxy RSS reached {peak} KiB (limit {limit_kib} KiB, base {base_kib} KiB)"
    s.close()
    assert upstream_done.wait(30)
    ping_ok(p)


def test_client_leaving_mid_huge_body_frees_upstream(fake_upstream, proxy_factory):
    sent = [0]
    upstream_saw_close = threading.Event()
    bodies = []

    def firehose(conn, req):
        bodies.append(conn)
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (2 * GIB))
        block = b"\x00" * (1 << 20)
        try:
            while True:
                conn.send(block)
                sent[0] += len(block)
        except (BrokenPipeError, ConnectionResetError):
            upstream_saw_close.set()

    up = fake_upstream(routed(version=firehose))
    p = proxy_factory(upstream=up.path)
    s = p.connect("unix", timeout=10)
    s.sendall(VERSION)
    assert s.recv(65536).startswith(b"HTTP/1.1 200")
    # Mid-body: the client reads no more, and the proxy holds off the daemon, whose
    # bytes wait unread for it.
    assert p.wait_idle(lambda: bodies and bodies[0].unread_by_proxy(), timeout=20), "no backpressure"
    s.close()
    assert upstream_saw_close.wait(10), f"upstream still being read after the client left ({sent[0] >> 20} MiB sent)"
    ping_ok(p)


# -- upstream closes an idle keep-alive connection -------------------------------------
# dockerd (Go's net/http) closes idle keep-alive connections whenever it likes; the
# proxy may write the next request into a connection the daemon is closing. A GET or
# HEAD that meets a closed kept-alive connection before any answer byte is retried
# once on a fresh connection; a POST is never sent twice: it gets a 502 (or went out
# on a fresh connection in the first place). No request is ever left unanswered.

REPEATS = 500


def answer_then_close_at_once(conn):
    """Answer one request as keep-alive (no Connection: close) and close at once."""
    req = conn.read_request()
    if req is None:
        return
    conn.send(default_answer(req))
    conn.close()


# id -> (upstream handler, how the second request follows the first answer)
REDIAL = {
    "after-close": (respond_then_close(), "after the upstream's handler is done"),
    "closes-at-once": (answer_then_close_at_once, "as soon as the first answer is read"),
    "pipelined": (answer_then_close_at_once, "in the same write as the first request"),
}


def read_or_fail(r, what, p):
    try:
        res = read_response(r)
    except Exception as e:  # noqa: BLE001 - socket.timeout, Closed: no answer
        pytest.fail(f"{what}: no answer ({e!r})\n--- proxy log ---\n{p.stderr_text()[-1500:]}")
    assert res is not None, f"{what}: the proxy closed the client connection without answering"
    return res


@pytest.mark.parametrize("case", list(REDIAL))
@via_param
def test_redial_after_upstream_closes_idle_connection(fake_upstream, proxy_factory, via, case):
    """REPEATS rounds, no sleeps: a fresh client connection sends GET /_ping (answered,
    then the daemon closes that connection) and GET /version, which must get its 200
    over a fresh upstream connection."""
    handler, _ = REDIAL[case]
    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path)
    for i in range(REPEATS):
        s = p.connect(via, timeout=10)
        r = SockReader(s)
        if case == "pipelined":
            s.sendall(PING + VERSION)
        else:
            s.sendall(PING)
        first = read_or_fail(r, f"round {i}: GET /_ping", p)
        assert (first.status, first.body) == (200, b"OK"), (i, first)
        if case == "after-close":
            assert up.connections[up.requests[-1].conn_index].finished.wait(10)
        if case != "pipelined":
            s.sendall(VERSION)
        second = read_or_fail(r, f"round {i}: GET /v1.41/version after the daemon closed the kept-alive connection", p)
        assert second.status == 200 and json.loads(second.body)["ApiVersion"] == "1.41", (i, second, second.body)
        s.close()
        assert up.wait_requests(2 * (i + 1), 10)
        ping, version = up.requests[2 * i:2 * i + 2]
        assert [ping.target, version.target] == ["/_ping", "/v1.41/version"], (i, up.requests[2 * i:])
        assert ping.conn_index != version.conn_index, f"round {i}: both requests on one upstream connection"
    assert len(up.requests) == 2 * REPEATS, f"{len(up.requests) - 2 * REPEATS} request(s) reached the daemon twice"
    assert not up.errors, up.errors


@via_param
def test_post_meeting_a_closed_upstream_is_answered_once(fake_upstream, proxy_factory, via):
    """POST /containers/x/start (ALLOW_START=1, no body) sent right after the daemon
    answered and closed the kept-alive connection: answered 502, or 200 when it went
    out on a fresh connection; never unanswered, never at the daemon twice."""
    up = fake_upstream(answer_then_close_at_once)
    p = proxy_factory({"ALLOW_START": "1"}, upstream=up.path)
    post = request_bytes("POST", "/v1.41/containers/x/start", {"Content-Length": "0"})
    outcomes = {200: 0, 502: 0}
    for i in range(REPEATS):
        s = p.connect(via, timeout=10)
        r = SockReader(s)
        s.sendall(PING)
        first = read_or_fail(r, f"round {i}: GET /_ping", p)
        assert first.status == 200, (i, first)
        ping_conn = up.requests[-1].conn_index
        s.sendall(post)
        res = read_or_fail(r, f"round {i}: POST start after the daemon closed the kept-alive connection", p)
        assert res.status in outcomes, (i, res, res.body)
        outcomes[res.status] += 1
        s.close()
        if res.status == 200:
            assert up.wait_for(lambda u: u.requests[-1].method == "POST", 10), (i, up.requests[-2:])
        posts = [q for q in up.requests if q.method == "POST"]
        assert len(posts) == outcomes[200], (
            f"round {i}: the daemon saw {len(posts)} POSTs for {outcomes[200]} answered 200 "
            f"({outcomes[502]} answered 502): a POST was sent twice or sent and answered 502")
        if res.status == 200:
            assert posts[-1].conn_index != ping_conn, f"round {i}: POST answered on the closed connection"
    print(f"\nPOST after the daemon's close ({via}): {outcomes[200]} x 200 on a fresh connection, "
          f"{outcomes[502]} x 502")
    assert not up.errors, up.errors


def close_without_answering_second(reuse_answers):
    """The first connection that carries a request (the proxy's start-up check may
    open and close one before) answers it, reads the next one and closes without a
    byte of answer. Later connections answer (reuse_answers) or also read their
    request and close without answering."""
    lock = threading.Lock()
    state = {"first": None}

    def handler(conn):
        req = conn.read_request()
        if req is None:
            return
        with lock:
            first = state["first"] is None
            if first:
                state["first"] = conn.index
        if first:
            conn.send(default_answer(req))
            conn.read_request()
            return  # closes without answering
        if not reuse_answers:
            return
        conn.send(default_answer(req))
        serve()(conn)
    return handler


POST_START = request_bytes("POST", "/v1.41/containers/x/start", {"Content-Length": "0"})

# The daemon reads the second request on the kept-alive connection and closes it
# without a byte of answer. id -> (later connections answer?, proxy env, second
# request, the status the client gets, how often the daemon sees that request)
DROPPED = {
    # retried once, on a fresh connection: the client gets that answer
    "get-retried-on-fresh-connection": (True, {}, VERSION, 200, 2),
    # the retry's fresh connection drops it too: 502, no third try
    "get-retried-once-only": (False, {}, VERSION, 502, 2),
    # the daemon may have acted on a POST: 502, never sent again
    "post-not-retried": (True, {"ALLOW_START": "1"}, POST_START, 502, 1),
}


@pytest.mark.parametrize("case", list(DROPPED))
@via_param
def test_request_dropped_on_kept_alive_connection(fake_upstream, proxy_factory, via, case):
    reuse_answers, env, second, status, times = DROPPED[case]
    up = fake_upstream(close_without_answering_second(reuse_answers))
    p = proxy_factory(env, upstream=up.path)
    s = p.connect(via, timeout=10)
    r = SockReader(s)
    s.sendall(PING)
    assert read_or_fail(r, "GET /_ping", p).status == 200
    s.sendall(second)
    res = read_or_fail(r, second.split(b"\r\n", 1)[0].decode(), p)
    assert res.status == status, (res, res.body)
    s.close()
    target = second.split(b" ")[1].decode()
    up.wait_for(lambda u: len([q for q in u.requests if q.target == target]) >= times, 5)
    seen = [q for q in up.requests if q.target == target]
    assert len(seen) == times, f"{target} reached the daemon {len(seen)} time(s), {times} expected: {seen}"
    if times == 2:
        assert seen[0].conn_index != seen[1].conn_index, f"retried on the same connection: {seen}"
    if status == 200:
        assert json.loads(res.body)["ApiVersion"] == "1.41", res.body


@via_param
def test_request_forwarded_verbatim(fake_upstream, proxy_factory, via):
    """Allowed requests reach the daemon byte for byte: header order, case, spacing,
    query string and a chunked body untouched."""
    up = fake_upstream(serve())
    # (a build: container create bodies are judged, and read whole, since issue 11)
    p = proxy_factory({"BUILD": "1", "POST": "1"}, upstream=up.path)
    raw = (b"POST /v1.41/build?t=web-1&platform=linux%2Famd64 HTTP/1.1\r\n"
           b"Host: api.moby.localhost\r\nUser-Agent: Docker-Client/28.2.2 (linux)\r\n"
           b"content-type: application/json\r\nX-Custom:   spaced  \r\nTransfer-Encoding: chunked\r\n\r\n"
           b"4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n")
    s = p.connect(via, timeout=10)
    s.sendall(raw)
    res = read_response(SockReader(s))
    assert res.status == 200
    s.close()
    assert up.wait_requests(1)
    head_end = raw.index(b"\r\n\r\n") + 4
    assert up.requests[0].head == raw[:head_end]
    assert up.requests[0].body == b'{"a":1}'


@via_param
def test_keepalive_reuses_upstream_connection(fake_upstream, proxy_factory, via):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path)
    s = p.connect(via, timeout=10)
    r = SockReader(s)
    for _ in range(3):
        s.sendall(PING)
        assert read_response(r).body == b"OK"
    s.sendall(PING + VERSION)  # pipelined
    assert read_response(r).body == b"OK"
    assert read_response(r).status == 200
    s.close()
    assert [q.path for q in up.requests] == ["/_ping"] * 4 + ["/v1.41/version"]
    used = {q.conn_index for q in up.requests}
    assert len(used) == 1, f"requests of one client connection went over {len(used)} upstream connections"

"""TLS on the TCP listeners, against the fake upstream: keep-alive, pipelining, a
stream and tunnels (101 and Docker's raw-stream hijack, with the client's
close_notify as its half-close) over TLS 1.2, backpressure both ways, the idle
and head timeouts; what is refused at the handshake (no client certificate,
another CA, expired, not yet valid, a server certificate, TLS 1.1, TLS 1.3 only,
suites without ECDHE or AEAD) and plain HTTP on the TLS port (a clear-text 400),
none of which reaches the daemon; configuration errors (exit 2, one line naming
the variable); client certificates choosing profiles (NAME__TLS_CLIENT), look-alike
names that must not; the subject in the access log; SIGHUP reloading the files
(as SOCKET_PROXY_UID); the refusals counter; `healthcheck` over TLS.

Certificates: tests/tlscerts.py (the tls_certs fixture); the client side:
tests/fake/tlsclient.py."""
import copy
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import free_port, wait_for
from fake.rawhttp import PING, PING_CLOSE, SockReader, json_message, read_response, read_until_close, \
    reader_from_bytes, request_bytes, status_of, wait_closed
from fake.tlsclient import TLSConn, client_context, peer_fingerprint, tls_conn, tls_connect
from fake.upstream import default_answer, response, serve

TLS12 = (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
TLS13 = (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3)
TLS11 = (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_1)
AEAD_ECDHE = re.compile(r"^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$")


def tls_proxy(proxy_factory, up, certs, env=None, server=None, ca="ca", tls_dir=None):
    """A proxy whose TCP listener speaks TLS with the files of a fresh directory in
    Docker's layout (certs.proxy_dir); p.tls_dir is that directory."""
    d = tls_dir or certs.proxy_dir(server, ca)
    p = proxy_factory({"SOCKET_PROXY_TLS_DIR": d, **(env or {})}, upstream=up.path)
    p.tls_dir = d
    return p


def tls_view(p, ctx, port=None):
    """p as a TLS client with ctx sees it on its TCP listener (or `port`):
    .connect(), and so .http() and .request(), speak TLS."""
    v = copy.copy(p)
    addr = ("127.0.0.1", port) if port else p.tcp
    v.connect = lambda via="tcp", timeout=5: tls_connect(addr, ctx, timeout)
    v.tcp = addr
    return v


def ping_ok(v):
    status, _, body = v.http("GET", "/_ping")
    assert (status, body) == (200, b"OK"), (status, body)


def settle(p, up):
    assert p.wait_idle(up.settled), f"the proxy (or the upstream) did not settle\n{p.stderr_text()[-2000:]}"


# -- keep-alive and pipelining ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_keepalive_and_pipelining(fake_upstream, proxy_factory, tls_certs, kind):
    """Three requests one after the other, then three in one write, on one TLS
    connection: every answer in order, and the session is TLS 1.2 with ECDHE and
    an AEAD suite."""
    up = fake_upstream(serve())
    server = tls_certs.server if kind == "ec" else tls_certs.server_rsa
    p = tls_proxy(proxy_factory, up, tls_certs, server=server)
    s = tls_connect(p.tcp, client_context(tls_certs, "traefik" if kind == "ec" else "rsa"))
    assert s.version() == "TLSv1.2", s.version()
    assert AEAD_ECDHE.match(s.cipher()[0]), s.cipher()
    assert peer_fingerprint(s) == server.fingerprint
    r = SockReader(s)
    for target in ("/_ping", "/v1.41/version", "/v1.41/_ping"):
        s.sendall(request_bytes("GET", target))
        res = read_response(r)
        assert res.status == 200, res
    s.sendall(request_bytes("GET", "/_ping") + request_bytes("GET", "/v1.41/version") +
              request_bytes("HEAD", "/_ping") + PING_CLOSE)
    bodies = [read_response(r, method=m).body for m in ("GET", "GET", "HEAD", "GET")]
    assert bodies[0] == b"OK" and json.loads(bodies[1])["Version"] == "fake" and bodies[2] == b"" and \
        bodies[3] == b"OK", bodies
    assert read_response(r) is None, "the connection stayed open after Connection: close"
    s.close()
    assert [q.target for q in up.requests] == ["/_ping", "/v1.41/version", "/v1.41/_ping", "/_ping",
                                               "/v1.41/version", "/_ping", "/_ping"]


def test_unix_socket_stays_clear_text(fake_upstream, proxy_factory, tls_certs):
    """TLS is for TCP listeners: the Unix socket serves plain HTTP as before."""
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs)
    ping_ok(p)  # Proxy.http: the Unix socket
    ping_ok(tls_view(p, client_context(tls_certs)))


# -- protocol versions and suites ----------------------------------------------------------------------

# (server key, client versions, client cipher list (TLS 1.2 suites), handshake succeeds)
SUITES = {
    "ecdsa-aes128-gcm": ("ec", TLS12, "ECDHE-ECDSA-AES128-GCM-SHA256", True),
    "ecdsa-aes256-gcm": ("ec", TLS12, "ECDHE-ECDSA-AES256-GCM-SHA384", True),
    "ecdsa-chacha20": ("ec", TLS12, "ECDHE-ECDSA-CHACHA20-POLY1305", True),
    "rsa-aes128-gcm": ("rsa", TLS12, "ECDHE-RSA-AES128-GCM-SHA256", True),
    "rsa-chacha20": ("rsa", TLS12, "ECDHE-RSA-CHACHA20-POLY1305", True),
    "ecdsa-cbc-only": ("ec", TLS12, "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA", False),
    "rsa-cbc-only": ("rsa", TLS12, "ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA", False),
    "rsa-key-exchange": ("rsa", TLS12, "AES128-GCM-SHA256:AES256-GCM-SHA384", False),
    "dhe": ("rsa", TLS12, "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-CHACHA20-POLY1305", False),
}


@pytest.mark.parametrize("case", list(SUITES))
def test_versions_and_suites(fake_upstream, proxy_factory, tls_certs, case):
    kind, versions, ciphers, ok = SUITES[case]
    up = fake_upstream(serve())
    server = tls_certs.server if kind == "ec" else tls_certs.server_rsa
    p = tls_proxy(proxy_factory, up, tls_certs, server=server)
    ctx = client_context(tls_certs, "traefik", versions=versions, ciphers=ciphers)
    if ok:
        s = tls_connect(p.tcp, ctx)
        assert s.cipher()[0] == ciphers and s.version() == "TLSv1.2", s.cipher()
        s.sendall(PING_CLOSE)
        assert status_of(read_until_close(s, timeout=5)) == 200
        s.close()
    else:
        refused(p, up, ctx, tls_certs)


# -- refused at the handshake, or as plain HTTP ------------------------------------------------------------

def refused(p, up, ctx, certs):
    """ctx gets no answer and nothing of it reaches the daemon (refused_only), and
    good clients are still served."""
    refused_only(p, up, ctx)
    assert p.alive()
    ping_ok(tls_view(p, client_context(certs)))


def refused_only(p, up, ctx):
    """ctx's handshake fails (or, if it seems to complete, a request gets no answer
    and the session ends); no request reaches the daemon meanwhile."""
    before = len(up.requests)
    raw = socket.create_connection(p.tcp, timeout=5)
    t = TLSConn(raw, ctx)
    out = b""
    try:
        t.handshake()
        # TLS 1.2: the server's verdict on the client's certificate comes after the
        # client's second flight, which the client's own handshake does not wait for.
        t.sendall(PING)
        out = t.read_until_close(timeout=5)
    except (ssl.SSLError, OSError):
        pass  # refused during the handshake, or the session ended at the request
    finally:
        raw.close()
    assert status_of(out) is None, f"a refused client got an answer: {out[:300]!r}"
    settle(p, up)
    assert up.requests[before:] == [], f"a refused client's request reached the daemon: {up.requests[before:]}"


REFUSED = {
    # client certificate (a name in tlscerts.CLIENTS, or None), client versions, cipher list
    "no-client-cert": (None, None, None),
    "other-ca": ("stranger", None, None),
    "expired": ("expired", None, None),
    "not-yet-valid": ("future", None, None),
    "server-certificate": ("@server", None, None),  # the CA's, but for serverAuth only
    "tls1.1": ("traefik", TLS11, "DEFAULT@SECLEVEL=0"),
    "tls1.3-only": ("traefik", TLS13, None),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_at_handshake(fake_upstream, proxy_factory, tls_certs, case):
    client, versions, ciphers = REFUSED[case]
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs)
    kw = {"versions": versions} if versions else {}
    client = tls_certs.server if client == "@server" else client
    refused(p, up, client_context(tls_certs, client, ciphers=ciphers, **kw), tls_certs)


def test_tls11_is_really_offered(tls_certs):
    """The premise of the tls1.1 row: this client does speak TLS 1.1 when the server
    allows it (here an OpenSSL server), so the proxy's refusal is the version's."""
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.minimum_version = sctx.maximum_version = ssl.TLSVersion.TLSv1_1
    sctx.set_ciphers("DEFAULT@SECLEVEL=0")
    sctx.load_cert_chain(tls_certs.server_rsa.cert, tls_certs.server_rsa.key)
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    seen = []

    def serve_one():
        c, _ = ls.accept()
        try:
            with sctx.wrap_socket(c, server_side=True) as t:
                seen.append(t.version())
        except (ssl.SSLError, OSError) as e:
            seen.append(repr(e))

    th = threading.Thread(target=serve_one, daemon=True)
    th.start()
    try:
        with tls_connect(ls.getsockname(), client_context(tls_certs, None, versions=TLS11,
                                                          ciphers="DEFAULT@SECLEVEL=0")) as s:
            assert s.version() == "TLSv1.1"
    finally:
        th.join(10)
        ls.close()
    assert seen == ["TLSv1.1"], seen


@pytest.mark.parametrize("raw", [PING, PING + PING_CLOSE, b"GET /containers/json HTTP/1.1\r\nHost: docker\r\n\r\n",
                                 b"HEAD /_ping HTTP/1.0\r\n\r\n"],
                         ids=["ping", "pipelined", "denied-path", "http1.0-head"])
def test_plain_http_on_tls_port_gets_clear_400(fake_upstream, proxy_factory, tls_certs, raw):
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs, env={"CONTAINERS": "1"})
    s = socket.create_connection(p.tcp, timeout=5)
    s.sendall(raw)
    out = read_until_close(s, timeout=5)  # the proxy closes after its answer
    s.close()
    assert out.startswith(b"HTTP/1.1 400 "), out[:300]
    res = read_response(reader_from_bytes(out), method="HEAD" if raw.startswith(b"HEAD") else "GET")
    if not raw.startswith(b"HEAD"):
        assert "TLS" in json_message(res), res.body
        assert b"\r\n\r\n" not in out[len(res.head) + len(res.body):], "more than one answer"
    assert "close" in res.headers.get("connection", "").lower(), res.head
    settle(p, up)
    assert up.requests == [], up.requests
    ping_ok(tls_view(p, client_context(tls_certs)))


def test_silent_and_garbage_clients_do_not_disturb(fake_upstream, proxy_factory, tls_certs):
    """A client that connects and says nothing, one that sends half a ClientHello,
    one that sends random bytes: none reaches the daemon, others are served meanwhile."""
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs)
    silent = socket.create_connection(p.tcp, timeout=5)
    half = socket.create_connection(p.tcp, timeout=5)
    half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 20)
    junk = socket.create_connection(p.tcp, timeout=5)
    junk.sendall(b"\x16\x03\x03\x00\x05" + os.urandom(5) + b"\x17\x03\x03\xff\xff" + os.urandom(200))
    assert wait_closed(junk, 5), "a session of garbage records was not ended"
    ping_ok(tls_view(p, client_context(tls_certs)))
    settle(p, up)
    assert [r.target for r in up.requests] == ["/_ping"], up.requests
    for s in (silent, half, junk):
        s.close()
    ping_ok(tls_view(p, client_context(tls_certs)))


# -- streams and tunnels ----------------------------------------------------------------------------

def events_handler(release):
    """Every connection: /events streams one chunk, waits for release, sends a
    second; other requests are answered (keep-alive)."""
    def handler(conn):
        while True:
            req = conn.read_request()
            if req is None:
                return
            if req.path.endswith("/events"):
                conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"6\r\nfirst\n\r\n")
                release.wait(30)
                conn.send(b"7\r\nsecond\n\r\n")
                conn.wait_closed()
                return
            conn.send(default_answer(req))
    return handler


def test_streamed_answer(fake_upstream, proxy_factory, tls_certs):
    """/events over TLS: each chunk reaches the client as the daemon sends it, the
    stream stays open in between, and the client leaving ends it at the daemon."""
    release = threading.Event()
    up = fake_upstream(events_handler(release))
    p = tls_proxy(proxy_factory, up, tls_certs)
    s = tls_connect(p.tcp, client_context(tls_certs), timeout=10)
    s.sendall(request_bytes("GET", "/v1.41/events"))
    r = SockReader(s)
    assert r.read_head().startswith(b"HTTP/1.1 200")
    assert r.read_line() == b"6" and r.read_exact(8) == b"first\n\r\n"
    release.set()
    assert r.read_line() == b"7" and r.read_exact(9) == b"second\n\r\n"
    s.close()
    assert up.connections[0].closed_by_peer.wait(10), "the daemon's stream stayed open after the TLS client left"
    ping_ok(tls_view(p, client_context(tls_certs)))


def echo_until_eof(conn, answer_head):
    """The daemon's side of a hijacked connection: echo (upper-cased) until the
    client's EOF, then 256 KiB more and BYE, then close."""
    conn.send(answer_head)
    while True:
        d = conn.sock.recv(65536)
        if not d:
            break
        conn.send(d.upper())
    conn.send(b"z" * (256 << 10) + b"BYE")
    conn.close()


TUNNELS = {
    # (request head's extra fields, the daemon's answer head)
    "upgrade-101": ({"Upgrade": "tcp", "Connection": "Upgrade"},
                    b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                    b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"),
    "raw-stream-200": ({}, b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"),
}


@pytest.mark.parametrize("kind", list(TUNNELS))
def test_tunnel_with_close_notify_half_close(fake_upstream, proxy_factory, tls_certs, kind):
    """attach/exec over TLS: both ways through the tunnel; the client's close_notify
    (its stdin's end, as Go's CloseWrite sends it) reaches the daemon as EOF, and
    what the daemon sends after it still reaches the client, then the end."""
    fields, head = TUNNELS[kind]
    up = fake_upstream(lambda conn: conn.read_request() and echo_until_eof(conn, head))
    p = tls_proxy(proxy_factory, up, tls_certs, env={"CONTAINERS": "1", "POST": "1"})
    t = tls_conn(p.tcp, client_context(tls_certs), timeout=10)
    t.sendall(request_bytes("POST", "/v1.41/containers/x/attach?stream=1&stdin=1&stdout=1",
                            dict(fields, **{"Content-Length": "0"})))
    r = SockReader(t)
    got = r.read_head()
    assert got == head, got
    t.sendall(b"hello ")
    assert r.read_exact(6) == b"HELLO "
    t.sendall(b"world")
    assert r.read_exact(5) == b"WORLD"
    t.close_write()
    rest = r.buf + t.read_until_close(timeout=10)
    assert rest == b"z" * (256 << 10) + b"BYE", (len(rest), rest[-20:])
    assert t.closed_by_peer == "close_notify", f"the proxy ended the session by {t.closed_by_peer}"
    t.close()
    settle(p, up)
    assert len(up.requests) == 1 and not up.errors, (up.requests, up.errors)


def test_request_body_then_close_notify(fake_upstream, proxy_factory, tls_certs):
    """A plain request whose client sends close_notify right after it (a client
    that writes its request and closes its write side): the answer still comes."""
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs)
    t = tls_conn(p.tcp, client_context(tls_certs), timeout=10)
    t.sendall(request_bytes("GET", "/v1.41/version"))
    t.close_write()
    out = t.read_until_close(timeout=10)
    assert status_of(out) == 200 and b'"Version":"fake"' in out, out[:300]
    assert t.closed_by_peer == "close_notify", f"the proxy ended the session by {t.closed_by_peer}"


def test_connection_close_ends_with_close_notify(fake_upstream, proxy_factory, tls_certs):
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs)
    t = tls_conn(p.tcp, client_context(tls_certs), timeout=10)
    t.sendall(PING + PING_CLOSE)
    out = t.read_until_close(timeout=10)
    assert out.count(b"HTTP/1.1 200") == 2, out
    assert t.closed_by_peer == "close_notify", f"the proxy ended the session by {t.closed_by_peer}"


def test_idle_tls_connection_is_closed(fake_upstream, proxy_factory, tls_certs):
    """SOCKET_PROXY_IDLE_TIMEOUT ends an idle kept-alive TLS connection too."""
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs, env={"SOCKET_PROXY_IDLE_TIMEOUT": "1s"})
    t = tls_conn(p.tcp, client_context(tls_certs), timeout=10)
    t0 = time.monotonic()  # the idle timer starts once the answer is out: a slow machine only adds
    t.sendall(PING)
    out = t.read_until_close(timeout=15)
    assert status_of(out) == 200 and out.endswith(b"OK"), out
    assert time.monotonic() - t0 >= 1 - 0.05


def test_handshake_is_bounded_by_the_head_timeout(fake_upstream, proxy_factory, tls_certs):
    """A client that says nothing, or half a ClientHello, is closed once
    SOCKET_PROXY_HEAD_TIMEOUT has passed (its access line: the first of a burst from
    one address, then a summary, so not checked here)."""
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs, env={"SOCKET_PROXY_HEAD_TIMEOUT": "1s"})
    t0 = time.monotonic()  # measured from before the connections: a slow machine only adds
    silent = socket.create_connection(p.tcp, timeout=5)
    half = socket.create_connection(p.tcp, timeout=5)
    half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 20)
    for s in (silent, half):
        assert wait_closed(s, 10), "a stalled handshake was not ended within 10 s of a 1 s head timeout"
        s.close()
    assert time.monotonic() - t0 >= 1 - 0.05
    settle(p, up)
    assert up.requests == []
    ping_ok(tls_view(p, client_context(tls_certs)))


BIG = 64 << 20
BLOCK = bytes(range(256)) * 4096  # 1 MiB
PLAIN_GROWTH_KIB = 16 * 1024
ASAN_GROWTH_KIB = 32 * 1024


def grew_by(p, base):
    return p.rss_kib() - base


def test_large_answer_to_a_client_that_does_not_read(fake_upstream, proxy_factory, tls_certs):
    """64 MiB of answer while the TLS client reads nothing: the proxy stops reading
    the daemon instead of encrypting it all into memory; then every byte arrives."""
    def handler(conn):
        if conn.read_request() is None:
            return
        conn.send(response(200, b"", headers={"Content-Length": str(BIG)}, content_type="application/x-tar"))
        for _ in range(BIG // len(BLOCK)):
            conn.send(BLOCK)
        conn.wait_closed()

    up = fake_upstream(handler)
    p = tls_proxy(proxy_factory, up, tls_certs, env={"CONTAINERS": "1", "ALLOW_EXPORT": "1"})
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    raw.settimeout(30)
    raw.connect(p.tcp)
    s = client_context(tls_certs).wrap_socket(raw, server_hostname="127.0.0.1")
    base = p.rss_kib()
    s.sendall(request_bytes("GET", "/v1.41/containers/x/export"))
    # stalled: the proxy sleeps, and the daemon's side still holds bytes it has not read
    assert up.wait_requests(1)
    conn = up.connections[up.requests[0].conn_index]
    assert p.wait_idle(lambda: conn.unread_by_proxy() > 0, timeout=20), (
        f"the proxy kept reading the daemon for a client that reads nothing (RSS +{grew_by(p, base)} KiB)")
    limit = ASAN_GROWTH_KIB if p.bin.asan else PLAIN_GROWTH_KIB
    assert grew_by(p, base) < limit, f"RSS grew by {grew_by(p, base)} KiB while the client read nothing"
    r = SockReader(s)
    res_head = r.read_head()
    assert res_head.startswith(b"HTTP/1.1 200"), res_head
    got = len(r.buf)
    r.buf = b""
    while got < BIG:
        d = s.recv(1 << 20)
        assert d, f"the answer ended after {got} of {BIG} bytes"
        got += len(d)
    assert got == BIG
    s.close()


def test_large_upload_to_a_daemon_that_does_not_read(fake_upstream, proxy_factory, tls_certs):
    """64 MiB of request body over TLS while the daemon reads nothing: the proxy
    stops reading the client; then every byte arrives, in order."""
    release = threading.Event()
    seen = []

    def handler(conn):
        req = conn.read_request(read_body=False)
        if req is None:
            return
        release.wait(60)
        n, ok = 0, True
        while n < BIG:
            d = conn.reader.read_exact(min(len(BLOCK), BIG - n))
            ok = ok and d == BLOCK[:len(d)]
            n += len(d)
        seen.append((n, ok))
        conn.send(response(200, b""))
        conn.wait_closed()

    up = fake_upstream(handler)
    p = tls_proxy(proxy_factory, up, tls_certs, env={"CONTAINERS": "1", "ALLOW_ARCHIVE": "1", "POST": "1"})
    s = tls_connect(p.tcp, client_context(tls_certs), timeout=60)
    base = p.rss_kib()
    sent = []

    def upload():
        try:
            s.sendall(request_bytes("PUT", "/v1.41/containers/x/archive?path=/tmp",
                                    {"Content-Length": str(BIG), "Content-Type": "application/x-tar"}))
            for _ in range(BIG // len(BLOCK)):
                s.sendall(BLOCK)
            sent.append(True)
        except OSError as e:
            sent.append(e)

    th = threading.Thread(target=upload, daemon=True)
    th.start()
    assert up.wait_requests(1)
    assert p.wait_idle(lambda: not sent and th.is_alive(), timeout=20), (
        f"the upload was taken in whole while the daemon read nothing (RSS +{grew_by(p, base)} KiB)")
    limit = ASAN_GROWTH_KIB if p.bin.asan else PLAIN_GROWTH_KIB
    assert grew_by(p, base) < limit, f"RSS grew by {grew_by(p, base)} KiB while the daemon read nothing"
    release.set()
    th.join(60)
    assert sent == [True], sent
    res = read_response(SockReader(s))
    assert res.status == 200, res
    assert seen == [(BIG, True)], seen
    s.close()


def test_shutdown_with_open_tls_connections(fake_upstream, proxy_factory, tls_certs):
    """SIGTERM with a TLS stream, an idle kept-alive TLS connection and a handshake
    under way: streams end at once, the proxy exits 0 within the grace (and the
    ASan build has nothing to report)."""
    release = threading.Event()
    up = fake_upstream(events_handler(release))
    p = tls_proxy(proxy_factory, up, tls_certs, env={"SOCKET_PROXY_SHUTDOWN_GRACE": "2s"})
    stream = tls_connect(p.tcp, client_context(tls_certs), timeout=10)
    stream.sendall(request_bytes("GET", "/v1.41/events"))
    r = SockReader(stream)
    assert r.read_head().startswith(b"HTTP/1.1 200") and r.read_line() == b"6"
    idle = tls_connect(p.tcp, client_context(tls_certs), timeout=10)
    idle.sendall(PING)
    assert read_response(SockReader(idle)).status == 200
    half = socket.create_connection(p.tcp, timeout=5)
    half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    assert p.wait_idle()
    assert p.stop(timeout=15) == 0, p.stderr_text()[-2000:]
    for s in (stream, idle, half):
        assert wait_closed(s, 5)
        s.close()
    release.set()


def test_refusals_are_counted(fake_upstream, proxy_factory, tls_certs):
    """socket_proxy_refusals_total{kind="tls"} counts refused handshakes; the
    metrics listener itself stays clear text."""
    from test_metrics import answer, parse_exposition
    addr = ("127.0.0.1", free_port())
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs, env={"SOCKET_PROXY_METRICS": "%s:%d" % addr})
    assert wait_for(lambda: "metrics on tcp:" in p.stderr_text()), p.stderr_text()

    def tls_refusals():
        assert p.wait_idle()
        return int(parse_exposition(answer(addr, "GET", "/metrics").body.decode()).get(
            'socket_proxy_refusals_total{kind="tls"}', "0"))

    before = tls_refusals()
    for client in (None, "stranger", "expired"):
        refused_only(p, up, client_context(tls_certs, client))
    assert tls_refusals() == before + 3
    ping_ok(tls_view(p, client_context(tls_certs)))
    assert tls_refusals() == before + 3


# -- configuration ---------------------------------------------------------------------------------------

def run_proxy(proxy_bin, env, timeout=10):
    """The server started with env (no daemon needed: start-up must stop first)."""
    full = {"PATH": "/usr/bin:/bin", "SOCKET_PROXY_LISTEN": f"127.0.0.1:{free_port()}", "SOCKET_PROXY_VOLUME": "",
            "SOCKET_PROXY_UID": "0", "SOCKET_PROXY_GID": "0", "SOCKET_PATH": "/nonexistent.sock"}
    full.update(proxy_bin.env)
    full.update(env)
    return subprocess.run([proxy_bin.path], env=full, capture_output=True, text=True, timeout=timeout)


def one_line_error(r):
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert len(lines) == 1, r.stderr
    return lines[0]


def garbage(path, data=b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"):
    with open(path, "wb") as f:
        f.write(data)


def config_dir(certs, tmp_path, case):
    """A directory in Docker's layout broken as `case` says; returns (env, the
    variables the error line may name)."""
    d = certs.proxy_dir()
    cert, key, ca = (os.path.join(d, n) for n in ("server-cert.pem", "server-key.pem", "ca.pem"))
    DIR, CERT, KEY, CA = ("SOCKET_PROXY_TLS_DIR", "SOCKET_PROXY_TLS_CERT", "SOCKET_PROXY_TLS_KEY",
                          "SOCKET_PROXY_TLS_CA")
    env = {DIR: d}
    if case == "dir-missing":
        env = {DIR: str(tmp_path / "nowhere")}
        return env, (DIR,)
    if case == "dir-empty":
        empty = tmp_path / "empty"
        empty.mkdir()
        return {DIR: str(empty)}, (DIR, CERT)
    if case == "dir-without-key":
        os.unlink(key)
        return env, (DIR, KEY)
    if case == "dir-cert-garbage":
        garbage(cert)
        return env, (DIR, CERT)
    if case == "dir-cert-empty":
        garbage(cert, b"")
        return env, (DIR, CERT)
    if case == "dir-key-garbage":
        garbage(key, b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        return env, (DIR, KEY)
    if case == "dir-key-encrypted":  # as Docker's documented `openssl genrsa -aes256` makes them
        subprocess.run(["openssl", "pkey", "-in", certs.server.key, "-aes256", "-passout", "pass:secret", "-out", key],
                       check=True, capture_output=True)
        return env, (DIR, KEY)
    if case == "dir-key-not-matching":
        shutil.copy(certs.server2.key, key)
        return env, (DIR, KEY, CERT)
    if case == "dir-ca-garbage":
        garbage(ca)
        return env, (DIR, CA)
    if case == "cert-without-key":
        return {CERT: certs.server.cert}, (KEY, CERT)
    if case == "key-without-cert":
        return {KEY: certs.server.key}, (CERT, KEY)
    if case == "cert-missing":
        return {CERT: str(tmp_path / "none.pem"), KEY: certs.server.key}, (CERT,)
    if case == "cert-is-a-directory":
        return {CERT: str(tmp_path), KEY: certs.server.key}, (CERT,)
    if case == "key-not-matching":
        return {CERT: certs.server.cert, KEY: certs.server_rsa.key}, (KEY, CERT)
    if case == "key-is-a-cert":
        return {CERT: certs.server.cert, KEY: certs.server.cert}, (KEY,)
    if case == "ca-missing":
        return {CERT: certs.server.cert, KEY: certs.server.key, CA: str(tmp_path / "none.pem")}, (CA,)
    if case == "ca-garbage-over-dir":
        bad = tmp_path / "bad-ca.pem"
        garbage(bad)
        return {DIR: d, CA: str(bad)}, (CA,)
    if case == "tls-client-without-ca":
        return {DIR: certs.proxy_dir(ca=None), "SOCKET_PROXY_PROFILES": "traefik",
                "TRAEFIK__TLS_CLIENT": "traefik"}, ("TRAEFIK__TLS_CLIENT",)
    if case == "tls-client-without-tls":
        return {"SOCKET_PROXY_PROFILES": "traefik", "TRAEFIK__TLS_CLIENT": "traefik"}, ("TRAEFIK__TLS_CLIENT",)
    if case == "tls-client-twice":
        return {DIR: d, "SOCKET_PROXY_PROFILES": "traefik,dozzle", "TRAEFIK__TLS_CLIENT": "traefik,ops",
                "DOZZLE__TLS_CLIENT": "dozzle,ops"}, ("TRAEFIK__TLS_CLIENT", "DOZZLE__TLS_CLIENT")
    raise ValueError(case)


CONFIG_ERRORS = ["dir-missing", "dir-empty", "dir-without-key", "dir-cert-garbage", "dir-cert-empty",
                 "dir-key-garbage", "dir-key-encrypted", "dir-key-not-matching", "dir-ca-garbage",
                 "cert-without-key", "key-without-cert", "cert-missing", "cert-is-a-directory", "key-not-matching",
                 "key-is-a-cert", "ca-missing", "ca-garbage-over-dir", "tls-client-without-ca",
                 "tls-client-without-tls", "tls-client-twice"]


@pytest.mark.parametrize("case", CONFIG_ERRORS)
def test_config_error_exits_2_with_one_line(proxy_bin, tls_certs, tmp_path, case):
    env, names = config_dir(tls_certs, tmp_path, case)
    r = run_proxy(proxy_bin, env)
    line = one_line_error(r)
    assert any(n in line for n in names), f"the line names none of {names}: {line}"
    assert not any(m in r.stderr for m in ("AddressSanitizer", "LeakSanitizer", "runtime error:")), r.stderr


def test_files_one_by_one_override_the_dir(fake_upstream, proxy_factory, tls_certs, tmp_path):
    """SOCKET_PROXY_TLS_CERT/KEY/CA each win over the directory's file."""
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs, env={
        "SOCKET_PROXY_TLS_CERT": tls_certs.server2.cert, "SOCKET_PROXY_TLS_KEY": tls_certs.server2.key,
        "SOCKET_PROXY_TLS_CA": tls_certs.ca2.cert})
    # the server certificate is server2's (still issued by ca), clients must be ca2's
    s = tls_connect(p.tcp, client_context(tls_certs, "stranger"))
    assert peer_fingerprint(s) == tls_certs.server2.fingerprint
    s.sendall(PING_CLOSE)
    assert status_of(read_until_close(s, timeout=5)) == 200
    s.close()
    refused_only(p, up, client_context(tls_certs, "traefik"))


def test_files_one_by_one_without_dir(fake_upstream, proxy_factory, tls_certs):
    up = fake_upstream(serve())
    p = proxy_factory({"SOCKET_PROXY_TLS_CERT": tls_certs.server.cert, "SOCKET_PROXY_TLS_KEY": tls_certs.server.key,
                       "SOCKET_PROXY_TLS_CA": tls_certs.ca.cert}, upstream=up.path)
    ping_ok(tls_view(p, client_context(tls_certs, "portainer")))


def test_server_only_tls_without_ca(fake_upstream, proxy_factory, tls_certs):
    """No ca.pem: TLS without client certificates, and a start-up warning saying so."""
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs, ca=None)
    ping_ok(tls_view(p, client_context(tls_certs, None)))
    ping_ok(tls_view(p, client_context(tls_certs, "traefik")))  # a certificate offered anyway is no harm
    warnings = [x for x in p.stderr_text().splitlines() if " warning: " in x]
    assert any("TLS" in x or "certificate" in x for x in warnings), p.stderr_text()


def test_mtls_start_up_has_no_warning(fake_upstream, proxy_factory, tls_certs):
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs)
    ping_ok(tls_view(p, client_context(tls_certs)))
    warnings = [x for x in p.stderr_text().splitlines() if " warning: " in x and "Docker daemon" not in x]
    assert warnings == [], warnings


def test_port_with_tls(fake_upstream, proxy_factory, tls_certs):
    """PORT moves the TLS listener as it moves the clear one."""
    up = fake_upstream(serve())
    port = free_port()
    p = tls_proxy(proxy_factory, up, tls_certs, env={"SOCKET_PROXY_LISTEN": None, "PORT": str(port)})
    assert wait_for(lambda: f":{port}" in p.stderr_text()), p.stderr_text()
    ping_ok(tls_view(p, client_context(tls_certs), port=port))


def test_default_port_is_2376(fake_upstream, proxy_bin, tls_certs, tmp_path):
    """TLS on, neither PORT nor SOCKET_PROXY_LISTEN: [::]:2376. In a network namespace
    of its own (2376 may be taken on the host), with the health check run there."""
    up = fake_upstream(serve())
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SOCKET_PROXY_UID": "0", "SOCKET_PROXY_GID": "0",
           "SOCKET_PROXY_VOLUME": "", "SOCKET_PATH": up.path, "SOCKET_PROXY_TLS_DIR": tls_certs.proxy_dir(),
           **proxy_bin.env}
    log = tmp_path / "stderr.log"
    with open(log, "wb") as f:
        proc = subprocess.Popen(["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$0"',
                                 proxy_bin.path], env=env, stdin=subprocess.DEVNULL, stdout=f, stderr=f)
    try:
        assert wait_for(lambda: proc.poll() is not None or "listening on tcp" in log.read_text(), 10)
        text = log.read_text()
        assert proc.poll() is None, text
        assert re.search(r"listening on tcp:(\[::\]|0\.0\.0\.0):2376\b", text), text
        hc = subprocess.run(["nsenter", f"--net=/proc/{proc.pid}/ns/net", proxy_bin.path, "healthcheck", "--url",
                             "tcp://127.0.0.1:2376"],
                            env={"PATH": "/usr/bin:/bin", **checker_env(tls_certs, client="traefik"),
                                 **proxy_bin.env}, capture_output=True, text=True, timeout=20)
        assert hc.returncode == 0, hc.stderr
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0, log.read_text()
    assert not any(m in log.read_text() for m in ("AddressSanitizer", "LeakSanitizer", "runtime error:")), \
        log.read_text()


# -- client certificates choose profiles ----------------------------------------------------------------

# Each listener's rules grant one path, so what a client is allowed says whose rules it has.
PROFILE_PROBES = [("/info", "default"), ("/containers/json", "traefik"), ("/images/json", "portainer"),
                  ("/networks", "dozzle"), ("/volumes", "homepage")]

# (listener, client certificate, the rules it gets, or "refused": a 403 saying why as the
# answer to its first request, then close_notify)
PROFILE_ROWS = [
    ("default", "traefik", "traefik"),        # by CN
    ("default", "portainer", "portainer"),    # by CN (the subject has O= too)
    ("default", "email", "portainer"),        # by e-mail SAN
    ("default", "dns", "dozzle"),             # by DNS SAN
    ("default", "uri", "dozzle"),             # by URI SAN
    ("default", "nobody", "default"),         # no profile names it: the listener's rules
    ("default", "rsa", "default"),
    ("default", "wildcard", "default"),       # DNS:*.example.org is not agent.example.org
    ("default", "prefix", "default"),         # CN=traefik-evil, DNS:agent.example.org.evil
    ("default", "lookalike", "default"),      # O=CN=traefik, OU=traefik, email:traefik@...
    ("traefik", "traefik", "traefik"),
    ("traefik", "portainer", "portainer"),    # a named client gets its rules on any TLS listener
    ("traefik", "nobody", "refused"),         # the listener of a TLS_CLIENT profile admits only named clients
    ("traefik", "dns", "dozzle"),
    ("traefik", "lookalike", "refused"),
    ("traefik", "wildcard", "refused"),
    ("default", "both", "refused"),           # CN=traefik and DNS:agent.example.org: two profiles, neither
    ("traefik", "both", "refused"),
    ("homepage", "nobody", "homepage"),       # homepage names no clients: its listener's rules
    ("homepage", "email", "portainer"),
]


def profiles_proxy(proxy_factory, up, certs, extra=None):
    ports = {"default": free_port(), "traefik": free_port(), "homepage": free_port()}
    env = {
        "SOCKET_PROXY_LISTEN": f"127.0.0.1:{ports['default']}",
        "SOCKET_PROXY_PROFILES": "traefik,portainer,dozzle,homepage",
        "INFO": "1",
        "TRAEFIK__CONTAINERS": "1", "TRAEFIK__TLS_CLIENT": "traefik",
        "TRAEFIK__SOCKET_PROXY_LISTEN": f"127.0.0.1:{ports['traefik']}",
        "PORTAINER__IMAGES": "1", "PORTAINER__TLS_CLIENT": "portainer,ops@example.org",
        "DOZZLE__NETWORKS": "1", "DOZZLE__TLS_CLIENT": "agent.example.org, spiffe://example.org/dozzle",
        "HOMEPAGE__VOLUMES": "1", "HOMEPAGE__SOCKET_PROXY_LISTEN": f"127.0.0.1:{ports['homepage']}",
        **(extra or {}),
    }
    p = tls_proxy(proxy_factory, up, certs, env=env)
    for port in ports.values():
        assert wait_for(lambda: _accepts(port)), f"nothing listens on {port}\n{p.stderr_text()}"
    return p, ports


def _accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def whose_rules(s):
    """The profiles whose probe path s may GET (one keep-alive connection); None
    when the connection ends without an answer."""
    r = SockReader(s)
    allowed = []
    for path, name in PROFILE_PROBES:
        try:
            s.sendall(request_bytes("GET", path))
            res = read_response(r)
        except (ssl.SSLError, OSError):
            res = None
        if res is None:
            return None
        if res.status == 200:
            allowed.append(name)
        else:
            assert res.status == 403, res
    return allowed


def rules_at(port, ctx):
    """whose_rules() of a new TLS connection to port; None when it is refused."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        return whose_rules(TLSConn(raw, ctx).handshake())
    except (ssl.SSLError, OSError):
        return None
    finally:
        raw.close()


def refused_after_handshake(port, ctx):
    """A new TLS connection whose handshake completes but whose first request (GET
    /_ping, granted everywhere) gets a 403 saying why, then close_notify: that 403's
    message. Fails otherwise."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        t = TLSConn(raw, ctx).handshake()
        t.sendall(PING)
        out = t.read_until_close(timeout=5)
    finally:
        raw.close()
    assert status_of(out) == 403, f"expected the proxy's 403 and the end, got {out[:300]!r}"
    res = read_response(reader_from_bytes(out))
    assert out == res.head + res.body, f"more than one answer: {out!r}"
    assert t.closed_by_peer == "close_notify", f"the proxy ended the session by {t.closed_by_peer}"
    return json_message(res)


def check_profile_row(p, up, port, ctx, client, expect):
    if expect == "refused":
        msg = refused_after_handshake(port, ctx)
        assert "certificate" in msg, msg
        settle(p, up)
        assert up.requests == [], up.requests
        return msg
    got = rules_at(port, ctx)
    assert got == [expect], f"{client}'s certificate got the rules of {got}"
    assert wait_for(lambda: re.search(rf"\[{expect}\] \"GET /info\" (allow|deny)", p.stderr_text())), (
        f"no access line naming [{expect}]\n{p.stderr_text()[-2000:]}")


@pytest.mark.parametrize("listener,client,expect", PROFILE_ROWS,
                         ids=[f"{a}-listener-{b}-cert" for a, b, _ in PROFILE_ROWS])
def test_client_certificate_chooses_profile(fake_upstream, proxy_factory, tls_certs, listener, client, expect):
    up = fake_upstream(serve())
    p, ports = profiles_proxy(proxy_factory, up, tls_certs)
    msg = check_profile_row(p, up, ports[listener], client_context(tls_certs, client), client, expect)
    if client == "both":
        assert "TRAEFIK__TLS_CLIENT" in msg and "DOZZLE__TLS_CLIENT" in msg, msg


DEFAULT_NAMES_ROWS = [("nobody", "default"), ("traefik", "traefik"), ("email", "portainer"), ("rsa", "refused")]


@pytest.mark.parametrize("client,expect", DEFAULT_NAMES_ROWS, ids=[c for c, _ in DEFAULT_NAMES_ROWS])
def test_default_listener_names_its_clients(fake_upstream, proxy_factory, tls_certs, client, expect):
    """SOCKET_PROXY_TLS_CLIENT: the default listener lets in its own names (default
    rules) and the profiles' names (their rules), no other certificate."""
    up = fake_upstream(serve())
    p, ports = profiles_proxy(proxy_factory, up, tls_certs, {"SOCKET_PROXY_TLS_CLIENT": "nobody"})
    check_profile_row(p, up, ports["default"], client_context(tls_certs, client), client, expect)


@pytest.mark.parametrize("allow_from,admitted", [("10.9.9.9", False), ("127.0.0.0/8", True)])
def test_chosen_profile_allow_from_applies(fake_upstream, proxy_factory, tls_certs, allow_from, admitted):
    """NAME__ALLOW_FROM of the profile a certificate chose applies on top of the
    listener's admission."""
    up = fake_upstream(serve())
    p, ports = profiles_proxy(proxy_factory, up, tls_certs, {"TRAEFIK__ALLOW_FROM": allow_from})
    ctx = client_context(tls_certs, "traefik")
    if admitted:
        assert rules_at(ports["default"], ctx) == ["traefik"]
        return
    assert "TRAEFIK__ALLOW_FROM" in refused_after_handshake(ports["default"], ctx)
    settle(p, up)
    assert up.requests == [], up.requests


def test_two_certificates_two_profiles_one_port(fake_upstream, proxy_factory, tls_certs):
    """Two clients at once on the same port, each with its own rules, side by side
    on kept-alive connections; the access log names each one's profile."""
    up = fake_upstream(serve())
    p, ports = profiles_proxy(proxy_factory, up, tls_certs)
    a = tls_connect(("127.0.0.1", ports["default"]), client_context(tls_certs, "traefik"))
    b = tls_connect(("127.0.0.1", ports["default"]), client_context(tls_certs, "portainer"))
    ra, rb = SockReader(a), SockReader(b)
    for _ in range(2):
        for s, r, ok, no in ((a, ra, "/containers/json", "/images/json"), (b, rb, "/images/json", "/containers/json")):
            s.sendall(request_bytes("GET", ok))
            assert read_response(r).status == 200
            s.sendall(request_bytes("GET", no))
            res = read_response(r)
            assert res.status == 403, res
    assert "TRAEFIK__IMAGES=1" in json_message(res) or "PORTAINER__CONTAINERS=1" in json_message(res), res.body
    a.close()
    b.close()
    assert wait_for(lambda: len(re.findall(r"\[(traefik|portainer)\] \"GET", p.stderr_text())) >= 8), p.stderr_text()
    text = p.stderr_text()
    assert re.search(r"\[traefik\] \"GET /containers/json\" allow \(TRAEFIK__CONTAINERS=1\) 200", text), text
    assert re.search(r"\[portainer\] \"GET /containers/json\" deny \(PORTAINER__CONTAINERS=1\) 403", text), text


# -- the access log ------------------------------------------------------------------------------------

def access_lines(p):
    return [x for x in p.stderr_text().splitlines() if re.match(r"^\S+Z (uid=\d+ pid=\d+|\S+:\d+) ", x)]


@pytest.mark.parametrize("client,subject", [("traefik", "CN=traefik"), ("portainer", "CN=portainer")])
def test_access_log_carries_the_subject(fake_upstream, proxy_factory, tls_certs, client, subject):
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs)
    ping_ok(tls_view(p, client_context(tls_certs, client)))
    assert wait_for(lambda: [x for x in access_lines(p) if "/_ping" in x]), p.stderr_text()
    line = [x for x in access_lines(p) if "/_ping" in x][0]
    assert line.startswith(line.split()[0] + " 127.0.0.1:"), line
    assert 0 < line.find(subject) < line.index('"GET /_ping"'), f"no {subject} before the request in: {line}"
    # a Unix-socket client's line has no subject
    ping_ok(p)
    assert wait_for(lambda: [x for x in access_lines(p) if "uid=" in x]), p.stderr_text()
    assert "CN=" not in [x for x in access_lines(p) if "uid=" in x][0]


# subject as given to openssl's -subj (\\ escapes), what its CN may read back as
ODD_SUBJECTS = {
    "quote-backslash": ('/CN=q"uote\\\\back', ('q"uote\\back', 'q\\"uote\\\\back')),  # as is, or RFC 4514's
    "fake-fields": ('/CN=x" [traefik] "GET \\/containers\\/json" allow (', None),
    "utf8": ("/CN=caf\u00e9-\u00fcber", None),
    "long": ("".join(f"/OU={c * 60}" for c in "abcdefgh") + "/CN=long", None),
}


@pytest.mark.parametrize("case", list(ODD_SUBJECTS))
def test_access_line_with_an_odd_subject_stays_unambiguous(fake_upstream, proxy_factory, tls_certs, case):
    """A subject is the CA's to choose, not the proxy's: quotes, backslashes,
    bytes outside ASCII and a subject longer than the line's room for it are
    escaped or cut, and the request field still reads back exactly."""
    from test_access_log import unescape_quoted
    subject, cn = ODD_SUBJECTS[case]
    cert = tls_certs.ca.issue(f"odd-{case}", subject)
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs)
    ping_ok(tls_view(p, client_context(tls_certs, cert)))
    assert p.wait_idle(lambda: [x for x in access_lines(p) if "_ping" in x]), p.stderr_text()
    line = [x for x in access_lines(p) if "_ping" in x][0].encode()
    assert all(0x20 <= c <= 0x7e for c in line), line
    first, rest = unescape_quoted(line)  # the subject's field
    request, rest = unescape_quoted(rest)
    assert request == b"GET /_ping", line
    assert re.match(rb" allow \(PING=1\) 200 \d+ [0-9.]+ms$", rest), line
    if cn:
        assert any(("CN=" + x).encode() in first for x in cn), (first, line)
    assert p.alive()


def test_access_log_json_carries_the_subject(fake_upstream, proxy_factory, tls_certs):
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs, env={"LOG_FORMAT": "json"})
    ping_ok(tls_view(p, client_context(tls_certs, "traefik")))

    def entries():
        return [o for o in (json.loads(x) for x in p.stderr_text().splitlines() if x.startswith("{"))
                if o.get("target") == "/_ping"]

    assert wait_for(entries), p.stderr_text()
    e = entries()[0]
    assert any(isinstance(v, str) and "CN=traefik" in v for k, v in e.items() if k != "target"), e


# -- SIGHUP: new certificate files ------------------------------------------------------------------------

def replace_file(src, dst):
    tmp = dst + ".new"
    shutil.copy(src, tmp)
    os.replace(tmp, dst)


def new_connection_fingerprint(p, certs):
    try:
        with tls_connect(p.tcp, client_context(certs)) as s:
            return peer_fingerprint(s)
    except (ssl.SSLError, OSError) as e:
        return repr(e)


def test_sighup_rotates_the_certificate(fake_upstream, proxy_factory, tls_certs):
    release = threading.Event()
    up = fake_upstream(events_handler(release))
    p = tls_proxy(proxy_factory, up, tls_certs)
    s = tls_connect(p.tcp, client_context(tls_certs), timeout=15)
    assert peer_fingerprint(s) == tls_certs.server.fingerprint
    s.sendall(request_bytes("GET", "/v1.41/events"))
    r = SockReader(s)
    assert r.read_head().startswith(b"HTTP/1.1 200") and r.read_line() == b"6" and r.read_exact(8) == b"first\n\r\n"
    kept = tls_connect(p.tcp, client_context(tls_certs), timeout=10)  # a kept-alive connection, idle meanwhile
    kr = SockReader(kept)
    kept.sendall(PING)
    assert read_response(kr).status == 200

    replace_file(tls_certs.server2.cert, os.path.join(p.tls_dir, "server-cert.pem"))
    replace_file(tls_certs.server2.key, os.path.join(p.tls_dir, "server-key.pem"))
    p.proc.send_signal(signal.SIGHUP)
    new = tls_certs.server2.fingerprint
    assert wait_for(lambda: new_connection_fingerprint(p, tls_certs) == new, 10, interval=0.1), (
        f"new connections still get {new_connection_fingerprint(p, tls_certs)} after SIGHUP\n{p.stderr_text()[-2000:]}")

    release.set()  # the old stream goes on
    assert r.read_line() == b"7" and r.read_exact(9) == b"second\n\r\n"
    kept.sendall(PING_CLOSE)  # and the old kept-alive connection too
    assert read_response(kr).status == 200
    s.close()
    kept.close()
    assert p.alive()
    assert p.stop() == 0


BAD_RELOADS = {
    "cert-garbage": lambda d, c: garbage(os.path.join(d, "server-cert.pem")),
    "key-not-matching": lambda d, c: replace_file(c.server_rsa.key, os.path.join(d, "server-key.pem")),
    "key-missing": lambda d, c: os.unlink(os.path.join(d, "server-key.pem")),
    "ca-garbage": lambda d, c: garbage(os.path.join(d, "ca.pem")),
    "ca-removed": lambda d, c: os.unlink(os.path.join(d, "ca.pem")),  # a reload never stops asking
    "cert-is-a-directory": lambda d, c: (os.unlink(os.path.join(d, "server-cert.pem")),
                                         os.mkdir(os.path.join(d, "server-cert.pem"))),
}


@pytest.mark.parametrize("case", list(BAD_RELOADS))
def test_sighup_with_bad_files_keeps_the_old_ones(fake_upstream, proxy_factory, tls_certs, case):
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs)
    ping_ok(tls_view(p, client_context(tls_certs)))
    assert p.wait_idle()
    before = p.stderr_text().splitlines()
    BAD_RELOADS[case](p.tls_dir, tls_certs)
    p.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: p.idle() and len(p.stderr_text().splitlines()) > len(before)), p.stderr_text()
    new_lines = p.stderr_text().splitlines()[len(before):]
    assert len(new_lines) == 1, new_lines
    assert re.search(r"server-cert\.pem|server-key\.pem|ca\.pem|SOCKET_PROXY_TLS", new_lines[0]), new_lines
    assert p.alive()
    # still serving with the old files: the same certificate, the same clients
    assert new_connection_fingerprint(p, tls_certs) == tls_certs.server.fingerprint
    ping_ok(tls_view(p, client_context(tls_certs, "portainer")))
    refused_only(p, up, client_context(tls_certs, "stranger"))


def world_readable_dir(certs, key_mode):
    """A proxy dir that uid 1000 can read, but for the key when key_mode says so."""
    d = tempfile.mkdtemp(prefix="sp-tls-uid-", dir="/tmp")
    os.chmod(d, 0o755)
    for src, name in ((certs.ca.cert, "ca.pem"), (certs.server.cert, "server-cert.pem"),
                      (certs.server.key, "server-key.pem")):
        shutil.copy(src, os.path.join(d, name))
        os.chmod(os.path.join(d, name), 0o644)
    os.chmod(os.path.join(d, "server-key.pem"), key_mode)
    return d


@pytest.mark.parametrize("key_mode,reloads", [(0o644, True), (0o600, False)], ids=["readable", "root-only-key"])
def test_sighup_reads_as_socket_proxy_uid(fake_upstream, proxy_factory, tls_certs, key_mode, reloads):
    """After start the proxy runs as SOCKET_PROXY_UID: a reload reads the files as
    that user. Readable: the new certificate; a key only root reads: one line, the
    old certificate kept."""
    up = fake_upstream(serve())
    os.chmod(os.path.dirname(up.path), 0o755)  # the proxy opens it as uid 1000 too
    os.chmod(up.path, 0o666)
    d = world_readable_dir(tls_certs, key_mode)
    try:
        p = tls_proxy(proxy_factory, up, tls_certs, env={"SOCKET_PROXY_UID": "1000", "SOCKET_PROXY_GID": "1000"},
                      tls_dir=d)
        assert new_connection_fingerprint(p, tls_certs) == tls_certs.server.fingerprint
        assert p.wait_idle()
        before = len(p.stderr_text().splitlines())
        for src, name in ((tls_certs.server2.cert, "server-cert.pem"), (tls_certs.server2.key, "server-key.pem")):
            replace_file(src, os.path.join(d, name))
        os.chmod(os.path.join(d, "server-cert.pem"), 0o644)
        os.chmod(os.path.join(d, "server-key.pem"), key_mode)
        p.proc.send_signal(signal.SIGHUP)
        if reloads:
            assert wait_for(lambda: new_connection_fingerprint(p, tls_certs) == tls_certs.server2.fingerprint, 10,
                            interval=0.1), p.stderr_text()[-2000:]
        else:
            assert wait_for(lambda: p.idle() and len(p.stderr_text().splitlines()) > before), p.stderr_text()
            new_lines = p.stderr_text().splitlines()[before:]
            assert len(new_lines) == 1 and "server-key.pem" in new_lines[0], new_lines
            assert new_connection_fingerprint(p, tls_certs) == tls_certs.server.fingerprint
        assert p.alive()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_unreadable_key_at_start_up(proxy_bin, tls_certs):
    """Started as a user who cannot read the key: exit 2, one line naming the variable."""
    d = world_readable_dir(tls_certs, 0o600)
    try:
        env = {"PATH": "/usr/bin:/bin", "SOCKET_PROXY_LISTEN": f"127.0.0.1:{free_port()}", "SOCKET_PROXY_VOLUME": "",
               "SOCKET_PATH": "/nonexistent.sock", "SOCKET_PROXY_TLS_DIR": d, **proxy_bin.env}
        r = subprocess.run(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", proxy_bin.path], env=env,
                           capture_output=True, text=True, timeout=10)
        line = one_line_error(r)
        assert "SOCKET_PROXY_TLS_DIR" in line and "server-key.pem" in line, line
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_sighup_without_tls_is_harmless(fake_upstream, proxy_factory):
    """`docker kill -s HUP` is the documented reload: a proxy without TLS has nothing
    to reload, and must not die of it."""
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path)
    p.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: not p.alive() or p.idle()), p.stderr_text()
    if not p.alive():
        p.stopped_by_test = True  # reported here, not again at teardown
        pytest.fail(f"SIGHUP ended a proxy without TLS (exit {p.proc.returncode})\n{p.stderr_text()[-1000:]}")
    ping_ok(p)


def test_sighup_ca_added_turns_client_certificates_on(fake_upstream, proxy_factory, tls_certs):
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs, ca=None)
    ping_ok(tls_view(p, client_context(tls_certs, None)))
    replace_file(tls_certs.ca.cert, os.path.join(p.tls_dir, "ca.pem"))
    p.proc.send_signal(signal.SIGHUP)

    def refused_without_cert():
        try:
            refused_only(p, up, client_context(tls_certs, None))
            return True
        except AssertionError:
            return False

    assert wait_for(refused_without_cert, 10, interval=0.1), p.stderr_text()[-2000:]
    ping_ok(tls_view(p, client_context(tls_certs, "traefik")))
    refused_only(p, up, client_context(tls_certs, "stranger"))


def test_handshakes_from_one_address_are_bounded(fake_upstream, proxy_factory, tls_certs):
    """32 handshakes under way from one address: the next connection from it is
    closed at once; another address is served meanwhile; once they end, the first
    address is served again."""
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs, env={"SOCKET_PROXY_HEAD_TIMEOUT": "60s",
                                                     "SOCKET_PROXY_LISTEN": f"0.0.0.0:{free_port()}"})
    stalled = []
    try:
        for _ in range(32):
            s = socket.create_connection(p.tcp, timeout=5)
            s.sendall(b"\x16\x03\x01")  # the start of a handshake, no more
            stalled.append(s)
        assert p.wait_idle()
        extra = socket.create_connection(p.tcp, timeout=5)
        # closed at once: well before the 60 s head timeout (10 s is a deadline for a hang)
        assert wait_closed(extra, 10), "a 33rd handshake from one address was let in"
        extra.close()
        other = socket.socket()
        other.bind(("127.0.0.2", 0))
        other.settimeout(5)
        other.connect(p.tcp)
        s = client_context(tls_certs).wrap_socket(other, server_hostname="127.0.0.1")
        s.sendall(PING_CLOSE)
        assert status_of(read_until_close(s, timeout=5)) == 200, "another address was refused too"
        s.close()
    finally:
        for s in stalled:
            s.close()
    assert wait_for(lambda: _tls_ping(p, tls_certs), 10, interval=0.1), p.stderr_text()[-2000:]
    settle(p, up)


@pytest.mark.once
def test_handshakes_in_all_are_bounded(fake_upstream, proxy_factory, tls_certs):
    """256 handshakes under way in all (32 from each of 8 loopback addresses): a
    connection from a ninth address is closed at once; once they end, it is served."""
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs, env={"SOCKET_PROXY_HEAD_TIMEOUT": "60s",
                                                     "SOCKET_PROXY_LISTEN": f"0.0.0.0:{free_port()}"})

    def from_address(a):
        s = socket.socket()
        s.bind((a, 0))
        s.settimeout(5)
        s.connect(p.tcp)
        return s

    stalled = []
    try:
        for k in range(8):
            for _ in range(32):
                s = from_address(f"127.0.1.{k + 1}")
                s.sendall(b"\x16\x03\x01")  # the start of a handshake, no more
                stalled.append(s)
        assert p.wait_idle()
        extra = from_address("127.0.2.1")
        assert wait_closed(extra, 10), "a 257th handshake was let in"
        extra.close()
    finally:
        for s in stalled:
            s.close()
    def served():
        try:
            s = client_context(tls_certs).wrap_socket(from_address("127.0.2.1"), server_hostname="127.0.0.1")
            s.sendall(PING_CLOSE)
            return status_of(read_until_close(s, timeout=5)) == 200
        except (ssl.SSLError, OSError):
            return False
    assert wait_for(served, 10, interval=0.1), p.stderr_text()[-2000:]
    settle(p, up)


def test_renegotiation_is_refused(fake_upstream, proxy_factory, tls_certs):
    """openssl s_client's R (a new ClientHello after the handshake): the proxy
    closes the connection and says why; nothing more reaches the daemon."""
    import pty
    import select
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs)
    d = tls_certs.client_dir("traefik")
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("openssl", ["openssl", "s_client", "-connect", f"127.0.0.1:{p.tcp[1]}", "-tls1_2",
                              "-cert", os.path.join(d, "cert.pem"), "-key", os.path.join(d, "key.pem")])
    out = b""

    def read_for(seconds, until=None):
        nonlocal out
        end = time.time() + seconds
        while time.time() < end and not (until and until in out):
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    return
    try:
        read_for(10, b"Verify return code")
        assert b"Verify return code" in out, out[-2000:]
        os.write(fd, b"R\n")
        read_for(10, b"RENEGOTIATING")
        assert wait_for(lambda: "asked to renegotiate (refused)" in p.stderr_text(), 10, interval=0.1), \
            p.stderr_text()[-2000:]
        # s_client ends: the proxy closed the connection
        assert wait_for(lambda: os.waitpid(pid, os.WNOHANG)[0] == pid, 10, interval=0.1), out[-2000:]
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
    assert up.requests == [], up.requests
    settle(p, up)


def _tls_ping(p, certs):
    try:
        return tls_view(p, client_context(certs)).http("GET", "/_ping")[0] == 200
    except (ssl.SSLError, OSError):
        return False


def test_sighup_new_ca(fake_upstream, proxy_factory, tls_certs):
    """A new ca.pem takes effect for new connections: ca2's clients get in, ca's
    no longer (the server certificate stays ca's, which the clients verify)."""
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs)
    ping_ok(tls_view(p, client_context(tls_certs, "traefik")))
    replace_file(tls_certs.ca2.cert, os.path.join(p.tls_dir, "ca.pem"))
    p.proc.send_signal(signal.SIGHUP)

    def stranger_in():
        try:
            return tls_view(p, client_context(tls_certs, "stranger")).http("GET", "/_ping")[0] == 200
        except (ssl.SSLError, OSError):
            return False

    assert wait_for(stranger_in, 10, interval=0.1), p.stderr_text()[-2000:]
    refused_only(p, up, client_context(tls_certs, "traefik"))


# -- healthcheck over TLS ------------------------------------------------------------------------------

def health(proxy_bin, env, *args, timeout=20):
    e = {"PATH": "/usr/bin:/bin", **env, **proxy_bin.env}
    return subprocess.run([proxy_bin.path, "healthcheck", "--timeout", "5s", *args], env=e, capture_output=True,
                          text=True, timeout=timeout)


def checker_env(certs, pin="server", client=None, layout="proxy"):
    """The health check's environment: "proxy", the proxy's own SOCKET_PROXY_TLS_DIR
    (its server-cert.pem is the certificate the check expects: `pin`), with
    cert.pem/key.pem of `client`; "cert", SOCKET_PROXY_TLS_CERT and _KEY; "client",
    a directory in the docker CLI's layout (ca.pem, cert.pem, key.pem)."""
    pin = getattr(certs, pin)
    if layout == "cert":
        return {"SOCKET_PROXY_TLS_CERT": pin.cert, "SOCKET_PROXY_TLS_KEY": pin.key}
    if layout == "client":
        return {"SOCKET_PROXY_TLS_DIR": certs.client_dir(client)}
    d = certs.proxy_dir(pin)
    if client:
        shutil.copy(certs.client(client).cert, os.path.join(d, "cert.pem"))
        shutil.copy(certs.client(client).key, os.path.join(d, "key.pem"))
    return {"SOCKET_PROXY_TLS_DIR": d}


# (the proxy's ca ("ca": mutual TLS, None: server-only), checker_env's arguments, the
# client certificate given as --cert/--key, healthy, a word its one line must hold)
HEALTH_ROWS = {
    "mtls-cert.pem-in-dir": ("ca", {"client": "traefik"}, None, True, None),
    "mtls-cert-key-options": ("ca", {}, "portainer", True, None),
    "mtls-options-win-over-dir": ("ca", {"client": "stranger"}, "traefik", True, None),
    "mtls-tls-cert-variable": ("ca", {"layout": "cert"}, "traefik", True, None),
    "mtls-without-client-cert": ("ca", {}, None, False, None),
    "mtls-client-cert-of-other-ca": ("ca", {"client": "stranger"}, None, False, None),
    "mtls-expired-client-cert": ("ca", {"client": "expired"}, None, False, None),
    # a rotation's new files, not yet served (no SIGHUP yet)
    "pinned-file-is-not-served": ("ca", {"pin": "server2", "client": "traefik"}, None, False, "server-cert.pem"),
    "server-only": (None, {}, None, True, None),
    "server-only-pinned-file-is-not-served": (None, {"pin": "server2"}, None, False, "server-cert.pem"),
    # the docker CLI's layout has no server-cert.pem to know the proxy by
    "docker-client-layout": ("ca", {"layout": "client", "client": "traefik"}, None, False, "server-cert.pem"),
}


@pytest.mark.parametrize("case", list(HEALTH_ROWS))
def test_healthcheck_url_over_tls(fake_upstream, proxy_factory, proxy_bin, tls_certs, case):
    proxy_ca, where, option, healthy, word = HEALTH_ROWS[case]
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs, ca=proxy_ca)
    args = ["--url", f"tcp://127.0.0.1:{p.port}"]
    if option:
        args += ["--cert", tls_certs.client(option).cert, "--key", tls_certs.client(option).key]
    r = health(proxy_bin, checker_env(tls_certs, **where), *args)
    if healthy:
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert wait_for(lambda: [x for x in access_lines(p) if "/_ping" in x]), p.stderr_text()
    else:
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 1 and len(lines) == 1, (r.returncode, r.stderr)
        assert word is None or word in lines[0], lines
        settle(p, up)
        assert up.requests == [], up.requests
    assert p.alive()


@pytest.mark.parametrize("with_client_files", [True, False], ids=["cert.pem-in-dir", "server-files-only"])
def test_healthcheck_in_the_proxys_own_environment(fake_upstream, proxy_factory, proxy_bin, tls_certs,
                                                   with_client_files):
    """No Unix socket, `healthcheck` with the proxy's own variables: its TCP listener
    over TLS, the proxy known by its server-cert.pem; mutual TLS needs cert.pem/key.pem
    in the same dir."""
    up = fake_upstream(serve())
    d = tls_certs.proxy_dir()
    if with_client_files:
        shutil.copy(tls_certs.client("traefik").cert, os.path.join(d, "cert.pem"))
        shutil.copy(tls_certs.client("traefik").key, os.path.join(d, "key.pem"))
    p = tls_proxy(proxy_factory, up, tls_certs, env={"SOCKET_PROXY_VOLUME": ""}, tls_dir=d)
    r = subprocess.run([proxy_bin.path, "healthcheck"], env=p.env, capture_output=True, text=True, timeout=20)
    if with_client_files:
        assert r.returncode == 0 and r.stderr == "", r.stderr
    else:
        assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_healthcheck_with_tls_dir_against_clear_text(fake_upstream, proxy_factory, proxy_bin, tls_certs):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path)
    r = health(proxy_bin, checker_env(tls_certs, client="traefik"), "--url", f"tcp://127.0.0.1:{p.port}")
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_healthcheck_url_without_tls_dir_against_tls(fake_upstream, proxy_factory, proxy_bin, tls_certs):
    """No SOCKET_PROXY_TLS_DIR: the check speaks clear text, which the TLS port
    refuses (400): unhealthy, one line."""
    up = fake_upstream(serve())
    p = tls_proxy(proxy_factory, up, tls_certs)
    r = health(proxy_bin, {}, "--url", f"tcp://127.0.0.1:{p.port}")
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr

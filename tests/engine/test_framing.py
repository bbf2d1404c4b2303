"""Response framing and hijacks the docker CLI does not exercise: bodiless
answers on a pipelined connection, 100 Continue, and Docker's older hijack
(200 with a raw-stream content type, no Upgrade asked)."""
import socket
import threading

from fake.rawhttp import read_until_close
from fake.upstream import response


def test_bodiless_answers_keep_framing(fake_upstream, proxy_factory):
    """204, 304 and HEAD answers carry no body even with a Content-Length: the
    next pipelined answer must not be swallowed as one."""
    def handler(conn):
        answers = [
            b"HTTP/1.1 204 No Content\r\nApi-Version: 1.41\r\n\r\n",
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",  # answer to HEAD: no body follows
            response(200, b"OK", content_type="text/plain"),
        ]
        for a in answers:
            if conn.read_request() is None:
                return
            conn.send(a)
        conn.wait_closed()

    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path, env={"CONTAINERS": "1", "POST": "1"})
    reqs = (b"POST /containers/x/stop HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n"
            b"GET /containers/x/json HTTP/1.1\r\nHost: d\r\n\r\n"
            b"HEAD /_ping HTTP/1.1\r\nHost: d\r\n\r\n"
            b"GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
    out = p.request(reqs, timeout=5)
    assert out.count(b"HTTP/1.1 ") == 4, out
    assert out.endswith(b"\r\n\r\nOK"), out


def test_expect_100_continue(fake_upstream, proxy_factory):
    def handler(conn):
        req = conn.read_request(read_body=False)
        if req is None:
            return
        conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = conn.reader.read_exact(5)
        conn.send(response(201, b'{"Id":"' + body + b'"}'))
        conn.wait_closed()

    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path, env={"CONTAINERS": "1", "POST": "1"})
    s = p.connect(timeout=5)
    s.sendall(b"POST /containers/abc/kill HTTP/1.1\r\nHost: d\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
    s.settimeout(5)
    first = s.recv(4096)
    assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), first
    s.sendall(b"hello")
    rest = first[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
    while b'"}' not in rest:
        rest += s.recv(4096)
    assert rest.startswith(b"HTTP/1.1 201") and b'{"Id":"hello"}' in rest, rest
    s.close()


def test_old_style_hijack_without_upgrade(fake_upstream, proxy_factory):
    """POST /containers/{id}/attach without Upgrade headers: the daemon answers
    200 application/vnd.docker.raw-stream and takes the connection over; the
    proxy must tunnel both ways and carry the client's half-close."""
    def handler(conn):
        req = conn.read_request()
        if req is None:
            return
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n")
        data = b""
        while True:  # echo until the client's EOF arrives
            d = conn.sock.recv(65536)
            if not d:
                break
            data += d
            conn.send(d.upper())
        conn.send(b"BYE")
        conn.close()

    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path, env={"CONTAINERS": "1", "POST": "1"})
    s = p.connect(timeout=5)
    s.sendall(b"POST /containers/x/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n")
    s.settimeout(5)
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    assert head.startswith(b"HTTP/1.1 200 OK") and b"raw-stream" in head
    out = head.split(b"\r\n\r\n", 1)[1]
    s.sendall(b"hello ")
    while out != b"HELLO ":  # the echo of the first write, before the second is sent
        d = s.recv(4096)
        assert d and b"HELLO ".startswith(out + d), out + d
        out += d
    s.sendall(b"world")
    s.shutdown(socket.SHUT_WR)  # stdin EOF
    out += read_until_close(s, timeout=5)
    assert out == b"HELLO WORLDBYE", out
    s.close()


def test_multiplexed_stream_on_logs_is_not_a_tunnel(fake_upstream, proxy_factory):
    """Logs answer with the multiplexed-stream type too, but framed (chunked):
    that is not a hijack, and the connection stays usable."""
    def handler(conn):
        while True:
            req = conn.read_request()
            if req is None:
                return
            if "logs" in req.target:
                conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
            else:
                conn.send(response(200, b"OK", content_type="text/plain"))

    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path, env={"CONTAINERS": "1"})
    out = p.request(b"GET /containers/x/logs?stdout=1 HTTP/1.1\r\nHost: d\r\n\r\n"
                    b"GET /containers/json HTTP/1.1\r\nHost: d\r\n\r\n"
                    b"GET /images/json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n", timeout=5)
    assert out.count(b"HTTP/1.1 200 OK") == 2 and b"HTTP/1.1 403" in out, out

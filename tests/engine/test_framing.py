"""Response framing and hijacks the docker CLI does not exercise: bodiless
answers on a pipelined connection, 100 Continue, and Docker's older hijack
(200 with a raw-stream content type, no Upgrade asked)."""
import re
import socket
import subprocess
import threading
import time

from conftest import wait_for
from fake.rawhttp import PING_CLOSE, SockReader, read_response, read_until_close, status_of
from fake.upstream import response, serve


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


def test_head_and_body_that_came_together_leave_in_one_write(fake_upstream, proxy_factory, tmp_path):
    """A request whose small body arrives with its head reaches the daemon in one
    write (head and body together), as a direct client's would: seen with strace
    attached to the proxy, the write that carries the head returns the whole
    request's length. The body is still framed and checked (the daemon gets
    exactly it)."""
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path, env={"CONTAINERS": "1", "POST": "1"})
    assert status_of(p.request(PING_CLOSE, timeout=5)) == 200
    body = b'{"Signal":"SIGHUP","Pad":"' + b"x" * 300 + b'"}'
    raw = (b"POST /v1.41/containers/web/kill HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body)) + body
    trace = tmp_path / "trace.txt"
    tracer = subprocess.Popen(["strace", "-qq", "-p", str(p.pid), "-e", "trace=write,writev", "-s", "40",
                               "-o", str(trace)], stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: trace.exists() and tracer.poll() is None, timeout=10)
        time.sleep(0.3)  # attached to the loop's thread
        s = p.connect("unix", timeout=10)
        s.sendall(raw)
        assert read_response(SockReader(s)).status == 200
        s.close()
        assert up.wait_requests(2)
        assert up.requests[1].body == body
        wait_for(lambda: "POST /v1.41/containers/web/kill" in trace.read_text(), timeout=10)
    finally:
        tracer.terminate()  # detaches: the proxy goes on untraced
        tracer.wait(timeout=10)
    lines = [ln for ln in trace.read_text().splitlines() if "POST /v1.41/containers/web/kill" in ln]
    assert len(lines) == 1, lines
    m = re.search(r"= (\d+)$", lines[0])
    assert m and int(m.group(1)) == len(raw), f"the head went alone ({lines[0]}), not with its {len(body)}-byte body"

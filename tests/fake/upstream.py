"""A scripted fake Docker daemon: a threaded Unix-socket server whose behaviour is
a Python callable run once per accepted connection.

    up = FakeUpstream(path, handler)      # handler(conn: UpstreamConn) -> None
    up.start(); ...; up.stop()

The handler drives the connection by hand: conn.read_request() (recorded in
up.requests), conn.send(bytes), conn.close(), conn.wait_closed(timeout)... so a test
can stall, reset mid-body, answer garbage or stream gigabytes. Ready-made handlers
and response builders are at the bottom (serve, stall, respond_then_close, ...).

Everything the server saw is kept for assertions: up.requests (every request head,
in arrival order), up.connections, up.errors (exceptions raised by handlers other
than the peer going away). up.settled() says whether it has taken in everything
sent to it so far (see there); conn.unread_by_proxy() whether bytes it sent wait
unread on the proxy's side.
"""
import os
import select
import socket
import threading
import time

try:
    from .rawhttp import Closed, SockReader, parse_head, unread_bytes, unsent_bytes
except ImportError:  # imported as a top-level module
    from rawhttp import Closed, SockReader, parse_head, unread_bytes, unsent_bytes


class Request:
    """One request head (and its body when framed by Content-Length or chunked)."""

    def __init__(self, conn_index, head, body):
        self.conn_index = conn_index
        self.head = head
        self.body = body
        start, self.headers = parse_head(head)
        parts = start.split(" ")
        self.method = parts[0]
        self.target = parts[1] if len(parts) > 1 else ""
        self.version = parts[2] if len(parts) > 2 else ""
        self.path = self.target.split("?", 1)[0]

    def __repr__(self):
        return f"<Request #{self.conn_index} {self.method} {self.target}>"


def _readable(sock, timeout=None):
    """poll(2) for input (select(2) cannot watch descriptors past 1023); timeout in
    seconds, None: no limit."""
    p = select.poll()
    p.register(sock, select.POLLIN)
    return bool(p.poll(None if timeout is None else timeout * 1000))


class _ConnReader(SockReader):
    """A SockReader that tells its connection when it waits for bytes."""

    def __init__(self, conn):
        super().__init__(conn.sock)
        self.conn = conn

    def _fill(self):
        if not self.eof:
            self.conn._await_input()
        return super()._fill()


class UpstreamConn:
    def __init__(self, upstream, sock, index):
        self.upstream = upstream
        self.sock = sock
        self.index = index
        self.reader = _ConnReader(self)
        self.requests = []
        self.closed_by_peer = threading.Event()   # set by wait_closed()/read_request() on EOF
        self.finished = threading.Event()         # set when the handler returned
        self._state = threading.Lock()
        self._waiting = False  # blocked for input in read_request()/wait_closed()

    def _await_input(self):
        """Block until the socket is readable (or its timeout passes: socket.timeout),
        marked as waiting meanwhile. A closed socket falls through to the recv, which
        then fails as it would have."""
        with self._state:
            self._waiting = True
        try:
            ready = _readable(self.sock, self.sock.gettimeout())
        except (OSError, ValueError):
            ready = True
        finally:
            with self._state:
                self._waiting = False
        if not ready:
            raise socket.timeout("timed out")

    def settled(self):
        """True when the handler has returned, or waits for input (in read_request() or
        wait_closed()) with no byte unread: it has taken in all the proxy sent so far.
        Handlers that recv() on conn.sock themselves are never settled before they return."""
        if self.finished.is_set():
            return True
        with self._state:  # the handler cannot leave its wait while this is held
            if not self._waiting:
                return False
            try:
                return unread_bytes(self.sock) == 0
            except (OSError, ValueError):
                return False

    def unread_by_proxy(self):
        """Nonzero while bytes sent on this connection wait unread on the proxy's side
        (the kernel's count of what is in flight, not an exact byte count)."""
        try:
            return unsent_bytes(self.sock)
        except (OSError, ValueError):
            return 0

    def read_request(self, read_body=True):
        """Next request on this connection, or None when the peer closed cleanly.
        The head is recorded in upstream.requests as soon as it is read."""
        try:
            head = self.reader.read_head()
        except Closed:
            self.closed_by_peer.set()
            raise
        if head is None:
            self.closed_by_peer.set()
            return None
        _, headers = parse_head(head)
        body = b""
        if read_body:
            if "chunked" in headers.get("transfer-encoding", "").lower():
                body = self.reader.read_chunked()
            elif "content-length" in headers:
                body = self.reader.read_exact(int(headers["content-length"]))
        req = Request(self.index, head, body)
        self.requests.append(req)
        self.upstream._record(req)
        return req

    def send(self, data):
        self.sock.sendall(data)

    def wait_closed(self, timeout=None):
        """Block until the proxy closes its side (EOF/reset); True if it did in time.
        Bytes arriving meanwhile are discarded."""
        self.sock.settimeout(timeout)
        try:
            while True:
                self._await_input()
                try:
                    data = self.sock.recv(65536)
                except (ConnectionResetError, BrokenPipeError):
                    data = b""
                if not data:
                    self.closed_by_peer.set()
                    return True
        except (socket.timeout, OSError):
            return self.closed_by_peer.is_set()
        finally:
            try:
                self.sock.settimeout(None)
            except OSError:
                pass

    def shutdown_write(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def reset(self):
        """Close abruptly. Unix sockets have no RST; closing with unread input makes the
        peer's next read fail with ECONNRESET, which is as close as it gets."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        self.close()


class FakeUpstream:
    def __init__(self, path, handler):
        self.path = path
        self.handler = handler
        self.requests = []
        self.connections = []
        self.errors = []
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._sock = None
        self._threads = []
        self._stopping = False
        self._accept_waiting = False  # blocked for a connection (under _cond)

    # -- lifecycle ---------------------------------------------------------------
    def start(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(self.path)
        self._sock.listen(64)
        t = threading.Thread(target=self._accept_loop, name="fake-upstream-accept", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self):
        self._stopping = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._sock.close()
        except OSError:
            pass
        for c in list(self.connections):
            try:
                c.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        for t in self._threads:
            t.join(timeout=5)
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- observation ---------------------------------------------------------------
    def _record(self, req):
        with self._cond:
            self.requests.append(req)
            self._cond.notify_all()

    def wait_for(self, predicate, timeout=10):
        """Wait until predicate(self) is true (re-checked on each request/connection,
        and every 50 ms); returns its last value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                v = predicate(self)
                left = deadline - time.monotonic()
                if v or left <= 0:
                    return v
                self._cond.wait(min(left, 0.05))

    def wait_requests(self, n, timeout=10):
        return self.wait_for(lambda u: len(u.requests) >= n, timeout)

    def wait_connections(self, n, timeout=10):
        return self.wait_for(lambda u: len(u.connections) >= n, timeout)

    def settled(self):
        """True when no connection waits to be accepted and every connection is settled
        (UpstreamConn.settled): whatever the proxy sent has been taken in and recorded.
        Pair it with Proxy.idle_across() to know that nothing more is on its way."""
        with self._cond:  # the accept loop cannot leave its wait while this is held
            if not self._accept_waiting or _readable(self._sock, 0):
                return False
            conns = list(self.connections)
        return all(c.settled() for c in conns)

    # -- internals -------------------------------------------------------------------
    def _accept_loop(self):
        while not self._stopping:
            with self._cond:
                self._accept_waiting = True
            try:
                _readable(self._sock)
            except (OSError, ValueError):
                return
            finally:
                with self._cond:
                    self._accept_waiting = False
            try:
                s, _ = self._sock.accept()
            except OSError:
                return
            with self._cond:
                conn = UpstreamConn(self, s, len(self.connections))
                self.connections.append(conn)
                self._cond.notify_all()
            t = threading.Thread(target=self._run, args=(conn,), name=f"fake-upstream-{conn.index}", daemon=True)
            t.start()
            self._threads.append(t)

    def _run(self, conn):
        try:
            self.handler(conn)
        except (BrokenPipeError, ConnectionResetError, Closed):
            pass  # the proxy went away: normal in most scripts
        except OSError as e:
            if not self._stopping:
                self.errors.append(e)
        except Exception as e:  # a bug in the script: make it visible to the test
            self.errors.append(e)
        finally:
            conn.finished.set()
            if not getattr(conn, "keep_open", False):
                conn.close()


# -- response builders -------------------------------------------------------------

def response(status=200, body=b"", headers=None, reason=None, content_type="application/json"):
    """A well-formed response with Content-Length framing."""
    if isinstance(body, str):
        body = body.encode()
    reasons = {200: "OK", 201: "Created", 204: "No Content", 404: "Not Found", 500: "Internal Server Error"}
    reason = reasons.get(status, "Status") if reason is None else reason
    pairs = [("Api-Version", "1.41"), ("Content-Type", content_type), ("Docker-Experimental", "false"),
             ("Ostype", "linux"), ("Server", "fake-upstream"), ("Date", "Mon, 01 Jan 2024 00:00:00 GMT")]
    pairs += list((headers or {}).items())
    if status not in (204, 304) and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in pairs):
        pairs.append(("Content-Length", str(len(body))))
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in pairs) + "\r\n"
    return head.encode("latin-1") + body


def chunked(*parts):
    """A chunked body (without the head) from byte strings, terminated."""
    out = b""
    for p in parts:
        if p:
            out += b"%x\r\n" % len(p) + p + b"\r\n"
    return out + b"0\r\n\r\n"


def default_answer(req):
    """What a well-behaved daemon would roughly answer, for requests a script does
    not care about."""
    if req.path.endswith("/_ping"):
        return response(200, b"" if req.method == "HEAD" else b"OK", content_type="text/plain; charset=utf-8")
    if req.path.endswith("/version"):
        return response(200, b'{"ApiVersion":"1.41","Version":"fake","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64"}')
    if req.path == "/networks/host":  # what the proxy asks before it judges a service body
        return response(200, b'{"Name":"host","Id":"' + HOST_NETWORK_ID.encode() + b'","Scope":"local","Driver":"host"}')
    if req.path in SCOPED_CONTAINERS:  # what a proxy scoped to autoheal=true asks first (issue 13)
        return response(200, SCOPED_CONTAINERS[req.path])
    return response(200, b"{}")


HOST_NETWORK_ID = "7d0b1e8c5a3f4e2d9c6b1a0f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b"
# Two containers the default answers know: scoped-web (labelled autoheal=true) and
# scoped-db (not), by name and by full ID.
SCOPED_WEB_ID = "5e0c6a1f9b2d4e8a7c3f1b0d9e8a7c6b5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a"
SCOPED_DB_ID = "d8e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f"
SCOPED_CONTAINERS = {}
for _name, _id, _labels in (("scoped-web", SCOPED_WEB_ID, b'{"autoheal":"true"}'), ("scoped-db", SCOPED_DB_ID, b"{}")):
    SCOPED_CONTAINERS[f"/containers/{_name}/json"] = SCOPED_CONTAINERS[f"/containers/{_id}/json"] = (
        b'{"Id":"' + _id.encode() + b'","Name":"/' + _name.encode() + b'","Config":{"Labels":' + _labels + b"}}")


# -- ready-made handlers -------------------------------------------------------------

def serve(answer=default_answer):
    """Keep-alive server: answer(req) -> bytes (or None to close) for each request."""
    def handler(conn):
        while True:
            req = conn.read_request()
            if req is None:
                return
            out = answer(req)
            if out is None:
                return
            conn.send(out)
    return handler


def events_or_serve(conn):
    """/events: a chunked 200 with one event, then open and silent; the rest: answered."""
    while True:
        req = conn.read_request()
        if req is None:
            return
        if req.path.endswith("/events"):
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"2\r\n{}\r\n")
            conn.wait_closed()
            return
        conn.send(default_answer(req))


def stall(conn):
    """Read the request, never answer; return when the proxy closes the connection."""
    conn.read_request()
    conn.wait_closed()


def respond_then_close(answer=default_answer):
    """Answer one request as keep-alive, then close the connection."""
    def handler(conn):
        req = conn.read_request()
        if req is None:
            return
        conn.send(answer(req))
    return handler

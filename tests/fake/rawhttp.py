"""Minimal raw HTTP/1.1 reading over a socket, for tests that must see exactly what
crossed the wire (keep-alive reuse, truncation, framing). Deliberately small and
tolerant: it reports what arrived, the tests decide whether that is right."""
import fcntl
import socket
import ssl
import struct
import termios


class Closed(Exception):
    """The peer closed (or reset) the connection before the expected data arrived."""

    def __init__(self, msg, partial=b""):
        super().__init__(msg)
        self.partial = partial


class SockReader:
    """Buffered reader over a connected socket: heads, exact byte counts, chunks."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def _fill(self):
        """Read more bytes into the buffer; False at EOF/reset. socket.timeout propagates."""
        if self.eof:
            return False
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_head(self, limit=1 << 20):
        """Bytes up to and including the blank line ending a head; None on a clean EOF
        before any byte; Closed if the peer closes mid-head."""
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head, self.buf = self.buf[:i + 4], self.buf[i + 4:]
                return head
            if len(self.buf) > limit:
                raise ValueError("head too large")
            if not self._fill():
                if not self.buf:
                    return None
                raise Closed("EOF inside head", self.buf)

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise Closed(f"EOF after {len(self.buf)} of {n} bytes", self.buf)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            if not self._fill():
                raise Closed("EOF inside line", self.buf)

    def read_chunked(self):
        out = b""
        while True:
            size_line = self.read_line()
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while self.read_line() != b"":  # trailers
                    pass
                return out
            out += self.read_exact(size)
            if self.read_exact(2) != b"\r\n":
                raise ValueError("chunk not followed by CRLF")

    def read_to_eof(self):
        while self._fill():
            pass
        out, self.buf = self.buf, b""
        return out


def parse_head(head):
    """(start-line parts, headers dict lowercased; repeated fields joined with ', ')."""
    lines = head.decode("latin-1").split("\r\n")
    start = lines[0]
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        name = name.strip().lower()
        value = value.strip()
        headers[name] = headers[name] + ", " + value if name in headers else value
    return start, headers


class Response:
    def __init__(self, status, reason, headers, body, head):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.head = head

    def __repr__(self):
        return f"<Response {self.status} {self.reason!r} {len(self.body)} bytes>"


def read_response(reader, method="GET"):
    """Read one response from a SockReader, following its framing. Returns None on a
    clean EOF before any byte (the connection was closed)."""
    head = reader.read_head()
    if head is None:
        return None
    start, headers = parse_head(head)
    parts = start.split(" ", 2)
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = reader.read_chunked()
    elif "content-length" in headers:
        body = reader.read_exact(int(headers["content-length"]))
    else:
        body = reader.read_to_eof()
    return Response(status, reason, headers, body, head)


def request_bytes(method, target, headers=None, body=None, host="docker"):
    """A well-formed HTTP/1.1 request. headers: dict or list of pairs (kept in order)."""
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {k.lower() for k, _ in pairs}
    if "host" not in names:
        pairs.insert(0, ("Host", host))
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        pairs.append(("Content-Length", str(len(body))))
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in pairs) + "\r\n"
    return head.encode("latin-1") + (body or b"")


PING = request_bytes("GET", "/_ping")
PING_CLOSE = request_bytes("GET", "/_ping", {"Connection": "close"})


def status_of(data):
    """The status code at the start of raw bytes read from the proxy; None when they
    do not start with an HTTP/1.x status line."""
    if not data.startswith(b"HTTP/1."):
        return None
    try:
        return int(data[9:12])
    except ValueError:
        return None


def read_until_close(sock, timeout=None):
    """Everything the peer sends until it closes (EOF or reset). timeout (seconds
    without a byte; else the socket's own) raises socket.timeout: a peer expected
    to close that never does is a failure, not a partial answer. timeout=0: what
    is already there (up to EOF), without waiting."""
    if timeout is not None:
        sock.settimeout(timeout)
    out = b""
    while True:
        try:
            d = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return out
        except (BlockingIOError, ssl.SSLWantReadError):  # timeout=0 and nothing more is there
            return out
        if not d:
            return out
        out += d


def wait_closed(sock, timeout):
    """True if the peer closes (EOF or reset) within timeout; bytes received meanwhile
    are discarded. False if still open when the time is up."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):  # an ssl.SSLSocket's peer: an alert
            return True
        if not data:
            return True


def peek(sock):
    """What waits on sock, looked at without reading it or blocking: None when nothing
    does, b"" for EOF (or a reset), else the first byte."""
    timeout = sock.gettimeout()
    sock.settimeout(0)
    try:
        return sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return None
    except (ConnectionResetError, BrokenPipeError):
        return b""
    finally:
        sock.settimeout(timeout)


def reader_from_bytes(data):
    """A SockReader over bytes already received (e.g. everything read until close):
    read_response(reader_from_bytes(out)) parses them by their framing."""
    r = SockReader(None)
    r.buf = bytes(data)
    r.eof = True
    return r


def json_message(res):
    """The "message" of a JSON error answer (the shape dockerd and the proxy use);
    fails with the body shown when it is not one."""
    import json
    try:
        doc = json.loads(res.body)
    except ValueError as e:
        raise AssertionError(f"answer body is not JSON ({e}): {res.head!r} {res.body[:300]!r}")
    assert isinstance(doc, dict) and isinstance(doc.get("message"), str), res.body[:300]
    return doc["message"]


def peer_eof(reader, timeout=2.0):
    """True if nothing but EOF follows on reader's socket within timeout (bytes
    already buffered, or arriving, make it False)."""
    if reader.buf:
        return False
    if reader.sock is not None:
        reader.sock.settimeout(timeout)
    try:
        return not reader._fill()
    except socket.timeout:
        return False


def unread_bytes(sock):
    """Bytes waiting in sock's receive queue (FIONREAD)."""
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


def unsent_bytes(sock):
    """What sock has sent that its peer has not read yet (TIOCOUTQ): bytes for TCP, the
    kernel's accounting of the queued buffers for Unix sockets (nonzero iff any)."""
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]

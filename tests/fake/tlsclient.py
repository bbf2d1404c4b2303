"""TLS on the client side of the tests.

    ctx = client_context(certs, "traefik")   # verifies the server against certs.ca
    s = tls_connect(("127.0.0.1", port), ctx)  # an ssl.SSLSocket, handshake done
    t = TLSConn(plain_socket, ctx)            # every record under the test's control

TLSConn runs the session over memory BIOs, so it can do what ssl.SSLSocket cannot:
close_write() sends close_notify and keeps reading (Go's crypto/tls CloseWrite, what
the docker CLI does when stdin ends on an attach or exec), and the bytes on the wire
stay visible (a clear-text answer to a TLS client is read as such)."""
import socket
import ssl


def client_context(certs, client="traefik", ca=None, versions=(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3),
                   ciphers=None):
    """An SSLContext verifying the proxy's certificate (SAN IP:127.0.0.1) against
    `ca` (default certs.ca), presenting `client`'s certificate (a name in
    tlscerts.CLIENTS, a Cert, or None for none)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version, ctx.maximum_version = versions
    if ciphers:
        ctx.set_ciphers(ciphers)
    ctx.load_verify_locations((ca or certs.ca).cert)
    if client is not None:
        c = certs.client(client) if isinstance(client, str) else client
        ctx.load_cert_chain(c.cert, c.key)
    return ctx


def tls_connect(addr, ctx, timeout=5):
    """A connected ssl.SSLSocket to addr with the handshake done (raises
    ssl.SSLError / OSError when it fails)."""
    raw = socket.create_connection(addr, timeout=timeout)
    try:
        return ctx.wrap_socket(raw, server_hostname=addr[0])
    except BaseException:
        raw.close()
        raise


def peer_fingerprint(s):
    import hashlib
    return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


class TLSConn:
    """A TLS client session over a connected plain socket, through memory BIOs.

    .handshake() .sendall(data) .recv(n) -> b"" at close_notify or EOF
    .close_write() (close_notify, then reading goes on) .close() .settimeout(t)
    .closed_by_peer: "close_notify" / "eof" once recv() saw the end."""

    def __init__(self, sock, ctx, server_hostname="127.0.0.1"):
        self.sock = sock
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.incoming, self.outgoing, server_hostname=server_hostname)
        self.closed_by_peer = None
        self.wrote_close = False

    def settimeout(self, t):
        self.sock.settimeout(t)

    def gettimeout(self):
        return self.sock.gettimeout()

    def _flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _feed(self):
        """One recv from the socket into the session; False at EOF."""
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.incoming.write_eof()
            return False
        self.incoming.write(data)
        return True

    def handshake(self):
        while True:
            try:
                self.obj.do_handshake()
                self._flush()
                return self
            except ssl.SSLWantReadError:
                self._flush()
                if not self._feed():
                    raise ssl.SSLEOFError("EOF during the handshake")

    def getpeercert(self, binary_form=False):
        return self.obj.getpeercert(binary_form)

    def version(self):
        return self.obj.version()

    def cipher(self):
        return self.obj.cipher()

    def sendall(self, data):
        """As a socket's: BrokenPipeError once the session cannot carry more."""
        view = memoryview(data)
        while view:
            try:
                n = self.obj.write(view)
            except ssl.SSLError as e:
                raise BrokenPipeError(f"TLS session closed: {e}") from e
            view = view[n:]
            self._flush()

    send = sendall

    def recv(self, n=65536):
        """Plain text; b"" once the peer's close_notify (or the socket's end) came.
        A fatal alert or a bad record raises ConnectionResetError; the socket's
        timeout raises socket.timeout (BlockingIOError at timeout 0)."""
        while not self.closed_by_peer:
            try:
                data = self.obj.read(n)
            except ssl.SSLZeroReturnError:
                self.closed_by_peer = "close_notify"
            except ssl.SSLEOFError:
                self.closed_by_peer = "eof"
            except ssl.SSLWantReadError:
                self._flush()
                self._feed()  # at EOF, the next read ends the session
            except ssl.SSLError as e:
                self.closed_by_peer = f"error: {e}"
                raise ConnectionResetError(f"TLS session ended: {e}") from e
            else:
                if data:
                    return data
                self.closed_by_peer = "close_notify"
        return b""

    def close_write(self):
        """close_notify, and no more writes; reading goes on (TLS 1.2 allows it)."""
        try:
            self.obj.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
            pass
        self.wrote_close = True
        self._flush()

    def shutdown(self, how):
        if how in (socket.SHUT_WR, socket.SHUT_RDWR):
            self.close_write()

    def close(self):
        self.sock.close()

    def read_until_close(self, timeout=5):
        """Everything until the peer ends the session; raises socket.timeout if it
        does not within `timeout` seconds of silence."""
        self.sock.settimeout(timeout)
        out = b""
        while True:
            d = self.recv()
            if not d:
                return out
            out += d


def tls_conn(addr, ctx, timeout=5):
    """A TLSConn to addr, handshake done."""
    raw = socket.create_connection(addr, timeout=timeout)
    try:
        return TLSConn(raw, ctx, addr[0]).handshake()
    except BaseException:
        raw.close()
        raise

"""Cases a review of the restructured proxy found (each failed before its fix):
bytes a daemon sends past its answer are never taken as the next answer; a
retried GET whose new dial fails still lets the connection end; the listener
falls back to IPv4 where the IPv6 socket cannot even be created."""
import os
import socket
import subprocess
import tempfile

import pytest

from conftest import ROOT, wait_for
from fake.rawhttp import read_until_close, status_of
from fake.upstream import response, serve

STALE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nSTALE-BYTES-FROM-AN-EARLIER-EXCHANGE"


def test_bytes_past_an_answer_are_not_the_next_answer(fake_upstream, proxy_factory):
    def handler(conn):
        if conn.read_request() is None:
            return
        conn.send(response(200, b"{}"))  # the upstream is now a reused one
        if conn.read_request() is None:
            return
        conn.sock.sendall(response(200, b'{"ok":1}') + STALE)  # its answer, and bytes nobody asked for
        conn.close()

    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path)
    s = p.connect("unix", timeout=10)
    s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
    first = b""
    while b"{}" not in first:
        first += s.recv(4096)
    # /version's answer arrives with the stale bytes while /_ping waits in the buffer
    s.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\nGET /_ping HTTP/1.1\r\nHost: x\r\n\r\n"
              b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    out = read_until_close(s, timeout=10)
    assert b"STALE-BYTES" not in out, out
    assert out.count(b"HTTP/1.1 200") == 3, out
    assert p.alive()
    wait_for(lambda: "unexpected bytes from the daemon" in p.stderr_text())


@pytest.mark.parametrize("ending", ["idle", "close", "pipelined"])
def test_retry_whose_dial_fails_still_ends(fake_upstream, proxy_factory, ending):
    """The daemon closes a reused connection and goes away: the GET is retried on a
    new dial, which fails (502); the connection then goes on as after any 502."""
    state = {}

    def handler(conn):
        if conn.read_request() is None:
            return
        conn.send(response(200, b"{}"))
        if conn.read_request() is None:
            return
        os.unlink(state["path"])  # the retry's dial will fail
        conn.close()

    up = fake_upstream(handler)
    state["path"] = up.path
    p = proxy_factory({"SOCKET_PROXY_IDLE_TIMEOUT": "1s"}, upstream=up.path)
    s = p.connect("unix", timeout=10)
    s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
    first = b""
    while b"{}" not in first:
        first += s.recv(4096)
    second = {"idle": b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n",
              "close": b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
              "pipelined": b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\nGET /version HTTP/1.1\r\nHost: x\r\n\r\n"}[ending]
    s.sendall(second)
    out = read_until_close(s, timeout=10)  # ends: by the idle timer, the close, or after both 502s
    assert status_of(out) == 502, out
    assert out.count(b"HTTP/1.1 502") == (2 if ending == "pipelined" else 1), out
    assert p.alive()


NO_IPV6 = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>
/* A host booted with ipv6.disable=1: an IPv6 socket cannot be created. */
int socket(int domain, int type, int protocol)
{
    static int (*real)(int, int, int);
    if (!real)
        real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
    if (domain == AF_INET6) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    return real(domain, type, protocol);
}
"""


def test_default_listener_falls_back_to_ipv4_without_ipv6(fake_upstream, tmp_path):
    # The plain build only: an LD_PRELOAD shim cannot come before the ASan runtime.
    binary = os.path.join(ROOT, "build", "socket-proxy")
    src = tmp_path / "no6.c"
    src.write_text(NO_IPV6)
    shim = tmp_path / "no6.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(shim), str(src), "-ldl"], check=True)
    up = fake_upstream(serve())
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    vol = tempfile.mkdtemp(prefix="sp6-", dir="/tmp")
    env = {"PATH": "/usr/bin:/bin", "LD_PRELOAD": str(shim), "PORT": str(port), "SOCKET_PATH": up.path,
           "SOCKET_PROXY_VOLUME": vol, "SOCKET_PROXY_UID": "0", "SOCKET_PROXY_GID": "0"}
    proc = subprocess.Popen([binary], env=env, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        def answers():
            try:
                c = socket.create_connection(("127.0.0.1", port), timeout=2)
            except OSError:
                return None
            c.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return status_of(read_until_close(c, timeout=5))
        wait_for(lambda: proc.poll() is not None or answers() == 200, timeout=10)
        assert proc.poll() is None, proc.stderr.read().decode(errors="replace")
    finally:
        proc.terminate()
        err = proc.communicate(timeout=15)[1].decode(errors="replace")
        subprocess.run(["rm", "-rf", vol])
    assert proc.returncode == 0, err
    assert "listening on 0.0.0.0" in err, err

"""SOCKET_PROXY_MAX_CLIENT_CONNS (default 512, 0 = no limit): connections per client,
a client being a Unix peer uid or a TCP source address. Over the limit a client gets
a 503 whose JSON message names the variable, and the connection is closed; other
clients are still served, and the client is served again once one of its
connections ends."""
import os
import socket
import stat

import pytest

import conftest
from conftest import ProxyBin, wait_for
from fake import rawhttp
from fake.rawhttp import PING_CLOSE, SockReader, request_bytes
from fake.upstream import events_or_serve
from test_faults import raise_nofile

EVENTS = request_bytes("GET", "/v1.41/events")
VAR = "SOCKET_PROXY_MAX_CLIENT_CONNS"
OTHER_UID = 65534


def start_proxy(proxy_factory, proxy_bin, up, env, tmp_path, nofile=None):
    """The proxy, optionally under `prlimit --nofile=N:N` (as test_faults'
    test_connection_limit_refuses_cleanly runs it)."""
    if nofile is None:
        return proxy_factory(env, upstream=up.path)
    wrapper = tmp_path / "limited.sh"
    wrapper.write_text(f"#!/bin/sh\nexec prlimit --nofile={nofile}:{nofile} -- {proxy_bin.path}\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    base = proxy_factory(env, upstream=up.path)  # for its environment and directory
    base.stop()
    p = conftest.Proxy(ProxyBin(proxy_bin.name, str(wrapper), proxy_bin.asan), dict(base.env), base.workdir)
    return p.start()


def connect(p, via, source="127.0.0.1", timeout=5):
    if via == "unix":
        return p.connect("unix", timeout=timeout)
    return socket.create_connection(p.tcp, timeout=timeout, source_address=(source, 0))


def open_stream(p, via):
    s = connect(p, via, timeout=10)
    s.sendall(EVENTS)
    r = SockReader(s)
    head = r.read_head()
    assert head and head.startswith(b"HTTP/1.1 200"), head
    assert r.read_line() == b"2", "no event from the stream"
    return s


def answer_on_new_connection(p, via, source="127.0.0.1"):
    """The first answer on a fresh connection: a refusal may come at accept, before the
    client sends anything (looked for once the proxy has acted on the connection), or
    after its request head."""
    s = connect(p, via, source=source)
    r = SockReader(s)
    p.wait_idle()  # has accepted it, and refused it or not
    if rawhttp.peek(s) is None:
        try:
            s.sendall(PING_CLOSE)
        except (BrokenPipeError, ConnectionResetError):
            pass
    s.settimeout(5)
    res = rawhttp.read_response(r)
    return res, r, s


def assert_limit_answer(res, r):
    assert res is not None, "connection closed without an answer"
    assert res.status == 503, (res, res.body)
    assert len(res.body) == int(res.headers["content-length"]), (res.head, res.body)
    assert VAR in rawhttp.json_message(res), res.body
    assert rawhttp.peer_eof(r, timeout=3), "the refused connection stays open"


def ping_as_other_uid(path, uid=OTHER_UID):
    """GET /_ping over the Unix socket from a child process running as `uid`; the raw
    bytes it read until close."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: only socket calls and _exit
        code = 1
        try:
            os.close(rfd)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(5)
            s.connect(path)
            s.sendall(PING_CLOSE)
            out = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                out += d
            os.write(wfd, out)
            code = 0
        except BaseException as e:  # noqa: BLE001
            os.write(wfd, b"ERROR " + repr(e).encode())
        finally:
            os._exit(code)
    os.close(wfd)
    out = b""
    while True:
        d = os.read(rfd, 65536)
        if not d:
            break
        out += d
    os.close(rfd)
    os.waitpid(pid, 0)
    return out


def served_by_other_client(p, via):
    if via == "tcp":
        res, _, s = answer_on_new_connection(p, via, source="127.0.0.2")
        s.close()
        return res
    if os.geteuid() != 0:
        pytest.skip("the other-uid client needs root to setuid")
    out = ping_as_other_uid(p.unix)
    assert not out.startswith(b"ERROR"), out
    return rawhttp.read_response(rawhttp.reader_from_bytes(out))


@pytest.mark.parametrize("nofile", [None, 64], ids=["fds-default", "fds-64"])
@pytest.mark.parametrize("via", ["unix", "tcp"])
def test_fifth_connection_of_a_client_is_refused(fake_upstream, proxy_factory, proxy_bin, tmp_path, via, nofile):
    up = fake_upstream(events_or_serve)
    env = {VAR: "4", "SOCKET_PROXY_SHUTDOWN_GRACE": "1s", "SOCKET_PROXY_SOCKET_MODE": "0666"}
    p = start_proxy(proxy_factory, proxy_bin, up, env, tmp_path, nofile)
    if via == "unix":
        os.chmod(p.workdir, 0o711)  # the other uid reaches the socket (mode 0666)
    streams = [open_stream(p, via) for _ in range(4)]
    try:
        res, r, s = answer_on_new_connection(p, via)
        try:
            assert_limit_answer(res, r)
        finally:
            s.close()

        other = served_by_other_client(p, via)
        assert other is not None and (other.status, other.body) == (200, b"OK"), other

        streams.pop().close()  # one ends: the client is served again
        last = []

        def served():
            res, _, s = answer_on_new_connection(p, via)
            s.close()
            last.append(res)
            return res is not None and res.status == 200

        wait_for(served)
        res = last[-1]
        assert res is not None and (res.status, res.body) == (200, b"OK"), (res, res and res.body)

        # The streams under the limit were never disturbed: once the proxy has acted on
        # everything, none has an EOF waiting.
        assert p.wait_idle(), "the proxy is still busy"
        for st in streams:
            assert rawhttp.peek(st) != b"", "an events stream was closed"
    finally:
        for st in streams:
            st.close()
        p.stop()


def hold_connections(p, n):
    """n keep-alive connections from this process, each answered once (a 403 the proxy
    makes itself: no daemon connection needed)."""
    held = []
    for i in range(n):
        s = p.connect("unix", timeout=10)
        s.sendall(request_bytes("GET", "/info"))
        res = rawhttp.read_response(SockReader(s))
        assert res is not None and res.status == 403, (i, res, res and res.body)
        held.append(s)
    return held


def test_default_limit_is_512_per_client(fake_upstream, proxy_factory):
    raise_nofile()
    up = fake_upstream(events_or_serve)
    p = proxy_factory({VAR: None, "SOCKET_PROXY_SHUTDOWN_GRACE": "1s"}, upstream=up.path)
    held = hold_connections(p, 512)
    try:
        res, r, s = answer_on_new_connection(p, "unix")
        try:
            assert_limit_answer(res, r)
        finally:
            s.close()
    finally:
        for s in held:
            s.close()


def test_zero_means_no_per_client_limit(fake_upstream, proxy_factory):
    raise_nofile()
    up = fake_upstream(events_or_serve)
    p = proxy_factory({VAR: "0", "SOCKET_PROXY_SHUTDOWN_GRACE": "1s"}, upstream=up.path)
    held = hold_connections(p, 600)
    try:
        res, _, s = answer_on_new_connection(p, "unix")
        s.close()
        assert res is not None and (res.status, res.body) == (200, b"OK"), (res, res and res.body)
    finally:
        for s in held:
            s.close()

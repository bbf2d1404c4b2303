"""Admission at accept: SOCKET_PROXY_ALLOW_FROM / NAME__ALLOW_FROM on TCP
(addresses, CIDRs, IPv4-mapped peers on a dual-stack listener, host names
resolved at start and again on a miss) and SOCKET_PROXY_PEER_UIDS / NAME__PEER_UIDS
/ PEER_GIDS on Unix sockets, against a recording fake daemon.

A refused TCP client gets no byte and nothing it sent reaches the daemon; the
access log has a deny line naming the variable. A refused Unix peer gets a 403
JSON answer naming its uid and the variable, then the connection closes.

Host names are resolved inside a private mount namespace whose /etc/hosts is a
file the test writes and whose /etc/nsswitch.conf says `hosts: files`: no
lookup ever leaves the machine, and the test decides what a name is."""
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time

import pytest

import conftest
from conftest import ProxyBin, free_port, wait_for
from fake import rawhttp
from fake.rawhttp import PING_CLOSE, request_bytes
from fake.upstream import serve

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mount namespace, setuid clients)")


def tcp_exchange(addr, source="127.0.0.1", raw=PING_CLOSE, timeout=6):
    """Connects to addr (host, port) from source, sends raw at once, and returns
    everything read until the proxy closes (b"" for a connection closed at
    accept; a reset counts as closed)."""
    family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if source:
            s.bind((source, 0))
        s.connect(addr)
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            return b""
        out = b""
        while True:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                return out
            if not d:
                return out
            out += d
    finally:
        s.close()


def admitted(addr, source):
    out = tcp_exchange(addr, source)
    if out == b"":
        return False
    assert rawhttp.status_of(out) == 200, out[:300]
    return True


def deny_lines(p, var):
    return [x for x in p.stderr_text().splitlines() if f'"- -" deny (not admitted by {var}) 0 0' in x]


def profile_port(p, name):
    return int(p.env[f"{name.upper()}__SOCKET_PROXY_LISTEN"].rsplit(":", 1)[1])


# -- addresses and CIDRs -----------------------------------------------------------------------

def test_allow_from_address(proxy_factory, fake_upstream):
    up = fake_upstream(serve())
    p = proxy_factory({"SOCKET_PROXY_ALLOW_FROM": "127.0.0.1"}, upstream=up.path)
    assert admitted(p.tcp, "127.0.0.1")
    assert up.wait_requests(1) and len(up.requests) == 1
    assert not admitted(p.tcp, "127.0.0.2")
    assert wait_for(lambda: deny_lines(p, "SOCKET_PROXY_ALLOW_FROM")), p.stderr_text()
    line = deny_lines(p, "SOCKET_PROXY_ALLOW_FROM")[0]
    assert re.match(r"^\S+Z 127\.0\.0\.2:\d+ \"- -\" deny", line), line  # no profiles: no [name]
    assert "admits tcp from 127.0.0.1" in p.stderr_text()
    # the Unix socket is not subject to ALLOW_FROM
    assert rawhttp.status_of(p.request(PING_CLOSE)) == 200
    time.sleep(0.2)
    assert len(up.requests) == 2, up.requests
    assert p.alive()


def test_allow_from_cidr_per_profile(proxy_factory, fake_upstream):
    """TRAEFIK__ALLOW_FROM guards traefik's listener only: the default TCP
    listener (no SOCKET_PROXY_ALLOW_FROM) admits anyone."""
    up = fake_upstream(serve())
    p = proxy_factory({"SOCKET_PROXY_PROFILES": "traefik", "TRAEFIK__ALLOW_FROM": "127.0.0.0/30,127.0.0.9",
                       "TRAEFIK__SOCKET_PROXY_LISTEN": f"127.0.0.1:{free_port()}"}, upstream=up.path)
    t = ("127.0.0.1", profile_port(p, "traefik"))
    got = {src: admitted(t, src) for src in ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.8",
                                             "127.0.0.9", "127.0.1.1")}
    assert got == {"127.0.0.1": True, "127.0.0.2": True, "127.0.0.3": True, "127.0.0.4": False,
                   "127.0.0.8": False, "127.0.0.9": True, "127.0.1.1": False}, got
    assert admitted(p.tcp, "127.0.0.4") and admitted(p.tcp, "127.0.1.1")
    assert wait_for(lambda: len(deny_lines(p, "TRAEFIK__ALLOW_FROM")) == 3), p.stderr_text()
    for line in deny_lines(p, "TRAEFIK__ALLOW_FROM"):
        assert re.match(r"^\S+Z 127\.0\.[01]\.\d+:\d+ \[traefik\] \"- -\" deny", line), line
    assert not deny_lines(p, "SOCKET_PROXY_ALLOW_FROM")


@pytest.mark.parametrize("allow,expect", [
    ("127.0.0.0/30", {"127.0.0.1": True, "127.0.0.2": True, "127.0.0.9": False, "::1": False}),
    ("::ffff:127.0.0.2", {"127.0.0.1": False, "127.0.0.2": True, "127.0.0.9": False, "::1": False}),
    ("::1", {"127.0.0.1": False, "127.0.0.2": False, "127.0.0.9": False, "::1": True}),
    ("::/0", {"127.0.0.1": False, "127.0.0.2": False, "127.0.0.9": False, "::1": True}),
    ("0.0.0.0/0", {"127.0.0.1": True, "127.0.0.2": True, "127.0.0.9": True, "::1": False}),
], ids=["v4-cidr", "mapped-entry", "v6-address", "v6-everything", "v4-everything"])
def test_ipv4_mapped_peer_on_a_dual_stack_listener(proxy_factory, fake_upstream, allow, expect):
    """Listening on [::]:PORT, an IPv4 client is the peer ::ffff:a.b.c.d: IPv4
    entries match it and IPv6 entries (even ::/0) do not."""
    up = fake_upstream(serve())
    port = free_port()
    p = proxy_factory({"SOCKET_PROXY_PROFILES": "dual", "DUAL__SOCKET_PROXY_LISTEN": f"[::]:{port}",
                       "DUAL__ALLOW_FROM": allow}, upstream=up.path)
    assert wait_for(lambda: f"tcp:[::]:{port} for profile dual" in p.stderr_text())
    got = {}
    for src in expect:
        got[src] = admitted(("::1", port), "::1") if src == "::1" else admitted(("127.0.0.1", port), src)
    assert got == expect, got
    n = sum(1 for v in expect.values() if not v)
    assert wait_for(lambda: len(deny_lines(p, "DUAL__ALLOW_FROM")) == n), p.stderr_text()


def test_refused_client_gets_no_bytes_and_reaches_nothing(proxy_factory, fake_upstream):
    """A stranger that writes its requests at once (pipelined, a body, an
    upgrade) gets no byte back and none of it reaches the daemon."""
    up = fake_upstream(serve())
    p = proxy_factory({"SOCKET_PROXY_ALLOW_FROM": "127.0.0.1", "CONTAINERS": "1", "POST": "1"}, upstream=up.path)
    raws = [
        request_bytes("GET", "/_ping") + request_bytes("GET", "/containers/json") + PING_CLOSE,
        request_bytes("POST", "/containers/create", {"Content-Type": "application/json"}, body=b'{"Image":"x"}'),
        request_bytes("POST", "/containers/x/attach?stream=1", {"Upgrade": "tcp", "Connection": "Upgrade"}),
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 64,  # a TLS hello: not even HTTP
    ]
    conns = len(up.connections)  # (the start-up check of the daemon's socket)
    for raw in raws:
        t0 = time.monotonic()
        assert tcp_exchange(p.tcp, "127.0.0.2", raw) == b""
        assert time.monotonic() - t0 < 3
    # one deny line for the address; the repeats are summed up later (quiet logs, core/quiet.c)
    assert wait_for(lambda: len(deny_lines(p, "SOCKET_PROXY_ALLOW_FROM")) == 1), p.stderr_text()
    time.sleep(0.2)
    assert len(deny_lines(p, "SOCKET_PROXY_ALLOW_FROM")) == 1, p.stderr_text()
    assert up.requests == [] and len(up.connections) == conns, up.requests
    assert admitted(p.tcp, "127.0.0.1")


# -- host names, in a private mount namespace --------------------------------------------------

NS_SCRIPT = """#!/bin/sh
exec unshare -m sh -c 'mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/nsswitch.conf && exec "$2"' \\
  {hosts} {nss} {bin}
"""


@pytest.fixture
def ns_proxy(proxy_bin):
    """ns_proxy(env, upstream, hosts_text) -> a Proxy running in its own mount
    namespace, where /etc/hosts is p.hosts (rewrite it in place to change a
    name) and names resolve from it alone."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and util-linux unshare")
    made = []

    def start(env, upstream, hosts_text):
        d = tempfile.mkdtemp(prefix="spn-", dir="/tmp")
        hosts, nss, wrapper = (os.path.join(d, n) for n in ("hosts", "nsswitch.conf", "ns.sh"))
        with open(hosts, "w") as f:
            f.write(hosts_text)
        with open(nss, "w") as f:
            f.write("hosts: files\n")
        with open(wrapper, "w") as f:
            f.write(NS_SCRIPT.format(hosts=hosts, nss=nss, bin=proxy_bin.path))
        os.chmod(wrapper, 0o755)
        os.mkdir(os.path.join(d, "vol"))
        full = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "SOCKET_PROXY_UID": "0",
                "SOCKET_PROXY_GID": "0", "SOCKET_PROXY_VOLUME": os.path.join(d, "vol"),
                "SOCKET_PROXY_LISTEN": f"127.0.0.1:{free_port()}", "SOCKET_PATH": upstream, "LOG_LEVEL": "info",
                **proxy_bin.env, **env}
        p = conftest.Proxy(ProxyBin(proxy_bin.name, wrapper, proxy_bin.asan), full, d)
        p.hosts = hosts
        made.append(p)
        return p.start()

    yield start
    problems = []
    for p in made:
        try:
            if p.proc and p.proc.poll() is None:
                p.stop()
            elif p.proc:
                p.returncode = p.proc.returncode
                p.check_sanitizers()
        except BaseException as e:  # noqa: BLE001 - stop the others too
            problems.append(str(e))
        shutil.rmtree(p.workdir, ignore_errors=True)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


HOSTS = "127.0.0.1 localhost\n"


def test_localhost_name_admits_its_address(ns_proxy, fake_upstream):
    up = fake_upstream(serve())
    p = ns_proxy({"SOCKET_PROXY_ALLOW_FROM": "localhost"}, up.path, HOSTS)
    assert wait_for(lambda: "SOCKET_PROXY_ALLOW_FROM: localhost is 127.0.0.1" in p.stderr_text()), p.stderr_text()
    assert admitted(p.tcp, "127.0.0.1")
    t0 = time.monotonic()
    assert not admitted(p.tcp, "127.0.0.2")  # a miss: resolved again, still not it
    assert time.monotonic() - t0 < 4
    assert wait_for(lambda: deny_lines(p, "SOCKET_PROXY_ALLOW_FROM")), p.stderr_text()


def test_name_that_does_not_resolve_is_a_warning(ns_proxy, fake_upstream):
    """nope.invalid: a start-up warning, no crash; it admits nothing, the
    other entries still work, and the proxy keeps serving."""
    up = fake_upstream(serve())
    p = ns_proxy({"SOCKET_PROXY_ALLOW_FROM": "nope.invalid,127.0.0.2"}, up.path, HOSTS)
    assert wait_for(lambda: "nope.invalid does not resolve" in p.stderr_text()), p.stderr_text()
    warn = [x for x in p.stderr_text().splitlines() if "nope.invalid does not resolve" in x]
    assert len(warn) == 1 and " warning: SOCKET_PROXY_ALLOW_FROM: " in warn[0], warn
    assert admitted(p.tcp, "127.0.0.2")
    assert not admitted(p.tcp, "127.0.0.1")
    assert rawhttp.status_of(p.request(PING_CLOSE)) == 200
    assert p.alive()
    # only a name that does not resolve: nobody is admitted on TCP, the proxy still runs
    q = ns_proxy({"SOCKET_PROXY_ALLOW_FROM": "nope.invalid"}, up.path, HOSTS)
    assert wait_for(lambda: "nope.invalid does not resolve" in q.stderr_text()), q.stderr_text()
    assert not admitted(q.tcp, "127.0.0.1")
    assert rawhttp.status_of(q.request(PING_CLOSE)) == 200 and q.alive()
    # the warning is said once per change, not at every miss
    assert len([x for x in q.stderr_text().splitlines() if "does not resolve" in x]) == 1, q.stderr_text()


def test_name_resolved_again_on_a_miss(ns_proxy, fake_upstream):
    """myclient is 127.0.0.2, then the hosts file says 127.0.0.3: the first
    client from .3 misses, the proxy resolves again and admits it; .2 is then
    refused. A profile's ALLOW_FROM, so the lines name the profile."""
    up = fake_upstream(serve())
    port = free_port()
    p = ns_proxy({"SOCKET_PROXY_PROFILES": "web", "WEB__SOCKET_PROXY_LISTEN": f"127.0.0.1:{port}",
                  "WEB__ALLOW_FROM": "myclient"}, up.path, HOSTS + "127.0.0.2 myclient\n")
    web = ("127.0.0.1", port)
    assert wait_for(lambda: "WEB__ALLOW_FROM: myclient is 127.0.0.2" in p.stderr_text()), p.stderr_text()
    assert "admits tcp from myclient" in p.stderr_text()
    assert admitted(web, "127.0.0.2")
    assert not admitted(web, "127.0.0.3")
    with open(p.hosts, "w") as f:  # in place: the bind mount follows the inode
        f.write(HOSTS + "127.0.0.3 myclient\n")
    t0 = time.monotonic()
    assert admitted(web, "127.0.0.3")
    assert time.monotonic() - t0 < 4
    assert "WEB__ALLOW_FROM: myclient is 127.0.0.3" in p.stderr_text()
    assert not admitted(web, "127.0.0.2")
    lines = deny_lines(p, "WEB__ALLOW_FROM")
    assert len(lines) == 2 and all(" [web] " in x for x in lines), lines
    assert [x.split()[1].split(":")[0] for x in lines] == ["127.0.0.3", "127.0.0.2"], lines


def test_strangers_waiting_on_a_resolution_then_shutdown(ns_proxy, fake_upstream):
    """Strangers that connect while a name is being resolved again wait (at
    most 2 s); some hang up while waiting, and SIGTERM comes while others
    still wait: the proxy admits its real client meanwhile and exits cleanly
    (under ASan: no use after free, no leak)."""
    up = fake_upstream(serve())
    p = ns_proxy({"SOCKET_PROXY_ALLOW_FROM": "localhost", "SOCKET_PROXY_SHUTDOWN_GRACE": "1s"}, up.path, HOSTS)
    assert wait_for(lambda: "localhost is 127.0.0.1" in p.stderr_text()), p.stderr_text()
    waiting = []
    for i in range(40):
        s = socket.socket()
        s.bind((f"127.0.0.{2 + i % 5}", 0))
        s.connect(p.tcp)
        if i % 2:
            s.close()  # hangs up while its admission waits
        else:
            waiting.append(s)
    assert admitted(p.tcp, "127.0.0.1")
    assert p.stop() == 0
    for s in waiting:
        s.settimeout(3)
        try:
            assert s.recv(100) == b""
        except ConnectionResetError:
            pass
        s.close()
    assert up.requests and all(r.target == "/_ping" for r in up.requests) and len(up.requests) == 1


def test_stranger_over_a_limit_still_gets_no_bytes(ns_proxy, fake_upstream):
    """A stranger that holds a connection (waiting while the names are
    resolved again) and opens another hits SOCKET_PROXY_MAX_CLIENT_CONNS: it
    is still closed without a byte (no 503 telling it what it reached), with
    the deny line; an admitted client over the limit gets the 503 as before."""
    up = fake_upstream(serve())
    p = ns_proxy({"SOCKET_PROXY_ALLOW_FROM": "localhost", "SOCKET_PROXY_MAX_CLIENT_CONNS": "1"}, up.path, HOSTS)
    assert wait_for(lambda: "localhost is 127.0.0.1" in p.stderr_text()), p.stderr_text()
    held = socket.socket()
    held.bind(("127.0.0.2", 0))
    held.connect(p.tcp)  # waits for its admission
    try:
        assert tcp_exchange(p.tcp, "127.0.0.2") == b""
    finally:
        held.close()
    # one deny line for the address (the first refused: the one over the limit, at its accept); the
    # repeat is summed up later (quiet logs)
    assert wait_for(lambda: len(deny_lines(p, "SOCKET_PROXY_ALLOW_FROM")) == 1), p.stderr_text()
    # the line's duration runs from that connection's accept (not from 0)
    took = [float(x.rsplit(" ", 1)[1].rstrip("ms")) for x in deny_lines(p, "SOCKET_PROXY_ALLOW_FROM")]
    assert all(0 <= t < 60000 for t in took), took
    assert p.wait_idle()  # every earlier connection (the readiness probe's too) has left the count
    own = socket.create_connection(p.tcp, source_address=("127.0.0.1", 0))
    try:
        own.sendall(request_bytes("GET", "/_ping"))
        assert rawhttp.read_response(rawhttp.SockReader(own)).status == 200
        out = tcp_exchange(p.tcp, "127.0.0.1")
        assert rawhttp.status_of(out) == 503 and b"SOCKET_PROXY_MAX_CLIENT_CONNS" in out, out
    finally:
        own.close()


# -- Unix peers: PEER_UIDS / PEER_GIDS ---------------------------------------------------------------

CLIENT = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.buffer.write(out)
"""


def as_peer(path, uid, gid, raw=PING_CLOSE):
    """raw over the Unix socket at path from a process with this uid and gid (no
    supplementary groups); everything it read until the proxy closed."""
    r = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "/usr/bin/python3", "-c",
                        CLIENT, path, raw.decode("latin-1").encode("unicode_escape").decode()],
                       capture_output=True, timeout=15)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout


def peer_socket(p, name=None):
    """The profile's (or the default) socket, reachable by any uid: mode 0666
    is set through the env; the test's directory must be traversable."""
    os.chmod(p.workdir, 0o711)
    path = os.path.join(p.env["SOCKET_PROXY_VOLUME"], name, "docker.sock") if name else p.unix
    assert wait_for(lambda: os.path.exists(path))
    return path


def refused_403(out, uid, gid, var):
    res = rawhttp.read_response(rawhttp.reader_from_bytes(out))
    assert res is not None and res.status == 403, out[:400]
    assert res.headers.get("content-type", "").startswith("application/json"), res.headers
    assert res.headers.get("connection", "").lower() == "close", res.headers
    msg = json.loads(res.body)["message"]
    assert f"uid {uid} (gid {gid})" in msg and var in msg, msg
    assert len(res.body) == int(res.headers["content-length"]) and out.endswith(res.body)  # nothing after it
    return msg


@ROOT_ONLY
def test_peer_uids_admit_and_refuse_on_one_socket(proxy_factory, fake_upstream):
    up = fake_upstream(serve())
    p = proxy_factory({"SOCKET_PROXY_PROFILES": "app", "APP__PEER_UIDS": "0,1234",
                       "SOCKET_PROXY_SOCKET_MODE": "0666"}, upstream=up.path)
    path = peer_socket(p, "app")
    assert rawhttp.status_of(as_peer(path, 0, 0)) == 200
    assert rawhttp.status_of(as_peer(path, 1234, 1234)) == 200
    msg = refused_403(as_peer(path, 4321, 4321), 4321, 4321, "APP__PEER_UIDS")
    assert "APP__PEER_GIDS" in msg, msg
    assert wait_for(lambda: re.search(r"uid=4321 pid=\d+ \[app\] \"- -\" deny \(uid 4321 not admitted by "
                                      r"APP__PEER_UIDS\) 403", p.stderr_text())), p.stderr_text()
    time.sleep(0.2)
    assert len(up.requests) == 2, up.requests  # the refused peer's ping never reached the daemon
    # the default socket has no PEER_UIDS: anyone who can open it
    assert rawhttp.status_of(as_peer(peer_socket(p), 4321, 4321)) == 200


@ROOT_ONLY
def test_peer_gids(proxy_factory, fake_upstream):
    """PEER_GIDS alone: the peer's gid decides; uid 0 is not special."""
    up = fake_upstream(serve())
    p = proxy_factory({"SOCKET_PROXY_PROFILES": "grp", "GRP__PEER_GIDS": "555",
                       "SOCKET_PROXY_SOCKET_MODE": "0666"}, upstream=up.path)
    path = peer_socket(p, "grp")
    assert rawhttp.status_of(as_peer(path, 4321, 555)) == 200
    refused_403(as_peer(path, 4321, 556), 4321, 556, "GRP__PEER_UIDS")
    refused_403(as_peer(path, 0, 0), 0, 0, "GRP__PEER_GIDS")


@ROOT_ONLY
def test_peer_uids_or_gids(proxy_factory, fake_upstream):
    up = fake_upstream(serve())
    p = proxy_factory({"SOCKET_PROXY_PROFILES": "both", "BOTH__PEER_UIDS": "1000", "BOTH__PEER_GIDS": "2000",
                       "SOCKET_PROXY_SOCKET_MODE": "0666"}, upstream=up.path)
    path = peer_socket(p, "both")
    got = {(u, g): rawhttp.status_of(as_peer(path, u, g)) for u, g in ((1000, 1), (1, 2000), (1000, 2000), (1, 1))}
    assert got == {(1000, 1): 200, (1, 2000): 200, (1000, 2000): 200, (1, 1): 403}, got


@ROOT_ONLY
def test_default_socket_peer_uids(proxy_factory, fake_upstream):
    """SOCKET_PROXY_PEER_UIDS guards the default socket, never TCP."""
    up = fake_upstream(serve())
    p = proxy_factory({"SOCKET_PROXY_PEER_UIDS": "1234", "SOCKET_PROXY_SOCKET_MODE": "0666"}, upstream=up.path)
    path = peer_socket(p)
    msg = refused_403(as_peer(path, 0, 0), 0, 0, "SOCKET_PROXY_PEER_UIDS")
    assert "SOCKET_PROXY_PEER_GIDS" in msg, msg
    assert rawhttp.status_of(as_peer(path, 1234, 1234)) == 200
    assert admitted(p.tcp, "127.0.0.2")
    assert wait_for(lambda: re.search(r"uid=0 pid=\d+ \"- -\" deny \(uid 0 not admitted by SOCKET_PROXY_PEER_UIDS\)",
                                      p.stderr_text())), p.stderr_text()


@ROOT_ONLY
def test_refused_peer_answer_to_head_and_to_silence(proxy_factory, fake_upstream):
    """The 403 comes at accept, whatever the peer sends (or if it sends
    nothing), and the connection closes after it."""
    up = fake_upstream(serve())
    p = proxy_factory({"SOCKET_PROXY_PEER_UIDS": "1234", "SOCKET_PROXY_SOCKET_MODE": "0666"}, upstream=up.path)
    path = peer_socket(p)
    for raw in (b"", request_bytes("HEAD", "/_ping"), request_bytes("GET", "/_ping") * 3):
        refused_403(as_peer(path, 4321, 4321, raw), 4321, 4321, "SOCKET_PROXY_PEER_UIDS")
    time.sleep(0.2)
    assert up.requests == []

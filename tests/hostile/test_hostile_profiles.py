"""The whole hostile corpus through profile sockets: every row gets the same
verdict, and nothing outside its `reach` list arrives at the daemon, when its
rules are a profile's (R3__CONTAINERS=1 for the row's CONTAINERS=1) rather than
the unprefixed variables. A 403 that names variables names the profile's.

To keep it short, one proxy serves many rows: the rows are cut into shards, a
shard's distinct rule sets become that proxy's profiles (at most 16), and the
shards run side by side, each against its own recording upstream, its rows one
after the other (so the requests that reach a shard's upstream during a row are
that row's). Server-wide variables (SOCKET_PROXY_MAX_HEAD, ..._HEAD_TIMEOUT,
..._MIN_API_VERSION) are the proxy's, so rows with them get proxies of their own.

The transport is a parameter: "unix", each profile's own socket; "tls", the
shard's one TCP listener speaking TLS (SOCKET_PROXY_TLS_DIR), where the client
certificate (CN=hostile-r<i>, named by R<i>__TLS_CLIENT) chooses the profile, so
every row also crosses the TLS layer, its writes as records of their own."""
import os
import re
import socket
import sys
import threading
import time

import pytest

from conftest import free_port  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus import CASES  # noqa: E402
from fake.rawhttp import json_message, read_response, reader_from_bytes, status_of  # noqa: E402
from fake.tlsclient import client_context, tls_conn  # noqa: E402
from fake.upstream import serve  # noqa: E402
from test_hostile import PING_CLOSE, check_answer, exchange, settle  # noqa: E402

SHARD_ROWS = 34  # rows per proxy: about 15 s of exchanges each


class ProfileSocket:
    """What exchange() needs of a proxy: connect() to one profile's socket;
    waiting for it to settle and its log are the whole proxy's."""

    def __init__(self, path, proxy):
        self.path = path
        self.wait_idle = proxy.wait_idle
        self.stderr_text = proxy.stderr_text

    def connect(self, via, timeout=5):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.path)
        return s

    def request(self, raw, timeout=3):
        s = self.connect("unix", timeout)
        out = b""
        try:
            s.sendall(raw)
            while True:
                d = s.recv(65536)
                if not d:
                    return out
                out += d
        except (socket.timeout, ConnectionResetError):
            return out
        finally:
            s.close()


class TLSProfile(ProfileSocket):
    """The same over TLS: the shard's TCP listener, with a client certificate
    that a profile's TLS_CLIENT names."""

    def __init__(self, addr, ctx, proxy):
        super().__init__(None, proxy)
        self.addr = addr
        self.ctx = ctx

    def connect(self, via, timeout=5):
        return tls_conn(self.addr, self.ctx, timeout)


def shards():
    """[(server env, [(case, rules env key)])]: rows grouped by their server
    variables, each group cut round-robin into shards of about SHARD_ROWS."""
    groups = {}
    for case in CASES:
        server = tuple(sorted((k, v) for k, v in case["env"].items() if k.startswith("SOCKET_PROXY_")))
        rules = tuple(sorted((k, v) for k, v in case["env"].items() if not k.startswith("SOCKET_PROXY_")))
        groups.setdefault(server, []).append((case, rules))
    out = []
    for server, rows in groups.items():
        n = max(1, round(len(rows) / SHARD_ROWS))
        out += [(dict(server), rows[i::n]) for i in range(n)]
    return out


def start_shard(proxy_factory, fake_upstream, server, rows, certs=None):
    """The shard's proxy: a profile r<i> per distinct rule set (with certs: named
    by the client certificate CN=hostile-r<i> on the TLS listener). Returns
    (proxy, upstream, {rules key: (profile prefix, its socket or TLS client)})."""
    keys = sorted({rules for _, rules in rows})
    assert len(keys) <= 16, f"{len(keys)} rule sets in one shard: at most 16 profiles"
    env = {"SOCKET_PROXY_PROFILES": ",".join(f"r{i}" for i in range(len(keys))), "SOCKET_PROXY_LISTEN": "off",
           **server}
    if certs:
        env.update({"SOCKET_PROXY_TLS_DIR": certs.proxy_dir(), "SOCKET_PROXY_LISTEN": f"127.0.0.1:{free_port()}"})
    for i, key in enumerate(keys):
        env.update({f"R{i}__{k}": v for k, v in key})
        if certs:
            env[f"R{i}__TLS_CLIENT"] = f"hostile-r{i}"
    up = fake_upstream(serve())
    p = proxy_factory(env, upstream=up.path)
    vol = p.env["SOCKET_PROXY_VOLUME"]
    socks = {}
    for i, key in enumerate(keys):
        if certs:
            socks[key] = (f"R{i}__", TLSProfile(p.tcp, client_context(certs, f"hostile-r{i}"), p))
            continue
        path = os.path.join(vol, f"r{i}", "docker.sock")
        deadline = time.monotonic() + 5
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.02)
        socks[key] = (f"R{i}__", ProfileSocket(path, p))
    return p, up, socks


def check_through_profile(case, prefix, via, up):
    """One row through its profile's socket: the corpus's oracle, the
    profile's variable names in a 403, and the socket still serving."""
    before = len(up.requests)
    out = exchange(via, case, up)
    settle(via, up)
    check_answer(case, out, up.requests[before:], via.stderr_text)
    if status_of(out) == 403 and not case["raw"][0].startswith(b"HEAD "):
        msg = json_message(read_response(reader_from_bytes(out)))
        needs = re.search(r"\(needs (.*)\)$", msg)
        if needs:
            # "CONTAINERS=1 and POST=1", or a body variable: "ALLOW_BINDS"
            names = re.findall(r"\b([A-Z][A-Z0-9_]{2,})\b", needs.group(1))
            assert names and all(n.startswith(prefix) for n in names), (prefix, msg)
    again = via.request(PING_CLOSE)
    assert status_of(again) == 200, again[:300]


@pytest.mark.parametrize("transport", ["unix", "tls"])
def test_hostile_corpus_through_profiles(proxy_factory, fake_upstream, transport, request):
    certs = request.getfixturevalue("tls_certs") if transport == "tls" else None
    plan = shards()
    assert sum(len(rows) for _, rows in plan) == len(CASES)
    started = [(start_shard(proxy_factory, fake_upstream, server, rows, certs), rows) for server, rows in plan]
    failures, done = [], []
    lock = threading.Lock()

    def run(shard, rows):
        p, up, socks = shard
        for case, rules in rows:
            prefix, via = socks[rules]
            try:
                check_through_profile(case, prefix, via, up)
            except Exception as e:  # noqa: BLE001 - collect every row's failure
                with lock:
                    failures.append(f"{case['name']!r} (as {prefix}*): {str(e)[:600]}")
            with lock:
                done.append(case["name"])

    threads = [threading.Thread(target=run, args=s, daemon=True) for s in started]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a shard did not finish"
    assert not failures, (f"{len(failures)} of {len(CASES)} rows differ through a profile ({transport}):\n" +
                          "\n".join(failures))
    assert len(done) == len(CASES)
    for (p, _, _), _ in started:
        assert p.alive(), p.stderr_text()[-2000:]

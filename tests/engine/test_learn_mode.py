"""Learn mode (SOCKET_PROXY_MODE=learn, issue 12) in the connection code, with a
recording fake daemon: what the path rules deny is forwarded and logged
learn-allow; framing, request bodies and admission stay enforced; the report
comes on SIGUSR1, at exit and on the metrics listener. The real-daemon round
trip (learn, then enforce what was learned) is in
tests/integration/test_learn_docker.py."""
import os
import signal
import socket

from conftest import free_port, wait_for
from fake.rawhttp import read_response, read_until_close, reader_from_bytes, request_bytes, status_of
from fake.upstream import serve


def stdout_text(p):
    with open(p.stdout_path, "rb") as f:
        return f.read().decode(errors="replace")


def ask(p, raw):
    s = p.connect()
    s.sendall(raw)
    out = read_until_close(s, timeout=5)
    s.close()
    return out


def test_learn_mode_forwards_what_the_path_rules_deny(fake_upstream, proxy_factory):
    up = fake_upstream(serve())
    p = proxy_factory({"SOCKET_PROXY_MODE": "learn"}, upstream=up.path)
    assert wait_for(lambda: "NOT ENFORCING" in p.stderr_text()), p.stderr_text()
    out = ask(p, request_bytes("GET", "/v1.41/containers/json", {"Connection": "close"}))
    assert status_of(out) == 200, out
    assert wait_for(lambda: '"GET /v1.41/containers/json" learn-allow (CONTAINERS=1)' in p.stderr_text()), \
        p.stderr_text()
    # framing and ambiguous paths stay refused, and never reach the daemon
    before = len(up.requests)
    assert status_of(ask(p, b"GET /containers/json HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n"
                            b"Content-Length: 3\r\n\r\n")) == 400
    assert status_of(ask(p, request_bytes("GET", "/v1.20/containers/json", {"Connection": "close"}))) == 400
    # a request body is judged as when enforcing: the path is learned, the privilege is not given
    body = b'{"Image":"x","HostConfig":{"Privileged":true}}'
    out = ask(p, request_bytes("POST", "/v1.41/containers/create", {"Content-Type": "application/json",
                                                                    "Connection": "close"}, body=body))
    assert status_of(out) == 403 and b"ALLOW_PRIVILEGED" in out, out
    assert len(up.requests) == before
    # what was learned, on SIGUSR1
    p.proc.send_signal(signal.SIGUSR1)
    assert wait_for(lambda: "- CONTAINERS=1" in stdout_text(p)), stdout_text(p) + p.stderr_text()
    assert "POST=1" not in stdout_text(p)  # the refused create taught nothing


def test_learned_on_the_metrics_listener_and_at_exit(fake_upstream, proxy_factory):
    up = fake_upstream(serve())
    addr = ("127.0.0.1", free_port())
    p = proxy_factory({"SOCKET_PROXY_MODE": "learn", "SOCKET_PROXY_METRICS": "%s:%d" % addr,
                       "SOCKET_PROXY_PROFILES": "ops", "OPS__IMAGES": "1"}, upstream=up.path)
    assert wait_for(lambda: "metrics on tcp:" in p.stderr_text()), p.stderr_text()
    ops = socket.socket(socket.AF_UNIX)
    ops.connect(os.path.join(p.env["SOCKET_PROXY_VOLUME"], "ops", "docker.sock"))
    ops.sendall(request_bytes("GET", "/v1.41/images/json") + request_bytes("POST", "/v1.41/networks/create",
                                                                          {"Connection": "close"}, body=b"{}"))
    out = read_until_close(ops, timeout=5)
    ops.close()
    assert out.count(b"HTTP/1.1 200") == 2, out
    s = socket.create_connection(addr, timeout=5)
    s.sendall(request_bytes("GET", "/_socket-proxy/learned"))
    res = read_response(reader_from_bytes(read_until_close(s, timeout=5)))
    s.close()
    assert res.status == 200, res
    text = res.body.decode()
    assert "OPS__NETWORKS=1" in text and "OPS__POST=1" in text, text
    assert "OPS__IMAGES=1" in text, text  # what the client used, whatever the running set grants
    p.stop()
    assert "OPS__NETWORKS=1" in stdout_text(p)  # printed at exit too


def test_enforce_is_the_default_and_bad_modes_are_refused(fake_upstream, proxy_factory):
    up = fake_upstream(serve())
    p = proxy_factory({}, upstream=up.path)
    assert status_of(ask(p, request_bytes("GET", "/containers/json", {"Connection": "close"}))) == 403
    assert "NOT ENFORCING" not in p.stderr_text()
    p.stop()
    bad = proxy_factory({"SOCKET_PROXY_MODE": "lean"}, upstream=up.path, wait_ready=False)
    assert wait_for(lambda: not bad.alive(), timeout=10)
    err = bad.stderr_text()
    assert "SOCKET_PROXY_MODE" in err and "enforce or learn" in err, err


def test_tcp_clients_are_named_by_allow_from(fake_upstream, proxy_factory):
    """A TCP client whose address resolves back to an ALLOW_FROM name is
    reported under that name too (/etc/hosts: localhost is 127.0.0.1)."""
    up = fake_upstream(serve())
    p = proxy_factory({"SOCKET_PROXY_MODE": "learn", "SOCKET_PROXY_ALLOW_FROM": "localhost"}, upstream=up.path)
    assert wait_for(lambda: "localhost is 127.0.0.1" in p.stderr_text()), p.stderr_text()
    s = socket.create_connection(p.tcp, source_address=("127.0.0.1", 0), timeout=5)
    s.sendall(request_bytes("GET", "/v1.41/volumes", {"Connection": "close"}))
    assert status_of(read_until_close(s, timeout=5)) == 200
    s.close()
    p.proc.send_signal(signal.SIGUSR1)
    assert wait_for(lambda: "client 127.0.0.1 (localhost)" in stdout_text(p)), stdout_text(p)
    assert "- VOLUMES=1" in stdout_text(p)


def test_body_variables_learned_from_what_bodies_used(fake_upstream, proxy_factory):
    """Run with the body switches open: the report names only the ones the
    bodies used, and the exact host paths they bound."""
    up = fake_upstream(serve())
    p = proxy_factory({"SOCKET_PROXY_MODE": "learn", "ALLOW_BINDS": "/", "ALLOW_PRIVILEGED": "1",
                       "ALLOW_CAPABILITIES": "1", "CONTAINERS": "1", "POST": "1"}, upstream=up.path)
    body = (b'{"Image":"x","HostConfig":{"Privileged":true,"Binds":["/srv/app/data:/data","named:/n"],'
            b'"Mounts":[{"Type":"bind","Source":"/srv/x/../cfg","Target":"/cfg"}]}}')
    out = ask(p, request_bytes("POST", "/v1.41/containers/create", {"Content-Type": "application/json",
                                                                    "Connection": "close"}, body=body))
    assert status_of(out) == 200, out
    p.proc.send_signal(signal.SIGUSR1)
    assert wait_for(lambda: "ALLOW_PRIVILEGED=1" in stdout_text(p)), stdout_text(p)
    text = stdout_text(p)
    assert "ALLOW_BINDS=/srv/app/data,/srv/cfg" in text, text
    assert "ALLOW_CAPABILITIES" not in text and "- CONTAINERS=1" in text and "- POST=1" in text, text

"""The metrics listener (SOCKET_PROXY_METRICS; core/metrics.c, core/metrics_listen.c):
a TCP socket of its own that answers GET /metrics in Prometheus' text format 0.0.4
and nothing else, one request per connection, bounded in time and in number of
connections; the proxy's own sockets know nothing of it. Against the fake upstream
(no daemon needed)."""
import os
import re
import signal
import socket
import subprocess

import pytest

from conftest import ROOT, free_port, wait_for
from fake.rawhttp import read_until_close, reader_from_bytes, read_response, request_bytes, status_of
from fake.upstream import events_or_serve, serve

PROM_TYPE = "text/plain; version=0.0.4; charset=utf-8"
HEAD_TIMEOUT_S = 5  # METRICS_HEAD_TIMEOUT_MS
MAX_CONNS = 16      # METRICS_MAX_CONNS

with open(os.path.join(ROOT, "VERSION")) as f:
    VERSION = f.read().strip()


def metrics_proxy(fake_upstream, proxy_factory, env=None):
    """A proxy with the metrics listener on a free port: (proxy, upstream, (host, port))."""
    up = fake_upstream(serve())
    addr = ("127.0.0.1", free_port())
    p = proxy_factory(upstream=up.path, env={"SOCKET_PROXY_METRICS": "%s:%d" % addr, **(env or {})})
    # The proxy is ready once its own sockets are; the metrics listener binds right after them.
    assert wait_for(lambda: "metrics on tcp:" in p.stderr_text()), p.stderr_text()
    return p, up, addr


def ask(addr, raw, timeout=10):
    """raw on a fresh connection to the metrics listener: everything until it closes."""
    s = socket.create_connection(addr, timeout=timeout)
    try:
        s.sendall(raw)
        return read_until_close(s, timeout)
    finally:
        s.close()


def answer(addr, method, target, body=None):
    """One request to the metrics listener, read by its framing: a Response."""
    raw = ask(addr, request_bytes(method, target, body=body))
    res = read_response(reader_from_bytes(raw), method=method)
    assert res is not None, f"{method} {target}: closed without an answer"
    return res


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*",?)*)\})? (\S+)$')


def parse_exposition(text):
    """{sample name with its labels: value} of a text exposition, checked line by line
    against the format: every sample's family announced by a # TYPE line first."""
    types, samples = {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            types[name] = kind
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name = m.group(1)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, f"{name} has no # TYPE line before it"
        float(m.group(3))
        key = name + ("{" + m.group(2) + "}" if m.group(2) else "")
        assert key not in samples, f"{key} twice"
        samples[key] = m.group(3)
    return samples


def test_metrics_answers_in_prometheus_text(fake_upstream, proxy_factory):
    p, _, addr = metrics_proxy(fake_upstream, proxy_factory)
    for target in ("/metrics", "/metrics?name[]=process_open_fds"):
        res = answer(addr, "GET", target)
        assert res.status == 200, res
        assert res.headers["content-type"] == PROM_TYPE, res.head
        assert res.headers["connection"] == "close", res.head
        assert int(res.headers["content-length"]) == len(res.body), res.head
        samples = parse_exposition(res.body.decode())
        assert samples[f'socket_proxy_build_info{{version="{VERSION}"}}'] == "1", samples
        assert int(samples["process_open_fds"]) > 2, samples
        assert int(samples["process_resident_memory_bytes"]) > 0, samples
        assert samples['socket_proxy_request_duration_seconds_bucket{profile="default",le="+Inf"}'] == "0", samples
        for kind in ("400", "403", "408", "413", "431", "503", "allow_from", "limit"):
            assert f'socket_proxy_refusals_total{{kind="{kind}"}}' in samples, samples
    head = answer(addr, "HEAD", "/metrics")
    assert head.status == 200 and head.headers["content-type"] == PROM_TYPE and head.body == b"", head
    assert int(head.headers["content-length"]) > 0, head.head


# method, target -> status: the listener refuses everything but GET (and HEAD) /metrics.
REFUSED = [
    ("GET", "/", 404),
    ("GET", "/metricsx", 404),
    ("GET", "/metrics/", 404),
    ("GET", "/v1.41/containers/json", 404),
    ("GET", "/_ping", 404),
    ("GET", "/_socket-proxy/learned", 404),  # no learn mode: nothing learned to show
    ("POST", "/metrics", 405),
    ("PUT", "/metrics", 405),
    ("DELETE", "/metrics", 405),
]


def test_anything_else_is_refused(fake_upstream, proxy_factory):
    p, up, addr = metrics_proxy(fake_upstream, proxy_factory)
    for method, target, status in REFUSED:
        res = answer(addr, method, target, body=b"{}" if method in ("POST", "PUT") else None)
        assert res.status == status, (method, target, res)
        assert res.headers["connection"] == "close", res.head
        if status == 405:
            assert res.headers["allow"] == "GET, HEAD", res.head
    assert status_of(ask(addr, b"GET /metrics HTTP/1.1\nHost: x\r\n\r\n")) == 400
    assert status_of(ask(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 9000 + b"\r\n\r\n")) == 431
    assert up.requests == [], "the metrics listener never talks to the daemon"


def test_proxy_sockets_do_not_answer_metrics(fake_upstream, proxy_factory):
    """GET /metrics on the proxy's own sockets is a Docker API path like any other,
    decided by the rules: /metrics is no section, so 403, and the daemon never sees it."""
    p, up, _ = metrics_proxy(fake_upstream, proxy_factory)
    for via in ("unix", "tcp"):
        status, _, body = p.http("GET", "/metrics", via=via)
        assert status == 403, (via, status, body)
        assert b"socket_proxy_" not in body
    assert all(r.path != "/metrics" for r in up.requests), up.requests


def test_slow_client_is_closed_after_the_head_timeout(fake_upstream, proxy_factory):
    p, _, addr = metrics_proxy(fake_upstream, proxy_factory)
    s = socket.create_connection(addr, timeout=5)
    s.sendall(b"GET /metr")
    got = read_until_close(s, HEAD_TIMEOUT_S + 10)  # raises socket.timeout if it is never closed
    s.close()
    assert status_of(got) == 408, got
    assert answer(addr, "GET", "/metrics").status == 200  # the listener serves on


def test_connections_beyond_the_bound_are_closed(fake_upstream, proxy_factory):
    p, _, addr = metrics_proxy(fake_upstream, proxy_factory)
    held = []
    try:
        for _ in range(MAX_CONNS):
            s = socket.create_connection(addr, timeout=5)
            s.sendall(b"GET /metr")
            held.append(s)
        assert p.wait_idle(), "the proxy took the held connections in"
        extra = socket.create_connection(addr, timeout=5)
        assert read_until_close(extra, 5) == b"", "closed at accept, unanswered"
        extra.close()
    finally:
        for s in held:
            s.close()
    assert wait_for(lambda: status_of(ask(addr, request_bytes("GET", "/metrics"))) == 200)


def test_sigterm_ends_the_loop_with_a_metrics_connection_open(fake_upstream, proxy_factory):
    p, _, addr = metrics_proxy(fake_upstream, proxy_factory)
    s = socket.create_connection(addr, timeout=5)
    s.sendall(b"GET /metr")
    assert p.wait_idle()
    assert p.stop(signal.SIGTERM) == 0, p.stderr_text()
    assert read_until_close(s, 5) == b""
    s.close()


@pytest.mark.parametrize("value", ["", "off", "OFF"])
def test_off(fake_upstream, proxy_factory, value):
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path, env={"SOCKET_PROXY_METRICS": value})
    assert status_of(p.request(request_bytes("GET", "/_ping", {"Connection": "close"}))) == 200
    assert "metrics" not in p.stderr_text(), p.stderr_text()


def start_failing(proxy_bin, tmp_path, value):
    env = {"PATH": "/usr/bin:/bin", "SOCKET_PROXY_VOLUME": str(tmp_path), "SOCKET_PROXY_LISTEN": "off",
           "SOCKET_PROXY_UID": "0", "SOCKET_PROXY_GID": "0", "SOCKET_PATH": "/nonexistent.sock",
           "SOCKET_PROXY_METRICS": value, **proxy_bin.env}
    r = subprocess.run([proxy_bin.path], env=env, capture_output=True, text=True, timeout=10)
    assert r.returncode not in (0, 66), r.stderr  # 66: a sanitizer report
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    return lines


@pytest.mark.parametrize("value", ["bad", "localhost:9100", "9100", "127.0.0.1", "127.0.0.1:0", "[::1]",
                                   "127.0.0.1:9100,[::1]:9100", "127.0.0.1:65536"])
def test_bad_value_is_one_line_and_exits(proxy_bin, tmp_path, value):
    lines = start_failing(proxy_bin, tmp_path, value)
    assert len(lines) == 1, lines
    assert f'SOCKET_PROXY_METRICS="{value}" is invalid' in lines[0], lines
    assert "one numeric address with a port" in lines[0], lines


def test_a_port_in_use_stops_start_up(proxy_bin, tmp_path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        lines = start_failing(proxy_bin, tmp_path, f"127.0.0.1:{port}")
    finally:
        busy.close()
    assert any(f"SOCKET_PROXY_METRICS: cannot listen on 127.0.0.1:{port}: address already in use" in x
               for x in lines), lines


def test_counts_after_a_known_mix(fake_upstream, proxy_factory):
    """A known mix of requests through the proxy, then the exact counts a scrape
    shows. The section is the variable that decided; a 400 has none."""
    p, _, addr = metrics_proxy(fake_upstream, proxy_factory)
    mix = [("GET", "/_ping")] * 3 + [("GET", "/v1.41/containers/json")] * 2 + [("HEAD", "/_ping"),
                                                                              ("GET", "/v1.20/_ping")]
    for method, target in mix:
        p.request(request_bytes(method, target, {"Connection": "close"}))
    assert p.wait_idle()
    samples = parse_exposition(answer(addr, "GET", "/metrics").body.decode())
    requests = {k: v for k, v in samples.items() if k.startswith("socket_proxy_requests_total{")}
    labels = 'socket_proxy_requests_total{profile="default",method="%s",section="%s",decision="%s",code="%s"}'
    assert requests == {
        labels % ("GET", "PING", "allow", "2xx"): "3",
        labels % ("GET", "CONTAINERS", "deny", "4xx"): "2",
        labels % ("HEAD", "PING", "allow", "2xx"): "1",
        labels % ("GET", "none", "bad", "4xx"): "1",
    }, requests
    assert samples['socket_proxy_request_duration_seconds_count{profile="default"}'] == "7"
    assert samples['socket_proxy_refusals_total{kind="403"}'] == "2"
    assert samples['socket_proxy_refusals_total{kind="400"}'] == "1"
    assert samples["socket_proxy_client_connections"] == "0"
    assert samples["socket_proxy_streams"] == "0"
    assert samples["socket_proxy_bad_gateway_total"] == "0"
    assert samples["socket_proxy_upstream_dial_failures_total"] == "0"
    assert int(samples['socket_proxy_bytes_total{direction="in"}']) > 0
    assert int(samples['socket_proxy_bytes_total{direction="out"}']) > 0


def test_gauges_streams_and_strangers(fake_upstream, proxy_factory):
    """An open event stream shows in the connections and streams gauges while it
    lasts; a stranger refused by ALLOW_FROM counts as a refusal, not a request."""
    up = fake_upstream(events_or_serve)
    addr = ("127.0.0.1", free_port())
    p = proxy_factory(upstream=up.path, env={"SOCKET_PROXY_METRICS": "%s:%d" % addr,
                                             "SOCKET_PROXY_ALLOW_FROM": "127.0.0.1"})
    assert wait_for(lambda: "metrics on tcp:" in p.stderr_text()), p.stderr_text()
    s = p.connect()
    s.sendall(request_bytes("GET", "/events"))
    s.settimeout(5)
    assert s.recv(65536).startswith(b"HTTP/1.1 200")
    assert p.wait_idle()
    samples = parse_exposition(answer(addr, "GET", "/metrics").body.decode())
    assert samples["socket_proxy_client_connections"] == "1" and samples["socket_proxy_streams"] == "1", samples
    s.close()
    stranger = socket.socket()
    stranger.bind(("127.0.0.2", 0))
    stranger.connect(p.tcp)
    stranger.settimeout(5)
    assert stranger.recv(100) == b""
    stranger.close()
    assert p.wait_idle()

    def settled():
        got = parse_exposition(answer(addr, "GET", "/metrics").body.decode())
        return got if got["socket_proxy_client_connections"] == "0" else None
    samples = wait_for(settled)
    assert samples, "the stream's connection never left the gauge"
    assert samples["socket_proxy_streams"] == "0"
    assert samples['socket_proxy_refusals_total{kind="allow_from"}'] == "1"
    requests = {k: v for k, v in samples.items() if k.startswith("socket_proxy_requests_total{")}
    assert requests == {'socket_proxy_requests_total{profile="default",method="GET",section="EVENTS",'
                        'decision="allow",code="2xx"}': "1"}, requests
    # the stream is not in the duration histogram
    assert samples['socket_proxy_request_duration_seconds_count{profile="default"}'] == "0"

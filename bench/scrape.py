#!/usr/bin/env python3
"""How long a Prometheus scrape of socket-proxy takes while it holds 1,000 open
client connections (issue 12: under 10 ms), against bench/upstream.c (a fast
fake daemon). Prints the median, 90th and 99th percentile of --n scrapes.

    python3 bench/scrape.py [--conns 1000] [--n 200] [--results FILE]

Needs build/socket-proxy and build/bench/upstream (`ninja bench_scrape` builds
them first). Every process it starts is stopped by pid at the end.
"""
import argparse
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROXY = os.environ.get("SOCKET_PROXY_BIN", os.path.join(ROOT, "build", "socket-proxy"))
UPSTREAM = os.path.join(ROOT, "build", "bench", "upstream")
SECTION = "## Metrics scrape"

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bodies import publish  # noqa: E402
from compare import free_port  # noqa: E402


def wait_path(path, timeout=10):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            raise RuntimeError("no " + path)
        time.sleep(0.05)


def scrape(addr):
    t0 = time.perf_counter()
    s = socket.create_connection(addr, timeout=10)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: m\r\n\r\n")
    data = b"".join(iter(lambda: s.recv(65536), b""))
    s.close()
    dt = time.perf_counter() - t0
    if not data.startswith(b"HTTP/1.1 200") or b"socket_proxy_client_connections" not in data:
        raise RuntimeError("bad scrape: %r" % data[:200])
    return dt, data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conns", type=int, default=1000)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--results")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.conns * 2 + 256)), hard))
    d = tempfile.mkdtemp(prefix="spsc-")
    procs, conns = [], []
    try:
        up = os.path.join(d, "up.sock")
        procs.append(subprocess.Popen([UPSTREAM, up], stderr=subprocess.DEVNULL))
        wait_path(up)
        addr = ("127.0.0.1", free_port())
        env = dict(os.environ, SOCKET_PROXY_VOLUME=d, SOCKET_PROXY_LISTEN="off", SOCKET_PATH=up,
                   SOCKET_PROXY_UID="0", SOCKET_PROXY_GID="0", SOCKET_PROXY_MAX_CLIENT_CONNS="0",
                   SOCKET_PROXY_METRICS="%s:%d" % addr, LOG_LEVEL="warning")
        procs.append(subprocess.Popen([PROXY], env=env, stderr=subprocess.DEVNULL))
        sock = os.path.join(d, "docker.sock")
        wait_path(sock)
        for _ in range(args.conns):  # each served one request, then left open (keep-alive)
            c = socket.socket(socket.AF_UNIX)
            c.connect(sock)
            c.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
            conns.append(c)
        for c in conns:
            c.settimeout(10)
            if not c.recv(4096).startswith(b"HTTP/1.1 200"):
                raise RuntimeError("a client connection was not served")
        for _ in range(10):  # warm-up
            scrape(addr)
        times, body = [], b""
        for _ in range(args.n):
            dt, body = scrape(addr)
            times.append(dt * 1000)
        times.sort()
        gauge = [x for x in body.split(b"\n") if x.startswith(b"socket_proxy_client_connections ")]
    finally:
        for c in conns:
            c.close()
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["rm", "-rf", d], check=False)
    pct = lambda q: times[min(len(times) - 1, int(len(times) * q))]  # noqa: E731
    publish([SECTION, "",
            "%d scrapes of GET /metrics (%d bytes) while the proxy holds %d open client connections "
            "(%s): median %.3f ms, p90 %.3f ms, p99 %.3f ms; target under 10 ms."
            % (args.n, len(body.split(b"\r\n\r\n", 1)[1]), args.conns,
               gauge[0].decode() if gauge else "gauge missing", pct(0.5), pct(0.9), pct(0.99)), ""],
            args.results, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())

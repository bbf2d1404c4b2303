"""Soak: mixed traffic through the proxy against the real dockerd for
SOAK_SECONDS (60 by default; `ninja soak` runs 600): keep-alive pings,
container list and inspect, 100 open events streams, `logs -f` of a chatty
container, `docker exec -i` with stdin, and refused requests. Passes with zero
failed allowed requests, every request answered, every refused one refused,
and open descriptors back to their start value; RSS at start and end printed."""
import os
import selectors
import socket
import subprocess
import threading
import time
import uuid

import pytest

from conftest import run_docker, wait_for

SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.failures = []

    def ok(self, what):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def fail(self, what, detail):
        with self.lock:
            self.failures.append((what, str(detail)[:300]))


def keepalive_client(proxy, stats, stop, requests, expect):
    """Sequential requests on one keep-alive connection; each must be answered."""
    s = proxy.connect(timeout=30)
    buf = b""
    i = 0
    try:
        while not stop.is_set():
            method, target = requests[i % len(requests)]
            i += 1
            s.sendall(f"{method} {target} HTTP/1.1\r\nHost: docker\r\n\r\n".encode())
            while b"\r\n\r\n" not in buf:
                d = s.recv(65536)
                if not d:
                    raise ConnectionError("proxy closed a keep-alive connection")
                buf += d
            head, buf = buf.split(b"\r\n\r\n", 1)
            status = int(head[9:12])
            length = 0
            chunked = False
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                k = k.strip().lower()
                if k == b"content-length":
                    length = int(v)
                elif k == b"transfer-encoding":
                    chunked = True
            if chunked:
                while not buf.endswith(b"0\r\n\r\n"):
                    d = s.recv(65536)
                    if not d:
                        raise ConnectionError("closed mid-body")
                    buf += d
                buf = b""
            elif method != "HEAD":
                while len(buf) < length:
                    d = s.recv(65536)
                    if not d:
                        raise ConnectionError("closed mid-body")
                    buf += d
                buf = buf[length:]
            want = expect(target)
            if status == want:
                stats.ok(f"{method} {target.split('?')[0]} -> {status}")
            else:
                stats.fail(target, f"status {status}, expected {want}")
    except Exception as e:  # noqa: BLE001
        stats.fail("keep-alive client", repr(e))
    finally:
        s.close()


def test_soak(proxy_factory, dockerd, bb_image, proxy_bin):
    if proxy_bin.asan and SECONDS > 60:
        pytest.skip("the long soak runs on the plain build")
    name = f"sp-soak-{uuid.uuid4().hex[:8]}"
    dockerd.docker("run", "-d", "--name", name, "--network", "none", bb_image, "sh", "-c",
                   "while true; do echo tick; sleep 0.1; done")
    try:
        proxy = proxy_factory(env={"CONTAINERS": "1", "EXEC": "1", "POST": "1", "LOG_LEVEL": "warning"})
        env = proxy.docker_env("unix")
        pid = proxy.pid
        assert proxy.wait_idle(), "the proxy is still busy starting"
        start_rss, start_fds = rss_kib(pid), fds(pid)
        stats = Stats()
        stop = threading.Event()

        # 100 events streams and 2 logs -f streams, read by one selector thread.
        sel = selectors.DefaultSelector()
        streams = []
        for i in range(102):
            s = proxy.connect(timeout=10)
            target = "/events" if i < 100 else f"/containers/{name}/logs?follow=1&stdout=1"
            s.sendall(f"GET {target} HTTP/1.1\r\nHost: docker\r\n\r\n".encode())
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, {"target": target, "bytes": 0, "head": False})
            streams.append(s)

        def pump():
            while not stop.is_set():
                for key, _ in sel.select(timeout=0.5):
                    st = key.data
                    try:
                        d = key.fileobj.recv(65536)
                    except BlockingIOError:
                        continue
                    if not d:
                        stats.fail(st["target"], "stream closed by the proxy")
                        sel.unregister(key.fileobj)
                        continue
                    if not st["head"]:
                        st["head"] = True
                        if not d.startswith(b"HTTP/1.1 200"):
                            stats.fail(st["target"], d[:100])
                    st["bytes"] += len(d)

        def exec_loop():
            n = 0
            while not stop.is_set():
                n += 1
                word = f"hello-{n}"
                r = subprocess.run([os.environ.get("DOCKER", "docker"), "exec", "-i", name, "cat"], input=word,
                                   capture_output=True, text=True, env=env, timeout=60)
                if r.returncode == 0 and r.stdout == word:
                    stats.ok("exec -i")
                else:
                    stats.fail("exec -i", r.stderr or r.stdout)
                stop.wait(1)

        def expect(target):
            return 403 if "/images/" in target or "export" in target else 200

        threads = [threading.Thread(target=pump), threading.Thread(target=exec_loop)]
        for _ in range(4):
            threads.append(threading.Thread(target=keepalive_client, args=(
                proxy, stats, stop, [("GET", "/_ping"), ("HEAD", "/_ping"), ("GET", "/v1.41/version")], expect)))
        for _ in range(2):
            threads.append(threading.Thread(target=keepalive_client, args=(
                proxy, stats, stop, [("GET", "/v1.41/containers/json?all=1"), ("GET", f"/v1.41/containers/{name}/json"),
                                     ("GET", "/v1.41/images/json"), ("GET", f"/containers/{name}/export")], expect)))
        for t in threads:
            t.start()
        # Containers come and go meanwhile, so the events streams carry events (the
        # soak's length and pace are its subject).
        deadline = time.monotonic() + SECONDS
        churn = 0
        while time.monotonic() < deadline:
            r = run_docker(env, ["run", "--rm", "--network", "none", bb_image, "true"], check=False, timeout=60)
            if r.returncode == 0:
                churn += 1
                stats.ok("docker run --rm")
            else:
                stats.fail("docker run --rm", r.stderr)
            time.sleep(1)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        mid_rss = rss_kib(pid)
        events_bytes = sum(sel.get_key(s).data["bytes"] for s in streams if s in sel.get_map())
        for s in streams:
            try:
                sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()
        # The proxy has closed their pairs, and the idle daemon connections its pool kept for
        # the next client (up to 32) after at most 30 s idle (SERVER_DAEMON_IDLE_MS).
        wait_for(lambda: fds(pid) <= start_fds, timeout=45)
        end_rss, end_fds = rss_kib(pid), fds(pid)
        total = sum(stats.counts.values())
        print(f"\nsoak {SECONDS:.0f}s ({proxy_bin.name}): {total} allowed/refused requests as expected, "
              f"{len(stats.failures)} failures; {churn} containers run; {events_bytes} bytes on 102 streams; "
              f"RSS {start_rss} KiB start, {mid_rss} KiB under load, {end_rss} KiB end; fds {start_fds} start, "
              f"{end_fds} end")
        for k in sorted(stats.counts):
            print(f"  {stats.counts[k]:8d}  {k}")
        assert stats.failures == [], stats.failures[:10]
        assert end_fds <= start_fds, "descriptors leaked"
        assert stats.counts.get("exec -i", 0) > 0 and churn > 0
        assert events_bytes > 0
        assert proxy.stop() == 0
    finally:
        dockerd.docker("rm", "-f", name, check=False)

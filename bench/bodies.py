#!/usr/bin/env python3
"""What judging bodies and redacting answers cost (issue 11), against a private
dockerd: container create latency (the body read whole and judged) and
container inspect latency (the answer read whole and its Env redacted),
through socket-proxy and directly, interleaved request by request so that
drift on a busy machine hits every column alike. Each round starts with a
different target (the targets' order rotates): a create that follows the
previous target's removal pays for what dockerd still does about it.

Issue 15's figure: a judged create with a 4 KiB body (BIG_BODY bytes), the
latency it adds to direct access at p50, in µs. A create takes dockerd about
10 ms and varies by milliseconds, so the difference of two medians moves by
hundreds of µs from run to run: the figure comes with the median of the
rounds' paired differences and a bootstrap 95 % interval of the difference
of medians, which say how far it can be trusted. The same creates against
bench/upstream.c (a fake daemon that answers at once) give what the proxy
itself adds, without dockerd's variation.

    python3 bench/bodies.py [--n 200] [--results FILE]

Needs build/socket-proxy (SOCKET_PROXY_BIN overrides), build/bench/upstream and root
(dockerd).
Prints a Markdown table; with --results, replaces the "## Request bodies and
redaction" section of FILE. Every process it starts is stopped by pid at the
end.
"""
import argparse
import http.client
import io
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROXY = os.environ.get("SOCKET_PROXY_BIN", os.path.join(ROOT, "build", "socket-proxy"))
FAKE = os.path.join(ROOT, "build", "bench", "upstream")
DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"
SECTION = "## Request bodies and redaction"
children = []

# The docker CLI's create body (docker create -e ... -l ... -v named:/data -p 8080:80 img),
# 20 environment entries: what inspect answers carry back.
ENV = ["VAR_%02d=value-number-%02d-with-some-length" % (i, i) for i in range(20)]


def create_body(image):
    return json.dumps({
        "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": True,
        "AttachStderr": True, "ExposedPorts": {"80/tcp": {}}, "Tty": False, "OpenStdin": False,
        "StdinOnce": False, "Env": ENV, "Cmd": ["true"], "Image": image, "Volumes": {}, "WorkingDir": "",
        "Entrypoint": None, "OnBuild": None, "Labels": {"app": "web", "tier": "bench"},
        "HostConfig": {"Binds": ["benchdata:/data"], "NetworkMode": "none", "PortBindings": {},
                       "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}, "AutoRemove": False,
                       "CapAdd": None, "CapDrop": None, "CgroupnsMode": "", "Privileged": False,
                       "SecurityOpt": None, "Memory": 268435456, "Mounts": None, "MaskedPaths": None,
                       "ReadonlyPaths": None},
        "NetworkingConfig": {"EndpointsConfig": {}}}).encode()


BIG_BODY = 4096


def big_create_body(image):
    """The same create with the labels docker compose adds, grown to exactly
    BIG_BODY bytes (issue 15 asks for a 4 KiB create)."""
    body = json.loads(create_body(image))
    body["Labels"].update({
        "com.docker.compose.project": "bench", "com.docker.compose.service": "web",
        "com.docker.compose.oneoff": "False", "com.docker.compose.container-number": "1",
        "com.docker.compose.version": "2.29.7", "com.docker.compose.depends_on": "",
        "com.docker.compose.image": "sha256:" + "0" * 64,
        "com.docker.compose.project.working_dir": "/srv/bench",
        "com.docker.compose.project.config_files": "/srv/bench/compose.yaml",
        "com.docker.compose.config-hash": "f" * 64})
    body["Labels"]["bench.padding"] = ""
    short = BIG_BODY - len(json.dumps(body).encode())
    if short < 0:
        raise RuntimeError("the 4 KiB body's base is already %d bytes" % (BIG_BODY - short))
    body["Labels"]["bench.padding"] = "p" * short
    data = json.dumps(body).encode()
    assert len(data) == BIG_BODY
    return data


class Unix(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("docker", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(60)
        self.sock.connect(self.path)


def call(conn, method, path, body=None, ctype="application/json"):
    """One request on a keep-alive connection -> (status, body, seconds)."""
    headers = {"Content-Type": ctype} if body is not None else {}
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, data, time.perf_counter() - t0


def spawn(args, env=None, logf=None):
    p = subprocess.Popen(args, env=env, stdout=logf, stderr=logf, stdin=subprocess.DEVNULL)
    children.append(p)
    return p


def wait_sock(path, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c = Unix(path)
            c.request("GET", "/_ping")
            if c.getresponse().status == 200:
                c.close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("no answer on " + path)


def image_tar():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"bench\n"
        ti = tarfile.TarInfo("README")
        ti.size = len(data)
        tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def start_dockerd(d, exec_root, logf):
    """A private dockerd with its socket at d/d.sock and an image spbench:1
    imported; returns (the socket, a client connection to it)."""
    sock = os.path.join(d, "d.sock")
    spawn([DOCKERD, "--host", "unix://" + sock, "--data-root", os.path.join(d, "data"), "--exec-root",
           exec_root, "--pidfile", os.path.join(d, "p"), "--bridge=none", "--iptables=false",
           "--ip6tables=false"], logf=logf)
    wait_sock(sock)
    admin = Unix(sock)
    st, data, _ = call(admin, "POST", "/images/create?fromSrc=-&repo=spbench&tag=1", image_tar(), "application/x-tar")
    if st != 200:
        raise RuntimeError("image import answered %d: %s" % (st, data[:300]))
    return sock, admin


def stop_children():
    """Stops every process spawn started, last first, by pid."""
    for p in reversed(children):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def proxy(d, name, upstream, env):
    vol = os.path.join(d, name)
    os.makedirs(vol)
    e = {"SOCKET_PROXY_VOLUME": vol, "SOCKET_PROXY_DOCKER_SOCKET": upstream, "SOCKET_PROXY_LISTEN": "off",
         "SOCKET_PROXY_UID": "0", "SOCKET_PROXY_GID": "0", "LOG_LEVEL": "warning", **env}
    p = spawn([PROXY], env=e)
    sock = os.path.join(vol, "docker.sock")
    wait_sock(sock)
    return p, sock


def summary(xs):
    xs = sorted(xs)
    return statistics.median(xs) * 1000, xs[int(len(xs) * 0.9)] * 1000


def added_us(xs, direct, rounds=2000):
    """What a target adds to direct access, in µs: the difference of the two
    medians, the median of the rounds' paired differences, and a bootstrap 95 %
    interval of the difference of medians (resampling the rounds)."""
    n = len(xs)
    rnd = random.Random(15)
    boot = []
    for _ in range(rounds):
        pick = [rnd.randrange(n) for _ in range(n)]
        boot.append(statistics.median(xs[i] for i in pick) - statistics.median(direct[i] for i in pick))
    boot.sort()
    return ((statistics.median(xs) - statistics.median(direct)) * 1e6,
            statistics.median(a - b for a, b in zip(xs, direct)) * 1e6,
            boot[int(rounds * 0.025)] * 1e6, boot[int(rounds * 0.975)] * 1e6)


def create(conn, label, body):
    """A create on conn -> (container ID, seconds)."""
    st, data, dt = call(conn, "POST", "/v1.41/containers/create", body)
    if st != 201:
        raise RuntimeError("%s: create answered %d: %s" % (label, st, data[:300]))
    return json.loads(data)["Id"], dt


def remove(admin, cid):
    st, _, _ = call(admin, "DELETE", "/v1.41/containers/%s?force=1" % cid)
    if st != 204:
        raise RuntimeError("remove answered %d" % st)


def measure(daemon, targets, n, image):
    """targets: label -> socket. Creates (and inspects), then 4 KiB creates,
    through each in turn, the first target of a round rotating."""
    conns = {k: Unix(v) for k, v in targets.items()}
    admin = Unix(daemon)
    body, big = create_body(image), big_create_body(image)
    creates = {k: [] for k in targets}
    inspects = {k: [] for k in targets}
    bigs = {k: [] for k in targets}
    sizes = {}
    order = list(conns.items())
    for i in range(n):
        for label, c in order[i % len(order):] + order[:i % len(order)]:
            cid, dt = create(c, label, body)
            creates[label].append(dt)
            st, data, dt = call(c, "GET", "/v1.41/containers/%s/json" % cid)
            if st != 200:
                raise RuntimeError("%s: inspect answered %d" % (label, st))
            inspects[label].append(dt)
            sizes[label] = len(data)
            remove(admin, cid)
        for label, c in order[i % len(order):] + order[:i % len(order)]:
            cid, dt = create(c, label, big)
            bigs[label].append(dt)
            remove(admin, cid)
    return creates, inspects, bigs, sizes


def fake_added(d, n, logf):
    """The 4 KiB create, then a GET /_ping, against bench/upstream.c, n rounds:
    (label -> seconds, label -> seconds)."""
    fake = os.path.join(d, "fake.sock")
    spawn([FAKE, fake], logf=logf)
    wait_sock(fake)
    _, via = proxy(d, "fake", fake, {"CONTAINERS": "1", "POST": "1"})
    big = big_create_body("spbench:1")
    runs = [("direct", Unix(fake), "/v1.41/containers/create"),
            ("socket-proxy", Unix(via), "/v1.41/containers/create")]
    times = {label: [] for label, _, _ in runs}
    pings = {label: [] for label, _, _ in runs}
    for i in range(n + 50):  # the first 50 rounds warm up
        for label, c, path in runs[i % 2:] + runs[:i % 2]:
            st, data, dt = call(c, "POST", path, big)
            if st != 200:
                raise RuntimeError("%s: the fake daemon's answer %d: %s" % (label, st, data[:300]))
            st, _, pdt = call(c, "GET", "/_ping")
            if i >= 50:
                times[label].append(dt)
                pings[label].append(pdt)
    return times, pings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200, help="creates (and inspects) per target")
    ap.add_argument("--results", help="a Markdown file whose section to replace")
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="spbb-")
    exec_root = "/tmp/spbb%d" % os.getpid()
    logf = open(os.path.join(d, "bench.log"), "wb")
    try:
        sock, _ = start_dockerd(d, exec_root, logf)
        base = {"CONTAINERS": "1", "POST": "1"}
        _, streamed = proxy(d, "streamed", sock, base)  # POST=1: ALLOW_ENV follows, inspect streamed
        _, redacted = proxy(d, "redacted", sock, dict(base, ALLOW_ENV="0"))
        targets = {"direct": sock, "socket-proxy": streamed, "socket-proxy, Env redacted": redacted}
        measure(sock, targets, 5, "spbench:1")  # warm-up
        creates, inspects, bigs, sizes = measure(sock, targets, args.n, "spbench:1")
        fake, pings = fake_added(d, args.n * 10, logf)
    finally:
        stop_children()
        logf.close()
        subprocess.run(["rm", "-rf", d, exec_root], check=False)

    cm, _ = summary(creates["direct"])
    im, _ = summary(inspects["direct"])
    bm, _ = summary(bigs["direct"])
    lines = [SECTION, "",
             "%d container creates and inspects per column against a private dockerd, interleaved, each "
             "round starting with another target; create body %d bytes (the docker CLI's, 20 Env entries), "
             "inspect answer %d bytes; then as many creates with a %d-byte body (compose's labels). "
             "Median and 90th percentile, ms; the difference to direct access in brackets."
             % (args.n, len(create_body("spbench:1")), sizes["direct"], BIG_BODY), "",
             "| target | create median | create p90 | inspect median | inspect p90 | 4 KiB create median "
             "| 4 KiB create p90 |", "|---|---|---|---|---|---|---|"]
    for label in creates:
        c50, c90 = summary(creates[label])
        i50, i90 = summary(inspects[label])
        b50, b90 = summary(bigs[label])
        extra = "" if label == "direct" else " (%+.3f)" % (c50 - cm)
        iextra = "" if label == "direct" else " (%+.3f)" % (i50 - im)
        bextra = "" if label == "direct" else " (%+.3f)" % (b50 - bm)
        lines.append("| %s | %.3f%s | %.3f | %.3f%s | %.3f | %.3f%s | %.3f |"
                     % (label, c50, extra, c90, i50, iextra, i90, b50, bextra, b90))
    lines += ["", "Issue 15's figure, a judged create with a %d-byte body: added latency vs direct at p50 "
              "(target ≤ 50 µs); the median of the %d rounds' paired differences and a bootstrap 95 %% "
              "interval of the difference of medians say how much of it is dockerd's variation." % (BIG_BODY, args.n),
              "", "| target | added at p50 (µs) | paired median (µs) | 95 % interval (µs) | inspect added at p50 (µs) |",
              "|---|---|---|---|---|"]
    for label in creates:
        if label == "direct":
            continue
        d50, paired, lo, hi = added_us(bigs[label], bigs["direct"])
        i50 = added_us(inspects[label], inspects["direct"])[0]
        lines.append("| %s | %+.0f | %+.0f | %+.0f to %+.0f | %+.0f |" % (label, d50, paired, lo, hi, i50))
    lines += ["", "The same %d-byte create against bench/upstream.c (answers at once), %d rounds, interleaved: "
              "what the proxy itself adds. Median, µs; added to direct access in brackets (paired median, "
              "95 %% interval)." % (BIG_BODY, args.n * 10), "",
              "| request | direct median (µs) | socket-proxy median (µs) | added at p50 (µs) |", "|---|---|---|---|"]
    for what, ts in (("%d-byte create (judged)" % BIG_BODY, fake), ("GET /_ping (any request)", pings)):
        d50, paired, lo, hi = added_us(ts["socket-proxy"], ts["direct"])
        lines.append("| %s | %.0f | %.0f | %+.0f (%+.0f, %+.0f to %+.0f) |"
                     % (what, statistics.median(ts["direct"]) * 1e6, statistics.median(ts["socket-proxy"]) * 1e6,
                        d50, paired, lo, hi))
    lines.append("")
    publish(lines, args.results, SECTION)
    return 0


def publish(lines, results, section):
    """Prints the section (its lines) and, with results (a path), replaces it there."""
    text = "\n".join(lines)
    print(text)
    if results:
        write_section(results, section, text)


def write_section(path, section, text):
    """Replaces the section (from its "## " heading to the next) of the Markdown
    file at path with text, or appends it."""
    old = open(path).read() if os.path.exists(path) else ""
    if section in old:
        head, rest = old.split(section, 1)
        nxt = rest.find("\n## ")
        old = head + (rest[nxt + 1:] if nxt >= 0 else "")
    with open(path, "w") as f:
        f.write(old.rstrip("\n") + "\n\n" + text)


if __name__ == "__main__":
    sys.exit(main())

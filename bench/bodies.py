#!/usr/bin/env python3
"""What judging bodies and redacting answers cost (issue 11), against a private
dockerd: container create latency (the body read whole and judged) and
container inspect latency (the answer read whole and its Env redacted),
through socket-proxy and directly, interleaved request by request so that
drift on a busy machine hits every column alike.

    python3 bench/bodies.py [--n 200] [--results FILE]

Needs build/socket-proxy and root (dockerd). Prints a Markdown table; with
--results, replaces the "## Request bodies and redaction" section of FILE.
Every process it starts is stopped by pid at the end.
"""
import argparse
import http.client
import io
import json
import os
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


def measure(daemon, targets, n, image):
    """targets: label -> socket. Creates (and inspects) through each in turn."""
    conns = {k: Unix(v) for k, v in targets.items()}
    admin = Unix(daemon)
    body = create_body(image)
    creates = {k: [] for k in targets}
    inspects = {k: [] for k in targets}
    sizes = {}
    for i in range(n):
        for label, c in conns.items():
            st, data, dt = call(c, "POST", "/v1.41/containers/create", body)
            if st != 201:
                raise RuntimeError("%s: create answered %d: %s" % (label, st, data[:300]))
            cid = json.loads(data)["Id"]
            creates[label].append(dt)
            st, data, dt = call(c, "GET", "/v1.41/containers/%s/json" % cid)
            if st != 200:
                raise RuntimeError("%s: inspect answered %d" % (label, st))
            inspects[label].append(dt)
            sizes[label] = len(data)
            st, _, _ = call(admin, "DELETE", "/v1.41/containers/%s?force=1" % cid)
            if st != 204:
                raise RuntimeError("remove answered %d" % st)
    return creates, inspects, sizes


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
        creates, inspects, sizes = measure(sock, targets, args.n, "spbench:1")
    finally:
        stop_children()
        logf.close()
        subprocess.run(["rm", "-rf", d, exec_root], check=False)

    cm, _ = summary(creates["direct"])
    im, _ = summary(inspects["direct"])
    lines = [SECTION, "",
             "%d container creates and inspects per column against a private dockerd, interleaved; "
             "create body %d bytes (the docker CLI's, 20 Env entries), inspect answer %d bytes. "
             "Median and 90th percentile, ms; the difference to direct access in brackets."
             % (args.n, len(create_body("spbench:1")), sizes["direct"]), "",
             "| target | create median | create p90 | inspect median | inspect p90 |", "|---|---|---|---|---|"]
    for label in creates:
        c50, c90 = summary(creates[label])
        i50, i90 = summary(inspects[label])
        extra = "" if label == "direct" else " (%+.3f)" % (c50 - cm)
        iextra = "" if label == "direct" else " (%+.3f)" % (i50 - im)
        lines.append("| %s | %.3f%s | %.3f | %.3f%s | %.3f |" % (label, c50, extra, c90, i50, iextra, i90))
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

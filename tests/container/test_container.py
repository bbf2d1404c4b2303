"""The deployment the product is for: the FROM scratch image as PID 1, read-only,
unprivileged, healthchecked, with a client container on a shared volume, and
docker-compose. Every container runs with --network none."""
import io
import json
import os
import shutil
import subprocess
import tarfile
import time
import uuid

import pytest

from conftest import DOCKER, ROOT, busybox_rootfs_tar, cli_env, in_ci, wait_for

PROXY_IMAGE = "socket-proxy:test"
CLIENT_IMAGE = "sp-test-client:latest"
STATIC = os.path.join(ROOT, "build", "static", "socket-proxy")


def need(cond, msg):
    if not cond:
        if in_ci():
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)


@pytest.fixture(scope="module")
def proxy_image(dockerd):
    need(os.path.exists(STATIC), "build/static/socket-proxy missing: run `ninja static`")
    dockerd.docker("build", "-q", "-f", "Dockerfile.scratch", "-t", PROXY_IMAGE, ROOT, timeout=300)
    size = int(dockerd.docker("image", "inspect", "-f", "{{.Size}}", PROXY_IMAGE).stdout.strip())
    print(f"\nimage {PROXY_IMAGE}: {size} bytes; static binary: {os.path.getsize(STATIC)} bytes")
    return PROXY_IMAGE


STATIC_MAX = 700 * 1000  # bytes: the image's one file, mbed TLS included (issue 14)


def test_static_binary_size():
    """`ninja static` stays small with TLS in it. The link drops what is never
    reached (--gc-sections), so the size only counts once TLS is reached: when
    configure.py chose TLS, mbed TLS must be in the binary."""
    need(os.path.exists(STATIC), "build/static/socket-proxy missing: run `ninja static`")
    size = os.path.getsize(STATIC)
    print(f"\nstatic binary: {size} bytes (at most {STATIC_MAX})")
    assert size <= STATIC_MAX, f"build/static/socket-proxy is {size} bytes, over {STATIC_MAX}"
    config = open(os.path.join(ROOT, "build", "config.ninja")).read()
    if "tls_src = core/tls.c\n" in config:
        with open(STATIC, "rb") as f:
            assert b"mbed TLS" in f.read(), "configured with TLS, but the static binary has no mbed TLS"


@pytest.fixture(scope="module")
def client_image(dockerd):
    """busybox plus the static docker CLI: a client that uses /var/run/docker.sock."""
    need(os.path.exists(DOCKER), "docker CLI missing")
    base = busybox_rootfs_tar()
    buf = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(base)) as src, tarfile.open(fileobj=buf, mode="w") as dst:
        for m in src.getmembers():
            dst.addfile(m, src.extractfile(m) if m.isfile() else None)
        for d in ("usr", "usr/local", "usr/local/bin", "var", "var/run", "run"):
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            dst.addfile(ti)
        dst.add(os.path.realpath(DOCKER), arcname="usr/local/bin/docker")
    dockerd.docker("import", "-c", "ENV PATH=/usr/local/bin:/bin", "-", CLIENT_IMAGE, input=buf.getvalue(),
                   timeout=300)
    return CLIENT_IMAGE


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def inspect(dockerd, cname):
    return json.loads(dockerd.docker("inspect", cname).stdout)[0]


def wait_health(dockerd, cname, want, timeout=60):
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        st = inspect(dockerd, cname)["State"]
        state = st.get("Health", {}).get("Status")
        if state == want:
            return time.monotonic()
        if not st["Running"]:
            break
        time.sleep(0.2)
    logs = dockerd.docker("logs", cname, check=False)
    pytest.fail(f"{cname} not {want} within {timeout}s (health {state})\n{logs.stdout}\n{logs.stderr}")


def wait_events_stream_open(dockerd, ev, probes, timeout=30):
    """Until `docker events` in container ev prints an event (a volume created on
    the daemon directly, again each try): then its stream is open through the
    proxy. probes collects the volumes to remove."""
    def shows_an_event():
        assert inspect(dockerd, ev)["State"]["Running"], dockerd.docker("logs", ev, check=False).stderr
        probes.append(name("probe"))
        dockerd.docker("volume", "create", probes[-1])
        return "volume create" in dockerd.docker("logs", ev).stdout
    assert wait_for(shows_an_event, timeout, interval=0.5), "no event reached `docker events` through the proxy"


@pytest.fixture
def sockdir(dockerd, tmp_path):
    """A directory holding a hard link to the daemon's socket: the proxy
    container mounts the directory, and removing the link makes the Docker
    socket go away for the proxy alone."""
    d = tmp_path / "dsock"
    d.mkdir()
    os.chmod(d, 0o755)
    os.link(dockerd.sock, d / "docker.sock")
    return d


def run_proxy(dockerd, image, sockdir, volume, env=(), extra=()):
    cname = name("sp")
    args = ["run", "-d", "--name", cname, "--read-only", "--tmpfs", "/run", "--network", "none",
            "-v", f"{sockdir}:/dsock", "-v", f"{volume}:/run/proxy", "-e", "SOCKET_PATH=/dsock/docker.sock",
            "-e", "SOCKET_PROXY_LISTEN=off"]
    for e in env:
        args += ["-e", e]
    args += list(extra) + [image]
    dockerd.docker(*args)
    return cname


def client(dockerd, image, volume, *cmd, check=False, timeout=60):
    return dockerd.docker("run", "--rm", "--network", "none", "-v", f"{volume}:/var/run", image, *cmd,
                          check=check, timeout=timeout)


def test_scratch_image_read_only_unprivileged(dockerd, proxy_image, client_image, sockdir):
    vol = name("spvol")
    t0 = time.monotonic()
    cname = run_proxy(dockerd, proxy_image, sockdir, vol)
    try:
        healthy_at = wait_health(dockerd, cname, "healthy")
        print(f"\ndocker run -> healthy: {healthy_at - t0:.2f}s")
        info = inspect(dockerd, cname)
        assert info["HostConfig"]["ReadonlyRootfs"] is True
        assert info["HostConfig"]["NetworkMode"] == "none"
        pid = info["State"]["Pid"]
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        assert status["Uid"].split()[:2] == ["1000", "1000"], status["Uid"]
        assert status["Gid"].split()[:2] == ["1000", "1000"], status["Gid"]
        assert status["NoNewPrivs"].strip() == "1"
        sock_gid = os.stat(dockerd.sock).st_gid
        assert str(sock_gid) in status["Groups"].split(), status["Groups"]
        rss_kib = int(status["VmRSS"].split()[0])
        print(f"proxy RSS in the container: {rss_kib} KiB")

        r = client(dockerd, client_image, vol, "docker", "version")
        assert r.returncode == 0, r.stderr
        assert "Server:" in r.stdout
        r = client(dockerd, client_image, vol, "docker", "ps")
        assert r.returncode != 0
        assert "socket-proxy: GET /containers/json is not allowed (needs CONTAINERS=1)" in r.stderr
        r = client(dockerd, client_image, vol, "ls", "-ln", "/var/run/docker.sock")
        assert r.stdout.split()[0].startswith("srw-rw----") and r.stdout.split()[2:4] == ["1000", "1000"], r.stdout
    finally:
        dockerd.docker("rm", "-f", cname, check=False)
        dockerd.docker("volume", "rm", vol, check=False)


def test_health_follows_the_docker_socket(dockerd, proxy_image, sockdir):
    vol = name("spvol")
    cname = run_proxy(dockerd, proxy_image, sockdir, vol,
                      extra=["--health-interval", "1s", "--health-retries", "1", "--health-timeout", "3s"])
    try:
        wait_health(dockerd, cname, "healthy")
        os.unlink(sockdir / "docker.sock")
        wait_health(dockerd, cname, "unhealthy")
        log = inspect(dockerd, cname)["State"]["Health"]["Log"][-1]["Output"]
        assert "daemon is unreachable" in log, log
        os.link(dockerd.sock, sockdir / "docker.sock")
        wait_health(dockerd, cname, "healthy")
    finally:
        dockerd.docker("rm", "-f", cname, check=False)
        dockerd.docker("volume", "rm", vol, check=False)


# An events stream never ends by itself: it must not hold the proxy's shutdown for
# the grace period. A long grace (60 s) keeps "did not wait for it" far from both a
# normal stop (about a second) and a proxy that waits the grace out.
LONG_GRACE = 60


def test_sigterm_with_open_events_stream(dockerd, proxy_image, client_image, sockdir):
    vol = name("spvol")
    cname = run_proxy(dockerd, proxy_image, sockdir, vol, env=[f"SOCKET_PROXY_SHUTDOWN_GRACE={LONG_GRACE}s"])
    ev = name("events")
    probes = []
    try:
        wait_health(dockerd, cname, "healthy")
        dockerd.docker("run", "-d", "--name", ev, "--network", "none", "-v", f"{vol}:/var/run", client_image,
                       "docker", "events")
        wait_events_stream_open(dockerd, ev, probes)
        t0 = time.monotonic()
        dockerd.docker("stop", "-t", str(2 * LONG_GRACE), cname, timeout=3 * LONG_GRACE)
        took = time.monotonic() - t0
        print(f"\ndocker stop with an events stream open: {took:.2f}s")
        st = inspect(dockerd, cname)["State"]
        assert st["ExitCode"] == 0, st
        assert took < LONG_GRACE / 2, f"docker stop took {took:.1f}s: the events stream held the shutdown"
        # The fresh named volume is root's and the proxy ran as uid 1000: it cannot remove
        # its socket (it no longer takes the directory over), so the file stays ...
        r = client(dockerd, client_image, vol, "ls", "-A", "/var/run")
        assert "docker.sock" in r.stdout.split(), r.stdout
        logs = dockerd.docker("logs", cname).stderr
        assert "SIGTERM" in logs
        # ... and the next start replaces it.
        dockerd.docker("start", cname)
        wait_health(dockerd, cname, "healthy")
        r = client(dockerd, client_image, vol, "docker", "version")
        assert r.returncode == 0, r.stderr
    finally:
        dockerd.docker("rm", "-f", cname, ev, check=False)
        dockerd.docker("volume", "rm", vol, *probes, check=False)


def test_unprivileged_user_without_socket_access(dockerd, proxy_image, sockdir):
    vol = name("spvol")
    st = os.stat(dockerd.sock)
    assert st.st_mode & 0o007 == 0, "test needs a socket closed to others"
    cname = name("sp")
    r = dockerd.docker("run", "--name", cname, "--read-only", "--tmpfs", "/run", "--network", "none",
                       "--user", "4321:4321", "-v", f"{sockdir}:/dsock", "-v", f"{vol}:/run/proxy",
                       "-e", "SOCKET_PATH=/dsock/docker.sock", "-e", "SOCKET_PROXY_LISTEN=off", proxy_image,
                       check=False, timeout=60)
    try:
        assert r.returncode != 0
        err = r.stderr
        assert "cannot open the Docker socket /dsock/docker.sock" in err, err
        assert f"gid {st.st_gid}" in err and f"group_add: [\"{st.st_gid}\"]" in err, err
        assert len([line for line in err.splitlines() if "crit" in line]) == 1, err
    finally:
        dockerd.docker("rm", "-f", cname, check=False)
        dockerd.docker("volume", "rm", vol, check=False)


def test_bad_configuration_exits_with_one_line(dockerd, proxy_image):
    r = dockerd.docker("run", "--rm", "--network", "none", "-e", "CONTAINERS=maybe", proxy_image, check=False)
    assert r.returncode != 0
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "CONTAINERS" in lines[0] and "true" in lines[0], r.stderr


COMPOSE = """
version: "2.4"
services:
  socket-proxy:
    image: {proxy}
    read_only: true
    tmpfs: [/run]
    network_mode: none
    environment:
      SOCKET_PATH: /dsock/docker.sock
      SOCKET_PROXY_LISTEN: "off"
      SOCKET_PROXY_SHUTDOWN_GRACE: "{grace}s"
    volumes:
      - {sockdir}:/dsock
      - proxy:/run/proxy
    healthcheck:
      interval: 1s
      timeout: 3s
      retries: 3
  client:
    image: {client}
    network_mode: none
    init: true
    command: ["sh", "-c", "docker version --format '{{{{.Server.APIVersion}}}}' && exec sleep 3600"]
    volumes:
      - proxy:/var/run
    depends_on:
      socket-proxy:
        condition: service_healthy
volumes:
  proxy: {{}}
"""


def test_compose_service_healthy_and_fast_down(dockerd, proxy_image, client_image, sockdir, tmp_path):
    compose = shutil.which("docker-compose")
    need(compose, "docker-compose missing (Debian package docker-compose)")
    (tmp_path / "docker-compose.yml").write_text(
        COMPOSE.format(proxy=proxy_image, client=client_image, sockdir=sockdir, grace=LONG_GRACE))
    project = name("spc").replace("-", "")
    env = cli_env(dockerd.host)
    base = [compose, "-p", project, "-f", str(tmp_path / "docker-compose.yml")]

    def dc(*args, timeout=120):
        return subprocess.run(base + list(args), env=env, capture_output=True, text=True, timeout=timeout)

    events_c = name("events")
    probes = []
    try:
        r = dc("up", "-d")
        assert r.returncode == 0, r.stdout + r.stderr
        proxy_c = f"{project}_socket-proxy_1"
        client_c = f"{project}_client_1"
        p, c = inspect(dockerd, proxy_c), inspect(dockerd, client_c)
        healthy_logs = [x for x in p["State"]["Health"]["Log"] if x["ExitCode"] == 0]
        assert healthy_logs, p["State"]["Health"]
        # The client started only after the proxy's first passing check.
        assert c["State"]["StartedAt"] >= healthy_logs[0]["End"][:len(c["State"]["StartedAt"])] or \
            c["State"]["StartedAt"] > p["State"]["StartedAt"]
        out = wait_for(lambda: dockerd.docker("logs", client_c).stdout, 30, interval=0.2)
        c = inspect(dockerd, client_c)
        assert c["State"]["Running"], dockerd.docker("logs", client_c, check=False).stderr
        assert out.strip().startswith("1."), out  # docker version through the proxy
        # An events stream that compose does not know about stays open through
        # the proxy while compose takes it down.
        dockerd.docker("run", "-d", "--name", events_c, "--network", "none", "-v", f"{project}_proxy:/var/run",
                       client_image, "docker", "events")
        wait_events_stream_open(dockerd, events_c, probes)
        t0 = time.monotonic()
        r = dc("down", "-t", str(2 * LONG_GRACE), timeout=3 * LONG_GRACE)
        took = time.monotonic() - t0
        assert r.returncode == 0, r.stdout + r.stderr
        print(f"\ndocker-compose down with an events stream open: {took:.2f}s")
        assert took < LONG_GRACE / 2, f"compose down took {took:.1f}s: the events stream held the shutdown"
        assert inspect(dockerd, events_c)["State"]["Running"] is False, "events stream not closed by the proxy"
    finally:
        dockerd.docker("rm", "-f", events_c, check=False)
        dockerd.docker("volume", "rm", *probes, check=False)
        dc("down", "-v", "-t", "1")


def test_pid1_reaps_orphans(dockerd, bb_image):
    """The proxy as PID 1 of a busybox container: an orphan left by `docker
    exec` is reparented to it and must be reaped, not left a zombie."""
    need(os.path.exists(STATIC), "build/static/socket-proxy missing: run `ninja static`")
    cname = name("sp-init")
    dockerd.docker("run", "-d", "--name", cname, "--network", "none", "-v", f"{STATIC}:/socket-proxy:ro",
                   "-e", "SOCKET_PROXY_LISTEN=off", "-e", "SOCKET_PROXY_UID=0", "-e", "SOCKET_PROXY_GID=0",
                   "-e", "SOCKET_PATH=/nonexistent.sock", "--entrypoint", "/socket-proxy", bb_image)
    try:
        wait_for(lambda: "forwarding to" in dockerd.docker("logs", cname).stderr, 10, interval=0.1)
        # `sh` exits at once; its child `sleep 1` is orphaned to PID 1 and exits a second later.
        dockerd.docker("exec", cname, "sh", "-c", "sleep 1 & exit 0")

        def ps_text():
            return dockerd.docker("exec", cname, "ps", "-o", "pid,stat,comm").stdout

        # Gone from the table once reaped; a zombie stays, and fails below.
        wait_for(lambda: "sleep" not in ps_text(), 10, interval=0.2)
        ps = ps_text()
        zombies = [line for line in ps.splitlines()[1:] if line.split()[1].startswith("Z")]
        assert zombies == [], ps
        assert "socket-proxy" in ps.splitlines()[1] or " 1 " in ps
    finally:
        dockerd.docker("rm", "-f", cname, check=False)

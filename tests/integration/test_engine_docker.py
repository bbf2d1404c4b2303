"""The proxy engine against a real dockerd, driven by the real docker CLI, over the
Unix socket and over TCP: plain calls, long-lived streams, upgraded connections with
stdin half-close, big tar streams in both directions, chunked uploads, daemon down."""
import hashlib
import json
import os
import subprocess
import tempfile
import time

import pytest

from conftest import wait_for
from dockerutil import DOCKER, VIAS, LineReader, assert_denied, sha256_file, stop_process

via_param = pytest.mark.parametrize("via", VIAS)


def run_detached(dockerd, cleanup, name, image, *cmd):
    cleanup.container(name)
    dockerd.docker("run", "-d", "--name", name, "--network", "none", image, *cmd)
    return name


@via_param
def test_version(proxy_factory, dockerd, via):
    p = proxy_factory()
    direct = dockerd.docker("version", "--format", "{{.Server.APIVersion}} {{.Server.Version}}").stdout.strip()
    r = p.docker("version", "--format", "{{.Server.APIVersion}} {{.Server.Version}}", via=via)
    assert r.stdout.strip() == direct


@via_param
def test_ps_allowed_with_containers(proxy_factory, dockerd, bb_image, cleanup, unique_name, via):
    name = cleanup.container(unique_name)
    dockerd.docker("create", "--name", name, "--network", "none", bb_image, "true")
    p = proxy_factory({"CONTAINERS": "1"})
    r = p.docker("ps", "-a", "--format", "{{.Names}}", via=via)
    assert name in r.stdout.split()


@via_param
def test_ps_denied_by_default(proxy_factory, via):
    p = proxy_factory()
    r = p.docker("ps", via=via, check=False)
    assert_denied(r, "GET", "/containers/json", "CONTAINERS=1")


@via_param
def test_events_stream(proxy_factory, dockerd, bb_image, cleanup, unique_name, via):
    p = proxy_factory()  # EVENTS defaults to 1
    name = cleanup.container(unique_name)
    # --since makes the daemon replay what happened after it, so the create event
    # cannot be lost to the race between subscribing and creating.
    since = str(int(time.time()) - 2)
    proc = subprocess.Popen([DOCKER, "events", "--since", since, "--filter", f"container={name}",
                             "--format", "{{.Type}} {{.Action}}"],
                            env=p.docker_env(via), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = LineReader(proc.stdout)
        dockerd.docker("create", "--name", name, "--network", "none", bb_image, "sleep", "300")
        lines.expect(r"^container create$", 20)
        # The stream is now live (the daemon subscribes before replaying): a later
        # event must arrive through the open connection.
        dockerd.docker("start", name)
        lines.expect(r"^container start$", 20)
        assert proc.poll() is None, proc.stderr.read()
    finally:
        stop_process(proc)


@pytest.mark.once
def test_logs_follow_across_30s_silence(proxy_factory, dockerd, bb_image, cleanup, unique_name):
    # A short idle timeout too: it must not cut a stream that is merely silent.
    p = proxy_factory({"CONTAINERS": "1", "ALLOW_LOGS": "1", "SOCKET_PROXY_IDLE_TIMEOUT": "5s"})
    name = run_detached(dockerd, cleanup, unique_name, bb_image, "sh", "-c", "echo first; sleep 30; echo second")
    proc = subprocess.Popen([DOCKER, "logs", "-f", name], env=p.docker_env("unix"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = LineReader(proc.stdout)
        lines.expect(r"^first$", 15)
        t0 = time.monotonic()
        lines.expect(r"^second$", 60)
        # A lower bound on the container's own `sleep 30` (a slow machine only adds):
        # the premise of the test, not a timing of the proxy.
        assert time.monotonic() - t0 > 20, "the silence was not silent: did the container restart?"
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
    finally:
        stop_process(proc)


@via_param
def test_run_interactive_stdin(proxy_factory, bb_image, via):
    p = proxy_factory({"CONTAINERS": "1", "POST": "1"})
    r = p.docker("run", "-i", "--rm", "--network", "none", bb_image, "cat", via=via,
                 input="hello through the proxy\n", timeout=60)
    assert r.stdout == "hello through the proxy\n"
    # A larger stdin: every byte through the upgraded connection, then EOF.
    data = os.urandom(3 << 20)
    r = p.docker("run", "-i", "--rm", "--network", "none", bb_image, "sha256sum", via=via,
                 input=data, timeout=60)
    assert r.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()


@via_param
def test_exec_stdin_half_close(proxy_factory, dockerd, bb_image, cleanup, unique_name, via):
    name = run_detached(dockerd, cleanup, unique_name, bb_image, "sleep", "600")
    p = proxy_factory({"CONTAINERS": "1", "EXEC": "1", "POST": "1"})
    # Returns only if stdin EOF (the client's half-close) is carried to the daemon.
    r = p.docker("exec", "-i", name, "cat", via=via, input="hi\n", timeout=30)
    assert r.stdout == "hi\n"
    r = p.docker("exec", name, "echo", "no stdin", via=via, timeout=30)
    assert r.stdout == "no stdin\n"


@via_param
def test_cp_both_ways(proxy_factory, dockerd, bb_image, cleanup, unique_name, via, tmp_path):
    name = run_detached(dockerd, cleanup, unique_name, bb_image, "sleep", "600")
    p = proxy_factory({"CONTAINERS": "1", "ALLOW_ARCHIVE": "1", "POST": "1"})
    src = tmp_path / "in.bin"
    src.write_bytes(os.urandom(5 << 20) + b"end\n")

    # host -> container through the proxy (HEAD + PUT archive), read back directly
    p.docker("cp", str(src), f"{name}:/tmp/in.bin", via=via)
    back = tmp_path / "back-direct.bin"
    dockerd.docker("cp", f"{name}:/tmp/in.bin", str(back))
    assert sha256_file(back) == sha256_file(src)

    # container -> host through the proxy (HEAD + GET archive), written directly
    dockerd.docker("exec", name, "sh", "-c", "dd if=/dev/urandom of=/tmp/out.bin bs=65536 count=64 2>/dev/null")
    out_proxy = tmp_path / "out-proxy.bin"
    out_direct = tmp_path / "out-direct.bin"
    p.docker("cp", f"{name}:/tmp/out.bin", str(out_proxy), via=via)
    dockerd.docker("cp", f"{name}:/tmp/out.bin", str(out_direct))
    assert os.path.getsize(out_proxy) == 64 * 65536
    assert sha256_file(out_proxy) == sha256_file(out_direct)


@pytest.fixture(scope="module")
def big_container(dockerd, bb_image):
    """A stopped container holding a 100 MiB random file, and its direct export's sha256."""
    name = f"sp-export-{os.getpid()}"
    dockerd.docker("rm", "-f", name, check=False)
    dockerd.docker("run", "--name", name, "--network", "none", bb_image,
                   "dd", "if=/dev/urandom", "of=/big", "bs=1048576", "count=100", timeout=120)
    with tempfile.TemporaryDirectory(prefix="sp-export-") as d:
        path = os.path.join(d, "direct.tar")
        dockerd.docker("export", "-o", path, name, timeout=120)
        digest = sha256_file(path)
        size = os.path.getsize(path)
    assert size > 100 << 20
    yield name, digest
    dockerd.docker("rm", "-f", name, check=False)


@via_param
def test_export_100mb(proxy_factory, big_container, via, tmp_path):
    name, direct_digest = big_container
    p = proxy_factory({"CONTAINERS": "1", "ALLOW_EXPORT": "1"})
    out = tmp_path / "proxy.tar"
    p.docker("export", "-o", str(out), name, via=via, timeout=120)
    assert sha256_file(out) == direct_digest


@via_param
def test_build_from_scratch_legacy_builder(proxy_factory, dockerd, cleanup, unique_name, via, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    (ctx / "hello.txt").write_text(f"built through the proxy {unique_name}\n")
    tag = cleanup.image(f"{unique_name}:latest".lower())
    p = proxy_factory({"BUILD": "1", "POST": "1", "IMAGES": "1"})
    # The daemon (20.10) has BuildKit, but the CLI has no buildx plugin: legacy builder.
    r = p.docker("build", "-t", tag, str(ctx), via=via, env={"DOCKER_BUILDKIT": "0"}, timeout=120)
    assert "Successfully tagged" in r.stdout, r.stdout
    # The image exists on the daemon and holds the copied file.
    cid = cleanup.container(f"{unique_name}-check")
    dockerd.docker("create", "--name", cid, tag, "/nothing")
    dockerd.docker("cp", f"{cid}:/hello.txt", str(tmp_path / "hello.out"))
    assert (tmp_path / "hello.out").read_text() == f"built through the proxy {unique_name}\n"


def _build_then_kill_client(env, ctx, tag, cleanup):
    """Start `docker build`, SIGKILL the CLI once the RUN container exists; its id."""
    proc = subprocess.Popen([DOCKER, "build", "--network", "none", "-t", tag, str(ctx)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = LineReader(proc.stdout).expect(r"Running in [0-9a-f]+", 60)
    finally:
        stop_process(proc)  # SIGKILL: the client vanishes, as with Ctrl-C
    return cleanup.container(line.split("Running in ")[1].strip())


def _gone_within(dockerd, cid, timeout):
    return wait_for(lambda: not dockerd.docker("ps", "-a", "-q", "--filter", f"id={cid}").stdout.strip(), timeout,
                    interval=0.25)


@pytest.mark.once
def test_build_cancel_reaches_daemon(proxy_factory, dockerd, bb_image, cleanup, unique_name, tmp_path):
    """Killing `docker build` closes its connection, and dockerd cancels the build
    (removing the RUN container) -- if the proxy passes that close on."""
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {bb_image}\nRUN sleep 120\n")
    tag = cleanup.image(f"{unique_name}:latest".lower())

    cid = _build_then_kill_client(dict(dockerd.env, DOCKER_BUILDKIT="0"), ctx, tag, cleanup)
    if not _gone_within(dockerd, cid, 15):
        pytest.skip("this dockerd does not cancel a build when its client disconnects")

    p = proxy_factory({"BUILD": "1", "POST": "1", "IMAGES": "1", "SOCKET_PROXY_SHUTDOWN_GRACE": "1s"})
    cid = _build_then_kill_client(p.docker_env("unix", {"DOCKER_BUILDKIT": "0"}), ctx, tag, cleanup)
    assert _gone_within(dockerd, cid, 15), (
        f"build container {cid} still there 15 s after the client was killed: the proxy kept "
        "the daemon connection open, so the build was not cancelled")


@via_param
def test_daemon_down(proxy_factory, via):
    p = proxy_factory(upstream="/tmp/sp-no-such-dir/docker.sock")
    # Fails rather than hangs: it gets its 502 at once (tens of ms), so 10 s (p.docker
    # fails the test past it) is a deadline for a hang, not a timing.
    r = p.docker("version", via=via, check=False, timeout=10)
    assert r.returncode != 0, r.stdout

    status, headers, body = p.http("GET", "/_ping", via=via)
    assert status == 502, (status, body)
    assert headers.get("content-type", "").startswith("application/json"), headers
    msg = json.loads(body)
    assert isinstance(msg.get("message"), str) and msg["message"], body

    status, headers, body = p.http("HEAD", "/_ping", via=via)
    assert status == 502 and body == b""
    assert p.alive()

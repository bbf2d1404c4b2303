"""TLS through the real clients against a real dockerd: the docker CLI with
DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (and with --tlsverify and the file
flags) doing version, ps, logs -f, exec -i with stdin's end carried as
close_notify, run -i with megabytes of stdin, cp both ways and a build; refused
without a client certificate or with another CA's; the Python SDK
(python3-docker) with docker.tls.TLSConfig doing version, containers.list, logs."""
import hashlib
import os
import subprocess

import pytest

from conftest import in_ci, wait_for
from dockerutil import DOCKER, LineReader, sha256_file, stop_process


def tls_proxy(proxy_factory, certs, env=None):
    return proxy_factory({"SOCKET_PROXY_TLS_DIR": certs.proxy_dir(), **(env or {})})


def tls_env(certs, client="traefik", ca="ca"):
    """The docker CLI's TLS environment: verify the server against ca.pem, present
    cert.pem/key.pem from DOCKER_CERT_PATH."""
    return {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": certs.client_dir(client, ca=ca)}


def run_detached(dockerd, cleanup, name, image, *cmd):
    cleanup.container(name)
    dockerd.docker("run", "-d", "--name", name, "--network", "none", image, *cmd)
    return name


def test_version_and_ps(proxy_factory, dockerd, bb_image, cleanup, unique_name, tls_certs):
    name = cleanup.container(unique_name)
    dockerd.docker("create", "--name", name, "--network", "none", bb_image, "true")
    p = tls_proxy(proxy_factory, tls_certs, {"CONTAINERS": "1"})
    env = tls_env(tls_certs)
    fmt = "{{.Server.APIVersion}} {{.Server.Version}}"
    direct = dockerd.docker("version", "--format", fmt).stdout.strip()
    assert p.docker("version", "--format", fmt, via="tcp", env=env).stdout.strip() == direct
    r = p.docker("ps", "-a", "--format", "{{.Names}}", via="tcp", env=env)
    assert name in r.stdout.split()
    r = p.docker("images", via="tcp", env=env, check=False)  # the proxy's own 403, over TLS
    assert r.returncode != 0 and "IMAGES=1" in r.stderr, r.stderr


def test_cli_tls_flags(proxy_factory, tls_certs):
    """--tlsverify --tlscacert --tlscert --tlskey instead of the environment."""
    p = tls_proxy(proxy_factory, tls_certs)
    c = tls_certs.client("portainer")
    r = p.docker("--tlsverify", "--tlscacert", tls_certs.ca.cert, "--tlscert", c.cert, "--tlskey", c.key,
                 "version", "--format", "{{.Server.Version}}", via="tcp")
    assert r.stdout.strip(), r.stdout


@pytest.mark.parametrize("client", [None, "stranger", "expired"], ids=["no-client-cert", "other-ca", "expired"])
def test_cli_refused(proxy_factory, tls_certs, client):
    p = tls_proxy(proxy_factory, tls_certs)
    r = p.docker("version", "--format", "{{.Server.Version}}", via="tcp", env=tls_env(tls_certs, client),
                 check=False, timeout=30)
    assert r.returncode != 0 and r.stdout.strip() == "", (r.stdout, r.stderr)
    assert "tls" in r.stderr.lower() or "certificate" in r.stderr.lower(), r.stderr
    assert p.alive()


def test_cli_server_only_tls(proxy_factory, tls_certs):
    """A proxy without ca.pem: the CLI verifies the server and presents nothing."""
    p = proxy_factory({"SOCKET_PROXY_TLS_DIR": tls_certs.proxy_dir(ca=None)})
    r = p.docker("version", "--format", "{{.Server.Version}}", via="tcp", env=tls_env(tls_certs, None))
    assert r.stdout.strip(), r.stdout


def test_cli_refuses_a_server_of_another_ca(proxy_factory, tls_certs):
    """The client's side of it: verifying against ca2, the CLI refuses the proxy."""
    p = tls_proxy(proxy_factory, tls_certs)
    r = p.docker("version", via="tcp", env=tls_env(tls_certs, "traefik", ca="ca2"), check=False, timeout=30)
    assert r.returncode != 0 and "certificate" in r.stderr, r.stderr


def test_cli_without_tls_gets_the_proxy_400(proxy_factory, tls_certs):
    """The CLI speaking clear text to the TLS port: an answer that says so."""
    p = tls_proxy(proxy_factory, tls_certs)
    r = p.docker("version", via="tcp", check=False, timeout=30)
    assert r.returncode != 0 and "TLS" in r.stderr, r.stderr


def test_logs_follow(proxy_factory, dockerd, bb_image, cleanup, unique_name, tls_certs):
    """logs -f over TLS: the first line at once, the second when the container
    is told to print it, then the end when it exits."""
    name = run_detached(dockerd, cleanup, unique_name, bb_image, "sh", "-c",
                        "echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo second")
    p = tls_proxy(proxy_factory, tls_certs, {"CONTAINERS": "1", "ALLOW_LOGS": "1"})
    proc = subprocess.Popen([DOCKER, "logs", "-f", name], env=p.docker_env("tcp", tls_env(tls_certs)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = LineReader(proc.stdout)
        lines.expect(r"^first$", 20)
        dockerd.docker("exec", name, "touch", "/tmp/go")
        lines.expect(r"^second$", 20)
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
    finally:
        stop_process(proc)


def test_exec_stdin_half_close(proxy_factory, dockerd, bb_image, cleanup, unique_name, tls_certs):
    """`echo hi | docker exec -i c cat` returns only if stdin's end (the CLI's
    CloseWrite: a close_notify) reaches the daemon as EOF."""
    name = run_detached(dockerd, cleanup, unique_name, bb_image, "sleep", "600")
    p = tls_proxy(proxy_factory, tls_certs, {"CONTAINERS": "1", "EXEC": "1", "POST": "1"})
    env = tls_env(tls_certs)
    r = p.docker("exec", "-i", name, "cat", via="tcp", env=env, input="hi\n", timeout=30)
    assert r.stdout == "hi\n"
    data = os.urandom(2 << 20)
    r = p.docker("exec", "-i", name, "sha256sum", via="tcp", env=env, input=data, timeout=60)
    assert r.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()
    r = p.docker("exec", name, "echo", "no stdin", via="tcp", env=env, timeout=30)
    assert r.stdout == "no stdin\n"


def test_run_interactive_stdin(proxy_factory, bb_image, tls_certs):
    """create, attach (hijacked), start, wait, remove: 3 MiB of stdin through the
    tunnel, then its end."""
    p = tls_proxy(proxy_factory, tls_certs, {"CONTAINERS": "1", "POST": "1"})
    data = os.urandom(3 << 20)
    r = p.docker("run", "-i", "--rm", "--network", "none", bb_image, "sha256sum", via="tcp", env=tls_env(tls_certs),
                 input=data, timeout=60)
    assert r.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()


def test_cp_both_ways(proxy_factory, dockerd, bb_image, cleanup, unique_name, tls_certs, tmp_path):
    name = run_detached(dockerd, cleanup, unique_name, bb_image, "sleep", "600")
    p = tls_proxy(proxy_factory, tls_certs, {"CONTAINERS": "1", "ALLOW_ARCHIVE": "1", "POST": "1"})
    env = tls_env(tls_certs)
    src = tmp_path / "in.bin"
    src.write_bytes(os.urandom(5 << 20) + b"end\n")
    p.docker("cp", str(src), f"{name}:/tmp/in.bin", via="tcp", env=env)
    back = tmp_path / "back-direct.bin"
    dockerd.docker("cp", f"{name}:/tmp/in.bin", str(back))
    assert sha256_file(back) == sha256_file(src)

    dockerd.docker("exec", name, "sh", "-c", "dd if=/dev/urandom of=/tmp/out.bin bs=65536 count=64 2>/dev/null")
    out_proxy, out_direct = tmp_path / "out-proxy.bin", tmp_path / "out-direct.bin"
    p.docker("cp", f"{name}:/tmp/out.bin", str(out_proxy), via="tcp", env=env)
    dockerd.docker("cp", f"{name}:/tmp/out.bin", str(out_direct))
    assert os.path.getsize(out_proxy) == 64 * 65536
    assert sha256_file(out_proxy) == sha256_file(out_direct)


def test_build(proxy_factory, dockerd, cleanup, unique_name, tls_certs, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    (ctx / "hello.txt").write_text(f"built over TLS {unique_name}\n")
    tag = cleanup.image(f"{unique_name}:latest".lower())
    p = tls_proxy(proxy_factory, tls_certs, {"BUILD": "1", "POST": "1", "IMAGES": "1"})
    r = p.docker("build", "-t", tag, str(ctx), via="tcp", env={"DOCKER_BUILDKIT": "0", **tls_env(tls_certs)},
                 timeout=120)
    assert "Successfully tagged" in r.stdout, r.stdout
    cid = cleanup.container(f"{unique_name}-check")
    dockerd.docker("create", "--name", cid, tag, "/nothing")
    dockerd.docker("cp", f"{cid}:/hello.txt", str(tmp_path / "hello.out"))
    assert (tmp_path / "hello.out").read_text() == f"built over TLS {unique_name}\n"


def test_client_certificates_choose_profiles(proxy_factory, dockerd, bb_image, cleanup, unique_name, tls_certs):
    """One TLS port, two CLIs with two certificates: each gets its profile's rules."""
    name = cleanup.container(unique_name)
    dockerd.docker("create", "--name", name, "--network", "none", bb_image, "true")
    p = tls_proxy(proxy_factory, tls_certs, {
        "SOCKET_PROXY_PROFILES": "traefik,portainer", "TRAEFIK__CONTAINERS": "1", "TRAEFIK__TLS_CLIENT": "traefik",
        "PORTAINER__IMAGES": "1", "PORTAINER__TLS_CLIENT": "portainer"})
    traefik, portainer = tls_env(tls_certs, "traefik"), tls_env(tls_certs, "portainer")
    assert name in p.docker("ps", "-a", "--format", "{{.Names}}", via="tcp", env=traefik).stdout.split()
    r = p.docker("ps", "-a", via="tcp", env=portainer, check=False)
    assert r.returncode != 0 and "PORTAINER__CONTAINERS=1" in r.stderr, r.stderr
    assert bb_image.split(":")[0] in p.docker("images", via="tcp", env=portainer).stdout
    r = p.docker("images", via="tcp", env=traefik, check=False)
    assert r.returncode != 0 and "TRAEFIK__IMAGES=1" in r.stderr, r.stderr
    r = p.docker("ps", via="tcp", env=tls_env(tls_certs, "nobody"), check=False)  # the default rules
    assert r.returncode != 0 and "needs CONTAINERS=1" in r.stderr, r.stderr


# -- the Python SDK ---------------------------------------------------------------------------------

@pytest.fixture
def docker_sdk(monkeypatch):
    """The docker module, with requests' environment out of the way: a
    REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE wins over the client's own CA in requests,
    and an HTTPS proxy would be asked for 127.0.0.1."""
    for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(k, raising=False)
    try:
        import docker
        import docker.tls  # noqa: F401
    except ImportError as e:
        msg = f"the Python SDK is missing (Debian package python3-docker): {e}"
        if in_ci():
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return docker


def sdk_client(docker, p, certs, client="traefik"):
    tls = docker.tls.TLSConfig(client_cert=(certs.client(client).cert, certs.client(client).key) if client else None,
                               ca_cert=certs.ca.cert, verify=True)
    return docker.DockerClient(base_url=f"https://127.0.0.1:{p.port}", tls=tls, version="auto", timeout=30)


def test_python_sdk(proxy_factory, dockerd, bb_image, cleanup, unique_name, tls_certs, docker_sdk):
    name = run_detached(dockerd, cleanup, unique_name, bb_image, "sh", "-c",
                        "echo one; echo two; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo three")
    p = tls_proxy(proxy_factory, tls_certs, {"CONTAINERS": "1", "ALLOW_LOGS": "1"})
    api = dockerd.docker("version", "--format", "{{.Server.APIVersion}}").stdout.strip()
    c = sdk_client(docker_sdk, p, tls_certs)
    try:
        assert c.version()["ApiVersion"] == api
        assert name in [x.name for x in c.containers.list(all=True)]
        ctr = c.containers.get(name)
        assert wait_for(lambda: ctr.logs() == b"one\ntwo\n", 10, interval=0.1), ctr.logs()
        stream = ctr.logs(stream=True, follow=True)
        got = b""
        while got != b"one\ntwo\n":
            got += next(stream)
        dockerd.docker("exec", name, "touch", "/tmp/go")
        while got != b"one\ntwo\nthree\n":
            got += next(stream)
        assert b"".join(stream) == b""  # and the stream ends with the container
        with pytest.raises(docker_sdk.errors.APIError) as e:
            c.images.list()
        assert e.value.status_code == 403 and "IMAGES=1" in str(e.value), e.value
    finally:
        c.close()


def test_python_sdk_without_client_cert_is_refused(proxy_factory, tls_certs, docker_sdk):
    """The client asks the server's API version first (version="auto"): the
    handshake's refusal is what it reports."""
    p = tls_proxy(proxy_factory, tls_certs)
    with pytest.raises(docker_sdk.errors.DockerException) as e:
        sdk_client(docker_sdk, p, tls_certs, client=None)
    assert "SSL" in str(e.value), e.value
    assert p.alive()

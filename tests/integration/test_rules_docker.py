"""Peers' documented scenarios (Tecnativa's README, linuxserver's ALLOW_* variables)
through the proxy with the real docker CLI: what their compose files enable must work,
what they leave off must be refused with a message the CLI shows."""
import json

import pytest

from dockerutil import VIAS, assert_denied

via_param = pytest.mark.parametrize("via", VIAS)


def create(dockerd, cleanup, name, image, *cmd):
    cleanup.container(name)
    dockerd.docker("create", "--name", name, "--network", "none", image, *(cmd or ("sleep", "600")))
    return name


def running(dockerd, name):
    return dockerd.docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "true"


@via_param
def test_defaults(proxy_factory, via):
    p = proxy_factory()
    p.docker("version", via=via)
    assert_denied(p.docker("ps", via=via, check=False), "GET", "/containers/json", "CONTAINERS=1")
    # EVENTS=1 by default; --until makes the stream end once replayed.
    p.docker("events", "--since", "10m", "--until", "0s", via=via, timeout=30)
    assert_denied(p.docker("images", via=via, check=False), "GET", "/images/json", "IMAGES=1")
    assert_denied(p.docker("network", "ls", via=via, check=False), "GET", "/networks", "NETWORKS=1")
    assert_denied(p.docker("info", via=via, check=False), "GET", "/info", "INFO=1")


@via_param
def test_denied_answer_shape(proxy_factory, via):
    """The 403 itself: JSON {"message"} that names the request and what would allow it."""
    p = proxy_factory()
    status, headers, body = p.http("GET", "/v1.41/containers/json", via=via)
    assert status == 403
    assert headers.get("content-type", "").startswith("application/json"), headers
    msg = json.loads(body)["message"]
    assert msg.startswith("socket-proxy: GET /"), msg
    assert "/containers/json" in msg and "is not allowed (needs" in msg and "CONTAINERS=1" in msg, msg
    assert p.alive()


@via_param
def test_containers_allows_ps_not_run(proxy_factory, dockerd, bb_image, cleanup, unique_name, via):
    p = proxy_factory({"CONTAINERS": "1"})
    p.docker("ps", "-a", via=via)
    name = cleanup.container(unique_name)
    r = p.docker("run", "--name", name, "--network", "none", bb_image, "true", via=via, check=False)
    assert_denied(r, "POST", "/containers/create", "POST=1")
    assert name not in dockerd.docker("ps", "-a", "--format", "{{.Names}}").stdout.split()


@via_param
def test_post_alone_does_not_allow_ps(proxy_factory, via):
    p = proxy_factory({"POST": "1"})
    assert_denied(p.docker("ps", via=via, check=False), "GET", "/containers/json", "CONTAINERS=1")


@via_param
def test_networks_create_and_remove(proxy_factory, dockerd, cleanup, unique_name, via):
    p = proxy_factory({"POST": "1", "NETWORKS": "1"})
    name = cleanup.network(unique_name)
    p.docker("network", "create", "--internal", name, via=via)
    info = json.loads(dockerd.docker("network", "inspect", name).stdout)
    assert info[0]["Internal"] is True
    p.docker("network", "rm", name, via=via)
    assert dockerd.docker("network", "inspect", name, check=False).returncode != 0


@via_param
def test_networks_without_post_is_read_only(proxy_factory, unique_name, via):
    p = proxy_factory({"NETWORKS": "1"})
    p.docker("network", "ls", via=via)
    r = p.docker("network", "create", "--internal", unique_name, via=via, check=False)
    assert_denied(r, "POST", "/networks/create", "POST=1")


@via_param
def test_exec(proxy_factory, dockerd, bb_image, cleanup, unique_name, via):
    name = create(dockerd, cleanup, unique_name, bb_image)
    dockerd.docker("start", name)
    p = proxy_factory({"CONTAINERS": "1", "EXEC": "1", "POST": "1"})
    assert p.docker("exec", name, "echo", "hello", via=via).stdout == "hello\n"


@via_param
def test_exec_needs_exec(proxy_factory, dockerd, bb_image, cleanup, unique_name, via):
    name = create(dockerd, cleanup, unique_name, bb_image)
    dockerd.docker("start", name)
    p = proxy_factory({"CONTAINERS": "1", "POST": "1"})
    r = p.docker("exec", name, "echo", "hello", via=via, check=False)
    assert_denied(r, "POST", r"/containers/\S+/exec", "EXEC=1")


@via_param
def test_allow_start_without_post(proxy_factory, dockerd, bb_image, cleanup, unique_name, via):
    """linuxserver: ALLOW_START=1 with POST=0 lets `docker start` through, nothing else."""
    name = create(dockerd, cleanup, unique_name, bb_image)
    p = proxy_factory({"ALLOW_START": "1", "POST": "0"})
    p.docker("start", name, via=via)
    assert running(dockerd, name)
    r = p.docker("stop", name, via=via, check=False)
    assert_denied(r, "POST", rf"/containers/{name}/stop", "")
    assert running(dockerd, name)


@via_param
def test_allow_stop_and_restarts(proxy_factory, dockerd, bb_image, cleanup, unique_name, via):
    name = create(dockerd, cleanup, unique_name, bb_image)
    dockerd.docker("start", name)
    p = proxy_factory({"ALLOW_RESTARTS": "1", "POST": "0"})
    p.docker("restart", "-t", "0", name, via=via)
    assert running(dockerd, name)
    p = proxy_factory({"ALLOW_STOP": "1", "POST": "0"})
    p.docker("stop", "-t", "0", name, via=via)
    assert not running(dockerd, name)
    r = p.docker("start", name, via=via, check=False)
    assert_denied(r, "POST", rf"/containers/{name}/start", "")

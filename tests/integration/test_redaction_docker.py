"""Response redaction (issue 11) with the real docker CLI and dockerd: `docker
inspect` through a proxy with CONTAINERS=1 shows the names of a container's
environment but not its values; with POST=1 (Watchtower's set, which
recreates containers from inspect answers) or ALLOW_ENV=1 it shows them. The
rest of the answer is the daemon's, digit for digit."""
import http.client
import json
import socket

ENV_MARK = "<redacted by socket-proxy: ALLOW_ENV=1 shows it>"
PAST_2_53 = 9007199254740993  # 2^53 + 1: a double prints it as ...992


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("docker", timeout=30)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(30)
        self.sock.connect(self.path)


def api(sock, method, path, body=None):
    c = UnixHTTP(sock)
    try:
        c.request(method, path, body=json.dumps(body) if body is not None else None,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def env_of(p, name, **kw):
    out = p.docker("inspect", "--format", "{{json .Config.Env}}", name, **kw).stdout
    return json.loads(out)


def test_inspect_env_redacted_under_post_0(proxy_factory, dockerd, bb_image, cleanup, unique_name):
    name = cleanup.container(unique_name)
    dockerd.docker("create", "--name", name, "--network", "none", "-e", "DB_PASSWORD=hunter2", "-e", "MODE=prod",
                   bb_image, "true")
    p = proxy_factory({"CONTAINERS": "1"})
    env = env_of(p, name)
    assert "DB_PASSWORD=" + ENV_MARK in env and "MODE=" + ENV_MARK in env, env
    assert not any("hunter2" in e for e in env)
    # the whole answer: nothing of the value anywhere, the rest parses as the daemon's
    whole = p.docker("inspect", name).stdout
    assert "hunter2" not in whole and json.loads(whole)[0]["Name"] == "/" + name
    p.stop()
    for env_vars in ({"CONTAINERS": "1", "POST": "1"}, {"CONTAINERS": "1", "ALLOW_ENV": "1"}):
        p = proxy_factory(env_vars)
        assert "DB_PASSWORD=hunter2" in env_of(p, name), env_vars
        p.stop()
    p = proxy_factory({"CONTAINERS": "1", "POST": "1", "ALLOW_ENV": "0"})
    assert "DB_PASSWORD=" + ENV_MARK in env_of(p, name)


def test_redacted_answer_keeps_every_other_byte(proxy_factory, dockerd, bb_image, cleanup, unique_name):
    """A memory limit past 2^53, set on the daemon directly: through the proxy
    the inspect answer is the daemon's answer with only the Env values
    replaced, byte for byte."""
    name = cleanup.container(unique_name)
    status, body = api(dockerd.sock, "POST", "/containers/create?name=" + name,
                       {"Image": bb_image, "Cmd": ["true"], "Env": ["TOKEN=s3cr3t", "PLAIN"],
                        "HostConfig": {"NetworkMode": "none", "Memory": PAST_2_53}})
    assert status == 201, body
    status, direct = api(dockerd.sock, "GET", "/containers/%s/json" % name)
    assert status == 200 and str(PAST_2_53).encode() in direct
    p = proxy_factory({"CONTAINERS": "1"})
    status, through = api(p.unix, "GET", "/containers/%s/json" % name)
    assert status == 200
    assert through == direct.replace(b'"TOKEN=s3cr3t"', ('"TOKEN=' + ENV_MARK + '"').encode())
    assert b'"PLAIN"' in through and str(PAST_2_53).encode() in through

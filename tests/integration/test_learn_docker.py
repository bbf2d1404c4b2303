"""Learn mode with the real docker CLI and dockerd (issue 12): a learning proxy
watches `docker ps`, `docker logs` and `docker run --rm`; the variables it
prints at exit, used as the environment of an enforcing proxy, let the same
commands pass and nothing more (`docker network create` is still refused)."""
import re


def learned_env(text):
    """The NAME=VALUE of every "      - NAME=VALUE  # ..." line of a report."""
    env = {}
    for line in text.splitlines():
        m = re.match(r"^\s+- ([A-Z0-9_]+)=(\S+)", line)
        if m:
            env[m.group(1)] = m.group(2).strip('"')
    return env


def commands(p, bb_image, name):
    p.docker("ps", "-a")
    p.docker("logs", name)
    out = p.docker("run", "--rm", "--network", "none", bb_image, "echo", "learned").stdout
    assert "learned" in out


def test_learn_then_enforce(proxy_factory, dockerd, bb_image, cleanup, unique_name):
    name = cleanup.container(unique_name)
    dockerd.docker("run", "--name", name, "--network", "none", bb_image, "echo", "hello")
    p = proxy_factory({"SOCKET_PROXY_MODE": "learn"})
    commands(p, bb_image, name)
    p.stop()
    with open(p.stdout_path) as f:
        report = f.read()
    env = learned_env(report)
    assert env.get("CONTAINERS") == "1" and env.get("POST") == "1", report
    assert "NETWORKS" not in env and "ALLOW_PRIVILEGED" not in env, report
    q = proxy_factory(env)
    commands(q, bb_image, name)
    r = q.docker("network", "create", unique_name + "-net", check=False)
    assert r.returncode != 0 and "socket-proxy:" in r.stderr and "NETWORKS" in r.stderr, r.stderr
    assert unique_name + "-net" not in dockerd.docker("network", "ls", "--format", "{{.Name}}").stdout

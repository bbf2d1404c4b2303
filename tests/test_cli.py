"""Subcommands and start-up configuration: check, rules, vars, version,
configuration errors (one line naming the variable), look-alike warnings."""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "socket-proxy")


def run(*args, env=None, timeout=10):
    e = {"PATH": "/usr/bin:/bin"}
    e.update(env or {})
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, env=e, timeout=timeout)


def test_check_denied_explains_variables():
    r = run("check", "POST", "/v1.41/containers/create")
    assert r.returncode == 1
    assert r.stdout.splitlines()[0] == "deny POST /v1.41/containers/create"
    assert "needs CONTAINERS=1 and POST=1" in r.stdout
    assert "CONTAINERS       = 0 (default)" in r.stdout


def test_check_allowed_with_env():
    r = run("check", "GET", "/v1.41/containers/json?all=1", env={"CONTAINERS": "1"})
    assert r.returncode == 0, r.stdout
    assert "granted by CONTAINERS=1" in r.stdout
    assert "CONTAINERS       = 1 (set)" in r.stdout


@pytest.mark.parametrize("target", ["/_ping/../containers/json", "/%63ontainers/json", "//containers/json",
                                    "/v1.41/_ping/%2e%2e/containers/json"])
def test_check_spellings_are_decided_on_the_real_path(target):
    r = run("check", "GET", target)
    assert r.returncode == 1 and "path /containers/json needs CONTAINERS=1" in r.stdout, r.stdout


def test_check_bad_spelling_is_400():
    r = run("check", "GET", "/_ping%zz")
    assert r.returncode == 1 and "bad request" in r.stdout and "400" in r.stdout


def test_check_usage():
    assert run("check", "GET").returncode == 2


def test_rules_table():
    r = run("rules", env={"CONTAINERS": "1", "POST": "true", "API_KEY": "k"})
    assert r.returncode == 0
    lines = {line.split()[0]: line.split() for line in r.stdout.splitlines()[1:]}
    assert lines["CONTAINERS"][1:3] == ["1", "env"]
    assert lines["POST"][1:3] == ["1", "env"]
    assert lines["PING"][1:3] == ["1", "default"]
    assert lines["IMAGES"][1:3] == ["0", "default"]
    assert lines["ALLOW_LOGS"][1] == "1"  # unset follows CONTAINERS
    assert "set (sent upstream as X-Api-Key)" in r.stdout


def test_version():
    r = run("version")
    assert r.returncode == 0 and r.stdout.startswith("socket-proxy ")


QUIET = {"SOCKET_PROXY_VOLUME": f"/tmp/sp-cli-{os.getpid()}", "SOCKET_PROXY_LISTEN": "off",
         "SOCKET_PATH": "/nonexistent.sock", "SOCKET_PROXY_UID": "0", "SOCKET_PROXY_GID": "0"}


def test_vars_lists_the_new_limits_with_their_defaults():
    r = run("vars")
    assert r.returncode == 0
    got = dict(line.split("=", 1) for line in r.stdout.splitlines())
    assert got.get("SOCKET_PROXY_MIN_API_VERSION") == "1.24", r.stdout
    assert got.get("SOCKET_PROXY_MAX_CLIENT_CONNS") == "512", r.stdout


@pytest.mark.parametrize("env,var", [
    ({"CONTAINERS": "maybe"}, "CONTAINERS"),
    ({"POST": "2"}, "POST"),
    ({"ALLOW_LOGS": "y"}, "ALLOW_LOGS"),
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ({"DEBUG": "sometimes"}, "DEBUG"),
    ({"DISABLE_IPV6": "nope"}, "DISABLE_IPV6"),
    ({"PORT": "70000"}, "PORT"),
    ({"PORT": "abc"}, "PORT"),
    ({"SOCKET_PROXY_LISTEN": "localhost:2375"}, "SOCKET_PROXY_LISTEN"),
    ({"SOCKET_PROXY_LISTEN": "127.0.0.1"}, "SOCKET_PROXY_LISTEN"),
    ({"SOCKET_PROXY_LISTEN": "[::1]:0"}, "SOCKET_PROXY_LISTEN"),
    ({"SOCKET_PROXY_TIMEOUT": "soon"}, "SOCKET_PROXY_TIMEOUT"),
    ({"SOCKET_PROXY_TIMEOUT": "0"}, "SOCKET_PROXY_TIMEOUT"),
    ({"SOCKET_PROXY_SHUTDOWN_GRACE": "-1s"}, "SOCKET_PROXY_SHUTDOWN_GRACE"),
    ({"SOCKET_PROXY_UID": "root"}, "SOCKET_PROXY_UID"),
    ({"SOCKET_PROXY_GID": "-5"}, "SOCKET_PROXY_GID"),
    ({"SOCKET_PROXY_SOCKET_MODE": "999"}, "SOCKET_PROXY_SOCKET_MODE"),
    ({"SOCKET_PROXY_MAX_HEAD": "10"}, "SOCKET_PROXY_MAX_HEAD"),
    # (a proxy that took these for valid would start: keep it off the default listeners)
    ({"SOCKET_PROXY_MIN_API_VERSION": "1.x", **QUIET}, "SOCKET_PROXY_MIN_API_VERSION"),
    ({"SOCKET_PROXY_MIN_API_VERSION": "latest", **QUIET}, "SOCKET_PROXY_MIN_API_VERSION"),
    ({"SOCKET_PROXY_MAX_CLIENT_CONNS": "many", **QUIET}, "SOCKET_PROXY_MAX_CLIENT_CONNS"),
    ({"SOCKET_PROXY_MAX_CLIENT_CONNS": "-1", **QUIET}, "SOCKET_PROXY_MAX_CLIENT_CONNS"),
    ({"SOCKET_PROXY_VOLUME": "relative/dir"}, "SOCKET_PROXY_VOLUME"),
    ({"SOCKET_PATH": "docker.sock"}, "SOCKET_PATH"),
    ({"SOCKET_PATH": "/a.sock", "SOCKET_PROXY_DOCKER_SOCKET": "/b.sock"}, "SOCKET_PATH"),
    ({"SOCKET_PROXY_VOLUME": "", "SOCKET_PROXY_LISTEN": "off"}, "SOCKET_PROXY_LISTEN"),
])
def test_bad_configuration_is_one_line(env, var):
    try:
        r = run(env=env, timeout=3)
    except subprocess.TimeoutExpired:
        pytest.fail(f"started with {env}: the value was accepted")
    finally:
        if env.get("SOCKET_PROXY_VOLUME") == QUIET["SOCKET_PROXY_VOLUME"]:
            shutil.rmtree(QUIET["SOCKET_PROXY_VOLUME"], ignore_errors=True)
    assert r.returncode != 0
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    assert var in lines[0], lines[0]
    assert r.stdout == ""


def test_lookalike_variables_are_warned(tmp_path):
    env = {"CONTAINER": "1", "ALLOW_RESTART": "1", "LOGS": "1", "SOCKET_PROXY_VOLUME": str(tmp_path),
           "SOCKET_PROXY_LISTEN": "127.0.0.1:1", "SOCKET_PROXY_UID": "0", "SOCKET_PROXY_GID": "0",
           "SOCKET_PATH": "/nonexistent.sock"}
    p = subprocess.Popen([BIN], env=dict(env, PATH="/usr/bin:/bin"), stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for _ in range(12):
            line = p.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "forwarding to" in line or "crit" in line:
                break
    finally:
        p.terminate()
        p.wait(timeout=10)
    text = "".join(lines)
    assert "CONTAINER is not a socket-proxy variable" in text and "did you mean CONTAINERS" in text, text
    assert "did you mean ALLOW_RESTARTS" in text, text
    assert "did you mean ALLOW_LOGS" in text, text
    assert "granted: EVENTS PING VERSION" in text, text

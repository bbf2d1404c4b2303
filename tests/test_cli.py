"""Subcommands and start-up configuration: check, rules, vars, version,
configuration errors (one line naming the variable), empty values, look-alike
warnings."""
import os
import re
import shutil
import signal
import subprocess

import pytest

from conftest import wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "socket-proxy")


def run(*args, env=None, timeout=10):
    e = {"PATH": "/usr/bin:/bin"}
    e.update(env or {})
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, env=e, timeout=timeout)


def serve_briefly(tmp_path, env):
    """Serves on a Unix socket in tmp_path (no TCP, no daemon) until it is
    ready, then SIGTERM. Returns (exit code, stderr)."""
    full = {"PATH": "/usr/bin:/bin", "SOCKET_PROXY_VOLUME": str(tmp_path), "SOCKET_PROXY_LISTEN": "off",
            "SOCKET_PROXY_UID": "0", "SOCKET_PROXY_GID": "0", "SOCKET_PATH": "/nonexistent.sock"}
    full.update(env)
    log = tmp_path / "stderr.log"
    with open(log, "w") as f:
        p = subprocess.Popen([BIN], env=full, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=f)
    try:
        wait_for(lambda: p.poll() is not None or "forwarding to" in log.read_text(), timeout=10)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)
    return p.returncode, log.read_text()


def table(header, macro):
    """{name: default} of an X-macro table in a header, in order."""
    text = open(os.path.join(ROOT, header)).read()
    body = text[text.index(f"#define {macro}(X)"):]
    body = body[:body.index("\n\n")]
    rows = re.findall(r'X\((\w+), *(-?\d+|"[^"]*")', body)
    return {name: {"-1": "unset", "-2": "unset"}.get(d, d.strip('"')) for name, d in rows}


PROFILE_FORMS = "# per profile NAME in SOCKET_PROXY_PROFILES:"


def vars_output(profile_forms=False):
    """The NAME=default lines of `vars`: the two tables, or (profile_forms)
    the per-profile forms printed after the comment line."""
    r = run("vars")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    lines = r.stdout.splitlines()
    cut = lines.index(PROFILE_FORMS)
    lines = lines[cut + 1:] if profile_forms else lines[:cut]
    return [tuple(line.split("=", 1)) for line in lines]


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
    got = dict(vars_output())
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
    ({"SOCKET_PROXY_VOLUME": "", "SOCKET_PROXY_LISTEN": ""}, "SOCKET_PROXY_LISTEN"),
    ({"SOCKET_PROXY_MIN_API_VERSION": "1"}, "SOCKET_PROXY_MIN_API_VERSION"),
    ({"SOCKET_PROXY_MIN_API_VERSION": "v1.24"}, "SOCKET_PROXY_MIN_API_VERSION"),
    ({"SOCKET_PROXY_MIN_API_VERSION": "1.24.0"}, "SOCKET_PROXY_MIN_API_VERSION"),
    ({"SOCKET_PROXY_MIN_API_VERSION": "1."}, "SOCKET_PROXY_MIN_API_VERSION"),
    ({"SOCKET_PROXY_MIN_API_VERSION": ".24"}, "SOCKET_PROXY_MIN_API_VERSION"),
    ({"SOCKET_PROXY_MIN_API_VERSION": "1.2x"}, "SOCKET_PROXY_MIN_API_VERSION"),
    ({"SOCKET_PROXY_MIN_API_VERSION": " 1.24"}, "SOCKET_PROXY_MIN_API_VERSION"),
    ({"SOCKET_PROXY_MIN_API_VERSION": "99999999999.1"}, "SOCKET_PROXY_MIN_API_VERSION"),
    ({"SOCKET_PROXY_MAX_CLIENT_CONNS": "-1"}, "SOCKET_PROXY_MAX_CLIENT_CONNS"),
    ({"SOCKET_PROXY_MAX_CLIENT_CONNS": "many"}, "SOCKET_PROXY_MAX_CLIENT_CONNS"),
    ({"SOCKET_PROXY_MAX_CLIENT_CONNS": "1e3"}, "SOCKET_PROXY_MAX_CLIENT_CONNS"),
    ({"SOCKET_PROXY_MAX_CLIENT_CONNS": "99999999999999999999999"}, "SOCKET_PROXY_MAX_CLIENT_CONNS"),
    ({"API_KEY": "k" * 70000}, "API_KEY"),
    ({"SOCKET_PROXY_METRICS": "9100"}, "SOCKET_PROXY_METRICS"),
    ({"SOCKET_PROXY_METRICS": "localhost:9100"}, "SOCKET_PROXY_METRICS"),
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
    rc, text = serve_briefly(tmp_path, {
        "CONTAINER": "1", "ALLOW_RESTART": "1", "LOGS": "1", "SOCKET_PROXY_VOLUMES": "1", "PORTS": "1",
        # real names with values that read as booleans: never warned about
        "DISABLE_IPV6": "0", "DEBUG": "0", "SOCKET_PROXY_MAX_CLIENT_CONNS": "1", "SOCKET_PROXY_MIN_API_VERSION": "off",
        "SOCKET_PROXY_GID": "0"})
    assert rc == 0, text
    assert "CONTAINER is not a socket-proxy variable" in text and "did you mean CONTAINERS" in text, text
    assert "did you mean ALLOW_RESTARTS" in text, text
    assert "did you mean ALLOW_LOGS" in text, text
    assert "SOCKET_PROXY_VOLUMES is not a socket-proxy variable and is ignored; did you mean SOCKET_PROXY_VOLUME?" in text, text
    assert "PORTS is not a socket-proxy variable and is ignored; did you mean PORT?" in text, text
    assert text.count("is not a socket-proxy variable") == 5, text
    assert "granted: EVENTS PING VERSION" in text, text


def test_vars_lists_both_tables_with_their_defaults():
    rules, server = table("rules/rules.h", "RULES_VARS"), table("core/config.h", "CONFIG_VARS")
    assert len(rules) > 40 and "SOCKET_PROXY_MIN_API_VERSION" in server and "DEBUG" in server, server
    scope = [("SCOPE_LABEL", "unset"), ("SCOPE_NETWORKS", "0"), ("SCOPE_VOLUMES", "0"), ("SCOPE_OWN", "0")]
    expect = list(rules.items()) + [("ALLOW_BINDS", "unset")] + scope + [("API_KEY", "unset")] + list(server.items())
    assert vars_output() == expect
    assert server["SOCKET_PROXY_MIN_API_VERSION"] == "1.24" and server["SOCKET_PROXY_MAX_CLIENT_CONNS"] == "512"


@pytest.mark.parametrize("value", ["1.24", "1.41", "2.0", "0", "off", "OFF"])
def test_min_api_version_accepted(value):
    r = run("rules", env={"SOCKET_PROXY_MIN_API_VERSION": value})
    assert r.returncode == 0 and r.stderr == "", r.stderr


@pytest.mark.parametrize("value", ["0", "1", "512", "100000"])
def test_max_client_conns_accepted(value):
    r = run("rules", env={"SOCKET_PROXY_MAX_CLIENT_CONNS": value})
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_empty_rules_variable_means_its_default():
    """compose writes POST=${POST:-}: empty is unset, and `rules` says so quietly."""
    r = run("rules", env={"POST": "", "CONTAINERS": "1", "ALLOW_LOGS": ""})
    assert r.returncode == 0 and r.stderr == "", r.stderr
    lines = {line.split()[0]: line.split() for line in r.stdout.splitlines()[1:]}
    assert lines["POST"][1:3] == ["0", "default"]
    assert lines["ALLOW_LOGS"][1:3] == ["1", "default"]  # unset follows CONTAINERS


def test_every_variable_empty_is_every_default():
    """Empty is the default for every variable but the two listeners (empty: off)."""
    names = [n for n, _ in vars_output() if n not in ("SOCKET_PROXY_VOLUME", "SOCKET_PROXY_LISTEN")]
    r = run("rules", env={n: "" for n in names})
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout == run("rules").stdout
    r = run("check", "GET", "/_ping", env={n: "" for n in names})
    assert r.returncode == 0 and r.stderr == "", r.stderr


@pytest.mark.parametrize("name,default", [
    ("POST", "0"), ("ALLOW_LOGS", "unset"), ("EVENTS", "1"), ("DEBUG", "0"), ("LOG_LEVEL", "info"), ("LOG_FORMAT", "text"),
    ("SOCKET_PROXY_MAX_HEAD", "65536"), ("SOCKET_PROXY_TIMEOUT", "30s"), ("SOCKET_PROXY_MIN_API_VERSION", "1.24"),
    ("SOCKET_PROXY_MAX_CLIENT_CONNS", "512"), ("PORT", "2375"), ("SOCKET_PATH", "/var/run/docker.sock"),
])
def test_serve_notes_an_empty_variable_once(tmp_path, name, default):
    rc, text = serve_briefly(tmp_path, {name: ""})
    assert rc == 0, text
    notes = [x for x in text.splitlines() if name in x and " notice: " in x]
    assert len(notes) == 1, text
    assert " notice: " in notes[0] and f"{name} is set but empty: using its default ({default}" in notes[0], notes
    assert "granted: EVENTS PING VERSION" in text, text


def test_serve_empty_listen_is_off(tmp_path):
    rc, text = serve_briefly(tmp_path, {"SOCKET_PROXY_LISTEN": ""})
    assert rc == 0, text
    notes = [x for x in text.splitlines() if "set but empty" in x]
    assert len(notes) == 1 and "SOCKET_PROXY_LISTEN is set but empty: off" in notes[0], text
    assert "listening on tcp" not in text and "listening on unix" in text, text


def test_socket_path_empty_does_not_disagree():
    r = run("rules", env={"SOCKET_PATH": "", "SOCKET_PROXY_DOCKER_SOCKET": "/x.sock"})
    assert r.returncode == 0 and r.stderr == "", r.stderr


@pytest.mark.parametrize("args", [[], ["rules"], ["check", "GET", "/_ping"]])
def test_api_key_longer_than_the_head_limit_is_refused(args):
    r = run(*args, env={"API_KEY": "k" * 70000})
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert r.returncode == 2 and len(lines) == 1 and "API_KEY" in lines[0] and "SOCKET_PROXY_MAX_HEAD" in lines[0], r.stderr
    assert r.stdout == ""


def test_api_key_fits_the_head_limit_to_the_byte():
    # "X-Api-Key: " + key + "\r\n" == 1024 bytes fits SOCKET_PROXY_MAX_HEAD=1024; one more does not
    fits = run("rules", env={"API_KEY": "k" * 1011, "SOCKET_PROXY_MAX_HEAD": "1024"})
    assert fits.returncode == 0 and fits.stderr == "", fits.stderr
    over = run("rules", env={"API_KEY": "k" * 1012, "SOCKET_PROXY_MAX_HEAD": "1024"})
    assert over.returncode == 2 and "API_KEY" in over.stderr


def test_check_and_rules_show_the_body_and_answer_switches():
    """check says which body switches judge a request's body (or head) and what an
    answer would have replaced; rules shows ALLOW_BINDS."""
    env = {"CONTAINERS": "1", "POST": "1", "ALLOW_PRIVILEGED": "1", "ALLOW_BINDS": "/srv,/data//x/.."}
    r = run("check", "POST", "/v1.41/containers/create", env=env)
    assert r.returncode == 0, r.stderr
    assert ("body judged: ALLOW_PRIVILEGED=1 ALLOW_HOST_NAMESPACES=0 ALLOW_CAPABILITIES=0 ALLOW_DEVICES=0 "
            "ALLOW_BINDS=/srv,/data") in r.stdout, r.stdout
    r = run("check", "POST", "/build?networkmode=host", env={"BUILD": "1", "POST": "1"})
    assert "head judged: ALLOW_PRIVILEGED=0" in r.stdout and "ALLOW_BINDS=unset" in r.stdout, r.stdout
    r = run("check", "GET", "/v1.41/containers/abc/json", env={"CONTAINERS": "1"})
    assert "answer: Env values redacted (ALLOW_ENV=0)" in r.stdout, r.stdout
    r = run("check", "GET", "/v1.41/containers/abc/json", env={"CONTAINERS": "1", "POST": "1"})
    assert "answer: Env values shown (ALLOW_ENV=1)" in r.stdout, r.stdout
    r = run("check", "GET", "/swarm", env={"SWARM": "1", "SECRETS": "1"})
    assert "answer: join tokens shown (SECRETS=1)" in r.stdout, r.stdout
    r = run("check", "GET", "/v1.41/containers/json", env={"CONTAINERS": "1"})
    assert "judged" not in r.stdout and "answer:" not in r.stdout, r.stdout
    r = run("rules", env={"ALLOW_BINDS": "/srv"})
    assert "\nALLOW_BINDS        /srv\n" in r.stdout, r.stdout
    assert "\nALLOW_BINDS        unset\n" in run("rules").stdout

"""Profiles without a daemon: SOCKET_PROXY_PROFILES and the NAME__ variables
as `rules`, `check`, `vars`, `healthcheck` and start-up read them. Bad names
and bad values stop start-up with one line naming the variable; look-alikes
are warned; a profile with nothing set has exactly the defaults and never
inherits the unprefixed variables; `rules` prints a column per profile;
start-up lines list each profile's socket, TCP address and grants. Also:
the multi-profile compose examples load (docker-compose config) and their
environment gives each client what its comments say."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import free_port
from test_cli import run, serve_briefly, vars_output

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROFILES = "SOCKET_PROXY_PROFILES"


def one_line_error(r):
    """The single stderr line of a refused configuration."""
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert len(lines) == 1, r.stderr
    assert r.stdout == ""
    return lines[0]


def rules_columns(env):
    """`rules` with profiles -> ({column: {VARIABLE: value as printed}}, socket lines)."""
    r = run("rules", env=env)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    lines = r.stdout.splitlines()
    sockets = [x for x in lines if re.match(r"^[a-z0-9_-]+: socket ", x)]
    names = [x.split(":", 1)[0] for x in sockets]  # in column order, whole (the header cuts them at 12)
    assert lines[0].split()[1:-1] == [n[:12] for n in names], lines[0]
    cols = {n: {} for n in names}
    for line in lines[1:]:
        parts = line.split()
        if not parts or not re.fullmatch(r"[A-Z][A-Z0-9_]*", parts[0]) or len(parts) < len(names) + 1:
            continue
        for n, v in zip(names, parts[1:1 + len(names)]):
            cols[n][parts[0]] = v
    return cols, sockets


def single_table(env=None):
    """`rules` without profiles -> {VARIABLE: VALUE}."""
    r = run("rules", env=env)
    assert r.returncode == 0, r.stderr
    return {p[0]: p[1] for p in (x.split() for x in r.stdout.splitlines()[1:]) if len(p) > 2 and p[1] in "01"}


# -- names -------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [
    "Bad", "TRAEFIK", "default", "a" * 32, "a-b,a_b", "x,x", "traefik,web,traefik", "a.b", "caf\u00e9", "a/b",
    "x;y", ",".join(f"p{i}" for i in range(17)),
], ids=["upper", "all-upper", "default", "32-chars", "dash-underscore-same", "twice", "repeated", "dot", "non-ascii",
        "slash", "semicolon", "17-profiles"])
def test_bad_profile_names_are_one_line(spec):
    line = one_line_error(run("rules", env={PROFILES: spec}))
    assert PROFILES in line, line


@pytest.mark.parametrize("spec,names", [
    ("a b", ["a", "b"]),                    # spaces separate names too
    ("a, b ,c", ["a", "b", "c"]),
    ("a" * 31, ["a" * 31]),                  # the longest name
    ("web-1,web_2,0x", ["web-1", "web_2", "0x"]),
    (",".join(f"p{i}" for i in range(16)), [f"p{i}" for i in range(16)]),  # the most profiles
])
def test_good_profile_names(spec, names):
    cols, sockets = rules_columns({PROFILES: spec, "SOCKET_PROXY_VOLUME": "/tmp/sp-cli-names"})
    assert list(cols) == ["default"] + names
    for n in names:
        assert f"{n}: socket /tmp/sp-cli-names/{n}/docker.sock" in sockets, sockets


def test_no_profiles_keeps_the_single_table():
    for env in ({}, {PROFILES: ""}, {PROFILES: " , "}):
        r = run("rules", env=env)
        assert r.returncode == 0 and r.stdout.splitlines()[0].split() == ["VARIABLE", "VALUE", "SOURCE", "GRANTS"]
        assert r.stdout == run("rules").stdout


# -- values --------------------------------------------------------------------------

@pytest.mark.parametrize("env,var", [
    ({"TRAEFIK__CONTAINERS": "maybe"}, "TRAEFIK__CONTAINERS"),
    ({"TRAEFIK__POST": "2"}, "TRAEFIK__POST"),
    ({"TRAEFIK__ALLOW_LOGS": "y"}, "TRAEFIK__ALLOW_LOGS"),
    ({"TRAEFIK__LIBPOD_PING": "nah"}, "TRAEFIK__LIBPOD_PING"),
    ({"TRAEFIK__ALLOW_FROM": "10.0.0.0/33"}, "TRAEFIK__ALLOW_FROM"),
    ({"TRAEFIK__ALLOW_FROM": "::1/129"}, "TRAEFIK__ALLOW_FROM"),
    ({"TRAEFIK__ALLOW_FROM": "a,,b"}, "TRAEFIK__ALLOW_FROM"),
    ({"TRAEFIK__ALLOW_FROM": "bad_host!"}, "TRAEFIK__ALLOW_FROM"),
    ({"TRAEFIK__PEER_UIDS": "x"}, "TRAEFIK__PEER_UIDS"),
    ({"TRAEFIK__PEER_UIDS": "4294967295"}, "TRAEFIK__PEER_UIDS"),
    ({"TRAEFIK__PEER_GIDS": "-1"}, "TRAEFIK__PEER_GIDS"),
    ({"TRAEFIK__SOCKET_PROXY_UID": "root"}, "TRAEFIK__SOCKET_PROXY_UID"),
    ({"TRAEFIK__SOCKET_PROXY_GID": "-5"}, "TRAEFIK__SOCKET_PROXY_GID"),
    ({"TRAEFIK__SOCKET_PROXY_SOCKET_MODE": "999"}, "TRAEFIK__SOCKET_PROXY_SOCKET_MODE"),
    ({"TRAEFIK__SOCKET_PROXY_LISTEN": "localhost:2375"}, "TRAEFIK__SOCKET_PROXY_LISTEN"),
    ({"TRAEFIK__SOCKET_PROXY_LISTEN": "127.0.0.1"}, "TRAEFIK__SOCKET_PROXY_LISTEN"),
    ({"TRAEFIK__SOCKET_PROXY_VOLUME": "relative/dir"}, "TRAEFIK__SOCKET_PROXY_VOLUME"),
    ({"TRAEFIK__API_KEY": "k" * 70000}, "TRAEFIK__API_KEY"),
    ({"WATCHTOWER__CONTAINERS": "maybe"}, "WATCHTOWER__CONTAINERS"),  # the second profile too
    ({"SOCKET_PROXY_ALLOW_FROM": "300.1.2.3"}, "SOCKET_PROXY_ALLOW_FROM"),
    ({"SOCKET_PROXY_PEER_UIDS": "me"}, "SOCKET_PROXY_PEER_UIDS"),
])
@pytest.mark.parametrize("cmd", [["rules"], ["check", "GET", "/_ping"], []], ids=["rules", "check", "serve"])
def test_bad_profile_value_is_one_line_naming_it(env, var, cmd):
    full = {PROFILES: "traefik,watchtower", "SOCKET_PROXY_VOLUME": "/tmp/sp-cli-bad", "SOCKET_PROXY_LISTEN": "off",
            "SOCKET_PATH": "/nonexistent.sock", **env}
    try:
        r = run(*cmd, env=full, timeout=3)
    except subprocess.TimeoutExpired:
        pytest.fail(f"started with {env}: the value was accepted")
    finally:
        shutil.rmtree("/tmp/sp-cli-bad", ignore_errors=True)
    line = one_line_error(r)
    assert var in line, line
    # the profile's variable is named with its prefix, never the bare name alone
    if var.startswith("TRAEFIK__"):
        assert re.search(r"(^|[^A-Z_])" + var[len("TRAEFIK__"):], line.replace(var, "")) is None, line


def test_unknown_profile_preset_lists_the_presets():
    """The same list as for SOCKET_PROXY_PRESET, named by the profile's variable."""
    line = one_line_error(run("rules", env={PROFILES: "traefik", "TRAEFIK__PRESET": "nope"}))
    plain = one_line_error(run("rules", env={"SOCKET_PROXY_PRESET": "nope"}))
    assert 'TRAEFIK__PRESET="nope"' in line, line
    listed = plain.split("use one of ", 1)[1]
    assert len(listed.split(", ")) >= 2 and line.endswith("use one of " + listed), (line, plain)


def test_two_profiles_on_one_socket_is_an_error():
    line = one_line_error(run("rules", env={PROFILES: "a,b", "A__SOCKET_PROXY_VOLUME": "/tmp/sp-cli-same",
                                            "B__SOCKET_PROXY_VOLUME": "/tmp/sp-cli-same"}))
    assert "profiles a and b would share the socket /tmp/sp-cli-same/docker.sock" in line, line
    assert "B__SOCKET_PROXY_VOLUME" in line, line


def test_profile_on_the_default_socket_is_an_error():
    line = one_line_error(run("rules", env={PROFILES: "a", "SOCKET_PROXY_VOLUME": "/tmp/sp-cli-same",
                                            "A__SOCKET_PROXY_VOLUME": "/tmp/sp-cli-same"}))
    assert "profiles default and a would share the socket" in line and "A__SOCKET_PROXY_VOLUME" in line, line


@pytest.mark.parametrize("listen", [None, "off", ""])
def test_profile_with_nothing_to_listen_on_is_an_error(listen):
    env = {PROFILES: "traefik", "TRAEFIK__SOCKET_PROXY_VOLUME": ""}
    if listen is not None:
        env["TRAEFIK__SOCKET_PROXY_LISTEN"] = listen
    line = one_line_error(run("rules", env=env))
    assert "profile traefik has nothing to listen on" in line, line
    assert "TRAEFIK__SOCKET_PROXY_VOLUME" in line and "TRAEFIK__SOCKET_PROXY_LISTEN" in line, line


def test_profile_on_tcp_only_is_fine():
    cols, sockets = rules_columns({PROFILES: "traefik", "TRAEFIK__SOCKET_PROXY_VOLUME": "",
                                   "TRAEFIK__SOCKET_PROXY_LISTEN": "127.0.0.1:2390,[::1]:2391"})
    assert "traefik: socket none, tcp:127.0.0.1:2390, tcp:[::1]:2391" in sockets, sockets


def test_profiles_only_without_the_default_listeners():
    """The unprefixed listeners off: only the profiles listen; a profile's socket
    then goes in a directory named after it in SOCKET_PROXY_VOLUME's default."""
    cols, sockets = rules_columns({PROFILES: "traefik", "SOCKET_PROXY_VOLUME": "", "SOCKET_PROXY_LISTEN": "off"})
    assert sockets == ["default: socket none", "traefik: socket /run/proxy/traefik/docker.sock"], sockets


# -- defaults and inheritance ------------------------------------------------------------

def test_profile_with_no_variables_has_exactly_the_defaults():
    cols, _ = rules_columns({PROFILES: "bare"})
    assert cols["bare"] == cols["default"]
    plain = single_table()
    assert {k: v for k, v in cols["bare"].items() if k in plain} == plain
    granted = sorted(k for k, v in plain.items() if v == "1")
    assert granted == sorted(["EVENTS", "PING", "VERSION", "LIBPOD_PING", "LIBPOD_VERSION"]), granted
    assert cols["bare"]["PRESET"] == "-" and cols["bare"]["API_KEY"] == "unset"


def test_profile_never_inherits_unprefixed_variables():
    preset = one_line_error(run("rules", env={"SOCKET_PROXY_PRESET": "nope"})).split("use one of ")[1].split(", ")[0]
    env = {PROFILES: "bare", "CONTAINERS": "1", "POST": "1", "IMAGES": "1", "PING": "0", "EXEC": "1",
           "API_KEY": "secret", "SOCKET_PROXY_PRESET": preset, "ALLOW_LOGS": "0"}
    cols, _ = rules_columns(env)
    assert cols["bare"] == rules_columns({PROFILES: "bare"})[0]["bare"]
    assert cols["default"]["CONTAINERS"] == "1*" and cols["default"]["PING"] == "0*", cols["default"]
    assert cols["default"]["API_KEY"] == "set" and cols["default"]["PRESET"] == preset
    r = run("check", "--profile", "bare", "GET", "/containers/json", env=env)
    assert r.returncode == 1 and "needs BARE__CONTAINERS=1" in r.stdout, r.stdout


def test_profile_does_not_leak_into_the_default_or_other_profiles():
    cols, _ = rules_columns({PROFILES: "a,b", "A__CONTAINERS": "1", "A__POST": "1", "A__API_KEY": "k"})
    assert cols["a"]["CONTAINERS"] == "1*" and cols["a"]["POST"] == "1*" and cols["a"]["API_KEY"] == "set"
    assert cols["a"]["ALLOW_LOGS"] == "1"  # unset: follows A__CONTAINERS
    assert cols["b"] == cols["default"] == rules_columns({PROFILES: "b"})[0]["b"]


def test_rules_columns_mark_env_and_preset():
    preset = one_line_error(run("rules", env={"SOCKET_PROXY_PRESET": "nope"})).split("use one of ")[1].split(", ")[0]
    cols, sockets = rules_columns({PROFILES: "traefik,watchtower", "SOCKET_PROXY_VOLUME": "/tmp/sp-cli-cols",
                                   "SOCKET_PROXY_LISTEN": "127.0.0.1:2380", "TRAEFIK__CONTAINERS": "1",
                                   "TRAEFIK__PING": "0", "WATCHTOWER__PRESET": preset, "WATCHTOWER__EXEC": "true",
                                   "WATCHTOWER__SOCKET_PROXY_LISTEN": "127.0.0.1:2381", "IMAGES": "yes"})
    assert list(cols) == ["default", "traefik", "watchtower"]
    assert cols["traefik"]["CONTAINERS"] == "1*" and cols["traefik"]["PING"] == "0*"
    assert cols["traefik"]["IMAGES"] == "0" and cols["default"]["IMAGES"] == "1*"
    assert cols["watchtower"]["EXEC"] == "1*" and cols["watchtower"]["PRESET"] == preset
    assert any(v.endswith("+") for v in cols["watchtower"].values()), cols["watchtower"]  # a preset grants something
    assert sockets == ["default: socket /tmp/sp-cli-cols/docker.sock, tcp:127.0.0.1:2380",
                       "traefik: socket /tmp/sp-cli-cols/traefik/docker.sock",
                       "watchtower: socket /tmp/sp-cli-cols/watchtower/docker.sock, tcp:127.0.0.1:2381"], sockets


# -- check --profile -------------------------------------------------------------------

CHECK_ENV = {PROFILES: "traefik,watchtower", "TRAEFIK__CONTAINERS": "1", "WATCHTOWER__CONTAINERS": "1",
             "WATCHTOWER__POST": "1", "CONTAINERS": "0"}


@pytest.mark.parametrize("args,rc,expect", [
    (["--profile", "traefik", "GET", "/v1.41/containers/json"], 0, "granted by TRAEFIK__CONTAINERS=1"),
    (["--profile=traefik", "GET", "/v1.41/containers/json"], 0, "TRAEFIK__CONTAINERS       = 1 (set)"),
    (["--profile", "traefik", "POST", "/v1.41/containers/create"], 1,
     "needs TRAEFIK__CONTAINERS=1 and TRAEFIK__POST=1"),
    (["--profile", "traefik", "POST", "/v1.41/containers/create"], 1, "TRAEFIK__POST             = 0 (default)"),
    (["--profile", "watchtower", "POST", "/v1.41/containers/create"], 0, "WATCHTOWER__POST"),
    (["--profile", "watchtower", "GET", "/v1.41/images/json"], 1, "needs WATCHTOWER__IMAGES=1"),
    (["--profile", "default", "GET", "/v1.41/containers/json"], 1, "needs CONTAINERS=1"),
    (["GET", "/v1.41/containers/json"], 1, "CONTAINERS       = 0 (set)"),
    (["--profile", "traefik", "GET", "/_ping/../containers/abc/export"], 1,
     "needs TRAEFIK__CONTAINERS=1 and TRAEFIK__ALLOW_EXPORT=1"),
])
def test_check_profile(args, rc, expect):
    r = run("check", *args, env=CHECK_ENV)
    assert r.returncode == rc and expect in r.stdout, (r.returncode, r.stdout, r.stderr)
    if "--profile" not in args[0] or args[1] == "default":
        assert "__" not in r.stdout, r.stdout


@pytest.mark.parametrize("args", [["--profile", "nope", "GET", "/_ping"], ["--profile=trafik", "GET", "/_ping"]])
def test_check_unknown_profile_is_one_line(args):
    line = one_line_error(run("check", *args, env=CHECK_ENV))
    assert "no profile" in line and args[1 if len(args) == 4 else 0].split("=")[-1] in line, line


def test_check_profile_usage():
    assert run("check", "--profile", "traefik", "GET", env=CHECK_ENV).returncode == 2


# -- vars -------------------------------------------------------------------------------

def test_vars_per_profile_forms_mirror_the_unprefixed_ones():
    plain = dict(vars_output())
    forms = vars_output(profile_forms=True)
    names = [n for n, _ in forms]
    assert all(n.startswith("NAME__") for n in names), names
    assert len(names) == len(set(names))
    got = dict(forms)
    rules_and_key = list(plain)[:list(plain).index("API_KEY") + 1]
    for n in rules_and_key:
        assert got.get("NAME__" + n) == plain[n], n
    for n in ("SOCKET_PROXY_VOLUME", "SOCKET_PROXY_LISTEN", "SOCKET_PROXY_UID", "SOCKET_PROXY_GID",
              "SOCKET_PROXY_SOCKET_MODE", "PRESET", "ALLOW_FROM", "PEER_UIDS", "PEER_GIDS", "TLS_CLIENT"):
        assert "NAME__" + n in got, n
    assert got["NAME__SOCKET_PROXY_LISTEN"] == "off"
    assert got["NAME__SOCKET_PROXY_VOLUME"] == "$SOCKET_PROXY_VOLUME/name"
    # nothing else: the server-wide variables have no per-profile form
    assert len(got) == len(rules_and_key) + 10, sorted(set(got) - {"NAME__" + n for n in rules_and_key})


# -- healthcheck --profile without a daemon ---------------------------------------------------

@pytest.mark.parametrize("args", [["--profile", "nope"], ["--profile=nope"]])
def test_healthcheck_unknown_profile_is_exit_2_one_line(args):
    line = one_line_error(run("healthcheck", *args, env={PROFILES: "traefik"}))
    assert "nope" in line and "traefik" in line, line


def test_healthcheck_profile_not_listening_is_unhealthy(tmp_path):
    r = run("healthcheck", "--profile", "traefik", env={PROFILES: "traefik", "SOCKET_PROXY_VOLUME": str(tmp_path)})
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert str(tmp_path / "traefik" / "docker.sock") in r.stdout + r.stderr


# -- look-alikes and start-up lines ------------------------------------------------------------

def test_lookalike_profile_variables_are_warned(tmp_path):
    rc, text = serve_briefly(tmp_path, {
        PROFILES: "traefik,watchtower", "TRAEFIK__CONTAINER": "1", "TRAFIK__CONTAINERS": "1",
        "WATCHTOWER__ALLOW_RESTART": "1", "TRAEFIK__LOGS": "1", "TRAEFIK__SOCKET_PROXY_VOLUM": "/x",
        "TRAEFIK__PEER_UID": "1000", "TRAEFIK__API_KEYS": "k", "WATCHTOWER__ALLOW_FORM": "watchtower",
        # server-wide variables have no profile form
        "TRAEFIK__SOCKET_PROXY_TIMEOUT": "1s", "WATCHTOWER__PORT": "2376", "TRAEFIK__LOG_LEVEL": "debug",
        # real names: never warned about
        "TRAEFIK__CONTAINERS": "1", "WATCHTOWER__POST": "0", "TRAEFIK__ALLOW_FROM": "127.0.0.1",
        "WATCHTOWER__PEER_UIDS": "0", "TRAEFIK__API_KEY": "k"})
    assert rc == 0, text
    warned = [x for x in text.splitlines() if " warning: " in x and "Docker daemon" not in x]
    expect = [
        "TRAEFIK__CONTAINER is not a socket-proxy variable and is ignored; did you mean TRAEFIK__CONTAINERS?",
        "TRAFIK__CONTAINERS is ignored: no profile trafik (SOCKET_PROXY_PROFILES=traefik,watchtower)",
        "did you mean WATCHTOWER__ALLOW_RESTARTS?",
        "did you mean TRAEFIK__ALLOW_LOGS?",
        "did you mean TRAEFIK__SOCKET_PROXY_VOLUME?",
        "did you mean TRAEFIK__PEER_UIDS?",
        "did you mean TRAEFIK__API_KEY?",
        "WATCHTOWER__ALLOW_FORM is not a socket-proxy variable and is ignored; did you mean WATCHTOWER__ALLOW_FROM?",
        "TRAEFIK__SOCKET_PROXY_TIMEOUT is ignored: SOCKET_PROXY_TIMEOUT is set for the whole proxy, without a profile's "
        "prefix",
        "WATCHTOWER__PORT is ignored: PORT is set for the whole proxy",
        "TRAEFIK__LOG_LEVEL is ignored: LOG_LEVEL is set for the whole proxy",
    ]
    for e in expect:
        assert sum(e in x for x in warned) == 1, (e, warned)
    assert len(warned) == len(expect), warned


def test_profile_variable_without_profiles_is_warned(tmp_path):
    rc, text = serve_briefly(tmp_path, {"TRAEFIK__CONTAINERS": "1"})
    assert rc == 0, text
    assert "TRAEFIK__CONTAINERS is ignored: no profile traefik" in text, text


def test_profile_whose_name_ends_in_a_separator_reads_its_own_variables(tmp_path):
    """Profiles `a` and `a_` read A__ and A___ variables: A___CONTAINERS is
    profile a_'s, granted and never taken for a look-alike of A__CONTAINERS."""
    env = {PROFILES: "a,a_", "A___CONTAINERS": "1", "A__POST": "1"}
    cols, _ = rules_columns(env)
    assert cols["a_"]["CONTAINERS"] == "1*" and cols["a"]["CONTAINERS"] == "0", cols
    rc, text = serve_briefly(tmp_path, env)
    assert rc == 0, text
    assert [x for x in text.splitlines() if " warning: " in x and "Docker daemon" not in x] == [], text


def test_empty_profile_variable_is_noted_once(tmp_path):
    """compose writes TRAEFIK__POST=${TRAEFIK__POST:-}: empty means the default,
    with one notice naming the profile's variable, as for POST=."""
    rc, text = serve_briefly(tmp_path, {PROFILES: "traefik", "TRAEFIK__POST": "", "TRAEFIK__ALLOW_LOGS": "",
                                        "TRAEFIK__CONTAINERS": "1"})
    assert rc == 0, text
    notes = [x for x in text.splitlines() if " notice: " in x and "set but empty" in x]
    assert len(notes) == 2, text
    assert any("TRAEFIK__POST is set but empty: using its default (0)" in x for x in notes), notes
    assert any("TRAEFIK__ALLOW_LOGS is set but empty: using its default (unset: follows TRAEFIK__CONTAINERS)" in x
               for x in notes), notes


def test_startup_lines_list_each_profile_socket_tcp_and_grants(tmp_path):
    tp, dp = free_port(), free_port()
    rc, text = serve_briefly(tmp_path, {
        PROFILES: "traefik,watchtower,dozzle", "TRAEFIK__CONTAINERS": "1",
        "TRAEFIK__SOCKET_PROXY_LISTEN": f"127.0.0.1:{tp}", "TRAEFIK__ALLOW_FROM": "127.0.0.1,10.0.0.0/8",
        "WATCHTOWER__CONTAINERS": "1", "WATCHTOWER__POST": "1", "WATCHTOWER__API_KEY": "k",
        "DOZZLE__SOCKET_PROXY_VOLUME": "", "DOZZLE__SOCKET_PROXY_LISTEN": f"127.0.0.1:{dp}", "DOZZLE__INFO": "1"})
    assert rc == 0, text
    line = {n: [x for x in text.splitlines() if f" info: profile {n}: " in x] for n in ("traefik", "watchtower", "dozzle")}
    assert all(len(v) == 1 for v in line.values()), text
    t, w, d = line["traefik"][0], line["watchtower"][0], line["dozzle"][0]
    assert f"unix:{tmp_path}/traefik/docker.sock" in t and f"tcp:127.0.0.1:{tp}" in t, t
    assert "granted: CONTAINERS EVENTS PING VERSION" in t and "admits tcp from 127.0.0.1, 10.0.0.0/8" in t, t
    assert f"unix:{tmp_path}/watchtower/docker.sock" in w and "tcp:" not in w, w
    assert "granted: CONTAINERS EVENTS PING POST VERSION" in w and "API_KEY set" in w, w
    assert "unix:" not in d and f"tcp:127.0.0.1:{dp}" in d and "granted: EVENTS INFO PING VERSION" in d, d
    assert "granted: EVENTS PING VERSION LIBPOD_PING LIBPOD_VERSION" in text  # the default profile's line
    assert text.count("for profile traefik") == 2 and text.count("for profile dozzle") == 1, text


# -- the compose examples -----------------------------------------------------------------------

def compose_config(name):
    compose = shutil.which("docker-compose")
    if not compose:
        pytest.fail("docker-compose missing (Debian package docker-compose)", pytrace=False)
    r = subprocess.run([compose, "-f", os.path.join(ROOT, "examples", name), "config"], capture_output=True,
                       text=True, timeout=60, cwd=os.path.join(ROOT, "examples"))
    assert r.returncode == 0, r.stderr
    import yaml
    return yaml.safe_load(r.stdout)


def proxy_env(cfg):
    env = cfg["services"]["socket-proxy"]["environment"]
    return {k: "" if v is None else str(v) for k, v in env.items()}


@pytest.mark.parametrize("name", ["multi.yml", "multi-tcp.yml"])
def test_multi_profile_example_loads_and_grants_what_it_says(name):
    cfg = compose_config(name)
    env = proxy_env(cfg)
    cols, sockets = rules_columns(env)
    assert [c for c in cols if c != "default"] == ["traefik", "watchtower", "dozzle"]
    t, w, d = cols["traefik"], cols["watchtower"], cols["dozzle"]
    assert t["CONTAINERS"].startswith("1") and t["POST"].startswith("0") and t["ALLOW_LOGS"].startswith("0"), t
    assert w["CONTAINERS"].startswith("1") and w["IMAGES"].startswith("1") and w["POST"].startswith("1"), w
    assert d["CONTAINERS"].startswith("1") and d["ALLOW_LOGS"].startswith("1") and d["POST"].startswith("0"), d
    assert not any(v.startswith("1") for k, v in cols["default"].items() if k not in ("EVENTS", "PING", "VERSION",
                                                                                     "LIBPOD_PING", "LIBPOD_VERSION")
                   and v[:1] in "01"), cols["default"]
    for client in ("traefik", "watchtower", "dozzle"):
        svc = cfg["services"][client]
        assert svc["depends_on"]["socket-proxy"]["condition"] == "service_healthy", svc
    test = cfg["services"]["socket-proxy"]["healthcheck"]["test"]
    assert "healthcheck" in test and "--profile" in test, test
    profile = test[test.index("--profile") + 1]
    assert run("healthcheck", "--profile", profile, env=env).returncode != 2  # a profile it knows
    if name == "multi-tcp.yml":
        assert sockets[0] == "default: socket none", sockets
        ports = set()
        for n in ("traefik", "watchtower", "dozzle"):
            assert env.get(f"{n.upper()}__ALLOW_FROM") == n, env
            port = env[f"{n.upper()}__SOCKET_PROXY_LISTEN"].rsplit(":", 1)[1]
            ports.add(port)
            assert f"{n}: socket /run/proxy/{n}/docker.sock, tcp:[::]:{port}" in sockets, sockets
            assert f"tcp://socket-proxy:{port}" in str(cfg["services"][n]), cfg["services"][n]
        assert len(ports) == 3, env
    else:
        assert sockets[0] == "default: socket none", sockets
        for n in ("traefik", "watchtower", "dozzle"):
            assert any(s.startswith(f"{n}: socket /run/proxy/{n}/docker.sock") for s in sockets), sockets


def test_tls_example_loads_and_binds_profiles_to_certificates(tmp_path):
    """examples/tls.yml: one published TLS port, a profile per client certificate name."""
    cfg = compose_config("tls.yml")
    env = proxy_env(cfg)
    svc = cfg["services"]["socket-proxy"]
    assert env["SOCKET_PROXY_TLS_DIR"] == "/certs" and any(str(v).endswith(":/certs:ro") for v in svc["volumes"]), svc
    assert any("2376" in str(p) for p in svc["ports"]), svc["ports"]
    # `rules` reads the directory for ca.pem (TLS_CLIENT needs client certificates): a stand-in
    (tmp_path / "ca.pem").write_text("stand-in: rules does not parse it\n")
    env["SOCKET_PROXY_TLS_DIR"] = str(tmp_path)
    cols, sockets = rules_columns(env)
    ci, mon = cols["ci"], cols["monitor"]
    assert ci["CONTAINERS"].startswith("1") and ci["POST"].startswith("1") and ci["BUILD"].startswith("1"), ci
    assert mon["CONTAINERS"].startswith("1") and mon["POST"].startswith("0") and mon["ALLOW_LOGS"].startswith("0"), mon
    assert "default: socket none, tcp:[::]:2376" in sockets, sockets
    assert any(x.startswith("ci: ") and x.endswith("TLS client certificates ci-runner") for x in sockets), sockets
    assert any(x.endswith("TLS client certificates monitor.example") for x in sockets), sockets
    assert "healthcheck" in svc["healthcheck"]["test"], svc["healthcheck"]
    # without a CA, certificates cannot choose profiles: one line, exit 2
    (tmp_path / "ca.pem").unlink()
    line = one_line_error(run("rules", env=env))
    assert "CI__TLS_CLIENT" in line and "ca.pem" in line, line


@pytest.mark.parametrize("a,b", [("/tmp/sp-cli-same", "/tmp/sp-cli-same/"), ("/tmp/sp-cli-same", "/tmp//sp-cli-same"),
                                 ("//tmp/sp-cli-same//", "/tmp/sp-cli-same")])
def test_one_socket_spelled_two_ways_is_an_error(a, b):
    line = one_line_error(run("rules", env={PROFILES: "a,b", "A__SOCKET_PROXY_VOLUME": a, "B__SOCKET_PROXY_VOLUME": b}))
    assert "profiles a and b would share the socket /tmp/sp-cli-same/docker.sock" in line, line


def test_a_derived_profile_path_too_long_names_its_source():
    """The user set SOCKET_PROXY_VOLUME, not NAME__SOCKET_PROXY_VOLUME: say so."""
    base = "/tmp/" + "d" * 90  # 95 bytes: the longest valid SOCKET_PROXY_VOLUME
    line = one_line_error(run("rules", env={PROFILES: "traefik", "SOCKET_PROXY_VOLUME": base}))
    assert line.startswith("socket-proxy: configuration error: SOCKET_PROXY_VOLUME/traefik"), line
    assert "set TRAEFIK__SOCKET_PROXY_VOLUME to choose another" in line, line

"""Profiles through the real docker CLI: one proxy, three clients (traefik,
watchtower, dozzle), each on its own Unix socket and its own TCP listener,
each with exactly its own rules; the default socket keeps the unprefixed
variables. Also: per-profile API_KEY (seen at a fake daemon), socket life
(removed on exit, stale replaced, live never stolen, owner and mode,
NAME__SOCKET_PROXY_VOLUME), healthcheck --profile, docker-compose through
profiles, and the access log naming the profile (and nothing when there are
no profiles)."""
import copy
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import time

import pytest

from conftest import free_port, wait_for
from dockerutil import VIAS, assert_denied
from fake.rawhttp import PING_CLOSE, request_bytes, status_of
from fake.upstream import serve

via_param = pytest.mark.parametrize("via", VIAS)
NAMES = ("traefik", "watchtower", "dozzle")


def view(p, name, port=None, unix=None):
    """The proxy as a client of profile `name` sees it: p with its socket and TCP
    address (Proxy.docker, .http, .request then go through that profile)."""
    v = copy.copy(p)
    v.unix = unix or os.path.join(p.env["SOCKET_PROXY_VOLUME"], name, "docker.sock")
    v.tcp = ("127.0.0.1", port) if port else None
    v.port = port
    assert wait_for(lambda: os.path.exists(v.unix)), f"no socket for profile {name} at {v.unix}\n{p.stderr_text()}"
    return v


def three_profiles(proxy_factory, extra=None, upstream=None):
    """traefik: containers, read only, no logs; watchtower: containers, images,
    writes; dozzle: containers, logs, info; the default socket: IMAGES=1 only.
    Returns (proxy, {name: view}, the default's view)."""
    ports = {n: free_port() for n in NAMES}
    env = {
        "SOCKET_PROXY_PROFILES": ",".join(NAMES),
        "TRAEFIK__CONTAINERS": "1", "TRAEFIK__ALLOW_LOGS": "0",
        "WATCHTOWER__CONTAINERS": "1", "WATCHTOWER__IMAGES": "1", "WATCHTOWER__POST": "1",
        "DOZZLE__CONTAINERS": "1", "DOZZLE__ALLOW_LOGS": "1", "DOZZLE__INFO": "1",
        "IMAGES": "1",
        **{f"{n.upper()}__SOCKET_PROXY_LISTEN": f"127.0.0.1:{ports[n]}" for n in NAMES},
        **(extra or {}),
    }
    p = proxy_factory(env, upstream=upstream)
    return p, {n: view(p, n, ports[n]) for n in NAMES}, p


def assert_denied_only_by(result, method, path_re, var):
    """Denied, naming exactly `var` (TRAEFIK__IMAGES=1, or IMAGES=1 with no prefix)."""
    assert_denied(result, method, path_re, re.escape(var))
    needs = re.search(r"\(needs ([^)]*)\)", result.stderr).group(1)
    assert re.search(r"(^|[ (])" + re.escape(var), needs), (var, needs)
    if "__" not in var:
        assert "__" not in needs, needs


# -- each client gets exactly its own rights ------------------------------------------------

@pytest.fixture
def logged_container(dockerd, bb_image, cleanup, unique_name):
    """A stopped container with one log line."""
    name = cleanup.container(unique_name)
    dockerd.docker("run", "--name", name, "--network", "none", bb_image, "echo", "hello from " + name)
    return name


# (docker args, {profile: None when allowed, else the variable named in the 403})
MATRIX = [
    (["ps", "-a"], "GET", "/containers/json",
     {"traefik": None, "watchtower": None, "dozzle": None, "default": "CONTAINERS=1"}),
    (["images"], "GET", "/images/json",
     {"traefik": "TRAEFIK__IMAGES=1", "watchtower": None, "dozzle": "DOZZLE__IMAGES=1", "default": None}),
    (["info"], "GET", "/info",
     {"traefik": "TRAEFIK__INFO=1", "watchtower": "WATCHTOWER__INFO=1", "dozzle": None, "default": "INFO=1"}),
    (["network", "ls"], "GET", "/networks",
     {"traefik": "TRAEFIK__NETWORKS=1", "watchtower": "WATCHTOWER__NETWORKS=1", "dozzle": "DOZZLE__NETWORKS=1",
      "default": "NETWORKS=1"}),
    (["logs", "{c}"], "GET", r"/containers/\S+/(json|logs)",  # the CLI inspects first
     {"traefik": "TRAEFIK__ALLOW_LOGS=1", "watchtower": None, "dozzle": None, "default": "CONTAINERS=1"}),
    (["version"], None, None, {"traefik": None, "watchtower": None, "dozzle": None, "default": None}),
]


@via_param
def test_each_profile_gets_exactly_its_own_rights(proxy_factory, logged_container, via):
    p, views, default = three_profiles(proxy_factory)
    clients = {**views, "default": default}
    for args, method, path_re, expect in MATRIX:
        args = [a.format(c=logged_container) for a in args]
        for who, var in expect.items():
            r = clients[who].docker(*args, via=via, check=var is None)
            if var is None:
                if args[0] == "logs":
                    assert r.stdout == f"hello from {logged_container}\n", (who, r.stdout)
                continue
            assert_denied_only_by(r, method, path_re, var)
    assert p.alive()


@via_param
def test_watchtower_creates_what_traefik_cannot(proxy_factory, dockerd, bb_image, cleanup, unique_name, via):
    p, v, _ = three_profiles(proxy_factory)
    name = cleanup.container(unique_name)
    args = ["--name", name, "--network", "none", bb_image, "sleep", "60"]

    r = v["traefik"].docker("create", *args, via=via, check=False)
    assert_denied(r, "POST", "/containers/create", "TRAEFIK__POST=1")
    assert name not in dockerd.docker("ps", "-a", "--format", "{{.Names}}").stdout.split()

    v["watchtower"].docker("create", *args, via=via)
    v["watchtower"].docker("start", name, via=via)
    assert dockerd.docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "true"
    for action in (["stop", "-t", "0", name], ["rm", "-f", name], ["restart", name]):
        r = v["traefik"].docker(*action, via=via, check=False)
        assert r.returncode != 0 and "TRAEFIK__" in r.stderr and "needs" in r.stderr, r.stderr
        r = v["dozzle"].docker(*action, via=via, check=False)
        assert r.returncode != 0 and "DOZZLE__" in r.stderr, r.stderr
    assert dockerd.docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "true"
    v["watchtower"].docker("stop", "-t", "0", name, via=via)
    assert dockerd.docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "false"
    v["watchtower"].docker("rm", name, via=via)
    assert name not in dockerd.docker("ps", "-a", "--format", "{{.Names}}").stdout.split()


def test_default_socket_keeps_the_unprefixed_variables(proxy_factory, dockerd, bb_image, cleanup, unique_name):
    """CONTAINERS=1 POST=1 unprefixed: the default socket and TCP listener
    create containers; profile `bare` (nothing set) inherits none of it."""
    p = proxy_factory({"SOCKET_PROXY_PROFILES": "bare", "CONTAINERS": "1", "POST": "1",
                       "BARE__SOCKET_PROXY_LISTEN": f"127.0.0.1:{free_port()}"})
    bare = view(p, "bare", int(p.env["BARE__SOCKET_PROXY_LISTEN"].rsplit(":", 1)[1]))
    name = cleanup.container(unique_name)
    for via in VIAS:
        assert_denied_only_by(bare.docker("ps", via=via, check=False), "GET", "/containers/json",
                              "BARE__CONTAINERS=1")
        r = bare.docker("create", "--name", name, "--network", "none", bb_image, "true", via=via, check=False)
        assert_denied(r, "POST", "/containers/create", "BARE__")
        bare.docker("version", via=via)
    p.docker("create", "--name", name, "--network", "none", bb_image, "true", via="unix")
    assert name in p.docker("ps", "-a", "--format", "{{.Names}}", via="tcp").stdout.split()
    p.docker("rm", name, via="tcp")


def test_compose_through_a_profile(proxy_factory, dockerd, bb_image, tmp_path, unique_name):
    """docker-compose itself as a client: up/ps/down through profile `deployer`;
    through `reader` (the same sections, no POST) `up` and `down` are refused
    naming reader's variable, while `ps` works."""
    compose = shutil.which("docker-compose")
    if not compose:
        pytest.fail("docker-compose missing (Debian package docker-compose)", pytrace=False)
    grants = {"CONTAINERS": "1", "IMAGES": "1", "INFO": "1", "NETWORKS": "1"}
    p = proxy_factory({"SOCKET_PROXY_PROFILES": "deployer,reader", "DEPLOYER__POST": "1",
                       **{f"{w}__{k}": v for k, v in grants.items() for w in ("DEPLOYER", "READER")}})
    v = {n: view(p, n) for n in ("deployer", "reader")}
    (tmp_path / "docker-compose.yml").write_text(
        f'version: "2.4"\nservices:\n  app:\n    image: {bb_image}\n    network_mode: none\n'
        f'    command: ["sleep", "60"]\n    stop_grace_period: 0s\n')
    project = re.sub(r"[^a-z0-9]", "", unique_name.lower())[-20:]
    label = f"label=com.docker.compose.project={project}"

    def compose_via(who, *args, check=True):
        env = v[who].docker_env("unix")
        env["COMPOSE_PROJECT_NAME"] = project
        r = subprocess.run([compose, "-f", str(tmp_path / "docker-compose.yml"), *args], env=env,
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
        if check:
            assert r.returncode == 0, f"docker-compose {args} via {who}: {r.stderr}\n{p.stderr_text()[-3000:]}"
        return r

    try:
        r = compose_via("reader", "up", "-d", check=False)
        assert r.returncode != 0 and "READER__POST=1" in r.stderr, r.stderr
        assert dockerd.docker("ps", "-aq", "--filter", label).stdout == ""
        compose_via("deployer", "up", "-d")
        assert len(dockerd.docker("ps", "-q", "--filter", label).stdout.split()) == 1
        assert "Up" in compose_via("reader", "ps").stdout
        r = compose_via("reader", "down", check=False)  # (compose 1.29 exits 0 when a stop fails)
        assert "READER__POST=1" in r.stderr, r.stderr
        assert len(dockerd.docker("ps", "-q", "--filter", label).stdout.split()) == 1
        compose_via("deployer", "down")
        assert dockerd.docker("ps", "-aq", "--filter", label).stdout == ""
    finally:
        ids = dockerd.docker("ps", "-aq", "--filter", label).stdout.split()
        if ids:
            dockerd.docker("rm", "-f", *ids, check=False)


# -- API_KEY per profile -----------------------------------------------------------------------

def test_api_key_per_profile(proxy_factory, fake_upstream):
    """A__API_KEY goes upstream for profile a only (replacing the client's own);
    profile b has none (it does not inherit API_KEY); the default sends API_KEY."""
    up = fake_upstream(serve())
    p = proxy_factory({"SOCKET_PROXY_PROFILES": "a,b", "A__API_KEY": "key-of-a", "API_KEY": "key-of-default",
                       "B__SOCKET_PROXY_LISTEN": f"127.0.0.1:{free_port()}"}, upstream=up.path)
    a = view(p, "a")
    b = view(p, "b", int(p.env["B__SOCKET_PROXY_LISTEN"].rsplit(":", 1)[1]))
    sent = {}
    for who, client, via in (("a", a, "unix"), ("b", b, "unix"), ("b-tcp", b, "tcp"), ("default", p, "unix"),
                             ("default-tcp", p, "tcp")):
        target = f"/v1.41/version?who={who}"
        raw = request_bytes("GET", target, headers={"X-Api-Key": "client-own", "Connection": "close"})
        assert status_of(client.request(raw, via=via)) == 200, who
        assert up.wait_for(lambda u: any(r.target == target for r in u.requests)), who
        req = [r for r in up.requests if r.target == target][0]
        sent[who] = re.findall(rb"(?im)^x-api-key: *(.*?)\r?$", req.head)
    assert sent["a"] == [b"key-of-a"], sent
    assert sent["default"] == sent["default-tcp"] == [b"key-of-default"], sent
    assert b"key-of-a" not in b"".join(sent["b"] + sent["b-tcp"]) and b"key-of-default" not in b"".join(
        sent["b"] + sent["b-tcp"]), sent


# -- socket life ---------------------------------------------------------------------------------

def test_sockets_removed_on_sigterm(proxy_factory, fake_upstream):
    up = fake_upstream(serve())
    p, v, _ = three_profiles(proxy_factory, upstream=up.path)
    paths = [p.unix] + [x.unix for x in v.values()]
    for x in v.values():
        assert status_of(x.request(PING_CLOSE)) == 200
    assert all(stat.S_ISSOCK(os.lstat(x).st_mode) for x in paths)
    assert p.stop(signal.SIGTERM) == 0
    assert [x for x in paths if os.path.lexists(x)] == []
    assert all(os.path.isdir(os.path.dirname(x)) for x in paths)  # the directories stay


def make_stale_socket(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()  # bound, never listened, never unlinked: a leftover
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_stale_profile_socket_is_replaced(proxy_factory, fake_upstream, tmp_path):
    up = fake_upstream(serve())
    vol = tmp_path / "v"
    make_stale_socket(str(vol / "traefik" / "docker.sock"))
    make_stale_socket(str(tmp_path / "elsewhere" / "docker.sock"))
    p = proxy_factory({"SOCKET_PROXY_PROFILES": "traefik,dozzle", "SOCKET_PROXY_VOLUME": str(vol),
                       "DOZZLE__SOCKET_PROXY_VOLUME": str(tmp_path / "elsewhere")}, upstream=up.path)
    assert status_of(view(p, "traefik").request(PING_CLOSE)) == 200
    assert status_of(view(p, "dozzle", unix=str(tmp_path / "elsewhere" / "docker.sock")).request(PING_CLOSE)) == 200


def test_live_profile_socket_is_never_stolen(proxy_factory, fake_upstream, tmp_path):
    """A second proxy whose profile socket is the first one's: it stops with one
    line naming the variable, leaves nothing of its own behind, and the first
    keeps serving on the socket."""
    up = fake_upstream(serve())
    first = proxy_factory({"SOCKET_PROXY_PROFILES": "traefik"}, upstream=up.path)
    shared = view(first, "traefik")
    before = os.lstat(shared.unix)
    second = proxy_factory({"SOCKET_PROXY_PROFILES": "dozzle,traefik",
                            "SOCKET_PROXY_VOLUME": str(tmp_path / "second"),
                            "TRAEFIK__SOCKET_PROXY_VOLUME": os.path.dirname(shared.unix)},
                           upstream=up.path, wait_ready=False)
    assert second.proc.wait(timeout=10) != 0
    second.returncode = second.proc.returncode
    second.check_sanitizers()
    crit = [x for x in second.stderr_text().splitlines() if " crit: " in x]
    assert len(crit) == 1, second.stderr_text()
    assert "TRAEFIK__SOCKET_PROXY_VOLUME" in crit[0] and "another process is listening" in crit[0], crit
    assert os.lstat(shared.unix).st_ino == before.st_ino
    assert status_of(shared.request(PING_CLOSE)) == 200
    assert not os.path.lexists(tmp_path / "second" / "docker.sock")  # its own default socket: removed
    assert not os.path.lexists(tmp_path / "second" / "dozzle" / "docker.sock")


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_owner_and_mode_per_profile(proxy_factory, fake_upstream):
    up = fake_upstream(serve())
    p = proxy_factory({"SOCKET_PROXY_PROFILES": "traefik,watchtower,dozzle",
                       "SOCKET_PROXY_UID": "0", "SOCKET_PROXY_GID": "0", "SOCKET_PROXY_SOCKET_MODE": "0660",
                       "TRAEFIK__SOCKET_PROXY_UID": "1234", "TRAEFIK__SOCKET_PROXY_GID": "2345",
                       "TRAEFIK__SOCKET_PROXY_SOCKET_MODE": "0600",
                       "WATCHTOWER__SOCKET_PROXY_SOCKET_MODE": "0666", "WATCHTOWER__SOCKET_PROXY_GID": "3456"},
                      upstream=up.path)
    got = {}
    for n in ("default", "traefik", "watchtower", "dozzle"):
        st = os.lstat(p.unix if n == "default" else view(p, n).unix)
        got[n] = (st.st_uid, st.st_gid, oct(stat.S_IMODE(st.st_mode)))
    assert got == {"default": (0, 0, "0o660"), "traefik": (1234, 2345, "0o600"),
                   "watchtower": (0, 3456, "0o666"), "dozzle": (0, 0, "0o660")}, got
    assert "listening on unix:" + view(p, "traefik").unix + " (mode 0600) for profile traefik" in p.stderr_text()


def test_profile_volume_override(proxy_factory, fake_upstream, tmp_path):
    """NAME__SOCKET_PROXY_VOLUME: the socket there (parents created), nothing
    under SOCKET_PROXY_VOLUME for that profile; removed on exit."""
    up = fake_upstream(serve())
    where = tmp_path / "deep" / "er" / "traefik-sock"
    p = proxy_factory({"SOCKET_PROXY_PROFILES": "traefik", "TRAEFIK__SOCKET_PROXY_VOLUME": str(where),
                       "TRAEFIK__CONTAINERS": "1"}, upstream=up.path)
    t = view(p, "traefik", unix=str(where / "docker.sock"))
    assert status_of(t.request(request_bytes("GET", "/containers/json", headers={"Connection": "close"}))) == 200
    assert not os.path.lexists(os.path.join(p.env["SOCKET_PROXY_VOLUME"], "traefik"))
    assert f"profile traefik: unix:{where}/docker.sock;" in p.stderr_text()
    p.stop()
    assert not os.path.lexists(where / "docker.sock")


# -- healthcheck --profile ------------------------------------------------------------------------

def healthcheck(p, *args):
    return subprocess.run([p.bin.path, "healthcheck", *args], env=p.env, capture_output=True, text=True, timeout=20)


def test_healthcheck_profile(proxy_factory):
    p, v, _ = three_profiles(proxy_factory, {"DOZZLE__PING": "0"})
    for n in ("traefik", "watchtower"):
        r = healthcheck(p, "--profile", n)
        assert r.returncode == 0, (n, r.stdout, r.stderr)
    r = healthcheck(p, "--profile", "dozzle")  # its rules deny /_ping: the check goes through them
    assert r.returncode == 1 and "/_ping is not granted (DOZZLE__PING=0)" in r.stderr, (r.stdout, r.stderr)
    assert "needs DOZZLE__PING=1" in r.stderr and "(PING=0)" not in r.stderr, r.stderr
    r = healthcheck(p, "--profile", "nope")
    lines = (r.stdout + r.stderr).strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "nope" in lines[0], (r.stdout, r.stderr)
    before = p.stderr_text().count('"GET /_ping"')
    assert healthcheck(p).returncode == 0
    # without --profile: the first listener, the default socket
    assert wait_for(lambda: re.search(r"uid=0 pid=\d+ \[default\] \"GET /_ping\"", p.stderr_text()))
    assert p.stderr_text().count('"GET /_ping"') >= before + 1


def test_healthcheck_through_a_profile_that_does_not_admit_it(proxy_factory):
    """The healthcheck is a client like any other: PEER_UIDS without its uid
    refuses it, and the line says why (not that PING is off)."""
    p = proxy_factory({"SOCKET_PROXY_PROFILES": "locked", "LOCKED__PEER_UIDS": "4321"})
    view(p, "locked")
    r = healthcheck(p, "--profile", "locked")
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1, (r.stdout, r.stderr)
    assert "uid 0" in lines[0] and "LOCKED__PEER_UIDS" in lines[0] and "PING=0" not in lines[0], lines


def test_healthcheck_without_default_listeners_uses_the_first_profile(proxy_factory, tmp_path):
    p = proxy_factory({"SOCKET_PROXY_PROFILES": "traefik,dozzle", "SOCKET_PROXY_LISTEN": "off",
                       "SOCKET_PROXY_VOLUME": "", "TRAEFIK__SOCKET_PROXY_VOLUME": str(tmp_path / "t"),
                       "DOZZLE__SOCKET_PROXY_VOLUME": str(tmp_path / "d")}, wait_ready=False)
    t = view(p, "traefik", unix=str(tmp_path / "t" / "docker.sock"))
    view(p, "dozzle", unix=str(tmp_path / "d" / "docker.sock"))
    assert healthcheck(p).returncode == 0
    assert wait_for(lambda: re.search(r"uid=0 pid=\d+ \[traefik\] \"GET /_ping\"", p.stderr_text())), p.stderr_text()
    assert healthcheck(p, "--profile", "dozzle").returncode == 0
    assert healthcheck(p, "--profile", "default").returncode != 0  # it listens nowhere
    assert t.docker("version").returncode == 0


def test_healthcheck_tcp_only_profile(proxy_factory):
    """A profile on TCP only is checked through its listener (via loopback)."""
    port = free_port()
    p = proxy_factory({"SOCKET_PROXY_PROFILES": "tcponly", "TCPONLY__SOCKET_PROXY_VOLUME": "",
                       "TCPONLY__SOCKET_PROXY_LISTEN": f"127.0.0.1:{port}"})
    assert wait_for(lambda: f"tcp:127.0.0.1:{port} for profile tcponly" in p.stderr_text())
    r = healthcheck(p, "--profile", "tcponly")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert wait_for(lambda: re.search(r"127\.0\.0\.1:\d+ \[tcponly\] \"GET /_ping\"", p.stderr_text()))
    # its ALLOW_FROM applies to the check too: leaving out loopback fails it (README)
    port = free_port()
    q = proxy_factory({"SOCKET_PROXY_PROFILES": "tcponly", "TCPONLY__SOCKET_PROXY_VOLUME": "",
                       "TCPONLY__SOCKET_PROXY_LISTEN": f"127.0.0.1:{port}", "TCPONLY__ALLOW_FROM": "10.0.0.0/8"})
    assert wait_for(lambda: f"tcp:127.0.0.1:{port} for profile tcponly" in q.stderr_text())
    r = healthcheck(q, "--profile", "tcponly")
    assert r.returncode == 1 and "no HTTP answer" in r.stderr, (r.stdout, r.stderr)
    assert wait_for(lambda: "not admitted by TCPONLY__ALLOW_FROM" in q.stderr_text())


# -- the access log ----------------------------------------------------------------------------------

def access_lines(p):
    return [x for x in p.stderr_text().splitlines() if re.match(r"^\S+Z (uid=\d+ pid=\d+|\S+:\d+) ", x)]


def json_access(p):
    out = []
    for x in p.stderr_text().splitlines():
        if x.startswith("{"):
            o = json.loads(x)
            if "method" in o:
                out.append(o)
    return out


def test_access_log_names_the_profile(proxy_factory):
    p, v, _ = three_profiles(proxy_factory)
    for via in VIAS:
        for n in NAMES:
            v[n].docker("version", via=via)
        p.docker("version", via=via)
        v["traefik"].docker("images", via=via, check=False)
    assert wait_for(lambda: len(access_lines(p)) >= 10), p.stderr_text()
    lines = access_lines(p)
    for n in NAMES + ("default",):
        assert any(re.match(rf"^\S+Z uid=0 pid=\d+ \[{n}\] \"GET /v[0-9.]+/version\" allow", x) for x in lines), n
        assert any(re.match(rf"^\S+Z 127\.0\.0\.1:\d+ \[{n}\] \"GET /v[0-9.]+/version\" allow", x) for x in lines), n
    assert any(re.search(r"\[traefik\] \"GET /v[0-9.]+/images/json\" deny \(TRAEFIK__IMAGES=1\) 403", x)
               for x in lines), lines
    assert all(re.match(r"^\S+Z \S+( pid=\d+)? \[(traefik|watchtower|dozzle|default)\] \"", x) for x in lines), lines


def test_access_log_json_names_the_profile(proxy_factory):
    p, v, _ = three_profiles(proxy_factory, {"LOG_FORMAT": "json"})
    v["dozzle"].docker("info", via="tcp")
    v["watchtower"].docker("info", via="unix", check=False)
    p.docker("version")
    assert wait_for(lambda: {"dozzle", "watchtower", "default"} <= {o.get("profile") for o in json_access(p)})
    entries = json_access(p)
    assert all(o.get("profile") in NAMES + ("default",) for o in entries), entries
    denied = [o for o in entries if o["profile"] == "watchtower" and o.get("decision") == "deny"]
    assert denied and "WATCHTOWER__INFO=1" in json.dumps(denied[0]), denied


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_access_log_without_profiles_names_none(proxy_factory, fmt):
    """Profiles off: the lines of today, with no profile field at all."""
    p = proxy_factory({"LOG_FORMAT": fmt, "SOCKET_PROXY_PROFILES": ""})
    p.docker("version", via="unix")
    p.docker("version", via="tcp")
    p.docker("ps", check=False)
    if fmt == "text":
        assert wait_for(lambda: len(access_lines(p)) >= 3), p.stderr_text()
        for x in access_lines(p):
            assert re.match(r"^\S+Z (uid=\d+ pid=\d+|127\.0\.0\.1:\d+) \"(GET|HEAD) \S+\" (allow|deny) \(", x), x
            assert "[" not in x.split('"')[0], x
    else:
        assert wait_for(lambda: len(json_access(p)) >= 3), p.stderr_text()
        for o in json_access(p):
            assert "profile" not in o, o
        keys = set(json_access(p)[0])
        q = proxy_factory({"LOG_FORMAT": "json", "SOCKET_PROXY_PROFILES": "x"})
        q.docker("version")
        assert wait_for(lambda: json_access(q))
        assert set(json_access(q)[0]) == keys | {"profile"}
    assert "profile" not in p.stderr_text().split("forwarding to")[0]  # no start-up line speaks of profiles

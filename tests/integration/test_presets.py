"""Presets (SOCKET_PROXY_PRESET) against the real dockerd: each preset is backed by a
replay of its application's own calls, made with the client library the application
is built on, through the proxy started with that preset and no other rules variable.
Every call the application makes must pass; calls it does not need must get the
proxy's 403; and the proxy's access log must show no refusal beyond those.

  Go docker client (tests/presets/go/, Debian's golang-github-docker-docker-dev,
  GOPATH mode, offline): traefik, traefik-swarm, watchtower, dozzle, portainer
  dockerode (tests/presets/node/, installed from npm on first use): homepage
  plain HTTP, as their scripts send it: autoheal (curl), uptime-kuma (axios)
  docker-compose v1 (Debian's docker-compose): compose
  representative GETs, exports and writes: read-only

Under CI=true a missing go, library, node, npm or docker-compose fails the test."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import ROOT, in_ci, wait_for
from fake.rawhttp import SockReader, read_response, request_bytes

GO_SRC = os.path.join(ROOT, "tests", "presets", "go")
NODE_DIR = os.path.join(ROOT, "tests", "presets", "node")
OUT = os.path.join(ROOT, "build", "presets")
GOPATH_LIB = "/usr/share/gocode"
GO_REPLAYS = ["traefik", "traefik-swarm", "watchtower", "dozzle", "portainer"]
PRESETS = ["traefik", "traefik-swarm", "watchtower", "dozzle", "homepage", "portainer", "autoheal", "uptime-kuma",
           "compose", "read-only"]
# Prints "ready" on stdout and "oops" on stderr, then a line a second; exits on SIGTERM.
APP_CMD = ["sh", "-c", "echo ready; echo oops >&2; trap 'exit 0' TERM; while sleep 1; do echo tick; done"]


def missing(msg):
    """A tool the replays need is missing: a failure under CI=true, else a skip."""
    if in_ci():
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


# -- the replay programs -----------------------------------------------------------------

@pytest.fixture(scope="session")
def go_replays():
    """Builds tests/presets/go/* (GOPATH mode, offline) into build/presets/bin/."""
    go = shutil.which("go")
    if not go:
        missing("go not installed (apt-get install golang-go golang-github-docker-docker-dev)")
    if not os.path.isdir(os.path.join(GOPATH_LIB, "src", "github.com", "docker", "docker", "client")):
        missing("the Go docker client is not installed (apt-get install golang-github-docker-docker-dev)")
    src = os.path.join(OUT, "gopath", "src")
    os.makedirs(src, exist_ok=True)
    link = os.path.join(src, "spreplay")
    if os.path.realpath(link) != GO_SRC:
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(GO_SRC, link)
    env = dict(os.environ, GO111MODULE="off", GOPATH=os.path.join(OUT, "gopath") + ":" + GOPATH_LIB,
               GOCACHE=os.path.join(ROOT, "build", "gocache"), GOENV="off", GOFLAGS="", GOTOOLCHAIN="local",
               GOPROXY="off")
    bindir = os.path.join(OUT, "bin")
    r = subprocess.run([go, "build", "-o", bindir + "/"] + ["spreplay/" + n for n in GO_REPLAYS],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"building the Go replays failed:\n{r.stdout}\n{r.stderr}"
    return {n: os.path.join(bindir, n) for n in GO_REPLAYS}


@pytest.fixture(scope="session")
def dockerode():
    """node and dockerode (tests/presets/node/node_modules, installed with npm if missing)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        missing("node or npm not installed (apt-get install nodejs npm)")
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "dockerode")):
        r = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock"],
                           cwd=NODE_DIR, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            missing(f"npm install dockerode failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return node


# -- the daemon side: a running container to look at ---------------------------------------

class App:
    def __init__(self, name, since):
        self.name = name
        self.since = since


def run_app(dockerd, cleanup, name, image, *opts):
    cleanup.container(name)
    dockerd.docker("run", "-d", "--name", name, "--network", "none", "--label", "traefik.enable=true", *opts,
                   image, *APP_CMD)
    assert wait_for(lambda: "ready" in dockerd.docker("logs", name).stdout, 15), "the app container never said ready"
    return name


@pytest.fixture
def app(dockerd, bb_image, cleanup, unique_name):
    since = str(int(time.time()) - 1)
    return App(run_app(dockerd, cleanup, unique_name, bb_image), since)


# -- running a replay ------------------------------------------------------------------------

def start(proxy_factory, preset, **extra):
    """The proxy with SOCKET_PROXY_PRESET=preset and no rules variable but extra."""
    return proxy_factory({"SOCKET_PROXY_PRESET": preset, **extra})


def denials(proxy):
    return [line for line in proxy.stderr_text().splitlines() if re.search(r'" deny \(', line)]


class Result:
    def __init__(self, lines):
        self.lines = lines
        self.ok = [l[3:] for l in lines if l.startswith("ok ")]
        self.refused = [l[8:] for l in lines if l.startswith("refused ")]
        self.failed = [l for l in lines if l.startswith("FAIL")]


def check(proxy, lines, returncode=0, what=""):
    """Every call ok or refused as it must be; the proxy refused nothing else."""
    res = Result(lines)
    out = "\n".join(lines)
    log = "\n--- proxy stderr (tail) ---\n" + proxy.stderr_text()[-4000:]
    assert not res.failed and returncode == 0, f"{what} replay failed (exit {returncode}):\n{out}{log}"
    assert res.ok and res.refused, f"{what} replay reported no ok or no refused call:\n{out}"
    # Each must-refuse call is one request; any other refusal is a call the app
    # needs that the preset does not grant, even if its client swallowed the error.
    assert wait_for(lambda: len(denials(proxy)) >= len(res.refused), 5)
    extra = denials(proxy)
    assert len(extra) == len(res.refused), (
        f"{what}: the proxy refused {len(extra)} request(s), the replay expected {len(res.refused)}:\n"
        + "\n".join(extra) + "\n--- replay ---\n" + out)
    print(f"\n{what}: {len(res.ok)} ok, {len(res.refused)} refused")
    return res


def run_program(proxy, cmd, what, timeout=120):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    if r.stderr.strip():
        lines.append("stderr: " + r.stderr.strip()[-2000:])
    return check(proxy, lines, r.returncode, what)


def go_args(replay, proxy, app, image, unique, **more):
    args = [replay, "-socket", proxy.unix, "-container", app.name, "-image", image, "-unique", unique,
            "-since", app.since]
    for k, v in more.items():
        args += ["-" + k.replace("_", "-"), v]
    return args


# -- raw HTTP, as curl and axios send it --------------------------------------------------------

class Raw:
    """A keep-alive connection to a Unix socket (the proxy's), requests sent as given;
    a new connection after an answer that closes it (the proxy closes after refusing
    a request with a body, which it does not read)."""

    def __init__(self, path, headers):
        self.path = path
        self.headers = headers
        self.sock = None

    def _connect(self):
        self.close()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.path)
        self.reader = SockReader(self.sock)

    def __call__(self, method, target, body=None, headers=None):
        if self.sock is None:
            self._connect()
        self.sock.sendall(request_bytes(method, target, list(self.headers) + list(headers or []), body))
        res = read_response(self.reader, method)
        assert res is not None, f"{method} {target}: the connection closed without an answer"
        if res.headers.get("connection", "").lower() == "close":
            self.close()
        return res

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def proxy_refused(res):
    """The proxy's 403: {"message": "socket-proxy: ..."}. A HEAD answer has no body:
    its 403 is checked against the access log by check()."""
    if res.status != 403:
        return False
    if not res.body and res.headers.get("content-length", "0") != "0":
        return True
    try:
        return json.loads(res.body)["message"].startswith("socket-proxy: ")
    except (ValueError, KeyError, TypeError):
        return False


class Calls:
    """Lines in the replay programs' format, for the replays done from Python."""

    def __init__(self):
        self.lines = []

    def ok(self, what, res, expect=(200,)):
        if res.status in expect:
            self.lines.append(f"ok {what}")
        else:
            self.lines.append(f"FAIL {what}: {res.status} {res.body[:200]!r}")

    def reached(self, what, res):
        if proxy_refused(res) or res.status == 403:
            self.lines.append(f"FAIL {what}: {res.status} {res.body[:200]!r}")
        else:
            self.lines.append(f"ok {what}" + ("" if res.status < 300 else f" (daemon: {res.status})"))

    def refused(self, what, res):
        if proxy_refused(res):
            self.lines.append(f"refused {what}")
        else:
            self.lines.append(f"FAIL {what}: expected the proxy's 403, got {res.status} {res.body[:200]!r}")


def must_refuse_writes(calls, http, cid, image):
    """Writes every read-only preset refuses."""
    calls.refused("POST /containers/create", http("POST", "/containers/create", b'{"Image":"%s"}' % image.encode(),
                                                  [("Content-Type", "application/json")]))
    calls.refused("POST /containers/{id}/exec", http("POST", f"/containers/{cid}/exec", b'{"Cmd":["true"]}',
                                                     [("Content-Type", "application/json")]))
    calls.refused("DELETE /containers/{id}", http("DELETE", f"/containers/{cid}?force=1"))


# -- the replays -----------------------------------------------------------------------------------

@pytest.mark.parametrize("preset", ["traefik", "traefik-swarm", "dozzle"])
def test_go_replay_read_only_apps(proxy_factory, go_replays, app, bb_image, unique_name, preset):
    p = start(proxy_factory, preset)
    run_program(p, go_args(go_replays[preset], p, app, bb_image, unique_name), preset)


def test_watchtower(proxy_factory, dockerd, go_replays, bb_image, cleanup, unique_name):
    # The watched container runs an image of its own (removed by the replay's cleanup
    # step) named after a registry on a closed loopback port: the pull fails at once.
    old = cleanup.image(f"127.0.0.1:1/{unique_name}:old")
    seed = run_app(dockerd, cleanup, unique_name + "-seed", bb_image)
    dockerd.docker("commit", seed, old)
    app = App(run_app(dockerd, cleanup, unique_name, old), str(int(time.time()) - 1))
    cleanup.container(unique_name + "-old")
    p = start(proxy_factory, "watchtower")
    run_program(p, go_args(go_replays["watchtower"], p, app, bb_image, unique_name, old_image=old), "watchtower")
    new = json.loads(dockerd.docker("inspect", unique_name).stdout)[0]
    assert new["State"]["Running"] and new["Config"]["Image"] == bb_image, new["State"]
    assert dockerd.docker("image", "inspect", old, check=False).returncode != 0, "the old image was not removed"


def test_portainer(proxy_factory, dockerd, go_replays, app, bb_image, cleanup, unique_name):
    for suffix in ("-c", "-renamed"):
        cleanup.container(unique_name + suffix)
    for ref in (f"127.0.0.1:1/{unique_name}:1", f"{unique_name}-build:1", f"{unique_name}-commit:1"):
        cleanup.image(ref)
    cleanup.network(unique_name + "-net")
    p = start(proxy_factory, "portainer")
    try:
        run_program(p, go_args(go_replays["portainer"], p, app, bb_image, unique_name), "portainer", timeout=180)
    finally:
        dockerd.docker("volume", "rm", "-f", unique_name + "-vol", check=False)


def test_homepage(proxy_factory, dockerode, app, bb_image):
    p = start(proxy_factory, "homepage")
    run_program(p, [dockerode, os.path.join(NODE_DIR, "homepage.js"), p.unix, app.name, bb_image], "homepage")


def test_autoheal(proxy_factory, dockerd, bb_image, cleanup, unique_name):
    """willfarrell/autoheal's script: curl on the socket, the filter JSON unencoded in
    the URL as curl sends it, then POST .../restart?t=10 without a body."""
    name = run_app(dockerd, cleanup, unique_name, bb_image, "--label", "autoheal=true", "--health-cmd", "false",
                   "--health-interval", "1s", "--health-retries", "1")
    health = lambda: dockerd.docker("inspect", "-f", "{{.State.Health.Status}}", name).stdout.strip()  # noqa: E731
    assert wait_for(lambda: health() == "unhealthy", 30), health()
    started = dockerd.docker("inspect", "-f", "{{.State.StartedAt}}", name).stdout.strip()
    p = start(proxy_factory, "autoheal")
    http = Raw(p.unix, [("Host", "localhost"), ("User-Agent", "curl/7.88.1"), ("Accept", "*/*")])
    calls = Calls()
    try:
        for label in ("", ',"label":["autoheal=true"]'):
            res = http("GET", '/containers/json?filters={"health":["unhealthy"]%s}' % label)
            calls.ok("GET /containers/json?filters={health:[unhealthy]%s}" % (label and ",label"), res)
            if res.status == 200 and name not in json.dumps(json.loads(res.body)):
                calls.lines.append(f"FAIL the unhealthy {name} is not in the list")
        cid = dockerd.docker("inspect", "-f", "{{.Id}}", name).stdout.strip()
        calls.ok("POST /containers/{id}/restart?t=10", http("POST", f"/containers/{cid}/restart?t=10"), (204,))
        calls.refused("POST /containers/{id}/start", http("POST", f"/containers/{cid}/start"))
        calls.refused("GET /containers/{id}/logs", http("GET", f"/containers/{cid}/logs?stdout=1"))
        calls.refused("GET /events", http("GET", "/events?since=0&until=1"))
        calls.refused("GET /images/json", http("GET", "/images/json"))
        must_refuse_writes(calls, http, cid, bb_image)
    finally:
        http.close()
    check(p, calls.lines, what="autoheal")
    assert dockerd.docker("inspect", "-f", "{{.State.StartedAt}}", name).stdout.strip() != started, "not restarted"


def test_uptime_kuma(proxy_factory, app, bb_image):
    """Uptime Kuma's docker monitor (axios on the socket): the host check lists the
    containers, the monitor inspects one by name; unversioned paths."""
    p = start(proxy_factory, "uptime-kuma")
    http = Raw(p.unix, [("Host", "localhost"), ("Accept", "application/json, text/plain, */*"),
                   ("User-Agent", "axios/0.28.1")])
    calls = Calls()
    try:
        calls.ok("GET /containers/json?all=true", http("GET", "/containers/json?all=true"))
        res = http("GET", f"/containers/{app.name}/json")
        calls.ok("GET /containers/{name}/json", res)
        if res.status == 200 and not json.loads(res.body)["State"]["Running"]:
            calls.lines.append("FAIL the container does not read as running")
        for what, target in (("logs", f"/containers/{app.name}/logs?stdout=1"), ("top", f"/containers/{app.name}/top"),
                             ("events", "/events?since=0&until=1"), ("images", "/images/json"), ("info", "/info")):
            calls.refused(f"GET {what}", http("GET", target))
        calls.refused("POST /containers/{name}/restart", http("POST", f"/containers/{app.name}/restart"))
        must_refuse_writes(calls, http, app.name, bb_image)
    finally:
        http.close()
    check(p, calls.lines, what="uptime-kuma")


def test_read_only(proxy_factory, dockerd, app, bb_image):
    """11notes' model: every GET but the exfiltration switches (export, archive, image
    download), secrets, configs and the swarm unlock key; nothing else."""
    p = start(proxy_factory, "read-only")
    direct = Raw(dockerd.sock, [("Host", "docker"), ("Content-Type", "application/json")])
    try:
        exec_id = json.loads(direct("POST", f"/containers/{app.name}/exec", b'{"Cmd":["true"]}').body)["Id"]
    finally:
        direct.close()
    http = Raw(p.unix, [("Host", "docker")])
    calls = Calls()
    c, img = app.name, bb_image
    try:
        for target in ("/_ping", "/version", "/info", "/containers/json?all=1", f"/containers/{c}/json",
                       f"/containers/{c}/logs?stdout=1&stderr=1", f"/containers/{c}/top", f"/containers/{c}/changes",
                       f"/containers/{c}/stats?stream=0", "/images/json", f"/images/{img}/json",
                       f"/images/{img}/history", "/networks", "/networks/none", "/volumes", "/system/df", "/plugins",
                       "/events?since=0&until=1", "/v1.41/containers/json"):
            calls.ok("GET " + target, http("GET", target))
        calls.ok("HEAD /_ping", http("HEAD", "/_ping"))
        calls.ok("GET /exec/{id}/json", http("GET", f"/exec/{exec_id}/json"))
        for target in ("/swarm", "/services", "/tasks", "/nodes", "/distribution/127.0.0.1:1/absent:1/json"):
            calls.reached("GET " + target, http("GET", target))
        for target in (f"/containers/{c}/export", f"/containers/{c}/archive?path=/etc", f"/images/{img}/get",
                       f"/images/get?names={img}", "/secrets", "/configs", "/swarm/unlockkey",
                       f"/containers/{c}/attach/ws?stream=1"):
            calls.refused("GET " + target, http("GET", target))
        calls.refused("HEAD /containers/{id}/archive", http("HEAD", f"/containers/{c}/archive?path=/etc"))
        for method, target in (("POST", f"/containers/{c}/start"), ("POST", f"/containers/{c}/kill"),
                               ("POST", "/networks/create"), ("POST", "/volumes/create"), ("DELETE", f"/images/{img}"),
                               ("POST", "/build"), ("PUT", f"/containers/{c}/archive?path=/tmp"),
                               ("POST", f"/exec/{exec_id}/start")):
            calls.refused(f"{method} {target}", http(method, target, b"{}", [("Content-Type", "application/json")]))
        must_refuse_writes(calls, http, c, img)
    finally:
        http.close()
    check(p, calls.lines, what="read-only")


# A small project: one service with a named volume, and a network created and removed
# with the project (its service is scaled to 0, so no container ever joins a bridge).
COMPOSE_FILE = """\
version: "2.4"
services:
  app:
    image: %s
    command: ["sh", "-c", "echo ready; trap 'exit 0' TERM; while sleep 1; do :; done"]
    network_mode: none
    volumes: ["data:/data"]
  idle:
    image: %s
    scale: 0
    networks: [backend]
networks:
  backend:
    internal: true
volumes:
  data: {}
"""


@pytest.mark.once
def test_compose(proxy_factory, dockerd, bb_image, unique_name):
    """docker-compose v1 brings a one-service project up and down through the proxy."""
    compose = shutil.which("docker-compose")
    if not compose:
        missing("docker-compose not installed (apt-get install docker-compose)")
    project = re.sub(r"[^a-z0-9]", "", unique_name.lower())[-40:]
    p = start(proxy_factory, "compose")
    work = tempfile.mkdtemp(prefix="spc-")
    with open(os.path.join(work, "docker-compose.yml"), "w") as f:
        f.write(COMPOSE_FILE % (bb_image, bb_image))
    env = dict(p.docker_env("unix"), COMPOSE_INTERACTIVE_NO_CLI="1")
    lines = []

    def compose_run(*args, timeout=120):
        return subprocess.run([compose, "-p", project, *args], cwd=work, env=env, capture_output=True, text=True,
                              timeout=timeout)

    try:
        for args in (("up", "-d"), ("ps",), ("logs",), ("top",), ("stop", "-t", "5"), ("start",), ("down", "-v", "-t", "5")):
            r = compose_run(*args)
            ok = r.returncode == 0 and (args[0] != "logs" or "ready" in r.stdout)
            lines.append(f"ok {' '.join(args)}" if ok else f"FAIL {' '.join(args)}: {r.stdout[-1500:]} {r.stderr[-1500:]}")
            if args == ("up", "-d"):
                ids = dockerd.docker("ps", "-q", "--filter", f"label=com.docker.compose.project={project}").stdout
                if not ids.strip():
                    lines.append("FAIL up -d: no running container")
                r = compose_run("exec", "-T", "app", "true")
                lines.append("refused exec" if r.returncode != 0 and "socket-proxy: " in r.stderr
                             else f"FAIL exec: expected the proxy's 403: {r.stderr[-1500:]}")
        for kind in ("ps -a", "network ls", "volume ls"):
            left = dockerd.docker(*kind.split(), "-q", "--filter", f"label=com.docker.compose.project={project}").stdout
            if left.strip():
                lines.append(f"FAIL down left {kind}: {left}")
    finally:
        compose_run("down", "-v", "-t", "0")
        shutil.rmtree(work, ignore_errors=True)
    check(p, lines, what="compose")


# -- the mechanism ---------------------------------------------------------------------------------

def test_every_preset_has_a_replay(proxy_bin):
    r = subprocess.run([proxy_bin.path, "rules"], env={"PATH": "/usr/bin:/bin", "SOCKET_PROXY_PRESET": "?",
                                                       **proxy_bin.env}, capture_output=True, text=True)
    listed = r.stderr.strip().rsplit("use one of ", 1)[-1].split(", ")
    assert listed == PRESETS, r.stderr


def test_explicit_variable_overrides_preset(proxy_factory, app):
    p = start(proxy_factory, "traefik", CONTAINERS="0")
    status, _, body = p.http("GET", "/v1.41/containers/json")
    assert status == 403 and "CONTAINERS=1" in json.loads(body)["message"], body
    p2 = start(proxy_factory, "dozzle", INFO="0", ALLOW_TOP="1")
    assert p2.http("GET", "/info")[0] == 403
    assert p2.http("GET", f"/containers/{app.name}/top")[0] == 200
    assert p2.http("GET", "/containers/json")[0] == 200


def test_empty_preset_variable_is_the_defaults(proxy_factory):
    p = start(proxy_factory, "", CONTAINERS="")
    assert p.http("GET", "/containers/json")[0] == 403
    assert p.http("GET", "/_ping")[0] == 200


def test_unknown_preset_stops_start_up(proxy_bin, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SOCKET_PROXY_PRESET": "traefk", "SOCKET_PROXY_VOLUME": str(tmp_path),
           "SOCKET_PROXY_LISTEN": "off", "SOCKET_PROXY_UID": "0", "SOCKET_PROXY_GID": "0", **proxy_bin.env}
    r = subprocess.run([proxy_bin.path], env=env, capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and not os.path.exists(tmp_path / "docker.sock"), r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert 'SOCKET_PROXY_PRESET="traefk" is not a preset' in lines[0] and ", ".join(PRESETS) in lines[0], lines[0]


def rules_table(proxy_bin, env):
    out = subprocess.run([proxy_bin.path, "rules"], env={"PATH": "/usr/bin:/bin", **proxy_bin.env, **env},
                         capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^([A-Z_]+)\s+([01])\s+(env|preset|default)\s", line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3))
    return out, rows


def test_rules_shows_preset_as_source(proxy_bin):
    out, rows = rules_table(proxy_bin, {"SOCKET_PROXY_PRESET": "traefik", "ALLOW_TOP": "1"})
    assert rows["CONTAINERS"] == ("1", "preset"), out
    assert rows["ALLOW_TOP"] == ("1", "env"), out
    assert rows["POST"] == ("0", "default"), out
    assert re.search(r"^PRESET\s+traefik \(", out, re.M), out


def readme_presets():
    """{name: grants text} from the README's Presets table."""
    rows = {}
    with open(os.path.join(ROOT, "README.md")) as f:
        for line in f:
            m = re.match(r"^\| `([a-z-]+)` \| [^|]+ \| (.*) \|$", line.rstrip("\n"))
            if m:
                rows[m.group(1)] = m.group(2)
    return rows


def test_readme_presets_table_matches_binary(proxy_bin):
    """The README's Presets table lists every preset with exactly the values it sets."""
    doc = readme_presets()
    assert sorted(doc) == sorted(PRESETS), doc
    for preset in PRESETS:
        _, rows = rules_table(proxy_bin, {"SOCKET_PROXY_PRESET": preset})
        want = {k: v for k, (v, src) in rows.items() if src == "preset"}
        got = dict(re.findall(r"`([A-Z_]+)=([01])`", doc[preset]))
        assert got == want, f"README row for {preset}: {got} != binary {want}"

"""Scoping by labels (issue 13) with the real docker CLI, docker-compose and
dockerd: an autoheal-like profile (SCOPE_LABEL=autoheal=true) restarts,
lists, inspects, execs and watches the events of labelled containers only;
an unlabelled container answers exactly as a missing one does (the proxy's
404 carries the daemon's own words); SCOPE_OWN=1 creates (docker run,
docker create, docker-compose up, docker volume create, docker network
create) carry the label, and a profile scoped differently cannot see them.
The connection-level rows (filters, lookups, the rename race, bodies) are in
tests/engine/test_scope.py."""
import http.client
import json
import re
import shutil
import socket
import subprocess
import time

import pytest

from test_profiles import view

AUTOHEAL = {"SCOPE_LABEL": "autoheal=true", "CONTAINERS": "1", "ALLOW_RESTARTS": "1", "EVENTS": "1"}


def daemon_http(dockerd, method, path, body=None):
    """One request straight to the daemon: (status, parsed JSON body or None)."""
    class Conn(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(30)
            self.sock.connect(dockerd.sock)

    c = Conn("docker", timeout=30)
    try:
        hdrs = {"Content-Type": "application/json"} if body is not None else {}
        c.request(method, path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        return r.status, json.loads(data) if data.strip() else None
    finally:
        c.close()


def label_of(dockerd, kind, name, key):
    fmt = "{{index .Config.Labels %s}}" if kind == "container" else "{{index .Labels %s}}"
    return dockerd.docker(kind, "inspect", "-f", fmt % json.dumps(key), name).stdout.strip()


def same_failure(got, want, name, missing):
    """got (for name, through the proxy) fails exactly as want did (for a name
    the daemon does not know), once the names are swapped."""
    assert got.returncode == want.returncode != 0, (got.stderr, want.stderr)
    assert got.stderr.replace(name, "<name>") == want.stderr.replace(missing, "<name>"), (got.stderr, want.stderr)
    assert got.stdout.replace(name, "<name>") == want.stdout.replace(missing, "<name>")


@pytest.fixture
def pair(dockerd, bb_image, cleanup, unique_name):
    """Two running containers: `lab` labelled autoheal=true, `unl` not."""
    lab = cleanup.container(unique_name + "-lab")
    unl = cleanup.container(unique_name + "-unl")
    dockerd.docker("run", "-d", "--name", lab, "--network", "none", "--label", "autoheal=true", bb_image, "sleep", "300")
    dockerd.docker("run", "-d", "--name", unl, "--network", "none", bb_image, "sleep", "300")
    return lab, unl


def started_at(dockerd, name):
    return dockerd.docker("inspect", "-f", "{{.State.StartedAt}}", name).stdout.strip()


def test_autoheal_profile_restarts_and_lists_only_its_own(proxy_factory, dockerd, pair):
    lab, unl = pair
    p = proxy_factory(AUTOHEAL)
    before = started_at(dockerd, lab), started_at(dockerd, unl)
    p.docker("restart", "-t", "0", lab)
    r = p.docker("restart", "-t", "0", unl, check=False)
    assert r.returncode != 0 and f"No such container: {unl}" in r.stderr, r.stderr
    assert started_at(dockerd, lab) != before[0]
    assert started_at(dockerd, unl) == before[1]

    names = p.docker("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert lab in names and unl not in names, names
    for n in names:
        assert label_of(dockerd, "container", n, "autoheal") == "true", n
    assert unl in dockerd.docker("ps", "-a", "--format", "{{.Names}}").stdout.split()
    # the client's own filters still apply (they AND with the scope's)
    assert p.docker("ps", "-a", "--filter", f"name={unl}", "--format", "{{.Names}}").stdout == ""
    assert p.docker("ps", "-a", "--filter", f"name={lab}", "--format", "{{.Names}}").stdout.split() == [lab]
    # actions by ID work as by name; the ID of an unlabelled container is no way in
    lab_id = dockerd.docker("inspect", "-f", "{{.Id}}", lab).stdout.strip()
    unl_id = dockerd.docker("inspect", "-f", "{{.Id}}", unl).stdout.strip()
    p.docker("kill", "-s", "HUP", lab_id[:12])
    r = p.docker("kill", "-s", "HUP", unl_id[:12], check=False)
    assert r.returncode != 0 and f"No such container: {unl_id[:12]}" in r.stderr, r.stderr
    assert p.alive()


def test_out_of_scope_fails_like_missing(proxy_factory, dockerd, pair, unique_name):
    lab, unl = pair
    missing = unique_name + "-nosuch"
    p = proxy_factory(AUTOHEAL)
    for args in (["container", "inspect"], ["restart", "-t", "0"], ["logs"], ["stop", "-t", "0"], ["top"],
                 ["inspect"]):
        got = p.docker(*args, unl, check=False)
        want = p.docker(*args, missing, check=False)
        same_failure(got, want, unl, missing)
        if args[0] != "inspect":  # the generic inspect also asks for images, which this profile may not
            same_failure(got, dockerd.docker(*args, missing, check=False), unl, missing)
    assert json.loads(p.docker("container", "inspect", lab).stdout)[0]["Name"] == "/" + lab
    # the answer itself: dockerd's status and words, for the name as written
    status, _, body = p.http("GET", f"/v1.41/containers/{unl}/json")
    d_status, d_body = daemon_http(dockerd, "GET", f"/v1.41/containers/{missing}/json")
    assert (status, json.loads(body)) == (d_status, {"message": d_body["message"].replace(missing, unl)}) == (
        404, {"message": f"No such container: {unl}"})


def test_events_show_only_the_scope(proxy_factory, dockerd, pair):
    lab, unl = pair
    p = proxy_factory(AUTOHEAL)
    since = time.time()
    dockerd.docker("restart", "-t", "0", lab)
    dockerd.docker("restart", "-t", "0", unl)
    until = time.time() + 1
    window = ["events", "--since", f"{since:.3f}", "--until", f"{until:.3f}", "--format", "{{json .}}"]
    mine = [json.loads(x) for x in p.docker(*window, timeout=30).stdout.splitlines()]
    everyone = [json.loads(x) for x in dockerd.docker(*window, timeout=30).stdout.splitlines()]
    names = {e["Actor"]["Attributes"].get("name") for e in mine}
    assert lab in names and unl not in names, names
    assert {e["Action"] for e in mine if e["Actor"]["Attributes"].get("name") == lab} >= {"die", "start", "restart"}
    assert all(e["Actor"]["Attributes"].get("autoheal") == "true" for e in mine), mine
    assert unl in {e["Actor"]["Attributes"].get("name") for e in everyone}


def test_exec_and_cp_in_scope_only(proxy_factory, dockerd, pair):
    lab, unl = pair
    p = proxy_factory({"SCOPE_LABEL": "autoheal=true", "CONTAINERS": "1", "EXEC": "1", "POST": "1",
                       "ALLOW_ARCHIVE": "1"})
    assert p.docker("exec", lab, "echo", "ok").stdout == "ok\n"
    assert p.docker("exec", "-i", lab, "cat", input="through the check\n").stdout == "through the check\n"
    assert "root:x:0:0" in p.docker("cp", f"{lab}:/etc/passwd", "-").stdout  # HEAD, then GET archive
    for args in (["exec", unl, "echo", "ok"], ["cp", f"{unl}:/etc/passwd", "-"]):
        r = p.docker(*args, check=False)
        assert r.returncode != 0 and f"No such container: {unl}" in r.stderr, (args, r.stderr)
    # an exec made (on the daemon) in an unlabelled container is as unknown as a missing one
    status, created = daemon_http(dockerd, "POST", f"/containers/{unl}/exec", json.dumps({"Cmd": ["true"]}))
    assert status == 201, created
    eid, missing = created["Id"], "0" * 64
    _, d_body = daemon_http(dockerd, "GET", f"/exec/{missing}/json")
    for method, path, body in [("GET", f"/exec/{eid}/json", None), ("POST", f"/exec/{eid}/start", b'{"Detach":true}')]:
        status, _, got = p.http(method, path, body=body, headers={"Content-Type": "application/json"})
        assert status == 404 and json.loads(got) == {"message": d_body["message"].replace(missing, eid)}, got
    assert daemon_http(dockerd, "GET", f"/exec/{eid}/json")[1]["Running"] is False  # never started


def test_own_creates_carry_the_label_and_other_scopes_cannot_see_them(proxy_factory, dockerd, bb_image, cleanup,
                                                                       unique_name):
    teams = {"teama": "a", "teamb": "b"}
    env = {"SOCKET_PROXY_PROFILES": "teama,teamb", "CONTAINERS": "1"}
    for prof, team in teams.items():
        env.update({f"{prof.upper()}__SCOPE_LABEL": f"team={team}", f"{prof.upper()}__SCOPE_OWN": "1",
                    f"{prof.upper()}__CONTAINERS": "1", f"{prof.upper()}__POST": "1"})
    p = proxy_factory(env)
    a, b = view(p, "teama"), view(p, "teamb")
    name = cleanup.container(unique_name)
    a.docker("create", "--name", name, "--network", "none", "--label", "app=x", bb_image, "true")
    assert label_of(dockerd, "container", name, "team") == "a"
    assert label_of(dockerd, "container", name, "app") == "x"  # the client's own labels stay

    assert name in a.docker("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert name not in b.docker("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert name in p.docker("ps", "-a", "--format", "{{.Names}}").stdout.split()  # the default socket: unscoped
    r = b.docker("container", "inspect", name, check=False)
    assert r.returncode != 0 and f"No such container: {name}" in r.stderr, r.stderr
    r = b.docker("rm", name, check=False)
    assert r.returncode != 0 and f"No such container: {name}" in r.stderr, r.stderr
    assert dockerd.docker("ps", "-aq", "--filter", f"name=^{name}$").stdout.strip()

    # a label that contradicts the scope is refused before the daemon sees it
    other = cleanup.container(unique_name + "-b")
    r = a.docker("create", "--name", other, "--network", "none", "--label", "team=b", bb_image, "true", check=False)
    assert r.returncode != 0 and "socket-proxy:" in r.stderr and "team" in r.stderr, r.stderr
    assert not dockerd.docker("ps", "-aq", "--filter", f"name=^{other}$").stdout.strip()

    # docker run --rm: create, attach, start, wait, remove, all through the checks
    run_name = cleanup.container(unique_name + "-run")
    out = a.docker("run", "--rm", "--name", run_name, "--network", "none", bb_image, "sh", "-c", "echo hi from a")
    assert out.stdout == "hi from a\n", out.stderr
    a.docker("start", "-a", name)
    a.docker("rm", name)
    assert not dockerd.docker("ps", "-aq", "--filter", f"name=^{name}$").stdout.strip()


def test_compose_up_and_down_through_a_scoped_profile(proxy_factory, dockerd, bb_image, tmp_path, unique_name):
    compose = shutil.which("docker-compose")
    if not compose:
        pytest.fail("docker-compose missing (Debian package docker-compose)", pytrace=False)
    p = proxy_factory({"SCOPE_LABEL": "ci=job1", "SCOPE_OWN": "1", "CONTAINERS": "1", "IMAGES": "1", "INFO": "1",
                       "NETWORKS": "1", "POST": "1"})
    (tmp_path / "docker-compose.yml").write_text(
        'version: "2.4"\nservices:\n' +
        "".join(f'  {s}:\n    image: {bb_image}\n    network_mode: none\n    command: ["sleep", "60"]\n'
                f'    stop_grace_period: 0s\n    labels:\n      role: {s}\n' for s in ("app", "worker")))
    project = re.sub(r"[^a-z0-9]", "", unique_name.lower())[-20:]
    label = f"label=com.docker.compose.project={project}"

    def compose_via(*args):
        env = p.docker_env("unix")
        env["COMPOSE_PROJECT_NAME"] = project
        r = subprocess.run([compose, "-f", str(tmp_path / "docker-compose.yml"), *args], env=env,
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert r.returncode == 0, f"docker-compose {args}: {r.stderr}\n{p.stderr_text()[-3000:]}"
        return r

    try:
        compose_via("up", "-d")
        ids = dockerd.docker("ps", "-q", "--filter", label).stdout.split()
        assert len(ids) == 2
        for i in ids:
            assert label_of(dockerd, "container", i, "ci") == "job1"
            assert label_of(dockerd, "container", i, "com.docker.compose.project") == project  # compose's own stay
        assert len(re.findall(r"\bUp\b", compose_via("ps").stdout)) == 2
        compose_via("up", "-d")  # a second up finds its containers through the filtered list
        assert sorted(dockerd.docker("ps", "-q", "--filter", label).stdout.split()) == sorted(ids)
        compose_via("down")
        assert dockerd.docker("ps", "-aq", "--filter", label).stdout == ""
    finally:
        ids = dockerd.docker("ps", "-aq", "--filter", label).stdout.split()
        if ids:
            dockerd.docker("rm", "-f", *ids, check=False)


def test_volumes_scoped_and_owned(proxy_factory, dockerd, unique_name):
    p = proxy_factory({"SCOPE_LABEL": "team=a", "SCOPE_VOLUMES": "1", "SCOPE_OWN": "1", "VOLUMES": "1",
                       "POST": "1"})
    mine, theirs, refused, missing = (unique_name + s for s in ("-a", "-x", "-b", "-nosuch"))
    try:
        p.docker("volume", "create", "--label", "app=x", mine)
        assert label_of(dockerd, "volume", mine, "team") == "a"
        assert label_of(dockerd, "volume", mine, "app") == "x"
        dockerd.docker("volume", "create", theirs)
        listed = p.docker("volume", "ls", "-q").stdout.split()
        assert mine in listed and theirs not in listed, listed
        for v in listed:
            assert label_of(dockerd, "volume", v, "team") == "a", v
        for args in (["volume", "inspect"], ["volume", "rm"]):
            same_failure(p.docker(*args, theirs, check=False), dockerd.docker(*args, missing, check=False), theirs,
                         missing)
        assert theirs in dockerd.docker("volume", "ls", "-q").stdout.split()
        r = p.docker("volume", "create", "--label", "team=b", refused, check=False)
        assert r.returncode != 0 and "socket-proxy:" in r.stderr, r.stderr
        assert refused not in dockerd.docker("volume", "ls", "-q").stdout.split()
        p.docker("volume", "rm", mine)
        assert mine not in dockerd.docker("volume", "ls", "-q").stdout.split()
    finally:
        dockerd.docker("volume", "rm", "-f", mine, theirs, refused, check=False)


def test_networks_scoped_and_owned(proxy_factory, dockerd, cleanup, unique_name):
    p = proxy_factory({"SCOPE_LABEL": "team=a", "SCOPE_NETWORKS": "1", "SCOPE_OWN": "1", "NETWORKS": "1",
                       "CONTAINERS": "1", "POST": "1"})
    mine, theirs = cleanup.network(unique_name + "-a"), cleanup.network(unique_name + "-x")
    missing = unique_name + "-nosuch"
    p.docker("network", "create", "--internal", mine)
    assert label_of(dockerd, "network", mine, "team") == "a"
    dockerd.docker("network", "create", "--internal", theirs)
    listed = p.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert mine in listed and theirs not in listed and "none" not in listed, listed
    for args in (["network", "inspect"], ["network", "rm"]):
        same_failure(p.docker(*args, theirs, check=False), dockerd.docker(*args, missing, check=False), theirs,
                     missing)
    p.docker("network", "inspect", mine)
    p.docker("network", "rm", mine)
    assert mine not in dockerd.docker("network", "ls", "--format", "{{.Name}}").stdout.split()


def test_network_connect_checks_the_container(proxy_factory, dockerd, bb_image, cleanup, unique_name):
    """A network in scope, a container that is not: connecting it is dockerd's
    404; a labelled container connects."""
    p = proxy_factory({"SCOPE_LABEL": "team=a", "SCOPE_NETWORKS": "1", "CONTAINERS": "1", "NETWORKS": "1",
                       "POST": "1"})
    net, other = cleanup.network(unique_name + "-a"), cleanup.network(unique_name + "-x")
    dockerd.docker("network", "create", "--internal", "--label", "team=a", net)
    dockerd.docker("network", "create", "--internal", other)
    unl, lab = cleanup.container(unique_name + "-unl"), cleanup.container(unique_name + "-lab")
    dockerd.docker("create", "--name", unl, "--network", other, bb_image, "true")
    dockerd.docker("create", "--name", lab, "--network", other, "--label", "team=a", bb_image, "true")
    r = p.docker("network", "connect", net, unl, check=False)
    assert r.returncode != 0 and f"No such container: {unl}" in r.stderr, r.stderr
    assert net not in dockerd.docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", unl).stdout
    p.docker("network", "connect", net, lab)
    assert net in dockerd.docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", lab).stdout

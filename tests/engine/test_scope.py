"""Scoping by labels (issue 13) in the connection code, against a fake daemon
that knows a few containers, execs, networks and volumes; what it receives is
the oracle. A profile with SCOPE_LABEL=autoheal=true sees and acts on the
containers labelled autoheal=true, and nothing else:

- lists (/containers/json, /containers/prune, /events; /networks and /volumes
  when SCOPE_NETWORKS / SCOPE_VOLUMES; libpod's) reach the daemon with the
  labels merged into `filters`, in dockerd's map-of-bools form (libpod: its
  map-of-lists form); a query the proxy cannot read one way is 400 and is
  never forwarded;
- a request naming one object is preceded by the proxy's own inspect of it,
  on the proxy's own connection (Host and the API key, no other header); out of scope or missing:
  dockerd's own 404 and nothing forwarded; in scope: forwarded with the full
  ID in place of the name, so the object checked is the object acted on;
- creates: the containers (and, with SCOPE_VOLUMES, volumes) a body names
  must be in scope; SCOPE_OWN appends the labels, every other byte kept;
- routes that cannot be narrowed (/system/df, libpod pods, play, generate,
  creates) are 403.
Unscoped profiles are untouched. The real-daemon side is
tests/integration/test_scope_docker.py; the hostile rows are in
tests/hostile/corpus.py (section "scoping")."""
import copy
import hashlib
import json
import os
import re
import subprocess
import threading
import urllib.parse

import pytest

from conftest import wait_for
from fake.rawhttp import SockReader, read_response, request_bytes
from fake.upstream import HOST_NETWORK_ID, response

SCOPE = {"SCOPE_LABEL": "autoheal=true"}
LABEL = {"label": {"autoheal=true": True}}  # the filters of a list that had none


def hexid(seed):
    return hashlib.sha256(seed.encode()).hexdigest()


# name -> (full ID, Config.Labels); the IDs are sha256 of the name (no two share 8 hex digits)
CONTAINERS = {
    "web": (hexid("web"), {"autoheal": "true", "app": "web"}),
    "db": (hexid("db"), {"app": "db"}),
    "other": (hexid("other"), {"autoheal": "false"}),
    "caps": (hexid("caps"), {"autoheal": "True"}),      # values are compared exactly
    "keyonly": (hexid("keyonly"), {"autoheal": ""}),
    "nolabels": (hexid("nolabels"), None),              # dockerd writes "Labels": null
    "web/db": (hexid("legacy"), {"autoheal": "true"}),  # a name with a slash (dockerd's {name:.*})
    "team": (hexid("team"), {"autoheal": "true", "team": "a"}),
    "job": (hexid("job"), {"ci": "job1"}),
}
WEB, DB = CONTAINERS["web"][0], CONTAINERS["db"][0]
EXECS = {hexid("exec-web"): WEB, hexid("exec-db"): DB}
EXEC_WEB, EXEC_DB = hexid("exec-web"), hexid("exec-db")
NETWORKS = {"front": (hexid("front"), {"autoheal": "true"}), "back": (hexid("back"), {}),
            "host": (HOST_NETWORK_ID, {})}
VOLUMES = {"data": {"autoheal": "true"}, "scratch": {}}

# dockerd's own words for what it cannot find (tests/integration/test_scope_docker.py
# checks them against the real daemon)
NO_CONTAINER = "No such container: {}"
NO_EXEC = "No such exec instance: {}"
NO_NETWORK = "network {} not found"
NO_VOLUME = "get {}: no such volume"

CLIENT_MARK = ("X-Test-Client", "1")  # on every request a test sends; never on the proxy's own


def not_found(message):
    return response(404, json.dumps({"message": message}) + "\n", reason="Not Found")


def ok(doc, status=200):
    return response(status, json.dumps(doc) + "\n")


class Daemon:
    """A fake dockerd: inspects answer from the tables above, as dockerd resolves
    names (full ID, then name, then a unique ID prefix); everything else gets a
    plausible answer. Every request is kept in `seen`; lookup_hook(req) may
    answer a lookup instead (bytes, or None to close without a word), and
    after_lookup(req) runs once a lookup is answered."""

    def __init__(self):
        self.containers = {n: {"Id": i, "Name": "/" + n, "Config": {"Image": "busybox", "Labels": lab},
                               "State": {"Running": True}} for n, (i, lab) in CONTAINERS.items()}
        self.seen = []
        self.lookup_hook = None
        self.after_lookup = None
        self.lock = threading.Lock()

    def container(self, ref):
        cs = list(self.containers.values())
        for c in cs:
            if c["Id"] == ref:
                return c
        for c in cs:
            if c["Name"] == "/" + ref.removeprefix("/"):
                return c
        hits = [c for c in cs if c["Id"].startswith(ref)] if ref else []
        return hits[0] if len(hits) == 1 else None

    def answer(self, req):
        path = urllib.parse.unquote(re.sub(r"^/v[0-9.]+(?=/)", "", req.path))
        get = req.method in ("GET", "HEAD")
        m = re.fullmatch(r"/containers/(.+)/json", path)
        if get and m:
            c = self.container(m.group(1))
            return ok(c) if c else not_found(NO_CONTAINER.format(m.group(1)))
        m = re.fullmatch(r"/exec/(.+)/json", path)
        if get and m:
            cid = EXECS.get(m.group(1))
            if not cid:
                return not_found(NO_EXEC.format(m.group(1)))
            return ok({"ID": m.group(1), "ContainerID": cid, "Running": False, "ExitCode": 0,
                       "ProcessConfig": {"entrypoint": "true", "arguments": []}})
        m = re.fullmatch(r"/networks/([^/]+)", path)
        if get and m:
            for name, (nid, labels) in NETWORKS.items():
                if m.group(1) in (name, nid) or (len(m.group(1)) >= 6 and nid.startswith(m.group(1))):
                    return ok({"Name": name, "Id": nid, "Scope": "local", "Driver": "bridge", "Labels": labels})
            return not_found(NO_NETWORK.format(m.group(1)))
        m = re.fullmatch(r"/volumes/([^/]+)", path)
        if get and m and m.group(1) in VOLUMES:
            return ok({"Name": m.group(1), "Driver": "local", "Mountpoint": "/var/lib/docker/volumes/x/_data",
                       "Labels": VOLUMES[m.group(1)], "Scope": "local", "Options": None})
        if get and m:
            return not_found(NO_VOLUME.format(m.group(1)))
        if path in ("/containers/json", "/networks", "/volumes", "/libpod/containers/json"):
            return ok({"Volumes": [], "Warnings": None} if path == "/volumes" else [])
        if path == "/containers/create":
            return ok({"Id": hexid("new"), "Warnings": []}, 201)
        if path in ("/networks/create", "/volumes/create", "/commit"):
            return ok({"Id": hexid("created")}, 201)
        if req.method == "DELETE" or re.fullmatch(r"/containers/.+/(start|stop|restart|kill|pause|unpause)", path):
            return response(204)
        return ok({})

    def reply(self, req):
        out = self.answer(req)
        if req.method == "HEAD":  # the head alone, its Content-Length kept
            out = out[:out.index(b"\r\n\r\n") + 4]
        return out

    def handler(self, conn):
        while True:
            req = conn.read_request()
            if req is None:
                return
            with self.lock:
                self.seen.append(req)
            out = None
            if is_lookup(req) and self.lookup_hook:
                out = self.lookup_hook(req)
                if out is None:
                    return
            conn.send(out if out is not None else self.reply(req))
            if is_lookup(req) and self.after_lookup:
                self.after_lookup(req)

    def lookups(self):
        return [r.target for r in self.seen if is_lookup(r)]

    def forwarded(self):
        others = [r for r in self.seen if not is_lookup(r) and not is_client(r)]
        assert not others, f"requests that are neither the client's nor the proxy's lookups: {others}"
        return [r for r in self.seen if is_client(r)]

    def targets(self):
        return [r.target for r in self.forwarded()]


def is_client(req):
    return req.headers.get("x-test-client") == "1"


def is_lookup(req):
    """The proxy's own GET: Host (and the configured API key), nothing else;
    on a kept connection of the proxy's, so no Connection: close."""
    return req.method == "GET" and not is_client(req) and set(req.headers) <= {"host", "x-api-key"}


class Answer:
    def __init__(self, res):
        self.status, self.headers, self.body = res.status, res.headers, res.body

    def message(self):
        return json.loads(self.body)["message"]

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def start(fake_upstream, proxy_factory, env, daemon=None):
    d = daemon or Daemon()
    up = fake_upstream(d.handler)
    p = proxy_factory(env, upstream=up.path)
    return p, d, up


def ask(p, method, target, body=None, headers=()):
    """One request (marked as the client's) on a fresh connection; its answer."""
    s = p.connect(timeout=10)
    try:
        hdrs = [CLIENT_MARK] + list(headers)
        if body is not None and not any(k.lower() == "content-type" for k, _ in hdrs):
            hdrs.append(("Content-Type", "application/json"))
        if body is None and method in ("POST", "PUT"):
            hdrs.append(("Content-Length", "0"))
        s.sendall(request_bytes(method, target, hdrs, body))
        res = read_response(SockReader(s), method)
        assert res is not None, f"{method} {target}: the proxy closed without an answer\n{p.stderr_text()[-2000:]}"
        return Answer(res)
    finally:
        s.close()


def settle(p, up):
    """Proxy and daemon have acted on all that was sent: nothing more is on its way."""
    assert p.wait_idle(up.settled), f"did not settle\n{p.stderr_text()[-2000:]}"


def q(text):
    return urllib.parse.quote(text, safe="")


def query_pairs(target):
    """The query as Go's url.ParseQuery reads it, in order."""
    return urllib.parse.parse_qsl(target.partition("?")[2], keep_blank_values=True)


def filters_of(target):
    values = [v for k, v in query_pairs(target) if k == "filters"]
    assert len(values) == 1, f"one filters parameter expected in {target}"
    return json.loads(values[0])


def other_params(target):
    """The query's raw segments but the filters parameter's, in order."""
    query = target.partition("?")[2]
    return [s for s in query.split("&") if s and urllib.parse.unquote_plus(s.split("=", 1)[0]) != "filters"]


def as_sets(filters):
    """A filters document with each key's values as a set (either form)."""
    return {k: set(v) for k, v in filters.items()}


def assert_not_found(a, d, up, p, message, lookups):
    settle(p, up)
    assert a.status == 404, (a, p.stderr_text()[-2000:])
    assert a.headers.get("content-type", "").startswith("application/json"), a.headers
    assert a.message() == message, a
    assert d.forwarded() == [], f"forwarded although out of scope: {d.forwarded()}"
    assert d.lookups() == lookups


# -- lists: the labels merged into filters -------------------------------------------------

def f(doc):
    return "filters=" + q(json.dumps(doc))


LIST_ENV = dict(SCOPE, CONTAINERS="1", POST="1", NETWORKS="1", VOLUMES="1")

# (id, method, target sent, path forwarded, filters forwarded, other parameters forwarded)
MERGE = [
    ("none", "GET", "/containers/json", "/containers/json", LABEL, []),
    ("other params kept in order", "GET", "/containers/json?all=1&size=0&limit=5", "/containers/json", LABEL,
     ["all=1", "size=0", "limit=5"]),
    ("list form", "GET", "/containers/json?all=1&" + f({"status": ["running", "exited"]}), "/containers/json",
     {"label": {"autoheal=true": True}, "status": {"running": True, "exited": True}}, ["all=1"]),
    ("map form", "GET", "/containers/json?" + f({"status": {"running": True}}) + "&all=1", "/containers/json",
     {"label": {"autoheal=true": True}, "status": {"running": True}}, ["all=1"]),
    ("own label, list form", "GET", "/containers/json?" + f({"label": ["com.example=1"], "name": ["web"]}),
     "/containers/json", {"label": {"com.example=1": True, "autoheal=true": True}, "name": {"web": True}}, []),
    ("own label, map form", "GET", "/containers/json?" + f({"label": {"com.example": True}}), "/containers/json",
     {"label": {"com.example": True, "autoheal=true": True}}, []),
    ("the scope label again", "GET", "/containers/json?" + f({"label": ["autoheal=true"]}), "/containers/json",
     LABEL, []),
    ("a contradicting label ANDs", "GET", "/containers/json?" + f({"label": ["autoheal=false"]}), "/containers/json",
     {"label": {"autoheal=false": True, "autoheal=true": True}}, []),
    ("empty object", "GET", "/containers/json?" + f({}), "/containers/json", LABEL, []),
    ("other keys kept", "GET",
     "/containers/json?" + f({"ancestor": ["registry:5000/team/app:1"], "health": ["unhealthy"],
                              "label": ["név=érték"]}), "/containers/json",
     {"ancestor": {"registry:5000/team/app:1": True}, "health": {"unhealthy": True},
      "label": {"név=érték": True, "autoheal=true": True}}, []),
    ("raw JSON with + for a space", "GET", '/containers/json?filters={"label":["a=b+c"]}', "/containers/json",
     {"label": {"a=b c": True, "autoheal=true": True}}, []),
    ("version prefix kept", "GET", "/v1.41/containers/json?" + f({"status": ["running"]}) + "&all=1",
     "/v1.41/containers/json", {"label": {"autoheal=true": True}, "status": {"running": True}}, ["all=1"]),
    ("Filters is another parameter", "GET", "/containers/json?Filters=x&all=1", "/containers/json", LABEL,
     ["Filters=x", "all=1"]),
    ("a percent-encoded key is filters to Go", "GET", "/containers/json?%66ilters=" + q('{"status":["running"]}'),
     "/containers/json", {"label": {"autoheal=true": True}, "status": {"running": True}}, []),
    ("prune", "POST", "/v1.41/containers/prune?" + f({"until": ["24h"]}), "/v1.41/containers/prune",
     {"label": {"autoheal=true": True}, "until": {"24h": True}}, []),
    ("events", "GET", "/events?since=1&until=2", "/events", LABEL, ["since=1", "until=2"]),
    ("events with filters", "GET", "/v1.41/events?" + f({"type": ["container"], "event": ["die", "health_status"]}),
     "/v1.41/events", {"label": {"autoheal=true": True}, "type": {"container": True},
                       "event": {"die": True, "health_status": True}}, []),
]


@pytest.mark.parametrize("row", MERGE, ids=[r[0] for r in MERGE])
def test_list_filters_merged(fake_upstream, proxy_factory, row):
    _, method, target, path, filters, others = row
    p, d, up = start(fake_upstream, proxy_factory, LIST_ENV)
    a = ask(p, method, target)
    assert a.status in (200, 204), a
    settle(p, up)
    assert d.lookups() == []  # a list asks nothing first
    [got] = d.targets()
    assert got.partition("?")[0] == path, got
    assert filters_of(got) == filters, got
    assert other_params(got) == others, got


def test_filters_forms_read_alike(fake_upstream, proxy_factory):
    """dockerd reads both forms; what it gets from the proxy is one document, so
    the two spellings of one filter arrive as the same bytes."""
    p, d, up = start(fake_upstream, proxy_factory, LIST_ENV)
    ask(p, "GET", "/containers/json?" + f({"status": ["running"], "label": ["x=1"]}))
    ask(p, "GET", "/containers/json?" + f({"status": {"running": True}, "label": {"x=1": True}}))
    settle(p, up)
    one, two = d.targets()
    assert filters_of(one) == filters_of(two) == {"status": {"running": True},
                                                  "label": {"x=1": True, "autoheal=true": True}}


@pytest.mark.parametrize("value,labels", [
    (" autoheal=true , team=a ", {"autoheal=true", "team=a"}),  # spaces around an item dropped
    ("a=b=c", {"a=b=c"}),                                       # split at the first '='
    ("com.example.scope=ci-runner-1", {"com.example.scope=ci-runner-1"}),
])
def test_scope_label_values(fake_upstream, proxy_factory, value, labels):
    p, d, up = start(fake_upstream, proxy_factory, {"SCOPE_LABEL": value, "CONTAINERS": "1"})
    assert ask(p, "GET", "/containers/json").status == 200
    settle(p, up)
    assert filters_of(d.targets()[0]) == {"label": {x: True for x in labels}}


def test_networks_and_volumes_lists_when_scoped(fake_upstream, proxy_factory):
    env = dict(LIST_ENV, SCOPE_NETWORKS="1", SCOPE_VOLUMES="1")
    p, d, up = start(fake_upstream, proxy_factory, env)
    for method, target in [("GET", "/networks"), ("GET", "/v1.41/networks?" + f({"driver": ["bridge"]})),
                           ("POST", "/networks/prune"), ("GET", "/volumes?" + f({"dangling": ["true"]})),
                           ("POST", "/v1.41/volumes/prune?" + f({"label": ["keep=no"]}))]:
        assert ask(p, method, target).status in (200, 204), target
    settle(p, up)
    got = d.targets()
    assert [t.partition("?")[0] for t in got] == ["/networks", "/v1.41/networks", "/networks/prune", "/volumes",
                                                   "/v1.41/volumes/prune"]
    assert [filters_of(t) for t in got] == [
        LABEL, {"label": {"autoheal=true": True}, "driver": {"bridge": True}}, LABEL,
        {"label": {"autoheal=true": True}, "dangling": {"true": True}},
        {"label": {"keep=no": True, "autoheal=true": True}}]


def test_networks_and_volumes_untouched_unless_scoped(fake_upstream, proxy_factory):
    """Without SCOPE_NETWORKS / SCOPE_VOLUMES their lists and objects pass as sent
    (even filters the proxy would refuse to read), and nothing is asked first."""
    p, d, up = start(fake_upstream, proxy_factory, LIST_ENV)
    sent = ["/networks?filters=%7Bnot-json", "/volumes", "/networks/back", "/volumes/scratch",
            "/v1.41/networks?" + f({"label": ["x"]})]
    for t in sent:
        assert ask(p, "GET", t).status == 200, t
    settle(p, up)
    assert d.targets() == sent and d.lookups() == []


def test_libpod_lists_get_the_list_form(fake_upstream, proxy_factory):
    env = dict(SCOPE, LIBPOD_CONTAINERS="1", LIBPOD_EVENTS="1")
    p, d, up = start(fake_upstream, proxy_factory, env)
    sent = ["/v4.0.0/libpod/containers/json?all=true",
            "/v4.0.0/libpod/containers/json?" + f({"status": ["running"], "label": ["x=1"]}),
            "/libpod/containers/json?" + f({"status": {"running": True}}),
            "/v4.0.0/libpod/events?stream=false&" + f({"type": ["container"]})]
    for t in sent:
        assert ask(p, "GET", t).status == 200, t
    settle(p, up)
    got = d.targets()
    assert [t.partition("?")[0] for t in got] == [t.partition("?")[0] for t in sent]
    docs = [filters_of(t) for t in got]
    for doc in docs:  # libpod reads map-of-lists only
        assert all(isinstance(v, list) for v in doc.values()), doc
    assert [as_sets(doc) for doc in docs] == [
        {"label": {"autoheal=true"}}, {"label": {"autoheal=true", "x=1"}, "status": {"running"}},
        {"label": {"autoheal=true"}, "status": {"running"}}, {"label": {"autoheal=true"}, "type": {"container"}}]
    assert other_params(got[0]) == ["all=true"] and other_params(got[3]) == ["stream=false"]


# Queries the proxy cannot read one way: 400, and nothing reaches the daemon.
BAD_LISTS = [
    ("filters twice", "/containers/json?" + f({"status": ["running"]}) + "&" + f({})),
    ("filters twice, one empty", "/containers/json?filters=&" + f({"label": ["x=1"]})),
    ("filters twice, key percent-encoded", "/containers/json?" + f({}) + "&%66ilters=" + q('{"label":["x"]}')),
    ("invalid JSON", "/containers/json?filters=" + q('{"label":')),
    ("trailing bytes", "/containers/json?filters=" + q('{"status":["running"]}x')),
    ("two documents", "/containers/json?filters=" + q("{}{}")),
    ("an array", "/containers/json?filters=" + q('["label"]')),
    ("a string", "/containers/json?filters=" + q('"label=x"')),
    ("a number", "/containers/json?filters=1"),
    ("mixed forms", "/containers/json?" + f({"label": ["a=b"], "status": {"running": True}})),
    ("mixed forms, label a map", "/containers/json?" + f({"status": ["running"], "label": {"a=b": True}})),
    ("repeated key", "/containers/json?filters=" + q('{"status":["running"],"status":["exited"]}')),
    ("repeated label key", "/containers/json?filters=" + q('{"label":["autoheal=false"],"label":["x=1"]}')),
    ("value a string", "/containers/json?" + f({"label": "a=b"})),
    ("value a number", "/containers/json?" + f({"status": 1})),
    ("list of numbers", "/containers/json?" + f({"label": [1]})),
    ("nested list", "/containers/json?" + f({"label": [["a=b"]]})),
    ("map of strings", "/containers/json?" + f({"label": {"a=b": "yes"}})),
    ("invalid UTF-8", "/containers/json?filters=%7B%22label%22%3A%5B%22a%3D%FF%22%5D%7D"),
    ("';' between parameters", "/containers/json?all=1;" + f({})),
    ("';' in another parameter", "/containers/json?all=1&x=a;b"),
    ("bad escape in another parameter", "/containers/json?all=%zz"),
    ("bad escape in filters", "/containers/json?filters=%7B%zz"),
    ("truncated escape", "/containers/json?filters=%7"),
    ("prune with mixed forms", "/containers/prune?" + f({"until": ["1h"], "label": {"a": True}})),
    ("events with filters twice", "/events?" + f({}) + "&" + f({})),
    ("events with invalid JSON", "/v1.41/events?filters=%7B"),
]


@pytest.mark.parametrize("row", BAD_LISTS, ids=[r[0] for r in BAD_LISTS])
def test_unreadable_filters_are_400(fake_upstream, proxy_factory, row):
    _, target = row
    p, d, up = start(fake_upstream, proxy_factory, LIST_ENV)
    a = ask(p, "POST" if "/prune" in target else "GET", target)
    settle(p, up)
    assert a.status == 400, (a, p.stderr_text()[-1500:])
    assert a.message().startswith("socket-proxy: "), a
    assert d.seen == [], f"reached the daemon: {d.seen}"
    assert p.alive()


def test_unreadable_libpod_filters_are_400(fake_upstream, proxy_factory):
    p, d, up = start(fake_upstream, proxy_factory, dict(SCOPE, LIBPOD_CONTAINERS="1"))
    for t in ["/libpod/containers/json?" + f({"label": "x"}), "/libpod/containers/json?filters=%7B",
              "/libpod/containers/json?" + f({}) + "&" + f({})]:
        assert ask(p, "GET", t).status == 400, t
    settle(p, up)
    assert d.seen == []


FORM = ("Content-Type", "application/x-www-form-urlencoded")


@pytest.mark.parametrize("target,body,ctype", [
    ("/containers/prune?" + f({"until": ["1h"]}), b"filters=%7B%7D", FORM),
    ("/v1.41/containers/prune", b"filters=%7B%22label%22%3A%5B%22x%22%5D%7D", FORM),
    ("/containers/prune", b"filters=%7B%7D", ("Content-Type", "Application/X-WWW-Form-Urlencoded; charset=utf-8")),
    ("/commit?container=web&repo=x", b"container=db", FORM),
])
def test_form_bodies_that_dockerd_would_read_first_are_400(fake_upstream, proxy_factory, target, body, ctype):
    """dockerd's r.ParseForm reads a POST's urlencoded body before the query, and
    r.Form.Get takes the body's value: it would replace the merged filters or the
    pinned ID. Refused, nothing forwarded."""
    p, d, up = start(fake_upstream, proxy_factory, dict(LIST_ENV, COMMIT="1"))
    a = ask(p, "POST", target, body=body, headers=[ctype])
    settle(p, up)
    assert a.status == 400, a
    assert d.forwarded() == []


# Odd spellings: whatever the proxy makes of them, the daemon never reads a
# filters parameter without the scope's label (or the proxy refuses).
ODD = ["/containers/json?filters=", "/containers/json?filters", "/containers/json?&&filters=%7B%7D&&",
       "/containers/json?FILTERS=" + q('{"status":["running"]}'), "/containers/json?filters%3D=x",
       "/containers/json?fil%74ers=" + q('{"label":["x=1"]}'), "/containers/json?" + f({"label": None}),
       "/containers/json?" + f({"label": {}}), "/containers/json?" + f({"label": []}),
       "/containers/json?" + f({"": ["x"]}), "/containers/json?filters=" + q(' {"status":["running"]} \n'),
       "/containers/json?" + f({"label": {"autoheal=true": False}}), "/containers/json?filters=+%7B%7D",
       "/containers/json?" + f({"status": None}), "/containers/json?filters=%7B%7D#frag"]


@pytest.mark.parametrize("target", ODD)
def test_odd_queries_never_drop_the_label(fake_upstream, proxy_factory, target):
    p, d, up = start(fake_upstream, proxy_factory, LIST_ENV)
    a = ask(p, "GET", target)
    settle(p, up)
    if a.status == 400:
        assert d.seen == []
        return
    assert a.status == 200, a
    [got] = d.targets()
    assert "autoheal=true" in filters_of(got).get("label", {}), got


# -- one object: asked first, acted on by its full ID ------------------------------------

OBJ = dict(SCOPE, CONTAINERS="1", POST="1", EXEC="1", ALLOW_ARCHIVE="1", ALLOW_EXPORT="1", COMMIT="1")
LOOK_WEB = ["/containers/web/json"]
TAR = b"tar\x00bytes\xff"

# (method, version prefix, what follows the name, body): sent as .../containers/web<rest>,
# forwarded as .../containers/<web's full ID><rest>, after one lookup of "web"
ON_WEB = [
    ("GET", "", "/json", None), ("GET", "/v1.41", "/json?size=1", None),
    ("POST", "/v1.41", "/restart?t=5", None), ("POST", "", "/start", None), ("POST", "", "/stop?t=0", None),
    ("POST", "", "/kill?signal=SIGHUP", None), ("POST", "/v1.43", "/pause", None),
    ("GET", "", "/logs?stdout=1&stderr=1&tail=10", None), ("GET", "", "/top?ps_args=aux", None),
    ("GET", "", "/stats?stream=0", None), ("GET", "", "/changes", None), ("GET", "", "/export", None),
    ("DELETE", "", "?force=1&v=1", None), ("POST", "", "/rename?name=web2", None),
    ("POST", "", "/update", b'{"RestartPolicy":{"Name":"always"}}'),
    ("POST", "", "/wait?condition=not-running", None), ("POST", "", "/attach?stream=1&stdout=1", None),
    ("POST", "", "/resize?h=40&w=80", None), ("POST", "", "/exec", b'{"Cmd":["true"],"AttachStdout":true}'),
    ("HEAD", "", "/archive?path=%2Fetc", None), ("GET", "", "/archive?path=/etc", None),
    ("PUT", "", "/archive?path=/tmp", TAR),
]
# (method, target sent, body, lookups, target forwarded)
IN_SCOPE = [(m, f"{v}/containers/web{rest}", body, LOOK_WEB, f"{v}/containers/{WEB}{rest}")
            for m, v, rest, body in ON_WEB] + [
    # dockerd resolves a unique ID prefix and the full ID too; the lookup asks with the client's words
    ("GET", f"/containers/{WEB[:12]}/json", None, [f"/containers/{WEB[:12]}/json"], f"/containers/{WEB}/json"),
    ("POST", f"/containers/{WEB}/restart", None, [f"/containers/{WEB}/json"], f"/containers/{WEB}/restart"),
    # the router decodes the path: the name is "web"
    ("GET", "/containers/w%65b/logs", None, LOOK_WEB, f"/containers/{WEB}/logs"),
    # {name:.*} spans slashes: the container "web/db", asked with its slash encoded
    ("GET", "/containers/web/db/logs?tail=1", None, ["/containers/web%2Fdb/json"],
     f"/containers/{CONTAINERS['web/db'][0]}/logs?tail=1"),
    ("GET", "/containers/team/json", None, ["/containers/team/json"], f"/containers/{CONTAINERS['team'][0]}/json"),
]


def object_row(fake_upstream, proxy_factory, method, target, body):
    """One request under OBJ: (proxy, daemon, upstream, answer)."""
    p, d, up = start(fake_upstream, proxy_factory, OBJ)
    extra = [("Content-Type", "application/x-tar")] if body == TAR else []
    return p, d, up, ask(p, method, target, body=body, headers=extra)


@pytest.mark.parametrize("row", IN_SCOPE, ids=[f"{r[0]} {r[1][:60]}" for r in IN_SCOPE])
def test_in_scope_is_forwarded_by_full_id(fake_upstream, proxy_factory, row):
    method, target, body, lookups, forwarded = row
    p, d, up, a = object_row(fake_upstream, proxy_factory, method, target, body)
    assert a.status in (200, 201, 204), (a, p.stderr_text()[-2000:])
    settle(p, up)
    assert d.lookups() == lookups, d.targets()
    [req] = d.forwarded()
    assert (req.method, req.target) == (method, forwarded)
    assert req.body == (body or b"")


# (method, target sent, body, lookups, dockerd's message)
OUT_OF_SCOPE = [
    ("GET", "/containers/db/json", None, ["/containers/db/json"], NO_CONTAINER.format("db")),
    ("POST", "/v1.41/containers/db/restart?t=1", None, ["/containers/db/json"], NO_CONTAINER.format("db")),
    ("POST", "/containers/other/start", None, ["/containers/other/json"], NO_CONTAINER.format("other")),
    ("POST", "/containers/caps/stop", None, ["/containers/caps/json"], NO_CONTAINER.format("caps")),
    ("POST", "/containers/keyonly/kill", None, ["/containers/keyonly/json"], NO_CONTAINER.format("keyonly")),
    ("GET", "/containers/nolabels/logs", None, ["/containers/nolabels/json"], NO_CONTAINER.format("nolabels")),
    ("DELETE", "/containers/db?force=1", None, ["/containers/db/json"], NO_CONTAINER.format("db")),
    ("POST", "/containers/db/exec", b'{"Cmd":["sh"]}', ["/containers/db/json"], NO_CONTAINER.format("db")),
    ("PUT", "/containers/db/archive?path=/", TAR, ["/containers/db/json"], NO_CONTAINER.format("db")),
    ("GET", "/containers/db/export", None, ["/containers/db/json"], NO_CONTAINER.format("db")),
    ("POST", "/containers/db/rename?name=web", None, ["/containers/db/json"], NO_CONTAINER.format("db")),
    ("GET", f"/containers/{DB[:10]}/json", None, [f"/containers/{DB[:10]}/json"], NO_CONTAINER.format(DB[:10])),
    ("GET", f"/v1.41/containers/{DB}/json", None, [f"/containers/{DB}/json"], NO_CONTAINER.format(DB)),
    # missing altogether: the daemon's 404 to the lookup, the proxy's own 404 to the client
    ("GET", "/containers/missing/json", None, ["/containers/missing/json"], NO_CONTAINER.format("missing")),
    ("POST", "/containers/missing/restart", None, ["/containers/missing/json"], NO_CONTAINER.format("missing")),
    ("GET", "/containers/job/json", None, ["/containers/job/json"], NO_CONTAINER.format("job")),
]


@pytest.mark.parametrize("row", OUT_OF_SCOPE, ids=[f"{r[0]} {r[1][:60]}" for r in OUT_OF_SCOPE])
def test_out_of_scope_is_dockerds_404(fake_upstream, proxy_factory, row):
    method, target, body, lookups, message = row
    p, d, up, a = object_row(fake_upstream, proxy_factory, method, target, body)
    assert_not_found(a, d, up, p, message, lookups)
    assert p.alive()


def test_head_out_of_scope_has_no_body(fake_upstream, proxy_factory):
    """docker cp's stat (HEAD archive): the 404 is a head only, and the
    connection reads on correctly."""
    p, d, up = start(fake_upstream, proxy_factory, OBJ)
    s = p.connect(timeout=5)
    s.sendall(request_bytes("HEAD", "/containers/db/archive?path=/", [CLIENT_MARK]) +
              request_bytes("GET", "/containers/web/json", [CLIENT_MARK]))
    r = SockReader(s)
    first = read_response(r, "HEAD")
    second = read_response(r)
    s.close()
    assert first.status == 404 and first.body == b"", first
    assert second.status == 200 and json.loads(second.body)["Id"] == WEB, second
    settle(p, up)
    assert d.targets() == [f"/containers/{WEB}/json"]


def test_multiple_labels_all_needed(fake_upstream, proxy_factory):
    p, d, up = start(fake_upstream, proxy_factory, dict(OBJ, SCOPE_LABEL="autoheal=true,team=a"))
    assert ask(p, "GET", "/containers/team/json").status == 200
    a = ask(p, "GET", "/containers/web/json")  # autoheal=true but no team label
    assert a.status == 404 and a.message() == NO_CONTAINER.format("web"), a
    settle(p, up)
    assert d.targets() == [f"/containers/{CONTAINERS['team'][0]}/json"]
    assert ask(p, "GET", "/containers/json").status == 200
    settle(p, up)
    assert filters_of(d.targets()[-1]) == {"label": {"autoheal=true": True, "team=a": True}}


def test_the_lookup_is_a_question_of_its_own(fake_upstream, proxy_factory):
    """GET on the proxy's own connection, none of the client's headers; the action goes on the client's upstream connection; the
    configured API_KEY is on both."""
    p, d, up = start(fake_upstream, proxy_factory, dict(OBJ, API_KEY="k3y"))
    a = ask(p, "POST", "/containers/web/restart", headers=[("X-Registry-Auth", "c2VjcmV0"), ("Cookie", "a=b")])
    assert a.status == 204, a
    settle(p, up)
    lookup, action = d.seen
    assert is_lookup(lookup) and (lookup.method, lookup.target) == ("GET", "/containers/web/json")
    assert "host" in lookup.headers
    assert "x-registry-auth" not in lookup.headers and "cookie" not in lookup.headers, lookup.head
    assert lookup.headers.get("x-api-key") == "k3y" and action.headers.get("x-api-key") == "k3y"
    assert lookup.conn_index != action.conn_index
    assert action.headers.get("x-registry-auth") == "c2VjcmV0"  # the client's request keeps its own headers


def test_rename_between_check_and_action(fake_upstream, proxy_factory):
    """The daemon answers the inspect of "web" with web's ID, then (before the
    action arrives) web is renamed away and the unlabelled db takes its name:
    the action still goes to the container that was checked, by its ID."""
    d = Daemon()

    def swap(req):
        if req.target == "/containers/web/json":
            with d.lock:
                d.containers["web"]["Name"], d.containers["db"]["Name"] = "/web-old", "/web"

    d.after_lookup = swap
    p, d, up = start(fake_upstream, proxy_factory, OBJ, daemon=d)
    a = ask(p, "POST", "/v1.41/containers/web/restart?t=0")
    assert a.status == 204, a
    settle(p, up)
    assert d.targets() == [f"/v1.41/containers/{WEB}/restart?t=0"]
    assert not any("/containers/web/" in t for t in d.targets())
    # asked again, "web" is now db: out of scope
    d.after_lookup = None
    a = ask(p, "POST", "/containers/web/restart")
    assert a.status == 404 and a.message() == NO_CONTAINER.format("web"), a
    settle(p, up)
    assert d.targets() == [f"/v1.41/containers/{WEB}/restart?t=0"]


def test_exec_checks_its_container(fake_upstream, proxy_factory):
    p, d, up = start(fake_upstream, proxy_factory, OBJ)
    rows = [("POST", f"/v1.41/exec/{EXEC_WEB}/start", b'{"Detach":false,"Tty":false}'),
            ("GET", f"/exec/{EXEC_WEB}/json", None),
            ("POST", f"/exec/{EXEC_WEB}/resize?h=10&w=20", None)]
    for method, target, body in rows:
        d.seen.clear()
        a = ask(p, method, target, body=body)
        assert a.status == 200, (target, a)
        settle(p, up)
        assert d.lookups() == [f"/exec/{EXEC_WEB}/json", f"/containers/{WEB}/json"], target
        [req] = d.forwarded()
        assert req.target == target and req.body == (body or b""), req  # the exec keeps its own ID
    for exec_id in [EXEC_DB, hexid("no-such-exec")]:
        d.seen.clear()
        a = ask(p, "POST", f"/exec/{exec_id}/start", body=b'{"Detach":true}')
        settle(p, up)
        assert a.status == 404 and a.message() == NO_EXEC.format(exec_id), a
        assert d.forwarded() == []
        assert d.lookups()[0] == f"/exec/{exec_id}/json"


@pytest.mark.parametrize("target,lookup,forwarded", [
    ("/commit?container=web&repo=img&tag=1", "/containers/web/json", f"/commit?container={WEB}&repo=img&tag=1"),
    ("/v1.41/commit?repo=img&container=web&pause=1", "/containers/web/json",
     f"/v1.41/commit?repo=img&container={WEB}&pause=1"),
    ("/commit?container=w%65b", "/containers/web/json", f"/commit?container={WEB}"),
])
def test_commit_names_its_container_in_the_query(fake_upstream, proxy_factory, target, lookup, forwarded):
    p, d, up = start(fake_upstream, proxy_factory, OBJ)
    body = b'{"Labels":{"x":"y"}}'
    a = ask(p, "POST", target, body=body)
    assert a.status == 201, a
    settle(p, up)
    assert d.lookups() == [lookup]
    [req] = d.forwarded()
    assert req.target == forwarded and req.body == body


def test_commit_out_of_scope_or_unreadable(fake_upstream, proxy_factory):
    p, d, up = start(fake_upstream, proxy_factory, OBJ)
    a = ask(p, "POST", "/commit?container=db&repo=x")
    assert_not_found(a, d, up, p, NO_CONTAINER.format("db"), ["/containers/db/json"])
    for target in ["/commit?container=web&container=db", "/commit?container=%zz", "/commit?container=web;x=1"]:
        a = ask(p, "POST", target)
        assert a.status == 400, (target, a)
    settle(p, up)
    assert d.forwarded() == []


NET = dict(SCOPE, SCOPE_NETWORKS="1", NETWORKS="1", CONTAINERS="1", POST="1")


def test_networks_in_scope(fake_upstream, proxy_factory):
    front = NETWORKS["front"][0]
    p, d, up = start(fake_upstream, proxy_factory, NET)
    rows = [("GET", "/networks/front", None, ["/networks/front"], f"/networks/{front}"),
            ("GET", "/v1.41/networks/front?verbose=true", None, ["/networks/front"],
             f"/v1.41/networks/{front}?verbose=true"),
            ("GET", f"/networks/{front[:12]}", None, [f"/networks/{front[:12]}"], f"/networks/{front}"),
            ("DELETE", "/networks/front", None, ["/networks/front"], f"/networks/{front}"),
            ("POST", "/networks/front/connect", b'{"Container":"web"}', None, f"/networks/{front}/connect")]
    for method, target, body, lookups, forwarded in rows:
        d.seen.clear()
        a = ask(p, method, target, body=body)
        assert a.status in (200, 204), (target, a)
        settle(p, up)
        if lookups is None:  # the network and the body's container, in either order
            assert sorted(d.lookups()) == ["/containers/web/json", "/networks/front"], d.lookups()
        else:
            assert d.lookups() == lookups, target
        [req] = d.forwarded()
        assert (req.method, req.target, req.body) == (method, forwarded, body or b""), req


def test_networks_out_of_scope(fake_upstream, proxy_factory):
    p, d, up = start(fake_upstream, proxy_factory, NET)
    for method, target in [("GET", "/networks/back"), ("DELETE", "/networks/back"), ("GET", "/networks/host"),
                           ("GET", "/networks/nosuch")]:
        d.seen.clear()
        a = ask(p, method, target)
        name = target.rsplit("/", 1)[1]
        assert_not_found(a, d, up, p, NO_NETWORK.format(name), [f"/networks/{name}"])
    d.seen.clear()
    a = ask(p, "POST", "/networks/back/connect", body=b'{"Container":"web"}')
    settle(p, up)
    assert a.status == 404 and a.message() == NO_NETWORK.format("back"), a
    assert d.forwarded() == []
    # a network in scope, a container that is not
    d.seen.clear()
    a = ask(p, "POST", "/networks/front/disconnect", body=b'{"Container":"db","Force":true}')
    settle(p, up)
    assert a.status == 404 and a.message() == NO_CONTAINER.format("db"), a
    assert d.forwarded() == []


def test_network_connect_checks_the_container_without_scope_networks(fake_upstream, proxy_factory):
    """Containers are always scoped: connecting one out of scope to any network
    is refused even when networks themselves are not scoped."""
    p, d, up = start(fake_upstream, proxy_factory, dict(SCOPE, NETWORKS="1", CONTAINERS="1", POST="1"))
    a = ask(p, "POST", "/networks/back/connect", body=b'{"Container":"db"}')
    settle(p, up)
    assert a.status == 404 and a.message() == NO_CONTAINER.format("db"), a
    assert d.forwarded() == [] and d.lookups() == ["/containers/db/json"]
    body = b'{"container":"web","EndpointConfig":{"Aliases":["w"]}}'  # Go folds the field name
    d.seen.clear()
    assert ask(p, "POST", "/networks/back/connect", body=body).status == 200
    settle(p, up)
    assert d.lookups() == ["/containers/web/json"]
    [req] = d.forwarded()
    assert req.target == "/networks/back/connect" and req.body == body
    d.seen.clear()
    assert ask(p, "POST", "/networks/back/connect", body=b'{"Container":"other"}').status == 404


VOL = dict(SCOPE, SCOPE_VOLUMES="1", VOLUMES="1", CONTAINERS="1", POST="1")


def test_volumes_scoped(fake_upstream, proxy_factory):
    p, d, up = start(fake_upstream, proxy_factory, VOL)
    for method, target, forwarded in [("GET", "/volumes/data", "/volumes/data"),
                                      ("DELETE", "/v1.41/volumes/data?force=1", "/v1.41/volumes/data?force=1")]:
        d.seen.clear()
        a = ask(p, method, target)
        assert a.status in (200, 204), a
        settle(p, up)
        assert d.lookups() == ["/volumes/data"] and d.targets() == [forwarded]
    for method, target, name in [("GET", "/volumes/scratch", "scratch"), ("DELETE", "/volumes/scratch", "scratch"),
                                 ("GET", "/volumes/nosuch", "nosuch")]:
        d.seen.clear()
        assert_not_found(ask(p, method, target), d, up, p, NO_VOLUME.format(name), [f"/volumes/{name}"])


def test_lookup_answers_that_cannot_be_read_are_502(fake_upstream, proxy_factory):
    """The daemon fails the question, or answers what dockerd never writes:
    nothing is forwarded, the client gets 502, the proxy goes on serving."""
    answers = [
        response(500, b'{"message":"boom"}'),
        response(200, b"not json"),
        response(200, b"[]"),
        response(200, b'{"Name":"/web","Config":{"Labels":{"autoheal":"true"}}}'),  # no Id
        response(200, b'{"Id":"' + WEB.encode() + b'","Config":{"Labels":{"autoheal":"true"}}'),  # cut JSON
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"Id\":",  # cut short
        b"garbage\r\n\r\n",
        None,  # closed without a word
    ]
    for answer in answers:
        d = Daemon()
        d.lookup_hook = lambda req, answer=answer: answer
        # An answer cut short on a kept-alive connection ends at the lookup's deadline
        # (the head timeout): well inside the client's 10 s, even in the ASan build.
        p, d, up = start(fake_upstream, proxy_factory, dict(OBJ, SOCKET_PROXY_HEAD_TIMEOUT="2s"), daemon=d)
        a = ask(p, "POST", "/containers/web/restart")
        settle(p, up)
        assert a.status == 502, (answer, a)
        assert d.forwarded() == [], answer
        assert d.lookups() == ["/containers/web/json"]
        d.lookup_hook = None
        assert ask(p, "POST", "/containers/web/restart").status == 204
        p.stop()


def test_lookup_answer_chunked_and_large(fake_upstream, proxy_factory):
    """dockerd frames a large inspect answer chunked: read whole all the same."""
    doc = {"Id": WEB, "Name": "/web", "Config": {"Labels": {"autoheal": "true"},
                                                "Env": ["PAD=" + "x" * 200000]}, "State": {}}
    raw = json.dumps(doc).encode()
    parts = [raw[i:i + 4096] for i in range(0, len(raw), 4096)]
    d = Daemon()
    d.lookup_hook = lambda req: (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                                 b"\r\n" + b"".join(b"%x\r\n" % len(x) + x + b"\r\n" for x in parts) + b"0\r\n\r\n")
    p, d, up = start(fake_upstream, proxy_factory, OBJ, daemon=d)
    assert ask(p, "POST", "/containers/web/restart").status == 204
    settle(p, up)
    assert d.targets() == [f"/containers/{WEB}/restart"]


def test_client_gone_while_the_daemon_is_asked(fake_upstream, proxy_factory):
    """The client leaves before the inspect is answered: nothing is forwarded
    (no callback into a freed connection; the ASan build watches)."""
    gate = threading.Event()
    d = Daemon()

    def slow(req):
        gate.wait(5)
        return d.answer(req)

    d.lookup_hook = slow
    p, d, up = start(fake_upstream, proxy_factory, OBJ, daemon=d)
    s = p.connect(timeout=5)
    s.sendall(request_bytes("POST", "/containers/web/restart", [CLIENT_MARK, ("Content-Length", "0")]))
    assert wait_for(lambda: d.lookups() == ["/containers/web/json"])
    s.close()
    assert p.wait_idle()
    gate.set()
    settle(p, up)
    assert d.forwarded() == []
    d.lookup_hook = None
    assert ask(p, "GET", "/containers/web/json").status == 200
    assert p.alive()


def test_pipelined_requests_are_each_scoped(fake_upstream, proxy_factory):
    """One connection, four requests sent at once: each is checked and
    rewritten on its own, whatever came before it."""
    p, d, up = start(fake_upstream, proxy_factory, OBJ)
    s = p.connect(timeout=5)
    s.sendall(request_bytes("GET", "/containers/web/json", [CLIENT_MARK]) +
              request_bytes("POST", "/containers/db/restart", [CLIENT_MARK, ("Content-Length", "0")]) +
              request_bytes("GET", "/containers/json?all=1", [CLIENT_MARK]) +
              request_bytes("POST", "/v1.41/containers/web/restart", [CLIENT_MARK, ("Content-Length", "0")]) +
              request_bytes("GET", "/containers/db/logs", [CLIENT_MARK]))
    r = SockReader(s)
    answers = [read_response(r) for _ in range(5)]
    s.close()
    assert [a.status for a in answers] == [200, 404, 200, 204, 404], answers
    assert json.loads(answers[1].body) == {"message": NO_CONTAINER.format("db")}
    settle(p, up)
    got = d.targets()
    assert got[0] == f"/containers/{WEB}/json" and got[2] == f"/v1.41/containers/{WEB}/restart", got
    assert filters_of(got[1]) == LABEL and other_params(got[1]) == ["all=1"], got
    assert len(got) == 3


def test_access_log_shows_the_full_id(fake_upstream, proxy_factory):
    p, d, up = start(fake_upstream, proxy_factory, dict(OBJ, LOG_FORMAT="json"))
    assert ask(p, "POST", "/v1.41/containers/web/restart?t=3").status == 204
    settle(p, up)

    def entries():
        with open(p.stderr_path, "rb") as fh:
            lines = [x for x in fh.read().split(b"\n") if x.startswith(b"{")]
        return [e for e in map(json.loads, lines) if "target" in e]

    assert wait_for(lambda: entries())
    [e] = entries()
    assert e["target"] == f"/v1.41/containers/{WEB}/restart?t=3" and e["status"] == 204, e


# -- creates: references in scope, SCOPE_OWN labels ------------------------------------------

OWN = dict(SCOPE, SCOPE_OWN="1", CONTAINERS="1", POST="1")
BIG = b"12345678901234567890"  # past 2^64: a double or an int64 would not keep it


def go_labels(body):
    """The Labels dockerd's decoder ends up with: every member Go folds to
    "Labels", in order; an object is merged into the map it has, null empties it."""
    labels = {}
    for key, value in json.loads(body, object_pairs_hook=list):
        if key.lower() == "labels":
            if value is None:
                labels = {}
            else:
                labels.update(dict(value))
    return labels


def create(p, body, query=""):
    return ask(p, "POST", "/v1.41/containers/create" + query, body=body)


def assert_labels_appended(sent, got, labels):
    """got is sent with one member inserted before sent's last '}': every byte of
    sent kept, and the member gives the labels."""
    i = sent.rindex(b"}")
    assert got.startswith(sent[:i]) and got.endswith(sent[i:]), got
    inserted = got[i:len(got) - (len(sent) - i)].strip()
    assert inserted.startswith(b","), got
    member = json.loads(b"{" + inserted[1:] + b"}", object_pairs_hook=list)
    assert len(member) == 1 and member[0][0] == "Labels" and dict(member[0][1]) == labels, inserted


def test_own_create_gets_the_labels(fake_upstream, proxy_factory):
    p, d, up = start(fake_upstream, proxy_factory, OWN)
    body = (b'{"Image":"busybox","Cmd":["true"],"HostConfig":{"Memory":' + BIG +
            b',"NetworkMode":"none"},"Env":["A=\\u00e9"]}')
    a = create(p, body, "?name=job-1")
    assert a.status == 201, a
    settle(p, up)
    [req] = d.forwarded()
    assert req.target == "/v1.41/containers/create?name=job-1"
    assert_labels_appended(body, req.body, {"autoheal": "true"})
    assert BIG in req.body and b'"A=\\u00e9"' in req.body
    assert req.headers["content-length"] == str(len(req.body))
    assert go_labels(req.body) == {"autoheal": "true"}
    assert d.lookups() == []


@pytest.mark.parametrize("body,labels", [
    (b'{"Image":"busybox","Labels":{"app":"x"}}', {"app": "x", "autoheal": "true"}),
    (b'{"Image":"busybox","Labels":{"autoheal":"true"}}', {"autoheal": "true"}),
    (b'{"Image":"busybox","Labels":null}', {"autoheal": "true"}),
    (b'{ "Image" : "busybox" ,\n "labels" : { "app" : "y" } }\n', {"app": "y", "autoheal": "true"}),
    (b'{"Image":"busybox","Labels":{}}', {"autoheal": "true"}),
])
def test_own_create_merges_with_the_clients_labels(fake_upstream, proxy_factory, body, labels):
    p, d, up = start(fake_upstream, proxy_factory, OWN)
    assert create(p, body).status == 201
    settle(p, up)
    [req] = d.forwarded()
    assert_labels_appended(body, req.body, {"autoheal": "true"})
    assert go_labels(req.body) == labels


@pytest.mark.parametrize("body", [
    b'{"Image":"busybox","Labels":{"autoheal":"false"}}',
    b'{"Image":"busybox","Labels":{"autoheal":""}}',
    b'{"Image":"busybox","labels":{"autoheal":"no"}}',
    b'{"Image":"busybox","LABELS":{"app":"x","autoheal":"maybe"}}',
])
def test_own_create_with_another_value_is_403(fake_upstream, proxy_factory, body):
    p, d, up = start(fake_upstream, proxy_factory, OWN)
    a = create(p, body)
    settle(p, up)
    assert a.status == 403, a
    assert a.message().startswith("socket-proxy: ") and "autoheal" in a.message(), a
    assert d.seen == []


def test_own_create_with_labels_twice(fake_upstream, proxy_factory):
    """Two members Go folds to Labels, the second giving the scope key another
    value: refused, either as the conflict (403) or as a field named twice (400)."""
    p, d, up = start(fake_upstream, proxy_factory, OWN)
    a = create(p, b'{"Image":"busybox","Labels":{"autoheal":"true"},"labels":{"autoheal":"false"}}')
    settle(p, up)
    assert a.status in (400, 403), a
    assert d.seen == []


def test_own_create_chunked(fake_upstream, proxy_factory):
    p, d, up = start(fake_upstream, proxy_factory, OWN)
    body = b'{"Image":"busybox","Cmd":["sh","-c","echo hi"],"StopTimeout":' + BIG + b'}'
    chunks = b"".join(b"%x\r\n" % len(body[i:i + 7]) + body[i:i + 7] + b"\r\n" for i in range(0, len(body), 7))
    s = p.connect(timeout=5)
    s.sendall(b"POST /containers/create?name=c HTTP/1.1\r\nHost: d\r\nX-Test-Client: 1\r\n"
              b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n" +
              request_bytes("GET", "/containers/web/json", [CLIENT_MARK]))
    r = SockReader(s)
    first, second = read_response(r), read_response(r)
    s.close()
    assert first.status == 201 and second.status == 200, (first, second)
    settle(p, up)
    req = d.forwarded()[0]
    assert "transfer-encoding" not in req.headers and req.headers["content-length"] == str(len(req.body))
    assert_labels_appended(body, req.body, {"autoheal": "true"})
    assert BIG in req.body
    assert d.targets()[1] == f"/containers/{WEB}/json"


def test_create_without_scope_own_is_forwarded_as_sent(fake_upstream, proxy_factory):
    p, d, up = start(fake_upstream, proxy_factory, dict(SCOPE, CONTAINERS="1", POST="1"))
    body = b'{"Image":"busybox","Labels":{"autoheal":"false"},"HostConfig":{"Memory":' + BIG + b'}}'
    assert create(p, body).status == 201
    settle(p, up)
    [req] = d.forwarded()
    assert req.body == body


REF_ENV = dict(OWN, ALLOW_HOST_NAMESPACES="1", ALLOW_BINDS="/")  # the body judge's own switches open

# (body, lookups, 404 message or None when forwarded)
REFS = [
    (b'{"Image":"b","HostConfig":{"VolumesFrom":["web:ro"]}}', ["/containers/web/json"], None),
    (b'{"Image":"b","HostConfig":{"VolumesFrom":["db"]}}', ["/containers/db/json"], NO_CONTAINER.format("db")),
    (b'{"Image":"b","HostConfig":{"VolumesFrom":["web","db:rw"]}}', None, NO_CONTAINER.format("db")),
    (b'{"Image":"b","HostConfig":{"Links":["web:alias"]}}', ["/containers/web/json"], None),
    (b'{"Image":"b","HostConfig":{"Links":["db:alias"]}}', ["/containers/db/json"], NO_CONTAINER.format("db")),
    (b'{"Image":"b","HostConfig":{"NetworkMode":"container:web"}}', ["/containers/web/json"], None),
    (b'{"Image":"b","HostConfig":{"NetworkMode":"container:db"}}', ["/containers/db/json"], NO_CONTAINER.format("db")),
    (b'{"Image":"b","HostConfig":{"PidMode":"container:other"}}', ["/containers/other/json"],
     NO_CONTAINER.format("other")),
    (b'{"Image":"b","HostConfig":{"IpcMode":"container:missing"}}', ["/containers/missing/json"],
     NO_CONTAINER.format("missing")),
    (b'{"Image":"b","NetworkingConfig":{"EndpointsConfig":{"front":{"Links":["db:x"]}}}}', ["/containers/db/json"],
     NO_CONTAINER.format("db")),
    # read as Go reads it: field names fold, the deprecated top-level HostConfig fields count
    (b'{"Image":"b","hostconfig":{"volumesfrom":["db"]}}', ["/containers/db/json"], NO_CONTAINER.format("db")),
    (b'{"Image":"b","VolumesFrom":["db"]}', ["/containers/db/json"], NO_CONTAINER.format("db")),
]


@pytest.mark.parametrize("row", REFS, ids=[r[0].decode()[12:70] for r in REFS])
def test_create_references_must_be_in_scope(fake_upstream, proxy_factory, row):
    body, lookups, message = row
    p, d, up = start(fake_upstream, proxy_factory, REF_ENV)
    a = create(p, body)
    settle(p, up)
    if lookups is not None:
        assert sorted(d.lookups()) == sorted(lookups)
    if message:
        assert a.status == 404 and a.message() == message, a
        assert d.forwarded() == []
    else:
        assert a.status == 201, a
        [req] = d.forwarded()
        assert_labels_appended(body, req.body, {"autoheal": "true"})


def test_start_body_references_are_checked_too(fake_upstream, proxy_factory):
    """A start with a HostConfig body (what dockerd applied below API 1.24): the
    container the path names is in scope, the one the body names is not."""
    p, d, up = start(fake_upstream, proxy_factory, dict(REF_ENV, SCOPE_OWN="0"))
    a = ask(p, "POST", "/v1.24/containers/web/start", body=b'{"VolumesFrom":["db"]}')
    settle(p, up)
    assert a.status == 404 and a.message() == NO_CONTAINER.format("db"), a
    assert d.forwarded() == []
    assert sorted(d.lookups()) == ["/containers/db/json", "/containers/web/json"]


def test_create_with_too_many_references_is_403(fake_upstream, proxy_factory):
    body = json.dumps({"Image": "b", "HostConfig": {"Links": [f"web{i}:a{i}" for i in range(17)]}}).encode()
    p, d, up = start(fake_upstream, proxy_factory, REF_ENV)
    a = create(p, body)
    settle(p, up)
    assert a.status == 403, a
    assert d.forwarded() == []


@pytest.mark.parametrize("body,lookups,message", [
    (b'{"Image":"b","HostConfig":{"Binds":["data:/d:ro"]}}', ["/volumes/data"], None),
    (b'{"Image":"b","HostConfig":{"Binds":["scratch:/d"]}}', ["/volumes/scratch"], NO_VOLUME.format("scratch")),
    (b'{"Image":"b","HostConfig":{"Binds":["newvol:/d"]}}', ["/volumes/newvol"], NO_VOLUME.format("newvol")),
    (b'{"Image":"b","HostConfig":{"Mounts":[{"Type":"volume","Source":"scratch","Target":"/d"}]}}',
     ["/volumes/scratch"], NO_VOLUME.format("scratch")),
    (b'{"Image":"b","HostConfig":{"Mounts":[{"Type":"volume","Source":"data","Target":"/d"}]}}',
     ["/volumes/data"], None),
    (b'{"Image":"b","HostConfig":{"Binds":["/srv/x:/d"],"Mounts":[{"Type":"tmpfs","Target":"/t"}]}}', [], None),
])
def test_create_volumes_must_be_in_scope(fake_upstream, proxy_factory, body, lookups, message):
    p, d, up = start(fake_upstream, proxy_factory, dict(VOL, ALLOW_BINDS="/srv"))
    a = create(p, body)
    settle(p, up)
    assert d.lookups() == lookups
    if message:
        assert a.status == 404 and a.message() == message, a
        assert d.forwarded() == []
    else:
        assert a.status == 201, a
        assert [r.body for r in d.forwarded()] == [body]


def test_create_volumes_unchecked_without_scope_volumes(fake_upstream, proxy_factory):
    p, d, up = start(fake_upstream, proxy_factory, dict(SCOPE, CONTAINERS="1", POST="1", VOLUMES="1"))
    body = b'{"Image":"b","HostConfig":{"Binds":["scratch:/d"]}}'
    assert create(p, body).status == 201
    settle(p, up)
    assert d.lookups() == [] and [r.body for r in d.forwarded()] == [body]


def test_own_network_and_volume_creates(fake_upstream, proxy_factory):
    env = dict(OWN, SCOPE_NETWORKS="1", SCOPE_VOLUMES="1", NETWORKS="1", VOLUMES="1")
    p, d, up = start(fake_upstream, proxy_factory, env)
    for target, body in [("/v1.41/networks/create", b'{"Name":"n1","Driver":"bridge","Labels":{"x":"1"}}'),
                         ("/volumes/create", b'{"Name":"v1","Driver":"local"}')]:
        d.seen.clear()
        assert ask(p, "POST", target, body=body).status == 201
        settle(p, up)
        [req] = d.forwarded()
        assert req.target == target
        assert_labels_appended(body, req.body, {"autoheal": "true"})
    for target in ["/networks/create", "/volumes/create"]:
        d.seen.clear()
        a = ask(p, "POST", target, body=b'{"Name":"x","Labels":{"autoheal":"false"}}')
        settle(p, up)
        assert a.status == 403 and d.seen == [], (target, a)


# -- refused, and unscoped profiles -----------------------------------------------------------

@pytest.mark.parametrize("method,target,env", [
    ("GET", "/system/df", {"SYSTEM": "1"}),
    ("GET", "/v1.41/system/df?type=container", {"SYSTEM": "1"}),
    ("GET", "/libpod/pods/json", {"LIBPOD_PODS": "1"}),
    ("POST", "/libpod/pods/create", {"LIBPOD_PODS": "1", "POST": "1"}),
    ("POST", "/v4.0.0/libpod/play/kube", {"LIBPOD_PLAY": "1", "POST": "1", "ALLOW_PRIVILEGED": "1"}),
    ("GET", "/v4.0.0/libpod/generate/web/systemd", {"LIBPOD_GENERATE": "1"}),
    ("POST", "/v4.0.0/libpod/containers/create", {"LIBPOD_CONTAINERS": "1", "POST": "1"}),
])
def test_unnarrowable_routes_are_403(fake_upstream, proxy_factory, method, target, env):
    p, d, up = start(fake_upstream, proxy_factory, dict(SCOPE, **env))
    a = ask(p, method, target, body=b'{"name":"x","image":"busybox"}' if method == "POST" else None)
    settle(p, up)
    assert a.status == 403, a
    msg = a.message()
    assert msg.startswith("socket-proxy: ") and ("autoheal=true" in msg or "SCOPE_LABEL" in msg), msg
    assert d.seen == []
    # the same without a scope is granted by the same variables
    p.stop()
    p, d, up = start(fake_upstream, proxy_factory, env)
    a = ask(p, method, target, body=b'{"name":"x","image":"busybox"}' if method == "POST" else None)
    assert a.status not in (403, 404), a


def test_unscoped_profile_is_untouched(fake_upstream, proxy_factory):
    """No SCOPE_LABEL: no lookups, targets and bodies byte for byte, even the
    ones a scope would refuse or rewrite."""
    env = dict(CONTAINERS="1", POST="1", EXEC="1", COMMIT="1", SYSTEM="1", NETWORKS="1", VOLUMES="1",
               SCOPE_OWN="0", SCOPE_NETWORKS="0")
    p, d, up = start(fake_upstream, proxy_factory, env)
    rows = [("GET", "/containers/json?" + f({"label": ["a"], "status": {"running": True}}) + "&filters=x", None),
            ("GET", "/containers/db/json", None), ("POST", "/containers/web/restart", None),
            ("POST", f"/exec/{EXEC_DB}/start", b'{"Detach":true}'), ("POST", "/commit?container=db&container=x", None),
            ("GET", "/system/df", None), ("GET", "/networks/back", None),
            ("POST", "/containers/create", b'{"Image":"b","Labels":{"autoheal":"false"},"X":' + BIG + b'}')]
    for method, target, body in rows:
        assert ask(p, method, target, body=body).status < 300, target
    settle(p, up)
    assert d.lookups() == []
    assert [(r.method, r.target, r.body) for r in d.forwarded()] == [(m, t, b or b"") for m, t, b in rows]


def profile_view(p, name):
    v = copy.copy(p)
    v.unix = os.path.join(p.env["SOCKET_PROXY_VOLUME"], name, "docker.sock")
    v.tcp = None
    assert wait_for(lambda: os.path.exists(v.unix)), p.stderr_text()
    return v


def test_two_profiles_two_scopes(fake_upstream, proxy_factory):
    """heal (autoheal=true, restarts) and ci (ci=job1, creates that get it) on
    one proxy; the default socket is unscoped."""
    env = {"SOCKET_PROXY_PROFILES": "heal,ci", "CONTAINERS": "1",
           "HEAL__SCOPE_LABEL": "autoheal=true", "HEAL__CONTAINERS": "1", "HEAL__ALLOW_RESTARTS": "1",
           "CI__SCOPE_LABEL": "ci=job1", "CI__SCOPE_OWN": "1", "CI__CONTAINERS": "1", "CI__POST": "1"}
    p, d, up = start(fake_upstream, proxy_factory, env)
    heal, ci = profile_view(p, "heal"), profile_view(p, "ci")
    job = CONTAINERS["job"][0]

    assert ask(heal, "POST", "/containers/web/restart").status == 204
    assert ask(heal, "POST", "/containers/job/restart").message() == NO_CONTAINER.format("job")
    assert ask(ci, "GET", "/containers/job/json").status == 200
    assert ask(ci, "DELETE", "/containers/web").message() == NO_CONTAINER.format("web")
    assert ask(p, "GET", "/containers/db/json").status == 200
    for v in (heal, ci, p):
        assert ask(v, "GET", "/containers/json?all=1").status == 200
    assert ask(ci, "POST", "/containers/create", body=b'{"Image":"b"}').status == 201
    settle(p, up)
    got = d.targets()
    assert got[:3] == [f"/containers/{WEB}/restart", f"/containers/{job}/json", "/containers/db/json"], got
    assert filters_of(got[3]) == LABEL
    assert filters_of(got[4]) == {"label": {"ci=job1": True}}
    assert got[5] == "/containers/json?all=1"
    assert go_labels(d.forwarded()[6].body) == {"ci": "job1"}


# -- configuration ------------------------------------------------------------------------------

BAD_CONFIG = [
    ({"SCOPE_LABEL": "novalue"}, "SCOPE_LABEL"),
    ({"SCOPE_LABEL": "=x"}, "SCOPE_LABEL"),
    ({"SCOPE_LABEL": "a=1,a=2"}, "SCOPE_LABEL"),
    ({"SCOPE_LABEL": "a=1,b"}, "SCOPE_LABEL"),
    # podman's label filter reads "key=" as any value and a '*' in a key as a pattern
    ({"SCOPE_LABEL": "team="}, "SCOPE_LABEL"),
    ({"SCOPE_LABEL": "team*=a"}, "SCOPE_LABEL"),
    ({"SCOPE_LABEL": "a=x\x01y"}, "SCOPE_LABEL"),
    ({"SCOPE_LABEL": ",".join(f"k{i}=v" for i in range(9))}, "SCOPE_LABEL"),
    ({"SCOPE_LABEL": "k=" + "v" * 300}, "SCOPE_LABEL"),
    ({"SCOPE_LABEL": "autoheal=true", "SCOPE_OWN": "maybe"}, "SCOPE_OWN"),
    ({"SCOPE_LABEL": "autoheal=true", "SCOPE_NETWORKS": "2"}, "SCOPE_NETWORKS"),
    ({"SCOPE_LABEL": "autoheal=true", "SCOPE_VOLUMES": "y"}, "SCOPE_VOLUMES"),
    ({"SCOPE_OWN": "1"}, "SCOPE_OWN"),
    ({"SCOPE_OWN": "1", "SCOPE_LABEL": ""}, "SCOPE_OWN"),
    ({"SCOPE_NETWORKS": "1"}, "SCOPE_NETWORKS"),
    ({"SCOPE_VOLUMES": "true"}, "SCOPE_VOLUMES"),
    ({"SOCKET_PROXY_PROFILES": "heal", "HEAL__SCOPE_LABEL": "novalue"}, "HEAL__SCOPE_LABEL"),
    ({"SOCKET_PROXY_PROFILES": "heal", "SCOPE_LABEL": "a=b", "HEAL__SCOPE_OWN": "1"}, "HEAL__SCOPE_OWN"),
]


@pytest.mark.parametrize("env,var", BAD_CONFIG, ids=[repr(e)[:60] for e, _ in BAD_CONFIG])
def test_bad_scope_configuration_is_one_line(proxy_bin, tmp_path, env, var):
    full = {"PATH": "/usr/bin:/bin", "SOCKET_PROXY_VOLUME": str(tmp_path), "SOCKET_PROXY_LISTEN": "off",
            "SOCKET_PROXY_UID": "0", "SOCKET_PROXY_GID": "0", "SOCKET_PATH": "/nonexistent.sock", **proxy_bin.env,
            **env}
    try:
        r = subprocess.run([proxy_bin.path], env=full, capture_output=True, text=True, timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"started with {env!r}: the value was accepted")
    assert r.returncode not in (0, 66) and r.returncode > 0, (r.returncode, r.stderr)
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    assert var in lines[0], lines[0]
    assert r.stdout == ""


def test_scope_switches_off_need_no_label(fake_upstream, proxy_factory):
    p, d, up = start(fake_upstream, proxy_factory, {"SCOPE_OWN": "0", "SCOPE_NETWORKS": "false", "SCOPE_VOLUMES": "no",
                                                    "SCOPE_LABEL": "", "CONTAINERS": "1"})
    assert ask(p, "GET", "/containers/json?filters=x").status == 200
    settle(p, up)
    assert d.targets() == ["/containers/json?filters=x"]

"""Response redaction (issue 11) in the connection code, with a recording fake
daemon as the oracle: answers that carry containers' environments or the
swarm's join tokens are read whole, the secret values replaced, every other
byte kept (numbers past 2^53 digit for digit), and sent framed by their new
length; without the secret nothing is passed on (502). The real-daemon side is
in tests/integration/test_redaction_docker.py."""
import json
import os
import socket

from fake.rawhttp import read_until_close
from fake.upstream import chunked, response

ENV_MARK = "<redacted by socket-proxy: ALLOW_ENV=1 shows it>"
TOKEN_MARK = "<redacted by socket-proxy: SECRETS=1 shows it>"
BIG = "9223372036854775807"  # past 2^53: a double would print 9223372036854775808
INSPECT = ('{"Id":"c1","Config":{"Hostname":"c1","Env":["PATH=/usr/bin","DB_PASSWORD=hunter2","EMPTY=","NOVALUE"],'
           '"Labels":{"Env":"not this"}},"HostConfig":{"Memory":' + BIG + ',"NanoCpus":1.5e+300},'
           '"Env":["TOP=level"]}')
REDACTED = INSPECT.replace("PATH=/usr/bin", "PATH=" + ENV_MARK).replace("DB_PASSWORD=hunter2",
                                                                          "DB_PASSWORD=" + ENV_MARK)
REDACTED = REDACTED.replace('"EMPTY="', '"EMPTY=' + ENV_MARK + '"')
CONTAINERS = {"CONTAINERS": "1"}


def daemon(answers, seen=None):
    """Answers each request with the next of `answers` (bytes, or a callable
    of the request), recording them."""
    count = [0]  # across connections: each p.http() call opens its own

    def handler(conn):
        while True:
            req = conn.read_request()
            if req is None:
                return
            if seen is not None:
                seen.append(req)
            a = answers[min(count[0], len(answers) - 1)]
            count[0] += 1
            if callable(a):
                a = a(req)
            if a is None:
                conn.close()
                return
            conn.send(a)
    return handler


def chunked_answer(body, pieces=7):
    step = max(1, len(body) // pieces)
    parts = [body[i:i + step] for i in range(0, len(body), step)]
    head = (b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    return head + chunked(*parts)


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def __repr__(self):
        return f"<{self.status} {self.headers} {self.body[:300]!r}>"


def get(p, path, method="GET"):
    return Answer(*p.http(method, path))


def test_inspect_env_redacted_byte_for_byte(fake_upstream, proxy_factory):
    """POST=0: Config.Env values are replaced; the names stay; an Env list
    anywhere else, the labels and the numbers (past 2^53, exponents) are the
    daemon's bytes. A chunked answer comes back framed by Content-Length."""
    for answer in [chunked_answer(INSPECT.encode()), response(200, INSPECT)]:
        up = fake_upstream(daemon([answer]))
        p = proxy_factory(upstream=up.path, env=CONTAINERS)
        r = get(p, "/v1.41/containers/c1/json")
        assert r.status == 200, r
        assert r.body.decode() == REDACTED
        assert r.headers.get("content-length") == str(len(REDACTED))
        assert "transfer-encoding" not in r.headers
        assert r.headers.get("api-version") == "1.41"  # the daemon's other headers stay
        assert b"hunter2" not in r.body and BIG.encode() in r.body
        assert json.loads(r.body)["Config"]["Env"][3] == "NOVALUE"
        p.stop()


def test_env_shown_with_post_or_allow_env(fake_upstream, proxy_factory):
    """POST=1 defaults to ALLOW_ENV=1 (Watchtower recreates containers from
    inspect answers); ALLOW_ENV set explicitly wins either way."""
    cases = [({"POST": "1"}, INSPECT), ({"ALLOW_ENV": "1"}, INSPECT), ({"POST": "1", "ALLOW_ENV": "0"}, REDACTED),
             ({"ALLOW_ENV": "0"}, REDACTED)]
    for extra, want in cases:
        raw = chunked_answer(INSPECT.encode())
        up = fake_upstream(daemon([raw]))
        p = proxy_factory(upstream=up.path, env=dict(CONTAINERS, **extra))
        r = get(p, "/containers/c1/json")
        assert r.status == 200 and r.body.decode() == want, (extra, r.body[:200])
        if want == INSPECT:  # not redacted: streamed as the daemon framed it
            assert r.headers.get("transfer-encoding") == "chunked", (extra, r.headers)
        p.stop()


def test_services_tasks_and_swarm(fake_upstream, proxy_factory):
    svc = ('{"ID":"s1","Version":{"Index":' + BIG + '},"Spec":{"Name":"web","TaskTemplate":{"ContainerSpec":'
           '{"Image":"busybox","Env":["API_KEY=abc"]}}},"PreviousSpec":{"TaskTemplate":{"ContainerSpec":'
           '{"Env":["API_KEY=old"]}}}}')
    task = '{"ID":"t1","Spec":{"ContainerSpec":{"Image":"busybox","Env":["TOKEN=xyz"]}}}'
    swarm = ('{"ID":"sw","JoinTokens":{"Worker":"SWMTKN-1-worker","Manager":"SWMTKN-1-manager"},'
             '"Spec":{"Name":"default"}}')
    env = {"SERVICES": "1", "TASKS": "1", "SWARM": "1"}
    answers = {"/services/s1": svc, "/services": "[" + svc + "," + svc + "]", "/tasks/t1": task,
               "/tasks": "[" + task + "]", "/swarm": swarm}
    up = fake_upstream(daemon([lambda req: response(200, answers[req.path])]))
    p = proxy_factory(upstream=up.path, env=env)
    for path, body in answers.items():
        r = get(p, path)
        assert r.status == 200, (path, r)
        text = r.body.decode()
        for secret in ["abc", "old", "xyz", "SWMTKN-1-worker", "SWMTKN-1-manager"]:
            assert secret not in text, (path, text)
        assert json.loads(text) is not None
        if path == "/swarm":
            assert json.loads(text)["JoinTokens"] == {"Worker": TOKEN_MARK, "Manager": TOKEN_MARK}
        else:
            assert text.count("=" + ENV_MARK) == body.count("=")  # every Env value, no other string
        if path.startswith("/services"):
            assert BIG in text
    p.stop()
    # SECRETS=1 shows the join tokens; ALLOW_ENV=1 the environments
    up = fake_upstream(daemon([lambda req: response(200, answers[req.path])]))
    p = proxy_factory(upstream=up.path, env=dict(env, SECRETS="1", ALLOW_ENV="1"))
    for path, body in answers.items():
        r = get(p, path)
        assert r.status == 200 and r.body.decode() == body, path


def test_answers_that_carry_nothing_are_streamed(fake_upstream, proxy_factory):
    """Errors, HEAD and other routes are not held: the daemon's bytes as sent."""
    nf = response(404, b'{"message":"No such container: DB_PASSWORD=hunter2"}')
    up = fake_upstream(daemon([nf, response(200, b""), chunked_answer(INSPECT.encode())]))
    p = proxy_factory(upstream=up.path, env=CONTAINERS)
    assert get(p, "/containers/nope/json").status == 404
    h = get(p, "/containers/c1/json", method="HEAD")
    assert h.status == 200 and h.body == b""
    r = get(p, "/containers/c1/top")  # not a redacted route
    assert r.status == 200 and r.body.decode() == INSPECT


def test_unredactable_answers_fail_closed(fake_upstream, proxy_factory):
    """Larger than SOCKET_PROXY_MAX_BODY, not JSON, or cut short by the daemon:
    502, and none of the answer's bytes reach the client."""
    big = ('{"Config":{"Env":["SECRET=hunter2"]},"Pad":"' + "x" * 5000 + '"}').encode()
    bad = b'{"Config":{"Env":["SECRET=hunter2"]}'  # unterminated
    cut = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
           b'{"Config":{"Env":["SECRET=hunter2"]')

    def cut_then_close(req):
        return cut

    for answers, env in [([chunked_answer(big)], {"SOCKET_PROXY_MAX_BODY": "4096"}),
                         ([response(200, big)], {"SOCKET_PROXY_MAX_BODY": "4096"}),
                         ([response(200, bad)], {}), ([chunked_answer(bad)], {})]:
        up = fake_upstream(daemon(answers))
        p = proxy_factory(upstream=up.path, env=dict(CONTAINERS, **env))
        r = get(p, "/containers/c1/json")
        assert r.status == 502, (env, r)
        assert b"hunter2" not in r.body and "hunter2" not in str(r.headers)
        assert p.alive()
        p.stop()

    def handler(conn):
        if conn.read_request() is None:
            return
        conn.send(cut)
        conn.close()

    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path, env=CONTAINERS)
    r = get(p, "/containers/c1/json")
    assert r.status == 502 and b"hunter2" not in r.body


def test_keep_alive_after_a_redacted_answer(fake_upstream, proxy_factory):
    """Pipelined requests on one connection: the redacted answer is framed so
    the next one is read right."""
    seen = []
    up = fake_upstream(daemon([chunked_answer(INSPECT.encode()), response(200, b'{"ok":1}'),
                               response(200, INSPECT)], seen))
    p = proxy_factory(upstream=up.path, env=CONTAINERS)
    s = p.connect(timeout=5)
    s.sendall(b"GET /containers/c1/json HTTP/1.1\r\nHost: d\r\n\r\n"
              b"GET /containers/c1/top HTTP/1.1\r\nHost: d\r\n\r\n"
              b"GET /v1.41/containers/c1/json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
    data = read_until_close(s, timeout=5)
    s.close()
    parts = data.split(b"HTTP/1.1 200 OK\r\n")
    assert len(parts) == 4, data
    assert parts[1].endswith(REDACTED.encode()) and parts[2].endswith(b'{"ok":1}')
    assert parts[3].endswith(REDACTED.encode())
    assert len(seen) == 3


def test_per_profile_allow_env(fake_upstream, proxy_factory):
    """ALLOW_ENV is per profile: one client sees values, the other the marker."""
    up = fake_upstream(daemon([response(200, INSPECT)]))
    p = proxy_factory(upstream=up.path, env={"SOCKET_PROXY_PROFILES": "ops,view", "OPS__CONTAINERS": "1",
                                             "OPS__ALLOW_ENV": "1", "VIEW__CONTAINERS": "1"})
    def fetch(profile):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(os.path.join(p.env["SOCKET_PROXY_VOLUME"], profile, "docker.sock"))
        s.sendall(b"GET /containers/c1/json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
        data = read_until_close(s, timeout=5)
        s.close()
        return data.split(b"\r\n\r\n", 1)[1]

    assert fetch("ops") == INSPECT.encode()
    assert fetch("view") == REDACTED.encode()


def test_podman_inspect_redacted_too(fake_upstream, proxy_factory):
    up = fake_upstream(daemon([response(200, INSPECT)]))
    p = proxy_factory(upstream=up.path, env={"LIBPOD_CONTAINERS": "1"})
    r = get(p, "/v4.0.0/libpod/containers/c1/json")
    assert r.status == 200 and r.body.decode() == REDACTED, r

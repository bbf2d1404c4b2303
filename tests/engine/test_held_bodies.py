"""Judged request bodies (issue 11) as the connection code holds them: read
whole before a byte goes to the daemon, sent exactly as judged, bounded in
time and in memory, with the proxy's own 100 Continue for a client that waits
for one. The daemon is a recording fake: what it receives is the oracle."""
import socket
import threading
import time

from fake.upstream import response

CP = {"CONTAINERS": "1", "POST": "1"}
BODY = b'{"Image":"busybox","HostConfig":{"Binds":["data:/data"]},"Env":["A=1"]}'


def create_head(length, extra=b""):
    return (b"POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(length).encode() + b"\r\n" + extra + b"\r\n")


def recording(seen, gate=None):
    """A daemon that records each request (head and body) and answers 201
    (once gate, a threading.Event, is set, when given)."""
    def handler(conn):
        while True:
            req = conn.read_request()
            if req is None:
                return
            seen.append(req)
            if gate:
                gate.wait(10)
            conn.send(response(201, b'{"Id":"c1","Warnings":[]}'))
    return handler


def read_answer(s, timeout=5):
    s.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(65536)
        if not d:
            break
        data += d
    return data


def test_expect_continue_on_a_held_body(fake_upstream, proxy_factory):
    """A client that sends Expect: 100-continue waits for 100 before its body;
    the proxy waits for the body before asking the daemon: the proxy answers
    100 itself, then judges and forwards head and body as sent."""
    seen = []
    up = fake_upstream(recording(seen))
    p = proxy_factory(upstream=up.path, env=CP)
    s = p.connect(timeout=5)
    head = create_head(len(BODY), b"Expect: 100-continue\r\n")
    s.sendall(head)
    first = read_answer(s)
    assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), first
    assert seen == []  # nothing reached the daemon before the body was judged
    s.sendall(BODY)
    rest = first[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
    while b'"Warnings":[]}' not in rest:
        d = s.recv(65536)
        assert d, rest
        rest += d
    assert rest.startswith(b"HTTP/1.1 201"), rest
    assert len(seen) == 1 and seen[0].body == BODY
    assert seen[0].head == head
    s.close()


def test_expect_continue_refused_body_never_reaches_daemon(fake_upstream, proxy_factory):
    seen = []
    up = fake_upstream(recording(seen))
    p = proxy_factory(upstream=up.path, env=CP)
    bad = b'{"Image":"x","HostConfig":{"Privileged":true}}'
    s = p.connect(timeout=5)
    s.sendall(create_head(len(bad), b"Expect: 100-continue\r\n"))
    first = read_answer(s)
    assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), first
    s.sendall(bad)
    rest = first[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
    while b"}" not in rest.partition(b"\r\n\r\n")[2]:
        d = s.recv(65536)
        if not d:
            break
        rest += d
    assert rest.startswith(b"HTTP/1.1 403"), rest
    assert b"ALLOW_PRIVILEGED" in rest
    assert seen == []
    s.close()


def test_body_split_byte_by_byte_is_sent_as_judged(fake_upstream, proxy_factory):
    seen = []
    up = fake_upstream(recording(seen))
    p = proxy_factory(upstream=up.path, env=CP)
    s = p.connect(timeout=5)
    head = create_head(len(BODY))
    s.sendall(head)
    for i in range(len(BODY)):
        s.sendall(BODY[i:i + 1])
    answer = read_answer(s)
    assert answer.startswith(b"HTTP/1.1 201"), answer
    assert len(seen) == 1 and seen[0].head == head and seen[0].body == BODY
    s.close()


def write_calls(pid):
    """How many write-family system calls (write, writev, sendmsg, ...) the
    process has made: /proc/PID/io's syscw, no tracing needed."""
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("syscw:"):
                return int(line.split()[1])
    raise AssertionError("no syscw in /proc/%d/io" % pid)


def test_head_and_judged_body_go_to_the_daemon_in_one_write(fake_upstream, proxy_factory):
    """Issue 15: the held head and the judged body leave in one writev, so the
    daemon reads the whole request at once, however the client wrote it (the
    docker CLI and Python's http.client write the head, then the body). Written
    apart, they would let the daemon read the head alone and wait for the
    body: the first suspect when judged creates measured slow through the
    proxy (not the cause; bench/RESULTS.md), kept from coming about. The
    daemon holds its answer until the count is taken, so the proxy writes
    nothing else in between (no answer, no access log line)."""
    seen = []
    answer_now = threading.Event()
    up = fake_upstream(recording(seen, answer_now))
    p = proxy_factory(upstream=up.path, env=CP)
    body = BODY[:-1] + b',"Labels":{"pad":"' + b"p" * (4096 - len(BODY) - 20) + b'"}}'
    assert len(body) == 4096
    head = create_head(len(body))
    for pieces in ([head, body], [head + body[:100], body[100:2000], body[2000:]]):
        seen.clear()
        answer_now.clear()
        s = p.connect(timeout=5)
        s.sendall(pieces[0])
        assert p.wait_idle()
        before = write_calls(p.pid)
        for piece in pieces[1:]:
            s.sendall(piece)
        assert p.wait_idle(lambda: len(seen) == 1)
        assert write_calls(p.pid) - before == 1  # head and body together
        assert seen[0].head == head and seen[0].body == body
        answer_now.set()
        assert read_answer(s).startswith(b"HTTP/1.1 201")
        s.close()


def test_slow_body_gets_408_and_never_reaches_daemon(fake_upstream, proxy_factory):
    seen = []
    up = fake_upstream(recording(seen))
    p = proxy_factory(upstream=up.path, env=dict(CP, SOCKET_PROXY_HEAD_TIMEOUT="300ms"))
    s = p.connect(timeout=5)
    s.sendall(create_head(len(BODY)) + BODY[:10])
    answer = read_answer(s)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert seen == []
    s.close()


def test_held_bodies_memory_is_bounded(fake_upstream, proxy_factory):
    """SOCKET_PROXY_MAX_BODY=1024: at most 16 KiB of judged bodies are held at
    once. Clients that announce a body and stall fill that; the next gets 503
    (retry), and once the stalled ones leave, bodies are judged again."""
    seen = []
    up = fake_upstream(recording(seen))
    p = proxy_factory(upstream=up.path, env=dict(CP, SOCKET_PROXY_MAX_BODY="1024", SOCKET_PROXY_HEAD_TIMEOUT="30s"))
    head = create_head(1000)  # reserves len(head) + 1000 bytes
    per = len(head) + 1000
    fits = (16 * 1024) // per
    stalled = []
    for _ in range(fits):
        s = p.connect(timeout=5)
        s.sendall(head + b"{")
        stalled.append(s)
    p.wait_idle()
    extra = p.connect(timeout=5)
    extra.sendall(head)
    answer = read_answer(extra)
    assert answer.startswith(b"HTTP/1.1 503"), answer
    assert b"retry" in answer
    extra.close()
    for s in stalled:
        s.close()
    p.wait_idle()
    s = p.connect(timeout=5)
    s.sendall(create_head(len(BODY)) + BODY)
    answer = read_answer(s)
    assert answer.startswith(b"HTTP/1.1 201"), answer
    assert len(seen) == 1 and seen[0].body == BODY
    s.close()
    assert p.alive()


def test_held_memory_is_given_back_after_many_bodies(fake_upstream, proxy_factory):
    """Each judged body releases its share once sent or refused: many more
    bodies than the bound allows at once pass one after another."""
    seen = []
    up = fake_upstream(recording(seen))
    p = proxy_factory(upstream=up.path, env=dict(CP, SOCKET_PROXY_MAX_BODY="1024"))
    bad = b'{"Image":"x","HostConfig":{"Privileged":true}}'
    s = p.connect(timeout=5)
    for i in range(40):
        body = BODY if i % 2 == 0 else bad
        s.sendall(create_head(len(body)) + body)
        answer = read_answer(s)
        if i % 2 == 0:
            assert answer.startswith(b"HTTP/1.1 201"), (i, answer)
            continue
        assert answer.startswith(b"HTTP/1.1 403"), (i, answer)
        s.close()  # a refused body closes the connection
        s = p.connect(timeout=5)
    assert len(seen) == 20 and all(r.body == BODY for r in seen)
    s.close()


def chunked_head(extra=b""):
    return (b"POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n" + extra + b"\r\n")


def test_chunked_body_is_sent_reframed_by_length(fake_upstream, proxy_factory):
    """A chunked judged body is decoded, judged and sent with Content-Length:
    the daemon reads exactly the bytes that were judged, and the head is the
    client's but for that one line. The next pipelined request still works."""
    seen = []
    up = fake_upstream(recording(seen))
    p = proxy_factory(upstream=up.path, env=CP)
    s = p.connect(timeout=5)
    parts = [BODY[:7], BODY[7:8], BODY[8:40], BODY[40:]]
    chunks = b"".join(b"%x\r\n" % len(x) + x + b"\r\n" for x in parts) + b"0\r\n\r\n"
    s.sendall(chunked_head(b"X-Client: 1\r\n") + chunks + b"GET /containers/c1/json HTTP/1.1\r\nHost: d\r\n\r\n")
    answers = b""
    s.settimeout(5)
    while answers.count(b"HTTP/1.1 201") < 2:
        d = s.recv(65536)
        assert d, answers
        answers += d
    assert len(seen) == 2
    create = seen[0]
    assert create.body == BODY
    assert create.head == (b"POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
                           b"X-Client: 1\r\nContent-Length: " + str(len(BODY)).encode() + b"\r\n\r\n")
    assert seen[1].target == "/containers/c1/json"
    s.close()


def test_chunked_body_byte_by_byte_and_refused(fake_upstream, proxy_factory):
    seen = []
    up = fake_upstream(recording(seen))
    p = proxy_factory(upstream=up.path, env=CP)
    bad = b'{"Image":"x","HostConfig":{"Privileged":true}}'
    s = p.connect(timeout=5)
    s.sendall(chunked_head())
    data = b"".join(b"%x\r\n" % 1 + bad[i:i + 1] + b"\r\n" for i in range(len(bad))) + b"0\r\n\r\n"
    for i in range(len(data)):
        s.sendall(data[i:i + 1])
    answer = read_answer(s)
    assert answer.startswith(b"HTTP/1.1 403"), answer
    assert seen == []
    s.close()


def test_chunked_body_beyond_the_bound_is_413(fake_upstream, proxy_factory):
    seen = []
    up = fake_upstream(recording(seen))
    p = proxy_factory(upstream=up.path, env=dict(CP, SOCKET_PROXY_MAX_BODY="1024"))
    s = p.connect(timeout=5)
    s.sendall(chunked_head() + b"400\r\n" + b"a" * 1024 + b"\r\n1\r\nb\r\n")
    answer = read_answer(s)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert seen == []
    s.close()
    # exactly the bound is judged (and, here, is not JSON: 400 from the judge)
    s = p.connect(timeout=5)
    s.sendall(chunked_head() + b"400\r\n" + b"a" * 1024 + b"\r\n0\r\n\r\n")
    answer = read_answer(s)
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert seen == []
    s.close()


HOSTNET = "3f1c2b6e9d0a47c8b5e2f1a0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0"
SERVICES = {"SERVICES": "1", "POST": "1"}


def service_body(target):
    return (b'{"Name":"web","TaskTemplate":{"ContainerSpec":{"Image":"busybox"},"Networks":[{"Target":"' +
            target.encode() + b'"}]},"Mode":{"Replicated":{}}}')


def swarm_daemon(seen, hostnet_answer):
    """Answers GET /networks/host (on the proxy's own side connection) with
    hostnet_answer, and 201 to everything else; records every request."""
    def handler(conn):
        while True:
            req = conn.read_request()
            if req is None:
                return
            seen.append(req)
            if req.path == "/networks/host":
                conn.send(hostnet_answer)
            else:
                conn.send(response(201, b'{"ID":"svc1"}'))
    return handler


def post_service(p, body, extra=b""):
    s = p.connect(timeout=5)
    s.sendall(b"POST /v1.41/services/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n" + extra +
              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    answer = read_answer(s)
    s.close()
    return answer


HOST_FOUND = response(200, b'{"Name":"host","Id":"' + HOSTNET.encode() + b'","Scope":"local","Driver":"host"}')


def test_service_on_the_host_network_by_id_is_refused(fake_upstream, proxy_factory):
    """The docker CLI resolves `--network host` to the network's ID: the proxy
    asks the daemon which ID is the host's and refuses it, full or abbreviated."""
    for target in [HOSTNET, HOSTNET[:12], "host"]:
        seen = []
        up = fake_upstream(swarm_daemon(seen, HOST_FOUND))
        p = proxy_factory(upstream=up.path, env=dict(SERVICES, API_KEY="k3y"))
        answer = post_service(p, service_body(target))
        assert answer.startswith(b"HTTP/1.1 403"), (target, answer)
        assert b"ALLOW_HOST_NAMESPACES" in answer and b"host network" in answer, answer
        assert [r.path for r in seen] == ["/networks/host"], seen
        # the question carries the configured API key, as every request does
        assert seen[0].headers.get("x-api-key") == "k3y", seen[0].headers
        p.stop()


def test_service_on_another_network_is_forwarded_as_sent(fake_upstream, proxy_factory):
    seen = []
    up = fake_upstream(swarm_daemon(seen, HOST_FOUND))
    p = proxy_factory(upstream=up.path, env=SERVICES)
    body = service_body("9a8b7c6d5e4f")
    answer = post_service(p, body)
    assert answer.startswith(b"HTTP/1.1 201"), answer
    assert [r.path for r in seen] == ["/networks/host", "/v1.41/services/create"]
    assert seen[1].body == body


def test_service_where_the_daemon_has_no_host_network(fake_upstream, proxy_factory):
    seen = []
    up = fake_upstream(swarm_daemon(seen, response(404, b'{"message":"network host not found"}')))
    p = proxy_factory(upstream=up.path, env=SERVICES)
    answer = post_service(p, service_body(HOSTNET))
    assert answer.startswith(b"HTTP/1.1 201"), answer
    assert [r.path for r in seen] == ["/networks/host", "/v1.41/services/create"]


def test_service_body_unjudgeable_without_the_daemons_answer(fake_upstream, proxy_factory):
    """A daemon that fails the question: the body cannot be judged, 502, and
    it never reaches the daemon; the proxy goes on serving."""
    seen = []
    up = fake_upstream(swarm_daemon(seen, response(500, b'{"message":"boom"}')))
    p = proxy_factory(upstream=up.path, env=SERVICES)
    answer = post_service(p, service_body("9a8b7c6d5e4f"))
    assert answer.startswith(b"HTTP/1.1 502"), answer
    assert b"host" in answer
    assert [r.path for r in seen] == ["/networks/host"]
    assert p.alive()


def test_service_with_host_namespaces_allowed_asks_nothing(fake_upstream, proxy_factory):
    seen = []
    up = fake_upstream(swarm_daemon(seen, HOST_FOUND))
    p = proxy_factory(upstream=up.path, env=dict(SERVICES, ALLOW_HOST_NAMESPACES="1"))
    answer = post_service(p, service_body(HOSTNET))
    assert answer.startswith(b"HTTP/1.1 201"), answer
    assert [r.path for r in seen] == ["/v1.41/services/create"]


def test_client_gone_while_the_daemon_is_asked(fake_upstream, proxy_factory):
    """The client leaves while the proxy waits for /networks/host: the question
    is dropped (no callback into a freed connection; ASan build watches)."""
    seen = []
    gate = threading.Event()

    def handler(conn):
        while True:
            req = conn.read_request()
            if req is None:
                return
            seen.append(req)
            if req.path == "/networks/host":
                gate.wait(5)
                conn.send(HOST_FOUND)
            else:
                conn.send(response(201, b"{}"))

    up = fake_upstream(handler)
    p = proxy_factory(upstream=up.path, env=SERVICES)
    s = p.connect(timeout=5)
    body = service_body(HOSTNET)
    s.sendall(b"POST /services/create HTTP/1.1\r\nHost: d\r\nContent-Length: " + str(len(body)).encode() +
              b"\r\n\r\n" + body)
    deadline = time.time() + 5
    while not seen and time.time() < deadline:
        time.sleep(0.01)
    assert [r.path for r in seen] == ["/networks/host"]
    s.close()
    p.wait_idle()
    gate.set()
    answer = post_service(p, service_body("9a8b7c6d5e4f"))
    assert answer.startswith(b"HTTP/1.1 201"), answer
    assert p.alive()

"""The hostile-request corpus: a row per case.

Each case: a name, the environment the proxy runs under, the raw bytes sent (a
list of writes, each sent once the proxy has acted on the one before, and `pause`
seconds later where time passing is the case's subject), the status of the first
answer the client must get, and `reach`: exactly which request heads may arrive at
the upstream (method, target). The oracle (test_hostile.py) fails a case when
anything else arrives there (or, for a case with `message`, when the answer's
JSON message does not name it), and checks that the proxy still serves a
well-formed request afterwards.
"""

from fake.upstream import HOST_NETWORK_ID, SCOPED_WEB_ID

H = b"Host: docker\r\n"
PING = b"GET /_ping HTTP/1.1\r\n" + H + b"\r\n"
LIST = b"GET /containers/json HTTP/1.1\r\n" + H + b"\r\n"
POSTP = {"POST": "1"}


def case(name, raw, status, reach=(), env=None, pause=0.0, timeout=3.0, message=None):
    """message: a substring the first answer's JSON "message" must hold."""
    if isinstance(raw, bytes):
        raw = [raw]
    return {"name": name, "raw": raw, "status": status, "reach": [tuple(r) for r in reach], "env": env or {},
            "pause": pause, "timeout": timeout, "message": message}


def get(target, extra=b""):
    return b"GET " + target + b" HTTP/1.1\r\n" + H + extra + b"\r\n"


CASES = []

# -- spellings of a forbidden path (CONTAINERS=0): never reach the daemon --------------
forbidden = [
    b"/containers/json", b"/v1.41/containers/json", b"/%63ontainers/json", b"/c%6fntainers/json",
    b"/%63%6F%6E%74%61%69%6E%65%72%73/json", b"/_ping/../containers/json", b"/_ping/%2e%2e/containers/json",
    b"/_ping/%2E%2E/containers/json", b"/_ping/.%2e/containers/json", b"/_ping/%2e./containers/json",
    b"/_ping%2f..%2fcontainers/json", b"/_ping%2F..%2Fcontainers%2Fjson", b"/version/../../containers/json",
    b"/v1.41/_ping/../containers/json", b"/v1.41/../containers/json", b"//containers/json",
    b"///containers/json", b"/./containers/json", b"/%2e/containers/json", b"/_ping/./../containers/json",
    b"/events/../containers/json", b"/v1.41//containers/json", b"/v1.41/./containers/json",
    b"/v1.41/v1.41/containers/json", b"/V1.41/containers/json", b"/CONTAINERS/json", b"/Containers/json",
    b"/containers", b"/containers/", b"/containers?all=1", b"/_ping/../../../containers/json",
    b"/%2fcontainers/json", b"/_ping/%2e%2e%2fcontainers/json", b"/version/..%2f..%2fcontainers/json",
    b"/events%2f..%2finfo", b"/info", b"/_pingx", b"/versions", b"/eventsx", b"/v1.41/infox",
    b"/libpod/containers/json", b"/v4.0.0/libpod/containers/json", b"/libpod/../containers/json",
]
for t in forbidden:
    CASES.append(case("forbidden " + t.decode(), get(t), 403))

# -- exfiltration spellings with CONTAINERS=1 IMAGES=1 ------------------------------------
CI = {"CONTAINERS": "1", "IMAGES": "1"}
for t in [b"/containers/abc/export", b"/containers/abc/%65xport", b"/containers/abc/json/../export",
          b"/containers/abc/json%2F..%2Fexport", b"/containers/a/b/export", b"/containers/abc/export/.",
          b"/containers/abc/archive?path=/etc", b"/containers/abc/%61rchive?path=/", b"/v1.41/containers/abc/archive",
          b"/containers/abc/attach/ws", b"/containers/abc/attach%2Fws", b"/images/busybox/get",
          b"/images/busybox/%67et", b"/images/get?names=busybox", b"/images/a/b:1/get", b"/images/x/json/../get",
          b"/swarm/unlockkey"]:
    CASES.append(case("exfiltration " + t.decode(), get(t), 403, env=CI))
CASES.append(case("HEAD archive without ALLOW_ARCHIVE", b"HEAD /containers/abc/archive?path=/ HTTP/1.1\r\n" + H + b"\r\n",
                  403, env=CI))

# -- ambiguous spellings: 400 ---------------------------------------------------------------
for t in [b"/_ping%", b"/_ping%2", b"/_ping%zz", b"/_ping%%32%65", b"/_ping%00", b"/_ping%0a",
          b"/_ping%0d%0a", b"/_ping%7f", b"/%09_ping", b"/_ping#frag", b"/_ping#/../containers/json"]:
    CASES.append(case("ambiguous " + t.decode(), get(t), 400))

# -- allowed spellings reach the daemon exactly as sent ------------------------------------
for t in [b"/_ping", b"/v1.41/_ping", b"/v1.51/_ping", b"/_ping?/../containers/json",
          b"/_ping?x=%2F..%2Fcontainers", b"/version", b"/v1.24/version", b"/events?since=1&until=2",
          b"/%5fping", b"/v1.41/%5f%70ing"]:
    CASES.append(case("allowed " + t.decode(), get(t), 200, reach=[("GET", t.decode())]))
CASES.append(case("allowed HEAD /_ping", b"HEAD /_ping HTTP/1.1\r\n" + H + b"\r\n", 200, reach=[("HEAD", "/_ping")]))
CASES.append(case("allowed image name with slashes and colon",
                  get(b"/images/registry.local:5000/team/app:1/json"), 200,
                  reach=[("GET", "/images/registry.local:5000/team/app:1/json")], env={"IMAGES": "1"}))

# -- request line and method games ----------------------------------------------------------
CASES += [
    case("absolute-form", b"GET http://docker/containers/json HTTP/1.1\r\n" + H + b"\r\n", 400),
    case("absolute-form to allowed", b"GET http://docker/_ping HTTP/1.1\r\n" + H + b"\r\n", 400),
    case("authority-form", b"CONNECT docker:2375 HTTP/1.1\r\n" + H + b"\r\n", 501),
    case("asterisk-form", b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n", 400),
    case("lowercase method", b"get /_ping HTTP/1.1\r\n" + H + b"\r\n", 501),
    case("unknown method", b"FOO /_ping HTTP/1.1\r\n" + H + b"\r\n", 501),
    case("TRACE", b"TRACE /_ping HTTP/1.1\r\n" + H + b"\r\n", 501),
    case("PROPFIND", b"PROPFIND /_ping HTTP/1.1\r\n" + H + b"\r\n", 501),
    case("POST with POST=0", b"POST /_ping HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n", 403),
    case("PUT with POST=0", b"PUT /_ping HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n", 403),
    case("DELETE with POST=0", b"DELETE /containers/abc HTTP/1.1\r\n" + H + b"\r\n", 403, env={"CONTAINERS": "1"}),
    case("POST create with CONTAINERS=1 POST=0",
         b"POST /containers/create HTTP/1.1\r\n" + H + b"Content-Length: 2\r\n\r\n{}", 403, env={"CONTAINERS": "1"}),
    case("PATCH with POST=0", b"PATCH /containers/abc HTTP/1.1\r\n" + H + b"\r\n", 403, env={"CONTAINERS": "1"}),
    case("OPTIONS with POST=0", b"OPTIONS /_ping HTTP/1.1\r\n" + H + b"\r\n", 403),
    case("HTTP/0.9", b"GET /_ping\r\n\r\n", 400),
    case("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 501),
    case("HTTP/2.0 version", b"GET /_ping HTTP/2.0\r\n" + H + b"\r\n", 505),
    case("HTTP/1.2", b"GET /_ping HTTP/1.2\r\n" + H + b"\r\n", 505),
    case("lowercase version", b"GET /_ping http/1.1\r\n" + H + b"\r\n", 400),
    case("two spaces", b"GET  /_ping HTTP/1.1\r\n" + H + b"\r\n", 400),
    case("tab separator", b"GET\t/_ping HTTP/1.1\r\n" + H + b"\r\n", 400),
    case("leading CRLF", b"\r\nGET /_ping HTTP/1.1\r\n" + H + b"\r\n", 400),
    case("leading space", b" GET /_ping HTTP/1.1\r\n" + H + b"\r\n", 400),
    case("space in target", b"GET /_ping /containers/json HTTP/1.1\r\n" + H + b"\r\n", 400),
    case("8-bit target", b"GET /_ping\xff HTTP/1.1\r\n" + H + b"\r\n", 400),
    case("missing Host", b"GET /_ping HTTP/1.1\r\n\r\n", 400),
    case("duplicate Host", b"GET /_ping HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    case("binary garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),
    case("TLS client hello", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 32, 400),
]

# -- framing: smuggling attempts --------------------------------------------------------------
SMUGGLED = b"GET /containers/json HTTP/1.1\r\n" + H + b"\r\n"
PP = {"POST": "1"}  # POST /_ping granted (PING=1 default)
CASES += [
    case("CL+TE", b"POST /_ping HTTP/1.1\r\n" + H + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400, env=PP),
    case("TE+CL", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n" + SMUGGLED, 400, env=PP),
    case("duplicate CL", b"POST /_ping HTTP/1.1\r\n" + H + b"Content-Length: 0\r\nContent-Length: 49\r\n\r\n" + SMUGGLED, 400, env=PP),
    case("duplicate CL same", b"POST /_ping HTTP/1.1\r\n" + H + b"Content-Length: 0\r\nContent-Length: 0\r\n\r\n", 400, env=PP),
    case("CL list", b"POST /_ping HTTP/1.1\r\n" + H + b"Content-Length: 0, 49\r\n\r\n" + SMUGGLED, 400, env=PP),
    case("CL plus sign", b"POST /_ping HTTP/1.1\r\n" + H + b"Content-Length: +49\r\n\r\n" + SMUGGLED, 400, env=PP),
    case("CL negative", b"POST /_ping HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n" + SMUGGLED, 400, env=PP),
    case("CL inner space", b"POST /_ping HTTP/1.1\r\n" + H + b"Content-Length: 4 9\r\n\r\n" + SMUGGLED, 400, env=PP),
    case("CL hex", b"POST /_ping HTTP/1.1\r\n" + H + b"Content-Length: 0x31\r\n\r\n" + SMUGGLED, 400, env=PP),
    case("CL space before colon", b"POST /_ping HTTP/1.1\r\n" + H + b"Content-Length : 49\r\n\r\n" + SMUGGLED, 400, env=PP),
    case("CL huge", b"POST /_ping HTTP/1.1\r\n" + H + b"Content-Length: 99999999999999999999999\r\n\r\n", 400, env=PP),
    case("TE identity", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: identity\r\n\r\n" + SMUGGLED, 400, env=PP),
    case("TE gzip,chunked", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400, env=PP),
    case("TE chunked,chunked", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400, env=PP),
    case("TE xchunked", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n" + SMUGGLED, 400, env=PP),
    case("TE vertical tab", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n", 400, env=PP),
    case("TE twice", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, env=PP),
    case("TE space before colon", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400, env=PP),
    case("TE in HTTP/1.0", b"POST /_ping HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400, env=PP),
    case("TE obs-fold", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400, env=PP),
    case("chunk size overflow", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
         b"10000000000000001\r\nA\r\n0\r\n\r\n" + SMUGGLED, 400, reach=[("POST", "/_ping")], env=PP),
    case("chunk extension", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
         b"1;ext=1\r\nA\r\n0\r\n\r\n" + SMUGGLED, 400, reach=[("POST", "/_ping")], env=PP),
    case("chunk trailer", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
         b"1\r\nA\r\n0\r\nX-Smuggle: 1\r\n\r\n" + SMUGGLED, 400, reach=[("POST", "/_ping")], env=PP),
    case("chunk bare LF", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
         b"1\nA\r\n0\r\n\r\n" + SMUGGLED, 400, reach=[("POST", "/_ping")], env=PP),
    case("chunk data longer than size", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
         b"1\r\nAB\r\n0\r\n\r\n" + SMUGGLED, 400, reach=[("POST", "/_ping")], env=PP),
    case("chunk negative size", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
         b"-1\r\nA\r\n0\r\n\r\n", 400, reach=[("POST", "/_ping")], env=PP),
    case("chunk 0x size", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
         b"0x1\r\nA\r\n0\r\n\r\n", 400, reach=[("POST", "/_ping")], env=PP),
    case("chunk space size", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
         b"1 \r\nA\r\n0\r\n\r\n", 400, reach=[("POST", "/_ping")], env=PP),
    case("CL body holding a request", b"POST /_ping HTTP/1.1\r\n" + H + b"Content-Length: %d\r\n\r\n" % len(SMUGGLED)
         + SMUGGLED, 200, reach=[("POST", "/_ping")], env=PP),
    case("chunked body holding a request", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
         + b"%x\r\n" % len(SMUGGLED) + SMUGGLED + b"\r\n0\r\n\r\n", 200, reach=[("POST", "/_ping")], env=PP),
    case("chunked then pipelined forbidden", b"POST /_ping HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
         b"1\r\nA\r\n0\r\n\r\n" + SMUGGLED, 200, reach=[("POST", "/_ping")], env=PP),
    case("CL then pipelined forbidden", b"POST /_ping HTTP/1.1\r\n" + H + b"Content-Length: 1\r\n\r\nA" + SMUGGLED,
         200, reach=[("POST", "/_ping")], env=PP),
    case("denied request with body", b"POST /containers/create HTTP/1.1\r\n" + H + b"Content-Length: %d\r\n\r\n"
         % len(PING) + PING, 403, env=PP),
    case("denied request with chunked body", b"POST /containers/create HTTP/1.1\r\n" + H +
         b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(PING) + PING + b"\r\n0\r\n\r\n", 403, env=PP),
    case("expect 100-continue smuggled body", b"POST /_ping HTTP/1.1\r\n" + H +
         b"Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello" + SMUGGLED, 200, reach=[("POST", "/_ping")], env=PP),
    case("expect other", b"POST /_ping HTTP/1.1\r\n" + H + b"Expect: 200-ok\r\nContent-Length: 0\r\n\r\n", 417, env=PP),
    case("expect on denied", b"POST /containers/create HTTP/1.1\r\n" + H +
         b"Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello" + PING, 403, env=PP),
]

# -- pipelining: every request on a connection is decided ----------------------------------
CASES += [
    case("pipelined forbidden after allowed (one write)", PING + SMUGGLED, 200, reach=[("GET", "/_ping")]),
    case("pipelined forbidden after allowed (split)", [PING, SMUGGLED], 200, reach=[("GET", "/_ping")]),
    case("pipelined forbidden split mid-head", [PING + b"GET /contai", b"ners/json HTTP/1.1\r\n" + H + b"\r\n"], 200,
         reach=[("GET", "/_ping")]),
    case("pipelined three", PING + PING + SMUGGLED + PING, 200, reach=[("GET", "/_ping")] * 3),
    case("pipelined after HEAD", b"HEAD /_ping HTTP/1.1\r\n" + H + b"\r\n" + SMUGGLED, 200, reach=[("HEAD", "/_ping")]),
    case("pipelined garbage after allowed", PING + b"\x00\x01\x02garbage\r\n\r\n", 200, reach=[("GET", "/_ping")]),
    case("upgrade on non-hijacking endpoint then raw bytes",
         b"GET /_ping HTTP/1.1\r\n" + H + b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n" + SMUGGLED, 200,
         reach=[("GET", "/_ping")]),
    case("upgrade h2c then raw bytes", b"GET /_ping HTTP/1.1\r\n" + H +
         b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
         b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 200, reach=[("GET", "/_ping")]),
    case("HTTP/1.0 then more", b"GET /_ping HTTP/1.0\r\n\r\n" + SMUGGLED, 200, reach=[("GET", "/_ping")]),
    case("Connection close then more", b"GET /_ping HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n" + SMUGGLED, 200,
         reach=[("GET", "/_ping")]),
]

# -- head syntax ----------------------------------------------------------------------------------
CASES += [
    case("obs-fold", b"GET /_ping HTTP/1.1\r\n" + H + b"X-A: a\r\n b\r\n\r\n", 400),
    case("obs-fold tab", b"GET /_ping HTTP/1.1\r\n" + H + b"X-A: a\r\n\tb\r\n\r\n", 400),
    case("bare LF request line", b"GET /_ping HTTP/1.1\n" + H + b"\r\n", 400),
    case("bare LF headers", b"GET /_ping HTTP/1.1\r\nHost: docker\n\n", 400),
    case("bare CR", b"GET /_ping HTTP/1.1\r\nHost: docker\rX-A: b\r\n\r\n", 400),
    case("NUL in header", b"GET /_ping HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 400),
    case("NUL in name", b"GET /_ping HTTP/1.1\r\n" + H + b"X\x00A: b\r\n\r\n", 400),
    case("control byte in header", b"GET /_ping HTTP/1.1\r\n" + H + b"X-A: a\x1bb\r\n\r\n", 400),
    case("DEL in header", b"GET /_ping HTTP/1.1\r\n" + H + b"X-A: a\x7fb\r\n\r\n", 400),
    case("space in header name", b"GET /_ping HTTP/1.1\r\n" + H + b"X A: b\r\n\r\n", 400),
    case("header without colon", b"GET /_ping HTTP/1.1\r\n" + H + b"X-A\r\n\r\n", 400),
    case("empty header name", b"GET /_ping HTTP/1.1\r\n" + H + b": b\r\n\r\n", 400),
    case("oversized request line", get(b"/_ping?" + b"a" * 70000), 431),
    case("oversized header", b"GET /_ping HTTP/1.1\r\n" + H + b"X-A: " + b"a" * 70000 + b"\r\n\r\n", 431),
    case("oversized head in pieces", [b"GET /_ping HTTP/1.1\r\n" + H] + [b"X-A: " + b"a" * 8000 + b"\r\n"] * 9,
         431),
    case("too many headers", b"GET /_ping HTTP/1.1\r\n" + H + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n",
         431),
    case("head limit lowered", b"GET /_ping HTTP/1.1\r\n" + H + b"X-A: " + b"a" * 2000 + b"\r\n\r\n", 431,
         env={"SOCKET_PROXY_MAX_HEAD": "1024"}),
    case("slow head times out", [b"GET /_ping HTTP/1.1\r\nHo"], 408, env={"SOCKET_PROXY_HEAD_TIMEOUT": "1s"}, timeout=4),
    # dribbled over 1.2 s: the 1 s head timeout counts from the first byte, not the last
    case("slowloris bytes time out", [b"G", b"E", b"T", b" ", b"/"], 408, env={"SOCKET_PROXY_HEAD_TIMEOUT": "1s"},
         pause=0.3, timeout=4),
]

# -- API versions below SOCKET_PROXY_MIN_API_VERSION (default 1.24): 400 -------------------
# Before 1.24 `POST /containers/{id}/start` took a HostConfig body (Binds, PidMode,
# Privileged...), so a start granted by ALLOW_START=1 could rebind a container to the
# host's root. dockerd compares versions numerically per dot-separated segment:
# 1.9 < 1.24, 1.023 == 1.23, 1.24.0 == 1.24.
START_BODY = b'{"Binds":["/:/host"],"PidMode":"host"}'
MINV = "SOCKET_PROXY_MIN_API_VERSION"


def start_with_body(version, chunked=False):
    target = b"/" + version + b"/containers/victim/start" if version else b"/containers/victim/start"
    head = b"POST " + target + b" HTTP/1.1\r\n" + H + b"Content-Type: application/json\r\n"
    if chunked:
        return head + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(START_BODY) + START_BODY + b"\r\n0\r\n\r\n"
    return head + b"Content-Length: %d\r\n\r\n" % len(START_BODY) + START_BODY


START = {"ALLOW_START": "1"}
for v in [b"v1.23", b"v1.20", b"v1.12", b"v1", b"v1.9", b"v1.023"]:
    CASES.append(case(f"min-api {v.decode()} start with HostConfig body (ALLOW_START)", start_with_body(v), 400,
                      env=START))
    CASES.append(case(f"min-api {v.decode()} start with chunked HostConfig body (ALLOW_START)",
                      start_with_body(v, chunked=True), 400, env=START))
# Granted by the section (CONTAINERS=1 POST=1, where a body is allowed): the version alone refuses it.
CASES += [
    case("min-api v1.23 start with body (CONTAINERS POST)", start_with_body(b"v1.23"), 400,
         env={"CONTAINERS": "1", "POST": "1"}, message=MINV),
    case("min-api v1.23 start without body (ALLOW_START)",
         b"POST /v1.23/containers/victim/start HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n", 400, env=START,
         message=MINV),
    case("min-api v1.024 start is 1.24", b"POST /v1.024/containers/victim/start HTTP/1.1\r\n" + H +
         b"Content-Length: 0\r\n\r\n", 200, reach=[("POST", "/v1.024/containers/victim/start")], env=START),
    case("min-api v1.24.0 start is 1.24", b"POST /v1.24.0/containers/victim/start HTTP/1.1\r\n" + H +
         b"Content-Length: 0\r\n\r\n", 200, reach=[("POST", "/v1.24.0/containers/victim/start")], env=START),
    # A start body is judged like a create's HostConfig (issue 11): the stricter reading
    # decides, whatever dockerd at 1.24+ would do with it.
    case("min-api v1.24 start with body (CONTAINERS POST)", start_with_body(b"v1.24"), 403,
         env={"CONTAINERS": "1", "POST": "1"}, message="ALLOW_HOST_NAMESPACES"),
    case("min-api unversioned start with body (CONTAINERS POST)", start_with_body(b""), 403,
         env={"CONTAINERS": "1", "POST": "1"}, message="ALLOW_HOST_NAMESPACES"),
    case("min-api v1.24 start with body allowed by ALLOW_HOST_NAMESPACES", start_with_body(b"v1.24"), 200,
         reach=[("POST", "/v1.24/containers/victim/start")],
         env={"CONTAINERS": "1", "POST": "1", "ALLOW_HOST_NAMESPACES": "1", "ALLOW_BINDS": "/"}),
]
for v in [b"/v1.23", b"/v1.20", b"/v1.12", b"/v1", b"/v1.9", b"/v1.023", b"/v1.23.9", b"/v0.99"]:
    CASES.append(case(f"min-api GET {v.decode()}/_ping", get(v + b"/_ping"), 400, message=MINV))
CASES += [
    case("min-api HEAD /v1.20/_ping", b"HEAD /v1.20/_ping HTTP/1.1\r\n" + H + b"\r\n", 400),
    case("min-api GET /v1.23/version", get(b"/v1.23/version"), 400, message=MINV),
    case("min-api GET /v1.23/containers/json (CONTAINERS)", get(b"/v1.23/containers/json"), 400,
         env={"CONTAINERS": "1"}, message=MINV),
    case("min-api GET /v1.24/_ping", get(b"/v1.24/_ping"), 200, reach=[("GET", "/v1.24/_ping")]),
    case("min-api GET /v1.24.0/_ping", get(b"/v1.24.0/_ping"), 200, reach=[("GET", "/v1.24.0/_ping")]),
    case("min-api GET /v1.100/_ping", get(b"/v1.100/_ping"), 200, reach=[("GET", "/v1.100/_ping")]),
    case("min-api GET /v2/_ping", get(b"/v2/_ping"), 200, reach=[("GET", "/v2/_ping")]),
    case("min-api unversioned GET /_ping", get(b"/_ping"), 200, reach=[("GET", "/_ping")]),
    case("min-api =0 lets /v1.23 through", get(b"/v1.23/_ping"), 200, reach=[("GET", "/v1.23/_ping")],
         env={MINV: "0"}),
    case("min-api =off lets /v1.23 through", get(b"/v1.23/_ping"), 200, reach=[("GET", "/v1.23/_ping")],
         env={MINV: "off"}),
    case("min-api =1.40 refuses /v1.39", get(b"/v1.39/_ping"), 400, env={MINV: "1.40"}, message=MINV),
    case("min-api =1.40 lets /v1.40 through", get(b"/v1.40/_ping"), 200, reach=[("GET", "/v1.40/_ping")],
         env={MINV: "1.40"}),
]

# -- a request granted only by an ALLOW_* action variable carries no body -------------------
# ALLOW_START=1 with POST=0 is for `docker start`, not for smuggling a HostConfig (or any
# other) body past POST=0: a body, even an empty chunked one, is refused.
ACTIONS = [("ALLOW_START", "start"), ("ALLOW_STOP", "stop"), ("ALLOW_RESTARTS", "stop"),
           ("ALLOW_RESTARTS", "restart"), ("ALLOW_RESTARTS", "kill"), ("ALLOW_PAUSE", "pause"),
           ("ALLOW_UNPAUSE", "unpause")]
for var, action in ACTIONS:
    t = b"/v1.41/containers/x/" + action.encode()
    post = b"POST " + t + b" HTTP/1.1\r\n" + H
    env = {var: "1"}
    tag = f"{var} {action}"
    CASES += [
        case(f"action body {tag}: Content-Length 2", post + b"Content-Length: 2\r\n\r\n{}", 400, env=env),
        case(f"action body {tag}: chunked", post + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 400,
             env=env),
        case(f"action body {tag}: empty chunked", post + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, env=env),
        case(f"action body {tag}: Content-Length 0", post + b"Content-Length: 0\r\n\r\n", 200,
             reach=[("POST", t.decode())], env=env),
        case(f"action body {tag}: no body", post + b"\r\n", 200, reach=[("POST", t.decode())], env=env),
    ]
CASES += [
    case("action body start: CONTAINERS POST forwards a body",
         b"POST /v1.41/containers/x/start HTTP/1.1\r\n" + H + b"Content-Length: 2\r\n\r\n{}", 200,
         reach=[("POST", "/v1.41/containers/x/start")], env={"CONTAINERS": "1", "POST": "1"}),
    # A start body is judged (issue 11): a chunked one is decoded, judged and sent by length.
    case("action body start: CONTAINERS POST ALLOW_START forwards a chunked body re-framed",
         b"POST /v1.41/containers/x/start HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
         200, reach=[("POST", "/v1.41/containers/x/start")], env={"CONTAINERS": "1", "POST": "1", "ALLOW_START": "1"}),
    case("action body stop: CONTAINERS POST forwards a body",
         b"POST /v1.41/containers/x/stop HTTP/1.1\r\n" + H + b"Content-Length: 2\r\n\r\n{}", 200,
         reach=[("POST", "/v1.41/containers/x/stop")], env={"CONTAINERS": "1", "POST": "1"}),
]

# -- actions are method-aware: DELETE /containers/{name} removes the container {name} -------
# dockerd routes `DELETE /containers/{name:.*}` and `DELETE /images/{name:.*}`: the last
# segment names part of the object, it is no action.
CP = {"CONTAINERS": "1", "POST": "1"}
CASES += [
    case("method-aware DELETE /containers/web/exec with EXEC POST", b"DELETE /containers/web/exec HTTP/1.1\r\n" + H +
         b"\r\n", 403, env={"EXEC": "1", "POST": "1"}),
    case("method-aware DELETE /containers/web/exec with CONTAINERS POST", b"DELETE /containers/web/exec HTTP/1.1\r\n" +
         H + b"\r\n", 200, reach=[("DELETE", "/containers/web/exec")], env=CP),
    case("method-aware DELETE /images/team/get with IMAGES POST", b"DELETE /images/team/get HTTP/1.1\r\n" + H + b"\r\n",
         200, reach=[("DELETE", "/images/team/get")], env={"IMAGES": "1", "POST": "1"}),
    case("method-aware DELETE /images/team/get with IMAGES ALLOW_EXPORT POST=0",
         b"DELETE /images/team/get HTTP/1.1\r\n" + H + b"\r\n", 403, env={"IMAGES": "1", "ALLOW_EXPORT": "1"}),
    case("method-aware DELETE /containers/x/export with CONTAINERS POST",
         b"DELETE /containers/x/export HTTP/1.1\r\n" + H + b"\r\n", 200, reach=[("DELETE", "/containers/x/export")],
         env=CP),
    case("method-aware DELETE /containers/x/archive with CONTAINERS POST",
         b"DELETE /containers/x/archive HTTP/1.1\r\n" + H + b"\r\n", 200, reach=[("DELETE", "/containers/x/archive")],
         env=CP),
]

# -- a trailing slash after an action is that action ----------------------------------------
CASES += [
    case("trailing slash GET /containers/x/export/", get(b"/containers/x/export/"), 403, env={"CONTAINERS": "1"}),
    case("trailing slash GET /containers/x/archive/", get(b"/containers/x/archive/?path=/"), 403,
         env={"CONTAINERS": "1"}),
    case("trailing slash HEAD /containers/x/archive/", b"HEAD /containers/x/archive/?path=/ HTTP/1.1\r\n" + H + b"\r\n",
         403, env={"CONTAINERS": "1"}),
    case("trailing slash GET /images/x/get/", get(b"/images/x/get/"), 403, env={"IMAGES": "1"}),
    case("trailing slash GET /containers/x/logs/ with ALLOW_LOGS=0", get(b"/containers/x/logs/"), 403,
         env={"CONTAINERS": "1", "ALLOW_LOGS": "0"}),
    case("trailing slash POST /containers/x/start/ with ALLOW_START only",
         b"POST /containers/x/start/ HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n", 403, env=START),
    case("trailing slash POST /containers/x/exec/ without EXEC",
         b"POST /containers/x/exec/ HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n", 403, env=CP),
]

# -- request bodies (issue 11): read as dockerd's Go decoder reads them; a refused body
# never reaches the daemon, an allowed one arrives as it was sent --------------------------
def post(target, body, extra=b""):
    return (b"POST " + target + b" HTTP/1.1\r\n" + H + b"Content-Type: application/json\r\nContent-Length: " +
            str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def chunks(*parts):
    return b"".join(b"%x\r\n" % len(p) + p + b"\r\n" for p in parts) + b"0\r\n\r\n"


CPV = {"CONTAINERS": "1", "POST": "1", "VOLUMES": "1", "EXEC": "1", "SERVICES": "1", "PLUGINS": "1"}
refused_bodies = [
    ("privileged", b"/containers/create", b'{"Image":"x","HostConfig":{"Privileged":true}}', 403, "ALLOW_PRIVILEGED"),
    ("privileged lower-case key", b"/containers/create", b'{"Image":"x","hostconfig":{"privileged":true}}', 403,
     "ALLOW_PRIVILEGED"),
    ("privileged upper-case key", b"/containers/create", b'{"Image":"x","HOSTCONFIG":{"PRIVILEGED":true}}', 403,
     "ALLOW_PRIVILEGED"),
    ("privileged long-s fold (U+017F)", b"/containers/create",
     '{"Image":"x","Ho\u017ftConfig":{"Privileged":true}}'.encode(), 403, "ALLOW_PRIVILEGED"),
    ("privileged escaped key", b"/containers/create", b'{"Image":"x","HostConfig":{"Privil\\u0065ged":true}}', 403,
     "ALLOW_PRIVILEGED"),
    ("privileged at the top level (Go embeds HostConfig)", b"/containers/create", b'{"Image":"x","Privileged":true}',
     403, "ALLOW_PRIVILEGED"),
    ("Kelvin-sign fold (U+212A) in a judged key", b"/containers/create",
     '{"Image":"x","HostConfig":{"Mas\u212aedPaths":[]}}'.encode(), 403, "ALLOW_CAPABILITIES"),
    ("Kelvin-sign repeat of a key after folding", b"/containers/create",
     '{"Image":"x","HostConfig":{"NetworkMode":"bridge","Networ\u212aMode":"host"}}'.encode(), 400, None),
    ("HostConfig of the wrong type", b"/containers/create", b'{"Image":"x","HostConfig":"privileged"}', 400, None),
    ("Binds of the wrong type", b"/containers/create", b'{"Image":"x","HostConfig":{"Binds":"/:/host"}}', 400,
     None),
    ("a Windows-form bind", b"/containers/create", b'{"Image":"x","HostConfig":{"Binds":["C:\\\\:/host"]}}', 400,
     None),
    ("bind Mount source cleaned", b"/containers/create",
     b'{"Image":"x","HostConfig":{"Mounts":[{"Type":"bind","Source":"/srv/../","Target":"/h"}]}}', 403,
     "ALLOW_BINDS"),
    ("repeated key, last true", b"/containers/create",
     b'{"Image":"x","HostConfig":{"Privileged":false,"Privileged":true}}', 400, None),
    ("repeated key after folding", b"/containers/create",
     b'{"Image":"x","HostConfig":{"Privileged":false,"privileged":true}}', 400, None),
    ("privileged as a string", b"/containers/create", b'{"Image":"x","HostConfig":{"Privileged":"true"}}', 400, None),
    ("trailing garbage", b"/containers/create", b'{"Image":"x"} {"HostConfig":{"Privileged":true}}', 400, None),
    ("invalid UTF-8", b"/containers/create", b'{"Image":"x\xff"}', 400, None),
    ("bind of /", b"/containers/create", b'{"Image":"x","HostConfig":{"Binds":["/:/host"]}}', 403, "ALLOW_BINDS"),
    ("bind with ..", b"/containers/create", b'{"Image":"x","HostConfig":{"Binds":["/srv/../etc:/x"]}}', 403,
     "ALLOW_BINDS"),
    ("bind Mount", b"/containers/create",
     b'{"Image":"x","HostConfig":{"Mounts":[{"Type":"bind","Source":"/","Target":"/h"}]}}', 403, "ALLOW_BINDS"),
    ("docker socket bind", b"/containers/create",
     b'{"Image":"x","HostConfig":{"Binds":["/var/run/docker.sock:/s"]}}', 403, "ALLOW_BINDS"),
    ("host pid", b"/containers/create", b'{"Image":"x","HostConfig":{"PidMode":"host"}}', 403,
     "ALLOW_HOST_NAMESPACES"),
    ("host network", b"/containers/create", b'{"Image":"x","HostConfig":{"NetworkMode":"host"}}', 403,
     "ALLOW_HOST_NAMESPACES"),
    ("another container's ipc", b"/containers/create", b'{"Image":"x","HostConfig":{"IpcMode":"container:abc"}}',
     403, "ALLOW_HOST_NAMESPACES"),
    ("cap-add", b"/containers/create", b'{"Image":"x","HostConfig":{"CapAdd":["SYS_ADMIN"]}}', 403,
     "ALLOW_CAPABILITIES"),
    ("seccomp unconfined", b"/containers/create", b'{"Image":"x","HostConfig":{"SecurityOpt":["seccomp=unconfined"]}}',
     403, "ALLOW_CAPABILITIES"),
    ("devices", b"/containers/create",
     b'{"Image":"x","HostConfig":{"Devices":[{"PathOnHost":"/dev/sda","PathInContainer":"/dev/sda"}]}}', 403,
     "ALLOW_DEVICES"),
    ("update to privileged devices", b"/containers/abc/update",
     b'{"Devices":[{"PathOnHost":"/dev/sda","PathInContainer":"/dev/sda"}]}', 403, "ALLOW_DEVICES"),
    ("exec privileged", b"/containers/abc/exec", b'{"Cmd":["sh"],"Privileged":true}', 403, "ALLOW_PRIVILEGED"),
    ("volume bind in disguise", b"/volumes/create",
     b'{"Name":"v","Driver":"local","DriverOpts":{"type":"none","o":"bind","device":"/"}}', 403, "ALLOW_BINDS"),
    ("service bind mount", b"/services/create",
     b'{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"x","Mounts":[{"Type":"bind","Source":"/","Target":"/h"}]}}}',
     403, "ALLOW_BINDS"),
    ("plugin privileges", b"/plugins/pull?remote=x",
     b'[{"Name":"network","Value":["host"]}]', 403, "ALLOW_PRIVILEGED"),
    ("versioned path privileged", b"/v1.41/containers/create", b'{"Image":"x","HostConfig":{"Privileged":true}}',
     403, "ALLOW_PRIVILEGED"),
    ("dotted path privileged", b"/_ping/../containers/create", b'{"Image":"x","HostConfig":{"Privileged":true}}',
     403, "ALLOW_PRIVILEGED"),
]
# A service body is judged once the daemon said which network is the host's (the
# proxy's own GET /networks/host: the fake daemon answers HOST_NETWORK_ID).
ASKS = [("GET", "/networks/host")]
refused_bodies += [
    ("service on the host network by ID", b"/services/create",
     b'{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"x"},"Networks":[{"Target":"' +
     HOST_NETWORK_ID[:12].encode() + b'"}]}}', 403, "ALLOW_HOST_NAMESPACES"),
    ("service update on the host network by name", b"/services/abc/update?version=3",
     b'{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"x"}},"Networks":[{"Target":"HOST"}]}', 403,
     "ALLOW_HOST_NAMESPACES"),
]
for name, target, body, status, var in refused_bodies:
    reach = ASKS if target.startswith(b"/services/") else []
    CASES.append(case("body " + name, post(target, body), status, reach=reach, env=CPV, message=var))
CASES += [
    # POST /build is judged on its query (networkmode) and Content-Type; its tar body streams.
    case("build networkmode=host", b"POST /build?t=x&networkmode=host HTTP/1.1\r\n" + H +
         b"Content-Type: application/x-tar\r\nContent-Length: 3\r\n\r\nabc", 403,
         env={"BUILD": "1", "POST": "1"}, message="ALLOW_HOST_NAMESPACES"),
    case("build networkmode percent-encoded host", b"POST /v1.41/build?networkmode=%68%6fst HTTP/1.1\r\n" + H +
         b"Content-Length: 0\r\n\r\n", 403, env={"BUILD": "1", "POST": "1"}, message="ALLOW_HOST_NAMESPACES"),
    case("build networkmode second value host", b"POST /build?networkmode=none&networkmode=host HTTP/1.1\r\n" + H +
         b"Content-Length: 0\r\n\r\n", 403, env={"BUILD": "1", "POST": "1"}, message="ALLOW_HOST_NAMESPACES"),
    case("build networkmode container:", b"POST /build?networkmode=container:abc HTTP/1.1\r\n" + H +
         b"Content-Length: 0\r\n\r\n", 403, env={"BUILD": "1", "POST": "1"}, message="ALLOW_HOST_NAMESPACES"),
    case("build with podman's volume parameter (a host bind)", b"POST /build?t=x&volume=%2F%3A%2Fhost HTTP/1.1\r\n" +
         H + b"Content-Type: application/x-tar\r\nContent-Length: 3\r\n\r\nabc", 403,
         env={"BUILD": "1", "POST": "1"}, message="ALLOW_BINDS"),
    case("build with podman's devices parameter", b"POST /build?devices=%2Fdev%2Fsda HTTP/1.1\r\n" + H +
         b"Content-Length: 0\r\n\r\n", 403, env={"BUILD": "1", "POST": "1"}, message="ALLOW_DEVICES"),
    case("build with a form body (its fields would win over the query)", b"POST /build?networkmode=none HTTP/1.1\r\n" +
         H + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 16\r\n\r\nnetworkmode=host",
         400, env={"BUILD": "1", "POST": "1"}),
    case("build networkmode=host allowed by ALLOW_HOST_NAMESPACES", b"POST /build?networkmode=host HTTP/1.1\r\n" + H +
         b"Content-Type: application/x-tar\r\nContent-Length: 3\r\n\r\nabc", 200,
         reach=[("POST", "/build?networkmode=host")], env={"BUILD": "1", "POST": "1", "ALLOW_HOST_NAMESPACES": "1"}),
    case("build ordinary reaches the daemon", b"POST /build?t=web&networkmode=default HTTP/1.1\r\n" + H +
         b"Content-Type: application/x-tar\r\nContent-Length: 3\r\n\r\nabc", 200,
         reach=[("POST", "/build?t=web&networkmode=default")], env={"BUILD": "1", "POST": "1"}),
    case("plugin create needs ALLOW_PRIVILEGED", b"POST /plugins/create?name=p HTTP/1.1\r\n" + H +
         b"Content-Type: application/x-tar\r\nContent-Length: 3\r\n\r\nabc", 403,
         env={"PLUGINS": "1", "POST": "1"}, message="ALLOW_PRIVILEGED"),
    case("plugin create with ALLOW_PRIVILEGED", b"POST /plugins/create?name=p HTTP/1.1\r\n" + H +
         b"Content-Type: application/x-tar\r\nContent-Length: 3\r\n\r\nabc", 200,
         reach=[("POST", "/plugins/create?name=p")], env={"PLUGINS": "1", "POST": "1", "ALLOW_PRIVILEGED": "1"}),
    case("body HostConfig null reaches the daemon (no host config asked for)",
         post(b"/containers/create", b'{"Image":"x","HostConfig":null}'), 200, reach=[("POST", "/containers/create")],
         env=CPV),
    case("body ordinary create reaches the daemon", post(b"/containers/create",
         b'{"Image":"x","HostConfig":{"Binds":["named:/data"],"Tmpfs":{"/t":""},"PortBindings":{}},"Env":["A=1"]}'),
         200, reach=[("POST", "/containers/create")], env=CPV),
    case("body privileged allowed by ALLOW_PRIVILEGED", post(b"/containers/create",
         b'{"Image":"x","HostConfig":{"Privileged":true}}'), 200, reach=[("POST", "/containers/create")],
         env=dict(CPV, ALLOW_PRIVILEGED="1")),
    case("body bind allowed by its prefix", post(b"/containers/create",
         b'{"Image":"x","HostConfig":{"Binds":["/srv/app:/app:ro"]}}'), 200, reach=[("POST", "/containers/create")],
         env=dict(CPV, ALLOW_BINDS="/srv")),
    case("body chunked on a judged endpoint is judged whole",
         b"POST /containers/create HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
         b"2e\r\n" + b'{"Image":"x","HostConfig":{"Privileged":true}}' + b"\r\n0\r\n\r\n", 403, env=CPV,
         message="ALLOW_PRIVILEGED"),
    case("body chunked, the refused field split across chunks",
         b"POST /containers/create HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n" +
         chunks(b'{"Image":"x","HostConfig":{"', b"Priv", b'ileged":true}}'), 403, env=CPV,
         message="ALLOW_PRIVILEGED"),
    case("body chunked beyond SOCKET_PROXY_MAX_BODY: 413",
         b"POST /containers/create HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n" +
         b"".join(b"100\r\n" + b"a" * 256 + b"\r\n" for _ in range(9)) + b"0\r\n\r\n", 413,
         env=dict(CPV, SOCKET_PROXY_MAX_BODY="2048")),
    case("body chunked with a bad chunk size: 400",
         b"POST /containers/create HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
         b"zz\r\n{}\r\n0\r\n\r\n", 400, env=CPV),
    case("body gzip-encoded on a judged endpoint: 415",
         post(b"/containers/create", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", b"Content-Encoding: gzip\r\n"), 415,
         env=CPV, message="Content-Encoding"),
    case("body Content-Encoding identity is still refused (the stricter reading)",
         post(b"/containers/create", b'{"Image":"x"}', b"content-encoding: identity\r\n"), 415, env=CPV),
    case("body Content-Type text/plain is judged all the same",
         post(b"/containers/create", b'{"Image":"x","HostConfig":{"Privileged":true}}').replace(
             b"application/json", b"text/plain"), 403, env=CPV, message="ALLOW_PRIVILEGED"),
    case("body chunked ordinary create reaches the daemon",
         b"POST /containers/create HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
         b"d\r\n" + b'{"Image":"x"}' + b"\r\n0\r\n\r\n", 200, reach=[("POST", "/containers/create")], env=CPV),
    case("body beyond SOCKET_PROXY_MAX_BODY: 413",
         post(b"/containers/create", b'{"Image":"x","Labels":{"a":"' + b"b" * 3000 + b'"}}'), 413,
         env=dict(CPV, SOCKET_PROXY_MAX_BODY="2048")),
    case("body sent in pieces is judged whole",
         [post(b"/containers/create", b'{"Image":"x","HostConfig":{"Privileged":true}}')[:-20],
          post(b"/containers/create", b'{"Image":"x","HostConfig":{"Privileged":true}}')[-20:]], 403, env=CPV,
         message="ALLOW_PRIVILEGED"),
    case("body of a non-judged POST is streamed as before", post(b"/containers/abc/kill", b'{"x":1}'), 200,
         reach=[("POST", "/containers/abc/kill")], env=CPV),
]

# -- Podman's libpod API (LIBPOD_*=1 POST=1): its bodies are judged as dockerd's are, read as
# podman's Go decoder reads them (SpecGenerator's lower_snake names, case-insensitive) ----------
LIBPOD = {"LIBPOD_CONTAINERS": "1", "POST": "1", "LIBPOD_EXEC": "1", "LIBPOD_VOLUMES": "1", "LIBPOD_PODS": "1",
          "LIBPOD_PLAY": "1", "LIBPOD_SECRETS": "1"}
refused_libpod = [
    ("privileged", b"/v4.0.0/libpod/containers/create", b'{"image":"alpine","privileged":true}', 403,
     "ALLOW_PRIVILEGED"),
    ("privileged upper-case key", b"/libpod/containers/create", b'{"image":"alpine","PRIVILEGED":true}', 403,
     "ALLOW_PRIVILEGED"),
    ("privileged repeated key", b"/libpod/containers/create",
     b'{"image":"alpine","privileged":false,"Privileged":true}', 400, None),
    ("privileged as a string", b"/libpod/containers/create", b'{"image":"alpine","privileged":"true"}', 400, None),
    ("netns host", b"/v5.0.0/libpod/containers/create", b'{"image":"alpine","netns":{"nsmode":"host"}}', 403,
     "ALLOW_HOST_NAMESPACES"),
    ("pidns by path", b"/libpod/containers/create",
     b'{"image":"alpine","pidns":{"nsmode":"path","value":"/proc/1/ns/pid"}}', 403, "ALLOW_HOST_NAMESPACES"),
    ("bind of /", b"/libpod/containers/create",
     b'{"image":"alpine","mounts":[{"destination":"/host","type":"bind","source":"/","options":["rbind"]}]}', 403,
     "ALLOW_BINDS"),
    ("overlay volume of /etc", b"/libpod/containers/create",
     b'{"image":"alpine","overlay_volumes":[{"destination":"/e","source":"/etc"}]}', 403, "ALLOW_BINDS"),
    ("rootfs /", b"/libpod/containers/create", b'{"rootfs":"/"}', 403, "ALLOW_BINDS"),
    ("cap_add", b"/libpod/containers/create", b'{"image":"alpine","cap_add":["SYS_ADMIN"]}', 403,
     "ALLOW_CAPABILITIES"),
    ("devices", b"/libpod/containers/create", b'{"image":"alpine","devices":[{"path":"/dev/sda"}]}', 403,
     "ALLOW_DEVICES"),
    ("exec privileged", b"/libpod/containers/abc/exec", b'{"Cmd":["sh"],"Privileged":true}', 403,
     "ALLOW_PRIVILEGED"),
    ("update device rules", b"/libpod/containers/abc/update", b'{"devices":[{"allow":true,"access":"rwm"}]}', 403,
     "ALLOW_DEVICES"),
    ("volume bind in disguise", b"/libpod/volumes/create",
     b'{"Name":"v","Driver":"local","Options":{"type":"none","o":"bind","device":"/"}}', 403, "ALLOW_BINDS"),
    ("pod on the host network", b"/libpod/pods/create", b'{"name":"p","netns":{"nsmode":"host"}}', 403,
     "ALLOW_HOST_NAMESPACES"),
]
for name, target, body, status, var in refused_libpod:
    CASES.append(case("libpod body " + name, post(target, body), status, env=LIBPOD, message=var))
CASES += [
    case("libpod body ordinary create reaches the daemon", post(b"/v4.0.0/libpod/containers/create",
         b'{"name":"web","image":"alpine","netns":{"nsmode":"bridge"},"portmappings":[{"container_port":80,'
         b'"host_port":8080}],"volumes":[{"Name":"data","Dest":"/data"}],"env":{"A":"1"}}'), 200,
         reach=[("POST", "/v4.0.0/libpod/containers/create")], env=LIBPOD),
    case("libpod body privileged allowed by ALLOW_PRIVILEGED", post(b"/v4.0.0/libpod/containers/create",
         b'{"image":"alpine","privileged":true}'), 200, reach=[("POST", "/v4.0.0/libpod/containers/create")],
         env=dict(LIBPOD, ALLOW_PRIVILEGED="1")),
    case("libpod body bind allowed by its prefix", post(b"/libpod/containers/create",
         b'{"image":"alpine","mounts":[{"destination":"/app","type":"bind","source":"/srv/app"}]}'), 200,
         reach=[("POST", "/libpod/containers/create")], env=dict(LIBPOD, ALLOW_BINDS="/srv")),
    case("libpod body ordinary pod reaches the daemon", post(b"/libpod/pods/create", b'{"name":"p"}'), 200,
         reach=[("POST", "/libpod/pods/create")], env=LIBPOD),
    case("libpod play/kube needs ALLOW_PRIVILEGED", b"POST /v4.0.0/libpod/play/kube HTTP/1.1\r\n" + H +
         b"Content-Type: application/yaml\r\nContent-Length: 9\r\n\r\nkind: Pod", 403, env=LIBPOD,
         message="ALLOW_PRIVILEGED"),
    case("libpod kube/play with ALLOW_PRIVILEGED", b"POST /libpod/kube/play HTTP/1.1\r\n" + H +
         b"Content-Type: application/yaml\r\nContent-Length: 9\r\n\r\nkind: Pod", 200,
         reach=[("POST", "/libpod/kube/play")], env=dict(LIBPOD, ALLOW_PRIVILEGED="1")),
    case("libpod restore import=true needs ALLOW_PRIVILEGED", b"POST /libpod/containers/x/restore?import=true "
         b"HTTP/1.1\r\n" + H + b"Content-Type: application/x-tar\r\nContent-Length: 3\r\n\r\nabc", 403, env=LIBPOD,
         message="ALLOW_PRIVILEGED"),
    case("libpod restore of a checkpoint in place reaches the daemon", b"POST /libpod/containers/x/restore?keep=true "
         b"HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n", 200,
         reach=[("POST", "/libpod/containers/x/restore?keep=true")], env=LIBPOD),
    case("libpod secret with the shell driver needs ALLOW_PRIVILEGED", b"POST /libpod/secrets/create?name=s&driver=shell "
         b"HTTP/1.1\r\n" + H + b"Content-Length: 3\r\n\r\nabc", 403, env=LIBPOD, message="ALLOW_PRIVILEGED"),
    case("libpod secret with the file driver reaches the daemon", b"POST /libpod/secrets/create?name=s&driver=file "
         b"HTTP/1.1\r\n" + H + b"Content-Length: 3\r\n\r\nabc", 200,
         reach=[("POST", "/libpod/secrets/create?name=s&driver=file")], env=LIBPOD),
]

# -- scoping by labels (issue 13): SCOPE_LABEL=autoheal=true ----------------------------------
# One object: the proxy first asks the daemon (GET /containers/{name}/json, which the fake
# answers for scoped-web, labelled, and scoped-db, not) and forwards the action by the full
# ID, or answers dockerd's own 404. Lists: a query the proxy cannot read one way is 400.
SC = {"CONTAINERS": "1", "SCOPE_LABEL": "autoheal=true"}
SCR = dict(SC, ALLOW_RESTARTS="1")
LOOK_WEB, LOOK_DB = ("GET", "/containers/scoped-web/json"), ("GET", "/containers/scoped-db/json")


def restart(target):
    return b"POST " + target + b" HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n"


CASES += [
    case("scope restart in scope goes by ID", restart(b"/containers/scoped-web/restart"), 200,
         reach=[LOOK_WEB, ("POST", f"/containers/{SCOPED_WEB_ID}/restart")], env=SCR),
    case("scope restart versioned, query kept", restart(b"/v1.41/containers/scoped-web/restart?t=3"), 200,
         reach=[LOOK_WEB, ("POST", f"/v1.41/containers/{SCOPED_WEB_ID}/restart?t=3")], env=SCR),
    case("scope restart name percent-encoded", restart(b"/containers/scoped-w%65b/restart"), 200,
         reach=[LOOK_WEB, ("POST", f"/containers/{SCOPED_WEB_ID}/restart")], env=SCR),
    case("scope restart out of scope", restart(b"/containers/scoped-db/restart"), 404, reach=[LOOK_DB], env=SCR),
    case("scope restart out of scope by percent-encoding", restart(b"/containers/scoped-%64b/restart"), 404,
         reach=[LOOK_DB], env=SCR),
    case("scope inspect out of scope", get(b"/v1.41/containers/scoped-db/json"), 404, reach=[LOOK_DB], env=SC),
    case("scope out of scope, then in scope on the same connection",
         restart(b"/containers/scoped-db/restart") + restart(b"/containers/scoped-web/restart"), 404,
         reach=[LOOK_DB, LOOK_WEB, ("POST", f"/containers/{SCOPED_WEB_ID}/restart")], env=SCR),
    case("scope commit names its container twice",
         b"POST /commit?container=scoped-web&container=scoped-db HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n",
         400, env=dict(SC, COMMIT="1", POST="1")),
    case("scope create VolumesFrom out of scope, field names folded",
         post(b"/containers/create", b'{"Image":"x","hostconfig":{"volumesfrom":["scoped-db"]}}'), 404,
         reach=[LOOK_DB], env=dict(SC, POST="1", ALLOW_BINDS="/")),
    case("scope create joins an out-of-scope container's network",
         post(b"/containers/create", b'{"Image":"x","HostConfig":{"NetworkMode":"container:scoped-db"}}'), 404,
         reach=[LOOK_DB], env=dict(SC, POST="1", ALLOW_HOST_NAMESPACES="1")),
    case("scope own create with a label of another value",
         post(b"/containers/create", b'{"Image":"x","Labels":{"autoheal":"false"}}'), 403,
         env=dict(SC, POST="1", SCOPE_OWN="1"), message="autoheal"),
    case("scope own create with the label under a folded name",
         post(b"/containers/create", b'{"Image":"x","LaBeLs":{"autoheal":"no"}}'), 403,
         env=dict(SC, POST="1", SCOPE_OWN="1"), message="autoheal"),
    case("scope /system/df lists every container", get(b"/system/df"), 403, env=dict(SC, SYSTEM="1"),
         message="autoheal=true"),
    case("scope HEAD /system/df", b"HEAD /v1.41/system/df HTTP/1.1\r\n" + H + b"\r\n", 403,
         env=dict(SC, SYSTEM="1")),
]
for name, query in [
    ("filters twice", b"filters=%7B%7D&filters=%7B%7D"),
    ("filters twice, second key percent-encoded", b"filters=%7B%7D&%66ilters=%7B%22label%22%3A%5B%5D%7D"),
    ("filters twice, one empty", b"filters=&filters=%7B%7D"),
    ("filters mixed forms", b"filters=%7B%22label%22%3A%5B%22a%22%5D%2C%22status%22%3A%7B%22running%22%3Atrue%7D%7D"),
    ("filters repeated key", b"filters=%7B%22label%22%3A%5B%22a%22%5D%2C%22label%22%3A%5B%22b%22%5D%7D"),
    ("filters a string value", b"filters=%7B%22label%22%3A%22autoheal%3Dfalse%22%7D"),
    ("filters not JSON", b"filters=%7B%22label%22"),
    ("filters after a ';'", b"all=1;filters=%7B%7D"),
    ("filters bad escape", b"filters=%7B%ZZ%7D"),
    ("another parameter's bad escape", b"all=%G1"),
]:
    CASES.append(case("scope list " + name, get(b"/containers/json?" + query), 400, env=SC))
CASES += [
    case("scope events filters twice", get(b"/v1.41/events?filters=%7B%7D&filters=%7B%7D"), 400, env=SC),
    case("scope prune filters mixed forms", b"POST /containers/prune?filters=%7B%22label%22%3A%5B%22a%22%5D%2C"
         b"%22until%22%3A%7B%2224h%22%3Atrue%7D%7D HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n", 400,
         env=dict(SC, POST="1")),
    # dockerd's ParseForm reads a urlencoded POST body before the query: its filters would win
    case("scope prune with filters in a form body", b"POST /containers/prune HTTP/1.1\r\n" + H +
         b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 14\r\n\r\nfilters=%7B%7D", 400,
         env=dict(SC, POST="1")),
]

"""API_KEY: the daemon sees exactly one X-Api-Key, the proxy's, whatever the client
sent, and the rest of the head byte for byte; a long key arrives whole."""
import pytest

from fake.rawhttp import SockReader, read_response
from fake.upstream import serve


def without_api_key(head):
    """The head's lines minus every X-Api-Key field (any case), order kept."""
    return [line for line in head.split(b"\r\n") if not line.lower().startswith(b"x-api-key:")]


def api_key_values(head):
    return [line.split(b":", 1)[1].strip() for line in head.split(b"\r\n") if line.lower().startswith(b"x-api-key:")]


CLIENT_KEYS = {
    "canonical": [b"X-Api-Key: evil"],
    "lowercase": [b"x-api-key: evil"],
    "two": [b"X-Api-Key: evil", b"x-API-KEY:evil2"],
    "spaced": [b"X-API-Key:   evil  "],
}


@pytest.mark.parametrize("case", list(CLIENT_KEYS))
@pytest.mark.parametrize("via", ["unix", "tcp"])
def test_client_api_key_is_replaced(fake_upstream, proxy_factory, case, via):
    up = fake_upstream(serve())
    p = proxy_factory({"API_KEY": "secret"}, upstream=up.path)
    keys = CLIENT_KEYS[case]
    # the client's fields first, in the middle and last
    lines = [b"GET /v1.41/version?x=1 HTTP/1.1", keys[0], b"Host: docker", b"User-Agent: Docker-Client/28 (linux)"]
    lines += keys[1:] + [b"X-Other:  kept as is "]
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    s = p.connect(via, timeout=5)
    s.sendall(head)
    res = read_response(SockReader(s))
    s.close()
    assert res is not None and res.status == 200, res
    assert up.wait_requests(1)
    seen = up.requests[0].head
    assert api_key_values(seen) == [b"secret"], f"X-Api-Key fields at the daemon: {api_key_values(seen)}\n{seen!r}"
    assert without_api_key(seen) == without_api_key(head), f"sent {head!r}\ndaemon saw {seen!r}"


@pytest.mark.parametrize("via", ["unix", "tcp"])
def test_long_api_key_arrives_whole(fake_upstream, proxy_factory, via):
    key = ("k3y-" * 750)[:3000]
    up = fake_upstream(serve())
    p = proxy_factory({"API_KEY": key, "SOCKET_PROXY_SHUTDOWN_GRACE": "1s"}, upstream=up.path)
    s = p.connect(via, timeout=5)
    s.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
    r = SockReader(s)
    try:
        res = read_response(r)
    except OSError as e:  # socket.timeout: the daemon never saw the end of the head
        pytest.fail(f"no answer with a {len(key)}-byte API_KEY ({e!r}); the daemon saw "
                    f"{[q.head[:100] for q in up.requests]} on {len(up.connections)} connection(s)")
    s.close()
    assert res is not None and (res.status, res.body) == (200, b"OK"), res
    assert up.wait_requests(1)
    assert api_key_values(up.requests[0].head) == [key.encode()], up.requests[0].head[-200:]

"""The answers the proxy writes itself (403, 400, 408, 502), read by their framing:
exactly Content-Length bytes of JSON with a "message", and no body at all after
a HEAD request (the headers, Content-Length included, are those of the GET)."""
import pytest

from fake.rawhttp import Closed, SockReader, json_message, peer_eof, read_response, request_bytes
from fake.upstream import serve


def one_answer(p, raw, method="GET", via="unix", timeout=5):
    """Send raw on a fresh connection; (first answer by its framing, its reader)."""
    s = p.connect(via, timeout=timeout)
    s.sendall(raw)
    r = SockReader(s)
    res = read_response(r, method=method)
    assert res is not None, f"connection closed without an answer to {raw[:80]!r}"
    return res, r


# id -> (proxy env, daemon up?, target, expected status, the connection stays open after it)
HEAD_CASES = {
    "403-denied": ({}, True, "/info", 403, True),
    "502-daemon-down": ({}, False, "/_ping", 502, True),
    "400-below-min-api": ({}, True, "/v1.20/_ping", 400, False),
}


@pytest.mark.parametrize("case", list(HEAD_CASES))
def test_head_answer_has_headers_only(fake_upstream, proxy_factory, tmp_path, case):
    env, daemon_up, target, status, keeps_open = HEAD_CASES[case]
    upstream = fake_upstream(serve()).path if daemon_up else str(tmp_path / "no-daemon.sock")
    p = proxy_factory(env, upstream=upstream)

    got, _ = one_answer(p, request_bytes("GET", target, {"Connection": "close"}))
    assert got.status == status, (got, got.body)
    get_length = got.headers.get("content-length")
    assert get_length is not None and int(get_length) == len(got.body) > 0, got.head

    if keeps_open:
        # HEAD then GET /_ping, pipelined on one keep-alive connection: the HEAD answer
        # is headers only, so the next bytes are the GET's answer.
        s = p.connect("unix", timeout=5)
        s.sendall(request_bytes("HEAD", target) + request_bytes("GET", "/_ping", {"Connection": "close"}))
        r = SockReader(s)
        head = read_response(r, method="HEAD")
        assert head is not None and head.status == status, head
        after_head = r.buf
        try:
            nxt = read_response(r)
        except (ValueError, IndexError, Closed) as e:
            pytest.fail(f"the answer after HEAD {target} does not parse ({e!r}): the HEAD answer carried a body; "
                        f"bytes after its head: {after_head[:300]!r}")
        assert nxt is not None, "connection closed after the HEAD answer"
        if daemon_up:
            assert (nxt.status, nxt.body) == (200, b"OK"), (nxt, nxt.body)
        else:
            assert nxt.status == 502 and "socket-proxy" in json_message(nxt), (nxt, nxt.body)
        s.close()
        # The header fields a GET would have had (RFC 9110 9.3.2), Content-Length included.
        assert head.headers.get("content-length") == get_length, (
            f"HEAD answer's Content-Length {head.headers.get('content-length')} != GET's {get_length}: {head.head!r}")
    else:
        head, r = one_answer(p, request_bytes("HEAD", target), method="HEAD")
        assert head.status == status, head
        assert "close" in head.headers.get("connection", "").lower(), head.head
        rest = r.read_to_eof()
        assert rest == b"", f"body bytes after the HEAD answer's headers: {rest[:300]!r}"
        assert head.headers.get("content-length") == get_length, (head.head, get_length)


def assert_framed_json_then_eof(res, r):
    """Exactly Content-Length bytes of JSON with a message, then the connection ends."""
    assert "content-length" in res.headers, res.head
    assert len(res.body) == int(res.headers["content-length"]), (res.head, res.body)
    assert res.headers.get("content-type", "").startswith("application/json"), res.head
    assert json_message(res).startswith("socket-proxy: "), res.body
    assert peer_eof(r, timeout=3), f"bytes after the answer's body instead of EOF: {r.buf[:300]!r}"


# id -> (proxy env, daemon up?, raw request (one write), expected status)
FRAMING_CASES = {
    "403": ({}, True, request_bytes("GET", "/info", {"Connection": "close"}), 403),
    "400": ({}, True, b"GET /_ping%zz HTTP/1.1\r\nHost: docker\r\n\r\n", 400),
    "408": ({"SOCKET_PROXY_HEAD_TIMEOUT": "1s"}, True, b"GET /_ping HTTP/1.1\r\nHo", 408),
    "502": ({}, False, request_bytes("GET", "/_ping", {"Connection": "close"}), 502),
}


@pytest.mark.parametrize("case", list(FRAMING_CASES))
def test_own_answer_is_framed(fake_upstream, proxy_factory, tmp_path, case):
    env, daemon_up, raw, status = FRAMING_CASES[case]
    upstream = fake_upstream(serve()).path if daemon_up else str(tmp_path / "no-daemon.sock")
    p = proxy_factory(env, upstream=upstream)
    res, r = one_answer(p, raw, timeout=5)
    assert res.status == status, (res, res.body)
    assert_framed_json_then_eof(res, r)

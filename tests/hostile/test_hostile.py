"""The hostile corpus against a recording upstream (the oracle), and its
allowed cases against the real dockerd.

A case passes only if: the first answer has the expected status; no request
head other than the case's `reach` list arrives at the upstream; a refused
request ends its connection (400-class) or keeps it usable (403 without body);
a case with a `message` gets a JSON answer whose message names it; and the
proxy still serves a well-formed request afterwards."""
import os
import socket
import sys
import time
from collections import Counter

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus import CASES, PING  # noqa: E402
from fake.rawhttp import json_message, read_response, read_until_close, reader_from_bytes, status_of  # noqa: E402
from fake.upstream import serve  # noqa: E402


def settle(proxy, up):
    """Waits until all that was sent has been acted on: the proxy sleeps, and (with a
    fake upstream) stays asleep while the upstream is found to have taken in and
    recorded everything it was sent."""
    assert proxy.wait_idle(up.settled if up else None), (
        f"the proxy (or the upstream) did not settle\n{proxy.stderr_text()[-2000:]}")


def exchange(proxy, case, up=None):
    """Every write of the case, each once the last one was acted on (then the case's
    pause, if any); then all the proxy answers until it closes, or has settled after
    the first complete head (anything smuggled behind it has arrived by then), or the
    case's timeout passes without an answer."""
    s = proxy.connect("unix", timeout=case["timeout"])
    out = b""
    try:
        for i, chunk in enumerate(case["raw"]):
            if i:
                settle(proxy, up)
                time.sleep(case["pause"])
            try:
                s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        deadline = time.monotonic() + case["timeout"]
        while not (status_of(out) and b"\r\n\r\n" in out):
            left = deadline - time.monotonic()
            if left <= 0:
                return out
            s.settimeout(left)
            try:
                d = s.recv(65536)
            except socket.timeout:
                return out
            except ConnectionResetError:
                return out
            if not d:
                return out
            out += d
        settle(proxy, up)
        return out + read_until_close(s, timeout=0)
    finally:
        s.close()


def check_answer(case, out, requests, log=lambda: ""):
    """The oracle for one case: its answer `out` and the request heads that
    reached the upstream meanwhile (`requests`, once proxy and upstream have
    settled); log() adds the proxy's log to the first failure's message."""
    assert status_of(out) == case["status"], f"answer: {out[:600]!r}\nproxy log:\n{log()[-2000:]}"

    # The oracle: nothing outside `reach` ever arrived at the upstream.
    got = Counter((r.method, r.target) for r in requests)
    allowed = Counter(case["reach"])
    extra = got - allowed
    assert not extra, f"requests reached the upstream that must not: {sorted(extra.elements())}"
    if case["status"] == 200:
        assert got == allowed, f"expected exactly {case['reach']}, upstream saw {sorted(got.elements())}"
    # 403 and a scoped profile's 404 (dockerd's answer for what it does not show) keep the connection
    if case["status"] >= 400 and case["status"] not in (403, 404):
        assert b"Connection: close" in out.split(b"\r\n\r\n", 1)[0], out[:400]
    is_head = case["raw"][0].startswith(b"HEAD ")
    if case["status"] in (403, 400, 408, 431, 501, 505, 417):
        body = out.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in out else b""
        if is_head:  # the proxy's own answer to HEAD: headers only, nothing after them
            assert body == b"", f"answer to HEAD carries body bytes: {out[:600]!r}"
        else:
            assert body.startswith(b'{"message":"socket-proxy: '), out[:600]
    if case["message"]:
        first = read_response(reader_from_bytes(out), method="HEAD" if is_head else "GET")
        assert case["message"] in json_message(first), first.body


PING_CLOSE = PING.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hostile(case, proxy_factory, fake_upstream):
    up = fake_upstream(serve())
    proxy = proxy_factory(env=case["env"], upstream=up.path)
    out = exchange(proxy, case, up)
    # all the proxy sent the upstream has been taken in once both have settled
    settle(proxy, up)
    check_answer(case, out, list(up.requests), proxy.stderr_text)

    # ... and the proxy keeps serving.
    assert proxy.alive()
    again = proxy.request(PING_CLOSE, timeout=3)
    assert status_of(again) == 200, again[:300]


@pytest.mark.once
@pytest.mark.parametrize("case", [c for c in CASES if c["status"] == 200 and not c["env"].get("POST")],
                         ids=lambda c: c["name"])
def test_allowed_cases_against_real_dockerd(case, proxy_factory, dockerd):
    proxy = proxy_factory(env=case["env"])
    out = exchange(proxy, case)
    status = status_of(out)
    assert status is not None and status < 500, out[:600]
    # A version prefix above the daemon's maximum is the daemon's own 400.
    if case["name"] in ("allowed /_ping", "allowed HEAD /_ping", "allowed /version"):
        assert status == 200, out[:600]

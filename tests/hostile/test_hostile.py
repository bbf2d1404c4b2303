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
from fake.rawhttp import json_message, read_response, reader_from_bytes, status_of  # noqa: E402
from fake.upstream import serve  # noqa: E402


def exchange(proxy, case):
    s = proxy.connect("unix", timeout=case["timeout"])
    out = b""
    try:
        for i, chunk in enumerate(case["raw"]):
            if i:
                time.sleep(case["pause"])
            try:
                s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        deadline = time.monotonic() + case["timeout"]
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not d:
                break
            out += d
            # keep reading a little after the first answer, to catch anything smuggled
            if status_of(out) and b"\r\n\r\n" in out:
                deadline = min(deadline, time.monotonic() + 0.3)
    finally:
        s.close()
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hostile(case, proxy_factory, fake_upstream):
    up = fake_upstream(serve())
    proxy = proxy_factory(env=case["env"], upstream=up.path)
    out = exchange(proxy, case)
    assert status_of(out) == case["status"], f"answer: {out[:600]!r}\nproxy log:\n{proxy.stderr_text()[-2000:]}"

    # The oracle: nothing outside `reach` ever arrived at the upstream.
    time.sleep(0.1)
    got = Counter((r.method, r.target) for r in up.requests)
    allowed = Counter(case["reach"])
    extra = got - allowed
    assert not extra, f"requests reached the upstream that must not: {sorted(extra.elements())}"
    if case["status"] == 200:
        assert got == allowed, f"expected exactly {case['reach']}, upstream saw {sorted(got.elements())}"
    if case["status"] >= 400 and case["status"] != 403:
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

    # ... and the proxy keeps serving.
    assert proxy.alive()
    again = proxy.request(PING.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"), timeout=3)
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

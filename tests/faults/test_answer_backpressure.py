"""The proxy's own answers obey backpressure: a client that pipelines ~100 MB of
requests the proxy answers itself (403 denied, or 502 with the daemon down) and
never reads gets no more answers made than its socket can hold. The proxy stops
reading it instead: its memory stays flat, it logs no answer that was not
delivered, other clients are served meanwhile, and the client can still read
every answer, in order, afterwards."""
import select
import socket
import struct
import time

import pytest

from fake import rawhttp
from fake.rawhttp import SockReader, request_bytes, unread_bytes, unsent_bytes
from fake.upstream import serve

TOTAL = 100 << 20        # bytes of requests to pipeline at most
SEND_DEADLINE = 12.0     # seconds of sending at most (a cap on the loop, not a bound tested)
RUNAWAY_KIB = 64 * 1024  # stop early (and fail) when the proxy's RSS passes this
PLAIN_RSS_KIB = 8 * 1024
ASAN_GROWTH_KIB = 16 * 1024
SLACK = 64               # answers the proxy may have made beyond those the client can read
BUF = 64 * 1024

# id -> (via, daemon up?, the pipelined request, the status of each answer)
CASES = {
    "unix-denied": ("unix", True, b"GET /a HTTP/1.1\r\nHost: d\r\n\r\n", 403),
    "tcp-denied": ("tcp", True, b"GET /a HTTP/1.1\r\nHost: d\r\n\r\n", 403),
    "unix-daemon-down": ("unix", False, b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n", 502),
}


def open_client(p, via):
    """A connection with small kernel buffers, so that "what the socket can hold" is small."""
    if via == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        addr = p.unix
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        addr = p.tcp
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUF)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, BUF)
    s.settimeout(5)
    s.connect(addr)
    return s


def proxy_side_unsent(s):
    """For TCP: the proxy's end of s still holds this many bytes in its send queue
    (tx_queue in /proc/net/tcp); 0 for Unix sockets, whose bytes are all in ours."""
    if s.family != socket.AF_INET:
        return 0
    mine = "%08X:%04X" % (struct.unpack("<I", socket.inet_aton(s.getsockname()[0]))[0], s.getsockname()[1])
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            if cols[2] == mine:  # the proxy's socket: its remote address is ours
                return int(cols[4].split(":")[0], 16)
    return 0


def access_line_count(p, request):
    first = request.split(b"\r\n", 1)[0].rsplit(b" ", 1)[0]  # b"GET /a"
    with open(p.stderr_path, "rb") as f:
        return f.read().count(b' "' + first + b'" ')


def other_client(p, via):
    """(status or error, seconds) of GET /_ping on a fresh connection. (Its query keeps
    its access line apart from the pipelined client's.) The seconds are a figure to
    print: the test asserts that the client is served, a starved one times out."""
    t = time.monotonic()
    try:
        s = p.connect(via, timeout=10)
        s.sendall(request_bytes("GET", "/_ping?other=1", {"Connection": "close"}))
        res = rawhttp.read_response(SockReader(s))
        s.close()
        got = res.status if res is not None else "closed"
    except OSError as e:
        got = repr(e)
    return got, time.monotonic() - t


@pytest.mark.parametrize("case", list(CASES))
def test_own_answers_obey_backpressure(fake_upstream, proxy_factory, proxy_bin, tmp_path, case):
    via, daemon_up, request, status = CASES[case]
    upstream = fake_upstream(serve()).path if daemon_up else str(tmp_path / "no-daemon.sock")
    env = {"SOCKET_PROXY_SHUTDOWN_GRACE": "2s", "LOG_LEVEL": "info"}
    if proxy_bin.asan:  # freed answers would sit in ASan's quarantine and count as growth
        env["ASAN_OPTIONS"] = proxy_bin.env["ASAN_OPTIONS"] + ":quarantine_size_mb=4:thread_local_quarantine_size_kb=64"
    p = proxy_factory(env, upstream=upstream)
    ping_status = 200 if daemon_up else 502
    assert other_client(p, via)[0] == ping_status
    base_kib = p.rss_kib()

    s = open_client(p, via)
    s.setblocking(False)
    block = request * ((1 << 20) // len(request))
    view = memoryview(block)
    sent = off = 0
    peak = base_kib
    checks = []
    start = last_sample = last_check = time.monotonic()
    why = "sent everything"
    try:
        while sent < TOTAL:
            now = time.monotonic()
            if now - start > SEND_DEADLINE:
                why = "deadline"
                break
            if now - last_sample > 0.1:
                last_sample = now
                peak = max(peak, p.rss_kib())
                if peak > RUNAWAY_KIB:
                    why = f"runaway: RSS passed {RUNAWAY_KIB} KiB"
                    break
            if now - last_check > 2:
                checks.append(other_client(p, via))
                last_check = time.monotonic()
            try:
                n = s.send(view[off:])
            except BlockingIOError:
                # Our bytes wait unread while the proxy sleeps: it stopped reading us.
                if p.idle_across(lambda: unsent_bytes(s)):
                    why = "the proxy stopped reading"
                    break
                select.select([], [s], [], 0.05)
                continue
            sent += n
            off = (off + n) % len(block)
        # The proxy has acted on all it read from us (and stopped reading the rest).
        assert p.wait_idle(), f"the proxy is still busy after the client stopped sending ({why})"
        peak = max(peak, p.rss_kib())
        # The answers the client can read now: all the proxy's answers to us are in the
        # kernel (our receive queue, or the proxy's TCP send queue) ...
        queued = unread_bytes(s) + proxy_side_unsent(s)
        logged = access_line_count(p, request)  # ... and every answer made was logged
        checks.append(other_client(p, via))
        requests_sent = sent // len(request)
        print(f"\n{case}: sent {sent >> 10} KiB ({requests_sent} requests) in {time.monotonic() - start:.1f}s, "
              f"stopped: {why}; RSS base {base_kib} KiB, peak {peak} KiB; {logged} answers logged, "
              f"{queued} bytes of answers queued; other clients: {checks}")

        # 1. memory
        if proxy_bin.asan:
            assert peak - base_kib < ASAN_GROWTH_KIB, f"RSS grew {peak - base_kib} KiB ({why})"
        else:
            assert peak < PLAIN_RSS_KIB, f"RSS reached {peak} KiB ({why})"

        # 2. other clients were served meanwhile (how fast is printed, not asserted)
        assert all(st == ping_status for st, _ in checks), checks

        # 3. read everything, in order: the first answers by their framing, then the rest
        # must be the same answer again for every complete request sent.
        s.setblocking(True)
        s.settimeout(10)
        r = SockReader(s)
        first = rawhttp.read_response(r)
        assert first is not None and first.status == status, first
        assert rawhttp.json_message(first).startswith("socket-proxy: "), first.body
        one = first.head + first.body
        # at most this many answers were made beyond those the client could read
        assert logged <= queued // len(one) + SLACK, (
            f"{logged} answers made and logged, but only {queued // len(one)} could reach the client: "
            f"the proxy kept answering a client that does not read")
        for _ in range(min(4, requests_sent - 1)):
            nxt = rawhttp.read_response(r)
            assert nxt is not None and nxt.head + nxt.body == one, nxt
        got = min(5, requests_sent) * len(one)
        want = requests_sent * len(one)
        rest = bytearray(r.buf)
        r.buf = b""
        deadline = time.monotonic() + 20
        while got + len(rest) < want and time.monotonic() < deadline:
            d = s.recv(1 << 20)
            if not d:
                break
            rest += d
            if len(rest) > (8 << 20):  # check and drop what is complete
                k = len(rest) // len(one) * len(one)
                assert rest[:k] == one * (k // len(one)), "answers out of order or mangled"
                got += k
                del rest[:k]
            peak = max(peak, p.rss_kib())
        k = len(rest) // len(one) * len(one)
        assert rest[:k] == one * (k // len(one)), "answers out of order or mangled"
        got += len(rest)
        assert got == want, f"read {got} bytes of answers, {want} expected ({requests_sent} requests)"
        final = access_line_count(p, request)
        assert final <= requests_sent + SLACK, (final, requests_sent)
    finally:
        s.close()

"""Access lines are unambiguous: in the text format the quoted "METHOD TARGET"
field escapes `"` as \\", `\\` as \\\\ and any byte outside printable ASCII as
\\xHH, so it reads back to exactly the target sent; the JSON format carries the
target as a JSON string."""
import json
import re

import pytest

from conftest import wait_for
from fake.upstream import serve

# id -> (raw request target, the status it gets with CONTAINERS=1)
TARGETS = {
    "quotes-braces-backslash": (b'/containers/json?filters={"health":["unhealthy"]}&x=a\\b', 200),
    "backslash-before-quote": (b'/_ping?q=\\"', 200),
    "trailing-backslash": (b"/_ping?q=\\", 200),
    "quoted-fake-fields": (b'/_ping?a="+allow+(PING=1)+200"', 200),
    "percent-control-byte": (b"/_ping%01x", 400),  # decodes to a control byte: refused, still logged
}

ACCESS_RE = re.compile(rb"^\S+Z (uid=\d+ pid=\d+|\S+) \"")


def access_lines(p):
    with open(p.stderr_path, "rb") as f:
        return [line for line in f.read().split(b"\n") if ACCESS_RE.match(line)]


def send_and_get_line(p, target):
    """One request on a fresh connection; the access line it produced (bytes)."""
    before = len(access_lines(p))
    p.request(b"GET " + target + b" HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n", timeout=3)
    wait_for(lambda: p.idle() and len(access_lines(p)) > before)  # idle: a second line would be there too
    lines = access_lines(p)
    assert len(lines) == before + 1, f"expected one new access line, got {lines[before:]}\n{p.stderr_text()[-2000:]}"
    return lines[-1]


def unescape_quoted(line):
    """(the bytes of the first quoted field with \\" \\\\ \\xHH undone, the rest of the
    line after its closing quote). Fails on a raw byte outside printable ASCII or an
    unknown escape: either would make the line ambiguous."""
    i = line.index(b'"') + 1
    out = bytearray()
    while True:
        assert i < len(line), f"unterminated quoted field: {line!r}"
        c = line[i]
        if c == ord('"'):
            return bytes(out), line[i + 1:]
        if c == ord("\\"):
            e = line[i + 1:i + 2]
            if e in (b'"', b"\\"):
                out += e
                i += 2
            elif e == b"x" and re.fullmatch(rb"[0-9a-fA-F]{2}", line[i + 2:i + 4]):
                out.append(int(line[i + 2:i + 4], 16))
                i += 4
            else:
                raise AssertionError(f"unknown escape {line[i:i + 4]!r} in {line!r}")
        else:
            assert 0x20 <= c <= 0x7e, f"raw byte 0x{c:02x} in the access line: {line!r}"
            out.append(c)
            i += 1


@pytest.mark.parametrize("case", list(TARGETS))
def test_text_access_line_reads_back_to_the_target(fake_upstream, proxy_factory, case):
    target, status = TARGETS[case]
    up = fake_upstream(serve())
    p = proxy_factory({"CONTAINERS": "1"}, upstream=up.path)
    line = send_and_get_line(p, target)
    field, rest = unescape_quoted(line)
    assert field == b"GET " + target, f"the access line reads back as {field!r}, not {b'GET ' + target!r}: {line!r}"
    m = re.match(rb" (allow|deny|bad) \(.*\) (\d{3}) \d+ [0-9.]+ms$", rest)
    assert m and int(m.group(2)) == status, f"after the quoted field: {rest!r} (line {line!r})"


def test_text_access_line_of_an_unparsable_head_is_printable(fake_upstream, proxy_factory):
    """A raw 0xff in the target is refused by the parser (400): whatever the line
    shows for it ("-" or the target), no raw byte outside printable ASCII."""
    up = fake_upstream(serve())
    p = proxy_factory(upstream=up.path)
    line = send_and_get_line(p, b"/_ping\xff")
    field, rest = unescape_quoted(line)
    assert field in (b"- -", b"GET /_ping\xff"), line
    assert re.match(rb" bad \(.*\) 400 ", rest), line
    assert all(0x20 <= c <= 0x7e for c in line), line


@pytest.mark.parametrize("case", list(TARGETS))
def test_json_access_line_keeps_the_exact_target(fake_upstream, proxy_factory, case):
    target, status = TARGETS[case]
    up = fake_upstream(serve())
    p = proxy_factory({"CONTAINERS": "1", "LOG_FORMAT": "json"}, upstream=up.path)
    p.request(b"GET " + target + b" HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n", timeout=3)

    def json_entries():
        with open(p.stderr_path, "rb") as f:
            return [e for e in (json.loads(x) for x in f.read().split(b"\n") if x.strip()) if "target" in e]

    wait_for(lambda: p.idle() and json_entries())  # idle: a second entry would be there too
    entries = json_entries()
    assert len(entries) == 1, entries
    assert entries[0]["target"] == target.decode("ascii") and entries[0]["status"] == status, entries[0]

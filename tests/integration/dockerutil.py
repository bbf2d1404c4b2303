"""Small helpers shared by the integration tests (not fixtures: see tests/conftest.py)."""
import hashlib
import queue
import re
import shutil
import subprocess
import threading
import time

VIAS = ["unix", "tcp"]
DOCKER = shutil.which("docker") or "/usr/local/bin/docker"

# What the docker CLI prints for a request the proxy refused.
DENIED_RE = r"Error response from daemon: socket-proxy: [A-Z]+ \S+ is not allowed \(needs [^)]*\)"


def denied_re(method, path_re, needs_re):
    """Regex for the CLI's line about a denied request. path_re matches the path after
    the optional /vX.Y prefix; needs_re what goes inside "(needs ...)"."""
    return (r"Error response from daemon: socket-proxy: " + method + r" (/v[0-9.]+)?" + path_re +
            r"(\?\S*)? is not allowed \(needs [^)]*" + needs_re + r"[^)]*\)")


def assert_denied(result, method, path_re, needs_re):
    assert result.returncode != 0, f"expected the proxy to deny {method} {path_re}, but the command succeeded:\n{result.stdout}"
    assert re.search(denied_re(method, path_re, needs_re), result.stderr), (
        f"CLI stderr does not show the proxy's 403 for {method} {path_re} (needs {needs_re}):\n{result.stderr}")


class LineReader:
    """Collects a text stream's lines in a thread; expect() waits for a matching line."""

    def __init__(self, stream):
        self.lines = []
        self._q = queue.Queue()
        self._t = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._t.start()

    def _pump(self, stream):
        for line in iter(stream.readline, ""):
            self._q.put(line.rstrip("\n"))
        self._q.put(None)

    def expect(self, pattern, timeout):
        """Wait for a line matching the regex; returns it, or raises AssertionError with
        everything seen so far."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {pattern!r} within {timeout}s; got {self.lines!r}")
            try:
                line = self._q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"stream ended before a line matching {pattern!r}; got {self.lines!r}")
            self.lines.append(line)
            if re.search(pattern, line):
                return line


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stop_process(proc, timeout=10):
    """Stop a client process this test started (by its Popen handle)."""
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass

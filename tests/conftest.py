"""Integration-test harness: a private dockerd, a busybox test image, the proxy
binaries under test and a scripted fake upstream.

Fixtures (names are an API other test files rely on):

  dockerd        session  private dockerd; .sock .env .docker(*args, input=None,
                          timeout=60, check=True) .root .log_tail()
  bb_image       session  "sp-test-busybox:latest" (busybox rootfs, docker import)
  proxy_bin      session  parametrized: build/socket-proxy ("plain") and
                          build/asan/socket-proxy ("asan") when present;
                          .path .name .asan .env
  proxy_factory  function proxy_factory(env=None, upstream=None, wait_ready=True)
                          -> Proxy (see class Proxy); all stopped at teardown
  fake_upstream  function fake_upstream(handler) -> started FakeUpstream
                          (tests/fake/upstream.py); stopped at teardown
  cleanup        function cleanup.container(name) / .image(name) / .network(name):
                          removed directly on the daemon at teardown
  unique_name    function a docker-safe name unique to the test ("sp-<test>-<hex>")
  tls_certs      session  CAs, server and client certificates, Docker-layout
                          directories (tests/tlscerts.py)

Markers:
  @pytest.mark.once       run with the first available binary only (slow tests)

Environment:
  SP_TEST_PLAIN_BIN, SP_TEST_ASAN_BIN   test other builds than build/socket-proxy
                          and build/asan/socket-proxy
  CI=true                 a dockerd that cannot start, or a missing binary, fails
                          the run instead of skipping it.
"""
import atexit
import io
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake.upstream import FakeUpstream  # noqa: E402
from tlscerts import tls_certs  # noqa: E402,F401 - the fixture, for every test

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKER = shutil.which("docker") or "/usr/local/bin/docker"
DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"
BUSYBOX = "/bin/busybox"
IMAGE = "sp-test-busybox:latest"

ASAN_OPTIONS = "detect_leaks=1:abort_on_error=0:exitcode=66"
UBSAN_OPTIONS = "print_stacktrace=1:halt_on_error=1"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "LeakSanitizer", "runtime error:")

# (id, path, is it the ASan+UBSan build); SP_TEST_PLAIN_BIN / SP_TEST_ASAN_BIN
# point the suite at other builds (e.g. build/static/socket-proxy).
BINARIES = [
    ("plain", os.environ.get("SP_TEST_PLAIN_BIN") or os.path.join(ROOT, "build", "socket-proxy"), False),
    ("asan", os.environ.get("SP_TEST_ASAN_BIN") or os.path.join(ROOT, "build", "asan", "socket-proxy"), True),
]


def in_ci():
    return os.environ.get("CI", "").lower() == "true"


def pytest_configure(config):
    config.addinivalue_line("markers", "once: run with one proxy binary only (slow tests)")


def pytest_sessionfinish(session, exitstatus):
    """Under CI=true a skipped test is a failed run: the real-daemon tests must run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if in_ci() and skipped and session.exitstatus == 0:
        reporter.write_line(f"CI=true: {len(skipped)} test(s) skipped; in CI every test must run", red=True)
        session.exitstatus = 1


# -- docker CLI environment ----------------------------------------------------------

_CLI_CONFIG = tempfile.mkdtemp(prefix="sp-cli-")  # empty: no user contexts/plugins/auth
atexit.register(shutil.rmtree, _CLI_CONFIG, True)


def wait_for(pred, timeout=5, interval=0.02):
    """Polls pred() until it is true or timeout seconds pass; returns its last value.
    Tests wait on the condition they assert, never on a fixed sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def cli_env(host, extra=None):
    """os.environ copy pointing the docker CLI at host, free of the user's settings."""
    env = dict(os.environ)
    for k in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_API_VERSION", "DOCKER_TLS"):
        env.pop(k, None)
    env["DOCKER_HOST"] = host
    env["DOCKER_CONFIG"] = _CLI_CONFIG
    env["DOCKER_CLI_HINTS"] = "false"
    if extra:
        env.update(extra)
    return env


class DockerCommandFailed(subprocess.CalledProcessError):
    def __str__(self):
        out = self.output if isinstance(self.output, str) else (self.output or b"")[:2000]
        return (f"`{' '.join(self.cmd)}` exited {self.returncode}\n"
                f"--- stdout ---\n{out}\n--- stderr ---\n{self.stderr}")


def run_docker(env, args, input=None, timeout=60, check=True, what=""):
    text = not isinstance(input, (bytes, bytearray))
    cmd = [DOCKER] + [str(a) for a in args]
    try:
        r = subprocess.run(cmd, env=env, input=input, capture_output=True, text=text, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"`{' '.join(cmd)}` {what}did not finish within {timeout}s\n"
                    f"stdout: {e.stdout!r:.2000}\nstderr: {e.stderr!r:.2000}", pytrace=False)
    if check and r.returncode != 0:
        raise DockerCommandFailed(r.returncode, cmd, r.stdout, r.stderr)
    return r


# -- dockerd -------------------------------------------------------------------------

class Dockerd:
    def __init__(self, root, exec_root):
        self.root = root
        self.exec_root = exec_root
        self.data_root = os.path.join(root, "data")
        self.sock = os.path.join(root, "docker.sock")
        self.log_path = os.path.join(root, "dockerd.log")
        self.host = "unix://" + self.sock
        self.env = cli_env(self.host)
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def docker(self, *args, input=None, timeout=60, check=True):
        return run_docker(self.env, args, input=input, timeout=timeout, check=check, what="(direct) ")

    def log_tail(self, n=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError as e:
            return f"(no log: {e})"

    def start(self, timeout=60):
        os.makedirs(self.data_root, exist_ok=True)
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [DOCKERD, "--host", self.host, "--data-root", self.data_root, "--exec-root", self.exec_root,
             "--pidfile", os.path.join(self.root, "d.pid"), "--bridge=none", "--iptables=false",
             "--ip6tables=false"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"dockerd exited with {self.proc.returncode}"
            if os.path.exists(self.sock):
                r = subprocess.run([DOCKER, "version"], env=self.env, capture_output=True, timeout=30)
                if r.returncode == 0:
                    return None
            time.sleep(0.25)
        return f"`docker version` did not succeed within {timeout}s"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                ids = subprocess.run([DOCKER, "ps", "-aq"], env=self.env, capture_output=True, text=True,
                                     timeout=30).stdout.split()
                if ids:
                    subprocess.run([DOCKER, "rm", "-f"] + ids, env=self.env, capture_output=True, timeout=60)
            except subprocess.TimeoutExpired:
                pass
            containerd_pid = self._containerd_pid()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            # dockerd's managed containerd normally exits with it; if it did not, it
            # is ours (its cmdline names our exec-root): stop it by pid.
            if containerd_pid and _pid_cmdline_has(containerd_pid, self.exec_root):
                _kill_pid(containerd_pid)
        self._umount_leftovers()
        shutil.rmtree(self.exec_root, ignore_errors=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def _containerd_pid(self):
        try:
            with open(os.path.join(self.exec_root, "containerd", "containerd.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def _umount_leftovers(self):
        roots = (self.root.rstrip("/") + "/", self.exec_root.rstrip("/") + "/")
        try:
            with open("/proc/self/mountinfo") as f:
                points = [line.split()[4] for line in f]
        except OSError:
            return
        points = [p.replace("\\040", " ") for p in points if p.startswith(roots)]
        for p in sorted(points, key=len, reverse=True):
            subprocess.run(["umount", "-l", p], capture_output=True)


def _voluntary_switches(task_dir):
    with open(task_dir + "/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise ValueError("no voluntary_ctxt_switches in " + task_dir + "/status")


def _pid_cmdline_has(pid, needle):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return needle.encode() in f.read()
    except OSError:
        return False


def _kill_pid(pid):
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            time.sleep(0.1)
            os.kill(pid, 0)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def dockerd():
    why = None
    if not (os.path.exists(DOCKERD) and os.path.exists(DOCKER)):
        why = f"dockerd ({DOCKERD}) or docker CLI ({DOCKER}) not installed"
    d = None
    if why is None:
        root = tempfile.mkdtemp(prefix="sp-it-", dir="/tmp")
        exec_root = tempfile.mkdtemp(prefix="spx", dir="/tmp")  # short: socket paths <= 107 bytes
        d = Dockerd(root, exec_root)
        try:
            why = d.start()
        except Exception as e:  # noqa: BLE001 - report anything as "cannot start"
            why = f"starting dockerd raised {e!r}"
        if why:
            why += "\n--- dockerd log tail ---\n" + d.log_tail()
            d.stop()
    if why:
        msg = "!!! REAL-DAEMON INTEGRATION TESTS NOT RUN: private dockerd unavailable: " + why
        if in_ci():
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    try:
        yield d
    finally:
        d.stop()


def busybox_rootfs_tar():
    """An uncompressed tar: /bin/busybox plus a symlink per applet, /tmp, /etc."""
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for d, mode in (("bin", 0o755), ("etc", 0o755), ("tmp", 0o1777), ("root", 0o700)):
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode = tarfile.DIRTYPE, mode
            tar.addfile(ti)
        tar.add(BUSYBOX, arcname="bin/busybox")
        for a in applets:
            if a == "busybox" or "/" in a:
                continue
            ti = tarfile.TarInfo("bin/" + a)
            ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, "busybox", 0o777
            tar.addfile(ti)
        for name, data in (("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"), ("etc/group", b"root:x:0:\n")):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), 0o644
            tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture(scope="session")
def bb_image(dockerd):
    if not os.path.exists(BUSYBOX):
        msg = f"{BUSYBOX} missing (Debian package busybox-static): cannot build the test image"
        if in_ci():
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    dockerd.docker("import", "-", IMAGE, input=busybox_rootfs_tar(), timeout=120)
    return IMAGE


# -- the binaries under test -----------------------------------------------------------

class ProxyBin:
    def __init__(self, name, path, asan):
        self.name = name
        self.path = path
        self.asan = asan
        self.env = {"ASAN_OPTIONS": ASAN_OPTIONS, "UBSAN_OPTIONS": UBSAN_OPTIONS} if asan else {}

    def __repr__(self):
        return f"<ProxyBin {self.name} {self.path}>"


def _available_binaries():
    found = [b for b in BINARIES if os.path.exists(b[1])]
    return found or BINARIES[:1]  # nothing built: one param, the fixture skips/fails


def pytest_generate_tests(metafunc):
    if "proxy_bin" in metafunc.fixturenames:
        bins = _available_binaries()
        if metafunc.definition.get_closest_marker("once"):
            bins = bins[:1]
        metafunc.parametrize("proxy_bin", bins, ids=[b[0] for b in bins], indirect=True, scope="session")


@pytest.fixture(scope="session")
def proxy_bin(request):
    name, path, asan = request.param
    if not os.access(path, os.X_OK):
        msg = f"{os.path.relpath(path, ROOT)} not built (run `python3 configure.py && ninja`)"
        if in_ci():
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return ProxyBin(name, path, asan)


# -- the proxy -------------------------------------------------------------------------

_ports_given = set()


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def free_port():
    """A TCP port no socket uses now, for a listener a test is about to start.

    Not from the kernel's ephemeral range: a port bind(0) returned can be taken by any
    outgoing connection (the proxy's, dockerd's, a client's) before the proxy binds it,
    and a live connection on 127.0.0.1:P makes binding 0.0.0.0:P fail. Never the same
    port twice in a run either, so no earlier proxy's lingering socket can hold it."""
    lo, hi = _ephemeral_range()
    ranges = [r for r in ((20000, min(lo, 32768) - 1), (max(hi, 1023) + 1, 65535)) if r[1] - r[0] > 500]
    rng = random.Random()
    for _ in range(2000):
        a, b = rng.choice(ranges) if ranges else (1024, 65535)
        port = rng.randint(a, b)
        if port in _ports_given:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("0.0.0.0", port))
        except OSError:
            continue
        _ports_given.add(port)
        return port
    raise RuntimeError("no free TCP port outside the ephemeral range")


def _first_listen(value):
    """(host, port) to connect to for the first TCP listen entry, or None."""
    if not value or value.strip().lower() in ("off", "none", "0", "false"):
        return None
    for entry in value.split(","):
        entry = entry.strip()
        host, sep, port = entry.rpartition(":")
        if not sep or not port.isdigit():
            continue
        host = host.strip("[]") or "127.0.0.1"
        if host in ("0.0.0.0", "*"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        return host, int(port)
    return None


class Proxy:
    """One running socket-proxy process.

    .unix .port .host_unix .host_tcp .pid .proc .env .bin
    .docker(*args, via="unix"|"tcp", input=None, timeout=60, check=True, env=None)
    .connect(via) -> connected socket
    .request(raw, via, timeout=5) -> bytes read until close or timeout
    .http(method, path, headers=None, body=None, via, timeout=10) -> (status, headers, body)
    .stderr_text() .rss_kib() .alive() .stop(sig=SIGTERM, timeout=10) -> returncode
    .idle() .idle_across(check) .wait_idle(check=None, timeout=10): whether it has acted
    on everything sent to it (its event loop sleeps), the condition to wait on
    """

    def __init__(self, binary, env, workdir):
        self.bin = binary
        self.env = env
        self.workdir = workdir
        vol = env.get("SOCKET_PROXY_VOLUME")
        self.unix = os.path.join(vol, "docker.sock") if vol else None
        self.tcp = _first_listen(env.get("SOCKET_PROXY_LISTEN"))
        self.port = self.tcp[1] if self.tcp else None
        self.stderr_path = os.path.join(workdir, "stderr.log")
        self.stdout_path = os.path.join(workdir, "stdout.log")
        self.proc = None
        self.returncode = None
        self.stopped_by_test = False
        self.checked = False

    @property
    def pid(self):
        return self.proc.pid

    @property
    def host_unix(self):
        return "unix://" + self.unix if self.unix else None

    @property
    def host_tcp(self):
        if not self.tcp:
            return None
        host = f"[{self.tcp[0]}]" if ":" in self.tcp[0] else self.tcp[0]
        return f"tcp://{host}:{self.port}"

    def start(self, wait_ready=True, timeout=10):
        with open(self.stderr_path, "wb") as err, open(self.stdout_path, "wb") as out:
            self.proc = subprocess.Popen([self.bin.path], env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err, cwd=self.workdir)
        if wait_ready:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self.returncode = rc
                self.checked = True
                pytest.fail(f"socket-proxy exited with {rc} before becoming ready\n"
                            f"--- stderr ---\n{self.stderr_text()}", pytrace=False)
            # The files and ports appear as the proxy binds them, one listener after
            # another; its event loop runs only once every listener (each profile's
            # socket and port) is open, so ready means: those answer and the loop
            # has slept once. The TCP probe itself wakes the proxy (over TLS it
            # ends a handshake and logs it), so after a probe that answered, the
            # wait is for sleep alone, not for another probe.
            if self._ready() and wait_for(self.idle, 2):
                return
            if time.monotonic() > deadline:
                pytest.fail(f"socket-proxy not ready within {timeout}s (unix={self.unix} tcp={self.tcp})\n"
                            f"--- stderr ---\n{self.stderr_text()}", pytrace=False)
            time.sleep(0.02)

    def _ready(self):
        if self.unix and not os.path.exists(self.unix):
            return False
        if self.tcp:
            try:
                socket.create_connection(self.tcp, timeout=1).close()
            except OSError:
                return False
        return True

    def alive(self):
        return self.proc.poll() is None

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _loop_asleep(self):
        """How often the proxy's (single) event-loop thread has gone to sleep so far, if
        it sleeps in epoll_wait at this moment; else None."""
        task = f"/proc/{self.pid}/task/{self.pid}"
        try:
            before = _voluntary_switches(task)
            with open(task + "/stat") as f:
                stat = f.read()
            with open(task + "/wchan") as f:
                wchan = f.read()
            after = _voluntary_switches(task)
        except (OSError, ValueError):
            return None
        state = stat[stat.rindex(")") + 2]
        return after if state == "S" and "epoll_wait" in wchan and before == after else None

    def idle(self):
        """The proxy has acted on everything sent to it so far: its event loop sleeps in
        epoll_wait. (A byte, connection or close arriving on a socket it watches wakes
        it before the sender's call returns, so "asleep" means nothing of it is left.)"""
        return self._loop_asleep() is not None

    def idle_across(self, check):
        """True if the proxy sleeps in epoll_wait, check() is true, and the proxy has not
        woken in between: check() saw a state the proxy's own work cannot change."""
        mark = self._loop_asleep()
        return mark is not None and bool(check()) and self._loop_asleep() == mark

    def wait_idle(self, check=None, timeout=10):
        """wait_for(idle(), or idle_across(check) when given): the condition a test waits
        on before asserting what the proxy has (not) done with what it was sent."""
        return wait_for(lambda: self.idle_across(check) if check else self.idle(), timeout)

    def rss_kib(self):
        """VmRSS of the proxy in KiB (from /proc/PID/status)."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    # -- clients --------------------------------------------------------------------
    def host(self, via):
        h = {"unix": self.host_unix, "tcp": self.host_tcp}[via]
        assert h, f"this proxy has no {via} listener"
        return h

    def docker_env(self, via="unix", extra=None):
        return cli_env(self.host(via), extra)

    def docker(self, *args, via="unix", input=None, timeout=60, check=True, env=None):
        try:
            return run_docker(self.docker_env(via, env), args, input=input, timeout=timeout, check=check,
                              what=f"(via proxy {via}) ")
        except DockerCommandFailed as e:
            e.stderr = (e.stderr or "") + "\n--- proxy stderr (tail) ---\n" + self.stderr_text()[-3000:]
            raise

    def connect(self, via="unix", timeout=5):
        if via == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            s.connect(self.unix)
            return s
        return socket.create_connection(self.tcp, timeout=timeout)

    def request(self, raw, via="unix", timeout=5):
        """Send raw bytes on a fresh connection; return everything read until the proxy
        closes or `timeout` seconds pass without the connection closing."""
        s = self.connect(via, timeout)
        out = b""
        deadline = time.monotonic() + timeout
        try:
            s.sendall(raw)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    data = s.recv(65536)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    break
                if not data:
                    break
                out += data
        finally:
            s.close()
        return out

    def http(self, method, path, headers=None, body=None, via="unix", timeout=10):
        """One request on a fresh connection -> (status, headers lowercased, body)."""
        import http.client

        proxy = self

        class Conn(http.client.HTTPConnection):
            def connect(self):
                self.sock = proxy.connect(via, timeout)

        c = Conn("docker", timeout=timeout)
        try:
            c.request(method, path, body=body, headers=dict(headers or {}))
            r = c.getresponse()
            data = r.read()
            hdrs = {}
            for k, v in r.getheaders():
                k = k.lower()
                hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
            return r.status, hdrs, data
        finally:
            c.close()

    # -- stop -----------------------------------------------------------------------
    def shutdown_grace(self):
        """SOCKET_PROXY_SHUTDOWN_GRACE in seconds (the proxy's default: 10 s)."""
        v = self.env.get("SOCKET_PROXY_SHUTDOWN_GRACE", "10s").strip()
        for suffix, mult in (("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("", 1)):
            if v.endswith(suffix):
                try:
                    return float(v[:len(v) - len(suffix)] if suffix else v) * mult
                except ValueError:
                    break
        return 10.0

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Signal the proxy, wait for it, check sanitizer output; returns the exit code
        (negative: killed by that signal). Fails the test if it does not exit in time
        (default: the shutdown grace, during which open connections may finish, + 5 s)."""
        if timeout is None:
            timeout = self.shutdown_grace() + 5
        self.stopped_by_test = True
        hung = False
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                hung = True
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.returncode = self.proc.returncode
        self.check_sanitizers()
        if hung:
            pytest.fail(f"socket-proxy did not exit within {timeout}s of signal {sig}\n"
                        f"--- stderr ---\n{self.stderr_text()[-3000:]}", pytrace=False)
        return self.returncode

    def check_sanitizers(self):
        self.checked = True
        err = self.stderr_text()
        if self.returncode == 66 or any(m in err for m in SANITIZER_MARKS):
            pytest.fail(f"sanitizer report from {self.bin.name} socket-proxy (exit {self.returncode}):\n{err[-12000:]}",
                        pytrace=False)


@pytest.fixture
def proxy_factory(request, proxy_bin):
    proxies = []
    dirs = []

    def factory(env=None, upstream=None, wait_ready=True):
        workdir = tempfile.mkdtemp(prefix="spp-", dir="/tmp")  # short: socket path <= 107 bytes
        dirs.append(workdir)
        if upstream is None:
            upstream = request.getfixturevalue("dockerd").sock
        vol = os.path.join(workdir, "vol")
        os.mkdir(vol)
        full = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "SOCKET_PROXY_UID": "0",
            "SOCKET_PROXY_GID": "0",
            "SOCKET_PROXY_VOLUME": vol,
            "SOCKET_PROXY_LISTEN": f"127.0.0.1:{free_port()}",
            "SOCKET_PATH": upstream,
            "LOG_LEVEL": "info",
        }
        full.update(proxy_bin.env)
        for k, v in (env or {}).items():
            if v is None:
                full.pop(k, None)
            else:
                full[k] = str(v)
        p = Proxy(proxy_bin, full, workdir)
        proxies.append(p)
        return p.start(wait_ready=wait_ready)

    yield factory

    problems = []
    for p in proxies:
        if p.proc is None:
            continue
        if p.proc.poll() is None:
            try:
                p.stop()
            except BaseException as e:  # noqa: BLE001 - keep stopping the others
                problems.append(str(e))
            continue
        p.returncode = p.proc.returncode
        if not p.checked:
            try:
                p.check_sanitizers()
            except BaseException as e:  # noqa: BLE001
                problems.append(str(e))
                continue
            if p.returncode < 0 and not p.stopped_by_test:
                problems.append(f"socket-proxy died of signal {-p.returncode} during the test\n"
                                f"--- stderr ---\n{p.stderr_text()[-4000:]}")
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def fake_upstream():
    ups = []
    dirs = []

    def factory(handler):
        d = tempfile.mkdtemp(prefix="spu-", dir="/tmp")
        dirs.append(d)
        u = FakeUpstream(os.path.join(d, "daemon.sock"), handler).start()
        ups.append(u)
        return u

    yield factory
    for u in ups:
        u.stop()
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


class Cleanup:
    """Docker objects a test created; removed (directly on the daemon) at teardown."""

    def __init__(self, request):
        self.request = request
        self.dockerd = None
        self.containers, self.images, self.networks = [], [], []

    def _add(self, where, name):
        if self.dockerd is None:  # resolved now: fixtures cannot be requested in teardown
            self.dockerd = self.request.getfixturevalue("dockerd")
        where.append(name)
        return name

    def container(self, name):
        return self._add(self.containers, name)

    def image(self, name):
        return self._add(self.images, name)

    def network(self, name):
        return self._add(self.networks, name)

    def run(self):
        if self.dockerd is None:
            return
        if self.containers:
            self.dockerd.docker("rm", "-f", *self.containers, check=False)
        if self.images:
            self.dockerd.docker("rmi", "-f", *self.images, check=False)
        for n in self.networks:
            self.dockerd.docker("network", "rm", n, check=False)


@pytest.fixture
def cleanup(request):
    """cleanup.container(name) / .image(name) / .network(name) register a name (and
    return it); registered objects are removed directly on the daemon at teardown."""
    c = Cleanup(request)
    yield c
    c.run()


@pytest.fixture
def unique_name(request):
    """A docker-safe name unique to this test invocation: prefix it as you like."""
    import re
    import uuid
    base = re.sub(r"[^a-zA-Z0-9_.-]+", "-", request.node.name)[-30:].strip("-.") or "t"
    return f"sp-{base}-{uuid.uuid4().hex[:8]}"

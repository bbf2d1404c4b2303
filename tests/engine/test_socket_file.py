"""The Unix socket file, started as root and dropping to SOCKET_PROXY_UID=1000: a
symlink at the socket path is never followed (no start, no chmod/chown through
it), the mode comes from the umask at bind (no chmod at all), the volume directory
keeps its owner, and the socket left behind in a root-owned directory is replaced
by the next start."""
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import SANITIZER_MARKS, wait_for
from fake.rawhttp import PING_CLOSE, status_of
from fake.upstream import serve

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="starts the proxy as root to drop to uid 1000")


def reachable_upstream(fake_upstream):
    """A fake daemon uid 1000 can connect to (after the drop, the proxy checks it)."""
    up = fake_upstream(serve())
    os.chmod(os.path.dirname(up.path), 0o755)
    os.chmod(up.path, 0o666)
    return up


def dropping_env(proxy_bin, vol, upstream, **extra):
    env = {"PATH": "/usr/bin:/bin", "SOCKET_PROXY_VOLUME": str(vol), "SOCKET_PROXY_LISTEN": "off",
           "SOCKET_PROXY_UID": "1000", "SOCKET_PROXY_GID": "1000", "SOCKET_PATH": upstream, "LOG_LEVEL": "info"}
    env.update(proxy_bin.env)
    env.update(extra)
    return env


@pytest.fixture
def tmp_path():
    """Like pytest's tmp_path, but reachable by uid 1000 (pytest's parents are 0700):
    otherwise the proxy, once uid 1000, could not reach its own socket's directory."""
    d = tempfile.mkdtemp(prefix="sp-sock-", dir="/tmp")
    os.chmod(d, 0o755)
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


def root_dir(path, mode=0o755):
    path.mkdir()
    os.chown(path, 0, 0)
    os.chmod(path, mode)
    return path


# -- (a) a symlink at the socket path: start-up fails, its target is untouched ---------------

SYMLINK_TARGETS = ["regular-file", "dangling"]


@pytest.mark.parametrize("case", SYMLINK_TARGETS)
def test_symlink_at_socket_path_is_refused(proxy_bin, tmp_path, case):
    vol = root_dir(tmp_path / "vol")
    target = tmp_path / "target"
    if case == "regular-file":
        target.write_text("precious")
        os.chmod(target, 0o640)
        os.chown(target, 0, 0)
    os.symlink(target, vol / "docker.sock")
    before = os.stat(target) if case == "regular-file" else None
    env = dropping_env(proxy_bin, vol, str(tmp_path / "no-daemon.sock"))
    r = subprocess.run([proxy_bin.path], env=env, capture_output=True, text=True, timeout=10)
    problems = [x for x in r.stderr.splitlines() if x.strip() and " info: " not in x]
    assert r.returncode != 0, f"started with a symlink at the socket path:\n{r.stderr}"
    assert len(problems) == 1 and "docker.sock" in problems[0], r.stderr
    assert os.path.islink(vol / "docker.sock") and os.readlink(vol / "docker.sock") == str(target)
    if case == "regular-file":
        after = os.stat(target)
        assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (0o640, 0, 0), after
        assert (before.st_mode, before.st_uid, before.st_gid) == (after.st_mode, after.st_uid, after.st_gid)
        assert target.read_text() == "precious"
    else:
        assert not os.path.lexists(target), "something was created at the dangling symlink's target"


# -- (b) no chmod at all, and no chown that follows a symlink, on the socket path -------------

TRACED = ["chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown", "fchownat"]


def strace_syscalls():
    have = shutil.which("strace")
    if not have:
        return None
    names = list(TRACED)
    # fchmodat2 (Linux 6.6) is traced where this strace knows it
    if subprocess.run([have, "-e", "trace=fchmodat2", "true"], capture_output=True).returncode == 0:
        names.append("fchmodat2")
    return have, names


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def test_socket_path_gets_no_chmod_and_no_symlink_following_chown(fake_upstream, proxy_bin, tmp_path):
    found = strace_syscalls()
    if found is None:
        pytest.skip("strace not installed (Debian package strace; .ci/run installs it)")
    strace, names = found
    up = reachable_upstream(fake_upstream)
    vol = root_dir(tmp_path / "vol")
    sock = vol / "docker.sock"
    trace = tmp_path / "trace.txt"
    env = dropping_env(proxy_bin, vol, up.path)
    if proxy_bin.asan:
        # LeakSanitizer cannot run under ptrace: leaks are checked by every other test.
        env["ASAN_OPTIONS"] = env["ASAN_OPTIONS"].replace("detect_leaks=1", "detect_leaks=0")
    errf = open(tmp_path / "stderr.log", "wb")
    tracer = subprocess.Popen([strace, "-f", "-qq", "-e", "trace=" + ",".join(names), "-o", str(trace), "--",
                               proxy_bin.path], env=env, stdin=subprocess.DEVNULL, stdout=errf, stderr=errf)
    errf.close()
    try:
        wait_for(lambda: tracer.poll() is not None or (sock.exists() and children_of(tracer.pid)), timeout=15)
        assert tracer.poll() is None, (tmp_path / "stderr.log").read_text()
        assert sock.exists(), (tmp_path / "stderr.log").read_text()
        st = os.stat(sock)
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)
        assert (st.st_uid, st.st_gid) == (1000, 1000), (st.st_uid, st.st_gid)
        c = socket.socket(socket.AF_UNIX)
        c.settimeout(5)
        c.connect(str(sock))
        c.sendall(PING_CLOSE)
        assert status_of(c.recv(4096)) == 200
        c.close()
    finally:
        for pid in children_of(tracer.pid):
            os.kill(pid, signal.SIGTERM)
        try:
            tracer.wait(timeout=20)
        except subprocess.TimeoutExpired:
            tracer.kill()
            tracer.wait()
    log = (tmp_path / "stderr.log").read_text(errors="replace")
    assert not any(m in log for m in SANITIZER_MARKS), log[-4000:]

    calls = []
    for line in trace.read_text(errors="replace").splitlines():
        m = re.match(r"^\d+\s+(\w+)\((.*)\)\s+=", line)
        if m:
            calls.append((m.group(1), m.group(2), line))
    chmods = [line for name, _, line in calls if "chmod" in name]
    following = []
    for name, args, line in calls:
        if "chown" not in name or str(sock) not in args:
            continue
        if name == "lchown" or (name == "fchownat" and "AT_SYMLINK_NOFOLLOW" in args):
            continue
        following.append(line)
    assert not chmods and not following, (
        "the socket's mode must come from the umask at bind, with no chmod at all:\n" + "\n".join(chmods) +
        "\npath-based chown that follows a symlink, on the socket path:\n" + "\n".join(following))


# -- (c) the volume directory keeps its owner; the socket left in it is replaced next time ----

def start(proxy_bin, env):
    errf = open(os.path.join(env["SOCKET_PROXY_VOLUME"], "..", "stderr.log"), "ab")
    p = subprocess.Popen([proxy_bin.path], env=env, stdin=subprocess.DEVNULL, stdout=errf, stderr=errf)
    errf.close()
    return p


def stop(p):
    p.send_signal(signal.SIGTERM)
    return p.wait(timeout=15)


def ping_via(path, timeout=5):
    """The status of GET /_ping on the socket at path, retried while it cannot be
    reached (the proxy is starting) for up to timeout seconds; then the error."""
    errors = []

    def ping():
        try:
            c = socket.socket(socket.AF_UNIX)
            c.settimeout(5)
            c.connect(str(path))
            c.sendall(PING_CLOSE)
            out = c.recv(4096)
            c.close()
            return ("status", status_of(out))
        except OSError as e:
            errors.append(e)
            return None

    got = wait_for(ping, timeout, interval=0.05)
    if got is None:
        raise errors[-1]
    return got[1]


def log_of(tmp_path):
    try:
        return (tmp_path / "stderr.log").read_text(errors="replace")
    except OSError:
        return ""


def test_volume_directory_keeps_its_owner(fake_upstream, proxy_bin, tmp_path):
    up = reachable_upstream(fake_upstream)
    vol = root_dir(tmp_path / "vol")  # empty and root's: what a fresh named volume looks like
    p = start(proxy_bin, dropping_env(proxy_bin, vol, up.path))
    try:
        assert ping_via(vol / "docker.sock") == 200, log_of(tmp_path)
        st = os.stat(vol)
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, 0, 0o755), (
            f"the volume directory became {st.st_uid}:{st.st_gid} mode {oct(st.st_mode)}")
    finally:
        assert stop(p) == 0, log_of(tmp_path)
    assert not any(m in log_of(tmp_path) for m in SANITIZER_MARKS), log_of(tmp_path)[-4000:]


def test_socket_stays_in_root_owned_volume_and_next_start_replaces_it(fake_upstream, proxy_bin, tmp_path):
    """Running as uid 1000 the proxy cannot remove its socket from a root-owned
    directory at exit: the file stays, and the next start (as root again) replaces it."""
    up = reachable_upstream(fake_upstream)
    vol = root_dir(tmp_path / "vol")
    sock = vol / "docker.sock"
    env = dropping_env(proxy_bin, vol, up.path)
    p = start(proxy_bin, env)
    try:
        assert ping_via(sock) == 200, log_of(tmp_path)
    finally:
        assert stop(p) == 0, log_of(tmp_path)
    assert os.path.exists(sock) and stat.S_ISSOCK(os.lstat(sock).st_mode), (
        "the socket was removed at exit: the root-owned volume directory must have been given to uid 1000")
    p = start(proxy_bin, env)  # a left-behind socket answers nothing: served means replaced
    try:
        assert ping_via(sock) == 200, log_of(tmp_path)
        st = os.stat(sock)
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1000, 1000, 0o660), (st.st_uid, st.st_gid)
    finally:
        assert stop(p) == 0, log_of(tmp_path)
    assert not any(m in log_of(tmp_path) for m in SANITIZER_MARKS), log_of(tmp_path)[-4000:]

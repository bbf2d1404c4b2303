"""The builds configure.py can make besides the default one: `configure.py
--without-tls` (core/tls_none.c, no mbed TLS) builds from a copy of the tree
and refuses the TLS variables with one line."""
import os
import shutil
import socket
import subprocess

import pytest

from conftest import ROOT, in_ci


def source_copy(dst):
    """The files git tracks, copied to dst (no build/, nothing untracked)."""
    if not shutil.which("git"):
        (pytest.fail if in_ci() else pytest.skip)("git not found: cannot list the tracked files")
    r = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], capture_output=True, text=True)
    if r.returncode != 0:
        (pytest.fail if in_ci() else pytest.skip)(f"not a git checkout: {r.stderr.strip()}")
    for rel in filter(None, r.stdout.split("\0")):
        src = os.path.join(ROOT, rel)
        if os.path.isfile(src):  # deleted in the working tree: left out, as git would
            os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(dst, rel))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_without_tls_builds_and_refuses_tls_variables(tmp_path):
    tree = tmp_path / "tree"
    source_copy(tree)
    env = dict(os.environ)  # under CI=true, configure.py adds -Werror: core/tls_none.c must be clean too
    r = subprocess.run(["/usr/bin/python3", "configure.py", "--without-tls"], cwd=tree, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "without TLS" in r.stdout, r.stdout
    config = (tree / "build" / "config.ninja").read_text()
    assert "tls_src = core/tls_none.c\n" in config, config
    assert "static_deps_args = --without-tls\n" in config and "static_tls_libs = \n" in config, config
    r = subprocess.run(["ninja", "build/socket-proxy"], cwd=tree, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    binary = tree / "build" / "socket-proxy"
    assert b"mbedtls_" not in binary.read_bytes(), "a --without-tls build links mbed TLS"

    # A TLS directory with Docker's file names: all that is wrong is the build.
    tls_dir = tmp_path / "tls"
    tls_dir.mkdir()
    for name in ("server-cert.pem", "server-key.pem", "ca.pem"):
        (tls_dir / name).write_text("-----BEGIN NOTHING-----\n")
    run_env = {"PATH": "/usr/bin:/bin", "SOCKET_PROXY_TLS_DIR": str(tls_dir),
               "SOCKET_PROXY_VOLUME": str(tmp_path / "vol"), "SOCKET_PROXY_LISTEN": f"127.0.0.1:{free_port()}",
               "SOCKET_PATH": "/nonexistent.sock", "SOCKET_PROXY_UID": "0", "SOCKET_PROXY_GID": "0"}
    try:
        r = subprocess.run([str(binary)], env=run_env, capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("the --without-tls build started with SOCKET_PROXY_TLS_DIR set")
    assert r.returncode == 2, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    assert "SOCKET_PROXY_TLS_DIR" in lines[0] and "this build has no TLS" in lines[0], lines[0]
    assert r.stdout == ""

#!/usr/bin/env python3
"""Probe this machine and write build/config.ninja, which build.ninja includes.

One line per missing dependency, naming the Debian package that provides it.
Usage: python3 configure.py [--cc CC] [--werror] [--without-tls]
Environment: CC (default for --cc), CI=true (implies --werror).

build/config.ninja records the arguments that reproduce it ($configure_args):
build.ninja re-runs configure.py with them when configure.py or VERSION changes.
The static build's dependencies are fetched by tools/static-deps.py (`ninja static`).
"""
import argparse
import os
import shlex
import shutil
import subprocess
import sys

BUILD = "build"
# The fuzz targets need clang's libFuzzer runtime, which Debian ships per version
# (libclang-rt-14-dev): use the clang of that version, as .ci/run installs it.
CLANG = "clang-14"

# (what, how to probe, Debian package)
NEEDED = [
    ("C compiler", lambda: shutil.which(os.environ.get("CC", "cc")), "gcc"),
    ("ninja", lambda: shutil.which("ninja"), "ninja-build"),
    ("pkg-config", lambda: shutil.which("pkg-config"), "pkg-config"),
    ("libuv (pkg-config libuv)", lambda: pkg_ok("libuv"), "libuv1-dev"),
    ("cJSON (pkg-config libcjson)", lambda: pkg_ok("libcjson"), "libcjson-dev"),
]
# TLS (core/tls.c): Debian's mbed TLS for the dynamic builds; the static build
# compiles it from Debian's source package (tools/static-deps.py).
TLS_NEEDED = ("mbed TLS (/usr/include/mbedtls/ssl.h; or configure.py --without-tls)",
              lambda: os.path.isfile("/usr/include/mbedtls/ssl.h"), "libmbedtls-dev")
TLS_LIBS = "-lmbedtls -lmbedx509 -lmbedcrypto"
# Needed only by some targets; reported, never fatal.
OPTIONAL = [
    ("musl-gcc (ninja static)", lambda: shutil.which("musl-gcc"), "musl-tools"),
    ("dpkg-source (ninja static fetches Debian sources)", lambda: shutil.which("dpkg-source"), "dpkg-dev"),
    (f"{CLANG} (ninja fuzz)", lambda: shutil.which(CLANG), f"{CLANG} libclang-rt-14-dev"),
    ("python3 pytest (ninja test)", lambda: pytest_ok(), "python3-pytest"),
    ("dockerd (real-daemon tests)", lambda: shutil.which("dockerd"), "docker.io"),
    ("docker-compose (compose tests)", lambda: shutil.which("docker-compose"), "docker-compose"),
    ("busybox (test images)", lambda: os.path.exists("/bin/busybox"), "busybox-static"),
    ("go (route-table differential, tests/routes)", lambda: shutil.which("go"), "golang-go"),
    ("gorilla/mux for Go in GOPATH mode (tests/routes)", lambda: gorilla_mux_ok(), "golang-github-gorilla-mux-dev"),
    ("OpenSSL headers (ninja bench: bench/tlsload.c, the TLS client of bench/tls.py; never the product)",
     lambda: os.path.isfile("/usr/include/openssl/ssl.h"), "libssl-dev"),
    ("haproxy (ninja bench: the comparison)", lambda: shutil.which("haproxy"), "haproxy"),
]
GOPATH = "/usr/share/gocode"  # Debian's golang-*-dev packages install here


def pkg_ok(name):
    return subprocess.call(["pkg-config", "--exists", name], stderr=subprocess.DEVNULL) == 0 if shutil.which("pkg-config") else False


def gorilla_mux_ok():
    return os.path.isfile(os.path.join(GOPATH, "src/github.com/gorilla/mux/mux.go"))


def pkg(args):
    return subprocess.check_output(["pkg-config"] + args, text=True).strip()


def pytest_ok():
    return subprocess.call(["/usr/bin/python3", "-c", "import pytest"], stderr=subprocess.DEVNULL) == 0 if os.path.exists("/usr/bin/python3") else False


def parse_args(argv):
    p = argparse.ArgumentParser(description="Probe this machine and write build/config.ninja.")
    p.add_argument("--cc", default=os.environ.get("CC", "cc"), help="C compiler (default: $CC or cc)")
    p.add_argument("--werror", action="store_true",
                   default=os.environ.get("CI", "").lower() in ("1", "true", "yes"),
                   help="warnings are errors (default under CI=true)")
    p.add_argument("--without-tls", action="store_true",
                   help="build without TLS (core/tls_none.c): SOCKET_PROXY_TLS_* then stop start-up with one line")
    return p.parse_args(argv)


def version():
    """The one place the version is set: the VERSION file."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "VERSION")) as f:
        v = f.read().strip()
    if not v or not all(c.isalnum() or c in ".-+~" for c in v):
        raise SystemExit(f"configure: VERSION must hold one version string, not {v!r}")
    return v


def main(argv):
    args = parse_args(argv)
    missing = []
    for what, probe, package in NEEDED + ([] if args.without_tls else [TLS_NEEDED]):
        if not probe():
            print(f"configure: missing {what}: apt-get install {package}", file=sys.stderr)
            missing.append(package)
    for what, probe, package in OPTIONAL:
        if not probe():
            print(f"configure: optional {what} not found: apt-get install {package}", file=sys.stderr)
    if missing:
        print(f"configure: install the missing packages: apt-get install {' '.join(missing)}", file=sys.stderr)
        return 1

    cc = args.cc
    werror = " -Werror" if args.werror else ""
    # What reproduces this file whatever the environment of the rerun.
    replay = ["--cc", cc] + (["--werror"] if args.werror else []) + (["--without-tls"] if args.without_tls else [])
    uv_cflags = pkg(["--cflags", "libuv", "libcjson"])
    libs = pkg(["--libs", "libuv", "libcjson"])
    tls = not args.without_tls
    os.makedirs(BUILD, exist_ok=True)
    with open(os.path.join(BUILD, "config.ninja"), "w") as f:
        f.write("# written by configure.py; do not edit\n")
        f.write(f"configure_args = {shlex.join(replay).replace('$', '$$')}\n")  # $ is special to ninja
        f.write(f"version = {version()}\n")
        f.write(f"cc = {cc}\n")
        f.write(f"clang = {shutil.which(CLANG) or CLANG}\n")
        f.write(f"warn = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Wno-missing-field-initializers{werror}\n")
        f.write(f"deps_cflags = {uv_cflags}\n")
        f.write(f"libs = {libs}{' ' + TLS_LIBS if tls else ''}\n")
        # The TLS layer: core/tls.c, or the build without it (core/tls_none.c).
        f.write(f"tls_src = core/{'tls' if tls else 'tls_none'}.c\n")
        f.write(f"static_deps_args = {'' if tls else '--without-tls'}\n")
        # The static link's mbed TLS (built by tools/static-deps.py), or nothing.
        f.write(f"static_tls_libs = {'build/static/lib/libmbedtls.a' if tls else ''}\n")
        f.write(f"python = {'/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable}\n")
        go = shutil.which("go")
        f.write(f"go = {go or 'go'}\n")
        f.write(f"gopath = {GOPATH}\n")
        f.write(f"routediff = build/tests/routediff{'' if go and gorilla_mux_ok() else '-unavailable'}\n")
    print(f"configure: wrote {BUILD}/config.ninja (cc={cc}{', -Werror' if werror else ''}"
          f"{', TLS' if tls else ', without TLS'}); now run: ninja")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

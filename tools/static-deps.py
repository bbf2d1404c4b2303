#!/usr/bin/env python3
"""Fetch and build the static build's dependencies (run by `ninja static`, through
the build/static/deps.stamp edge of build.ninja).

Fetches the Debian sources of libuv, cJSON and mbed TLS with `apt-get source`
into build/static/src (once: a rebuild never touches the network) and builds
build/static/lib/lib{uv,cjson,mbedtls}.a and build/static/include with musl-gcc.
mbed TLS is configured by core/tls_mbedtls_config.h (MBEDTLS_CONFIG_FILE);
--without-tls (configure.py --without-tls) leaves it out.
When apt has no deb-src entry, one is derived from the machine's Debian deb
entries (as root; otherwise the one line printed says what to do).
Usage: python3 tools/static-deps.py [--without-tls]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATIC = os.path.join("build", "static")
SRC_LIST = "/etc/apt/sources.list.d/socket-proxy-src.sources"
# Debian source package -> a file that proves its unpacked tree is complete.
SOURCES = {"libuv1": "include/uv.h", "cjson": "cJSON.c"}
TLS_SOURCES = {"mbedtls": "include/mbedtls/ssl.h"}
# Every library is compiled with one section per function and object, so that
# the static link (-Wl,--gc-sections) keeps only what the proxy reaches.
SECTIONS = ["-ffunction-sections", "-fdata-sections"]
# libuv is compiled from the file list and defines its CMakeLists.txt gives for
# Linux (uv_linux_build reads them); these flags are added to its defines.
UV_CFLAGS = ["-std=gnu99", "-Os", "-fno-strict-aliasing", "-w"] + SECTIONS
CJSON_CFLAGS = ["-std=c89", "-Os", "-w"] + SECTIONS
# mbed TLS: every library/*.c, configured by our header (the one core/tls.c is
# compiled with in the static build).
MBEDTLS_CONFIG = os.path.join(ROOT, "core", "tls_mbedtls_config.h")
# Where a handshake spends its time (big numbers and the curves' arithmetic):
# compiled for speed, the rest for size.
MBEDTLS_HOT = {"bignum.c", "ecp.c", "ecp_curves.c"}
MBEDTLS_CFLAGS = ["-std=c99", "-Os", "-w", f'-DMBEDTLS_CONFIG_FILE="{MBEDTLS_CONFIG}"'] + SECTIONS

class Fail(Exception):
    """One line for the user; static_deps() prints it and exits 1."""


def say(msg):
    print(f"static-deps: {msg}", flush=True)


def run(cmd, cwd=None, quiet=False):
    r = subprocess.run(cmd, cwd=cwd, text=True, stdout=subprocess.PIPE if quiet else None,
                       stderr=subprocess.STDOUT if quiet else None)
    if r.returncode != 0:
        if quiet and r.stdout:
            sys.stderr.write(r.stdout)
        raise Fail(f"failed ({r.returncode}): {' '.join(cmd)}")
    return r.stdout


def need_tool(tool, package):
    if not shutil.which(tool):
        raise Fail(f"{tool} not found: apt-get install {package}")


def unpacked(src_dir, package, sources):
    """The unpacked tree of a Debian source package under src_dir, or None."""
    if not os.path.isdir(src_dir):
        return None
    for name in sorted(os.listdir(src_dir), reverse=True):
        d = os.path.join(src_dir, name)
        if name.startswith(package + "-") and os.path.isfile(os.path.join(d, sources[package])):
            return d
    return None


def apt_has_sources(packages):
    r = subprocess.run(["apt-cache", "showsrc"] + list(packages), text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    found = {line.split(":", 1)[1].strip() for line in r.stdout.splitlines() if line.startswith("Package:")}
    return all(p in found for p in packages)


def derive_deb_src():
    """deb-src entries mirroring the machine's Debian deb entries: (path, text) or None."""
    deb822 = "/etc/apt/sources.list.d/debian.sources"
    if os.path.isfile(deb822):
        out = []
        for stanza in open(deb822).read().split("\n\n"):
            lines = stanza.strip("\n").splitlines()
            fields = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
                      for l in lines if ":" in l and not l.startswith(("#", " ", "\t"))}
            if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
                continue
            out.append("\n".join("Types: deb-src" if l.lower().startswith("types:") else l for l in lines))
        if out:
            return SRC_LIST, "# written by socket-proxy tools/static-deps.py\n" + "\n\n".join(out) + "\n"
    classic = "/etc/apt/sources.list"
    if os.path.isfile(classic):
        out = [l.strip().replace("deb", "deb-src", 1) for l in open(classic)
               if l.split()[:1] == ["deb"]]
        if out:
            return SRC_LIST[:-len(".sources")] + ".list", \
                "# written by socket-proxy tools/static-deps.py\n" + "\n".join(out) + "\n"
    return None


def ensure_deb_src(packages):
    if apt_has_sources(packages):
        return
    derived = derive_deb_src()
    if derived is None:
        raise Fail(f"apt has no deb-src entry for {'/'.join(packages)} and no Debian deb entry to derive one from: "
                   "add a deb-src line for your Debian mirror, run apt-get update, and retry")
    path, text = derived
    if os.geteuid() != 0:
        what = ("a copy of the Types: deb stanzas of /etc/apt/sources.list.d/debian.sources with Types: deb-src"
                if path.endswith(".sources") else "the deb lines of /etc/apt/sources.list as deb-src lines")
        raise Fail(f"apt has no deb-src entry: as root, write {path} ({what}) and run apt-get update, "
                   "or run `python3 tools/static-deps.py` once as root")
    if not (os.path.isfile(path) and open(path).read() == text):
        with open(path, "w") as f:
            f.write(text)
        say(f"added {path} (deb-src from your Debian deb entries)")
    say("apt-get update")
    run(["apt-get", "update", "-q"], quiet=True)
    if not apt_has_sources(packages):
        raise Fail(f"apt-get source still cannot find {' '.join(packages)} after adding {path}")


def fetch(src_dir, sources):
    """Unpacked trees of every package in sources; fetches only the missing ones."""
    trees = {p: unpacked(src_dir, p, sources) for p in sources}
    missing = [p for p, d in trees.items() if d is None]
    if not missing:
        say(f"sources cached in {os.path.relpath(src_dir)} (no network)")
        return trees
    need_tool("apt-get", "apt")
    need_tool("dpkg-source", "dpkg-dev")
    ensure_deb_src(missing)
    os.makedirs(src_dir, exist_ok=True)
    for p in missing:
        # Unpack into a scratch directory and move the tree in once complete, so an
        # interrupted fetch is never mistaken for a cached one.
        tmp = os.path.join(src_dir, f".fetch-{p}")
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        say(f"apt-get source {p}")
        run(["apt-get", "source", "-q", p], cwd=tmp, quiet=True)
        tree = unpacked(tmp, p, sources)
        if tree is None:
            raise Fail(f"apt-get source {p} did not unpack a {p}-* tree with {sources[p]}")
        for name in os.listdir(tmp):
            dst = os.path.join(src_dir, name)
            if os.path.isdir(dst):
                shutil.rmtree(dst)
            os.replace(os.path.join(tmp, name), dst)
        os.rmdir(tmp)
        trees[p] = unpacked(src_dir, p, sources)
    return trees


def cmake_commands(text):
    """[(command, [args])] of a CMakeLists.txt: enough CMake for libuv's."""
    text = re.sub(r'#[^\n]*', '', re.sub(r'"[^"]*"', lambda m: m.group(0).replace("#", "\0"), text))
    out, pos = [], 0
    for m in re.finditer(r'(\w+)\s*\(', text):
        if m.start() < pos:
            continue
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        args = re.findall(r'"[^"]*"|[()]|[^\s()"]+', text[m.end():i - 1])
        out.append((m.group(1).lower(), [a.replace("\0", "#") for a in args]))
        pos = i
    return out


def cmake_if(args, variables):
    """Evaluates an if() condition: unknown variables are false."""
    toks = list(args)

    def value(t):
        return t[1:-1] if t.startswith('"') else variables.get(t, t)

    def primary():
        t = toks.pop(0)
        if t == "(":
            v = disj()
            toks.pop(0)
            return v
        if toks and toks[0] in ("STREQUAL", "MATCHES", "EQUAL"):
            op, rhs = toks.pop(0), value(toks.pop(0))
            lhs = value(t)
            return re.search(rhs, lhs) is not None if op == "MATCHES" else lhs == rhs
        v = variables.get(t, t[1:-1] if t.startswith('"') else "")
        return v not in ("", "0", "OFF", "NO", "FALSE", "N", "IGNORE", "NOTFOUND") and not v.endswith("-NOTFOUND")

    def neg():
        if toks and toks[0] == "NOT":
            toks.pop(0)
            return not neg()
        return primary()

    def conj():
        v = neg()
        while toks and toks[0] == "AND":
            toks.pop(0)
            v = neg() and v
        return v

    def disj():
        v = conj()
        while toks and toks[0] == "OR":
            toks.pop(0)
            v = conj() or v
        return v

    return disj()


def uv_linux_build(uv):
    """(sources, defines) of libuv's CMakeLists.txt for CMAKE_SYSTEM_NAME Linux."""
    variables = {"CMAKE_SYSTEM_NAME": "Linux", "UNIX": "1"}
    lists = {"uv_sources": [], "uv_defines": []}
    stack = []  # (parent active, a branch already taken, this branch active)
    active = True
    for cmd, args in cmake_commands(open(os.path.join(uv, "CMakeLists.txt")).read()):
        if cmd == "if":
            v = active and cmake_if(args, variables)
            stack.append((active, v))
            active = v
        elif cmd == "elseif" and stack:
            parent, taken = stack[-1]
            active = parent and not taken and cmake_if(args, variables)
            stack[-1] = (parent, taken or active)
        elif cmd == "else" and stack:
            parent, taken = stack[-1]
            active = parent and not taken
        elif cmd == "endif" and stack:
            active = stack.pop()[0]
        elif not active:
            continue
        elif cmd == "set" and args and args[0] in lists:
            lists[args[0]] = args[1:]
        elif cmd == "list" and len(args) > 1 and args[0] == "APPEND" and args[1] in lists:
            lists[args[1]] += args[2:]
    srcs = list(dict.fromkeys(a for a in lists["uv_sources"] if a.endswith(".c")))
    if "src/unix/core.c" not in srcs or not all(os.path.isfile(os.path.join(uv, s)) for s in srcs):
        raise Fail(f"could not read libuv's Linux source list from {os.path.basename(uv)}/CMakeLists.txt")
    return srcs, lists["uv_defines"]


def kernel_include(static):
    """musl-gcc searches no glibc header directory: expose only the kernel's."""
    arch = ""
    for probe in (["gcc", "-print-multiarch"], ["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]):
        if shutil.which(probe[0]):
            arch = subprocess.run(probe, text=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.strip()
            if arch:
                break
    links = {"linux": "/usr/include/linux", "asm-generic": "/usr/include/asm-generic",
             "asm": f"/usr/include/{arch}/asm" if arch else "/usr/include/asm"}
    d = os.path.join(static, "kernel-include")
    os.makedirs(d, exist_ok=True)
    for name, target in links.items():
        if not os.path.isdir(target):
            raise Fail(f"kernel headers not found ({target}): apt-get install linux-libc-dev")
        link = os.path.join(d, name)
        if os.path.islink(link) or os.path.exists(link):
            if os.path.realpath(link) == os.path.realpath(target):
                continue
            os.remove(link)
        os.symlink(target, link)
    return d


def compile_all(jobs, obj_dir):
    """jobs: [(source, [flags])]; objects in obj_dir, in parallel. Returns the objects."""
    from concurrent.futures import ThreadPoolExecutor
    shutil.rmtree(obj_dir, ignore_errors=True)
    os.makedirs(obj_dir)

    def one(job):
        src, flags = job
        obj = os.path.join(obj_dir, os.path.basename(os.path.dirname(src)) + "-" +
                           os.path.basename(src)[:-2] + ".o")
        r = subprocess.run(["musl-gcc"] + flags + ["-c", src, "-o", obj], text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return src, obj, r

    objs = []
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for src, obj, r in pool.map(one, jobs):
            if r.returncode != 0:
                sys.stderr.write(r.stdout)
                raise Fail(f"musl-gcc failed on {src}")
            objs.append(obj)
    return objs


def archive(lib, objs):
    if os.path.exists(lib):
        os.remove(lib)
    run(["ar", "rcs", lib] + objs)


def mbedtls_build(tree, static, lib, inc):
    """libmbedtls.a (upstream's three libraries in one archive) and include/mbedtls."""
    if not os.path.isfile(MBEDTLS_CONFIG):
        raise Fail(f"{os.path.relpath(MBEDTLS_CONFIG)} missing: the mbed TLS configuration of the static build")
    srcs = sorted(os.path.join(tree, "library", n) for n in os.listdir(os.path.join(tree, "library"))
                  if n.endswith(".c"))
    flags = MBEDTLS_CFLAGS + ["-I" + os.path.join(tree, "include"), "-I" + os.path.join(tree, "library")]
    archive(os.path.join(lib, "libmbedtls.a"),
            compile_all([(s, flags + (["-O2"] if os.path.basename(s) in MBEDTLS_HOT else [])) for s in srcs],
                        os.path.join(static, "obj", "mbedtls")))
    shutil.copytree(os.path.join(tree, "include", "mbedtls"), os.path.join(inc, "mbedtls"))
    return len(srcs)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Fetch and build the static build's dependencies (musl).")
    p.add_argument("--without-tls", action="store_true",
                   help="leave mbed TLS out (the build of configure.py --without-tls)")
    return p.parse_args(argv)


def static_deps(argv):
    args = parse_args(argv)
    tls = not args.without_tls
    static = os.path.join(ROOT, STATIC)
    rel = os.path.relpath(static)
    try:
        need_tool("musl-gcc", "musl-tools")
        need_tool("ar", "binutils")
        trees = fetch(os.path.join(static, "src"), {**SOURCES, **(TLS_SOURCES if tls else {})})
        uv, cj = trees["libuv1"], trees["cjson"]
        uv_src, uv_defines = uv_linux_build(uv)
        kinc = kernel_include(static)
        lib, inc = os.path.join(static, "lib"), os.path.join(static, "include")
        os.makedirs(lib, exist_ok=True)
        uv_flags = UV_CFLAGS + ["-D" + d for d in uv_defines] + ["-I" + os.path.join(uv, "include"), "-I" + os.path.join(uv, "src"),
                                "-idirafter", kinc]
        archive(os.path.join(lib, "libuv.a"),
                compile_all([(os.path.join(uv, s), uv_flags) for s in uv_src], os.path.join(static, "obj", "uv")))
        archive(os.path.join(lib, "libcjson.a"),
                compile_all([(os.path.join(cj, "cJSON.c"), CJSON_CFLAGS)],
                            os.path.join(static, "obj", "cjson")))
        # Headers: uv.h, uv/*.h; cJSON.h both as <cjson/cJSON.h> and <cJSON.h>.
        shutil.rmtree(inc, ignore_errors=True)
        shutil.copytree(os.path.join(uv, "include"), inc)
        os.makedirs(os.path.join(inc, "cjson"))
        for dst in (os.path.join(inc, "cjson", "cJSON.h"), os.path.join(inc, "cJSON.h")):
            shutil.copy2(os.path.join(cj, "cJSON.h"), dst)
        built = ["libuv.a", "libcjson.a"]
        if tls:
            mbed = trees["mbedtls"]
            n_mbed = mbedtls_build(mbed, static, lib, inc)
            built.append("libmbedtls.a")
        else:
            # Nothing of an earlier TLS build may be linked by mistake.
            for stale in (os.path.join(lib, "libmbedtls.a"), os.path.join(static, "obj", "mbedtls")):
                if os.path.isdir(stale):
                    shutil.rmtree(stale)
                elif os.path.exists(stale):
                    os.remove(stale)
    except Fail as e:
        print(f"static-deps: {e}", file=sys.stderr)
        return 1
    sizes = ", ".join(f"{n} {os.path.getsize(os.path.join(lib, n)) // 1024} KiB" for n in built)
    what = f"{os.path.basename(uv)} ({len(uv_src)} files), {os.path.basename(cj)}"
    what += f", {os.path.basename(mbed)} ({n_mbed} files, {os.path.relpath(MBEDTLS_CONFIG, ROOT)})" if tls else ", without TLS"
    say(f"built with musl-gcc from {what}: {rel}/lib ({sizes}), {rel}/include")
    with open(os.path.join(static, "deps.stamp"), "w") as f:
        f.write(f"{os.path.basename(uv)}\n{os.path.basename(cj)}\n" + (f"{os.path.basename(mbed)}\n" if tls else ""))
    return 0


if __name__ == "__main__":
    sys.exit(static_deps(sys.argv[1:]))

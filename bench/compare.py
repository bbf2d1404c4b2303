#!/usr/bin/env python3
"""socket-proxy benchmark: direct vs HAProxy (Tecnativa's rules) vs socket-proxy.

One invocation measures everything, against bench/upstream.c (a fast fake
daemon) and against a private dockerd, and prints Markdown tables in which
every figure carries its ratio to direct access and to HAProxy.

    python3 bench/compare.py [--secs 2] [--rounds 3] [--results FILE] [--no-docker] [--no-static]

Needs build/bench/load, build/bench/upstream and build/socket-proxy (`ninja bench`
builds them first); uses build/static/socket-proxy (the binary of the image),
build/tests/bench_rules, bench_http1 and bench_profiles when they exist. Run as root
(dockerd; the 1,000-connection case raises RLIMIT_NOFILE). Every process it
starts is stopped by pid at the end.

The proxy's CPU time per request is the delta of utime+stime in /proc/PID/stat
over a run divided by the requests served. On a 2-vCPU VM it still depends on
where the scheduler puts the client, the daemon and the proxy (a wake-up across
CPUs costs an IPI), so the keep-alive and bulk cases are also run pinned; those
are the stable figures. Throughput runs go round-robin over all targets (up at
once), and the medians of the rounds are reported.
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
LOAD = os.path.join(BUILD, "bench", "load")
UPSTREAM = os.path.join(BUILD, "bench", "upstream")
PROXY = os.environ.get("SOCKET_PROXY_BIN", os.path.join(BUILD, "socket-proxy"))
STATIC = os.environ.get("SOCKET_PROXY_STATIC_BIN", os.path.join(BUILD, "static", "socket-proxy"))
BENCH_RULES = os.environ.get("BENCH_RULES_BIN", os.path.join(BUILD, "tests", "bench_rules"))
BENCH_HTTP1 = os.environ.get("BENCH_HTTP1_BIN", os.path.join(BUILD, "tests", "bench_http1"))
BENCH_PROFILES = os.environ.get("BENCH_PROFILES_BIN", os.path.join(BUILD, "tests", "bench_profiles"))
BINARIES = {}  # label -> where the binary under test came from (for the report)
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"
CLK_TCK = os.sysconf("SC_CLK_TCK")
BULK_BYTES = 200 << 20

# The rules every proxy gets: the defaults (PING, VERSION, EVENTS) plus what the
# bulk case needs (/containers/{id}/export).
RULES_ENV = {"PING": "1", "VERSION": "1", "EVENTS": "1", "CONTAINERS": "1", "ALLOW_EXPORT": "1", "POST": "0"}

children = []  # every process we started: stopped by pid at exit


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes

def spawn(args, env=None, stdout=None, stderr=None, text=False):
    p = subprocess.Popen(args, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, text=text)
    children.append(p)
    return p


def stop(p, timeout=10):
    if p is None or p.poll() is not None:
        if p in children:
            children.remove(p)
        return
    try:
        os.kill(p.pid, signal.SIGTERM)
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    except ProcessLookupError:
        pass
    if p in children:
        children.remove(p)


def stop_all():
    for p in list(children):
        stop(p, 20)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def rss_kb(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile"):
                out[k] = int(v.split()[0])
    return out


# ---------------------------------------------------------------- targets

class Target:
    def __init__(self, key, label, addr, pid=None):
        self.key, self.label, self.addr, self.pid = key, label, addr, pid

    def load_args(self):
        kind, where = self.addr
        return ["-u", where] if kind == "unix" else ["-t", where]


def connect(addr):
    kind, where = addr
    if kind == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(where)
    else:
        h, p = where.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect((h, int(p)))
    return s


def ping(addr):
    try:
        s = connect(addr)
    except OSError:
        return False
    try:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            d = s.recv(4096)
            if not d:
                break
            data += d
        return data.startswith(b"HTTP/1.1 200")
    except OSError:
        return False
    finally:
        s.close()


def wait_ping(addr, proc=None, timeout=10.0):
    t_end = time.time() + timeout
    while time.time() < t_end:
        if ping(addr):
            return True
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s exited with %s" % (proc.args[0], proc.returncode))
        time.sleep(0.005)
    raise RuntimeError("no 200 from %s within %.0f s" % (addr, timeout))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proxy_env(upstream_sock, unix_dir=None, tcp=None, level="warning"):
    env = dict(os.environ)
    env.update(RULES_ENV)
    env.update({
        "SOCKET_PATH": upstream_sock,
        "SOCKET_PROXY_VOLUME": unix_dir or "",
        "SOCKET_PROXY_LISTEN": tcp or "off",
        "SOCKET_PROXY_UID": "0",
        "SOCKET_PROXY_GID": "0",
        "SOCKET_PROXY_MAX_CLIENT_CONNS": "0",  # the load generator is one client with 1,000 connections
        "LOG_LEVEL": level,
    })
    return env


SECTIONS = ["auth", "build", "commit", "configs", "containers", "distribution", "events", "exec", "grpc",
            "images", "info", "networks", "nodes", "_ping", "plugins", "secrets", "services", "session",
            "swarm", "system", "tasks", "version", "volumes"]


def haproxy_cfg(path, upstream_sock, port, level="warning", bind_opts=""):
    """Tecnativa's docker-socket-proxy haproxy.cfg, with our paths (bind_opts:
    more words on the bind line, such as bench/tls.py's ssl settings)."""
    allow = "\n".join(
        "    http-request allow if { path,url_dec -m reg -i ^(/v[\\d\\.]+)?/%s } { env(%s) -m bool }"
        % (s, s.upper().lstrip("_")) for s in SECTIONS)
    cfg = """global
    log stdout format raw daemon %(level)s
    maxconn 4000

defaults
    mode http
    log global
    option httplog
    option dontlognull
    option http-server-close
    option redispatch
    retries 3
    timeout http-request 10s
    timeout queue 1m
    timeout connect 10s
    timeout client 10m
    timeout server 10m
    timeout http-keep-alive 10s
    timeout check 10s
    maxconn 3000

backend dockerbackend
    server dockersocket %(sock)s

backend docker-events
    server dockersocket %(sock)s
    timeout server 0

frontend dockerfrontend
    bind 127.0.0.1:%(port)d%(bind)s
    http-request deny unless METH_GET || { env(POST) -m bool }
    http-request allow if { path,url_dec -m reg -i ^(/v[\\d\\.]+)?/containers/[a-zA-Z0-9_.-]+/((stop)|(restart)|(kill)) } { env(ALLOW_RESTARTS) -m bool }
    http-request allow if { path,url_dec -m reg -i ^(/v[\\d\\.]+)?/containers/[a-zA-Z0-9_.-]+/start } { env(ALLOW_START) -m bool }
    http-request allow if { path,url_dec -m reg -i ^(/v[\\d\\.]+)?/containers/[a-zA-Z0-9_.-]+/stop } { env(ALLOW_STOP) -m bool }
%(allow)s
    http-request deny
    default_backend dockerbackend
    use_backend docker-events if { path,url_dec -m reg -i ^(/v[\\d\\.]+)?/events }
""" % {"level": level, "sock": upstream_sock, "port": port, "allow": allow,
       "bind": " " + bind_opts if bind_opts else ""}
    with open(path, "w") as f:
        f.write(cfg)


def haproxy_env():
    env = dict(os.environ)
    for s in SECTIONS:
        env.setdefault(s.upper().lstrip("_"), "0")
    for k in ("ALLOW_RESTARTS", "ALLOW_START", "ALLOW_STOP"):
        env.setdefault(k, "0")
    env.update(RULES_ENV)
    return env


# ---------------------------------------------------------------- load runs

def run_load(target, args, logf, cpus=None):
    cmd = [LOAD, "-q"] + target.load_args() + args
    pre = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=logf, text=True, preexec_fn=pre)
    return parse_result(r.stdout, cmd)


def pin(pid, cpus):
    """Sets the CPU affinity of every thread of pid."""
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass


def parse_result(out, cmd):
    for line in out.splitlines():
        if line.startswith("RESULT "):
            res = {}
            for kv in line.split()[1:]:
                k, _, v = kv.partition("=")
                try:
                    res[k] = float(v)
                except ValueError:
                    res[k] = v
            return res
    raise RuntimeError("no RESULT from %s: %r" % (" ".join(cmd), out))


def ctx_switches(pid):
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


PERF = None  # perf, when it can count syscalls (tracepoints) here


def perf_probe():
    perf = shutil.which("perf")
    if not perf:
        return None
    try:
        r = subprocess.run([perf, "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "--", "true"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    ok = r.returncode == 0 and re.search(r"^\d+,.*raw_syscalls:sys_enter", r.stderr, re.M)
    return perf if ok else None


def measured_load(target, args, logf, cpus=None, count_syscalls=False):
    """A load run with the proxy's CPU time and context switches over it; with
    count_syscalls, its syscalls too (perf slows every syscall of the proxy by
    ~0.1 µs: those runs are apart, their CPU figures unused)."""
    perf = None
    if target.pid:
        t0, cs0 = cpu_ticks(target.pid), ctx_switches(target.pid)
        if PERF and count_syscalls:
            pout = tempfile.NamedTemporaryFile("r", prefix="spb-perf", delete=False)
            perf = spawn([PERF, "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "-p", str(target.pid),
                          "-o", pout.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.3)  # attached before the load starts
    res = run_load(target, args, logf, cpus)
    if target.pid:
        ticks = cpu_ticks(target.pid) - t0
        n = res["requests"]
        res["cpu_s"] = ticks / CLK_TCK
        res["cpu_us_per_req"] = ticks / CLK_TCK * 1e6 / n if n else None
        res["cs_per_req"] = (ctx_switches(target.pid) - cs0) / n if n else None
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait()
            children.remove(perf)
            m = re.search(r"^(\d+),.*raw_syscalls:sys_enter", pout.read(), re.M)
            pout.close()
            os.unlink(pout.name)
            if m and n:
                res["syscalls_per_req"] = int(m.group(1)) / n
    if res.get("errors"):
        log("  !! %d errors in %s %s" % (res["errors"], target.label, " ".join(args)))
    return res


def held_rss(target, args, logf, settle):
    """Starts a holding load (idle/streams), reads the proxy's RSS while held."""
    cmd = [LOAD, "-q"] + target.load_args() + args
    p = spawn(cmd, stdout=subprocess.PIPE, stderr=logf, text=True)
    ready = p.stdout.readline()
    if not ready.startswith("READY"):
        stop(p)
        raise RuntimeError("load did not get ready: %r" % ready)
    time.sleep(settle)
    rss = rss_kb(target.pid) if target.pid else {}
    out = p.stdout.read()
    p.wait()
    children.remove(p)
    res = parse_result(out, cmd)
    res["ready"] = ready.strip()
    res["rss"] = rss
    if res.get("errors") or res.get("failed"):
        log("  !! %s: %s / %s" % (target.label, ready.strip(), out.strip()))
    return res


def startup(target_addr, cmd, env, logf, reps=11):
    kind, where = target_addr
    args = [LOAD, "-q", "-m", "startup", "-n", str(reps)] + (["-u", where] if kind == "unix" else ["-t", where])
    r = subprocess.run(args + ["--"] + cmd, env=env, stdout=subprocess.PIPE, stderr=logf, text=True)
    res = parse_result(r.stdout, args)
    if not res.get("ok"):
        log("  !! start-up: no 200 from %s" % " ".join(cmd))
        res["min_ms"] = res["median_ms"] = res["max_ms"] = None
    return res


# ---------------------------------------------------------------- the suite

def fmt_num(v, unit):
    if v is None:
        return "—"
    if unit == "req/s":
        return "%.1fk" % (v / 1000) if v >= 1000 else "%.0f" % v
    if unit == "MB/s":
        return "%.0f" % v
    if unit in ("MiB", "n"):
        return "%.2f" % v
    if unit in ("µs", "ms", "ns"):
        return "%.1f" % v if v < 100 else "%.0f" % v
    return "%g" % v


def ratio(v, ref):
    if v is None or ref is None or ref == 0:
        return None
    return v / ref


def cell(v, unit, direct, hap, is_direct=False, is_hap=False):
    s = fmt_num(v, unit)
    if v is None or is_direct:
        return s
    parts = []
    rd = ratio(v, direct)
    if rd is not None:
        parts.append("d ×%.2f" % rd)
    if not is_hap:
        rh = ratio(v, hap)
        if rh is not None:
            parts.append("h ×%.2f" % rh)
    return s + (" (" + ", ".join(parts) + ")" if parts else "")


def table(rows, targets, results):
    """rows: (label, unit, fn(metrics) -> value or None)."""
    head = "| metric | " + " | ".join(t.label for t in targets) + " |"
    sep = "|---|" + "---|" * len(targets)
    lines = [head, sep]
    for label, unit, fn in rows:
        vals = []
        for t in targets:
            try:
                vals.append(fn(results[t.key]) if t.key in results else None)
            except (KeyError, TypeError):
                vals.append(None)
        keys = [t.key for t in targets]
        direct = vals[keys.index("direct")] if "direct" in keys else None
        hap = vals[keys.index("haproxy")] if "haproxy" in keys else None
        cells = [cell(v, unit, direct, hap, t.key == "direct", t.key == "haproxy") for v, t in zip(vals, targets)]
        lines.append("| %s%s | " % (label, "" if unit == "n" else " (%s)" % unit) + " | ".join(cells) + " |")
    return "\n".join(lines)


def mib(kb):
    return kb / 1024.0


FAKE_ROWS = [
    ("keep-alive /_ping, 16 conns", "req/s", lambda m: m["ka"]["rps"]),
    ("keep-alive p50", "µs", lambda m: m["ka"]["p50_us"]),
    ("keep-alive p99", "µs", lambda m: m["ka"]["p99_us"]),
    ("keep-alive proxy CPU per request", "µs", lambda m: m["ka"]["cpu_us_per_req"]),
    ("keep-alive proxy syscalls per request", "n", lambda m: m["ka"]["syscalls_per_req"]),
    ("keep-alive proxy context switches per request", "n", lambda m: m["ka"]["cs_per_req"]),
    ("keep-alive proxy CPU per request, pinned: proxy on the CPU of load+daemon", "µs",
     lambda m: m["ka_same"]["cpu_us_per_req"]),
    ("keep-alive proxy CPU per request, pinned: proxy on a CPU of its own", "µs",
     lambda m: m["ka_own"]["cpu_us_per_req"]),
    ("new connection per request, 16 conns", "req/s", lambda m: m["new"]["rps"]),
    ("new connection p50", "µs", lambda m: m["new"]["p50_us"]),
    ("new connection proxy CPU per request", "µs", lambda m: m["new"]["cpu_us_per_req"]),
    ("new connection proxy syscalls per request", "n", lambda m: m["new"]["syscalls_per_req"]),
    ("bulk 200 MiB body, 1 conn", "MB/s", lambda m: m["bulk"]["mbps"]),
    ("bulk, pinned: client on CPU 0, daemon and proxy on CPU 1", "MB/s", lambda m: m["bulk_two"]["mbps"]),
    ("bulk, pinned: everything on one CPU", "MB/s", lambda m: m["bulk_one"]["mbps"]),
    ("bulk proxy CPU per GB", "ms", lambda m: m["bulk"]["cpu_s"] * 1e3 / (m["bulk"]["body_bytes"] / 1e9)),
    ("RSS idle (after one request)", "MiB", lambda m: mib(m["rss_idle"]["VmRSS"])),
    ("RSS, 1,000 idle keep-alive conns", "MiB", lambda m: mib(m["rss_1000"]["VmRSS"])),
    ("RSS, 200 open /events streams", "MiB", lambda m: mib(m["rss_streams"]["VmRSS"])),
    ("RSS idle after all runs", "MiB", lambda m: mib(m["rss_after"]["VmRSS"])),
    ("anonymous RSS idle (RssAnon)", "MiB", lambda m: mib(m["rss_idle"]["RssAnon"])),
    ("anonymous RSS, 1,000 idle conns", "MiB", lambda m: mib(m["rss_1000"]["RssAnon"])),
    ("anonymous RSS, 200 streams", "MiB", lambda m: mib(m["rss_streams"]["RssAnon"])),
    ("exec to first 200, median of 11", "ms", lambda m: m["startup"]["median_ms"]),
    ("exec to first 200, best of 11", "ms", lambda m: m["startup"]["min_ms"]),
    ("keep-alive req/s with access log (LOG_LEVEL=info)", "req/s", lambda m: m["ka_info"]["rps"]),
    ("keep-alive CPU per request with access log", "µs", lambda m: m["ka_info"]["cpu_us_per_req"]),
]

DOCKER_ROWS = [
    ("keep-alive /_ping, 16 conns", "req/s", lambda m: m["ka"]["rps"]),
    ("keep-alive p50", "µs", lambda m: m["ka"]["p50_us"]),
    ("keep-alive p99", "µs", lambda m: m["ka"]["p99_us"]),
    ("keep-alive proxy CPU per request", "µs", lambda m: m["ka"]["cpu_us_per_req"]),
    ("keep-alive proxy syscalls per request", "n", lambda m: m["ka"]["syscalls_per_req"]),
    ("exec to first 200, median of 11", "ms", lambda m: m["startup"]["median_ms"]),
    ("exec to first 200, best of 11", "ms", lambda m: m["startup"]["min_ms"]),
]


class Spec:
    """How to run one target: launch(level, out) -> (process, Target)."""

    def __init__(self, key, label, addr, launch=None, startup_cmd=None, startup_env=None):
        self.key, self.label, self.addr, self.launch = key, label, addr, launch
        self.startup_cmd, self.startup_env = startup_cmd, startup_env


def suite_specs(upstream_sock, d, tag, logf, with_static):
    specs = [Spec("direct", "direct", ("unix", upstream_sock))]

    # HAProxy with Tecnativa's configuration, on TCP as in their image
    # (the LOG_LEVEL=info instances run beside the others: their own addresses)
    ports = {"warning": free_port(), "info": free_port()}
    haddr = ("tcp", "127.0.0.1:%d" % ports["warning"])
    henv = haproxy_env()
    cfgs = {}
    for level in ("warning", "info"):
        cfgs[level] = os.path.join(d, "haproxy-%s-%s.cfg" % (tag, level))
        haproxy_cfg(cfgs[level], upstream_sock, ports[level], level)

    def launch_haproxy(level="warning", out=None):
        hp = spawn([HAPROXY, "-db", "-f", cfgs[level]], env=henv, stdout=out or logf, stderr=logf)
        addr = ("tcp", "127.0.0.1:%d" % ports[level])
        wait_ping(addr, hp)
        return hp, Target("haproxy", "HAProxy (Tecnativa cfg)", addr, hp.pid)

    specs.append(Spec("haproxy", "HAProxy (Tecnativa cfg)", haddr, launch_haproxy,
                      [HAPROXY, "-db", "-f", cfgs["warning"]], henv))

    variants = [("sp_unix", "socket-proxy unix", PROXY, os.path.join(d, tag + "u"), None),
                ("sp_tcp", "socket-proxy TCP", PROXY, None, "127.0.0.1:%d" % free_port())]
    if with_static:
        variants.append(("sp_static", "socket-proxy static (musl) unix", STATIC, os.path.join(d, tag + "s"), None))
    for key, label, binary, unix_dir, tcp in variants:
        addr = ("unix", os.path.join(unix_dir, "docker.sock")) if unix_dir else ("tcp", tcp)
        info_tcp = "127.0.0.1:%d" % free_port()

        def launch_proxy(level="warning", out=None, key=key, label=label, binary=binary, unix_dir=unix_dir,
                         tcp=tcp, info_tcp=info_tcp):
            if level != "warning":
                unix_dir = unix_dir and unix_dir + "-" + level
                tcp = tcp and info_tcp
            addr = ("unix", os.path.join(unix_dir, "docker.sock")) if unix_dir else ("tcp", tcp)
            p = spawn([binary], env=proxy_env(upstream_sock, unix_dir, tcp, level), stdout=out or logf,
                      stderr=out or logf)
            wait_ping(addr, p)
            return p, Target(key, label, addr, p.pid)

        specs.append(Spec(key, label, addr, launch_proxy, [binary], proxy_env(upstream_sock, unix_dir, tcp)))
    return specs


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def merge_rounds(samples):
    """Field-wise median over rounds; errors are summed."""
    out = {}
    for k in samples[0]:
        vals = [s.get(k) for s in samples]
        if k == "errors":
            out[k] = sum(v or 0 for v in vals)
        elif all(isinstance(v, (int, float)) or v is None for v in vals):
            out[k] = median(vals)
        else:
            out[k] = vals[0]
    out["rounds"] = len(samples)
    return out


def run_suite(upstream_sock, d, secs, rounds, logf, full, with_static, tag, upstream_pid=None, pinned_rounds=1):
    specs = suite_specs(upstream_sock, d, tag, logf, with_static)
    results = {s.key: {} for s in specs}
    targets = [Target(s.key, s.label, s.addr) for s in specs]

    # 1. memory: a fresh process per case, so one case's garbage does not count in another's
    if full:
        for s in specs[1:]:
            log("  memory: %s" % s.label)
            m = results[s.key]
            p, t = s.launch()
            ping(t.addr)
            time.sleep(0.3)
            m["rss_idle"] = rss_kb(t.pid)
            r = held_rss(t, ["-m", "idle", "-c", "1000", "-d", "1.5"], logf, settle=0.7)
            m["idle1000"], m["rss_1000"] = r, r["rss"]
            stop(p)
            p, t = s.launch()  # 200 streams, each seeing a chunk a second
            r = held_rss(t, ["-m", "streams", "-c", "200", "-d", "2"], logf, settle=1.3)
            m["streams"], m["rss_streams"] = r, r["rss"]
            stop(p)

    # 2. throughput: every target up at once, the runs in round-robin, so that
    # a slow spell of the machine hits all targets alike; medians over rounds
    running = []  # (key, result name, process, Target)
    for s in specs:
        if s.launch is None:
            running.append((s.key, "", None, Target(s.key, s.label, s.addr)))
            continue
        p, t = s.launch()
        running.append((s.key, "", p, t))
        if full and s.key in ("haproxy", "sp_unix", "sp_tcp"):
            alog = open(os.path.join(d, "access-%s-%s.log" % (tag, s.key)), "w")
            p, t = s.launch("info", alog)
            running.append((s.key, "_info", p, t))
    tests = [("ka", ["-m", "ka", "-c", "16", "-d", str(secs), "-r", "GET /_ping"])]
    if full:
        tests += [("new", ["-m", "new", "-c", "16", "-d", str(secs), "-r", "GET /_ping"]),
                  ("bulk", ["-m", "bulk", "-c", "1", "-d", str(secs), "-r",
                            "GET /containers/bench/export?size=%d" % BULK_BYTES])]
    samples = {}
    for r in range(rounds):
        log("  throughput, round %d of %d" % (r + 1, rounds))
        for test, args in tests:
            for key, suffix, p, t in running:
                if suffix and test != "ka":
                    continue
                samples.setdefault((key, test + suffix), []).append(measured_load(t, args, logf))
    # Pinned: where the proxy runs decides what a wake-up of its peers costs
    # (a cross-CPU wake-up is an IPI, dear in a VM). Same CPU as the load
    # generator and the daemon, then a CPU of its own.
    allcpus = sorted(os.sched_getaffinity(0))
    if full and upstream_pid and len(allcpus) >= 2:
        c0, c1 = {allcpus[0]}, {allcpus[1]}
        log("  pinned keep-alive runs")
        pin(upstream_pid, c0)
        try:
            for r in range(pinned_rounds):
                for key, suffix, p, t in running:
                    if suffix:
                        continue
                    if p is not None:
                        for name, cpus in (("ka_same", c0), ("ka_own", c1)):
                            pin(p.pid, cpus)
                            samples.setdefault((key, name), []).append(measured_load(t, tests[0][1], logf, c0))
                        pin(p.pid, c0)
                    # bulk with everything on one CPU: what the copies cost, whatever the cache topology
                    samples.setdefault((key, "bulk_one"), []).append(measured_load(t, tests[2][1], logf, c0))
                    # bulk with the client on one CPU, the daemon (and the proxy) on the other: one
                    # cross-CPU hop on every path, as direct has
                    pin(upstream_pid, c1)
                    if p is not None:
                        pin(p.pid, c1)
                    samples.setdefault((key, "bulk_two"), []).append(measured_load(t, tests[2][1], logf, c0))
                    pin(upstream_pid, c0)
                    if p is not None:
                        pin(p.pid, set(allcpus))
        finally:
            pin(upstream_pid, set(allcpus))
    # syscalls per request: separate short runs, perf attached
    if PERF:
        log("  syscall counts")
        for key, suffix, p, t in running:
            if p is None or suffix:
                continue
            for test, args in tests[:2]:
                args = list(args)
                args[args.index("-d") + 1] = "1"
                r = measured_load(t, args, logf, count_syscalls=True)
                samples.setdefault((key, "sc_" + test), []).append(r)
    for (key, name), ss in samples.items():
        results[key][name] = merge_rounds(ss)
    for key in results:
        for test in ("ka", "new"):
            sc = results[key].get("sc_" + test, {}).get("syscalls_per_req")
            if sc is not None and test in results[key]:
                results[key][test]["syscalls_per_req"] = sc
        if name in ("ka", "ka_same", "ka_own") and ss[0].get("cpu_us_per_req") is not None:
            v = sorted(x["cpu_us_per_req"] for x in ss if x.get("cpu_us_per_req") is not None)
            results[key][name]["cpu_spread"] = (v[0], v[-1])
    if full:
        time.sleep(0.5)
    for key, suffix, p, t in running:
        if p is not None:
            if full and not suffix:
                results[key]["rss_after"] = rss_kb(p.pid)
            stop(p)

    # 3. start-up: exec to the first 200, as fast as the poller can see it
    for s in specs:
        if s.startup_cmd:
            log("  start-up: %s" % s.label)
            results[s.key]["startup"] = startup(s.addr, s.startup_cmd, s.startup_env, logf)
    return targets, results


def start_dockerd(d, logf):
    exec_root = "/tmp/spb%d" % os.getpid()
    sock = os.path.join(d, "d.sock")
    p = spawn([DOCKERD, "--host", "unix://" + sock, "--data-root", os.path.join(d, "data"),
               "--exec-root", exec_root, "--pidfile", os.path.join(d, "p"), "--bridge=none",
               "--iptables=false", "--ip6tables=false"], stdout=logf, stderr=logf)
    wait_ping(("unix", sock), p, timeout=90)
    return p, sock, exec_root


def targets_check(fake, dres, profiles_line):
    """Issue 15's targets, judged on the socket-proxy columns of the fake-upstream run (and
    the real dockerd's keep-alive ratio). Ratios are within this one run: every target runs
    in round-robin with its reference, so a slow spell of the machine hits both."""
    sp = [k for k in ("sp_unix", "sp_tcp", "sp_static") if k in fake]
    direct = fake.get("direct", {})
    ddirect = (dres or {}).get("direct", {})
    labels = {"sp_unix": "unix", "sp_tcp": "TCP", "sp_static": "static"}

    def get(fn, k):
        try:
            return fn(fake[k], k)
        except (KeyError, TypeError, ZeroDivisionError):
            return None

    def docker_ratio(m, k):
        return dres[k]["ka"]["rps"] / ddirect["ka"]["rps"]

    checks = [
        ("keep-alive proxy CPU per request (unpinned)", "≤ 4 µs", lambda m, k: m["ka"]["cpu_us_per_req"],
         lambda v: v <= 4, "%.1f µs"),
        ("  — pinned, proxy on the CPU of load+daemon", "≤ 4 µs", lambda m, k: m["ka_same"]["cpu_us_per_req"],
         lambda v: v <= 4, "%.1f µs"),
        ("keep-alive req/s vs direct", "≥ ×0.5", lambda m, k: m["ka"]["rps"] / direct["ka"]["rps"],
         lambda v: v >= 0.5, "×%.2f"),
        ("new-connection proxy CPU per request", "≤ 10 µs", lambda m, k: m["new"]["cpu_us_per_req"],
         lambda v: v <= 10, "%.1f µs"),
        ("bulk throughput vs direct (unpinned)", "≥ 85 %",
         lambda m, k: m["bulk"]["mbps"] / direct["bulk"]["mbps"] * 100, lambda v: v >= 85, "%.0f %%"),
        ("  — pinned: client on CPU 0, daemon and proxy on CPU 1", "≥ 85 %",
         lambda m, k: m["bulk_two"]["mbps"] / direct["bulk_two"]["mbps"] * 100, lambda v: v >= 85, "%.0f %%"),
        ("  — pinned: everything on one CPU", "≥ 85 %",
         lambda m, k: m["bulk_one"]["mbps"] / direct["bulk_one"]["mbps"] * 100, lambda v: v >= 85, "%.0f %%"),
        ("TCP keep-alive req/s vs Unix keep-alive", "≥ ×0.9",
         lambda m, k: fake["sp_tcp"]["ka"]["rps"] / fake["sp_unix"]["ka"]["rps"] if k == "sp_tcp" else None,
         lambda v: v >= 0.9, "×%.2f"),
        ("real dockerd keep-alive req/s vs direct", "≥ ×0.97", docker_ratio, lambda v: v >= 0.97, "×%.2f"),
        ("RSS idle (the targets are the static image's, as the next two)", "≤ 1 MiB",
         lambda m, k: mib(m["rss_idle"]["VmRSS"]), lambda v: v <= 1, "%.2f MiB"),
        ("RSS with 1,000 idle keep-alive conns", "≤ 8 MiB", lambda m, k: mib(m["rss_1000"]["VmRSS"]),
         lambda v: v <= 8, "%.2f MiB"),
        ("RSS with 200 events streams", "≤ 6 MiB", lambda m, k: mib(m["rss_streams"]["VmRSS"]), lambda v: v <= 6,
         "%.2f MiB"),
    ]
    lines = ["| target | goal | " + " | ".join("socket-proxy " + labels[k] for k in sp) + " |",
             "|---|---|" + "---|" * len(sp)]
    for name, goal, fn, ok, f in checks:
        cells = []
        for k in sp:
            v = get(fn, k)
            cells.append("—" if v is None else (f % v) + (" ✅" if ok(v) else " ❌ (miss)"))
        lines.append("| %s | %s | %s |" % (name, goal, " | ".join(cells)))
    pad = " |" * (len(sp) - 1)
    m = re.search(r"decision 1 profile ([\d.]+) ns, 16 profiles .*? ([\d.]+) ns \(x([\d.]+)\)", profiles_line or "")
    if m:
        # bench_profiles' own run-to-run spread on this machine is about ±10 %
        v = float(m.group(3))
        lines.append("| 16 profiles vs 1: decision time | equal within noise (±10 %%) | ×%.2f %s |"
                     % (v, "✅" if abs(v - 1) <= 0.10 else "❌ (miss)") + pad)
    return lines


def micro_line(binary, what):
    """The last line a microbenchmark (build/tests/bench_*) prints; None when it is not built."""
    if not os.access(binary, os.X_OK):
        return None
    log(what)
    r = subprocess.run([binary], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else None


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%d cores (nproc), %s, Linux %s" % (os.cpu_count(), model, platform.release())


def versions():
    out = []
    try:
        out.append(subprocess.run([HAPROXY, "-v"], stdout=subprocess.PIPE, text=True).stdout.splitlines()[0])
    except (OSError, IndexError):
        pass
    try:
        out.append(subprocess.run([DOCKERD, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip())
    except OSError:
        pass
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
        out.append("socket-proxy at %s%s" % (rev, " (+ uncommitted changes)" if dirty else ""))
    except OSError:
        pass
    return out


def main():
    global PROXY, STATIC
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--secs", type=float, default=2.0, help="seconds per throughput run")
    ap.add_argument("--rounds", type=int, default=3, help="round-robin rounds per throughput figure (median)")
    ap.add_argument("--pinned-rounds", type=int, default=1, help="rounds of the CPU-pinned runs (stable: 1 is enough)")
    ap.add_argument("--results", help="also write the report (Markdown) to this file")
    ap.add_argument("--no-docker", action="store_true", help="skip the real dockerd")
    ap.add_argument("--no-static", action="store_true", help="skip build/static/socket-proxy")
    args = ap.parse_args()

    for b in (LOAD, UPSTREAM, PROXY):
        if not os.access(b, os.X_OK):
            sys.exit("missing %s: run `ninja bench` (or `ninja build/bench/load build/bench/upstream`)" % b)
    with_static = not args.no_static and os.access(STATIC, os.X_OK)
    global PERF
    PERF = perf_probe()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    d = tempfile.mkdtemp(prefix="spb", dir="/tmp")
    # Copies: a rebuild during the run (ninja in another shell) must not swap
    # the binary under test halfway.
    for name in ("PROXY", "STATIC"):
        src = globals()[name]
        if os.access(src, os.X_OK):
            BINARIES[name] = "%s (%s)" % (src, time.strftime("%Y-%m-%d %H:%M", time.gmtime(os.path.getmtime(src))))
            dst = os.path.join(d, "socket-proxy" + ("-static" if name == "STATIC" else ""))
            shutil.copy2(src, dst)
            globals()[name] = dst
    logf = open(os.path.join(d, "bench.log"), "w")
    dockerd = None
    exec_root = None
    t_start = time.time()
    load0 = os.getloadavg()

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        rules_line = micro_line(BENCH_RULES, "rules decision microbenchmark")
        http1_line = micro_line(BENCH_HTTP1, "request head parser microbenchmark")
        profiles_line = micro_line(BENCH_PROFILES, "rules decision across 16 profiles microbenchmark")

        log("fake upstream (bench/upstream.c), %.0f s per run" % args.secs)
        usock = os.path.join(d, "up.sock")
        up = spawn([UPSTREAM, usock], stdout=subprocess.PIPE, stderr=logf)
        if not up.stdout.readline().startswith(b"READY"):
            raise RuntimeError("upstream did not start")
        targets, fake = run_suite(usock, d, args.secs, args.rounds, logf, True, with_static, "f", up.pid,
                                  args.pinned_rounds)
        stop(up)

        dtargets, dres, docker_note = None, None, None
        if args.no_docker:
            docker_note = "skipped (--no-docker)"
        elif not os.access(DOCKERD, os.X_OK):
            docker_note = "skipped: no dockerd"
        else:
            log("real dockerd")
            exec_root = "/tmp/spb%d" % os.getpid()
            try:
                dockerd, dsock, exec_root = start_dockerd(d, logf)
                dtargets, dres = run_suite(dsock, d, args.secs, args.rounds, logf, False, False, "d")
            except RuntimeError as e:
                docker_note = "failed: %s (log: BENCH_KEEP=1, bench.log)" % e
                log("  !! dockerd: %s" % e)
            stop(dockerd, 30)
            dockerd = None

        # ---- report
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        out = []
        out.append("Run %s on %s; load average %.2f at the start, %.2f at the end; %.0f s in all."
                   % (now, machine(), load0[0], os.getloadavg()[0], time.time() - t_start))
        out.append("")
        out.append("Versions: " + "; ".join(versions()) + ".")
        out.append("")
        out.append("Binaries: socket-proxy %s%s." % (BINARIES.get("PROXY", PROXY), "; static %s" % BINARIES["STATIC"]
                                                      if with_static and "STATIC" in BINARIES else ""))
        out.append("")
        out.append("Cells: value (d ×r = ratio to direct, h ×r = ratio to HAProxy). CPU is the proxy's "
                   "utime+stime from /proc/PID/stat over the run divided by the requests served. "
                   "HAProxy listens on TCP as in Tecnativa's image; every proxy reaches the daemon over its "
                   "Unix socket. RSS is VmRSS (it includes shared library pages: the glibc build maps ~1.8 MiB "
                   "of libc/libuv; RssAnon is the proxy's own memory).")
        out.append("")
        out.append("### Fake upstream (bench/upstream.c)")
        out.append("")
        out.append(table(FAKE_ROWS, targets, fake))
        out.append("")
        out.append("### Real dockerd (private instance, `/_ping`)")
        out.append("")
        out.append(table(DOCKER_ROWS, dtargets, dres) if dres else "Real dockerd: %s." % docker_note)
        out.append("")
        spread = []
        for t in targets:
            for name, what in (("ka", "unpinned"), ("ka_same", "same CPU"), ("ka_own", "own CPU")):
                sp = fake.get(t.key, {}).get(name, {}).get("cpu_spread")
                if sp:
                    spread.append("%s %s %.1f–%.1f" % (t.label, what, sp[0], sp[1]))
        if spread:
            out.append("Keep-alive proxy CPU µs per request, lowest–highest of the %d rounds: %s."
                       % (args.rounds, "; ".join(spread)))
            out.append("")
        out.append("### Rules decision (build/tests/bench_rules)")
        out.append("")
        out.append("`%s`" % rules_line if rules_line else "(build/tests/bench_rules not built)")
        out.append("")
        out.append("### Rules decision, 1 profile vs 16 (build/tests/bench_profiles)")
        out.append("")
        out.append("`%s`" % profiles_line if profiles_line else "(build/tests/bench_profiles not built)")
        out.append("")
        out.append("### Request head fed one byte per read (build/tests/bench_http1)")
        out.append("")
        out.append("`%s`" % http1_line if http1_line else "(build/tests/bench_http1 not built)")
        out.append("")
        out.append("### Targets (issue 15)")
        out.append("")
        out.append("The judged create and the scoped request have their targets in the sections "
                   "\"Request bodies and redaction\" and \"Label scoping\" below.")
        out.append("")
        out.extend(targets_check(fake, dres, profiles_line))
        pad = " |" * (len([k for k in ("sp_unix", "sp_tcp", "sp_static") if k in fake]) - 1)
        if rules_line:
            m = re.search(r"([\d.]+) ns", rules_line)
            if m:
                v = float(m.group(1))
                out.append("| rules decision | ≤ 200 ns | %.1f ns %s |" % (v, "✅" if v <= 200 else "❌ (miss)") + pad)
        if http1_line:
            # The slowest of the 64 KiB shapes, resumed.
            ms = [float(v) for v in re.findall(r"64 KiB [^:]+: from scratch [\d.]+, resumed ([\d.]+)", http1_line)]
            if ms:
                v = max(ms)
                out.append("| request head of 64 KiB fed one byte per read | ≤ 5 ms | %.2f ms %s |"
                           % (v, "✅" if v <= 5 else "❌ (miss)") + pad)
        out.append("")
        errs = []
        for res in (fake, dres or {}):
            for key, m in res.items():
                for name, r in m.items():
                    if isinstance(r, dict) and (r.get("errors") or r.get("failed")):
                        errs.append("%s/%s: %d errors, %d connections failed"
                                    % (key, name, r.get("errors") or 0, r.get("failed") or 0))
        out.append("Load-generator errors: " + (", ".join(errs) if errs else "none") + ".")
        report = "\n".join(out)
        print(report)
        os.makedirs(os.path.join(BUILD, "bench"), exist_ok=True)
        with open(os.path.join(BUILD, "bench", "report.md"), "w") as f:
            f.write(report + "\n")
        with open(os.path.join(BUILD, "bench", "results.json"), "w") as f:
            json.dump({"fake": fake, "docker": dres, "rules": rules_line, "http1": http1_line,
                       "profiles": profiles_line}, f, indent=1,
                      default=str)
        if args.results:
            write_results(args.results, report)
    finally:
        stop_all()
        if exec_root:
            shutil.rmtree(exec_root, ignore_errors=True)
        logf.close()
        if os.environ.get("BENCH_KEEP"):
            log("kept %s" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)


RESULTS_HEAD = """# Benchmark results

socket-proxy against direct access to the daemon's socket and against HAProxy
with Tecnativa's configuration (Debian's haproxy package, the rules written by
`bench/compare.py`), on a fast fake daemon (`bench/upstream.c`) and on a real,
private dockerd. The tables below are rewritten by every `ninja bench`; the
notes at the end are kept.

## Reproduce

```sh
python3 configure.py && ninja && ninja bench
```

`ninja bench` builds `build/bench/load` and `build/bench/upstream` and runs
`python3 bench/compare.py --results bench/RESULTS.md` as root (it starts its own
dockerd and raises RLIMIT_NOFILE); about three and a half minutes on 2 cores. It
also writes `build/bench/report.md` and every figure to `build/bench/results.json`.
Options: `--secs N` per throughput run (default 2), `--rounds N` round-robin rounds
whose medians are reported (default 3), `--pinned-rounds N` (default 1),
`--no-docker`, `--no-static` (the static musl binary of the image,
`build/static/socket-proxy`, is measured when it exists). `SOCKET_PROXY_BIN`,
`SOCKET_PROXY_STATIC_BIN`, `BENCH_RULES_BIN`, `BENCH_HTTP1_BIN` and `BENCH_PROFILES_BIN` measure other builds;
`BENCH_KEEP=1` keeps the temporary directory (logs, HAProxy configurations).

The load generator alone: `build/bench/load -u SOCK | -t HOST:PORT -m
ka|new|bulk|idle|streams|startup -c N -d SECS -r "GET /_ping"`; the fake daemon:
`build/bench/upstream SOCK`.

How it measures: every throughput run is repeated in round-robin over the
targets (all of them up at once), so that a slow spell of this shared machine
hits all alike; CPU per request is the proxy's utime+stime from /proc/PID/stat
over a run divided by the requests served; syscalls per request come from
separate 1 s runs under `perf stat -e raw_syscalls:sys_enter` (perf slows the
syscalls it counts). On a 2-vCPU VM the placement of the three
processes decides much: a wake-up of a peer on the other CPU is an IPI, so the
keep-alive CPU figures are also given pinned (proxy on the CPU of the client and
the daemon, and on a CPU of its own), and bulk pinned (client on CPU 0, daemon
and proxy on CPU 1; everything on one CPU): those are the stable figures.

## Latest run

"""


def write_results(path, report):
    tail = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
        i = old.find("\n## Notes")
        if i >= 0:
            tail = old[i:]
    with open(path, "w") as f:
        f.write(RESULTS_HEAD + report + "\n" + tail)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        stop_all()
        sys.exit(130)

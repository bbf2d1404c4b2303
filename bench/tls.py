#!/usr/bin/env python3
"""What TLS costs (issue 14): socket-proxy terminating TLS 1.2 (mbed TLS) side
by side with HAProxy terminating it (Debian's haproxy, OpenSSL), in the same
run, with the same certificate (ECDSA P-256, signed by a CA made for the run),
mutual TLS, the same cipher suite (ECDHE-ECDSA-AES128-GCM-SHA256) and ECDHE
group (P-256) forced by the client, which offers nothing else, both forwarding
to the fake daemon (bench/upstream.c) over its Unix socket, HAProxy with
Tecnativa's rules as in bench/compare.py:

1. handshakes: a new mutually authenticated connection per request (GET
   /_ping, "Connection: close"): the proxy's CPU per connection, handshakes/s
   with --clients connections at a time, and the latency of one connection at
   a time (connect to the answer's last byte); the CPU again with X25519
   offered before P-256, as Go clients (the docker CLI) do; the same over
   clear TCP;
2. keep-alive: one TLS connection, requests one after another: the proxy's CPU
   per request and req/s; the same over clear TCP;
3. bulk: answers of --bulk-mib MiB over one connection, TLS and clear: MiB/s
   and the proxy's CPU per MiB; over TLS also with ChaCha20-Poly1305, the
   other suite socket-proxy offers.
Clear TCP is a second instance of each proxy. What TLS adds is the TLS run
minus the clear one of the same round.

CPU is the proxy's utime+stime from /proc/PID/stat (every thread) over a run
divided by what the run served. The handshake runs use both CPUs; the
keep-alive and bulk runs put the client, the proxy and the daemon on one CPU
(one connection's ping-pong across CPUs pays wake-ups that vary with the
machine's load). Every figure is run --rounds times, the targets interleaved
(the first of each round alternating); the table gives the median and the
lowest-highest of the rounds. The client is build/bench/tlsload
(bench/tlsload.c: C, OpenSSL, blocking, a thread per connection, no session
resumption, the server's chain and IP SAN verified), the same for both targets.

    python3 bench/tls.py [--secs 2] [--rounds 5] [--clients 4] [--bulk-mib 64]
                         [--group P-256] [--results FILE]

Needs build/socket-proxy, build/bench/upstream and build/bench/tlsload (`ninja
bench_tls` builds them), the openssl command and haproxy. A socket-proxy built
without TLS, or one that fails the handshake, gets "—" in its TLS cells and a
line saying why. With --results, replaces the "## TLS" section of FILE. Every
process it starts is stopped by pid at the end.
"""
import argparse
import datetime
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bodies  # noqa: E402  (publish: the section printed and written)
import compare  # noqa: E402  (processes, CPU time, the proxies' settings, HAProxy's configuration)

SECTION = "## TLS"
TLSLOAD = os.path.join(compare.BUILD, "bench", "tlsload")
CIPHER = "ECDHE-ECDSA-AES128-GCM-SHA256"  # every figure's, but one bulk run's:
CHACHA = "ECDHE-ECDSA-CHACHA20-POLY1305"  # the other suite socket-proxy offers
GO_GROUPS = "X25519:P-256"  # what Go clients (the docker CLI) offer first
log = compare.log


# ---------------------------------------------------------------- certificates

def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_certs(d):
    """A CA, a server certificate for IP 127.0.0.1 and a client certificate,
    all ECDSA P-256, in d: ca.pem, server-cert.pem, server-key.pem (the proxy's
    SOCKET_PROXY_TLS_DIR), haproxy.pem (certificate and key), client-*.pem."""
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc"]
    openssl("req", "-x509", *key, "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=bench-ca",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for name, cn, ext in (("server", "socket-proxy", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
                          ("client", "bench-client", "extendedKeyUsage=clientAuth\n")):
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext + "keyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n")
        openssl("req", *key, "-keyout", name + "-key.pem", "-out", name + ".csr", "-subj", "/CN=" + cn, cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
                "-days", "2", "-extfile", name + ".ext", "-out", name + "-cert.pem", cwd=d)
    with open(os.path.join(d, "haproxy.pem"), "w") as out:
        for name in ("server-cert.pem", "server-key.pem"):
            with open(os.path.join(d, name)) as f:
                out.write(f.read())


def tls_ping(port, certs, ctx=None):
    """GET /_ping over a new mutual-TLS connection; raises on anything but a 200."""
    if ctx is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(os.path.join(certs, "ca.pem"))
        ctx.load_cert_chain(os.path.join(certs, "client-cert.pem"), os.path.join(certs, "client-key.pem"))
    with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
            head = s.recv(4096)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError("answered %r" % head[:80])


def wait_tls(port, certs, proc, timeout=10.0):
    """Waits for a 200 over TLS; the last error when there is none by then."""
    t_end = time.time() + timeout
    err = "no answer"
    while time.time() < t_end:
        if proc.poll() is not None:
            return "exited with %s" % proc.returncode
        try:
            tls_ping(port, certs)
            return None
        except (OSError, RuntimeError) as e:
            err = str(e) or type(e).__name__
        time.sleep(0.05)
    return err


# ---------------------------------------------------------------- targets

class Server:
    """One listener under test: its process, port and whether it speaks TLS."""

    def __init__(self, key, proc, port, tls, note=None):
        self.key, self.proc, self.port, self.tls, self.note = key, proc, port, tls, note


def start_proxy(binary, usock, certs, tls, logf):
    port = compare.free_port()
    env = compare.proxy_env(usock, None, "127.0.0.1:%d" % port)
    if tls:
        env["SOCKET_PROXY_TLS_DIR"] = certs
    p = compare.spawn([binary], env=env, stdout=logf, stderr=logf)
    if tls:
        err = wait_tls(port, certs, p)
        if err:
            compare.stop(p)
            return Server("sp", None, port, tls, "socket-proxy did not answer over TLS: %s" % err)
    else:
        compare.wait_ping(("tcp", "127.0.0.1:%d" % port), p)
    return Server("sp", p, port, tls)


def start_haproxy(d, usock, certs, tls, group, logf):
    port = compare.free_port()
    cfg = os.path.join(d, "haproxy-%s.cfg" % ("tls" if tls else "tcp"))
    bind = ""
    if tls:
        bind = ("ssl crt %s ca-file %s verify required ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2 ciphers %s curves %s"
                % (os.path.join(certs, "haproxy.pem"), os.path.join(certs, "ca.pem"), CIPHER + ":" + CHACHA,
                   ":".join(dict.fromkeys(GO_GROUPS.split(":") + group.split(":")))))
    compare.haproxy_cfg(cfg, usock, port, bind_opts=bind)
    p = compare.spawn([compare.HAPROXY, "-db", "-f", cfg], env=compare.haproxy_env(), stdout=logf, stderr=logf)
    if tls:
        err = wait_tls(port, certs, p)
        if err:
            raise RuntimeError("HAProxy did not answer over TLS: %s" % err)
    else:
        compare.wait_ping(("tcp", "127.0.0.1:%d" % port), p)
    return Server("hap", p, port, tls)


# ---------------------------------------------------------------- runs

class Died(Exception):
    pass


def run(server, certs, args, logf, group, cipher, cpus=None, upstream_pid=None):
    """One tlsload run against server with the proxy's CPU over it; with cpus,
    the client, the proxy and the daemon all run there. Died when the proxy
    is gone by the end."""
    cmd = [TLSLOAD, "-q", "-t", "127.0.0.1:%d" % server.port] + args
    if server.tls:
        cmd += ["-a", os.path.join(certs, "ca.pem"), "-e", os.path.join(certs, "client-cert.pem"),
                "-k", os.path.join(certs, "client-key.pem"), "-s", cipher, "-g", group]
    else:
        cmd.append("-p")
    pre = None
    if cpus:
        compare.pin(server.proc.pid, cpus)
        compare.pin(upstream_pid, cpus)
        pre = lambda: os.sched_setaffinity(0, cpus)  # noqa: E731
    try:
        t0 = compare.cpu_ticks(server.proc.pid)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=logf, text=True, preexec_fn=pre)
        ticks = compare.cpu_ticks(server.proc.pid) - t0
        if cpus:
            every = os.sched_getaffinity(0)
            compare.pin(server.proc.pid, every)
            compare.pin(upstream_pid, every)
    except (OSError, ValueError):
        if server.proc.poll() is None:
            raise
        raise Died("exited with %s during `tlsload %s`" % (server.proc.returncode, " ".join(args)))
    res = compare.parse_result(r.stdout, cmd)
    res["cpu_s"] = ticks / compare.CLK_TCK
    n = res["requests"]
    res["cpu_us_per_req"] = res["cpu_s"] * 1e6 / n if n else None
    mib = res["body_bytes"] / 1048576.0
    res["cpu_ms_per_mib"] = res["cpu_s"] * 1e3 / mib if mib else None
    if res.get("errors") or res.get("resumed"):
        log("  !! %s %s: %d errors, %d resumed" % (server.key, " ".join(args), res["errors"], res["resumed"]))
    return res


def figures(secs, clients, bulk_bytes, group):
    """(name, TLS?, tlsload arguments, pinned to one CPU?, cipher, ECDHE groups). The handshake runs
    use both CPUs; one connection's ping-pong is steadier on one CPU (no
    cross-CPU wake-ups, which cost a VM dear and vary with the machine's load)."""
    d = ["-d", str(secs)]
    bulk = ["-m", "bulk", "-c", "1", "-r", "GET /containers/bench/export?size=%d" % bulk_bytes] + d
    hs = ["-m", "hs", "-c", str(clients)] + d
    return [("hs", True, hs, False, CIPHER, group),
            ("hs_go", True, hs, False, CIPHER, GO_GROUPS),
            ("new_tcp", False, hs, False, CIPHER, group),
            ("hs1", True, ["-m", "hs", "-c", "1"] + d, False, CIPHER, group),
            ("ka_tls", True, ["-m", "ka", "-c", "1"] + d, True, CIPHER, group),
            ("ka_tcp", False, ["-m", "ka", "-c", "1"] + d, True, CIPHER, group),
            ("bulk_tls", True, bulk, True, CIPHER, group),
            ("bulk_chacha", True, bulk, True, CHACHA, group),
            ("bulk_tcp", False, bulk, True, CIPHER, group)]


ROWS = [
    # label, unit, figure, field, format
    ("new mutual-TLS connection per GET /_ping: proxy CPU per connection", "µs", "hs", "cpu_us_per_req", "%.0f"),
    ("  — handshakes/s, {clients} connections at a time", "/s", "hs", "rps", "%.0f"),
    ("  — the client offering %s (as Go's, the docker CLI's): proxy CPU per connection" % GO_GROUPS, "µs", "hs_go",
     "cpu_us_per_req", "%.0f"),
    ("  — one at a time: connect to the answer's last byte, p50", "µs", "hs1", "p50_us", "%.0f"),
    ("  — one at a time: proxy CPU per connection", "µs", "hs1", "cpu_us_per_req", "%.0f"),
    ("new clear TCP connection per GET /_ping: proxy CPU per connection", "µs", "new_tcp", "cpu_us_per_req", "%.0f"),
    ("  — connections/s, {clients} at a time", "/s", "new_tcp", "rps", "%.0f"),
    ("keep-alive over TLS, 1 connection, pinned: proxy CPU per request", "µs", "ka_tls", "cpu_us_per_req", "%.1f"),
    ("  — req/s", "/s", "ka_tls", "rps", "%.0f"),
    ("keep-alive over clear TCP, 1 connection, pinned: proxy CPU per request", "µs", "ka_tcp", "cpu_us_per_req",
     "%.1f"),
    ("  — req/s", "/s", "ka_tcp", "rps", "%.0f"),
    ("bulk over TLS, {bulk} MiB answers, 1 connection, pinned", "MiB/s", "bulk_tls", "mibps", "%.0f"),
    ("  — proxy CPU per MiB", "ms", "bulk_tls", "cpu_ms_per_mib", "%.2f"),
    ("bulk over TLS with %s, pinned" % CHACHA, "MiB/s", "bulk_chacha", "mibps", "%.0f"),
    ("  — proxy CPU per MiB", "ms", "bulk_chacha", "cpu_ms_per_mib", "%.2f"),
    ("bulk over clear TCP, {bulk} MiB answers, 1 connection, pinned", "MiB/s", "bulk_tcp", "mibps", "%.0f"),
    ("  — proxy CPU per MiB", "ms", "bulk_tcp", "cpu_ms_per_mib", "%.2f"),
]


def stats(samples, field):
    vals = [s.get(field) for s in samples or []]
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return None
    return compare.median(vals), vals[0], vals[-1]


def cell(st, fmt):
    if st is None:
        return "—"
    med, lo, hi = st
    return (fmt + " (" + fmt + "–" + fmt + ")") % (med, lo, hi)


def report_table(samples, clients, bulk_mib):
    lines = ["| figure | socket-proxy (mbed TLS) | HAProxy (OpenSSL) | socket-proxy / HAProxy |",
             "|---|---|---|---|"]
    for label, unit, fig, field, fmt in ROWS:
        sp, hap = stats(samples["sp"].get(fig), field), stats(samples["hap"].get(fig), field)
        r = "×%.2f" % (sp[0] / hap[0]) if sp and hap and hap[0] else "—"
        lines.append("| %s (%s) | %s | %s | %s |" % (label.format(clients=clients, bulk=bulk_mib), unit,
                                                     cell(sp, fmt), cell(hap, fmt), r))
    # What TLS adds: the TLS run minus the clear one of the same round, per round
    for label, unit, tls, clear, field, fmt in (
            ("TLS's addition per new connection: proxy CPU", "µs", "hs", "new_tcp", "cpu_us_per_req", "%.0f"),
            ("TLS's addition per kept-alive request: proxy CPU", "µs", "ka_tls", "ka_tcp", "cpu_us_per_req", "%.1f"),
            ("TLS's addition per MiB of bulk: proxy CPU", "ms", "bulk_tls", "bulk_tcp", "cpu_ms_per_mib", "%.2f")):
        sts = []
        for key in ("sp", "hap"):
            pairs = zip(samples[key].get(tls) or [], samples[key].get(clear) or [])
            sts.append(stats([{field: a[field] - b[field]} for a, b in pairs
                              if a.get(field) is not None and b.get(field) is not None], field))
        r = "×%.2f" % (sts[0][0] / sts[1][0]) if sts[0] and sts[1] and sts[1][0] > 0 else "—"
        lines.append("| %s (%s) | %s | %s | %s |" % (label, unit, cell(sts[0], fmt), cell(sts[1], fmt), r))
    return lines


def negotiated(samples, key, figs=("hs", "ka_tls")):
    for fig in figs:
        for s in samples[key].get(fig) or []:
            if s.get("version") not in (None, "-"):
                return "%s %s, ECDHE %s" % (s["version"], s["cipher"], s["group"])
    return "—"


def client_lib(samples):
    for figs in samples.values():
        for ss in figs.values():
            for s in ss:
                if s.get("lib"):
                    return s["lib"].replace("-", " ", 1)
    return "OpenSSL"


def tool_versions():
    out = []
    try:
        vv = subprocess.run([compare.HAPROXY, "-vv"], stdout=subprocess.PIPE, text=True).stdout.splitlines()
        lib = [ln.split(":", 1)[1].strip() for ln in vv if ln.startswith("Running on OpenSSL version")]
        out.append(vv[0] + (" with " + lib[0] if lib else ""))
    except (OSError, IndexError):
        pass
    try:
        v = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libmbedtls-dev"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True).stdout.strip()
        if v:
            out.append("mbed TLS %s (Debian's libmbedtls-dev)" % v)
    except OSError:
        pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--secs", type=float, default=2.0, help="seconds per run")
    ap.add_argument("--rounds", type=int, default=5, help="rounds per figure (median, lowest-highest)")
    ap.add_argument("--clients", type=int, default=4, help="connections at a time in the handshake rate run")
    ap.add_argument("--bulk-mib", type=int, default=64, help="size of a bulk answer, MiB")
    ap.add_argument("--group", default="P-256", help="the ECDHE group forced (OpenSSL's name: P-256, X25519)")
    ap.add_argument("--results", help="a Markdown file whose section to replace")
    args = ap.parse_args()
    for b in (TLSLOAD, compare.UPSTREAM, compare.PROXY):
        if not os.access(b, os.X_OK):
            sys.exit("missing %s: run `ninja bench_tls`" % b)

    d = tempfile.mkdtemp(prefix="spbt", dir="/tmp")
    logf = open(os.path.join(d, "bench.log"), "w")
    certs = os.path.join(d, "certs")
    os.mkdir(certs)
    # a copy: a rebuild during the run must not swap the binary under test
    proxy_bin = os.path.join(d, "socket-proxy")
    shutil.copy2(compare.PROXY, proxy_bin)
    built = time.strftime("%Y-%m-%d %H:%M", time.gmtime(os.path.getmtime(compare.PROXY)))
    t_start, load0 = time.time(), os.getloadavg()
    samples = {"sp": {}, "hap": {}}
    notes = []

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        make_certs(certs)
        usock = os.path.join(d, "up.sock")
        up = compare.spawn([compare.UPSTREAM, usock], stdout=subprocess.PIPE, stderr=logf)
        if not up.stdout.readline().startswith(b"READY"):
            raise RuntimeError("upstream did not start")
        servers = {}
        for tls in (True, False):
            servers[("sp", tls)] = start_proxy(proxy_bin, usock, certs, tls, logf)
            servers[("hap", tls)] = start_haproxy(d, usock, certs, tls, args.group, logf)
        for s in servers.values():
            if s.note:
                notes.append(s.note)
                log("  !! " + s.note)
        figs = figures(args.secs, args.clients, args.bulk_mib << 20, args.group)
        one_cpu = {sorted(os.sched_getaffinity(0))[-1]}
        for r in range(args.rounds):
            log("round %d of %d" % (r + 1, args.rounds))
            order = ("sp", "hap") if r % 2 == 0 else ("hap", "sp")
            for name, tls, fargs, pinned, cipher, groups in figs:
                for key in order:
                    s = servers[(key, tls)]
                    if s.proc is None:
                        continue
                    try:
                        samples[key].setdefault(name, []).append(
                            run(s, certs, fargs, logf, groups, cipher, one_cpu if pinned else None, up.pid))
                    except Died as e:
                        what = "%s (%s) %s" % ("socket-proxy" if key == "sp" else "HAProxy",
                                               "TLS" if tls else "clear TCP", e)
                        notes.append(what + "; its later figures are missing")
                        log("  !! " + what)
                        s.proc = None
    finally:
        compare.stop_all()
        logf.close()
        if os.environ.get("BENCH_KEEP"):
            log("kept %s" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)

    errs = []
    for key, figs_ in samples.items():
        for name, ss in figs_.items():
            e, res = sum(int(s.get("errors") or 0) for s in ss), sum(int(s.get("resumed") or 0) for s in ss)
            if e or res:
                errs.append("%s/%s: %d errors, %d resumed sessions" % (key, name, e, res))
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [SECTION, "",
             "Run %s on %s; load average %.2f at the start, %.2f at the end; %.0f s in all. %s. socket-proxy %s "
             "(built %s)." % (now, compare.machine(), load0[0], os.getloadavg()[0], time.time() - t_start,
                              "; ".join(tool_versions()), compare.PROXY, built), "",
             "Both terminate TLS on 127.0.0.1 with the same ECDSA P-256 certificate (a CA made for the run, "
             "client certificates required; the client offers one cipher suite and one ECDHE group) and forward "
             "to bench/upstream.c over its Unix socket; HAProxy runs Tecnativa's rules as in bench/compare.py "
             "(`option http-server-close`: a new daemon connection per request) with its default threads. "
             "Negotiated: socket-proxy %s; HAProxy %s; with %s offered: socket-proxy %s, HAProxy %s. Client: "
             "build/bench/tlsload (C, %s, blocking, a thread per connection, TLS 1.2 only, no session resumption, "
             "the server's chain and IP SAN verified), on the same 2 CPUs as the servers. CPU is the proxy's "
             "utime+stime (all threads) over a run divided by what it served. New connections send `Connection: "
             "close`; the handshake runs use both CPUs, the keep-alive and bulk runs (\"pinned\") put the client, "
             "the proxy and the daemon on one CPU. A \"TLS's addition\" row is the TLS run minus the clear one of "
             "the same round. %d rounds of %g s per figure, the targets interleaved; cells: median (lowest–highest "
             "of the rounds)."
             % (negotiated(samples, "sp"), negotiated(samples, "hap"), GO_GROUPS, negotiated(samples, "sp", ["hs_go"]),
                negotiated(samples, "hap", ["hs_go"]), client_lib(samples), args.rounds, args.secs),
             ""]
    lines += report_table(samples, args.clients, args.bulk_mib)
    lines.append("")
    for n in notes:
        lines += [n + ".", ""]
    lines += ["Client errors: " + (", ".join(errs) if errs else "none") + ".", ""]
    bodies.publish(lines, args.results, SECTION)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        compare.stop_all()
        sys.exit(130)

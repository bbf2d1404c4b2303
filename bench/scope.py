#!/usr/bin/env python3
"""What label scoping costs (issue 13), against a private dockerd: a request
naming one container (inspect by name) and a container list, directly, through
an unscoped socket-proxy, and through a profile scoped with SCOPE_LABEL (the
proxy first asks the daemon for the container's inspect on a connection of its
own, then forwards the request with the container's ID; a list gets the label
added to its filters). Interleaved request by request, keep-alive clients.

    python3 bench/scope.py [--n 300] [--results FILE]

Needs build/socket-proxy and root (dockerd). Prints a Markdown table; with
--results, replaces the "## Label scoping" section of FILE. Every process it
starts is stopped by pid at the end.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bodies  # noqa: E402  (the same dockerd, proxy and timing helpers)

SECTION = "## Label scoping"
LABEL = "bench.scope=yes"


def measure(targets, n, name):
    """targets: label -> socket. Inspects the container by name and lists
    containers through each in turn; seconds per request."""
    conns = {k: bodies.Unix(v) for k, v in targets.items()}
    inspects = {k: [] for k in targets}
    lists = {k: [] for k in targets}
    for _ in range(n):
        for label, c in conns.items():
            st, data, dt = bodies.call(c, "GET", "/v1.41/containers/%s/json" % name)
            if st != 200:
                raise RuntimeError("%s: inspect answered %d: %s" % (label, st, data[:300]))
            inspects[label].append(dt)
            st, data, dt = bodies.call(c, "GET", "/v1.41/containers/json?all=1")
            if st != 200:
                raise RuntimeError("%s: list answered %d: %s" % (label, st, data[:300]))
            lists[label].append(dt)
    return inspects, lists


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300, help="requests of each kind per target")
    ap.add_argument("--results", help="a Markdown file whose section to replace")
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="spbs-")
    exec_root = "/tmp/spbs%d" % os.getpid()
    logf = open(os.path.join(d, "bench.log"), "wb")
    try:
        sock, admin = bodies.start_dockerd(d, exec_root, logf)
        # 20 containers, half of them labelled: the scoped list answers the labelled ones.
        for i in range(20):
            body = json.loads(bodies.create_body("spbench:1"))
            body["HostConfig"]["Binds"] = []
            if i % 2 == 0:
                body["Labels"]["bench.scope"] = "yes"
            st, data, _ = bodies.call(admin, "POST", "/v1.41/containers/create?name=bench%02d" % i,
                                      json.dumps(body).encode())
            if st != 201:
                raise RuntimeError("create answered %d: %s" % (st, data[:300]))
        base = {"CONTAINERS": "1"}
        _, plain = bodies.proxy(d, "plain", sock, base)
        _, scoped = bodies.proxy(d, "scoped", sock, dict(base, SCOPE_LABEL=LABEL))
        targets = {"direct": sock, "socket-proxy": plain, "socket-proxy, SCOPE_LABEL": scoped}
        measure(targets, 10, "bench00")  # warm-up
        inspects, lists = measure(targets, args.n, "bench00")
    finally:
        bodies.stop_children()
        logf.close()
        subprocess.run(["rm", "-rf", d, exec_root], check=False)

    im, _ = bodies.summary(inspects["direct"])
    lm, _ = bodies.summary(lists["direct"])
    lines = [SECTION, "",
             "%d inspects of one container by name and %d lists of 20 containers (10 labelled) per column against a "
             "private dockerd, interleaved, keep-alive. Median and 90th percentile, ms; the difference to direct "
             "access in brackets. A scoped inspect costs the proxy's own inspect of the container first (one more "
             "round trip to the daemon, on a kept-alive connection of its own) before the request itself; both "
             "proxy columns redact Env (POST=0)." % (args.n, args.n),
             "", "| target | inspect median | inspect p90 | list median | list p90 |", "|---|---|---|---|---|"]
    for label in inspects:
        i50, i90 = bodies.summary(inspects[label])
        l50, l90 = bodies.summary(lists[label])
        iextra = "" if label == "direct" else " (%+.3f)" % (i50 - im)
        lextra = "" if label == "direct" else " (%+.3f)" % (l50 - lm)
        lines.append("| %s | %.3f%s | %.3f | %.3f%s | %.3f |" % (label, i50, iextra, i90, l50, lextra, l90))
    s50, _ = bodies.summary(inspects["socket-proxy, SCOPE_LABEL"])
    lines += ["", "Scoped inspect: %.3f ms added to direct access, %.2f× one direct inspect round trip (%.3f ms); "
              "issue 15's target for a scoped request is an added latency of at most 1.3× one direct round trip."
              % (s50 - im, (s50 - im) / im, im), ""]
    bodies.publish(lines, args.results, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())

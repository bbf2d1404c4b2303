"""`socket-proxy learn LOGFILE`: the least variables per client from a saved
access log (text or JSON lines), with no configuration needed. The log's rule
column is written from `socket-proxy check`'s own words, so the log is what the
proxy writes. The printed lines paste into compose (YAML), and as the
environment of `check` they allow every request of the log and not
`POST /networks/create`. A file that cannot be read is one error line and a
non-zero exit."""
import json
import re

import yaml

from test_cli import run

TS = "2024-05-01T10:00:00.000Z"
REFUSED = ("POST", "/v1.41/networks/create")

# (client as the log writes it, method, target): what each client did
REQUESTS = [
    ("uid=0 pid=42", "GET", "/v1.41/containers/json?all=1"),
    ("uid=0 pid=42", "GET", "/v1.41/containers/abc/logs?follow=1"),
    ("uid=0 pid=43", "POST", "/v1.41/containers/abc/start"),
    ("uid=0 pid=43", "GET", "/_ping"),
    ("10.0.0.5:4711", "GET", "/v1.41/events"),
    ("10.0.0.5:4712", "GET", "/v1.41/info"),
    ("[::1]:4713", "POST", "/v1.41/containers/create"),
    ("[::1]:4713", "POST", "/v1.41/containers/abc/start"),
]


def rule_of(method, target, env=None, profile=None):
    """The rule column the proxy logs for a request: `check`'s "needs X" or "granted by X"."""
    args = ["check"] + (["--profile", profile] if profile else []) + [method, target]
    r = run(*args, env=env)
    m = re.search(r"^  path \S+ (?:needs|granted by) (.+)$", r.stdout, re.M)
    assert m, r.stdout + r.stderr
    return m.group(1), "allow" if r.returncode == 0 else "deny"


def text_log(requests):
    lines = [f"{TS} socket-proxy info: socket-proxy 0.1.0: granted: EVENTS PING VERSION"]
    for client, method, target in requests:
        rule, decision = rule_of(method, target)
        lines.append(f'{TS} {client} "{method} {target}" {decision} ({rule}) 403 120 0.100ms')
    lines += [f'{TS} 10.0.0.9:1 "- -" deny (not admitted by SOCKET_PROXY_ALLOW_FROM) 0 0 0.100ms',
              f'{TS} uid=0 pid=1 "GET /%zz" bad (bad percent-escape) 400 0 0.100ms', "garbage ((( \"", ""]
    return "\n".join(lines)


def blocks(report):
    """{title: [item lines]} of a report's blocks."""
    out, title = {}, None
    for line in report.splitlines():
        m = re.match(r"^# (.+): \d+ requests?$", line)
        if m:
            title = m.group(1)
            out[title] = []
        elif line.startswith("      - ") and title:
            out[title].append(line)
    return out


def environment(items):
    """The items as compose reads them: {NAME: value}."""
    listed = yaml.safe_load("environment:\n" + "\n".join(items))["environment"]
    return dict(x.split("=", 1) for x in listed)


def test_learn_text_log(tmp_path):
    log = tmp_path / "access.log"
    log.write_text(text_log(REQUESTS))
    r = run("learn", str(log))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "# socket-proxy learn: the least variables that allow what each client did"
    expect = [
        "# client uid=0: 4 requests",
        "      - CONTAINERS=1   # 2 requests: GET /v1.41/containers/json?all=1, GET /v1.41/containers/abc/logs?follow=1",
        "      - ALLOW_START=1  # 1 request: POST /v1.41/containers/abc/start",
        "# client 10.0.0.5: 2 requests",
        "      - INFO=1  # 1 request: GET /v1.41/info",
        "# client [::1]: 2 requests",
        "      - CONTAINERS=1  # 2 requests: POST /v1.41/containers/create, POST /v1.41/containers/abc/start",
        "      - POST=1        # 2 requests: POST /v1.41/containers/create, POST /v1.41/containers/abc/start",
        "# all 3 clients together: 8 requests",
        f"# {log}: 12 lines read, 8 requests noted, 4 lines skipped (other log lines, bad requests, refusals at "
        "admission, unreadable lines)",
    ]
    missing = [x for x in expect if x not in lines]
    assert missing == [], r.stdout
    items = [x for x in lines if x.startswith("      - ")]
    assert [x for x in items if re.search(r"\b(EVENTS|PING|ALLOW_LOGS)=", x)] == [], r.stdout


def test_learn_text_log_of_tls_clients(tmp_path):
    """TLS clients' lines carry cert="SUBJECT" (escaped as log.c escapes, spaces and
    quotes included) after the client: read like the others, the subject skipped."""
    lines = []
    for cert in ('CN=traefik, O=example', 'CN=a \\"quoted\\" name', 'CN=x\\x7f'):
        rule, decision = rule_of("GET", "/v1.41/containers/json")
        lines.append(f'{TS} 10.0.0.7:{len(lines) + 1} cert="{cert}" "GET /v1.41/containers/json" {decision} ({rule}) '
                     '403 120 0.100ms')
    lines.append(f'{TS} 10.0.0.7:9 cert="CN=unterminated "GET /_ping" allow (PING=1) 200 1 0.100ms')
    log = tmp_path / "tls.log"
    log.write_text("\n".join(lines) + "\n")
    r = run("learn", str(log))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "# client 10.0.0.7: 3 requests" in r.stdout, r.stdout
    assert "      - CONTAINERS=1  # 3 requests: GET /v1.41/containers/json" in r.stdout.splitlines(), r.stdout
    assert "4 lines read, 3 requests noted, 1 line skipped" in r.stdout, r.stdout


def test_learned_lines_allow_the_log_and_nothing_more(tmp_path):
    log = tmp_path / "access.log"
    log.write_text(text_log(REQUESTS))
    r = run("learn", str(log))
    found = blocks(r.stdout)
    for title, want in [("client uid=0", "uid=0"), ("client 10.0.0.5", "10.0.0.5"), ("client [::1]", "[::1]")]:
        env = environment(found[title])
        for client, method, target in REQUESTS:
            if client.split(" ")[0].rsplit(":", 1)[0] == want or client.split(" ")[0] == want:
                assert run("check", method, target, env=env).returncode == 0, (title, env, method, target)
        assert run("check", *REFUSED, env=env).returncode == 1, (title, env)
    env = environment(found["all 3 clients together"])
    for _, method, target in REQUESTS:
        assert run("check", method, target, env=env).returncode == 0, (env, method, target)
    assert run("check", *REFUSED, env=env).returncode == 1, env


def test_learn_json_log_with_profiles(tmp_path):
    profiles = {"SOCKET_PROXY_PROFILES": "web-app"}
    lines = [json.dumps({"time": TS, "level": "warning", "msg": "starting"})]
    for client, method, target in [("10.0.0.5:1", "GET", "/v1.41/containers/json"),
                                   ("10.0.0.5:2", "POST", "/v1.41/containers/abc/restart"),
                                   ("10.0.0.5:3", "GET", "/v1.41/images/json")]:
        rule, decision = rule_of(method, target, env=profiles, profile="web-app")
        lines.append(json.dumps({"time": TS, "level": "info", "client": client, "profile": "web-app", "method": method,
                                 "target": target, "decision": decision, "rule": rule, "status": 403, "bytes": 1,
                                 "ms": 0.1}))
    lines.append(json.dumps({"time": TS, "level": "info", "client": "uid=0 pid=7", "profile": "default",
                             "method": "GET", "target": "/v1.41/version", "decision": "allow", "rule": "VERSION=1",
                             "status": 200, "bytes": 1, "ms": 0.1}))
    log = tmp_path / "access.json"
    log.write_text("\n".join(lines) + "\n")
    r = run("learn", str(log))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    out = r.stdout.splitlines()
    expect = [
        "# profile web-app, client 10.0.0.5: 3 requests",
        "      - WEB_APP__CONTAINERS=1      # 1 request: GET /v1.41/containers/json",
        "      - WEB_APP__IMAGES=1          # 1 request: GET /v1.41/images/json",
        "      - WEB_APP__ALLOW_RESTARTS=1  # 1 request: POST /v1.41/containers/abc/restart",
        "# profile default, client uid=0: 1 request",
        "#   nothing to add: the defaults allowed every request",
    ]
    assert [x for x in expect if x not in out] == [], r.stdout
    env = dict(profiles, **environment(blocks(r.stdout)["profile web-app, client 10.0.0.5"]))
    for method, target in [("GET", "/v1.41/containers/json"), ("POST", "/v1.41/containers/abc/restart"),
                           ("GET", "/v1.41/images/json")]:
        assert run("check", "--profile", "web-app", method, target, env=env).returncode == 0, (env, target)
    assert run("check", "--profile", "web-app", *REFUSED, env=env).returncode == 1


def test_learn_reads_standard_input(tmp_path):
    import subprocess
    from test_cli import BIN
    r = subprocess.run([BIN, "learn", "-"], input=text_log(REQUESTS[:1]), capture_output=True, text=True, timeout=10,
                       env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert "      - CONTAINERS=1  # 1 request: GET /v1.41/containers/json?all=1" in r.stdout.splitlines()
    assert r.stdout.rstrip().endswith("# standard input: 5 lines read, 1 request noted, 4 lines skipped (other log "
                                      "lines, bad requests, refusals at admission, unreadable lines)"), r.stdout


def test_learn_needs_no_configuration(tmp_path):
    log = tmp_path / "access.log"
    log.write_text(text_log(REQUESTS[:1]))
    r = run("learn", str(log), env={"CONTAINERS": "maybe", "SOCKET_PROXY_PROFILES": "Bad Name"})
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_learn_missing_file_is_one_error_line():
    r = run("learn", "/nonexistent/access.log")
    assert r.returncode != 0 and r.stdout == ""
    assert r.stderr.splitlines() == ["socket-proxy: learn: cannot read /nonexistent/access.log: No such file or directory"]


def test_learn_usage():
    r = run("learn")
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("usage: socket-proxy learn LOGFILE"), r.stderr
    assert "learn LOGFILE" in run("help").stdout

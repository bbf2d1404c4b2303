"""The README's variable tables and the binary's own tables name the same
variables with the same defaults: the Rules table against the rules variables
and API_KEY, the Server table against the server variables (`socket-proxy vars`
prints them in that order, API_KEY between)."""
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def readme_vars():
    """{section: {name: default}} of the tables under "### Rules" and "### Server"."""
    sections, section = {}, None
    with open(os.path.join(ROOT, "README.md")) as f:
        for line in f:
            if line.startswith("#"):
                section = line.strip("# \n") if line.startswith("### ") else None
                continue
            m = re.match(r"^\| `([A-Z][A-Z0-9_]*)` \| `([^`]*)` \|", line)
            if m and section:
                rows = sections.setdefault(section, {})
                assert m.group(1) not in rows, f"{m.group(1)} listed twice in README.md"
                rows[m.group(1)] = m.group(2)
    return sections


def binary_vars():
    """({rules variables and API_KEY: default}, {server variables: default})."""
    out = subprocess.run([os.path.join(ROOT, "build", "socket-proxy"), "vars"], capture_output=True, text=True,
                         check=True, env={"PATH": "/usr/bin:/bin"}).stdout
    lines = out.splitlines()
    lines = lines[:lines.index("# per profile NAME in SOCKET_PROXY_PROFILES:")]
    pairs = [line.split("=", 1) for line in lines]
    names = [n for n, _ in pairs]
    assert "API_KEY" in names, out
    cut = names.index("API_KEY") + 1
    return dict(pairs[:cut]), dict(pairs[cut:])


def compare(doc, binary):
    assert sorted(set(binary) - set(doc)) == [], "variables missing from README.md"
    assert sorted(set(doc) - set(binary)) == [], "README.md lists variables the binary does not know"
    wrong = {k: (doc[k], binary[k]) for k in binary if doc[k] != binary[k]}
    assert wrong == {}, "README default != binary default (readme, binary)"


def test_readme_rules_table_matches_binary():
    compare(readme_vars().get("Rules", {}), binary_vars()[0])


def test_readme_server_table_matches_binary():
    compare(readme_vars().get("Server", {}), binary_vars()[1])


def test_readme_has_no_other_variable_table():
    assert sorted(readme_vars()) == ["Rules", "Server"]

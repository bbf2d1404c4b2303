"""The README's variable tables and the binary's own table name the same
variables with the same defaults."""
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def readme_vars():
    rows = {}
    with open(os.path.join(ROOT, "README.md")) as f:
        for line in f:
            m = re.match(r"^\| `([A-Z][A-Z0-9_]*)` \| `([^`]*)` \|", line)
            if m:
                assert m.group(1) not in rows, f"{m.group(1)} listed twice in README.md"
                rows[m.group(1)] = m.group(2)
    return rows


def binary_vars():
    out = subprocess.run([os.path.join(ROOT, "build", "socket-proxy"), "vars"], capture_output=True, text=True,
                         check=True, env={"PATH": "/usr/bin:/bin"}).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def test_readme_table_matches_binary():
    doc, binary = readme_vars(), binary_vars()
    assert sorted(set(binary) - set(doc)) == [], "variables missing from README.md"
    assert sorted(set(doc) - set(binary)) == [], "README.md lists variables the binary does not know"
    wrong = {k: (doc[k], binary[k]) for k in binary if doc[k] != binary[k]}
    assert wrong == {}, "README default != binary default (readme, binary)"

"""Runs every libFuzzer target for a bounded time (60 s each under CI=true,
FUZZ_SECONDS to override); any crash fails."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = ["request", "response", "body", "rules", "pathdiff", "env", "judge", "redact", "learn", "scope", "tls"]


def seconds():
    if os.environ.get("FUZZ_SECONDS"):
        return int(os.environ["FUZZ_SECONDS"])
    return 60 if os.environ.get("CI", "").lower() == "true" else 10


def configured_clang():
    """The clang configure.py chose (build/config.ninja), the one `ninja fuzz` uses."""
    with open(os.path.join(ROOT, "build", "config.ninja")) as f:
        for line in f:
            name, _, value = line.partition("=")
            if name.strip() == "clang":
                return value.strip()
    return "clang-14"


@pytest.mark.parametrize("target", TARGETS)
def test_fuzz(target):
    clang = configured_clang()
    if not os.path.isabs(clang):
        pytest.fail(f"{clang} is missing: apt-get install clang-14 libclang-rt-14-dev, then rerun configure.py")
    r = subprocess.run([os.path.join(ROOT, "tests/fuzz/run.sh"), clang, str(seconds()), target],
                       capture_output=True, text=True, timeout=seconds() + 300)
    print(r.stdout)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]

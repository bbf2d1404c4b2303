"""Runs the C unit tests (plain and ASan+UBSan builds) under pytest."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNITS = ["test_http1", "test_rules", "test_body", "test_redact", "test_admit", "test_admit_loop", "test_lookup",
         "test_metrics", "test_learn", "test_scope", "test_tls"]
BUILDS = {"plain": "build/tests", "asan": "build/asan", "static": "build/static"}
# Every unit in the plain and ASan builds; in the static one (musl, mbed TLS built
# with core/tls_mbedtls_config.h), the unit of what that build configures.
RUNS = [(unit, build) for unit in UNITS for build in ("asan", "plain")] + [("test_tls", "static")]


@pytest.mark.parametrize("unit,build", RUNS)
def test_unit(unit, build):
    path = os.path.join(ROOT, BUILDS[build], unit)
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: run `ninja test` (it builds every unit test)")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1", UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    r = subprocess.run([path], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert " 0 failed" in r.stdout

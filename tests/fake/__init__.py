"""Test doubles for the integration tests: a scripted fake Docker daemon (upstream.py)
and a tiny raw HTTP/1.1 reader for tests that drive sockets by hand (rawhttp.py)."""

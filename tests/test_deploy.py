"""The documented production start: gunicorn serving wsgi:app with PORTAL_CONFIG=production."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "SECRET_KEY"))}
    env.update(
        PORTAL_CONFIG="production",
        DATABASE_URL=f"sqlite:///{tmp_path}/prod.db",
        RATELIMIT_STORAGE_URI="memory://",
        **extra,
    )
    return env


def test_gunicorn_serves_the_production_app(tmp_path: Path):
    port = _free_port()
    env = _env(
        tmp_path,
        SECRET_KEY="p" * 48,
        DATA_ENCRYPTION_KEYS="v1:MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=",
        DATA_LOOKUP_KEY="MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI=",
    )
    proc = subprocess.Popen(
        [str(GUNICORN), "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200 and b'"database":"ok"' in r.read().replace(b" ", b"")
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read().decode() if proc.stdout else ""
                    pytest.fail(f"gunicorn did not start:\n{output}")
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            page = r.read().decode()
            assert '<html lang="id">' in page
            assert "Strict-Transport-Security" in r.headers
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_gunicorn_refuses_to_start_without_a_secret_key(tmp_path: Path):
    result = subprocess.run(
        [str(GUNICORN), "--bind", f"127.0.0.1:{_free_port()}", "wsgi:app"],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stdout + result.stderr

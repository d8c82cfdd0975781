"""WORKERS, REDIS_URL and `serve --workers N`: several workers need PostgreSQL and Redis. Every
refusal is one line on stderr and exit code 2, before anything is started (several workers
serving is tested in tests/test_shared_sessions.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gatehouse.settings import SettingsError, check_workers, load_settings

POSTGRES = "postgresql://gatehouse@127.0.0.1:1/gh"  # never reached: refused before
REDIS = "redis://127.0.0.1:1/0"


def _serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env}
    if "PYTHONPATH" in os.environ:  # the checkout under test (tests/running_app.py)
        environment["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run(
        [sys.executable, "-m", "gatehouse", "serve", *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("value", ["0", "65", "two", "-1"])
def test_workers_out_of_range_is_refused(tmp_path: Path, value: str) -> None:
    assert _one_line(_serve(tmp_path, WORKERS=value)).startswith("gatehouse: invalid WORKERS:")


def test_the_flag_overrides_the_environment(tmp_path: Path) -> None:
    line = _one_line(_serve(tmp_path, "--workers", "0", WORKERS="1"))
    assert line.startswith("gatehouse: invalid WORKERS:")


def test_several_workers_on_sqlite_are_refused(tmp_path: Path) -> None:
    line = _one_line(_serve(tmp_path, "--workers", "2", REDIS_URL=REDIS))
    assert line.startswith("gatehouse: invalid WORKERS:")
    assert "PostgreSQL" in line and "SQLite" in line


def test_several_workers_without_redis_are_refused(tmp_path: Path) -> None:
    line = _one_line(_serve(tmp_path, WORKERS="3", DATABASE_URL=POSTGRES))
    assert line.startswith("gatehouse: invalid WORKERS:")
    assert "REDIS_URL" in line


def test_several_workers_with_both_are_taken() -> None:
    check_workers(load_settings(workers=2, database_url=POSTGRES, redis_url=REDIS))


def test_a_redis_url_that_is_not_one_is_refused(tmp_path: Path) -> None:
    line = _one_line(_serve(tmp_path, REDIS_URL="http://127.0.0.1:6379"))
    assert line.startswith("gatehouse: invalid REDIS_URL:")
    assert "6379" not in line  # the URL (it may hold a password) is not echoed


@pytest.mark.parametrize("url", ["redis://h:6379/0", "rediss://u:p@h/1", "unix:///run/r.sock"])
def test_redis_urls_are_taken(url: str) -> None:
    assert load_settings(redis_url=url).redis_url == url


def test_one_worker_needs_neither_postgres_nor_redis(tmp_path: Path) -> None:
    settings = load_settings(workspace_dir=tmp_path / "w", data_dir=tmp_path / "d")
    assert settings.workers == 1 and settings.redis_url is None
    check_workers(settings)  # no refusal
    blank = load_settings(redis_url="  ", workspace_dir=tmp_path / "w", data_dir=tmp_path / "d")
    assert blank.redis_url is None
    with pytest.raises(SettingsError, match="REDIS_URL"):
        check_workers(load_settings(workers=2, database_url=POSTGRES))


@pytest.mark.parametrize("value", ["0", "299", "many"])
def test_a_turn_lease_out_of_range_is_refused(tmp_path: Path, value: str) -> None:
    line = _one_line(_serve(tmp_path, TURN_LEASE_MS=value))
    assert line.startswith("gatehouse: invalid TURN_LEASE_MS:")

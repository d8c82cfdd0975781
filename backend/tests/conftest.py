"""Shared fixtures: the local model server, and the real app started as `gatehouse serve`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from gatehouse.redis_client import connect
from tests.model_server import ModelServer
from tests.postgres import postgres_server
from tests.redis_server import RedisServer
from tests.redis_server import redis_server as start_redis_server
from tests.running_app import AppFactory, RunningApp, start_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def _model_server() -> ModelServer:
    server = ModelServer()
    server.start_in_thread()
    return server


@pytest.fixture
def model(_model_server: ModelServer) -> Iterator[ModelServer]:
    """The model server, with no scripts and no recorded requests left from other tests.

    A test fails when the app sent a request the real Messages API would have refused.
    """
    _model_server.reset()
    yield _model_server
    violations = list(_model_server.violations)
    _model_server.reset()
    assert violations == [], f"requests the Messages API would refuse: {violations}"


@pytest.fixture(scope="session")
def _shared_app(
    _model_server: ModelServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    app = start_app(_model_server, tmp_path_factory.mktemp("app"))
    yield app
    app.stop()


@pytest.fixture
def app(_shared_app: RunningApp, model: ModelServer) -> RunningApp:  # noqa: ARG001
    """The app with default settings, shared by the tests that do not change them."""
    _shared_app.clear_workspace()
    return _shared_app


@pytest.fixture(scope="session")
def _run_postgres() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that outlives one app, for tests that restart it: SQLite in the test's
    folder, or the run's one PostgreSQL (the tests that share it keep to their own
    conversations)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kept.db'}"
    return request.getfixturevalue("_run_postgres")


@pytest.fixture
def kept_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """Settings that two apps started one after the other share: the database and workspace."""
    return {"DATABASE_URL": database_url, "WORKSPACE_DIR": str(tmp_path / "kept-workspace")}


@pytest.fixture
def app_factory(model: ModelServer, tmp_path: Path) -> Iterator[AppFactory]:
    """Start an app with extra environment variables; stopped at the end of the test."""
    started: list[RunningApp] = []

    def factory(**env: str) -> RunningApp:
        app = start_app(model, tmp_path / f"app{len(started)}", **env)
        started.append(app)
        return app

    yield factory
    for app in started:
        app.stop()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh, empty Redis server of this test's own (tests/redis_server.py)."""
    with start_redis_server() as server:
        yield server


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """A client of this test's Redis server (gatehouse.redis_client, as the app connects)."""
    client = connect(redis_server.url)
    yield client
    await client.aclose()

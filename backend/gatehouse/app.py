"""The FastAPI application: the lifespan owns every long-lived client, routes stay thin."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from gatehouse import attachments, gc_pacing, metrics, origins
from gatehouse.api import conversations_router, models_router, require_token
from gatehouse.file_versions import keep_pruning, open_versions
from gatehouse.files_api import files_router
from gatehouse.gateway import Gateway
from gatehouse.llm import Claude
from gatehouse.mcp_config import load_mcp_config
from gatehouse.model_list import ModelList
from gatehouse.policy import Policy
from gatehouse.policy_api import policy_router
from gatehouse.policy_file import PolicyFileWatcher
from gatehouse.policy_store import PolicyStore
from gatehouse.redis_client import connect as redis_connect
from gatehouse.sessions import Sessions
from gatehouse.settings import Settings
from gatehouse.shared_sessions import SharedSessions
from gatehouse.store import Store
from gatehouse.titles import Titles
from gatehouse.tool_hub import ToolHub
from gatehouse.turn import Turns
from gatehouse.workspace_server import build_workspace_server, remove_stale_partials

STALE_PARTIAL_IDLE_S = 300.0  # several workers: a temporary file this long untouched is stale

log = structlog.get_logger(__name__)

_DEFAULT_FRONTEND = Path(__file__).resolve().parents[2] / "frontend" / "out"

_NO_UI = """<!doctype html><meta charset="utf-8"><title>Gatehouse</title>
<p>Gatehouse is running, but the web UI has not been built. Run <code>make install</code>.</p>"""


def create_app(settings: Settings, *, pace_gc: bool = False) -> FastAPI:
    """`pace_gc`: garbage collection is paced (gc_pacing.py) once the app has started, as
    `gatehouse serve` asks (one process or each worker), where GC_PACING and the
    interpreter allow it."""
    pace_gc = pace_gc and settings.gc_pacing and gc_pacing.applies()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncGenerator[None]:
        settings.workspace_dir.mkdir(parents=True, exist_ok=True)
        # Another worker may be writing a file now: with REDIS_URL only the temporary files
        # nobody has touched for a while are a killed process's.
        idle_s = STALE_PARTIAL_IDLE_S if settings.redis_url else 0.0
        if stale := remove_stale_partials(settings.workspace_dir, idle_s=idle_s):
            log.warning("stale_partial_files_removed", count=stale)
        external = load_mcp_config(settings.mcp_config) if settings.mcp_config else []
        claude = Claude(settings)
        store = await Store.open(settings.database_url)
        versions = open_versions(settings, store)
        await versions.sweep()  # retention applies before anything is served
        workspace = build_workspace_server(
            settings.workspace_dir,
            settings.tool_chunk_bytes,
            settings.max_file_bytes,
            write_hook=versions,
        )
        policy = await Policy.load(PolicyStore(store))
        watcher = PolicyFileWatcher(settings.policy_file, policy) if settings.policy_file else None
        if watcher is not None:
            watcher.start()
        async with ToolHub(workspace, external, settings.tool_call_timeout_s) as tools:
            limits = attachments.Limits(
                settings.max_attachments,
                settings.max_attachments_bytes,
                settings.max_conversation_attachments_bytes,
            )
            pruning = asyncio.create_task(keep_pruning(versions), name="versions-retention")
            titles = Titles(claude, store, settings.generate_titles)
            turns = Turns(
                claude,
                tools,
                settings.tool_approval_timeout_s,
                settings.max_message_chars,
                policy,
                limits,
                titles,
                draft_interval_s=settings.tool_draft_interval_ms / 1000,
                draft_max_chars=settings.tool_draft_max_chars,
            )
            shared = (
                SharedSessions(
                    redis_connect(settings.redis_url),
                    store,
                    policy,
                    lease_ms=settings.turn_lease_ms,
                    frame_retention_s=settings.frame_retention_s,
                )
                if settings.redis_url
                else None
            )
            sessions = Sessions(store, settings.resume_grace_s, turns, shared)
            if shared is not None:
                await shared.start(sessions)
            models = ModelList(claude, settings.anthropic_model, settings.models_cache_s)
            gateway = Gateway(settings, turns, sessions, models, shared=shared)
            app.state.gateway, app.state.tools, app.state.models = gateway, tools, models
            app.state.store, app.state.sessions = store, sessions
            app.state.versions = versions
            app.state.policy = policy
            log.info("server_ready", host=settings.host, port=settings.port)
            pacer = gc_pacing.start(quiet=sessions.none_replying) if pace_gc else None
            log.info("gc_pacing", enabled=pace_gc, python=sys.version.split()[0])
            try:
                yield
            finally:
                for task in (pacer, pruning):
                    if task is not None:
                        task.cancel()
                await asyncio.gather(*(t for t in (pacer, pruning) if t), return_exceptions=True)
                await gateway.going_away()
                if shared is not None:
                    await store.flush()
                    await shared.stop()
                await titles.aclose()
                if watcher is not None:
                    await watcher.close()
                await store.close()
                await claude.aclose()

    app = FastAPI(title="Gatehouse", lifespan=lifespan, docs_url=None, redoc_url=None)
    origins.guard(app, settings)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready(request: Request) -> JSONResponse:
        tools: ToolHub = request.app.state.tools
        store: Store = request.app.state.store
        servers = tools.servers_status()
        database = await _database_answers(store)
        ok = database and servers.get("workspace") == "ready"
        body = {
            "status": "ready" if ok else "not_ready",
            "database": "ready" if database else "unavailable",
            "mcp_servers": servers,
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    metrics_token = settings.metrics_token.get_secret_value() if settings.metrics_token else None

    @app.get("/metrics")
    async def prometheus(request: Request) -> Response:
        require_token(request, metrics_token)
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    app.include_router(conversations_router(settings))
    app.include_router(models_router(settings))
    app.include_router(files_router(settings))
    app.include_router(policy_router(settings))

    async def websocket_endpoint(websocket: WebSocket) -> None:
        gateway: Gateway = websocket.app.state.gateway
        await gateway.serve(websocket)

    app.add_api_websocket_route("/", websocket_endpoint)
    app.add_api_websocket_route("/ws", websocket_endpoint)
    _mount_frontend(app, settings.frontend_dir or _DEFAULT_FRONTEND)
    return app


async def _database_answers(store: Store) -> bool:
    try:
        return await store.ping()
    except Exception:
        log.exception("database_unavailable")
        return False


class _ExportedPages(StaticFiles):
    """The static export writes the page `/rules` as `rules.html`: serve it at `/rules` too, so
    a page's URL works after a reload (behind the same middleware as every route)."""

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        full_path, stat_result = super().lookup_path(path)
        # `rules/` also exists (the page's data files), without an index.html
        not_a_file = stat_result is None or stat.S_ISDIR(stat_result.st_mode)
        if not_a_file and path and not path.endswith(("/", ".html")):
            page_path, page = super().lookup_path(f"{path}.html")
            if page is not None:
                return page_path, page
        return full_path, stat_result


def _mount_frontend(app: FastAPI, directory: Path) -> None:
    if (directory / "index.html").is_file():
        app.mount("/", _ExportedPages(directory=directory, html=True), name="frontend")
        return

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)  # a page, not the API
    async def no_ui() -> str:
        return _NO_UI

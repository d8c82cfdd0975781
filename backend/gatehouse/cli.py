"""`gatehouse serve` runs the app; `gatehouse mcp-workspace` runs the built-in MCP server alone."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

import uvicorn

from gatehouse import logs, origins
from gatehouse.settings import Settings, SettingsError, check_workers, load_settings


class _Server(uvicorn.Server):
    """uvicorn would close open sockets with 1012; we first stop replies and close with 1001.
    (Each worker of `serve --workers N` runs uvicorn's own server, built by its supervisor:
    there sockets get 1012, a restart, and the app's shutdown stops the replies after.)"""

    async def shutdown(self, sockets: Any = None) -> None:
        gateway = getattr(self.config.loaded_app.app.state, "gateway", None)  # type: ignore[attr-defined]
        if gateway is not None:
            await gateway.going_away()
            await asyncio.sleep(0)  # let the writers send their close frames
        await super().shutdown(sockets)


def worker_app() -> Any:
    """The app of one worker process of `serve --workers N` (uvicorn imports it by name in
    each process it starts; the settings come from the environment `_serve` completed)."""
    from gatehouse.app import create_app
    from gatehouse.socket_front import SocketFront

    settings = load_settings()
    logs.configure(settings.log_level)
    return SocketFront(create_app(settings, pace_gc=True), settings)


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What one process and several serve alike."""
    return {
        "host": settings.host,
        "port": settings.port,
        "ws_max_size": settings.ws_max_frame_bytes,
        "ws_per_message_deflate": settings.ws_compression,
        "access_log": False,
        "log_level": "warning",
        "timeout_graceful_shutdown": 5,
    }


def _serve_workers(settings: Settings) -> None:
    """N processes on one port: uvicorn's supervisor starts them (and starts again one that
    dies), each running `worker_app`. HOST, PORT and WORKERS go to them by the environment."""
    os.environ["HOST"] = settings.host
    os.environ["PORT"] = str(settings.port)
    os.environ["WORKERS"] = str(settings.workers)
    logs.configure(settings.log_level)
    origins.start_up_warnings(settings)
    uvicorn.run(
        "gatehouse.cli:worker_app",
        factory=True,
        workers=settings.workers,
        **_uvicorn_options(settings),
    )


def _serve(settings: Settings) -> None:
    from gatehouse.app import create_app
    from gatehouse.socket_front import SocketFront

    if settings.workers > 1:
        _serve_workers(settings)
        return
    logs.configure(settings.log_level)
    origins.start_up_warnings(settings)
    config = uvicorn.Config(
        SocketFront(create_app(settings, pace_gc=True), settings), **_uvicorn_options(settings)
    )
    _Server(config).run()


def _mcp_workspace(settings: Settings, http_port: int | None) -> None:
    from gatehouse.workspace_server import serve

    serve(settings.workspace_dir, settings.tool_chunk_bytes, settings.max_file_bytes, http_port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gatehouse")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the chat (HOST, PORT from the environment)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, help="worker processes on one port (WORKERS)")
    workspace = commands.add_parser("mcp-workspace", help="run the workspace MCP server alone")
    workspace.add_argument("--http", type=int, metavar="PORT", help="streamable HTTP, not stdio")
    args = parser.parse_args(argv)

    overrides: dict[str, object] = {}
    if args.command == "serve":
        given = (("host", args.host), ("port", args.port), ("workers", args.workers))
        overrides = {k: v for k, v in given if v is not None}
    try:
        settings = load_settings(**overrides)
        if args.command == "serve":
            check_workers(settings)
    except SettingsError as exc:
        print(f"gatehouse: {exc}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from None
    if args.command == "serve":
        _serve(settings)
    else:
        _mcp_workspace(settings, args.http)


if __name__ == "__main__":
    main()

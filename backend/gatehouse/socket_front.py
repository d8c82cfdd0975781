"""The ASGI app uvicorn serves: the chat socket straight to the gateway, the rest to FastAPI.

A chat socket lives for hours and sends a frame per streamed chunk. Routed through FastAPI, it
keeps FastAPI's middleware and router on its call stack for its whole life (a dozen coroutine
frames and three exit stacks: ~11 KB of the ~44 KB an idle socket cost, `bench.idle_heap`), and
every frame it sends passes two more `send` wrappers. Nothing in that stack serves a socket:
the gateway answers its own errors. So the socket paths go to the gateway directly, behind the
same Host and Origin checks (`origins.RequestGuard`) as every request; FastAPI keeps the same
routes, for a socket under a `root_path`.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import State
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from gatehouse.gateway import Gateway
from gatehouse.origins import RequestGuard
from gatehouse.settings import Settings

SOCKET_PATHS = frozenset({"/", "/ws"})


class SocketFront:
    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.app = app
        self._socket = RequestGuard(self._serve_socket, settings)

    @property
    def state(self) -> State:
        """The app's state (its gateway and sessions once started)."""
        return self.app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] in SOCKET_PATHS:
            await self._socket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _serve_socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        gateway: Gateway = self.app.state.gateway
        await gateway.serve(WebSocket(scope, receive, send))

"""Who may reach the app: the `Host` check against DNS rebinding, the `Origin` check against
cross-site pages, and CORS for the origins listed explicitly.

A page on another site, opened in the person's browser, must never chat, approve a tool or read
`/api/*` through the app. Two things stop it:

- **Host.** A rebound name (`rebind.evil.example` resolving to 127.0.0.1) is same-origin for the
  browser, so only the `Host` header shows it: every HTTP request and WebSocket handshake must
  name localhost, 127.0.0.1, [::1], `HOST` or a name in `ALLOWED_HOSTS` (any port), or gets 400.
- **Origin.** A browser's `Origin` must be the app's own (the host and port the request was sent
  to, which the Host check vouches for) or one listed in `WS_ALLOWED_ORIGINS`; `*` allows every
  origin. Anything else gets 403 (a WebSocket: its handshake is refused). A request without
  `Origin` is not from a cross-site page (browsers send it on every cross-origin request that
  could act or read), so command-line clients keep working.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import structlog
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from gatehouse import metrics

if TYPE_CHECKING:
    from fastapi import FastAPI

    from gatehouse.settings import Settings

log = structlog.get_logger(__name__)

LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_HOST_CHECKED = "gatehouse.host_checked"  # set in the scope once the Host check passed
_LOGGED_CHARS = 200  # of a header an attacker chose


def canonical_origin(value: str) -> str:
    """An origin as a browser writes it (`http://host[:port]`, default port left out).

    Raises ValueError for anything that could never equal a browser's `Origin` header.
    """
    parts = urlsplit(value.strip().rstrip("/"))
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{value!r} has a bad port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an origin (scheme://host[:port])")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{value!r} is not an origin: only scheme://host[:port]")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    shown_port = "" if port in (None, _DEFAULT_PORTS[parts.scheme]) else f":{port}"
    return f"{parts.scheme}://{host}{shown_port}"


def host_pattern(value: str) -> str:
    """A name for `ALLOWED_HOSTS`: a host without a port, `*.domain` or `*`."""
    name = value.strip().lower()
    if name == "*":
        return name
    body = name.removeprefix("*.")
    if "*" in body or not body:
        raise ValueError(f"{value!r}: a wildcard must be like *.example.com")
    if body.startswith("["):
        ipaddress.IPv6Address(body.removeprefix("[").removesuffix("]"))
    elif ":" in body or "/" in body:
        raise ValueError(f"{value!r}: give the name without a port (any port is allowed)")
    return name


def _authority(url: str, scheme: str = "") -> tuple[str, int] | None:
    """(host, port) of `url`, the default port of its scheme (or `scheme`) filled in; None
    when it cannot be told."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a bad port
        return None
    default = _DEFAULT_PORTS.get(scheme or parts.scheme)
    if not parts.hostname or (port is None and default is None):
        return None
    return parts.hostname, port if port is not None else default or 0


@dataclass(frozen=True)
class OriginRule:
    listed: frozenset[str]
    any_origin: bool

    @classmethod
    def of(cls, settings: Settings) -> OriginRule:
        entries = settings.allowed_origins
        return cls(frozenset(entries - {"*"}), "*" in entries)

    def allows(self, origin: str, host_header: str, scheme: str) -> bool:
        if self.any_origin or origin in self.listed:
            return True
        own = _authority(f"//{host_header}", scheme)
        return own is not None and _authority(origin) == own


def trusted_hosts(settings: Settings) -> list[str]:
    """The names a request's Host may carry: the local ones, HOST unless it is a wildcard
    address (0.0.0.0 or ::, not a name any client uses), and ALLOWED_HOSTS."""
    hosts = [*LOCAL_HOSTS, *settings.allowed_host_names]
    if not _is_wildcard_address(settings.host):
        hosts.append(f"[{settings.host}]" if ":" in settings.host else settings.host.lower())
    return sorted(set(hosts))


def _is_wildcard_address(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return not host


class RequestGuard:
    """Pure ASGI (HTTP and WebSocket alike): Starlette's TrustedHostMiddleware, then the Origin
    rule, then the app. Each refusal is counted and logged."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self._origins = OriginRule.of(settings)
        self._hosts = TrustedHostMiddleware(
            self._check_origin, allowed_hosts=trusted_hosts(settings), www_redirect=False
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        await self._hosts(scope, receive, send)
        if not scope.get(_HOST_CHECKED):
            _refused(scope, "host", Headers(scope=scope).get("host"))

    async def _check_origin(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_HOST_CHECKED] = True
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or self._origins.allows(origin, headers["host"], scope["scheme"]):
            await self.app(scope, receive, send)
            return
        _refused(scope, "origin", origin)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
        else:
            await PlainTextResponse("Origin not allowed", status_code=403)(scope, receive, send)


def _refused(scope: Scope, reason: str, value: str | None) -> None:
    if scope["type"] == "websocket":
        metrics.WS_REFUSED_TOTAL.labels(reason=reason).inc()
    else:
        metrics.HTTP_REFUSED_TOTAL.labels(reason=reason).inc()
    shown = value[:_LOGGED_CHARS] if value is not None else None
    log.warning("request_refused", reason=reason, kind=scope["type"], **{reason: shown})


def guard(app: FastAPI, settings: Settings) -> None:
    """Install the checks: Host outermost, then Origin, then CORS for the listed origins only
    (a cross-origin read needs it; with nothing listed no CORS header is ever sent)."""
    rule = OriginRule.of(settings)
    if rule.any_origin or rule.listed:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"] if rule.any_origin else sorted(rule.listed),
            allow_methods=["GET", "DELETE"],
            allow_headers=["authorization"],
        )
    app.add_middleware(RequestGuard, settings=settings)


def start_up_warnings(settings: Settings) -> None:
    """Say at start-up what widens the defaults, wherever the server listens."""
    if "*" in settings.allowed_origins:
        log.warning(
            "any_origin_allowed",
            hint="WS_ALLOWED_ORIGINS=* lets any web page the person opens use the app",
        )
    if "*" in settings.allowed_host_names:
        log.warning("any_host_allowed", hint="ALLOWED_HOSTS=* turns off the DNS-rebinding check")
    elif _is_wildcard_address(settings.host) and not settings.allowed_host_names:
        log.warning(
            "allowed_hosts_needed",
            host=settings.host,
            hint="only localhost names are accepted in the Host header; set ALLOWED_HOSTS to "
            "the names or addresses clients use to reach this machine",
        )
    if not _is_loopback(settings.host) and settings.auth_token is None:
        log.warning(
            "exposed_without_protection",
            host=settings.host,
            hint="set AUTH_TOKEN before listening beyond loopback",
        )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"

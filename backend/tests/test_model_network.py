"""The app reaches Claude through the SDK's own HTTP stack: TLS trusted from SSL_CERT_FILE,
a forward proxy from the environment (NO_PROXY honoured), an IPv6 base URL. Real servers:
the model server over HTTPS with a test CA (trustme), Debian's tinyproxy."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.model_server import ModelServer
from tests.running_app import (
    AppFactory,
    Chat,
    RunningApp,
    events,
    free_port,
    start_app,
    streamed_text,
)

pytestmark = pytest.mark.anyio

PROXY_NAME = "gatehouse-test-proxy"
PROXY_DEADLINE_S = 10.0


@pytest.fixture
def apps() -> Iterator[list[RunningApp]]:
    started: list[RunningApp] = []
    yield started
    for app in started:
        app.stop()


@pytest.fixture(scope="module")
def test_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_model(test_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> ModelServer:
    key_and_chain = tmp_path_factory.mktemp("tls") / "server.pem"
    certificate = test_ca.issue_cert("localhost", "127.0.0.1")
    certificate.private_key_and_cert_chain_pem.write_to_path(str(key_and_chain))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(key_and_chain)
    server = ModelServer(tls=context)
    server.start_in_thread()
    return server


async def test_the_app_reaches_claude_over_tls_with_the_ca_from_ssl_cert_file(
    tls_model: ModelServer, test_ca: trustme.CA, tmp_path: Path, apps: list[RunningApp]
) -> None:
    tls_model.reset()
    ca_file = tmp_path / "ca.pem"
    test_ca.cert_pem.write_to_path(str(ca_file))
    trusting = start_app(tls_model, tmp_path / "trusting", SSL_CERT_FILE=str(ca_file))
    apps.append(trusting)
    async with Chat(trusting.ws_url()) as chat:
        assert streamed_text(await chat.reply_to("over tls")) == "Echo: over tls"

    untrusting = start_app(tls_model, tmp_path / "untrusting", ANTHROPIC_MAX_RETRIES="0")
    apps.append(untrusting)
    async with Chat(untrusting.ws_url()) as chat:
        frames = await chat.reply_to("unknown ca")
    assert frames[-1]["data"]["reason"] == "error"
    assert len(tls_model.requests) == 1, "no request gets through a certificate it distrusts"


@dataclass
class Proxy:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Proxy]:
    """tinyproxy in the foreground, naming itself in the `Via` header it adds."""
    binary = shutil.which("tinyproxy")
    assert binary, "tinyproxy is missing: `make install-dev` installs it"
    port = free_port()
    config = tmp_path / "tinyproxy.conf"
    config.write_text(
        f"Port {port}\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 600\nMaxClients 200\n"
        f'ViaProxyName "{PROXY_NAME}"\nLogLevel Warning\n'
    )
    log = (tmp_path / "tinyproxy.log").open("wb")
    process = subprocess.Popen([binary, "-d", "-c", str(config)], stdout=log, stderr=log)
    running = Proxy(f"http://127.0.0.1:{port}", process)
    _wait_listening(port, process)
    yield running
    running.stop()
    log.close()


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + PROXY_DEADLINE_S
    while time.monotonic() < deadline:
        assert process.poll() is None, "tinyproxy exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)  # a port that is not open yet; the deadline bounds it
    raise RuntimeError("tinyproxy did not start listening")


def _via(recorded: ModelServer) -> list[str]:
    return [request.headers.get("via", "") for request in recorded.requests]


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY"])
async def test_a_proxy_from_the_environment_carries_every_request(
    model: ModelServer, proxy: Proxy, tmp_path: Path, apps: list[RunningApp], variable: str
) -> None:
    app = start_app(model, tmp_path / "app", ANTHROPIC_MAX_RETRIES="0", **{variable: proxy.url})
    apps.append(app)
    async with Chat(app.ws_url()) as chat:
        assert streamed_text(await chat.reply_to("one")) == "Echo: one"
        assert streamed_text(await chat.reply_to("two")) == "Echo: two"
        assert len(_via(model)) == 2
        assert all(PROXY_NAME in via for via in _via(model))

        proxy.stop()  # with the proxy gone the model server is out of the app's reach
        frames = await chat.reply_to("three")
    assert frames[-1]["data"]["reason"] == "error"
    assert len(model.requests) == 2


async def test_https_goes_through_the_proxy_as_a_tunnel(
    tls_model: ModelServer,
    test_ca: trustme.CA,
    proxy: Proxy,
    tmp_path: Path,
    apps: list[RunningApp],
) -> None:
    tls_model.reset()
    ca_file = tmp_path / "ca.pem"
    test_ca.cert_pem.write_to_path(str(ca_file))
    app = start_app(
        tls_model,
        tmp_path / "app",
        SSL_CERT_FILE=str(ca_file),
        HTTPS_PROXY=proxy.url,
        ANTHROPIC_MAX_RETRIES="0",
    )
    apps.append(app)
    async with Chat(app.ws_url()) as chat:
        assert streamed_text(await chat.reply_to("tunnelled")) == "Echo: tunnelled"
        proxy.stop()  # the tunnel was the only way: without it nothing reaches the model
        frames = await chat.reply_to("no tunnel")
    assert frames[-1]["data"]["reason"] == "error"
    assert len(tls_model.requests) == 1


async def test_no_proxy_sends_the_requests_to_the_model_directly(
    model: ModelServer, proxy: Proxy, tmp_path: Path, apps: list[RunningApp]
) -> None:
    app = start_app(model, tmp_path / "app", HTTP_PROXY=proxy.url, NO_PROXY="127.0.0.1")
    apps.append(app)
    async with Chat(app.ws_url()) as chat:
        assert streamed_text(await chat.reply_to("direct")) == "Echo: direct"
    assert _via(model) == [""]


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
async def test_an_ipv6_base_url_reaches_the_model(tmp_path: Path, apps: list[RunningApp]) -> None:
    model = ModelServer(host="::1")
    model.start_in_thread()
    assert model.base_url.startswith("http://[::1]:")
    app = start_app(model, tmp_path / "app")
    apps.append(app)
    async with Chat(app.ws_url()) as chat:
        assert streamed_text(await chat.reply_to("over ipv6")) == "Echo: over ipv6"


async def test_a_model_endpoint_nobody_listens_on_is_service_unavailable(
    app_factory: AppFactory,
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    app = app_factory(ANTHROPIC_BASE_URL=closed, ANTHROPIC_MAX_RETRIES="0")
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to("anyone?")
    assert [e["data"]["detail"]["code"] for e in events(frames, "error")] == ["service_unavailable"]
    assert frames[-1]["data"]["reason"] == "error"

"""The exported UI's pages (`/rules`, `/activity`) answer at their clean URLs, same checks."""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest

from tests.running_app import AppFactory, RunningApp

pytestmark = pytest.mark.anyio


def _get(app: RunningApp, path: str, host: str = "127.0.0.1") -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=5)
    try:
        connection.request("GET", path, headers={"Host": f"{host}:{app.port}"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _exported_ui(folder: Path) -> Path:
    """What `next build` writes: one HTML file per page, `rules.html` for `/rules`."""
    folder.mkdir()
    for name in ("index", "rules", "activity", "404"):
        (folder / f"{name}.html").write_text(f"<!doctype html><title>{name}</title>")
    for name in ("rules", "activity"):  # each page's data files, beside its HTML
        (folder / name).mkdir()
        (folder / name / "__next._tree.txt").write_text("data")
    (folder / "secret.txt").write_text("a file, not a page")
    return folder


async def test_rules_and_activity_pages_answer_at_their_clean_urls(
    app_factory: AppFactory, tmp_path: Path
) -> None:
    app = app_factory(FRONTEND_DIR=str(_exported_ui(tmp_path / "out")))
    assert _get(app, "/") == (200, "<!doctype html><title>index</title>")
    assert _get(app, "/rules") == (200, "<!doctype html><title>rules</title>")
    assert _get(app, "/activity") == (200, "<!doctype html><title>activity</title>")
    assert _get(app, "/rules.html")[0] == 200
    # only a page gets the extension added; a file is still served by its own name only
    assert _get(app, "/secret")[0] == 404
    # the page answers behind the same Host check as everything else
    assert _get(app, "/rules", host="rebind.evil.example")[0] == 400

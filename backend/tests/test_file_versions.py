"""File versions end to end: every built-in write keeps the previous content, undo per call and
per turn, the changed-since refusal, restart, another conversation, restore, retention."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, RunningApp, events

pytestmark = pytest.mark.anyio

Json = dict[str, Any]


def write(tool_id: str, path: str, content: str) -> Json:
    return {"id": tool_id, "name": "create_file", "input": {"path": path, "content": content}}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def call(app: RunningApp, method: str, path: str, body: Json | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        app.base_url + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode()


async def run_calls(app: RunningApp, model: ModelServer, *uses: Json) -> str:
    """One reply making `uses`, each approved; the conversation's id."""
    model.script({"text": ["Writing."], "tool_uses": list(uses)})
    async with Chat(app.ws_url()) as fresh:
        return await _approve_all(fresh, uses)


async def _approve_all(chat: Chat, uses: tuple[Json, ...]) -> str:
    await chat.say("please write")
    for use in uses:
        await chat.recv_until("tool_request", id=use["id"])
        await chat.send("tool_approval", {"tool_use_id": use["id"], "approved": True})
    frames = await chat.recv_until("assistant_message_completed")
    finished = [f["data"]["status"] for f in events(frames, "tool_finished")]
    assert finished[-1] == "done"
    assert chat.session_id is not None
    return chat.session_id


def undo(app: RunningApp, conversation: str, call_id: str, scope: str = "call") -> tuple[int, Any]:
    body = {"tool_use_id": call_id, "scope": scope}
    return call(app, "POST", f"/api/conversations/{conversation}/undo", body)


async def test_undo_of_a_created_file_deletes_it_and_is_recorded(
    app: RunningApp, model: ModelServer
) -> None:
    conversation = await run_calls(app, model, write("toolu_new", "notes/new.txt", "fresh\n"))
    target = app.workspace / "notes" / "new.txt"
    assert target.read_text() == "fresh\n"
    status, changes = call(app, "GET", f"/api/conversations/{conversation}/file-changes")
    assert status == 200
    [version] = changes["versions"]
    assert version["path"] == "notes/new.txt"
    assert version["tool_use_id"] == "toolu_new"
    assert version["source"] == "tool"
    assert version["turn"] == 0  # the person's message that started the reply
    assert version["conversation_title"] == "please write"
    assert version["before"]["exists"] is False
    assert version["after"]["hash"] == sha("fresh\n")

    status, undone = undo(app, conversation, "toolu_new")
    assert status == 200, undone
    assert not target.exists()
    [record] = undone["versions"]
    assert record["source"] == "undo"
    assert record["before"]["hash"] == sha("fresh\n")
    assert record["after"]["exists"] is False
    # recorded, so the undo itself can be taken back
    status, again = undo(app, conversation, "toolu_new")
    assert (status, again["detail"]["code"]) == (409, "already_undone")
    redo = {"tool_use_id": "toolu_new"}
    status, _ = call(app, "POST", f"/api/conversations/{conversation}/redo", redo)
    assert status == 200
    assert target.read_text() == "fresh\n"


async def test_undo_of_an_overwrite_restores_the_previous_content(
    app: RunningApp, model: ModelServer
) -> None:
    target = app.workspace / "kept.md"
    target.write_text("the person's own text\n")
    target.chmod(0o600)
    conversation = await run_calls(app, model, write("toolu_over", "kept.md", "Claude's text\n"))
    assert target.read_text() == "Claude's text\n"

    status, body = undo(app, conversation, "toolu_over")
    assert status == 200, body
    assert target.read_text() == "the person's own text\n"
    assert target.stat().st_mode & 0o777 == 0o600
    blobs = app.workdir / "data" / "versions"
    assert (blobs / sha("Claude's text\n")[:2] / sha("Claude's text\n")).read_text() == (
        "Claude's text\n"
    )
    assert not any(app.workspace.rglob("*.partial"))


async def test_undo_refuses_a_file_changed_on_disk_since(
    app: RunningApp, model: ModelServer
) -> None:
    conversation = await run_calls(app, model, write("toolu_w", "draft.txt", "by Claude\n"))
    target = app.workspace / "draft.txt"
    target.write_text("edited by the person\n")

    status, body = undo(app, conversation, "toolu_w")
    assert status == 409
    assert body["detail"]["code"] == "changed_since"
    [conflict] = body["detail"]["conflicts"]
    assert conflict["path"] == "draft.txt"
    assert conflict["expected"]["hash"] == sha("by Claude\n")
    assert conflict["current"]["hash"] == sha("edited by the person\n")
    assert target.read_text() == "edited by the person\n"  # nothing overwritten
    # the panel shows the file as changed outside Gatehouse, and offers both sides to compare
    status, history = call(app, "GET", "/api/files/history?path=draft.txt")
    assert status == 200
    assert history["changed_outside"] is True
    status, listing = call(app, "GET", "/api/files")
    assert [f["changed_outside"] for f in listing["files"] if f["path"] == "draft.txt"] == [True]
    version = history["versions"][0]["id"]
    status, text = call(app, "GET", f"/api/files/versions/{version}/content?side=after")
    assert (status, text) == (200, "by Claude\n")
    status, text = call(app, "GET", "/api/files/current?path=draft.txt")
    assert (status, text) == (200, "edited by the person\n")


async def test_undo_turn_takes_back_every_file_of_the_reply(
    app: RunningApp, model: ModelServer
) -> None:
    (app.workspace / "b.txt").write_text("old b\n")
    conversation = await run_calls(
        app,
        model,
        write("toolu_a", "a.txt", "new a\n"),
        write("toolu_b", "b.txt", "new b\n"),
        write("toolu_b2", "b.txt", "newer b\n"),
    )
    assert (app.workspace / "b.txt").read_text() == "newer b\n"
    status, single = undo(app, conversation, "toolu_b")
    assert (status, single["detail"]["code"]) == (409, "changed_since")  # toolu_b2 wrote since

    status, body = undo(app, conversation, "toolu_a", scope="turn")
    assert status == 200, body
    assert not (app.workspace / "a.txt").exists()
    assert (app.workspace / "b.txt").read_text() == "old b\n"
    assert sorted(v["path"] for v in body["versions"]) == ["a.txt", "b.txt"]


async def test_undo_works_after_a_restart(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path, kept_env: dict[str, str]
) -> None:
    env = {**kept_env, "DATA_DIR": str(tmp_path / "shared-data")}
    workspace = Path(kept_env["WORKSPACE_DIR"])
    workspace.mkdir()
    (workspace / "plan.txt").write_text("v1\n")
    first = app_factory(**env)
    conversation = await run_calls(first, model, write("toolu_r", "plan.txt", "v2\n"))
    first.stop()

    second = app_factory(**env)
    status, body = undo(second, conversation, "toolu_r")
    assert status == 200, body
    assert (workspace / "plan.txt").read_text() == "v1\n"


async def test_another_conversation_cannot_undo_a_call(app: RunningApp, model: ModelServer) -> None:
    mine = await run_calls(app, model, write("toolu_mine", "mine.txt", "mine\n"))
    other = await run_calls(app, model, write("toolu_other", "other.txt", "other\n"))

    status, body = undo(app, other, "toolu_mine")
    assert status == 404
    assert body["detail"]["code"] == "nothing_to_undo"
    status, body = undo(app, other, "toolu_mine", scope="turn")
    assert status == 404
    assert (app.workspace / "mine.txt").read_text() == "mine\n"
    assert undo(app, mine, "toolu_mine")[0] == 200


async def test_a_version_too_large_to_keep_is_recorded_and_undo_refuses_it(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(VERSION_MAX_BYTES="16")
    (app.workspace / "big.txt").write_text("x" * 100)
    conversation = await run_calls(app, model, write("toolu_big", "big.txt", "small\n"))
    _, history = call(app, "GET", "/api/files/history?path=big.txt")
    [version] = history["versions"]
    assert version["before"] == {"exists": True, "hash": sha("x" * 100), "size": 100, "kept": False}

    status, body = undo(app, conversation, "toolu_big")
    assert (status, body["detail"]["code"]) == (409, "too_large_to_keep")
    assert (app.workspace / "big.txt").read_text() == "small\n"


async def test_restore_from_the_panel_checks_what_the_person_saw(
    app: RunningApp, model: ModelServer
) -> None:
    await run_calls(app, model, write("toolu_1", "poem.txt", "first\n"))
    await run_calls(app, model, write("toolu_2", "poem.txt", "second\n"))
    status, history = call(app, "GET", "/api/files/history?path=poem.txt")
    first = history["versions"][-1]
    assert history["current"]["hash"] == sha("second\n")

    stale = {"side": "after", "expected_hash": sha("first\n")}
    status, body = call(app, "POST", f"/api/files/versions/{first['id']}/restore", stale)
    assert (status, body["detail"]["code"]) == (409, "changed_since")
    assert (app.workspace / "poem.txt").read_text() == "second\n"

    seen = {"side": "after", "expected_hash": sha("second\n")}
    status, body = call(app, "POST", f"/api/files/versions/{first['id']}/restore", seen)
    assert status == 200, body
    assert (app.workspace / "poem.txt").read_text() == "first\n"
    [restored] = body["versions"]
    assert restored["source"] == "restore"
    assert restored["before"]["hash"] == sha("second\n")


async def test_file_routes_refuse_paths_outside_the_workspace(app: RunningApp) -> None:
    for path in ("../etc/passwd", "/etc/passwd", "a/../../b"):
        query = urllib.parse.quote(path)
        status, body = call(app, "GET", f"/api/files/history?path={query}")
        assert (status, body["detail"]["code"]) == (400, "invalid_path")
        status, body = call(app, "GET", f"/api/files/current?path={query}")
        assert (status, body["detail"]["code"]) == (400, "invalid_path")


async def test_retention_prunes_old_versions_and_their_blobs(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(VERSIONS_KEEP_PER_FILE="2")
    for n in range(1, 5):
        await run_calls(app, model, write(f"toolu_{n}", "log.txt", f"entry {n}\n"))
    _, history = call(app, "GET", "/api/files/history?path=log.txt")
    assert [v["tool_use_id"] for v in history["versions"]] == ["toolu_4", "toolu_3"]
    blobs = app.workdir / "data" / "versions"

    def kept(text: str) -> bool:
        return (blobs / sha(text)[:2] / sha(text)).is_file()

    assert not kept("entry 1\n")  # referred to by the pruned versions only
    assert kept("entry 2\n") and kept("entry 3\n") and kept("entry 4\n")


async def test_retention_by_age_applies_at_start_up(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'aged.db'}",
        "WORKSPACE_DIR": str(tmp_path / "aged-workspace"),
        "DATA_DIR": str(tmp_path / "aged-data"),
    }
    first = app_factory(**env)
    await run_calls(first, model, write("toolu_old", "old.txt", "old\n"))
    first.stop()
    second = app_factory(**env, VERSIONS_KEEP_DAYS="0.000000001")  # ~0.1 ms: every version
    _, history = call(second, "GET", "/api/files/history?path=old.txt")
    assert history["versions"] == []
    assert not any((tmp_path / "aged-data" / "versions").rglob("*" + sha("old\n")[-8:]))


def test_data_dir_inside_the_workspace_is_refused(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "gatehouse", "serve"],
        cwd=tmp_path,
        env={"WORKSPACE_DIR": str(workspace), "DATA_DIR": str(workspace / "data"), "PORT": "1"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0
    assert "invalid DATA_DIR" in done.stderr

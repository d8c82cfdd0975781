"""Finding and keeping conversations through the real app, on SQLite and on PostgreSQL:
search, rename, pin, export (JSON and Markdown), import, and Claude's title."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.mcp_support import wait_until
from tests.model_server import ModelServer
from tests.postgres import postgres_server
from tests.running_app import AppFactory, Chat, RunningApp

pytestmark = pytest.mark.anyio
TITLE_REQUEST = "Write a title of at most six words"


@pytest.fixture(scope="module")
def _postgres() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request: pytest.FixtureRequest, app_factory: AppFactory) -> RunningApp:
    if request.param == "sqlite":
        return app_factory()
    return app_factory(DATABASE_URL=request.getfixturevalue("_postgres"))


def call(
    app: RunningApp, method: str, path: str, body: Any = None, raw: bytes | None = None
) -> tuple[int, Any, dict[str, str]]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(app.base_url + path, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text, status, headers = response.read().decode(), response.status, response.headers
    except urllib.error.HTTPError as exc:
        text, status, headers = exc.read().decode(), exc.code, exc.headers
    kind = headers.get("content-type", "")
    parsed = json.loads(text) if text and kind.startswith("application/json") else text
    return status, parsed, dict(headers)


async def chat_with_a_tool_call(app: RunningApp, model: ModelServer, word: str) -> str:
    """A conversation: a message, a call the person approves, Claude's reply after it."""
    use: dict[str, Any] = {"id": f"toolu_{uuid.uuid4().hex[:8]}", "name": "create_file"}
    use["input"] = {"path": f"{word}.txt", "content": "hello"}
    model.script({"text": ["Writing ```it``` now."], "tool_uses": [use]})
    model.script({"text": [f"Done: the {word} file."]}, match="Tool finished")
    async with Chat(app.ws_url()) as chat:
        await chat.say(f"please write {word}")
        await chat.recv_until("tool_request")
        await chat.send("tool_approval", {"tool_use_id": use["id"], "approved": True})
        await chat.recv_until("assistant_message_completed")
        return chat.session_id


def _without_times(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("created_at", "updated_at")}


async def test_on_each_database_a_conversation_is_kept_found_and_moved(
    any_app: RunningApp, model: ModelServer
) -> None:
    """One app per database (starting one is slow): export/import, rename/pin, odd queries."""
    await export_then_import_then_export_gives_the_same_conversation(any_app, model)
    await rename_and_pin_are_stored_and_pinned_comes_first(any_app, model)
    search_over_http_never_fails_on_odd_input(any_app)


async def export_then_import_then_export_gives_the_same_conversation(
    any_app: RunningApp, model: ModelServer
) -> None:
    word = f"otter{uuid.uuid4().hex[:6]}"
    original = await chat_with_a_tool_call(any_app, model, word)
    status, exported, headers = call(any_app, "GET", f"/api/conversations/{original}/export")
    assert status == 200
    assert headers["content-disposition"].startswith("attachment;")
    assert [m["role"] for m in exported["messages"]] == ["user", "assistant", "user", "assistant"]
    [tool_call] = exported["tool_calls"]
    assert (tool_call["status"], tool_call["decided_by"]) == ("done", "tool")
    assert tool_call["result"]["type"] == "tool_result"

    status, created, _ = call(any_app, "POST", "/api/conversations/import", exported)
    assert status == 201, created
    assert created["id"] != original
    status, again, _ = call(any_app, "GET", f"/api/conversations/{created['id']}/export")
    assert status == 200
    assert _without_times(again) == _without_times(exported)
    # The imported conversation is a real one: listed, searchable, and it goes on.
    found = call(any_app, "GET", f"/api/search?q={word}")[1]
    assert {hit["id"] for hit in found} == {original, created["id"]}
    async with Chat(any_app.ws_url(session_id=created["id"])) as chat:
        frames = await chat.reply_to("and one more")
    assert frames[-1]["data"]["reason"] == "ok"
    replayed = model.requests[-1].body["messages"]
    assert replayed[:4] == [{k: m[k] for k in ("role", "content")} for m in exported["messages"]]


async def test_markdown_export_shows_who_said_what_and_each_call(
    app: RunningApp, model: ModelServer
) -> None:
    word = f"heron{uuid.uuid4().hex[:6]}"
    conversation = await chat_with_a_tool_call(app, model, word)
    status, markdown, headers = call(
        app, "GET", f"/api/conversations/{conversation}/export?format=markdown&locale=en"
    )
    assert status == 200
    assert headers["content-type"].startswith("text/markdown")
    assert markdown.startswith(f"# please write {word}\n")
    assert "## You\n\nplease write" in markdown
    assert "**Tool** `create_file` — done, tool" in markdown
    assert f'"path": "{word}.txt"' in markdown
    assert "Writing ```it``` now." in markdown  # text is kept as written


INVALID_IMPORTS: list[tuple[dict[str, Any], str]] = [
    ({"format": "other", "version": 1, "messages": []}, "format"),
    (
        {
            "format": "gatehouse.conversation",
            "version": 1,
            "messages": [{"role": "assistant", "content": []}],
        },
        "user message",
    ),
    (
        {
            "format": "gatehouse.conversation",
            "version": 1,
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "hi"}]},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t", "name": "x", "input": {}}],
                },
            ],
            "tool_calls": [{"id": "t", "name": "x", "position": 1, "status": "pending"}],
        },
        "settled",
    ),
]


@pytest.mark.parametrize(("document", "why"), INVALID_IMPORTS)
async def test_an_invalid_import_is_refused_with_a_reason_and_stores_nothing(
    app: RunningApp, document: dict[str, Any], why: str
) -> None:
    before = call(app, "GET", "/api/conversations?limit=200")[1]
    status, body, _ = call(app, "POST", "/api/conversations/import", document)
    assert status == 422
    assert why in json.dumps(body)
    assert call(app, "GET", "/api/conversations?limit=200")[1] == before


async def test_an_import_not_json_too_deep_or_with_a_lone_surrogate_is_refused(
    app: RunningApp,
) -> None:
    assert call(app, "POST", "/api/conversations/import", raw=b"{not json")[0] == 422
    deep = b"[" * 5000 + b"]" * 5000
    assert call(app, "POST", "/api/conversations/import", raw=deep)[0] == 422
    surrogate = b'{"format":"gatehouse.conversation","version":1,"title":"\\udc80","messages":[]}'
    assert call(app, "POST", "/api/conversations/import", raw=surrogate)[0] == 422


async def test_an_import_larger_than_max_import_bytes_is_refused(app_factory: AppFactory) -> None:
    app = app_factory(MAX_IMPORT_BYTES="2048")
    assert call(app, "POST", "/api/conversations/import", raw=b" " * 4096)[0] == 413


async def rename_and_pin_are_stored_and_pinned_comes_first(
    any_app: RunningApp, model: ModelServer
) -> None:
    model.reset()
    ids: list[str] = []
    for n in range(3):
        async with Chat(any_app.ws_url()) as chat:
            await chat.reply_to(f"conversation {n}")
            ids.append(chat.session_id)
    status, renamed, _ = call(any_app, "PATCH", f"/api/conversations/{ids[0]}", {"title": " Tax "})
    assert (status, renamed["title"]) == (200, "Tax")
    status, pinned, _ = call(any_app, "PATCH", f"/api/conversations/{ids[0]}", {"pinned": True})
    assert (status, pinned["pinned"], pinned["title"]) == (200, True, "Tax")
    listed = call(any_app, "GET", "/api/conversations")[1]
    assert [row["id"] for row in listed][:3] == [ids[0], ids[2], ids[1]]
    assert call(any_app, "PATCH", "/api/conversations/nope", {"pinned": True})[0] == 404
    assert call(any_app, "PATCH", f"/api/conversations/{ids[1]}", {"title": "   "})[0] == 422
    assert call(any_app, "PATCH", f"/api/conversations/{ids[1]}", {"owner": "x"})[0] == 422
    assert len(model.requests) == 3  # titles are off here: only the replies reached Claude


ODD_QUERIES = ['"', "OR(", "*", "'", "z" * 200, "\x00", "%00", "🙂", "x' & !'y", "NEAR(a b)"]


def search_over_http_never_fails_on_odd_input(any_app: RunningApp) -> None:
    for query in ODD_QUERIES:
        status, body, _ = call(any_app, "GET", f"/api/search?q={urllib.parse.quote(query)}")
        assert (status, body) == (200, []), query


async def test_a_query_too_long_is_a_clear_error(app: RunningApp) -> None:
    assert call(app, "GET", "/api/search?q=" + "a" * 201)[0] == 422


async def test_search_finds_a_reply_with_the_match_marked(
    app: RunningApp, model: ModelServer
) -> None:
    word = f"puffin{uuid.uuid4().hex[:6]}"
    model.script({"text": ["All about ", f"{word}s and more."]})
    async with Chat(app.ws_url()) as chat:
        await chat.reply_to("tell me about seabirds")
    [hit] = call(app, "GET", f"/api/search?q={word}")[1]
    assert hit["id"] == chat.session_id
    assert hit["title"] == "tell me about seabirds"
    [match] = hit["matches"]
    assert match["position"] == 1
    assert {"text": f"{word}s", "hit": True} in match["snippet"]


async def test_claude_titles_a_new_conversation_and_a_failure_leaves_the_first_words(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(GENERATE_TITLES="true", TITLE_MODEL="claude-haiku-test")
    failure = {"status": 529, "type": "overloaded_error", "message": "busy"}
    model.script({"http_error": failure}, match=f"{TITLE_REQUEST}")
    async with Chat(app.ws_url()) as failing:
        frames = await failing.reply_to("what is a good name for a cat")
        await wait_until(lambda: "title_not_generated" in app.log())  # off the reply's path
        await failing.reply_to("next")  # the conversation goes on as ever
    assert frames[-1]["data"]["reason"] == "ok"
    assert len(_title_requests(model)) == 1  # one request, not retried

    model.script({"text": ['"Trip to Lisbon."\nextra line']}, match=TITLE_REQUEST)
    async with Chat(app.ws_url()) as chat:
        await chat.reply_to("help me plan a week in lisbon")
        titled = (await chat.recv_until("conversation_titled"))[-1]
        await chat.reply_to("and a second message")  # no second title request
    assert titled["data"] == {"title": "Trip to Lisbon"}
    titles = {row["id"]: row["title"] for row in call(app, "GET", "/api/conversations")[1]}
    assert titles == {
        failing.session_id: "what is a good name for a cat",
        chat.session_id: "Trip to Lisbon",
    }
    requests = _title_requests(model)
    assert len(requests) == 2
    assert requests[1]["model"] == "claude-haiku-test"
    assert "help me plan a week in lisbon" in requests[1]["messages"][0]["content"]
    assert [h["id"] for h in call(app, "GET", "/api/search?q=lisbon")[1]] == [chat.session_id]


def _title_requests(model: ModelServer) -> list[dict[str, Any]]:
    return [r.body for r in model.requests if not r.body.get("stream")]

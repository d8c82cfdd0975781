"""The draft of a call Claude is still writing (`tool_input_delta`), end to end: the real app,
the real SDK, the local model server streaming the input JSON in many small fragments."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gatehouse import protocol
from gatehouse.tool_drafts import ToolDrafts
from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, Frame, RunningApp, events
from tests.test_tool_flow import create_file

pytestmark = pytest.mark.anyio

SOURCE = "".join(f"def f{n}(x):\n    return x * {n}  # ✓ olá\n\n" for n in range(30))


def drafts_of(frames: list[Frame], tool_use_id: str) -> list[dict[str, Any]]:
    """The call's draft as the UI rebuilds it, after each of its tool_input_delta frames."""
    shown: dict[str, Any] = {}
    seen: list[dict[str, Any]] = []
    for frame in events(frames, "tool_input_delta"):
        data = frame["data"]
        if data["tool_use_id"] != tool_use_id:
            continue
        appended = set(data.get("appended") or [])
        for key, value in data["partial"].items():
            shown[key] = shown.get(key, "") + value if key in appended else value
        seen.append(dict(shown))
    return seen


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def position(frames: list[Frame], event: str, **match: Any) -> int:
    return next(
        i
        for i, f in enumerate(frames)
        if f["event"] == event and all(f["data"].get(k) == v for k, v in match.items())
    )


async def test_a_call_streamed_in_many_fragments_is_drafted_in_order_before_its_request(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(TOOL_DRAFT_INTERVAL_MS="0")  # no throttle: a frame per fragment
    use = {**create_file("toolu_draft", "src/calc.py", SOURCE), "fragments": 60}
    model.script({"text": ["Writing it."], "tool_uses": [use]})
    async with Chat(app.ws_url()) as chat:
        await chat.say("write calc.py")
        frames = await chat.recv_until("tool_request", id="toolu_draft")
    drafts = drafts_of(frames, "toolu_draft")
    assert len(drafts) >= 50  # one per fragment that changed the value
    first_delta = position(frames, "tool_input_delta")
    assert first_delta < position(frames, "tool_request")
    assert all(f["event"] != "tool_input_delta" for f in frames[position(frames, "tool_request") :])
    with_path = [d for d in drafts if d.get("path") == "src/calc.py"]
    assert with_path, drafts[:3]
    contents = [d.get("content", "") for d in with_path]
    assert all(SOURCE.startswith(text) for text in contents)
    assert contents == sorted(contents, key=len) and len(set(contents)) > 40  # it grows
    assert drafts[-1] == {"path": "src/calc.py", "content": SOURCE}
    assert {f["data"]["name"] for f in events(frames, "tool_input_delta")} == {"create_file"}
    # The partial path was never shown as the path: a string field grows only by appending.
    assert all(SOURCE.startswith(d.get("content", "")) for d in drafts)
    tools = {tool["name"]: tool for tool in model.requests[-1].body["tools"]}
    assert tools["create_file"]["eager_input_streaming"] is True
    assert tools["edit_file"]["eager_input_streaming"] is True
    assert "eager_input_streaming" not in tools["read_file"]


async def test_throttled_drafts_still_end_with_the_whole_input(
    app: RunningApp, model: ModelServer
) -> None:
    use = {**create_file("toolu_fast", "notes/a.md", SOURCE), "fragments": 200}
    model.script({"text": ["Here."], "tool_uses": [use]})
    async with Chat(app.ws_url()) as chat:
        await chat.say("write it")
        frames = await chat.recv_until("tool_request", id="toolu_fast")
    drafts = drafts_of(frames, "toolu_fast")
    # Throttled to one frame per 100 ms: far fewer frames than fragments, and about as many
    # characters on the wire as the file has.
    assert 1 <= len(drafts) < 200
    assert drafts[-1] == {"path": "notes/a.md", "content": SOURCE}
    sent = sum(len(json.dumps(f["data"]["partial"])) for f in events(frames, "tool_input_delta"))
    assert sent < 2 * len(json.dumps(use["input"]))


async def test_invalid_or_truncated_input_is_drafted_but_never_reaches_approval(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(TOOL_DRAFT_INTERVAL_MS="0")
    broken = '{"path": "x.txt", "content": "never clos'
    uses = [{"id": "toolu_cut", "name": "create_file", "input_json": broken, "fragments": 8}]
    model.script({"text": ["Trying."], "tool_uses": uses})
    async with Chat(app.ws_url()) as chat:
        await chat.say("write x")
        frames = await chat.recv_until("assistant_message_completed")
    assert drafts_of(frames, "toolu_cut")[-1] == {"path": "x.txt", "content": "never clos"}
    assert events(frames, "tool_request") == []
    finished = events(frames, "tool_finished")
    assert [f["data"] for f in finished] == [
        {
            "tool_use_id": "toolu_cut",
            "status": "invalid",
            "decided_by": "screening",
            "code": "invalid_input",
        }
    ]
    assert not (app.workspace / "x.txt").exists()


async def test_a_draft_stops_at_its_size_limit_and_the_request_still_has_everything(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(TOOL_DRAFT_INTERVAL_MS="0", TOOL_DRAFT_MAX_CHARS="500")
    use = {**create_file("toolu_big", "big.py", SOURCE), "fragments": 40}
    model.script({"text": ["Big one."], "tool_uses": [use]})
    async with Chat(app.ws_url()) as chat:
        await chat.say("write big")
        frames = await chat.recv_until("tool_request", id="toolu_big")
    deltas = [f["data"] for f in events(frames, "tool_input_delta")]
    assert deltas[-1]["truncated"] is True and deltas[-1]["partial"] == {}
    assert sum(len(compact(d["partial"])) for d in deltas) <= 500
    assert events(frames, "tool_request")[0]["data"]["input"]["content"] == SOURCE


def test_a_draft_with_a_lone_surrogate_in_its_name_still_encodes() -> None:
    """Found by test_history_validity: Claude's tool name is shown in the draft before any
    check, so a lone surrogate in it must not break the frame (a key with one never parses,
    so it is never drafted)."""
    sent: list[protocol.ServerFrame] = []
    drafts = ToolDrafts(sent.append, interval_s=0.0, max_chars=10_000)
    drafts.fragment("toolu_\udc80", "create_file\udc80", '{"path": "no')
    drafts.fragment("toolu_\udc80", "create_file\udc80", 'tes"}')
    drafts.flush()
    encoded = [json.loads(protocol.encode_numbered(frame, n)) for n, frame in enumerate(sent)]
    assert [frame["data"]["name"] for frame in encoded] == ["create_file\ufffd"] * len(encoded)
    assert encoded[0]["data"]["tool_use_id"] == "toolu_\ufffd"
    assert encoded[-1]["data"]["partial"] == {"path": "tes"}


def test_a_value_no_frame_can_carry_ends_the_draft_not_the_reply() -> None:
    """Found by test_history_validity: an integer past 64 bits in a call's input."""
    sent: list[protocol.ServerFrame] = []
    drafts = ToolDrafts(sent.append, interval_s=0.0, max_chars=10_000)
    drafts.fragment("toolu_big", "create_file", '{"path": "a.md", "n": ' + "9" * 30 + "}")
    drafts.fragment("toolu_big", "create_file", "")
    drafts.flush()
    assert not drafts.shown("toolu_big")
    for n, frame in enumerate(sent):
        protocol.encode_numbered(frame, n)  # whatever was sent still encodes

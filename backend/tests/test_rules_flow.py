"""Decisions beyond yes/no, end to end through the real app and the model server: scopes that
make rules, rules that decide unasked, edits, reasons, changes while a call waits, the audit."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.mcp_support import wait_until
from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, Frame, RunningApp, events
from tests.running_app import http_json as http

pytestmark = pytest.mark.anyio


def create_file(tool_id: str, path: str, content: str = "hello") -> dict[str, Any]:
    return {"id": tool_id, "name": "create_file", "input": {"path": path, "content": content}}


def last_results(model: ModelServer) -> list[dict[str, Any]]:
    last_user = model.requests[-1].body["messages"][-1]
    return [b for b in last_user["content"] if b["type"] == "tool_result"]


def text_of(result: dict[str, Any]) -> str:
    return "".join(block["text"] for block in result["content"])


async def ask(chat: Chat, model: ModelServer, *uses: dict[str, Any]) -> list[Frame]:
    """Claude asks for `uses`; the frames up to the end of the reply or the last request."""
    model.script({"text": ["Working."], "tool_uses": list(uses)})
    await chat.say("please")
    frames: list[Frame] = []
    waiting = {use["id"] for use in uses}
    while waiting:
        frame = await chat.recv()
        frames.append(frame)
        data = frame.get("data", {})
        if frame["event"] in ("tool_request", "tool_decided"):
            waiting.discard(data.get("id") or data.get("tool_use_id"))
        if frame["event"] == "assistant_message_completed":
            break
    return frames


async def approve(chat: Chat, tool_use_id: str, **extra: Any) -> list[Frame]:
    await chat.send("tool_approval", {"tool_use_id": tool_use_id, "approved": True, **extra})
    return await chat.recv_until("assistant_message_completed")


async def test_approving_for_the_conversation_allows_its_folder_there_only(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory()
    async with Chat(app.ws_url()) as chat:
        asked = await ask(chat, model, create_file("toolu_1", "notes/a.txt"))
        assert events(asked, "tool_request")[0]["data"]["proposed_glob"] == "notes/**"
        await approve(chat, "toolu_1", scope="conversation", path_glob="notes/**")
        frames = await ask(chat, model, create_file("toolu_2", "notes/deep/b.txt"))
        frames += await chat.recv_until("assistant_message_completed")
        [decided] = events(frames, "tool_decided")
        assert events(frames, "tool_request") == []
        outside = await ask(chat, model, create_file("toolu_3", "other/c.txt"))
        await chat.send("tool_approval", {"tool_use_id": "toolu_3", "approved": False})
        await chat.recv_until("assistant_message_completed")
    assert decided["data"]["decision"] == "allowed"
    assert decided["data"]["rule_label"] == "notes/**"
    assert (app.workspace / "notes" / "deep" / "b.txt").read_text() == "hello"
    assert events(outside, "tool_request")[0]["data"]["id"] == "toolu_3"  # not the folder
    [finished] = [f for f in events(frames, "tool_finished")]
    assert finished["data"]["rule_id"] == decided["data"]["rule_id"]
    async with Chat(app.ws_url()) as other:  # another conversation is asked again
        again = await ask(other, model, create_file("toolu_4", "notes/d.txt"))
    assert [f["data"]["id"] for f in events(again, "tool_request")] == ["toolu_4"]


async def test_always_allows_everywhere_and_survives_a_restart(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'rules.db'}"
    app = app_factory(DATABASE_URL=database)
    async with Chat(app.ws_url()) as chat:
        await ask(chat, model, create_file("toolu_1", "a.txt"))
        await approve(chat, "toolu_1", scope="always")
    app.stop()
    again = app_factory(DATABASE_URL=database)
    _, rules = http(again, "GET", "/api/rules")
    async with Chat(again.ws_url()) as chat:
        frames = await ask(chat, model, create_file("toolu_2", "b.txt"))
        frames += await chat.recv_until("assistant_message_completed")
    assert [(r["effect"], r["source"], r["conversation_id"]) for r in rules] == [
        ("allow", "dialog", None)
    ]
    assert events(frames, "tool_request") == []
    assert events(frames, "tool_decided")[0]["data"]["rule_id"] == rules[0]["id"]
    assert (again.workspace / "b.txt").read_text() == "hello"


async def test_always_deny_refuses_unasked_and_claude_is_told_the_rule(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory()
    async with Chat(app.ws_url()) as chat:
        await ask(chat, model, create_file("toolu_1", "x/a.txt"))
        await chat.send(
            "tool_approval",
            {"tool_use_id": "toolu_1", "approved": False, "scope": "always", "path_glob": "x/**"},
        )
        await chat.recv_until("assistant_message_completed")
        frames = await ask(chat, model, create_file("toolu_2", "x/b.txt"))
        frames += await chat.recv_until("assistant_message_completed")
    [finished] = events(frames, "tool_finished")
    assert finished["data"]["status"] == "denied"
    assert finished["data"]["decided_by"] == "rule"
    assert events(frames, "tool_decided")[0]["data"]["decision"] == "denied"
    [result] = last_results(model)
    assert result["is_error"] is True
    assert "denied by a rule the user set (x/**)" in text_of(result)
    assert not (app.workspace / "x").exists()


async def test_the_edited_input_runs_and_claude_is_told_how(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as chat:
        await ask(chat, model, create_file("toolu_e", "draft.txt", "from claude"))
        edited = {"path": "final/draft.txt", "content": "from the person"}
        await approve(chat, "toolu_e", input=edited)
    assert (app.workspace / "final" / "draft.txt").read_text() == "from the person"
    assert not (app.workspace / "draft.txt").exists()
    [result] = last_results(model)
    assert "is_error" not in result
    note = text_of(result)
    assert "The user edited this call's input" in note
    assert 'path: "draft.txt" → "final/draft.txt"' in note


async def test_an_edit_outside_the_workspace_is_refused_and_the_call_still_waits(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as chat:
        await ask(chat, model, create_file("toolu_x", "ok.txt"))
        bad = {"path": "../escape.txt", "content": "x"}
        await chat.send("tool_approval", {"tool_use_id": "toolu_x", "approved": True, "input": bad})
        [error] = events(await chat.recv_until("error"), "error")
        wrong_shape = {"path": 3}
        await chat.send(
            "tool_approval", {"tool_use_id": "toolu_x", "approved": True, "input": wrong_shape}
        )
        [schema_error] = events(await chat.recv_until("error"), "error")
        await chat.send("tool_approval", {"tool_use_id": "toolu_x", "approved": False})
        frames = await chat.recv_until("assistant_message_completed")
    assert error["data"]["detail"]["code"] == "invalid_edit"
    assert schema_error["data"]["detail"]["code"] == "invalid_edit"
    assert events(frames, "tool_finished")[0]["data"]["status"] == "denied"
    assert not (app.workspace.parent / "escape.txt").exists()
    assert list(app.workspace.iterdir()) == []


async def test_a_denial_reason_reaches_claude(app: RunningApp, model: ModelServer) -> None:
    async with Chat(app.ws_url()) as chat:
        await ask(chat, model, create_file("toolu_r", "r.txt"))
        answer = {"tool_use_id": "toolu_r", "approved": False, "reason": "x" * 1001}
        await chat.send("tool_approval", answer)  # too long: refused, the call still waits
        [refused] = events(await chat.recv_until("error"), "error")
        reason = "  Use the notes folder instead. "
        await chat.send("tool_approval", answer | {"reason": reason})
        await chat.recv_until("assistant_message_completed")
    assert refused["data"]["message"] == "invalid_payload"
    [result] = last_results(model)
    assert result["is_error"] is True
    assert text_of(result).endswith("The user's reason: Use the notes folder instead.")


async def test_a_rule_added_while_a_call_waits_decides_it(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory()
    async with Chat(app.ws_url()) as chat:
        await ask(chat, model, create_file("toolu_w", "w.txt"))
        status, rule = http(
            app,
            "POST",
            "/api/rules",
            {"effect": "allow", "server": "workspace", "tool": "create_*"},
        )
        frames = await chat.recv_until("assistant_message_completed")
    assert status == 201
    assert events(frames, "tool_decided")[0]["data"]["rule_id"] == rule["id"]
    assert (app.workspace / "w.txt").read_text() == "hello"


async def test_revoking_an_ask_rule_lets_the_allow_decide_the_waiting_call(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory()
    _, allow = http(app, "POST", "/api/rules", {"effect": "allow"})
    _, ask_rule = http(app, "POST", "/api/rules", {"effect": "ask", "tool": "create_file"})
    async with Chat(app.ws_url()) as chat:
        asked = await ask(chat, model, create_file("toolu_v", "v.txt"))
        assert events(asked, "tool_request")  # the ask rule holds it
        status, _ = http(app, "DELETE", f"/api/rules/{ask_rule['id']}")
        frames = await chat.recv_until("assistant_message_completed")
    assert status == 204
    assert events(frames, "tool_decided")[0]["data"]["rule_id"] == allow["id"]
    assert (app.workspace / "v.txt").read_text() == "hello"


async def test_no_allow_rule_passes_the_safety_floor(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory()
    http(app, "POST", "/api/rules", {"effect": "allow"})
    async with Chat(app.ws_url()) as chat:
        asked = await ask(chat, model, create_file("toolu_g", ".git/hooks/pre-commit"))
        await chat.send("tool_approval", {"tool_use_id": "toolu_g", "approved": False})
        await chat.recv_until("assistant_message_completed")
    assert [f["data"]["id"] for f in events(asked, "tool_request")] == ["toolu_g"]
    assert events(asked, "tool_decided") == []


async def test_bad_rules_get_a_clear_422(app: RunningApp) -> None:
    status, body = http(
        app,
        "POST",
        "/api/rules",
        {"effect": "allow", "conditions": [{"field": "url", "regex": "(a+)+\\1"}]},
    )
    assert status == 422
    assert "regular expression" in json.dumps(body)


async def test_every_decision_is_audited_filterable_paged_and_exported(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(TOOL_APPROVAL_TIMEOUT_S="3")
    async with Chat(app.ws_url()) as chat:
        await ask(chat, model, create_file("toolu_p", "p.txt", "=cmd"))
        await approve(
            chat, "toolu_p", scope="conversation", input={"path": "p2.txt", "content": "=1"}
        )
        frames = await ask(chat, model, create_file("toolu_q", "q.txt"))
        frames += await chat.recv_until("assistant_message_completed")
        await ask(chat, model, {"id": "toolu_t", "name": "create_file",
                                "input": {"path": ".env", "content": "x"}})  # fmt: skip
        await chat.recv_until("assistant_message_completed")  # unanswered: the deadline
    status, rows = http(app, "GET", f"/api/audit?conversation_id={chat.session_id}")
    by_id = {row["tool_use_id"]: row for row in rows}
    assert status == 200
    assert [row["tool_use_id"] for row in rows] == ["toolu_t", "toolu_q", "toolu_p"]
    person, rule, timeout = by_id["toolu_p"], by_id["toolu_q"], by_id["toolu_t"]
    assert (person["decision"], person["decided_by"], person["outcome"]) == (
        "allowed",
        "person",
        "done",
    )
    assert person["edited_input"] == {"path": "p2.txt", "content": "=1"}
    assert person["input"] == {"path": "p.txt", "content": "=cmd"}
    assert person["latency_s"] >= 0
    assert (rule["decided_by"], rule["outcome"]) == ("rule", "done")
    assert rule["rule_id"] == events(frames, "tool_decided")[0]["data"]["rule_id"]
    assert (timeout["decision"], timeout["decided_by"], timeout["outcome"]) == (
        "expired",
        "timeout",
        "expired",
    )
    _, only_rule = http(app, "GET", "/api/audit?decided_by=rule")
    assert [row["tool_use_id"] for row in only_rule] == ["toolu_q"]
    status, page = app.get("/api/audit?limit=2")
    assert status == 200 and len(json.loads(page)) == 2
    cursor = _next_cursor(app, "/api/audit?limit=2")
    _, rest = http(app, "GET", f"/api/audit?limit=2&cursor={cursor}")
    assert [row["tool_use_id"] for row in rest] == ["toolu_p"]
    _, lines = app.get("/api/audit?format=jsonl")
    assert [json.loads(line)["tool_use_id"] for line in lines.splitlines()] == [
        "toolu_t",
        "toolu_q",
        "toolu_p",
    ]
    _, table = app.get("/api/audit?format=csv&tool=create_file")
    parsed = list(csv.DictReader(io.StringIO(table)))
    assert [row["tool_use_id"] for row in parsed] == ["toolu_t", "toolu_q", "toolu_p"]
    assert json.loads(parsed[2]["edited_input"]) == {"path": "p2.txt", "content": "=1"}
    _, rules = http(app, "GET", "/api/rules")
    assert rules[0]["decided"] == 1 and rules[0]["last_used_at"] is not None
    metrics = app.get("/metrics")[1]
    assert 'gatehouse_tool_decisions_total{source="person"} 1.0' in metrics
    assert 'gatehouse_tool_decisions_total{source="rule"} 1.0' in metrics
    assert 'gatehouse_tool_decisions_total{source="timeout"} 1.0' in metrics


def _next_cursor(app: RunningApp, path: str) -> str:
    with urllib.request.urlopen(app.base_url + path, timeout=5) as response:
        return response.headers["X-Next-Cursor"]


async def test_audit_and_rules_keep_the_api_guards(app_factory: AppFactory) -> None:
    app = app_factory(AUTH_TOKEN="s3cret")
    assert app.get("/api/audit")[0] == 401
    assert app.get("/api/rules")[0] == 401
    assert app.get("/api/rules", {"Origin": "https://evil.example"})[0] == 403
    assert app.get("/api/audit", {"Authorization": "Bearer s3cret"})[0] == 200


async def test_the_policy_file_is_loaded_marked_and_reloaded_on_change(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    policy = tmp_path / "policy" / "policy.json"
    policy.parent.mkdir()
    deny = {"effect": "deny", "tool": "create_file",
            "conditions": [{"field": "path", "path_glob": "secrets/**"}]}  # fmt: skip
    policy.write_text(json.dumps({"rules": [deny]}))
    app = app_factory(POLICY_FILE=str(policy))
    _, [rule] = http(app, "GET", "/api/rules")
    assert (rule["source"], rule["removable"], rule["label"]) == (
        "policy_file",
        False,
        "secrets/**",
    )
    assert http(app, "DELETE", f"/api/rules/{rule['id']}")[0] == 409
    async with Chat(app.ws_url()) as chat:
        frames = await ask(chat, model, create_file("toolu_s", "secrets/k.txt"))
        frames += await chat.recv_until("assistant_message_completed")
    decided = events(frames, "tool_decided")[0]["data"]
    assert (decided["decision"], decided["rule_source"]) == ("denied", "policy_file")

    policy.write_text(json.dumps({"rules": [deny, {"effect": "allow", "tool": "create_file"}]}))
    await wait_until(lambda: len(http(app, "GET", "/api/rules")[1]) == 2)
    policy.write_text("{not json")
    await wait_until(lambda: "policy_file_invalid" in app.log())
    _, kept = http(app, "GET", "/api/rules")
    assert sorted(r["effect"] for r in kept) == ["allow", "deny"]


async def test_a_toml_policy_file_works_and_a_bad_one_stops_start_up(
    app_factory: AppFactory, tmp_path: Path
) -> None:
    good = tmp_path / "policy.toml"
    good.write_text('[[rules]]\neffect = "ask"\nserver = "workspace"\ntool = "create_*"\n')
    app = app_factory(POLICY_FILE=str(good))
    _, [rule] = http(app, "GET", "/api/rules")
    assert (rule["effect"], rule["tool"]) == ("ask", "create_*")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rules]]\neffect = "sometimes"\n')
    with pytest.raises(RuntimeError, match="POLICY_FILE"):
        app_factory(POLICY_FILE=str(bad))


async def test_after_a_reload_a_rule_decided_card_still_names_its_rule(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory()
    async with Chat(app.ws_url()) as chat:
        await ask(chat, model, create_file("toolu_1", "notes/a.txt"))
        await approve(chat, "toolu_1", scope="conversation", path_glob="notes/**")
        frames = await ask(chat, model, create_file("toolu_2", "notes/b.txt"))
        frames += await chat.recv_until("assistant_message_completed")
        await chat.say("thanks")  # the calls' turn is now history, not the turn replayed
        await chat.recv_until("assistant_message_completed")
        session_id = chat.session_id
    [decided] = events(frames, "tool_decided")
    async with Chat(app.ws_url(session_id=session_id)) as reloaded:
        [history] = events(await reloaded.recv_until("history"), "history")
    cards = {
        card["id"]: card
        for message in history["data"]["messages"]
        for card in message.get("tool_calls", [])
    }
    assert cards["toolu_2"]["rule_id"] == decided["data"]["rule_id"]
    assert cards["toolu_2"]["rule_label"] == "notes/**"
    assert cards["toolu_2"]["rule_source"] == "dialog"
    assert cards["toolu_1"].get("rule_id") is None  # the person decided that one


async def test_a_call_restored_after_a_restart_is_checked_against_the_rules_at_once(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'restored.db'}",
        "WORKSPACE_DIR": str(tmp_path / "shared-workspace"),
    }
    first = app_factory(**env)
    async with Chat(first.ws_url()) as chat:
        await ask(chat, model, create_file("toolu_r", "notes/kept.txt"))
        session_id = chat.session_id
    first.stop()
    # the restarted server has a rule that allows the waiting call: nobody needs to answer it
    policy = tmp_path / "policy" / "policy.json"
    policy.parent.mkdir()
    allow = {"effect": "allow", "tool": "create_file",
             "conditions": [{"field": "path", "path_glob": "notes/**"}]}  # fmt: skip
    policy.write_text(json.dumps({"rules": [allow]}))
    second = app_factory(**env, POLICY_FILE=str(policy))
    async with Chat(second.ws_url(session_id=session_id)) as back:
        frames = await back.recv_until("assistant_message_completed")
    [finished] = events(frames, "tool_finished")
    assert finished["data"]["status"] == "done"
    assert finished["data"]["rule_id"].startswith("file")
    assert (tmp_path / "shared-workspace" / "notes" / "kept.txt").read_text() == "hello"

"""The rule engine: precedence, globs, argument conditions and the safety floor."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gatehouse.rules import Call, Condition, Rule, RuleSpec, decide, proposed_glob, safety_floor

CONVERSATION = "conv-1"


def rule(
    rule_id: str,
    effect: str,
    server: str = "*",
    tool: str = "*",
    conversation_id: str | None = None,
    **conditions: Any,
) -> Rule:
    conds = tuple(Condition(field=name, **test) for name, test in conditions.items())
    spec = RuleSpec.model_validate(
        {"effect": effect, "server": server, "tool": tool, "conditions": conds}
    )
    return Rule(rule_id, spec, "settings", 0.0, conversation_id)


def write(path: str, server: str = "workspace", tool: str = "create_file") -> Call:
    return Call(CONVERSATION, server, tool, {"path": path, "content": "x"}, ("path",))


NOTES_ALLOW = rule("notes", "allow", "workspace", "create_file", path={"path_glob": "notes/**"})
ANY_ALLOW = rule("any", "allow")
WS_DENY = rule("ws-deny", "deny", "workspace", "create_*", path={"path_glob": "secret/**"})
ASK_MD = rule("ask-md", "ask", tool="create_file", path={"path_glob": "**/*.md"})
OTHER_CONV = rule("other", "allow", conversation_id="conv-2")
THIS_CONV = rule("this", "allow", "workspace", "create_file", conversation_id=CONVERSATION)
EXACT = rule("exact", "deny", "git", "git_*", mode={"equals": "force"})
REGEX = rule("regex", "allow", "fetch", "fetch", url={"regex": r"https://docs\.example\.com/.*"})

TABLE: list[tuple[str, list[Rule], Call, str, str | None]] = [
    # name, rules, call, effect, deciding rule id
    ("no rule: ask", [], write("a.txt"), "ask", None),
    ("path glob allows", [NOTES_ALLOW], write("notes/a/b.txt"), "allow", "notes"),
    ("path glob normalises", [NOTES_ALLOW], write("notes/./x.txt"), "allow", "notes"),
    ("path glob misses", [NOTES_ALLOW], write("other/a.txt"), "ask", None),
    ("deny wins over allow", [ANY_ALLOW, WS_DENY], write("secret/k.txt"), "deny", "ws-deny"),
    ("ask wins over allow", [NOTES_ALLOW, ASK_MD], write("notes/a.md"), "ask", "ask-md"),
    ("specific allow named", [ANY_ALLOW, NOTES_ALLOW], write("notes/a.txt"), "allow", "notes"),
    ("conversation scope", [OTHER_CONV], write("a.txt"), "ask", None),
    ("conversation scope hit", [THIS_CONV, ANY_ALLOW], write("a.txt"), "allow", "this"),
    ("server must match", [NOTES_ALLOW], write("notes/a", server="other"), "ask", None),
    ("floor: .git", [ANY_ALLOW], write(".git/config"), "ask", None),
    ("floor: nested dot", [NOTES_ALLOW], write("notes/.env.local"), "ask", None),
    ("floor: .env", [ANY_ALLOW], write(".env"), "ask", None),
    ("floor keeps deny", [ANY_ALLOW, rule("d", "deny")], write(".git/x"), "deny", "d"),
    ("floor: absolute", [ANY_ALLOW], write("/etc/passwd"), "ask", None),
    ("floor: traversal", [ANY_ALLOW], write("a/../../x"), "ask", None),
    (
        "exact hit",
        [EXACT],
        Call(CONVERSATION, "git", "git_push", {"mode": "force"}),
        "deny",
        "exact",
    ),
    ("exact miss", [EXACT], Call(CONVERSATION, "git", "git_push", {"mode": "ff"}), "ask", None),
    (
        "regex full match",
        [REGEX],
        Call(CONVERSATION, "fetch", "fetch", {"url": "https://docs.example.com/a"}),
        "allow",
        "regex",
    ),
    (
        "regex is anchored",
        [REGEX],
        Call(CONVERSATION, "fetch", "fetch", {"url": "https://evil/?https://docs.example.com/"}),
        "ask",
        None,
    ),
    ("condition on absent field", [EXACT], Call(CONVERSATION, "git", "git_push", {}), "ask", None),
]


@pytest.mark.parametrize(("rules", "call", "effect", "rule_id"), [t[1:] for t in TABLE],
                         ids=[t[0] for t in TABLE])  # fmt: skip
def test_rule_table(rules: list[Rule], call: Call, effect: str, rule_id: str | None) -> None:
    verdict = decide(rules, call)
    assert verdict.effect == effect
    assert (verdict.rule.id if verdict.rule else None) == rule_id


@pytest.mark.parametrize(
    "bad",
    [
        {"effect": "allow", "conditions": [{"field": "path", "path_glob": "/etc/**"}]},
        {"effect": "allow", "conditions": [{"field": "path", "path_glob": "../x/**"}]},
        {"effect": "allow", "conditions": [{"field": "url", "regex": "(a"}]},
        {"effect": "allow", "conditions": [{"field": "url", "regex": "(a)\\1"}]},  # backrefs: no
        {"effect": "allow", "conditions": [{"field": "url", "regex": "a" * 201}]},
        {"effect": "allow", "conditions": [{"field": "p", "equals": "a", "regex": "a"}]},
        {"effect": "maybe"},
        {"effect": "allow", "tool": "bad name"},
    ],
)
def test_bad_rules_are_refused_with_a_reason(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RuleSpec.model_validate(bad)


def test_proposed_glob_is_the_files_folder() -> None:
    assert proposed_glob({"path": "notes/day/1.md"}, ("path",)) == "notes/day/**"
    assert proposed_glob({"path": "top.md"}, ("path",)) == "top.md"
    assert proposed_glob({"path": "/abs"}, ("path",)) is None
    # Only what is special to a glob is escaped; a hyphen reads as itself.
    assert proposed_glob({"path": "my-notes/a-b.md"}, ("path",)) == "my-notes/**"
    assert proposed_glob({"path": "odd[1]/x.md"}, ("path",)) == "odd\\[1\\]/**"


# ── properties ──────────────────────────────────────────────────────────────────────────────

_segment = st.text(alphabet="abcx.-_*", min_size=1, max_size=5)
_paths = st.lists(_segment, min_size=1, max_size=4).map("/".join)
_globs = st.sampled_from(["**", "*", "notes/**", "**/*.md", ".git/**", "*/**", "a*"])
_effects = st.sampled_from(["allow", "deny", "ask"])


@st.composite
def _rules(draw: st.DrawFn) -> list[Rule]:
    count = draw(st.integers(0, 6))
    made: list[Rule] = []
    for n in range(count):
        glob = draw(st.one_of(st.none(), _globs))
        tool = draw(st.sampled_from(["*", "create_file"]))
        if glob:
            made.append(rule(f"r{n}", draw(_effects), tool=tool, path={"path_glob": glob}))
        else:
            made.append(rule(f"r{n}", draw(_effects), tool=tool))
    return made


@settings(deadline=None)  # a shared machine's load is not what is tested
@given(_rules(), _paths)
def test_deny_always_wins(rules: list[Rule], path: str) -> None:
    call = write(path)
    if any(r.effect == "deny" and r.matches(call) for r in rules):
        assert decide(rules, call).effect == "deny"


@settings(deadline=None)  # a shared machine's load is not what is tested
@given(_rules(), _paths)
def test_no_rule_widens_the_safety_floor(rules: list[Rule], path: str) -> None:
    call = write(path)
    if safety_floor(call) is not None:
        assert decide(rules, call).effect != "allow"


@settings(deadline=None)  # a shared machine's load is not what is tested
@given(_rules(), _paths)
def test_a_rule_allows_only_what_it_matches(rules: list[Rule], path: str) -> None:
    verdict = decide(rules, write(path))
    if verdict.effect == "allow":
        assert verdict.rule is not None and verdict.rule.matches(write(path))

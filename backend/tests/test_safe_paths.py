"""safe_paths against a real temporary workspace, with real symlinks beside and inside it."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatehouse.safe_paths import (
    InvalidPath,
    is_inside,
    normalise_relative,
    resolve_in_workspace,
)
from tests.mcp_support import snapshot


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the workspace holding a secret that must never change."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("do not touch")
    return folder


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    return folder


def refused(root: Path, relative: str, outside: Path) -> str:
    """Assert `relative` is refused and that nothing changed outside; return the reason."""
    before = snapshot(outside)
    with pytest.raises(InvalidPath) as caught:
        resolve_in_workspace(root, relative)
    assert snapshot(outside) == before
    assert caught.value.reason and "\n" not in caught.value.reason
    return caught.value.reason


LEXICAL_ATTACKS = {
    "empty": "",
    "blank": "   ",
    "parent": "../secret.txt",
    "parent deep": "a/b/../../../outside/secret.txt",
    "parent at end": "a/..",
    "dot dot only": "..",
    "absolute": "/etc/passwd",
    "absolute into outside": "/tmp/x.txt",
    "home": "~/x.txt",
    "other home": "~root/.bashrc",
    "nul": "a\x00.txt",
    "nul before parent": "ok.txt\x00/../../x",
    "backslash": "a\\b.txt",
    "backslash parent": "..\\..\\x.txt",
    "drive": "C:x.txt",
    "drive with slash": "c:/Windows/x.txt",
    "encoded slash": "a%2fb.txt",
    "encoded slash upper": "a%2Fb.txt",
    "encoded dots": "%2e%2e/x.txt",
    "encoded dots mixed case": "%2E%2e%2Fx.txt",
    "encoded backslash": "a%5cb.txt",
    "encoded backslash upper": "..%5C..%5Cx.txt",
    "control character": "a\nb.txt",
    "long component": "x" * 256,
    "long multibyte component": "é" * 128,  # 256 bytes
    "long path": "/".join(["d" * 200] * 21),  # 4220 bytes
    "trailing slash": "folder/",
    "workspace itself": ".",
    "workspace itself twice": "./.",
    "right-to-left override": "invoice\u202etxt.exe",
    "zero-width space": "a\u200b.txt",
    "zero-width joiner folder": "do\u200dcs/a.txt",
    "byte order mark": "\ufeffa.txt",
    "lone surrogate": "a\udc80.txt",
    "lone high surrogate": "a\ud800.txt",
    "C1 control": "a\x85b.txt",
    "line separator": "a\u2028b.txt",
    "paragraph separator": "a\u2029b.txt",
    "private use": "a\ue000.txt",
    "unassigned": "a\U000e0fff.txt",
    "replacement character": "a\ufffd.txt",
}


@pytest.mark.parametrize("relative", LEXICAL_ATTACKS.values(), ids=LEXICAL_ATTACKS.keys())
def test_lexical_attacks_are_refused(root: Path, outside: Path, relative: str) -> None:
    refused(root, relative, outside)
    assert snapshot(root) == {}


@pytest.mark.parametrize(
    "relative",
    [
        ".hidden",
        "a..b",
        "..a",
        "b..",
        "...",
        "x" * 255,
        "é" * 127 + "x",
        "café/日本語.txt",
        "relatório.md",
        "Привет/مرحبا.txt",
    ],
)
def test_ordinary_names_are_accepted(root: Path, relative: str) -> None:
    assert resolve_in_workspace(root, relative) == root.resolve() / relative


@pytest.fixture(scope="module")
def empty_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace the property tests share: they only resolve paths, never write."""
    return tmp_path_factory.mktemp("ws")


HIDDEN = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
NAME_CHARACTERS = st.characters(blacklist_categories=HIDDEN, blacklist_characters="/\\%~:.\ufffd")


@given(
    before=st.text(NAME_CHARACTERS, min_size=1, max_size=20),
    hidden=st.characters(whitelist_categories=HIDDEN, blacklist_characters="\x00"),
    after=st.text(NAME_CHARACTERS, max_size=20),
)
def test_invisible_and_formatting_characters_are_refused_anywhere(
    empty_root: Path, before: str, hidden: str, after: str
) -> None:
    with pytest.raises(InvalidPath) as caught:
        resolve_in_workspace(empty_root, f"{before}{hidden}{after}.txt")
    assert caught.value.reason.startswith("path contains")


@given(name=st.text(st.characters(whitelist_categories=("L", "M", "N")), min_size=1, max_size=40))
def test_letters_marks_and_digits_of_any_script_are_accepted(empty_root: Path, name: str) -> None:
    relative = unicodedata.normalize("NFC", name) + ".md"
    if len(relative.encode()) > 255:
        return
    assert resolve_in_workspace(empty_root, relative) == empty_root.resolve() / relative


def test_a_path_at_the_length_limit_is_accepted(root: Path) -> None:
    relative = "/".join(["d" * 200] * 20) + "/" + "f" * 76  # exactly 4096 bytes
    assert len(relative.encode()) == 4096
    assert resolve_in_workspace(root, relative) == root.resolve() / relative


def test_redundant_separators_and_dots_are_normalised(root: Path) -> None:
    assert normalise_relative("./a//b/./c.txt") == "a/b/c.txt"
    assert resolve_in_workspace(root, "./a//b/./c.txt") == root.resolve() / "a/b/c.txt"


def test_missing_workspace_is_created(tmp_path: Path) -> None:
    root = tmp_path / "new" / "ws"
    assert resolve_in_workspace(root, "a.txt") == root.resolve() / "a.txt"
    assert root.is_dir()


def test_folder_symlink_pointing_outside_is_refused(root: Path, outside: Path) -> None:
    (root / "escape").symlink_to(outside)
    assert "outside the workspace" in refused(root, "escape/new.txt", outside)
    assert "outside the workspace" in refused(root, "escape/secret.txt", outside)


def test_nested_relative_folder_symlink_pointing_outside_is_refused(
    root: Path, outside: Path
) -> None:
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "up").symlink_to(Path("..", "..", "..", "outside"))
    refused(root, "a/b/up/x.txt", outside)


def test_symlink_to_a_sibling_sharing_the_prefix_is_refused(
    tmp_path: Path, root: Path, outside: Path
) -> None:
    sibling = tmp_path / "ws2"  # "/…/ws2" starts with "/…/ws": the separator rule catches it
    sibling.mkdir()
    (root / "sib").symlink_to(sibling)
    refused(root, "sib/x.txt", outside)
    assert not is_inside(root, sibling)
    assert is_inside(root, root / "x") and is_inside(root, root)


def test_chain_of_symlinks_ending_outside_is_refused(root: Path, outside: Path) -> None:
    (root / "first").symlink_to(root / "second")
    (root / "second").symlink_to(outside)
    refused(root, "first/x.txt", outside)


def test_folder_symlink_staying_inside_is_followed(root: Path) -> None:
    (root / "real" / "sub").mkdir(parents=True)
    (root / "alias").symlink_to(root / "real")
    assert resolve_in_workspace(root, "alias/sub/x.txt") == root.resolve() / "real/sub/x.txt"


def test_workspace_reached_through_a_symlink_works(tmp_path: Path, root: Path) -> None:
    link = tmp_path / "ws-link"
    link.symlink_to(root)
    assert resolve_in_workspace(link, "a/b.txt") == root.resolve() / "a/b.txt"


def test_file_symlink_pointing_outside_is_refused(root: Path, outside: Path) -> None:
    (root / "secret.txt").symlink_to(outside / "secret.txt")
    assert "symlink" in refused(root, "secret.txt", outside)


def test_target_symlink_pointing_inside_is_refused_too(root: Path, outside: Path) -> None:
    (root / "real.txt").write_text("x")
    (root / "alias.txt").symlink_to(root / "real.txt")
    assert "symlink" in refused(root, "alias.txt", outside)


def test_dangling_target_symlink_is_refused(root: Path, outside: Path) -> None:
    (root / "planted.txt").symlink_to(outside / "would-be-created.txt")
    refused(root, "planted.txt", outside)


def test_broken_and_looping_folder_symlinks_are_refused(root: Path, outside: Path) -> None:
    (root / "broken").symlink_to(root / "nowhere")
    (root / "loop").symlink_to(root / "loop")
    assert "broken" in refused(root, "broken/x.txt", outside)
    refused(root, "loop/x.txt", outside)


def test_existing_folder_as_target_is_refused(root: Path, outside: Path) -> None:
    (root / "docs").mkdir()
    assert "folder" in refused(root, "docs", outside)


def test_file_in_the_middle_of_the_path_is_refused(root: Path, outside: Path) -> None:
    (root / "notes.txt").write_text("x")
    assert "not a folder" in refused(root, "notes.txt/child.txt", outside)


def test_special_file_as_target_is_refused(root: Path, outside: Path) -> None:
    os.mkfifo(root / "pipe")
    refused(root, "pipe", outside)


def test_reason_is_a_short_line(root: Path) -> None:
    with pytest.raises(InvalidPath) as caught:
        resolve_in_workspace(root, "../x")
    assert str(caught.value) == caught.value.reason == "path contains '..'"

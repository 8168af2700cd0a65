from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillmeat.model.json_edit import (
    REMOVE,
    JsonShapeError,
    Style,
    apply_edits,
    detect_style,
    parse_object,
    text_diff,
)

ENTRY = {"type": "stdio", "command": "python", "args": ["server.py"], "env": {"TOKEN": "${TOKEN}"}}
CLAUDE_STYLE = json.dumps({
    "numStartups": 42, "theme": "dark", "tipsHistory": {"a": 1, "b": 2},
    "mcpServers": {"theirs": {"type": "http", "url": "https://example.invalid/mcp"}},
    "projects": {"/work/app": {"allowedTools": [], "mcpServers": {}, "history": [
        {"display": "fix the bug ü", "pastedContents": {}}]}},
    "userID": "abc",
}, indent=2, ensure_ascii=False)


def test_adding_a_server_changes_only_the_servers_object() -> None:
    new = apply_edits(CLAUDE_STYLE, ["mcpServers"], {"mine": ENTRY})
    assert json.loads(new)["mcpServers"] == {"theirs": {"type": "http",
                                                        "url": "https://example.invalid/mcp"},
                                             "mine": ENTRY}
    assert new == json.dumps(json.loads(new), indent=2, ensure_ascii=False)  # Claude's own style
    assert list(json.loads(new)) == list(json.loads(CLAUDE_STYLE))


def test_add_then_remove_gives_back_the_exact_bytes() -> None:
    for path in (["mcpServers"], ["projects", "/work/app", "mcpServers"]):
        added = apply_edits(CLAUDE_STYLE, path, {"mine": ENTRY, "other": {"type": "sse", "url": "u"}})
        assert added != CLAUDE_STYLE
        assert apply_edits(added, path, {"mine": REMOVE, "other": REMOVE}) == CLAUDE_STYLE


def test_setting_an_equal_value_keeps_the_users_formatting() -> None:
    text = '{"mcpServers": {"mine": {"args": ["server.py"],   "type": "stdio", "command": "python",' \
           ' "env": {"TOKEN": "${TOKEN}"}}}, "x": [1,2]}'
    assert apply_edits(text, ["mcpServers"], {"mine": ENTRY}) == text


def test_irregular_formatting_elsewhere_is_kept_byte_for_byte() -> None:
    text = ('{\n  "x": [1,   2 ,3],\n  "y" :{ "deep":  true },\n'
            '  "mcpServers": {\n    "theirs": {"url":"u"}\n  }\n}')
    new = apply_edits(text, ["mcpServers"], {"mine": ENTRY})
    assert new.startswith(text[:text.index('"theirs"')])
    assert '"theirs": {"url":"u"},\n    "mine": {\n      "type": "stdio"' in new
    assert apply_edits(new, ["mcpServers"], {"mine": REMOVE}) == text
    assert apply_edits(text, ["mcpServers"], {"theirs": REMOVE}) == text.replace(
        '\n    "theirs": {"url":"u"}\n  ', "")


def test_missing_objects_along_the_path_are_created() -> None:
    new = apply_edits(CLAUDE_STYLE, ["projects", "/other", "mcpServers"], {"mine": ENTRY})
    data = json.loads(new)
    assert data["projects"]["/other"] == {"mcpServers": {"mine": ENTRY}}
    assert list(data["projects"]) == ["/work/app", "/other"]
    assert apply_edits("", ["mcpServers"], {"mine": ENTRY}) == json.dumps(
        {"mcpServers": {"mine": ENTRY}}, indent=2)
    assert apply_edits("", ["mcpServers"], {"mine": REMOVE}) == ""


@pytest.mark.parametrize("indent", ["    ", "\t", " "])
def test_the_files_own_indent_is_followed(indent: str) -> None:
    text = json.dumps({"a": {"b": [1, 2]}, "z": "é"}, indent=indent, ensure_ascii=False) + "\n"
    new = apply_edits(text, ["mcpServers"], {"mine": ENTRY})
    assert new == json.dumps(json.loads(new), indent=indent, ensure_ascii=False) + "\n"


def test_one_line_files_stay_on_one_line_with_their_separators() -> None:
    for seps in ((",", ":"), (", ", ": ")):
        text = json.dumps({"a": 1, "mcpServers": {"x": {"command": "c"}}}, separators=seps)
        new = apply_edits(text, ["mcpServers"], {"mine": ENTRY})
        assert new == json.dumps(json.loads(new), separators=seps)


def test_ascii_escaped_files_stay_escaped() -> None:
    text = json.dumps({"name": "Zoë"}, indent=2)  # "Zo\u00eb"
    assert detect_style(text).ascii_only
    new = apply_edits(text, ["mcpServers"], {"mine": {"command": "café"}})
    assert new.isascii() and json.loads(new)["mcpServers"]["mine"]["command"] == "café"


def test_windows_line_endings_stay_windows_line_endings() -> None:
    text = json.dumps({"a": 1, "b": {"c": [1]}}, indent=2).replace("\n", "\r\n") + "\r\n"
    new = apply_edits(text, ["mcpServers"], {"mine": ENTRY})
    assert "\n" not in new.replace("\r\n", "") and json.loads(new)["mcpServers"] == {"mine": ENTRY}
    assert apply_edits(new, ["mcpServers"], {"mine": REMOVE}) == text.replace(
        '\r\n  }\r\n}', '\r\n  },\r\n  "mcpServers": {}\r\n}')


def test_a_bom_and_trailing_whitespace_survive() -> None:
    text = '\ufeff{\n  "a": 1\n}\r\n\n'
    new = apply_edits(text, ["mcpServers"], {"mine": ENTRY})
    assert new.startswith('\ufeff{\n  "a": 1,\n  "mcpServers"') and new.endswith("}\r\n\n")


def test_duplicate_keys_count_as_json_loads_counts_them() -> None:
    text = '{"mcpServers": {"old": {}}, "mcpServers": {"x": {"command": "c"}}}'
    new = apply_edits(text, ["mcpServers"], {"mine": ENTRY})
    assert json.loads(new)["mcpServers"] == {"x": {"command": "c"}, "mine": ENTRY}


def test_a_non_object_on_the_path_is_refused() -> None:
    with pytest.raises(JsonShapeError) as err:
        apply_edits('{"projects": []}', ["projects", "/p", "mcpServers"], {"mine": ENTRY})
    assert err.value.path == ("projects",)
    with pytest.raises(ValueError, match="not an object"):
        parse_object("[1, 2]")


def test_the_diff_applies_with_patch(tmp_path: Path) -> None:
    big = json.dumps({f"key{i}": {"v": i} for i in range(3000)}, indent=2)
    new = apply_edits(big, ["projects", "/p", "mcpServers"], {"mine": ENTRY})
    diff = text_diff(big, new, "config.json")
    assert diff.startswith("--- config.json\n+++ config.json\n@@ -")
    assert len(diff) < 2000  # only the changed end, not 18,000 lines
    target = tmp_path / "config.json"
    target.write_text(big)
    subprocess.run(["patch", "-s", str(target)], input=diff, text=True, check=True)
    assert target.read_text() == new


def test_the_diff_of_a_new_file_is_against_dev_null() -> None:
    diff = text_diff("", '{\n  "a": 1\n}', ".mcp.json")
    assert diff.splitlines()[:3] == ["--- /dev/null", "+++ .mcp.json", "@@ -0,0 +1,3 @@"]
    assert diff.endswith("\\ No newline at end of file\n")


_keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                       lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(_keys, inner, max_size=3), max_leaves=8)
_styles = st.sampled_from([Style("  "), Style("    "), Style("\t"), Style(None, ":", ","),
                           Style(None, ": ", ", "), Style("  ", ascii_only=True),
                           Style("  ", newline="\r\n")])


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=5), _styles,
       st.dictionaries(_keys, _values | st.just(REMOVE), min_size=1, max_size=3),
       st.sampled_from([("mcpServers",), ("projects", "/p", "mcpServers")]))
def test_any_edit_gives_the_edited_data_and_keeps_the_rest(
        doc: dict[str, Any], style: Style, changes: dict[str, Any], path: tuple[str, ...]) -> None:
    doc.pop("mcpServers", None)
    doc.pop("projects", None)
    doc["mcpServers"] = {"theirs": {"url": "u"}}
    text = style.dumps(doc)
    new = apply_edits(text, path, changes)
    expected = json.loads(text)
    node = expected
    for part in path:
        node = node.setdefault(part, {})
    for key, value in changes.items():
        if value is REMOVE:
            node.pop(key, None)
        else:
            node[key] = value
    if all(v is REMOVE for v in changes.values()) and path[0] == "projects":
        expected.pop("projects")
    assert json.loads(new) == expected
    assert apply_edits(new, path, changes) == new
    if path == ("mcpServers",) and "theirs" not in changes:
        undo = {k: REMOVE for k in changes}
        assert apply_edits(apply_edits(text, path, {k: v for k, v in changes.items()
                                                    if v is not REMOVE}), path, undo) == text

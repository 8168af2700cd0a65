from __future__ import annotations

import pytest

from skillmeat.model import frontmatter
from skillmeat.model.frontmatter import Frontmatter


def codes(fm: Frontmatter) -> list[str]:
    return [d.code for d in fm.diagnostics]


def test_valid_frontmatter_reads_fields_body_and_key_lines() -> None:
    raw = b"---\nname: greeter\ndescription: Greets people.\nallowed-tools: [Read, Grep]\n---\n\nSay hi.\n"
    fm = frontmatter.parse(raw, "skills/greeter/SKILL.md")
    assert fm.present
    assert fm.diagnostics == ()
    assert fm.data == {"name": "greeter", "description": "Greets people.",
                       "allowed-tools": ["Read", "Grep"]}
    assert fm.body == "\nSay hi.\n"
    assert fm.line_of("name") == 2
    assert fm.line_of("description") == 3
    assert fm.line_of("allowed-tools") == 4
    assert fm.line_of("missing") == 1


def test_text_joins_lists_and_is_empty_for_missing_keys() -> None:
    fm = frontmatter.parse("---\ntools: [Read, Grep]\ndescription: '  padded  '\n---\nx\n", "a.md")
    assert fm.text("tools") == "Read, Grep"
    assert fm.text("description") == "padded"
    assert fm.text("nope") == ""


def test_str_input_is_parsed_without_decoding_diagnostics() -> None:
    fm = frontmatter.parse("---\nname: a\n---\nbody", "a.md")
    assert fm.data == {"name": "a"}
    assert fm.body == "body"
    assert fm.diagnostics == ()


def test_unquoted_argument_hint_is_a_warning_at_its_line_and_other_fields_are_kept() -> None:
    raw = (b"---\n"
           b"name: deploy\n"
           b"argument-hint: [env] | staging\n"
           b"description: Deploys the app\n"
           b"---\n"
           b"Deploy it.\n")
    fm = frontmatter.parse(raw, "commands/deploy.md")
    assert fm.present
    assert len(fm.diagnostics) == 1
    diag = fm.diagnostics[0]
    assert (diag.path, diag.line, diag.level, diag.code) == (
        "commands/deploy.md", 3, "warning", "invalid-yaml")
    assert "quote" in diag.message
    assert fm.data["description"] == "Deploys the app"
    assert fm.data["name"] == "deploy"
    assert fm.data["argument-hint"] == "[env] | staging"
    assert fm.body == "Deploy it.\n"


def test_lenient_read_unquotes_values_and_joins_continuation_lines() -> None:
    raw = (b"---\n"
           b"name: 'quoted'\n"
           b"argument-hint: [a] | b\n"
           b"description: first part\n"
           b"  second part\n"
           b"---\n"
           b"x\n")
    fm = frontmatter.parse(raw, "a.md")
    assert codes(fm) == ["invalid-yaml"]
    assert fm.data["name"] == "quoted"
    assert fm.data["description"] == "first part second part"


def test_lenient_read_of_a_block_scalar_description_drops_the_indicator() -> None:
    # The YAML is broken by another line; the folded description must still read as text.
    raw = (b"---\n"
           b"name: x\n"
           b"argument-hint: [a] | b\n"
           b"description: >\n"
           b"  Folded\n"
           b"  text\n"
           b"---\n"
           b"x\n")
    fm = frontmatter.parse(raw, "a.md")
    assert codes(fm) == ["invalid-yaml"]
    assert fm.data["description"] == "Folded text"


def test_missing_frontmatter_is_a_warning_and_the_whole_text_is_the_body() -> None:
    fm = frontmatter.parse(b"# Title\n\nJust text.\n", "agents/a.md")
    assert not fm.present
    assert fm.data == {}
    assert fm.body == "# Title\n\nJust text.\n"
    assert [(d.path, d.line, d.code) for d in fm.diagnostics] == [("agents/a.md", 1, "no-frontmatter")]


@pytest.mark.parametrize("raw", [b"", b"----\nname: x\n----\n", b"--- name: x\n---\n"])
def test_things_that_only_look_like_frontmatter_are_not(raw: bytes) -> None:
    fm = frontmatter.parse(raw, "a.md")
    assert not fm.present
    assert codes(fm) == ["no-frontmatter"]


def test_unterminated_frontmatter_is_a_warning_and_nothing_is_dropped() -> None:
    raw = b"---\nname: x\ndescription: y\n\nBody text.\n"
    fm = frontmatter.parse(raw, "skills/x/SKILL.md")
    assert not fm.present
    assert fm.data == {}
    assert fm.body == raw.decode()
    assert [(d.line, d.level, d.code) for d in fm.diagnostics] == [(1, "warning", "unterminated")]


def test_empty_frontmatter_is_present_and_empty() -> None:
    fm = frontmatter.parse(b"---\n---\nbody\n", "a.md")
    assert fm.present
    assert fm.data == {}
    assert fm.diagnostics == ()
    assert fm.body == "body\n"


def test_byte_order_mark_is_reported_and_stripped() -> None:
    fm = frontmatter.parse(b"\xef\xbb\xbf---\nname: x\n---\nbody\n", "a.md")
    assert fm.present
    assert fm.data == {"name": "x"}
    assert [(d.line, d.code) for d in fm.diagnostics] == [(1, "bom")]


def test_crlf_line_ends_are_reported_and_normalised() -> None:
    fm = frontmatter.parse(b"---\r\nname: x\r\ndescription: d\r\n---\r\nline 1\r\nline 2\r\n", "a.md")
    assert fm.present
    assert fm.data == {"name": "x", "description": "d"}
    assert fm.body == "line 1\nline 2\n"
    assert "\r" not in fm.body
    assert codes(fm) == ["crlf"]
    assert fm.line_of("description") == 3


def test_bom_and_crlf_together() -> None:
    fm = frontmatter.parse(b"\xef\xbb\xbf---\r\nname: x\r\n---\r\nb\r\n", "a.md")
    assert fm.data == {"name": "x"}
    assert sorted(codes(fm)) == ["bom", "crlf"]


def test_invalid_utf8_is_replaced_and_reported_at_its_line() -> None:
    raw = b"---\nname: x\ndescription: caf\xe9 menu\n---\nbody\n"
    fm = frontmatter.parse(raw, "commands/cafe.md")
    assert fm.present
    assert fm.data["name"] == "x"
    assert fm.data["description"] == "caf\ufffd menu"
    assert [(d.path, d.line, d.code) for d in fm.diagnostics] == [("commands/cafe.md", 3, "encoding")]


@pytest.mark.parametrize("yaml_text", ["- a\n- b", "just a string", "42"])
def test_non_mapping_frontmatter_is_a_warning_and_empty_data(yaml_text: str) -> None:
    fm = frontmatter.parse(f"---\n{yaml_text}\n---\nbody\n", "a.md")
    assert fm.present
    assert fm.data == {}
    assert fm.body == "body\n"
    assert [(d.level, d.code) for d in fm.diagnostics] == [("warning", "not-a-mapping")]


def test_non_string_keys_are_turned_into_strings() -> None:
    fm = frontmatter.parse("---\n1: one\n2.5: two\n---\n", "a.md")
    assert fm.data == {"1": "one", "2.5": "two"}


@pytest.mark.parametrize("raw", [
    b"---\n",
    b"---",
    b"---\n:\n---\n",
    b"---\n\t- : [\n---\n",
    b"---\nkey: *unknown_alias\n---\n",
    b"---\na: !!python/object:os.system ls\n---\n",
    b"\xff\xfe\x00---\n",
    b"---\n" + b"a: [" * 50 + b"\n---\n",
    b"\r\n\r\n",
    b"\xef\xbb\xbf",
])
def test_parse_never_raises(raw: bytes) -> None:
    fm = frontmatter.parse(raw, "weird.md")
    assert isinstance(fm.data, dict)
    assert all(d.level == "warning" and d.path == "weird.md" for d in fm.diagnostics)


def test_unsafe_yaml_tags_are_not_executed_but_reported() -> None:
    fm = frontmatter.parse(b"---\na: !!python/object/apply:os.getcwd []\n---\n", "a.md")
    assert codes(fm) == ["invalid-yaml"]
    assert fm.data == {"a": "!!python/object/apply:os.getcwd []"}

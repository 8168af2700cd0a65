from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import pytest

from skillmeat.model import frontmatter
from skillmeat.services.catalog_markdown import render
from tests.helpers import CORPUS

ALLOWED_HREF = re.compile(r"(https?://|mailto:|#)", re.IGNORECASE)


class Collect(HTMLParser):
    """Every start tag with its attributes, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(out: str) -> list[tuple[str, dict[str, str | None]]]:
    p = Collect()
    p.feed(out)
    p.close()
    return p.tags


def assert_safe(out: str) -> None:
    """No active content: prose may *mention* ``javascript:``, no attribute may hold it."""
    low = out.lower()
    assert "<script" not in low and "<iframe" not in low and "<img" not in low
    for tag, attrs in tags(out):
        assert tag not in ("script", "iframe", "img", "object", "embed", "style", "svg", "form", "input")
        for key, value in attrs.items():
            assert not key.startswith("on"), (tag, key)
            assert "javascript:" not in re.sub(r"\s", "", (value or "").lower())
            assert key not in ("id", "src", "style") or (key == "style" and tag in ("th", "td")), (tag, key)
            if key == "href":
                assert value is not None and ALLOWED_HREF.match(value), value


def test_raw_html_is_escaped_text() -> None:
    out = render("<script>alert(1)</script>\n\nhi <b>bold</b> <iframe src='https://evil'></iframe>",
                 where="t")
    assert_safe(out)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;b&gt;bold&lt;/b&gt;" in out
    assert "&lt;iframe" in out


def test_img_onerror_and_markdown_images_leave_only_text() -> None:
    out = render('<img src=x onerror="alert(1)">\n\n![the logo](https://evil.example/x.png "t") and '
                 "![ref img][r]\n\n[r]: https://evil.example/y.png\n", where="t")
    assert_safe(out)
    assert "evil.example" not in out
    assert "the logo" in out and "ref img" in out
    assert "&lt;img" in out


@pytest.mark.parametrize("target", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "&#106;avascript:alert(1)", "&#x6A;avascript:alert(1)",
    "java&#x09;script:alert(1)", "data:text/html;base64,PHNjcmlwdD4=", "vbscript:msgbox", "ftp://x/y",
    " javascript:alert(1)", "file:///etc/passwd",
])
def test_dangerous_links_become_text(target: str) -> None:
    for src in (f"[click me]({target})", f"[click me][x]\n\n[x]: {target}\n"):
        out = render(src, where="t")
        assert_safe(out)
        assert "click me" in out
        assert "<a " not in out
        assert "javascript" not in out.lower() and "data:" not in out and "&#" not in out


def test_relative_links_become_text_or_code() -> None:
    out = render("See [the guide](../x.md) and [](scripts/run.sh) and [a](x.md#part).", where="t")
    assert_safe(out)
    assert "<a " not in out
    assert "the guide" in out and "<code>scripts/run.sh</code>" in out and "x.md" not in out.replace(
        "scripts/run.sh", "")


def test_safe_links_are_kept() -> None:
    out = render("[site](https://example.com/a?b=1&c=2) [m](mailto:me@example.com) [f](#frag) "
                 "<https://auto.example/> <me@example.org>", where="t")
    assert_safe(out)
    hrefs = [a["href"] for t, a in tags(out) if t == "a"]
    assert hrefs == ["https://example.com/a?b=1&c=2", "mailto:me@example.com", "#frag",
                     "https://auto.example/", "mailto:me@example.org"]


def test_headings_shift_down_without_ids() -> None:
    out = render("# One\n\n## Two\n\n### Three\n\n#### Four\n\n##### Five\n\n###### Six\n\nSetext\n===\n",
                 where="t")
    assert [t for t, _ in tags(out)] == ["h3", "h4", "h5", "h6", "h6", "h6", "h3"]
    assert " id=" not in out
    assert "<h1" not in out and "<h2" not in out


def test_fenced_code_is_escaped_and_loses_attributes() -> None:
    out = render('```{#evil .python .x onclick="alert(1)"}\n</code></pre><script>x</script>\n```\n\n'
                 "```bash\necho `hi` | tr a b\n```\n", where="t")
    assert_safe(out)
    assert '<pre><code class="language-python">&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;' in out
    assert '<pre><code class="language-bash">echo `hi` | tr a b' in out


def test_tables_and_lists_render() -> None:
    out = render("| a | b |\n|:--|--:|\n| `x|y` | <u> |\n\n3. three\n4. four\n\n- x\n- y\n", where="t")
    assert_safe(out)
    names = [t for t, _ in tags(out)]
    assert "table" in names and "th" in names and "ol" in names and "ul" in names
    assert ("ol", {"start": "3"}) in tags(out)
    assert "&lt;u&gt;" in out


def test_entities_and_odd_input_do_not_break_out() -> None:
    for src in ("&lt;script&gt; &#60;script&#62;", "\x00\x02wzxhzdk:0\x03 text", "[x](<javascript:a>)",
                "<!-- comment --><?php echo 1 ?>", "<div markdown=1>*x*</div>", "`<script>`",
                "[a](https://x.example \"t\" onclick=alert(1))", "](javascript:x)"):
        out = render(src, where="t")
        assert_safe(out)


def test_pathological_nesting_falls_back_to_plain_text(caplog: pytest.LogCaptureFixture) -> None:
    src = ">" * 5000 + " deep <script>"
    out = render(src, where="skill/deep")
    assert_safe(out)
    assert "deep &lt;script&gt;" in out
    # the converter is reset and still works afterwards
    assert render("*ok*", where="t") == "<p><em>ok</em></p>"


def test_converter_state_does_not_leak_between_bodies() -> None:
    render("[a][r]\n\n[r]: https://one.example/\n", where="a")
    out = render("[a][r]", where="b")
    assert "one.example" not in out


def corpus_bodies() -> list[tuple[str, str]]:
    if not CORPUS.is_dir():
        return []
    out = []
    for path in sorted(CORPUS.rglob("*.md")):
        rel = path.relative_to(CORPUS).as_posix()
        if path.name == "SKILL.md" or "/agents/" in rel or "/commands/" in rel:
            out.append((rel, frontmatter.parse(path.read_bytes(), rel).body))
    return out


def test_renders_every_corpus_body_safely() -> None:
    bodies = corpus_bodies()
    if not bodies:
        pytest.skip("corpus not available")
    assert len(bodies) > 300
    start = time.perf_counter()
    for rel, body in bodies:
        out = render(body, where=rel)
        assert_safe(out)
        assert 'class="sm-plain"' not in out, rel  # none of them needed the fallback
    print(f"rendered {len(bodies)} corpus bodies in {time.perf_counter() - start:.2f}s")

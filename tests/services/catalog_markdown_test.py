from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import pytest

from skillmeat.model import frontmatter
from skillmeat.services import catalog_markdown
from skillmeat.services.catalog_markdown import MAX_BODY_CHARS, WORK_BUDGET, render, work_estimate
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


# 50 KB of each: Python-Markdown takes quadratic time on most ("[" * 50000: about 270 s), and
# the estimate errs on the safe side for the rest (many unmatched "<", "`", "*"...). Markdown
# never runs on them: the plain-text fallback is chosen beforehand.
PATHOLOGICAL = ["[", "![", "[a](", "![a](", "[a][", '[a](b "x) ', "](", "<", "`", "*", "_", "&", "\\",
                "\\[", "*_", "*a* ", "`a` ", ">", "> - ", "# a\n", "#\n", "***\n", "---\n", "-\n",
                "=\n", "a\n=\n", "x\n-\n", "- \n", "a\n---\n", "> # a\n", "```a\n", "~~~a\n"]


@pytest.mark.parametrize("unit", PATHOLOGICAL)
def test_pathological_bodies_fall_back_to_plain_text_without_rendering(
        unit: str, monkeypatch: pytest.MonkeyPatch) -> None:
    body = unit * (50_000 // len(unit)) + "<script>x</script>"
    monkeypatch.setattr(catalog_markdown, "_converter", _no_markdown)  # a slow render would hang
    out = render(body, where="skill/slow")
    assert_safe(out)
    assert out.startswith('<p class="sm-note">Shown as plain text: this Markdown would take too long')
    assert '<pre class="sm-plain"><code>' in out
    assert out.endswith("&lt;script&gt;x&lt;/script&gt;</code></pre>")


def _no_markdown() -> None:
    raise AssertionError("Markdown must not run on this body")


def test_a_body_over_the_size_cap_is_cut_and_shown_as_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    body = "Hello *world*.\n\n" * (MAX_BODY_CHARS // 16) + "THE END <script>"
    monkeypatch.setattr(catalog_markdown, "_converter", _no_markdown)
    out = render(body, where="skill/huge")
    assert_safe(out)
    assert "longer than 256 KiB: its first 256 KiB are shown as plain text" in out
    assert 'class="sm-plain"' in out and "THE END" not in out
    assert out.count("Hello *world*.") == MAX_BODY_CHARS // 16


def ordinary_body(sections: int) -> str:
    """A long body of everything real skills hold: headings, prose with links and emphasis,
    lists, tables, code fences, reference links, a blockquote."""
    part = """## Step {i}: configure the *service*

Run `tool --flag={i}` and read [the guide](https://example.com/guide/{i}) or the
[reference][ref{i}]. **Important**: keep `config[{i}]` and `a_b_c` as they are; see
<https://example.com/{i}> & ask me@example.com.

- first item with `code` and a [link](https://example.com/{i}#part)
- second item (with parentheses) and an array `x[0][1]`
  - nested item, _emphasis_ and a trailing backslash \\
1. one
2. two

| Option | Default | Meaning |
|:--|:--|:--|
| `--retries` | 3 | how many times [to retry](https://example.com/r) |
| `--mode` | fast | *fast* or **safe** |

```python
def handler_{i}(event: dict[str, list[int]]) -> None:
    # a comment [not a link](x) and **not bold**
    print(event["items"][0], "<tag>", '&amp;')
```

> Note: `{i}` is just a number. *Really*.

[ref{i}]: https://example.com/ref/{i} "Reference {i}"

"""
    return "# Title\n\n" + "".join(part.format(i=i) for i in range(sections))


def test_ordinary_long_bodies_are_rendered_not_sent_to_the_fallback() -> None:
    body = ordinary_body(200)
    assert 150_000 < len(body) < MAX_BODY_CHARS
    assert work_estimate(body, WORK_BUDGET) < WORK_BUDGET // 2  # measured: about a fifth of a second
    out = render(body, where="skill/long")
    assert_safe(out)
    assert 'class="sm-plain"' not in out and out.count("<table>") == 200


def test_corpus_bodies_are_far_below_the_budget() -> None:
    bodies = corpus_bodies()
    if not bodies:
        pytest.skip("corpus not available")
    assert max(work_estimate(body, WORK_BUDGET) for _, body in bodies) < WORK_BUDGET // 8


def test_html_comments_are_dropped_outside_code() -> None:
    out = render("Intro <!-- TODO: hide --> text.\n\n<!--\nA draft\n\nparagraph.\n-->\n\n"
                 "- one\n<!-- between items -->\n- two\n\n"
                 "Show `<!-- in code -->` here.\n\n```html\n<!-- in a fence -->\n```\n\n"
                 "    <!-- indented code -->\n\nUnclosed <!-- stays\n", where="t")
    assert_safe(out)
    assert "TODO" not in out and "draft" not in out and "between items" not in out
    assert "<p>Intro  text.</p>" in out
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in out  # the list is not split
    assert "<code>&lt;!-- in code --&gt;</code>" in out
    assert "&lt;!-- in a fence --&gt;" in out and "&lt;!-- indented code --&gt;" in out
    assert "Unclosed &lt;!-- stays" in out
    assert "<p></p>" not in render("<!-- a --> <!-- b -->\n\nx", where="t")


def test_bidi_controls_are_dropped_from_bodies() -> None:
    out = render("Open abc\u202egnp.exe \u2066x\u2069 and `\u202dcode`; keep \u200d and \u200c.", where="t")
    assert not any(c in out for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert "abcgnp.exe" in out and "\u200d" in out and "\u200c" in out

"""An artifact's Markdown body as safe HTML, for embedding in a catalog page.

The body is untrusted (it may come from a marketplace), so the rendering is locked down:

* Raw HTML in the source is not HTML: the ``html_block`` preprocessor and the ``html``
  inline pattern are removed, so ``<script>`` comes out as the text ``&lt;script&gt;``.
* Links keep their ``href`` only for ``http:``, ``https:``, ``mailto:`` and ``#fragment``
  targets (checked after entities and control characters are decoded, the way a browser
  would see them). Any other link becomes plain text: a relative link to one of the
  artifact's own files (``../x.md``, which means nothing on the catalog site) shows its
  target in ``<code>`` when it has no text; ``javascript:``, ``data:`` and other schemes
  show their text only.
* Every image is replaced by its alt text: a catalog page never loads anything.
* Only a fixed set of elements and attributes survives (whatever an extension might add).
* Headings move down two levels (``h1`` -> ``h3``, capped at ``h6``) and carry no ids, so
  they sit under the page's own "Content" heading and stay out of the page's TOC.
* HTML comments (``<!-- TODO -->``) are dropped, not shown as text; inside code spans and
  code blocks they are code, and stay. Bidi embeddings, overrides and isolates (U+202A-202E,
  U+2066-2069), which reorder what is shown around them, are dropped everywhere.

Bounded time: Python-Markdown takes quadratic time on some inputs. ``"[" * 50000`` takes
minutes (every unclosed ``[`` scans to the end of its paragraph, three times), and so do
thousands of headings, rules or setext underlines in one block, unclosed fences, deep
nesting, or tens of thousands of emphasis or escape marks in one paragraph (each match
copies the paragraph). ``work_estimate`` adds up those costs, and the linear ones, in one
linear pass (estimated nanoseconds, weights measured); a body over ``WORK_BUDGET`` (about a
second), or longer than ``MAX_BODY_CHARS`` (then cut to that), is shown as escaped plain
text after a note saying why. Real bodies are far from both: the largest of the test
corpus (49 KB) is estimated at a twentieth of the budget.

Extensions: ``tables``, ``fenced_code`` (a fence's ``{#id .class}`` attributes are dropped,
only a ``language-*`` class is kept) and ``sane_lists``. Python-Markdown is imported on the
first call (CLI start-up), and one converter per thread is reused (``reset`` between
bodies), which matters for catalogs with thousands of artifacts.
"""

from __future__ import annotations

import html
import importlib
import logging
import re
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

log = logging.getLogger(__name__)

HEADING_SHIFT = 2
_AMP_SUBSTITUTE = "\x02amp\x03"  # markdown.util.AMP_SUBSTITUTE: an '&' the serializer keeps
_SAFE_HREF = re.compile(r"(?:https?://|mailto:|#)", re.IGNORECASE)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_TEXT_ALIGN = re.compile(r"text-align: ?(?:left|right|center);?")
_LANG_CLASS = re.compile(r'class="(language-[A-Za-z0-9_#.+-]{1,64})"')
_FENCED = re.compile(r"<pre[^>]*><code([^>]*)>(.*)</code></pre>\Z", re.DOTALL)
_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z0-9]+);\Z")
_HEADINGS = {f"h{n}": f"h{min(n + HEADING_SHIFT, 6)}" for n in range(1, 7)}
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_COMMENT_LINE = re.compile(r"^[ ]{0,3}<!--", re.MULTILINE)

MAX_BODY_CHARS = 256 * 1024
WORK_BUDGET = 1_000_000_000  # estimated nanoseconds: about a second of rendering
# Estimated nanoseconds per unit of each superlinear cost (Python-Markdown 3.11, measured):
SCAN_NS = 200  # one character scanned for the end of a link's [text] or (target)
SPLIT_NS = 20  # one character of a block, per line that splits it (heading, rule...)
INLINE_NS = 1  # one character of a block, per inline mark in it (each match copies the text)
FENCE_NS = 10  # one character after a line that opens a fence no line closes
FENCE_FOUND_NS = 1  # one character of the body, per fence found (the search starts over)
NEST_NS = 8  # one character of a block, per level of its deepest blockquote or list nesting
# ... and the linear work, which adds up on a body of many tiny blocks or lines:
BLOCK_NS = 30_000  # each block
LINE_NS = 25_000  # each line
_BLOCKS = re.compile(r"\n[ \t]*\n")
# lines the block parser takes off a block one at a time: headings, rules, setext underlines,
# reference definitions (also inside blockquotes); each time it copies and searches the rest
_SPLIT_LINE = re.compile(r"^[ \t>]*(?:#|\[[^\]\n]*\]:|=+[ \t]*$|-+[ \t]*$|(?:[-*_][ \t]*){3,}$)",
                         re.MULTILINE)
_FENCE_LINE = re.compile(r"^(`{3,}|~{3,})([^\n]*)$", re.MULTILINE)
_NESTING = re.compile(r"^[ \t]*(?:(?:>|(?:[-*+]|\d{1,9}[.)])(?=[ \t]))[ \t]*)+", re.MULTILINE)
_INLINE_MARK = re.compile(r"[\\`*_<&\[]|  \n")
_BRACKET = re.compile(r"[\[\]()]")
# Elements the enabled syntax produces, each with the attributes it may keep.
_ALLOWED: dict[str, frozenset[str]] = {
    **{tag: frozenset() for tag in (
        "div", "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "li", "blockquote", "pre", "code",
        "em", "strong", "b", "i", "span", "table", "thead", "tbody", "tr", "hr", "br")},
    "a": frozenset({"href", "title"}),
    "ol": frozenset({"start"}),
    "th": frozenset({"style", "align"}),
    "td": frozenset({"style", "align"}),
}
_local = threading.local()


def render(text: str, *, where: str) -> str:
    """``text`` (Markdown, untrusted) as safe HTML; ``where`` names it in a log message.

    Never raises on odd input, and takes bounded time: a body too long or too costly to
    render (see ``work_estimate``), or on which Python-Markdown fails (pathological nesting,
    say), comes back escaped in a ``<pre class="sm-plain">`` block, after a note.
    """
    text = _BIDI.sub("", text)
    if len(text) > MAX_BODY_CHARS:
        log.warning("%s: body shown as plain text (longer than %d characters)", where, MAX_BODY_CHARS)
        return _plain(text[:MAX_BODY_CHARS], f"This text is longer than {MAX_BODY_CHARS // 1024} KiB: "
                      f"its first {MAX_BODY_CHARS // 1024} KiB are shown as plain text. Get the whole "
                      "artifact with skillmeat.")
    if work_estimate(text, WORK_BUDGET) > WORK_BUDGET:
        log.warning("%s: body shown as plain text (its Markdown would take too long to render)", where)
        return _plain(text, "Shown as plain text: this Markdown would take too long to render.")
    md = _converter()
    try:
        return str(md.convert(text))
    except Exception as exc:  # a body must never break the whole catalog
        log.warning("%s: body shown as plain text (Markdown failed: %s)", where, exc)
        return _plain(text, "Shown as plain text: this Markdown could not be rendered.")
    finally:
        md.reset()


def _plain(text: str, note: str) -> str:
    return (f'<p class="sm-note">{html.escape(note, quote=False)}</p>\n'
            f'<pre class="sm-plain"><code>{html.escape(text, quote=False)}</code></pre>')


def work_estimate(text: str, limit: int) -> int:
    """Python-Markdown's superlinear work on ``text``, in estimated nanoseconds (see the
    ``*_NS`` weights); stops counting once past ``limit``. One linear pass."""
    total = _fence_cost(text) + LINE_NS * text.count("\n")
    for block in _BLOCKS.split(text):
        n = len(block)
        depth = max((len(p) - p.count(" ") - p.count("\t") for p in _NESTING.findall(block)), default=0)
        total += BLOCK_NS + n * (SPLIT_NS * len(_SPLIT_LINE.findall(block))
                                 + INLINE_NS * len(_INLINE_MARK.findall(block)) + NEST_NS * depth)
        if total > limit:
            return total
        total += SCAN_NS * _scan_cost(block, (limit - total) // SCAN_NS + 1)
        if total > limit:
            return total
    return total


def _fence_cost(text: str) -> int:
    """The fenced-code preprocessor's work: it searches the body from its start again after
    each fence, and from each opening line no later line closes, to the end of the body."""
    cost = 0
    end = len(text)
    closers: set[str] = set()  # fences that a later bare fence line would close
    for m in reversed(list(_FENCE_LINE.finditer(text))):
        fence = m.group(1)
        cost += FENCE_FOUND_NS * end if fence in closers else FENCE_NS * (end - m.start())
        if not m.group(2).strip(" "):
            closers.add(fence)
    return cost


def _scan_cost(block: str, limit: int) -> int:
    """Characters Python-Markdown's link processors scan in ``block``: from each ``[`` to its
    ``]`` (or to the end when it has none), and from each ``](`` to its ``)`` (to the end when
    there is none, or when a quote in it is not closed before it). Stops past ``limit``."""
    cost = 0
    end = len(block)
    squares: list[int] = []
    rounds: list[int] = []
    for m in _BRACKET.finditer(block):
        pos = m.start()
        c = block[pos]
        if c == "[":
            squares.append(pos)
        elif c == "]":
            if squares:
                cost += pos - squares.pop()
        elif c == "(":
            rounds.append(pos)
        elif rounds:
            start = rounds.pop()
            if start and block[start - 1] == "]":
                quoted = block.find('"', start, pos) >= 0 or block.find("'", start, pos) >= 0
                last = pos - 1
                while last > start and block[last] == " ":
                    last -= 1
                closed = block[last] in "\"'"
                cost += (end if quoted and not closed else pos) - start
        if cost > limit:
            return cost
    cost += sum(end - p for p in squares)
    cost += sum(end - p for p in rounds if p and block[p - 1] == "]")
    return cost


class _Safe:
    """The sanitizing tree processor (Python-Markdown only calls ``run``)."""

    def __init__(self, md: Any) -> None:
        self.md = md

    def run(self, root: Element) -> None:
        _sanitize_stash(self.md.htmlStash)
        _sanitize(root)


def _converter() -> Any:
    """This thread's converter (``markdown.Markdown``: the package has no type information)."""
    md = getattr(_local, "md", None)
    if md is None:
        md = _local.md = _build()
    return md


def _build() -> Any:
    markdown: Any = importlib.import_module("markdown")
    md = markdown.Markdown(extensions=["tables", "fenced_code", "sane_lists"], output_format="html")
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    # HTML comments: those starting a line go before block parsing (they may hold blank
    # lines), after fenced code is stashed (20 < 25); the others inside a block's text, after
    # code spans and backslash escapes (175 < 180), so `<!-- x -->` in code stays.
    md.preprocessors.register(_Comments(), "skillmeat_comments", 20)
    inline: Any = importlib.import_module("markdown.inlinepatterns")
    comment = type("_InlineComment", (inline.InlineProcessor,), {"handleMatch": _inline_comment})
    md.inlinePatterns.register(comment("<!--"), "skillmeat_comment", 175)
    # After 'unescape' (priority 0): hrefs are checked exactly as they will be written.
    md.treeprocessors.register(_Safe(md), "skillmeat_safe", -10)
    return md


class _Comments:
    """The preprocessor dropping HTML comments that start a line (up to 3 spaces in); lines
    holding nothing else go with them."""

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        out: list[str] = []
        pos = 0
        while (m := _COMMENT_LINE.search(text, pos)) is not None:
            end = text.find("-->", m.end())
            if end < 0:  # unclosed: shown as text, as is any later one
                break
            stop = text.find("\n", end + 3)
            stop = len(text) if stop < 0 else stop
            if text[end + 3:stop].strip():  # text follows on its last line: kept
                out.append(text[pos:m.end() - 4])
                pos = end + 3
            else:  # whole lines: gone, so a list or paragraph around them is not split
                out.append(text[pos:m.start()])
                pos = stop + 1
        if not out:
            return lines
        out.append(text[pos:])
        return "".join(out).split("\n")


def _inline_comment(self: Any, m: re.Match[str], data: str) -> tuple[str | None, int | None, int | None]:
    """``handleMatch`` of the inline comment processor: a closed comment becomes nothing."""
    end = data.find("-->", m.end())
    if end < 0:
        return None, None, None
    return "", m.start(), end + 3


def _sanitize_stash(stash: Any) -> None:
    """Stashed HTML (fenced code, entities) with nothing but a ``language-*`` class left."""
    blocks: list[Any] = stash.rawHtmlBlocks
    for i, block in enumerate(blocks):
        raw = block if isinstance(block, str) else ""
        if _ENTITY.match(raw):
            continue
        m = _FENCED.match(raw)
        if m:
            lang = _LANG_CLASS.search(m.group(1))
            cls = f' class="{lang.group(1)}"' if lang else ""
            blocks[i] = f"<pre><code{cls}>{m.group(2)}</code></pre>"
        else:
            blocks[i] = html.escape(raw if isinstance(block, str) else str(block), quote=False)


def _sanitize(root: Element) -> None:
    parents = {child: parent for parent in root.iter() for child in parent}
    empty: set[Element] = set()  # paragraphs that held nothing but comments
    for el in list(root.iter()):
        tag = el.tag
        if tag == "p" and not len(el) and not (el.text or "").strip() and not (el.tail or "").strip():
            empty.add(el)
            continue
        if tag == "img":
            _replace_with_text(el, parents[el], el.get("alt", ""))
            continue
        if tag == "a":
            _check_link(el)
            tag = el.tag
        if tag in _HEADINGS:
            el.tag = _HEADINGS[tag]
            el.attrib.clear()
            continue
        allowed = _ALLOWED.get(tag)
        if allowed is None:  # nothing the enabled syntax makes; kept as text
            el.tag, allowed = "span", frozenset()
        for key in list(el.attrib):
            if key not in allowed or not _attr_ok(key, el.attrib[key]):
                del el.attrib[key]
    for parent in {parents[el] for el in empty}:
        parent[:] = [child for child in parent if child not in empty]


def _attr_ok(key: str, value: str) -> bool:
    if key == "style":
        return bool(_TEXT_ALIGN.fullmatch(value))
    if key == "align":
        return value in ("left", "right", "center")
    if key == "start":
        return value.isdigit()
    return True  # href checked by _check_link; title is text


def _check_link(el: Element) -> None:
    raw = el.get("href", "")
    href = _CONTROL.sub("", html.unescape(raw.replace(_AMP_SUBSTITUTE, "&"))).strip()
    if _SAFE_HREF.match(href):
        el.set("href", href)
        return
    relative = not _SCHEME.match(href)
    has_text = bool((el.text or "").strip()) or len(el) > 0
    el.tag = "span"
    el.attrib.clear()
    if relative and href and not has_text:
        el.tag, el.text = "code", href


def _replace_with_text(el: Element, parent: Element, text: str) -> None:
    """Remove ``el``, leaving ``text`` (and its tail) where it was."""
    joined = text + (el.tail or "")
    index = list(parent).index(el)
    if index == 0:
        parent.text = (parent.text or "") + joined
    else:
        prev = parent[index - 1]
        prev.tail = (prev.tail or "") + joined
    parent.remove(el)

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

    Never raises on odd input: if Python-Markdown fails (pathological nesting, say), the
    text comes back escaped in a ``<pre>`` block.
    """
    md = _converter()
    try:
        return str(md.convert(text))
    except Exception as exc:  # a body must never break the whole catalog
        log.warning("%s: body shown as plain text (Markdown failed: %s)", where, exc)
        return f'<pre class="sm-plain"><code>{html.escape(text, quote=False)}</code></pre>'
    finally:
        md.reset()


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
    # After 'unescape' (priority 0): hrefs are checked exactly as they will be written.
    md.treeprocessors.register(_Safe(md), "skillmeat_safe", -10)
    return md


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
    for el in list(root.iter()):
        tag = el.tag
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

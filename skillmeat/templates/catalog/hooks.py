"""MkDocs hook of a SkillMeat catalog project: fills each artifact page's empty ``sm-slot``
blocks, in order, with the HTML parts in ``content/<page>.json`` (already safe HTML, written
by ``web build``) once Markdown has run, so they are never parsed again as Markdown or as
raw HTML."""

import json
import os
from typing import Any

SLOT = '<div class="sm-slot"></div>'


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    if SLOT not in html:
        return html
    root = os.path.dirname(config.config_file_path)
    path = os.path.join(root, "content", page.file.src_uri[: -len(".md")] + ".json")
    with open(path, encoding="utf-8") as fh:
        parts = json.load(fh)
    pieces = html.split(SLOT)
    out = [pieces[0]]
    for i, rest in enumerate(pieces[1:]):
        out.append(parts[i] if i < len(parts) else "")
        out.append(rest)
    return "".join(out)

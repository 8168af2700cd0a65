"""Inline SVG charts for the static catalog: no scripts, no external references.

Every chart is one ``<svg>`` element with a ``viewBox`` (so CSS can scale it), ``role="img"``
with an ``aria-label``, and ``<title>``/``<desc>`` children for assistive technology. Each bar
carries its own ``<title>`` (a hover tooltip without any script). Labels are XML-escaped and
stripped of characters XML cannot hold, so any text gives well-formed output. Numbers are
printed with a fixed precision, so the same data always gives the same bytes.

CSS hooks: ``sm-svg`` on the root, plus ``sm-bar-chart`` / ``sm-hbar-chart`` / ``sm-empty``,
and ``sm-bar``, ``sm-axis``, ``sm-grid``, ``sm-label``, ``sm-value``, ``sm-note`` inside.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

EMPTY_TEXT = "no usage recorded yet"
MAX_X_LABELS = 6
LABEL_CHARS = 34  # a horizontal chart's visible label; the bar's <title> holds all of it

# What XML 1.0 cannot hold at all, even escaped: most C0 controls, surrogates, U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"\s+")

_BAR_MARGIN = (12, 12, 30, 56)  # top, right, bottom, left
_HBAR_ROW = 24
_HBAR_WIDTH = 720
_HBAR_LABEL = 250
_HBAR_VALUE = 70


def text(value: str) -> str:
    """``value`` as XML character data or attribute text: escaped, one line, only legal chars."""
    value = _SPACES.sub(" ", _NOT_XML.sub("", value)).strip()
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def _num(x: float) -> str:
    """A coordinate with at most one decimal, without a trailing ``.0``."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _clip(label: str, limit: int) -> str:
    label = _SPACES.sub(" ", label).strip()
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _open(kind: str, width: int, height: int, title: str, desc: str) -> list[str]:
    t = text(title)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sm-svg {kind}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{t}" preserveAspectRatio="xMinYMin meet">',
        f"<title>{t}</title>",
        f"<desc>{text(desc)}</desc>",
    ]


def empty_chart(*, title: str, width: int = 720, height: int = 120, note: str = EMPTY_TEXT) -> str:
    """A chart frame saying ``note``: the empty state still shows a chart element."""
    out = _open("sm-empty", width, height, title, note)
    out.append(f'<rect class="sm-frame" x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" '
               'fill="none" stroke="currentColor" stroke-opacity="0.25"/>')
    out.append(f'<text class="sm-note" x="{_num(width / 2)}" y="{_num(height / 2)}" '
               f'text-anchor="middle" dominant-baseline="middle" fill="currentColor">{text(note)}</text>')
    out.append("</svg>")
    return "".join(out)


def _x_label_indexes(n: int) -> list[int]:
    """At most ``MAX_X_LABELS`` evenly spread indexes, always the first and the last."""
    if n <= MAX_X_LABELS:
        return list(range(n))
    step = (n - 1) / (MAX_X_LABELS - 1)
    return sorted({round(i * step) for i in range(MAX_X_LABELS)})


def bar_chart(points: Sequence[tuple[str, int]], *, title: str, width: int = 720, height: int = 240) -> str:
    """Vertical bars (usage over time), oldest first: a few x labels, 0 and the maximum on y.

    Bar heights are proportional to the counts (negative counts count as 0). No points, or
    only zeros, give the "no usage recorded yet" chart.
    """
    counts = [max(0, int(c)) for _, c in points]
    top = max(counts, default=0)
    if top == 0:
        return empty_chart(title=title, width=width, height=max(80, height // 2))
    mt, mr, mb, ml = _BAR_MARGIN
    plot_w, plot_h = width - ml - mr, height - mt - mb
    base = mt + plot_h
    n = len(counts)
    slot = plot_w / n
    bar_w = max(slot * 0.8, 0.5) if n > 1 else min(plot_w, 60.0)
    gap = (slot - bar_w) / 2
    total = sum(counts)
    desc = (f"{n} periods from {_clip(points[0][0], 40)} to {_clip(points[-1][0], 40)}; "
            f"{total} in all, at most {top} in one period")
    out = _open("sm-bar-chart", width, height, title, desc)
    out.append(f'<line class="sm-grid" x1="{ml}" y1="{mt}" x2="{width - mr}" y2="{mt}" '
               'stroke="currentColor" stroke-opacity="0.15"/>')
    out.append(f'<line class="sm-axis" x1="{ml}" y1="{base}" x2="{width - mr}" y2="{base}" '
               'stroke="currentColor" stroke-opacity="0.5"/>')
    out.append(f'<text class="sm-value" x="{ml - 6}" y="{mt}" text-anchor="end" '
               f'dominant-baseline="middle" fill="currentColor">{top}</text>')
    out.append(f'<text class="sm-value" x="{ml - 6}" y="{base}" text-anchor="end" '
               'dominant-baseline="middle" fill="currentColor">0</text>')
    out.append('<g class="sm-bars" fill="currentColor">')
    for i, ((label, _), count) in enumerate(zip(points, counts, strict=True)):
        h = plot_h * count / top
        x = ml + i * slot + gap
        out.append(f'<rect class="sm-bar" x="{_num(x)}" y="{_num(base - h)}" width="{_num(bar_w)}" '
                   f'height="{_num(h)}"><title>{text(label)}: {count}</title></rect>')
    out.append("</g>")
    for i in _x_label_indexes(n):
        cx = ml + i * slot + slot / 2
        anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
        if anchor == "start":
            cx = ml + i * slot + gap
        elif anchor == "end":
            cx = ml + i * slot + gap + bar_w
        out.append(f'<text class="sm-label" x="{_num(cx)}" y="{base + 18}" text-anchor="{anchor}" '
                   f'fill="currentColor">{text(_clip(points[i][0], 16))}</text>')
    out.append("</svg>")
    return "".join(out)


def hbar_chart(rows: Sequence[tuple[str, int]], *, title: str) -> str:
    """Horizontal bars (top artifacts), in the order given: a label and the count beside each bar.

    Bar lengths are proportional to the counts. No rows, or only zeros, give the empty chart.
    """
    counts = [max(0, int(c)) for _, c in rows]
    top = max(counts, default=0)
    if top == 0:
        return empty_chart(title=title, width=_HBAR_WIDTH)
    width = _HBAR_WIDTH
    height = _HBAR_ROW * len(rows) + 8
    bar_x = _HBAR_LABEL
    bar_max = width - _HBAR_LABEL - _HBAR_VALUE
    desc = f"{len(rows)} rows, the largest {top}"
    out = _open("sm-hbar-chart", width, height, title, desc)
    for i, ((label, _), count) in enumerate(zip(rows, counts, strict=True)):
        y = 4 + i * _HBAR_ROW
        mid = y + _HBAR_ROW / 2
        w = bar_max * count / top
        out.append(f'<text class="sm-label" x="{bar_x - 8}" y="{_num(mid)}" text-anchor="end" '
                   f'dominant-baseline="middle" fill="currentColor">{text(_clip(label, LABEL_CHARS))}</text>')
        out.append(f'<rect class="sm-bar" x="{bar_x}" y="{y + 3}" width="{_num(w)}" height="{_HBAR_ROW - 6}" '
                   f'fill="currentColor"><title>{text(label)}: {count}</title></rect>')
        out.append(f'<text class="sm-value" x="{_num(bar_x + w + 6)}" y="{_num(mid)}" '
                   f'dominant-baseline="middle" fill="currentColor">{count}</text>')
    out.append("</svg>")
    return "".join(out)

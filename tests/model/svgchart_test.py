from __future__ import annotations

import xml.etree.ElementTree as ET

from skillmeat.model.svgchart import EMPTY_TEXT, bar_chart, hbar_chart, text

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "</svg><script>alert(1)</script>\"' & \x00\x1b\ud800"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def bars(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter(f"{NS}rect") if "sm-bar" in e.get("class", "").split()]


def test_bar_chart_is_accessible_scalable_svg() -> None:
    svg = bar_chart([("2024-01-01", 3), ("2024-01-02", 0), ("2024-01-03", 6)], title="Usage")
    root = parse(svg)
    assert root.get("viewBox") == "0 0 720 240"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Usage"
    assert root.find(f"{NS}title") is not None and root.find(f"{NS}title").text == "Usage"  # type: ignore[union-attr]
    assert root.find(f"{NS}desc") is not None
    assert "sm-bar-chart" in (root.get("class") or "")
    assert "<script" not in svg and "href" not in svg and "http://" not in svg.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def test_bar_heights_are_proportional() -> None:
    root = parse(bar_chart([("a", 2), ("b", 4), ("c", 1), ("d", 0)], title="t"))
    heights = [float(b.get("height", "")) for b in bars(root)]
    assert len(heights) == 4
    assert heights[1] > 0
    assert abs(heights[0] / heights[1] - 0.5) < 0.01
    assert abs(heights[2] / heights[1] - 0.25) < 0.01
    assert heights[3] == 0
    # bottoms line up on the baseline
    bottoms = {round(float(b.get("y", "")) + float(b.get("height", "")), 1) for b in bars(root)}
    assert len(bottoms) == 1
    # the y axis is labelled with the maximum
    values = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "sm-value"]
    assert "4" in values and "0" in values
    # each bar tells its value in a tooltip
    assert [b.find(f"{NS}title").text for b in bars(root)] == ["a: 2", "b: 4", "c: 1", "d: 0"]  # type: ignore[union-attr]


def test_bar_chart_shows_a_few_x_labels() -> None:
    points = [(f"2024-01-{d:02d}", d) for d in range(1, 31)]
    root = parse(bar_chart(points, title="30 days"))
    labels = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "sm-label"]
    assert 2 <= len(labels) <= 6
    assert labels[0] == "2024-01-01" and labels[-1] == "2024-01-30"
    assert len(bars(root)) == 30


def test_empty_and_all_zero_say_no_usage() -> None:
    for svg in (bar_chart([], title="Usage"), bar_chart([("a", 0), ("b", 0)], title="Usage"),
                hbar_chart([], title="Top")):
        root = parse(svg)
        assert EMPTY_TEXT in "".join(root.itertext())
        assert root.get("viewBox") and root.get("role") == "img"
        assert not bars(root)


def test_hostile_labels_are_escaped() -> None:
    svg = bar_chart([(HOSTILE, 1), ("b", 2)], title=HOSTILE)
    root = parse(svg)
    assert "<script" not in svg and "</svg><" not in svg
    assert "&lt;/svg&gt;&lt;script&gt;" in svg
    assert root.get("aria-label", "").startswith("</svg><script>")
    svg = hbar_chart([(HOSTILE, 5)], title=HOSTILE)
    root = parse(svg)
    assert "<script" not in svg
    assert len(list(root.iter(f"{NS}svg"))) == 1


def test_hbar_lengths_are_proportional_with_labels_and_counts() -> None:
    rows = [("skill/alpha", 10), ("command/plugin:beta", 5), ("agent/" + "x" * 80, 1)]
    root = parse(hbar_chart(rows, title="Top artifacts"))
    widths = [float(b.get("width", "")) for b in bars(root)]
    assert abs(widths[1] / widths[0] - 0.5) < 0.01
    assert abs(widths[2] / widths[0] - 0.1) < 0.01
    labels = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "sm-label"]
    assert labels[:2] == ["skill/alpha", "command/plugin:beta"]
    assert labels[2] is not None and labels[2].endswith("…") and len(labels[2]) <= 34
    values = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "sm-value"]
    assert values == ["10", "5", "1"]
    # the full label stays in the tooltip
    assert bars(root)[2].find(f"{NS}title").text == "agent/" + "x" * 80 + ": 1"  # type: ignore[union-attr]
    h = int(root.get("height", ""))
    assert root.get("viewBox") == f"0 0 720 {h}"


def test_output_is_deterministic() -> None:
    points = [(f"d{i}", (i * 7) % 11) for i in range(40)]
    assert bar_chart(points, title="t") == bar_chart(list(points), title="t")
    assert hbar_chart(points[:10], title="t") == hbar_chart(points[:10], title="t")


def test_text_escapes_and_drops_illegal_characters() -> None:
    assert text("a<b>&\"'\x00\n c") == "a&lt;b&gt;&amp;&quot;&#39; c"

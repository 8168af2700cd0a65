from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from skillmeat.model.catalog import (
    Analytics,
    Catalog,
    CatalogArtifact,
    CatalogCollection,
    CatalogFile,
    CatalogMarket,
    CatalogMcp,
    Change,
    Cleanup,
    MarketEntry,
    McpHealth,
    TopArtifact,
    UsagePoint,
)
from skillmeat.services import catalog_pages
from skillmeat.services.catalog_pages import code, md, rel, write_project
from tests.helpers import REPO_ROOT

MKDOCS = REPO_ROOT / ".venv" / "bin" / "mkdocs"
SCRIPT = "<script>alert('pwn')</script>"
# Hostile text: table pipes, raw HTML, backticks, Markdown links and emphasis, entities.
EVIL = (f"a | b {SCRIPT} `tick` ``two`` [link](javascript:alert(1)) *em* _u_ &amp; "
        "<img src=x onerror=alert(2)>")
OUR_SVG = '<svg xmlns="http://www.w3.org/2000/svg" class="sm-svg'  # not Material's icons
T0 = 1_700_000_000


def artifact(coll: str, kind: str, name: str, **kw: object) -> CatalogArtifact:
    ns = name.rpartition(":")[0]
    suffix = {"skill": "", "hook": ".toml", "mcp": ".toml"}.get(kind, ".md")
    a = CatalogArtifact(coll, f"{kind}/{name}", kind, name, ns, f"{kind}s/{name.replace(':', '/')}{suffix}")
    for key, value in kw.items():
        setattr(a, key, value)
    return a


BODY = """# Heading in the body

Some *markdown* with a [safe link](https://example.com/docs) and a [relative one](../x.md).

<script>alert("body")</script>
<iframe src="https://evil.example/"></iframe>
<img src="https://evil.example/t.png" onerror="alert(3)">

![tracker](https://evil.example/pixel.gif)

[bad](javascript:alert(4))

| col | `a|b` |
|-----|-------|
| 1   | 2     |

```python
print("</div><script>alert(5)</script>")
```
"""

TOML = '''description = "a hook </pre><script>alert(6)</script>"
[hooks]
PreToolUse = [{ matcher = "Bash", hooks = [{ type = "command", command = "echo `x` | tee" }] }]
'''


def synthetic() -> Catalog:
    files = [CatalogFile("SKILL.md", "skills/evil/SKILL.md", 1234, 0o100644, "ab" * 32),
             CatalogFile(f"scripts/{EVIL}.sh", "skills/evil/scripts/x.sh", 5 * 1024 * 1024, 0o100755,
                         "cd" * 32)]
    team = CatalogCollection(
        "team", description=f"Team collection {EVIL}", version="1.2.0", license="MIT | <b>x</b>",
        maintainers=["Ann <ann@example.com>", EVIL], head="f" * 40, head_signature="verified",
        head_signature_detail=f"signed by {EVIL}",
        changes=[Change("a" * 40, f"Add things {EVIL}", f"Ann {SCRIPT}", T0 + 100),
                 Change("b" * 40, "Older change", "Bob", T0)],
        artifacts=[
            artifact("team", "skill", "evil", description=EVIL + " " + "long " * 60, version="1.0 | x",
                     tags=["a|b", SCRIPT, "`t`"], license="MIT", body=BODY, files=files,
                     content_hash="sha256:" + "e" * 64,
                     upstream={"source": "https://github.com/x/y.git", "path": "skills/evil", "ref": "main"},
                     source="https://github.com/x/y.git", resolved="c" * 40,
                     signature="unverified", signature_detail=EVIL, last_changed=T0,
                     install={"skillmeat": [f"skillmeat add https://github.com/x/y --name 'e`v|il' {SCRIPT}"],
                              "claude": ["/plugin marketplace add https://github.com/x/y",
                                         "/plugin install team@team"]}),
            artifact("team", "skill", "plain", description="A plain skill.", body="Just *text*."),
            artifact("team", "command", "tools:review", description=f"Namespaced `review` {EVIL}",
                     body="Review $ARGUMENTS carefully.\n\n## Steps\n\n1. one\n2. two\n"),
            artifact("team", "agent", "helper", description="", body=""),
            artifact("team", "agent", "my_tool.v2-x", description="_markdown_ specials in the name",
                     body="x"),
            artifact("team", "hook", "guard", description="guards", body=TOML),
            artifact("team", "mcp", "files", description="filesystem server",
                     body='command = "npx"\nargs = ["-y", "server-filesystem", "</pre>"]\n'),
        ])
    empty = CatalogCollection("empty", description="", head="")
    solo = CatalogCollection("solo", description="one command", head="d" * 40, head_signature="unsigned",
                             artifacts=[artifact("solo", "command", "p:q:r", description="deep namespace")])
    mcp = [CatalogMcp("team", "files", f"Files {EVIL}", "stdio", f"npx -y srv `rm -rf` | {SCRIPT}",
                      ["API_KEY", "A|B"],
                      McpHealth("healthy", f"ok {EVIL}", T0, 12.5, f"srv {SCRIPT}", "1.0", "2025-06-18")),
           CatalogMcp("team", "remote", "", "http", f"https://mcp.example.com/x?a=1&b=2|{SCRIPT}", [],
                      McpHealth("timeout", "no answer", T0, None)),
           CatalogMcp("solo", "never", "", "stdio", "srv", [], None)]
    analytics = Analytics(
        days=7, usage=[UsagePoint(f"2024-01-0{i}", c) for i, c in enumerate([0, 3, 1, 7, 2, 0, 5], 1)],
        top=[TopArtifact("skill/evil", 9, T0), TopArtifact(f"command/{SCRIPT}", 4, T0)],
        cleanup=[Cleanup("agent/helper", f"never used {EVIL}")])
    markets = [
        CatalogMarket("main", "feed", "https://feeds.example.com/feed.json", True, f"signed by {EVIL}",
                      [MarketEntry("main", "feed", f"pkg {SCRIPT}", "1.0", "skill", EVIL, True, "published",
                                   "Ann"),
                       MarketEntry("main", "feed", "other", "2.0", "command", "x", False, "yanked", EVIL)]),
        CatalogMarket(f"odd {SCRIPT}", "git", f"git@example.com:{EVIL}", False, "no trusted key"),
    ]
    return Catalog(f"Catalog {EVIL}", "2024-01-08T00:00:00Z", [team, empty, solo], mcp, analytics, markets)


class Scan(HTMLParser):
    """Scripts (attributes and inline text) and active attributes of a built page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.bad: list[tuple[str, str, str | None]] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append((dict(attrs), ""))
            self.in_script = True
        if tag in ("iframe", "object", "embed", "img"):
            self.bad.append((tag, "", None))
        for key, value in attrs:
            if key.startswith("on") or "evil.example" in (value or "") or (key in ("href", "src") and value
                                        and re.sub(r"\s", "", value).lower().startswith(("javascript:",
                                                                                          "data:"))):
                self.bad.append((tag, key, value))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)


def scan(page: Path) -> Scan:
    s = Scan()
    s.feed(page.read_text("utf-8"))
    s.close()
    return s


def mkdocs_build(project: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    cmd = [str(MKDOCS), "build", "--strict", "-f", str(project / "mkdocs.yml"), "-d", str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)


def test_filters_escape_for_markdown_and_html() -> None:
    assert md("a|b <x> & *y* `z` [l](u)\n# h") == r"a\|b &lt;x&gt; &amp; \*y\* \`z\` \[l\]\(u\) \# h"
    assert code("x | `y` <z>") == r"<code>x \| \`y\` &lt;z&gt;</code>"
    assert rel("artifacts/c/skill/p/n.md", "collections/c.md") == "../artifacts/c/skill/p/n.md"
    assert rel("collections/c.md", "artifacts/c/skill/p/n.md") == "../../../../collections/c.md"
    assert rel("mcp.md", "index.md") == "mcp.md"
    assert catalog_pages.size(512) == "512 B" and catalog_pages.size(1536) == "1.5 KiB"
    assert catalog_pages.size(5 * 1024 * 1024) == "5.0 MiB" and catalog_pages.size(300 * 1024) == "300 KiB"
    assert catalog_pages.mode(0o100755) == "executable" and catalog_pages.mode(0o100644) == "file"
    assert catalog_pages.when(0) == "unknown" and catalog_pages.when(T0) == "2023-11-14 22:13 UTC"
    assert catalog_pages.url("https://x.example/a?b=1&c|d") == (
        r'<a href="https://x.example/a?b=1&amp;c&#124;d">https://x\.example/a?b=1&amp;c\|d</a>')
    assert catalog_pages.type_counts({"mcp": 2, "skill": 1, "agent": 0}) == "1 skill, 2 MCP servers"
    assert catalog_pages.site_name("R&D <\"x\">") == "R and D ‹”x”›"
    assert catalog_pages.url("javascript:alert(1)") == r"<code>javascript:alert\(1\)</code>"


def test_write_project_layout(tmp_path: Path) -> None:
    cat = synthetic()
    n = write_project(cat, tmp_path)
    docs = tmp_path / "docs"
    assert n == 1 + 3 + 8 + 3
    assert (tmp_path / "mkdocs.yml").is_file()
    for name in ("index.md", "collections/team.md", "collections/empty.md", "mcp.md", "analytics.md",
                 "marketplace.md", "artifacts/team/skill/evil.md", "artifacts/team/command/tools/review.md",
                 "artifacts/solo/command/p/q/r.md", "assets/stylesheets/catalog.css",
                 "assets/javascripts/iframe-worker-shim.js"):
        assert (docs / name).is_file(), name
    coll = (docs / "collections" / "team.md").read_text()
    assert "(../artifacts/team/command/tools/review.md)" in coll
    art = (docs / "artifacts/team/command/tools/review.md").read_text()
    assert art.startswith("---\nsearch:\n  exclude: true\n")  # search: see web build
    assert "\n# tools:review\n" in art
    # the sections are HTML beside the docs, put into the page by the project's hook
    parts = json.loads((tmp_path / "content/artifacts/team/command/tools/review.json").read_text())
    assert len(parts) == 4 and 'href="../../../../collections/team.html"' in parts[0]
    assert all(SCRIPT not in part for part in parts)
    # the table rows of hostile values keep their column count
    row = next(line for line in coll.splitlines() if "evil.md" in line)
    assert len(re.findall(r"(?<!\\)\|", row)) == 5
    assert SCRIPT not in coll and SCRIPT not in art


@pytest.mark.skipif(not MKDOCS.exists(), reason="mkdocs is not installed in .venv")
def test_strict_mkdocs_build_of_hostile_catalog(tmp_path: Path) -> None:
    project, out = tmp_path / "project", tmp_path / "site"
    write_project(synthetic(), project)
    done = mkdocs_build(project, out)
    assert done.returncode == 0, done.stderr
    pages = sorted(out.rglob("*.html"))
    for name in ("index.html", "collections/team.html", "mcp.html", "analytics.html", "marketplace.html",
                 "artifacts/team/skill/evil.html", "artifacts/team/command/tools/review.html",
                 "artifacts/solo/command/p/q/r.html", "artifacts/team/hook/guard.html",
                 "artifacts/team/mcp/files.html"):
        assert (out / name).is_file(), name
    for page in pages:
        text = page.read_text("utf-8")
        s = scan(page)
        assert not s.bad, (page, s.bad)
        # only Material's own scripts: files from the site itself, or its inline code and JSON
        for attrs, body in s.scripts:
            src = attrs.get("src")
            assert src is None or not src.startswith(("http:", "https:", "//")), (page, attrs)
            assert "alert(" not in body and "pwn" not in body, (page, body[:200])
        assert "<script>alert" not in text, page
    evil = (out / "artifacts/team/skill/evil.html").read_text("utf-8")
    assert "&lt;script&gt;alert(" in evil  # shown as text
    assert "<h1 id=\"evil\">evil<a" in evil
    assert '<div class="sm-content">' in evil
    assert '<a href="https://example.com/docs">safe link</a>' in evil
    assert "relative one" in evil and 'href="../x.md"' not in evil
    analytics = (out / "analytics.html").read_text("utf-8")
    assert analytics.count('<figure class="sm-chart') == 2 and analytics.count(OUR_SVG) == 2
    assert 'class="sm-bar"' in analytics
    hook = (out / "artifacts/team/hook/guard.html").read_text("utf-8")
    assert "&lt;/pre&gt;&lt;script&gt;alert(6)" in hook
    # search finds the artifact by its name: the page title holds it
    assert "<title>tools:review" in (out / "artifacts/team/command/tools/review.html").read_text("utf-8")
    index = (out / "index.html").read_text("utf-8")
    assert 'href="collections/team.html"' in index and 'href="mcp.html"' in index
    tool = (out / "artifacts/team/agent/my_tool.v2-x.html").read_text("utf-8")
    assert "<title>my_tool.v2-x" in tool and ">my_tool.v2-x<a class=\"headerlink\"" in tool
    # the site title is inert where Material writes it unescaped
    assert "‹script›alert(’pwn’)‹/script›" in index
    mcp = (out / "mcp.html").read_text("utf-8")
    assert "never checked" in mcp and "sm-badge--healthy" in mcp and "12 ms" in mcp


@pytest.mark.skipif(not MKDOCS.exists(), reason="mkdocs is not installed in .venv")
def test_empty_catalog_builds_with_empty_states(tmp_path: Path) -> None:
    project, out = tmp_path / "project", tmp_path / "site"
    # one (empty) collection: mkdocs.yml.j2 writes an empty "Collections" nav section for none
    write_project(Catalog("Empty", "2024-01-01T00:00:00Z", [CatalogCollection("nothing")]), project)
    done = mkdocs_build(project, out)
    assert done.returncode == 0, done.stderr
    analytics = (out / "analytics.html").read_text("utf-8")
    assert "no usage recorded yet" in analytics and analytics.count(OUR_SVG) == 2
    assert "No marketplaces configured" in (out / "marketplace.html").read_text("utf-8")
    assert "No MCP servers" in (out / "mcp.html").read_text("utf-8")
    assert "holds no artifacts yet" in (out / "collections" / "nothing.html").read_text("utf-8")
    assert "No commits yet" in (out / "index.html").read_text("utf-8")


def big(n: int) -> Catalog:
    kinds = ("skill", "command", "agent", "hook", "mcp")
    arts = []
    for i in range(n):
        kind = kinds[i % 5]
        name = f"plug{i % 37}:item-{i:05d}" if i % 3 == 0 else f"item-{i:05d}"
        body = (f"# Item {i}\n\nDoes *thing* {i} with `code` and a [link](https://example.com/{i}).\n\n"
                "- one\n- two\n\n```sh\necho hi\n```\n") if kind in ("skill", "command", "agent") else (
                f'command = "srv{i}"\n')
        arts.append(artifact("big", kind, name, description=f"Artifact number {i} | does things",
                             version="1.0.0", tags=["t1", "t2"], body=body,
                             files=[CatalogFile("SKILL.md", "x", 100 + i, 0o100644, "ab" * 32)]))
    return Catalog("Big", "2024-01-01T00:00:00Z", [CatalogCollection("big", artifacts=arts, head="a" * 40)])


def test_write_project_for_2000_artifacts(tmp_path: Path) -> None:
    cat = big(2000)
    start = time.perf_counter()
    n = write_project(cat, tmp_path)
    took = time.perf_counter() - start
    print(f"\nwrite_project: 2,000 artifacts, {n} pages in {took:.2f}s", file=sys.stderr)
    assert n == 2000 + 1 + 4
    coll = (tmp_path / "docs" / "collections" / "big.md").read_text()
    assert coll.count("](../artifacts/big/") == 2000

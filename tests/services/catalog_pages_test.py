from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

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

MKDOCS = Path(sys.executable).parent / "mkdocs"  # a runtime dependency, beside this interpreter
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
    tables = json.loads((tmp_path / "content/collections/team.json").read_text())
    assert any('href="../artifacts/team/command/tools/review.html"' in t for t in tables)
    art = (docs / "artifacts/team/command/tools/review.md").read_text()
    assert art.startswith("---\nsearch:\n  exclude: true\n")  # search: see web build
    assert "\n# tools:review\n" in art
    # the sections are HTML beside the docs, put into the page by the project's hook
    parts = json.loads((tmp_path / "content/artifacts/team/command/tools/review.json").read_text())
    assert len(parts) == 4 and 'href="../../../../collections/team.html"' in parts[0]
    assert all(SCRIPT not in part for part in parts)
    # the table rows of hostile values keep their cells (HTML, escaped by autoescape)
    row = next(line for t in tables for line in t.splitlines() if "evil.html" in line)
    assert row.count("<td>") == 4
    assert SCRIPT not in coll and SCRIPT not in art and all(SCRIPT not in t for t in tables)


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
    tables = json.loads((tmp_path / "content/collections/big.json").read_text())
    assert sum(t.count('<a href="../artifacts/big/') for t in tables) == 2000


def test_shown_text_drops_bidi_controls_and_zero_width_spaces() -> None:
    """A description like "abc<RLO>gnp.exe" must not read "abcexe.png" on a page."""
    sneaky = "abc\u202egnp.exe \u2066x\u2069 \u200e\u200f\u061c\u202a\u202b\u202c\u202d z\u200bw\ufeff"
    assert catalog_pages.one_line(sneaky) == "abcgnp.exe x zw"
    assert md(sneaky) == r"abcgnp\.exe x zw" and code(sneaky) == r"<code>abcgnp\.exe x zw</code>"
    assert catalog_pages.trunc(sneaky) == "abcgnp.exe x zw"
    assert catalog_pages.pre("run \u202ex\u202c\n") == "<pre><code>run x</code></pre>"
    assert catalog_pages.one_line("lone \ud83c surrogate") == "lone surrogate"
    # joiners stay: emoji sequences and several scripts need them
    assert catalog_pages.one_line("\U0001f469\u200d\U0001f4bb \u0645\u200c\u06cc") == (
        "\U0001f469\u200d\U0001f4bb \u0645\u200c\u06cc")


def test_yaml_filter_writes_scalars_yaml_reads_back() -> None:
    import yaml

    for value in ("Team \U0001f389", "فريق", "チーム", 'q"uo\\te: #x', "tab\tnew\nline",
                  "c0\x01\x1f c1\x85\x9f del\x7f", "lone \ud83c", "nc \ufffe\uffff", "ls\u2028ps\u2029"):
        text = catalog_pages.yaml_str(value)
        assert "\\ud8" not in text and "\n" not in text
        text.encode("utf-8")  # no lone surrogate left
        back = yaml.safe_load(f"k: {text}\n")["k"]
        assert back == "".join(c for c in value if c.isprintable())  # the rest is dropped
    assert catalog_pages.yaml_str("Team \U0001f389") == '"Team \U0001f389"'


def _one_skill_catalog(title: str, names: list[str]) -> Catalog:
    colls = [CatalogCollection(name, description=f"{name} \u202ereversed", head="a" * 40,
                               artifacts=[artifact(name, "skill", "hello", description="Hi", body="# Hi")])
             for name in names]
    return Catalog(title, "2024-01-01T00:00:00Z", colls)


def test_emoji_rtl_and_cjk_titles_and_collection_names_build(tmp_path: Path) -> None:
    project, out = tmp_path / "project", tmp_path / "site"
    title = "Team \U0001f389 \u0641\u0631\u064a\u0642 \u30c1\u30fc\u30e0 \U0001f469\u200d\U0001f4bb"
    write_project(_one_skill_catalog(title, ["\U0001f389\u5718\u968a", "\u0641\u0631\u064a\u0642"]), project)
    config = (project / "mkdocs.yml").read_text("utf-8")
    assert f'site_name: "{title}"' in config and "\\ud83c" not in config
    done = mkdocs_build(project, out)
    assert done.returncode == 0, done.stderr
    index = (out / "index.html").read_text("utf-8")
    assert f"<title>{title}</title>" in index
    assert (out / "collections/\U0001f389\u5718\u968a.html").is_file()
    assert (out / "artifacts/\u0641\u0631\u064a\u0642/skill/hello.html").is_file()
    assert "\u202e" not in index
    assert "\u202e" not in (out / "collections/\u0641\u0631\u064a\u0642.html").read_text("utf-8")


def test_readme_and_index_pages_do_not_collide(tmp_path: Path) -> None:
    """MkDocs builds README.md as its directory's index.md: artifacts and collections named
    README or index (any case) get pages of their own, and --strict passes."""
    arts = [artifact("README", "skill", name, description=f"The {name} skill", body=f"Body of {name}.")
            for name in ("README", "index", "Index.v2", "tools:readme")]
    arts.append(artifact("README", "command", "INDEX", description="The INDEX command", body="Cmd."))
    cat = Catalog("Docs", "2024-01-01T00:00:00Z", [
        CatalogCollection("README", head="a" * 40, artifacts=arts),
        CatalogCollection("index", head="b" * 40)])
    assert [a.page() for a in arts] == [
        "artifacts/README/skill/_README.md", "artifacts/README/skill/_index.md",
        "artifacts/README/skill/Index.v2.md", "artifacts/README/skill/tools/_readme.md",
        "artifacts/README/command/_INDEX.md"]
    assert [c.page() for c in cat.collections] == ["collections/_README.md", "collections/_index.md"]
    assert [a.api_path() for a in arts[:2]] == ["api/artifacts/skill/README.json",
                                                "api/artifacts/skill/index.json"]
    project, out = tmp_path / "project", tmp_path / "site"
    write_project(cat, project)
    done = mkdocs_build(project, out)
    assert done.returncode == 0, done.stderr
    for a in arts:
        page = (out / a.page().replace(".md", ".html")).read_text("utf-8")
        assert f"Body of {a.name}." in page or "Cmd." in page, a.page()
    coll = (out / "collections/_README.html").read_text("utf-8")
    for a in arts:
        assert 'href="../' + a.page().replace(".md", ".html") + '"' in coll, a.page()
    assert (out / "collections/_index.html").is_file()
    assert 'href="collections/_README.html"' in (out / "index.html").read_text("utf-8")

"""``web build`` on hostile or odd collections, through the real CLI: skill files a browser
would run, bodies Python-Markdown is quadratic on, emoji and RTL titles, artifacts and
collections named README or index, HTML comments and bidi controls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

from tests.cli.runner import ok
from tests.helpers import git

MKDOCS = Path(sys.executable).parent / "mkdocs"


def _collection_dir(name: str) -> Path:
    return Path(os.environ["SKILLMEAT_HOME"]) / "collections" / name


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)


def _collection(name: str, files: dict[str, str | bytes]) -> Path:
    ok("collection", "create", name)
    root = _collection_dir(name)
    _write(root, files)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "hostile content", cwd=root)
    return root


def _skill(name: str, body: str, description: str = "A skill.") -> str:
    return f"---\nname: {name}\ndescription: {json.dumps(description)}\n---\n{body}"


def _strict(project: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([str(MKDOCS), "build", "--strict", "-q", "-f", str(project / "mkdocs.yml"),
                           "-d", str(out)], capture_output=True, text=True, env=env, check=False)


def test_skill_files_a_browser_would_run_are_not_served(tmp_path: Path) -> None:
    _collection("team", {
        "skills/webby/SKILL.md": _skill("webby", "Open helper.html.\n"),
        "skills/webby/helper.html": "<script>alert(document.domain)</script>",
        "skills/webby/assets/logo.svg": '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "skills/webby/Page.XHTML": "<html xmlns='http://www.w3.org/1999/xhtml'><script>x</script></html>",
        "skills/webby/data.xml": "<x/>",
        "skills/webby/scripts/run.py": "print('hi')\n",
        "skills/webby/notes.md": "notes\n",
    })
    site = tmp_path / "site"
    ok("web", "build", "-o", str(site), "--no-sign")
    root = site / ".well-known/agent-skills"
    index = json.loads((root / "index.json").read_text())
    [webby] = index["skills"]
    assert sorted(f["path"] for f in webby["files"]) == ["SKILL.md", "notes.md", "scripts/run.py"]
    for f in webby["files"]:
        assert (root / unquote(f["url"])).is_file()
    served = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert served == ["index.json", "webby/SKILL.md", "webby/notes.md", "webby/scripts/run.py"]
    # nowhere else on the site either; the artifact's own document still lists every file
    assert not list(site.rglob("helper.html")) and not list(site.rglob("logo.svg"))
    doc = json.loads((site / "api/artifacts/skill/webby.json").read_text())
    assert len(doc["files"]) == 7


def test_pathological_bodies_build_fast_as_plain_text(tmp_path: Path) -> None:
    """50 KB of '[' took Python-Markdown about 270 s; the build shows such bodies as text."""
    bodies = {"brackets": "[" * 50_000, "images": "![" * 25_000, "headings": "#\n" * 25_000,
              "setext": "=\n" * 25_000, "fences": "```a\n" * 10_000, "stars": "*_" * 25_000,
              "nested": ">" * 50_000, "escapes": "\\" * 50_000, "huge": "Hello *world*.\n\n" * 20_000}
    _collection("team", {f"skills/{name}/SKILL.md": _skill(name, body) for name, body in bodies.items()})
    site = tmp_path / "site"
    ok("web", "build", "-o", str(site), "--no-sign", "--strict")
    for name in bodies:
        page = (site / f"artifacts/team/skill/{name}.html").read_text("utf-8")
        assert 'class="sm-plain"' in page, name
    huge = (site / "artifacts/team/skill/huge.html").read_text("utf-8")
    assert "longer than 256 KiB" in huge
    assert "would take too long to render" in (site / "artifacts/team/skill/brackets.html").read_text()


def test_unicode_titles_and_readme_index_names_build_strict(tmp_path: Path) -> None:
    _collection("team", {
        "skills/README/SKILL.md": _skill("README", "The readme skill body.\n"),
        "skills/index/SKILL.md": _skill("index", "The index skill body.\n"),
        "commands/Index.md": "---\ndescription: An index command\n---\nThe index command body.\n",
    })
    _collection("README", {"skills/hello/SKILL.md": _skill("hello", "Hello body.\n")})
    title = "Team \U0001f389 \u0641\u0631\u064a\u0642 \u30c1\u30fc\u30e0"
    site, project = tmp_path / "site", tmp_path / "project"
    ok("web", "build", "-o", str(site), "--project", str(project), "--no-sign", "--strict",
       "--title", title)
    done = _strict(project, tmp_path / "strict")
    assert done.returncode == 0, done.stderr
    assert f"<title>{title}</title>" in (site / "index.html").read_text("utf-8")
    pages = {"artifacts/team/skill/_README.html": "The readme skill body.",
             "artifacts/team/skill/_index.html": "The index skill body.",
             "artifacts/team/command/_Index.html": "The index command body.",
             "artifacts/README/skill/hello.html": "Hello body."}
    for page, text in pages.items():
        assert text in (site / page).read_text("utf-8"), page
    team = (site / "collections/team.html").read_text("utf-8")
    assert 'href="../artifacts/team/skill/_README.html"' in team
    assert 'href="../artifacts/team/skill/_index.html"' in team
    assert "Hello body" not in team and (site / "collections/_README.html").is_file()
    assert 'href="collections/_README.html"' in (site / "index.html").read_text("utf-8")
    # the JSON API keeps the names as they are
    index = json.loads((site / "api/index.json").read_text())
    urls = {a["id"]: (a["url"], a["page"]) for a in index["artifacts"] if a["collection"] == "team"}
    assert urls["skill/README"] == ("artifacts/skill/README.json", "artifacts/team/skill/_README.html")
    assert (site / "api/artifacts/skill/index.json").is_file()


def test_comments_and_bidi_controls_are_not_shown(tmp_path: Path) -> None:
    body = ("Visible text. <!-- TODO: secret plan -->\n\n<!--\ndraft\n\nmore draft\n-->\n\n"
            "Use `<!-- kept in code -->` here.\n")
    skill_md = _skill("sneaky", body, "Invoice abc\u202egnp.exe").replace(
        "---\n", "---\nversion: \"1.0\u202e-beta\"\ntags: [\"a\u2066b\u2069\"]\n", 1)
    _collection("team", {"skills/sneaky/SKILL.md": skill_md, "skills/sneaky/read\u202etxt.exe": "x"})
    site = tmp_path / "site"
    ok("web", "build", "-o", str(site), "--no-sign")
    page = (site / "artifacts/team/skill/sneaky.html").read_text("utf-8")
    assert "Visible text." in page
    assert "secret plan" not in page and "draft" not in page and "&lt;!-- TODO" not in page
    assert "&lt;!-- kept in code --&gt;" in page
    assert "Invoice abcgnp.exe" in page and "1.0-beta" in page and "readtxt.exe" in page
    for control in "\u202e\u2066\u2069":
        assert control not in page
    collection = (site / "collections/team.html").read_text("utf-8")
    assert "Invoice abcgnp.exe" in collection and "\u202e" not in collection

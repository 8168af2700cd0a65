"""``web``: build the catalog of the examples through the real CLI, check what it wrote with
real tools (mkdocs --strict, jsonschema, ssh-keygen), serve it, deploy it to gh-pages."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from jsonschema import Draft202012Validator

from tests.cli.runner import ok, skillmeat
from tests.helpers import git

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PRINCIPAL = "me@example.com"


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """A collection of the examples, a trusted key, a served MCP health record and a local
    marketplace with a signed feed: everything the catalog shows."""
    ok("collection", "create", "team")
    ok("add", str(EXAMPLES), "--all")
    ok("keys", "generate", "--comment", PRINCIPAL)
    pub = tmp_path / "me.pub"
    pub.write_text(ok("keys", "export", "--public").out)
    ok("keys", "trust", str(pub), "--principal", PRINCIPAL)
    ok("marketplace", "add", "local", str(tmp_path / "market"), "--type", "feed")
    ok("publish", "pdf-summary", "--marketplace", "local", "--version", "1.0.0")
    ok("marketplace", "refresh", "local")
    project = tmp_path / "project"
    project.mkdir()
    ok("deploy", "pdf-summary", "review", "--project", str(project))
    return pub


def schema_validator(site: Path, name: str) -> Draft202012Validator:
    schema = json.loads((site / "api/schemas" / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_build_writes_pages_api_and_a_signed_feed(team: Path, tmp_path: Path) -> None:
    site, project = tmp_path / "site", tmp_path / "project-src"
    out = ok("web", "build", "-o", str(site), "--project", str(project)).out
    assert "Built the catalog of 8 artifact(s) in 1 collection(s)" in out
    assert f"Open {(site / 'index.html').as_uri()}" in out
    for page in ("index", "collections/team", "artifacts/team/skill/pdf-summary", "mcp", "analytics",
                 "marketplace", "artifacts/team/mcp/filesystem"):
        assert (site / f"{page}.html").is_file(), page
    html = (site / "artifacts/team/skill/pdf-summary.html").read_text()
    assert "pdf-summary" in html and "skillmeat -C team deploy pdf-summary --project ." in html
    assert "local" in (site / "marketplace.html").read_text()
    # the generated MkDocs project passes a strict build on its own, with the stock CLI
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    strict = subprocess.run([str(Path(sys.executable).parent / "mkdocs"), "build", "--strict", "-q",
                             "-f", str(project / "mkdocs.yml"), "-d", str(tmp_path / "strict")],
                            capture_output=True, text=True, env=env, check=False)
    assert strict.returncode == 0, strict.stderr
    # nothing in any page loads from the network
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text.replace('href="https://', "")), page
        assert "fonts.googleapis" not in text

    # the JSON API validates against its own schemas
    index = json.loads((site / "api/index.json").read_text())
    schema_validator(site, "index.schema.json").validate(index)
    assert {a["id"] for a in index["artifacts"]} >= {"skill/pdf-summary", "mcp/notes"} - {"mcp/notes"}
    artifact_schema = schema_validator(site, "artifact.schema.json")
    for entry in index["artifacts"]:
        doc = json.loads((site / "api" / entry["url"]).read_text())
        artifact_schema.validate(doc)
        assert doc["content_hash"] == entry["content_hash"]
    feed = (site / "api/feed.json").read_bytes()
    schema_validator(site, "feed.schema.json").validate(json.loads(feed))

    # api/feed.json verifies with ssh-keygen over the exact bytes of "signed"
    signed = feed[feed.index(b',"signed":') + len(b',"signed":'):-2]
    doc = json.loads(feed)
    assert doc["signed"]["format"] == "skillmeat-catalog-feed/1"
    sig = tmp_path / "feed.sig"
    sig.write_text(doc["signatures"][0]["sig"])
    signers = tmp_path / "allowed"
    signers.write_text(f"{PRINCIPAL} {team.read_text().strip()}\n")
    verify = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", PRINCIPAL,
                             "-n", "skillmeat-catalog", "-s", str(sig)], input=signed,
                            capture_output=True, check=False)
    assert verify.returncode == 0, verify.stderr
    # the marketplace's own feed is served verbatim: same bytes as the marketplace holds
    assert (site / "api/feeds/local.json").read_bytes() == (tmp_path / "market/feed.json").read_bytes()

    # the Agent Skills index: digests are those of the served files
    skills_root = site / ".well-known/agent-skills"
    skills = json.loads((skills_root / "index.json").read_text())
    schema_validator(site, "agent-skills.schema.json").validate(skills)
    assert {s["name"] for s in skills["skills"]} == {"pdf-summary", "commit-message"}
    for skill in skills["skills"]:
        served = (skills_root / unquote(skill["url"])).read_bytes()
        assert skill["digest"] == "sha256:" + hashlib.sha256(served).hexdigest()
        for f in skill["files"]:
            data = (skills_root / unquote(f["url"])).read_bytes()
            assert f["digest"] == "sha256:" + hashlib.sha256(data).hexdigest()
    committed = (EXAMPLES / "skills/pdf-summary/SKILL.md").read_bytes()
    assert (skills_root / "pdf-summary/SKILL.md").read_bytes() == committed


def test_mcp_page_shows_the_last_health_check(tmp_path: Path) -> None:
    ok("collection", "create", "team")
    ok("mcp", "add", "notes", "--description", "Demo notes", "--", sys.executable,
       str(EXAMPLES / "servers/notes_server.py"))
    site = tmp_path / "site"
    ok("web", "build", "-o", str(site))
    assert "never checked" in (site / "mcp.html").read_text()
    ok("mcp", "health", "notes", "--timeout", "30")
    ok("web", "build", "-o", str(site))
    html = (site / "mcp.html").read_text()
    assert "healthy" in html and "demo-notes" in html and "never checked" not in html


def test_rebuild_replaces_the_site_and_refuses_a_foreign_directory(tmp_path: Path) -> None:
    ok("collection", "create", "team")
    ok("add", str(EXAMPLES / "skills"), "--all")
    site = tmp_path / "site"
    ok("web", "build", "-o", str(site))
    (site / "stale.html").write_text("old")
    ok("web", "build", "-o", str(site))
    assert not (site / "stale.html").exists()  # replaced whole
    foreign = tmp_path / "docs"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep me")
    result = skillmeat("web", "build", "-o", str(foreign))
    assert result.code == 2 and result.err.count("\n") == 1
    assert "not a catalog built by SkillMeat" in result.err
    assert "Traceback" not in result.err
    assert sorted(p.name for p in foreign.iterdir()) == ["mine.txt"]
    missing = skillmeat("web", "build", "-o", str(site), "--collection", "nope")
    assert missing.code != 0 and "no collection named 'nope'" in missing.err
    assert (site / "index.html").is_file()  # the previous build is untouched
    unknown = skillmeat("web", "build", "-o", str(site), "--marketplace", "nope")
    assert unknown.code == 1 and unknown.err.count("hint") == 1 and "no marketplace 'nope'" in unknown.err


@contextlib.contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``skillmeat ARGS`` in the background until it prints its URL; stopped at the end."""
    with subprocess.Popen([sys.executable, "-m", "skillmeat", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            found = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            assert found, f"no URL in {line!r}"
            yield proc, found.group(1)
        finally:
            proc.terminate()
            proc.wait(timeout=15)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    ok("collection", "create", "team")
    ok("add", str(EXAMPLES), "--all")
    site = tmp_path / "site"
    ok("web", "build", "-o", str(site))
    with running("web", "start", str(site), "--port", "0") as (_, url):
        yield url, site


def test_start_serves_the_build_on_loopback(served: tuple[str, Path]) -> None:
    url, site = served
    with urllib.request.urlopen(url + "index.html", timeout=10) as resp:
        assert resp.status == 200 and b"team" in resp.read()
    with urllib.request.urlopen(url + "api/index.json", timeout=10) as resp:
        assert json.loads(resp.read())["collections"][0]["name"] == "team"
    with urllib.request.urlopen(url + ".well-known/agent-skills/index.json", timeout=10) as resp:
        assert resp.read() == (site / ".well-known/agent-skills/index.json").read_bytes()


def test_start_without_a_build_says_how_to_make_one(tmp_path: Path) -> None:
    result = skillmeat("web", "start", str(tmp_path / "nothing"), "--port", "0")
    assert result.code == 2 and "no built catalog" in result.err and "web build" in result.err


def test_dev_rebuilds_when_the_collection_changes(tmp_path: Path) -> None:
    ok("collection", "create", "team")
    ok("add", str(EXAMPLES / "skills"), "--all")
    site = tmp_path / "dev-site"
    with running("web", "dev", "-o", str(site), "--port", "0") as (_, url):
        with urllib.request.urlopen(url + "collections/team.html", timeout=10) as resp:
            page = resp.read().decode()
        assert "livereload" in page  # the reload script is injected when served by web dev
        assert "review" not in page
        ok("add", str(EXAMPLES), "--type", "command", "--all")  # a commit in the collection
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            built = site / "collections/team.html"
            page = built.read_text() if built.exists() else ""
            if "review" in page:
                break
            time.sleep(0.2)
        assert "review" in page, "web dev did not rebuild after the collection changed"


def test_doctor_passes_here() -> None:
    ok("collection", "create", "team")
    result = ok("web", "doctor")
    assert "FAIL" not in result.out and "mkdocs" in result.out and "pygit2" in result.out


def test_deploy_gh_pages_pushes_the_site(tmp_path: Path) -> None:
    ok("collection", "create", "team")
    ok("add", str(EXAMPLES / "skills"), "--all")
    remote = tmp_path / "pages.git"
    git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    collection = Path(os.environ["SKILLMEAT_HOME"]) / "collections" / "team"
    git("remote", "add", "origin", str(remote), cwd=collection)
    site = tmp_path / "site"
    ok("web", "build", "-o", str(site))
    before = git("status", "--porcelain", "--ignored", cwd=collection)
    out = ok("web", "deploy", "--gh-pages", "--site", str(site)).out
    assert "gh-pages" in out
    assert git("status", "--porcelain", "--ignored", cwd=collection) == before
    clone = tmp_path / "clone"
    git("clone", "-q", "-b", "gh-pages", str(remote), str(clone), cwd=tmp_path)
    assert (clone / ".nojekyll").is_file()
    assert (clone / "index.html").read_bytes() == (site / "index.html").read_bytes()
    assert (clone / ".well-known/agent-skills/index.json").is_file()
    again = ok("web", "deploy", "--gh-pages", "--site", str(site)).out
    assert "unchanged" in again.lower()
    shutil.rmtree(clone)


# --- hostile or odd input (from the adversarial review) --------------------------------------------


def _collection_dir(name: str = "team") -> Path:
    return Path(os.environ["SKILLMEAT_HOME"]) / "collections" / name


def _commit_all(name: str = "team") -> None:
    git("add", "-A", cwd=_collection_dir(name))
    git("commit", "-q", "-m", "edit", cwd=_collection_dir(name))


def _site_bytes(site: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file())


def test_origin_credentials_and_literal_mcp_values_are_never_published(tmp_path: Path) -> None:
    ok("collection", "create", "team")
    ok("add", str(EXAMPLES / "skills"), "--all")
    (_collection_dir() / "mcp").mkdir()
    (_collection_dir() / "mcp/api.toml").write_text(
        'command = "npx"\n[env]\nAPI_KEY = "sk-LITERALSECRET"\nTOKEN = "${TOKEN}"\n'
        '[headers]\nAuthorization = "Bearer HEADERSECRET"\n')
    _commit_all()
    git("remote", "add", "origin", "https://ada:ghp_TOKENSECRET@github.com/org/team.git",
        cwd=_collection_dir())
    site = tmp_path / "site"
    ok("web", "build", "-o", str(site), "--no-sign")
    everything = _site_bytes(site)
    for secret in (b"ghp_TOKENSECRET", b"ada:", b"sk-LITERALSECRET", b"HEADERSECRET"):
        assert secret not in everything, secret
    page = (site / "artifacts/team/mcp/api.html").read_text()
    assert "API_KEY" in page and "${TOKEN}" in page and "&lt;redacted&gt;" in page
    doc = json.loads((site / "api/artifacts/skill/pdf-summary.json").read_text())
    assert doc["install"]["skillmeat"][0] == (
        "skillmeat add https://github.com/org/team.git --type skill --name pdf-summary")


def test_uncached_marketplace_is_not_fetched(team: Path, tmp_path: Path) -> None:
    import functools
    import http.server
    import threading

    requests: list[str] = []

    class Log(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args: object) -> None:
            return

    handler = functools.partial(Log, directory=str(tmp_path / "market"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ok("marketplace", "add", "net", f"http://127.0.0.1:{server.server_address[1]}/feed.json",
           "--type", "feed")
        ok("marketplace", "refresh", "net")
        assert requests
        shutil.rmtree(Path(os.environ["SKILLMEAT_HOME"]) / "cache/marketplaces/net")
        requests.clear()
        ok("web", "build", "-o", str(tmp_path / "site"))
        assert requests == []  # the catalog shows what is cached; it never fetches
        page = (tmp_path / "site/marketplace.html").read_text()
        assert "no listings cached" in page and "signed feed, verified" in page  # local: cached
        assert not (Path(os.environ["SKILLMEAT_HOME"]) / "cache/marketplaces/net").exists()
    finally:
        server.shutdown()
        server.server_close()


def test_odd_output_project_and_site_url_are_refused_in_one_line(tmp_path: Path) -> None:
    ok("collection", "create", "team")
    ok("add", str(EXAMPLES / "skills"), "--all")
    (tmp_path / "afile").write_text("x")
    cases = [
        (["-o", str(tmp_path / "afile/sub")], "is a file"),
        (["-o", str(tmp_path / "s"), "--project", str(tmp_path / "s/p")], "overlap"),
        (["-o", str(tmp_path / "s"), "--project", str(tmp_path / "s")], "overlap"),
        (["-o", str(tmp_path / "s"), "--site-url", 'https://x.example/"><b>'], "not a plain http(s) URL"),
        (["-o", str(tmp_path / "s"), "--site-url", "javascript:alert(1)"], "not a plain http(s) URL"),
    ]
    for args, message in cases:
        result = skillmeat("web", "build", *args)
        assert result.code == 2 and message in result.err and result.err.count("\n") == 1, (args, result)
    assert not (tmp_path / "s").exists()


def test_a_file_name_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    ok("collection", "create", "team")
    ok("add", str(EXAMPLES / "skills"), "--all")
    bad = os.fsencode(_collection_dir() / "skills/pdf-summary") + b"/f\xffx.txt"
    with open(bad, "wb") as fh:
        fh.write(b"x")
    _commit_all()
    result = skillmeat("web", "build", "-o", str(tmp_path / "s"))
    assert result.code == 2 and result.err.count("\n") == 1 and "not UTF-8" in result.err
    assert not (tmp_path / "s").exists()


def test_an_interrupt_between_the_renames_puts_the_old_site_back(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from skillmeat.services import catalog

    out, staged = tmp_path / "site", tmp_path / "stage/site"
    out.mkdir()
    (out / "index.html").write_text("old")
    staged.mkdir(parents=True)
    (staged / "index.html").write_text("new")
    real = Path.rename
    calls = []

    def rename(self: Path, target: Path) -> Path:
        calls.append(self)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        catalog._swap(staged, out)
    assert (out / "index.html").read_text() == "old"

"""The GitHub Actions template that publishes a collection's catalog: its structure, and its own
``run:`` steps executed in bash against a real checkout of a collection. The template is rendered
with the collection's name (``skillmeat init --team`` writes it into the team repository)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from skillmeat.services.scaffold import render_workflow
from tests.cli.runner import ok
from tests.helpers import EXAMPLES, REPO_ROOT

WORKFLOW = REPO_ROOT / "skillmeat" / "templates" / "github-pages.yml"
SITE_URL = "https://example.github.io/team"
BIN = Path(sys.executable).parent


def workflow(name: str = "team") -> dict[Any, Any]:
    doc = yaml.safe_load(render_workflow(name))
    assert isinstance(doc, dict)
    return doc


def uses(job: dict[str, Any]) -> list[str]:
    return [s["uses"] for s in job["steps"] if "uses" in s]


def test_triggers_permissions_and_concurrency() -> None:
    doc = workflow()
    on = doc["on"] if "on" in doc else doc[True]  # YAML 1.1 reads a bare `on` key as true
    assert on["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in on
    assert doc["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert doc["concurrency"]["group"] == "pages"
    assert doc["concurrency"]["cancel-in-progress"] is False


def test_build_and_deploy_jobs() -> None:
    jobs = workflow()["jobs"]
    assert set(jobs) == {"build", "deploy"}
    build, deploy = jobs["build"], jobs["deploy"]
    assert uses(build) == ["actions/checkout@v4", "actions/setup-python@v5",
                           "actions/configure-pages@v5", "actions/upload-pages-artifact@v3"]
    checkout = build["steps"][0]
    assert checkout["with"]["fetch-depth"] == 0
    python = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["python-version"] == "3.12"
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages"))
    assert upload["with"]["path"] == "_site"
    script = "\n".join(s.get("run", "") for s in build["steps"])
    assert "pip install skillmeat" in script
    assert re.search(r'^skillmeat web build --collection team --site-url "\$SITE_URL/" -o _site$',
                     script, re.M)
    pages = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/configure-pages"))
    built = next(s for s in build["steps"] if "skillmeat web build" in s.get("run", ""))
    assert pages["id"] == "pages"
    assert built["env"]["SITE_URL"] == "${{ steps.pages.outputs.base_url }}"
    assert re.search(r"^skillmeat init \. --name team$", script, re.M)
    assert deploy["needs"] == "build"
    assert deploy["environment"] == {"name": "github-pages",
                                     "url": "${{ steps.deployment.outputs.page_url }}"}
    assert uses(deploy) == ["actions/deploy-pages@v4"]
    assert deploy["steps"][0]["id"] == "deployment"


def test_only_step_level_contexts() -> None:
    """``runner`` is not available in job- or workflow-level ``env``: only in steps."""
    doc = workflow()
    assert "env" not in doc
    for job in doc["jobs"].values():
        assert "runner." not in yaml.safe_dump(job.get("env", {}))
    expressions = re.findall(r"\$\{\{\s*([^}]*?)\s*\}\}", render_workflow("team"))
    assert set(expressions) == {"runner.temp", "steps.pages.outputs.base_url",
                                "steps.deployment.outputs.page_url"}
    for job in doc["jobs"].values():  # expressions go through env, never into a script
        assert all("${{" not in s.get("run", "") for s in job["steps"])


def test_the_template_keeps_github_expressions_and_names_the_collection() -> None:
    raw = WORKFLOW.read_text()
    rendered = render_workflow("acme-skills.v2")
    assert re.findall(r"\$\{\{.*?\}\}", rendered) == re.findall(r"\$\{\{.*?\}\}", raw.split("#>", 1)[1])
    assert "<@" not in rendered and "<#" not in rendered and "team" not in rendered
    script = "\n".join(s.get("run", "") for s in workflow("acme-skills.v2")["jobs"]["build"]["steps"])
    assert re.search(r"^skillmeat init \. --name acme-skills\.v2$", script, re.M)
    assert re.search(r"^skillmeat web build --collection acme-skills\.v2 ", script, re.M)


@pytest.mark.parametrize("name", ["team", "acme-skills"])
def test_run_steps_build_the_catalog_of_a_checkout(tmp_path: Path, name: str) -> None:
    # the collection's repository, as a team keeps it (made in the test's own home)
    ok("collection", "create", name)
    ok("add", str(EXAMPLES), "--all")
    source = Path(os.environ["SKILLMEAT_HOME"]) / "collections" / name
    checkout = tmp_path / "work" / "repo"  # what actions/checkout leaves (fetch-depth: 0)
    subprocess.run(["git", "clone", "-q", str(source), str(checkout)], check=True)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    github_env = tmp_path / "github_env"
    github_env.touch()
    for step in workflow(name)["jobs"]["build"]["steps"]:
        if "run" not in step:
            continue
        script = "\n".join(line for line in step["run"].splitlines()
                           if not re.match(r"\s*(python -m )?pip install", line))
        env = {k: v for k, v in os.environ.items() if k not in ("SKILLMEAT_HOME", "HOME")}
        env.update(PATH=f"{BIN}{os.pathsep}{env['PATH']}", RUNNER_TEMP=str(runner_temp),
                   GITHUB_ENV=str(github_env), GITHUB_WORKSPACE=str(checkout),
                   HOME=str(runner_temp / "default-home"))
        for key, value in step.get("env", {}).items():
            env[key] = (str(value).replace("${{ runner.temp }}", str(runner_temp))
                        .replace("${{ steps.pages.outputs.base_url }}", SITE_URL))
            assert "${{" not in env[key]
        assert "${{" not in script
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                              cwd=checkout, env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"step {step.get('name')!r} failed:\n{proc.stdout}\n{proc.stderr}"
    site = checkout / "_site"
    assert (site / "index.html").is_file()
    config = runner_temp / "skillmeat" / "config.toml"  # the throw-away home was used
    registered = tomllib.loads(config.read_text())["collections"]
    assert registered == {name: {"path": str(checkout)}}  # by its name, not the directory's
    assert name in (site / "index.html").read_text()
    assert subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=checkout,
                          capture_output=True, text=True, check=True).stdout == ""

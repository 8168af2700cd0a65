"""Helpers for the user-guide tests: build the guide, load its MkDocs hooks as modules."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tests.helpers import REPO_ROOT

DOCS = REPO_ROOT / "docs"
HOOKS = DOCS / "hooks"


def build_guide(site: Path, *, pythonpath: Path | None = None, prelude: str = "") -> Path:
    """``mkdocs build`` of the guide into ``site`` (not --strict: tests/docs_test.py is the
    strict one); ``prelude`` runs first in the same process, e.g. to add a command."""
    home = site.parent / "build-home"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", HOME=str(home), SKILLMEAT_HOME=str(home / "sm"))
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    code = (f"{prelude}\nfrom mkdocs.__main__ import cli\n"
            f"cli(['build', '-q', '-f', {str(REPO_ROOT / 'mkdocs.yml')!r}, '-d', {str(site)!r}])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=REPO_ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    return site


def load_hook(name: str) -> ModuleType:
    """docs/hooks/<name>.py as a module (as MkDocs loads it: registered in sys.modules)."""
    key = f"skillmeat_docs_hook_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, HOOKS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module

"""docs/troubleshooting.md: a hand-written entry per error class, a generated list of messages.

Every SkillmeatError subclass in the package (found by importing every module and walking
``__subclasses__``) needs its entry: heading, exit code, what it means, what to do. The
generated list comes from an AST scan; a raise planted in a synthetic module must show up
in it with its message and hint, rendered as the user reads them.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import skillmeat
from skillmeat.model.errors import SkillmeatError
from tests.docs.guide import DOCS, load_hook
from tests.helpers import REPO_ROOT

PAGE = DOCS / "troubleshooting.md"


def every_error_class() -> list[type[SkillmeatError]]:
    for info in pkgutil.walk_packages(skillmeat.__path__, "skillmeat."):
        if not info.name.endswith(".__main__"):
            importlib.import_module(info.name)

    def below(cls: type[SkillmeatError]) -> Iterator[type[SkillmeatError]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    return [SkillmeatError, *below(SkillmeatError)]


def entry(markdown: str, name: str) -> str | None:
    m = re.search(rf"^#{{2,4}} {name}\n(.*?)(?=^#{{1,4}} |\Z)", markdown, re.M | re.S)
    return m.group(1) if m else None


def test_every_error_class_has_a_hand_written_entry() -> None:
    markdown = PAGE.read_text()
    hook = load_hook("troubleshooting")
    classes = every_error_class()
    assert len(classes) >= 14
    sites = hook.scan_package(REPO_ROOT / "skillmeat", {c.__name__: c for c in classes})
    missing, wrong = [], []
    for cls in classes:
        body = entry(markdown, cls.__name__)
        if body is None:
            missing.append(f"{cls.__module__}.{cls.__name__}")
            continue
        needed = [f"Exit code **{cls.exit_code}**", "**What it means.**", "**What to do.**"]
        if not any(s.error == cls.__name__ for s in sites):
            needed.append("not raised directly")  # abstract-only classes must say so
        wrong += [f"{cls.__name__}: lacks {n!r}" for n in needed if n not in body]
        parent = cls.__mro__[1].__name__
        if cls is not SkillmeatError and parent != "SkillmeatError" and f"A kind of [{parent}]" not in body:
            wrong.append(f"{cls.__name__}: does not say it is a kind of {parent}")
        if f"[{cls.__name__}](#{cls.__name__.lower()})" not in markdown:
            wrong.append(f"{cls.__name__}: not in the summary table")
    assert not missing, f"no entry in docs/troubleshooting.md for {missing}"
    assert not wrong, wrong


def test_a_planted_raise_site_is_listed_with_its_message_and_hint(tmp_path: Path) -> None:
    planted = tmp_path / "pkg" / "planted.py"
    planted.parent.mkdir()
    planted.write_text('''\
from skillmeat.model.errors import ConfigError, ConflictError, NotFoundError
from skillmeat.services.feedcheck import FeedError

WIDGETS = "widgets.toml"


def find(name, where):
    if not name:
        raise ValueError("not a user-facing error")
    raise NotFoundError(f"no widget '{name}' in {where}", hint="list them with `skillmeat widgets`")


def load(path):
    raise ConfigError(str(path), f"{WIDGETS} has no [widget] table", hint="add one")


def later(n):
    problem = ConflictError(f"{n} widgets " + "changed" if n else "none changed")
    return problem


def feed(where):
    raise FeedError(where, "expired widget feed")
''')
    hook = load_hook("troubleshooting")
    classes = hook.error_classes()
    sites = {(s.error, s.message, s.hint, s.where) for s in hook.scan([planted], classes, tmp_path)}
    assert sites == {
        ("NotFoundError", "no widget '…' in …", "list them with `skillmeat widgets`", "pkg/planted.py:10"),
        ("ConfigError", "…: widgets.toml has no [widget] table", "add one", "pkg/planted.py:14"),
        ("ConflictError", "… widgets changed", None, "pkg/planted.py:18"),
        ("ConflictError", "none changed", None, "pkg/planted.py:18"),
        ("FeedError", "…: expired widget feed", None, "pkg/planted.py:23"),
    }
    page = hook.render(hook.scan([planted], classes, tmp_path), classes)
    notfound = page.split("### NotFoundError messages")[1].split("###")[0]
    assert ("<tr><td>no widget &#x27;…&#x27; in …</td><td>list them with <code>skillmeat widgets</code>"
            "</td><td><code>pkg/planted.py:10</code></td></tr>") in notfound


def test_the_built_page_lists_the_real_messages(built_guide: Path) -> None:
    page = (built_guide / "troubleshooting.html").read_text()
    assert 'id="every-message"' in page
    for cls in every_error_class():
        assert f'id="{cls.__name__.lower()}"' in page
        assert f'id="{cls.__name__.lower()}-messages"' in page
    notfound = page.split('id="notfounderror-messages"')[1].split("<h3")[0]
    assert "<td>no collection yet</td>" in notfound
    assert "<code>skillmeat/store/home.py:" in notfound
    config = page.split('id="configerror-messages"')[1].split("<h3")[0]
    assert "<td>…: invalid TOML: …</td><td>fix the file and retry</td>" in config
    assert 'href="errors.html"' in page  # and errors.md links back
    assert "troubleshooting.md" in (DOCS / "errors.md").read_text()

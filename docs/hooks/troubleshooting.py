"""MkDocs hook: append every user-facing error message to troubleshooting.md at build time.

The error classes are every ``SkillmeatError`` subclass (all of skillmeat imported, then
``__subclasses__`` walked). The messages come from an AST scan of skillmeat/: each call
``XxxError(...)`` (raised there or built to be raised) is rendered as the one line the user
sees, following the class's ``__init__`` chain (``ConfigError(path, detail)`` reads
``path: detail``); values known only at run time show as ``…``. A class without a
hand-written entry on the page is a warning, so ``mkdocs build --strict`` fails.
"""

from __future__ import annotations

import ast
import functools
import html
import importlib
import inspect
import itertools
import logging
import pkgutil
import re
import sys
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

PAGE = "troubleshooting.md"
HOLE = "…"
MAX_VARIANTS = 4
log = logging.getLogger("mkdocs.hooks.troubleshooting")

Value = list[str] | None  # the variants an expression may take; None: not given


@dataclass(frozen=True)
class Site:
    error: str  # class name
    message: str
    hint: str | None
    where: str  # path:line


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    root = Path(config.config_file_path).parent
    classes = error_classes()
    for name in classes:
        if not entry(markdown, name):
            log.warning("%s: no entry for %s (add a '### %s' section)", PAGE, name, name)
    return markdown.rstrip("\n") + "\n\n" + render(scan_package(root / "skillmeat", classes), classes)


def error_classes() -> dict[str, type[Any]]:
    """Every SkillmeatError class, by name, in hierarchy order (each parent before its children)."""
    import skillmeat
    from skillmeat.model.errors import SkillmeatError

    for info in pkgutil.walk_packages(skillmeat.__path__, "skillmeat."):
        if not info.name.endswith(".__main__"):
            importlib.import_module(info.name)

    def tree(cls: type[Any]) -> Iterator[type[Any]]:
        yield cls
        for sub in sorted(cls.__subclasses__(), key=lambda c: c.__name__):
            yield from tree(sub)

    out: dict[str, type[Any]] = {}
    for cls in tree(SkillmeatError):
        if cls.__name__ in out and out[cls.__name__] is not cls:
            log.warning("two error classes named %s: %s and %s", cls.__name__,
                        out[cls.__name__].__module__, cls.__module__)
        out.setdefault(cls.__name__, cls)
    return out


def entry(markdown: str, name: str) -> str | None:
    """The hand-written section of ``name`` (its heading up to the next heading), if any."""
    m = re.search(rf"^(#{{2,4}}) {re.escape(name)}[ \t]*\n(.*?)(?=^#{{1,4}} |\Z)", markdown, re.M | re.S)
    return m.group(2) if m else None


def scan_package(package: Path, classes: dict[str, type[Any]]) -> list[Site]:
    base = package.parent
    return scan(sorted(package.rglob("*.py")), classes, base)


def scan(paths: Iterable[Path], classes: dict[str, type[Any]], base: Path) -> list[Site]:
    """Every call of an error class in ``paths``, rendered as message and hint."""
    sites = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        consts = module_constants(tree, _module_name(path, base))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (name := _callee(node)) in classes:
                where = f"{path.relative_to(base).as_posix()}:{node.lineno}"
                for message, hint in render_call(classes[name], node, consts):
                    sites.append(Site(name, message, hint, where))
    return sites


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _module_name(path: Path, base: Path) -> str | None:
    try:
        rel = path.with_suffix("").relative_to(base)
    except ValueError:
        return None
    return ".".join(p for p in rel.parts if p != "__init__")


def module_constants(tree: ast.Module, module: str | None) -> dict[str, list[str]]:
    """Module-level string constants (``NAME = "..."``), and the imported ones when the
    module is loaded: so ``f"no {MANIFEST}"`` reads ``no skillmeat-pack.json``."""
    out: dict[str, list[str]] = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            out[node.targets[0].id] = [node.value.value]
    loaded = sys.modules.get(module) if module else None  # error_classes() imported them all
    for key, value in (vars(loaded) if loaded else {}).items():
        if isinstance(value, str) and re.fullmatch(r"_?[A-Z][A-Z0-9_]*", key):
            out[key] = [value]
    return out


def render_call(cls: type[Any], call: ast.Call, consts: dict[str, list[str]]) -> list[tuple[str, str | None]]:
    """The (message, hint) variants a call ``cls(...)`` produces, following ``__init__``s."""
    args: list[Value] = [_eval(a, {}, consts) for a in call.args]
    if any(isinstance(a, ast.Starred) for a in call.args):
        return [(HOLE, None)]
    kwargs: dict[str, Value] = {k.arg: _eval(k.value, {}, consts) for k in call.keywords if k.arg}
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        func, klass_consts = _init_of(klass)
        env = _bind(func, args, kwargs, klass_consts)
        if klass.__name__ == "SkillmeatError":
            messages = env.get("message") or [HOLE]
            given = env.get("hint")
            hints: list[str | None] = [*given] if given else [None]
            return [(m, h) for m, h in itertools.product(messages, hints)][:MAX_VARIANTS]
        up = _super_call(func)
        if up is None:
            return [(HOLE, None)]
        args = [_eval(a, env, klass_consts) for a in up.args]
        kwargs = {k.arg: _eval(k.value, env, klass_consts) for k in up.keywords if k.arg}
    return [(HOLE, None)]


@functools.cache
def _init_of(klass: type[Any]) -> tuple[ast.FunctionDef, dict[str, list[str]]]:
    source = textwrap.dedent(inspect.getsource(klass.__init__))
    func = ast.parse(source).body[0]
    assert isinstance(func, ast.FunctionDef)
    module = inspect.getmodule(klass)
    tree = ast.parse(inspect.getsource(module)) if module else ast.Module(body=[], type_ignores=[])
    return func, module_constants(tree, klass.__module__)


def _bind(func: ast.FunctionDef, args: list[Value], kwargs: dict[str, Value],
          consts: dict[str, list[str]]) -> dict[str, Value]:
    a = func.args
    positional = [p.arg for p in [*a.posonlyargs, *a.args]][1:]  # without self
    env: dict[str, Value] = {name: None for name in positional}
    for name, default in zip(positional[len(positional) - len(a.defaults):], a.defaults, strict=True):
        env[name] = _eval(default, {}, consts)
    for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        env[p.arg] = _eval(d, {}, consts) if d is not None else None
    env.update(zip(positional, args, strict=False))
    env.update({k: v for k, v in kwargs.items() if k in env})
    return env


def _super_call(func: ast.FunctionDef) -> ast.Call | None:
    for node in ast.walk(func):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "__init__" and isinstance(node.func.value, ast.Call)
                and isinstance(node.func.value.func, ast.Name) and node.func.value.func.id == "super"):
            return node
    return None


def _eval(node: ast.expr, env: dict[str, Value], consts: dict[str, list[str]]) -> Value:
    """The text an expression gives, as far as the source tells: a hole where it does not."""
    if isinstance(node, ast.Constant):
        return None if node.value is None else [str(node.value)]
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        return consts.get(node.id, [HOLE])
    if isinstance(node, ast.JoinedStr):
        parts: list[list[str]] = []
        for piece in node.values:
            if isinstance(piece, ast.Constant):
                parts.append([str(piece.value)])
            elif isinstance(piece, ast.FormattedValue) and piece.conversion == -1 and not piece.format_spec:
                parts.append(_eval(piece.value, env, consts) or [""])
            else:
                parts.append([HOLE])
        return _join(parts)
    if isinstance(node, ast.IfExp):
        both = (_eval(node.body, env, consts) or []) + (_eval(node.orelse, env, consts) or [])
        return both[:MAX_VARIANTS] or None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _join([_eval(node.left, env, consts) or [""], _eval(node.right, env, consts) or [""]])
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        for value in node.values:
            got = _eval(value, env, consts)
            if got is not None:
                return got
        return None
    return [HOLE]


def _join(parts: list[list[str]]) -> list[str]:
    out = ["".join(p) for p in itertools.islice(itertools.product(*parts), MAX_VARIANTS)]
    return [re.sub(f"{HOLE}(?:{HOLE})+", HOLE, s) for s in out]


def render(sites: list[Site], classes: dict[str, type[Any]]) -> str:
    out = ["## Every message\n",
           "Generated from SkillMeat's source each time this guide is built: every place that "
           "raises one of the errors above, with the message and hint it prints. `…` stands for "
           "what is known only at run time (a path, a name, a reason). Search this page for the "
           "words of your message; the class tells you the exit code and the section above "
           "what to do.\n"]
    for name in classes:
        mine = _grouped([s for s in sites if s.error == name and re.search(r"\w", s.message)])
        passed = sorted({s.where for s in sites if s.error == name and not re.search(r"\w", s.message)})
        out.append(f"### {name} messages\n")
        if passed:
            out.append(f"Also raised with a message made elsewhere (passed on) at "
                       f"{', '.join(f'`{w}`' for w in passed)}.\n")
        if not mine:
            if not passed:
                out.append(f"SkillMeat's source raises no `{name}` itself (only its subclasses do).\n")
            continue
        rows = "\n".join(f"<tr><td>{_html(m)}</td><td>{_html(h) if h else ''}</td>"
                         f"<td>{'<br>'.join(f'<code>{html.escape(w)}</code>' for w in ws)}</td></tr>"
                         for (m, h), ws in mine)
        out.append("<table>\n<thead><tr><th>Message</th><th>Hint</th><th>Where</th></tr></thead>\n"
                   f"<tbody>\n{rows}\n</tbody>\n</table>\n")
    return "\n".join(out)


def _grouped(sites: list[Site]) -> list[tuple[tuple[str, str | None], list[str]]]:
    found: dict[tuple[str, str | None], list[str]] = {}
    for s in sites:
        found.setdefault((" ".join(s.message.split()), s.hint and " ".join(s.hint.split())),
                         []).append(s.where)
    return sorted(found.items(), key=lambda kv: (re.sub(r"^\W+", "", kv[0][0].replace(HOLE, " ")).lower(),
                                                kv[0][0], kv[0][1] or ""))


def _html(text: str) -> str:
    """Escaped text with its `code` spans as <code>."""
    parts = re.split(r"`([^`]+)`", text)
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p)
                   for i, p in enumerate(parts))

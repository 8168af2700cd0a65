"""Diagnostics: what validation and parsing report, as ``file:line: level: message``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Level = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str
    line: int
    level: Level
    message: str
    code: str = ""

    def format(self) -> str:
        return f"{self.path}:{self.line}: {self.level}: {self.message}"

    def at(self, path: str) -> Diagnostic:
        return Diagnostic(path, self.line, self.level, self.message, self.code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "level": self.level,
            "message": self.message,
            "code": self.code,
        }


def warning(path: str, line: int, code: str, message: str) -> Diagnostic:
    return Diagnostic(path, line, "warning", message, code)


def error(path: str, line: int, code: str, message: str) -> Diagnostic:
    return Diagnostic(path, line, "error", message, code)

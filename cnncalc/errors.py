"""Errors that carry a position in the user's spec, so every message can say where."""

from __future__ import annotations

from typing import NamedTuple


class SourcePos(NamedTuple):
    """A 1-based line and column in a spec file (or `<shorthand>`, `<stdin>`).

    A NamedTuple rather than a dataclass: a large spec creates one per key and value.
    """

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


class CnncalcError(Exception):
    """Base of every error cnncalc reports to a user (never shown as a traceback)."""

    exit_code = 2


class SpecError(CnncalcError):
    """The spec (file, shorthand or option) is invalid: exit code 2."""

    def __init__(
        self,
        message: str,
        pos: SourcePos | None = None,
        hint: str | None = None,
        details: tuple[str, ...] = (),
    ):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.hint = hint
        self.details = details  # lines under the message (a list the message announces)

    def __str__(self) -> str:
        where = f"{self.pos}: " if self.pos else ""
        text = f"{where}error: {self.message}"
        text += "".join(f"\n    {line}" for line in self.details)
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class LayerError(Exception):
    """Raised by a layer rule without position; the caller re-raises it as a SpecError.

    `field` names the layer field at fault (`kernel`, `groups`, `from`, ...), so the error can
    point at that field's value in the spec rather than at the layer.
    """

    def __init__(self, message: str, hint: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.field = field

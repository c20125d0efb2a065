"""`--input HxWx3`: letters for the input's height and width ask for closed forms (see
`cnncalc.design.symbolic`). Kept apart so the analysis commands can ask cheaply."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cnncalc.errors import SourcePos, SpecError

_SYMBOL = re.compile(r"[A-Za-z]\w*")


@dataclass(frozen=True)
class SymbolicInput:
    """`--input HxWx3`: the written parts, and the distinct symbols in order."""

    parts: tuple[str, ...]
    symbols: tuple[str, ...]

    def numeric(self, values: Sequence[int]) -> str:
        """The `--input` text with each symbol replaced by its value."""
        named = dict(zip(self.symbols, values, strict=True))
        return "x".join(str(named[p]) if p in named else p for p in self.parts)


def symbolic_input(text: str | None) -> SymbolicInput | None:
    """The symbols of an `--input` like `HxWx3` or `SxSx3`; None when it is all numbers."""
    if text is None:
        return None
    parts = tuple(p.strip() for p in text.replace("×", "x").split("x")) if "x" in text else ()
    if not parts:
        parts = (text.strip(),)
    if not any(_SYMBOL.fullmatch(p) for p in parts):
        return None
    if len(parts) != 3:
        raise SpecError(
            f"--input {text[:40]!r}: closed forms are for 2-D inputs only (HxWxC)",
            SourcePos("--input"),
            "give numbers for a 1-D (LxC) or 3-D (DxHxWxC) input",
        )
    if not all(_SYMBOL.fullmatch(p) or p.isdigit() for p in parts):
        raise SpecError(
            f"--input {text[:40]!r}: each size is a number or a letter (HxWx3)",
            SourcePos("--input"),
        )
    if _SYMBOL.fullmatch(parts[2]):
        raise SpecError(
            f"--input {text[:40]!r}: the channels must be a number; letters stand for H and W",
            SourcePos("--input"),
            "e.g. --input HxWx3",
        )
    symbols = tuple(dict.fromkeys(p for p in parts if _SYMBOL.fullmatch(p)))
    return SymbolicInput(parts, symbols)

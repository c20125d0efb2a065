"""Budget files: expectations for every spec, or for the specs a path or glob names."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cnncalc.check.expectations import (
    Expectations,
    parse_expectations,
)
from cnncalc.check.globbing import PathPattern
from cnncalc.check.values import (
    PATH_CHARS,
)
from cnncalc.errors import SourcePos, SpecError
from cnncalc.fields import describe
from cnncalc.spec import read_text
from cnncalc.yamlnodes import YMap
from cnncalc.yamltree import parse_yaml


def norm(path: str) -> str:
    return os.path.normcase(os.path.abspath(path)).replace("\\", "/")


@dataclass(frozen=True)
class BudgetEntry:
    """Expectations from a budget file, for every spec (`pattern` None) or matching specs."""

    expectations: Expectations
    pattern: str | None = None
    paths: PathPattern | None = None  # what `pattern` names, relative to the budget's folder

    def applies_to(self, spec: Path | None) -> bool:
        if self.paths is None:
            return True
        return spec is not None and self.paths.matches(norm(str(spec)))


@dataclass(frozen=True)
class Budget:
    path: str
    entries: tuple[BudgetEntry, ...]

    def for_spec(self, spec: Path | None) -> list[Expectations]:
        return [e.expectations for e in self.entries if e.applies_to(spec)]


def _looks_like_path(key: str) -> bool:
    return any(c in key for c in PATH_CHARS)


def load_budget(path: str) -> Budget:
    """A budget file: one expectations mapping for every spec checked, or a mapping of spec
    paths and globs (relative to the budget file's folder) to expectations.

    A pattern that matches no file on disk is an error (a typo would otherwise never check).
    """
    text = read_text(Path(path))
    doc = parse_yaml(text, path)
    top = SourcePos(path, 1, 1)
    if not isinstance(doc, YMap) or not doc:
        raise SpecError(
            f"a budget file is a mapping of expectations, got {describe(doc)}",
            top,
            "e.g. `max_params: 30M`, or per spec: `architectures/*.yaml: {max_params: 30M}`",
        )
    keys = list(doc)
    if not any(_looks_like_path(k) for k in keys):
        return Budget(path, (BudgetEntry(parse_expectations(doc, doc.pos, "the budget")),))
    base = os.path.dirname(os.path.abspath(path))
    entries = []
    for key in keys:
        if not _looks_like_path(key):
            raise SpecError(
                f"{key!r} is neither a spec path nor a glob, and this budget file maps "
                "spec paths to expectations",
                doc.key_pos[key],
                "a path holds `/` or `.` (write `./net` for a file named net); put "
                f"`{key}` under a path, e.g. `architectures/*.yaml: {{{key}: ...}}`",
            )
        # the folder is literal text, however many brackets its name holds
        paths = PathPattern.parse(os.path.normcase(key), norm(base))
        if not paths.paths():
            raise SpecError(
                f"budget pattern {key!r} matches no file",
                doc.key_pos[key],
                f"patterns are relative to the budget file's folder ({base})",
            )
        where = f"the budget for {key!r}"
        entries.append(
            BudgetEntry(
                parse_expectations(doc[key], doc.pos_of(key), where),
                key,
                paths,
            )
        )
    return Budget(path, tuple(entries))

"""Budget files: expectations for every spec, or for the specs a path or glob names."""

from __future__ import annotations

import fnmatch
import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cnncalc.check.expectations import (
    Expectations,
    parse_expectations,
)
from cnncalc.check.values import (
    PATH_CHARS,
)
from cnncalc.errors import SourcePos, SpecError
from cnncalc.fields import describe
from cnncalc.spec import read_text
from cnncalc.yamltree import YMap, parse_yaml


class Glob:
    """A path glob: `**` any number of folders, `*` any text within a name, `?` one character,
    `[…]` (`[!…]` negated). Matched one name at a time, each by fnmatch's regular expression
    (which commits to the first match of the text between stars), the names by a set of
    reachable positions: linear work, where one regular expression over the whole path takes
    time exponential in the stars (`*a*a*a*a*b`)."""

    def __init__(self, pattern: str) -> None:
        self.parts = [
            None if p == "**" else re.compile(fnmatch.translate(p)) for p in pattern.split("/")
        ]

    def fullmatch(self, path: str) -> bool:
        names = path.split("/")
        reachable = {0}  # how many names the parts so far can match
        for part in self.parts:
            if part is None:
                reachable = set(range(min(reachable), len(names) + 1)) if reachable else set()
            else:
                reachable = {i + 1 for i in reachable if i < len(names) and part.match(names[i])}
        return len(names) in reachable


def norm(path: str) -> str:
    return os.path.normcase(os.path.abspath(path)).replace("\\", "/")


@dataclass(frozen=True)
class BudgetEntry:
    """Expectations from a budget file, for every spec (`pattern` None) or matching specs."""

    expectations: Expectations
    pattern: str | None = None
    glob: Glob | None = None

    def applies_to(self, spec: Path | None) -> bool:
        if self.glob is None:
            return True
        return spec is not None and self.glob.fullmatch(norm(str(spec)))


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
        pattern = os.path.normcase(os.path.normpath(key)).replace("\\", "/")
        if os.path.isabs(pattern):
            matcher = Glob(pattern)
        else:  # the folder is literal text, however many brackets its name holds
            matcher = Glob(glob.escape(norm(base)) + "/" + pattern)
        if not glob.glob(pattern, root_dir=base, recursive=True):
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
                matcher,
            )
        )
    return Budget(path, tuple(entries))

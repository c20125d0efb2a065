"""What `cnncalc check` checks: files, folders, globs, bundled names and stdin."""

from __future__ import annotations

import difflib
import os
import stat
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cnncalc.check.budget import (
    Budget,
    load_budget,
    norm,
)
from cnncalc.check.evaluate import (
    CheckResult,
    evaluate,
)
from cnncalc.check.expectations import (
    parse_expectations,
)
from cnncalc.check.globbing import PathPattern, spec_files
from cnncalc.check.values import (
    GLOB_CHARS,
    SPEC_SUFFIXES,
)
from cnncalc.errors import CnncalcError, SourcePos, SpecError
from cnncalc.loader import read_stdin
from cnncalc.report import analyze
from cnncalc.spec import from_document, read_text
from cnncalc.yamlnodes import YMap
from cnncalc.yamltree import parse_yaml
from cnncalc.zoo import zoo_names, zoo_path


@dataclass(frozen=True)
class Target:
    """A spec to check, as named on the command line (or found under a folder or glob)."""

    display: str
    path: Path | None  # None: stdin
    error: SpecError | None = None


def _identity(path: str) -> str:
    """One name per file, however reached (symlinks, `a/../b`): its resolved path."""
    try:
        return norm(os.path.realpath(path))
    except (OSError, ValueError):
        return norm(path)


def _missing(arg: str) -> SpecError:
    close = difflib.get_close_matches(arg, zoo_names(), n=1)
    return SpecError(
        "no such file, folder or bundled architecture",
        SourcePos(arg),
        f"did you mean `{close[0]}`?" if close else None,
    )


def expand_targets(args: Sequence[str], skip: Collection[str] = ()) -> list[Target]:
    """The specs that `args` name: files, folders (every *.yaml/*.yml below, hidden ones
    skipped), globs (expanded here, as Windows shells do not), bundled names and `-`.

    Each spec appears once, however many names reach it (symlinks). Files in `skip` (the
    budget files) are left out of folders and globs. An argument that names nothing becomes
    a Target carrying its error.
    """
    skipped = {_identity(s) for s in skip}
    seen: set[str] = set()
    targets: list[Target] = []

    def add(path: Path, display: str | None = None, found: bool = False) -> None:
        key = _identity(str(path))
        if key in seen or (found and key in skipped):
            return
        seen.add(key)
        targets.append(Target(display or str(path), path))

    for arg in args:
        if arg == "-":
            if "-" not in seen:
                seen.add("-")
                targets.append(Target("<stdin>", None))
            continue
        try:
            mode: int | None = os.stat(arg).st_mode
        except (FileNotFoundError, NotADirectoryError):
            mode = None
        except (OSError, ValueError) as exc:  # a name too long, a NUL, a symlink loop
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            targets.append(Target(arg, None, SpecError(f"cannot read: {reason}", SourcePos(arg))))
            continue
        if mode is not None and stat.S_ISDIR(mode):
            for found in spec_files(arg, SPEC_SUFFIXES):
                add(Path(found), found=True)
        elif mode is not None:
            add(Path(arg), arg)
        elif any(c in arg for c in GLOB_CHARS):
            matches = sorted(PathPattern.parse(arg).paths())
            before = len(targets)
            for match in matches:
                if os.path.isdir(match):
                    for found in spec_files(match, SPEC_SUFFIXES):
                        add(Path(found), found=True)
                elif match.endswith(SPEC_SUFFIXES):
                    add(Path(match), found=True)
            if len(targets) == before and not any(_identity(m) in seen for m in matches):
                targets.append(
                    Target(
                        arg,
                        None,
                        SpecError(
                            "no spec file matches this pattern",
                            SourcePos(arg),
                            "a pattern matches *.yaml and *.yml files; `**` matches any folders",
                        ),
                    )
                )
        elif (zoo := zoo_path(arg)) is not None:
            add(zoo)
        else:
            targets.append(Target(arg, None, _missing(arg)))
    return targets


@dataclass(frozen=True)
class FileResult:
    """One spec: its checks, or the error that makes it invalid."""

    file: str
    name: str | None
    checks: tuple[CheckResult, ...] = ()
    error: SpecError | None = None

    @property
    def status(self) -> Literal["passed", "failed", "invalid"]:
        if self.error is not None:
            return "invalid"
        return "failed" if self.failures else "passed"

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        err = self.error
        return {
            "file": self.file,
            "name": self.name,
            "status": self.status,
            "checks": [c.to_dict() for c in self.checks],
            "error": None
            if err is None
            else {
                "message": err.message,
                "hint": err.hint,
                "file": err.pos.file if err.pos else self.file,
                "line": err.pos.line if err.pos else 0,
                "col": err.pos.col if err.pos else 0,
            },
        }


def check_target(target: Target, budgets: Sequence[Budget] = ()) -> FileResult:
    """Load, analyze and check one spec: its own `expect:` and every budget that applies."""
    if target.error is not None:
        return FileResult(target.display, None, error=target.error)
    name: str | None = None
    try:
        if target.path is None:
            text, stem = read_stdin(), "stdin"
        else:
            text, stem = read_text(target.path), target.path.stem
        doc = parse_yaml(text, target.display)
        net = from_document(doc, target.display, stem)
        name = net.name
        assert isinstance(doc, YMap)  # from_document accepted it
        groups = [parse_expectations(doc.get("expect"), doc.pos_of("expect"))]
        for budget in budgets:
            groups += budget.for_spec(target.path)
        report = analyze(net)
        checks = [c for group in groups for c in evaluate(group, report, target.display)]
    except SpecError as err:
        return FileResult(target.display, name, error=err)
    except CnncalcError as err:
        return FileResult(target.display, name, error=SpecError(str(err)))
    return FileResult(target.display, name, tuple(checks))


@dataclass(frozen=True)
class CheckRun:
    """Every spec checked. Exit code: 2 if any spec is invalid, else 1 if any check failed."""

    files: tuple[FileResult, ...]

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def exit_code(self) -> int:
        if self.count("invalid"):
            return 2
        return 1 if self.count("failed") else 0

    def to_dict(self) -> dict[str, Any]:
        checks = [c for f in self.files for c in f.checks]
        return {
            "exit_code": self.exit_code,
            "summary": {
                "files": len(self.files),
                "passed": self.count("passed"),
                "failed": self.count("failed"),
                "invalid": self.count("invalid"),
                "checks": len(checks),
                "checks_failed": sum(1 for c in checks if not c.passed),
            },
            "files": [f.to_dict() for f in self.files],
        }


def check(args: Sequence[str], budget_files: Sequence[str] = ()) -> CheckRun:
    """Check every spec `args` name (files, folders, globs) against its expectations.

    A budget file that is itself invalid raises SpecError (nothing can be checked against it).
    """
    budgets = [load_budget(path) for path in budget_files]
    targets = expand_targets(args, skip=budget_files)
    return CheckRun(tuple(check_target(t, budgets) for t in targets))

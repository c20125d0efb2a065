"""Globs and folder walks that end: each folder is searched once, symlink loops included.

A pattern is matched one path segment at a time with `fnmatch`, as the standard library's
`glob` does: `*`, `?` and `[…]` within a name, `**` as a whole segment for any number of
folders, and wildcards never match a name that starts with `.` (nor does `**` enter such a
folder). A bracket that is not a valid set (`net[].yaml`, `[z-a]`) follows fnmatch too: an
unclosed `[` is literal text, an empty range matches nothing. Unlike `glob.glob`, the walk
follows a symlinked folder only if it has not searched that folder (device and inode) in the
same state of the pattern already, so `a -> .` ends instead of expanding without end.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass
from pathlib import PurePath

MAGIC = "*?["
ANY_FOLDERS = "**"


def _is_magic(segment: str) -> bool:
    return any(c in segment for c in MAGIC)


def _name_matches(segment: str, name: str) -> bool:
    if name.startswith(".") and not segment.startswith("."):
        return False  # glob's rule: wildcards skip hidden names
    return fnmatch.fnmatch(name, segment)


@dataclass(frozen=True)
class PathPattern:
    """A glob below a literal folder `root` (its text never read as a pattern): `parts` are
    the pattern's segments after the longest literal prefix."""

    root: str
    parts: tuple[str, ...]

    @classmethod
    def parse(cls, pattern: str, root: str = "") -> PathPattern:
        """`pattern` relative to the folder `root` (absolute patterns ignore it); leading
        literal segments, `..` included, join the root."""
        pure = PurePath(os.path.normpath(pattern))
        parts = pure.parts
        if pure.anchor:
            root, parts = pure.anchor, parts[1:]
        literal = 0
        while literal < len(parts) - 1 and not _is_magic(parts[literal]):
            literal += 1
        if literal:
            root = os.path.normpath(os.path.join(root, *parts[:literal]))
        return cls(root, tuple(parts[literal:]))

    def _closure(self, states: set[int]) -> frozenset[int]:
        """Add, for every state at a `**`, the state after it (`**` matching no folder)."""
        todo = list(states)
        while todo:
            i = todo.pop()
            if i < len(self.parts) and self.parts[i] == ANY_FOLDERS and i + 1 not in states:
                states.add(i + 1)
                todo.append(i + 1)
        return frozenset(states)

    def _step(self, states: frozenset[int], name: str) -> frozenset[int]:
        """The states after consuming one path segment `name`."""
        after: set[int] = set()
        for i in states:
            if i == len(self.parts):
                continue
            segment = self.parts[i]
            if segment == ANY_FOLDERS:
                if not name.startswith("."):
                    after.add(i)
            elif _name_matches(segment, name):
                after.add(i + 1)
        return self._closure(after)

    def matches(self, path: str) -> bool:
        """Whether `path` (absolute, normalized as `root` was) is one the pattern names."""
        root = self.root.rstrip("/\\")
        if not path.startswith(root + "/") and not path.startswith(root + os.sep):
            return False
        states = self._closure({0})
        for name in path[len(root) + 1 :].replace("\\", "/").split("/"):
            states = self._step(states, name)
            if not states:
                return False
        return len(self.parts) in states

    def paths(self) -> list[str]:
        """Every file and folder the pattern names, walked depth first (a folder's matches in
        name order before its subfolders'). Folders that cannot be read are skipped."""
        found: list[str] = []
        seen: set[tuple[int, int, frozenset[int]]] = set()
        stack = [(self.root, self._closure({0}))]
        while stack:
            folder, states = stack.pop()
            try:
                info = os.stat(folder or ".")
                # the state "matched" does not change what lies below: leave it out
                key = (info.st_dev, info.st_ino, states - {len(self.parts)})
                if not stat.S_ISDIR(info.st_mode) or key in seen:
                    continue
                seen.add(key)
                with os.scandir(folder or ".") as entries:
                    names = sorted(entry.name for entry in entries)
            except (OSError, ValueError):
                continue
            below = []
            for name in names:
                after = self._step(states, name)
                if not after:
                    continue
                path = os.path.join(folder, name)
                if len(self.parts) in after:
                    found.append(path)
                if after != {len(self.parts)}:
                    below.append((path, after))
            stack += reversed(below)
        return found


def spec_files(folder: str, suffixes: tuple[str, ...]) -> list[str]:
    """The entries ending in `suffixes` below `folder` that are not folders, hidden ones
    skipped, each folder searched once (symlinked folders followed, loops ended). FIFOs and
    other special files are listed too, for `read_text` to refuse with a reason."""
    return [
        path
        for path in PathPattern(folder, (ANY_FOLDERS, "*")).paths()
        if path.endswith(suffixes) and not os.path.isdir(path)
    ]

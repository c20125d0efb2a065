"""`--layers`: which layers a pattern names — globs, ranges, lists — in network order.

`branch2.*` (fnmatch: `*`, `?`, `[...]`; `*` crosses dots), `conv1..conv3` (every layer from
conv1 to conv3 in topological order, both included), and comma-separated lists of these.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Sequence

from cnncalc.errors import SourcePos, SpecError

RANGE = ".."
_POS = SourcePos("--layers")


def _hint(item: str, names: Sequence[str]) -> str:
    close = difflib.get_close_matches(item, names, n=1)
    if close:
        return f"did you mean `{close[0]}`?"
    return "list the layers with `cnncalc params`; globs: `branch2.*`, ranges: `conv1..conv3`"


def _position(name: str, names: Sequence[str], index: dict[str, int], network: str) -> int:
    if name not in index:
        raise SpecError(f"no layer named {name!r} in {network}", _POS, _hint(name, names))
    return index[name]


def select_names(names: Sequence[str], pattern: str, network: str) -> list[str]:
    """The names (of `names`, in topological order) that `pattern` selects."""
    index = {name: i for i, name in enumerate(names)}
    chosen: set[int] = set()
    for raw in pattern.split(","):
        item = raw.strip()
        if not item:
            raise SpecError(
                f"empty item in {pattern!r}",
                _POS,
                "separate names, globs and ranges with single commas: `conv1,branch2.*`",
            )
        if item in index:
            chosen.add(index[item])
        elif RANGE in item:
            first, _, last = item.partition(RANGE)
            start = _position(first.strip(), names, index, network)
            end = _position(last.strip(), names, index, network)
            if start > end:
                raise SpecError(
                    f"{first.strip()!r} comes after {last.strip()!r} in {network}",
                    _POS,
                    f"a range goes in the order of the layers: `{last.strip()}..{first.strip()}`",
                )
            chosen.update(range(start, end + 1))
        else:
            matched = [i for i, name in enumerate(names) if fnmatch.fnmatchcase(name, item)]
            if not matched:
                raise SpecError(f"{item!r} matches no layer of {network}", _POS, _hint(item, names))
            chosen.update(matched)
    return [names[i] for i in sorted(chosen)]

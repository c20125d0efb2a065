"""The dicts and lists a spec is read into: each remembers where it and its items came from.

Positions are stored packed (one int per item, one per key and its value) and unpacked into
`SourcePos` only when an error or a note needs one: a 100,000-layer spec has ~700,000 of them.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any, overload

from cnncalc.errors import SourcePos

# The reader stores a position as one int, line·2^22 + column (a spec has at most MAX_BYTES
# characters, so a column fits in 22 bits): a quarter of a SourcePos, which is made on demand.
COLUMNS = 1 << 22
Packed = int | SourcePos  # what a position table holds: the reader's ints or code's SourcePos


def unpack(file: str, at: Packed) -> SourcePos:
    if isinstance(at, SourcePos):
        return at
    return SourcePos(file, at >> 22, at & (COLUMNS - 1))


# A mapping keeps its key's and value's positions in one table, an entry per key: the
# reader's is one int, key·2^44 + value (each packed as above, 44 bits); one that code set
# is a (key, value) pair, either of them None when not known.
_HALF = 44
_VALUE_BITS = (1 << _HALF) - 1
KEY, VALUE = 0, 1
Entry = int | tuple[Packed | None, Packed | None]


def _part(entry: Entry, part: int) -> Packed | None:
    if type(entry) is int:
        return entry >> _HALF if part == KEY else entry & _VALUE_BITS
    return entry[part]  # type: ignore[index]


def both_at(key_at: int, value_at: int) -> int:
    """The table entry of a key and its value as the reader found them (packed ints)."""
    return key_at << _HALF | value_at


class Positions(MutableMapping[str, SourcePos]):
    """A mapping's key or value positions (`part`), read as SourcePos from the shared table."""

    __slots__ = ("_at", "_file", "_part")

    def __init__(self, file: str, at: dict[str, Entry], part: int) -> None:
        self._file = file
        self._at = at
        self._part = part

    def __getitem__(self, key: str) -> SourcePos:
        found = _part(self._at[key], self._part)
        if found is None:
            raise KeyError(key)
        return unpack(self._file, found)

    def _put(self, key: str, found: Packed | None) -> None:
        entry = self._at.get(key)
        pair: list[Packed | None] = [None, None]
        if entry is not None:
            pair = [_part(entry, KEY), _part(entry, VALUE)]
        pair[self._part] = found
        if pair == [None, None]:
            del self._at[key]
        else:
            self._at[key] = (pair[KEY], pair[VALUE])

    def __setitem__(self, key: str, pos: SourcePos) -> None:
        self._put(key, pos)

    def __delitem__(self, key: str) -> None:
        if self.get(key) is None:
            raise KeyError(key)
        self._put(key, None)

    def __iter__(self) -> Iterator[str]:
        part = self._part
        return (key for key, entry in self._at.items() if _part(entry, part) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def get(self, key: str, default: Any = None) -> Any:  # the mixin's get is 3× slower
        entry = self._at.get(key)
        found = None if entry is None else _part(entry, self._part)
        return default if found is None else unpack(self._file, found)

    def update(self, other: Any = (), /, **kwargs: SourcePos) -> None:
        if isinstance(other, Positions) and not kwargs:  # packed to packed, as they are
            for key in other:
                self._put(key, _part(other._at[key], other._part))
        else:
            super().update(other, **kwargs)


class ItemPositions(Sequence[SourcePos]):
    """A sequence's item positions, read as SourcePos from the packed list."""

    __slots__ = ("_at", "_file")

    def __init__(self, file: str, at: list[Packed]) -> None:
        self._file = file
        self._at = at

    @overload
    def __getitem__(self, index: int) -> SourcePos: ...
    @overload
    def __getitem__(self, index: slice) -> list[SourcePos]: ...
    def __getitem__(self, index: int | slice) -> SourcePos | list[SourcePos]:
        if isinstance(index, slice):
            return [unpack(self._file, at) for at in self._at[index]]
        return unpack(self._file, self._at[index])

    def __iter__(self) -> Iterator[SourcePos]:
        file = self._file  # unpack, inline: a 100,000-layer list is iterated whole
        return (
            SourcePos(file, at >> 22, at & (COLUMNS - 1)) if isinstance(at, int) else at
            for at in self._at
        )

    def __len__(self) -> int:
        return len(self._at)

    def append(self, pos: SourcePos) -> None:
        self._at.append(pos)


class YMap(dict[str, Any]):
    """A YAML mapping with the position of itself, each key and each value."""

    __slots__ = ("_at", "pos")

    def __init__(self, pos: SourcePos) -> None:  # dict.__init__ is not needed: it starts empty
        self.pos = pos
        self._at: dict[str, Entry] = {}  # each key's and its value's position

    @property
    def key_pos(self) -> Positions:
        return Positions(self.pos.file, self._at, KEY)

    @property
    def value_pos(self) -> Positions:
        return Positions(self.pos.file, self._at, VALUE)

    def packed_pos(self, key: str, default: Packed) -> Packed:
        """Where the value of `key` is written, as stored (unpack it to read it)."""
        entry = self._at.get(key)
        found = None if entry is None else _part(entry, VALUE)
        return default if found is None else found

    def pos_of(self, key: str) -> SourcePos:
        return unpack(self.pos.file, self.packed_pos(key, self.pos))


class YList(list[Any]):
    """A YAML sequence with the position of itself and each item."""

    __slots__ = ("_item_at", "pos")

    def __init__(self, pos: SourcePos) -> None:
        self.pos = pos
        self._item_at: list[Packed] = []

    @property
    def item_pos(self) -> ItemPositions:
        return ItemPositions(self.pos.file, self._item_at)

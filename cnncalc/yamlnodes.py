"""The dicts and lists a spec is read into: each remembers where it and its items came from.

Positions are stored packed (one int per key or item) and unpacked into `SourcePos` only when
an error or a note needs one: a 100,000-layer spec has ~700,000 of them.
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


class Positions(MutableMapping[str, SourcePos]):
    """A mapping's key or value positions, read as SourcePos from the packed table."""

    __slots__ = ("_at", "_file")

    def __init__(self, file: str, at: dict[str, Packed]) -> None:
        self._file = file
        self._at = at

    def __getitem__(self, key: str) -> SourcePos:
        return unpack(self._file, self._at[key])

    def __setitem__(self, key: str, pos: SourcePos) -> None:
        self._at[key] = pos

    def __delitem__(self, key: str) -> None:
        del self._at[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)

    def get(self, key: str, default: Any = None) -> Any:  # the mixin's get is 3× slower
        at = self._at.get(key)
        return default if at is None else unpack(self._file, at)

    def update(self, other: Any = (), /, **kwargs: SourcePos) -> None:
        if isinstance(other, Positions) and not kwargs:  # packed to packed, as they are
            self._at.update(other._at)
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
        return (unpack(self._file, at) for at in self._at)

    def __len__(self) -> int:
        return len(self._at)

    def append(self, pos: SourcePos) -> None:
        self._at.append(pos)


class YMap(dict[str, Any]):
    """A YAML mapping with the position of itself, each key and each value."""

    __slots__ = ("_key_at", "_value_at", "pos")

    def __init__(self, pos: SourcePos) -> None:  # dict.__init__ is not needed: it starts empty
        self.pos = pos
        self._key_at: dict[str, Packed] = {}
        self._value_at: dict[str, Packed] = {}

    @property
    def key_pos(self) -> Positions:
        return Positions(self.pos.file, self._key_at)

    @property
    def value_pos(self) -> Positions:
        return Positions(self.pos.file, self._value_at)

    def packed_pos(self, key: str, default: Packed) -> Packed:
        """Where the value of `key` is written, as stored (unpack it to read it)."""
        return self._value_at.get(key, default)

    def pos_of(self, key: str) -> SourcePos:
        at = self._value_at.get(key)
        return self.pos if at is None else unpack(self.pos.file, at)


class YList(list[Any]):
    """A YAML sequence with the position of itself and each item."""

    __slots__ = ("_item_at", "pos")

    def __init__(self, pos: SourcePos) -> None:
        self.pos = pos
        self._item_at: list[Packed] = []

    @property
    def item_pos(self) -> ItemPositions:
        return ItemPositions(self.pos.file, self._item_at)

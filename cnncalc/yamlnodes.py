"""The dicts and lists a spec is read into: each remembers where it and its items came from.

Positions are stored packed (one int per item, one per key and its value, one per collection)
and unpacked into `SourcePos` only when read: a 100,000-layer spec has ~700,000 of them.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any, overload

from cnncalc.errors import SourcePos

# The reader stores a position as one int, line·2^22 + column (a spec has at most MAX_BYTES
# characters, so a column fits in 22 bits): a quarter of a SourcePos, which is made on demand.
COLUMNS = 1 << 22
Packed = int | SourcePos  # what a position table holds: the reader's ints or code's SourcePos
_new_pos = tuple.__new__  # SourcePos's own __new__, without its Python-level call


def unpack(file: str, at: Packed) -> SourcePos:
    if type(at) is int:
        return _new_pos(SourcePos, (file, at >> 22, at & (COLUMNS - 1)))
    return at  # type: ignore[return-value]


# A mapping keeps its keys' and values' positions in one table, an entry per key: the
# reader's is one int, key·2^44 + value, each packed as above and counted from the mapping's
# own packed position (keys and values come after it), so maps written alike can share one
# table (a `Layout`); one that code set is a (key, value) pair of positions, either of them
# None when not known.
_HALF = 44
_VALUE_BITS = (1 << _HALF) - 1
KEY, VALUE = 0, 1
Entry = int | tuple[Packed | None, Packed | None]


def entry(origin: int, key_at: int, value_at: int) -> int:
    """The table entry of a key and its value at `key_at` and `value_at` (packed) in a mapping
    at `origin` (packed)."""
    return (key_at - origin) << _HALF | (value_at - origin)


class Layout(dict[str, Entry]):
    """A position table that several mappings read (the flow mappings written alike on many
    lines): copied into a mapping's own table before anything changes it."""

    __slots__ = ()


def _part(found: Entry, part: int, origin: int) -> Packed | None:
    if type(found) is int:
        return origin + (found >> _HALF if part == KEY else found & _VALUE_BITS)
    return found[part]  # type: ignore[index]


class Positions(MutableMapping[str, SourcePos]):
    """A mapping's key or value positions (`part`), read as SourcePos from its table."""

    __slots__ = ("_map", "_part")

    def __init__(self, mapping: YMap, part: int) -> None:
        self._map = mapping
        self._part = part

    def _packed(self, key: str) -> Packed | None:
        mapping = self._map
        found = mapping._at.get(key)
        if found is None:
            return None
        return _part(found, self._part, mapping._origin())

    def __getitem__(self, key: str) -> SourcePos:
        found = self._packed(key)
        if found is None:
            raise KeyError(key)
        return unpack(self._map._file, found)

    def _put(self, key: str, found: Packed | None) -> None:
        mapping = self._map
        table, origin = mapping._at, mapping._origin()
        if type(table) is not dict:  # shared: make it this mapping's own
            table = mapping._at = dict(table)
        old = table.get(key)
        pair: list[Packed | None] = [None, None]
        if old is not None:
            pair = [_part(old, KEY, origin), _part(old, VALUE, origin)]
        pair[self._part] = found
        if pair == [None, None]:
            del table[key]
        else:
            table[key] = (pair[KEY], pair[VALUE])

    def __setitem__(self, key: str, pos: SourcePos) -> None:
        self._put(key, pos)

    def __delitem__(self, key: str) -> None:
        if self._packed(key) is None:
            raise KeyError(key)
        self._put(key, None)

    def __iter__(self) -> Iterator[str]:
        part = self._part
        return (
            key
            for key, found in self._map._at.items()
            if type(found) is int or found[part] is not None  # type: ignore[index]
        )

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def get(self, key: str, default: Any = None) -> Any:  # the mixin's get is 3× slower
        found = self._packed(key)
        return default if found is None else unpack(self._map._file, found)

    def update(self, other: Any = (), /, **kwargs: SourcePos) -> None:
        if isinstance(other, Positions) and not kwargs:  # packed to packed, as they are
            for key in other:
                self._put(key, other._packed(key))
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
            _new_pos(SourcePos, (file, at >> 22, at & (COLUMNS - 1))) if isinstance(at, int) else at
            for at in self._at
        )

    def __len__(self) -> int:
        return len(self._at)

    def append(self, pos: SourcePos) -> None:
        self._at.append(pos)


class YMap(dict[str, Any]):
    """A YAML mapping with the position of itself, each key and each value. The reader gives
    `pos` packed, with `file`, and may set a shared `Layout` as the table."""

    __slots__ = ("_at", "_file", "_pos")

    def __init__(self, pos: Packed, file: str = "") -> None:
        # (dict.__init__ is not needed: it starts empty)
        self._pos = pos
        self._file = file if type(pos) is int else pos.file  # type: ignore[union-attr]
        self._at: dict[str, Entry] = {}  # each key's and its value's position

    @property
    def pos(self) -> SourcePos:
        return unpack(self._file, self._pos)

    def _origin(self) -> int:
        """What the table's int entries are counted from."""
        at = self._pos
        return at if type(at) is int else 0

    @property
    def key_pos(self) -> Positions:
        return Positions(self, KEY)

    @property
    def value_pos(self) -> Positions:
        return Positions(self, VALUE)

    def packed_pos(self, key: str, default: Packed) -> Packed:
        """Where the value of `key` is written, as stored (unpack it to read it)."""
        found = self._at.get(key)
        if found is None:
            return default
        if type(found) is int:
            return self._pos + (found & _VALUE_BITS)  # type: ignore[operator]
        value_at = found[VALUE]  # type: ignore[index]
        return default if value_at is None else value_at

    def pos_of(self, key: str) -> SourcePos:
        return unpack(self._file, self.packed_pos(key, self._pos))


class YList(list[Any]):
    """A YAML sequence with the position of itself and each item (`pos` as in YMap)."""

    __slots__ = ("_file", "_item_at", "_pos")

    def __init__(self, pos: Packed, file: str = "") -> None:
        self._pos = pos
        self._file = file if type(pos) is int else pos.file  # type: ignore[union-attr]
        self._item_at: list[Packed] = []

    @property
    def pos(self) -> SourcePos:
        return unpack(self._file, self._pos)

    @property
    def item_pos(self) -> ItemPositions:
        return ItemPositions(self._file, self._item_at)

"""The names of an expansion: which layers are defined where, what a `from` reference means
in a scope, and the names unnamed layers get (`conv3`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cnncalc.errors import SourcePos, SpecError
from cnncalc.fields import describe
from cnncalc.graph import INPUT
from cnncalc.layers.base import kind_named
from cnncalc.shorthand import parse_shorthand
from cnncalc.spec.blocks import Block
from cnncalc.spec.layer import suggest
from cnncalc.spec.split import refuse_split
from cnncalc.yamlnodes import Packed, YList, YMap, unpack

SEVERAL_INPUTS = ""  # the top level's `input` when the network has several: say which
MAX_LAYERS = 100_000  # names a spec may expand to: layers, skipped layers, block instances
Claimed = Packed | YMap  # where a name is written: packed, or the fields with its `name:`


def _listing(what: str, names: list[str], limit: int = 8) -> str:
    if not names:
        return f"there are no {what}"
    shown = ", ".join(names[-limit:])
    return f"{what}: {'…, ' if len(names) > limit else ''}{shown}"


@dataclass(slots=True)
class Scope:
    """Where layers are being expanded: top level, or inside one block instance."""

    prefix: str  # "" or "layer2.0."
    names: dict[str, Any]  # block arguments visible to $ expressions
    input_name: str  # what `input` means here (SEVERAL_INPUTS: ambiguous)
    trainable: bool
    depth: int = 0
    previous: str | None = None  # resolved output of the last layer, for the default `from`
    counters: dict[str, int] = field(default_factory=dict)  # unnamed layers per kind
    chain: tuple[str, ...] = ()  # the blocks being expanded, outermost first
    entries: YList | None = None  # the list being expanded, and the entry being expanded:
    index: int = 0  # for telling "defined further down" from "unknown"
    written: set[str] = field(default_factory=set)  # names the list's entries write out


def written_names(entries: Iterable[Any]) -> set[str]:
    """The names entries write out literally (`name: conv2`). One comprehension, no call per
    entry: a list of 100,000 entries is read whole."""
    return {
        name
        for entry in entries
        if type(entry) is YMap and len(entry) == 1
        for fields in entry.values()
        if type(fields) is YMap and type(name := fields.get("name")) is str and "$" not in name
    }


def written_name(entry: Any) -> str | None:
    """The name an entry writes out literally, if it does."""
    return next(iter(written_names((entry,))), None)


def check_layer_name(name: Any, fields: YMap) -> None:
    """Refuse a name (as written under `name:`, or a default) that is not a layer name."""
    if not isinstance(name, str) or not name.strip() or " " in name or "," in name or "\t" in name:
        raise SpecError(
            f"a layer name is text without spaces or commas, got {describe(name)}",
            fields.pos_of("name"),
        )


class Names:
    """The layer names an expansion has defined, and how references to them resolve."""

    def __init__(
        self,
        blocks: dict[str, Block],
        file: str,
        inputs: dict[str, SourcePos] | None = None,
    ) -> None:
        """`inputs`: the network's inputs by name, where each is written (default: `input`)."""
        self.blocks = blocks
        self.file = file
        # each name → where it is written (see `_claim`): one per layer
        self.defined: dict[str, Claimed] = dict(inputs or {INPUT: SourcePos(file)})
        self.inputs = list(self.defined)
        self.alias: dict[str, str] = {}  # skipped layers and block instances → a real name
        self.splits: dict[str, int] = {}  # each split → its number of parts

    def _auto_name(self, kind: str, scope: Scope, counters: dict[str, int]) -> str:
        """`<kind><n>`, n counting the unnamed layers of that kind in this list, skipping a
        name that is taken or that another entry of the list writes out."""
        count = counters.get(kind, 0)
        while True:
            count += 1
            name = f"{kind}{count}"
            if scope.prefix + name not in self.defined and name not in scope.written:
                counters[kind] = count
                return name

    def _default_name(self, fields: YMap, kind: str, scope: Scope) -> str:
        """The next `<kind><n>`, or "" if the entry writes its name (a block's name may
        not make a layer name)."""
        if "name" in fields:
            return ""
        name = self._auto_name(kind, scope, scope.counters)
        check_layer_name(name, fields)
        return name

    def _claim(self, full: str, at: Claimed) -> None:
        """Define `full`, written at `at`: a position, or the fields whose `name:` it is
        (whose position is read only for an error)."""
        defined = self.defined
        if full not in defined and len(defined) <= MAX_LAYERS and full != INPUT:
            defined[full] = at  # the common case, checked at once
            return
        if len(self.defined) > MAX_LAYERS:
            raise too_many(self._where(at))
        if full == INPUT:
            raise SpecError(
                "`input` is reserved for the network input",
                self._where(at),
                "rename the layer",
            )
        if full in self.defined:
            first = self._where(self.defined[full])
            raise SpecError(
                f"duplicate layer name {full!r} (first at line {first.line})",
                self._where(at),
                "layer names must be unique; rename one",
            )
        self.defined[full] = at

    def _where(self, at: Claimed) -> SourcePos:
        return at.pos_of("name") if isinstance(at, YMap) else unpack(self.file, at)

    def resolve(
        self, ref: Any, scope: Scope, pos: SourcePos, what: str = "`from`", own: str | None = None
    ) -> str:
        """The real layer that `ref` names here; `own` is the name of the layer asking."""
        if not isinstance(ref, str):
            raise SpecError(
                f"{what} names layers, got {describe(ref)}",
                pos,
                "write `from: name` or `from: [name1, name2]`",
            )
        if ref == INPUT:  # the block's input; an input of several may be called `input` too
            several = scope.input_name == SEVERAL_INPUTS and INPUT in self.defined
            return INPUT if several else self._scope_input(scope, pos, own)
        for candidate in (scope.prefix + ref, ref):
            if candidate in self.defined and candidate != INPUT:
                resolved = self.alias.get(candidate, candidate)
                refuse_split(self, resolved, pos, what)
                return resolved
        if own is not None and ref == own:
            raise SpecError(
                f"layer {ref!r} takes its input from itself (a cycle)",
                pos,
                f"{what} names layers above this one; a network has no cycles",
            )
        later = self._defined_later(ref, scope)
        if later is not None:
            raise SpecError(
                f"layer {ref!r} is defined further down (line {later.line}); "
                f"{what} can only name layers above this one",
                pos,
                f"layers are listed in the order the data flows: move this layer below {ref!r}",
            )
        known = [
            n[len(scope.prefix) :]
            for n in self.defined
            if n.startswith(scope.prefix) and n != INPUT
        ]
        listing = "layers above this one" if what == "`from`" else "layers here"
        raise SpecError(
            f"unknown layer {ref!r} in {what}",
            pos,
            suggest(ref, [INPUT, *known]) or _listing(listing, known),
        )

    def _scope_input(self, scope: Scope, pos: SourcePos, own: str | None) -> str:
        """What `input` means in `scope`; at the top of a network of several, an error."""
        if scope.input_name != SEVERAL_INPUTS:
            return scope.input_name
        names = ", ".join(self.inputs)
        layer = f"layer {own}: " if own else ""
        raise SpecError(
            f"{layer}the network has several inputs ({names}): say which this layer takes",
            pos,
            f"write `from: {self.inputs[0]}`, or `from: [{self.inputs[0]}, ...]` to merge them",
        )

    def _defined_later(self, ref: str, scope: Scope) -> SourcePos | None:
        """Where an entry after the current one in this list defines `ref`, if one does."""
        entries = scope.entries
        if entries is None:
            return None
        counters = dict(scope.counters)
        later = zip(entries[scope.index + 1 :], entries.item_pos[scope.index + 1 :], strict=True)
        for entry, pos in later:
            name = self._entry_name(entry, counters, scope, pos)
            if name is not None and (ref == name or ref.startswith(name + ".")):
                return pos
        return None

    def _entry_name(
        self, entry: Any, counters: dict[str, int], scope: Scope, pos: SourcePos
    ) -> str | None:
        """The name an entry will define, as far as it can be told without expanding it."""
        if isinstance(entry, str):
            key: Any = entry.strip()
            fields: Any = None
        elif isinstance(entry, YMap) and len(entry) == 1:
            key = next(iter(entry))
            fields = entry[key]
        else:
            return None
        if key == "repeat":
            key = fields.get("block") if isinstance(fields, YMap) else None
        elif isinstance(key, str) and kind_named(key) is not None:
            key = kind_named(key)
        elif key not in self.blocks:
            short = parse_shorthand(key, pos) if isinstance(entry, str) else None
            key = short[0] if short else None
        if not isinstance(key, str):
            return None
        if isinstance(fields, YMap) and "name" in fields:
            return written_name(entry)
        return self._auto_name(key, scope, counters)


def too_many(pos: SourcePos) -> SpecError:
    return SpecError(
        f"the spec expands to more than {MAX_LAYERS:,} layers and block instances",
        pos,
        "a repeat, or a block nested in repeats, multiplies: check `times:`",
    )

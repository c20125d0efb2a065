"""Block expansion: layers, `blocks:` calls, `repeat:` and `when:` → IR nodes with unique names."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import replace
from typing import Any

from cnncalc.errors import LayerError, SourcePos, SpecError
from cnncalc.expr import Budget, substitute
from cnncalc.fields import describe
from cnncalc.graph import Node
from cnncalc.layers import KINDS, Op
from cnncalc.layers.base import kind_named
from cnncalc.shorthand import looks_like_shorthand, parse_shorthand, shorthand_hint
from cnncalc.spec.blocks import Block
from cnncalc.spec.layer import (
    ACTIVATION_FIELD,
    COMMON_FIELDS,
    PLAIN_TYPES,
    EntryKeys,
    activation_kind,
    check_bare_kind,
    kind_words,
    left_alone,
    make_op,
    split_expression_hint,
    suggest,
)
from cnncalc.spec.names import (
    MAX_LAYERS,
    Names,
    Scope,
    check_layer_name,
    too_many,
    written_names,
)
from cnncalc.spec.split import SPLIT_KINDS, expand_split, refuse_split
from cnncalc.yamlnodes import Packed, YList, YMap, unpack

TOP_KEYS = (
    "name",
    "description",
    "input",
    "inputs",
    "layout",
    "blocks",
    "layers",
    "outputs",
    "expect",
)
REPEAT_FIELDS = ("block", "times", "args", "name", "from", "trainable", "when")
MAX_BLOCK_DEPTH = 32


class Expander(Names):
    """Entries → IR nodes: layers, block calls, repeats, splits, `when:`."""

    def __init__(
        self,
        blocks: dict[str, Block],
        file: str,
        inputs: dict[str, SourcePos] | None = None,
    ) -> None:
        super().__init__(blocks, file, inputs)
        self.nodes: list[Node] = []
        self.node_fields: list[YMap | None] = []  # each node's entry fields, for `field_pos`
        self.budget = Budget()  # the work all `$` expressions of the spec may do
        self.ops: dict[str, Op] = {}  # ops written alike as one object: a net repeats a few
        self.made: dict[tuple[str, str], Op] = {}  # kind and the repr of values → its op
        # an entry's keys, and its values as written (with their types) → its op
        self.plain_ops: dict[tuple[EntryKeys, tuple[Any, ...], tuple[type, ...]], Op] = {}
        self.entry_keys: dict[tuple[str, ...], EntryKeys] = {}  # kind and keys as written
        self.bare: dict[str, str] = {}  # entries that are a kind's name alone → the kind

    def add_node(self, node: Node, fields: YMap | None = None) -> None:
        self.nodes.append(node)
        self.node_fields.append(fields)

    def field_pos(self, node: Node, name: str) -> SourcePos:
        """Where field `name` of `node` is written (`graph.FieldPos`), or the node: its key's
        value, through the alias it is written as. Looked up for an error only."""
        index = next(i for i, n in enumerate(self.nodes) if n is node)
        fields = self.node_fields[index]
        if fields is None:
            return node.pos
        known = self.entry_keys.get((node.kind, *fields))
        key = known.fields.get(name, name) if known and known.fields else name
        found: SourcePos = fields.value_pos.get(key, node.pos)
        return found

    def _shared(self, op: Op) -> Op:
        """The op already made with the same kind and field values, or `op`. Keyed by the
        repr, not equality: 0.0 and -0.0, or 2 and 2.0, are equal but print differently."""
        return self.ops.setdefault(repr(op), op)

    # --- entries ------------------------------------------------------------------------

    def expand_list(self, entries: Any, scope: Scope, pos: SourcePos) -> None:
        if not isinstance(entries, YList):
            raise SpecError(f"`layers` must be a list, got {describe(entries)}", pos)
        scope.entries = entries
        scope.written = written_names(entries)
        # each entry's position as the reader packed it (a SourcePos is made only if needed)
        packed = entries._item_at
        for index, (entry, at) in enumerate(zip(entries, packed, strict=True)):
            scope.index = index
            self.expand_entry(entry, scope, at)

    def expand_entry(self, entry: Any, scope: Scope, at: Packed) -> None:
        if type(entry) is YMap and len(entry) == 1:  # the common case first: `- conv: {...}`
            key = next(iter(entry))
            fields = entry[key]
            if type(fields) is YMap and type(key) is str and (kind := kind_named(key)):
                self.add_layer(kind, fields, scope, at)
                return
        pos = unpack(self.file, at)
        if type(entry) is str and (kind := self.bare.get(entry)):  # `- relu`, seen before
            self.add_layer(kind, YMap(pos), scope, pos)
            return
        if isinstance(entry, str):
            key, fields = entry.strip(), YMap(pos)
        elif isinstance(entry, YMap) and len(entry) == 1:
            key = next(iter(entry))
            fields = entry[key]
            if fields is None:
                fields = YMap(entry.pos_of(key))
            if not isinstance(fields, YMap):
                raise SpecError(
                    f"the fields of {key!r} must be a mapping, got {describe(fields)}",
                    entry.pos_of(key),
                    f"write `- {key}: {{field: value}}`",
                )
        else:
            raise SpecError(
                f"a layer is a kind name or a one-key mapping, got {describe(entry)}",
                pos,
                "write `- relu` or `- conv: {filters: 64, kernel: 3}`",
            )
        kind = kind_named(key) if isinstance(key, str) else None
        if kind is not None:
            if isinstance(entry, str):
                if looks_like_shorthand(key):
                    check_bare_kind(key, kind, pos)
                self.bare[entry] = kind
            self.add_layer(kind, fields, scope, pos)
        elif key == "repeat":
            self.repeat(fields, scope, pos)
        elif key in SPLIT_KINDS:
            expand_split(self, key, fields, scope, pos)
        elif key in self.blocks:
            self.call_block(self.blocks[key], fields, scope, pos)
        elif isinstance(entry, str) and (short := parse_shorthand(key, pos)) is not None:
            kind, values = short
            shorthand_fields = YMap(pos)
            shorthand_fields.update(values)
            self.add_layer(kind, shorthand_fields, scope, pos)
        else:
            raise self._unknown_kind(key, entry, pos)

    def _unknown_kind(self, key: str, entry: Any, pos: SourcePos) -> SpecError:
        if parse_shorthand(key, pos) is not None:  # shorthand, but written as a mapping
            return SpecError(
                f"shorthand layer {key!r} takes no fields",
                pos,
                f"write `- {key}` on its own, or spell the layer out as `- conv: {{...}}`",
            )
        if looks_like_shorthand(key):
            return SpecError(f"malformed shorthand layer {key!r}", pos, shorthand_hint(key))
        hint = suggest(key, [*kind_words(), *self.blocks, "repeat"])
        if hint is None and isinstance(entry, str) and " - " in key:
            hint = "two list items ran together: put each `- ` on its own line, aligned"
        elif hint is None:
            hint = "layer kinds: " + ", ".join(sorted(KINDS))
            if self.blocks:
                hint += "; blocks: " + ", ".join(self.blocks)
        return SpecError(f"unknown layer kind {key!r}", pos, hint)

    def _value(self, fields: YMap, key: str, scope: Scope) -> Any:
        try:
            return substitute(fields[key], scope.names, self.budget)
        except LayerError as exc:
            raise _at_key(exc, fields, key) from None

    def _values(self, fields: YMap, keys: dict[str, str], scope: Scope) -> dict[str, Any]:
        """Each name → the value of its key in `fields` (`_value` of each, in one loop)."""
        names, budget = scope.names, self.budget
        values = {}
        try:
            for name, key in keys.items():
                values[name] = substitute(fields[key], names, budget)
        except LayerError as exc:
            raise _at_key(exc, fields, key) from None
        return values

    def _flag(self, fields: YMap, key: str, scope: Scope, default: bool) -> bool:
        if key not in fields:
            return default
        value = self._value(fields, key, scope)
        if not isinstance(value, bool):
            raise SpecError(
                f"`{key}` must be true or false, got {describe(value)}",
                fields.pos_of(key),
                f"write `{key}: true`, `{key}: false` or a condition like `{key}: $(i == 0)`",
            )
        return value

    def _common(
        self,
        fields: YMap,
        scope: Scope,
        default_name: str,
        present: Container[str] | None = None,
    ) -> tuple[str, bool, bool, list[str]]:
        """(full name, included, trainable, resolved inputs) of an entry. `present`: which
        of COMMON_FIELDS it writes, when known (default: `fields` is asked)."""
        if present is None:
            present = fields
        if "name" in present:
            name = self._value(fields, "name", scope)
            check_layer_name(name, fields)
        else:
            name = default_name
        included = "when" not in present or self._flag(fields, "when", scope, True)
        trainable = scope.trainable and (
            "trainable" not in present or self._flag(fields, "trainable", scope, True)
        )
        if "from" in present:
            refs = self._value(fields, "from", scope)
            refs = refs if isinstance(refs, list) else [refs]
            if not refs:
                raise SpecError("`from` is empty", fields.pos_of("from"))
            at = fields.pos_of("from")
            inputs = [self.resolve(r, scope, at, own=name) for r in refs]
        else:
            inputs = [scope.previous or self._scope_input(scope, fields.pos, name)]
            if included and inputs[0] in self.splits:  # a skipped layer stands for its input
                where = f"layer {scope.prefix}{name} has no `from`;"
                refuse_split(self, inputs[0], fields.pos, where)
        return scope.prefix + name, included, trainable, inputs

    def add_layer(self, kind: str, fields: YMap, scope: Scope, at: Packed) -> None:
        """Add the layer of one entry, written at `at` (a SourcePos, or packed)."""
        keys = (kind, *fields)
        known = self.entry_keys.get(keys)
        if known is None:
            known = self.entry_keys[keys] = EntryKeys(fields)
        present = known.present
        named = "name" in present
        default = "" if named else self._auto_name(kind, scope, scope.counters)
        full, included, trainable, inputs = self._common(fields, scope, default, present)
        self._claim(full, fields if named else at)
        if not included:
            self.alias[full] = inputs[0]
            scope.previous = inputs[0]
            return
        written = known.fields
        if written is None:
            written = known.check(kind, fields, full, unpack(self.file, at))
        op = self._op(kind, fields, known, written, scope, full, at)
        functional = "functional" in present and self._flag(fields, "functional", scope, False)
        unused = "unused" in present and self._flag(fields, "unused", scope, False)
        node = Node(full, op, tuple(inputs), trainable, at, functional, unused, self.file)
        self.add_node(node, fields)
        scope.previous = full
        if known.activation:
            self._add_activation(fields, scope, full)

    def _op(
        self,
        kind: str,
        fields: YMap,
        known: EntryKeys,
        written_as: dict[str, str],
        scope: Scope,
        full: str,
        at: Packed,
    ) -> Op:
        """The op of a layer entry: layers written alike make one op, made once. An entry
        whose values need no substitution is looked up by its values as written, with their
        types (2 and 2.0, or 1 and true, are equal but make different ops); any other by
        the repr of its values, as `_shared` does."""
        if not known.keys:  # sets no field (`- relu`): one op for all
            if known.op is None:
                known.op = self._shared(make_op(kind, {}, {}, fields, full, unpack(self.file, at)))
            return known.op
        written = tuple(map(fields.__getitem__, known.keys))
        types = tuple(map(type, written))
        plain = PLAIN_TYPES.issuperset(types)
        if plain:
            op = self.plain_ops.get((known, written, types))
            if op is not None:
                return op
        values = self._values(fields, written_as, scope)
        op = self.made.get((kind, as_written := repr(values)))
        if op is None:
            pos = unpack(self.file, at)
            op = self._shared(make_op(kind, values, written_as, fields, full, pos))
            self.made[kind, as_written] = op
        if plain and all(map(left_alone, written)):
            self.plain_ops[known, written, types] = op
        return op

    def _add_activation(self, fields: YMap, scope: Scope, full: str) -> None:
        """`activation: relu` (Keras): a relu layer `<name>.act` right after the layer; the
        layer's name then stands for the activated output, as in Keras."""
        pos = fields.pos_of(ACTIVATION_FIELD)
        kind = activation_kind(self._value(fields, ACTIVATION_FIELD, scope), full, pos)
        if kind is None:
            return
        name = full + ".act"
        self._claim(name, pos)
        layer = self.nodes[-1]  # `unused` marks what the name stands for: the activation
        if layer.unused:
            self.nodes[-1] = replace(layer, unused=False)
        self.add_node(Node(name, KINDS[kind](), (full,), True, pos, unused=layer.unused))
        self.alias[full] = name
        scope.previous = name

    def call_block(
        self,
        block: Block,
        fields: YMap,
        scope: Scope,
        pos: SourcePos,
        extra: dict[str, Any] | None = None,
    ) -> None:
        # an instance of a repeat is named by the repeat and does not count as a call
        default = block.name if extra is not None else self._default_name(fields, block.name, scope)
        full, included, trainable, inputs = self._common(fields, scope, default)
        self._claim(full, fields.packed_pos("name", pos))
        if not included:
            self.alias[full] = inputs[0]
            scope.previous = inputs[0]
            return
        names = dict(extra or {})
        args = dict(block.args)
        for key in fields:
            if key in ("functional", "unused"):
                raise SpecError(
                    f"`{key}` applies to a layer, not to a block call",
                    fields.key_pos.get(key, pos),
                    f"put `{key}: true` on the last layer of block {block.name}"
                    if key == "unused"
                    else f"put `functional: true` on the layers inside block {block.name}",
                )
            if key in COMMON_FIELDS:
                continue
            if key not in block.args:
                raise SpecError(
                    f"block {block.name} has no argument {key!r}",
                    fields.key_pos.get(key, pos),
                    split_expression_hint(fields)
                    or suggest(key, list(block.args))
                    or f"its arguments: {', '.join(block.args) or 'none'}",
                )
            args[key] = self._value(fields, key, Scope("", {**scope.names, **names}, "", True))
        missing = [k for k, v in args.items() if v is None]
        if missing:
            declared = block.arg_pos.get(missing[0])
            where = f" (declared without a default at line {declared.line})" if declared else ""
            raise SpecError(
                f"block {block.name} needs argument `{missing[0]}`{where}",
                pos,
                f"pass it: `- {block.name}: {{{missing[0]}: ...}}`",
            )
        order = list(block.args)
        for index, key in enumerate(order):  # a default may use the arguments declared before it
            if key not in fields:
                known = {k: args[k] for k in order[:index]}
                try:
                    args[key] = substitute(args[key], known, self.budget)
                except LayerError as exc:
                    earlier = ", ".join(order[:index]) or "none"
                    raise SpecError(
                        f"block {block.name}: default of `{key}`: {exc.message}",
                        block.arg_pos.get(key, pos),
                        f"a default may use only the arguments declared before it ({earlier})",
                    ) from None
        if scope.depth >= MAX_BLOCK_DEPTH:
            raise self._too_deep(block, scope, pos)
        inner = Scope(
            full + ".",
            args,
            inputs[0],
            trainable,
            scope.depth + 1,
            chain=(*scope.chain, block.name),
        )
        self.expand_list(block.layers, inner, block.pos)
        if block.output is not None:
            output = self.resolve(block.output, inner, block.pos, f"`output` of block {block.name}")
        else:
            output = inner.previous or inner.input_name
        self.alias[full] = output
        scope.previous = output

    def _too_deep(self, block: Block, scope: Scope, pos: SourcePos) -> SpecError:
        chain = [*scope.chain, block.name]
        if block.name in scope.chain:
            start = len(scope.chain) - 1 - scope.chain[::-1].index(block.name)
            cycle = " → ".join(chain[start:])
            return SpecError(
                f"block {block.name} calls itself endlessly ({cycle} → …)",
                pos,
                "a block may call itself only under a `when:` that ends the recursion "
                f"within {MAX_BLOCK_DEPTH} levels",
            )
        return SpecError(
            f"blocks are nested more than {MAX_BLOCK_DEPTH} deep ({' → '.join(chain)})", pos
        )

    def repeat(self, fields: YMap, scope: Scope, pos: SourcePos) -> None:
        for key in fields:
            if key not in REPEAT_FIELDS:
                raise SpecError(
                    f"repeat has no field {key!r}",
                    fields.key_pos.get(key, pos),
                    suggest(key, REPEAT_FIELDS) or f"repeat fields: {', '.join(REPEAT_FIELDS)}",
                )
        block_name = self._value(fields, "block", scope) if "block" in fields else None
        if block_name not in self.blocks:
            raise SpecError(
                f"repeat needs `block:` naming a defined block, got {describe(block_name)}",
                fields.pos_of("block") if "block" in fields else pos,
                suggest(str(block_name), list(self.blocks)) if block_name else None,
            )
        times = self._value(fields, "times", scope) if "times" in fields else None
        if not isinstance(times, int) or isinstance(times, bool) or times < 1:
            raise SpecError(
                f"repeat needs `times:` a positive integer, got {describe(times)}",
                fields.pos_of("times") if "times" in fields else pos,
                "write e.g. `- repeat: {block: name, times: 3}`",
            )
        block = self.blocks[block_name]
        # each instance names itself and at least one name per entry of the block: refuse now
        # what would exceed the limit, rather than after expanding it
        per_instance = 1 + (len(block.layers) if isinstance(block.layers, list) else 0)
        if len(self.defined) + times * per_instance > MAX_LAYERS:
            raise too_many(fields.pos_of("times"))
        args = fields.get("args", YMap(pos))
        if not isinstance(args, YMap):
            raise SpecError(
                f"`args` must be a mapping, got {describe(args)}", fields.pos_of("args")
            )
        base = YMap(pos)
        base.update({k: fields[k] for k in COMMON_FIELDS if k in fields})
        base.value_pos.update({k: fields.pos_of(k) for k in COMMON_FIELDS if k in fields})
        default = self._default_name(base, block.name, scope)
        full, included, _, inputs = self._common(base, scope, default)
        self._claim(full, fields.packed_pos("name", pos))
        if not included:
            self.alias[full] = inputs[0]
            scope.previous = inputs[0]
            return
        for i in range(times):
            call = YMap(args.pos)
            if args:
                call.update(args)
                call.key_pos.update(args.key_pos)
                call.value_pos.update(args.value_pos)
            call["name"] = f"{full[len(scope.prefix) :]}.{i}"
            if i == 0 and "from" in fields:
                call["from"] = fields["from"]
                call.value_pos["from"] = fields.pos_of("from")
            if "trainable" in fields:
                call["trainable"] = fields["trainable"]
                call.value_pos["trainable"] = fields.pos_of("trainable")
            self.call_block(block, call, scope, pos, extra={"i": i, "times": times})
        self.alias[full] = scope.previous or scope.input_name


def _at_key(error: LayerError, fields: YMap, key: str) -> SpecError:
    """An expression's error, at the value of `key`."""
    return SpecError(error.message, fields.pos_of(key), error.hint)

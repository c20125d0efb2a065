"""One layer entry → an `Op`: the frameworks' names for kinds and fields, and conversion.

A kind is named by itself or an alias it declares (`Conv2d`, `Dense`), in any case; a field by
its name or an alias (`out_channels`, `kernel_size`). The IR only ever sees the kind's own
names.
"""

from __future__ import annotations

import difflib
import functools
from typing import Any

from cnncalc.errors import LayerError, SourcePos, SpecError
from cnncalc.expr import SCANNED_FREE
from cnncalc.fields import describe
from cnncalc.layers import KINDS, Op
from cnncalc.layers.activation import Activation
from cnncalc.layers.base import FieldInfo, kind_named, own_aliases
from cnncalc.shorthand import shorthand_hint
from cnncalc.yamlnodes import YMap

COMMON_FIELDS = ("name", "from", "trainable", "when", "functional", "unused")
ACTIVATION_FIELD = "activation"  # Keras' habit, on kinds that take it: a layer right after
NO_ACTIVATION = ("linear", "none")  # Keras' default `linear`: no activation layer


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def split_expression_hint(fields: YMap) -> str | None:
    """A hint when a `,` inside `$(...)` in a `{...}` mapping cut the expression in two."""
    for key, value in fields.items():
        if isinstance(value, str) and "$(" in value and value.count("(") > value.count(")"):
            return (
                f"the `,` in `{key}: {value}, ...` ends the value inside {{...}}: "
                f'quote the expression, e.g. `{key}: "$(max(a, b))"`'
            )
    return None


@functools.cache
def _declared(kind: str) -> tuple[list[FieldInfo], dict[str, str], list[str]]:
    """`kind`'s fields, each name or alias → its field, and the other keys an entry may have."""
    cls = KINDS[kind]
    infos = cls.fields()
    by_key = {key: info.name for info in infos for key in (info.name, *info.aliases)}
    extra = [*COMMON_FIELDS, *((ACTIVATION_FIELD,) if cls.takes_activation else ())]
    return infos, by_key, extra


def written_fields(kind: str, fields: YMap, full: str, pos: SourcePos) -> dict[str, str]:
    """Each field of `kind` that the entry sets → the key it is written as (the field's name
    or one of its aliases); an unknown key, or a field set twice, is an error."""
    infos, by_key, extra = _declared(kind)
    written: dict[str, str] = {}
    for key in fields:
        if key in extra:
            continue
        if key not in by_key:
            known = [f.name for f in infos]
            raise SpecError(
                f"layer {full}: {kind} has no field {key!r}",
                fields.key_pos.get(key, pos),
                split_expression_hint(fields)
                or suggest(key, [*by_key, *extra])
                or f"{kind} fields: {', '.join([*known, *extra])}",
            )
        name = by_key[key]
        if name in written:
            raise SpecError(
                f"layer {full}: `{written[name]}` and `{key}` both set {kind}'s `{name}`",
                fields.key_pos.get(key, pos),
                "keep one of them",
            )
        written[name] = key
    return written


PLAIN_TYPES = frozenset((int, str, bool, type(None)))  # values `substitute` may leave alone


def left_alone(value: Any) -> bool:
    """Whether `substitute` returns `value` as it is, without spending the budget."""
    if type(value) is str:
        return "$" not in value and len(value) < SCANNED_FREE
    return not isinstance(value, list)


class EntryKeys:
    """What a layer entry's kind and keys tell, worked out once per distinct kind and key set
    (a long network writes a few): which of COMMON_FIELDS it writes, and, once checked, each
    field of the kind it sets → the key it is written as."""

    __slots__ = ("activation", "fields", "keys", "op", "present")

    def __init__(self, fields: YMap) -> None:
        self.present = frozenset(fields.keys() & set(COMMON_FIELDS))
        self.activation = ACTIVATION_FIELD in fields
        self.fields: dict[str, str] | None = None  # not checked yet
        self.keys: tuple[str, ...] = ()  # the keys `fields` are written as, in order
        self.op: Op | None = None  # the op, for entries that set no field

    def check(self, kind: str, fields: YMap, full: str, pos: SourcePos) -> dict[str, str]:
        """Check the keys of the first entry written so (`written_fields`), and keep them."""
        written = written_fields(kind, fields, full, pos)
        self.keys = tuple(written.values())
        self.fields = written
        return written


def make_op(
    kind: str,
    values: dict[str, Any],
    written: dict[str, str],
    fields: YMap,
    full: str,
    pos: SourcePos,
) -> Op:
    """The `kind` op from the entry's values (by field name, `$` already substituted)."""
    infos = _declared(kind)[0]
    converted: dict[str, Any] = {}
    for info in infos:
        if info.name in values:
            key = written[info.name]
            try:
                converted[info.name] = info.ftype.convert(values[info.name])
            except LayerError as exc:
                raise SpecError(
                    f"layer {full}: `{key}` {exc.message}", fields.pos_of(key), exc.hint
                ) from None
        elif info.required:
            raise SpecError(
                f"layer {full}: {kind} needs `{info.name}` ({info.doc})",
                pos,
                f"add `{info.name}: ...` ({info.ftype.expects})",
            )
    for info in infos:
        if info.default_from and info.name not in converted:
            converted[info.name] = converted[info.default_from]
    return KINDS[kind](**converted)


def check_bare_kind(word: str, kind: str, pos: SourcePos) -> None:
    """A bare `FC` or `MaxPool` is unfinished shorthand rather than a layer without fields."""
    required = [f.name for f in KINDS[kind].fields() if f.required]
    if required:
        spelled = ", ".join(f"{name}: ..." for name in required)
        raise SpecError(
            f"malformed shorthand layer {word!r}",
            pos,
            f"{shorthand_hint(word)}; or spell the layer out: `- {word}: {{{spelled}}}`",
        )


def activation_kind(value: Any, full: str, pos: SourcePos) -> str | None:
    """The kind `activation: VALUE` adds after layer `full`; None for `linear` or null."""
    if value is None or (isinstance(value, str) and value.lower() in NO_ACTIVATION):
        return None
    kind = kind_named(value) if isinstance(value, str) else None
    if kind is None or not issubclass(KINDS[kind], Activation):
        activations = [k for k, cls in KINDS.items() if issubclass(cls, Activation)]
        raise SpecError(
            f"layer {full}: `activation` names an activation, got {describe(value)}",
            pos,
            (suggest(value, activations) if isinstance(value, str) else None)
            or f"activations: {', '.join(activations)}; `linear` for none",
        )
    return kind


def kind_words() -> list[str]:
    """Every kind and alias, for suggestions."""
    return [*KINDS, *(alias for cls in KINDS.values() for alias in own_aliases(cls))]

"""The JSON Schema of spec files, generated from the declarations the parser itself reads.

Each layer kind's fields come from `Op.fields()` (their `FieldType.schema` fragments), the
keys of a spec, of a layer and of a `repeat` from `cnncalc.spec`, and bare shorthand layers
from the shorthand's own regular expressions — so the schema cannot drift from the parser.

The schema accepts every spec the parser accepts, except that it also checks what the parser
skips: the layers of a block that is never called and the fields of a layer with `when:
false`. It is looser elsewhere: it cannot know which names `blocks:` define, nor check shapes,
names or `from`. Block arguments make any number, boolean or choice writable as a `$name` /
`$(expression)` string, so wherever such a value is expected, a string starting with `$` is
accepted too. Draft 7, which editors support best.
"""

from __future__ import annotations

import copy
import itertools
import re
from typing import Any

from cnncalc import __version__, shorthand
from cnncalc.layers import KINDS
from cnncalc.layers.activation import Activation
from cnncalc.layers.base import FieldInfo, own_aliases
from cnncalc.spec import MAX_LAYERS, REPEAT_FIELDS, TOP_KEYS
from cnncalc.spec.layer import ACTIVATION_FIELD, NO_ACTIVATION, kind_words
from cnncalc.spec.split import MAX_PARTS, SPLIT_FIELDS, SPLIT_KINDS

DRAFT = "http://json-schema.org/draft-07/schema#"

EXPRESSION: dict[str, Any] = {
    "type": "string",
    "pattern": r"^\s*\$",
    "description": "a block argument `$name` or an expression `$(...)`",
}
_EXPR = {"$ref": "#/definitions/expression"}

_SCALAR_TYPES = {"integer", "number", "boolean", "string", "null"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/definitions/{name}"}


def _alternatives(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The branches of an anyOf without other keywords, or the schema itself."""
    if set(schema) == {"anyOf"}:
        return list(schema["anyOf"])
    return [schema]


def with_expressions(fragment: dict[str, Any]) -> dict[str, Any]:
    """`fragment`, where every value a block argument could supply may also be `$...`.

    oneOf becomes anyOf: a `$` string would otherwise match two branches and fail oneOf.
    """
    choices = fragment.get("oneOf", fragment.get("anyOf"))
    if choices is not None:
        rest = {k: v for k, v in fragment.items() if k not in ("oneOf", "anyOf")}
        branches: list[dict[str, Any]] = []
        for choice in choices:
            for branch in _alternatives(with_expressions(choice)):
                if branch not in branches:
                    branches.append(branch)
        return {**rest, "anyOf": branches}
    if fragment.get("type") == "array":
        lifted = dict(fragment)
        if "items" in lifted:
            lifted["items"] = with_expressions(lifted["items"])
        return {"anyOf": [lifted, _EXPR]}
    if fragment.get("type") in _SCALAR_TYPES or "enum" in fragment or "const" in fragment:
        return {"anyOf": [fragment, _EXPR]}
    return fragment


def ecma_pattern(regex: re.Pattern[str]) -> str:
    """A Python regular expression compiled with re.IGNORECASE, as a case-insensitive pattern
    JSON Schema (ECMA 262, which has no inline flags) understands: `conv` → `[cC][oO]...`."""
    source = regex.pattern
    if not regex.flags & re.IGNORECASE:
        return source
    out = []
    escaped = in_class = False
    for char in source:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif char in "[]":
            in_class = char == "["
            out.append(char)
        elif char.isalpha() and not in_class and char.lower() != char.upper():
            out.append(f"[{char.lower()}{char.upper()}]")
        else:
            out.append(char)
    return "".join(out)


def words_pattern(words: list[str]) -> str:
    """Any of `words`, whole and in any case, as an ECMA 262 pattern."""
    alternatives = (ecma_pattern(re.compile(re.escape(w), re.IGNORECASE)) for w in words)
    return "^(?:" + "|".join(alternatives) + ")$"


def kind_pattern(kind: str) -> str:
    """The names of `kind` a spec may write: the kind and its aliases, in any case."""
    return words_pattern([kind, *own_aliases(KINDS[kind])])


def shorthand_pattern() -> str:
    """A bare shorthand layer (`Conv4-5-Pvalid-S2`, `Pool3`, `FC5`), surrounding spaces allowed."""
    forms = (shorthand._CONV, shorthand._POOL, shorthand._FC)
    return r"^\s*(?:" + "|".join(f"(?:{ecma_pattern(p)})" for p in forms) + r")\s*$"


def _json_default(value: Any) -> Any:
    """A field default as a spec would write it: (1, 1) → 1, (0, 0, 0, 0) → 0."""
    if isinstance(value, tuple):
        if value and all(v == value[0] for v in value):
            return value[0]
        return list(value)
    return value


def _field(info: FieldInfo) -> dict[str, Any]:
    schema = with_expressions(copy.deepcopy(info.ftype.schema))
    doc = info.doc
    if info.default_from is not None:
        doc += f" (default: the {info.default_from})"
    schema = {"description": f"{doc}; {info.ftype.expects}", **schema}
    if not info.required and info.default_from is None and info.default is not None:
        schema["default"] = _json_default(info.default)
    return schema


_NAME = {
    "type": "string",
    "pattern": r"^[^ ,\t]+$",
    "not": {"const": "input"},
}
_FLAG = {"anyOf": [{"type": "boolean"}, _EXPR]}

# The fields every layer has (spec.COMMON_FIELDS; a test checks that the keys agree).
COMMON: dict[str, dict[str, Any]] = {
    "name": {
        "description": "unique name (default: <kind><n>, e.g. conv1); `input` is reserved",
        "anyOf": [_NAME, _EXPR],
    },
    "from": {
        "description": "a layer name or a list of names (`input`: the network's or the "
        "block's input); default: the previous layer",
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}, "minItems": 1},
        ],
    },
    "trainable": {"description": "false freezes the layer's parameters", **_FLAG},
    "when": {"description": "false leaves the layer out (its name stands for its input)", **_FLAG},
    "functional": {
        "description": "PyTorch applies it as a function (F.relu), which ptflops counts apart",
        **_FLAG,
    },
    "unused": {
        "description": "true: the end of a branch no output needs, left out of the network "
        "with the layers that only feed it (otherwise such a branch is an error)",
        **_FLAG,
    },
}


def _activation() -> dict[str, Any]:
    names = [NO_ACTIVATION[0], *NO_ACTIVATION[1:]]
    for kind, cls in KINDS.items():
        if issubclass(cls, Activation):
            names += [kind, *own_aliases(cls)]
    return {
        "description": "an activation layer `<name>.act` right after this one (Keras); "
        "`linear`: none",
        "anyOf": [{"type": "string", "pattern": words_pattern(names)}, {"type": "null"}, _EXPR],
    }


def _kind(kind: str) -> dict[str, Any]:
    cls = KINDS[kind]
    infos = cls.fields()
    properties = {info.name: _field(info) for info in infos}
    for info in infos:
        for alias in info.aliases:
            field = _field(info)
            properties[alias] = {**field, "description": f"`{info.name}`: {field['description']}"}
    if cls.takes_activation:
        properties[ACTIVATION_FIELD] = _activation()
    properties.update({k: v for k, v in COMMON.items() if k not in properties})
    fields: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    # a field is set once, by its name or one alias
    constraints: list[dict[str, Any]] = [
        {"not": {"required": [a, b]}}
        for info in infos
        for a, b in itertools.combinations([info.name, *info.aliases], 2)
    ]
    constraints += [
        {"anyOf": [{"required": [name]} for name in (info.name, *info.aliases)]}
        for info in infos
        if info.required
    ]
    if constraints:
        fields["allOf"] = constraints
    doc = cls.doc
    if own_aliases(cls):
        doc += "; also written " + ", ".join(own_aliases(cls))
    if any(info.required for info in infos):
        return {"description": doc, **fields}
    return {"description": doc, "anyOf": [{"type": "null"}, fields]}


def _repeat() -> dict[str, Any]:
    own: dict[str, dict[str, Any]] = {
        "block": {"description": "the block to repeat", "type": "string"},
        "times": {
            "description": "how many instances (<name>.0, <name>.1, …)",
            "anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_LAYERS}, _EXPR],
        },
        "args": {
            "description": "the block's arguments; `$(...)` may use i (0-based) and times",
            "type": "object",
        },
    }
    properties = {key: own.get(key) or COMMON[key] for key in REPEAT_FIELDS}
    return {
        "description": "instances of a block, one after the other",
        "type": "object",
        "properties": properties,
        "required": ["block", "times"],
        "additionalProperties": False,
    }


def _split(kind: str) -> dict[str, Any]:
    """`split`/`chunk` (see cnncalc.spec.split): parts named `<name>.0`, `<name>.1`, …"""
    parts = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_PARTS}, _EXPR]}
    sizes = {
        "anyOf": [
            {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
            _EXPR,
        ]
    }
    own = {
        "sizes": {"description": "the parts' channels, adding up to C", **sizes},
        "chunks": {"description": "the number of equal parts", **parts},
    }
    return {
        "description": "the channels in parts `<name>.0`, `<name>.1`, … (one slice each)",
        "type": "object",
        "properties": {**{k: own[k] for k in SPLIT_FIELDS[kind]}, **COMMON},
        "oneOf": [{"required": [k]} for k in SPLIT_FIELDS[kind]],
        "additionalProperties": False,
    }


def _entry(calls: bool) -> dict[str, Any]:
    """A layer list item; `calls`: a block may be called by name (the spec has `blocks:`)."""
    kinds = sorted(KINDS)
    bare: dict[str, Any] = {
        "type": "string",
        "anyOf": [
            {"enum": kinds},
            {"pattern": words_pattern(kind_words())},
            {"pattern": shorthand_pattern()},
        ],
    }
    if calls:
        bare["anyOf"].append({"description": "a block called without arguments"})
    mapping: dict[str, Any] = {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {
            **{k: _ref(f"kind.{k}") for k in kinds},
            "repeat": _ref("repeat"),
            **{k: _ref(k) for k in SPLIT_KINDS},
        },
        "patternProperties": {kind_pattern(k): _ref(f"kind.{k}") for k in kinds},
        "additionalProperties": _ref("call") if calls else False,
    }
    return {
        "description": "a layer: a kind (`relu`), shorthand (`Conv3-16`), a one-key mapping "
        "`kind: {field: value}`, a block call, or `repeat`",
        "anyOf": [bare, mapping],
    }


def _call() -> dict[str, Any]:
    return {
        "description": "a call of a block defined under `blocks:`, with its arguments",
        "anyOf": [
            {"type": "null"},
            {"type": "object", "properties": dict(COMMON), "additionalProperties": True},
        ],
    }


def _block() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "description": {"type": "string"},
            "args": {
                "description": "argument defaults; `null` makes an argument required",
                "anyOf": [{"type": "null"}, {"type": "object"}],
            },
            "layers": {"type": "array", "items": _ref("entry_or_call")},
            "output": {
                "description": "the layer whose output is the block's (default: the last)",
                "type": "string",
            },
        },
        "required": ["layers"],
        "additionalProperties": False,
    }


def _top() -> dict[str, dict[str, Any]]:
    dims = {"type": "integer", "minimum": 1}
    shape = {"type": "array", "items": dims, "minItems": 1, "maxItems": 4}
    names = {"type": "string", "pattern": r"^[^ ,\t.]+$"}
    return {
        "name": {"description": "the network's name (default: the file's stem)", "type": "string"},
        "description": {"description": "a one-line summary, shown by `cnncalc zoo`"},
        "input": {
            "description": "[H, W, C] ([C, H, W] with layout: chw); [L, C] or [D, H, W, C] for "
            "1-D or 3-D; [N] for a flat input",
            **shape,
        },
        "inputs": {
            "description": "several inputs, instead of `input`: each one's name (used in "
            "`from:`) and shape, e.g. {image: [224, 224, 3], depth: [224, 224, 1]}",
            "type": "object",
            "minProperties": 1,
            "propertyNames": names,
            "additionalProperties": shape,
        },
        "outputs": {
            "description": "the layers whose results the network gives (default: the last "
            "layer); every layer must lead to one, or be marked `unused`",
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
            ],
        },
        "layout": {"description": "how `input` is ordered", "enum": ["hwc", "chw"]},
        "blocks": {
            "description": "parameterized groups of layers, called like a kind or repeated",
            "type": "object",
            "propertyNames": {
                "not": {
                    "anyOf": [
                        {"enum": ["repeat", *SPLIT_KINDS]},
                        {"pattern": words_pattern(kind_words())},
                    ]
                }
            },
            "additionalProperties": _ref("block"),
        },
        "layers": {
            "description": "the layers, in the order the data flows",
            "type": "array",
            "minItems": 1,
        },
        "expect": {"description": "expectations and budgets checked by `cnncalc check`"},
    }


def spec_schema() -> dict[str, Any]:
    """The JSON Schema (draft 7) of a cnncalc spec file."""
    top = _top()
    definitions: dict[str, Any] = {"expression": EXPRESSION}
    definitions.update({f"kind.{k}": _kind(k) for k in sorted(KINDS)})
    definitions.update(
        {
            "repeat": _repeat(),
            **{k: _split(k) for k in SPLIT_KINDS},
            "call": _call(),
            "block": _block(),
            "entry": _entry(calls=False),
            "entry_or_call": _entry(calls=True),
        }
    )
    return {
        "$schema": DRAFT,
        "title": "cnncalc spec",
        "description": f"A CNN architecture for cnncalc {__version__}: `input` (or named "
        "`inputs`) and `layers`, optional `blocks` and `outputs`.",
        "type": "object",
        "properties": {key: top[key] for key in TOP_KEYS},
        "required": ["layers"],
        "oneOf": [{"required": ["input"]}, {"required": ["inputs"]}],
        "additionalProperties": False,
        # block names can be called only when the spec has blocks
        "if": {"required": ["blocks"]},
        "then": {"properties": {"layers": {"items": _ref("entry_or_call")}}},
        "else": {"properties": {"layers": {"items": _ref("entry")}}},
        "definitions": definitions,
    }


__all__ = [
    "COMMON",
    "EXPRESSION",
    "ecma_pattern",
    "kind_pattern",
    "shorthand_pattern",
    "spec_schema",
    "words_pattern",
]

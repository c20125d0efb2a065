"""What both YAML readers (libyaml's events in `yamltree`, the line reader in `yamlfast`) hold
to: the limits of a spec's YAML, the tags allowed, what a plain scalar means, and the texts
kept once."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml

from cnncalc.errors import SpecError
from cnncalc.yamlnodes import unpack

_SCALARS = yaml.constructor.SafeConstructor()
RESOLVER: Any = yaml.resolver.Resolver()  # untyped in the stubs

MAX_NODES = 2_000_000  # after alias expansion; a 10,000-layer spec is ~100,000
# what the file itself may hold (each costs ~1 µs to read and 100-300 bytes to keep): a spec
# expands to at most 100,000 layers, and a 100,000-layer chain written out has ~730,000 events
MAX_ITEMS = 100_000  # in one mapping or list
MAX_EVENTS = 1_000_000  # keys, values and ends of collections
MAX_DEPTH = 64
MAX_BYTES = 4 * 1024 * 1024  # a spec's text; 10,000 layers take 0.3 to 1.5 MiB
MAX_INT = 2**63 - 1  # integers beyond 64 bits are no size of anything
# keys and short text values recur (`name`, `filters`, `conv`): the first SHARED distinct
# ones are kept once, later copies refer to them
SHARED = 4096
SHARED_TEXT = 24

STD = "tag:yaml.org,2002:"
STR = STD + "str"
_CONSTRUCTED = {STD + t for t in ("int", "float", "bool", "null")}
SCALAR_TAGS = {STD + "str", STD + "timestamp", STD + "merge", *_CONSTRUCTED}
_DIGITS = re.compile(r"[-+]?[0-9][0-9_]{19,}")  # too long for a 64-bit integer


def short_tag(tag: str) -> str:
    return "!!" + tag[len(STD) :] if tag.startswith(STD) else tag


@lru_cache(maxsize=4096)
def resolve_tag(value: str, implicit: tuple[bool, bool]) -> str:
    """The tag YAML 1.1 gives an untagged scalar (cached: specs repeat their values)."""
    return str(RESOLVER.resolve(yaml.ScalarNode, value, implicit))


@lru_cache(maxsize=4096)
def _construct(tag: str, value: str) -> Any:
    """int, float, bool or None from a scalar; anything else stays text."""
    if tag in _CONSTRUCTED:
        node = yaml.ScalarNode(tag, value)
        return _BUILDERS[tag](node)
    return value


def construct_checked(tag: str, value: str, file: str, at: int) -> Any:
    """`_construct`, refusing integers beyond 64 bits (Python's int() refuses more than 4,300
    digits with a ValueError; a 300-digit size would overflow floats in the reports) and a
    value its explicit tag cannot read (`!!bool "maybe"`, `!!int ""`)."""
    try:
        result = _construct(tag, value)
    except (ValueError, KeyError, IndexError):  # how PyYAML's builders refuse a value
        if tag != STD + "int" or not _DIGITS.fullmatch(value):
            raise SpecError(
                f"{value!r} is not a valid {short_tag(tag)} value",
                unpack(file, at),
                f"remove the tag {short_tag(tag)}, or write a value of that type",
            ) from None
        result = None
    if (result is None and tag == STD + "int") or (type(result) is int and abs(result) > MAX_INT):
        shown = value if len(value) <= 24 else value[:20] + "…"
        raise SpecError(
            f"the integer {shown} is too large ({len(value):,} characters)",
            unpack(file, at),
            f"cnncalc reads integers up to 2^63 − 1 ({MAX_INT:,})",
        )
    return result


_BUILDERS = {
    STD + "int": _SCALARS.construct_yaml_int,
    STD + "float": _SCALARS.construct_yaml_float,
    STD + "bool": _SCALARS.construct_yaml_bool,
    STD + "null": _SCALARS.construct_yaml_null,
}


def share(shared: dict[str, str], text: str) -> str:
    if len(shared) < SHARED:
        shared[text] = text
    return text

"""Indented JSON, byte for byte what `json.dumps(data, indent=2, ensure_ascii=False)` writes,
at a fraction of its cost.

The standard library's C encoder does not indent; its Python one makes a generator per
container and yields every comma, key and number apart (~8 million pieces for a
100,000-layer report, ~4 s). Here each container is one loop that writes its scalars inline
(strings through the C `encode_basestring`), a report streams one layer at a time, and its
layers, which share a few structures, are filled into templates of those (`json_templates`).
"""

from __future__ import annotations

from collections.abc import Iterator
from json.encoder import encode_basestring
from typing import Any

from cnncalc.render.json_templates import Templates

_STREAM_DEPTH = 2  # a report's layers (depth 2) are written whole, one chunk each
_TEMPLATED = (dict, list)  # those written from a template of their structure (json_templates)


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _scalar(value: Any) -> str | None:
    """A scalar's JSON text (json's order of checks, subclasses included); None: a container."""
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, list | tuple | dict):
        return None
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key(key: Any) -> str:
    """A dict key as json writes it (strings; numbers, booleans and None as their text)."""
    if isinstance(key, str):
        return encode_basestring(key)
    if isinstance(key, float):
        return encode_basestring(_float(key))
    if key is True or key is False or key is None:
        return encode_basestring(_scalar(key) or "")
    if isinstance(key, int):
        return encode_basestring(int.__repr__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _write(value: Any, indent: str, out: list[str]) -> None:
    """Append `value`'s JSON (a container; its first line continues the current one)."""
    inner = indent + "  "
    separator = ",\n" + inner
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        out.append("{\n" + inner)
        first = True
        for key, item in value.items():
            name = encode_basestring(key) if type(key) is str else _key(key)
            kind = type(item)
            text: str | None
            if kind is str:
                text = encode_basestring(item)
            elif kind is int:
                text = int.__repr__(item)
            else:
                text = _scalar(item)
            if text is None:
                out.append(f"{name}: " if first else f"{separator}{name}: ")
                _write(item, inner, out)
            else:
                out.append(f"{name}: {text}" if first else f"{separator}{name}: {text}")
            first = False
        out.append("\n" + indent + "}")
        return
    if not value:
        out.append("[]")
        return
    out.append("[\n" + inner)
    first = True
    for item in value:
        kind = type(item)
        if kind is str:
            text = encode_basestring(item)
        elif kind is int:
            text = int.__repr__(item)
        else:
            text = _scalar(item)
        if not first:
            out.append(separator)
        if text is None:
            _write(item, inner, out)
        else:
            out.append(text)
        first = False
    out.append("\n" + indent + "]")


def _stream(value: Any, indent: str, depth: int) -> Iterator[str]:
    """`value`'s JSON in pieces: containers above `_STREAM_DEPTH` item by item."""
    text = _scalar(value)
    if text is not None:
        yield text
        return
    if depth >= _STREAM_DEPTH or not value:
        out: list[str] = []
        _write(value, indent, out)
        yield "".join(out)
        return
    inner = indent + "  "
    is_dict = isinstance(value, dict)
    yield ("{" if is_dict else "[") + "\n" + inner
    items = value.items() if is_dict else enumerate(value)
    whole = Templates(inner, _float) if depth + 1 == _STREAM_DEPTH else None
    separator = ",\n" + inner
    for index, (key, item) in enumerate(items):
        lead = separator if index else ""
        if is_dict:
            lead += _key(key) + ": "
        text = whole.write(item) if whole is not None and type(item) in _TEMPLATED else None
        if text is None:
            if lead:
                yield lead
            yield from _stream(item, inner, depth + 1)
        else:
            yield lead + text  # one piece a layer: each piece costs its way through the writers
    yield "\n" + indent + ("}" if is_dict else "]")


def indented_json(data: Any) -> Iterator[str]:
    """`data` as `json.dumps(data, indent=2, ensure_ascii=False)` writes it, in pieces of at
    most one item of a container two levels down (a report's layer)."""
    return _stream(data, "", 0)

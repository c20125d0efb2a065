"""JSON Schema fragments for `expect:` blocks and budget files."""

from __future__ import annotations

from typing import Any

from cnncalc.check.values import (
    COUNT_KEYS,
    MEMORY_KINDS,
    RF_KEYS,
)
from cnncalc.passes.flops import CONVENTIONS
from cnncalc.passes.memory import (
    DTYPE_BYTES,
    OPTIMIZER_STATES,
)

_COUNT_PATTERN = (
    r"^\s*(?:\d{1,3}(?:,\d{3})+|(?:\d[\d_]*(?:\.\d[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?"
    r"\s*[kKMGT]?)\s*$"
)
_BYTES_PATTERN = (
    r"^\s*(?:\d{1,3}(?:,\d{3})+|(?:\d[\d_]*(?:\.\d[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?"
    r"\s*(?:[bB]|[kKmMgGtT][iI]?[bB])?)\s*$"
)


def expect_schema() -> dict[str, Any]:
    """A JSON Schema (draft 7) of an `expect:` mapping, from the same key tables the parser
    reads. It checks keys and the form of values; whole-number results and layer names are
    checked by `cnncalc check` itself."""
    count = {
        "description": "a whole number: 25557032, 25_557_032, 25,557,032, 4.1e9 or 25.6M "
        "(K/k 10^3, M 10^6, G 10^9, T 10^12)",
        "anyOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": _COUNT_PATTERN},
        ],
    }
    size = {
        "description": "bytes: 209715200, 200MiB (2^20), 200MB (10^6); B, kB, MB, GB, TB, "
        "KiB, MiB, GiB, TiB",
        "anyOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": _BYTES_PATTERN},
        ],
    }
    shape = {
        "description": "[H, W, C] or [N], or the text HxWxC",
        "anyOf": [
            {
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "anyOf": [{"minItems": 1, "maxItems": 1}, {"minItems": 3, "maxItems": 3}],
            },
            {"type": "string", "pattern": r"^\d+(?:[xX×]\d+){2}$|^\d+$"},
        ],
    }
    rf = {
        "description": "receptive-field size in input pixels: n (every axis) or one per axis "
        "([h, w])",
        "anyOf": [
            {"type": "integer", "minimum": 1},
            {
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "minItems": 1,
                "maxItems": 3,
            },
        ],
    }
    memory_budget = {
        "type": "object",
        "required": ["bytes"],
        "additionalProperties": False,
        "properties": {
            "bytes": size,
            "dtype": {"enum": list(DTYPE_BYTES)},
            "batch": {"type": "integer", "minimum": 1},
            "kind": {"enum": list(MEMORY_KINDS)},
            "optimizer": {"enum": list(OPTIMIZER_STATES)},
        },
    }
    one_memory = {"anyOf": [size, memory_budget]}
    counts = {key: count for key in COUNT_KEYS}
    layer = {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {**counts, "output_shape": shape, **{key: rf for key in RF_KEYS}},
    }
    return {
        "type": "object",
        "description": "what `cnncalc check` verifies: exact totals (params, macs, …), bounds "
        "(max_*, min_*), max_memory, output_shape, and per-layer expectations",
        "additionalProperties": False,
        "properties": {
            **counts,
            "output_shape": shape,
            "convention": {"enum": list(CONVENTIONS)},
            "max_memory": {
                "anyOf": [one_memory, {"type": "array", "minItems": 1, "items": one_memory}]
            },
            "layers": {
                "type": "object",
                "description": "layer name → its expectations",
                "additionalProperties": layer,
            },
        },
    }


def budget_schema() -> dict[str, Any]:
    """A JSON Schema (draft 7) of a `--budget` file: expectations for every spec, or spec
    paths and globs (holding `/`, `.` or a wildcard) mapped to expectations."""
    expect = expect_schema()
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "cnncalc budget",
        "anyOf": [
            {**expect, "minProperties": 1},
            {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": r"[/\\.*?\[]"},
                "additionalProperties": expect,
            },
        ],
    }

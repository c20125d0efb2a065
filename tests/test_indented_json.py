"""The fast indented JSON writer is byte for byte `json.dumps(indent=2, ensure_ascii=False)`."""

from __future__ import annotations

import enum
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.render.indented_json import indented_json

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
_KEYS = st.text() | st.integers() | st.floats() | st.booleans() | st.none()
_DATA = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner) | st.tuples(inner, inner) | st.dictionaries(_KEYS, inner),
    max_leaves=40,
)


def _written(data: Any) -> str:
    return "".join(indented_json(data))


@settings(max_examples=500)
@given(_DATA)
def test_same_text_as_json_dumps(data: Any) -> None:
    assert _written(data) == json.dumps(data, indent=2, ensure_ascii=False)


class _Level(enum.IntEnum):
    HIGH = 3


def test_subclasses_and_special_floats_as_json_writes_them() -> None:
    data = {
        "a": [_Level.HIGH, float("nan"), -float("inf"), True, None, {}, [], "é\u202e"],
        _Level.HIGH: {"q": ()},
        1.5: [[[]]],
        None: 0,
        False: "x",
    }
    assert _written(data) == json.dumps(data, indent=2, ensure_ascii=False)


def test_a_report_streams_one_layer_a_piece() -> None:
    layers = [{"name": f"l{i}", "shape": [1, 2]} for i in range(3)]
    pieces = list(indented_json({"layers": layers}))
    assert sum('"name"' in piece for piece in pieces) == 3
    assert all(piece.count('"name"') <= 1 for piece in pieces)


@pytest.mark.parametrize("bad", [{"a": object()}, {(1, 2): 1}, [1j]])
def test_what_json_refuses_is_a_type_error(bad: Any) -> None:
    with pytest.raises(TypeError):
        _written(bad)

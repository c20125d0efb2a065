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


# Items two levels down (a report's layers) are written from a template of their structure:
# values that differ from the template in a key, its order, a type or a length must not fit it.
_VARIANTS = st.sampled_from(
    [
        lambda v: {"name": v, "shape": [1, 2], "rf": None},
        lambda v: {"name": v, "shape": [1, 2, 3], "rf": None},
        lambda v: {"shape": [1, 2], "name": v, "rf": None},
        lambda v: {"name": v, "shape": [1, 2], "rf": {"size": [v, v], "whole": False}},
        lambda v: {"name": v, "shape": (1, 2), "rf": None},
        lambda v: {"name": v, "shape": [], "rf": {}},
        lambda v: [v, {"%s": v, '"\n\u2028': [v]}],
        lambda v: {"name": v, 7: v},
        lambda v: v,
    ]
)


@settings(max_examples=300)
@given(st.lists(st.tuples(_VARIANTS, _SCALARS | st.lists(_SCALARS, max_size=3)), max_size=30))
def test_items_of_mixed_structures_as_json_dumps_writes_them(items: list[Any]) -> None:
    data = {"layers": [variant(value) for variant, value in items]}
    assert _written(data) == json.dumps(data, indent=2, ensure_ascii=False)


def test_many_structures_and_long_items_as_json_dumps_writes_them() -> None:
    data = {
        "layers": [{f"k{i}": list(range(i % 80))} for i in range(200)]  # 80 structures
        + [list(range(300)), {"x": [[1] * 100, [2] * 200]}, _Level.HIGH, [_Level.HIGH]]
    }
    assert _written(data) == json.dumps(data, indent=2, ensure_ascii=False)


# A container directly inside an item is checked and written once while the next item holds
# the same object: items sharing, alternating and re-using objects (equal or not) must still
# be written as json.dumps writes them.
_SHARED = [[1, 2], [1, 2], [2, 1], {"size": [3], "whole": True}, {"size": [3], "whole": 1}, []]


@settings(max_examples=300)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.booleans()), max_size=20))
def test_items_sharing_containers_as_json_dumps_writes_them(
    picks: list[tuple[int, int, bool]],
) -> None:
    layers: list[Any] = [
        {"name": "x", "shape": _SHARED[a], "rf": _SHARED[b]} if as_dict else [_SHARED[a], 0]
        for a, b, as_dict in picks
    ]
    data = {"layers": layers}
    assert _written(data) == json.dumps(data, indent=2, ensure_ascii=False)


def test_a_shared_container_is_written_with_its_own_values() -> None:
    shape, other = [1, 2], [1, 2.5]
    layers = [{"s": shape}, {"s": shape}, {"s": other}, {"s": shape}, {"s": [True, 2]}]
    text = _written({"layers": layers})
    assert text == json.dumps({"layers": layers}, indent=2)
    assert text.count("2.5") == 1 and text.count("true") == 1

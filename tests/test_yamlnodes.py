"""YMap/YList keep their positions packed and counted from their own; a table that mappings
written alike share is copied before one of them changes it."""

from __future__ import annotations

from cnncalc.errors import SourcePos
from cnncalc.yamlfast import read_simple_yaml
from cnncalc.yamlnodes import YList, YMap


def _alike() -> tuple[YMap, YMap]:
    tree = read_simple_yaml(
        "- relu\n- conv: {name: a, filters: 16}\n- conv: {name: b, filters: 32}\n", "t.yaml"
    )
    assert tree is not None
    first, second = tree[1]["conv"], tree[2]["conv"]
    assert first._at is second._at
    return first, second


def test_read_positions_unpack_to_line_and_column() -> None:
    first, _ = _alike()
    assert first.pos == SourcePos("t.yaml", 2, 9)
    assert first.key_pos["filters"] == SourcePos("t.yaml", 2, 19)
    assert first.value_pos["filters"] == first.pos_of("filters") == SourcePos("t.yaml", 2, 28)
    assert first.packed_pos("nope", 7) == 7
    assert list(first.value_pos) == ["name", "filters"] and len(first.key_pos) == 2
    assert dict(first.value_pos) == {
        "name": SourcePos("t.yaml", 2, 16),
        "filters": SourcePos("t.yaml", 2, 28),
    }


def test_a_change_to_one_mapping_leaves_those_written_alike_as_they_were() -> None:
    first, second = _alike()
    moved = SourcePos("x.yaml", 9, 9)
    first.value_pos["name"] = moved
    del first.key_pos["filters"]
    assert first.pos_of("name") == moved
    assert first.key_pos["name"] == SourcePos("t.yaml", 2, 10)  # the key's stays
    assert first.key_pos.get("filters") is None
    assert first.pos_of("filters") == SourcePos("t.yaml", 2, 28)
    assert second.pos_of("name") == SourcePos("t.yaml", 3, 16)
    assert second.key_pos["filters"] == SourcePos("t.yaml", 3, 19)


def test_positions_copy_from_a_read_mapping_into_one_code_makes() -> None:
    first, _ = _alike()
    made = YMap(SourcePos("t.yaml", 1, 1))  # (packed positions are copied as they are)
    made.value_pos.update(first.value_pos)
    made.key_pos.update(first.key_pos)
    assert made.pos == SourcePos("t.yaml", 1, 1)
    assert made.pos_of("filters") == SourcePos("t.yaml", 2, 28)
    assert made.key_pos["name"] == SourcePos("t.yaml", 2, 10)
    assert made.pos_of("other") == made.pos


def test_a_read_list_unpacks_its_items_positions() -> None:
    tree = read_simple_yaml("a: [x, yy, z]\n", "t.yaml")
    assert tree is not None
    items = tree["a"]
    assert type(items) is YList and items.pos == SourcePos("t.yaml", 1, 4)
    assert list(items.item_pos) == [SourcePos("t.yaml", 1, col) for col in (5, 8, 12)]
    assert items.item_pos[1:] == [SourcePos("t.yaml", 1, 8), SourcePos("t.yaml", 1, 12)]
    made = YList(SourcePos("m.yaml", 2, 3))
    made.item_pos.append(SourcePos("m.yaml", 2, 4))
    assert made.pos == SourcePos("m.yaml", 2, 3) and made.item_pos[0] == SourcePos("m.yaml", 2, 4)

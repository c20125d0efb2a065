"""The fast YAML reader (cnncalc/yamlfast.py) returns exactly what libyaml's path (`_build`)
returns, positions included, or None; it never decides an error.

Generated documents in and around its subset (hypothesis), the zoo, the README's specs, the
benchmark's chain, and a table of near misses through the command line.
"""

from __future__ import annotations

import importlib.util
import math
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cnncalc import yamlfast
from cnncalc.cli import app, normalize_argv
from cnncalc.errors import SourcePos, SpecError
from cnncalc.yamlfast import read_simple_yaml
from cnncalc.yamlnodes import YList, YMap
from cnncalc.yamlrules import MAX_EVENTS, MAX_ITEMS, SHARED
from cnncalc.yamltree import _build, parse_yaml
from tests.test_readme import blocks

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def _bench_common() -> Any:
    spec = importlib.util.spec_from_file_location("bench_common", ROOT / "bench" / "common.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_same(fast: Any, ref: Any, path: str = "$") -> None:
    """The same tree: types, values, key order, `pos` and every packed position table."""
    assert type(fast) is type(ref), (path, fast, ref)
    if type(ref) is YMap:
        assert fast.pos == ref.pos, (path, fast.pos, ref.pos)
        assert list(fast) == list(ref), path
        assert list(fast._at.items()) == list(ref._at.items()), path
        for key in ref:
            assert_same(fast[key], ref[key], f"{path}.{key}")
    elif type(ref) is YList:
        assert fast.pos == ref.pos, (path, fast.pos, ref.pos)
        assert len(fast) == len(ref), path
        assert fast._item_at == ref._item_at, path
        for index, (mine, theirs) in enumerate(zip(fast, ref, strict=True)):
            assert_same(mine, theirs, f"{path}[{index}]")
    elif type(ref) is float and math.isnan(ref):
        assert math.isnan(fast), path
    else:
        assert fast == ref, (path, fast, ref)


def assert_keys_follow(tree: Any) -> None:
    """Each key of a mapping is written after the mapping starts, and its value after it: the
    tables count both from the mapping's position (`yamlnodes.entry`)."""
    if type(tree) is YMap:
        for key in tree:
            assert tree.pos[1:] <= tree.key_pos[key][1:] <= tree.value_pos[key][1:], key
    for item in tree.values() if type(tree) is YMap else tree if type(tree) is YList else ():
        assert_keys_follow(item)


def check(text: str) -> bool:
    """Assert the fast reader agrees with libyaml's path on `text`; True if it read it."""
    fast = read_simple_yaml(text, "t.yaml")
    try:
        ref = _build(text, "t.yaml")
    except (yaml.YAMLError, SpecError):
        assert fast is None, f"the fast reader read a text libyaml refuses:\n{text}"
        return False
    assert_keys_follow(ref)
    if fast is None:
        return False
    assert_same(fast, ref)
    return True


# --- generated documents ------------------------------------------------------------------

# plain scalars of every type YAML 1.1 resolves, tricky but plain
SCALARS = [
    "a", "relu", "c0", "x_1", "name", "1", "-1", "+1", "0", "007", "0x1F", "0o17", "0b101",
    "1_000", "1.0", "1e3", "1.5e+3", "-.5", ".5", "+.5", "0.", ".inf", "-.Inf", ".nan", ".NaN",
    "~", "null", "Null", "NULL", "true", "True", "yes", "Yes", "no", "on", "off", "OFF", "y",
    "n", "2001-12-14", "$width", "$(width * 4)", "$(2 if i == 0 else 1)", "a b", "a  b",
    "ResNet-50 (torchvision)", "224×224×3", "é", "a'b", 'a"b', "--", "---", "...", "a.b",
    "1.2.3", "9223372036854775807", "-9223372036854775808", "1__0", "_", "x" * 30, "\xa0x",
    "x\xa0", "1\xa0", "\u3000", "'q'", '"q"', "''", '""', "'#'", '"a, b"', "-x", "-1.5e+3",
]  # fmt: skip
# and tokens that are no plain scalar, or not one this reader takes
TRICKY = [
    "190:20:30", "12:30", "=", "<<", "a#b", "-", "a,b", "a]b", "@x", "`x", "%x", "!x",
    "!!int 3", "&x 1", "*x", "|", ">", "?", "? x", ": x", "x:", "'it''s'", '"a\\nb"', "[a]",
    "{a: 1}", "#x", "a #x", "a\tb", "99999999999999999999", "9223372036854775808", "-:",
]  # fmt: skip
KEYS = [
    "a", "name", "filters", "kernel", "b_2", "x.y", "a-b", "layers", "true", "null", "1",
    "on", "y", "_", "é", "<<", "a b", "-a", "a:", "k" * 130,
]  # fmt: skip
NEAR = [":", "#", "\t", "-", "'", '"', "{", "}", "[", "]", ",", "&", "!", "*", "|", ">", " ",
        "\n", "%", "?", "\r", "\ufeff", "  ", "- ", ": ", " #"]  # fmt: skip


class Choices:
    """The choices a generated document is made of: hypothesis draws (shrinkable) or a seeded
    random generator (for counting how many documents take the fast path)."""

    def __init__(self, pick: Callable[[Sequence[Any]], Any], number: Callable[[int, int], int]):
        self.pick = pick
        self.number = number

    def chance(self, percent: int) -> bool:
        return self.number(0, 99) < percent


def scalar(c: Choices) -> str:
    return str(c.pick(TRICKY if c.chance(10) else SCALARS))


def key(c: Choices, used: set[str]) -> str:
    """A key, mostly one not in `used` yet (a duplicate is an error libyaml reports)."""
    name = str(c.pick(KEYS if c.chance(10) else KEYS[:14]))
    if name in used and c.chance(90):
        name += str(len(used))
    used.add(name)
    return name


def flow(c: Choices, depth: int) -> str:
    """A flow collection on one line, written the usual way or with odd spacing."""
    comma, colon, inside = c.pick([(", ", ": ", ""), (", ", ": ", ""), (",", ": ", " ")])
    count = c.number(0, 4)
    if c.chance(50):
        items, used = [], set[str]()
        for _ in range(count):
            if depth < 3 and c.chance(15):
                items.append(f"{key(c, used)}{colon}{flow(c, depth + 1)}")
            else:
                items.append(f"{key(c, used)}{colon}{scalar(c)}")
        return "{" + inside + comma.join(items) + inside + "}"
    values = [flow(c, depth + 1) if depth < 3 and c.chance(15) else scalar(c) for _ in range(count)]
    return "[" + inside + comma.join(values) + inside + "]"


def inline(c: Choices, depth: int) -> str:
    value = flow(c, depth) if c.chance(35) else scalar(c)
    return value + (c.pick([" # note", "  #x", " #"]) if c.chance(10) else "")


def block_map(c: Choices, indent: int, depth: int, lines: list[str], first: str = "") -> None:
    """Keys at `indent`; `first` is the text before the first key (`- ` of an item)."""
    used = set[str]()
    for index in range(c.number(1, 4)):
        head = (first if index == 0 else " " * len(first)) if first else ""
        start = head or " " * indent
        column = len(start) if first else indent
        if depth < 4 and c.chance(30):
            lines.append(f"{start}{key(c, used)}:" + (" # c" if c.chance(10) else ""))
            block(c, column, depth + 1, lines, indentless=True)
        else:
            lines.append(f"{start}{key(c, used)}: {inline(c, depth + 1)}")
        if c.chance(8):
            lines.append(" " * c.number(0, 6) + c.pick(["", "# comment", "#"]))


def block_seq(c: Choices, indent: int, depth: int, lines: list[str]) -> None:
    for _ in range(c.number(1, 4)):
        dash = " " * indent + "-" + " " * c.pick([1, 1, 1, 2, 3])
        if depth < 4 and c.chance(40):
            block_map(c, len(dash), depth + 1, lines, first=dash)
        elif depth < 4 and c.chance(5):
            lines.append(dash.rstrip())
            block(c, indent + 2, depth + 1, lines)
        else:
            lines.append(f"{dash}{inline(c, depth + 1)}")


def block(c: Choices, parent: int, depth: int, lines: list[str], indentless: bool = False) -> None:
    """A block collection below a `key:` at indent `parent`."""
    if c.chance(50):
        indent = parent if indentless and c.chance(40) else parent + c.pick([1, 2, 2, 3, 4])
        block_seq(c, indent, depth, lines)
    else:
        block_map(c, parent + c.pick([1, 2, 2, 4]), depth, lines)


def document(c: Choices) -> str:
    lines: list[str] = []
    if c.chance(15):
        lines.append(c.pick(["# a spec", "", "   "]))
    indent = c.pick([0, 0, 0, 1, 2])
    if c.chance(15):
        block_seq(c, indent, 0, lines)
    else:
        block_map(c, indent, 0, lines)
    text = "\n".join(lines) + c.pick(["\n", "\n", "", "\n\n", "\n# end\n"])
    if c.chance(25):  # a near miss: one character put in, taken out or replaced
        at = c.number(0, len(text))
        cut = c.number(0, 1)
        text = text[:at] + (c.pick(NEAR) if c.chance(80) else "") + text[at + cut :]
    return text


def seeded(seed: int) -> Choices:
    rng = random.Random(seed)
    return Choices(rng.choice, rng.randint)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_generated_documents_read_as_libyaml_reads_them(data: st.DataObject) -> None:
    choices = Choices(
        lambda options: data.draw(st.sampled_from(options)),
        lambda low, high: data.draw(st.integers(low, high)),
    )
    check(document(choices))


def test_most_generated_documents_take_the_fast_path() -> None:
    """Not a weak property: of 600 generated documents (a quarter with a near miss, many with
    tokens the reader leaves to libyaml) a good share is read by the fast reader."""
    read = sum(check(document(seeded(seed))) for seed in range(600))
    assert read >= 180, read  # 218 when written


def test_documents_of_the_usual_shapes_take_the_fast_path() -> None:
    text = (
        "name: net  # the name\n"
        "input: [32, 32, 3]\n"
        "\n"
        "blocks:\n"
        "  unit:\n"
        "    args: {width: 64, stride: 1}\n"
        "    layers:\n"
        "      - conv: {filters: $width, kernel: 3, stride: $stride, padding: 1}\n"
        "      - conv:\n"
        "          filters: $(width * 4)\n"
        "          kernel: 1\n"
        "        name: expand\n"
        "      - relu\n"
        "layers:\n"
        "# the stem\n"
        "- conv: {filters: 16, kernel: 3}\n"
        "-   repeat: {block: unit, times: 2, args: {width: 8}}\n"
        "- add: {from: [a, b]}\n"
        "- concat: { from: [ a , b ] }\n"
        "- dense: {units: 10, name: 'fc', note: \"a, b\"}\n"
        "expect:\n"
        "  params: 1_000\n"
        "  ratio: .5\n"
        "  flag: yes\n"
        "  none: ~\n"
    )
    assert check(text)


# lines of a few shapes: what the shared tables of flat mappings (`yamlflow.layout`) are for
ALIKE_KEYS = ["name", "filters", "from", "k"]
ALIKE_VALUES = ["c0", "c1", "c12", "16", "3", "x y", "[a, b]", "[a]", "[]", "[c12, d]", "true"]


def alike_line(c: Choices) -> list[str]:
    """`- kind: {...}` (or `- {...}`), its values drawn so that shapes recur, sometimes with
    a second key below that reopens the item's mapping."""
    used = set[str]()
    pairs = []
    for _ in range(c.number(0, 3)):
        name = str(c.pick(ALIKE_KEYS))
        if name not in used:
            used.add(name)
            pairs.append(f"{name}: {c.pick(ALIKE_VALUES)}")
    flat = "{" + ", ".join(pairs) + "}"
    lines = [f"- {c.pick(['conv', 'relu', 'add'])}: {flat}" if c.chance(85) else f"- {flat}"]
    if c.chance(10) and not lines[0].startswith("- {"):
        lines.append(f"  more: {c.pick(ALIKE_VALUES)}")
    return lines


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_flat_mappings_written_alike_read_as_libyaml_reads_them(data: st.DataObject) -> None:
    choices = Choices(
        lambda options: data.draw(st.sampled_from(options)),
        lambda low, high: data.draw(st.integers(low, high)),
    )
    lines = ["layers:"]
    for _ in range(choices.number(1, 12)):
        lines += ["  " + line for line in alike_line(choices)]
    assert check("\n".join(lines) + "\n")


def test_flat_mappings_written_alike_share_one_position_table() -> None:
    tree = read_simple_yaml(
        "- conv: {name: a, filters: 16}\n- conv: {name: b, filters: 32}\n"
        "- conv: {name: cc, filters: 32}\n",
        "t.yaml",
    )
    assert tree is not None
    first, second, third = (item["conv"] for item in tree)
    assert first._at is second._at and third._at is not first._at  # `cc` is longer
    assert tree[1]._at is tree[2]._at  # (the first item is read as the list opens)
    assert second.pos_of("filters") == SourcePos("t.yaml", 2, 28)
    assert third.pos_of("filters") == SourcePos("t.yaml", 3, 29)
    assert tree[1].key_pos["conv"] == SourcePos("t.yaml", 2, 3)
    assert tree[1].pos_of("conv") == second.pos == SourcePos("t.yaml", 2, 9)


def test_mappings_alike_but_for_a_later_value_read_as_libyaml_reads_them() -> None:
    """The first value varies, then a later one: past SHARED texts the reader stops keeping
    them (`FlowReader.tails`), and reads on alike."""
    lines = [f"- conv: {{name: c{i % 7}, filters: {i}, kernel: 3}}" for i in range(SHARED + 50)]
    lines += [f"- conv: {{name: c{i}, filters: 16}}" for i in range(30)]
    assert check("\n".join(lines) + "\n")


def test_characters_left_to_libyaml_are_found_in_ascii_and_other_text() -> None:
    outside = {*range(0x00, 0x09 + 1), *range(0x0B, 0x1F + 1), *range(0x7F, 0x9F + 1)}
    outside |= {0x2028, 0x2029, 0xD800, 0xDFFF, 0xFEFF, 0xFFFE, 0xFFFF}
    for code in [*range(0x100), 0x2028, 0x2029, 0xD800, 0xDFFF, 0xFEFF, 0xFFFE, 0xFFFF, 0x3000]:
        for text in (f"a: b{chr(code)}c\n", f"a: é{chr(code)}\n"):
            assert (read_simple_yaml(text, "t.yaml") is None) >= (code in outside), hex(code)
    assert read_simple_yaml("a: b\u3000c\n", "t.yaml") == {"a": "b\u3000c"}
    assert read_simple_yaml("a: b~c\n", "t.yaml") == {"a": "b~c"}


# continued plain scalars, indentless lists, comments between a key and its block, odd flow
# spacing, document markers, YAML 1.1 numbers and booleans, Unicode, characters YAML breaks
# lines at, integers at and past 64 bits
HAND_WRITTEN = [
    "a: b\n  c\n", "- a\n  b\n", "- k: v\n    x\n", "a:\n- x\n  y\n", "a : 1\n", "a: 1#c\n",
    "a:\n  [1, 2]\n", "a:\n  b\n", "a:\n  - x\n  b: 1\n", "a:\n- x\n b: 1\n", "- a: 1\n  - x\n",
    "- a:\n  - x\n  b: 2\n", "- a: 1\n  a: 2\n", "  a: 1\n  b: 2\n", "  a: 1\nb: 2\n", "- - x\n",
    "-\n  a: 1\n", "a: [a, b]c\n", "a: {a: 1}: x\n", "a: 'x' y\n", "a: {b: 'x', c: \"y\"}\n",
    "a: {b: [1, {c: d}], e: f}\n", "a: [ ]\n", "a: {}\n", "a: [a,]\n", "a: {a: 1,}\n", "a: [,a]\n",
    "a: [a b, c  d]\n", "a: -x\n", "a: -\n", "- -\n", "a: ---\n", "a: ...\n", "---\na: 1\n",
    "a: 1\n...\n", "a:\nb: 1\n", "\n\na: 1", "#c\na: 1\n#d", "a: 1\n  # deeper comment\nb: 2\n",
    "a:\n# c\n  b: 1\n", "a: x\n# c\n  y\n", "a: x\n\n  y\n", "a:   \n  b: 1\n", "a: 1\n b: 2\n",
    "a:\n    b: 1\n   c: 2\n", "- a: 1\n  b:\n  - x\n  c: 2\n- y\n", "a: {b: $(f(1, 2))}\n",
    "k: 0x_1F\n", "k: 1_\n", "k: +\n", "k: .\n", "k: -.\n", "k: 685.230_15e+03\n",
    "k: 190:20:30.15\n", "k: 09\n", "k: -0\n", "k: .INF\n", "k: tRue\n", "k: oN\n", "0x1: a\n",
    "1.5: a\n", "a: [1, [2, [3, [4]]]]\n", "- {a: b}\n  c: d\n", "a: \u00a0\n", "a: x\u2028y\n",
    "a: x\x85y\n", "a: \ufeffx\n", "\ufeffa: 1\n", "a: 日本\nb: 😀\n", "日本: 1\n", "a: 'x\n  y'\n",
    "a: {b: c}  # {not: this}\n", "a: [b]  # [x\n", "a: {b: 1}\t\n", "a: {b: [1, 2, ], c: [3]}\n",
    "- a: 1\n-  b: 2\n   c: 3\n", "-  b: 2\n  c: 3\n", "a: 9223372036854775808\n",
    "a: 9223372036854775807\nb: -9223372036854775808\n", "a: 0b" + "1" * 70 + "\n",
    "a: 0x" + "F" * 17 + "\n", "? a\n: 1\n", "&x {a: 1}\n", "a: &y\n  b: 1\nc: *y\n",
    "- [a: 1, b: 2]\n", "a: !!map\n  b: 1\n", "{? a: 1}\n", "- ? x\n  : y\n", "!!map\n&q\nc: 1\n",
]  # fmt: skip


@pytest.mark.parametrize("text", HAND_WRITTEN)
def test_hand_written_documents_read_as_libyaml_reads_them(text: str) -> None:
    check(text)


# --- the specs people write -----------------------------------------------------------------

SPECS = sorted([*ROOT.glob("architectures/*.yaml"), *ROOT.glob("docs/examples/*.yaml")])
SPECS += sorted(ROOT.glob("cnncalc/design/profiles/*.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=lambda path: path.name)
def test_zoo_and_examples_read_as_libyaml_reads_them(path: Path) -> None:
    check(path.read_text(encoding="utf-8"))


def test_the_common_zoo_shape_takes_the_fast_path() -> None:
    read = [path.name for path in SPECS if check(path.read_text(encoding="utf-8"))]
    for name in ("resnet50.yaml", "vgg16.yaml", "mobilenet_v2.yaml", "inception_v3.yaml"):
        assert name in read
    assert len(read) >= len(SPECS) * 3 // 4, read


def test_readme_specs_read_as_libyaml_reads_them() -> None:
    specs = [text for _, text in blocks("yaml")]
    assert len(specs) >= 10
    assert sum(map(check, specs)) >= 5  # the others hold URLs, globs or multi-line lists


def test_the_benchmark_chain_takes_the_fast_path() -> None:
    assert check(_bench_common().chain_spec(300))


# --- limits: at them it reads, past them libyaml refuses ------------------------------------


def test_a_list_of_max_items_is_read_and_one_more_is_left_to_libyaml() -> None:
    at_limit = "layers:\n" + "- relu\n" * MAX_ITEMS
    result = read_simple_yaml(at_limit, "t.yaml")
    assert result is not None and len(result["layers"]) == MAX_ITEMS
    over = at_limit + "- relu\n"
    assert read_simple_yaml(over, "t.yaml") is None
    with pytest.raises(SpecError, match="more than 100,000 items") as info:
        parse_yaml(over, "t.yaml")
    assert (info.value.pos.line, info.value.pos.col) == (MAX_ITEMS + 2, 3)


def test_more_lines_than_half_the_event_limit_are_left_to_libyaml() -> None:
    text = "- {}\n" * 500_001  # 1,000,007 events
    start = time.process_time()
    assert read_simple_yaml(text, "t.yaml") is None
    assert time.process_time() - start < 0.5  # ~2 ms: the lines are counted, not read
    assert read_simple_yaml("- {}\n" * 1000, "t.yaml") is not None


def test_a_long_flow_list_on_one_line_is_left_to_libyaml() -> None:
    text = "a: [" + ", ".join(["1"] * (MAX_ITEMS + 1)) + "]\n"
    assert read_simple_yaml(text, "t.yaml") is None
    with pytest.raises(SpecError, match="more than 100,000 items"):
        parse_yaml(text, "t.yaml")


def test_more_events_than_the_limit_are_left_to_libyaml() -> None:
    """libyaml's events: 5, and per line its item, its list and 8 or 9 numbers."""
    below = "- [1, 2, 3, 4, 5, 6, 7, 8]\n" * 90_000  # 900,007 events
    assert read_simple_yaml(below, "t.yaml") is not None
    above = "- [1, 2, 3, 4, 5, 6, 7, 8, 9]\n" * 100_000  # 1,100,006
    assert read_simple_yaml(above, "t.yaml") is None
    assert MAX_EVENTS == 1_000_000


def test_the_reader_counts_the_events_libyaml_has() -> None:
    """What the MAX_EVENTS check above rests on: the count is exact (not an estimate)."""
    texts = [document(seeded(seed)) for seed in range(300)]
    texts += [path.read_text(encoding="utf-8") for path in SPECS]
    counted = 0
    for text in texts:
        if read_simple_yaml(text, "t.yaml") is None:
            continue
        reader = yamlfast._Reader(text if text.endswith("\n") else text + "\n", "t.yaml")
        reader.document()
        assert reader.events == sum(1 for _ in yaml.parse(text, Loader=yaml.CSafeLoader)), text
        counted += 1
    assert counted >= 100


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 40 + "]" * 40 + "\n",
        "".join(" " * n + f"k{n}:\n" for n in range(40)) + " " * 40 + "v: 1\n",
        "a: 9223372036854775808\n",
        "a: {b: 1, b: 2}\n",
        "a: 1\na: 2\n",
    ],
    ids=["deep flow", "deep block", "int over 64 bits", "duplicate flow key", "duplicate key"],
)
def test_near_a_limit_or_an_error_libyaml_decides(text: str) -> None:
    assert read_simple_yaml(text, "t.yaml") is None


# --- near misses through the command line: the same result as libyaml's path ------------------

NEAR_MISSES = {
    "key:value": ("input: [8, 8, 3]\nlayers:\n  - relu:value\n", 2),
    "- -1": ("input: [8, 8, 3]\nlayers:\n  - -1\n", 2),
    "a: b: c": ("input: [8, 8, 3]\nlayers:\n  - relu: b: c\n", 2),
    "[a, b unclosed": ("input: [8, 8, 3\nlayers:\n  - relu\n", 2),
    "{a: 1, a: 2}": ("input: [8, 8, 3]\nlayers:\n  - conv: {filters: 1, filters: 2}\n", 2),
    "tab indent": ("input: [8, 8, 3]\nlayers:\n\t- relu\n", 2),
    "20-digit int": ("input: [8, 8, 3]\nlayers:\n  - dense: {units: 12345678901234567890}\n", 2),
    "!!int 3": ("input: [8, 8, 3]\nlayers:\n  - dense: {units: !!int 3}\n", 0),
    "&a 1": ("input: [8, 8, 3]\nlayers:\n  - dense: {units: &a 3}\n", 0),
    "trailing comment": ("input: [8, 8, 3]  # HWC\nlayers:\n  - relu # here\n", 0),
    "it''s": ("input: [8, 8, 3]\nname: 'it''s'\nlayers:\n  - relu\n", 0),
    "empty value": ("input: [8, 8, 3]\nlayers:\n  - conv:\n  - relu\n", 2),
    "continued scalar": ("input: [8, 8, 3]\nlayers:\n  - relu\n    x\n", 2),
    "second document": ("input: [8, 8, 3]\nlayers:\n  - relu\n---\na: 1\n", 2),
    "merge key": ("input: [8, 8, 3]\nlayers:\n  - conv: {<<: 1}\n", 2),
    "bad indent": ("input: [8, 8, 3]\nlayers:\n  - relu\n - relu\n", 2),
}


def _cli(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, normalize_argv(["params", str(path)]))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


@pytest.mark.parametrize("name", list(NEAR_MISSES))
def test_near_misses_give_what_libyaml_gives(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, code = NEAR_MISSES[name]
    path = tmp_path / "net.yaml"
    path.write_text(text)
    exit_code, output = _cli(path)
    assert exit_code == code, output
    if code == 2:
        assert f"{path}:" in output and ": error: " in output, output
    monkeypatch.setattr(yamlfast, "read_simple_yaml", lambda text, file: None)
    assert _cli(path) == (exit_code, output)  # what libyaml's path alone gives


# --- no hang --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        " " * 3_000_000 + "x:y\n",
        "a: " + "b " * 1_500_000 + ":\n",
        "- " + " " * 3_000_000 + "- x\n",
        "a: {" + "b: c, " * 500_000 + "\n",
        "a: [" + "b, " * 1_000_000 + "\n",
        "a: " + "b " * 4_000 + ":\n",
        "a: [" + "b, " * 3_000 + "\n",
        "k" * 3_000_000 + ": 1\n",
        "a: " + "[" * 400_000 + "]" * 400_000 + "\n",
    ],
    ids=[
        "spaces",
        "words",
        "dash spaces",
        "open map",
        "open list",
        "short words",
        "short open list",
        "long key",
        "deep",
    ],
)
def test_awkward_lines_are_refused_in_linear_time(text: str) -> None:
    """A hang guard: each takes ~1 ms (a line is read up to 10,000 characters); a pattern that
    backtracks would take hours."""
    start = time.process_time()
    assert read_simple_yaml(text, "t.yaml") is None
    assert time.process_time() - start < 0.5

"""Hypothesis strategies of hostile input for the command-line fuzz (`tests/test_fuzz.py`):
huge numbers in every numeric field of every layer kind, YAML tags on keys and values,
pathological `$(...)` expressions, names with terminal escapes, and filesystem oddities.

Each draws `(argv, stdin)` for one run of `cnncalc`. Spec texts are written as YAML flow
text by hand (`flow`), so a number can be a 5,000-digit literal or `.nan` and a tag can sit
on a key.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from cnncalc.layers import KINDS


def _values(options: list[tuple[str, str]]) -> list[str]:
    """The values of (label, value) options; a label says what its value tries."""
    return [value for _label, value in options]


class Raw(str):
    """A YAML token written as is (a number, a tagged value, `.nan`)."""


def flow(value: Any) -> str:
    """`value` as YAML flow text: dicts and lists in braces, `Raw` tokens as is, other text
    double-quoted with YAML escapes (so any character survives)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{flow(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + "".join(_yaml_char(c) for c in str(value)) + '"'


def _yaml_char(char: str) -> str:
    """One character inside a double-quoted YAML scalar."""
    if char.isprintable() and char not in '"\\':
        return char
    return f"\\x{ord(char):02x}" if ord(char) <= 0xFF else f"\\u{ord(char):04x}"


def spec_text(spec: dict[str, Any]) -> str:
    """One line per top-level key, each value in flow style."""
    return "".join(f"{flow(key)}: {flow(value)}\n" for key, value in spec.items())


# --- commands × formats -----------------------------------------------------------------------

TABLE_FORMATS = ["table", "json", "csv", "markdown", "latex"]
ANALYSES = ["params", "flops", "rf", "memory", "summary"]


@st.composite
def command_for(draw: st.DrawFn, arch: str) -> list[str]:
    """A command reading `arch`, in a random format with random (valid) options."""
    command = draw(
        st.sampled_from(
            [*ANALYSES] * 3 + ["summary --wide", "explain", "graph", "check", "diff", "verify"]
        )
    )
    if command in ANALYSES or command == "summary --wide":
        args = [*command.split(), arch, "-f", draw(st.sampled_from(TABLE_FORMATS))]
        if command in ("flops", "summary") and draw(st.booleans()):
            args += ["-c", draw(st.sampled_from(["fvcore", "ptflops", "torchinfo"]))]
        if command in ("memory", "summary") and draw(st.booleans()):
            args += ["--batch", "7", "--dtype", "float16", "--optimizer", "adam"]
        if command == "rf" and draw(st.booleans()):
            args.append("--strict")
        return args
    if command == "explain":
        return [draw(st.sampled_from(ANALYSES[:4])), arch, "--explain"]
    if command == "graph":
        return ["graph", arch, "-f", draw(st.sampled_from(["mermaid", "dot"]))]
    if command == "check":
        return ["check", arch, "-f", draw(st.sampled_from(["table", "json", "github"])), "-v"]
    if command == "diff":
        other = draw(st.sampled_from(["seed_21x21", "lenet5", arch]))
        pair = [arch, other] if draw(st.booleans()) else [other, arch]
        if pair == ["-", "-"]:
            pair = [arch, "seed_21x21"]
        return ["diff", *pair, "-f", draw(st.sampled_from(TABLE_FORMATS))]
    # verify: a small memory limit keeps the forward pass (or its refusal) quick
    fmt = draw(st.sampled_from(["table", "json"]))
    return ["verify", arch, "--max-memory", "64MiB", "--no-rf", "-f", fmt]


# --- huge numbers in every numeric field ------------------------------------------------------

FIELD_TYPES = {  # the numeric fields of each layer kind, from its declaration: name → type
    kind: {
        f.name: str(f.type)
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if str(f.type) in ("int", "float", "Pair", "Padding")
    }
    for kind, cls in KINDS.items()
}
REQUIRED = {  # the required fields of the layer kinds, at an ordinary value
    "conv": {"filters": 4, "kernel": 3},
    "conv_transpose": {"filters": 4, "kernel": 3},
    "dense": {"units": 4},
    "maxpool": {"kernel": 2},
    "avgpool": {"kernel": 2},
    "adaptive_avgpool": {"output": 2},
    "adaptive_maxpool": {"output": 2},
}
HUGE = _values(
    [
        ("int", "2147483648"),  # 2^31
        ("int", "4294967297"),  # 2^32 + 1
        ("int", "9007199254740993"),  # 2^53 + 1: not a float
        ("int", "4611686018427387904"),  # 2^62
        ("int", "9223372036854775807"),  # 2^63 − 1, the largest accepted
        ("int", "9223372036854775808"),  # 2^63
        ("int", "18446744073709551617"),  # 2^64 + 1
        ("int", "-9223372036854775809"),
        ("int", "1" + "0" * 30),
        ("int", "9" * 300),
        ("int", "9" * 4300),  # Python's int-from-text limit
        ("int>4300 digits", "9" * 4301),
        ("int>4300 digits", "9" * 5000),
        ("int", "0x7fffffffffffffff"),
        ("int", "0o7777777777777777777777"),
        ("int", "1_000_000_000_000_000_000"),
        ("float", "1e308"),
        ("float", "1.5e18"),
        ("float", "1e400"),  # inf
        ("float", "-.inf"),
        ("float", "1e-400"),  # 0.0
        ("nan", ".nan"),
        ("int", "0"),
        ("int", "-1"),
        ("int", "1"),
        ("int", "3"),
    ]
)


@st.composite
def huge_numbers(draw: st.DrawFn) -> tuple[list[str], str]:
    """A small spec with huge (or odd) numbers in a few numeric fields: the input, a layer
    of any kind, a repeat count, an expectation."""
    number = st.sampled_from(HUGE).map(Raw)
    ordinary = st.sampled_from(["1", "2", "3"]).map(Raw)
    kind = draw(st.sampled_from([k for k in KINDS if FIELD_TYPES[k]]))
    fields: dict[str, Any] = dict(REQUIRED.get(kind, {}))
    for name in draw(st.lists(st.sampled_from(sorted(FIELD_TYPES[kind])), min_size=1, max_size=3)):
        value = number
        written = draw(st.integers(0, 2))
        if FIELD_TYPES[kind][name] not in ("Pair", "Padding") or written == 0:
            fields[name] = draw(value)
        elif FIELD_TYPES[kind][name] == "Pair" or written == 1:
            fields[name] = [draw(value), draw(ordinary)]
        else:
            fields[name] = [draw(value), Raw("0"), Raw("1"), draw(value)]
    side = st.one_of(st.sampled_from([Raw("8"), Raw("16"), Raw("224")]), number)
    input_shape = [draw(side), draw(side), draw(st.sampled_from([Raw("3"), Raw("1")]))]
    if draw(st.integers(0, 3)) == 0:
        input_shape = [draw(number)]
    layers: list[Any] = []
    if draw(st.booleans()):
        layers.append({"conv": {"filters": 2, "kernel": 1}})
    layers.append({kind: fields})
    follow = draw(st.sampled_from(["", "conv", "maxpool", "flatten", "dense", "repeat"]))
    if follow == "conv":
        layers.append({"conv": {"filters": 3, "kernel": 1, "stride": draw(number)}})
    elif follow == "maxpool":
        layers.append({"maxpool": {"kernel": 1}})
    elif follow in ("flatten", "dense"):
        layers += ["flatten", {"dense": {"units": draw(number)}}]
    elif follow == "repeat":
        layers.append({"repeat": {"block": "b", "times": draw(number)}})
    spec: dict[str, Any] = {"input": input_shape, "layers": layers}
    if follow == "repeat":
        spec["blocks"] = {"b": {"layers": ["relu"]}}
    if draw(st.integers(0, 3)) == 0:
        key = draw(st.sampled_from(["params", "max_macs", "min_params", "max_memory"]))
        spec["expect"] = {key: draw(number)}
    return draw(command_for("-")), spec_text(spec)


# --- YAML tags --------------------------------------------------------------------------------

TAGGED_VALUES = _values(
    [
        ("tag", "!!int 3"),
        ("tag", '!!int "3"'),
        ("bad-value tag", "!!int three"),
        ("tag", "!!float 3"),
        ("bad-value tag", "!!float x"),
        ("tag", "!!bool true"),
        ("bad-value tag", "!!bool maybe"),
        ("tag", "!!str 3"),
        ("tag", "!!null ''"),
        ("bad-value tag", "!!null x"),
        ("tag", "!!binary aGVsbG8="),
        ("bad-value tag", "!!binary ***"),
        ("tag", "!!set {a, b}"),
        ("tag", "!!omap [a: 1, b: 2]"),
        ("tag", "!!pairs [a: 1]"),
        ("tag", "!!map {a: 1}"),
        ("tag", "!!seq [1, 2]"),
        ("tag", "!!timestamp 2001-12-14"),
        ("tag", "!!python/object/apply:os.system [echo pwned]"),
        ("tag", "!!python/name:os.system ''"),
        ("tag", "!!python/tuple [1, 2]"),
        ("tag", "!x 3"),
        ("tag", "!<tag:yaml.org,2002:int> 3"),
        ("tag", "!<tag:example.com,2026:x> 3"),
        ("tag", "! 3"),
    ]
)
TAG_PREFIXES = _values(
    [
        ("tag", "!!str"),
        ("tag on key", "!!int"),
        ("tag on key", "!!binary"),
        ("tag", "!x"),
        ("tag", "!!python/str"),
        ("tag on key", "!!null"),
    ]
)


@st.composite
def tagged(draw: st.DrawFn) -> tuple[list[str], str]:
    """A valid spec with YAML tags on a few of its values and keys."""
    value = st.sampled_from(TAGGED_VALUES).map(Raw)
    spec: dict[Any, Any] = {
        "name": Raw("seed"),
        "input": [Raw("8"), Raw("8"), Raw("3")],
        "layers": [
            {Raw("conv"): {"filters": Raw("4"), "kernel": Raw("3")}},
            Raw("relu"),
            {"dense": {"units": Raw("2")}},
        ],
    }
    places = sorted(set(draw(st.lists(st.integers(0, 7), min_size=1, max_size=3))))
    for place in places:  # in order: the layers are replaced whole last
        if place == 0:
            spec["name"] = draw(value)
        elif place == 1:
            spec["input"][draw(st.integers(0, 2))] = draw(value)
        elif place == 2:
            spec["layers"][0][Raw("conv")]["kernel"] = draw(value)
        elif place == 3:
            spec["layers"][1] = draw(value)
        elif place == 4:
            spec["expect"] = {"params": draw(value)}
        elif place == 5 and TAG_PREFIXES:  # a tag on a key
            spec[Raw(f"{draw(st.sampled_from(TAG_PREFIXES))} description")] = Raw("x")
        elif place == 6 and TAG_PREFIXES:
            spec["layers"][0] = {Raw(f"{draw(st.sampled_from(TAG_PREFIXES))} conv"): {}}
        elif place == 7:
            spec["layers"] = draw(value)
    return draw(command_for("-")), spec_text(spec)


# --- $(...) expressions -----------------------------------------------------------------------

EXPRESSIONS = _values(
    [
        ("expr", "$(" + "(" * 30 + "1" + ")" * 30 + ")"),
        ("deep expr", "$(" + "-" * 5000 + "1)"),
        ("deep expr", "$(" + "(" * 1000 + "1" + ")" * 1000 + ")"),
        ("expr", "$(" + "+".join(["1"] * 3000) + ")"),
        ("expr", "$(" + "*".join(["w"] * 200) + ")"),
        ("expr", "$(2**63)"),
        ("expr", "$(2**62 * 2 - 1)"),
        ("huge power", "$(9**9**9)"),
        ("huge power", "$(2**(2**40))"),
        ("huge power", "$((10**1000)**1000)"),
        ("expr", "$(10**4000)"),
        ("expr", "$(10.0**400)"),
        ("expr", "$(-(2**63))"),
        ("expr", "$(1/0)"),
        ("expr", "$(0**-1)"),
        ("expr", "$(1 % 0)"),
        ("expr", "$(int(1e400))"),
        ("expr", "$(int('9' * 5000))"),
        ("expr", "$('a' * 10**9)"),
        ("expr", "$('%s' % w)"),
        ("expr", "$('{}'.format(w))"),
        ("expr", "$(f'{w:>1000000000}')"),
        ("expr blowup", "$('%0999999999d' % 1)"),
        ("expr", "$([1] * 10**9)"),
        ("expr", "$(__import__('os'))"),
        ("expr", "$(().__class__)"),
        ("expr", "$(lambda: 1)"),
        ("expr", "$(max(range(10**12)))"),
        ("expr", "$(w if w else 1)"),
        ("expr", "$(min(w, 2**63))"),
        ("expr", "$((w))"),
        ("expr", "$w"),
        ("expr", "$(w"),
        ("expr", "$()"),
        ("expr", "$(\x00)"),
        ("expr", "$(i * 10**18)"),
        ("expr", "$(int(w) // 0.0)"),
    ]
)


@st.composite
def expressions(draw: st.DrawFn) -> tuple[list[str], str]:
    """A spec whose block arguments and fields are pathological `$(...)` expressions."""
    expression = st.sampled_from(EXPRESSIONS)  # written quoted: `,` would end a flow value
    block_field = draw(st.sampled_from(["filters", "kernel", "stride", "padding", "groups"]))
    layer = {"conv": {"filters": "$w", "kernel": 1, block_field: draw(expression)}}
    spec: dict[str, Any] = {
        "input": [8, 8, 3],
        "blocks": {"b": {"args": {"w": draw(expression)}, "layers": [layer]}},
        "layers": [
            {
                "repeat": {
                    "block": "b",
                    "times": draw(st.one_of(st.just(Raw("2")), expression)),
                    "args": {"w": draw(st.one_of(st.just(Raw("4")), expression))},
                }
            }
        ],
    }
    return draw(command_for("-")), spec_text(spec)


# --- terminal-escape names --------------------------------------------------------------------

ESCAPES = ["\x1b]0;t\x07", "\x1b[2J", "\x1b[31m", "\u202e", "\u2066", "\n", "\r", "\x85",
           "\x7f", "\x00", "\x9b", "\u2028", "[bold]", "[/]", "[link=https://x]", ":smile:",
           "%", "::", ",", "\\", '"', "`", "<b>", "&amp;", "{", "$"]  # fmt: skip
name_text = st.lists(st.sampled_from([*ESCAPES, "a", "b", "1", "_", "."]), min_size=1, max_size=6)


@st.composite
def escape_names(draw: st.DrawFn, folder: Path) -> tuple[list[str], str | None]:
    """A spec with escapes in its name, layer names, a block instance name and (sometimes)
    its file name, run through any command; the file is written below `folder`."""
    names = [
        "".join(draw(name_text)).replace(" ", "_").replace(",", "_").replace("\t", "_")
        for _ in range(3)
    ]
    spec: dict[str, Any] = {
        "name": "".join(draw(name_text)) + " \t",
        "input": [8, 8, 3],
        "blocks": {"b": {"layers": [{"conv": {"name": names[2], "filters": 2, "kernel": 1}}]}},
        "layers": [
            {"conv": {"name": names[0], "filters": 4, "kernel": 3, "padding": 1}},
            {"repeat": {"block": "b", "times": 2, "name": names[1]}},
            {"conv": {"name": names[0] + "x", "filters": 2, "kernel": 3}},
        ],
    }
    if draw(st.booleans()):  # an expectation on a hostile name, failing
        spec["expect"] = {"layers": {names[0]: {"params": 1}}, "max_params": 10}
    text = spec_text(spec)
    if draw(st.booleans()):
        return draw(command_for("-")), text
    file_name = "".join(c for c in "".join(draw(name_text)) if c not in "/\x00") + ".yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name
    path.write_text(text, encoding="utf-8")
    args = draw(command_for(str(path)))
    if draw(st.integers(0, 4)) == 0:
        args = [*args[:2], "--layer", names[0] + draw(st.sampled_from(["", "z"]))]
    return args, None


# --- filesystem oddities ----------------------------------------------------------------------


def filesystem_zoo(folder: Path) -> dict[str, str]:
    """Odd things to name as a spec, made once in `folder`: label → path. (A FIFO would block
    the test process: `test_fuzz_processes` tries one in a child.)"""
    folder.mkdir(parents=True, exist_ok=True)
    made: dict[str, str] = {}
    loop = folder / "loop.yaml"
    if not loop.is_symlink():
        loop.symlink_to(folder / "loop.yaml")
    made["symlink-loop"] = str(loop)
    pair_a, pair_b = folder / "a.yaml", folder / "b.yaml"
    if not pair_a.is_symlink():
        pair_a.symlink_to(pair_b)
        pair_b.symlink_to(pair_a)
    made["symlink-pair"] = str(pair_a)
    dangling = folder / "dangling.yaml"
    if not dangling.is_symlink():
        dangling.symlink_to(folder / "nowhere.yaml")
    made["dangling"] = str(dangling)
    directory = folder / "dir.yaml"
    directory.mkdir(exist_ok=True)
    made["directory"] = str(directory)
    empty = folder / "empty.yaml"
    empty.write_text("")
    made["empty"] = str(empty)
    made["missing"] = str(folder / "missing.yaml")
    made["long-name"] = str(folder / ("n" * 300 + ".yaml"))
    made["long-path"] = str(folder / "/".join(["d" * 200] * 25)) + ".yaml"
    made["nul"] = str(folder / "nu\x00l.yaml")
    made["dev-null"] = os.devnull
    made["dev-zero"] = "/dev/zero"
    made["proc"] = "/proc/self/status"
    made["folder-as-file"] = str(folder / "empty.yaml" / "x.yaml")
    return made


@st.composite
def filesystem(draw: st.DrawFn, places: dict[str, str]) -> tuple[list[str], None]:
    """A command on an odd path (or a glob, budget file or SVG target that is one)."""
    label = draw(st.sampled_from(sorted(places)))
    path = places[label]
    role = draw(st.integers(0, 5))
    if role == 0:
        return ["check", path, "--budget", places["empty"]], None
    if role == 1:
        return ["check", "seed_21x21", "--budget", path], None
    if role == 2 and "\x00" not in path:  # (no process's argv holds a NUL; typer's path
        return ["params", "seed_21x21", "--svg", path, "-q"], None  # option would raise)
    if role == 3:  # the whole folder of oddities (globbed, or walked)
        folder = Path(places["empty"]).parent
        return ["check", draw(st.sampled_from([str(folder / "**" / "*.yaml"), str(folder)]))], None
    args = draw(command_for(path))
    return args, None

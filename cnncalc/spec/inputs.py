"""A spec's inputs and outputs: `input:` or named `inputs:`, `--input` overrides, `outputs:`.

A network has one input called `input` (`input: [224, 224, 3]`) or several named ones
(`inputs: {image: [224, 224, 3], depth: [224, 224, 1]}`), and one output (the last layer) or
those `outputs:` lists. Layers name an input in `from:` like a layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cnncalc.errors import SourcePos, SpecError
from cnncalc.fields import MAX_RANK, describe
from cnncalc.graph import INPUT
from cnncalc.layers import Shape
from cnncalc.yamlnodes import YList, YMap

if TYPE_CHECKING:
    from cnncalc.spec.names import Names, Scope

# what `--input` and the Python API's `input_shape` give: one shape, or input name → shape
InputOverride = Shape | Mapping[str, Shape]
OPTION = SourcePos("--input")


def channels_last(dims: tuple[int, ...], layout: Any) -> Shape:
    """A shape written in `layout` ([C, H, W] with chw: channels first) as (spatial..., C)."""
    if layout == "chw" and len(dims) > 1:
        return (*dims[1:], dims[0])
    return tuple(dims)


class WrittenShape(tuple[int, ...]):
    """An input shape as written on the command line (`--input 3x224x224`): in the order of
    the spec's `layout`, HxWxC unless the spec says `layout: chw`."""

    def in_layout(self, layout: str | None) -> Shape:
        return channels_last(tuple(self), layout)


def parse_input_option(text: str) -> WrittenShape:
    """`--input 224x224x3` (`16000x1`, `16x112x112x3`, or `64` for a flat input) → a shape,
    in the spec's layout."""
    parts = text.lower().replace("×", "x").replace(",", "x").split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if not 1 <= len(dims) <= MAX_RANK + 1 or any(d <= 0 for d in dims):
        raise SpecError(
            f"--input must be HxWxC (e.g. 224x224x3), LxC, DxHxWxC or N, got {text!r}",
            OPTION,
        )
    return WrittenShape(dims)


def parse_input_options(texts: list[str]) -> InputOverride:
    """`--input 224x224x3`, or one `--input NAME=HxWxC` per input of a network of several."""
    named: dict[str, Shape] = {}
    for text in texts:
        name, sep, shape = text.partition("=")
        if not sep:
            if len(texts) > 1:
                raise SpecError(
                    f"--input {text} gives no input name, but --input is given {len(texts)} times",
                    OPTION,
                    "name each input: `--input image=224x224x3 --input depth=224x224x1`",
                )
            return parse_input_option(text)
        name = name.strip()
        if not name or name in named:
            problem = "names no input" if not name else f"gives input {name} twice"
            raise SpecError(f"--input {text} {problem}", OPTION, "write `--input NAME=HxWxC`")
        named[name] = parse_input_option(shape)
    return named


def _parse_shape(raw: Any, layout: Any, pos: SourcePos, key: str) -> Shape:
    """One input's shape as written under `key` (`input`, or `image` in `inputs:`)."""
    order = "[C, H, W]" if layout == "chw" else "[H, W, C]"
    example = "[3, 224, 224]" if layout == "chw" else "[224, 224, 3]"
    ranks = "[C, L] or [C, D, H, W]" if layout == "chw" else "[L, C] or [D, H, W, C]"
    what = "`input`" if key == INPUT else f"input `{key}`"
    hint = f"write `{key}: {order}`, e.g. {example}, {ranks} for 1-D or 3-D, or [N] if flat"
    if isinstance(raw, str):
        try:
            dims = parse_input_option(raw)
        except SpecError:
            pass
        else:
            hint = f"write it as a list: `{key}: [{', '.join(map(str, dims))}]`"
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_RANK + 1:
        raise SpecError(f"{what} must be {order} or [N], got {describe(raw)}", pos, hint)
    if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in raw):
        raise SpecError(
            f"{what} dimensions must be positive integers, got {describe(raw)}", pos, hint
        )
    return channels_last(tuple(raw), layout)


def _in_layout(shape: Shape, layout: Any) -> Shape:
    return shape.in_layout(layout) if isinstance(shape, WrittenShape) else tuple(shape)


def parse_inputs(
    doc: YMap, layout: Any, override: InputOverride | None
) -> tuple[dict[str, Shape], dict[str, SourcePos]]:
    """(input name → shape, input name → where it is written), `override` applied."""
    if "inputs" not in doc:
        pos = doc.pos_of("input") if "input" in doc else doc.pos
        if isinstance(override, Mapping) and override:
            named = _named_override(override, {INPUT: pos})
            return {INPUT: _in_layout(named[INPUT], layout)}, {INPUT: pos}
        shape = None if isinstance(override, Mapping) else override
        shape = _in_layout(shape, layout) if shape else None
        return {INPUT: shape or _parse_shape(doc["input"], layout, pos, INPUT)}, {INPUT: pos}
    raw = doc["inputs"]
    if not isinstance(raw, YMap) or not raw:
        raise SpecError(
            f"`inputs` maps each input's name to its shape, got {describe(raw)}",
            doc.pos_of("inputs"),
            "write `inputs: {image: [224, 224, 3], depth: [224, 224, 1]}`",
        )
    where: dict[str, SourcePos] = {}
    for name in raw:
        if not isinstance(name, str) or not name.strip() or any(c in name for c in " ,\t."):
            raise SpecError(
                f"an input's name is text without spaces, commas or dots, got {describe(name)}",
                raw.key_pos.get(name, doc.pos_of("inputs")),
            )
        where[name] = raw.key_pos.get(name, doc.pos_of("inputs"))
    if override is not None and not isinstance(override, Mapping):
        if len(raw) > 1:
            names = list(raw)
            raise SpecError(
                f"the network has {len(names)} inputs ({', '.join(names)}): name the one "
                "--input sets",
                OPTION,
                f"write `--input {names[0]}={'x'.join(map(str, override))}`",
            )
        override = {next(iter(raw)): override}
    named = _named_override(override or {}, where)
    shapes = {
        name: _in_layout(named[name], layout)
        if name in named
        else _parse_shape(raw[name], layout, raw.pos_of(name), name)
        for name in raw
    }
    return shapes, where


def _named_override(
    override: Mapping[str, Shape], where: dict[str, SourcePos]
) -> Mapping[str, Shape]:
    for name in override:
        if name not in where:
            raise SpecError(
                f"--input {name}=… names no input of the network",
                OPTION,
                f"its inputs: {', '.join(where)}",
            )
    return override


def single_input(override: InputOverride, pos: SourcePos) -> Shape:
    """The shape of a network that has one input, `input` (shorthand)."""
    if isinstance(override, Mapping):
        return tuple(_named_override(override, {INPUT: pos})[INPUT])
    return tuple(override)


def parse_outputs(doc: YMap, expander: Names, scope: Scope) -> tuple[str, ...]:
    """The layers `outputs:` names (a name or a list of names), resolved as `from:` is;
    () when the spec has none (the output is the last layer)."""
    if "outputs" not in doc:
        return ()
    raw = doc["outputs"]
    pos = doc.pos_of("outputs")
    items = list(zip(raw, raw.item_pos, strict=True)) if isinstance(raw, YList) else [(raw, pos)]
    if not items:
        raise SpecError("`outputs` is empty", pos, "list the output layers: `outputs: [a, b]`")
    outputs: dict[str, SourcePos] = {}
    for ref, ref_pos in items:
        name = expander.resolve(ref, scope, ref_pos, "`outputs`")
        if name in expander.inputs:
            raise SpecError(
                f"`outputs` names layers; {ref} is an input of the network",
                ref_pos,
                "list the layers whose results the network gives",
            )
        if name in outputs:
            raise SpecError(f"`outputs` lists {ref} twice", ref_pos, "list each output once")
        outputs[name] = ref_pos
    return tuple(outputs)

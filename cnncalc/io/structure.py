"""Recover the blocks of an imported model: repeated sub-graphs → `blocks:` and `repeat:`.

Frameworks name a module's layers after it (`layer1.0.conv1`, `features.3.conv.1.0`), so an
*instance* is a run of consecutive layers under one numbered prefix (`layer1.0`) with one
input from outside and one output. Instances of the same shape — the same local names,
kinds and wiring, where an instance may lack some layers (a ResNet block's `downsample`) —
form a *family*, written once as a block: the fields that differ between instances become
arguments, a layer missing from some instances gets `when: $flag`. The instances `P.0 …
P.n−1` of one family that make up all of `P` become `repeat: {name: P, times: n}` with each
argument one `$(…)` expression of `i`; other instances are block calls named by themselves.

The caller checks the result: it must load to the very network the flat spec describes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cnncalc.graph import INPUT
from cnncalc.io.imported import Layer
from cnncalc.io.spec_writer import (
    Entry,
    entry,
    layer_entries,
    layer_fields,
    written_fields,
    written_value,
)
from cnncalc.layers import KINDS

_INDEX = re.compile(r"^(.+)\.(\d+)$")  # `layer1.0` → (`layer1`, `0`)


@dataclass
class Instance:
    prefix: str  # `layer1.0`
    group: str  # `layer1`
    index: int  # 0
    layers: list[Layer]
    source: str  # the one layer outside it that feeds it
    local: dict[str, str] = field(default_factory=dict)  # full name → local name

    def local_refs(self, layer: Layer) -> tuple[str, ...]:
        return tuple(self.local.get(i, INPUT) for i in layer.inputs)

    @property
    def output(self) -> str:
        return self.local[self.layers[-1].name]


@dataclass
class Family:
    """Instances sharing one template: the local names in order, with kind and wiring."""

    members: list[Instance]
    order: list[str]  # local names, the largest member's order
    kinds: dict[str, str]
    refs: dict[str, tuple[str, ...]]
    name: str = ""
    args: dict[str, Any] = field(default_factory=dict)  # argument → default
    values: list[dict[str, Any]] = field(default_factory=list)  # per member: argument → value
    template: list[Entry] = field(default_factory=list)


def _outer_prefix(name: str) -> tuple[str, str, int] | None:
    """The outermost numbered prefix of `name` (not `name` itself): `features.3` for
    `features.3.conv.0`, as (prefix, group, index)."""
    parts = name.split(".")
    for end in range(1, len(parts) - 1):
        if parts[end].isdigit():
            prefix = ".".join(parts[: end + 1])
            return prefix, ".".join(parts[:end]), int(parts[end])
    return None


def _instances(layers: Sequence[Layer]) -> list[Instance]:
    """Runs of consecutive layers under one numbered prefix, fed from one layer outside and
    read from outside only at their last layer."""
    runs: list[tuple[str, str, int, list[Layer]]] = []
    for layer in layers:
        outer = _outer_prefix(layer.name)
        if outer is not None and runs and runs[-1][0] == outer[0]:
            runs[-1][3].append(layer)
        elif outer is not None:
            runs.append((*outer, [layer]))
    seen: dict[str, int] = {}
    for prefix, *_ in runs:
        seen[prefix] = seen.get(prefix, 0) + 1
    readers: dict[str, set[str]] = {}
    for layer in layers:
        for i in layer.inputs:
            readers.setdefault(i, set()).add(layer.name)
    found = []
    for prefix, group, index, run in runs:
        if seen[prefix] > 1:  # not contiguous
            continue
        names = {layer.name for layer in run}
        outside = {i for layer in run for i in layer.inputs if i not in names}
        inner_read_outside = any(readers.get(layer.name, set()) - names for layer in run[:-1])
        if len(outside) != 1 or inner_read_outside:
            continue
        local = {layer.name: layer.name[len(prefix) + 1 :] for layer in run}
        found.append(Instance(prefix, group, index, run, outside.pop(), local))
    return found


def _is_subsequence(short: list[str], long: list[str]) -> bool:
    it = iter(long)
    return all(name in it for name in short)


def _resolve(ref: str, present: set[str], refs: dict[str, tuple[str, ...]]) -> str:
    """What a template reference means in an instance that has only the `present` layers:
    a missing layer stands for its first input (the spec's rule for `when: false`)."""
    while ref != INPUT and ref not in present:
        ref = refs[ref][0]
    return ref


def _fits(family: Family, member: Instance) -> bool:
    present = {member.local[layer.name] for layer in member.layers}
    if _resolve(family.order[-1], present, family.refs) != member.output:
        return False
    for layer in member.layers:
        name = member.local[layer.name]
        wanted = tuple(_resolve(r, present, family.refs) for r in family.refs[name])
        if wanted != member.local_refs(layer):
            return False
    return True


def _join(family: Family, member: Instance) -> bool:
    """Add `member` to `family` if one template describes them all."""
    order = [member.local[layer.name] for layer in member.layers]
    kinds = {member.local[layer.name]: layer.kind for layer in member.layers}
    if any(family.kinds.get(n, k) != k for n, k in kinds.items()):
        return False
    if _is_subsequence(order, family.order):
        candidate = Family([*family.members, member], family.order, family.kinds, family.refs)
    elif _is_subsequence(family.order, order):
        refs = {member.local[layer.name]: member.local_refs(layer) for layer in member.layers}
        candidate = Family([*family.members, member], order, kinds, refs)
    else:
        return False
    if not all(_fits(candidate, m) for m in candidate.members):
        return False
    family.members, family.order, family.kinds, family.refs = (
        candidate.members,
        candidate.order,
        candidate.kinds,
        candidate.refs,
    )
    return True


def _families(instances: list[Instance]) -> list[Family]:
    families: list[Family] = []
    for instance in instances:
        if not any(_join(family, instance) for family in families):
            order = [instance.local[layer.name] for layer in instance.layers]
            kinds = {instance.local[layer.name]: layer.kind for layer in instance.layers}
            refs = {instance.local[ly.name]: instance.local_refs(ly) for ly in instance.layers}
            families.append(Family([instance], order, kinds, refs))
    return [f for f in families if len(f.members) > 1]


def _identifier(text: str) -> str:
    word = re.sub(r"\W", "_", text)
    return word if word and not word[0].isdigit() else f"a_{word}"


def _template(family: Family) -> None:
    """The block's layers with `$arg` where instances differ, and each member's arguments."""
    by_member = [{m.local[layer.name]: layer for layer in m.layers} for m in family.members]
    values: list[dict[str, Any]] = [{} for _ in family.members]
    names: list[str] = []  # the arguments so far; a member's value None: any (it lacks
    # the layers that use it), settled by a later use or, at the end, by another member's

    def agrees(vector: list[Any], name: str) -> bool:
        return all(
            v is None or g is None or repr(v) == repr(g)
            for v, g in zip(vector, [m[name] for m in values], strict=True)
        )

    def argument(preferred: str, fallback: str, vector: list[Any]) -> str:
        """`$name` of an argument giving `vector` (None: any value; an earlier argument is
        reused where it agrees), `$(name * k)` for a multiple of one, or a new argument."""
        for name in names:
            if agrees(vector, name):
                for member_values, value in zip(values, vector, strict=True):
                    if member_values[name] is None:
                        member_values[name] = value
                return "$" + name
        for name in names:
            factor = _factor(vector, [v[name] for v in values])
            if factor is not None:
                return f"$({name} * {factor})"
        name = _identifier(preferred if preferred not in names else fallback)
        for member_values, value in zip(values, vector, strict=True):
            member_values[name] = value
        names.append(name)
        return "$" + name

    template: list[Entry] = []
    previous = INPUT
    for local in family.order:
        kind = family.kinds[local]
        present = [layers.get(local) for layers in by_member]
        written = [
            None if layer is None else written_fields(kind, layer.fields) for layer in present
        ]
        fields: dict[str, Any] = {"name": local}
        for info in KINDS[kind].fields():
            if info.name == "name":
                continue
            vector = [
                None if w is None else w.get(info.name, _default(kind, info.name, w))
                for w in written
            ]
            seen = {repr(v) for v in vector if v is not None}
            if len(seen) == 1:
                value = next(v for v in vector if v is not None)
                if info.name in (written[_first(present)] or {}):
                    fields[info.name] = value
            else:
                fields[info.name] = argument(info.name, f"{local}_{info.name}", vector)
        if present[_first(present)].functional:  # type: ignore[union-attr]
            fields["functional"] = True
        if any(layer is None for layer in present):
            flag = [layer is not None for layer in present]
            fields["when"] = argument(local.split(".")[0], f"has_{local}", flag)
        refs = family.refs[local]
        template.append(entry(kind, fields, None if refs == (previous,) else list(refs)))
        previous = local
    for name in names:
        known = next(m[name] for m in values if m[name] is not None)
        for member_values in values:
            if member_values[name] is None:
                member_values[name] = known
    family.template = template
    family.values = values
    family.args = dict(values[0])


def _factor(vector: list[Any], given: list[Any]) -> int | None:
    """k > 1 with vector = k·given wherever vector has a value, if there is one."""
    ratios = set()
    for v, g in zip(vector, given, strict=True):
        if v is None or g is None:
            continue
        if not all(type(x) is int for x in (v, g)) or g <= 0 or v % g:
            return None
        ratios.add(v // g)
    return ratios.pop() if len(ratios) == 1 and min(ratios) > 1 else None


def _first(present: list[Layer | None]) -> int:
    return next(i for i, layer in enumerate(present) if layer is not None)


def _default(kind: str, name: str, written: dict[str, Any]) -> Any:
    """The written value of a field left at its default (for comparing across instances)."""
    for info in KINDS[kind].fields():
        if info.name == name:
            if info.default_from is not None:
                return written.get(info.default_from)
            return written_value(info.default)
    return None


def _expression(values: list[Any]) -> Any | None:
    """One value, or a `$(…)` of `i` giving values[i]; None if that cannot be written."""
    if all(v == values[0] for v in values):
        return values[0]
    if all(isinstance(v, bool) for v in values):
        true = [i for i, v in enumerate(values) if v]
        if true == [0]:
            return "$(i == 0)"
        false = [i for i, v in enumerate(values) if not v]
        if false == [0]:
            return "$(i != 0)"
        return "$(" + " or ".join(f"i == {i}" for i in true) + ")"
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return None
    if all(v == values[1] for v in values[1:]):
        return f"$({values[0]} if i == 0 else {values[1]})"
    chain = " else ".join(f"{v} if i == {i}" for i, v in enumerate(values[:-1]))
    return f"$({chain} else {values[-1]})"


def _block_name(family: Family, taken: set[str], hint: str | None) -> str:
    base = _identifier(hint or f"{family.members[0].group.replace('.', '_')}_block")
    name, n = base, 1
    while name in taken or name == "repeat" or name.lower() in KINDS:
        n += 1
        name = f"{base}{n}"
    taken.add(name)
    return name


def _call_args(family: Family, member: int) -> dict[str, Any]:
    return {k: v for k, v in family.values[member].items() if v != family.args[k]}


def recover(
    layers: Sequence[Layer], class_names: dict[str, str] | None = None, first_input: str = INPUT
) -> tuple[list[Entry], dict[str, Any]]:
    """The `layers:` list and `blocks:` of a structured spec for `layers`.

    `class_names` (instance prefix → the source's class name, e.g. `Bottleneck`) names the
    blocks when the source knows them."""
    families = _families(_instances(layers))
    if not families:
        return layer_entries(layers, first_input), {}
    taken: set[str] = set()
    member_of: dict[str, tuple[Family, int]] = {}
    for family in families:
        _template(family)
        hint = (class_names or {}).get(family.members[0].prefix)
        family.name = _block_name(family, taken, _snake(hint) if hint else None)
        for index, member in enumerate(family.members):
            member_of[member.prefix] = (family, index)
    group_sizes: dict[str, int] = {}
    for layer in layers:
        outer = _outer_prefix(layer.name)
        if outer is not None:
            group_sizes.setdefault(outer[1], 0)
            group_sizes[outer[1]] = max(group_sizes[outer[1]], outer[2] + 1)
    top_level = {layer.name for layer in layers}
    position = {layer.name: k for k, layer in enumerate(layers)}

    out: list[Entry] = []
    previous = first_input
    i = 0
    while i < len(layers):
        layer = layers[i]
        outer = _outer_prefix(layer.name)
        placed = member_of.get(outer[0]) if outer is not None else None
        if placed is None:
            takes_previous = layer.inputs == [previous]
            fields = layer_fields(layer)
            out.append(entry(layer.kind, fields, None if takes_previous else layer.inputs))
            previous = layer.name
            i += 1
            continue
        family, index = placed
        member = family.members[index]
        run = _repeat_run(family, index, group_sizes, top_level)
        if run is not None:
            expressions = {
                k: _expression([family.values[index + j][k] for j in range(run)])
                for k in family.args
            }
            args = {k: v for k, v in expressions.items() if v != family.args[k]}
            body: dict[str, Any] = {"block": family.name, "times": run, "name": member.group}
            if args:
                body["args"] = args
            if member.source != previous:
                body["from"] = member.source
            out.append({"repeat": body})
            last = family.members[index + run - 1]
        else:
            fields = {"name": member.prefix, **_call_args(family, index)}
            out.append(
                entry(family.name, fields, None if member.source == previous else [member.source])
            )
            last = member
        previous = last.layers[-1].name
        i = position[last.layers[-1].name] + 1
    blocks = {f.name: {"args": f.args, "layers": f.template} for f in families}
    return out, blocks


def _repeat_run(
    family: Family, index: int, group_sizes: dict[str, int], top_level: set[str]
) -> int | None:
    """How many members from `index` on make up a whole group as a repeat, if they do."""
    member = family.members[index]
    size = group_sizes[member.group]
    if member.index != 0 or member.group in top_level or index + size > len(family.members):
        return None
    run = family.members[index : index + size]
    for j, m in enumerate(run):
        if m.group != member.group or m.index != j:
            return None
        if j and m.source != run[j - 1].layers[-1].name:
            return None
    for key in family.args:
        if _expression([family.values[index + j][key] for j in range(size)]) is None:
            return None
    return size


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()

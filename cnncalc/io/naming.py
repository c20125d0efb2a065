"""Python names for a spec's layers: local variables and class names in generated code, and the
refusal of layers a framework cannot express."""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from cnncalc.errors import SpecError
from cnncalc.graph import Network, Node
from cnncalc.io.calls import Unsupported

T = TypeVar("T")


def variable_names(
    names: Iterable[str], taken: Iterable[str], unused: Iterable[str] = ()
) -> dict[str, str]:
    """A distinct ASCII identifier for each name (`layer1.0.conv1` → `layer1_0_conv1`), none
    of them in `taken` or a keyword; the `unused` ones start with `_` (and only they do)."""
    used = set(taken)
    dummies = set(unused)
    out = {}
    for name in names:
        base = re.sub(r"[^0-9A-Za-z_]", "_", name)
        if not base or base[0].isdigit() or base[0] == "_" or keyword.iskeyword(base):
            base = f"v{base}" if base.startswith("_") else f"v_{base}"
        if name in dummies:
            base = f"_{base}"
        candidate, n = base, 1
        while candidate in used:
            n += 1
            candidate = f"{base}_{n}"
        used.add(candidate)
        out[name] = candidate
    return out


def class_name(network_name: str) -> str:
    """`resnet-tiny` → `ResnetTiny`: the network's name as a Python class name."""
    words = re.findall(r"[0-9A-Za-z]+", network_name)
    name = "".join(w[0].upper() + w[1:] for w in words)
    return name if name and not name[0].isdigit() else f"Net{name}"


def each_layer(net: Network, framework: str, convert: Callable[[Node], T]) -> dict[str, T]:
    """`convert` applied to every layer; the layers it cannot convert are one error, at the
    first of them, listing them all."""
    out: dict[str, T] = {}
    refused: list[tuple[Node, str]] = []
    for node in net:
        try:
            out[node.name] = convert(node)
        except Unsupported as exc:
            refused.append((node, str(exc)))
    if not refused:
        return out
    node, reason = refused[0]
    message = f"layer {node.name} ({node.kind}) cannot be exported to {framework}: {reason}"
    if len(refused) > 1:
        others = ", ".join(f"{n.name} ({n.kind})" for n, _ in refused[1:6])
        more = f" and {len(refused) - 6} more" if len(refused) > 6 else ""
        message += f" (nor can {others}{more})"
    raise SpecError(
        message, node.pos, "change these layers in the spec, or export to another framework"
    )


def dead_ends(net: Network) -> list[str]:
    """Layers whose output nothing uses but which are not among the network's outputs:
    cnncalc counts them, so the exported model must run them too."""
    used = {i for node in net for i in node.inputs}
    used.update(net.outputs)
    return [n.name for n in net if n.name not in used]

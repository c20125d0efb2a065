"""How ONNX nodes are named as layers: by the module scope the exporter wrote."""

from __future__ import annotations

_FUNCTIONAL = {"Add", "Sum", "Mul", "Div", "Concat", "Flatten", "Reshape", "ReduceMean"}
# named in their scope (`layer1.0.add`), not by it


def scope(node_name: str) -> tuple[str, str]:
    """`/layer1/layer1.0/conv1/Conv` → (`layer1.0.conv1`, `Conv`): the exporter writes a
    module inside a Sequential as `layer1.0` after `layer1`, so such a segment replaces the
    one before it."""
    parts: list[str] = []
    segments = [s for s in node_name.split("/") if s]
    for segment in segments[:-1]:
        if parts and segment.startswith(parts[-1] + "."):
            parts[-1] = segment
        else:
            parts.append(segment)
    return ".".join(parts), segments[-1] if segments else ""


def containers(scopes: list[str]) -> set[str]:
    """The scopes that hold other scopes (modules with children)."""
    out: set[str] = set()
    for scope in scopes:
        parts = scope.split(".")
        out.update(".".join(parts[:end]) for end in range(1, len(parts)))
    return out


def layer_name(node_name: str, op_type: str, containers: set[str]) -> str:
    """A module's op is named by its module (`layer1.0.conv1`); a functional op, or any op
    of a module with children, by its scope and op (`layer1.0.add`, `layer1.0.add_1`)."""
    where, op = scope(node_name)
    op = (op or op_type).lower()
    if where and op_type not in _FUNCTIONAL and where not in containers:
        return where
    return f"{where}.{op}" if where else op

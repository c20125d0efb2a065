"""A network as one self-contained Keras 3 source file: a functional model built from the
shared table (`frameworks`), every layer named as in the spec with `.` and other characters
Keras' weight names cannot hold as `_` (`layer1.0.conv1` → `layer1_0_conv1`).

Keras is channels-last like cnncalc (H, W, C), so flatten orders agree. Padding Keras has no
argument for is a `ZeroPadding2D` in front (a max pool's, a `Lambda` padding with −∞), a
conv_transpose crop a `Cropping2D` behind. What Keras cannot express (LRN, ceil_mode, grouped
transposed convolutions, ...) is refused, naming the layers. `model.count_params()` counts
BatchNorm's moving statistics too: it is cnncalc's params + buffers.
"""

from __future__ import annotations

import json

from cnncalc import __version__
from cnncalc.gcpause import gc_paused
from cnncalc.graph import INPUT, Network, Node
from cnncalc.io.calls import Call
from cnncalc.io.frameworks import bridge
from cnncalc.io.keras_layers import KerasLayers
from cnncalc.io.naming import dead_ends, each_layer, variable_names
from cnncalc.layers import Shape


def keras_shape(shape: Shape) -> str:
    return "(None, " + ", ".join(str(d) for d in shape) + ")"


@gc_paused  # linear in layers (see cnncalc/gcpause.py)
def write(net: Network, check: bool = False, command: str = "") -> str:
    """The source file; `check` adds a `__main__` that asserts cnncalc's counts and shape."""
    layers = each_layer(
        net, "Keras", lambda node: bridge(node).keras(node, net.input_shapes(node)[0])
    )
    unused = dead_ends(net)  # outputs too, or Keras would leave them out of the model
    taken = ["keras", "layers", "ops", "model"]
    if len(net.input_names) == 1:
        inputs = {net.input_names[0]: "x"}
        keras_names = {net.input_names[0]: INPUT}
    else:
        inputs = variable_names(net.input_names, taken)
        keras_names = inputs
    names = inputs | variable_names((n.name for n in net), [*taken, "x", *inputs.values()])
    ends = [names[n] for n in (*net.outputs, *unused)]
    outputs = f"[{', '.join(ends)}]" if len(ends) > 1 else ends[0]
    given = ", ".join(inputs.values())
    lines = [_line(net, node, layers[node.name], names) for node in net]
    source = "\n".join(lines)
    how = f" (`{command}`)" if command else ""
    head = [
        f'"""{net.name}: exported by cnncalc {__version__}{how}.',
        "",
        _ends_doc(net),
        "count_params() includes BatchNorm's moving statistics (cnncalc's buffers).",
        '"""',
        "",
        *(["import math", ""] if check else []),
        "import keras",
        "from keras import layers" + (", ops" if "ops." in source or check else ""),
        "",
        "",
        "def build_model() -> keras.Model:",
        *(
            f"    {inputs[n]} = keras.Input(shape={tuple(s)!r}, name={json.dumps(keras_names[n])})"
            for n, s in net.inputs.items()
        ),
        *(f"    {line}" for line in lines),
        f"    return keras.Model({given if len(inputs) == 1 else f'[{given}]'}, {outputs}, "
        f"name={json.dumps(net.name)})",
        "",
    ]
    return "\n".join(head) + (_check(net) if check else "")


def _line(net: Network, node: Node, steps: KerasLayers, names: dict[str, str]) -> str:
    inputs = [names[i] for i in node.inputs]
    value = f"[{', '.join(inputs)}]" if len(inputs) > 1 else inputs[0]
    for step in steps[:-1]:
        value = f"{step.source()}({value})"
    extra: tuple[tuple[str, object], ...] = (("name", names[node.name]),)
    if not node.trainable:
        extra += (("trainable", False),)
    last = Call(steps[-1].func, steps[-1].args, steps[-1].kwargs + extra)
    shape = keras_shape(net.shapes[node.name])
    return f"{names[node.name]} = {last.source()}({value})  # {shape}"


def _ends_doc(net: Network) -> str:
    if len(net.input_names) == 1:
        text = f"Input: a float tensor of shape {keras_shape(net.input_shape)} (channels last)."
    else:
        shapes = ", ".join(f"{n} {keras_shape(s)}" for n, s in net.inputs.items())
        text = f"Inputs, in this order (channels last): {shapes}."
    if len(net.outputs) > 1:
        text += f"\nOutputs, in this order: {', '.join(net.outputs)}."
    return text


def _check(net: Network) -> str:
    from cnncalc.report import analyze

    totals = analyze(net).totals
    count = len(net.outputs)
    shapes = tuple(tuple(net.shapes[name]) for name in net.outputs)
    expected = (
        f'{{"params": {totals.params + totals.buffers}, '
        f'"trainable_params": {totals.trainable_params}, '
        f'"output_shape": {shapes if count > 1 else shapes[0]!r}}}'
    )
    zeros = [f"ops.zeros((1, *{tuple(shape)!r}))" for shape in net.inputs.values()]
    given = zeros[0] if len(zeros) == 1 else f"[{', '.join(zeros)}]"
    if count > 1:
        first = f"    y = y[:{count}]  # the network's outputs come first"
        shape_of_y = "tuple(tuple(t.shape[1:]) for t in y)"
    else:
        first = "    y = y[0] if isinstance(y, list) else y  # the network's output comes first"
        shape_of_y = "tuple(y.shape[1:])"
    return f"""

if __name__ == "__main__":
    model = build_model()
    y = model({given})
{first}
    found = {{
        "params": model.count_params(),
        "trainable_params": sum(math.prod(w.shape) for w in model.trainable_weights),
        "output_shape": {shape_of_y},
    }}
    expected = {expected}
    if found != expected:
        raise SystemExit(f"cnncalc expects {{expected}}, Keras has {{found}}")
    print(f"ok: {{found}}")
"""

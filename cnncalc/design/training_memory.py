"""`memory --training` what-ifs: activation checkpointing, in-place activations and mixed
precision, on top of the training estimate of `cnncalc.passes.memory`.

Assumptions (stated in the report too):
- Baseline: parameters, buffers, one gradient per trainable parameter, the optimizer's states,
  the input and every layer's output kept for the backward pass (an upper bound: autograd
  frees some outputs no backward needs).
- Checkpointing (`--checkpoint PATTERN`): the chosen layers, grouped into blocks by their
  name's parent (`layer1.0.conv1` → `layer1.0`; consecutive layers of one block, its
  sub-blocks such as `layer1.0.downsample` included, form one segment), keep only the
  outputs used outside their segment; in the backward pass each segment runs forward again,
  so one segment's other outputs are alive at a time (the largest such segment is added) and
  its MACs are paid twice.
- In-place activations (`--inplace`): relu, relu6, leaky_relu and elu overwrite their input
  when they are its only consumer, so their outputs need no memory of their own.
- Mixed precision (`--master-weights DTYPE` with `--dtype` the compute dtype): activations,
  the input and a working copy of the weights in `--dtype`; the master weights, their
  gradients, the optimizer's states and the buffers in the master dtype.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnncalc.errors import SourcePos, SpecError
from cnncalc.graph import Network
from cnncalc.passes.memory import DTYPE_BYTES, OPTIMIZER_STATES, MemoryOptions, tensor_size
from cnncalc.select import select_names

INPLACE_KINDS = ("relu", "relu6", "leaky_relu", "elu")


@dataclass(frozen=True)
class WhatIf:
    checkpoint: str | None = None  # a --layers pattern
    inplace: bool = False
    master_weights: str | None = None  # a dtype


@dataclass(frozen=True)
class TrainingMemory:
    whatif: WhatIf
    options: MemoryOptions
    weight_bytes: int  # working weights in --dtype
    master_weight_bytes: int  # 0 without --master-weights
    buffer_bytes: int
    gradient_bytes: int
    optimizer_bytes: int
    input_bytes: int
    saved_activation_bytes: int  # kept from the forward for the backward
    recompute_bytes: int  # the largest checkpointed segment, alive again in the backward
    segments: int
    recompute_macs: int

    @property
    def total(self) -> int:
        return (
            self.weight_bytes
            + self.master_weight_bytes
            + self.buffer_bytes
            + self.gradient_bytes
            + self.optimizer_bytes
            + self.input_bytes
            + self.saved_activation_bytes
            + self.recompute_bytes
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "checkpoint": self.whatif.checkpoint,
            "checkpoint_segments": self.segments,
            "inplace": self.whatif.inplace,
            "dtype": self.options.dtype,
            "master_weights": self.whatif.master_weights,
            "weight_bytes": self.weight_bytes,
            "master_weight_bytes": self.master_weight_bytes,
            "buffer_bytes": self.buffer_bytes,
            "gradient_bytes": self.gradient_bytes,
            "optimizer_bytes": self.optimizer_bytes,
            "input_bytes": self.input_bytes,
            "saved_activation_bytes": self.saved_activation_bytes,
            "recompute_bytes": self.recompute_bytes,
            "recompute_macs": self.recompute_macs,
            "training_bytes": self.total,
        }


def _segments(net: Network, pattern: str) -> list[list[str]]:
    """Runs of consecutive chosen layers sharing a parent name: the checkpointed segments."""
    names = [node.name for node in net]
    try:
        chosen = set(select_names(names, pattern, net.name))
    except SpecError as exc:  # said of --layers: say it of --checkpoint
        raise SpecError(exc.message, SourcePos("--checkpoint"), exc.hint) from None
    segments: list[list[str]] = []
    block: str | None = None  # the parent name of the segment's first layer
    for name in names:
        if name not in chosen:
            block = None
            continue
        parent = name.rsplit(".", 1)[0] if "." in name else name
        if segments and block is not None and (parent == block or parent.startswith(block + ".")):
            segments[-1].append(name)  # layer2.0.downsample.0 belongs to layer2.0
        else:
            segments.append([name])
            block = parent
    return segments


def training_memory(
    net: Network, params: int, trainable: int, buffers: int, options: MemoryOptions, whatif: WhatIf
) -> TrainingMemory:
    """The training estimate under the what-ifs (see the module's assumptions)."""
    master = whatif.master_weights
    if master is not None and master not in DTYPE_BYTES:
        raise SpecError(
            f"unknown --master-weights dtype {master!r}",
            None,
            f"choose one of {', '.join(DTYPE_BYTES)}",
        )
    compute, kept = DTYPE_BYTES[options.dtype], DTYPE_BYTES[master or options.dtype]
    consumers: dict[str, list[str]] = {}
    for node in net:
        for name in node.inputs:
            consumers.setdefault(name, []).append(node.name)
    sizes = {node.name: int(tensor_size(net.shapes[node.name], options)[1]) for node in net}
    outputs = set(net.outputs)
    for node in net:
        source = node.inputs[0]
        if (
            whatif.inplace
            and node.kind in INPLACE_KINDS
            and source not in net.input_names
            and source not in outputs
            and consumers.get(source) == [node.name]
        ):
            sizes[node.name] = 0  # shares its input's memory
    saved = dict(sizes)
    recompute, macs = 0, 0
    segments = _segments(net, whatif.checkpoint) if whatif.checkpoint else []
    for segment in segments:
        inside = set(segment)
        inner = 0
        for name in segment:
            # a network output (or a layer no one reads) is kept for the loss
            readers = consumers.get(name)
            outside = not readers or name in outputs or any(c not in inside for c in readers)
            if not outside:
                inner += saved.pop(name)
            node = net.node(name)
            macs += int(node.op.macs(net.input_shapes(node), net.shapes[name]))
        recompute = max(recompute, inner)
    return TrainingMemory(
        whatif,
        options,
        params * compute,
        params * kept if master else 0,
        buffers * kept,
        trainable * kept,
        trainable * kept * OPTIMIZER_STATES[options.optimizer],
        sum(int(tensor_size(shape, options)[1]) for shape in net.inputs.values()),
        sum(saved.values()),
        recompute,
        len(segments),
        macs,
    )

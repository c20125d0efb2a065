"""Memory: activation sizes per layer, parameter bytes, inference peak and a training estimate.

The inference peak is the largest live set when layers run in spec (topological) order and
each tensor is freed right after its last consumer; a skip connection keeps its tensor alive
until the merge. Training keeps every activation for backprop, plus gradients and optimizer
state for trainable parameters. Framework overheads (workspaces, allocator caching, the CUDA
context, in-place tricks, recomputation) are not included.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate, count
from operator import attrgetter, sub

from cnncalc.errors import SpecError
from cnncalc.graph import Network, Node, per_layer
from cnncalc.layers.base import prod

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2}  # extra copies per trainable param


@dataclass(frozen=True)
class MemoryOptions:
    dtype: str = "float32"
    batch: int = 1
    optimizer: str = "sgd"

    def __post_init__(self) -> None:
        if self.dtype not in DTYPE_BYTES:
            raise SpecError(
                f"unknown dtype {self.dtype!r}", None, f"choose one of {', '.join(DTYPE_BYTES)}"
            )
        if self.optimizer not in OPTIMIZER_STATES:
            raise SpecError(
                f"unknown optimizer {self.optimizer!r}",
                None,
                f"choose one of {', '.join(OPTIMIZER_STATES)}",
            )
        if self.batch < 1:
            raise SpecError(f"--batch must be at least 1, got {self.batch}", None)

    @property
    def bytes_per_value(self) -> int:
        return DTYPE_BYTES[self.dtype]


@dataclass(frozen=True, slots=True)
class LayerMemory:
    activation_elements: int  # output elements × batch
    activation_bytes: int


@dataclass(frozen=True)
class MemoryTotals:
    options: MemoryOptions
    param_bytes: int
    buffer_bytes: int
    input_bytes: int
    activation_bytes: int  # every layer's output, summed
    inference_peak_bytes: int
    inference_peak_layer: str
    gradient_bytes: int
    optimizer_bytes: int
    training_bytes: int

    def to_dict(self) -> dict[str, int | str]:
        return {
            "dtype": self.options.dtype,
            "batch": self.options.batch,
            "optimizer": self.options.optimizer,
            "param_bytes": self.param_bytes,
            "buffer_bytes": self.buffer_bytes,
            "input_bytes": self.input_bytes,
            "activation_bytes": self.activation_bytes,
            "inference_peak_bytes": self.inference_peak_bytes,
            "inference_peak_layer": self.inference_peak_layer,
            "gradient_bytes": self.gradient_bytes,
            "optimizer_bytes": self.optimizer_bytes,
            "training_bytes": self.training_bytes,
        }


def tensor_size(shape: tuple[int, ...], options: MemoryOptions) -> tuple[int, int]:
    """(elements, bytes) of one activation: H·W·C·batch values of the dtype's size."""
    elements = prod(shape) * options.batch if options.batch > 1 else prod(shape)
    return elements, elements * options.bytes_per_value


def activation_memory(net: Network, options: MemoryOptions) -> dict[str, LayerMemory]:
    """Each layer's output size (elements and bytes of the batch), by name."""
    sizes = memory_per_layer(net, options)
    return dict(zip(map(attrgetter("name"), net.nodes), sizes, strict=True))


def memory_per_layer(net: Network, options: MemoryOptions) -> list[LayerMemory]:
    """Each layer's output size, in the network's order."""
    seen: dict[tuple[int, ...], LayerMemory] = {}  # a long network has a few shapes

    def memory(node: Node) -> LayerMemory:
        shape = net.shapes[node.name]
        if shape not in seen:
            elements, size = tuple(map(int, tensor_size(shape, options)))
            seen[shape] = LayerMemory(elements, size)
        return seen[shape]

    return per_layer(net, memory)


def live_timeline(net: Network, sizes: dict[str, int]) -> list[tuple[str, int]]:
    """(layer, bytes alive while it runs) in run order, starting with each input (all the
    inputs are alive from the start); `sizes` holds every tensor's bytes and each input's.

    The network's outputs stay alive to the end, as do layers nobody consumes.
    """
    names = _tensor_names(net)
    live = _live_bytes(net, names, list(map(sizes.__getitem__, names)))
    return list(zip(names, live, strict=True))


def inference_peak(net: Network, sizes: dict[str, int]) -> tuple[int, str]:
    """(bytes, layer) of the largest live set (the first, on a tie)."""
    names = _tensor_names(net)
    return _peak(names, _live_bytes(net, names, list(map(sizes.__getitem__, names))))


def _peak(names: list[str], live: list[int]) -> tuple[int, str]:
    peak = max(live)
    return peak, names[live.index(peak)]


def _tensor_names(net: Network) -> list[str]:
    """The inputs' and the layers' names, in run order."""
    return [*net.input_names, *map(attrgetter("name"), net.nodes)]


def _live_bytes(net: Network, names: list[str], tensor_bytes: list[int]) -> list[int]:
    """The bytes alive at each step of `live_timeline`, from each tensor's name and bytes in
    run order (`_tensor_names`). Worked out by position, not by name: a step frees the
    tensors whose last consumer it is."""
    position = dict(zip(names, count()))
    last_use = [-1] * len(names)  # each tensor's last consumer (the last one visited wins)
    for step, node in enumerate(net.nodes, len(net.input_names)):
        for name in node.inputs:
            last_use[position[name]] = step
    for name in net.outputs:  # an output read by later layers is still returned
        last_use[position[name]] = -1
    freed = [0] * len(names)  # bytes freed after each step
    for tensor, step in enumerate(last_use):
        if step >= 0:
            freed[step] += tensor_bytes[tensor]
    # what each step adds to the live bytes: its tensor, less what the step before it freed
    # (the inputs are alive together from the start; a layer's inputs and output while it runs)
    return list(accumulate(map(sub, tensor_bytes, [0, *freed[:-1]])))


def memory_totals(
    net: Network,
    per_layer: dict[str, LayerMemory],
    params: int,
    trainable_params: int,
    buffers: int,
    options: MemoryOptions,
) -> MemoryTotals:
    layer_bytes = list(map(attrgetter("activation_bytes"), per_layer.values()))
    return memory_totals_of(net, layer_bytes, params, trainable_params, buffers, options)


def memory_totals_of(
    net: Network,
    layer_bytes: list[int],
    params: int,
    trainable_params: int,
    buffers: int,
    options: MemoryOptions,
) -> MemoryTotals:
    """`memory_totals` from each layer's activation bytes, in the network's order."""
    per_value = options.bytes_per_value
    activations = sum(layer_bytes)
    inputs = [int(tensor_size(shape, options)[1]) for shape in net.inputs.values()]
    input_bytes = sum(inputs)
    names = _tensor_names(net)
    peak, peak_layer = _peak(names, _live_bytes(net, names, [*inputs, *layer_bytes]))
    param_bytes = params * per_value
    buffer_bytes = buffers * per_value
    gradients = trainable_params * per_value
    optimizer = trainable_params * per_value * OPTIMIZER_STATES[options.optimizer]
    training = param_bytes + buffer_bytes + gradients + optimizer + input_bytes + activations
    return MemoryTotals(
        options,
        param_bytes,
        buffer_bytes,
        input_bytes,
        activations,
        peak,
        peak_layer,
        gradients,
        optimizer,
        training,
    )
